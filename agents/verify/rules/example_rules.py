"""Rules on an Implementation page's usage examples as programs: R45 (self-contained), R46 (calls of
the documented API bind, API Doc only), R47 (no unused import, a warning)."""

from __future__ import annotations


from agents.verify.findings import Finding, finding
from agents.verify.context import Context
from agents.verify.rules.fact_rules import page_symbol
from tools.examples.check import CallTarget, call_problems, call_target, compile_problem, unbound_names, unused_imports
from tools.wiki.page import Page
from tools import pyast


def _example_blocks(page: Page) -> list[tuple[int, str]]:
    """(line of the block's opening tag, code) of each python block under Usage Examples."""
    out: list[tuple[int, str]] = []
    for s in page.sections:
        if s.level == 3 and s.parent == "Usage Examples":
            out.extend((b.line, "\n".join(b.code)) for b in s.code() if b.lang == "python")
    return out


def _documented_target(ctx: Context, page: Page) -> CallTarget | None:
    """The call target of an API Doc page's documented symbol; None when the page does not say
    which one it is (R22/R23 report that)."""
    if ctx.ws is None:
        return None
    sym = page_symbol(ctx.ws, page)
    return call_target(ctx.ws, sym) if sym is not None else None


def check_examples(ctx: Context, page: Page) -> list[Finding]:
    if page.type != "Implementation":
        return []
    blocks = _example_blocks(page)
    target = _documented_target(ctx, page) if blocks and ctx.wiki.subtype(page) == "API Doc" else None
    out: list[Finding] = []
    for line, code in blocks:
        try:
            pyast.parse(code)
        except (SyntaxError, ValueError):
            continue  # R8
        problem = compile_problem(code)
        if problem is not None:
            out.append(finding("R45", page.path, line + problem[0], f"Python rejects the example: {problem[1]}"))
        for at, name in unbound_names(code):
            out.append(finding("R45", page.path, line + at, f"{name!r} is used but never imported or assigned"))
        for at, name in unused_imports(code):
            out.append(finding("R47", page.path, line + at, f"{name!r} is imported but never used"))
        if target is not None:
            for at, message in call_problems(code, target):
                out.append(finding("R46", page.path, line + at, f"the call does not bind: {message}"))
    return out
