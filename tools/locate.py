"""Deterministic locator: from a WorkflowIndex step to the symbol that implements it.

Hints in a WorkflowIndex are first-pass guesses (wrong files, ranges of another release),
so they only weigh candidates; the facts come from the index. Every decision carries
its reasons, and a confidence that says whether an agent should look again.
"""
from __future__ import annotations

import ast
import logging
import math
import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from tools.errors import ToolError, UsageError
from tools.navigate import area, search_symbols
from tools.pyparse import parser
from tools.records import Symbol
from tools.index import build_index
from tools.resolve import installed_source
from tools.workflow_index import Step
from tools.workspace import Workspace

log = logging.getLogger(__name__)
CONFIDENT = 0.7
_HINT_RE = re.compile(r"^(?P<file>[\w./-]+\.py)(?::L?(?P<start>\d+)(?:-L?(?P<end>\d+))?)?$")


@dataclass(frozen=True)
class ApiRef:
    """What an API call text names: ``receiver.member(...)`` or ``name(...)``."""

    receiver: str | None  # "PeftModel", "peft_model", "Trainer" (instantiated), None for a plain call
    member: str  # the called name
    receiver_called: bool  # Trainer(...).train(): the receiver is an instance of the class called
    keywords: tuple[str, ...] = ()  # keyword arguments the call passes


@dataclass(frozen=True)
class Hint:
    file: str | None
    start: int | None
    end: int | None
    external: str | None  # package named by an "external" hint


@dataclass
class Location:
    implementation: str
    kind: Literal["internal", "external"]
    qualname: str | None
    file: str | None
    start_line: int | None
    end_line: int | None
    confidence: float
    reasons: list[str] = field(default_factory=list)
    candidates: list[dict] = field(default_factory=list)
    package: str | None = None  # the external package
    external_location: dict | None = None  # where the external API lives in the installed package
    symbol: Symbol | None = None

    @property
    def confident(self) -> bool:
        return self.confidence >= CONFIDENT

    def contract(self) -> dict:
        """The stable JSON shape of ``python -m tools locate --json``."""
        return {"implementation": self.implementation, "kind": self.kind, "qualname": self.qualname,
                "file": self.file, "start_line": self.start_line, "end_line": self.end_line,
                "confidence": round(self.confidence, 3)}

    def details(self) -> dict:
        return {**self.contract(), "reasons": self.reasons, "candidates": self.candidates,
                "package": self.package, "external_location": self.external_location}


def parse_api(text: str | None) -> ApiRef | None:
    """The callee of an API call text; tolerant of ``...`` placeholders and prose around it."""
    if not text:
        return None
    t = text.strip().strip("`").strip()
    try:
        node = ast.parse(t, mode="eval").body
    except SyntaxError:
        m = re.search(r"([A-Za-z_][\w.]*)\s*\(", t) or re.match(r"^([A-Za-z_][\w.]*)", t)
        if not m:
            return None
        node = ast.parse(m.group(1), mode="eval").body
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
    m = _HINT_RE.match(t)
    if m:
        return Hint(m.group("file"), int(m.group("start")) if m.group("start") else None,
                    int(m.group("end")) if m.group("end") else None, None)
    low = t.lower()
    if "external" in low:
        words = re.findall(r"[A-Za-z_][\w-]*", t)
        pkg = next((w for w in words if w.lower() not in ("external", "library") and w not in repo_packages), None)
        return Hint(None, None, None, pkg.lower() if pkg else "")
    return Hint(None, None, None, None)


def _norm(name: str) -> str:
    return name.replace("_", "").lower()


def _is_classlike(name: str | None) -> bool:
    return bool(name) and name.split(".")[-1][:1].isupper()


def _delegates(ws: Workspace, s: Symbol) -> bool:
    """A thin wrapper: at most two statements besides the docstring, one calling the same name
    on something else (``return self.base_model.merge_and_unload(*args, **kwargs)``)."""
    if s.end_line - s.start_line > 40:
        return False
    try:
        text = ws.source.physical(s.file).read_text(encoding="utf-8", errors="replace").splitlines()
    except (OSError, ToolError):
        return False
    src = textwrap.dedent("\n".join(text[(s.decorator_line or s.start_line) - 1:s.end_line]))
    tree = parser().parse(src.encode("utf-8"))
    node = tree.root_node.named_children[0] if tree.root_node.named_children else None
    if node is not None and node.type == "decorated_definition":
        node = node.child_by_field_name("definition")
    body = node.child_by_field_name("body") if node is not None else None
    if body is None:
        return False
    stmts = [c for c in body.named_children if c.type != "comment"]
    if stmts and stmts[0].type == "expression_statement" and stmts[0].named_children \
            and stmts[0].named_children[0].type == "string":
        stmts = stmts[1:]
    call = re.compile(rf"\.\s*{re.escape(s.name)}\s*\(")
    return 0 < len(stmts) <= 2 and any(call.search(st.text.decode("utf-8", "replace")) for st in stmts)


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


class Locator:
    def __init__(self, ws: Workspace, cache_dir: Path | None = None) -> None:
        self.ws = ws
        self.cache_dir = cache_dir
        self._external: dict[str, Workspace | None] = {}

    # ---- candidate scoring ------------------------------------------------------
    def _score(self, s: Symbol, api: ApiRef | None, hint: Hint, impl_short: str, how: str) -> tuple[float, list[str]]:
        score, why = 0.0, []
        if how in ("exact", "resolved"):
            score += 3.0
            why.append("name resolves through the package's exports" if how == "resolved" else "exact name")
        elif how.startswith("inherited"):
            score += 3.0
            why.append(f"defined on a base class ({how})")
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
        if api and api.receiver and owner:
            recv = api.receiver.split(".")[-1]
            if _norm(recv) == _norm(owner):
                score += 2.0
                why.append(f"receiver {recv!r} names class {owner}")
            elif _norm(owner).endswith(_norm(recv)) or _norm(recv).endswith(_norm(owner)):
                score += 0.5
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
        if any(p.startswith("_") and p != "__init__" for p in s.qualname.split(".")):
            score -= 1.0
        if s.kind == "method" and owner:
            cls = self.ws.index.definition(s.module, owner)
            if cls is not None:
                n = len(self.ws.names.subclasses.get((cls.module, cls.qualname), []))
                if n:
                    score += min(1.5, 0.5 * math.log2(1 + n))
                    why.append(f"inherited by {n} subclass(es)")
        fit, fit_why = _keyword_fit(s, api.keywords if api else ())
        if fit_why:
            score += fit
            why.append(fit_why)
        if _delegates(self.ws, s):
            score -= 1.0
            why.append("a thin wrapper that delegates to another implementation")
        return score, why

    def _candidates(self, api: ApiRef | None, impl_short: str) -> list[tuple[Symbol, str]]:
        ws = self.ws
        found: dict[tuple[str, str, int], tuple[int, Symbol, str]] = {}
        order = ("resolved", "exact", "inherited", "dotted suffix", "name")

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
                    cls = next((c for c in ws.index.by_name.get(api.receiver.split(".")[-1], []) if c.kind == "class"), None)
                via_class(cls, api.member)
            elif api.receiver:
                # a variable named after its class: peft_model -> PeftModel, engine -> Engine
                recv = _norm(api.receiver.split(".")[-1])
                for cls in ws.index.symbols:
                    if cls.kind == "class" and _norm(cls.name) == recv and area(cls.file) == "source":
                        via_class(cls, api.member)
            if api.receiver is None and ws.package:
                t = ws.names.resolve(ws.package, api.member)
                if isinstance(t, Symbol):
                    add(t, "resolved")
            for how, s in search_symbols(ws, api.member):
                if api.receiver is not None and s.kind != "method" and not api.receiver_called:
                    continue
                if api.receiver is None and s.kind == "method" and not how.startswith(("resolved", "exact")):
                    continue  # `tokenizer(...)` calls an object, never a method named tokenizer
                add(s, how)
        for how, s in search_symbols(ws, impl_short):
            if how in ("exact", "name", "dotted suffix"):
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
        if package not in self._external:
            ws = None
            try:
                src = installed_source(package)
                if src is not None:
                    ws = Workspace(src, build_index(src, self.cache_dir))
            except UsageError as exc:
                log.warning("cannot index the installed %s (%s)", package, exc)
            self._external[package] = ws
        return self._external[package]

    def _locate_external(self, step: Step, api: ApiRef | None, package: str, reasons: list[str]) -> Location:
        shown = self._external_qualname(api, package)
        loc = Location(step.implementation, "external", shown, None, None, None, 0.9 if api else 0.6,
                       reasons, [], package)
        ext = self.external_workspace(package) if package else None
        if ext is None:
            loc.reasons.append(f"{package or 'the external package'} is not installed here: its source was not checked")
            return loc
        sub = Locator(ext, self.cache_dir)
        inner = sub._best(step, api, Hint(None, None, None, None), step.implementation.split("_", 2)[-1])
        if inner is not None:
            s = inner[0]
            loc.external_location = {"qualname": s.qualname, "module": s.module, "file": s.file,
                                     "start_line": s.start_line, "end_line": s.end_line,
                                     "version": ext.source.version}
            loc.confidence = 0.95
            loc.reasons.append(f"found in the installed {package} {ext.source.version or ''}".rstrip())
        return loc

    @staticmethod
    def _external_qualname(api: ApiRef | None, package: str) -> str | None:
        if api is None:
            return None
        parts = [package] if package else []
        if api.receiver:
            parts.append(api.receiver)
        parts.append(api.member)
        return ".".join(parts)

    # ---- the decision -------------------------------------------------------------
    def _best(self, step: Step, api: ApiRef | None, hint: Hint, impl_short: str):
        scored = []
        for s, how in self._candidates(api, impl_short):
            score, why = self._score(s, api, hint, impl_short, how)
            scored.append((score, s, why))
        scored.sort(key=lambda t: (-t[0], t[1].file, t[1].start_line))
        if not scored:
            return None
        return scored[0][1], scored[0][0], scored[0][2], scored

    def locate(self, step: Step) -> Location:
        ws = self.ws
        repo_packages = ws.names.packages
        api = parse_api(step.api_call) or parse_api(step.guide_api)
        hint = parse_hint(step.source_hint, repo_packages)
        impl_short = step.implementation.removeprefix(f"{ws.source.repo}_")
        external_deps = [d.lower() for d in step.external_deps if d.lower() not in repo_packages]
        ext_package = hint.external or (external_deps[0] if external_deps else "")
        external_signals = []
        if hint.external is not None:
            external_signals.append(f"the hint says external ({step.source_hint})")
        if step.impl_type == "Wrapper Doc":
            external_signals.append("the plan marks it a Wrapper Doc")
        if step.impl_type == "API Doc" and step.external_deps and not external_deps:
            external_signals = []

        best = self._best(step, api, hint, impl_short)
        root_name = (api.receiver if api and api.receiver and _is_classlike(api.receiver) else (api.member if api else None))
        defined_here = bool(root_name) and any(
            s.kind == "class" or s.kind == "function" for s in ws.index.by_name.get(root_name.split(".")[-1], [])
            if area(s.file) == "source")
        if best is None or (external_signals and not defined_here):
            reasons = external_signals or [f"no definition of {root_name or impl_short} in the repository"]
            if best is None and not external_signals and not ext_package:
                return Location(step.implementation, "internal", None, None, None, None, 0.0,
                                reasons + ["no candidate found: needs the excavation agent"])
            return self._locate_external(step, api, ext_package, reasons)
        s, score, why, scored = best
        second = scored[1][0] if len(scored) > 1 else None
        if second is None:
            confidence = 0.95 if score >= 3 else 0.6
        else:
            margin = (score - second) / max(abs(score), 1e-6)
            confidence = max(0.0, min(0.99, 0.45 + 0.5 * margin + (0.15 if score >= 5 else 0.0)))
        if external_signals:
            why = why + [f"{'; '.join(external_signals)}, but {root_name} is defined in the repository"]
        candidates = [{"qualname": c.qualname, "file": c.file, "start_line": c.start_line,
                       "end_line": c.end_line, "score": round(sc, 2)} for sc, c, _ in scored[:5]]
        return Location(step.implementation, "internal", s.qualname, s.file, s.start_line, s.end_line,
                        confidence, why, candidates, symbol=s)
