"""What a piece of Python code binds and what it needs: the name analysis behind example slicing.

Scopes are followed as far as an example needs: names bound inside a def, lambda, class body or
comprehension do not leak out, and the free names they load do.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence


def target_names(node: ast.AST) -> list[str]:
    return [n.id for n in ast.walk(node) if isinstance(n, ast.Name)]


def _args_names(a: ast.arguments) -> set[str]:
    out = {x.arg for x in a.posonlyargs + a.args + a.kwonlyargs}
    out |= {x.arg for x in (a.vararg, a.kwarg) if x is not None}
    return out


class _Names(ast.NodeVisitor):
    """Names a statement binds in its own scope and the free names it loads, in source order."""

    def __init__(self) -> None:
        self.binds: list[str] = []
        self.uses: list[str] = []

    def visit_Name(self, node: ast.Name) -> None:
        (self.uses if isinstance(node.ctx, ast.Load) else self.binds).append(node.id)

    def visit_Import(self, node: ast.Import) -> None:
        self.binds += [a.asname or a.name.split(".")[0] for a in node.names]

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        self.binds += [a.asname or a.name for a in node.names if a.name != "*"]

    def _scope(self, inner: Sequence[ast.AST], bound: set[str], outer: Sequence[ast.AST]) -> None:
        for n in outer:
            self.visit(n)
        sub = _Names()
        for n in inner:
            sub.visit(n)
        local = bound | set(sub.binds)
        self.uses += [u for u in sub.uses if u not in local]

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        a = node.args
        outer = node.decorator_list + a.defaults + [d for d in a.kw_defaults if d is not None]
        outer += [x.annotation for x in a.posonlyargs + a.args + a.kwonlyargs if x.annotation is not None]
        outer += [node.returns] if node.returns is not None else []
        self._scope(node.body, _args_names(a), outer)
        self.binds.append(node.name)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._scope(node.body, set(), node.decorator_list + node.bases + [k.value for k in node.keywords])
        self.binds.append(node.name)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._scope([node.body], _args_names(node.args), node.args.defaults)

    def _comprehension(
        self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp, elts: list[ast.expr]
    ) -> None:
        gens = node.generators
        bound = {n for g in gens for n in target_names(g.target)}
        self._scope(elts + [g.iter for g in gens[1:]] + [c for g in gens for c in g.ifs], bound, [gens[0].iter])

    def visit_ListComp(self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp) -> None:
        self._comprehension(node, [node.elt])

    visit_SetComp = visit_GeneratorExp = visit_ListComp

    def visit_DictComp(self, node: ast.DictComp) -> None:
        self._comprehension(node, [node.key, node.value])

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.name:
            self.binds.append(node.name)
        self.generic_visit(node)

    def visit_MatchAs(self, node: ast.MatchAs | ast.MatchStar) -> None:
        if node.name:
            self.binds.append(node.name)
        self.generic_visit(node)

    visit_MatchStar = visit_MatchAs


def names_of(nodes: Sequence[ast.AST]) -> tuple[list[str], list[str]]:
    """(bound names, free loaded names) of statements, each list without repeats, in source order."""
    v = _Names()
    for n in nodes:
        v.visit(n)
    return list(dict.fromkeys(v.binds)), list(dict.fromkeys(v.uses))


def taints(node: ast.AST) -> bool:
    """Code that cannot stand on its own at module level: return/yield/await outside a def,
    break/continue outside a loop of its own, super(), nonlocal/global."""

    def walk(n: ast.AST, in_loop: bool) -> bool:
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            return False
        if isinstance(n, (ast.Return, ast.Yield, ast.YieldFrom, ast.Await, ast.Nonlocal, ast.Global)):
            return True
        if isinstance(n, (ast.Break, ast.Continue)) and not in_loop:
            return True
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "super":
            return True
        loop = in_loop or isinstance(n, (ast.For, ast.While, ast.AsyncFor))
        return any(walk(c, loop) for c in ast.iter_child_nodes(n))

    return walk(node, False)


# the methods of Python's own containers that change them: `items.append(x)` fills `items = []`
_CONTAINER_CHANGES = frozenset(
    {
        "append",
        "extend",
        "insert",
        "update",
        "add",
        "setdefault",
        "remove",
        "discard",
        "pop",
        "popitem",
        "clear",
        "sort",
        "reverse",
    }
)


def _base(node: ast.AST) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def mutated(node: ast.AST) -> set[str]:
    """Names whose object a statement changes in place: ``x[k] = v``, ``x.a.b = v``, ``del x[k]``,
    ``x.append(v)`` (a statement of its own: ``y = x.pop()`` is a use)."""
    out: set[str] = set()
    for n in ast.walk(node):
        if isinstance(n, (ast.Attribute, ast.Subscript)) and isinstance(n.ctx, (ast.Store, ast.Del)):
            base = _base(n.value)
        elif (
            isinstance(n, ast.Expr)
            and isinstance(n.value, ast.Call)
            and isinstance(n.value.func, ast.Attribute)
            and n.value.func.attr in _CONTAINER_CHANGES
        ):
            base = _base(n.value.func.value)
        else:
            continue
        if base is not None:
            out.add(base)
    return out


def called_names(node: ast.AST) -> set[str]:
    return {n.func.id for n in ast.walk(node) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
