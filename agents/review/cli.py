"""``python -m agents.review``: review what a run drafted before (or after) it became the wiki.

    python -m agents.review list [RUN] [--repo R]        # pages, status, findings, locator confidence
    python -m agents.review show PAGE [--run RUN]        # draft, findings, the source it documents
    python -m agents.review diff PAGE [--run RUN]        # draft against the page in the wiki
    python -m agents.review approve PAGE... [--run RUN]  # commit (edited) drafts that pass the verifier
    python -m agents.review pick PAGE N [--run RUN]      # draft a held pair at the locator's candidate N
    python -m agents.review reject PAGE... --reason TEXT [--run RUN]
    python -m agents.review html [RUN]                   # (re)write runs/<repo>/<run>/review/index.html

RUN is a run id or 'latest' (default). --repo, --runs and --run go before or after the sub-command. Decisions go to the run's decisions.jsonl; the pipeline
respects them on its next run (a rejected pair is held, an approved page is not overwritten).
"""

from __future__ import annotations

import argparse
import difflib
import errno
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from agents.install_check import refused_for_shadowing
from agents.review.runs import JsonRecord, PageEntry, RunView, load_run, record_decision, resolve_run, source_excerpt
from tools.cliargs import OPTIONS_ANYWHERE, command_parser, options_everywhere, sub_command
from tools.jsonl import read_jsonl
from tools.errors import ToolError, UsageError

if TYPE_CHECKING:
    from agents.state import PairJob, PairResult
    from tools.locate import LocationRecord


def _view(args: argparse.Namespace) -> RunView:
    return load_run(resolve_run(args.runs, args.repo, args.run))


def cmd_list(args: argparse.Namespace) -> int:
    view = _view(args)
    rows = [
        (
            e.page,
            e.status,
            len(e.findings),
            f"{e.confidence:.2f}" if e.confidence is not None else "—",
            (e.decision or {}).get("decision") or "",
        )
        for e in view.entries
    ]
    if args.json:
        print(
            json.dumps(
                [{"page": p, "status": s, "findings": n, "confidence": c, "decision": d} for p, s, n, c, d in rows]
            )
        )
        return 0
    width = max((len(r[0]) for r in rows), default=4)
    print(f"{'page':<{width}}  {'status':<9}  findings  confidence  decision")
    for p, s, n, c, d in rows:
        print(f"{p:<{width}}  {s:<9}  {n:>8}  {c:>10}  {d}")
    print(f"run {view.run_dir.name}: {len(rows)} pages; review site: {view.run_dir / 'review' / 'index.html'}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    view = _view(args)
    e = view.entry(args.page)
    text = (
        (e.draft or (view.wiki / e.page)).read_text(encoding="utf-8", errors="replace")
        if (e.draft or (view.wiki / e.page)).is_file()
        else ""
    )
    print(f"== {e.page} ({e.status}){' — ' + e.reason if e.reason else ''}")
    print(f"   draft: {e.draft or '(none; wiki page shown)'}")
    for i, line in enumerate(text.splitlines(), 1):
        print(f"{i:>5}  {line}")
    print(f"== findings ({len(e.findings)})")
    for f in e.findings:
        print(f"  line {f.get('line') or '-'}: {f['rule']} [{f['severity']}] {f['message']} (fix: {f['hint']})")
    ex = source_excerpt(view, e)
    if ex is not None and e.location is not None:  # an excerpt is only read for a location
        file, start, lines = ex
        print(f"== source {file}:L{start}-{e.location['end_line']}")
        for i, line in enumerate(lines, start):
            print(f"{i:>5}  {line}")
    elif e.location and e.location.get("kind") == "external":
        print(f"== source: external API {e.location.get('qualname')}")
    candidates = _verdict(view, e).get("candidates") or [] if e.status == "held" else []
    if candidates:
        print(f"== candidates (pick one: python -m agents.review pick {e.page} N)")
        for n, c in enumerate(candidates, 1):
            print(
                f"  {n}. {c['qualname']}  {c['file']}:L{c['start_line']}-{c['end_line']}  score {c['score']}"
                + (f"  ({c['why']})" if c.get("why") else "")
            )
    return 0


def _verdict(view: RunView, e: PageEntry) -> JsonRecord:
    impl = Path(e.page if e.page.startswith("implementations/") else (e.pair or e.page)).stem
    for v in read_jsonl(view.run_dir / "verdicts.jsonl"):
        if v.get("implementation") == impl:
            return v
    raise UsageError(f"{e.page} is not a page of a drafted pair in run {view.run_dir.name}")


def cmd_pick(args: argparse.Namespace) -> int:
    """Draft a held pair at the candidate the reviewer picked, verify it, commit it if it passes."""
    from agents.runctx import write_draft
    from agents.nodes.commit import commit
    from agents.runctx import workflow_index, workspace
    from agents.nodes.synthesize import draft_pair
    from agents.verify.verifier import verify_pages

    view = _view(args)
    e = view.entry(args.page)
    v = _verdict(view, e)
    cands = v.get("candidates") or []
    if not 1 <= args.n <= len(cands):
        raise UsageError(
            f"{e.page} has {len(cands)} candidate(s); pick N between 1 and {len(cands)} "
            f"(python -m agents.review show {e.page})"
        )
    c = cands[args.n - 1]
    cfg = view.config
    sym = next(
        (
            s
            for s in workspace(cfg).index.file_symbols(c["file"])
            if s.qualname == c["qualname"] and s.start_line == c["start_line"]
        ),
        None,
    )
    if sym is None:
        raise UsageError(
            f"candidate {args.n} ({c['qualname']} at {c['file']}:L{c['start_line']}) is no longer in "
            "the source; run the pipeline again"
        )
    loc: LocationRecord = {
        "implementation": v["implementation"],
        "kind": "internal",
        "qualname": sym.qualname,
        "file": sym.file,
        "start_line": sym.start_line,
        "end_line": sym.end_line,
        "confidence": 1.0,
        "reasons": [f"picked by the reviewer: candidate {args.n}"],
        "candidates": cands,
        "package": None,
        "external_location": None,
    }
    job: PairJob = {
        "principle": v["principle"],
        "implementation": v["implementation"],
        "impl_type": "API Doc",
        "steps": v["steps"],
        "usage_key": None,
    }
    texts, _ = draft_pair(cfg, job, loc, None, {})
    wi, _ = workflow_index(cfg)
    findings = [f.as_dict() for f in verify_pages(texts, cfg["repo"], workspace(cfg), workflow_index=wi)]
    errors = [f for f in findings if f["severity"] == "E"]
    write_draft(cfg, "held", texts)
    if errors:
        print(
            f"not committed: the draft at candidate {args.n} fails {', '.join(sorted({f['rule'] for f in errors}))}; "
            f"it is under {Path(cfg['run_dir']) / 'held'} to edit and approve"
        )
        for f in errors:
            print(f"  {f['page']} line {f.get('line') or '-'}: {f['rule']} {f['message']}")
        return 1
    result: PairResult = {
        "principle": v["principle"],
        "implementation": v["implementation"],
        "outcome": "verified",
        "reason": None,
        "texts": texts,
        "findings": findings,
        "location": loc,
        "rounds": 0,
        "steps": v["steps"],
        "seconds": 0.0,
    }
    summary = commit(cfg, [result])
    done = set(summary["committed"]) | set(summary["unchanged"])
    code = 0
    for page, text in texts.items():
        if page in done:
            text = (Path(cfg["wiki"]) / page).read_text(encoding="utf-8")  # as committed (wording repairs too)
            record_decision(view.run_dir, page, "approve", text=text, reason=f"picked candidate {args.n}")
            print(f"picked candidate {args.n} ({sym.qualname}) and committed: {page}")
        else:
            code = 1
            print(f"not committed: {page}: {summary['held'].get(page, 'fails the verifier')}")
    from agents.review.site import write_site

    write_site(view.run_dir)
    return code


def cmd_diff(args: argparse.Namespace) -> int:
    view = _view(args)
    e = view.entry(args.page)
    if e.draft is None:
        raise UsageError(f"{e.page} has no draft in run {view.run_dir.name}")
    wiki_page = view.wiki / e.page
    old = wiki_page.read_text(encoding="utf-8").splitlines(keepends=True) if wiki_page.is_file() else []
    new = e.draft.read_text(encoding="utf-8").splitlines(keepends=True)
    sys.stdout.writelines(difflib.unified_diff(old, new, f"wiki/{e.page}", f"{e.draft.parent.name}/{e.page}"))
    return 0


def cmd_approve(args: argparse.Namespace) -> int:
    from agents.nodes.commit import commit

    view = _view(args)
    entries = [view.entry(p) for p in args.pages]
    verdicts = {
        v["implementation"]: v
        for v in map(json.loads, (view.run_dir / "verdicts.jsonl").read_text(encoding="utf-8").splitlines())
    }
    results: dict[str, PairResult] = {}
    for e in entries:
        if e.draft is None:
            raise UsageError(f"{e.page} has no draft to approve in run {view.run_dir.name}")
        impl = Path(e.page if e.page.startswith("implementations/") else (e.pair or e.page)).stem
        v = verdicts.get(impl)
        if v is None:
            raise UsageError(f"{e.page} is not a page of a drafted pair; approve Principle and Implementation pages")
        r = results.setdefault(
            impl,
            {
                "principle": v["principle"],
                "implementation": impl,
                "outcome": "verified",
                "reason": None,
                "texts": {},
                "findings": [],
                "location": v["location"],
                "rounds": v.get("rounds", 0),
                "steps": v.get("steps") or [{"title": impl}],
                "seconds": 0.0,
            },
        )
        r["texts"][e.page] = e.draft.read_text(encoding="utf-8")
    summary = commit(view.config, list(results.values()))
    done = set(summary["committed"]) | set(summary["unchanged"])
    code = 0
    for e in entries:
        text = results[Path(e.page if e.page.startswith("implementations/") else (e.pair or e.page)).stem]["texts"][
            e.page
        ]
        if e.page in done:
            # what the wiki now holds: the commit may have repaired the wording (R49), and the next run
            # keeps an approved page by comparing it with this text
            text = (view.wiki / e.page).read_text(encoding="utf-8")
            record_decision(view.run_dir, e.page, "approve", text=text)
            print(f"approved and committed: {e.page}")
        else:
            code = 1
            print(f"not committed: {e.page}: {summary['held'].get(e.page, 'fails the verifier')}")
            for f in summary["held_findings"].get(e.page, []):
                print(f"  line {f.get('line') or '-'}: {f['rule']} {f['message']} (fix: {f['hint']})")
    from agents.review.site import write_site

    write_site(view.run_dir)
    return code


def cmd_reject(args: argparse.Namespace) -> int:
    view = _view(args)
    for p in args.pages:
        e = view.entry(p)
        record_decision(view.run_dir, e.page, "reject", reason=args.reason)
        print(f"rejected: {e.page}: {args.reason}")
    return 0


def cmd_html(args: argparse.Namespace) -> int:
    from agents.review.site import write_site

    print(write_site(resolve_run(args.runs, args.repo, args.run)))
    return 0


PAGE = "implementations/huggingface_peft_get_peft_model.md"
EXAMPLES = {
    "": (
        "python -m agents.review list --repo huggingface_peft",
        f"python -m agents.review --repo huggingface_peft show {PAGE}",
        "python -m agents.review html --repo huggingface_peft --runs runs",
    ),
    "list": (
        "python -m agents.review list --repo huggingface_peft",
        "python -m agents.review list --json --run latest",
    ),
    "show": (
        f"python -m agents.review show {PAGE} --repo huggingface_peft",
        "python -m agents.review show huggingface_peft_get_peft_model --run 20261207T101500000Z",
    ),
    "diff": (
        f"python -m agents.review diff {PAGE} --repo huggingface_peft",
        f"python -m agents.review --repo huggingface_peft diff {PAGE}",
    ),
    "approve": (
        f"python -m agents.review approve {PAGE} --repo huggingface_peft",
        "python -m agents.review approve PAGE OTHER_PAGE --run RUN_ID",
    ),
    "pick": (
        "python -m agents.review pick implementations/unslothai_unsloth_FastLanguageModel_for_inference.md 1",
        "python -m agents.review pick PAGE 2 --repo REPO --run RUN_ID",
    ),
    "reject": (
        f'python -m agents.review reject {PAGE} --reason "documents the wrapper, not the function" '
        "--repo huggingface_peft",
        'python -m agents.review reject PAGE... --reason "why" --run RUN_ID',
    ),
    "html": ("python -m agents.review html --repo huggingface_peft", "python -m agents.review html RUN_ID"),
}


def _run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--runs", type=Path, default=Path("runs"), help="the runs folder (default ./runs)")
    p.add_argument("--repo", help="owner_name (default: the only repository under --runs)")
    p.add_argument("--run", default="latest", help="a run id or 'latest' (default)")


def build_parser() -> argparse.ArgumentParser:
    ap = command_parser(
        "python -m agents.review",
        __doc__.splitlines()[0],
        EXAMPLES[""],
        f"{OPTIONS_ANYWHERE} PAGE is a page's path in the wiki, its file name or its name. Exit codes: 0 done; "
        "1 a page was not committed (it fails the verifier; the findings are listed); 2 unusable input.",
    )
    sub = ap.add_subparsers(dest="cmd", required=True, metavar="COMMAND")
    subs: list[argparse.ArgumentParser] = []

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub_command(sub, name, help_text, EXAMPLES[name])
        subs.append(p)
        return p

    p = command("list", "pages of a run with status, findings and locator confidence")
    p.add_argument("run", nargs="?", default=argparse.SUPPRESS, help="a run id or 'latest' (or --run)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_list)
    for name, fn, helptext in (
        ("show", cmd_show, "a draft with its findings and source"),
        ("diff", cmd_diff, "the draft against the wiki page"),
    ):
        p = command(name, helptext)
        p.add_argument("page")
        p.set_defaults(fn=fn)
    p = command("approve", "commit drafts (edited or held) that pass the verifier")
    p.add_argument("pages", nargs="+")
    p.set_defaults(fn=cmd_approve)
    p = command("pick", "draft a held pair at one of the locator's candidates and commit it if it verifies")
    p.add_argument("page")
    p.add_argument("n", type=int, help="the candidate's number, as `show` lists them")
    p.set_defaults(fn=cmd_pick)
    p = command("reject", "record that drafts are wrong, with the reason")
    p.add_argument("pages", nargs="+")
    p.add_argument("--reason", required=True)
    p.set_defaults(fn=cmd_reject)
    p = command("html", "(re)write the run's review site")
    p.add_argument("run", nargs="?", default=argparse.SUPPRESS, help="a run id or 'latest' (or --run)")
    p.set_defaults(fn=cmd_html)
    options_everywhere(ap, subs, _run_options)
    return ap


_WRITING = {"approve", "pick", "reject", "html"}


def main(argv: list[str] | None = None) -> int:
    if refused_for_shadowing():
        return 2
    args = build_parser().parse_args(argv)
    try:
        code: int = args.fn(args)  # one of the cmd_* above
        return code
    except (UsageError, ToolError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `... | head`
        return 0
    except OSError as exc:  # a read-only, obstructed or vanished run folder
        writes = args.cmd in _WRITING or exc.errno in (errno.EPERM, errno.EACCES, errno.EROFS)
        print(
            f"error: cannot {'write' if writes else 'read'} {exc.filename or 'the run folder'} "
            f"({exc.strerror or exc}); check that the run folder exists and is yours to "
            f"{'write' if writes else 'read'}, or pass another --runs",
            file=sys.stderr,
        )
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
