"""Self-contained usage examples without a model: a backward slice of a real usage, or a minimal
call built from the signature.

A usage statement found in a repository (``model = get_peft_model(model, config)`` in a test) is
useless on a page when ``model`` and ``config`` come from nowhere. ``slice_usage`` takes the
statements of the same file that bind the names the call uses, transitively (the enclosing
function first, then the test class's setUp and attributes, then module level), with only the
imports those names need. Test scaffolding becomes plain code: ``self.x`` becomes ``x``, bound where
setUp or the test assigns it; ``return e`` becomes ``result = e``; an assertion about the call keeps
the call; fixture parameters and names bound by what cannot be shown (a helper method, a relative
import, a long helper function) become honest placeholders, ``model = ...  # a PreTrainedModel``.

``minimal_example`` builds a call that binds by construction when no usage exists, and
``call_text_example`` makes a WorkflowIndex's API Call text self-contained the same way.
Everything here is pure: source text in, code out (``callee_for`` and ``returns_value`` read the
documented symbol's own file).
"""

from __future__ import annotations

import ast
import copy
import keyword
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, NamedTuple, TypeGuard, TypeVar, overload

from tools import pyast
from tools.errors import ToolError
from tools.examples.check import (
    BUILTIN_NAMES,
    CallTarget,
    call_problems,
    call_target,
    compile_problem,
    unbound_names,
    unused_imports,
)
from tools.examples.names import called_names, mutated, names_of, taints, target_names
from tools.index.records import Param, Symbol
from tools.index.workspace import Workspace
from tools.sentences import first_sentence

MAX_LINES = 15
DEF_MAX = 6  # a module-level helper longer than this is not copied: what it gives becomes a placeholder
_BUILTINS = BUILTIN_NAMES
_SETUP = frozenset({"setUp", "setUpClass", "setup_method", "setup_class", "asyncSetUp"})
_PARAMETRIZE = frozenset({"parametrize", "expand"})  # pytest.mark.parametrize, parameterized.expand
# pytest's own fixtures that plain code can stand in for: (expression, the imports it needs)
_PYTEST_FIXTURES: dict[str, tuple[str, tuple[str, ...]]] = {
    "tmp_path": ("pathlib.Path(tempfile.mkdtemp())", ("import pathlib", "import tempfile")),
    "tmpdir": ("tempfile.mkdtemp()", ("import tempfile",)),
}
_DEPTH_LIMITS = (None, 3, 2, 1, 0)  # a slice over budget is retried shallower, with more placeholders
CalleeKind = Literal["unknown", "function", "class", "method", "classmethod", "staticmethod", "property"]
# the nodes a slice is cut from: each has a source position
Located = ast.stmt | ast.expr | ast.arg
Edit = tuple[ast.expr, str]  # a sub-expression and the text that replaces it
_Stmt = TypeVar("_Stmt", bound=ast.stmt)


class Callee(NamedTuple):
    """The documented call, as far as it is known: a call key alone while scanning a repository,
    the symbol's facts when drafting its page (``callee_for``)."""

    key: str  # "name" or "receiver.name", as agents.draft.evidence.call_key writes it
    kind: CalleeKind = "unknown"
    owner: str | None = None  # the class of a method
    params: tuple[Param, ...] | None = None  # what the call binds (self/cls left out); None: unknown
    result: str | None = None  # the name its value is assigned to; None: it returns nothing, or unknown
    context_manager: bool = False
    import_code: str | None = None  # the canonical import
    docs: tuple[tuple[str, str], ...] = ()  # parameter name -> one-line description
    target: CallTarget | None = None  # what R46 binds the call to (tools.examples.check); None: not judged

    @property
    def name(self) -> str:
        return self.key.rsplit(".", 1)[-1]

    @property
    def receiver(self) -> str | None:
        return self.key.rsplit(".", 1)[0] if "." in self.key else None


def is_documented_call(node: ast.AST, callee: Callee) -> TypeGuard[ast.Call]:
    """``name(...)`` / ``x.name(...)`` for a bare key, ``receiver.name(...)`` for a receiver key."""
    if not isinstance(node, ast.Call):
        return False
    f = node.func
    if isinstance(f, ast.Name):
        return callee.receiver is None and f.id == callee.name
    if isinstance(f, ast.Attribute) and f.attr == callee.name:
        return callee.receiver is None or (isinstance(f.value, ast.Name) and f.value.id == callee.receiver)
    return False


# ---- facts of the documented symbol --------------------------------------------------------------


def snake(name: str) -> str:
    """'LoraConfig' -> 'lora_config', 'PEFTModel' -> 'peft_model'."""
    s = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower().strip("_")
    return s if s.isidentifier() and not keyword.iskeyword(s) and s not in _BUILTINS else "result"


def result_name(sym: Symbol, returns: bool) -> str | None:
    """What to call the value a call of ``sym`` gives: after the class for a constructor, after the
    return annotation when it names a class, else ``result``; None when it gives nothing."""
    if sym.kind == "class":
        return snake(sym.name)
    if sym.name == "__init__" and sym.parent:
        return snake(sym.parent.split(".")[-1])
    ann = (sym.returns or "").strip().strip("'\"")
    if ann in ("None", "NoReturn", "Never"):
        return None
    if not ann:
        return "result" if returns else None
    members = [m.strip() for m in re.split(r"\|", ann)] if "|" in ann else [ann]
    m = re.fullmatch(r"(?:typing\.)?Optional\[(.+)\]", members[0])
    first = (m.group(1) if m else members[0]).strip().strip("'\"")
    last = first.split(".")[-1]
    if last == "Self" and sym.parent:
        return snake(sym.parent.split(".")[-1])
    if re.fullmatch(r"[A-Z]\w*", last) and last not in (
        "Any",
        "Union",
        "Optional",
        "Tuple",
        "List",
        "Dict",
        "Iterator",
        "Generator",
        "Iterable",
        "Callable",
    ):
        return snake(last)
    return "result"


def _def_node(ws: Workspace, sym: Symbol) -> ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef | None:
    try:
        text = ws.source.physical(sym.file).read_text(encoding="utf-8", errors="replace")
        tree = pyast.parse(text)
    except (OSError, ToolError, SyntaxError, ValueError):
        return None
    if sym.kind == "class":
        return next((n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.lineno == sym.start_line), None)
    return next(
        (
            n
            for n in ast.walk(tree)
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.lineno == sym.start_line
        ),
        None,
    )


def _own_statements(node: ast.AST) -> Iterator[ast.AST]:
    """Statements and expressions of a def body, not those of defs, lambdas or classes inside it."""
    todo = list(ast.iter_child_nodes(node))
    while todo:
        n = todo.pop()
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        yield n
        todo.extend(ast.iter_child_nodes(n))


def returns_value(ws: Workspace, sym: Symbol) -> bool:
    """Whether calling ``sym`` gives a value: a class; a function annotated with anything but None;
    an unannotated one whose body returns a value or yields."""
    if sym.kind == "class" or sym.name == "__init__":
        return True
    if sym.returns is not None:
        return sym.returns.strip().strip("'\"") not in ("None", "NoReturn", "Never")
    node = _def_node(ws, sym)
    if node is None:
        return False
    for n in _own_statements(node):
        if isinstance(n, (ast.Yield, ast.YieldFrom)):
            return True
        if (
            isinstance(n, ast.Return)
            and n.value is not None
            and not (isinstance(n.value, ast.Constant) and n.value.value is None)
        ):
            return True
    return False


def callee_for(
    ws: Workspace, sym: Symbol, import_code: str | None = None, docs: Mapping[str, str] | None = None
) -> Callee:
    """The documented call of ``sym``: how it is called, what it binds, what its value is called."""
    decos = {d.split("(")[0].split(".")[-1] for d in sym.decorators}
    kind: CalleeKind
    if sym.kind == "class":
        kind = "class"
    elif sym.kind == "function":
        kind = "function"
    elif sym.name == "__init__":
        kind = "class"
    else:
        kind = (
            "classmethod"
            if "classmethod" in decos
            else "staticmethod"
            if "staticmethod" in decos
            else ("property" if decos & {"property", "cached_property"} else "method")
        )
    owner = sym.parent.split(".")[-1] if sym.parent else None
    name = owner if sym.name == "__init__" and owner else sym.name
    cm = bool(decos & {"contextmanager", "asynccontextmanager"})
    result = None if kind == "property" or cm else result_name(sym, returns_value(ws, sym))
    if kind == "property":
        result = snake(sym.name)
    target = call_target(ws, sym)
    return Callee(
        key=name,
        kind=kind,
        owner=owner,
        params=target.params if target.known else None,
        result=result,
        context_manager=cm,
        import_code=import_code,
        docs=tuple((k, v) for k, v in (docs or {}).items()),
        target=target,
    )


def free_names(code: str) -> list[str]:
    """Names ``code`` loads that it never binds and builtins do not give, in order of first use (R45)."""
    return [n for _, n in unbound_names(code)]


# ---- source text ---------------------------------------------------------------------------------


class _Text:
    """Source text addressed by ast positions (columns are UTF-8 byte offsets)."""

    def __init__(self, text: str) -> None:
        # ast numbers lines at \n, \r\n and \r only (str.splitlines also splits at form feeds ...)
        self.lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        self.lines = [line + "\n" for line in self.lines]

    def indent_of(self, lineno: int) -> int:
        line = self.lines[lineno - 1]
        return len(line) - len(line.lstrip(" \t"))

    def _col(self, lineno: int, col: int) -> int:
        return len(self.lines[lineno - 1].encode("utf-8")[:col].decode("utf-8", errors="replace"))

    def render(
        self,
        node: Located,
        edits: Sequence[Edit] = (),
        *,
        start: tuple[int, int] | None = None,
        indent: int | None = None,
    ) -> list[str]:
        """``node``'s text with ``edits`` (sub-node -> replacement), as lines without the statement's
        own indentation (``indent`` columns, default the first line's)."""
        sl, sc = start or (node.lineno, node.col_offset)
        el, ec = _end(node)
        chunk = [self.lines[i - 1] for i in range(sl, el + 1)]
        # positions as (line index in chunk, char column); edits applied from the end
        spans = []
        for sub, text in edits:
            sub_el, sub_ec = _end(sub)
            a = (sub.lineno - sl, self._col(sub.lineno, sub.col_offset))
            b = (sub_el - sl, self._col(sub_el, sub_ec))
            spans.append((a, b, text))
        last = (el - sl, self._col(el, ec))
        first_col = self._col(sl, sc)
        flat = "".join(chunk)
        offsets = [0]
        for line in chunk:
            offsets.append(offsets[-1] + len(line))

        def at(p: tuple[int, int]) -> int:
            return offsets[p[0]] + p[1]

        out = flat[: at(last)]
        for a, b, text in sorted(spans, key=lambda s: at(s[0]), reverse=True):
            out = out[: at(a)] + text + out[at(b) :]
        out = out[first_col:]
        cut = self.indent_of(sl) if indent is None else indent
        lines = out.split("\n")
        return [lines[0]] + [l[cut:] if l[:cut].strip() == "" else l.lstrip() for l in lines[1:]]


def _end(node: Located) -> tuple[int, int]:
    """Where ``node`` ends (line, column); a parsed node always knows, a built one ends where it starts."""
    return (
        node.end_lineno if node.end_lineno is not None else node.lineno,
        node.end_col_offset if node.end_col_offset is not None else node.col_offset,
    )


# ---- the slice -----------------------------------------------------------------------------------

Role = Literal["import", "def", "stmt", "attr", "setup", "method", "param", "header", "target"]


@dataclass
class _Unit:
    """One piece of the flattened program: a statement (or one name of an import) that runs before
    the documented call, in the order it runs."""

    node: ast.stmt | ast.arg  # a statement; for a param, the function's argument
    role: Role
    idx: int = -1  # its place in the program, given when it is added
    binds: list[str] = field(default_factory=list)
    uses: list[str] = field(default_factory=list)
    headers: tuple[int, ...] = ()  # indices of the with/for headers around it
    edits: list[Edit] = field(default_factory=list)
    opaque: bool = False  # binds a name whose value cannot be shown
    tainted: bool = False  # cannot be copied (needs self, returns, super() ...)
    called: set[str] = field(default_factory=set)  # self attributes it calls: helper methods
    funcs: set[str] = field(default_factory=set)  # names it calls (after self.x -> x)
    mutates: set[str] = field(default_factory=set)  # names whose object it changes: x[k] = v, x.a = v
    annotation: str | None = None  # param
    value: str | None = None  # param: a literal from parametrize
    passthrough: bool = False  # x = self.x: nothing to show, the name passes through
    imports: tuple[str, ...] = ()  # param: imports its value needs
    fixture: bool = False  # param of a test function: a pytest fixture
    parametrized: bool = False  # param a parametrize decorator gives (no literal value to show)
    alias: ast.alias | None = None  # import
    preferred: bool = False  # import: the canonical one, not the file's
    text: list[str] | None = None  # header / target: rendered lines


class _GiveUp(Exception):
    pass


def _find_chain(tree: ast.Module, line: int, callee: Callee) -> list[ast.stmt] | None:
    """The statements from the module level down to the one at ``line`` that calls the documented API."""

    def header_nodes(s: ast.stmt) -> list[ast.AST]:
        if isinstance(s, (ast.With, ast.AsyncWith)):
            return [i.context_expr for i in s.items]
        if isinstance(s, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Expr, ast.Return, ast.Assert)):
            return [s]
        return []

    def search(body: list[ast.stmt], path: list[ast.stmt]) -> list[ast.stmt] | None:
        for s in body:
            if s.lineno == line and any(is_documented_call(n, callee) for h in header_nodes(s) for n in ast.walk(h)):
                return path + [s]
            if s.lineno <= line <= (s.end_lineno or s.lineno):
                for block in _blocks(s):
                    hit = search(block, path + [s])
                    if hit:
                        return hit
        return None

    return search(tree.body, [])


def _blocks(s: ast.stmt) -> list[list[ast.stmt]]:
    out: list[list[ast.stmt]] = [
        getattr(s, a) for a in ("body", "orelse", "finalbody") if isinstance(getattr(s, a, None), list)
    ]
    out += [h.body for h in getattr(s, "handlers", [])]
    out += [c.body for c in getattr(s, "cases", [])]
    return out


@overload
def _self_rewrite(node: _Stmt, selves: set[str]) -> tuple[_Stmt, list[Edit], set[str], bool]: ...
@overload
def _self_rewrite(node: ast.expr, selves: set[str]) -> tuple[ast.expr, list[Edit], set[str], bool]: ...


def _self_rewrite(
    node: ast.stmt | ast.expr, selves: set[str]
) -> tuple[ast.stmt | ast.expr, list[Edit], set[str], bool]:
    """``self.x`` -> ``x``: (rewritten copy, text edits, attributes called, bare self left). Only
    attributes are replaced, so a statement's copy is a statement of the same kind."""
    edits: list[Edit] = []
    called: set[str] = set()
    if not selves:
        return node, edits, called, False
    for n in ast.walk(node):
        if (
            isinstance(n, ast.Call)
            and isinstance(n.func, ast.Attribute)
            and isinstance(n.func.value, ast.Name)
            and n.func.value.id in selves
        ):
            called.add(n.func.attr)

    class T(ast.NodeTransformer):
        def visit_Attribute(self, a: ast.Attribute) -> ast.AST:
            if isinstance(a.value, ast.Name) and a.value.id in selves:
                edits.append((a, a.attr))
                return ast.copy_location(ast.Name(id=a.attr, ctx=a.ctx), a)
            self.generic_visit(a)
            return a

    new: ast.stmt | ast.expr = T().visit(copy.deepcopy(node))
    bare = any(isinstance(n, ast.Name) and n.id in selves for n in ast.walk(new))
    return new, edits, called, bare


def _testish(module: str | None, level: int) -> bool:
    """An import a reader cannot repeat: relative, or from test scaffolding."""
    if level or not module:
        return True
    return any(
        p.startswith("test") or "testing" in p or p in ("conftest", "pytest", "unittest") for p in module.split(".")
    )


def _literal(node: ast.expr, src: _Text) -> str | None:
    try:
        ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    text = src.render(node)
    return " ".join(l.strip() for l in text) if len(text) > 1 else text[0]


def _parametrized(fn: ast.FunctionDef | ast.AsyncFunctionDef, src: _Text) -> dict[str, str | None]:
    """The parameters ``@pytest.mark.parametrize("a, b", [(1, 2), ...])`` / ``@parameterized.expand([...])``
    give, each with the source text of its first value when that is a short literal."""
    out: dict[str, str | None] = {}
    params = [a.arg for a in fn.args.posonlyargs + fn.args.args]
    for d in fn.decorator_list:
        if not (isinstance(d, ast.Call) and d.args):
            continue
        fname = d.func.attr if isinstance(d.func, ast.Attribute) else d.func.id if isinstance(d.func, ast.Name) else ""
        if fname not in _PARAMETRIZE:
            continue
        if fname == "expand":
            names, cases = [p for p in params if p not in ("self", "cls")], d.args[0]
        elif len(d.args) >= 2:
            spec, cases = d.args[0], d.args[1]
            if isinstance(spec, ast.Constant) and isinstance(spec.value, str):
                names = [n.strip() for n in spec.value.split(",") if n.strip()]
            elif isinstance(spec, (ast.List, ast.Tuple)) and all(isinstance(e, ast.Constant) for e in spec.elts):
                names = [str(e.value) for e in spec.elts if isinstance(e, ast.Constant)]  # every one is
            else:
                continue
        else:
            continue
        for n in names:
            out.setdefault(n, None)
        if not isinstance(cases, (ast.List, ast.Tuple)) or not cases.elts:
            continue
        first = cases.elts[0]
        values = first.elts if len(names) > 1 and isinstance(first, (ast.Tuple, ast.List)) else [first]
        if len(names) == 1 and isinstance(first, ast.Tuple) and fname == "expand":
            values = first.elts
        for n, v in zip(names, values):
            lit = _literal(v, src)
            if lit is not None and len(lit) <= 80 and out.get(n) is None:
                out[n] = lit
    return out


class _Slicer:
    def __init__(self, text: str, tree: ast.Module, chain: list[ast.stmt], callee: Callee) -> None:
        self.src = _Text(text)
        self.callee = callee
        self.units: list[_Unit] = []
        self.target_call: ast.Call | None = None
        self._build(tree, chain)

    # ---- building the flattened program
    def _add(self, u: _Unit) -> _Unit:
        u.idx = len(self.units)
        self.units.append(u)
        return u

    def _stmt(self, s: ast.stmt, headers: tuple[int, ...], selves: set[str], role: Role = "stmt") -> None:
        if isinstance(s, (ast.Import, ast.ImportFrom)):
            self._import(s)
            return
        if isinstance(s, ast.Assert):
            return
        new, edits, called, bare = _self_rewrite(s, selves)
        binds, uses = names_of([new])
        u = self._add(
            _Unit(
                s,
                role,
                binds=binds,
                uses=uses,
                headers=headers,
                edits=edits,
                called=called,
                funcs=called_names(new),
                mutates=mutated(new),
                tainted=bare or taints(s),
            )
        )
        if (
            isinstance(new, ast.Assign)
            and len(new.targets) == 1
            and isinstance(new.targets[0], ast.Name)
            and isinstance(new.value, ast.Name)
            and new.targets[0].id == new.value.id
        ):
            u.passthrough = True

    def _import(self, s: ast.Import | ast.ImportFrom, preferred: bool = False) -> None:
        module = s.module if isinstance(s, ast.ImportFrom) else None
        level = s.level if isinstance(s, ast.ImportFrom) else 0
        for a in s.names:
            if a.name == "*":
                continue
            bound = a.asname or (a.name if isinstance(s, ast.ImportFrom) else a.name.split(".")[0])
            opaque = not preferred and _testish(module if isinstance(s, ast.ImportFrom) else a.name, level)
            self._add(_Unit(s, "import", binds=[bound], alias=a, opaque=opaque, preferred=preferred))

    def _def(self, s: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        lines = (s.end_lineno or s.lineno) - s.lineno + 1
        test = s.name.startswith(("test", "Test"))
        fixture = any("fixture" in ast.unparse(d) for d in s.decorator_list)
        if lines > DEF_MAX or test or fixture:
            self._add(_Unit(s, "def", binds=[s.name], opaque=True))
            return
        bare = copy.copy(s)
        bare.decorator_list = []  # decorators are test scaffolding here: not copied, so not needed
        uses = names_of([bare])[1]
        self._add(_Unit(s, "def", binds=[s.name], uses=uses, funcs=called_names(bare)))

    def _build(self, tree: ast.Module, chain: list[ast.stmt]) -> None:
        funcs = (ast.FunctionDef, ast.AsyncFunctionDef)
        f0 = next((i for i, n in enumerate(chain) if isinstance(n, funcs)), None)
        if any(isinstance(n, ast.ClassDef) for n in (chain[f0 + 1 :] if f0 is not None else chain)):
            raise _GiveUp("in a class body")
        top = chain[0]
        for s in tree.body:
            if s is top:
                if f0 is None:
                    break
                continue
            if f0 is not None and _is_main_block(s):
                continue
            if isinstance(s, (ast.Import, ast.ImportFrom)):
                self._import(s)
            elif isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                self._def(s)
            else:
                self._stmt(s, (), set())
                if isinstance(s, (ast.If, ast.Try)) and not _is_main_block(s):
                    # `if is_torch_available(): import torch`: an example imports what it needs outright
                    for n in ast.walk(s):
                        if isinstance(n, (ast.Import, ast.ImportFrom)):
                            self._import(n)
        if self.callee.import_code:
            try:
                for s in pyast.parse(self.callee.import_code).body:
                    if isinstance(s, (ast.Import, ast.ImportFrom)):
                        self._import(s, preferred=True)
            except SyntaxError:
                pass
        selves: set[str] = set()
        headers: tuple[int, ...] = ()
        level: list[ast.stmt] = tree.body
        # every level of the chain in turn: a function's parameters and the statements before the
        # next level run before the call (a def nested in a test closes over its names, and its self)
        for depth, node in enumerate(chain):
            if depth > 0:  # the module level is in already
                for s in level:
                    if s is node:
                        break
                    self._stmt(s, headers, selves)
            if depth == len(chain) - 1:
                self._target(node, headers, selves)
                return
            if isinstance(node, ast.ClassDef):
                level = []  # the test class's body comes in with its method (attributes, setUp)
                continue
            nxt = chain[depth + 1]
            level = next(b for b in _blocks(node) if any(x is nxt for x in b))
            if isinstance(node, funcs):
                args = node.args.posonlyargs + node.args.args
                cls = chain[depth - 1] if depth > 0 else None
                if isinstance(cls, ast.ClassDef):
                    static = any(ast.unparse(d).endswith("staticmethod") for d in node.decorator_list)
                    if not static and args:
                        selves = {args[0].arg, "self", "cls"}
                        args = args[1:]
                    self._class(cls, node)
                elif args and args[0].arg == "self":  # a module-level helper that takes the test case
                    selves = {"self"}
                    args = args[1:]
                self._params(node, args)
            elif isinstance(node, (ast.AsyncWith, ast.AsyncFor, ast.Match)):
                raise _GiveUp("async or match block")
            elif isinstance(node, (ast.Try, ast.TryStar)):
                if any(level is h.body for h in node.handlers):
                    raise _GiveUp("in an exception handler")
            elif isinstance(node, ast.With):
                ctx = " ".join(ast.unparse(i.context_expr) for i in node.items)
                if re.search(r"raises|Raises|warns|Warns", ctx):
                    raise _GiveUp("an expected error")
                if not any(
                    isinstance(i.context_expr, ast.Call)
                    and isinstance(i.context_expr.func, ast.Attribute)
                    and isinstance(i.context_expr.func.value, ast.Name)
                    and i.context_expr.func.value.id in selves
                    for i in node.items
                ):
                    headers = headers + (self._header(node, headers, selves),)
            elif isinstance(node, ast.For) and level is node.body:
                headers = headers + (self._header(node, headers, selves),)
        raise _GiveUp("no target")

    def _params(self, fn: ast.FunctionDef | ast.AsyncFunctionDef, args: list[ast.arg]) -> None:
        given = _parametrized(fn, self.src)
        test = fn.name.startswith("test")
        for a in args + fn.args.kwonlyargs + [x for x in (fn.args.vararg, fn.args.kwarg) if x is not None]:
            value = given.get(a.arg)
            imports: tuple[str, ...] = ()
            fixture = test and a.arg not in given
            if fixture and a.arg in _PYTEST_FIXTURES:
                value, imports = _PYTEST_FIXTURES[a.arg]
            self._add(
                _Unit(
                    a,
                    "param",
                    binds=[a.arg],
                    annotation=ast.unparse(a.annotation) if a.annotation else None,
                    value=value,
                    imports=imports,
                    fixture=fixture,
                    parametrized=a.arg in given,
                )
            )

    def _class(self, cls: ast.ClassDef, fn: ast.AST) -> None:
        for s in cls.body:
            if isinstance(s, (ast.Assign, ast.AnnAssign)):
                self._stmt(s, (), set(), role="attr")
            elif (
                isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                and s is not fn
                and s.name not in _SETUP
            ):
                self._add(_Unit(s, "method", binds=[s.name], opaque=True))
        for s in cls.body:
            if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)) and s.name in _SETUP and s is not fn:
                args = s.args.posonlyargs + s.args.args
                selves = {args[0].arg, "self", "cls"} if args else {"self", "cls"}
                for b in s.body:
                    self._stmt(b, (), selves, role="setup")

    def _header(self, node: ast.With | ast.For, headers: tuple[int, ...], selves: set[str]) -> int:
        parts = (
            [i.context_expr for i in node.items] + [i.optional_vars for i in node.items if i.optional_vars]
            if isinstance(node, ast.With)
            else [node.target, node.iter]
        )
        binds: list[str] = []
        uses: list[str] = []
        edits: list[Edit] = []
        tainted = False
        called: set[str] = set()
        for p in parts:
            new, e, c, bare = _self_rewrite(p, selves)
            if (
                isinstance(node, ast.With)
                and any(p is i.optional_vars for i in node.items)
                or isinstance(node, ast.For)
                and p is node.target
            ):
                binds += target_names(new)
            else:
                uses += names_of([ast.Expr(new)])[1]
            edits += e
            called |= c
            tainted |= bare or taints(p)
        if isinstance(node, ast.With):
            text = [self._header_text(node, edits)]
        else:
            text = [f"for {self._expr(node.target, edits)} in {self._expr(node.iter, edits)}:"]
        funcs: set[str] = set().union(*(called_names(_self_rewrite(p, selves)[0]) for p in parts))
        u = self._add(
            _Unit(
                node,
                "header",
                binds=binds,
                uses=list(dict.fromkeys(uses)),
                headers=headers,
                edits=edits,
                tainted=tainted,
                called=called,
                funcs=funcs,
                text=text,
            )
        )
        return u.idx

    def _expr(self, node: ast.expr, edits: Sequence[Edit]) -> str:
        inside = [(n, t) for n, t in edits if _within(n, node)]
        lines = self.src.render(node, inside, indent=self.src.indent_of(node.lineno))
        return lines[0] if len(lines) == 1 else "\n".join(lines)

    def _target(self, s: ast.stmt, headers: tuple[int, ...], selves: set[str]) -> None:
        c = self.callee
        calls = [
            n
            for n in ast.walk(s if not isinstance(s, ast.With) else ast.Tuple([i.context_expr for i in s.items]))
            if is_documented_call(n, c)
        ]
        self.target_call = calls[0]
        new, edits, called, bare = _self_rewrite(s, selves)
        if bare:
            raise _GiveUp("uses self")
        result = _free_name(c.result or "result", names_of([new])[1])
        indent = self.src.indent_of(s.lineno)
        # the rewrite is a copy of s: the isinstance checks of ``new`` only repeat those of ``s``
        if isinstance(s, ast.With) and isinstance(new, ast.With):
            text = [self._header_text(s, edits), "    ..."]
            binds, uses = names_of([ast.Expr(ast.Tuple([i.context_expr for i in new.items], ast.Load()))])
            binds = [n for i in new.items if i.optional_vars is not None for n in target_names(i.optional_vars)]
        elif isinstance(s, ast.Return) and isinstance(new, ast.Return):
            if s.value is None or new.value is None:
                raise _GiveUp("bare return")
            text = self._assigned(result, s.value, edits, indent)
            binds, uses = [result], names_of([ast.Expr(new.value)])[1]
        elif _is_assertion(s):
            arg = next((a for a in _assertion_args(s) if any(n is self.target_call for n in ast.walk(a))), None)
            if arg is None:
                raise _GiveUp("the call is not an argument of the assertion")
            new_arg = next(a for a in _assertion_args(new) if (a.lineno, a.col_offset) == (arg.lineno, arg.col_offset))
            text = self._assigned(result, arg, edits, indent)
            binds, uses = [result], names_of([ast.Expr(new_arg)])[1]
        elif isinstance(s, ast.Expr) and s.value is self.target_call and c.result and not c.context_manager:
            text = self._assigned(result, s.value, edits, indent)
            binds, uses = [result], names_of([new])[1]
        else:
            text = self.src.render(s, edits)
            binds, uses = names_of([new])
        if taints(new) and not isinstance(s, ast.Return):
            raise _GiveUp("cannot stand alone")
        self._add(
            _Unit(
                s,
                "target",
                binds=binds,
                uses=uses,
                headers=headers,
                edits=edits,
                called=called,
                funcs=called_names(new),
                text=text,
            )
        )

    def _header_text(self, s: ast.With, edits: Sequence[Edit]) -> str:
        items = []
        for i in s.items:
            t = self._expr(i.context_expr, edits)
            if i.optional_vars is not None:
                t += " as " + self._expr(i.optional_vars, edits)
            items.append(t)
        return "with " + ", ".join(items) + ":"

    def _assigned(self, name: str, value: ast.expr, edits: Sequence[Edit], indent: int) -> list[str]:
        inside = [(n, t) for n, t in edits if _within(n, value)]
        lines = self.src.render(value, inside, indent=indent)
        return [f"{name} = {lines[0]}"] + lines[1:]

    # ---- choosing what to show
    def _binder(self, name: str, before: int) -> _Unit | None:
        for u in reversed(self.units[:before]):
            if name in u.binds:
                return u
        return None

    def emit(self, limit: int | None) -> str | None:
        code: set[int] = set()
        at: dict[int, dict[str, str]] = {}  # placeholders written where an unshowable binding was
        top: dict[str, str] = {}
        target = self.units[-1]
        structural = [self.units[h] for h in target.headers if isinstance(self.units[h].node, ast.With)]

        def cut(b: _Unit, depth: int) -> bool:
            """Past the depth limit; imports, with headers and constants are never cut."""
            if limit is None or depth + 1 <= limit or b.role == "import" or self._leaf(b):
                return False
            return not (b.role == "header" and isinstance(b.node, ast.With))

        def showable(b: _Unit) -> bool:
            return not (b.opaque or b.tainted or self._needs_opaque(b))

        def visit(u: _Unit, depth: int) -> None:
            if u.idx in code:
                return
            code.add(u.idx)
            for n in u.uses:
                b = self._binder(n, u.idx)
                # statements between the binding and this use that change the object (x[k] = v)
                muts = (
                    []
                    if b is not None and b.role == "import"
                    else [m for m in self.units[(b.idx + 1 if b else 0) : u.idx] if n in m.mutates]
                )
                blocked = [m for m in muts if not showable(m) or cut(m, depth)]
                if blocked:  # a change that cannot be shown: the object is the reader's, as it is then
                    at.setdefault(blocked[-1].idx, {}).setdefault(n, self._describe(n, u, b))
                    for m in muts[muts.index(blocked[-1]) + 1 :]:
                        visit(m, depth + 1)
                    continue
                if b is None:
                    if n not in _BUILTINS:
                        top.setdefault(n, self._describe(n, u, None))
                elif b.role == "param" or cut(b, depth) or not showable(b):
                    at.setdefault(b.idx, {}).setdefault(n, self._describe(n, u, b))
                else:
                    visit(b, depth + 1)
                for m in muts:
                    visit(m, depth + 1)

        for u in [target] + structural:
            if u.tainted or self._needs_opaque(u):
                return None
        visit(target, 0)
        for u in structural:
            visit(u, 0)
        return self._render(code, at, top)

    def _leaf(self, u: _Unit) -> bool:
        """A short statement that needs nothing but imports and builtins: ``model_id = "x"``."""
        if (
            u.role not in ("stmt", "attr", "setup")
            or not isinstance(u.node, (ast.Assign, ast.AnnAssign))
            or _end(u.node)[0] - u.node.lineno > 4
        ):
            return False
        for n in u.uses:
            b = self._binder(n, u.idx)
            if (b is None and n not in _BUILTINS) or (b is not None and (b.role != "import" or b.opaque)):
                return False
        return True

    def _needs_opaque(self, u: _Unit) -> bool:
        """It calls what cannot be shown: a helper method, a function from test scaffolding or from
        nowhere. Its value then becomes a placeholder (or, for the documented call, no slice)."""
        for n in u.uses:
            b = self._binder(n, u.idx)
            if n in u.funcs or n in u.called:
                if b is None and n not in _BUILTINS or b is not None and (b.opaque or b.role == "method"):
                    return True
            elif b is not None and b.role == "method":
                return True
        return False

    def _describe(self, name: str, user: _Unit, binder: _Unit | None) -> str:
        c = self.callee
        if binder is not None and binder.role == "param" and binder.annotation:
            return _a(binder.annotation)
        call = self.target_call if user.role == "target" else None  # the name goes straight into the call
        if call is not None:
            for i, a in enumerate(call.args):
                if _is_ref(a, name):
                    return self._param_text(i, None, name)
            for k in call.keywords:
                if _is_ref(k.value, name) and k.arg:
                    return self._param_text(None, k.arg, name)
            if isinstance(call.func, ast.Attribute) and _is_ref(call.func.value, name) and c.owner:
                return _a(c.owner)
        if (
            binder is not None
            and isinstance(binder.node, (ast.Assign, ast.AnnAssign))
            and isinstance(binder.node.value, ast.Call)
        ):
            value = binder.node.value
            while isinstance(value.func, ast.Attribute) and isinstance(value.func.value, ast.Call):
                value = value.func.value  # MLP().to(device): what MLP() gives
            f = value.func
            fname = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else None
            if fname:
                return _a(fname) if fname[:1].isupper() else f"as returned by {fname}()"
        for n in ast.walk(user.node):
            if isinstance(n, ast.Call):
                fname = (
                    n.func.attr
                    if isinstance(n.func, ast.Attribute)
                    else n.func.id
                    if isinstance(n.func, ast.Name)
                    else None
                )
                if any(_is_ref(a, name) for a in n.args):
                    return f"the {name} passed to {fname}"
                kw = next((k.arg for k in n.keywords if _is_ref(k.value, name)), None)
                if kw:
                    return f"the {kw} passed to {fname}"
        for n in ast.walk(user.node):
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and _is_ref(n.func.value, name):
                return f"an object with .{n.func.attr}()"
        if binder is not None and binder.role == "param" and binder.parametrized:
            return "one of the values the test is parametrized with"
        if binder is not None and binder.role == "param" and binder.fixture:
            return f"the {name} fixture"
        return "supplied by the reader"

    def _param_text(self, position: int | None, kw: str | None, name: str) -> str:
        c = self.callee
        p = None
        if c.params is not None:
            positional = [x for x in c.params if x.kind in ("positional_only", "positional_or_keyword")]
            if position is not None and position < len(positional):
                p = positional[position]
            elif kw is not None:
                p = next((x for x in c.params if x.name == kw), None)
        if p is not None:
            if p.annotation:
                return _a(p.annotation)
            doc = dict(c.docs).get(p.name)
            if doc:
                return _short(doc)
            return f"the {p.name} argument of {c.name}"
        return f"the {kw or name} passed to {c.name}"

    def _render(self, code: set[int], at: dict[int, dict[str, str]], top: dict[str, str]) -> str:
        imports: list[str] = []
        groups: dict[int, list[ast.alias]] = {}
        nodes: dict[int, ast.Import | ast.ImportFrom] = {}
        for i in sorted(code):
            u = self.units[i]
            # an import unit is one name of an import statement
            if u.role == "import" and u.alias is not None and isinstance(u.node, (ast.Import, ast.ImportFrom)):
                groups.setdefault(id(u.node), []).append(u.alias)
                nodes[id(u.node)] = u.node
        imports = order_imports(
            [
                _import_line(nodes[k], aliases)
                for k, aliases in sorted(groups.items(), key=lambda g: self._import_rank(nodes[g[0]], g[1]))
            ]
        )
        body: list[str] = []
        for i, u in enumerate(self.units):
            if i in at:
                pad = "    " * self._depth(u, code)
                for n, desc in at[i].items():
                    if u.role == "param" and u.value is not None:
                        body.append(f"{pad}{n} = {u.value}")
                        imports += [x for x in u.imports if x not in imports]
                    else:
                        body.append(f"{pad}{n} = ...  # {_comment(desc)}")
            if i not in code or u.role == "import" or u.passthrough:
                continue
            pad = "    " * self._depth(u, code)
            if u.text is not None:  # a header or the target: rendered when it was added
                lines = u.text
            elif u.role == "def":
                lines = self.src.render(u.node, start=(u.node.lineno, u.node.col_offset))
            else:
                lines = self.src.render(u.node, u.edits)
            body += [pad + l if l.strip() else l for l in lines]
        head = [f"{n} = ...  # {_comment(d)}" for n, d in top.items()]
        imports = order_imports(imports)
        parts = ["\n".join(p) for p in (imports, head, body) if p]
        return "\n\n".join(parts) if len(parts) < 3 else parts[0] + "\n\n" + parts[1] + "\n" + parts[2]

    def _import_rank(self, node: ast.Import | ast.ImportFrom, aliases: list[ast.alias]) -> int:
        """Where an import goes: its own line; the canonical import takes the place of the file's
        import of the same name."""
        if node.lineno > 0 and any(u.node is node for u in self.units if u.role == "import" and not u.preferred):
            return node.lineno
        names = {a.asname or a.name for a in aliases}
        own = [u.node.lineno for u in self.units if u.role == "import" and not u.preferred and set(u.binds) & names]
        return min(own) if own else 10**9

    def _depth(self, u: _Unit, code: set[int]) -> int:
        return sum(1 for h in u.headers if h in code)


def _is_ref(node: ast.AST, name: str) -> bool:
    """``name`` or ``self.name``: how the (rewritten) name appears in the original statement."""
    if isinstance(node, ast.Name):
        return node.id == name
    return (
        isinstance(node, ast.Attribute)
        and node.attr == name
        and isinstance(node.value, ast.Name)
        and node.value.id in ("self", "cls")
    )


def _within(inner: Located, outer: Located) -> bool:
    return (outer.lineno, outer.col_offset) <= (inner.lineno, inner.col_offset) and _end(inner) <= _end(outer)


def _is_main_block(s: ast.stmt) -> bool:
    return isinstance(s, ast.If) and "__name__" in ast.unparse(s.test)


def _is_assertion(s: ast.stmt) -> bool:
    if isinstance(s, ast.Assert):
        return True
    if isinstance(s, ast.Expr) and isinstance(s.value, ast.Call):
        f = s.value.func
        name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
        return name.startswith("assert")
    return False


def _assertion_args(s: ast.stmt) -> list[ast.expr]:
    """The arguments of an assertion (``_is_assertion``): what it checks."""
    if isinstance(s, ast.Assert):
        t = s.test
        if isinstance(t, ast.Compare):
            return [t.left, *t.comparators]
        if isinstance(t, ast.UnaryOp):
            return [t.operand]
        if isinstance(t, ast.Call) and isinstance(t.func, ast.Name) and t.func.id in ("isinstance", "len", "hasattr"):
            return list(t.args)
        return [t]
    if isinstance(s, ast.Expr) and isinstance(s.value, ast.Call):  # self.assertEqual(...)
        return list(s.value.args) + [k.value for k in s.value.keywords]
    return []


def _import_line(node: ast.Import | ast.ImportFrom, aliases: list[ast.alias]) -> str:
    names = ", ".join(a.name + (f" as {a.asname}" if a.asname else "") for a in aliases)
    if isinstance(node, ast.ImportFrom):
        return f"from {'.' * node.level}{node.module or ''} import {names}"
    return f"import {names}"


def _free_name(name: str, used: Sequence[str]) -> str:
    """``name`` unless the code already uses it (``pipeline = pipeline(...)`` would shadow the function)."""
    if name not in used:
        return name
    return next(n for n in ("result", "result_", "value") if n not in used)


def order_imports(lines: Sequence[str]) -> list[str]:
    """Import lines without repeats, ``import x`` ones first, names from one module on one line."""
    plain: list[str] = []
    froms: dict[str, list[str]] = {}
    for line in lines:
        m = re.fullmatch(r"from (\S+) import (.+)", line.strip())
        if m is None:
            plain.append(line.strip())
            continue
        names = froms.setdefault(m.group(1), [])
        names += [n.strip() for n in m.group(2).split(",") if n.strip() not in names]
    return list(dict.fromkeys(plain)) + [f"from {mod} import {', '.join(names)}" for mod, names in froms.items()]


def _a(text: str) -> str:
    """'PeftConfig' -> 'a PeftConfig'; annotations that are not one class name stay as written."""
    text = " ".join(text.split()).strip("'\"")
    if text in ("Any", "typing.Any", "object"):
        return "any value"
    if re.fullmatch(r"[A-Za-z_][\w.]*", text) and text.split(".")[-1][:1].isupper():
        return ("an " if text[0] in "AEIOU" else "a ") + text
    return text


def _short(text: str, limit: int = 70) -> str:
    text = " ".join(text.split())
    text = re.split(r";\s", first_sentence(text), maxsplit=1)[0].rstrip(".;")  # its first clause
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + "…"


def _comment(text: str) -> str:
    return " ".join(text.split())


def calls_bind(code: str, callee: Callee) -> bool:
    """R46 on ``code``: every call of the documented API binds (not judged without a target)."""
    return callee.target is None or not call_problems(code, callee.target)


def _budget(code: str) -> int:
    return sum(1 for line in code.splitlines() if line.strip())


def self_contained(code: str) -> bool:
    """R45 and R47: compiles at module level, loads no name it does not bind (nor builtins give),
    imports nothing it does not use."""
    return compile_problem(code) is None and not unbound_names(code) and not unused_imports(code)


def slice_usage(
    text: str, line: int, callee: Callee | str, *, tree: ast.Module | None = None, max_lines: int = MAX_LINES
) -> str | None:
    """A self-contained snippet around the statement at ``line`` of a Python file's ``text`` that
    calls the documented API; None when it cannot be made short and self-contained."""
    if isinstance(callee, str):
        callee = Callee(callee)
    try:
        tree = tree or pyast.parse(text)
    except (SyntaxError, ValueError):
        return None
    chain = _find_chain(tree, line, callee)
    if chain is None:
        return None
    try:
        slicer = _Slicer(text, tree, chain, callee)
        for limit in _DEPTH_LIMITS:
            code = slicer.emit(limit)
            if code is None:
                return None
            if _budget(code) <= max_lines:
                return code if self_contained(code) and calls_bind(code, callee) else None
    except _GiveUp:
        return None
    return None


# ---- examples from the signature or from the WorkflowIndex's call text -----------------------------


def _imported_names(import_code: str | None) -> dict[str, str]:
    """bound name -> its import line, for each name an import block binds."""
    out: dict[str, str] = {}
    if not import_code:
        return out
    try:
        body = pyast.parse(import_code).body
    except SyntaxError:
        return out
    for s in body:
        if isinstance(s, (ast.Import, ast.ImportFrom)):
            for a in s.names:
                if a.name == "*":
                    continue
                bound = a.asname or (a.name if isinstance(s, ast.ImportFrom) else a.name.split(".")[0])
                out[bound] = _import_line(s, [a])
    return out


def _placeholder_for(p: Param, docs: Mapping[str, str]) -> str:
    if p.annotation:
        return _a(p.annotation)
    if docs.get(p.name):
        return _short(docs[p.name])
    return f"the {p.name} argument"


def minimal_example(callee: Callee, *, receiver: str | None = None) -> str:
    """A call of the documented API built from its signature: the canonical import when the call
    uses it, a placeholder for each required argument (passed by keyword, positional-only ones by
    position) and for a method's receiver, the value assigned when the API gives one."""
    docs = dict(callee.docs)
    imported = _imported_names(callee.import_code)
    params = callee.params or ()
    required = [p for p in params if p.default is None and p.kind not in ("var_positional", "var_keyword")]
    taken = set(imported) | {p.name for p in required}
    lines: list[str] = []
    # a name the canonical import does not bind is reached through the module it imports
    module = re.fullmatch(r"import ([\w.]+)", (callee.import_code or "").strip())
    prefix = f"{module.group(1)}." if module else ""
    if callee.kind in ("method", "property"):
        obj = receiver or (snake(callee.owner) if callee.owner else "obj")
        if obj in taken or obj == "result":
            obj = "obj"
        lines.append(f"{obj} = ...  # {_a(callee.owner) if callee.owner else 'the object the method belongs to'}")
        func = obj if callee.name == "__call__" else f"{obj}.{callee.name}"
    elif callee.kind in ("classmethod", "staticmethod"):
        func = f"{'' if callee.owner in imported else prefix}{callee.owner}.{callee.name}"
    else:
        func = f"{'' if callee.name in imported else prefix}{callee.name}"
    for p in required:
        lines.append(f"{p.name} = ...  # {_comment(_placeholder_for(p, docs))}")
    args = [p.name if p.kind == "positional_only" else f"{p.name}={p.name}" for p in required]
    call = func if callee.kind == "property" else f"{func}({', '.join(args)})"
    if callee.context_manager:
        stmt = f"with {call}:\n    ..."
    elif callee.result:
        used = taken | set(names_of([pyast.parse(call, mode="eval")])[1])
        stmt = f"{_free_name(callee.result, sorted(used))} = {call}"
    else:
        stmt = call
    body = "\n".join(lines + [stmt])
    used = set(names_of(pyast.parse(body).body)[1])
    imports = order_imports([line for name, line in imported.items() if name in used])
    return "\n\n".join(p for p in ("\n".join(imports), body) if p)


def call_text_example(api_call: str | None, callee: Callee, imports: Mapping[str, str] | None = None) -> str | None:
    """The WorkflowIndex's API Call text made self-contained: the imports it needs (the canonical
    one, or one from ``imports``: bound name -> import line), a placeholder for every other name it
    uses, the value assigned when the call is the documented one and gives a value. None when the
    text is not Python."""
    if not api_call:
        return None
    text = api_call.strip().strip("`").strip()
    try:
        body = pyast.parse(text).body
        compile(text, "<call>", "exec")
    except (SyntaxError, ValueError):
        return None
    if not body:
        return None
    known = {**(imports or {}), **_imported_names(callee.import_code)}

    def documented(n: ast.AST) -> TypeGuard[ast.Call]:
        # `pipe(texts)` calls Pipeline.__call__: the statement's own call is the documented one
        own = body[0].value if isinstance(body[0], (ast.Expr, ast.Assign)) else None
        return is_documented_call(n, callee) or (callee.name == "__call__" and n is own and isinstance(n, ast.Call))

    if (
        len(body) == 1
        and isinstance(body[0], ast.Expr)
        and documented(body[0].value)
        and callee.result
        and not callee.context_manager
    ):
        text = f"{_free_name(callee.result, names_of(body)[1])} = {text}"
        body = pyast.parse(text).body
    call = next((n for s in body for n in ast.walk(s) if documented(n)), None)
    lines_imports, head = [], []
    for name in free_names(text):
        if name in known:
            lines_imports.append(known[name])
            continue
        head.append(f"{name} = ...  # {_comment(_call_text_desc(name, call, callee))}")
    code = "\n\n".join(p for p in ("\n".join(order_imports(lines_imports)), "\n".join(head + [text])) if p)
    return code if self_contained(code) and calls_bind(code, callee) else None


def _call_text_desc(name: str, call: ast.Call | None, callee: Callee) -> str:
    if call is not None:
        positional = [p for p in callee.params or () if p.kind in ("positional_only", "positional_or_keyword")]
        for i, a in enumerate(call.args):
            if isinstance(a, ast.Starred) and isinstance(a.value, ast.Name) and a.value.id == name:
                return "a sequence of positional arguments"
            if isinstance(a, ast.Name) and a.id == name:
                if i < len(positional):
                    return _placeholder_for(positional[i], dict(callee.docs))
                return f"the {name} passed to {callee.name}"
        for k in call.keywords:
            if isinstance(k.value, ast.Name) and k.value.id == name:
                if k.arg is None:
                    return "a mapping of keyword arguments"
                p = next((x for x in callee.params or () if x.name == k.arg), None)
                return _placeholder_for(p, dict(callee.docs)) if p else f"the {k.arg} passed to {callee.name}"
        f = call.func
        if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == name:
            return _a(callee.owner) if callee.owner else f"an object with .{callee.name}()"
        if callee.name == "__call__" and isinstance(f, ast.Name) and f.id == name and callee.owner:
            return _a(callee.owner)
    return "supplied by the reader"


def module_imports(ws: Workspace) -> dict[str, str]:
    """bound name -> the import line the repository most often writes for it (absolute imports only):
    ``torch`` -> ``import torch``, ``AutoModelForCausalLM`` -> ``from transformers import AutoModelForCausalLM``."""
    from tools.index.bindings import per_index

    def build(w: Workspace) -> dict[str, str]:
        counts: dict[str, dict[str, int]] = {}
        for rec in w.index.records.values():
            for b in rec.bindings:
                if b.lazy or b.name == "*" or not b.module or b.module.startswith("."):
                    continue
                if b.attr is None:
                    line = (
                        f"import {b.module}" if b.module.split(".")[0] == b.name else f"import {b.module} as {b.name}"
                    )
                else:
                    line = f"from {b.module} import {b.attr}" + (f" as {b.name}" if b.name != b.attr else "")
                c = counts.setdefault(b.name, {})
                c[line] = c.get(line, 0) + 1
        return {n: max(c, key=lambda k: (c[k], k)) for n, c in counts.items()}

    return per_index(ws, "_example_module_imports", build)
