"""What a body does with a parameter, in a sentence a table row can carry: the value it puts in place of
``None`` (``if output_dir is None: output_dir = "trainer_output"``), and, for a parameter the source
does not describe, where the value goes (``Passed to `hf_hub_download`.``, ``Stored as `self.model`.``,
the keys read from a ``**kwargs`` dict, or that the body never reads it).

Only the body's own statements count (and, for a class, its ``__init__`` or a dataclass's
``__post_init__``); a fact is stated only when the code shows it plainly, never inferred.
"""

from __future__ import annotations

import ast
import builtins

from tools.index.bodies import FunctionNode, dotted, function_node, is_stub, own_nodes, source_of
from tools.index.docstrings import states_default
from tools.index.facts import is_dataclass
from tools.index.records import Symbol
from tools.index.workspace import Workspace

_MAX_VALUE = 60
_MAX_LISTED = 3
_MAX_KEYS = 6
_MAX_CONDITION = 80
# calls that look at a value or report it without taking it anywhere: not where a parameter "goes"
_BUILTINS = frozenset(dir(builtins))
_REPORTING = ("logger.", "logging.", "warnings.", "log.")


def _body_of(ws: Workspace, sym: Symbol) -> tuple[Symbol | None, FunctionNode | None, bool]:
    """The definition whose body handles the parameters, its node, and whether it reads them as
    ``self.x`` (a dataclass's ``__post_init__``) rather than as local names."""
    if sym.kind != "class":
        return sym, function_node(ws, sym), False
    generated = is_dataclass(sym) and ws.index.definition(sym.module, f"{sym.qualname}.__init__") is None
    owner = ws.names.member(sym, "__post_init__" if generated else "__init__")
    return owner, function_node(ws, owner) if owner is not None else None, generated


def _locals(fn: FunctionNode) -> set[str]:
    """Names the body binds itself (not its parameters): a value made of them means nothing to a reader."""
    out: set[str] = set()
    for n in own_nodes(fn.body):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
            out.add(n.id)
    return out


def _simple(ws: Workspace, file: str, node: ast.expr, hidden: set[str]) -> str | None:
    """Source text of a value a reader can take in at a glance: a literal, a dotted name, or a call of a
    dotted name on such values, none of them a local of the body (``hidden``); None for anything else."""
    text = " ".join((source_of(ws, file, node) or ast.unparse(node)).split())
    if len(text) > _MAX_VALUE:
        return None
    if any(isinstance(n, ast.Name) and n.id in hidden for n in ast.walk(node)):
        return None
    if isinstance(node, ast.Constant) or dotted(node) is not None:
        return text
    if isinstance(node, (ast.List, ast.Tuple, ast.Dict, ast.Set)) and not any(
        isinstance(n, (ast.Call, ast.Lambda)) for n in ast.walk(node)
    ):
        return text
    if isinstance(node, ast.Call) and dotted(node.func) is not None:
        args = [*node.args, *(k.value for k in node.keywords)]
        if all(isinstance(a, ast.Constant) or dotted(a) is not None for a in args):
            return text
    return None


def _is_target(node: ast.expr, name: str, on_self: bool) -> bool:
    if on_self:
        return isinstance(node, ast.Attribute) and node.attr == name and dotted(node) == f"self.{name}"
    return isinstance(node, ast.Name) and node.id == name


def _is_none_test(test: ast.expr, name: str, on_self: bool) -> bool:
    return (
        isinstance(test, ast.Compare)
        and len(test.ops) == 1
        and isinstance(test.ops[0], ast.Is)
        and _is_target(test.left, name, on_self)
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value is None
    )


def _fallback_of(value: ast.expr, name: str, on_self: bool) -> ast.expr | None:
    """``V if x is None else x``, ``x if x is not None else V``, ``x or V`` → V."""
    if isinstance(value, ast.IfExp) and isinstance(value.test, ast.Compare) and len(value.test.ops) == 1:
        t = value.test
        none = isinstance(t.comparators[0], ast.Constant) and t.comparators[0].value is None
        if none and _is_target(t.left, name, on_self):
            if isinstance(t.ops[0], ast.Is) and _is_target(value.orelse, name, on_self):
                return value.body
            if isinstance(t.ops[0], ast.IsNot) and _is_target(value.body, name, on_self):
                return value.orelse
    if isinstance(value, ast.BoolOp) and isinstance(value.op, ast.Or) and len(value.values) == 2:
        if _is_target(value.values[0], name, on_self):
            return value.values[1]
    return None


def none_fallback(ws: Workspace, sym: Symbol, name: str) -> str | None:
    """The value the body's top level puts in place of a ``None`` argument, as source text: ``if x is
    None: x = V`` (``self.x`` in a dataclass's ``__post_init__``), ``x = V if x is None else x``,
    ``self.x = x or V``."""
    owner, fn, on_self = _body_of(ws, sym)
    if owner is None or fn is None:
        return None
    hidden = _locals(fn) - {name}
    for stmt in fn.body:
        if isinstance(stmt, ast.If) and _is_none_test(stmt.test, name, on_self):
            for inner in stmt.body:
                if (
                    isinstance(inner, ast.Assign)
                    and len(inner.targets) == 1
                    and _is_target(inner.targets[0], name, on_self)
                ):
                    return _simple(ws, owner.file, inner.value, hidden)
        elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            fallback = _fallback_of(stmt.value, name, on_self)
            target = stmt.targets[0]
            if fallback is not None and (
                _is_target(target, name, on_self) or dotted(target) == f"self.{name}" and not on_self
            ):
                return _simple(ws, owner.file, fallback, hidden)
    return None


def fallback_note(ws: Workspace, sym: Symbol, name: str, default: str | None) -> str:
    """``When `None`, `"trainer_output"` is used.`` for a parameter defaulting to ``None`` that the body
    replaces; "" otherwise (and when the sentence would read as a default clause, which R26 forbids
    before the row's own ``Default: `…`.``)."""
    if default != "None":
        return ""
    value = none_fallback(ws, sym, name)
    if value is None:
        return ""
    note = f"When `None`, `{value}` is used."
    return "" if states_default(note) else note


def _callee(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call) and dotted(func.value.func) == "super":
        return f"super().{func.attr}"
    return dotted(func)


def _join(items: list[str]) -> str:
    shown = [f"`{i}`" for i in items[:_MAX_LISTED]]
    more = len(items) - len(shown)
    if more:
        return ", ".join(shown) + f" and {more} more"
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def use_note(ws: Workspace, sym: Symbol, name: str) -> str:
    """What the body plainly does with parameter ``name``: the calls it is passed to, the attribute it is
    stored in, the keys read from it, its methods called, that it is called itself, the condition it is
    read in; that the body never reads it; "" when none of these shows."""
    owner, fn, on_self = _body_of(ws, sym)
    if owner is None or fn is None or on_self:
        return ""
    if is_stub(fn):
        raised = next(
            (
                dotted(r.exc.func if isinstance(r.exc, ast.Call) else r.exc)
                for r in fn.body
                if isinstance(r, ast.Raise) and r.exc is not None
            ),
            None,
        )
        return f"Not read by the body of `{owner.qualname}`, which only raises `{raised}`." if raised else ""
    if not any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(fn) if n is not fn):
        if any(isinstance(n, ast.Call) and dotted(n.func) in ("locals", "vars") for n in ast.walk(fn)):
            return ""
        return f"Not read by the body of `{owner.qualname}`."
    use = _Use(name)
    for n in own_nodes(fn.body):
        use.visit(n)
    said: list[str] = []
    if use.passed:
        said.append(f"Passed to {_join(use.passed)}.")
    if use.stored:
        said.append(f"Stored as {_join(use.stored)}.")
    if use.keys:
        shown = ", ".join(f"`{k}`" for k in use.keys[:_MAX_KEYS])
        more = f" and {len(use.keys) - _MAX_KEYS} more" if len(use.keys) > _MAX_KEYS else ""
        said.append(f"The body reads the key{'s' if len(use.keys) > 1 else ''} {shown}{more} from it.")
    if use.methods:
        said.append(f"The body calls its {_join(use.methods)} method{'s' if len(use.methods) > 1 else ''}.")
    if use.called:
        said.append("The body calls it.")
    if not said and use.conditions:
        test = " ".join((source_of(ws, owner.file, use.conditions[0]) or ast.unparse(use.conditions[0])).split())
        if len(test) <= _MAX_CONDITION:
            said.append(f"Read in the condition `{test}`.")
    return " ".join(said[:2])


class _Use:
    """The ways one body reads one name."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.passed: list[str] = []
        self.stored: list[str] = []
        self.keys: list[str] = []
        self.methods: list[str] = []
        self.called = False
        self.conditions: list[ast.expr] = []

    def _is(self, node: ast.AST) -> bool:
        return isinstance(node, ast.Name) and node.id == self.name

    def visit(self, n: ast.AST) -> None:
        if isinstance(n, ast.Call):
            self._call(n)
        elif isinstance(n, ast.Assign) and self._is(n.value):
            for t in n.targets:
                target = dotted(t)
                if target is not None and target.startswith("self.") and target not in self.stored:
                    self.stored.append(target)
        elif isinstance(n, (ast.If, ast.While, ast.IfExp)) and any(self._is(x) for x in ast.walk(n.test)):
            self.conditions.append(n.test)

    def _call(self, n: ast.Call) -> None:
        args = [a.value if isinstance(a, ast.Starred) else a for a in n.args] + [k.value for k in n.keywords]
        callee = _callee(n)
        if callee in _BUILTINS or (callee or "").startswith(_REPORTING):
            callee = None
        if callee and any(self._is(a) for a in args) and callee not in self.passed:
            self.passed.append(callee)
        if self._is(n.func):
            self.called = True
        func = n.func
        if isinstance(func, ast.Attribute) and self._is(func.value):
            first = n.args[0] if n.args else None
            if func.attr in ("pop", "get") and isinstance(first, ast.Constant) and isinstance(first.value, str):
                if first.value not in self.keys:
                    self.keys.append(first.value)
            elif func.attr not in self.methods:
                self.methods.append(func.attr)


def stored_as(ws: Workspace, sym: Symbol) -> list[str]:
    """The parameters the body's top level keeps as attributes of the same name (``self.model = model``)."""
    fn = function_node(ws, sym)
    if fn is None:
        return []
    params = {p.name for p in sym.params}
    out: list[str] = []
    for stmt in fn.body:
        if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Name) and stmt.value.id in params:
            for t in stmt.targets:
                if dotted(t) == f"self.{stmt.value.id}" and stmt.value.id not in out:
                    out.append(stmt.value.id)
    return out
