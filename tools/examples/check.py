"""Static checks of a usage example (a python block), shared by the verifier and the drafters.

R45: the block compiles and binds every name it loads. R46: its calls of the documented API bind
to the API's signature. R47: it uses every name it imports. Pure functions over source text: no
wiki types, so a drafter can check its own output with exactly the verifier's rules.

Every check is conservative (R45 and R46 are errors that block a page): where the block or the
index leaves room for doubt (a star import, a call unpacking ``*x``, a class whose constructor
comes from outside the package) nothing is reported.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import re
import sys
from collections.abc import Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from tools.index.facts import expected_inputs, generated_init, is_dataclass
from tools.index.records import Param, Symbol
from tools.index.workspace import Workspace
from tools import pyast

# Module globals every script has, and the implicit names of class bodies and methods.
_IMPLICIT = frozenset(
    {
        "__name__",
        "__file__",
        "__doc__",
        "__spec__",
        "__loader__",
        "__package__",
        "__builtins__",
        "__annotations__",
        "__cached__",
        "__dict__",
        "__module__",
        "__qualname__",
        "__class__",
    }
)
BUILTIN_NAMES = frozenset(dir(builtins)) | _IMPLICIT

_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef)
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


def _parse(code: str) -> ast.Module | None:
    try:
        return pyast.parse(code)
    except (SyntaxError, ValueError):  # ValueError: null bytes
        return None


# --- R45 -----------------------------------------------------------------------------------------


def compile_problem(code: str) -> tuple[int, str] | None:
    """(line, message) when CPython's compiler rejects the block although it may parse: a top-level
    ``return``/``yield``/``await``, ``break`` outside a loop, a duplicate parameter name ..."""
    try:
        # compiling source text builds no Python-level AST objects, so it needs no pyast lock
        compile(code, "<example>", "exec", dont_inherit=True)
    except SyntaxError as exc:
        return exc.lineno or 1, exc.msg
    except ValueError as exc:
        return 1, str(exc)
    return None


def _import_names(node: ast.Import | ast.ImportFrom) -> list[tuple[ast.alias, str]]:
    """(alias, the name it binds) for each imported name; star imports bind nothing nameable."""
    out = []
    for a in node.names:
        if a.name == "*":
            continue
        if isinstance(node, ast.Import):
            out.append((a, a.asname or a.name.split(".")[0]))
        else:
            out.append((a, a.asname or a.name))
    return out


def _has_star_import(tree: ast.AST) -> bool:
    return any(isinstance(n, ast.ImportFrom) and any(a.name == "*" for a in n.names) for n in ast.walk(tree))


def _aug_targets(tree: ast.AST) -> set[int]:
    """ids of the Name nodes that ``x += 1`` rebinds: such a statement needs ``x`` bound before."""
    return {id(n.target) for n in ast.walk(tree) if isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Name)}


def _bindings(tree: ast.AST) -> Iterator[tuple[str, ast.AST]]:
    """(name, binding node) for every binding of the block, in any scope."""
    aug = _aug_targets(tree)
    for n in ast.walk(tree):
        if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del)) and id(n) not in aug:
            yield n.id, n
        elif isinstance(n, (ast.Import, ast.ImportFrom)):
            yield from ((name, n) for _, name in _import_names(n))
        elif isinstance(n, (*_FUNCS, ast.ClassDef)):
            yield n.name, n
        elif isinstance(n, ast.arg):
            yield n.arg, n
        elif isinstance(n, ast.ExceptHandler) and n.name:
            yield n.name, n
        elif isinstance(n, (ast.Global, ast.Nonlocal)):
            yield from ((name, n) for name in n.names)
        elif isinstance(n, (ast.MatchAs, ast.MatchStar)) and n.name:
            yield n.name, n
        elif isinstance(n, ast.MatchMapping) and n.rest:
            yield n.rest, n
        elif sys.version_info >= (3, 12) and isinstance(n, (ast.TypeVar, ast.ParamSpec, ast.TypeVarTuple)):  # PEP 695
            yield n.name, n


def bound_names(tree: ast.AST) -> set[str]:
    """Every name any statement of the block binds, in any scope."""
    return {name for name, _ in _bindings(tree)}


def _unevaluated_annotations(tree: ast.Module) -> set[int]:
    """ids of annotation subtrees Python never evaluates: all of them under
    ``from __future__ import annotations``, and a local variable's inside a function body."""
    future = any(
        isinstance(n, ast.ImportFrom) and n.module == "__future__" and any(a.name == "annotations" for a in n.names)
        for n in tree.body
    )
    out: set[int] = set()

    def visit(node: ast.AST, in_function: bool) -> None:
        if isinstance(node, ast.AnnAssign) and (future or in_function):
            out.add(id(node.annotation))
        if future and isinstance(node, ast.arg) and node.annotation is not None:
            out.add(id(node.annotation))
        if future and isinstance(node, _FUNCS) and node.returns is not None:
            out.add(id(node.returns))
        inner = isinstance(node, (*_FUNCS, ast.Lambda)) or (in_function and not isinstance(node, ast.ClassDef))
        for child in ast.iter_child_nodes(node):
            visit(child, inner)

    visit(tree, False)
    return out


def _loads(tree: ast.Module, skip: AbstractSet[int] = frozenset()) -> list[ast.Name]:
    """Name loads (``x += 1`` included) in source order, outside the subtrees in ``skip``."""
    aug = _aug_targets(tree)
    out: list[ast.Name] = []
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if id(node) in skip:
            continue
        if isinstance(node, ast.Name) and (isinstance(node.ctx, ast.Load) or id(node) in aug):
            out.append(node)
        stack.extend(ast.iter_child_nodes(node))
    return sorted(out, key=lambda n: (n.lineno, n.col_offset))


def unbound_names(code: str) -> list[tuple[int, str]]:
    """(line of first use, name) for each name the block loads but binds nowhere and that is not a
    builtin. A block with a star import may bind anything: nothing is reported for it."""
    tree = _parse(code)
    if tree is None or _has_star_import(tree):
        return []
    bound = bound_names(tree) | BUILTIN_NAMES
    seen: set[str] = set()
    out = []
    for n in _loads(tree, _unevaluated_annotations(tree)):
        if n.id not in bound and n.id not in seen:
            seen.add(n.id)
            out.append((n.lineno, n.id))
    return out


# --- R47 -----------------------------------------------------------------------------------------


def unused_imports(code: str) -> list[tuple[int, str]]:
    """(line, name) for each imported name the block never loads (``np.x`` loads ``np``; a name
    that only appears in a string, as in ``__all__``, is not used). ``__future__`` imports and star
    imports are not names a reader uses."""
    tree = _parse(code)
    if tree is None:
        return []
    used = {n.id for n in _loads(tree)}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            if isinstance(node, ast.ImportFrom) and node.module == "__future__":
                continue
            for a, name in _import_names(node):
                if name not in used:
                    out.append((a.lineno, name))
    return sorted(out)


# --- R46 -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallTarget:
    """What a call of the documented symbol must bind to."""

    name: str  # the called name: function/class name, or method name
    is_method: bool  # match `receiver.name(...)` instead of `name(...)`/`alias(...)`
    params: tuple[Param, ...]  # without self/cls
    # An instance method's own first parameter: `Owner.name(obj, ...)` passes it explicitly.
    self_param: Param | None = None
    # A method's class and its subclasses in the index: a receiver built from one of them (or
    # one of them itself) is the documented method's object.
    receivers: frozenset[str] = frozenset()
    # Functions whose return annotation names one of the receivers (`model = get_peft_model(...)`).
    factories: frozenset[str] = frozenset()
    # False when the index cannot tell what the call accepts (a constructor inherited from outside
    # the package, a custom __new__ or metaclass, a property): then no call is judged.
    known: bool = True


# Bases that add nothing to a constructor's parameters.
_INERT_BASES = frozenset({"object", "ABC", "abc.ABC", "Generic", "typing.Generic"})
_INERT_METACLASSES = frozenset({"ABCMeta", "abc.ABCMeta"})


def _decorator_names(sym: Symbol) -> set[str]:
    return {d.split("(")[0].strip().split(".")[-1] for d in sym.decorators}


def _is_property(sym: Symbol) -> bool:
    return bool(_decorator_names(sym) & {"property", "cached_property", "setter", "getter", "deleter"})


def _strip_first(params: tuple[Param, ...]) -> tuple[Param | None, tuple[Param, ...]]:
    if params and params[0].kind in ("positional_only", "positional_or_keyword"):
        return params[0], params[1:]
    return None, params  # `def m(*args)`: self is inside args


def _unknown(name: str, is_method: bool = False) -> CallTarget:
    return CallTarget(name, is_method, (), known=False)


def _custom_metaclass(cls: Symbol) -> bool:
    sig = cls.signature
    at = sig.find("metaclass=")
    if at < 0:
        return False
    value = sig[at + len("metaclass=") :].split(",")[0].split(")")[0].strip()
    return value not in _INERT_METACLASSES


def _base_head(text: str) -> str:
    return text.split("[", 1)[0].strip()  # Generic[T] -> Generic


def _outside_bases(ws: Workspace, cls: Symbol) -> list[str]:
    """The base texts of ``cls`` the index does not resolve to a class (inert ones left out)."""
    known = {b.name for b in ws.names.bases(cls)}
    return [b for b in cls.bases if _base_head(b) not in _INERT_BASES and _base_head(b).split(".")[-1] not in known]


def _unresolved_bases(ws: Workspace, cls: Symbol) -> bool:
    """The class has a base outside the index (whose constructor we cannot see)."""
    return bool(_outside_bases(ws, cls))


def _may_add_fields(ws: Workspace, cls: Symbol) -> bool:
    """A base outside the index that could be a dataclass adding fields to the generated __init__.
    A ``...Mixin`` carries behaviour, not fields, by the convention its name states."""
    return any(not _base_head(b).split(".")[-1].endswith("Mixin") for b in _outside_bases(ws, cls))


def _field_params(ws: Workspace, cls: Symbol) -> tuple[Param, ...]:
    # Fields as positional-or-keyword parameters: a superset of what `kw_only` fields accept, so a
    # call is never rejected for a form the generated __init__ takes.
    return tuple(
        Param(r.name, "positional_or_keyword", None, r.default)
        for r in expected_inputs(ws, cls)
        if not r.type.endswith("KW_ONLY")
    )


def _generated_init_is_used(cls: Symbol) -> bool:
    return not any("init=False" in d.replace(" ", "") for d in cls.decorators)


def _class_target(ws: Workspace, cls: Symbol, name: str) -> CallTarget:
    mro = ws.names.mro(cls)
    if any(_custom_metaclass(k) for k in mro):
        return _unknown(name)
    for k in mro:
        own_init = ws.index.definition(k.module, f"{k.qualname}.__init__")
        if own_init is not None:
            return CallTarget(name, False, _strip_first(own_init.params)[1])
        if is_dataclass(k) and generated_init(ws, k) and _generated_init_is_used(k):
            if any(_may_add_fields(ws, d) for d in ws.names.mro(k)):
                return _unknown(name)  # fields of a base outside the package are not in the index
            return CallTarget(name, False, _field_params(ws, k))
        if ws.index.definition(k.module, f"{k.qualname}.__new__") is not None:
            return _unknown(name)
        if _unresolved_bases(ws, k):
            return _unknown(name)  # an outside base may come next in the MRO and define __init__
    if any(k.decorators for k in mro):
        return _unknown(name)  # a class decorator (attrs' @define ...) may write the __init__
    return CallTarget(name, False, ())  # object.__init__: no arguments


def _receiver_classes(ws: Workspace, owner: Symbol) -> set[str]:
    """The owner's name and its subclasses' names, transitively."""
    out, todo, seen = {owner.name}, [owner], {(owner.module, owner.qualname)}
    while todo:
        cls = todo.pop()
        for sub in ws.names.subclasses.get((cls.module, cls.qualname), []):
            if (sub.module, sub.qualname) not in seen:
                seen.add((sub.module, sub.qualname))
                out.add(sub.name)
                todo.append(sub)
    return out


def _factories(ws: Workspace, classes: set[str]) -> set[str]:
    """Module-level functions whose return annotation names one of ``classes``."""
    out = set()
    for s in ws.index.symbols:
        if s.kind == "function" and s.parent is None and s.returns:
            if set(re.findall(r"\w+", s.returns)) & classes:
                out.add(s.name)
    return out


def call_target(ws: Workspace, sym: Symbol) -> CallTarget:
    """What a call of ``sym`` binds to: a function's parameters, a method's without self/cls, a
    class's constructor (its own or inherited ``__init__``, or a dataclass's fields). A page
    documenting ``Class.__init__`` is called as ``Class(...)``."""
    if sym.kind == "class":
        return _class_target(ws, sym, sym.name)
    if sym.kind == "method" and sym.parent:
        owner = ws.index.definition(sym.module, sym.parent)
        owner_name = sym.parent.split(".")[-1]
        if sym.name == "__init__":
            if owner is not None and any(_custom_metaclass(k) for k in ws.names.mro(owner)):
                return _unknown(owner_name)
            return CallTarget(owner_name, False, _strip_first(sym.params)[1])
        if _is_property(sym):
            return _unknown(sym.name, True)
        classes = _receiver_classes(ws, owner) if owner is not None else {owner_name}
        receivers, factories = frozenset(classes), frozenset(_factories(ws, classes))
        decorators = _decorator_names(sym)
        if "staticmethod" in decorators:
            return CallTarget(sym.name, True, sym.params, receivers=receivers, factories=factories)
        first, rest = _strip_first(sym.params)
        return CallTarget(
            sym.name,
            True,
            rest,
            self_param=None if "classmethod" in decorators else first,
            receivers=receivers,
            factories=factories,
        )
    return CallTarget(sym.name, False, sym.params)


_KINDS = {
    "positional_only": inspect.Parameter.POSITIONAL_ONLY,
    "positional_or_keyword": inspect.Parameter.POSITIONAL_OR_KEYWORD,
    "var_positional": inspect.Parameter.VAR_POSITIONAL,
    "keyword_only": inspect.Parameter.KEYWORD_ONLY,
    "var_keyword": inspect.Parameter.VAR_KEYWORD,
}


def _signature(params: tuple[Param, ...]) -> inspect.Signature | None:
    try:
        ps = [
            inspect.Parameter(
                p.name, _KINDS[p.kind], default=object() if p.default is not None else inspect.Parameter.empty
            )
            for p in params
        ]
    except (ValueError, KeyError):  # a name that is not an identifier: the index misread the header
        return None
    # inherited dataclass fields may put a required field after a defaulted one (kw_only)
    return inspect.Signature(ps, __validate_parameters__=False)


def _bind_error(sig: inspect.Signature, call: ast.Call) -> str | None:
    try:
        # ``**x`` (a keyword without a name) is never judged: call_problems skips such calls
        sig.bind(*([None] * len(call.args)), **{k.arg: None for k in call.keywords if k.arg is not None})
    except TypeError as exc:
        return str(exc)
    return None


def _values(tree: ast.AST) -> dict[str, list[ast.expr | None]]:
    """What each name of the block is bound to: the expression of `x = expr` (`x: T = expr`,
    `(x := expr)`), None for any other binding (import, def, parameter, loop target ...)."""
    simple: dict[int, ast.expr] = {}
    for n in ast.walk(tree):
        if isinstance(n, ast.Assign):
            simple.update((id(t), n.value) for t in n.targets if isinstance(t, ast.Name))
        elif isinstance(n, (ast.AnnAssign, ast.NamedExpr)) and isinstance(n.target, ast.Name) and n.value is not None:
            simple[id(n.target)] = n.value
    out: dict[str, list[ast.expr | None]] = {}
    for name, node in _bindings(tree):
        if not (isinstance(node, ast.Name) and isinstance(node.ctx, ast.Del)):
            out.setdefault(name, []).append(simple.get(id(node)))
    for n in ast.walk(tree):  # `x += 1` rebinds x to something else
        if isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Name):
            out.setdefault(n.target.id, []).append(None)
    return out


def _builds(value: ast.expr | None, classes: set[str], factories: set[str]) -> bool:
    """`...` (an object the reader supplies, as R45 asks), `C(...)`, `C.make(...)` for a receiver
    class C, or `factory(...)`: an object of the documented method's class."""
    if isinstance(value, ast.Constant) and value.value is Ellipsis:
        return True
    if not isinstance(value, ast.Call):
        return False
    f = value.func
    return (isinstance(f, ast.Name) and f.id in classes | factories) or (
        isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id in classes
    )


def _receiver(
    func: ast.Attribute, classes: set[str], factories: set[str], values: dict[str, list[ast.expr | None]]
) -> str | None:
    """How the method is reached: "class" (`Owner.m(obj, ...)`), "instance" (an object the block
    builds from the method's class, or one it never binds), or None: an object of unknown or
    other origin (`AutoModel.from_pretrained(...)` is not `PeftModel.from_pretrained`)."""
    recv = func.value
    if (isinstance(recv, ast.Name) and recv.id in classes) or (
        isinstance(recv, ast.Attribute) and recv.attr in classes
    ):
        return "class"
    if isinstance(recv, ast.Name):
        bound = values.get(recv.id)
        if not bound or all(_builds(v, classes, factories) for v in bound):
            return "instance"
    return "instance" if isinstance(recv, ast.Call) and _builds(recv, classes, factories) else None


def call_problems(code: str, target: CallTarget, aliases: AbstractSet[str] = frozenset()) -> list[tuple[int, str]]:
    """(line, message) for each call of the target whose arguments do not bind by Python's rules.
    Calls that unpack ``*x`` or ``**x`` are not judged. A function or class is called through its
    name, an ``as`` alias of an import of it, or one of ``aliases``. A method is called on its class
    (or a subclass) or on an object the block builds from one (or writes as ``...``, or never
    binds); a call on an object of other or unknown origin is not judged, since another class may
    have a method of the same name (``tokenizer.save_pretrained``)."""
    if not target.known:
        return []
    tree = _parse(code)
    sig = _signature(target.params)
    if tree is None or sig is None:
        return []
    with_self = _signature((target.self_param, *target.params)) if target.self_param else None
    imported: set[str] = set()
    callees, classes, factories = {target.name, *aliases}, set(target.receivers), set(target.factories)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for a, name in _import_names(node):
                imported.add(name)
                if isinstance(node, ast.ImportFrom) and a.asname:
                    for names, of in (
                        (callees, {target.name}),
                        (classes, target.receivers),
                        (factories, target.factories),
                    ):
                        if a.name in of:
                            names.add(a.asname)
    if not target.is_method:
        # a name the block itself defines or assigns is not the documented symbol any more
        callees -= bound_names(tree) - imported
    values = _values(tree) if target.is_method else {}
    out = []
    for call in ast.walk(tree):
        if not isinstance(call, ast.Call):
            continue
        if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
            continue
        f = call.func
        use = sig
        if target.is_method:
            if not (isinstance(f, ast.Attribute) and f.attr == target.name):
                continue
            how = _receiver(f, classes, factories, values)
            if how is None:
                continue
            if how == "class" and with_self is not None:
                use = with_self
        elif not (isinstance(f, ast.Name) and f.id in callees):
            continue
        err = _bind_error(use, call)
        if err:
            out.append((call.lineno, f"{target.name}(...): {err}"))
    return sorted(out)
