"""The calls of one unit of teaching material, resolved against the index, with their data flow.

A unit is parsed (``ast``, never run) and walked statement by statement. Names are tracked the way
a reader tracks them: ``from pkg import X`` binds X to its definition through the package's
exports, ``x = X(...)`` makes x an X, ``y = x.method(...)`` makes y what the method returns (its
annotation, docstring or ``return`` statements say which class), ``import transformers`` makes
``transformers.AutoModel`` another package's API. Every call of a repository API or of another
package's API becomes a ``Call``: where it is, what it resolves to, and which earlier calls feed it
(their result is its receiver or one of its arguments).
"""

from __future__ import annotations

import ast
import builtins
import warnings
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from tools import pyast
from tools.index.bindings import per_index, runtime_bindings
from tools.index.names import ModuleRef
from tools.index.records import Symbol
from tools.index.workspace import Workspace
from tools.navigate import area
from tools.usage.blocks import Block
from tools.usage.returns import returned

MAX_PARSE_RETRIES = 20  # lines blanked to get past placeholders such as <path-to-adapter>
MAX_CALL_TEXT = 300
_BUILTINS = frozenset(dir(builtins))

Kind = Literal["module", "def", "instance", "external", "member", "unknown"]


@dataclass(frozen=True)
class Val:
    """What a name or an expression stands for, as far as the source says."""

    kind: Kind
    origin: int | None = None  # the call (local index) whose result this is
    module: str | None = None  # kind "module": an internal module
    sym: Symbol | None = None  # "def": the class/function/method; "instance": its class
    ext: str | None = None  # "external": the dotted name in another package; "instance" of one: its class
    owner: Symbol | None = None  # "def" of a method: the class it was reached through
    recv: int | None = None  # "def" of a method reached through an object: that object's origin
    how: str = ""
    member: str | None = None  # "member": an attribute the index cannot place (``owner`` may say whose)


class Call(NamedTuple):
    """One resolved call inside a unit (indices are local to the unit)."""

    line: int  # file line of the call
    end_line: int
    text: str  # the call as written, whitespace collapsed
    callee: str  # the called expression as written
    symbol: Symbol | None  # a definition of the repository
    external: str | None  # another package's API, package first
    how: str
    receiver: int | None
    inputs: tuple[int, ...]  # calls whose result is the receiver or an argument
    keywords: tuple[str, ...]
    returns: str | None  # "module:Qualname" of an internal class, or an external dotted name
    member: str | None = None  # an unresolved call: the attribute called (symbol and external are None)
    receiver_type: str | None = None  # ... and the receiver's class, when known ("module:Qualname")
    target: str | None = None  # the name its result is bound to (``model = …``, ``with … as s``)


def parse_tolerant(code: str) -> ast.Module | None:
    """The code's tree; lines the parser refuses (placeholders such as ``<path>``, prose pasted into
    a block) are blanked one at a time, at most MAX_PARSE_RETRIES times."""
    lines = code.split("\n")
    for _ in range(MAX_PARSE_RETRIES + 1):
        try:
            with warnings.catch_warnings():  # "invalid escape sequence" in the material is its own business
                warnings.simplefilter("ignore", (DeprecationWarning, SyntaxWarning))
                return pyast.parse("\n".join(lines))
        except SyntaxError as exc:
            no = exc.lineno
            if no is None or not 1 <= no <= len(lines) or not lines[no - 1].strip():
                return None
            lines[no - 1] = ""
        except (ValueError, RecursionError, MemoryError):
            return None
    return None


def _is_public(s: Symbol) -> bool:
    parts = s.module.split(".") + s.qualname.split(".")
    return area(s.file) == "source" and not any(
        p.startswith("_") and not (p.startswith("__") and p.endswith("__")) for p in parts
    )


@dataclass
class _Scope:
    names: dict[str, Val] = field(default_factory=dict)
    parent: _Scope | None = None

    def get(self, name: str) -> Val | None:
        s: _Scope | None = self
        while s is not None:
            if name in s.names:
                return s.names[name]
            s = s.parent
        return None


class UnitWalker:
    """Walks the statements of one unit, binding names and collecting calls."""

    def __init__(self, ws: Workspace, lines: list[int], scope: _Scope | None = None) -> None:
        self.ws = ws
        self.lines = lines  # code line (1-based, as ast counts) -> file line
        self.scope = scope or _Scope()
        self.calls: list[Call] = []
        self.own = set(ws.names.packages)

    # ---- positions ---------------------------------------------------------------
    def _file_line(self, n: int) -> int:
        return self.lines[min(max(n, 1), len(self.lines)) - 1] if self.lines else n

    # ---- statements --------------------------------------------------------------
    def walk(self, body: list[ast.stmt]) -> None:
        for stmt in body:
            try:
                self.stmt(stmt)
            except RecursionError:
                continue  # a pathologically nested statement: the rest of the unit still counts

    def stmt(self, s: ast.stmt) -> None:
        if isinstance(s, ast.Import):
            for a in s.names:
                self._import(a.name, a.asname)
        elif isinstance(s, ast.ImportFrom):
            if s.level == 0 and s.module:
                for a in s.names:
                    if a.name != "*":
                        self._import_from(s.module, a.name, a.asname or a.name)
        elif isinstance(s, (ast.Assign, ast.AnnAssign)):
            value = self.ev(s.value) if s.value is not None else None
            targets = s.targets if isinstance(s, ast.Assign) else [s.target]
            for t in targets:
                self._bind(t, value)
            self._name_result(value, targets[0])
        elif isinstance(s, ast.AugAssign):
            self.ev(s.value)
        elif isinstance(s, (ast.With, ast.AsyncWith)):
            for item in s.items:
                v = self.ev(item.context_expr)
                if item.optional_vars is not None:
                    self._bind(item.optional_vars, v)  # __enter__ returns the object itself, as a rule
                    self._name_result(v, item.optional_vars)
            self.walk(s.body)
        elif isinstance(s, (ast.For, ast.AsyncFor)):
            v = self.ev(s.iter)
            self._bind(s.target, Val("unknown", v.origin) if v is not None else None)
            self.walk(s.body)
            self.walk(s.orelse)
        elif isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)):
            decorated: Val | None = None
            for d in reversed(s.decorator_list):
                dv = self.ev(d)
                if dv is not None and dv.origin is not None:
                    decorated = Val("unknown", dv.origin)
            for default in s.args.defaults + [d for d in s.args.kw_defaults if d is not None]:
                self.ev(default)
            outer = self.scope
            self.scope = _Scope(parent=outer)
            try:
                self.walk(s.body)
            finally:
                self.scope = outer
            self.scope.names[s.name] = decorated or Val("unknown")
        elif isinstance(s, ast.ClassDef):
            for d in s.decorator_list:
                self.ev(d)
            for b in s.bases:
                self.ev(b)
            outer = self.scope
            self.scope = _Scope(parent=outer)
            try:
                self.walk(s.body)
            finally:
                self.scope = outer
            self.scope.names[s.name] = Val("unknown")
        elif isinstance(s, (ast.If, ast.While)):
            self.ev(s.test)
            self.walk(s.body)
            self.walk(s.orelse)
        elif isinstance(s, ast.Try) or type(s).__name__ == "TryStar":
            self.walk(getattr(s, "body", []))
            for h in getattr(s, "handlers", []):
                self.walk(h.body)
            self.walk(getattr(s, "orelse", []))
            self.walk(getattr(s, "finalbody", []))
        elif isinstance(s, ast.Match):
            self.ev(s.subject)
            for case in s.cases:
                self.walk(case.body)
        else:
            for child in ast.iter_child_nodes(s):
                if isinstance(child, ast.expr):
                    self.ev(child)

    # ---- imports and bindings -----------------------------------------------------
    def _import(self, dotted: str, asname: str | None) -> None:
        head = dotted.split(".")[0]
        if head in self.own:
            target = dotted if asname else head
            if target in self.ws.index.modules:
                self.scope.names[asname or head] = Val("module", module=target, how="import")
            return
        self.scope.names[asname or head] = Val("external", ext=dotted if asname else head, how="import")

    def _import_from(self, module: str, name: str, bound: str) -> None:
        if module.split(".")[0] in self.own:
            t = self.ws.names.resolve(module, name) if module in self.ws.index.modules else None
            if isinstance(t, ModuleRef):
                self.scope.names[bound] = Val("module", module=t.module, how="import")
            elif isinstance(t, Symbol):
                self.scope.names[bound] = Val("def", sym=t, how=f"imported from {module}")
            return
        self.scope.names[bound] = Val("external", ext=f"{module}.{name}", how="import")

    def _name_result(self, value: Val | None, target: ast.expr) -> None:
        """Remember the name a call's result is bound to (what later steps call it)."""
        if value is not None and value.origin is not None and value.origin < len(self.calls):
            name = target.id if isinstance(target, ast.Name) else _dotted(target)
            c = self.calls[value.origin]
            if name and c.target is None:
                self.calls[value.origin] = c._replace(target=name)

    def _bind(self, target: ast.expr, value: Val | None) -> None:
        if isinstance(target, ast.Name):
            self.scope.names[target.id] = value or Val("unknown")
        elif isinstance(target, (ast.Tuple, ast.List)):
            for elt in target.elts:
                # each element comes from the same call; what it is the source does not say
                self._bind(
                    elt.value if isinstance(elt, ast.Starred) else elt, Val("unknown", value.origin) if value else None
                )
        elif isinstance(target, ast.Attribute):
            dotted = _dotted(target)
            if dotted:
                self.scope.names[dotted] = value or Val("unknown")
            self.ev(target.value)
        elif isinstance(target, ast.Subscript):
            self.ev(target.value)
            self.ev(target.slice)

    # ---- expressions --------------------------------------------------------------
    def ev(self, node: ast.expr | None) -> Val | None:
        if node is None:
            return None
        if isinstance(node, ast.Name):
            return self._name(node.id)
        if isinstance(node, ast.Attribute):
            dotted = _dotted(node)
            if dotted and self.scope.get(dotted) is not None:
                return self.scope.get(dotted)
            return self._attribute(self.ev(node.value), node.attr)
        if isinstance(node, ast.Call):
            return self._call(node)
        if isinstance(node, (ast.Await, ast.Subscript, ast.Starred, ast.NamedExpr)):
            inner = self.ev(node.value)
            if isinstance(node, ast.Subscript):
                self.ev(node.slice)
            if isinstance(node, ast.NamedExpr):
                self._bind(node.target, inner)
            if isinstance(node, ast.Await):
                return inner
            return Val("unknown", inner.origin) if inner is not None and inner.origin is not None else None
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                self.ev(child)
            elif isinstance(child, ast.comprehension):
                self.ev(child.iter)
                for cond in child.ifs:
                    self.ev(cond)
            elif isinstance(child, ast.keyword):
                self.ev(child.value)
        return None

    def _name(self, name: str) -> Val | None:
        v = self.scope.get(name)
        if v is not None:
            return v
        pkg = self.ws.package
        if pkg is None or name in _BUILTINS:
            return None
        if name in self.own and name in self.ws.index.modules:
            return Val("module", module=name, how="the package's name")
        t = self.ws.names.resolve(pkg, name)
        if isinstance(t, Symbol):
            return Val("def", sym=t, how=f"exported by {pkg} (the example does not import it)")
        return None

    def _attribute(self, base: Val | None, attr: str) -> Val | None:
        if base is None:
            return None
        if base.kind == "module" and base.module:
            t = self.ws.names.resolve(base.module, attr)
            if isinstance(t, ModuleRef):
                return Val("module", module=t.module, how=base.how)
            if isinstance(t, Symbol):
                return Val("def", sym=t, how=f"{attr} of module {base.module}")
            if f"{base.module}.{attr}" in self.ws.index.modules:
                # requests.adapters: a submodule the package imports somewhere, reached as an attribute
                return Val("module", module=f"{base.module}.{attr}", how=base.how)
            return None
        if base.kind == "external" and base.ext:
            return Val("external", ext=f"{base.ext}.{attr}", origin=base.origin, how=base.how)
        if base.kind == "def" and base.sym is not None and base.sym.kind == "class":
            m = self.ws.names.member(base.sym, attr)
            if m is not None:
                return Val("def", sym=m, owner=base.sym, how=f"{attr} of class {base.sym.qualname}")
            return None
        if base.kind == "instance":
            if base.sym is not None:
                m = self.ws.names.member(base.sym, attr)
                if m is not None:
                    return Val("def", sym=m, owner=base.sym, recv=base.origin, how=f"a {base.sym.name}'s {attr}")
                found = self._by_name(attr, base.sym)
                if found is not None:
                    return Val("def", sym=found[0], recv=base.origin, how=found[1])
                return Val("member", base.origin, owner=base.sym, recv=base.origin, member=attr)
            if base.ext:
                return Val("external", ext=f"{base.ext}.{attr}", recv=base.origin, how=f"a {base.ext}'s {attr}")
        if base.kind in ("unknown", "member") and base.origin is not None:
            found = self._by_name(attr, None)
            if found is not None:
                return Val("def", sym=found[0], recv=base.origin, how=found[1])
            return Val("member", base.origin, recv=base.origin, member=attr)
        return None

    def _by_name(self, attr: str, cls: Symbol | None) -> tuple[Symbol, str] | None:
        """A method the receiver's class does not define, found by its name: a function the
        repository binds to objects at run time, or, for an object of unknown class, the one public
        method of that name on a class the package exports. A known class that lacks the member
        leaves the call unresolved: the locator decides (discovery's settle step)."""
        if attr.startswith("_"):
            return None
        bound = runtime_bindings(self.ws).get(attr, [])
        if len({(b.function.file, b.function.qualname) for b in bound}) == 1:
            b = bound[0]
            return b.function, f"bound at run time as .{attr} ({b.file}:{b.line})"
        if cls is not None:
            return None  # the class lacks it (an external base has it, or __getattr__ forwards it): unresolved
        root = _only_root(self.ws, attr)
        if root is not None and _exported_owner(self.ws, root):
            # an object of unknown class: only a method of a class the package exports
            return root, f"the only public method named {attr} (the receiver's class is not known)"
        return None

    def _call(self, node: ast.Call) -> Val | None:
        f = self.ev(node.func)
        recv = f.recv if f is not None else None
        inputs: list[int] = [recv] if recv is not None else []
        for a in node.args:
            v = self.ev(a)
            if v is not None and v.origin is not None:
                inputs.append(v.origin)
        for k in node.keywords:
            v = self.ev(k.value)
            if v is not None and v.origin is not None:
                inputs.append(v.origin)
        if f is None or f.kind not in ("def", "external", "member"):
            return None
        if f.kind == "member" and not (f.member and _public_method_named(self.ws, f.member)):
            return None  # no method of the repository has that name: not an API of this library
        sym = f.sym if f.kind == "def" else None
        if sym is not None and (sym.name.startswith("__") and sym.name != "__call__"):
            return None
        idx = len(self.calls)
        result: Val
        ret_name: str | None = None
        if sym is not None:
            got = returned(self.ws, sym, f.owner if sym.kind == "method" else None)
            if isinstance(got, Symbol):
                result = Val("instance", idx, sym=got)
                ret_name = f"{got.module}:{got.qualname}"
            elif isinstance(got, str):
                result = Val("instance", idx, ext=got)
                ret_name = got
            else:
                result = Val("unknown", idx)
        elif f.kind == "member":
            result = Val("unknown", idx)
        else:
            ext = f.ext or ""
            # transformers.AutoModel.from_pretrained(...) gives an AutoModel-like object
            parts = ext.split(".")
            cls_ext = ".".join(parts[:-1]) if len(parts) > 2 and parts[-2][:1].isupper() else ext
            result = Val("instance", idx, ext=cls_ext)
            ret_name = cls_ext if cls_ext[:1] and cls_ext.split(".")[-1][:1].isupper() else None
        text = " ".join(ast.unparse(node).split())
        self.calls.append(
            Call(
                line=self._file_line(node.lineno),
                end_line=self._file_line(node.end_lineno or node.lineno),
                text=text[:MAX_CALL_TEXT],
                callee=" ".join(ast.unparse(node.func).split())[:MAX_CALL_TEXT],
                symbol=sym,
                external=f.ext if f.kind == "external" else None,
                how=f.how
                or (
                    "unresolved: "
                    + (
                        f"{f.owner.name} has no member {f.member}"
                        if f.owner
                        else f"{f.member} of an object of unknown class"
                    )
                ),
                receiver=recv,
                inputs=tuple(dict.fromkeys(i for i in inputs if i != idx)),
                keywords=tuple(k.arg for k in node.keywords if k.arg),
                returns=ret_name,
                member=f.member if f.kind == "member" else None,
                receiver_type=f"{f.owner.module}:{f.owner.qualname}" if f.kind == "member" and f.owner else None,
            )
        )
        return result


def _public_method_named(ws: Workspace, name: str) -> bool:
    names: set[str] = per_index(
        ws, "_usage_public_methods", lambda w: {s.name for s in w.index.symbols if s.kind == "method" and _is_public(s)}
    )
    return name in names


def _exported_owner(ws: Workspace, s: Symbol) -> bool:
    owner = ws.names.owner(s)
    return bool(ws.package and owner is not None and ws.names.resolve(ws.package, owner.name) == owner)


_MAX_SAME_NAME = 200  # a method name defined more often than this is never "the only one"


def _only_root(ws: Workspace, attr: str) -> Symbol | None:
    """The one public method named ``attr`` that overrides no other of that name (its overrides are
    the same API), or None when there are several (memoised per index)."""
    memo: dict[str, Symbol | None] = per_index(ws, "_usage_only_root", lambda _ws: {})
    if attr in memo:
        return memo[attr]
    found = [
        s
        for s in ws.index.by_name.get(attr, [])
        if s.kind == "method" and _is_public(s) and "<locals>" not in s.qualname and s.parent
    ]
    out: Symbol | None = None
    if 0 < len(found) <= _MAX_SAME_NAME:
        owners = {(s.file, s.parent) for s in found}
        roots = []
        for s in found:
            cls = ws.index.definition(s.module, s.parent or "")
            ancestors = {(c.file, c.qualname) for c in ws.names.mro(cls)[1:]} if cls is not None else set()
            if not ancestors & owners:
                roots.append(s)
        out = roots[0] if len(roots) == 1 else None
    memo[attr] = out
    return out


def _dotted(node: ast.expr) -> str | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return ".".join([node.id] + parts[::-1])
    return None


class UnitCalls(NamedTuple):
    calls: list[Call]
    parsed: bool


def block_calls(ws: Workspace, blocks: tuple[Block, ...] | list[Block]) -> UnitCalls:
    """The calls of blocks that share one scope (a document's code blocks, one docstring's examples):
    one walker goes through them in order, so a later block's ``model`` is the earlier block's."""
    walker = UnitWalker(ws, [], _Scope())
    parsed = False
    for block in blocks:
        tree = parse_tolerant(block.code)
        if tree is None:
            continue
        parsed = True
        walker.lines = [no for no, _ in block.lines]
        walker.walk(tree.body)
    return UnitCalls(walker.calls, parsed)


def python_file_units(ws: Workspace, block: Block) -> list[UnitCalls]:
    """A whole ``.py`` file of examples or tests: its module-level code is one unit, each function
    (and each method of a module-level class) another, with the module's imports in scope."""
    tree = parse_tolerant(block.code)
    if tree is None:
        return []
    lines = [no for no, _ in block.lines]
    module_scope = _Scope()
    top = UnitWalker(ws, lines, module_scope)
    funcs: list[ast.FunctionDef | ast.AsyncFunctionDef] = []
    rest: list[ast.stmt] = []
    for s in tree.body:
        if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)):
            funcs.append(s)
        elif isinstance(s, ast.ClassDef):
            funcs += [m for m in s.body if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))]
        else:
            rest.append(s)
    top.walk(rest)
    units = [UnitCalls(top.calls, True)]
    for fn in sorted(funcs, key=lambda f: f.lineno):
        w = UnitWalker(ws, lines, _Scope(parent=module_scope))
        w.walk(fn.body)
        units.append(UnitCalls(w.calls, True))
    return units
