"""The tables of docs/page-format.md, generated from the schema the verifier checks against.

The doc is prose written by hand around blocks that this module owns:

    <!-- generated: KEY -->
    ...
    <!-- end generated -->

``render_doc`` rewrites every block from ``tools/wiki/schema.py`` (and the folder map of
``tools/wiki/page.py``), so a section title, edge, index header or sub-type cannot change in the
code without the doc changing with it; tests/test_docs.py fails when the file on disk differs.

    python -m tools.wiki.format_doc            # rewrite the blocks of docs/page-format.md
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

from tools.wiki.page import TYPE_FOLDERS
from tools.wiki.schema import (
    EDGES,
    EXTRA_SOURCE_KINDS,
    IMPL_SUBTYPES,
    IMPLEMENTATION,
    INDEX_FILES,
    INDEX_HEADERS,
    SOURCE_KINDS,
    TOKEN_KINDS,
    PageSchema,
    schema_for,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "page-format.md"
BLOCK = re.compile(r"(<!-- generated: ([^>]+?) -->\n)(.*?)(<!-- end generated -->)", re.S)
PAGE_TYPES = tuple(TYPE_FOLDERS)


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return out + ["| " + " | ".join(r) + " |" for r in rows]


def _titles(titles: tuple[str, ...], level: int) -> str:
    bar = "=" * level
    return ", ".join(f"`{bar} {t} {bar}`" for t in titles) or "—"


def folders() -> list[str]:
    return _table(
        ["Page type", "Folder", "Title line", "Index file", "Token kind"],
        [
            [
                t,
                f"`{TYPE_FOLDERS[t]}/`",
                f"`# {t}: {{Name}}`",
                f"`{INDEX_FILES[t]}`" if t in INDEX_FILES else "`_WorkflowIndex.md` (§7)",
                f"`{TOKEN_KINDS[t]}`",
            ]
            for t in PAGE_TYPES
        ],
    )


def sections(schema: PageSchema) -> list[str]:
    rows = []
    for i, s in enumerate(schema.sections, 1):
        rows.append(
            [
                str(i),
                _titles((s.title,), 2),
                "yes" if s.required else "no (tolerated)",
                _titles(s.children, 3),
                _titles(s.optional_children, 3),
            ]
        )
    return _table(["#", "Level-2 section", "Required", "Required subsections, in order", "Optional subsections"], rows)


def implementation_sections() -> list[str]:
    """One row per level-2 section of any sub-type, one column per sub-type."""
    order: list[str] = []
    for sub in IMPL_SUBTYPES:
        for s in IMPLEMENTATION[sub].sections:
            if s.title not in order:
                order.append(s.title)
    rows = []
    for title in order:
        row = [_titles((title,), 2)]
        for sub in IMPL_SUBTYPES:
            spec = next((s for s in IMPLEMENTATION[sub].sections if s.title == title), None)
            if spec is None:
                row.append("—")
                continue
            cell = _titles(spec.children, 3) if spec.children else "required"
            if spec.optional_children:
                cell += "; optional " + _titles(spec.optional_children, 3)
            row.append(cell)
        rows.append(row)
    return _table(["Level-2 section", *IMPL_SUBTYPES], rows)


def edges() -> list[str]:
    rows = []
    for (source, edge), target in EDGES.items():
        targets = target if isinstance(target, tuple) else (target,)
        rows.append(
            [source, f"`{edge}`", ", ".join(targets), " or ".join(f"`[[{edge}::{t}:{{page}}]]`" for t in targets)]
        )
    return _table(["From", "Edge", "To", "Written as"], rows)


def source_kinds() -> list[str]:
    return _table(
        ["Page type", "Knowledge source kinds"],
        [[t, ", ".join(f"`{k}`" for k in sorted(SOURCE_KINDS | EXTRA_SOURCE_KINDS.get(t, set())))] for t in PAGE_TYPES],
    )


def indexes() -> list[str]:
    return _table(
        ["Index file", "Rows for", "Header"],
        [
            [f"`{fname}`", f"`{TYPE_FOLDERS[t]}/`", "`| " + " | ".join(INDEX_HEADERS[t]) + " |`"]
            for t, fname in INDEX_FILES.items()
        ],
    )


def _schema_block(page_type: str) -> Callable[[], list[str]]:
    def block() -> list[str]:
        schema = schema_for(page_type)
        assert schema is not None  # every page type but Implementation has one schema
        return sections(schema)

    return block


BLOCKS: dict[str, Callable[[], list[str]]] = {
    "folders": folders,
    "source kinds": source_kinds,
    **{f"sections {t}": _schema_block(t) for t in PAGE_TYPES if t != "Implementation"},
    "sections Implementation": implementation_sections,
    "edges": edges,
    "indexes": indexes,
}


def render_doc(text: str) -> str:
    """``text`` with every generated block rewritten; an unknown key is an error."""

    def fill(m: re.Match[str]) -> str:
        key = m.group(2)
        if key not in BLOCKS:
            raise ValueError(f"docs/page-format.md: unknown generated block {key!r}; known: {', '.join(BLOCKS)}")
        return m.group(1) + "\n".join(BLOCKS[key]()) + "\n" + m.group(4)

    return BLOCK.sub(fill, text)


def block_keys(text: str) -> list[str]:
    return [m.group(2) for m in BLOCK.finditer(text)]


def main() -> int:
    text = DOC.read_text(encoding="utf-8")
    new = render_doc(text)
    if new != text:
        DOC.write_text(new, encoding="utf-8")
        print(f"rewrote {DOC}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
