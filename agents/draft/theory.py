"""A Principle's Theoretical Basis, written offline from the source: what is computed and where.

The computation of a step is found along the chain of definitions its API hands the work to
(tools.index.callees), at the level of the idea (tools.index.outline): the formulas of the statements that
do the arithmetic, each with a legend of what its symbols stand for in the code, or the work loop with its
operations in order, and the maths the docstrings state. Each is tied to the file and lines that compute it.
When the source holds none of these, the section says in one sentence what the work definition does, from
its docstring, its return value or the step's own words. It never narrates statements, and says nothing
about how the page was made.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from agents.draft import docwords as dw
from agents.draft.text import lower_first, plain
from tools.index.callees import Link
from tools.index.docstrings import returns_doc
from tools.index.outline import words as code_words
from tools.index.records import Symbol
from tools.index.outline import Formula, Loop
from tools.sentences import terminated

Deny = tuple[set[str], set[str]]


def where(sym_file: str, start: int, end: int) -> str:
    """``src/peft/x.py, L10-14`` (one line: ``L10``)."""
    return f"{sym_file}, L{start}" + (f"-{end}" if end != start else "")


class Naming(NamedTuple):
    """How a page names the code of its API: by qualified name and file in the repository; for another
    package's API (a Wrapper Doc's step), by module-qualified name, so that every name on the page says
    where it comes from (R50 checks names against the repository and what it imports)."""

    external: bool = False

    def name(self, sym: Symbol) -> str:
        return f"{sym.module}.{sym.qualname}" if self.external else sym.qualname

    def place(self, sym: Symbol, start: int, end: int) -> str:
        return where(sym.module if self.external else sym.file, start, end)


LOCAL = Naming()


def _tex(formula: str) -> str:
    return re.sub(r"\[\[|\]\]|\{\||\|\}|</?math>", "", formula)


def _code(text: str) -> str:
    return "`" + text.removeprefix("self.").replace("`", "") + "`"


def _legend(f: Formula) -> str:
    items = [f"<math>{_tex(sym)}</math> is {_code(code)}" for sym, code in f.legend]
    if not items:
        return ""
    return " where " + (items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1])


def _doing(sym: Symbol, deny: Deny, nm: Naming) -> str:
    """ "`Linear.get_delta_weight` computes the delta weight for the given adapter", or the name alone."""
    g = dw.gist(sym.docstring, deny)
    return f"`{nm.name(sym)}` {g.verb}" if g is not None and g.verb else f"`{nm.name(sym)}`"


def formula_sentence(f: Formula, entry: Symbol, deny: Deny, nm: Naming = LOCAL) -> str:
    """One formula, what its definition does, where it is, and what its symbols are (another package's
    code names are left out of the legend: the page cannot check them)."""
    who = _doing(f.symbol, deny, nm) if f.symbol.qualname != entry.qualname else f"`{nm.name(entry)}`"
    legend = "" if nm.external else _legend(f)
    return terminated(f"{who} ({nm.place(f.symbol, f.line, f.end_line)}): <math>{_tex(f.tex)}</math>" + legend)


def loop_sentence(loop: Loop, nm: Naming = LOCAL) -> str:
    """For each `epoch` and each `inputs`, `Trainer._inner_training_loop` runs `training_step` (...) → ...
    (file, lines); another package's operations in words."""

    def op(text: str) -> str:
        return code_words(text.replace(".", "_")) if nm.external else f"`{text}`"

    ops = [op(x) for x in loop.ops]
    if loop.inner:
        ops[0] += " (" + ", ".join(op(x) for x in loop.inner) + ")"
    levels = " and ".join(f"each {op(lv)}" for lv in loop.levels) or "each round"
    return terminated(
        f"For {levels}, `{nm.name(loop.symbol)}` runs "
        + " → ".join(ops)
        + f" ({nm.place(loop.symbol, loop.line, loop.end_line)})"
    )


def chain_text(chain: tuple[Link, ...], nm: Naming = LOCAL) -> str:
    """`A` → `B` → `C`: the definitions the work is handed along."""
    return " → ".join(f"`{nm.name(link.symbol)}`" for link in chain)


def what_is_computed(chain: tuple[Link, ...], deny: Deny, outputs: str, nm: Naming = LOCAL) -> str:
    """One true sentence when no formula or loop explains the step: what the definition that does the work
    does (its docstring), else what it returns, else what the workflow says the step gives."""
    work = chain[-1].symbol
    entry = chain[0].symbol
    place = nm.place(work, work.start_line, work.end_line)
    path = (
        f"`{nm.name(entry)}` reaches it through {chain_text(chain[1:-1], nm)}"
        if len(chain) > 2
        else f"`{nm.name(entry)}` calls it"
        if len(chain) == 2
        else ""
    )
    for link in reversed(chain):
        g = dw.gist(link.symbol.docstring, deny)
        if g is not None and g.verb:
            head = f"`{nm.name(link.symbol)}` ({nm.place(link.symbol, link.symbol.start_line, link.symbol.end_line)})"
            via = f"; {path}" if path and link is chain[-1] else ""
            return terminated(f"{head} {g.verb}{via}")
    returns = dw.clean(returns_doc(work.docstring))
    name = f"`{nm.name(work)}` ({place})"
    if returns:
        return terminated(f"{name} returns {lower_first(returns).rstrip('.')}")
    if work.returns and work.returns not in ("None", "Any") and not nm.external:
        return terminated(f"{name} computes and returns a `{work.returns}`" + (f"; {path}" if path else ""))
    if outputs:  # what the step gives is the entry's result, whatever the work definition returns
        return terminated(
            f"`{nm.name(entry)}` ({nm.place(entry, entry.start_line, entry.end_line)}) gives {outputs.rstrip('.')}"
        )
    return terminated(f"The work is done by {name}" + (f"; {path}" if path else ""))


def principle_theory(
    chain: tuple[Link, ...],
    formulas: tuple[Formula, ...],
    loop: Loop | None,
    doc_formulas: tuple[str, ...],
    deny: Deny,
    outputs: str,
    inputs: str,
    nm: Naming = LOCAL,
) -> str:
    """The Theoretical Basis: the work loop, then the formulas, then the maths the docstrings state; or, with
    none of them, one sentence on what is computed."""
    if not chain:
        if inputs and outputs:
            return terminated(f"From {inputs.rstrip('.')}, the step computes {outputs.rstrip('.')}")
        if outputs:
            return terminated(f"The step computes {outputs.rstrip('.')}")
        return ""
    entry = chain[0].symbol
    parts: list[str] = []
    if loop is not None:
        parts.append(loop_sentence(loop, nm))
    if formulas:
        lead = (
            f"From `{nm.name(entry)}` the work goes through {chain_text(chain[1:], nm)}."
            if len(chain) > 1 and not loop
            else ""
        )
        lines = [formula_sentence(f, entry, deny, nm) for f in formulas]
        parts.append(" ".join(([lead] if lead else []) + lines))
    if doc_formulas:
        parts.append("In formulas: " + "; ".join(f"<math>{_tex(f)}</math>" for f in doc_formulas) + ".")
    if not parts:
        parts.append(what_is_computed(chain, deny, plain(outputs), nm))
    return "\n\n".join(parts)
