"""The checkable facts of an API, derived from the source exactly as RULES.md defines them:
the canonical signature (R24), the expected Inputs (R26) and the Outputs (R27) type.

The synthesis writes these facts onto pages and the verifier re-derives them; both call
this module, so a page is only ever compared with one definition of the truth.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from tools.index.records import ClassField, Symbol
from tools.index.returns import output_type
from tools.index.workspace import Workspace
from tools import pyast

_WS = re.compile(r"\s+")


def collapse(text: str) -> str:
    return _WS.sub(" ", text).strip()


@dataclass(frozen=True)
class InputRow:
    name: str
    type: str  # annotation with whitespace collapsed, "—" when unannotated
    required: bool
    default: str | None  # source text of the default


def _lines(ws: Workspace, path: str) -> list[str]:
    return ws.source.physical(path).read_text(encoding="utf-8", errors="replace").splitlines()


def header(ws: Workspace, s: Symbol, with_decorators: bool = True) -> list[str]:
    """Source lines from the first decorator (or the def/class) to the ':' before the body,
    dedented by the node's indentation."""
    lines = _lines(ws, s.file)
    def_line = lines[s.start_line - 1]
    indent = def_line[: len(def_line) - len(def_line.lstrip())]
    sig = s.signature.splitlines() or [""]
    out = [indent + sig[0]] + sig[1:]
    if with_decorators and s.decorator_line:
        out = lines[s.decorator_line - 1 : s.start_line - 1] + out
    return [line[len(indent) :] if line.startswith(indent) else line.lstrip() for line in out]


def _field_default(value: str | None) -> str | None:
    """``field(default=X, ...)`` → X; ``field(default_factory=F)`` → ``field(default_factory=F)``."""
    if value is None:
        return None
    try:
        node = pyast.parse(value, mode="eval").body
    except SyntaxError:
        return value
    if isinstance(node, ast.Call) and ast.unparse(node.func).split(".")[-1] == "field":
        for kw in node.keywords:
            if kw.arg == "default":
                return ast.get_source_segment(value, kw.value)
            if kw.arg == "default_factory":
                return f"field(default_factory={ast.get_source_segment(value, kw.value)})"
        return None
    return value


def _field_init(value: str | None) -> bool:
    if value is None:
        return True
    try:
        node = pyast.parse(value, mode="eval").body
    except SyntaxError:
        return True
    if isinstance(node, ast.Call) and ast.unparse(node.func).split(".")[-1] == "field":
        for kw in node.keywords:
            if kw.arg == "init" and isinstance(kw.value, ast.Constant) and kw.value.value is False:
                return False
    return True


def is_dataclass(s: Symbol) -> bool:
    return s.kind == "class" and any("dataclass" in d for d in s.decorators)


def _own_init(ws: Workspace, s: Symbol) -> Symbol | None:
    return ws.index.definition(s.module, f"{s.qualname}.__init__")


def generated_init(ws: Workspace, s: Symbol) -> bool:
    """A dataclass whose body writes no ``__init__``: its fields are its parameters. A hand-written
    ``__init__`` replaces the generated one (transformers' BitsAndBytesConfig)."""
    return is_dataclass(s) and _own_init(ws, s) is None


def _own_fields(s: Symbol) -> list[ClassField]:
    return [f for f in s.fields if not f.annotation.replace(" ", "").startswith(("ClassVar", "typing.ClassVar"))]


def canonical_signature(ws: Workspace, s: Symbol) -> str:
    """RULES.md's canonical signature of ``s``."""
    if s.kind == "method" and s.parent:
        owner = ws.index.definition(s.module, s.parent)
        out = header(ws, owner, with_decorators=False) if owner is not None else []
        out += ["    " + line for line in header(ws, s)]
        return "\n".join(out)
    out = header(ws, s)
    if s.kind == "class":
        if generated_init(ws, s):
            for f in _own_fields(s):
                default = _field_default(f.value)
                out.append(f"    {f.name}: {collapse(f.annotation)}" + (f" = {default}" if default is not None else ""))
        else:
            init = _own_init(ws, s)
            if init is not None:
                out += ["    " + line for line in header(ws, init)]
    return "\n".join(out)


def expected_inputs(ws: Workspace, s: Symbol) -> list[InputRow]:
    """The parameters an Inputs table documents (R26)."""
    if s.kind == "class":
        if generated_init(ws, s):
            rows: dict[str, InputRow] = {}
            for klass in reversed(ws.names.mro(s)):  # base fields first, overridden by subclasses
                if not is_dataclass(klass):
                    continue
                for f in _own_fields(klass):
                    if _field_init(f.value):
                        d = _field_default(f.value)
                        rows[f.name] = InputRow(f.name, collapse(f.annotation), d is None, d)
            return list(rows.values())
        init = ws.names.member(s, "__init__")
        return _param_rows(init) if init is not None else []
    return _param_rows(s)


def _param_rows(s: Symbol) -> list[InputRow]:
    rows = []
    for i, p in enumerate(s.params):
        if i == 0 and p.name in ("self", "cls") and (s.kind == "method" or s.name == "__init__"):
            continue
        star = p.kind in ("var_positional", "var_keyword")
        rows.append(
            InputRow(p.name, collapse(p.annotation) if p.annotation else "—", p.default is None and not star, p.default)
        )
    return rows


def expected_output_type(ws: Workspace, s: Symbol) -> str | None:
    """First Outputs row's Type (R27 as amended): the return annotation; the class name for a class and
    its ``__init__`` (a constructor page documents what the call gives); without an annotation, the type
    the docstring's Returns section names, else the class every ``return`` of the body constructs
    (tools.index.returns); None when none is known."""
    return output_type(ws, s)
