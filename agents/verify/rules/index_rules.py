"""Rules on the index files and the WorkflowIndex: R2, R37–R44, R51."""

from __future__ import annotations

import re
from collections import defaultdict

from agents.verify.findings import Finding, finding
from agents.verify.context import Context
from tools.wiki.page import source_location
from tools.wiki.indexes import expected_tokens
from tools.wiki.load import IndexTable
from tools.wiki.schema import IMPL_SUBTYPES, INDEX_FILES, INDEX_HEADERS
from tools.wiki.page import TYPE_FOLDERS, Page
from tools.discover.grounding import check_span, parse_evidence
from tools.wiki.workflow_index import WorkflowIndex, WorkflowIndexError

_TOKEN_RE = r"^(✅|⬜)(Workflow|Principle|Impl|Env|Heuristic):{repo}_\S+$"


def check_layout(ctx: Context) -> list[Finding]:
    out = [finding("R2", entry, None, f"{entry} is not part of the wiki layout") for entry in ctx.wiki.stray]
    out += [finding("R2", rel, None, f"cannot read: {why}") for rel, why in ctx.wiki.unreadable]
    return out


def check_indexes(ctx: Context, failed_pages: set[str]) -> list[Finding]:
    out: list[Finding] = []
    wiki = ctx.wiki
    for page_type, fname in INDEX_FILES.items():
        pages = wiki.of_type(page_type)
        table = wiki.indexes.get(page_type)
        if table is None:
            if pages:
                out.append(finding("R37", fname, None, f"{TYPE_FOLDERS[page_type]}/ has pages but {fname} is missing"))
            continue
        out.extend(_index_table(ctx, page_type, table, pages))
    out.extend(_workflow_index(ctx, failed_pages))
    return out


def _index_table(ctx: Context, page_type: str, table: IndexTable, pages: list[Page]) -> list[Finding]:
    out = []
    fname = table.path
    folder = TYPE_FOLDERS[page_type]
    want_header = INDEX_HEADERS[page_type]
    if table.header != want_header:
        out.append(finding("R39", fname, table.header_line, f"header is {table.header}, expected {want_header}"))
        return out
    rows = {r.cells[0]: r for r in table.rows if r.cells}
    names = {p.name for p in pages}
    for missing in sorted(names - set(rows)):
        out.append(finding("R38", fname, None, f"no row for {missing}"))
    for extra in sorted(set(rows) - names):
        out.append(finding("R38", fname, rows[extra].line, f"row {extra} has no page file"))
    order = [r.cells[0] for r in table.rows if r.cells]
    if order != sorted(order):
        out.append(
            finding("R39", fname, table.rows[0].line if table.rows else None, "rows are not sorted by page name")
        )
    token_re = re.compile(_TOKEN_RE.format(repo=re.escape(ctx.wiki.repo)))
    for r in table.rows:
        if len(r.cells) != len(want_header):
            out.append(finding("R39", fname, r.line, f"row has {len(r.cells)} cells, expected {len(want_header)}"))
            continue
        name = r.cells[0]
        if r.cells[1] != f"[→](./{folder}/{name}.md)":
            out.append(finding("R39", fname, r.line, f"File cell {r.cells[1]!r} is not [→](./{folder}/{name}.md)"))
        if any("---" in c for c in r.cells):
            out.append(finding("R39", fname, r.line, "a cell contains '---'"))
        tokens = [t.strip() for t in r.cells[2].split(",") if t.strip()]
        for t in tokens:
            if not token_re.match(t):
                out.append(finding("R40", fname, r.line, f"token {t!r} is malformed"))
        page = ctx.wiki.page(page_type, name)
        if page is not None:
            want = expected_tokens(ctx.wiki, page)
            if tokens != want:
                out.append(finding("R40", fname, r.line, f"tokens {tokens} differ from the pages' links {want}"))
        if page_type == "Implementation":
            notes = r.cells[4]
            if not any(notes.startswith(f"{k} - ") for k in IMPL_SUBTYPES):
                out.append(finding("R41", fname, r.line, f"Notes {notes[:40]!r} do not start with the sub-type"))
            elif page is not None:
                out.extend(_source_cell(ctx, fname, r.line, r.cells[3], page, notes))
    return out


def _source_cell(ctx: Context, fname: str, line: int, cell: str, page: Page, notes: str) -> list[Finding]:
    loc = source_location(page)
    if notes.startswith("Wrapper Doc"):
        lib = loc.get("Library", ("", 0))[0]
        m = re.match(r"^\[\S+\s+([\w.-]+)\]", lib)
        want = f"{m.group(1)} (external)" if m else None
        if want and cell != want:
            return [finding("R39", fname, line, f"Source {cell!r} should be {want!r}")]
    return []


def _workflow_index(ctx: Context, failed_pages: set[str]) -> list[Finding]:
    wiki = ctx.wiki
    fname = "_WorkflowIndex.md"
    if wiki.workflow_index_error is not None:
        err: WorkflowIndexError = wiki.workflow_index_error
        m = re.search(r":(\d+):", str(err))
        return [finding("R42", fname, int(m.group(1)) if m else None, str(err).split(": ", 1)[-1])]
    wi = wiki.workflow_index
    out = []
    flows = {w.name for w in wiki.of_type("Workflow")}
    if wi is None:
        if flows:
            out.append(finding("R37", fname, None, "workflows/ has pages but _WorkflowIndex.md is missing"))
        return out
    sections = {w.name: w for w in wi.workflows}
    for missing in sorted(flows - set(sections)):
        out.append(finding("R38", fname, None, f"no '## Workflow: {missing}' section"))
    for extra in sorted(set(sections) - flows):
        out.append(finding("R38", fname, sections[extra].line, f"section {extra} has no page in workflows/"))
    impl_of: dict[str, set[str]] = defaultdict(set)
    principles_of: dict[str, set[str]] = defaultdict(set)
    for step in wi.usable_steps:  # an unusable step is held (R42), not part of the mapping
        impl_of[step.principle].add(step.implementation)
        principles_of[step.implementation].add(step.principle)
    for impl, ps in principles_of.items():
        if len(ps) > 1:
            out.append(
                finding("R43", fname, None, f"{impl} is given for {len(ps)} Principles ({', '.join(sorted(ps))})")
            )
    for p, impls in impl_of.items():
        if len(impls) > 1:
            out.append(
                finding("R43", fname, None, f"{p} is given {len(impls)} Implementations ({', '.join(sorted(impls))})")
            )
    out.extend(_evidence(ctx, wi))
    for step in wi.steps:
        if step.status != "✅":
            continue
        if step.problem:
            out.append(
                finding(
                    "R44",
                    fname,
                    step.status_line,
                    f"{step.workflow} step {step.number} is ✅ but cannot be used: {step.problem}",
                )
            )
            continue
        principle = wiki.page("Principle", step.principle)
        implementation = wiki.page("Implementation", step.implementation)
        bad = [
            n
            for n, pg in ((step.principle, principle), (step.implementation, implementation))
            if pg is None or pg.path in failed_pages
        ]
        if bad:
            out.append(
                finding(
                    "R44",
                    fname,
                    step.status_line,
                    f"{step.workflow} step {step.number} is ✅ but {', '.join(bad)} is missing or fails a rule",
                )
            )
    return out


def _evidence(ctx: Context, wi: WorkflowIndex) -> list[Finding]:
    """R51: each ``**Evidence:**`` span of a workflow (discovered indexes, WIKI_FORMAT §7) names a file
    of the source, lies inside it, and calls at least two of the workflow's APIs in step order."""
    fname = "_WorkflowIndex.md"
    out: list[Finding] = []
    for w in wi.workflows:
        for line, value in w.evidence:
            spans, junk = parse_evidence(value)
            if junk is not None:
                out.append(finding("R51", fname, line, f"{w.name}: {junk!r} is not a span (`path` L{{start}}-{{end}})"))
            if ctx.ws is None:
                continue  # no source to read: nothing can be checked, nothing is claimed
            for span in spans:
                why, _ = check_span(ctx.ws, span, list(w.steps))
                if why:
                    out.append(finding("R51", fname, line, f"{w.name}: {why}"))
    return out
