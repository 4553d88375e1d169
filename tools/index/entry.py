"""The entry: what the user holds when a step calls a method (RULES.md, canonical import, amended
2026-12-07).

A method is documented where it is defined (``BaseTuner.merge_and_unload``), but the user reaches it
through the object an earlier step gave them (a ``PeftModel``) or the class the call names
(``PeftConfig.from_pretrained``). That class is the entry when the method is reached from it by
attribute lookup: its MRO, or a ``__getattr__`` that forwards missing attributes to an attribute of
the object (``return getattr(self.base_model, name)``). Drafter and verifier share this module.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from typing import Literal, NamedTuple

from tools import pyast
from tools.index.records import Symbol
from tools.index.workspace import Workspace

How = Literal["mro", "forward"]


class Entry(NamedTuple):
    cls: Symbol  # the public class the user holds or names
    import_code: str  # how the user imports it
    how: How  # inherited through the MRO, or forwarded by __getattr__
    via: str  # the class that defines the method (mro), or the attribute forwarded to (forward)


def _same(a: Symbol | None, b: Symbol | None) -> bool:
    return a is not None and b is not None and (a.module, a.qualname) == (b.module, b.qualname)


def public_class(ws: Workspace, name: str) -> Symbol | None:
    """The class a user means by ``name``: the one the package exports under it, else the only class
    of the index with that name."""
    for package in ws.names.packages:
        t = ws.names.resolve(package, name)
        if isinstance(t, Symbol) and t.kind == "class":
            return t
    found = [s for s in ws.index.by_name.get(name, []) if s.kind == "class"]
    return found[0] if len(found) == 1 else None


def forwarded_attribute(ws: Workspace, cls: Symbol) -> str | None:
    """The attribute of ``self`` that ``cls``'s ``__getattr__`` (its own or inherited) forwards missing
    attributes to, when its body says so: ``getattr(self.base_model, name)``."""
    g = ws.names.member(cls, "__getattr__")
    if g is None:
        return None
    try:
        text = ws.source.physical(g.file).read_text(encoding="utf-8", errors="replace").splitlines()
        tree = pyast.parse("\n".join(text[g.start_line - 1 : g.end_line]).strip() + "\n")
    except (OSError, SyntaxError, ValueError):
        return None
    fn = tree.body[0] if tree.body else None
    if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) or len(fn.args.args) < 2:
        return None
    attr_param = fn.args.args[1].arg
    for node in ast.walk(fn):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "getattr"
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Name)
            and node.args[1].id == attr_param
        ):
            target = node.args[0]
            if (
                isinstance(target, ast.Attribute)
                and isinstance(target.value, ast.Name)
                and target.value.id == "self"
                and re.fullmatch(r"[A-Za-z_]\w*", target.attr)
            ):
                return target.attr
    return None


def reaches(ws: Workspace, cls: Symbol, sym: Symbol) -> tuple[How, str] | None:
    """How an object of class ``cls`` reaches the method ``sym``: ("mro", defining class) when attribute
    lookup finds this very definition, ("forward", attribute) when the class has no such member and its
    __getattr__ forwards to an attribute; None otherwise (an override, or no way there)."""
    member = ws.names.member(cls, sym.name)
    if member is not None:
        owner = (sym.parent or "").split(".")[-1]
        return ("mro", owner) if _same(member, sym) else None
    attr = forwarded_attribute(ws, cls)
    return ("forward", attr) if attr else None


def entry_for(ws: Workspace, sym: Symbol, names: Iterable[str]) -> Entry | None:
    """The entry of a method among candidate class ``names`` (the class the call names, then the classes
    earlier steps return, nearest first); None when the owning class itself is the entry or none fits."""
    owner = ws.names.owner(sym)
    if owner is None or owner is sym or sym.kind == "class" or sym.name == "__init__":
        return None
    for name in dict.fromkeys(names):
        cls = public_class(ws, name)
        if cls is None:
            continue
        if _same(cls, owner):
            return None
        how = reaches(ws, cls, sym)
        imp = ws.names.canonical_import(cls)
        if how is not None and imp is not None:
            return Entry(cls, imp, how[0], how[1])
    return None


def entry_from_import(ws: Workspace, sym: Symbol, import_line: str) -> Entry | None:
    """R25's check of an entry import: ``from M import C`` binds a class C whose canonical import this is
    and from which ``sym`` is reached."""
    m = re.fullmatch(r"from ([\w.]+) import (\w+)", import_line.strip())
    if m is None:
        return None
    t = ws.names.resolve(m.group(1), m.group(2))
    if not isinstance(t, Symbol) or t.kind != "class" or ws.names.canonical_import(t) != import_line.strip():
        return None
    how = reaches(ws, t, sym)
    return Entry(t, import_line.strip(), how[0], how[1]) if how else None
