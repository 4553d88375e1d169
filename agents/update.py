"""``python -m agents.update``: one scheduled update of a wiki kept in its own git repository.

    python -m agents.update --repo huggingface_peft --source pypi:peft==0.18.2 --wiki WIKI_REPO/wiki
    python -m agents.update --repo R --source DIR --wiki DIR --base main --branch wiki-update/next --model NAME

Runs ``agents.run`` over the wiki (an update run: moved pages re-stamped, changed ones redrafted),
verifies the result with ``agents.verify.verifier``, and when the wiki folder changed commits it on a new
branch made from the base, with the drift summary as the commit's first line, and writes the pull
request's body into the run folder. Nothing is committed when the verifier finds an error.
Options it does not know (--model, --base-url, --critic, --cache-dir …) go to agents.run as given.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, TypeAlias

from agents.install_check import refused_for_shadowing
from tools.cliargs import command_parser
from tools.errors import ToolError, UsageError
from tools.redact import redact

DRIFT_HEADING = "## Changes since the last verified source"
CLASSES = ("moved", "changed", "gone")  # the drifted classes; "unchanged" pages are not listed
PR_BODY = "pr_body.md"
# The run's --json summary and its summary.json, decoded: written by another process, perhaps by an
# older version (a page's class was "class" once), so they are read with get and checked where used.
Json: TypeAlias = dict[str, Any]


class GitError(UsageError):
    """A git command refused: one line with git's own reason."""


@dataclass(frozen=True)
class Checkout:
    """Where the update starts: the wiki's repository, what is checked out, and the base."""

    root: Path  # the working tree's top level
    wiki: Path  # the wiki folder, absolute
    head: str | None  # the current branch, None when HEAD is detached
    head_sha: str
    base: str
    ignored: bool  # git ignores the wiki folder: nothing can be committed, the update is written in place


def _git_run(cwd: Path, args: tuple[str, ...], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            ["git", "-C", str(cwd), *args], check=False, capture_output=True, text=True, env=env, timeout=300
        )
    except FileNotFoundError:
        raise UsageError("git is not installed here; install git to run an update") from None


def git(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """stdout of ``git -C cwd args``; GitError with git's first line when it fails."""
    out = _git_run(cwd, args, env)
    if out.returncode != 0:
        first = next((l for l in out.stderr.splitlines() if l.strip()), f"exit {out.returncode}")
        raise GitError(f"git {args[0]} failed: {first.strip()}")
    return out.stdout


def _ok(cwd: Path, *args: str) -> bool:
    return _git_run(cwd, args).returncode == 0


class Change(NamedTuple):
    status: str  # git's two-letter XY code: "??" untracked, " M" modified, " D" deleted …
    path: str  # repository-relative


def changed_files(ck: Checkout) -> list[Change]:
    """Files under the wiki folder that differ from HEAD, untracked ones included."""
    out = git(ck.root, "status", "--porcelain", "-z", "--untracked-files=all", "--no-renames", "--", str(ck.wiki))
    return [Change(e[:2], e[3:]) for e in out.split("\0") if e.strip()]


def new_pages(ck: Checkout, files: list[Change]) -> int:
    """Pages (in a type folder, not the index files at the wiki's root) that HEAD does not have."""
    wiki = ck.wiki.relative_to(ck.root).as_posix()
    inside = [c for c in files if c.status in ("??", "A ") and c.path.endswith(".md")]
    return sum(1 for c in inside if "/" in (c.path[len(wiki) + 1 :] if wiki != "." else c.path))


class WikiChanges(NamedTuple):
    """What a run changed in the wiki folder, from its files before and after (git may not see them)."""

    rewritten: list[str]  # pages (in a type folder)
    added: list[str]
    removed: list[str]
    other: list[str]  # index files, _WorkflowIndex.md, the record under _reports/

    def __bool__(self) -> bool:
        return any((self.rewritten, self.added, self.removed, self.other))

    def said(self) -> str:
        pages = f"{len(self.rewritten)} pages rewritten, {len(self.added)} new, {len(self.removed)} removed"
        return pages + (f"; {len(self.other)} index and record files updated" if self.other else "")


def snapshot(wiki: Path) -> dict[str, str]:
    """Every file under the wiki folder, by digest of its bytes."""
    if not wiki.is_dir():
        return {}
    return {
        p.relative_to(wiki).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(wiki.rglob("*"))
        if p.is_file()
    }


def compare(before: dict[str, str], after: dict[str, str]) -> WikiChanges:
    def is_page(rel: str) -> bool:
        return "/" in rel and not rel.startswith("_reports/")

    changed = sorted(rel for rel in before.keys() & after.keys() if before[rel] != after[rel])
    added, removed = sorted(after.keys() - before.keys()), sorted(before.keys() - after.keys())
    return WikiChanges(
        [r for r in changed if is_page(r)],
        [r for r in added if is_page(r)],
        [r for r in removed if is_page(r)],
        [r for r in changed + added + removed if not is_page(r)],
    )


def open_checkout(wiki: Path, base: str | None, runs: Path) -> Checkout:
    """The checks made before anything runs: a git working tree, a clean wiki folder, a known base,
    a run folder outside the wiki (its files would be committed with it)."""
    wiki = wiki.expanduser().resolve()
    probe = next((p for p in (wiki, *wiki.parents) if p.is_dir()), None)
    if probe is None or not _ok(probe, "rev-parse", "--is-inside-work-tree"):
        raise UsageError(
            f"{wiki} is not inside a git working tree; --wiki must be a folder of the wiki's own "
            "repository (git init; commit the wiki there first)"
        )
    root = Path(git(probe, "rev-parse", "--show-toplevel").strip()).resolve()
    if not _ok(root, "rev-parse", "--verify", "--quiet", "HEAD^{commit}"):
        raise UsageError(f"the repository at {root} has no commit yet; commit something (the wiki, a README) first")
    head_sha = git(root, "rev-parse", "HEAD").strip()
    head = (
        git(root, "symbolic-ref", "--quiet", "--short", "HEAD").strip()
        if _ok(root, "symbolic-ref", "-q", "HEAD")
        else None
    )
    base = base or head
    if base is None:
        raise UsageError(f"HEAD of {root} is detached; pass --base BRANCH (the branch the update starts from)")
    if not _ok(root, "rev-parse", "--verify", "--quiet", f"refs/heads/{base}^{{commit}}"):
        known = ", ".join(git(root, "for-each-ref", "--format=%(refname:short)", "refs/heads").split()) or "none"
        raise UsageError(f"unknown base branch {base!r} in {root} (local branches: {known}); pass --base BRANCH")
    runs = runs.expanduser().resolve()
    if runs == wiki or wiki in runs.parents:
        raise UsageError(f"the run folder {runs} is inside the wiki folder {wiki}; pass --runs DIR outside it")
    ck = Checkout(root, wiki, head, head_sha, base, _ok(root, "check-ignore", "-q", "--", str(wiki)))
    dirty = changed_files(ck)
    if dirty:
        raise UsageError(
            f"the wiki folder {wiki} has uncommitted changes ({len(dirty)} files, e.g. {dirty[0].path}); "
            "commit or discard them before an update"
        )
    return ck


def check_branch(ck: Checkout, name: str) -> None:
    if not _ok(ck.root, "check-ref-format", "--branch", name):
        raise UsageError(f"{name!r} is not a valid branch name; pass another --branch")
    if _ok(ck.root, "rev-parse", "--verify", "--quiet", f"refs/heads/{name}"):
        raise UsageError(f"branch {name} already exists in {ck.root}; pass another --branch or delete it")


def free_branch(ck: Checkout, name: str) -> str:
    """The default name, or the first ``name-N`` not taken (an earlier update of the same release
    may still be under review)."""
    name = re.sub(r"[^\w./+-]+", "-", name).strip("-.")  # a version or revision made a valid ref name
    n, candidate = 1, name
    while _ok(ck.root, "rev-parse", "--verify", "--quiet", f"refs/heads/{candidate}"):
        n += 1
        candidate = f"{name}-{n}"
    return candidate


def identity_env(root: Path) -> dict[str, str]:
    """The environment for git commit: the configured identity, else ``repowiki`` (CI runners have none)."""
    env = dict(os.environ)
    defaults = {"name": "repowiki", "email": "repowiki@localhost"}
    for key, default in defaults.items():
        configured = _ok(root, "config", f"user.{key}")
        for role in ("AUTHOR", "COMMITTER"):
            var = f"GIT_{role}_{key.upper()}"
            if not env.get(var) and not configured:
                env[var] = default
    return env


# ---- what the run says ------------------------------------------------------------------------


def run_pipeline(repo: str, source: str | None, wiki: Path, runs: Path, rest: list[str]) -> tuple[int, Json | None]:
    """agents.run in this process; (its exit code, its --json summary or None when it stopped)."""
    from agents.run import main as run_main

    argv = ["--repo", repo, "--wiki", str(wiki), "--runs", str(runs), "--json", *rest]
    if source is not None:
        argv[2:2] = ["--source", source]
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = run_main(argv)
    summary: Json | None = None
    for line in reversed(buf.getvalue().splitlines()):
        if line.startswith("{"):
            try:
                summary = json.loads(line)
                break
            except ValueError:
                continue
    return code, summary


def _read_json(path: Path) -> Json:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def drift_of(summary: Json, run_dir: Path) -> Json | None:
    """The run's drift classification: in the --json summary, else in the run's summary.json."""
    drift = summary.get("drift")
    if not isinstance(drift, dict):
        drift = _read_json(run_dir / "summary.json").get("drift")
    return drift if isinstance(drift, dict) else None


def page_class(d: Mapping[str, object]) -> str:
    return str(d.get("class") or d.get("cls") or "")


def drifted(drift: Json | None) -> list[Json]:
    return [d for d in (drift or {}).get("pages") or [] if page_class(d) in CLASSES]


def label(rec: Mapping[str, object] | None) -> str:
    """'0.18.2', else a short git revision, else what is known."""
    if not rec:
        return "an unrecorded source"
    if rec.get("version"):
        return str(rec["version"])
    if rec.get("revision"):
        return str(rec["revision"])[:8]
    return f"the {rec.get('origin') or 'local'} source"


def source_line(drift: Json | None, fallback: Json) -> str:
    """'peft 0.18.1 → 0.18.2' (or 'peft 0.18.2' when nothing was recorded before)."""
    to = (drift or {}).get("to") or fallback
    name = to.get("package") or fallback.get("package") or "the library"
    old = (drift or {}).get("from")
    if not old:
        return f"{name} {label(to)}"
    old_name = old.get("package") or name
    if old_name == name and label(old) == label(to):
        return f"{name} {label(to)} (re-verified)"  # same release: only the record or the pipeline changed
    prefix = f"{old_name} {label(old)} → " if old_name == name else f"{old_name} {label(old)} → {name} "
    return prefix + label(to) + (" (a downgrade)" if old_name == name and downgrade(old, to) else "")


def _release(version: object) -> tuple[int, ...] | None:
    m = re.match(r"v?(\d+(?:\.\d+)*)", str(version or ""))
    return tuple(int(n) for n in m.group(1).split(".")) if m else None


def downgrade(old: Mapping[str, object], new: Mapping[str, object]) -> bool:
    """The new source is an older release than the one the wiki was verified against."""
    a, b = _release(old.get("version")), _release(new.get("version"))
    return a is not None and b is not None and b < a


def first_line(drift: Json | None, fallback: Json, new_pages: int) -> str:
    counts = Counter(page_class(d) for d in drifted(drift))
    head = f"wiki: {source_line(drift, fallback)}: " + ", ".join(f"{counts[c]} {c}" for c in CLASSES)
    return head + (f", {new_pages} new" if new_pages else "")


def commit_message(drift: Json | None, fallback: Json, new_pages: int, held: Mapping[str, str], verified: str) -> str:
    lines = [first_line(drift, fallback, new_pages), ""]
    for d in drifted(drift):
        note = " (held)" if d["page"] in held else ""  # the reasons are long: the PR body has them
        lines.append(f"{page_class(d):<8} {d['page']}  {d.get('what') or ''}{note}".rstrip())
    if drift is None:
        lines.append("(this run reported no drift classification)")
    lines += ["", verified]
    return "\n".join(lines).rstrip() + "\n"


def report_section(report: str, heading: str = DRIFT_HEADING) -> str | None:
    """One ``## `` section of report.md, heading included, or None."""
    start = report.find(heading + "\n")
    if start < 0:
        return None
    end = report.find("\n## ", start + len(heading))
    return report[start : end if end >= 0 else len(report)].rstrip() + "\n"


def pr_body(
    run_dir: Path,
    drift: Json | None,
    fallback: Json,
    new_pages: int,
    held: Mapping[str, str],
    verified: str,
    files: list[str],
) -> str:
    try:
        report = (run_dir / "report.md").read_text(encoding="utf-8")
    except OSError:
        report = ""
    section = report_section(report)
    if section is None:  # a run without the drift section: the same facts from the summary
        rows = [f"| {d['page']} | {page_class(d)} | {d.get('what') or '—'} |" for d in drifted(drift)]
        section = (
            "\n".join(
                [
                    DRIFT_HEADING,
                    "",
                    first_line(drift, fallback, new_pages).removeprefix("wiki: ") + ".",
                    *(
                        ["", "| Page | Class | What changed |", "|------|-------|--------------|", *rows]
                        if rows
                        else []
                    ),
                ]
            )
            + "\n"
        )
    parts = [
        f"# {first_line(drift, fallback, new_pages)}",
        "",
        section.rstrip(),
        "",
        "## Verification",
        "",
        verified,
        "",
    ]
    if held:
        parts += ["## Held pages", "", *(f"* {p}: {why}" for p, why in sorted(held.items())), ""]
    parts += [
        "## Files changed",
        "",
        *(f"* {f}" for f in files),
        "",
        f"Run `{run_dir.name}`; its report.md and review/index.html hold the details.",
        "",
    ]
    return "\n".join(parts)


def verify(repo: str, wiki: Path, run_dir: Path) -> tuple[int, str, str | None]:
    """(errors, one line for the commit and the PR, the first error) of agents.verify.verifier over the wiki,
    against the source and cache the run used."""
    from agents.verify.verifier import verify_wiki
    from tools.wiki.load import load_wiki
    from tools.index.workspace import open_workspace

    cfg = _read_json(run_dir / "run.json").get("config") or {}
    cache = Path(cfg["cache_dir"]) if cfg.get("cache_dir") else None
    report = verify_wiki(load_wiki(wiki, repo), open_workspace(repo, cfg.get("source"), cache))
    n_err = len(report.errors)
    line = (
        f"Verified (python -m agents.verify): {report.pages} pages, {n_err} errors, "
        f"{len(report.findings) - n_err} warnings."
    )
    return n_err, line, (str(report.errors[0]) if report.errors else None)


# ---- the command ------------------------------------------------------------------------------


EXAMPLES = (
    "python -m agents.update --repo huggingface_peft --source pypi:peft==0.18.1 --wiki WIKI_REPO/wiki",
    "python -m agents.update --repo huggingface_peft --source path/to/peft --wiki WIKI_REPO/wiki --base main "
    "--branch wiki-update/next --model NAME",
    "python -m agents.update --repo huggingface_peft --source latest --wiki WIKI_REPO/wiki --runs /tmp/runs",
)


def build_parser() -> argparse.ArgumentParser:
    ap = command_parser(
        "python -m agents.update",
        __doc__.splitlines()[0],
        EXAMPLES,
        "Options go in any order; those it does not know (--model, --base-url, --critic, --cache-dir, "
        "--workflow-index …) are passed to python -m agents.run.",
        "A wiki folder that git ignores (the run's default runs/<repo>/wiki inside a clone) cannot be committed: "
        "the update is then written in place and the lines it prints say what changed there.",
        "Exit codes as agents.run: 0 committed, or nothing to update; 1 some pages held (the rest is committed), "
        "or the wiki fails its verifier (then nothing is committed); 2 unusable input; 3 a fault stopped the run. "
        "docs/keeping-current.md says how to schedule and review updates.",
    )
    ap.add_argument("--repo", required=True, help="owner_name, e.g. huggingface_peft")
    ap.add_argument(
        "--source",
        default="latest",
        help="the new source: checkout folder, pypi:PACKAGE==VERSION or 'latest' (default: the installed package, "
        "else the newest source archive)",
    )
    ap.add_argument("--wiki", required=True, type=Path, help="the wiki folder, inside the wiki's git working tree")
    ap.add_argument("--branch", help="the branch to commit to (default: wiki-update/<version or short revision>)")
    ap.add_argument("--base", help="the branch the update starts from (default: the current branch)")
    ap.add_argument(
        "--runs", type=Path, default=Path("runs"), help="folder for run output, outside the wiki (default: ./runs)"
    )
    return ap


def update(argv: list[str] | None = None) -> int:
    args, rest = build_parser().parse_known_args(argv)
    ck = open_checkout(args.wiki, args.base, args.runs)
    if args.branch:
        check_branch(ck, args.branch)
    if ck.head != ck.base:
        git(ck.root, "switch", "--quiet", ck.base)  # the run reads the wiki as the base has it
    try:
        return _update_on_base(args, rest, ck)
    finally:
        if not changed_files(ck):  # back where the user was; a wiki left dirty is left for inspection
            git(ck.root, "switch", "--quiet", *((ck.head,) if ck.head else ("--detach", ck.head_sha)))


def _update_on_base(args: argparse.Namespace, rest: list[str], ck: Checkout) -> int:
    if ck.ignored:
        print(
            f"note: git ignores the wiki folder {ck.wiki} (in {ck.root}): the update cannot be committed on a "
            "branch and is written in place",
            file=sys.stderr,
        )
    before = snapshot(ck.wiki)
    code, summary = run_pipeline(args.repo, args.source, ck.wiki, args.runs, rest)
    if summary is None:  # agents.run printed its error line
        if code == 3:
            print(
                "the update stopped before committing anything; run it again once the fault is fixed", file=sys.stderr
            )
        return code
    run_dir = Path(summary["run_dir"])
    drift = drift_of(summary, run_dir)
    fallback = {
        **(_read_json(run_dir / "summary.json").get("source") or {}),
        "package": ((drift or {}).get("to") or {}).get("package") or args.repo,
    }
    held = {p: str(w) for p, w in (summary.get("held") or {}).items()}
    held_note = f"{len(held)} pages held (report: {run_dir / 'report.md'})" if held else ""
    n_err, verified, first_error = verify(summary.get("repo") or args.repo, ck.wiki, run_dir)
    changes = compare(before, snapshot(ck.wiki))
    if n_err:
        where = "written in place" if ck.ignored else "left uncommitted"
        print(
            f"error: the wiki fails its verifier after the run ({n_err} errors; first: {first_error}); nothing "
            f"committed, the run's changes ({changes.said()}) are {where} in {ck.wiki} (report: "
            f"{run_dir / 'report.md'})",
            file=sys.stderr,
        )
        return 1
    if ck.ignored:
        print(first_line(drift, fallback, len(changes.added)))
        print(
            f"no branch made: git ignores {ck.wiki}; "
            + (f"the update is written there in place: {changes.said()}" if changes else "nothing in it changed")
        )
        say_held(held, held_note)
        return code
    files = changed_files(ck)
    if not files:
        print(f"no change: the wiki is current with {source_line(drift, fallback)}; no branch made")
        say_held(held, held_note)
        return code
    added = new_pages(ck, files)
    to = (drift or {}).get("to") or fallback
    branch = args.branch or free_branch(
        ck, "wiki-update/" + (label(to) if to.get("version") or to.get("revision") else summary["run_id"])
    )
    message = commit_message(drift, fallback, added, held, verified)
    (run_dir / PR_BODY).write_text(
        pr_body(run_dir, drift, fallback, added, held, verified, [f"{c.status.strip()} {c.path}" for c in files]),
        encoding="utf-8",
    )
    (run_dir / "commit_message.txt").write_text(message, encoding="utf-8")
    git(ck.root, "switch", "--quiet", "-c", branch)  # HEAD is the base here: the branch starts from it
    git(ck.root, "add", "--all", "--", str(ck.wiki))
    # only the wiki folder: whatever else the user had staged stays out of this commit
    git(
        ck.root,
        "commit",
        "--quiet",
        "-F",
        str(run_dir / "commit_message.txt"),
        "--",
        str(ck.wiki),
        env=identity_env(ck.root),
    )
    print(message.splitlines()[0])
    print(f"branch: {branch}")
    print(f"changed: {changes.said()}")
    print(f"pr-body: {run_dir / PR_BODY}")
    say_held(held, held_note)
    return code


def say_held(held: Mapping[str, str], note: str) -> None:
    """The held pages, one line each with its reason (the run's own table is not shown under an update)."""
    for page, why in sorted(held.items()):
        print(f"held: {page}: {why}")
    if note:
        print(note)


def main(argv: list[str] | None = None) -> int:
    if refused_for_shadowing():
        return 2
    try:
        return update(argv)
    except (UsageError, ToolError) as exc:
        print(f"error: {redact(str(exc))}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
