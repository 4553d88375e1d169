"""The docstring a definition has once its decorators ran: what ``help()`` shows a user.

Libraries assemble docstrings from shared constants with decorators (transformers'
``@add_end_docstrings(ENCODE_KWARGS_DOCSTRING)`` on the tokenizer's ``__call__``,
``@add_start_docstrings(...)`` on model classes). A decorator counts when the repository defines it and
its body assigns a ``__doc__`` made of the decorated object's own ``__doc__`` and the decorator's
arguments: the order of the two in that expression says whether the arguments go before or after.
A function applied to a class at module level can also install a documented method on it
(``installed_docstring``).
The arguments must evaluate to strings (tools.index.constants); anything else leaves the docstring as
written. Nothing is guessed from a decorator's name.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from typing import Literal

from tools.index.bodies import definition_head, dotted, function_node, own_nodes, source_text
from tools.index.constants import string_value
from tools.index.records import Symbol
from tools.index.workspace import Workspace

Position = Literal["start", "end"]


def runtime_docstring(ws: Workspace, sym: Symbol) -> str | None:
    """``sym``'s docstring with the text its docstring decorators add, in the order they add it."""
    if not any("(" in d for d in sym.decorators):  # only a decorator call can take the text to add
        return sym.docstring
    node = definition_head(ws, sym)
    if node is None or not node.decorator_list:
        return sym.docstring
    # as written, indentation kept: the added constants are indented to continue its sections
    raw = ast.get_docstring(node, clean=False) or ""
    doc = raw
    for dec in reversed(node.decorator_list):  # the decorator nearest the definition runs first
        if not isinstance(dec, ast.Call) or dec.keywords:
            continue
        name = dotted(dec.func)
        factory = ws.names.resolve_dotted(sym.module, name) if name else None
        if not isinstance(factory, Symbol) or factory.kind != "function":
            continue
        where = _position(ws, factory)
        if where is None:
            continue
        parts = [string_value(ws, sym.module, a) for a in dec.args]
        if any(p is None for p in parts):
            continue
        added = "".join(p for p in parts if p is not None)
        doc = added + doc if where == "start" else doc + added
    return doc if doc != raw else sym.docstring


def _position(ws: Workspace, factory: Symbol) -> Position | None:
    """Where the decorator factory puts its arguments in the ``__doc__`` it assigns, from its body."""
    fn = function_node(ws, factory)
    if fn is None or fn.args.vararg is None and not fn.args.args:
        return None
    params = {a.arg for a in fn.args.args} | ({fn.args.vararg.arg} if fn.args.vararg else set())
    for inner in ast.walk(fn):
        if not isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef)) or inner is fn:
            continue
        assigns = _assignments(inner)
        added = _tainted(assigns, lambda n: isinstance(n, ast.Name) and n.id in params)
        own = _tainted(assigns, lambda n: isinstance(n, ast.Attribute) and n.attr == "__doc__")
        for n in own_nodes(inner.body):
            if isinstance(n, ast.Assign) and any(
                isinstance(t, ast.Attribute) and t.attr == "__doc__" for t in n.targets
            ):
                order = [_kind(leaf, added, own, params) for leaf in _leaves(n.value, assigns, 0)]
                kinds = [k for k in order if k is not None]
                if "added" in kinds and "own" in kinds:
                    return "start" if kinds.index("added") < kinds.index("own") else "end"
    return None


def _assignments(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> dict[str, list[ast.expr]]:
    out: dict[str, list[ast.expr]] = {}
    for n in own_nodes(fn.body):
        if isinstance(n, ast.Assign):
            for t in n.targets:
                if isinstance(t, ast.Name):
                    out.setdefault(t.id, []).append(n.value)
    return out


def _tainted(assigns: dict[str, list[ast.expr]], hit: Callable[[ast.AST], bool]) -> set[str]:
    """Local names whose value comes, directly or through other locals, from a node ``hit`` matches."""
    out: set[str] = set()
    changed = True
    while changed:
        changed = False
        for name, values in assigns.items():
            if name in out:
                continue
            if any(hit(n) or (isinstance(n, ast.Name) and n.id in out) for v in values for n in ast.walk(v)):
                out.add(name)
                changed = True
    return out


def _leaves(expr: ast.expr, assigns: dict[str, list[ast.expr]], depth: int) -> list[ast.expr]:
    """The operands of a ``+`` chain, locals assigned once replaced by their value."""
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
        return _leaves(expr.left, assigns, depth) + _leaves(expr.right, assigns, depth)
    if isinstance(expr, ast.Name) and len(assigns.get(expr.id, [])) == 1 and depth < 8:
        return _leaves(assigns[expr.id][0], assigns, depth + 1)
    return [expr]


def _kind(leaf: ast.expr, added: set[str], own: set[str], params: set[str]) -> str | None:
    names = {n.id for n in ast.walk(leaf) if isinstance(n, ast.Name)}
    if any(isinstance(n, ast.Attribute) and n.attr == "__doc__" for n in ast.walk(leaf)) or names & own:
        return "own"
    if names & (added | params):
        return "added"
    return None


def installed_docstring(ws: Workspace, owner: Symbol, method: str) -> str | None:
    """The docstring a class-level installer gives ``owner.method``: a function of the repository applied
    to the class at module level (``AutoModelForCausalLM = auto_class_update(AutoModelForCausalLM, ...)``)
    whose body sets ``<f>.__doc__`` from a string constant and installs ``<f>`` as ``cls.<method>``. The
    constant's text is what the installed docstring is made from (the installer may still substitute
    words in it); None when no such installer is found."""
    text = source_text(ws, owner.file)
    if text is None or "." in owner.qualname or owner.name not in text:
        return None
    # `Name = installer(Name, ...)` at the module's top level; found in the text, so that a module is not
    # parsed whole for the (rare) classes that have one
    pattern = re.compile(rf"^{re.escape(owner.name)}\s*=\s*([A-Za-z_][\w.]*)\(\s*{re.escape(owner.name)}\b", re.M)
    for m in pattern.finditer(text):
        installer = ws.names.resolve_dotted(owner.module, m.group(1))
        if isinstance(installer, Symbol) and installer.kind == "function":
            doc = _installed(ws, installer, method)
            if doc is not None:
                return doc
    return None


def _installed(ws: Workspace, installer: Symbol, method: str) -> str | None:
    fn = function_node(ws, installer)
    if fn is None or not fn.args.args:
        return None
    cls = fn.args.args[0].arg
    assigns = _assignments(fn)
    installed: set[str] = set()  # locals that end up as cls.<method>
    docs: dict[str, ast.expr] = {}  # local -> what its __doc__ is set to
    for n in own_nodes(fn.body):
        if not isinstance(n, ast.Assign):
            continue
        for t in n.targets:
            if isinstance(t, ast.Attribute) and dotted(t) == f"{cls}.{method}":
                installed.update(x.id for x in ast.walk(n.value) if isinstance(x, ast.Name))
            elif isinstance(t, ast.Attribute) and t.attr == "__doc__" and isinstance(t.value, ast.Name):
                docs[t.value.id] = n.value
    for local, value in docs.items():
        if local not in installed:
            continue
        for constant in _constants_in(ws, installer.module, value, assigns):
            return constant
    return None


def _constants_in(ws: Workspace, module: str, expr: ast.expr, assigns: dict[str, list[ast.expr]]) -> list[str]:
    """Module-level string constants an expression is made from, through the locals it reads (each local
    followed once)."""
    out: list[str] = []
    seen: set[str] = set()
    todo: list[ast.expr] = [expr]
    while todo:
        for n in ast.walk(todo.pop(0)):
            if not isinstance(n, ast.Name) or n.id in seen:
                continue
            seen.add(n.id)
            if n.id in assigns:
                todo.extend(assigns[n.id])
            elif (text := string_value(ws, module, n)) is not None and text not in out:
                out.append(text)
    return out
