"""What a call gives back (RULES.md R27 as amended): its type and, in the reader's terms, what it is.

The type is the return annotation; without one, the type the docstring's Returns section names (the
docstring as ``help()`` shows it: tools.index.runtime_doc); without that, the class every ``return``
statement of the body constructs. A body builds a value by calling a class of the repository (or a
builtin one, or a literal ``{}``/``[]``/``()``), returns ``self`` or an annotated argument, or hands it over: ``return
self._loop(...)``, ``return helper(...)``, ``return super().f(...)``, a local bound to one of these, or
a callable made from a method of ``self`` (``loop = wrapper(self._loop, ...)``; ``return loop(...)``:
the usual shape of retry and batch-size decorators and of ``functools.partial``), whose own type is
then derived the same way. A body without a ``return`` of a value returns ``None``. Anything else
(a mix of types, a value computed some other way, a generator, an abstract stub) is unknown: no type
is guessed.
"""

from __future__ import annotations

import ast
import builtins
import re
from typing import NamedTuple

from tools.index.bodies import FunctionNode, dotted, function_node, is_stub, own_nodes, positional_params
from tools.index.docstrings import prose_text, returns_entry, summary
from tools.index.records import Symbol
from tools.index.runtime_doc import runtime_docstring
from tools.index.workspace import Workspace
from tools.sentences import sentences

_MAX_DEPTH = 4
_MAX_ALTERNATIVES = 3
_MAX_EXPRESSION = 60
_MAX_JOINED = 160
_BUILT_FROM = re.compile(r" of `.*$")
_BUILTIN_CLASSES = frozenset(n for n in dir(builtins) if isinstance(getattr(builtins, n), type))
_DISPLAYS: dict[type[ast.expr], str] = {
    ast.Dict: "dict",
    ast.DictComp: "dict",
    ast.List: "list",
    ast.ListComp: "list",
    ast.Tuple: "tuple",
    ast.Set: "set",
    ast.SetComp: "set",
    ast.JoinedStr: "str",
}


class Returned(NamedTuple):
    """A call's result: its type (None when not known), a description from the docstring or the code
    ("" when neither says anything a reader could use), and, as a last resort, the calls the value comes
    from (``Comes from `run_single` or `iterate`.``)."""

    type: str | None
    description: str
    source: str = ""


_UNKNOWN = Returned(None, "")


def output_type(ws: Workspace, sym: Symbol) -> str | None:
    """The first Outputs row's Type (R27): class name, annotation, docstring Returns type, body; each
    read only when the ones before it say nothing."""
    if sym.kind == "class":
        return sym.name
    if sym.name == "__init__" and sym.parent:
        return sym.parent.split(".")[-1]
    if sym.returns is not None:
        return " ".join(sym.returns.split())
    return returns_entry(runtime_docstring(ws, sym)).type or _from_body(ws, sym, 0, frozenset()).type


def returned(ws: Workspace, sym: Symbol) -> Returned:
    """Type and description of what calling ``sym`` gives (see the module doc)."""
    return _returned(ws, sym, 0, frozenset())


def _returned(ws: Workspace, sym: Symbol, depth: int, seen: frozenset[tuple[str, str]]) -> Returned:
    if sym.kind == "class":
        return Returned(sym.name, "")
    if sym.name == "__init__" and sym.parent:
        return Returned(sym.parent.split(".")[-1], "")
    doc = returns_entry(runtime_docstring(ws, sym))
    code, code_source = _UNKNOWN, ""
    key = (sym.file, sym.qualname)
    if depth <= _MAX_DEPTH and key not in seen:
        code = _from_body(ws, sym, depth, seen | {key})
        code_source = _origin(ws, sym) if depth == 0 else ""
    if sym.returns is not None:
        typ: str | None = " ".join(sym.returns.split())
    else:
        typ = doc.type or code.type
    return Returned(typ, doc.text or code.description or _prose_return(runtime_docstring(ws, sym)), code_source)


# "Preprocess will take the input and return a dictionary of ...": what the prose says comes back
_PROSE_RETURN = re.compile(r"\b(?:returns?|outputs?)\s+((?:an?|the|one)\s.+)$", re.I)


def _prose_return(doc: str | None) -> str:
    """The object of "returns …" / "will output …" in the docstring's prose, as a sentence."""
    for sentence in sentences(prose_text(doc)):
        m = _PROSE_RETURN.search(sentence)
        if m:
            said = m.group(1).strip().rstrip(".")
            return said[0].upper() + said[1:] + "."
    return ""


def _origin(ws: Workspace, sym: Symbol) -> str:
    """Where the value comes from, when nothing better describes it: the calls whose values the body
    returns (directly, or through the local it returns: ``Comes from `run_single` or `iterate`.``), the
    expressions it returns (``Computed as `value * 2`.``), or, for a stub, that subclasses give it."""
    fn = function_node(ws, sym)
    if fn is None:
        return ""
    if is_stub(fn):
        raises = [n for n in fn.body if isinstance(n, ast.Raise) and n.exc is not None]
        if raises:
            exc = raises[0].exc
            name = dotted(exc.func) if isinstance(exc, ast.Call) else dotted(exc) if exc is not None else None
            return f"Left to subclasses: this definition raises `{name}`." if name else ""
        return "Left to subclasses: this definition's body is empty."
    nodes = list(own_nodes(fn.body))
    assigned: dict[str, list[ast.expr]] = {}
    for n in nodes:
        if isinstance(n, ast.Assign):
            for t in n.targets:
                if isinstance(t, ast.Name):
                    assigned.setdefault(t.id, []).append(n.value)
    returned_values = [n.value for n in nodes if isinstance(n, ast.Return) and n.value is not None]
    callees: list[str] = []
    for value in returned_values:
        for v in assigned.get(value.id, []) if isinstance(value, ast.Name) else [value]:
            name = _callee_text(v.func) if isinstance(v, ast.Call) else None
            if name and name not in callees:
                callees.append(name)
    if callees:
        return f"Comes from {_alternatives(callees, 'calls')}."
    texts = list(dict.fromkeys(" ".join(ast.unparse(v).split()) for v in returned_values))
    if texts and all(len(t) <= _MAX_EXPRESSION for t in texts):
        return f"Computed as {_alternatives(texts)}."
    return ""


def _alternatives(items: list[str], what: str = "values") -> str:
    shown = [f"`{c}`" for c in items[:_MAX_ALTERNATIVES]]
    if len(items) > len(shown):
        shown.append(f"{len(items) - len(shown)} other {what}")
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " or " + shown[-1]


def _callee_text(func: ast.expr) -> str | None:
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call) and dotted(func.value.func) == "super":
        return f"super().{func.attr}"
    return dotted(func)


def _owner(ws: Workspace, sym: Symbol) -> Symbol | None:
    if sym.kind != "method" or not sym.parent:
        return None
    owner = ws.index.definition(sym.module, sym.parent)
    return owner if owner is not None and owner.kind == "class" else None


class _Body:
    """One body being read: the symbol, its node, its locals' assignments."""

    def __init__(self, ws: Workspace, sym: Symbol, fn: FunctionNode, depth: int, seen: frozenset[tuple[str, str]]):
        self.ws, self.sym, self.fn, self.depth, self.seen = ws, sym, fn, depth, seen
        self.owner = _owner(ws, sym)
        self.params = {a.arg for a in (*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs)}
        self.first = (fn.args.posonlyargs + fn.args.args)[0].arg if fn.args.posonlyargs + fn.args.args else None
        self.assigned: dict[str, list[ast.expr]] = {}
        self.rebound: set[str] = set()  # bound some other way (loop, with, unpacking, +=): value unknown
        for n in own_nodes(fn.body):
            if isinstance(n, ast.Assign):
                for t in n.targets:
                    if isinstance(t, ast.Name):
                        self.assigned.setdefault(t.id, []).append(n.value)
                    else:
                        self.rebound.update(_bound_names(t))
            elif isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name) and n.value is not None:
                self.assigned.setdefault(n.target.id, []).append(n.value)
            elif isinstance(n, (ast.AugAssign, ast.For, ast.AsyncFor, ast.withitem, ast.NamedExpr)):
                target = n.optional_vars if isinstance(n, ast.withitem) else n.target
                if target is not None:
                    self.rebound.update(_bound_names(target))

    def follow(self, target: Symbol | None) -> Returned:
        if target is None or self.depth >= _MAX_DEPTH:
            return _UNKNOWN
        return _returned(self.ws, target, self.depth + 1, self.seen)

    def method(self, name: str, after_owner: bool = False) -> Symbol | None:
        if self.owner is None:
            return None
        mro = self.ws.names.mro(self.owner)
        for klass in mro[1:] if after_owner else mro:
            found = self.ws.index.definition(klass.module, f"{klass.qualname}.{name}")
            if found is not None:
                return found
        return None

    def resolve(self, name: str) -> Symbol | None:
        target = self.ws.names.resolve_dotted(self.sym.module, name)
        return target if isinstance(target, Symbol) else None


def _bound_names(target: ast.expr) -> set[str]:
    """The names an assignment target binds: ``a``, ``a, (b, *c)``; not ``obj.attr`` or ``obj[key]``,
    which change an object without rebinding its name."""
    if isinstance(target, ast.Name):
        return {target.id}
    if isinstance(target, (ast.Tuple, ast.List)):
        return {n for e in target.elts for n in _bound_names(e)}
    if isinstance(target, ast.Starred):
        return _bound_names(target.value)
    return set()


def _from_body(ws: Workspace, sym: Symbol, depth: int, seen: frozenset[tuple[str, str]]) -> Returned:
    fn = function_node(ws, sym)
    if fn is None or is_stub(fn):
        return _UNKNOWN
    nodes = list(own_nodes(fn.body))
    if any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in nodes):
        return _UNKNOWN
    values = [n.value for n in nodes if isinstance(n, ast.Return) and n.value is not None]
    if not values:
        return Returned("None", "")
    body = _Body(ws, sym, fn, depth, seen)
    return _combine([_expr(body, v, 0) for v in values])


def _combine(parts: list[Returned]) -> Returned:
    """One result for several ``return`` statements: the type when all agree; the descriptions joined
    when each return has one (a few at most), else none."""
    types = {p.type for p in parts}
    typ = types.pop() if len(types) == 1 else None
    said = list(dict.fromkeys(p.description for p in parts))
    if len(said) == 1:
        return Returned(typ, said[0])
    if all(said) and len(said) <= _MAX_ALTERNATIVES:
        joined = _either(said)
        if len(joined) > _MAX_JOINED:  # too long to read: each alternative without what it is built from
            joined = _either(list(dict.fromkeys(_BUILT_FROM.sub("", d) for d in said)))
        return Returned(typ, joined)
    return Returned(typ, "")


def _either(said: list[str]) -> str:
    """ "A `X`; or a `Y`.": alternatives as one sentence."""
    rest = "".join("; or " + d[0].lower() + d[1:].rstrip(".") for d in said[1:])
    return said[0].rstrip(".") + rest + "."


def _expr(body: _Body, node: ast.expr, depth: int) -> Returned:
    if depth > _MAX_DEPTH:
        return _UNKNOWN
    if isinstance(node, ast.Constant) and node.value is None:
        return Returned("None", "`None`.")
    for kind, name in _DISPLAYS.items():
        if isinstance(node, kind):
            return Returned(name, _display(node))
    if isinstance(node, ast.Call):
        return _call(body, node, depth)
    attr = dotted(node) if isinstance(node, ast.Attribute) else None
    if attr is not None and attr.count(".") == 1 and attr.startswith("self.") and body.first == "self":
        return Returned(None, f"The object's `{attr[5:]}` attribute (`{attr}`).")
    if isinstance(node, ast.Name):
        if node.id == body.first == "self" and body.owner is not None:
            return Returned(body.owner.name, f"The `{body.owner.name}` it was called on (`self`).")
        if node.id in body.params and node.id not in body.assigned and node.id not in body.rebound:
            # the argument itself comes back: its annotation, when it has one, is the type
            typed = next((p.annotation for p in body.sym.params if p.name == node.id and p.annotation), None)
            return Returned(
                " ".join(typed.split()) if typed else None, f"The `{node.id}` it was given, the same object."
            )
        values = body.assigned.get(node.id, [])
        if values and node.id not in body.rebound:
            return _combine([_expr(body, v, depth + 1) for v in values])
    return _UNKNOWN


def _display(node: ast.expr) -> str:
    if isinstance(node, ast.Dict):
        keys = [k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)]
        if keys and len(keys) == len(node.keys):
            return f"A dict with the keys {_listed(keys)}."
    if isinstance(node, ast.Tuple):
        items = [dotted(e) for e in node.elts]
        if items and all(items):
            return f"A tuple of {_listed([i for i in items if i])}."
    return ""


def _listed(items: list[str]) -> str:
    shown = [f"`{i}`" for i in items]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def _call(body: _Body, call: ast.Call, depth: int) -> Returned:
    func = call.func
    picked = _picked_class(body, func)
    if picked is not None:
        return Returned(None, f"An instance of the class {picked}.")
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call) and dotted(func.value.func) == "super":
        return body.follow(body.method(func.attr, after_owner=True))
    name = dotted(func)
    if name is None:
        return _UNKNOWN
    head, _, attr = name.partition(".")
    if head == body.first and head in ("self", "cls") and attr and "." not in attr:
        return body.follow(body.method(attr))
    if name == "cls" and body.first == "cls" and body.owner is not None:
        return Returned(body.owner.name, f"A new instance of the class it is called on{_built_from(call, [])}.")
    if name in body.assigned and name not in body.rebound and len(body.assigned[name]) == 1:
        picked = _picked_class(body, body.assigned[name][0])
        if picked is not None:
            return Returned(None, f"An instance of the class {picked}.")
        wrapped = _wrapped_method(body, body.assigned[name][0])
        if wrapped is not None:
            return body.follow(wrapped)
        return _UNKNOWN
    if name in body.params or name in body.rebound:
        return _UNKNOWN
    target = body.resolve(name)
    if target is not None and target.kind == "class":
        return Returned(target.name, _constructed(body.ws, target, call))
    if target is not None:
        return body.follow(target)
    if name in _BUILTIN_CLASSES and body.ws.names.resolve(body.sym.module, name) is None:
        return Returned(name, "")
    return _UNKNOWN


def _picked_class(body: _Body, func: ast.expr) -> str | None:
    """``MAPPING[key]`` as a callee: ``that `MAPPING` maps `key` to``, the class a table holds for a key."""
    if not isinstance(func, ast.Subscript):
        return None
    table = dotted(func.value)
    key = dotted(func.slice) or (repr(func.slice.value) if isinstance(func.slice, ast.Constant) else None)
    if table is None or key is None or table.split(".")[0] in body.params | {"self", "cls"}:
        return None
    return f"that `{table}` maps `{key}` to"


def _wrapped_method(body: _Body, value: ast.expr) -> Symbol | None:
    """``wrapper(self._loop, ...)``: a callable made from a method of ``self``; calling it runs the method."""
    if not isinstance(value, ast.Call) or not value.args or body.first != "self":
        return None
    first = dotted(value.args[0])
    if first is None or not first.startswith("self.") or first.count(".") != 1:
        return None
    return body.method(first.split(".", 1)[1])


def _constructed(ws: Workspace, cls: Symbol, call: ast.Call) -> str:
    """``A `TrainOutput` of `global_step`, `training_loss` and `metrics`.``: the class and what it is
    built from, each argument named by the parameter it binds to; else the class's own summary."""
    init = ws.names.member(cls, "__init__")
    names = positional_params(init) if init is not None else [f.name for f in cls.fields]
    built = _built_from(call, names)
    if built:
        return f"A `{cls.name}`{built}."
    said = summary(runtime_docstring(ws, cls))
    return f"A `{cls.name}`: {said}" if said else ""


def _built_from(call: ast.Call, names: list[str]) -> str:
    if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
        return ""
    bound = [names[i] if i < len(names) else None for i in range(len(call.args))] + [k.arg for k in call.keywords]
    if not bound or any(b is None for b in bound):
        return ""
    return " of " + _listed([b for b in bound if b])
