"""Code-navigation tools for agents and people. Every path is confined to the repository
root, and every output is capped and says when it was cut."""

from __future__ import annotations

import difflib
import fnmatch
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Literal, NotRequired, TypedDict, TypeVar

from tree_sitter import QueryCursor

from tools.errors import ToolError
from tools.index.pyparse import decode_source, parser, query
from tools.index.records import FileStatus, Symbol, SymbolKind
from tools.source.resolve import confine, iter_files
from tools.toolspec import tool
from tools.index.workspace import Workspace

MAX_ENTRIES = 200
MAX_LINES = 400
SEARCH_SECONDS = 10  # the whole search_text call, every file included
MAX_MATCHES = 100
MAX_LINE_CHARS = 300
MAX_FILE_BYTES = 4 * 1024 * 1024
TEXT_SUFFIXES = (".py", ".md", ".mdx", ".rst", ".txt", ".toml", ".cfg", ".ini", ".yaml", ".yml", ".json")
DOC_SUFFIXES = (".md", ".mdx", ".rst")
Area = Literal["examples", "docs", "tests", "source"]
_AREAS: tuple[Area, ...] = ("examples", "docs", "tests", "source")
_T = TypeVar("_T")


class SymbolRef(TypedDict):
    qualname: str
    module: str
    kind: SymbolKind
    file: str
    start_line: int
    end_line: int
    signature: str  # its first line


class SymbolMatch(SymbolRef):
    match: str  # how the name matched: exact, dotted suffix, inherited by …, name, fuzzy, substring


class DirEntry(TypedDict):
    name: str
    type: str
    bytes: NotRequired[int]  # files only


class TextHit(TypedDict):
    file: str
    line: int
    text: str


class UseSite(TypedDict):
    file: str
    line: int
    use: str  # call, import, argument, base (the capture of python-refs.scm) or mention (docs)
    area: Area
    text: str


class _Capped(TypedDict):
    """What every tool result says about its cap."""

    truncated: bool
    note: str | None


class DirListing(_Capped):
    path: str
    entries: list[DirEntry]


class FileOutline(_Capped):
    file: str
    module: str
    status: FileStatus
    reason: str | None
    lines: int
    symbols: list[SymbolRef]


class SymbolMatches(_Capped):
    query: str
    matches: list[SymbolMatch]


class SymbolSource(_Capped):
    symbol: SymbolRef
    match: str
    source: str
    other_definitions: list[SymbolRef]


class FileLines(_Capped):
    file: str
    start: int
    end: int
    source: str
    warnings: list[str]


class TextMatches(_Capped):
    pattern: str
    matches: list[TextHit]


class Usages(_Capped):
    name: str
    counts: dict[Area, int]
    uses: list[UseSite]


def area(path: str) -> Area:
    """Which part of a repository a file belongs to (examples first: they show real use)."""
    parts = path.split("/")
    if any(p in ("examples", "example", "notebooks", "scripts") for p in parts[:-1]):
        return "examples"
    if any(p in ("docs", "doc") for p in parts[:-1]) or path.endswith(DOC_SUFFIXES):
        return "docs"
    if any(p in ("tests", "test", "testing") for p in parts[:-1]) or parts[-1].startswith("test_"):
        return "tests"
    return "source"


def _capped(items: list[_T], limit: int, what: str, hint: str) -> tuple[list[_T], bool, str | None]:
    if len(items) <= limit:
        return items, False, None
    return items[:limit], True, f"showing {limit} of {len(items)} {what}; {hint}"


def _clip(line: str) -> str:
    return line if len(line) <= MAX_LINE_CHARS else line[:MAX_LINE_CHARS] + " …[line cut]"


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise ToolError(f"{path.name} is a folder; use list_dir") from None
    except OSError as exc:
        raise ToolError(f"cannot read {path.name}: {exc.strerror}") from None
    if len(data) > MAX_FILE_BYTES:
        raise ToolError(f"{path.name} is larger than {MAX_FILE_BYTES} bytes; use search_text on it instead")
    text, reason = decode_source(data)
    if text is None:
        raise ToolError(f"{path.name} is not text ({reason})")
    return text


def symbol_ref(s: Symbol) -> SymbolRef:
    return {
        "qualname": s.qualname,
        "module": s.module,
        "kind": s.kind,
        "file": s.file,
        "start_line": s.start_line,
        "end_line": s.end_line,
        "signature": s.signature.splitlines()[0] if s.signature else "",
    }


@tool(
    "List a folder of the repository (one level): sub-folders and files with sizes.",
    path="Folder relative to the repository root; '.' for the root.",
)
def list_dir(ws: Workspace, path: str = ".") -> DirListing:
    folder = confine(ws.source, path)
    if not folder.is_dir():
        raise ToolError(f"{path!r} is not a folder of the repository; call list_dir('.') to see the root")
    entries: list[DirEntry] = []
    for child in sorted(folder.iterdir(), key=lambda p: (not p.is_dir(), p.name)):
        if child.name.startswith(".") or child.name == "__pycache__":
            continue
        real = child.resolve()
        if real != ws.source.root and ws.source.root not in real.parents:
            entries.append({"name": child.name, "type": "link outside the root (not readable)"})
        elif child.is_dir():
            entries.append({"name": child.name + "/", "type": "dir"})
        else:
            entries.append({"name": child.name, "type": "file", "bytes": child.stat().st_size})
    shown, truncated, note = _capped(entries, MAX_ENTRIES, "entries", "list a sub-folder")
    return {"path": ws.source.repo_path(folder), "entries": shown, "truncated": truncated, "note": note}


@tool(
    "Outline a Python file: its classes, functions and methods with line ranges and first signature line.",
    file="Python file path relative to the repository root, e.g. src/pkg/module.py.",
)
def outline(ws: Workspace, file: str) -> FileOutline:
    physical = confine(ws.source, file)
    path = ws.source.repo_path(physical)
    rec = ws.index.records.get(path)
    if rec is None:
        raise ToolError(f"{file!r} is not an indexed Python file; use find_symbol or list_dir to find one")
    symbols = [symbol_ref(s) for s in rec.symbols]
    shown, truncated, note = _capped(symbols, MAX_ENTRIES, "symbols", "use read_symbol on a class to see its members")
    return {
        "file": path,
        "module": rec.module,
        "status": rec.status,
        "reason": rec.reason,
        "lines": rec.lines,
        "symbols": shown,
        "truncated": truncated,
        "note": note,
    }


def _is_public(s: Symbol) -> bool:
    return not any(p.startswith("_") and p != "__init__" for p in s.module.split(".") + s.qualname.split("."))


def rank_key(ws: Workspace, s: Symbol) -> tuple[bool, bool, bool, int, str, int]:
    """Public library code before tests and examples, shallower modules before deeper ones."""
    exported = ws.package is not None and isinstance(ws.names.resolve(ws.package, s.qualname.split(".")[0]), Symbol)
    return (area(s.file) != "source", not _is_public(s), not exported, s.module.count("."), s.file, s.start_line)


def search_symbols(ws: Workspace, name: str, kind: str | None = None) -> list[tuple[str, Symbol]]:
    """All matches of ``name``, best first, each with how it matched."""
    name = name.strip().removesuffix("()")
    if ":" in name:
        name = name.replace(":", ".")
    pool = [s for s in ws.index.symbols if kind is None or s.kind == kind]
    found: dict[tuple[str, str, int], tuple[int, str, Symbol]] = {}

    def add(rank: int, how: str, s: Symbol) -> None:
        key = (s.file, s.qualname, s.start_line)
        if key not in found or found[key][0] > rank:
            found[key] = (rank, how, s)

    last = name.split(".")[-1]
    for s in ws.index.by_name.get(last, []):
        if kind is not None and s.kind != kind:
            continue
        full = f"{s.module}.{s.qualname}"
        if name in (s.qualname, full):
            add(0, "exact", s)
        elif "." in name and full.endswith("." + name):
            add(1, "dotted suffix", s)
        elif "." not in name:
            add(2, "name", s)
    if "." in name and ws.package:
        # Class.member where the member is inherited: follow the MRO.
        owner, member = name.rsplit(".", 1)
        target = ws.names.resolve_dotted(ws.package, owner)
        if not isinstance(target, Symbol):
            target = next((c for c in ws.index.by_name.get(owner.split(".")[-1], []) if c.kind == "class"), None)
        if isinstance(target, Symbol) and target.kind == "class":
            inherited = ws.names.member(target, member)
            if inherited is not None and (kind is None or inherited.kind == kind):
                add(1, f"inherited by {target.qualname}", inherited)
    if not found:
        names = list({s.name for s in pool})
        for close in difflib.get_close_matches(last, names, n=10, cutoff=0.75):
            for s in ws.index.by_name.get(close, []):
                if kind is None or s.kind == kind:
                    add(3, "fuzzy", s)
        lowered = last.lower()
        if len(lowered) >= 4:
            for s in pool:
                if lowered in s.name.lower() and s.name != last:
                    add(4, "substring", s)
    ordered = sorted(found.values(), key=lambda t: (t[0], rank_key(ws, t[2])))
    return [(how, s) for _, how, s in ordered]


@tool(
    "Find where a class, function or method is defined. Accepts a name, Class.method, or a dotted module path; "
    "ranks exact matches, then dotted suffixes, then fuzzy ones.",
    name="Symbol name, e.g. LoraConfig, PeftModel.save_pretrained or peft.mapping_func.get_peft_model.",
    kind="Only this kind: class, function or method.",
    limit="Maximum number of results (default 10).",
)
def find_symbol(ws: Workspace, name: str, kind: str | None = None, limit: int = 10) -> SymbolMatches:
    if kind not in (None, "class", "function", "method"):
        raise ToolError("kind must be one of class, function, method")
    matches = search_symbols(ws, name, kind)
    limit = max(1, min(limit, 50))
    results: list[SymbolMatch] = [{**symbol_ref(s), "match": how} for how, s in matches]
    shown, truncated, note = _capped(results, limit, "matches", "give a dotted name (Class.method) to narrow")
    if not results:
        note = f"no symbol matches {name!r}; try search_text for the text instead"
    return {"query": name, "matches": shown, "truncated": truncated, "note": note}


def _numbered(lines: list[str], first: int) -> str:
    width = len(str(first + len(lines) - 1))
    return "\n".join(f"{first + i:>{width}} {_clip(line)}" for i, line in enumerate(lines))


@tool(
    "Read the source of a symbol (decorators included) with line numbers.",
    qualname="Symbol as find_symbol names it, e.g. PeftModel.save_pretrained or LoraConfig.",
    file="Optional file to disambiguate between several definitions.",
)
def read_symbol(ws: Workspace, qualname: str, file: str | None = None) -> SymbolSource:
    matches = search_symbols(ws, qualname)
    exact = [(how, s) for how, s in matches if how in ("exact", "dotted suffix") or how.startswith("inherited")]
    pool = exact or matches
    if file is not None:
        path = ws.source.repo_path(confine(ws.source, file))
        pool = [(how, s) for how, s in pool if s.file == path]
    if not pool:
        raise ToolError(f"no symbol {qualname!r}{' in ' + file if file else ''}; call find_symbol first")
    how, s = pool[0]
    text = _read_text(confine(ws.source, s.file)).splitlines()
    start = s.decorator_line or s.start_line
    body = text[start - 1 : s.end_line]
    shown, truncated, note = _capped(body, MAX_LINES, "lines", f"use read_lines({s.file!r}, start, end) for the rest")
    others = [symbol_ref(o) for _, o in pool[1:6]]
    return {
        "symbol": symbol_ref(s),
        "match": how,
        "source": _numbered(shown, start),
        "truncated": truncated,
        "note": note,
        "other_definitions": others,
    }


@tool(
    "Read lines of a text file with line numbers (1-based, inclusive). Out-of-range lines are clamped.",
    file="File path relative to the repository root.",
    start="First line (1-based).",
    end="Last line (inclusive).",
)
def read_lines(ws: Workspace, file: str, start: int, end: int) -> FileLines:
    physical = confine(ws.source, file)
    lines = _read_text(physical).splitlines()
    warnings: list[str] = []
    if start < 1:
        warnings.append(f"start {start} clamped to 1")
        start = 1
    if end > len(lines):
        warnings.append(f"end {end} clamped to {len(lines)} (the file has {len(lines)} lines)")
        end = len(lines)
    if start > end:
        raise ToolError(f"nothing to read: start {start} is after end {end} (the file has {len(lines)} lines)")
    body = lines[start - 1 : end]
    shown, truncated, note = _capped(body, MAX_LINES, "lines", "read the rest in another call")
    return {
        "file": ws.source.repo_path(physical),
        "start": start,
        "end": start + len(shown) - 1,
        "source": _numbered(shown, start),
        "truncated": truncated,
        "note": note,
        "warnings": warnings,
    }


def _text_files(ws: Workspace, glob: str | None, suffixes: tuple[str, ...]) -> Iterator[tuple[Path, str]]:
    for physical, path in iter_files(ws.source, suffixes):
        if glob and not (fnmatch.fnmatch(path, glob) or fnmatch.fnmatch(path.rsplit("/", 1)[-1], glob)):
            continue
        real = physical.resolve()
        if real != physical and ws.source.root not in real.parents:
            continue  # a symlink out of the root is never read
        yield physical, path


@tool(
    "Search text files of the repository with a regular expression (Python syntax); returns at most 100 "
    "matching lines; the whole search has a 10 second budget.",
    pattern="Regular expression searched line by line.",
    glob="Optional file filter, e.g. '*.py' or 'src/pkg/tuners/*'.",
)
def search_text(ws: Workspace, pattern: str, glob: str | None = None) -> TextMatches:
    import regex  # backtracking with a time limit: a pattern from a model must not hang the run

    try:
        rx = regex.compile(pattern)
    except (regex.error, ValueError, OverflowError) as exc:
        raise ToolError(f"bad regular expression {pattern!r}: {exc}; escape special characters with \\") from None
    hits: list[TextHit] = []
    deadline = time.monotonic() + SEARCH_SECONDS
    for physical, path in _text_files(ws, glob, TEXT_SUFFIXES):
        try:
            text = _read_text(physical)
        except ToolError:
            continue
        for no, line in enumerate(text.splitlines(), 1):
            left = deadline - time.monotonic()
            try:
                if left <= 0:
                    raise TimeoutError
                found = rx.search(line, timeout=left)
            except TimeoutError:
                raise ToolError(
                    f"search_text {pattern!r} ran out of its {SEARCH_SECONDS} s budget; use a simpler "
                    "pattern (no nested repeats) or pass a glob"
                ) from None
            if found:
                hits.append({"file": path, "line": no, "text": _clip(line.strip())})
                if len(hits) > MAX_MATCHES * 5:
                    break
        if len(hits) > MAX_MATCHES * 5:
            break
    shown, truncated, note = _capped(hits, MAX_MATCHES, "matches", "narrow the pattern or pass a glob")
    if not hits:
        note = f"no matches for {pattern!r}" + (f" in {glob}" if glob else "")
    return {"pattern": pattern, "matches": shown, "truncated": truncated, "note": note}


def usages(ws: Workspace, name: str) -> list[UseSite]:
    """Every use of ``name`` (last dotted part) as a call, import, argument or base class in Python
    files, and every mention in documentation files; examples first, then docs, tests, source."""
    last = name.strip().split(".")[-1].removesuffix("()")
    if not last.isidentifier():
        raise ToolError(f"{name!r} is not a Python name")
    word = re.compile(rf"\b{re.escape(last)}\b")
    found: list[UseSite] = []
    for physical, path in _text_files(ws, None, (".py",) + DOC_SUFFIXES):
        try:
            data = physical.read_bytes()
        except OSError:
            continue
        if last.encode() not in data or len(data) > MAX_FILE_BYTES:
            continue
        text, _ = decode_source(data)
        if text is None:
            continue
        lines = text.splitlines()
        if path.endswith(".py"):
            tree = parser().parse(text.encode("utf-8"))
            seen: set[tuple[int, str]] = set()
            for capture, nodes in QueryCursor(query("python-refs.scm")).captures(tree.root_node).items():
                use = capture.rsplit(".", 1)[-1]
                for node in nodes:
                    # a node of a tree parsed from bytes always has its text
                    if node.text is None or node.text.decode("utf-8", "replace") != last:
                        continue
                    row = node.start_point.row
                    if (row, use) in seen:
                        continue
                    seen.add((row, use))
                    found.append(
                        {
                            "file": path,
                            "line": row + 1,
                            "use": use,
                            "area": area(path),
                            "text": _clip(lines[row].strip()) if row < len(lines) else "",
                        }
                    )
        else:
            for no, line in enumerate(lines, 1):
                if word.search(line):
                    found.append(
                        {"file": path, "line": no, "use": "mention", "area": "docs", "text": _clip(line.strip())}
                    )
    found.sort(key=lambda u: (_AREAS.index(u["area"]), u["file"], u["line"]))
    return found


@tool(
    "Find uses of a name: call sites, imports, arguments and base classes in Python files, and mentions in docs; "
    "examples/ first, then docs/, tests/ and the library itself.",
    name="Function, class or method name (the last dotted part is searched), e.g. get_peft_model.",
)
def find_usages(ws: Workspace, name: str) -> Usages:
    found = usages(ws, name)
    counts = {a: sum(1 for u in found if u["area"] == a) for a in _AREAS}
    shown, truncated, note = _capped(found, MAX_MATCHES, "uses", "search a dotted name or use search_text with a glob")
    if not found:
        note = f"no uses of {name!r} found"
    return {"name": name, "counts": counts, "uses": shown, "truncated": truncated, "note": note}
