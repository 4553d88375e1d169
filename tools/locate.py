"""Deterministic locator: from a WorkflowIndex step to the symbol that implements it.

Hints in a WorkflowIndex are first-pass guesses (wrong files, ranges of another release),
so they only weigh candidates; the facts come from the index. Every decision carries
its reasons, and a confidence that says whether an agent should look again.
"""

from __future__ import annotations

import ast
import keyword
import logging
import math
import re
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TypedDict

from tools.index.bindings import imported_from, per_index, runtime_bindings
from tools.errors import ToolError
from tools.navigate import area, search_symbols
from tools.index.pyparse import parser
from tools.index.records import Symbol
from tools.wiki.workflow_index import Step
from tools.index.workspace import Workspace, installed_workspace
from tools.source.scripts import ConsoleScript, console_scripts
from tools import pyast

log = logging.getLogger(__name__)
CONFIDENT = 0.8
_HINT_RE = re.compile(r"^(?P<file>[\w./-]+\.py)(?::L?(?P<start>\d+)(?:-L?(?P<end>\d+))?)?$")
_HINT_IN_TEXT = re.compile(r"(?<![\w/.-])(?P<file>[\w./-]+\.py)(?::L?(?P<start>\d+)(?:-L?(?P<end>\d+))?)?(?![\w/-])")


@dataclass(frozen=True)
class ApiRef:
    """What an API call text names: ``receiver.member(...)`` or ``name(...)``."""

    receiver: str | None  # "PeftModel", "peft_model", "Trainer" (instantiated), None for a plain call
    member: str  # the called name
    receiver_called: bool  # Trainer(...).train(): the receiver is an instance of the class called
    keywords: tuple[str, ...] = ()  # keyword arguments the call passes
    is_method: bool = False  # written as a method signature: name(self, …) / name(cls, …)
    params: tuple[str, ...] = ()  # parameter names of a signature-form API (self/cls left out)


@dataclass(frozen=True)
class Hint:
    file: str | None
    start: int | None
    end: int | None
    external: str | None  # package named by an "external" hint


class Candidate(TypedDict):
    """One of the locator's best candidates for a step, as the run and the reviewer see it."""

    qualname: str
    file: str
    start_line: int
    end_line: int
    score: float
    why: str  # its first three reasons, joined with "; "


class ExternalLocation(TypedDict):
    """Where an external API is defined in the installed package."""

    qualname: str
    module: str
    file: str
    start_line: int
    end_line: int
    version: str | None


class LocationContract(TypedDict):
    """The stable JSON shape of ``python -m tools locate --json``."""

    implementation: str
    kind: Literal["internal", "external", "held"]
    qualname: str | None
    file: str | None
    start_line: int | None
    end_line: int | None
    confidence: float


class LocationRecord(LocationContract, total=False):
    """A location as the run stores it: the contract and how it was found."""

    reasons: list[str]
    candidates: list[Candidate]
    package: str | None
    external_location: ExternalLocation | None


@dataclass
class Location:
    implementation: str
    kind: Literal["internal", "external", "held"]  # held: the step names nothing to locate
    qualname: str | None
    file: str | None
    start_line: int | None
    end_line: int | None
    confidence: float
    reasons: list[str] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)
    package: str | None = None  # the external package
    external_location: ExternalLocation | None = None  # where the external API lives in the installed package
    symbol: Symbol | None = None

    @property
    def confident(self) -> bool:
        return self.confidence >= CONFIDENT

    def contract(self) -> LocationContract:
        return LocationContract(
            implementation=self.implementation,
            kind=self.kind,
            qualname=self.qualname,
            file=self.file,
            start_line=self.start_line,
            end_line=self.end_line,
            confidence=round(self.confidence, 3),
        )

    def details(self) -> LocationRecord:
        return LocationRecord(
            **self.contract(),
            reasons=self.reasons,
            candidates=self.candidates,
            package=self.package,
            external_location=self.external_location,
        )


_SIG = re.compile(r"^\s*([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\s*\((.*)\)\s*(?:->.*)?$", re.S)


def _api_text(text: str) -> str:
    """The part of a cell that names the API: the first back-ticked span that starts with a name
    (cells also carry prose, a second call after ``/`` or ``,``, or a return arrow)."""
    spans: list[str] = re.findall(r"`([^`]+)`", text)
    for span in spans:
        m = re.match(r"\s*([A-Za-z_]\w*)", span)
        if m and not keyword.iskeyword(m.group(1)):
            return span.strip()
    return text.strip().strip("`").strip()


def _signature(t: str) -> ApiRef | None:
    """``name(self, x: int = 1, ...) -> T`` read as a signature: a method when its first parameter is
    ``self``/``cls``; None when the text is not a signature (a call with values, or no parentheses)."""
    m = _SIG.match(t)
    if not m:
        return None
    args = re.sub(r"(^|,)\s*\.\.\.\s*(?=,|$)", r"\1", m.group(2)).strip().strip(",")
    try:
        fn = pyast.parse(f"def _f({args}): pass").body[0]
    except SyntaxError:
        return None
    assert isinstance(fn, ast.FunctionDef)
    a = fn.args
    names = [p.arg for p in a.posonlyargs + a.args]
    annotated = any(p.annotation is not None for p in a.posonlyargs + a.args + a.kwonlyargs)
    is_method = bool(names) and names[0] in ("self", "cls")
    if not (is_method or annotated):
        return None  # f(a, b) is a call; only self/cls or annotations make it a signature
    params = tuple(n for n in names[1 if is_method else 0 :]) + tuple(p.arg for p in a.kwonlyargs)
    dotted = m.group(1)
    receiver, _, member = dotted.rpartition(".")
    return ApiRef(receiver or None, member, False, (), is_method or bool(receiver), params)


def _leftmost_call(node: ast.AST) -> ast.AST:
    """The first callee of an expression that chains two calls (``save(a) / save_state()``, ``f(), g()``)."""
    while isinstance(node, (ast.BinOp, ast.BoolOp, ast.Compare, ast.Tuple, ast.Subscript, ast.Starred)):
        if isinstance(node, ast.BinOp):
            node = node.left
        elif isinstance(node, ast.BoolOp):
            node = node.values[0]
        elif isinstance(node, ast.Compare):
            node = node.left
        elif isinstance(node, ast.Tuple):
            if not node.elts:
                break
            node = node.elts[0]
        else:
            node = node.value
    return node


def parse_api(text: str | None) -> ApiRef | None:
    """The callee of an API call text; tolerant of ``...`` placeholders, signatures (with ``self``,
    annotations, a return arrow), two calls in one cell, and prose around it."""
    if not text:
        return None
    t = _api_text(text)
    sig = _signature(t)
    if sig is not None:
        return sig
    try:
        node = _leftmost_call(pyast.parse(t, mode="eval").body)
    except SyntaxError:
        # prose ("GGUF conversion + Modelfile generation") names no API; a call inside it does
        m = (
            re.search(r"([A-Za-z_][\w.]*)\s*\(", t)
            or re.match(r"^([A-Za-z_][\w.]*[._][\w.]*)\b", t)
            or re.match(r"^([A-Za-z_]\w*)\s*(?=$|[:,\[])", t)
        )
        if not m or keyword.iskeyword(m.group(1).split(".")[0]):
            return None
        node = pyast.parse(m.group(1).rstrip("."), mode="eval").body
    keywords: tuple[str, ...] = ()
    if isinstance(node, ast.Call):
        keywords = tuple(k.arg for k in node.keywords if k.arg)
        node = node.func
    if isinstance(node, ast.Name):
        return ApiRef(None, node.id, False, keywords)
    if isinstance(node, ast.Attribute):
        value = node.value
        if isinstance(value, ast.Call):
            inner = value.func
            name = ast.unparse(inner) if isinstance(inner, (ast.Name, ast.Attribute)) else None
            return ApiRef(name, node.attr, True, keywords)
        if isinstance(value, (ast.Name, ast.Attribute)):
            return ApiRef(ast.unparse(value), node.attr, False, keywords)
    return None


def parse_hint(text: str | None, repo_packages: list[str]) -> Hint:
    if not text:
        return Hint(None, None, None, None)
    t = text.strip().strip("`").strip()
    m = _HINT_RE.match(t) or _HINT_IN_TEXT.search(t)
    low = t.lower()
    if m and "external" not in low[: m.start()]:
        # the first path of the cell; free text around it ("(patched generate)", a second file) is not a hint
        return Hint(
            m.group("file"),
            int(m.group("start")) if m.group("start") else None,
            int(m.group("end")) if m.group("end") else None,
            None,
        )
    if "external" in low:
        words = re.findall(r"[A-Za-z_][\w-]*", t)
        pkg = next((w for w in words if w.lower() not in ("external", "library") and w not in repo_packages), None)
        return Hint(None, None, None, pkg.lower() if pkg else "")
    return Hint(None, None, None, None)


def _norm(name: str) -> str:
    return name.replace("_", "").lower()


def _is_classlike(name: str | None) -> bool:
    if not name:
        return False
    return name.split(".")[-1][:1].isupper()


def _delegates(ws: Workspace, s: Symbol) -> bool:
    """A thin wrapper: at most two statements besides the docstring, one calling the same name
    on something else (``return self.base_model.merge_and_unload(*args, **kwargs)``)."""
    if s.end_line - s.start_line > 40:
        return False
    try:
        text = ws.source.physical(s.file).read_text(encoding="utf-8", errors="replace").splitlines()
    except (OSError, ToolError):
        return False
    src = textwrap.dedent("\n".join(text[(s.decorator_line or s.start_line) - 1 : s.end_line]))
    tree = parser().parse(src.encode("utf-8"))
    node = tree.root_node.named_children[0] if tree.root_node.named_children else None
    if node is not None and node.type == "decorated_definition":
        node = node.child_by_field_name("definition")
    body = node.child_by_field_name("body") if node is not None else None
    if body is None:
        return False
    stmts = [c for c in body.named_children if c.type != "comment"]
    if (
        stmts
        and stmts[0].type == "expression_statement"
        and stmts[0].named_children
        and stmts[0].named_children[0].type == "string"
    ):
        stmts = stmts[1:]
    call = re.compile(rf"\.\s*{re.escape(s.name)}\s*\(")
    return 0 < len(stmts) <= 2 and any(
        st.text is not None and call.search(st.text.decode("utf-8", "replace")) for st in stmts
    )


def _keyword_fit(s: Symbol, keywords: tuple[str, ...]) -> tuple[float, str | None]:
    """How well a candidate's parameters take the keywords the API call passes."""
    if not keywords or s.kind == "class":
        return 0.0, None
    names = {p.name for p in s.params if p.kind not in ("var_positional", "var_keyword", "positional_only")}
    open_kwargs = any(p.kind == "var_keyword" for p in s.params)
    taken = [k for k in keywords if k in names]
    missing = [k for k in keywords if k not in names]
    if missing and not open_kwargs:
        return -1.5, f"does not accept {', '.join(missing)}"
    if taken:
        return min(1.5, 0.5 * len(taken)), f"accepts {', '.join(taken)}"
    return 0.0, None


_DUNDER = {"call": "__call__", "init": "__init__", "getitem": "__getitem__", "iter": "__iter__"}


def _implementation_of(ws: Workspace, s: Symbol) -> Symbol:
    """For a typing.overload stub, the real definition with the same qualname (the last one)."""
    if not any(d.split(".")[-1] == "overload" for d in s.decorators):
        return s
    return ws.index.definition(s.module, s.qualname) or s


_TYPING = {
    "Tuple",
    "List",
    "Dict",
    "Optional",
    "Union",
    "Any",
    "None",
    "Set",
    "Callable",
    "Iterable",
    "Iterator",
    "Sequence",
    "Mapping",
    "Type",
    "Literal",
    "Generator",
    "True",
    "False",
    "HuggingFace",
    "Hub",
    "LoRA",
    "QLoRA",
    "GPU",
    "CPU",
    "CUDA",
    "API",
    "JSON",
    "URL",
    "PyTorch",
    "Python",
}


def _classes_by_norm(ws: Workspace) -> dict[str, list[Symbol]]:
    """Classes by name with underscores dropped and lower-cased (``peft_model`` finds ``PeftModel``),
    built once per index: receivers are looked up for every step."""

    def build(ws: Workspace) -> dict[str, list[Symbol]]:
        out: dict[str, list[Symbol]] = {}
        for c in ws.index.symbols:
            if c.kind == "class":
                out.setdefault(_norm(c.name), []).append(c)
        return out

    return per_index(ws, "_classes_by_norm", build)


def _same_api(a: Symbol, b: Symbol) -> bool:
    if a.file != b.file or a.module != b.module:
        return False
    return a.qualname == b.qualname or a.qualname == f"{b.qualname}.__init__" or b.qualname == f"{a.qualname}.__init__"


def earlier_types(earlier: Iterable[Step]) -> tuple[str, ...]:
    """Class-like names the earlier steps say they return (nearest step first): what an object
    receiver such as ``model`` or ``trainer`` is at this step."""
    out: list[str] = []
    for st in reversed(list(earlier)):
        for t in re.findall(r"\b([A-Z][A-Za-z0-9]*[a-z][A-Za-z0-9]*)\b", st.outputs or ""):
            if t not in _TYPING and t not in out:
                out.append(t)
    return tuple(out)


_CLI_MARK = re.compile(r"\bCLI\b|^\s*`?\$\s")  # "(CLI)", a shell prompt; prose about a command line is not one
_COMMAND = re.compile(r"^\$?\s*(?P<word>[a-z][\w.-]*)(?P<rest>\s+\S.*)?$", re.S)  # commands are lower-case


def command_words(text: str | None) -> list[str]:
    """The command names a step's API Call runs, when it is written as a command line (``vllm serve
    --model M``, ``$ flask run``): the lower-case first word of each back-ticked span, or of the cell, that
    is not Python. A bare name counts only in a cell marked as a command (``(CLI)``, a ``$`` prompt):
    ``train`` alone is the Python name it looks like."""
    if not text:
        return []
    marked = bool(_CLI_MARK.search(text))
    out: list[str] = []
    for span in [*re.findall(r"`([^`]+)`", text), re.sub(r"\(CLI\)|`", " ", text)]:
        m = _COMMAND.match(span.strip())
        if m is None or (m.group("rest") is None and not marked):
            continue
        try:
            pyast.parse(span.strip(), mode="eval")
            if m.group("rest") is not None or not marked:
                continue  # Python: an expression, a call
        except SyntaxError:
            pass
        if m.group("word") not in out and not keyword.iskeyword(m.group("word")):
            out.append(m.group("word"))
    return out


_Scored = tuple[float, Symbol, list[str], str]  # (score, candidate, reasons, how it was found)
_Best = tuple[Symbol, float, list[str], list[_Scored]]  # the best: candidate, score, reasons; then all, best first


class Locator:
    def __init__(self, ws: Workspace, cache_dir: Path | None = None) -> None:
        self.ws = ws
        self.cache_dir = cache_dir
        self._scripts: dict[str, ConsoleScript] | None = None

    # ---- command-line steps -----------------------------------------------------
    def console_scripts(self) -> dict[str, ConsoleScript]:
        if self._scripts is None:
            self._scripts = console_scripts(self.ws.source)
        return self._scripts

    def _command_line(self, step: Step) -> Location | None:
        """A step run as a command (``vllm serve …``): the function its console script names, or not
        found with the reason when the cell says it is a command that the source does not declare.
        None when the step is not a command."""
        words = command_words(step.api_call)
        if not words:
            return None
        scripts = self.console_scripts()
        for word in words:
            script = scripts.get(word)
            if script is None:
                continue
            entry = f"{script.module}:{script.attr}"
            found = self.ws.index.lookup(script.module, script.attr)
            if not found:
                return Location(
                    step.implementation,
                    "internal",
                    None,
                    None,
                    None,
                    None,
                    0.0,
                    [
                        f"the command {word} is the console script {entry} ({script.declared_in}), which is not a "
                        "definition in this source"
                    ],
                )
            s = found[0]
            why = [f"the command {word} runs the console script {entry} ({script.declared_in})"]
            return Location(
                step.implementation,
                "internal",
                s.qualname,
                s.file,
                s.start_line,
                s.end_line,
                0.9,
                why,
                [
                    {
                        "qualname": s.qualname,
                        "file": s.file,
                        "start_line": s.start_line,
                        "end_line": s.end_line,
                        "score": 9.0,
                        "why": why[0],
                    }
                ],
                symbol=s,
            )
        if not _CLI_MARK.search(step.api_call or "") or parse_api(step.api_call) is not None:
            return None  # not said to be a command, or a Python call beside it (`trainer.train()` (CLI: …))
        declared = ", ".join(sorted(scripts)) or "none"
        return Location(
            step.implementation,
            "internal",
            None,
            None,
            None,
            None,
            0.0,
            [
                f"a command-line step ({' / '.join(words)}): the source declares no such console script "
                f"(pyproject.toml [project.scripts], setup.cfg or setup.py console_scripts; declared: {declared}); "
                "write the API Call as the Python function the command runs"
            ],
        )

    # ---- candidate scoring ------------------------------------------------------
    def _score(self, s: Symbol, api: ApiRef | None, hint: Hint, impl_short: str, how: str) -> tuple[float, list[str]]:
        score, why = 0.0, []
        if how in ("exact", "resolved"):
            score += 3.0
            why.append("name resolves through the package's exports" if how == "resolved" else "exact name")
        elif how.startswith("inherited"):
            score += 3.0
            why.append(f"defined on a base class ({how})")
        elif how.startswith("bound at run time"):
            score += 3.0
            why.append(how)
            where = re.search(r"\(([^():]+):(\d+)\)$", how)
            if where and where.group(1) in self.hint_files(hint):
                score += 1.0
                why.append("bound in the hinted file")
        elif how.startswith("successor"):
            score += 2.5
            why.append(how)
        elif how == "method":
            score += 1.5
            why.append(f"a method named {s.name} (the API is written as a method signature)")
        elif how in ("dotted suffix", "name"):
            score += 1.5
        else:
            score += 0.3
            why.append(f"{how} match only")
        owner = s.qualname.split(".")[0] if "." in s.qualname else None
        if hint.file:
            if s.file == hint.file or s.file.endswith("/" + hint.file):
                score += 2.0
                why.append("in the hinted file")
            elif s.file.rsplit("/", 1)[-1] == hint.file.rsplit("/", 1)[-1]:
                score += 0.7
                why.append("same file name as the hint")
            if hint.start and (s.file == hint.file or s.file.endswith("/" + hint.file)):
                if abs(s.start_line - hint.start) <= 2:
                    score += 1.0
                    why.append("starts where the hint says")
                elif (
                    s.start_line <= (hint.end or hint.start)
                    and s.end_line >= hint.start
                    and s.end_line - s.start_line <= 4 * max(1, (hint.end or hint.start) - hint.start)
                ):
                    score += 0.5
                    why.append("overlaps the hinted lines")
        if api and api.receiver and owner:
            recv = api.receiver.split(".")[-1]
            if _norm(recv) == _norm(owner):
                score += 2.0
                why.append(f"receiver {recv!r} names class {owner}")
            elif (
                _norm(recv) in _norm(owner) or _norm(owner).endswith(_norm(recv)) or _norm(recv).endswith(_norm(owner))
            ):
                score += 1.0
                why.append(f"receiver {recv!r} fits class {owner}")
        if owner and _norm(impl_short).startswith(_norm(owner)):
            score += 2.0
            why.append(f"page name starts with class {owner}")
        top = self.ws.names.owner(s)
        if top is not None and self.ws.package and isinstance(self.ws.names.resolve(self.ws.package, top.name), Symbol):
            score += 1.0
            why.append(f"{top.name} is exported by {self.ws.package}")
        if area(s.file) != "source":
            score -= 3.0
            why.append(f"lives in {area(s.file)}/")
        if any(p.startswith("_") and not (p.startswith("__") and p.endswith("__")) for p in s.qualname.split(".")):
            score -= 1.0
        if s.name.startswith("test_") or s.name.startswith("Test"):
            score -= 3.0
            why.append("a test")
        if s.kind == "method" and owner:
            cls = self.ws.index.definition(s.module, owner)
            if cls is not None:
                n = len(self.ws.names.subclasses.get((cls.module, cls.qualname), []))
                if n:
                    score += min(1.5, 0.5 * math.log2(1 + n))
                    why.append(f"inherited by {n} subclass(es)")
        fit, fit_why = _keyword_fit(s, (api.keywords or api.params) if api else ())
        if fit_why:
            score += fit
            why.append(fit_why)
        if _delegates(self.ws, s):
            score -= 1.0
            why.append("a thin wrapper that delegates to another implementation")
        return score, why

    def _candidates(
        self, api: ApiRef | None, impl_short: str, types: tuple[str, ...] = (), hint: Hint | None = None
    ) -> list[tuple[Symbol, str]]:
        ws = self.ws
        found: dict[tuple[str, str, int], tuple[int, Symbol, str]] = {}
        order = ("resolved", "exact", "inherited", "bound at run time", "successor", "method", "dotted suffix", "name")

        def add(s: Symbol, how: str) -> None:
            s = _implementation_of(ws, s)
            rank = next((i for i, o in enumerate(order) if how.startswith(o)), len(order))
            k = (s.file, s.qualname, s.start_line)
            if k not in found or found[k][0] > rank:
                found[k] = (rank, s, how)

        def via_class(cls: Symbol | None, member: str) -> None:
            if isinstance(cls, Symbol) and cls.kind == "class":
                m = ws.names.member(cls, member)
                if m is not None:
                    add(m, "resolved" if m.qualname.startswith(cls.qualname + ".") else f"inherited by {cls.qualname}")

        if api is not None:
            if api.receiver and _is_classlike(api.receiver) and ws.package:
                cls = ws.names.resolve_dotted(ws.package, api.receiver)
                if not isinstance(cls, Symbol):
                    cls = next(
                        (c for c in ws.index.by_name.get(api.receiver.split(".")[-1], []) if c.kind == "class"), None
                    )
                via_class(cls, api.member)
            elif api.receiver:
                # a variable named after its class: peft_model -> PeftModel, engine -> Engine
                for cls in _classes_by_norm(ws).get(_norm(api.receiver.split(".")[-1]), []):
                    if area(cls.file) == "source":
                        via_class(cls, api.member)
                # …or an object an earlier step returned: model -> the PeftModel of step 2's Outputs
                for t in types:
                    for cls in ws.index.by_name.get(t, []):
                        if cls.kind == "class" and area(cls.file) == "source":
                            via_class(cls, api.member)
            if (
                api.receiver is None
                and not api.is_method
                and api.member[:1].islower()
                and not any(
                    c.kind in ("function", "class") and area(c.file) == "source"
                    for c in ws.index.by_name.get(api.member, [])
                )
            ):
                # tokenizer(text): no function of that name, so an object is called — its class's __call__,
                # the class an earlier step returned, else classes named after the object
                typed = [c for t in types for c in ws.index.by_name.get(t, []) if c.kind == "class"]
                named = (
                    [
                        c
                        for c in ws.index.symbols
                        if c.kind == "class" and area(c.file) == "source" and _norm(api.member) in _norm(c.name)
                    ]
                    if not typed
                    else []
                )
                for cls in typed or named[:50]:
                    via_class(cls, "__call__")
            if api.receiver is None and ws.package:
                target = ws.names.resolve(ws.package, api.member)
                if isinstance(target, Symbol):
                    add(target, "resolved")
            for how, s in search_symbols(ws, api.member):
                if api.receiver is not None and s.kind != "method" and not api.receiver_called:
                    continue
                if api.receiver is None and api.is_method:
                    if s.kind != "method":
                        continue  # name(self, …) is a method, never a module-level function or a class
                    add(s, "method" if how in ("name", "dotted suffix") else how)
                    continue
                if api.receiver is None and s.kind == "method" and not how.startswith(("resolved", "exact")):
                    continue  # `tokenizer(...)` calls an object, never a method named tokenizer
                add(s, how)
            if api.receiver is None or not _is_classlike(api.receiver):
                # model.save_pretrained_merged(...): a function attached to the object at run time
                for b in runtime_bindings(ws).get(api.member, []):
                    add(b.function, f"bound at run time as .{api.member} ({b.file}:{b.line})")
        if (
            api is not None
            and hint is not None
            and not any(area(c.file) == "source" for c in ws.index.by_name.get(api.member, []))
            and not runtime_bindings(ws).get(api.member)
        ):
            # renamed since the step was written: one clear successor in the hinted file
            succ = self._successors(api.member, hint)
            if len(succ) == 1:
                add(succ[0], f"successor of {api.member} in the hinted file")
        plain_call = api is not None and api.receiver is None and not api.is_method
        for how, s in search_symbols(ws, impl_short):
            if how in ("exact", "name", "dotted suffix") and not (plain_call and s.kind == "method"):
                add(s, how)
        if "_" in impl_short and impl_short[:1].isupper():
            # PeftModel_from_pretrained -> PeftModel.from_pretrained
            cls_name, _, member = impl_short.partition("_")
            member = _DUNDER.get(member, member)  # Pipeline_call -> Pipeline.__call__
            for how, s in search_symbols(ws, f"{cls_name}.{member}"):
                if how in ("exact", "dotted suffix") or how.startswith("inherited"):
                    add(s, how)
        return [(s, how) for _, s, how in sorted(found.values(), key=lambda t: t[0])]

    # ---- external APIs ----------------------------------------------------------
    def external_workspace(self, package: str) -> Workspace | None:
        """The installed external package, indexed (None when it is not installed)."""
        return installed_workspace(package, self.cache_dir)

    def _locate_external(self, step: Step, api: ApiRef | None, package: str, reasons: list[str]) -> Location:
        shown = self._external_qualname(api, package, step.source_hint)
        loc = Location(
            step.implementation, "external", shown, None, None, None, 0.9 if api else 0.6, reasons, [], package
        )
        ext = self.external_workspace(package) if package else None
        if ext is None:
            loc.reasons.append(f"{package or 'the external package'} is not installed here: its source was not checked")
            return loc
        sub = Locator(ext, self.cache_dir)
        inner = sub._best(step, api, Hint(None, None, None, None), step.implementation.split("_", 2)[-1])
        if inner is not None:
            s = inner[0]
            loc.external_location = {
                "qualname": s.qualname,
                "module": s.module,
                "file": s.file,
                "start_line": s.start_line,
                "end_line": s.end_line,
                "version": ext.source.version,
            }
            loc.confidence = 0.95
            loc.reasons.append(f"found in the installed {package} {ext.source.version or ''}".rstrip())
        return loc

    @staticmethod
    def _external_qualname(api: ApiRef | None, package: str, hint_text: str | None = None) -> str | None:
        """``package.Class.member`` as far as it is known: an object receiver (``model``) is not a
        name in the package; the hint may name its class (``torch.nn.Module``)."""
        if api is None:
            return None
        owner = api.receiver if api.receiver and _is_classlike(api.receiver) else None
        if api.receiver and not owner and hint_text and package:
            m = re.search(rf"`({re.escape(package)}(?:\.\w+)*\.[A-Z]\w*)`", hint_text)
            owner = m.group(1) if m else None
        dotted = ".".join(p for p in (owner, api.member) if p)
        if package and not (dotted == package or dotted.startswith(package + ".")):
            dotted = f"{package}.{dotted}"
        return dotted

    # ---- the decision -------------------------------------------------------------
    def _best(
        self, step: Step, api: ApiRef | None, hint: Hint, impl_short: str, types: tuple[str, ...] = ()
    ) -> _Best | None:
        scored: list[_Scored] = []
        for s, how in self._candidates(api, impl_short, types, hint):
            score, why = self._score(s, api, hint, impl_short, how)
            scored.append((score, s, why, how))
        scored.sort(key=lambda t: (-t[0], t[1].file, t[1].start_line))
        if not scored:
            return None
        return scored[0][1], scored[0][0], scored[0][2], scored

    def _external_evidence(
        self, api: ApiRef | None, hint: Hint, step: Step, root_name: str | None, types: tuple[str, ...] = ()
    ) -> tuple[str, str] | None:
        """(package, why) when something positively says the API belongs to another package: the hint,
        the plan's Wrapper Doc type, an import of the name from that package in the repository, or its
        definition in the installed package. Not finding a definition here is never such evidence."""
        repo_packages = self.ws.names.packages
        deps = [d.lower() for d in step.external_deps if d.lower() not in repo_packages]
        if hint.external is not None:
            return hint.external or (deps[0] if deps else ""), f"the hint says external ({step.source_hint})"
        if step.impl_type in ("Wrapper Doc", "External Tool Doc"):
            return (deps[0] if deps else ""), f"the plan marks it a {step.impl_type}"
        if root_name:
            pkg = imported_from(self.ws, root_name.split(".")[0])
            if pkg:
                return pkg, f"the repository imports {root_name.split('.')[0]} from {pkg}"
        named_after = (
            api is not None and api.receiver and bool(_classes_by_norm(self.ws).get(_norm(api.receiver.split(".")[-1])))
        )
        member_here = api is not None and any(
            s.kind == "method" and area(s.file) == "source" for s in self.ws.index.by_name.get(api.member, [])
        )
        if api is not None and api.receiver and not _is_classlike(api.receiver) and not named_after and not member_here:
            for t in types:  # the receiver is an object of another package's class
                pkg = imported_from(self.ws, t)
                if pkg and not any(c.kind == "class" for c in self.ws.index.by_name.get(t, [])):
                    return pkg, (
                        f"the receiver {api.receiver} is a {t} (an earlier step's output), which the "
                        f"repository imports from {pkg}"
                    )
        if api is not None and root_name:
            for pkg in deps:
                ext = self.external_workspace(pkg)
                if ext is not None and any(
                    s.kind in ("class", "function") for s in ext.index.by_name.get(root_name.split(".")[-1], [])
                ):
                    return pkg, f"{root_name} is defined in the installed {pkg}"
        return None

    def locate(self, step: Step, earlier: list[Step] | tuple[Step, ...] = ()) -> Location:
        """Where the step's API is defined. ``earlier``: the steps before it in its workflow, whose
        Outputs say what an object receiver (``model``, ``trainer``) is."""
        ws = self.ws
        if step.problem:
            return Location(step.implementation, "held", None, None, None, None, 0.0, [step.problem])
        command = self._command_line(step)
        if command is not None:
            return command
        repo_packages = ws.names.packages
        api = parse_api(step.api_call) or parse_api(step.guide_api)
        hint = parse_hint(step.source_hint, repo_packages)
        impl_short = step.implementation.removeprefix(f"{ws.source.repo}_")

        types = earlier_types(earlier)
        best = self._best(step, api, hint, impl_short, types)
        root_name = (
            api.receiver
            if api and api.receiver and _is_classlike(api.receiver)
            else (api.member if api and not api.receiver else None)
        )
        defined_here = bool(
            root_name
            and any(
                s.kind in ("class", "function") or (api is not None and api.is_method and s.kind == "method")
                for s in ws.index.by_name.get(root_name.split(".")[-1], [])
                if area(s.file) == "source"
            )
        )
        bound_here = (
            api is not None
            and bool(runtime_bindings(ws).get(api.member))
            and not (api.receiver and _is_classlike(api.receiver))
        )
        # an object receiver whose class (named after it, or an earlier step's output) defines the member
        via_object = bool(
            best
            and api
            and api.receiver
            and not _is_classlike(api.receiver)
            and best[3][0][3].startswith(("resolved", "inherited"))
        )
        external = (
            None
            if (defined_here or bound_here or via_object)
            else self._external_evidence(api, hint, step, root_name, types)
        )
        if external is not None:
            package, evidence = external
            return self._locate_external(step, api, package, [evidence])
        if best is None:
            return Location(
                step.implementation,
                "internal",
                None,
                None,
                None,
                None,
                0.0,
                [
                    f"no definition of {root_name or (api.member if api else impl_short)} in the repository, "
                    "and nothing says it belongs to another package"
                ],
            )
        s, score, why, scored = best
        how = scored[0][3]
        # not rivals: a class and its own __init__ (one constructor), and thin wrappers that only pass
        # the call on to another implementation of the same name
        rivals = [
            t for t in scored[1:] if not _same_api(t[1], s) and not any(w.startswith("a thin wrapper") for w in t[2])
        ]
        second = rivals[0][0] if rivals else None
        if second is None:
            confidence = 0.95 if score >= 3 else 0.6
        else:
            margin = (score - second) / max(abs(score), 1e-6)
            confidence = max(0.0, min(0.99, 0.45 + 0.5 * margin + (0.15 if score >= 5 else 0.0)))
        if api is not None and api.receiver is None and how == "resolved" and s.name == api.member:
            # what `from {package} import name` gives: the package's own binding of the called name
            confidence = max(confidence, 0.9)
        if (
            api is not None
            and api.receiver
            and how.startswith(("resolved", "inherited"))
            and any(w.startswith("receiver ") or w.startswith("defined on a base class") for w in why)
        ):
            # Python's own lookup: the receiver names the class, the member is found on it or its bases
            confidence = max(confidence, 0.95 if _is_classlike(api.receiver) else 0.85)
        if how.startswith("successor"):
            confidence = min(confidence, 0.85)  # a rename is inferred, not read
        caps = self.doubts(s, how, api, hint, impl_short)
        misfit = self.call_misfit(s, step.api_call, bound=how.startswith("bound at run time"))
        if misfit:
            caps.append(misfit)
        if caps:
            confidence = min(confidence, 0.6)
            why = why + caps
        candidates: list[Candidate] = [
            {
                "qualname": c.qualname,
                "file": c.file,
                "start_line": c.start_line,
                "end_line": c.end_line,
                "score": round(sc, 2),
                "why": "; ".join(w[:3]),
            }
            for sc, c, w, _ in scored[:5]
        ]
        return Location(
            step.implementation,
            "internal",
            s.qualname,
            s.file,
            s.start_line,
            s.end_line,
            confidence,
            why,
            candidates,
            symbol=s,
        )

    def call_misfit(self, s: Symbol, api_text: str | None, bound: bool = False) -> str | None:
        """Why the step's call cannot bind to ``s`` by Python's rules (too many positional arguments,
        an unknown keyword, a required parameter missing), or None when it can or the text is no call."""
        if not api_text:
            return None
        try:
            node = _leftmost_call(pyast.parse(_api_text(api_text), mode="eval").body)
        except SyntaxError:
            return None
        if not isinstance(node, ast.Call) or isinstance(node.func, ast.Call):
            return None
        args, kws = node.args, node.keywords
        if (
            any(isinstance(a, ast.Starred) for a in args)
            or any(k.arg is None for k in kws)
            or any(isinstance(a, ast.Constant) and a.value is Ellipsis for a in args)
        ):
            return None  # *x, **x or a "..." placeholder: the call is not written out
        target = self.ws.names.member(s, "__init__") if s.kind == "class" else s
        if target is None:
            return None
        params = list(target.params)
        if params and (
            bound or (params[0].name in ("self", "cls") and (target.kind == "method" or target.name == "__init__"))
        ):
            params = params[1:]  # the receiver (for a function bound as a method: its first parameter)
        positional = [p for p in params if p.kind in ("positional_only", "positional_or_keyword")]
        star = any(p.kind == "var_positional" for p in params)
        kwstar = any(p.kind == "var_keyword" for p in params)
        names = {p.name for p in params if p.kind in ("positional_or_keyword", "keyword_only")}
        if len(args) > len(positional) and not star:
            return f"{target.qualname} takes {len(positional)} positional argument(s), the step passes {len(args)}"
        unknown = [k.arg for k in kws if k.arg is not None and k.arg not in names]  # None: refused above
        if unknown and not kwstar:
            return f"{target.qualname} has no parameter {', '.join(unknown)}"
        given = {p.name for p in positional[: len(args)]} | {k.arg for k in kws}
        missing = [
            p.name
            for p in params
            if p.default is None
            and p.kind in ("positional_or_keyword", "keyword_only", "positional_only")
            and p.name not in given
        ]
        if missing:
            return f"the step's call leaves out {', '.join(missing)}, which {target.qualname} requires"
        return None

    def _successors(self, name: str, hint: Hint) -> list[Symbol]:
        """Definitions of the hinted file whose name is ``name`` renamed: the same without (or with)
        leading underscores, or one edit-distance-close name (difflib ratio ≥ 0.9)."""
        import difflib

        bare = name.lstrip("_")
        out = []
        for f in self.hint_files(hint):
            for c in self.ws.index.file_symbols(f):
                if "<locals>" in c.qualname or c.name == name:
                    continue
                if c.name.lstrip("_") == bare or difflib.SequenceMatcher(None, c.name, name).ratio() >= 0.9:
                    out.append(c)
        return out

    def hint_files(self, hint: Hint) -> list[str]:
        """Repository files the hint's path names: the path itself, else files ending with it."""
        if not hint.file:
            return []
        recs = self.ws.index.records
        if hint.file in recs:
            return [hint.file]
        return [p for p in recs if p.endswith("/" + hint.file)]

    def doubts(self, s: Symbol, how: str, api: ApiRef | None, hint: Hint, impl_short: str) -> list[str]:
        """Reasons the best candidate may be the wrong symbol, whatever its margin: each one keeps the
        answer below the commit threshold (held for review, or for the excavation agent)."""
        out = []
        called = api.member if api else None
        if how == "fuzzy" or how.endswith("match only"):
            out.append(f"only a {how} name match")
        if (
            called
            and s.name != called
            and not how.startswith(("bound at run time", "resolved", "inherited", "successor"))
            and not (called == s.name.lower() or _DUNDER.get(called) == s.name)
            and not (api is not None and api.receiver is None and s.name == "__call__")
            and not (s.name == "__init__" and (s.parent or "").split(".")[-1] == called)
        ):
            out.append(f"the step calls {called}, the candidate is {s.name}")
        files = self.hint_files(hint)
        via_receiver = api is not None and api.receiver is not None and how.startswith(("resolved", "inherited"))
        if files and called and s.file not in files and not via_receiver:
            defined = [c for f in files for c in self.ws.index.file_symbols(f) if c.name == called]
            if defined:
                out.append(f"the hinted file {hint.file} defines {called} too, but the candidate is elsewhere")
        if area(s.file) != "source":
            out.append(f"the candidate lives in {area(s.file)}/")
        lead = impl_short.split("_")[0]
        owner = s.qualname.split(".")[0] if s.kind == "method" else s.name
        receiver_class = api.receiver.split(".")[-1] if api is not None and api.receiver else None
        if (
            s.kind in ("method", "class")
            and lead[:1].isupper()
            and lead != owner
            and lead != receiver_class
            and any(c.kind == "class" and area(c.file) == "source" for c in self.ws.index.by_name.get(lead, []))
            and not self._inherits(lead, owner)
        ):
            out.append(f"the page name names class {lead}, the candidate belongs to {owner}")
        return out

    def _inherits(self, cls_name: str, owner: str) -> bool:
        """A class named ``cls_name`` has ``owner`` in its MRO (itself included)."""
        for c in self.ws.index.by_name.get(cls_name, []):
            if c.kind == "class" and owner in {m.name for m in self.ws.names.mro(c)}:
                return True
        return False
