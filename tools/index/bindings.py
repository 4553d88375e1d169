"""Where a name gets its meaning outside a ``def``: methods attached at run time and names imported
from other packages. Both are evidence for the locator that the index alone does not give.

* ``model.save_pretrained_merged = types.MethodType(unsloth_generic_save_pretrained_merged, model)``
  or ``Model.generate = fast_generate``: the attribute ``save_pretrained_merged`` / ``generate`` is
  that function at run time;
* ``from transformers import AutoModelForCausalLM`` in the repository: that name belongs to
  transformers, positive evidence that an API called on it is external.

The attribute scan reads each source file once per workspace (cached on the index object) and only
keeps assignments whose right-hand side names a function defined in the repository.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from tools.errors import ToolError
from tools.index.records import Symbol
from tools.index.workspace import Workspace

# bytes patterns that start at the literal ".": scanning every line start for a receiver was 4x slower
_METHOD_TYPE = re.compile(rb"\.(\w+)\s*=\s*(?:types\.)?MethodType\(\s*([A-Za-z_][\w.]*)")
_PLAIN = re.compile(rb"\.(\w+)[ \t]*=[ \t]*([A-Za-z_]\w*)[ \t]*(?:#[^\n]*)?$", re.M)
_SETATTR = re.compile(rb"setattr\(\s*[\w.]+\s*,\s*['\"](\w+)['\"]\s*,\s*(?:types\.)?(?:MethodType\(\s*)?([A-Za-z_]\w*)")


@dataclass(frozen=True)
class RuntimeBinding:
    attribute: str
    function: Symbol
    file: str  # where the binding is written
    line: int


_lock = threading.Lock()  # parallel pairs would each scan the tree before the first result is cached
T = TypeVar("T")


def per_index(ws: Workspace, name: str, build: Callable[[Workspace], T]) -> T:
    """``build(ws)``, computed once per index (kept on the index object, which lives as long as the
    source it describes)."""
    # only per_index writes ``name`` into the index's __dict__, always with what ``build`` returned
    hit: T | None = ws.index.__dict__.get(name)
    if hit is None:
        with _lock:
            hit = ws.index.__dict__.get(name)
            if hit is None:
                hit = ws.index.__dict__[name] = build(ws)
    return hit


def runtime_bindings(ws: Workspace) -> dict[str, list[RuntimeBinding]]:
    """attribute name -> the repository functions assigned to it on some object or class."""
    return per_index(ws, "_runtime_bindings", _scan)


def _scan(ws: Workspace) -> dict[str, list[RuntimeBinding]]:
    functions: dict[str, list[Symbol]] = {}
    for s in ws.index.symbols:
        if s.kind == "function" and "<locals>" not in s.qualname:
            functions.setdefault(s.name, []).append(s)
    out: dict[str, list[RuntimeBinding]] = {}
    for path, rec in ws.index.records.items():
        if rec.status == "skipped":
            continue
        try:
            data = ws.source.physical(path).read_bytes()
        except (OSError, ToolError):
            continue
        found = list(_PLAIN.finditer(data))
        if b"MethodType" in data:
            found += _METHOD_TYPE.finditer(data)
        if b"setattr(" in data:
            found += _SETATTR.finditer(data)
        for m in found:
            attr, fn = m.group(1).decode(), m.group(2).decode().split(".")[-1]
            if attr == fn and m.re is _PLAIN:
                continue  # self.x = x: a value, not a method
            defs = functions.get(fn)
            if not defs:
                continue
            # the definition in the same file first, else the only one
            same = [d for d in defs if d.file == path]
            chosen = same[0] if same else (defs[0] if len(defs) == 1 else None)
            if chosen is None:
                continue
            line = data.count(b"\n", 0, m.start()) + 1
            out.setdefault(attr, []).append(RuntimeBinding(attr, chosen, path, line))
    return out


def imported_from(ws: Workspace, name: str) -> str | None:
    """The other package a name is imported from somewhere in the repository (the top-level
    package of the most frequent source), or None when the repository never imports it."""
    seen = per_index(ws, "_imported_from", _import_table).get(name)
    return max(seen, key=lambda k: (seen[k], k)) if seen else None


def _import_table(ws: Workspace) -> dict[str, dict[str, int]]:
    own = set(ws.names.packages)
    table: dict[str, dict[str, int]] = {}
    for rec in ws.index.records.values():
        for b in rec.bindings:
            if b.module and not b.lazy and not b.module.startswith("."):
                top = b.module.split(".")[0]
                if top and top not in own:
                    counts = table.setdefault(b.name, {})
                    counts[top] = counts.get(top, 0) + 1
    return table
