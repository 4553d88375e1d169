"""docs/rules.md: every verifier rule with its hint, a failing and a passing example, and the finding
the verifier gives, all taken from real verifications of the fixture wiki.

The fixture wiki (tests/fixtures/wiki, documenting tests/fixtures/minirepo) verifies clean. Each
example changes a copy of it in one place and verifies it again: a mutation of
agents/verify/mutate.py (the faults the mutation tests plant), or, for the rules no mutation
covers, a hand-written pair of agents/verify/rule_examples.py. The diff runs from the passing form
to the failing one. Nothing depends on the machine or the date (a fixed clock, paths relative to
the wiki), so the file is byte-stable; tests/test_docs.py compares it with this module's output.

    python -m agents.verify.rule_docs            # rewrite docs/rules.md
    python -m agents.verify.rule_docs --check    # exit 1 when docs/rules.md differs
"""

from __future__ import annotations

import argparse
import difflib
import shutil
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from agents.verify.findings import RULES, Finding
from agents.verify.mutate import MUTATIONS, mutated_copy
from agents.verify.rule_examples import EXAMPLES, apply
from agents.verify.verifier import verify_wiki
from tools.index.build import build_index
from tools.index.workspace import Workspace
from tools.source.resolve import resolve_repo
from tools.wiki.load import load_wiki

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "rules.md"
FIXTURE_WIKI = ROOT / "tests" / "fixtures" / "wiki"
FIXTURE_SOURCE = ROOT / "tests" / "fixtures" / "minirepo"
REPO = "acme_minipkg"
# R13 compares timestamps with the clock: a fixed one keeps the examples the same every day
NOW = datetime(2030, 1, 1, tzinfo=timezone.utc)
MAX_DIFF_LINES = 24
MAX_FINDINGS = 3


@dataclass(frozen=True)
class Example:
    rule: str
    origin: str  # "mutation `name`" or "hand-written"
    what: str
    diff: tuple[str, ...]  # unified diff, passing form → failing form
    findings: tuple[str, ...]  # the failing form's findings under the rule
    passing_findings: tuple[str, ...]  # the passing form's findings under the rule (none, when the example is right)


def _files(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): p.read_text(encoding="utf-8") for p in sorted(root.rglob("*")) if p.is_file()
    }


def tree_diff(before: Path, after: Path) -> list[str]:
    """The changes from one wiki folder to another as unified diff lines, file by file in path order;
    a new file that copies an old one is shown as its changes from that one, a moved one as a rename."""
    old, new = _files(before), _files(after)
    removed = [p for p in old if p not in new]
    renamed: dict[str, str] = {}  # new path -> the removed path it came from
    for path in (p for p in new if p not in old):
        twin = next((r for r in removed if old[r] == new[path] and r not in renamed.values()), None)
        if twin is not None:
            renamed[path] = twin
    out: list[str] = []
    for path in sorted(set(old) | set(new)):
        if path in renamed.values():
            continue
        if path in renamed:
            out += [f"rename from {renamed[path]}", f"rename to {path}"]
        elif path not in new:
            out.append(f"deleted file {path}")
        elif path in old:
            out += _unified(old[path], new[path], f"a/{path}", f"b/{path}") if old[path] != new[path] else []
        else:
            like = max(old, key=lambda p: difflib.SequenceMatcher(None, old[p], new[path]).quick_ratio(), default=None)
            if like is not None and difflib.SequenceMatcher(None, old[like], new[path]).ratio() > 0.6:
                out += [f"new file {path}, a copy of {like} with these changes:"]
                out += _unified(old[like], new[path], f"a/{like}", f"b/{path}")
            else:
                out += [f"new file {path}"] + _unified("", new[path], "/dev/null", f"b/{path}")
    if len(out) > MAX_DIFF_LINES:
        out = out[:MAX_DIFF_LINES] + [f"... ({len(out) - MAX_DIFF_LINES} more diff lines)"]
    return out


def _unified(a: str, b: str, a_name: str, b_name: str) -> list[str]:
    # blank context lines lose their lone space: the doc keeps no trailing whitespace
    return [
        line.rstrip() for line in difflib.unified_diff(a.splitlines(), b.splitlines(), a_name, b_name, n=1, lineterm="")
    ]


def _line(f: Finding) -> str:
    where = f"{f.page}:{f.line}" if f.line else f.page
    return f"{where}: {f.rule} [{f.severity}] {f.message}"


def _of(lines: list[str], rule: str) -> tuple[str, ...]:
    return tuple(line for line in lines if f": {rule} [" in line)


class _Checker:
    """Verifies wiki folders against the fixture source, in a scratch folder of its own."""

    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        src = resolve_repo(REPO, str(FIXTURE_SOURCE), scratch / "cache")
        self.source_root = src.root
        self.ws = Workspace(src, build_index(src, scratch / "cache"))
        self.count = 0

    def findings(self, wiki: Path) -> list[str]:
        lines = [_line(f) for f in verify_wiki(load_wiki(wiki, REPO), self.ws, now=NOW).findings]
        for text in lines:  # a message naming the scratch folder would make the doc differ per run
            if str(self.scratch) in text or str(ROOT) in text:
                raise ValueError(f"a finding names a local path: {text}")
        return lines

    def under(self, wiki: Path, rule: str) -> tuple[str, ...]:
        return _of(self.findings(wiki), rule)

    def folder(self) -> Path:
        self.count += 1
        return self.scratch / f"wiki{self.count}"


def collect(scratch: Path) -> list[Example]:
    """Every example: one per mutation, one per hand-written pair, in that order."""
    check = _Checker(scratch)
    baseline = check.findings(FIXTURE_WIKI)
    out = []
    for m in MUTATIONS:
        dest = check.folder()
        what = mutated_copy(FIXTURE_WIKI, dest, m, check.source_root)
        if what is None:
            raise ValueError(f"mutation {m.name} finds no target in {FIXTURE_WIKI}")
        out.append(
            Example(
                m.rule,
                f"mutation `{m.name}`",
                what,
                tuple(tree_diff(FIXTURE_WIKI, dest)),
                check.under(dest, m.rule),
                _of(baseline, m.rule),
            )
        )
    for ex in EXAMPLES:
        passing = check.folder()
        shutil.copytree(FIXTURE_WIKI, passing)
        apply(passing, ex.setup)
        failing = check.folder()
        shutil.copytree(passing, failing)
        apply(failing, ex.fault)
        out.append(
            Example(
                ex.rule,
                "hand-written",
                ex.what,
                tuple(tree_diff(passing, failing)),
                check.under(failing, ex.rule),
                check.under(passing, ex.rule) if ex.setup else _of(baseline, ex.rule),
            )
        )
    return out


def _prose(text: str) -> str:
    """Text outside code blocks: a tag such as <syntaxhighlight> would vanish as HTML when rendered."""
    return text.replace("<", "&lt;")


def _cell(text: str) -> str:
    return _prose(text).replace("|", "&#124;")


def rules_markdown(examples: list[Example] | None = None) -> str:
    """The text of docs/rules.md (``examples``: from ``collect``; collected here when not given)."""
    if examples is None:
        with tempfile.TemporaryDirectory() as tmp:
            examples = collect(Path(tmp))
    by_rule: dict[str, list[Example]] = {}
    for ex in examples:
        by_rule.setdefault(ex.rule, []).append(ex)
    out = [
        "# Verifier rules",
        "",
        "Generated by `python -m agents.verify.rule_docs` from `RULES` in `agents/verify/findings.py` and real",
        "verifications of the fixture wiki; `tests/test_docs.py` fails when this file and the generator differ.",
        "The page format the rules check is described in [page-format.md](page-format.md).",
        "",
        "E = error: the page is repaired or held, never committed. W = warning: reported only.",
        "",
        "| Rule | Severity | Checks | How to fix |",
        "|------|----------|--------|------------|",
    ]
    for rid, (sev, what, hint) in RULES.items():
        out.append(f"| [{rid}](#{rid.lower()}) | {sev} | {_cell(what)} | {_cell(hint)} |")
    out += [
        "",
        "## Examples",
        "",
        "Each example is a real verification. The fixture wiki `tests/fixtures/wiki` (it documents the package in",
        "`tests/fixtures/minirepo` and verifies with no finding) is changed in one place and verified again. In the",
        "diff, `-` lines are the passing form and `+` lines the failing one; below it, what the verifier says about",
        "the failing form under the rule (as `python -m agents.verify` prints it, without the fix hint). A *mutation*",
        "is a fault `agents/verify/mutate.py` plants for the mutation tests; a *hand-written* pair comes from",
        "`agents/verify/rule_examples.py`.",
    ]
    for rid, (sev, what, hint) in RULES.items():
        severity = "error" if sev == "E" else "warning"
        out += [
            "",
            f'<a id="{rid.lower()}"></a>',
            "",
            f"### {rid}: {_prose(what)} ({severity})",
            "",
            f"Fix: {_prose(hint)}.",
        ]
        for ex in by_rule.get(rid, []):
            shown = list(ex.findings[:MAX_FINDINGS])
            if len(ex.findings) > MAX_FINDINGS:
                shown.append(f"... ({len(ex.findings) - MAX_FINDINGS} more)")
            out += [
                "",
                f"Example ({ex.origin}): {_prose(ex.what)}.",
                "",
                "```diff",
                *ex.diff,
                "```",
                "",
                "```text",
                *shown,
                "```",
            ]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m agents.verify.rule_docs", description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only compare; exit 1 when docs/rules.md is stale")
    args = ap.parse_args(argv)
    text = rules_markdown()
    if args.check:
        same = DOC.is_file() and DOC.read_text(encoding="utf-8") == text
        print(
            "docs/rules.md is current" if same else "docs/rules.md is stale: run python -m agents.verify.rule_docs",
            file=sys.stderr,
        )
        return 0 if same else 1
    DOC.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
