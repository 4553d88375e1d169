"""Where a symbol's work happens: the chain of definitions its work is delegated to.

An API a user calls often does little itself: ``merge_and_unload`` hands over to
``_unload_and_optionally_merge``, which asks every adapted layer to ``merge``, which adds what
``get_delta_weight`` computes; ``Trainer.train`` hands over to the inner training loop. A page that
explains the concept must cite where the work is done, so this module follows the delegation, one
definition at a time, through the index:

* ``self.m()`` / ``cls.m()`` by the MRO of the class the user holds (then of the method's own class);
* ``super().m()`` by the MRO after the method's class;
* module functions and classes (a class call reaches its ``__init__``), also through ``module.f``;
* ``self.attr.m()`` when the class of ``attr`` is known from an assignment or annotation of the class;
* ``x.m()`` for a local ``x`` built from, or annotated with, a class of the index;
* ``self.m`` passed as a value (``run(self._loop)``): a reference the caller runs later;
* ``obj.m()`` on an object of unknown class only when ``m`` shares a word with the chain, among the
  definitions of that name.

At each definition the call that does the work is chosen by evidence in the body, not by name lists of
one library: a body of one statement delegates; a call whose result is returned, or feeds arithmetic, or
runs in a loop, or whose name shares a word with the chain, or whose body is large, weighs more; checks
and logging weigh less. An abstract method (its body only raises ``NotImplementedError``) is replaced by
the override that the library's README and docs name most. The chain is bounded in depth and never
visits a definition twice. Deterministic: the same index gives the same chain.
"""

from __future__ import annotations

import ast
import math
import re
from collections import Counter
from collections.abc import Iterable, Set as AbstractSet
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from tools import pyast
from tools.index.names import ModuleRef
from tools.index.records import Symbol
from tools.index.source_ast import (
    FunctionNode,
    body,
    body_lines,
    function_node,
    is_abstract,
    module_tree,
    walk_own,
)
from tools.index.workspace import Workspace

MAX_DEPTH = 5
MIN_SCORE = 3  # below this no call of a body is the one doing its work: the chain ends there
_MAX_BY_NAME = 150  # a method name defined more often than this says nothing about its receiver
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
# words that say nothing about what a definition does
_STOP = {
    "get",
    "set",
    "and",
    "or",
    "to",
    "of",
    "for",
    "with",
    "from",
    "is",
    "has",
    "by",
    "the",
    "a",
    "an",
    "do",
    "impl",
    "inner",
    "internal",
    "helper",
    "maybe",
    "self",
    "cls",
    "init",
    "call",
    "new",
    "main",
    "base",
    "py",
}
# first words of definitions that guard, report or format rather than work
_SIDE = {
    "check",
    "validate",
    "assert",
    "warn",
    "warning",
    "log",
    "is",
    "has",
    "ensure",
    "raise",
    "print",
    "deprecate",
    "format",
    "repr",
    "str",
    "sanitize",
}
# words of helpers that measure rather than work: find_batch_size, get_num_items
_MEASURE = {
    "find",
    "get",
    "compute",
    "batch",
    "size",
    "sizes",
    "count",
    "length",
    "num",
    "number",
    "shape",
    "len",
    "total",
}


class Link(NamedTuple):
    """One definition of the chain and how its caller reaches it."""

    symbol: Symbol
    via: str  # entry, self, super, function, constructor, attribute, local, reference, override, name
    line: int | None  # the caller's line that reaches it (None for the entry)


class _Site(NamedTuple):
    target: Symbol
    via: str
    line: int
    returned: str | None  # "last": the body's final result; "early": an early return; None
    feeds_math: bool
    in_loop: bool
    conditional: bool  # under an if / try handler: one case, not the main path
    framing: bool  # a context manager (`with f():`): it frames the work, the body does it
    feature: bool  # under `if is_x_available():` and the like: one platform's case
    operand: bool  # inside this body's own arithmetic: part of the formula computed here


def name_words(name: str) -> list[str]:
    """``_unload_and_optionally_merge`` → unload, and, optionally, merge; ``getDeltaWeight`` likewise."""
    return [p.lower() for chunk in name.split("_") if chunk for p in _CAMEL.findall(chunk)]


def stem(word: str) -> str:
    """A crude stem, enough to match merge / merging / merged and train / training / trainer."""
    w = word.lower()
    for suffix in ("ing", "ed", "er", "es", "s", "e"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            return w[: -len(suffix)]
    return w


def stems(names: Iterable[str]) -> set[str]:
    return {stem(w) for n in names for w in name_words(n) if w not in _STOP and len(w) > 1}


# --- the entry ---------------------------------------------------------------------------------------


def _method_of_call(api_call: str | None) -> str | None:
    """``Trainer(...).train()`` → train: the method the step calls on a freshly built object."""
    try:
        node = pyast.parse((api_call or "").strip().strip("`"), mode="eval").body
    except SyntaxError:
        return None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Call):
        return node.func.attr
    return None


def _is_dataclass(sym: Symbol) -> bool:
    return any("dataclass" in d for d in sym.decorators)


def main_method(ws: Workspace, sym: Symbol, api_call: str | None = None) -> tuple[Symbol, str] | None:
    """(the definition whose body runs when the step's API is used, what it is in words): the symbol itself
    for a function or method; for a class, the method the call makes, else its ``__post_init__`` (a
    dataclass), ``__init__`` or ``__call__``."""
    if sym.kind != "class":
        return sym, "method" if sym.kind == "method" else "function"
    methods = {s.name: s for s in ws.index.file_symbols(sym.file) if s.parent == sym.qualname and s.kind == "method"}
    called = _method_of_call(api_call)
    for name, subject in (
        (called, "method"),
        ("__post_init__" if _is_dataclass(sym) else None, "post-init check"),
        ("__init__", "constructor"),
        ("__call__", "call method"),
    ):
        if name and name in methods:
            return methods[name], subject
    return None


# --- the README and docs: which implementation the library teaches ------------------------------------


@lru_cache(maxsize=8)
def _teaching_words(root: str) -> Counter[str]:
    """Word counts of the README and the docs folder (Markdown, reST): what the library talks about."""
    base = Path(root)
    files = [p for p in sorted(base.glob("README*")) if p.is_file()]
    docs = base / "docs"
    if docs.is_dir() and not docs.is_symlink():
        files += sorted(p for p in docs.rglob("*") if p.suffix in (".md", ".mdx", ".rst") and not p.is_symlink())[:400]
    counts: Counter[str] = Counter()
    budget = 4_000_000
    for p in files:
        try:
            text = p.read_text(encoding="utf-8", errors="replace")[:200_000]
        except OSError:
            continue
        budget -= len(text)
        if budget < 0:
            break
        counts.update(w.lower() for w in re.findall(r"[A-Za-z][A-Za-z0-9]+", text))
    return counts


def _most_taught(ws: Workspace, candidates: list[Symbol], context: AbstractSet[str] = frozenset()) -> Symbol | None:
    """The candidate whose distinctive words (its module path and class name, minus what all candidates
    share) the step's own words name (``context``, stems), else the README and docs mention most; ties go
    to the larger body, then the path."""
    if not candidates:
        return None
    if len(candidates) == 1:
        return candidates[0]
    counts = _teaching_words(str(ws.source.root))

    def words(s: Symbol) -> set[str]:
        parts = s.module.split(".") + (s.parent or "").split(".")
        return {w for p in parts for w in name_words(p)}

    common = set.intersection(*(words(s) for s in candidates))
    spread = _path_words(ws)

    def taught(s: Symbol) -> float:
        # a word in many module paths ("model", "utils") is the library's vocabulary, not this candidate's
        return sum(counts[w] / (1 + spread[w]) for w in words(s) - common)

    def named(s: Symbol) -> int:
        return len({stem(w) for w in words(s) - common} & context)

    ranked = sorted(candidates, key=lambda s: (-named(s), -taught(s), -(s.end_line - s.start_line), s.file, s.qualname))
    return ranked[0]


_PATH_WORDS: dict[str, Counter[str]] = {}


def _path_words(ws: Workspace) -> Counter[str]:
    """In how many modules of the index each word of a module path occurs."""
    key = str(ws.source.root)
    if key not in _PATH_WORDS:
        _PATH_WORDS[key] = Counter(
            w for m in ws.index.modules for w in {w for p in m.split(".") for w in name_words(p)}
        )
    return _PATH_WORDS[key]


# --- resolution ------------------------------------------------------------------------------------


_NOT_LIBRARY = {"tests", "test", "testing", "examples", "example", "docs", "scripts", "benchmarks", "benchmark"}


def teaching_free(file: str) -> bool:
    """A file of the library itself, not of its tests, examples, docs or scripts."""
    parts = file.split("/")
    return not (set(parts[:-1]) & _NOT_LIBRARY) and not parts[-1].startswith(("test_", "conftest"))


def _owner(ws: Workspace, sym: Symbol) -> Symbol | None:
    if sym.kind != "method" or not sym.parent:
        return None
    owner = ws.index.definition(sym.module, sym.parent)
    return owner if owner is not None and owner.kind == "class" else None


def _class_of(ws: Workspace, module: str, text: str | None) -> Symbol | None:
    """The class an annotation or a constructor expression names, when the index defines it."""
    if not text:
        return None
    text = text.strip().strip("'\"")
    m = re.fullmatch(r"(?:Optional|typing\.Optional)\[(.+)\]", text)
    text = m.group(1) if m else text
    text = text.split("|")[0].strip()
    if not re.fullmatch(r"[A-Za-z_][\w.]*", text):
        return None
    t = ws.names.resolve_dotted(module, text)
    return t if isinstance(t, Symbol) and t.kind == "class" else None


def _dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = _dotted(node.value)
        return f"{head}.{node.attr}" if head else None
    return None


def _methods(ws: Workspace, cls: Symbol) -> list[Symbol]:
    return [s for s in ws.index.file_symbols(cls.file) if s.parent == cls.qualname and s.kind == "method"]


_ATTRIBUTES: dict[tuple[str, str, str, int], dict[str, Symbol]] = {}


def _attribute_classes(ws: Workspace, cls: Symbol) -> dict[str, Symbol]:
    out: dict[str, Symbol] = {}
    for klass in reversed(ws.names.mro(cls)):  # the class's own assignments win over its bases'
        for f in klass.fields:
            c = _class_of(ws, klass.module, f.annotation)
            if c is not None:
                out[f.name] = c
        for meth in _methods(ws, klass):
            node = function_node(ws, meth)
            if node is None:
                continue
            params = {a.arg: a.annotation for a in node.args.args + node.args.kwonlyargs}
            for n in walk_own(node):
                target: ast.AST | None = None
                found: Symbol | None = None
                if isinstance(n, ast.Assign) and len(n.targets) == 1:
                    target = n.targets[0]
                    v = n.value
                    if isinstance(v, ast.Call):
                        found = _class_of(ws, klass.module, _dotted(v.func))
                    elif isinstance(v, ast.Name) and params.get(v.id) is not None:
                        ann = params[v.id]
                        found = _class_of(ws, klass.module, ast.unparse(ann) if ann is not None else None)
                elif isinstance(n, ast.AnnAssign):
                    target, found = n.target, _class_of(ws, klass.module, ast.unparse(n.annotation))
                if (
                    found is not None
                    and isinstance(target, ast.Attribute)
                    and isinstance(target.value, ast.Name)
                    and target.value.id == "self"
                ):
                    out[target.attr] = found
    return out


def attribute_classes(ws: Workspace, cls: Symbol) -> dict[str, Symbol]:
    """``self.X`` → the class of X, from assignments (``self.X = C(...)``, ``self.X = param: C``) and
    annotations in the class and its bases."""
    key = (str(ws.source.root), cls.file, cls.qualname, cls.start_line)
    if key not in _ATTRIBUTES:
        _ATTRIBUTES[key] = _attribute_classes(ws, cls)
    return _ATTRIBUTES[key]


def _assigned_in(ws: Workspace, module: str, name: str, depth: int = 0) -> str | None:
    """The module whose top level assigns ``name`` as seen from ``module`` (following imports)."""
    rec = ws.index.modules.get(module)
    if rec is None or depth > 4:
        return None
    if name in rec.assignments:
        return module
    for b in rec.bindings:
        if b.name == name and b.attr is not None:
            return _assigned_in(ws, b.module, b.attr, depth + 1)
    return None


def _mapping_class(ws: Workspace, module: str, name: str) -> Symbol | None:
    """For ``NAME[key](...)`` with ``NAME`` a module-level table of classes: the class its annotation names
    (``dict[str, type[C]]``), else the one class every value of its literal is or derives from."""
    where = _assigned_in(ws, module, name)
    tree = module_tree(ws, ws.index.modules[where].path) if where is not None else None
    if tree is None or where is None:
        return None
    for stmt in tree.body:
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.target.id == name:
            m = re.search(r"type\[([\w.]+)\]", ast.unparse(stmt.annotation))
            if m:
                return _class_of(ws, where, m.group(1))
            value: ast.expr | None = stmt.value
        elif (
            isinstance(stmt, ast.Assign)
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name)
            and stmt.targets[0].id == name
        ):
            value = stmt.value
        else:
            continue
        if not isinstance(value, ast.Dict) or not value.values:
            return None
        classes = [_class_of(ws, where, _dotted(v)) for v in value.values]
        if any(c is None for c in classes):
            return None
        lines = [[(k.module, k.qualname) for k in ws.names.mro(c)] for c in classes if c is not None]
        shared = [k for k in lines[0] if all(k in line for line in lines[1:])]
        return ws.index.definition(*shared[0]) if shared else None
    return None


def _abstract(ws: Workspace, sym: Symbol) -> bool:
    node = function_node(ws, sym)
    return node is not None and is_abstract(node)


def _overrides(ws: Workspace, sym: Symbol) -> list[Symbol]:
    """Concrete definitions of an abstract method's name in the subclasses of its class (any depth)."""
    owner = _owner(ws, sym)
    if owner is None:
        return []
    subs = ws.names.subclasses
    out: list[Symbol] = []
    seen: set[tuple[str, str]] = set()
    todo = [owner]
    while todo and len(seen) < 400:
        c = todo.pop()
        for s in subs.get((c.module, c.qualname), []):
            if (s.module, s.qualname) in seen:
                continue
            seen.add((s.module, s.qualname))
            todo.append(s)
            m = ws.index.definition(s.module, f"{s.qualname}.{sym.name}")
            if m is not None and not _abstract(ws, m):
                out.append(m)
    return out


def _concrete(ws: Workspace, sym: Symbol, context: AbstractSet[str] = frozenset()) -> tuple[Symbol, bool]:
    """An abstract method's override the step names or the README teaches (and True), or the method itself
    (and False)."""
    if not _abstract(ws, sym):
        return sym, False
    best = _most_taught(ws, _overrides(ws, sym), context)
    return (best, True) if best is not None else (sym, False)


class _Scope:
    """What the names of one body refer to."""

    def __init__(self, ws: Workspace, cur: Symbol, node: FunctionNode, self_cls: Symbol | None) -> None:
        self.ws = ws
        self.cur = cur
        self.owner = _owner(ws, cur)
        self.self_cls = self_cls or self.owner
        self.locals: dict[str, Symbol] = {}
        for a in node.args.args + node.args.kwonlyargs + node.args.posonlyargs:
            c = _class_of(ws, cur.module, ast.unparse(a.annotation)) if a.annotation is not None else None
            if c is not None:
                self.locals[a.arg] = c
        for n in walk_own(node):
            if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name):
                if isinstance(n.value, ast.Call):
                    c = _class_of(ws, cur.module, _dotted(n.value.func))
                    if c is not None:
                        self.locals[n.targets[0].id] = c

    def member(self, cls: Symbol | None, name: str) -> Symbol | None:
        return self.ws.names.member(cls, name) if cls is not None else None

    def resolve(self, func: ast.AST, words: set[str]) -> tuple[Symbol, str] | None:
        ws, cur = self.ws, self.cur
        if isinstance(func, ast.Name):
            local = ws.index.definition(cur.module, f"{cur.qualname}.<locals>.{func.id}")
            if local is not None:
                return local, "function"
            t = ws.names.resolve(cur.module, func.id)
            return self._callable(t, "function")
        if isinstance(func, ast.Subscript) and isinstance(func.value, ast.Name):
            cls = _mapping_class(ws, cur.module, func.value.id)
            return self._callable(cls, "constructor") if cls is not None else None
        if not isinstance(func, ast.Attribute):
            return None
        v, attr = func.value, func.attr
        if isinstance(v, ast.Name) and v.id in ("self", "cls"):
            hit = self.member(self.self_cls, attr) or self.member(self.owner, attr)
            return (hit, "self") if hit is not None and hit.kind == "method" else None
        if (
            isinstance(v, ast.Call)
            and isinstance(v.func, ast.Name)
            and v.func.id == "super"
            and self.owner is not None
            and self.self_cls is not None
        ):
            mro = ws.names.mro(self.self_cls)
            keys = [(c.module, c.qualname) for c in mro]
            here = (self.owner.module, self.owner.qualname)
            rest = mro[keys.index(here) + 1 :] if here in keys else ws.names.mro(self.owner)[1:]
            for klass in rest:
                hit = ws.index.definition(klass.module, f"{klass.qualname}.{attr}")
                if hit is not None:
                    return hit, "super"
            return None
        if isinstance(v, ast.Name) and v.id in self.locals:
            hit = self.member(self.locals[v.id], attr)
            return (hit, "local") if hit is not None else None
        if isinstance(v, ast.Attribute) and isinstance(v.value, ast.Name) and v.value.id == "self":
            cls = self.self_cls or self.owner
            kinds = attribute_classes(ws, cls) if cls is not None else {}
            if v.attr in kinds:
                hit = self.member(kinds[v.attr], attr)
                return (hit, "attribute") if hit is not None else None
        dotted = _dotted(func)
        if dotted is not None and isinstance(v, ast.Name):
            t = ws.names.resolve_dotted(cur.module, dotted)
            if t is not None:
                return self._callable(t, "function")
            if ws.names.resolve(cur.module, v.id) is not None:
                return None  # an attribute of a known module or class that the index does not define
        # an object of unknown class: only a method whose name belongs to the chain
        if not (stems([attr]) & words):
            return None
        cands = [s for s in ws.index.by_name.get(attr, []) if s.kind == "method"]
        if not cands or len(cands) > _MAX_BY_NAME:
            return None
        concrete = [s for s in cands if not _abstract(ws, s)]
        # the definition the others override is what an object of unknown class runs unless it is special
        owners = {(s.file, s.qualname): _owner(ws, s) for s in concrete}
        mros = {k: {(c.module, c.qualname) for c in ws.names.mro(o)} for k, o in owners.items() if o is not None}
        roots = [
            s
            for s in concrete
            if (o := owners[(s.file, s.qualname)]) is not None
            and any((o.module, o.qualname) in m for k, m in mros.items() if k != (s.file, s.qualname))
        ]
        best = _most_taught(ws, roots or concrete, words)
        return (best, "name") if best is not None else None

    def _callable(self, t: Symbol | ModuleRef | None, via: str) -> tuple[Symbol, str] | None:
        if not isinstance(t, Symbol):
            return None
        if t.kind == "class":
            init = self.ws.names.member(t, "__init__")
            return (init, "constructor") if init is not None else None
        return t, via


def _parents(node: ast.AST) -> dict[int, ast.AST]:
    out: dict[int, ast.AST] = {}
    for n in walk_own(node):
        for child in ast.iter_child_nodes(n):
            out[id(child)] = n
    for child in ast.iter_child_nodes(node):
        out[id(child)] = node
    return out


def feature_case(test: ast.expr, probes: bool = False) -> bool:
    """A case rather than the algorithm: a platform or feature switch (``if is_x_available():``,
    ``if self.is_deepspeed_enabled:``) or a periodic chore (``if step % n == 0:``); with ``probes``, also a
    capability probe (``if hasattr(opt, "train"):``), which in a loop's body is an optional extra but in a
    dispatch over objects (``elif hasattr(target, "base_layer"):``) is the main path."""
    for n in ast.walk(test):
        name = n.id if isinstance(n, ast.Name) else n.attr if isinstance(n, ast.Attribute) else ""
        if re.match(r"^_?is_\w+_(available|enabled)$", name) or (probes and name in ("hasattr", "callable")):
            return True
        if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Mod):
            return True
    return False


def _in_body(branch: ast.If, node: ast.AST) -> bool:
    """Whether ``node`` is in the ``if`` branch's body (not its ``else``)."""
    return any(node is x for stmt in branch.body for x in ast.walk(stmt))


def _plain_names(target: ast.AST) -> list[ast.Name]:
    if isinstance(target, ast.Name):
        return [target]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [n for e in target.elts for n in _plain_names(e)]
    return []


def _sites(ws: Workspace, sym: Symbol, node: FunctionNode, self_cls: Symbol | None, words: set[str]) -> list[_Site]:
    scope = _Scope(ws, sym, node, self_cls)
    parents = _parents(node)
    everything = walk_own(node)
    returns = [(r, r.value) for r in everything if isinstance(r, ast.Return) and r.value is not None]
    last_return = returns[-1][0] if returns else None
    returned_names = {n.id for _, v in returns for n in ast.walk(v) if isinstance(n, ast.Name)}
    last_names = {n.id for n in ast.walk(returns[-1][1]) if isinstance(n, ast.Name)} if returns else set()
    math_names = {
        n.id
        for b in everything
        if isinstance(b, (ast.BinOp, ast.AugAssign))
        for n in ast.walk(b)
        if isinstance(n, ast.Name) and n.id not in ("self", "cls")
    }

    # what each local name is assigned from: several different sources make each one a case
    sources: dict[str, set[str]] = {}
    for a in everything:
        if isinstance(a, (ast.Assign, ast.AnnAssign)) and a.value is not None:
            v = a.value
            src = ast.unparse(v.func) if isinstance(v, ast.Call) else ast.unparse(v)[:60]
            for tgt in a.targets if isinstance(a, ast.Assign) else [a.target]:
                for t in _plain_names(tgt):
                    sources.setdefault(t.id, set()).add(src)

    def ancestors(n: ast.AST) -> list[ast.AST]:
        out = []
        while id(n) in parents and parents[id(n)] is not node:
            n = parents[id(n)]
            out.append(n)
        return out

    def assigned_to(n: ast.AST) -> set[str]:
        for a in ancestors(n):
            if isinstance(a, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                targets = a.targets if isinstance(a, ast.Assign) else [a.target]
                # plain names only: `self.x = f()` says nothing about a later use of `self`
                return {t.id for tgt in targets for t in _plain_names(tgt)}
            if isinstance(a, ast.stmt):
                return set()
        return set()

    out: list[_Site] = []
    for n in everything:
        func: ast.AST | None = None
        if isinstance(n, ast.Call):
            func = n.func
        elif (
            isinstance(n, ast.Attribute)
            and isinstance(n.value, ast.Name)
            and n.value.id == "self"
            and isinstance(n.ctx, ast.Load)
            and not ((p := parents.get(id(n))) is not None and isinstance(p, ast.Call) and p.func is n)
        ):
            func = n  # self.m passed as a value: run later by what it is passed to
        if func is None:
            continue
        hit = scope.resolve(func, words)
        if hit is None:
            continue
        target, via = hit
        if not teaching_free(target.file):
            continue
        if any(d.split(".")[-1] in ("property", "cached_property", "setter", "getter") for d in target.decorators):
            continue  # an attribute read, not work handed over
        if func is n:
            if target.kind != "method":
                continue
            via = "reference"
        target, overridden = _concrete(ws, target, words)  # an abstract method is judged by its override
        via = "override" if overridden else via
        anc = ancestors(n)
        names = assigned_to(n)
        conditional = any(isinstance(a, (ast.If, ast.IfExp, ast.ExceptHandler)) for a in anc)
        alternative = conditional and any(len(sources.get(x, ())) > 1 for x in names)
        if alternative:
            continue  # one of several branches that set the value differently: a case, not the main path
        names_last, names_any = names, names
        out.append(
            _Site(
                target=target,
                via=via,
                line=getattr(n, "lineno", node.lineno),
                returned=(
                    "last"
                    if (last_return is not None and last_return in anc) or names_last & last_names
                    else "early"
                    if any(isinstance(a, ast.Return) for a in anc) or names_any & returned_names
                    else None
                ),
                # its result is an ingredient of arithmetic done here (an operand inside the formula is
                # part of this body's own computation, not work handed over)
                feeds_math=bool(names & math_names) and not any(isinstance(a, ast.BinOp) for a in anc),
                in_loop=any(isinstance(a, (ast.For, ast.AsyncFor, ast.While)) for a in anc),
                conditional=conditional,
                framing=any(isinstance(a, ast.withitem) for a in anc),
                feature=any(isinstance(a, ast.If) and feature_case(a.test) and _in_body(a, n) for a in anc),
                operand=any(isinstance(a, ast.BinOp) for a in anc),
            )
        )
    return out


_RARITY: dict[str, Counter[str]] = {}


def _name_stems(ws: Workspace) -> Counter[str]:
    """In how many definitions' names each stem occurs."""
    key = str(ws.source.root)
    if key not in _RARITY:
        _RARITY[key] = Counter(w for s in ws.index.symbols for w in stems([s.name]))
    return _RARITY[key]


def _overlap(ws: Workspace, name: str, words: set[str]) -> float:
    """How much ``name`` shares with the chain's words, a word shared by many definitions counting less."""
    counts = _name_stems(ws)
    total = max(2, len(ws.index.symbols))
    return sum(min(2.0, math.log(total / (1 + counts[w])) / 2.5) for w in stems([name]) & words)


def _score(ws: Workspace, site: _Site, only: bool, words: set[str]) -> float:
    target = site.target
    tnode = function_node(ws, target)
    size = body_lines(tnode) if tnode is not None else 0
    first = next(iter(name_words(target.name)), "")
    s = 6.0 if only else 0.0
    s += 3 if site.returned == "last" else 1 if site.returned == "early" else 0
    s += 3 if site.feeds_math else 0
    s += min(2.0 if site.via == "name" else 4.0, _overlap(ws, target.name, words))
    s += 1 if site.in_loop else 0
    s += 0 if site.conditional else 2
    s -= 2 if site.via == "constructor" and not site.returned else 0
    s += 3 if size >= 100 else 2 if size >= 40 else 1 if size >= 15 else -3 if size < 5 else 0
    s -= 3 if "<locals>" in target.qualname else 0
    s -= 4 if site.framing else 0
    s -= 5 if site.feature else 0
    named = [w for w in name_words(target.name) if w not in _STOP]
    s -= 4 if named and set(named) <= _MEASURE else 0
    s -= 3 if site.operand else 0
    if first in _SIDE or (target.name.startswith("__") and target.name not in ("__init__", "__call__")):
        s -= 5
    if site.via == "name":
        s -= 1
    return s


def _evidence(ws: Workspace, site: _Site, only: bool, words: set[str]) -> bool:
    """Whether the body hands its work to the site: it has nothing else to do, returns its result, uses
    its result in arithmetic, or calls it by a name of the chain (size alone is no evidence)."""
    return only or site.returned == "last" or site.feeds_math or _overlap(ws, site.target.name, words) >= 0.8


def ranked(ws: Workspace, node: FunctionNode, sites: list[_Site], words: set[str]) -> list[tuple[float, _Site]]:
    """The call sites of one body, best first (ties: the earlier call)."""
    targets = {(s.target.file, s.target.qualname, s.target.start_line) for s in sites}
    only = len(body(node.body)) == 1 and len(targets) == 1
    scored = sorted(
        ((_score(ws, s, only, words), -k, s) for k, s in enumerate(sites)), key=lambda t: (t[0], t[1]), reverse=True
    )
    best: dict[tuple[str, str, int], tuple[float, _Site]] = {}
    for score, _, s in scored:  # a definition called twice counts by its best call
        best.setdefault((s.target.file, s.target.qualname, s.target.start_line), (score, s))
    return list(best.values())


def callee_chain(
    ws: Workspace,
    sym: Symbol,
    api_call: str | None = None,
    context: Iterable[str] = (),
    self_cls: Symbol | None = None,
    max_depth: int = MAX_DEPTH,
) -> tuple[Link, ...]:
    """The entry's definition, then each definition its work is handed to, until a body does the work
    itself (no call in it scores ``MIN_SCORE``) or ``max_depth`` links follow the entry. ``context``:
    words of the step (its concept, its title) that a callee's name may share; ``self_cls``: the class the
    user holds, when it is not the method's own."""
    main = main_method(ws, sym, api_call)
    if main is None:
        return ()
    start, _ = main
    start, _ = _concrete(ws, start, stems([sym.name, *context]))
    words = stems([sym.name, start.name, *context])
    chain = [Link(start, "entry", None)]
    seen = {(start.file, start.qualname, start.start_line)}
    cls = self_cls or (sym if sym.kind == "class" else _owner(ws, start))
    cur = start
    for _ in range(max_depth):
        node = function_node(ws, cur)
        if node is None:
            break
        sites = [
            s
            for s in _sites(ws, cur, node, cls, words)
            if (s.target.file, s.target.qualname, s.target.start_line) not in seen
        ]
        if not sites:
            break
        scored = ranked(ws, node, sites, words)
        best_score, best = scored[0]
        if best_score < MIN_SCORE or not _evidence(ws, best, len(body(node.body)) == 1, words):
            break
        target = best.target
        key = (target.file, target.qualname, target.start_line)
        if key in seen:
            break
        seen.add(key)
        chain.append(Link(target, best.via, best.line))
        owner = _owner(ws, target)
        if best.via not in ("self", "super", "reference") and owner is not None:
            cls = owner  # the work moved to another object (or to a subclass): its class resolves self-calls
        cur = target
    return tuple(chain)
