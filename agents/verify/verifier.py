"""The deterministic verifier: every rule of docs/rules.md over a wiki, checked against the source.

    python -m agents.verify WIKI_DIR [--source SRC] [--repo owner_name] [--json] [--ignore NAME ...]

Exit code 0 only when there is no error (warnings are reported); 1 with errors; 2 on unusable input.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TypedDict

from agents.install_check import refused_for_shadowing
from agents.verify.findings import RULES, Finding, FindingRecord
from agents.verify.context import Context
from agents.verify.rules.boilerplate_rules import check_boilerplate, check_page_boilerplate
from agents.verify.rules.claim_rules import check_claims
from agents.verify.rules.content_rules import check_param_docs
from agents.verify.rules.example_rules import check_examples
from agents.verify.rules.fact_rules import ExampleStats, check_facts
from agents.verify.rules.index_rules import check_indexes, check_layout
from agents.verify.rules.link_rules import check_links
from agents.verify.rules.page_rules import check_page
from tools.wiki.load import Wiki, load_wiki
from tools.wiki.page import Page, parse_page
from tools.wiki.workflow_index import WorkflowIndex
from tools.cliargs import command_parser
from tools.errors import ToolError, UsageError
from tools.index.workspace import Workspace, open_workspace


class ExampleNames(TypedDict):
    """How many names the examples take from the package, and how many of them exist."""

    checked: int
    exist: int
    ratio: float | None
    unknown: list[str]


class VerifySummary(TypedDict):
    """A whole-wiki verification in brief, as a commit records it."""

    errors: int
    warnings: int
    pages: int
    per_rule: dict[str, int]
    example_names: ExampleNames


class ReportRecord(TypedDict):
    """A report as ``--json`` prints it."""

    pages: int
    errors: int
    warnings: int
    per_rule: dict[str, int]
    seconds: float
    example_names: ExampleNames
    findings: list[FindingRecord]


@dataclass
class Report:
    findings: list[Finding]
    pages: int
    seconds: float
    examples: ExampleStats = field(default_factory=ExampleStats)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "E"]

    def per_rule(self) -> dict[str, int]:
        counts = Counter(f.rule for f in self.findings)
        return {r: counts[r] for r in sorted(counts, key=lambda r: int(r[1:]))}

    def as_dict(self) -> ReportRecord:
        ratio = self.examples.found / self.examples.names if self.examples.names else None
        return {
            "pages": self.pages,
            "errors": len(self.errors),
            "warnings": len(self.findings) - len(self.errors),
            "per_rule": self.per_rule(),
            "seconds": round(self.seconds, 3),
            "example_names": {
                "checked": self.examples.names,
                "exist": self.examples.found,
                "ratio": round(ratio, 3) if ratio is not None else None,
                "unknown": self.examples.unknown,
            },
            "findings": [f.as_dict() for f in self.findings],
        }


def _page_findings(ctx: Context, page: Page, stats: ExampleStats) -> list[Finding]:
    """The rules one page answers on its own: the same for a whole wiki and for a drafted pair."""
    subtype = ctx.wiki.subtype(page) if page.type == "Implementation" else None
    out = [*check_page(ctx, page, subtype), *check_claims(ctx, page), *check_param_docs(ctx, page)]
    out += [*check_examples(ctx, page), *check_page_boilerplate(ctx, page)]
    if page.type == "Implementation":
        out.extend(check_facts(ctx, page, subtype, stats))
    return out


def verify_wiki(
    wiki: Wiki, ws: Workspace | None, now: datetime | None = None, trusted: frozenset[str] = frozenset()
) -> Report:
    """Every rule on every page, then the whole-wiki rules. ``trusted``: pages whose per-page verdict
    still holds (same text, none of their inputs changed since a clean verification: agents.drift);
    the whole-wiki rules still see them."""
    t0 = time.perf_counter()
    ctx = Context(wiki, ws) if now is None else Context(wiki, ws, now)
    findings: list[Finding] = check_layout(ctx)
    stats = ExampleStats()
    for page in sorted(wiki.pages.values(), key=lambda p: p.path):
        if page.path in trusted:
            continue
        findings.extend(_page_findings(ctx, page, stats))
    findings.extend(check_links(ctx))
    findings.extend(check_boilerplate(ctx))
    failed = {f.page for f in findings if f.severity == "E"}
    findings.extend(check_indexes(ctx, failed))
    findings.sort(key=lambda f: (f.page, f.line or 0, int(f.rule[1:])))
    return Report(findings, len(wiki.pages), time.perf_counter() - t0, stats)


def verify_pages(
    texts: dict[str, str],
    repo: str,
    ws: Workspace | None,
    now: datetime | None = None,
    workflow_index: WorkflowIndex | None = None,
) -> list[Finding]:
    """Page-level, fact and pairing rules for a few pages checked on their own (one drafted pair),
    before they meet the rest of the wiki. Rules that need the whole wiki (orphans, indexes,
    statuses) run at commit time through verify_wiki."""
    wiki = Wiki(
        Path("."),
        repo,
        pages={rel: parse_page(text, rel) for rel, text in texts.items()},
        workflow_index=workflow_index,
    )
    ctx = Context(wiki, ws) if now is None else Context(wiki, ws, now)
    out: list[Finding] = []
    stats = ExampleStats()
    for page in wiki.pages.values():
        out.extend(_page_findings(ctx, page, stats))
    out.extend(f for f in check_links(ctx) if f.rule != "R19")
    out.sort(key=lambda f: (f.page, f.line or 0, int(f.rule[1:])))
    return out


EXAMPLES = (
    "python -m agents.verify runs/huggingface_peft/wiki",
    "python -m agents.verify --wiki runs/huggingface_peft/wiki --source pypi:peft==0.18.1 --json",
    "python -m agents.verify path/to/wiki --source path/to/checkout --ignore README.md",
)


def build_parser() -> argparse.ArgumentParser:
    ap = command_parser(
        "python -m agents.verify",
        __doc__.splitlines()[0],
        EXAMPLES,
        "Without --source the wiki is checked against the source it was last verified against, as its "
        "_reports/verified_source.json records it (a source archive, or the installed package). "
        "Exit codes: 0 no error (warnings are reported); 1 errors found; 2 unusable input. "
        "Every rule, with a failing and a passing example: docs/rules.md.",
    )
    ap.add_argument("wiki", nargs="?", type=Path, help="the wiki folder (holds workflows/, principles/ …); or --wiki")
    ap.add_argument("--wiki", dest="wiki_option", type=Path, metavar="WIKI", help="the wiki folder, as an option")
    ap.add_argument(
        "--source",
        help="the repository the wiki documents: a folder, pypi:PACKAGE==VERSION or 'latest' (the installed "
        "package); default: the source the wiki records",
    )
    ap.add_argument("--repo", help="owner_name (default: read from _WorkflowIndex.md or an index file)")
    ap.add_argument("--cache-dir", type=Path, help="cache folder (default: $REPOWIKI_CACHE_DIR or the user cache)")
    ap.add_argument("--ignore", nargs="*", default=[], help="names in the wiki to leave out (e.g. README.md)")
    ap.add_argument("--json", action="store_true", help="print findings and per-rule counts as JSON")
    return ap


def wiki_argument(args: argparse.Namespace) -> Path:
    """The wiki folder, given as the positional argument or as --wiki (the same folder if both)."""
    given: list[Path] = [w for w in (args.wiki, args.wiki_option) if w is not None]
    if not given:
        raise UsageError("say which wiki to check: python -m agents.verify WIKI_DIR (or --wiki WIKI_DIR)")
    if len(given) == 2 and given[0].resolve() != given[1].resolve():
        raise UsageError(f"two wikis given ({given[0]} and --wiki {given[1]}); give one")
    return given[0]


def run(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    folder = wiki_argument(args)
    wiki = load_wiki(folder, args.repo, tuple(args.ignore))
    source = args.source
    if source is None:
        from agents.drift import recorded_source

        source, said = recorded_source(folder, wiki.repo)
        print(f"source: {said}", file=sys.stderr)
    ws = open_workspace(wiki.repo, source, args.cache_dir)
    report = verify_wiki(wiki, ws)
    if args.json:
        print(json.dumps(report.as_dict(), indent=1, ensure_ascii=False))
    else:
        for f in report.findings:
            print(f)
        counts = ", ".join(f"{r}: {n}" for r, n in report.per_rule().items()) or "none"
        print(
            f"{report.pages} pages, {len(report.errors)} errors, {len(report.findings) - len(report.errors)} "
            f"warnings ({counts}) in {report.seconds:.2f}s",
            file=sys.stderr,
        )
    return 1 if report.errors else 0


def main(argv: list[str] | None = None) -> int:
    if refused_for_shadowing():
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)
    try:
        return run(argv)
    except (UsageError, ToolError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["RULES", "Report", "verify_pages", "verify_wiki", "main"]
