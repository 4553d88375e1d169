"""R48: an API Doc's parameter descriptions come from the source when the source has them.

A row that says a parameter is undocumented (or says nothing) while the docstring, a base's
docstring or a dataclass field's ``help`` documents it throws away what the reader needs most.
What counts as documented is ``tools.index.param_docs.documented_params``, the same function the
drafter writes from.
"""

from __future__ import annotations

import re

from agents.verify.findings import Finding, finding
from tools.index.param_docs import documented_params
from agents.verify.context import Context
from agents.verify.rules.fact_rules import page_symbol
from tools.index.records import Symbol
from tools.wiki.page import Page

_TAIL = re.compile(r"\s*Default: `.*`\.\s*$", re.S)
_UNDOCUMENTED = re.compile(
    r"\bundocumented\b|\bnot documented\b|\bno (?:source )?(?:description|documentation)\b", re.I
)


def row_text(description: str) -> str:
    """An Inputs Description without the ``Default: `x`.`` the row ends with."""
    return _TAIL.sub("", description).strip()


def says_undocumented(description: str) -> bool:
    """The row gives the reader nothing: empty, or it says the parameter is undocumented."""
    text = row_text(description)
    return not text.strip(" .—-") or _UNDOCUMENTED.search(text) is not None


def api_doc_symbol(ctx: Context, page: Page) -> Symbol | None:
    """The symbol an API Doc page documents, found as R23 finds it (File, Lines, Signature);
    None when the location does not resolve (R22/R23 report that)."""
    return page_symbol(ctx.ws, page) if ctx.ws is not None else None


def check_param_docs(ctx: Context, page: Page) -> list[Finding]:
    if page.type != "Implementation" or ctx.wiki.subtype(page) != "API Doc":
        return []
    sym = api_doc_symbol(ctx, page)
    sec = page.section("Inputs", level=3)
    if ctx.ws is None or sym is None or sec is None or not sec.tables():
        return []
    docs = documented_params(ctx.ws, sym)
    out: list[Finding] = []
    for line, cells in sec.tables()[0].data_rows():
        if len(cells) != 4 or not says_undocumented(cells[3]):
            continue
        source = " ".join(docs.get(cells[0], "").split())
        if source:
            said = source if len(source) <= 80 else source[:80].rsplit(" ", 1)[0] + " …"
            out.append(
                finding(
                    "R48",
                    page.path,
                    line,
                    f"{cells[0]}: the source documents it ({said!r}) but the Description does not say it",
                )
            )
    return out
