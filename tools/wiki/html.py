"""A wiki page (parsed by tools.wiki.page) as HTML for the review site.

Everything that comes from a page — text written by a model, docstrings, source code — is escaped
first; markup is then added only by matching the escaped text (''' bold, `code`, [[edge::Type:Name]]
links, [url label] links, <math>). Code blocks are highlighted by Pygments. Mermaid diagrams are
shown as their source: the site works offline and carries no script.
"""
from __future__ import annotations

import html
import re
from collections.abc import Callable

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import BashLexer, PythonLexer, TextLexer

from tools.wiki.page import Block, Page, Table

_LINK = re.compile(r"\[\[(\w+)::(\w+):([^\]|]+)\]\]")
_EXT = re.compile(r"\[(https?://[^\s\]]+) ([^\]]+)\]")
_BOLD = re.compile(r"'''(.+?)'''")
_CODE = re.compile(r"`([^`]+)`")
_MATH = re.compile(r"&lt;math&gt;(.+?)&lt;/math&gt;")
_SOURCE = re.compile(r"\[\[source::(\w+)\|([^|\]]+)\|(https?://[^\]]+)\]\]")
_META = re.compile(r"\[\[(domain|last_updated)::([^\]]+)\]\]")
FORMATTER = HtmlFormatter(nowrap=False, cssclass="hl")


def css() -> str:
    return FORMATTER.get_style_defs(".hl")


def _attr(value: str) -> str:
    return value.replace('"', "&quot;").replace("'", "&#x27;")


def inline(text: str, href: Callable[[str, str], str | None]) -> str:
    """One line of page text as HTML. ``href(type, name)`` gives a link target or None."""
    out = html.escape(text, quote=False)  # quotes stay readable; every attribute below is re-escaped

    def link(m: re.Match) -> str:
        edge, kind, name = m.group(1), m.group(2), m.group(3)
        target = href(kind, name)
        label = f'<span class="edge">{edge}</span> {kind}:{name}'
        return f'<a href="{html.escape(target)}">{label}</a>' if target else f'<span class="missing">{label}</span>'

    out = _SOURCE.sub(lambda m: f'{m.group(1)}: <a href="{_attr(m.group(3))}">{m.group(2)}</a>', out)
    out = _META.sub(lambda m: f'<span class="meta">{m.group(2)}</span>', out)
    out = _LINK.sub(link, out)
    out = _EXT.sub(lambda m: f'<a href="{_attr(m.group(1))}">{m.group(2)}</a>', out)
    out = _BOLD.sub(r"<strong>\1</strong>", out)
    out = _CODE.sub(r"<code>\1</code>", out)
    out = _MATH.sub(r'<code class="math">\1</code>', out)
    return out


def _table(t: Table, href) -> str:
    rows = []
    for row in t.rows:
        cells = []
        for cl in row:
            tag = "th" if cl.kind == "!" else "td"
            parts = list(cl.cells or [""])
            if cl.more:
                parts[-1] = parts[-1] + "\n" + "\n".join(cl.more)
            for c in parts:
                lines = c.replace("&#124;", "|").split("\n")
                body = "<br>".join(inline(l.strip().removeprefix("* "), href) for l in lines if l.strip())
                cells.append(f"<{tag}>{body}</{tag}>")
        if cells:
            rows.append("<tr>" + "".join(cells) + "</tr>")
    return '<table class="wikitable">' + "".join(rows) + "</table>"


def _code(b: Block) -> str:
    lexer = {"python": PythonLexer(), "bash": BashLexer()}.get(b.lang or "", TextLexer())
    return highlight("\n".join(b.code), lexer, FORMATTER)


def _text(lines: list[str], href) -> str:
    out, items = [], []
    for line in lines:
        if line.startswith("* "):
            items.append(f"<li>{inline(line[2:], href)}</li>")
            continue
        if items:
            out.append("<ul>" + "".join(items) + "</ul>")
            items = []
        if line.startswith("{{#mermaid:") or line.startswith("}}"):
            continue
        if line.strip():
            out.append(f"<p>{inline(line, href)}</p>")
    if items:
        out.append("<ul>" + "".join(items) + "</ul>")
    return "".join(out)


def page_html(page: Page, href: Callable[[str, str], str | None]) -> str:
    """The page body as HTML, each block tagged with the line it starts on (for findings)."""
    out = []
    mermaid: list[str] | None = None
    for b in page.blocks:
        if mermaid is not None:
            raw = b.render()
            mermaid.extend(raw)
            if any(l.strip() == "}}" for l in raw):
                src = "\n".join(l for l in mermaid if not l.startswith(("{{#mermaid", "}}")))
                out.append(f'<figure class="mermaid-source" id="L{b.line}"><figcaption>Execution diagram '
                           f'(Mermaid source; not rendered offline)</figcaption><pre>{html.escape(src)}</pre></figure>')
                mermaid = None
            continue
        if b.kind == "title":
            out.append(f'<h1 id="L{b.line}">{html.escape(b.lines[0].lstrip("# "))}</h1>')
        elif b.kind == "heading":
            level = min(6, b.level)
            out.append(f'<h{level} id="L{b.line}">{html.escape(b.title)}</h{level}>')
        elif b.kind == "table":
            out.append(f'<div id="L{b.line}" class="{"meta-box" if b is page.metadata else ""}">{_table(b.table, href)}</div>')
        elif b.kind == "code":
            out.append(f'<div id="L{b.line}">{_code(b)}</div>')
        elif b.kind == "text":
            if b.lines and b.lines[0].startswith("{{#mermaid"):
                mermaid = list(b.lines)
                if any(l.strip() == "}}" for l in b.lines):
                    src = "\n".join(l for l in mermaid if not l.startswith(("{{#mermaid", "}}")))
                    out.append(f'<figure class="mermaid-source" id="L{b.line}"><figcaption>Execution diagram '
                               f'(Mermaid source; not rendered offline)</figcaption><pre>{html.escape(src)}</pre></figure>')
                    mermaid = None
                continue
            out.append(f'<div id="L{b.line}">{_text(b.lines, href)}</div>')
    return "\n".join(out)
