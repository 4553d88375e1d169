"""Plain, immutable records the index is made of.

NamedTuples rather than dataclasses: they pickle fast (the warm index load is
one unpickle of ~100k of them) and turn into JSON with ``_asdict``.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

SymbolKind = Literal["class", "function", "method"]
ParamKind = Literal["positional_only", "positional_or_keyword", "var_positional", "keyword_only", "var_keyword"]
FileStatus = Literal["ok", "partial", "skipped"]


class Param(NamedTuple):
    name: str
    kind: ParamKind
    annotation: str | None
    default: str | None


class ClassField(NamedTuple):
    """An annotated assignment in a class body (``x: int = 3``): dataclass fields."""

    name: str
    annotation: str
    value: str | None
    line: int


class Symbol(NamedTuple):
    qualname: str  # Python __qualname__ inside its module: "PeftModel.save_pretrained", "f.<locals>.g"
    name: str
    kind: SymbolKind
    file: str  # repository-relative, posix
    module: str
    start_line: int  # the def/class line, 1-based (decorators excluded), as ast's lineno
    end_line: int  # inclusive, as ast's end_lineno
    decorator_line: int | None  # first decorator's line, when decorated
    signature: str  # from def/class to the ':' before the body, exactly as written
    docstring: str | None
    params: tuple[Param, ...]
    returns: str | None
    bases: tuple[str, ...]
    decorators: tuple[str, ...]  # decorator expressions, without '@'
    is_async: bool
    fields: tuple[ClassField, ...]
    parent: str | None  # qualname of the enclosing class/function


class Binding(NamedTuple):
    """A module-level name bound by an import (or a lazy-import table entry)."""

    name: str  # the bound name ('*' for a star import)
    module: str  # absolute module imported from
    attr: str | None  # imported attribute; None for `import x` / star imports
    line: int
    lazy: bool  # from an _import_structure table rather than an import statement


class FileRecord(NamedTuple):
    path: str  # repository-relative, posix
    module: str
    is_package: bool
    digest: str
    lines: int
    status: FileStatus
    reason: str | None
    symbols: tuple[Symbol, ...]
    bindings: tuple[Binding, ...]
    assignments: tuple[str, ...]  # module-level assigned names
    all_names: tuple[str, ...] | None  # literal __all__, when present


# The plain form, field for field: each record becomes a builtin tuple, nested records included.
PlainParam = tuple[str, ParamKind, "str | None", "str | None"]
PlainField = tuple[str, str, "str | None", int]
PlainBinding = tuple[str, str, "str | None", int, bool]
PlainSymbol = tuple[
    str,
    str,
    SymbolKind,
    str,
    str,
    int,
    int,
    "int | None",
    str,
    "str | None",
    tuple[PlainParam, ...],
    "str | None",
    tuple[str, ...],
    tuple[str, ...],
    bool,
    tuple[PlainField, ...],
    "str | None",
]
PlainFile = tuple[
    str,
    str,
    bool,
    str,
    int,
    FileStatus,
    "str | None",
    tuple[PlainSymbol, ...],
    tuple[PlainBinding, ...],
    tuple[str, ...],
    "tuple[str, ...] | None",
]


def to_plain(rec: FileRecord) -> PlainFile:
    """FileRecord → nested builtin tuples (what ``marshal`` can store; ~10× faster to load than pickle).

    A slice of a NamedTuple is a plain tuple that keeps each field's type, hence ``p[:]``."""
    syms = tuple(
        s[:10] + (tuple(p[:] for p in s.params),) + s[11:15] + (tuple(f[:] for f in s.fields), s.parent)
        for s in rec.symbols
    )
    return rec[:7] + (syms, tuple(b[:] for b in rec.bindings)) + rec[9:]


def from_plain(t: PlainFile) -> FileRecord:
    syms = tuple(
        Symbol(
            *s[:10], tuple(Param._make(p) for p in s[10]), *s[11:15], tuple(ClassField._make(f) for f in s[15]), s[16]
        )
        for s in t[7]
    )
    return FileRecord(*t[:7], syms, tuple(Binding._make(b) for b in t[8]), *t[9:])
