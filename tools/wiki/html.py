"""A wiki page (parsed by tools.wiki.page) as HTML for the review site.

The page becomes plain records — blocks, and for each line of text a tree of inline nodes (''' bold,
`code`, <math>, [[edge::Type:Name]] links, [url label] links, [[source::…]] links, metadata values) —
and prompts/site/body.html.j2 writes them with autoescape on: every text from a page (prose written
by a model, docstrings, names) reaches the HTML escaped, whatever it contains. The only HTML made
here is Pygments' highlighting, which escapes the code itself. Mermaid diagrams are shown as their
source: the site works offline and carries no script.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from dataclasses import dataclass
from typing import Literal

from markupsafe import Markup
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import BashLexer, PythonLexer, TextLexer

from prompts import html_env
from tools.wiki.page import Block, Page, Table

Href = Callable[[str, str], str | None]  # (page type, page name) -> link target, None: no such page

_LINK = re.compile(r"\[\[(\w+)::(\w+):([^\]|]+)\]\]")
_EXT = re.compile(r"\[(https?://[^\s\]]+) ([^\]]+)\]")
_SOURCE = re.compile(r"\[\[source::(\w+)\|([^|\]]+)\|(https?://[^\]]+)\]\]")
_META = re.compile(r"\[\[(domain|last_updated)::([^\]]+)\]\]")
SpanKind = Literal["strong", "code", "math", "meta"]
# Each over the whole line, in this order: a later span may enclose an earlier one (`a '''b''' c`).
_SPANS: tuple[tuple[re.Pattern[str], SpanKind], ...] = (
    (re.compile(r"'''(.+?)'''"), "strong"),
    (re.compile(r"`([^`]+)`"), "code"),
    (re.compile(r"<math>(.+?)</math>"), "math"),
)
_OPAQUE = "\x00"  # stands for a node while a span pattern runs over a line: none of the patterns names it
FORMATTER = HtmlFormatter(nowrap=False, cssclass="hl")


@dataclass(frozen=True)
class Text:
    text: str
    kind: Literal["text"] = "text"


@dataclass(frozen=True)
class Span:
    """'''bold''', `code`, <math>…</math>, or the value of [[domain::…]] / [[last_updated::…]]."""

    kind: SpanKind
    children: tuple[Inline, ...]


@dataclass(frozen=True)
class WikiLink:
    """[[edge::Type:Name]]; without a target (the run has no such page) it is shown as missing."""

    edge: str
    type: str
    name: str
    href: str | None
    kind: Literal["link"] = "link"


@dataclass(frozen=True)
class WebLink:
    """[url label], and the link of [[source::Kind|label|url]]."""

    url: str
    label: tuple[Inline, ...]
    kind: Literal["web"] = "web"


Inline = Text | Span | WikiLink | WebLink
Line = tuple[Inline, ...]


@dataclass(frozen=True)
class Heading:
    line: int  # every block carries the page line it starts on: findings link to #L<line>
    level: int
    text: str
    kind: Literal["heading"] = "heading"


@dataclass(frozen=True)
class Cell:
    header: bool
    lines: tuple[Line, ...]  # shown one under the other


@dataclass(frozen=True)
class TableBlock:
    line: int
    meta: bool  # the page's metadata box (floated beside the text)
    rows: tuple[tuple[Cell, ...], ...]
    kind: Literal["table"] = "table"


@dataclass(frozen=True)
class CodeBlock:
    line: int
    html: Markup  # Pygments' highlighting (it escapes the code)
    kind: Literal["code"] = "code"


@dataclass(frozen=True)
class Paragraph:
    text: Line
    kind: Literal["p"] = "p"


@dataclass(frozen=True)
class Bullets:
    items: tuple[Line, ...]
    kind: Literal["ul"] = "ul"


@dataclass(frozen=True)
class TextBlock:
    line: int
    parts: tuple[Paragraph | Bullets, ...]
    kind: Literal["text"] = "text"


@dataclass(frozen=True)
class Diagram:
    line: int
    source: str  # the Mermaid source, shown as text
    kind: Literal["mermaid"] = "mermaid"


BodyBlock = Heading | TableBlock | CodeBlock | TextBlock | Diagram


@lru_cache(maxsize=1)
def css() -> Markup:
    """Pygments' stylesheet for the highlighted code: made from its style, no page data in it (so
    made once, not once per page of the site)."""
    return Markup(FORMATTER.get_style_defs(".hl"))


def _split(text: str, pattern: re.Pattern[str], make: Callable[[re.Match[str]], list[Inline]]) -> list[str | Inline]:
    out: list[str | Inline] = []
    at = 0
    for m in pattern.finditer(text):
        out += [text[at : m.start()], *make(m)]
        at = m.end()
    out.append(text[at:])
    return out


def _atoms(text: str, href: Href) -> list[Inline]:
    """The line's links and metadata values as nodes, the text around them as Text. Each pattern runs
    over what the earlier ones left, so [[source::…]] wins over [[edge::Type:Name]]."""
    makers: list[tuple[re.Pattern[str], Callable[[re.Match[str]], list[Inline]]]] = [
        (_SOURCE, lambda m: [Text(f"{m[1]}: "), WebLink(m[3], (Text(m[2]),))]),
        (_META, lambda m: [Span("meta", (Text(m[2]),))]),
        (_LINK, lambda m: [WikiLink(m[1], m[2], m[3], href(m[2], m[3]))]),
        (_EXT, lambda m: [WebLink(m[1], (Text(m[2]),))]),
    ]
    pieces: list[str | Inline] = [text]
    for pattern, make in makers:
        pieces = [q for p in pieces for q in (_split(p, pattern, make) if isinstance(p, str) else [p])]
    return [Text(p) if isinstance(p, str) else p for p in pieces if p != ""]


def _regroup(units: Sequence[str | Inline], deeper: Callable[[Inline], Inline] | None) -> list[Inline]:
    """Characters and nodes back into nodes: a run of characters is one Text."""
    out: list[Inline] = []
    chars: list[str] = []
    for u in units:
        if isinstance(u, str):
            chars.append(u)
            continue
        if chars:
            out.append(Text("".join(chars)))
            chars = []
        out.append(deeper(u) if deeper is not None else u)
    if chars:
        out.append(Text("".join(chars)))
    return out


def _span_pass(nodes: Sequence[Inline], pattern: re.Pattern[str], kind: SpanKind) -> Line:
    """One span pattern over a run of nodes as if over one string: a node that is not text counts as
    one character, so a span may enclose a link but never cut one. Nodes the pattern did not consume
    get the same pass inside (a link's label, an earlier span); a new span's content does not (re.sub)."""

    def deeper(n: Inline) -> Inline:
        if isinstance(n, Span):
            return Span(n.kind, _span_pass(n.children, pattern, kind))
        if isinstance(n, WebLink):
            return WebLink(n.url, _span_pass(n.label, pattern, kind))
        return n

    flat = "".join(n.text if isinstance(n, Text) else _OPAQUE for n in nodes)
    matches = list(pattern.finditer(flat))
    if not matches:  # most lines: no need to take the text apart
        return tuple(deeper(n) for n in nodes)
    units: list[str | Inline] = [u for n in nodes for u in (list(n.text) if isinstance(n, Text) else [n])]
    out: list[Inline] = []
    at = 0
    for m in matches:
        out += _regroup(units[at : m.start()], deeper)
        out.append(Span(kind, tuple(_regroup(units[m.start(1) : m.end(1)], None))))
        at = m.end()
    out += _regroup(units[at:], deeper)
    return tuple(out)


def inline(text: str, href: Href) -> Line:
    """One line of page text as inline nodes."""
    nodes: Line = tuple(_atoms(text, href))
    for pattern, kind in _SPANS:
        nodes = _span_pass(nodes, pattern, kind)
    return nodes


def _table(t: Table, href: Href) -> tuple[tuple[Cell, ...], ...]:
    rows = []
    for row in t.rows:
        cells = []
        for cl in row:
            parts = list(cl.cells or [""])
            if cl.more:
                parts[-1] = parts[-1] + "\n" + "\n".join(cl.more)
            for c in parts:
                lines = c.replace("&#124;", "|").split("\n")
                cells.append(
                    Cell(
                        cl.kind == "!", tuple(inline(ln.strip().removeprefix("* "), href) for ln in lines if ln.strip())
                    )
                )
        if cells:
            rows.append(tuple(cells))
    return tuple(rows)


def _code(b: Block) -> Markup:
    lexer = {"python": PythonLexer(), "bash": BashLexer()}.get(b.lang or "", TextLexer())
    return Markup(highlight("\n".join(b.code), lexer, FORMATTER))


def _text(lines: Sequence[str], href: Href) -> tuple[Paragraph | Bullets, ...]:
    out: list[Paragraph | Bullets] = []
    items: list[Line] = []
    for line in lines:
        if line.startswith("* "):
            items.append(inline(line[2:], href))
            continue
        if items:
            out.append(Bullets(tuple(items)))
            items = []
        if line.startswith("{{#mermaid:") or line.startswith("}}"):
            continue
        if line.strip():
            out.append(Paragraph(inline(line, href)))
    if items:
        out.append(Bullets(tuple(items)))
    return tuple(out)


def _diagram(line: int, lines: Sequence[str]) -> Diagram:
    return Diagram(line, "\n".join(ln for ln in lines if not ln.startswith(("{{#mermaid", "}}"))))


def body_blocks(page: Page, href: Href) -> list[BodyBlock]:
    """The page's blocks as records for the template, in page order."""
    out: list[BodyBlock] = []
    mermaid: list[str] | None = None  # a diagram's lines while its blocks are read
    for b in page.blocks:
        if mermaid is not None:
            raw = b.render()
            mermaid.extend(raw)
            if any(ln.strip() == "}}" for ln in raw):
                out.append(_diagram(b.line, mermaid))
                mermaid = None
            continue
        if b.kind == "title":
            out.append(Heading(b.line, 1, b.lines[0].lstrip("# ")))
        elif b.kind == "heading":
            out.append(Heading(b.line, min(6, b.level), b.title))
        elif b.kind == "table" and b.table is not None:
            out.append(TableBlock(b.line, b is page.metadata, _table(b.table, href)))
        elif b.kind == "code":
            out.append(CodeBlock(b.line, _code(b)))
        elif b.kind == "text":
            if b.lines and b.lines[0].startswith("{{#mermaid"):
                if any(ln.strip() == "}}" for ln in b.lines):
                    out.append(_diagram(b.line, b.lines))
                else:
                    mermaid = list(b.lines)
                continue
            out.append(TextBlock(b.line, _text(b.lines, href)))
    return out


def page_html(page: Page, href: Href) -> Markup:
    """The page body as HTML, each block tagged with the line it starts on (for findings)."""
    return Markup(html_env().get_template("body.html.j2").render(blocks=body_blocks(page, href)))
