"""Regenerate the four page indexes from the pages on disk (WIKI_FORMAT §6), and set the
step statuses of ``_WorkflowIndex.md``. Notes are the one free column: kept from the existing
index (or given by the caller), everything else is derived from the pages."""

from __future__ import annotations

import re

from tools.wiki.render import render_index
from tools.wiki.load import Wiki
from tools.wiki.schema import INDEX_FILES, INDEX_HEADERS, TOKEN_KINDS
from tools.wiki.page import TYPE_FOLDERS, Page, source_location
from tools.wiki.workflow_index import WorkflowIndex, cell_spans, split_row

BLURBS = {
    "Principle": "Principle pages of this wiki, their one Implementation, and the Workflows that use them.",
    "Implementation": "Implementation pages of this wiki, the pages they link to, and where their code lives.",
    "Environment": "Environment pages of this wiki and the Implementations that require them.",
    "Heuristic": "Heuristic pages of this wiki and the pages that use them.",
}


def expected_tokens(wiki: Wiki, page: Page) -> list[str]:
    """The Connections tokens of a page's index row, derived from the links (WIKI_FORMAT §6)."""

    def tok(kind: str, name: str) -> str:
        exists = wiki.page(kind, name) is not None
        return f"{'✅' if exists else '⬜'}{TOKEN_KINDS[kind]}:{name}"

    if page.type == "Principle":
        impl = [tok("Implementation", l.target) for l in page.links if l.edge == "implemented_by"]
        flows = sorted(
            {
                w.name
                for w in wiki.of_type("Workflow")
                if any(l.edge == "step" and l.target == page.name for l in w.links)
            }
        )
        return impl + [tok("Workflow", w) for w in flows]
    if page.type == "Implementation":
        out = [tok("Principle", l.target) for l in page.links if l.edge == "implements"]
        out += [tok("Environment", l.target) for l in page.links if l.edge == "requires_env"]
        out += [tok("Heuristic", l.target) for l in page.links if l.edge == "uses_heuristic"]
        return out
    edge = "requires_env" if page.type == "Environment" else "uses_heuristic"
    return [
        tok(p.type, p.name)
        for p in sorted(wiki.pages.values(), key=lambda p: p.name)
        if p.type is not None and any(l.edge == edge and l.target == page.name for l in p.links)
    ]


def source_cell(wiki: Wiki, page: Page) -> str:

    loc = source_location(page)
    if "File" in loc and "Lines" in loc:
        return f"{loc['File'][0]}:{loc['Lines'][0]}"
    m = re.match(r"^\[\S+\s+([\w.-]+)\]", loc.get("Library", ("", 0))[0])
    return f"{m.group(1)} (external)" if m else "—"


def _old_notes(wiki: Wiki, page_type: str) -> dict[str, str]:
    table = wiki.indexes.get(page_type)
    if table is None or not table.header or "Notes" not in table.header:
        return {}
    col = table.header.index("Notes")
    return {r.cells[0]: r.cells[col] for r in table.rows if len(r.cells) > col}


def render_indexes(wiki: Wiki, notes: dict[str, str] | None = None) -> dict[str, str]:
    """The text of each index file that has pages (or already exists), by file name."""
    notes = notes or {}
    out = {}
    for page_type, fname in INDEX_FILES.items():
        pages = sorted(wiki.of_type(page_type), key=lambda p: p.name)
        if not pages and page_type not in wiki.indexes:
            continue
        old = _old_notes(wiki, page_type)
        rows = []
        for p in pages:
            note = notes.get(p.name) or old.get(p.name) or ""
            if page_type == "Implementation":
                subtype = wiki.subtype(p)
                if not note.startswith(f"{subtype} - "):
                    note = f"{subtype} - {note or p.name.removeprefix(wiki.repo + '_').replace('_', ' ')}"
            cells = [p.name, f"[→](./{TYPE_FOLDERS[page_type]}/{p.name}.md)", ", ".join(expected_tokens(wiki, p))]
            if page_type == "Implementation":
                cells.append(source_cell(wiki, p))
            cells.append(_clean(note) or "—")
            rows.append(cells)
        out[fname] = render_index(page_type, wiki.repo, BLURBS[page_type], INDEX_HEADERS[page_type], rows)
    return out


def _clean(note: str) -> str:
    return " ".join(note.replace("|", "/").replace("---", "-").split())


def with_statuses(text: str, wi: WorkflowIndex, done: set[tuple[str, int]]) -> str:
    """``_WorkflowIndex.md`` with each step's Status set: ✅ for (workflow, step) in ``done``, else ⬜.
    Adds a Status column to a Steps Overview that has none (kapso's phase-1a shape)."""
    lines = text.split("\n")
    headers: dict[int, list[str]] = {}  # header line -> its cells as the input wrote them
    for wf in wi.workflows:
        for step in wf.steps:
            if step.status_line is None:
                continue
            i = step.status_line - 1
            header_i = _header_above(lines, i)
            if header_i not in headers:
                headers[header_i] = [c.strip() for c in split_row(lines[header_i])]
                if "Status" not in headers[header_i]:
                    lines[header_i] = lines[header_i].rstrip() + " Status |"
                    if header_i + 1 < len(lines) and lines[header_i + 1].lstrip().startswith("|"):
                        lines[header_i + 1] = lines[header_i + 1].rstrip() + "--------|"
            header = headers[header_i]
            mark = "✅" if (wf.name, step.number) in done else "⬜"
            spans = cell_spans(lines[i])
            if "Status" not in header:
                # the new column comes after the header's last cell: pad a short row first
                missing = max(0, len(header) - len(spans))
                lines[i] = lines[i].rstrip() + " — |" * missing + f" {mark} |"
                continue
            col = header.index("Status")
            if col < len(spans):
                a, b = spans[col]
                lines[i] = f"{lines[i][:a]} {mark} {lines[i][b:]}"
            else:
                lines[i] = lines[i].rstrip() + " — |" * (col - len(spans)) + f" {mark} |"
    return "\n".join(lines)


def _header_above(lines: list[str], i: int) -> int:
    j = i
    while j > 0 and lines[j - 1].lstrip().startswith("|"):
        j -= 1
    return j


def without_workflows(text: str, names: set[str]) -> str:
    """``_WorkflowIndex.md`` without the sections (and Summary rows) of the named workflows: a
    committed wiki lists only workflows whose page it has (R38)."""
    if not names:
        return text
    out: list[str] = []
    skipping = False
    for line in text.split("\n"):
        if line.startswith("## ") or line.startswith("**Legend:**"):
            skipping = line.startswith("## Workflow:") and line.removeprefix("## Workflow:").strip() in names
        if skipping:
            continue
        if line.lstrip().startswith("|"):
            cells = [c.strip() for c in split_row(line)]
            if cells and cells[0] in names:
                continue
        out.append(line)
    return "\n".join(out)


def section_texts(text: str) -> dict[str, str]:
    """The ``## Workflow: X`` sections of a WorkflowIndex text, by name (heading to the next level-2
    heading, rule or legend)."""
    out: dict[str, str] = {}
    current, buf = None, []
    for line in text.split("\n"):
        if line.startswith("## ") or line.startswith("**Legend:**"):
            if current is not None:
                out[current] = "\n".join(buf).rstrip("\n-").rstrip()
            current = line.removeprefix("## Workflow:").strip() if line.startswith("## Workflow:") else None
            buf = [line] if current else []
        elif current is not None:
            buf.append(line)
    if current is not None:
        out[current] = "\n".join(buf).rstrip()
    return out


def with_kept_sections(text: str, old: str | None, names: set[str]) -> str:
    """``text`` plus the sections of ``old`` for the named workflows (pages of the wiki that this
    run's WorkflowIndex does not list): the wiki's index keeps listing every workflow page (R38)."""
    if not old or not names:
        return text
    kept = section_texts(old)
    extra = [kept[n] for n in sorted(names) if n in kept]
    if not extra:
        return text
    lines = text.rstrip("\n").split("\n")
    legend = next((i for i, l in enumerate(lines) if l.startswith("**Legend:**")), len(lines))
    block = "\n\n---\n\n".join(extra)
    return "\n".join(lines[:legend]).rstrip() + "\n\n---\n\n" + block + "\n\n" + "\n".join(lines[legend:]) + "\n"
