"""The core computation of a step, at the level of the idea: a formula, or the loop that does the work.

A Theoretical Basis explains what is computed and ties it to the lines that compute it. Along the chain
of definitions an API hands its work to (tools.index.callees), this module finds

* formulas: assignments whose value is arithmetic on values (``delta = B @ A * scaling``, an in-place
  update ``weight.data += delta``), rendered as TeX with one symbol per term (``\\Delta W = B A \\cdot s``)
  and a legend that says which code each symbol stands for; a term set elsewhere in the class by
  arithmetic (``self.scaling[k] = alpha / r``) gets its own formula;
* the work loop: the loops around the call that hands the work on, and the operations of the innermost
  one, in order (``training_step`` → ``optimizer.step`` → ``lr_scheduler.step``), without the
  bookkeeping (logging, callbacks, checks, platform-specific branches);
* maths the docstrings state (``:math:`…```, ``$…$``).

Nothing is guessed: every symbol comes from a term of the source and every formula from one statement,
whose file and lines are kept so the page can cite them. No line of the source is reproduced (R35): the
TeX and the operation names are not Python.
"""

from __future__ import annotations

import ast
import re
from typing import NamedTuple

from tools.index.callees import Link, feature_case, name_words, teaching_free
from tools.index.records import Symbol
from tools.index.source_ast import FunctionNode, body, function_node, walk_own
from tools.index.workspace import Workspace

Deny = tuple[set[str], set[str]]  # (case-insensitive words, case-sensitive names), as Context.deny_terms

_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_GREEK = {
    "alpha",
    "beta",
    "gamma",
    "delta",
    "epsilon",
    "eps",
    "theta",
    "lambda",
    "lambd",
    "mu",
    "sigma",
    "tau",
    "rho",
    "omega",
    "phi",
    "eta",
    "kappa",
}
_GREEK_TEX = {"eps": "epsilon", "lambd": "lambda"}
_CAPITAL_GREEK = {"delta", "gamma", "theta", "lambda", "sigma", "omega", "phi"}  # TeX has \Delta, not \Alpha
# attribute names that say what a tensor is, not which one: the owner names it (lora_B.weight → B)
_GENERIC_ATTRS = {"weight", "bias", "data", "value", "values", "tensor", "grad"}
# conversions that change how a value is stored, not what it is
_PLUMBING = {
    "to",
    "float",
    "half",
    "double",
    "bfloat16",
    "type",
    "clone",
    "detach",
    "contiguous",
    "cpu",
    "cuda",
    "item",
    "type_as",
    "view_as",
}
_FUNCS = {
    "exp": r"\exp",
    "log": r"\log",
    "sqrt": r"\sqrt",
    "tanh": r"\tanh",
    "sin": r"\sin",
    "cos": r"\cos",
    "abs": "abs",
    "sum": r"\sum",
    "matmul": "matmul",
    "mm": "matmul",
    "bmm": "matmul",
    "mean": r"\operatorname{mean}",
    "softmax": r"\operatorname{softmax}",
    "sigmoid": r"\sigma",
    "norm": "norm",
    "max": r"\max",
    "min": r"\min",
}
_MAX_LEAVES = 8
# words of operations that keep books rather than compute: a loop's report, not its algorithm
_BOOKKEEPING = {
    "log",
    "logger",
    "logging",
    "warn",
    "warning",
    "callback",
    "callbacks",
    "control",
    "state",
    "metric",
    "metrics",
    "progress",
    "tqdm",
    "timer",
    "tracker",
    "rng",
    "save",
    "checkpoint",
    "profiler",
    "hook",
    "print",
    "debug",
    "gather",
    "mark",
    "set",
    "get",
    "is",
    "has",
    "item",
    "numel",
    "partial",
    "context",
    "report",
    "record",
    "emit",
    "event",
}
_TRIVIAL_CALLS = {
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
    "min",
    "max",
    "any",
    "all",
    "iter",
    "next",
    "map",
    "filter",
    "sum",
    "abs",
    "round",
    "super",
    "append",
    "extend",
    "pop",
    "items",
    "keys",
    "values",
    "copy",
    "update",
    "join",
}


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


class Formula(NamedTuple):
    tex: str  # the statement in TeX: "\Delta W = \operatorname{transpose}(B A) \cdot s"
    legend: tuple[tuple[str, str], ...]  # (symbol TeX, the code it stands for), in order of appearance
    symbol: Symbol  # the definition whose statement it is
    line: int
    end_line: int
    score: int  # how much arithmetic it holds
    uses: tuple[str, ...] = ()  # the functions whose results it computes with (``delta = self.f(); w += delta``)


class Loop(NamedTuple):
    levels: tuple[str, ...]  # what each enclosing loop runs over, outermost first ("epoch", "inputs")
    ops: tuple[str, ...]  # the operations of the innermost loop, in order, as code names
    inner: tuple[str, ...]  # the operations of the call that hands the work on (its own key calls)
    symbol: Symbol
    line: int
    end_line: int


class Core(NamedTuple):
    formulas: tuple[Formula, ...]
    loop: Loop | None
    doc_formulas: tuple[str, ...]  # TeX written in the docstrings of the chain


# --- formulas ------------------------------------------------------------------------------------


def _unwrap(n: ast.expr) -> ast.expr:
    """``x.to(dtype)``, ``x.float()``, ``x.data`` → x: storage, not meaning."""
    while True:
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in _PLUMBING:
            n = n.func.value
            continue
        if isinstance(n, ast.Attribute) and n.attr == "data":
            n = n.value
            continue
        return n


def _term_key(n: ast.expr) -> str | None:
    """The code a leaf term stands for (subscripts by a variable key dropped: one value per adapter)."""
    n = _unwrap(n)
    if isinstance(n, ast.Name):
        return n.id
    if isinstance(n, ast.Attribute):
        head = _term_key(n.value)
        return f"{head}.{n.attr}" if head else None
    if isinstance(n, ast.Subscript):
        head = _term_key(n.value)
        if head is None:
            return None
        key = n.slice
        return head if not isinstance(key, ast.Constant) else f"{head}[{ast.unparse(key)}]"
    return None


def _symbol_for(key: str, fallback_words: list[str]) -> str:
    """A TeX symbol for a term: its one-letter word (``weight_B`` → B), a Greek name (``lora_alpha`` → \\alpha,
    ``delta_weight`` → \\Delta W), else the initial of its last word (``scaling`` → s); a generic attribute
    is named by its owner (``lora_B.weight`` → B, ``lora_B.bias`` → b_B)."""
    parts = [p for p in key.replace("[", ".").replace("]", "").split(".") if p and p not in ("self", "cls")]
    last = parts[-1] if parts else key
    owner_words = [w for p in parts[:-1] for w in _raw_words(p)]
    if last in _GENERIC_ATTRS and parts[:-1]:
        letter = next((w for w in reversed(owner_words) if len(w) == 1), None)
        if letter is not None:
            return letter if last != "bias" else f"b_{{{letter}}}"
        return {"weight": "W", "bias": "b", "grad": "g"}.get(last, _initial(last))
    ws = _raw_words(last) or fallback_words
    single = [w for w in ws if len(w) == 1 and w.isalpha()]
    if single:
        return single[-1]
    if ws and ws[0].lower() in _GREEK and len(ws) > 1 and ws[0].lower() in _CAPITAL_GREEK:
        return f"\\{ws[0].lower().capitalize()} {_initial(ws[-1]).upper()}"  # delta_weight → \Delta W
    greek = [w.lower() for w in ws if w.lower() in _GREEK]
    if greek:
        return f"\\{_GREEK_TEX.get(greek[-1], greek[-1])}"  # lora_alpha → \alpha
    return _initial(ws[-1] if ws else last)


def _raw_words(name: str) -> list[str]:
    return [p for chunk in name.split("_") if chunk for p in _CAMEL.findall(chunk) or [chunk]]


def _initial(word: str) -> str:
    w = word.strip("_") or "v"
    return w[0].upper() if w.lower() in ("weight", "matrix") else w[0].lower() if w[0].isalpha() else "v"


class _Tex:
    """One statement's expression as TeX, collecting a symbol per leaf term."""

    def __init__(self, aliases: dict[str, str], results: dict[str, str] | None = None) -> None:
        self.symbols: dict[str, str] = {}  # term key → symbol
        self.aliases = aliases  # local name → the code it was assigned from (for the legend)
        self.results = results or {}  # local name → the function whose result it holds (named after it)
        self.leaves = 0
        self.ops = 0

    def sym(self, n: ast.expr, fallback: list[str] | None = None) -> str:
        key = _term_key(n)
        if key is None:
            raise ValueError("not a term")
        if key not in self.symbols:
            made_by = self.results.get(key)
            words = [w for w in _raw_words(made_by or "") if w.lower() not in ("get", "compute", "calc", "calculate")]
            s = (
                _symbol_for("_".join(words), words)
                if words
                else _symbol_for(self.aliases.get(key, key), fallback or [])
            )
            taken = set(self.symbols.values())
            if s in taken:
                extra = next(
                    (w for w in _raw_words(key.split(".")[-1]) if len(w) > 1 and w not in ("self",)), str(len(taken))
                )
                s = f"{s}_{{\\mathrm{{{extra[:8]}}}}}"
            self.symbols[key] = s
        self.leaves += 1
        if self.leaves > _MAX_LEAVES:
            raise ValueError("too long to read as a formula")
        return self.symbols[key]

    def call_term(self, name: str) -> str:
        key = f"self.{name}()"
        if key not in self.symbols:
            words = [w for w in _raw_words(name) if w.lower() not in ("get", "compute", "calc", "calculate")]
            s = _symbol_for("_".join(words) or name, words)
            if s in self.symbols.values():
                s = f"{s}_{{\\mathrm{{{(words or [name])[-1][:8]}}}}}"
            self.symbols[key] = s
        self.leaves += 1
        return self.symbols[key]

    def expr(self, n: ast.expr, parent_prec: int = 0) -> str:
        n = _unwrap(n)
        if isinstance(n, ast.BinOp):
            self.ops += 1
            op = type(n.op)
            if op is ast.Div:
                return f"\\frac{{{self.expr(n.left)}}}{{{self.expr(n.right)}}}"
            if op is ast.Pow:
                return f"{self.expr(n.left, 9)}^{{{self.expr(n.right)}}}"
            prec, sym = {
                ast.Add: (1, " + "),
                ast.Sub: (1, " - "),
                ast.Mult: (2, r" \cdot "),
                ast.MatMult: (2, " "),
                ast.FloorDiv: (2, r" \mathbin{//} "),
            }.get(op, (0, ""))
            if not sym:
                raise ValueError("an operator a formula does not use")
            text = f"{self.expr(n.left, prec)}{sym}{self.expr(n.right, prec + (op in (ast.Sub,)))}"
            return f"({text})" if prec < parent_prec else text
        if isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.USub):
            return f"-{self.expr(n.operand, 3)}"
        if isinstance(n, ast.Constant) and isinstance(n.value, (int, float)) and not isinstance(n.value, bool):
            return repr(n.value)
        if isinstance(n, ast.Call):
            name = (
                n.func.attr if isinstance(n.func, ast.Attribute) else n.func.id if isinstance(n.func, ast.Name) else ""
            )
            args = [a for a in n.args if not isinstance(a, ast.Starred)]
            if name in ("matmul", "mm", "bmm") and len(args) == 2:
                self.ops += 1
                return f"{self.expr(args[0], 2)} {self.expr(args[1], 2)}"
            if name in _FUNCS and args:
                tex = _FUNCS[name]
                inner = self.expr(args[0])
                self.ops += 1
                if tex == "abs":
                    return f"\\lvert {inner} \\rvert"
                if tex == "norm":
                    return f"\\lVert {inner} \\rVert"
                if tex == r"\sqrt":
                    return f"\\sqrt{{{inner}}}"
                return f"{tex}({inner})"
            if (
                name
                and isinstance(n.func, ast.Attribute)
                and isinstance(n.func.value, ast.Name)
                and n.func.value.id in ("self", "cls")
                and name not in _TRIVIAL_CALLS
            ):
                return self.call_term(name)  # what a method of the object computes: one term, named by it
            if name and args and re.fullmatch(r"[a-z][a-z0-9_]*", name) and name not in _TRIVIAL_CALLS:
                inner = self.expr(args[0])
                more = r", \ldots" if len(args) > 1 else ""
                return f"\\operatorname{{{name.replace('_', ' ')}}}({inner}{more})"
            raise ValueError("a call that is not maths")
        return self.sym(n)


def _score(stmt: ast.stmt, value: ast.expr, target: ast.expr) -> int:
    score = 0
    for n in ast.walk(value):
        if isinstance(n, ast.BinOp):
            score += {ast.MatMult: 3, ast.Mult: 2, ast.Div: 2, ast.Pow: 2, ast.Add: 1, ast.Sub: 1}.get(type(n.op), 0)
        if isinstance(n, ast.Call) and isinstance(n.func, (ast.Name, ast.Attribute)):
            name = n.func.attr if isinstance(n.func, ast.Attribute) else n.func.id
            score += 2 if name in _FUNCS else 0
    if isinstance(stmt, ast.AugAssign):
        score += 1 if isinstance(stmt.op, (ast.Add, ast.Sub, ast.Mult)) else 0
        if isinstance(target, (ast.Attribute, ast.Subscript)):
            score += 2  # an update of the object's state: what the step leaves behind
    return score


def _is_bookkeeping(value: ast.expr) -> bool:
    """Counters, sizes and offsets (``i + 1``, ``len(x) - n``): arithmetic that is not the idea."""
    leaves = [n for n in ast.walk(value) if isinstance(n, (ast.Name, ast.Attribute, ast.Constant))]
    if any(isinstance(n, ast.Constant) and isinstance(n.value, str) for n in leaves):
        return True  # text
    names = [
        w
        for n in ast.walk(value)
        if isinstance(n, (ast.Name, ast.Attribute))
        for w in name_words(n.id if isinstance(n, ast.Name) else n.attr)
    ]
    if any(
        isinstance(n, ast.Call)
        and (
            (isinstance(n.func, ast.Name) and n.func.id == "len")
            or (isinstance(n.func, ast.Attribute) and n.func.attr == "item")
        )
        for n in ast.walk(value)
    ):
        return True  # sizes, and tensors turned into numbers to report
    if isinstance(value, ast.Attribute) and value.attr.startswith("_"):
        return True  # a private attribute: the object's internal accounting
    counters = {"i", "j", "k", "n", "idx", "index", "count", "num", "len", "size", "offset", "start", "end", "step"}
    counters |= {"steps", "total", "epoch", "epochs", "batch", "pos", "position", "length", "shape", "dim", "time"}
    counters |= {"self", "cls", "state", "in", "of", "per", "current", "remaining", "so", "far"}
    if set(names) & {"log", "logged", "logging", "logger", "metric", "metrics", "global", "elapsed", "seconds"}:
        return True  # what is reported about the run, not what it computes
    if any(isinstance(n, ast.Attribute) and n.attr == "shape" for n in ast.walk(value)):
        return True  # sizes of tensors
    last = value.attr if isinstance(value, ast.Attribute) else value.id if isinstance(value, ast.Name) else None
    if last is not None and set(name_words(last)) <= counters | {"max", "min"}:
        return True  # a length, a count, a bound: what the computation is sized by, not what it computes
    return bool(names) and all(w in counters for w in names)


def _results_of(node: FunctionNode) -> dict[str, str]:
    """Local names assigned from a call: name → the called function's name (``d = self.f(x)`` → f)."""
    out: dict[str, str] = {}
    for n in walk_own(node):
        if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name):
            v = _unwrap(n.value)
            if isinstance(v, ast.Call):
                f = v.func
                name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else None
                if name:
                    out[n.targets[0].id] = name
    return out


def _aliases(node: FunctionNode) -> dict[str, str]:
    """Local names assigned once from a term (``weight_A = self.lora_A[adapter].weight``)."""
    seen: dict[str, list[ast.expr]] = {}
    for n in walk_own(node):
        if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name):
            seen.setdefault(n.targets[0].id, []).append(n.value)
    out: dict[str, str] = {}
    for name, values in seen.items():
        key = _term_key(values[0])
        if key is not None and key != name and isinstance(_unwrap(values[0]), (ast.Attribute, ast.Subscript)):
            out[name] = key
    return out


def formulas_of(sym: Symbol, node: FunctionNode, returns_as: list[str] | None = None) -> list[Formula]:
    """The arithmetic statements of one body, each as a formula. ``returns_as``: words naming what the body
    returns (its function's name), used for the symbol of a returned plain variable."""
    aliases = _aliases(node)
    results = _results_of(node)
    returned = {
        n.id
        for r in walk_own(node)
        if isinstance(r, ast.Return) and r.value is not None
        for n in ast.walk(r.value)
        if isinstance(n, ast.Name)
    }
    out: list[Formula] = []
    for stmt in walk_own(node):
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target, value = stmt.targets[0], stmt.value
        elif isinstance(stmt, ast.AugAssign):
            target, value = stmt.target, stmt.value
        elif isinstance(stmt, ast.Return) and stmt.value is not None and isinstance(stmt.value, ast.BinOp):
            target, value = ast.Name(id="__result__"), stmt.value
        else:
            continue
        arithmetic = isinstance(stmt, ast.AugAssign) or any(isinstance(n, ast.BinOp) for n in ast.walk(value))
        if not arithmetic or _is_bookkeeping(value) or _is_bookkeeping(target):
            continue
        score = _score(stmt, value, target)
        if score < 3:
            continue
        tex = _Tex(aliases, results)
        try:
            rhs = tex.expr(value)
            if isinstance(target, ast.Name) and (target.id in returned or target.id == "__result__") and returns_as:
                lhs_key = "__result__"
                lhs = _symbol_for("_".join(returns_as), returns_as)
                if lhs in tex.symbols.values():
                    lhs = lhs + "'"
                tex.symbols[lhs_key] = lhs
            else:
                lhs = tex.sym(target)
        except (ValueError, RecursionError):
            continue
        if (tex.ops == 0 and not isinstance(stmt, ast.AugAssign)) or len(set(tex.symbols)) < 2:
            continue
        if isinstance(stmt, ast.AugAssign):
            op = {ast.Add: " + ", ast.Sub: " - ", ast.Mult: r" \cdot "}.get(type(stmt.op))
            if op is None:
                continue
            right = rhs if not isinstance(_unwrap(value), ast.BinOp) or op == " + " else f"({rhs})"
            text = f"{lhs} \\leftarrow {lhs}{op}{right}"
        else:
            text = f"{lhs} = {rhs}"
        legend = tuple(
            (s, aliases.get(k, k))
            for k, s in tex.symbols.items()
            if k != "__result__" and not re.fullmatch(r"[A-Za-z]", aliases.get(k, k))
        )
        names = {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name)}
        calls = {
            n.func.attr if isinstance(n.func, ast.Attribute) else n.func.id
            for n in ast.walk(value)
            if isinstance(n, ast.Call) and isinstance(n.func, (ast.Attribute, ast.Name))
        }
        uses = tuple(sorted({results[x] for x in names if x in results} | calls))
        out.append(Formula(text, legend, sym, stmt.lineno, stmt.end_lineno or stmt.lineno, score, uses))
    return out


def _state_formula(ws: Workspace, owner: Symbol | None, key: str) -> Formula | None:
    """``self.X[...] = a / b`` somewhere in the class (its default branch first): what a term is."""
    if owner is None or not key.startswith("self."):
        return None
    best: Formula | None = None
    for klass in ws.names.mro(owner):
        for meth in ws.index.file_symbols(klass.file):
            if meth.parent != klass.qualname or meth.kind != "method":
                continue
            node = function_node(ws, meth)
            if node is None:
                continue
            parents = {id(c): p for p in walk_own(node) for c in ast.iter_child_nodes(p)}
            for stmt in walk_own(node):
                if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1):
                    continue
                if _term_key(stmt.targets[0]) != key or not isinstance(stmt.value, ast.BinOp):
                    continue
                tex = _Tex({})
                try:
                    text = f"{tex.sym(stmt.targets[0])} = {tex.expr(stmt.value)}"
                except (ValueError, RecursionError):
                    continue
                in_if_body = any(
                    isinstance(p, ast.If) and stmt in p.body for p in [parents.get(id(stmt))] if p is not None
                )
                f = Formula(
                    text,
                    tuple((s, k) for k, s in tex.symbols.items()),
                    meth,
                    stmt.lineno,
                    stmt.end_lineno or stmt.lineno,
                    0 if in_if_body else 1,
                )
                if best is None or f.score > best.score:
                    best = f
        if best is not None:
            return best
    return None


# --- the work loop ---------------------------------------------------------------------------------


def _call_name(func: ast.expr) -> tuple[str, str | None]:
    """(called name, receiver text without ``self.``)."""
    if isinstance(func, ast.Name):
        return func.id, None
    if isinstance(func, ast.Attribute):
        recv = ast.unparse(func.value)
        recv = recv.removeprefix("self.")
        return func.attr, (None if recv == "self" else recv)
    return "", None


def _key_ops(loop: ast.AST, chain_names: set[str]) -> list[tuple[str, int]]:
    """(operation as code, line) of the calls a loop body makes that are the algorithm's."""
    out: list[tuple[str, int]] = []
    skip: set[int] = set()
    for n in walk_own(loop):
        if isinstance(n, ast.If) and feature_case(n.test, probes=True):
            skip.update(id(x) for s in n.body for x in ast.walk(s))
        if isinstance(n, ast.withitem):
            skip.update(id(x) for x in ast.walk(n.context_expr))  # a context frames the work
        if isinstance(n, (ast.Raise, ast.Assert)) or (isinstance(n, ast.If) and n is not loop):
            if isinstance(n, (ast.Raise, ast.Assert)):
                skip.update(id(x) for x in ast.walk(n))
            elif isinstance(n, ast.If):
                skip.update(id(x) for x in ast.walk(n.test))
    arg_calls = {
        id(a) for n in walk_own(loop) if isinstance(n, ast.Call) for a in [*n.args, *(k.value for k in n.keywords)]
    }
    header = (
        loop.iter if isinstance(loop, (ast.For, ast.AsyncFor)) else loop.test if isinstance(loop, ast.While) else None
    )
    if header is not None:
        skip.update(id(x) for x in ast.walk(header))
    for n in walk_own(loop):
        if not isinstance(n, ast.Call) or id(n) in skip or id(n) in arg_calls:
            continue
        name, recv = _call_name(n.func)
        if not name or name in _TRIVIAL_CALLS or name in _PLUMBING:
            continue
        ws_ = set(name_words(name)) | set(name_words(recv or ""))
        named = [w for w in name_words(name) if w not in ("get", "find", "compute")]
        measure = not named or set(named) <= {"batch", "size", "sizes", "count", "length", "num", "shape", "total"}
        side = (
            ws_ & _BOOKKEEPING or name.startswith("_") or name_words(name)[:1] in (["check"], ["validate"]) or measure
        )
        if side and not (name in chain_names and recv is None):
            continue
        if name[:1].isupper() or (recv and recv[:1].isupper() and "." not in recv):
            continue  # building an object or a class-level helper, not a step of the loop
        if recv is not None and not re.fullmatch(r"[A-Za-z_][\w.]*", recv):
            continue  # a method of a computed value (x.sum().item()): plumbing
        if recv is not None and recv.split(".")[0] in ("torch", "np", "math", "os", "functools", "time", "xm"):
            continue
        text = f"{recv}.{name}" if recv else name
        if text not in (t for t, _ in out):
            out.append((text, n.lineno))
    return out


def _level(loop: ast.AST) -> str | None:
    if isinstance(loop, ast.While):
        return None
    if not isinstance(loop, (ast.For, ast.AsyncFor)):
        return None
    targets = [t.id for t in ast.walk(loop.target) if isinstance(t, ast.Name) and t.id != "_"]
    index_like = {"i", "j", "k", "idx", "index", "step", "n"}
    named = [t for t in targets if t not in index_like]
    if named:
        return named[-1]
    return None


def loop_of(ws: Workspace, link: Link, nxt: Link | None, chain_names: set[str]) -> Loop | None:
    """The loops of ``link``'s body around the call that reaches ``nxt`` (or, for the last link, its
    outermost loop), with the operations of the innermost one."""
    node = function_node(ws, link.symbol)
    if node is None:
        return None
    parents = {id(c): p for p in walk_own(node) for c in ast.iter_child_nodes(p)}
    target: ast.AST | None = None
    if nxt is not None and nxt.line is not None:
        target = next(
            (
                n
                for n in walk_own(node)
                if isinstance(n, (ast.Call, ast.Attribute))
                and getattr(n, "lineno", None) == nxt.line
                and (_call_name(n.func)[0] if isinstance(n, ast.Call) else n.attr) == nxt.symbol.name
            ),
            None,
        )
    if target is None and nxt is None:
        # the last definition of the chain: its own main loop, the one whose body does the most
        found = [n for n in walk_own(node) if isinstance(n, (ast.For, ast.AsyncFor))]
        scored = sorted(((len(_key_ops(lp, chain_names)), -k, lp) for k, lp in enumerate(found)), reverse=True)
        if not scored or scored[0][0] < 3:
            return None
        target = scored[0][2].body[0]
    if target is None:
        return None
    loops: list[ast.For | ast.AsyncFor | ast.While] = []
    x: ast.AST = target
    while id(x) in parents:
        x = parents[id(x)]
        if isinstance(x, (ast.For, ast.AsyncFor, ast.While)):
            loops.append(x)
    if not loops:
        return None
    inner = loops[0]
    ops = _key_ops(inner, chain_names)
    if len(ops) < (2 if nxt is not None else 3):
        return None
    nested = function_node(ws, nxt.symbol) if nxt is not None else None
    inner_ops: list[str] = []
    if nested is not None:
        inner_ops = [t for t, _ in _key_ops(nested, chain_names) if nxt is None or t != nxt.symbol.name][:5]
    levels = tuple(lv for lv in (_level(lp) for lp in reversed(loops)) if lv)
    last = max(inner.end_lineno or inner.lineno, max(line for _, line in ops))
    return Loop(
        levels,
        tuple(t for t, _ in ops[:7]),
        tuple(inner_ops),
        link.symbol,
        loops[-1].lineno,
        last,
    )


# --- docstring maths ------------------------------------------------------------------------------

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


# --- the core of a chain -------------------------------------------------------------------------------


def core(ws: Workspace, chain: tuple[Link, ...], max_formulas: int = 3) -> Core:
    """The formulas and the work loop of a chain (tools.index.callees.callee_chain)."""
    if not chain:
        return Core((), None, ())
    names = {link.symbol.name for link in chain[1:]}
    found: list[tuple[Formula, int]] = []
    for k, link in enumerate(chain):
        if not teaching_free(link.symbol.file):
            continue
        node = function_node(ws, link.symbol)
        if node is None or not body(node.body):
            continue
        returns_as = [w for w in name_words(link.symbol.name) if w not in ("get", "compute", "calc", "calculate")]
        found.extend((f, k) for f in formulas_of(link.symbol, node, returns_as))
    formulas = _pick(ws, found, chain, max_formulas)
    loop = None
    for k in range(len(chain)):
        loop = loop_of(ws, chain[k], chain[k + 1] if k + 1 < len(chain) else None, names)
        if loop is not None:
            break
    docs = docstring_formulas(*(link.symbol.docstring for link in chain))
    return Core(tuple(formulas), loop, docs)


def _pick(ws: Workspace, found: list[tuple[Formula, int]], chain: tuple[Link, ...], limit: int) -> list[Formula]:
    """The deepest link's strongest formula, the formula of an earlier link that uses what the deeper link
    returns, and the definition of a state term they share; in chain order."""
    if not found:
        return []
    deepest = max(k for _, k in found)
    best = max((f for f, k in found if k == deepest), key=lambda f: (f.score, -f.line))
    picked: list[tuple[Formula, int]] = [(best, deepest)]
    produced = chain[deepest].symbol.name
    users = [(f, k) for f, k in found if k < deepest and f.line != best.line and produced in f.uses]
    if users and len(picked) < limit:
        # an update of the object's state first (it is what the step leaves behind)
        picked.insert(0, max(users, key=lambda t: (t[0].score, -t[0].line)))
    if len(picked) < limit:
        owner = ws.index.definition(best.symbol.module, best.symbol.parent) if best.symbol.parent else None
        for _sym, code in best.legend:
            state = _state_formula(ws, owner, code) if code.startswith("self.") else None
            if state is not None:
                picked.append((state, deepest + 1))
                break
    return [f for f, _ in sorted(picked, key=lambda t: t[1])]
