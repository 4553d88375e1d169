"""The bodies of indexed definitions, read with CPython's ``ast``: the node of a symbol (its own lines
parsed, or only its decorators, header and docstring), module-level assignments of a name, the statements
a body runs itself (nested definitions excluded) and the full dotted name of what a call calls.

The index keeps signatures and docstrings, not bodies; the facts that need a body (what a call returns,
what it writes, what it does with a parameter) read it here, so they all see the same nodes. Nothing
parses a whole module: one definition of a big module costs its own lines, not the module's.
"""

from __future__ import annotations

import ast
import re
import tokenize
from collections.abc import Iterator
from functools import lru_cache

from tools import pyast
from tools.index.records import Symbol
from tools.index.workspace import Workspace

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


@lru_cache(maxsize=128)
def _text(path: str, mtime: float) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read()
    except OSError:
        return None


def _key(ws: Workspace, file: str) -> tuple[str, float] | None:
    try:
        physical = ws.source.physical(file)
        return str(physical), physical.stat().st_mtime
    except (OSError, ValueError):
        return None


def top_level_assignments(ws: Workspace, file: str, name: str) -> list[ast.stmt]:
    """The module-level statements that assign ``name`` (``X = …``, ``X: T = …``, ``X += …``), in order,
    each parsed on its own: found at the start of a line and cut at the end of its logical line by the
    tokenizer, so a big module is not parsed whole for one constant."""
    key = _key(ws, file)
    text = _text(*key) if key is not None else None
    if key is None or text is None or name not in text:
        return []
    lines = _lines(*key)
    head = re.compile(rf"{re.escape(name)}\s*(?::[^=\n]*)?\+?=(?!=)")
    out: list[ast.stmt] = []
    for i, line in enumerate(lines):
        if not line.startswith(name) or not head.match(line):
            continue
        end = _logical_end(lines, i)
        try:
            tree = pyast.parse("".join(lines[i:end]))
        except (SyntaxError, ValueError):
            continue
        for stmt in tree.body:
            ast.increment_lineno(stmt, i)
            out.append(stmt)
    return out


def _logical_end(lines: tuple[str, ...], start: int) -> int:
    """The index after the last physical line of the logical line that starts at ``start``."""
    rows = iter(lines[start:])
    try:
        for tok in tokenize.generate_tokens(lambda: next(rows, "")):
            if tok.type in (tokenize.NEWLINE, tokenize.ENDMARKER):
                return start + tok.end[0]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return start + 1
    return len(lines)


def source_text(ws: Workspace, file: str) -> str | None:
    """The file's text (cached with its tree), None when it cannot be read."""
    key = _key(ws, file)
    return _text(*key) if key is not None else None


def source_of(ws: Workspace, file: str, node: ast.AST) -> str | None:
    """A node's text exactly as the file writes it (quotes and spacing kept, unlike ``ast.unparse``)."""
    key = _key(ws, file)
    text = _text(*key) if key is not None else None
    return ast.get_source_segment(text, node) if text is not None else None


@lru_cache(maxsize=1024)
def _lines(path: str, mtime: float) -> tuple[str, ...]:
    text = _text(path, mtime)
    return tuple(text.splitlines(keepends=True)) if text is not None else ()


@lru_cache(maxsize=1024)
def _definition(
    path: str, mtime: float, first: int, start: int, end: int, name: str, pad: bool = False
) -> FunctionNode | ast.ClassDef | None:
    """The definition on lines ``first``..``end`` (decorators from ``first``, ``def``/``class`` at
    ``start``), parsed on its own: a big module is not parsed whole for one of its functions. The lines
    keep their indentation (an ``if 1:`` header makes an indented block parse), so positions are the
    file's own."""
    lines = _lines(path, mtime)
    if not 0 < first <= start <= end <= len(lines):
        return None
    segment = "".join(lines[first - 1 : end])
    if pad:  # a header cut from its body: an indented `pass` makes it a definition again
        def_line = lines[start - 1]
        segment = segment.rstrip("\n") + "\n" + def_line[: len(def_line) - len(def_line.lstrip())] + "    pass\n"
    indented = segment[:1] in (" ", "\t")
    try:
        tree = pyast.parse(("if 1:\n" if indented else "") + segment)
    except (SyntaxError, ValueError):
        return None
    body = tree.body[0].body if indented and isinstance(tree.body[0], ast.If) else tree.body
    node = body[0] if body else None
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) or node.name != name:
        return None
    ast.increment_lineno(node, first - 1 - (1 if indented else 0))
    return node


@lru_cache(maxsize=1024)
def _head_end(path: str, mtime: float, start: int, end: int) -> int:
    """The last line of a definition's header and docstring; minus the header's last line when it has no
    docstring. What a reader of its decorators and docstring needs, without the body."""
    lines = _lines(path, mtime)
    rows = iter(lines[start - 1 : end])
    header_done = False
    depth = 0
    try:
        for tok in tokenize.generate_tokens(lambda: next(rows, "")):
            if not header_done:
                if tok.type == tokenize.OP and tok.string in "([{":
                    depth += 1
                elif tok.type == tokenize.OP and tok.string in ")]}":
                    depth -= 1
                elif tok.type == tokenize.OP and tok.string == ":" and depth == 0:
                    header_done = True
                continue
            if tok.type in (tokenize.NEWLINE, tokenize.NL, tokenize.INDENT, tokenize.COMMENT):
                continue
            if tok.type == tokenize.STRING:
                return start - 1 + tok.end[0]
            return -(start - 1 + tok.start[0] - 1)  # no docstring: the header ends before this token
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return end
    return end


def definition_head(ws: Workspace, sym: Symbol) -> FunctionNode | ast.ClassDef | None:
    """The node of a symbol's decorators, header and docstring only (its body cut after the docstring):
    enough for what decorators add to the docstring, cheap for a class of thousands of lines."""
    key = _key(ws, sym.file)
    if key is None:
        return None
    last = _head_end(*key, sym.start_line, sym.end_line)
    node = _definition(*key, sym.decorator_line or sym.start_line, sym.start_line, abs(last), sym.name, last < 0)
    return node if node is not None else definition_node(ws, sym)


def definition_node(ws: Workspace, sym: Symbol) -> FunctionNode | ast.ClassDef | None:
    """The node of an indexed symbol: its own lines, decorators included, parsed with CPython's ``ast``."""
    key = _key(ws, sym.file)
    if key is None:
        return None
    return _definition(*key, sym.decorator_line or sym.start_line, sym.start_line, sym.end_line, sym.name)


def function_node(ws: Workspace, sym: Symbol) -> FunctionNode | None:
    node = definition_node(ws, sym)
    return node if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) else None


def own_nodes(stmts: list[ast.stmt]) -> Iterator[ast.AST]:
    """Every node the statements run themselves: nested functions, classes and lambdas are other bodies."""
    stack: list[ast.AST] = list(reversed(stmts))
    while stack:
        node = stack.pop()
        yield node
        children = [c for c in ast.iter_child_nodes(node) if not isinstance(c, _SCOPES)]
        stack.extend(reversed(children))


def is_docstring(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str)


def is_stub(fn: FunctionNode) -> bool:
    """A body that does nothing of its own: a docstring, ``pass``, ``...`` and ``raise`` only (an
    abstract method, or a placeholder a subclass replaces)."""
    for s in fn.body:
        if is_docstring(s) or isinstance(s, (ast.Pass, ast.Raise)):
            continue
        if isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant) and s.value.value is Ellipsis:
            continue
        return False
    return True


def dotted(node: ast.expr) -> str | None:
    """``a.b.c`` for a chain of attributes on a name, else None."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return ".".join([node.id, *reversed(parts)])


def local_imports(fn: FunctionNode) -> dict[str, str]:
    """Names a body binds with its own ``import`` statements → the dotted name they stand for."""
    out: dict[str, str] = {}
    for n in own_nodes(fn.body):
        if isinstance(n, ast.Import):
            for a in n.names:
                out[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
        elif isinstance(n, ast.ImportFrom) and n.module and not n.level:
            for a in n.names:
                out[a.asname or a.name] = f"{n.module}.{a.name}"
    return out


def qualified(ws: Workspace, module: str, name: str, local: dict[str, str]) -> str:
    """The dotted name ``name`` (``torch.save``, ``safe_save_file``) stands for in ``module``: its head
    through the body's own imports, then the module's import bindings; as written when neither binds it."""
    head, _, rest = name.partition(".")
    full = local.get(head)
    if full is None:
        rec = ws.index.modules.get(module)
        binding = next((b for b in reversed(rec.bindings) if b.name == head), None) if rec is not None else None
        if binding is not None:
            full = f"{binding.module}.{binding.attr}" if binding.attr else binding.module
    if full is None:
        return name
    return f"{full}.{rest}" if rest else full


def call_name(call: ast.Call) -> str | None:
    """The dotted text of what a call calls (``os.path.join``, ``self.save``), None for computed callees."""
    return dotted(call.func)


def positional_params(sym: Symbol) -> list[str]:
    """The parameter names a call's positional arguments bind to, ``self``/``cls`` of a method left out."""
    names = [p.name for p in sym.params if p.kind in ("positional_only", "positional_or_keyword")]
    if names and names[0] in ("self", "cls") and sym.kind == "method":
        names = names[1:]
    return names
