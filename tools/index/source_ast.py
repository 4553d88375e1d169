"""The ast of an indexed definition: module trees parsed once per file version, the node of a symbol,
a body without its docstring, and what a module binds with ``import x``.

The index keeps facts (names, lines, signatures); what the drafter reads inside a body (calls, assignments,
loops) comes from CPython's ``ast`` of the same file, found by the symbol's line and name.
"""

from __future__ import annotations

import ast
from functools import lru_cache

from tools import pyast
from tools.index.records import Symbol
from tools.index.workspace import Workspace

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


@lru_cache(maxsize=128)
def _tree(path: str, mtime: float) -> ast.Module | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return pyast.parse(fh.read())
    except (SyntaxError, ValueError, OSError):
        return None


def module_tree(ws: Workspace, file: str) -> ast.Module | None:
    physical = ws.source.physical(file)
    try:
        return _tree(str(physical), physical.stat().st_mtime)
    except OSError:
        return None


def definition_node(ws: Workspace, sym: Symbol) -> FunctionNode | ast.ClassDef | None:
    """The ast node of an indexed symbol: the definition of its name that starts on its line."""
    tree = module_tree(ws, sym.file)
    if tree is None:
        return None
    for n in ast.walk(tree):
        if (
            isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            and n.lineno == sym.start_line
            and n.name == sym.name
        ):
            return n
    return None


def function_node(ws: Workspace, sym: Symbol) -> FunctionNode | None:
    node = definition_node(ws, sym)
    return node if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) else None


def module_docstring(ws: Workspace, file: str) -> str | None:
    tree = module_tree(ws, file)
    return ast.get_docstring(tree) if tree is not None else None


def imported_modules(ws: Workspace, file: str) -> set[str]:
    """Names a module binds with ``import x`` / ``import x as y``: ``x.f()`` is a call of a plain helper."""
    tree = module_tree(ws, file)
    if tree is None:
        return set()
    out: set[str] = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Import):
            out.update((a.asname or a.name).split(".")[0] for a in n.names)
    return out


def is_docstring(s: ast.stmt) -> bool:
    return isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant) and isinstance(s.value.value, str)


def body(stmts: list[ast.stmt]) -> list[ast.stmt]:
    """Statements that do something: no docstring, ``pass`` or import."""
    return [s for s in stmts if not is_docstring(s) and not isinstance(s, (ast.Pass, ast.Import, ast.ImportFrom))]


def is_abstract(node: FunctionNode) -> bool:
    """A body that only raises NotImplementedError (or is only ``...``): subclasses supply the work."""
    stmts = body(node.body)
    if not stmts:
        return any(
            isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant) and s.value.value is Ellipsis
            for s in node.body
        ) or any(d for d in node.decorator_list if "abstract" in ast.unparse(d))
    return all(isinstance(s, ast.Raise) for s in stmts) and any("NotImplementedError" in ast.dump(s) for s in stmts)


def walk_own(node: ast.AST) -> list[ast.AST]:
    """Every node under ``node`` except what nested functions, classes and lambdas hold (their code runs
    elsewhere), in source order."""
    out: list[ast.AST] = []
    stack = list(reversed(list(ast.iter_child_nodes(node))))
    while stack:
        n = stack.pop()
        out.append(n)
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        stack.extend(reversed(list(ast.iter_child_nodes(n))))
    return out


def body_lines(node: FunctionNode) -> int:
    stmts = body(node.body)
    if not stmts:
        return 0
    return (stmts[-1].end_lineno or stmts[-1].lineno) - stmts[0].lineno + 1
