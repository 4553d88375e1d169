"""Concrete argument values from the library's own teaching material.

A walkthrough example reads best with the values the library itself teaches (``"facebook/opt-125m"``,
``r=16``) instead of placeholders. This module collects, for the calls a run documents, the literal
arguments the library passes them, most authoritative source first: the README's code blocks, docs/
(code blocks of .md/.mdx/.rst and .py files), examples/, the ``>>>`` and fenced examples of
docstrings, then tests/. Source text is parsed, never run; oversized files are skipped.
"""

from __future__ import annotations

import ast
import re
import textwrap
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from tools import pyast
from tools.index.workspace import Workspace
from tools.navigate import area
from tools.source.resolve import iter_files

MAX_FILE_BYTES = 2_000_000
MAX_LITERAL_CHARS = 80
# authority: what a maintainer wrote to teach comes before what a test needed
RANKS = {"readme": 0, "docs": 1, "examples": 2, "docstring": 3, "tests": 4}


class Snippet(NamedTuple):
    rank: int
    file: str
    line: int
    code: str


class Value(NamedTuple):
    text: str  # the literal's source text, e.g. '"facebook/opt-125m"'
    file: str
    line: int


_FENCE = re.compile(r"^[ \t]*```[ \t]*(?:python|py|python3)[ \t]*\n(.*?)^[ \t]*```", re.S | re.M)
_RST = re.compile(r"^([ \t]*)\.\. code-block::[ \t]*(?:python|py)[ \t]*\n((?:[ \t]*\n|\1[ \t]+.*\n)+)", re.M)


def code_blocks(text: str) -> Iterator[tuple[int, str]]:
    """(1-based line, code) of the python code blocks of a Markdown or reStructuredText text."""
    for m in _FENCE.finditer(text):
        yield text.count("\n", 0, m.start(1)) + 1, textwrap.dedent(m.group(1))
    for m in _RST.finditer(text):
        yield text.count("\n", 0, m.start(2)) + 1, textwrap.dedent(m.group(2))


def doctest_code(doc: str) -> str:
    """The statements of a docstring's ``>>>`` examples (prompts stripped), else its fenced blocks."""
    lines = [ln.strip() for ln in doc.splitlines()]
    prompts = [ln[4:] for ln in lines if ln.startswith((">>> ", "... ")) or ln in (">>>", "...")]
    if prompts:
        return "\n".join(prompts)
    return "\n\n".join(code for _, code in code_blocks(doc))


def _kind(rel: str) -> str | None:
    if "/" not in rel and rel.lower().startswith("readme"):
        return "readme"
    a = area(rel)
    return a if a in ("docs", "examples", "tests") else None


def snippets(ws: Workspace, needles: Iterable[bytes] = ()) -> list[Snippet]:
    """The library's code that teaches, most authoritative first. With ``needles``, only files and
    docstrings that contain one of them (a cheap filter before parsing)."""
    wanted = [n for n in needles if n]
    out: list[Snippet] = []
    for phys, rel in iter_files(ws.source, (".py", ".md", ".mdx", ".rst", ".txt")):
        kind = _kind(rel)
        if kind is None:
            continue
        try:
            if phys.stat().st_size > MAX_FILE_BYTES:
                continue
            data = phys.read_bytes()
        except OSError:
            continue
        if wanted and not any(n in data for n in wanted):
            continue
        text = data.decode("utf-8", errors="replace")
        if rel.endswith(".py"):
            out.append(Snippet(RANKS[kind], rel, 1, text))
        else:
            out.extend(Snippet(RANKS[kind], rel, line, code) for line, code in code_blocks(text))
    for sym in ws.index.symbols:
        doc = sym.docstring or ""
        if ">>>" not in doc and "```" not in doc:
            continue
        if wanted and not any(n.decode() in doc for n in wanted):
            continue
        code = doctest_code(doc)
        if code:
            out.append(Snippet(RANKS["docstring"], sym.file, sym.start_line, code))
    return sorted(out, key=lambda s: (s.rank, s.file, s.line))


class _Source:
    """A snippet's lines as bytes: node offsets are UTF-8 byte columns, and ast.get_source_segment
    splits the whole text again on every call (minutes on a large test file)."""

    def __init__(self, text: str) -> None:
        self.lines = [ln.encode("utf-8") for ln in text.splitlines(keepends=True)]

    def segment(self, node: ast.expr) -> str | None:
        end_line, end_col = node.end_lineno, node.end_col_offset
        if end_line is None or end_col is None or end_line > len(self.lines):
            return None
        if node.lineno == end_line:
            return self.lines[node.lineno - 1][node.col_offset : end_col].decode("utf-8", "replace")
        parts = [self.lines[node.lineno - 1][node.col_offset :]]
        parts += self.lines[node.lineno : end_line - 1]
        parts.append(self.lines[end_line - 1][:end_col])
        return b"".join(parts).decode("utf-8", "replace")


def _literal(node: ast.expr, text: _Source) -> str | None:
    if isinstance(node, (ast.Name, ast.Attribute, ast.Call, ast.Lambda)):
        return None  # never a literal: skip literal_eval's exception
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    if value is None or value is Ellipsis:  # `...` is a placeholder, not a value
        return None
    seg = text.segment(node) or ast.unparse(node)
    seg = " ".join(seg.split())
    return seg if len(seg) <= MAX_LITERAL_CHARS and "\n" not in seg else None


def _assigned_literals(tree: ast.AST, text: _Source) -> dict[str, list[tuple[int, str]]]:
    """name -> [(line, literal)] of simple ``name = <literal>`` assignments."""
    out: dict[str, list[tuple[int, str]]] = {}
    for n in ast.walk(tree):
        if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name):
            lit = _literal(n.value, text)
            if lit is not None:
                out.setdefault(n.targets[0].id, []).append((n.lineno, lit))
    return out


def _value_of(node: ast.expr, text: _Source, assigned: dict[str, list[tuple[int, str]]], line: int) -> str | None:
    lit = _literal(node, text)
    if lit is not None:
        return lit
    if isinstance(node, ast.Name):  # `model_id = "…"` earlier in the same snippet
        before = [v for ln, v in assigned.get(node.id, []) if ln <= line]
        return before[-1] if before else None
    return None


def _matches(call: ast.Call, receiver: str | None, member: str) -> bool:
    f = call.func
    if isinstance(f, ast.Name):
        return receiver is None and f.id == member
    if isinstance(f, ast.Attribute) and f.attr == member:
        return receiver is None or (isinstance(f.value, ast.Name) and f.value.id == receiver)
    return False


MAX_PARSED = 300


def literal_arguments(
    found: list[Snippet], key: str, wanted: Iterable[int | str] | None = None
) -> dict[int | str, Value]:
    """For a call key (``member`` or ``Receiver.member``), the literal each argument slot (position or
    keyword) is given in the library's own calls, from the most authoritative snippet that gives one.
    With ``wanted``, the search stops once those slots have a value (and after MAX_PARSED snippets)."""
    receiver, _, member = key.rpartition(".")
    out: dict[int | str, Value] = {}
    want = set(wanted) if wanted is not None else None
    parsed = 0
    for snip in found:
        if want is not None and want <= set(out) or parsed >= MAX_PARSED:
            break
        if member not in snip.code:
            continue
        parsed += 1
        try:
            tree = pyast.parse(snip.code)
        except (SyntaxError, ValueError, RecursionError):
            continue
        assigned: dict[str, list[tuple[int, str]]] | None = None
        source = _Source("")
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and _matches(node, receiver or None, member)):
                continue
            if assigned is None:
                source = _Source(snip.code)
                assigned = _assigned_literals(tree, source)
            where = snip.line + node.lineno - 1
            for i, a in enumerate(node.args):
                if isinstance(a, ast.Starred):
                    break
                if i not in out and (v := _value_of(a, source, assigned, node.lineno)) is not None:
                    out[i] = Value(v, snip.file, where)
            for k in node.keywords:
                if k.arg and k.arg not in out and (v := _value_of(k.value, source, assigned, node.lineno)):
                    out[k.arg] = Value(v, snip.file, where)
    return out
