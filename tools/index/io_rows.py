"""The Outputs rows of an Implementation page, from the source: what the call returns (its type as R27
derives it, what it is in the reader's terms) and what it leaves behind (files and folders it writes,
attributes it sets), one row per kind of effect.

The text is raw source text with docstring markup resolved (``doc_text``); the drafter makes it safe for
a page. Nothing here is a template about the page itself: every row states something the code or its
docstring shows, and a row that would say nothing is not written.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from tools.index.docstrings import first_sentence, summary
from tools.index.effects import Effect, effects
from tools.index.facts import generated_init
from tools.index.param_docs import doc_text
from tools.index.param_use import stored_as
from tools.index.records import Symbol
from tools.index.returns import returned
from tools.index.runtime_doc import runtime_docstring
from tools.index.workspace import Workspace

_MAX_LISTED = 3
_MAX_SAVERS = 8  # every saver a reader may meet (branches for other hardware included), within reason


class OutputRow(NamedTuple):
    name: str
    type: str  # "—" when the source does not settle it
    description: str


def _listed(items: list[str], limit: int = _MAX_LISTED) -> str:
    shown = [f"`{i}`" for i in items[:limit]]
    more = len(items) - len(shown)
    if more:
        return ", ".join(shown) + f" and {more} more"
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def _where(e: Effect) -> str:
    via = f" in {_listed(list(e.via))}" if e.via else ""
    return via + (", under some conditions" if e.conditional else "")


def result_name(sym: Symbol) -> str:
    """``lora_config`` for a class, ``result`` otherwise."""
    if sym.kind == "class" or sym.name == "__init__":
        cls = sym.name if sym.kind == "class" else (sym.parent or sym.name).split(".")[-1]
        return re.sub(r"(?<!^)(?=[A-Z])", "_", cls).lower()
    return "result"


def _class_of(ws: Workspace, sym: Symbol) -> Symbol | None:
    if sym.kind == "class":
        return sym
    if sym.name == "__init__" and sym.parent:
        return ws.index.definition(sym.module, sym.parent)
    return None


def constructed(ws: Workspace, cls: Symbol) -> str:
    """What a new instance holds, as the constructor shows it."""
    if generated_init(ws, cls):
        return f"A `{cls.name}` holding each argument as the attribute of the same name."
    init = ws.names.member(cls, "__init__")
    kept = stored_as(ws, init) if init is not None else []
    if kept:
        return f"A `{cls.name}` that keeps {_listed(kept)} as attributes of the same name."
    said = summary(runtime_docstring(ws, cls))
    return f"A `{cls.name}`: {first_sentence(doc_text(said))}" if said else ""


def _type_summary(ws: Workspace, sym: Symbol, typ: str) -> str:
    """``A `BatchEncoding`: <its class summary>`` when the type is one class of the repository."""
    if not re.fullmatch(r"[A-Za-z_][\w.]*", typ):
        return ""
    target = ws.names.resolve_dotted(sym.module, typ)
    if not isinstance(target, Symbol) or target.kind != "class":
        return ""
    said = summary(runtime_docstring(ws, target))
    return f"A `{typ.split('.')[-1]}`: {first_sentence(doc_text(said))}" if said else ""


def _context_manager(sym: Symbol) -> bool:
    return any(d.split(".")[-1] in ("contextmanager", "asynccontextmanager") for d in sym.decorators)


def output_rows(ws: Workspace, sym: Symbol) -> list[OutputRow]:
    """The Outputs table of ``sym``: the result row first (R27 checks its Type), then its effects."""
    cls = _class_of(ws, sym)
    if cls is not None:
        return [OutputRow(result_name(sym), cls.name, constructed(ws, cls))]
    ret = returned(ws, sym)
    typ = ret.type or "—"
    said = first_sentence(doc_text(ret.description)) if ret.description else ""
    found = effects(ws, sym)
    if not said and typ == "None":
        said = "Nothing (`None`)" + _effects_summary(found) + "."
    if not said and _context_manager(sym):
        said = (
            "A context manager: the body runs up to its `yield` when the `with` block is entered, "
            "the rest when it is left."
        )
    if not said and ret.type:
        said = _type_summary(ws, sym, ret.type)
    said = said or ret.source
    rows = [OutputRow(result_name(sym), typ, said)]
    rows += effect_rows(ws, sym, found)
    return rows


def _effects_summary(found: list[Effect]) -> str:
    """``; the call writes under `save_directory` and sets `active_adapter```: its effects in one clause."""
    parts: list[str] = []
    unders = list(dict.fromkeys(e.under for e in found if e.kind in ("file", "folder", "files") and e.under))
    if unders:
        parts.append(f"writes under {_listed(unders)}")
    attrs = list(dict.fromkeys(e.name for e in found if e.kind in ("attribute", "entry")))
    if attrs:
        parts.append(f"changes {_listed(attrs)}")
    if any(e.kind == "printed" for e in found):
        parts.append("prints to standard output")
    if not parts:
        return ""
    return "; the call " + (parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1])


def effect_rows(ws: Workspace, sym: Symbol, found: list[Effect]) -> list[OutputRow]:
    rows: list[OutputRow] = []
    for e in found:
        if e.kind == "folder":
            rows.append(OutputRow(e.name, "folder", f"Created when missing, by `{e.how}`{_where(e)}."))
    for e in found:
        if e.kind == "file":
            place = f"under `{e.under}`" if e.name != e.under else f"at the path `{e.under}`"
            rows.append(OutputRow(e.name, "file", f"Written {place} by `{e.how}`{_where(e)}."))
    savers: dict[str, list[Effect]] = {}
    for e in found:
        if e.kind == "files" and e.under is not None:
            savers.setdefault(e.under, []).append(e)
    for under, group in savers.items():
        cond = all(e.conditional for e in group)
        rows.append(
            OutputRow(
                "files",
                "files",
                f"Written under `{under}` by {_listed([e.how for e in group], _MAX_SAVERS)}"
                + (", under some conditions" if cond else "")
                + ".",
            )
        )
    attrs = [e for e in found if e.kind in ("attribute", "entry")]
    if attrs:
        owner = (sym.parent or "").split(".")[-1] or "object"
        parts = [
            f"an entry of `{e.name}`" if e.kind == "entry" else f"`{e.name}` (to {e.how})" if e.how else f"`{e.name}`"
            for e in sorted(attrs, key=lambda e: e.conditional)
        ]
        shown = parts[:4] + ([f"{len(parts) - 4} more"] if len(parts) > 4 else [])
        listed = shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]
        rows.append(OutputRow("attributes", "state", f"Sets {listed} on the `{owner}`."))
    if any(e.kind == "printed" for e in found):
        e = next(e for e in found if e.kind == "printed")
        rows.append(OutputRow("stdout", "text", f"Printed with `print`{_where(e)}."))
    return rows
