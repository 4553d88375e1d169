"""The algorithm a function really runs, outlined in words from its ast.

A Principle page's Theoretical Basis should say what the implementation does, not a template. This
module reads the body of the step's function (for a class: the method that does the work), and
turns its control flow into a short numbered list: branches with their conditions, loops, the
helpers it calls, early returns and the exceptions it raises. Identifiers become words
(``peft_config.task_type`` → "config's task type"), and words that name the library (the
deny-list of R34/R35) are dropped, so the outline names only the step's own concepts and never
reproduces a line of the source.

Everything here is derived from the source; nothing is guessed. When a body is too long, the
least telling statements (plain assignments, calls of trivial builtins) are left out first and the
outline says how many were.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache

from tools import pyast
from tools.index.records import Symbol
from tools.index.workspace import Workspace
from tools.sentences import terminated

Deny = tuple[set[str], set[str]]  # (case-insensitive words, case-sensitive names), as Context.deny_terms

# calls that say nothing about the algorithm: the outline keeps their arguments' meaning only
_TRIVIAL = {
    "len",
    "str",
    "int",
    "float",
    "bool",
    "list",
    "tuple",
    "set",
    "dict",
    "sorted",
    "reversed",
    "enumerate",
    "zip",
    "range",
    "isinstance",
    "getattr",
    "hasattr",
    "setattr",
    "type",
    "id",
    "repr",
    "format",
    "print",
    "get",
    "items",
    "keys",
    "values",
    "copy",
    "deepcopy",
    "append",
    "extend",
    "update",
    "pop",
    "join",
    "split",
    "strip",
    "lower",
    "upper",
    "startswith",
    "endswith",
    "replace",
    "super",
    "min",
    "max",
    "any",
    "all",
    "iter",
    "next",
    "map",
    "filter",
    "vars",
    "cast",
    "abs",
    "round",
    "sum",
    "callable",
    "issubclass",
    "add",
    "insert",
    "remove",
    "setdefault",
    "fspath",
    "dirname",
    "basename",
    "exists",
    "isdir",
    "isfile",
}
_WARN = {"warn", "warning", "warning_once", "warn_once", "warning_advice"}
_LOG = {"info", "debug", "log", "info_once", "debug_once", "exception", "error", "critical"}
_COMPARE = {
    ast.Eq: "equals",
    ast.NotEq: "differs from",
    ast.Lt: "is below",
    ast.LtE: "is at most",
    ast.Gt: "is above",
    ast.GtE: "is at least",
    ast.In: "is in",
    ast.NotIn: "is not in",
    ast.Is: "is",
    ast.IsNot: "is not",
}
_BINOP = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "×",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "mod",
    ast.Pow: "^",
    ast.MatMult: "@",
    ast.BitOr: "or",
    ast.BitAnd: "and",
}
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_MAX_TEXT = 130
_AS = {"int": "an integer", "float": "a float", "str": "text", "bool": "a flag"}
_BUILTIN_TYPES = {"str", "int", "float", "bool", "list", "tuple", "dict", "set", "bytes", "type", "object", "None"}


@dataclass(frozen=True)
class OutlineStep:
    depth: int  # 0 for the body's own statements, 1.. for statements nested in a branch or loop
    text: str


@dataclass(frozen=True)
class Outline:
    subject: str  # what was outlined, in words: "function", "method", "constructor", "post-init check"
    qualname: str  # the definition whose body was read (after following a one-line delegation)
    lines: int  # length of that body in source lines
    steps: tuple[OutlineStep, ...]
    helpers: tuple[str, ...]  # identifiers of the non-trivial functions and methods it calls, in order
    raises: tuple[str, ...]  # exception names it raises
    branches: int
    loops: int
    abstract: bool  # the body only raises NotImplementedError: subclasses supply the algorithm
    delegate: str | None = None  # qualname of the definition a one-statement body hands over to
    omitted: int = 0  # statements left out to keep the outline short
    formulas: tuple[str, ...] = field(default=())  # maths written in the docstrings (TeX)


def words(name: str, deny: Deny = (set(), set())) -> str:
    """``_get_peft_model_state`` → "get model state" (deny-listed words dropped, acronyms kept)."""
    low, _exact = deny
    parts = [p for chunk in name.strip("_").split("_") if chunk for p in _CAMEL.findall(chunk)]
    out = []
    for p in parts:
        if p.lower() in low:
            continue
        out.append(p if (p.isupper() and 1 < len(p) <= 4 and not name.isupper()) else p.lower())
    return " ".join(out)


def _class_like(name: str) -> bool:
    """CamelCase (a class), not ALL_CAPS (a module constant, which the outline names)."""
    return name[:1].isupper() and not name.isupper()


class _Renderer:
    """Expressions and statements of one body, in words."""

    def __init__(self, deny: Deny, modules: set[str]) -> None:
        self.deny = deny
        self.modules = modules  # names bound by `import x`: their attributes are plain helpers
        self.helpers: list[str] = []
        self.raises: list[str] = []
        self.branches = 0
        self.loops = 0
        self.chains = 0

    def w(self, name: str) -> str:
        return words(name, self.deny) or "it"

    # --- expressions -------------------------------------------------------------------------

    def expr(self, n: ast.AST | None) -> str:
        text = self._expr(n)
        return text if len(text) <= _MAX_TEXT or n is None else self._gist(n)

    def cond(self, n: ast.AST) -> str:
        """A condition: ``not x`` reads "x is not set", each part of an and/or likewise."""
        text = self._cond(n)
        return text if len(text) <= _MAX_TEXT else self._gist(n)

    def _cond(self, n: ast.AST) -> str:
        if (
            isinstance(n, ast.UnaryOp)
            and isinstance(n.op, ast.Not)
            and isinstance(n.operand, (ast.Name, ast.Attribute))
        ):
            return f"{self._expr(n.operand)} is not set"
        if isinstance(n, ast.BoolOp):
            return (" and " if isinstance(n.op, ast.And) else " or ").join(self._cond(v) for v in n.values)
        return self._expr(n)

    def _gist(self, n: ast.AST) -> str:
        funcs = {id(x.func) for x in ast.walk(n) if isinstance(x, ast.Call)}
        found = [
            x.id if isinstance(x, ast.Name) else x.attr
            for x in ast.walk(n)
            if isinstance(x, (ast.Name, ast.Attribute)) and id(x) not in funcs
        ]
        names = list(
            dict.fromkeys(
                self.w(x)
                for x in found
                if x not in ("self", "cls", "_")
                and x not in self.modules
                and x not in _BUILTIN_TYPES
                and not _class_like(x)
            )
        )
        return "a condition on " + ", ".join(names[:3]) if names else "a condition on its arguments"

    def _expr(self, n: ast.AST | None) -> str:
        if n is None:
            return "nothing"
        if isinstance(n, ast.Name):
            return "the object" if n.id in ("self", "cls") else self.w(n.id)
        if isinstance(n, ast.Constant):
            v = n.value
            if isinstance(v, str):
                return f"'{v}'" if len(v) <= 30 and "\n" not in v and "'" not in v else "a text"
            return repr(v)
        if isinstance(n, ast.Attribute):
            return self._possessive(n.value, n.attr)
        if isinstance(n, ast.Call):
            return self._call(n)
        if isinstance(n, ast.Subscript):
            key = n.slice
            if isinstance(key, ast.Slice):
                return f"part of {self._expr(n.value)}"
            if isinstance(key, ast.Constant) and key.value in (0, -1):
                return f"the {'first' if key.value == 0 else 'last'} of {self._expr(n.value)}"
            return f"{self._expr(n.value)} for {self._expr(key)}"
        if isinstance(n, ast.BoolOp):
            joiner = " and " if isinstance(n.op, ast.And) else " or "
            return joiner.join(self._expr(v) for v in n.values)
        if isinstance(n, ast.UnaryOp):
            if isinstance(n.op, ast.Not):
                return (
                    f"not {self._expr(n.operand)}"
                    if isinstance(n.operand, (ast.Name, ast.Attribute))
                    else f"not ({self._expr(n.operand)})"
                )
            return f"-{self._expr(n.operand)}"
        if isinstance(n, ast.Compare):
            return self._compare(n)
        if isinstance(n, ast.BinOp):
            return f"{self._expr(n.left)} {_BINOP.get(type(n.op), '?')} {self._expr(n.right)}"
        if isinstance(n, ast.IfExp):
            return f"{self._expr(n.body)} if {self._expr(n.test)}, else {self._expr(n.orelse)}"
        if isinstance(n, ast.JoinedStr):
            shown = [self._expr(v.value) for v in n.values if isinstance(v, ast.FormattedValue)][:3]
            return "a text with " + ", ".join(shown) if shown else "a text"
        if isinstance(n, (ast.List, ast.Tuple, ast.Set)):
            items = [self._expr(e) for e in n.elts[:4] if not (isinstance(e, ast.Name) and e.id == "_")]
            return "(" + ", ".join(items) + (", …" if len(n.elts) > 4 else "") + ")" if items else "an empty collection"
        if isinstance(n, ast.Dict):
            return "a mapping"
        if isinstance(n, (ast.ListComp, ast.SetComp, ast.GeneratorExp)):
            gen = n.generators[0]
            return f"{self._expr(n.elt)} for each {self._expr(gen.target)} in {self._expr(gen.iter)}"
        if isinstance(n, ast.DictComp):
            return f"a mapping over {self._expr(n.generators[0].iter)}"
        if isinstance(n, ast.Starred):
            return self._expr(n.value)
        if isinstance(n, ast.Lambda):
            return "a small function"
        if isinstance(n, ast.Await):
            return self._expr(n.value)
        if isinstance(n, ast.NamedExpr):
            return self._expr(n.value)
        return "an expression"

    def _possessive(self, value: ast.AST, attr: str) -> str:
        if isinstance(value, ast.Name) and value.id in ("self", "cls"):
            return f"its {self.w(attr)}"
        if isinstance(value, ast.Name) and (value.id in self.modules or _class_like(value.id)):
            return self.w(attr)  # a module's or a class's attribute: a constant, an enum member
        if attr.startswith(("is_", "has_")):
            return f"{self._expr(value)} {self.w(attr)}"  # config.is_prompt_learning: a predicate
        return f"{self._expr(value)}'s {self.w(attr)}"

    def _static(self, v: ast.AST) -> bool:
        """A receiver that is a module or a class: ``os.path.join``, ``BaseTuner.get_model_config``."""
        if isinstance(v, ast.Name):
            return v.id in ("self", "cls") or v.id in self.modules or _class_like(v.id)
        return (
            isinstance(v, ast.Attribute)
            and self._static(v.value)
            and not (isinstance(v.value, ast.Name) and v.value.id in ("self", "cls"))
        )

    def _callee(self, func: ast.AST) -> tuple[str, str | None]:
        """(name of the called function or method, words of the receiver or None)."""
        if isinstance(func, ast.Name):
            return func.id, None
        if isinstance(func, ast.Attribute):
            v = func.value
            if self._static(v):
                return func.attr, None
            if isinstance(v, ast.Call) and isinstance(v.func, ast.Name) and v.func.id == "super":
                return func.attr, "the parent class"
            return func.attr, self._expr(v)
        return "", None

    def note_helper(self, call: ast.Call) -> None:
        name, _ = self._callee(call.func)
        if (
            name
            and name not in _TRIVIAL
            and name not in _WARN
            and name not in _LOG
            and not name[:1].isupper()
            and name not in self.helpers
        ):
            self.helpers.append(name)

    def _call(self, n: ast.Call) -> str:
        name, recv = self._callee(n.func)
        args = n.args
        one = self._expr(args[0]) if args else ""
        if name == "isinstance" and len(args) == 2:
            kinds = args[1].elts if isinstance(args[1], ast.Tuple) else [args[1]]
            return f"{one} is a " + " or ".join(self._expr(k) for k in kinds)
        if name == "hasattr" and len(args) == 2 and isinstance(args[1], ast.Constant):
            return f"{one} has {self.w(str(args[1].value))}"
        if name == "getattr" and len(args) >= 2 and isinstance(args[1], ast.Constant):
            return self._possessive(args[0], str(args[1].value))
        if name == "len" and len(args) == 1:
            return f"the number of {one}"
        if name in ("isfile", "isdir", "exists") and len(args) == 1:
            return f"{one} " + {"isfile": "is a file", "isdir": "is a folder", "exists": "exists"}[name]
        if name == "join" and recv is None and args:
            return "/".join(self._expr(a) for a in args)
        if name in ("any", "all") and len(args) == 1 and isinstance(args[0], ast.GeneratorExp):
            g = args[0]
            return (
                f"for {'some' if name == 'any' else 'every'} {self._expr(g.generators[0].target)} in "
                f"{self._expr(g.generators[0].iter)}, {self._expr(g.elt)}"
            )
        if name in ("int", "float", "str", "bool") and len(args) == 1:
            return f"{one} as {_AS[name]}"
        if name in ("list", "tuple", "set", "sorted", "dict", "frozenset") and len(args) == 1:
            return {
                "set": f"the set of {one}",
                "frozenset": f"the set of {one}",
                "sorted": f"{one}, sorted",
                "dict": f"a mapping of {one}",
            }.get(name, one)
        if name == "getattr" and len(args) >= 2:
            return f"{one}'s attribute named {self._expr(args[1])}"
        if name == "to" and recv and len(args) == 1:
            return f"{recv} converted to {one}"
        if name in ("get", "pop") and recv and args and isinstance(args[0], ast.Constant):
            return f"{recv}'s {self.w(str(args[0].value))}"
        if name == "super":
            return "the parent class"
        if isinstance(n.func, ast.Subscript):
            return f"what {self._expr(n.func)} builds"
        label = self.w(name) if name else self._expr(n.func)
        if name[:1].isupper():
            label = f"a new {label}"
        elif recv and not args:
            return f"{recv}'s {label}"  # model.modules()
        shown = [self._expr(a) for a in args[:3]]
        where = f" on {recv}" if recv else ""
        return label + where + (f" of {', '.join(shown)}" if shown else "")

    def target(self, t: ast.AST) -> str:
        """An assignment target: always possessive (``model.is_quantized = True`` sets "model's is quantized")."""
        if isinstance(t, ast.Attribute):
            if isinstance(t.value, ast.Name) and t.value.id in ("self", "cls"):
                return f"its {self.w(t.attr)}"
            return f"{self._expr(t.value)}'s {self.w(t.attr)}"
        return self.expr(t)

    def _compare(self, n: ast.Compare) -> str:
        left = self._expr(n.left)
        parts = [left]
        for op, right in zip(n.ops, n.comparators):
            if isinstance(right, ast.Constant) and right.value is None and isinstance(op, (ast.Is, ast.IsNot)):
                parts.append("is given" if isinstance(op, ast.IsNot) else "is missing")
                continue
            parts.append(f"{_COMPARE.get(type(op), '?')} {self._expr(right)}")
        return " ".join(parts)

    # --- statements ----------------------------------------------------------------------------

    def calls_in(self, node: ast.AST) -> None:
        for sub in ast.walk(node):
            if isinstance(sub, ast.Call):
                self.note_helper(sub)

    def stmt(self, s: ast.stmt, last: bool) -> tuple[int, str | None]:
        """(weight, text) of a simple statement; weight orders what is kept when the outline is cut."""
        self.calls_in(s)
        if isinstance(s, ast.Return):
            if s.value is None or (isinstance(s.value, ast.Constant) and s.value.value is None):
                return 5, "stop" if not last else None
            v = s.value
            plain_call = (
                isinstance(v, ast.Call)
                and not isinstance(v.func, ast.Subscript)
                and not self._callee(v.func)[0][:1].isupper()
                and self._callee(v.func)[0] not in _TRIVIAL
            )
            return 5, f"return {'the result of ' if plain_call else ''}{self.expr(v)}"
        if isinstance(s, ast.Raise):
            exc = s.exc.func if isinstance(s.exc, ast.Call) else s.exc
            name = exc.id if isinstance(exc, ast.Name) else exc.attr if isinstance(exc, ast.Attribute) else ""
            if not _class_like(name):
                return 5, "re-raise the error"  # `raise err`: a caught exception passed on
            if name not in self.raises:
                self.raises.append(name)
            return 5, f"raise {name}"
        if isinstance(s, ast.Expr) and isinstance(s.value, (ast.Yield, ast.YieldFrom)):
            if s.value.value is None:
                return 4, "hand control to the caller's block"  # a context manager's yield
            return 4, f"yield {self.expr(s.value.value)}"
        if isinstance(s, ast.Expr) and isinstance(s.value, (ast.Call, ast.Await)):
            call = s.value.value if isinstance(s.value, ast.Await) else s.value
            if not isinstance(call, ast.Call):
                return 1, None
            name, recv = self._callee(call.func)
            if name in _WARN:
                return 2, "warn"
            if name == "print":
                return 2, f"print {self.expr(call.args[0])}" if call.args else None
            if name in _LOG:
                return 1, None
            if name in _TRIVIAL:
                return 1, None
            where = f" on {recv}" if recv else ""
            return 3, f"call {self.w(name)}{where}"
        if isinstance(s, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = s.targets if isinstance(s, ast.Assign) else [s.target]
            value = s.value
            if value is None:
                return 0, None
            tgt = " and ".join(self.target(t) for t in targets[:2])
            if isinstance(s, ast.AugAssign):
                return 1, f"add {self.expr(value)} to {tgt}" if isinstance(s.op, ast.Add) else f"update {tgt}"
            stored = any(isinstance(t, (ast.Attribute, ast.Subscript)) for t in targets)
            if isinstance(value, ast.Call):
                name, _ = self._callee(value.func)
                if name and name not in _TRIVIAL:
                    return (
                        2,
                        f"compute {tgt} with {self.expr(value)}" if not stored else f"set {tgt} to {self.expr(value)}",
                    )
            if stored:
                return 2, f"set {tgt} to {self.expr(value)}"
            return 0, None
        if isinstance(s, ast.Assert):
            return 3, f"require that {self.cond(s.test)}"
        if isinstance(s, ast.Delete):
            return 2, "delete " + ", ".join(self.expr(t) for t in s.targets)
        return 0, None


@dataclass
class _Item:
    depth: int
    text: str
    weight: int
    chain: int = 0  # the if/elif/else chain a branch line belongs to (0: none): kept or cut together


def _is_docstring(s: ast.stmt) -> bool:
    return isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant) and isinstance(s.value.value, str)


def _body(stmts: list[ast.stmt]) -> list[ast.stmt]:
    return [s for s in stmts if not _is_docstring(s) and not isinstance(s, (ast.Pass, ast.Import, ast.ImportFrom))]


MAX_DEPTH = 2  # an outline three branches deep no longer outlines


def _shallow(items: list[_Item], depth: int) -> list[_Item]:
    """Items nested deeper than ``depth`` are folded into their heading ("… (details left out)")."""
    out: list[_Item] = []
    for it in items:
        if it.depth > depth:
            continue
        out.append(it)
    for k, it in enumerate(out):
        deeper = k + 1 < len(out) and out[k + 1].depth > it.depth
        if it.depth == depth and it.text.endswith(":") and not deeper:
            out[k] = _Item(it.depth, it.text[:-1] + ": (nested steps not shown)", it.weight - 1, it.chain)
    return out


def _dedupe(items: list[_Item]) -> list[_Item]:
    out: list[_Item] = []
    for it in items:
        if out and out[-1].depth == it.depth and out[-1].text == it.text:
            continue  # "warn", "warn": one step
        out.append(it)
    return out


def _guard(s: ast.stmt) -> str | None:
    """The exception an ``if cond: raise E`` guard clause raises, else None."""
    if not isinstance(s, ast.If) or s.orelse:
        return None
    body = _body(s.body)
    if len(body) != 1 or not isinstance(body[0], ast.Raise):
        return None
    exc = body[0].exc
    exc = exc.func if isinstance(exc, ast.Call) else exc
    return exc.id if isinstance(exc, ast.Name) else exc.attr if isinstance(exc, ast.Attribute) else "an error"


def _walk(r: _Renderer, stmts: list[ast.stmt], depth: int, is_tail: bool, out: list[_Item]) -> None:
    body = _body(stmts)
    i = 0
    while i < len(body):
        s = body[i]
        last = is_tail and i == len(body) - 1
        guards: list[tuple[ast.If, str]] = []  # the guard clauses from here on, with what each raises
        while i + len(guards) < len(body):
            g, kind = body[i + len(guards)], _guard(body[i + len(guards)])
            if not isinstance(g, ast.If) or not kind:
                break
            guards.append((g, kind))
        run = len(guards)
        if run >= 3:
            # a run of validity checks is one step: what they reject matters less than that they do
            kinds = list(dict.fromkeys(kind for _, kind in guards))
            for g, _ in guards:
                r.stmt(_body(g.body)[0], False)
                r.calls_in(g.test)
                r.branches += 1
            first = r.cond(guards[0][0].test)
            out.append(
                _Item(
                    depth,
                    f"check {run} conditions, raising {' or '.join(kinds)} when one fails (the first: {first})",
                    5,
                )
            )
            i += run
            continue
        if isinstance(s, ast.If):
            _branch(r, s, depth, last, out, "if")
        elif isinstance(s, (ast.For, ast.AsyncFor)):
            r.loops += 1
            r.calls_in(s.iter)
            inner: list[_Item] = []
            _walk(r, s.body, depth + 1, False, inner)
            out.append(_Item(depth, f"for each {r.expr(s.target)} in {r.expr(s.iter)}:", 4 if inner else 2))
            out.extend(inner or [_Item(depth + 1, "update its state", 1)])
        elif isinstance(s, ast.While):
            r.loops += 1
            r.calls_in(s.test)
            inner = []
            _walk(r, s.body, depth + 1, False, inner)
            out.append(_Item(depth, f"while {r.cond(s.test)}:", 4 if inner else 2))
            out.extend(inner or [_Item(depth + 1, "update its state", 1)])
        elif isinstance(s, (ast.With, ast.AsyncWith)):
            for item in s.items:
                r.calls_in(item.context_expr)
            _walk(r, s.body, depth, last, out)  # the context only frames the statements
        elif isinstance(s, (ast.Try, ast.TryStar)):
            _walk(r, s.body, depth, False, out)
            for h in s.handlers:
                kind = r.expr(h.type) if h.type is not None else "any error"
                inner = []
                _walk(r, h.body, depth + 1, False, inner)
                if len(inner) == 1 and not inner[0].text.endswith(":"):
                    out.append(_Item(depth, f"if {kind} is raised: {inner[0].text}", 3))
                elif inner:
                    out.append(_Item(depth, f"if {kind} is raised:", 3))
                    out.extend(inner)
                else:
                    out.append(_Item(depth, f"if {kind} is raised: go on", 2))
            _walk(r, s.finalbody, depth, False, out)
        elif isinstance(s, ast.Match):
            r.branches += 1
            out.append(_Item(depth, f"depending on {r.expr(s.subject)}:", 4))
            for case in s.cases:
                _walk(r, case.body, depth + 1, False, out)
        elif isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.append(_Item(depth, f"define a local helper, {r.w(s.name)}", 1))
        else:
            weight, text = r.stmt(s, last)
            if text:
                out.append(_Item(depth, text, weight))
        i += 1


def _branch(r: _Renderer, s: ast.If, depth: int, last: bool, out: list[_Item], word: str, chain: int = 0) -> None:
    if not chain:
        r.chains += 1
        chain = r.chains
    r.branches += 1
    r.calls_in(s.test)
    cond = r.cond(s.test)
    inner: list[_Item] = []
    _walk(r, s.body, depth + 1, last, inner)
    orelse = s.orelse
    only = orelse[0] if len(orelse) == 1 else None
    chained = only if isinstance(only, ast.If) else None  # an elif
    rest: list[_Item] = []
    if orelse and chained is None:
        _walk(r, orelse, depth + 1, last, rest)
    if not inner and not rest and chained is None:
        return  # nothing the outline would say happens in either branch
    if not inner:
        # only the else branch says something: "unless cond: …"
        word, inner, rest = ("unless" if word == "if" else f"{word} not"), rest, []
    if len(inner) == 1 and not inner[0].text.endswith(":"):
        out.append(_Item(depth, f"{word} {cond}: {inner[0].text}", max(3, inner[0].weight), chain))
    elif inner:
        out.append(_Item(depth, f"{word} {cond}:", max(2, max(i.weight for i in inner)), chain))
        out.extend(inner)
    if chained is not None:
        _branch(r, chained, depth, last, out, "otherwise, if", chain)
    elif len(rest) == 1 and not rest[0].text.endswith(":"):
        out.append(_Item(depth, f"otherwise: {rest[0].text}", max(3, rest[0].weight), chain))
    elif rest:
        out.append(_Item(depth, "otherwise:", max(i.weight for i in rest), chain))
        out.extend(rest)


def _children(items: list[_Item], j: int) -> list[int]:
    out = []
    for k in range(j + 1, len(items)):
        if items[k].depth <= items[j].depth:
            break
        if items[k].depth == items[j].depth + 1:
            out.append(k)
    return out


def _closure(items: list[_Item], need: set[int]) -> set[int]:
    """What must be kept with ``need``: the headings above each line, the rest of each if/elif/else chain,
    and, for a heading, its heaviest line (a heading alone says nothing)."""
    while True:
        more = set(need)
        for j in need:
            if items[j].chain:
                more |= {k for k, it in enumerate(items) if it.chain == items[j].chain}
            d = items[j].depth
            for k in range(j - 1, -1, -1):
                if items[k].depth < d:
                    more.add(k)
                    d = items[k].depth
            if items[j].text.endswith(":"):
                kids = _children(items, j)
                if kids and not more.intersection(kids):
                    more.add(max(kids, key=lambda k: (items[k].weight, -k)))
        if more == need:
            return need
        need = more


def _cut(items: list[_Item], limit: int) -> tuple[list[_Item], int]:
    """Keep at most ``limit`` items: the heaviest and shallowest first, each with the headings it sits under
    and the branch it continues ("otherwise" needs its "if")."""
    if len(items) <= limit:
        return items, 0
    order = sorted(range(len(items)), key=lambda i: (-(items[i].weight - 2 * items[i].depth), i))
    keep: set[int] = set()
    for i in order:
        need = _closure(items, {i})
        if len(keep | need) > limit:
            continue
        keep |= need
    kept = [items[i] for i in sorted(keep)]
    while True:  # headings left without any child go too
        bare = [
            k
            for k, it in enumerate(kept)
            if it.text.endswith(":") and (k + 1 == len(kept) or kept[k + 1].depth <= it.depth)
        ]
        if not bare:
            break
        kept = [it for k, it in enumerate(kept) if k not in bare]
    return kept, len(items) - len(kept)


def outline_function(
    node: ast.FunctionDef | ast.AsyncFunctionDef,
    deny: Deny = (set(), set()),
    modules: set[str] | None = None,
    limit: int = 10,
    subject: str = "function",
    qualname: str | None = None,
) -> Outline:
    """The outline of one function's body."""
    r = _Renderer(deny, modules or set())
    items: list[_Item] = []
    _walk(r, node.body, 0, True, items)
    items = _shallow(items, MAX_DEPTH)
    items, omitted = _cut(_dedupe(items), limit)
    body = _body(node.body)
    abstract = (
        bool(body)
        and all(isinstance(s, ast.Raise) for s in body)
        and any("NotImplementedError" in ast.dump(s) for s in body)
    )
    lines = (body[-1].end_lineno or body[-1].lineno) - body[0].lineno + 1 if body else 0
    return Outline(
        subject=subject,
        qualname=qualname or node.name,
        lines=lines,
        steps=tuple(OutlineStep(i.depth, _sentence(i.text)) for i in items),
        helpers=tuple(r.helpers),
        raises=tuple(r.raises),
        branches=r.branches,
        loops=r.loops,
        abstract=abstract,
        omitted=omitted,
    )


def _sentence(text: str) -> str:
    text = text[:1].upper() + text[1:]
    return text if text.endswith(":") else terminated(text)


# --- symbols of a workspace ------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _tree(path: str, mtime: float) -> ast.Module | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return pyast.parse(fh.read())
    except (SyntaxError, ValueError, OSError):
        return None


def _module_tree(ws: Workspace, file: str) -> ast.Module | None:
    physical = ws.source.physical(file)
    try:
        return _tree(str(physical), physical.stat().st_mtime)
    except OSError:
        return None


def definition_node(ws: Workspace, sym: Symbol) -> ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | None:
    """The ast node of an indexed symbol: the definition of its name that starts on its line."""
    tree = _module_tree(ws, sym.file)
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


def module_docstring(ws: Workspace, file: str) -> str | None:
    tree = _module_tree(ws, file)
    return ast.get_docstring(tree) if tree is not None else None


def imported_modules(ws: Workspace, file: str) -> set[str]:
    """Names a module binds with ``import x`` / ``import x as y``: ``x.f()`` is a call of a plain helper."""
    tree = _module_tree(ws, file)
    if tree is None:
        return set()
    out: set[str] = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Import):
            out.update((a.asname or a.name).split(".")[0] for a in n.names)
    return out


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
    """(the definition whose body is the step's algorithm, what it is in words)."""
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


def _delegate(ws: Workspace, sym: Symbol, node: ast.FunctionDef | ast.AsyncFunctionDef) -> Symbol | None:
    """The definition a one-statement body hands its work to (``return super().f(...)``, ``return self._f(...)``,
    ``return helper(...)``), when the repository defines it."""
    body = _body(node.body)
    if len(body) != 1 or not isinstance(body[0], (ast.Return, ast.Expr)) or not isinstance(body[0].value, ast.Call):
        return None
    func = body[0].value.func
    cls = sym.parent if sym.kind == "method" else None
    if isinstance(func, ast.Attribute):
        v = func.value
        if isinstance(v, ast.Call) and isinstance(v.func, ast.Name) and v.func.id == "super" and cls:
            owner = ws.index.definition(sym.module, cls)
            for base in owner.bases if owner else ():
                hit = _method_in_class(ws, base.split(".")[-1], func.attr)
                if hit:
                    return hit
            return None
        if isinstance(v, ast.Name) and v.id in ("self", "cls") and cls:
            return ws.index.definition(sym.module, f"{cls}.{func.attr}")
        return None
    if isinstance(func, ast.Name):
        local = ws.index.definition(sym.module, func.id)
        if local is not None and local.kind == "function":
            return local
        found = [s for s in ws.index.by_name.get(func.id, []) if s.kind == "function" and s.parent is None]
        return found[0] if len(found) == 1 else None
    return None


def _method_in_class(ws: Workspace, class_name: str, method: str) -> Symbol | None:
    classes = [s for s in ws.index.by_name.get(class_name, []) if s.kind == "class"]
    if len(classes) != 1:
        return None
    c = classes[0]
    return ws.index.definition(c.module, f"{c.qualname}.{method}")


_TEX = re.compile(
    r":math:`([^`]+)`|\$\$(.+?)\$\$|(?<![\w$])\$([^$\n]{2,120})\$(?![\w$])|\\\((.+?)\\\)|\\\[(.+?)\\\]", re.DOTALL
)


def docstring_formulas(*docs: str | None) -> tuple[str, ...]:
    """TeX written in docstrings (``:math:`…```, ``$…$``, ``\\(…\\)``): the maths the authors state."""
    out: list[str] = []
    for doc in docs:
        for m in _TEX.finditer(doc or ""):
            tex = " ".join(next(g for g in m.groups() if g).split())
            if re.search(r"[=\\^_<>]", tex) and tex not in out:
                out.append(tex)
    return tuple(out[:4])


def outline_symbol(
    ws: Workspace, sym: Symbol, deny: Deny = (set(), set()), api_call: str | None = None, limit: int = 10
) -> Outline | None:
    """The outline of what ``sym`` runs: its own body, its class's main method, or, for a body that only
    hands over to another definition of the repository, that definition's body."""
    main = main_method(ws, sym, api_call)
    if main is None:
        return None
    target, subject = main
    node = definition_node(ws, target)
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    delegate = _delegate(ws, target, node)
    owner_doc = sym.docstring if sym is not target else None
    if delegate is not None:
        dnode = definition_node(ws, delegate)
        if isinstance(dnode, (ast.FunctionDef, ast.AsyncFunctionDef)) and _body(dnode.body):
            out = outline_function(dnode, deny, imported_modules(ws, delegate.file), limit, subject, delegate.qualname)
            return replace(
                out,
                delegate=delegate.qualname,
                formulas=docstring_formulas(owner_doc, target.docstring, delegate.docstring),
            )
    out = outline_function(node, deny, imported_modules(ws, target.file), limit, subject, target.qualname)
    return replace(out, formulas=docstring_formulas(owner_doc, target.docstring))


def render_outline(o: Outline) -> str:
    """The outline as a MediaWiki numbered list (``#`` items, ``#*`` for nested ones: R4 forbids ``##``)."""
    lines = []
    for step in o.steps:
        marker = "#" + "*" * step.depth
        lines.append(f"{marker} {step.text}")
    return "\n".join(lines)
