"""Read a wiki page (MediaWiki markup, WIKI_FORMAT.md §3) into blocks, and render it back.

A page is a list of blocks (title, heading, table, code, text, blank), each with the line it
starts on. Sections, links, code blocks and the metadata block are views over those blocks.
Rendering the blocks gives the page's text back for canonically formatted pages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

FOLDER_TYPES = {
    "workflows": "Workflow",
    "principles": "Principle",
    "implementations": "Implementation",
    "environments": "Environment",
    "heuristics": "Heuristic",
}
TYPE_FOLDERS = {v: k for k, v in FOLDER_TYPES.items()}


def page_path(page_type: str, name: str) -> str:
    """The wiki-relative path of a page: ``page_path("Principle", "huggingface_peft_X")`` → principles/huggingface_peft_X.md."""
    return f"{TYPE_FOLDERS[page_type]}/{name}.md"


LINK_RE = re.compile(r"\[\[(\w+)::(\w+):([^\]]+)\]\]")
SOURCE_RE = re.compile(r"\[\[source::(\w+)\|([^|]+)\|([^\]]+)\]\]")
DOMAIN_RE = re.compile(r"\[\[domain::([^\]]*)\]\]")
UPDATED_RE = re.compile(r"\[\[last_updated::([^\]]*)\]\]")
HEADING_RE = re.compile(r"^(={2,4})\s*(.*?)\s*\1\s*$")
CODE_OPEN_RE = re.compile(r"^\s*<syntaxhighlight(?:\s+lang=\"([^\"]*)\")?[^>]*>\s*$")
CODE_CLOSE = "</syntaxhighlight>"


def unescape_cell(text: str) -> str:
    return text.replace("&#124;", "|").strip()


def escape_cell(text: str) -> str:
    return text.replace("|", "&#124;")


@dataclass
class CellLine:
    """One line of a table row: cells of one kind ('!' header, '|' data) and continuation lines."""

    kind: Literal["!", "|"]
    cells: list[str]
    more: list[str] = field(default_factory=list)  # following lines that belong to the last cell

    def render(self) -> list[str]:
        sep = " !! " if self.kind == "!" else " || "
        body = sep.join(self.cells)
        return [self.kind + (" " + body if body else "")] + self.more


@dataclass
class Table:
    line: int
    opener: str
    rows: list[list[CellLine]]  # rows separated by '|-'
    lead_separator: bool  # '|-' right after the opener
    end_line: int = 0
    closed: bool = True

    def render(self) -> list[str]:
        out = [self.opener]
        for i, row in enumerate(self.rows):
            if i > 0 or self.lead_separator:
                out.append("|-")
            for cl in row:
                out.extend(cl.render())
        if self.closed:
            out.append("|}")
        return out

    @property
    def header(self) -> list[str]:
        for row in self.rows:
            cells = [c for cl in row if cl.kind == "!" for c in cl.cells]
            if cells:
                return [unescape_cell(c) for c in cells]
        return []

    def data_rows(self) -> list[tuple[int, list[str]]]:
        """(line, cells) of every data row, cells unescaped; raw '|' splits cells, as a reader sees them."""
        out = []
        line = self.line + (2 if self.lead_separator else 1)
        for row in self.rows:
            cells: list[str] = []
            start = line
            for cl in row:
                if cl.kind == "|":
                    cells.extend(unescape_cell(c) for c in (cl.cells or [""]))
                    if cl.more:
                        cells[-1] = (cells[-1] + "\n" + "\n".join(cl.more)).strip()
                line += 1 + len(cl.more)
            if cells:
                out.append((start, cells))
            line += 1  # the '|-' that follows
        return out


@dataclass
class Block:
    kind: Literal["title", "heading", "table", "code", "text", "blank"]
    line: int  # 1-based line of the block's first line
    lines: list[str] = field(default_factory=list)  # raw lines (text, blank, title, heading)
    level: int = 0  # headings
    title: str = ""  # headings
    table: Table | None = None
    lang: str | None = None  # code
    code: list[str] = field(default_factory=list)  # code
    opener: str = ""  # code
    closed: bool = True  # code

    def render(self) -> list[str]:
        if self.kind == "table":
            assert self.table is not None  # parse_page gives every table block its table
            return self.table.render()
        if self.kind == "code":
            return [self.opener] + self.code + ([CODE_CLOSE] if self.closed else [])
        return self.lines

    @property
    def end_line(self) -> int:
        return self.line + len(self.render()) - 1


@dataclass
class Link:
    edge: str
    target_type: str
    target: str
    line: int


@dataclass
class Section:
    level: int
    title: str
    line: int
    blocks: list[Block]  # blocks under the heading, up to the next heading of any level
    parent: str | None = None  # the level-2 title above a level-3 section

    def text(self) -> str:
        return "\n".join(line for b in self.blocks for line in b.render())

    def tables(self) -> list[Table]:
        return [b.table for b in self.blocks if b.kind == "table" and b.table is not None]

    def code(self) -> list[Block]:
        return [b for b in self.blocks if b.kind == "code"]


@dataclass
class Page:
    path: str  # relative to the wiki root, posix
    blocks: list[Block]
    trailing_newline: bool = True

    @property
    def folder(self) -> str:
        return self.path.split("/")[0] if "/" in self.path else ""

    @property
    def type(self) -> str | None:
        return FOLDER_TYPES.get(self.folder)

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1].removesuffix(".md")

    def render(self) -> str:
        text = "\n".join(line for b in self.blocks for line in b.render())
        return text + ("\n" if self.trailing_newline else "")

    @cached_property
    def lines(self) -> list[str]:
        return self.render().splitlines()

    @cached_property
    def sections(self) -> list[Section]:
        out: list[Section] = []
        current: Section | None = None
        parent2: str | None = None
        for b in self.blocks:
            if b.kind == "heading":
                if b.level == 2:
                    parent2 = b.title
                current = Section(b.level, b.title, b.line, [], parent2 if b.level > 2 else None)
                out.append(current)
            elif current is not None:
                current.blocks.append(b)
        return out

    def section(self, title: str, level: int | None = None, parent: str | None = None) -> Section | None:
        for s in self.sections:
            if s.title == title and (level is None or s.level == level) and (parent is None or s.parent == parent):
                return s
        return None

    @cached_property
    def links(self) -> list[Link]:
        return [
            Link(m.group(1), m.group(2), m.group(3), i)
            for i, line in enumerate(self.lines, 1)
            for m in LINK_RE.finditer(line)
        ]

    @property
    def code_blocks(self) -> list[Block]:
        return [b for b in self.blocks if b.kind == "code"]

    @property
    def metadata(self) -> Block | None:
        """The first table after the title, when it is the first non-blank block."""
        for b in self.blocks[1:]:
            if b.kind == "blank":
                continue
            return b if b.kind == "table" else None
        return None


def parse_page(text: str, path: str) -> Page:
    lines = text.split("\n")
    trailing = text.endswith("\n")
    if trailing:
        lines = lines[:-1]
    blocks: list[Block] = []
    i = 0
    n = len(lines)
    while i < n:
        line = lines[i]
        no = i + 1
        if i == 0 and line.startswith("# "):
            blocks.append(Block("title", no, [line]))
            i += 1
            continue
        m = HEADING_RE.match(line)
        if m and line.startswith("="):
            blocks.append(Block("heading", no, [line], level=len(m.group(1)), title=m.group(2)))
            i += 1
            continue
        cm = CODE_OPEN_RE.match(line)
        if cm:
            j = i + 1
            while j < n and lines[j].strip() != CODE_CLOSE:
                j += 1
            closed = j < n
            blocks.append(Block("code", no, lang=cm.group(1), code=lines[i + 1 : j], opener=line, closed=closed))
            i = j + 1 if closed else n
            continue
        if line.startswith("{|"):
            table, i = _parse_table(lines, i)
            blocks.append(Block("table", no, table=table))
            continue
        if not line.strip():
            blocks.append(Block("blank", no, [line]))
            i += 1
            continue
        if blocks and blocks[-1].kind == "text":
            blocks[-1].lines.append(line)
        else:
            blocks.append(Block("text", no, [line]))
        i += 1
    return Page(path, blocks, trailing)


def _parse_table(lines: list[str], i: int) -> tuple[Table, int]:
    table = Table(i + 1, lines[i], [], False)
    j = i + 1
    row: list[CellLine] | None = None
    while j < len(lines):
        line = lines[j]
        if line.startswith("|}"):
            if row is not None:
                table.rows.append(row)
            table.end_line = j + 1
            return table, j + 1
        if line.startswith("|-"):
            if row is None and not table.rows:
                table.lead_separator = True
            elif row is not None:
                table.rows.append(row)
            row = []
        elif line.startswith("!") or line.startswith("|"):
            kind: Literal["!", "|"] = "!" if line.startswith("!") else "|"
            body = line[1:].strip() if len(line) > 1 else ""
            sep = "!!" if kind == "!" else "||"
            cells = [c.strip() for c in body.split(sep)] if body else []
            if row is None:
                row = []
            row.append(CellLine(kind, cells))
        else:
            if row is None:
                row = []
            if row:
                row[-1].more.append(line)
            else:
                row.append(CellLine("|", [], [line]))
        j += 1
    if row is not None:
        table.rows.append(row)
    table.closed = False
    table.end_line = len(lines)
    return table, j


def source_location(page: Page) -> dict[str, tuple[str, int]]:
    """The '''Key:''' bullets of the Source Location subsection, with their lines."""
    sec = page.section("Source Location", level=3)
    out: dict[str, tuple[str, int]] = {}
    if sec is None:
        return out
    for b in sec.blocks:
        for j, line in enumerate(b.render()):
            m = re.match(r"^\*\s*'''([^:']+):'''\s*(.*)$", line)
            if m:
                out[m.group(1).strip()] = (m.group(2).strip(), b.line + j)
    return out
