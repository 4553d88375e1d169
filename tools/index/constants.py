"""Strings a module defines, read without running it: the docstring constants decorators add to a
``__doc__`` (``ENCODE_KWARGS_DOCSTRING``), file-name constants (``WEIGHTS_NAME``), and the text a small
string-building function returns for literal arguments (``build_pipeline_init_args(has_tokenizer=True)``).

Names are followed through imports to the module that assigns them. A value this reading cannot settle
(a condition on something not literal, a loop, a call it does not know, ``str.format``) is None: a string
is never guessed.
"""

from __future__ import annotations

import ast

from tools import pyast
from tools.index.bodies import function_node, is_docstring, top_level_assignments
from tools.index.records import Symbol
from tools.index.workspace import Workspace

_MAX_DEPTH = 8
_MAX_STATEMENTS = 200
Env = dict[str, object]
_UNSET = object()  # a parameter the call leaves to no literal


class _GiveUp(Exception):
    """The value depends on something this reading does not evaluate."""


def assigned_in(ws: Workspace, module: str, name: str, depth: int = 0) -> str | None:
    """The module whose top level assigns ``name`` as ``module`` sees it (imports followed)."""
    rec = ws.index.modules.get(module)
    if rec is None or depth > _MAX_DEPTH:
        return None
    if name in rec.assignments:
        return module
    for b in reversed(rec.bindings):
        if b.name == name and b.attr is not None:
            return assigned_in(ws, b.module, b.attr, depth + 1)
    for b in rec.bindings:
        if b.name == "*":
            home = assigned_in(ws, b.module, name, depth + 1)
            if home is not None:
                return home
    return None


def _top_value(ws: Workspace, module: str, name: str) -> ast.expr | None:
    """The expression the module's top level leaves in ``name`` (``+=`` continues the last one)."""
    rec = ws.index.modules.get(module)
    if rec is None:
        return None
    value: ast.expr | None = None
    for stmt in top_level_assignments(ws, rec.path, name):
        if isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in stmt.targets):
            value = stmt.value
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.target.id == name:
            value = stmt.value
        elif isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name) and stmt.target.id == name:
            value = ast.BinOp(value, stmt.op, stmt.value) if value is not None else None
    return value


def string_constant(ws: Workspace, module: str, name: str) -> str | None:
    """The string ``name`` holds at the top level of ``module`` (``WEIGHTS_NAME`` → ``"adapter_model.bin"``)."""
    try:
        value = _string(ws, module, ast.Name(id=name, ctx=ast.Load()), {}, 0)
    except _GiveUp:
        return None
    return value


def string_value(ws: Workspace, module: str, node: ast.expr) -> str | None:
    """The string an expression written in ``module`` evaluates to, when it is made of literals,
    constants and calls of the repository's own string-building functions."""
    try:
        return _string(ws, module, node, {}, 0)
    except _GiveUp:
        return None


def _string(ws: Workspace, module: str, node: ast.expr, env: Env, depth: int) -> str:
    value = _value(ws, module, node, env, depth)
    if not isinstance(value, str):
        raise _GiveUp
    return value


def _value(ws: Workspace, module: str, node: ast.expr | None, env: Env, depth: int) -> object:
    if node is None or depth > _MAX_DEPTH:
        raise _GiveUp
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        if node.id in env:
            if env[node.id] is _UNSET:
                raise _GiveUp
            return env[node.id]
        home = assigned_in(ws, module, node.id)
        if home is None:
            raise _GiveUp
        return _string(ws, home, _top_value(ws, home, node.id) or ast.Constant(None), {}, depth + 1)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _value(ws, module, node.left, env, depth), _value(ws, module, node.right, env, depth)
        if isinstance(left, str) and isinstance(right, str):
            return left + right
        raise _GiveUp
    if isinstance(node, ast.JoinedStr):
        parts = []
        for v in node.values:
            if isinstance(v, ast.FormattedValue) and v.conversion == -1 and v.format_spec is None:
                parts.append(_string(ws, module, v.value, env, depth))
            elif isinstance(v, ast.Constant) and isinstance(v.value, str):
                parts.append(v.value)
            else:
                raise _GiveUp
        return "".join(parts)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id not in env:
        target = ws.names.resolve(module, node.func.id)
        if isinstance(target, Symbol) and target.kind == "function":
            return _call(ws, target, node, module, env, depth + 1)
    raise _GiveUp


def _literal(ws: Workspace, module: str, node: ast.expr, env: Env, depth: int) -> object:
    if isinstance(node, ast.Constant):
        return node.value
    return _value(ws, module, node, env, depth)


def _call(ws: Workspace, fn: Symbol, call: ast.Call, module: str, env: Env, depth: int) -> object:
    """Run a string-building function of the repository on literal arguments."""
    node = function_node(ws, fn)
    if node is None or any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
        raise _GiveUp
    local: Env = {p.name: _UNSET for p in fn.params}
    for p in fn.params:
        if p.default is not None:
            try:
                local[p.name] = pyast.literal_eval(p.default)
            except (ValueError, SyntaxError):
                pass
    names = [p.name for p in fn.params if p.kind in ("positional_only", "positional_or_keyword")]
    if len(call.args) > len(names):
        raise _GiveUp
    for name, arg in zip(names, call.args):
        local[name] = _literal(ws, module, arg, env, depth)
    for kw in call.keywords:
        local[str(kw.arg)] = _literal(ws, module, kw.value, env, depth)
    budget = [_MAX_STATEMENTS]
    result = _run(ws, fn.module, node.body, local, depth, budget)
    if result is None:
        raise _GiveUp
    return result[0]


def _run(
    ws: Workspace, module: str, body: list[ast.stmt], env: Env, depth: int, budget: list[int]
) -> tuple[object] | None:
    """Execute straight-line string building; (value,) at a ``return``, None when the block falls through."""
    for stmt in body:
        budget[0] -= 1
        if budget[0] < 0:
            raise _GiveUp
        if is_docstring(stmt) or isinstance(stmt, ast.Pass):
            continue
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            env[stmt.targets[0].id] = _value(ws, module, stmt.value, env, depth)
        elif isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name) and isinstance(stmt.op, ast.Add):
            before, more = env.get(stmt.target.id), _value(ws, module, stmt.value, env, depth)
            if not (isinstance(before, str) and isinstance(more, str)):
                raise _GiveUp
            env[stmt.target.id] = before + more
        elif isinstance(stmt, ast.If):
            found = _run(ws, module, stmt.body if _truth(stmt.test, env) else stmt.orelse, env, depth, budget)
            if found is not None:
                return found
        elif isinstance(stmt, ast.Return):
            return (_value(ws, module, stmt.value, env, depth),)
        else:
            raise _GiveUp
    return None


def _truth(test: ast.expr, env: Env) -> bool:
    if isinstance(test, ast.Constant):
        return bool(test.value)
    if isinstance(test, ast.Name) and test.id in env:
        return bool(env[test.id])
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return not _truth(test.operand, env)
    if isinstance(test, ast.BoolOp):
        values = [_truth(v, env) for v in test.values]
        return all(values) if isinstance(test.op, ast.And) else any(values)
    raise _GiveUp
