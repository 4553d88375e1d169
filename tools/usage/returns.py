"""What a call of a repository API gives back, read from the source (never by running it): the
return annotation, else the type the docstring's Returns entry (or ``:rtype:``) names, else the
class every ``return`` of the body constructs (``return cls(...)``, ``return self``).

The answer is a class of the repository (a ``Symbol``), an external dotted name (``torch.Tensor``)
or None when the source does not say.
"""

from __future__ import annotations

import re
import threading

from tools.index.bindings import imported_from, per_index
from tools.index.records import Symbol
from tools.index.workspace import Workspace
from tools.errors import ToolError

Returned = Symbol | str | None
_lock = threading.Lock()
_OPTIONAL = re.compile(r"^(?:typing\.)?Optional\[(.+)\]$")
_RTYPE = re.compile(r":rtype:\s*:?(?:class:)?`?~?([A-Za-z_][\w.]*)")
_RETURNS_HEAD = re.compile(r"^\s*Returns?\s*:?\s*$")
_FIRST_TYPE = re.compile(r"\[?`~?([A-Z][\w.]*)`\]?|^\s*([A-Z][\w.]*)\s*(?::|$)")
_BODY_RETURN = re.compile(r"^\s*return\s+(.+?)\s*$")


def _clean(annotation: str) -> str | None:
    a = annotation.strip().strip("'\"")
    m = _OPTIONAL.match(a)
    if m:
        a = m.group(1)
    u = re.match(r"^(?:typing\.)?Union\[(.+)\]$", a)
    parts = [p.strip() for p in (u.group(1).split(",") if u else a.split("|")) if p.strip() not in ("None", "")]
    if not parts:
        return None
    a = parts[0].strip("'\"")  # a union: its first member, the usual case (PeftModel | PeftMixedModel)
    return a if re.fullmatch(r"[A-Za-z_][\w.]*", a) else None


def _resolve(ws: Workspace, sym: Symbol, name: str, owner: Symbol | None) -> Returned:
    if name in ("Self", "typing.Self", "typing_extensions.Self") or (owner is not None and name == owner.name):
        return owner
    if name in ("None", "bool", "int", "str", "float", "bytes", "dict", "list", "tuple", "Any", "object"):
        return None
    target = ws.names.resolve_dotted(sym.module, name)
    if isinstance(target, Symbol) and target.kind == "class":
        return target
    head = name.split(".")[0]
    pkg = imported_from(ws, head)
    if pkg:
        return f"{pkg}.{name.split('.', 1)[1]}" if "." in name and name.startswith(pkg + ".") else f"{pkg}.{name}"
    if ws.package:
        exported = ws.names.resolve(ws.package, name.split(".")[-1])
        if isinstance(exported, Symbol) and exported.kind == "class":
            return exported
    return None


def _from_docstring(doc: str | None) -> str | None:
    if not doc:
        return None
    m = _RTYPE.search(doc)
    if m:
        return m.group(1)
    lines = doc.splitlines()
    for i, line in enumerate(lines):
        if _RETURNS_HEAD.match(line):
            body = next((ln for ln in lines[i + 1 :] if ln.strip() and not set(ln.strip()) <= {"-"}), "")
            t = _FIRST_TYPE.search(body)
            if t:
                return t.group(1) or t.group(2)
            return None
    return None


def _file_lines(ws: Workspace, path: str) -> list[str]:
    cache: dict[str, list[str]] = per_index(ws, "_usage_file_lines", lambda _ws: {})
    with _lock:
        hit = cache.get(path)
    if hit is None:
        try:
            hit = ws.source.physical(path).read_text(encoding="utf-8", errors="replace").splitlines()
        except (OSError, ToolError):
            hit = []
        with _lock:
            cache[path] = hit
    return hit


def _from_body(ws: Workspace, sym: Symbol, owner: Symbol | None) -> Returned:
    """The class every value-returning ``return`` constructs, when they all agree."""
    if sym.end_line - sym.start_line > 400:
        return None
    lines = _file_lines(ws, sym.file)[sym.start_line : sym.end_line]
    found: set[str] = set()
    for line in lines:
        m = _BODY_RETURN.match(line)
        if not m:
            continue
        value = m.group(1)
        if value in ("self", "cls") or value.startswith("cls("):
            found.add("<owner>")
        else:
            c = re.match(r"([A-Za-z_][\w.]*)\(", value)
            found.add(c.group(1) if c and c.group(1)[:1].isupper() else "?")
    if len(found) != 1:
        return None
    only = found.pop()
    if only == "<owner>":
        return owner
    return None if only == "?" else _resolve(ws, sym, only, owner)


def returned(ws: Workspace, sym: Symbol, owner: Symbol | None) -> Returned:
    """What calling ``sym`` gives: an instance of the class returned here, of ``owner`` (the class
    the call went through, for ``Self``/``cls(...)``/``return self``), or of an external class."""
    if sym.kind == "class":
        return sym
    memo: dict[tuple[str, str, int, str], Returned] = per_index(ws, "_usage_returns", lambda _ws: {})
    key = (sym.file, sym.qualname, sym.start_line, owner.qualname if owner is not None else "")
    with _lock:
        if key in memo:
            return memo[key]
    out: Returned = None
    if sym.returns is not None:
        name = _clean(sym.returns)
        out = _resolve(ws, sym, name, owner) if name else None
    else:
        name = _from_docstring(sym.docstring)
        out = _resolve(ws, sym, name, owner) if name else _from_body(ws, sym, owner)
    with _lock:
        memo[key] = out
    return out
