"""What the drafter knows of a workflow's earlier steps: the walkthrough example of a step and the entry
the user holds there.

For each step 1..k of the step's workflow: its API Call, the imports of the names it uses (the
package's public exports, else the import the repository itself writes), whether it gives a value
and of which class (from the located definition, else the WorkflowIndex's Outputs), and the literal
values the library's own usages pass to it (tools.examples.values). Steps are located with the same
deterministic locator as the pairs; a step that cannot be located still contributes its call text.
"""

from __future__ import annotations

import ast
import re
import threading
from collections.abc import Mapping, Sequence

from tools import pyast
from tools.examples.slicing import Callee, free_names, module_imports, returns_value
from tools.examples.values import Snippet, literal_arguments, snippets
from tools.examples.walkthrough import (
    Walk,
    WalkStep,
    argument_slot,
    head_word,
    holds,
    is_value_name,
    walkthrough,
)
from tools.index.entry import Entry, entry_for
from tools.index.facts import expected_output_type
from tools.index.records import Symbol
from tools.index.workspace import Workspace, symbol_at
from tools.locate import Locator, earlier_types, parse_api
from tools.wiki.workflow_index import Step, WorkflowIndex

_lock = threading.Lock()
_snippets: dict[tuple[str, str, tuple[str, ...]], list[Snippet]] = {}
_CLASS = re.compile(r"\b([A-Z][A-Za-z0-9]*[a-z][A-Za-z0-9]*)\b")


def _members(wi: WorkflowIndex) -> tuple[str, ...]:
    out = {api.member for s in wi.usable_steps if (api := parse_api(s.api_call)) is not None}
    return tuple(sorted(out))


def teaching_snippets(ws: Workspace, wi: WorkflowIndex) -> list[Snippet]:
    """The library's teaching code that calls any API of the WorkflowIndex, once per process."""
    members = _members(wi)
    key = (str(ws.source.root), ws.source.revision or "", members)
    with _lock:
        hit = _snippets.get(key)
        if hit is None:
            hit = _snippets[key] = snippets(ws, [m.encode() for m in members])
        return hit


def workflow_steps(wi: WorkflowIndex, step: Mapping[str, object]) -> list[Step]:
    """Steps 1..k of the step's workflow (usable ones), the step itself last."""
    return [
        s for s in wi.steps if s.workflow == step["workflow"] and s.number <= int(str(step["number"])) and not s.problem
    ]


def _call_key(call: str | None) -> str | None:
    api = parse_api(call)
    if api is None:
        return None
    recv = api.receiver.split(".")[-1] if api.receiver and not api.receiver_called else None
    return f"{recv}.{api.member}" if recv and recv[:1].isupper() else api.member


def _imports(ws: Workspace, names: Sequence[str], own: Mapping[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    repo_imports = module_imports(ws)
    for n in names:
        if n in own:
            out[n] = own[n]
            continue
        for package in ws.names.packages:
            if ws.names.resolve(package, n) is not None:
                out[n] = f"from {package} import {n}"
                break
        else:
            if n in repo_imports:
                out[n] = repo_imports[n]
    return out


def _types(ws: Workspace, sym: Symbol | None, step: Step) -> tuple[str, ...]:
    found: list[str] = []
    if sym is not None:
        if sym.kind == "class" or sym.name == "__init__":
            found.append((sym.parent or sym.name).split(".")[-1] if sym.name == "__init__" else sym.name)
        api = parse_api(step.api_call)
        recv = api.receiver.split(".")[-1] if api and api.receiver else ""
        decos = {d.split("(")[0].split(".")[-1] for d in sym.decorators}
        if "classmethod" in decos and recv[:1].isupper():
            found.append(recv)  # Class.from_pretrained(...) gives a Class
        out = expected_output_type(ws, sym) or ""
        found += [t for t in _CLASS.findall(out) if t not in ("Optional", "Union", "None")]
    found += [t for t in _CLASS.findall(step.outputs or "") if _is_class(ws, t)]
    return tuple(dict.fromkeys(found))


def object_words(ws: Workspace) -> set[str]:
    """Last words of the index's class names that several classes share (model, config, trainer): a
    name ending in one holds an object, which a literal from a usage never stands for."""
    from collections import Counter

    from tools.index.bindings import per_index

    def build(w: Workspace) -> set[str]:
        c = Counter(head_word(s.name) for s in w.index.symbols if s.kind == "class" and not s.name.startswith("_"))
        return {k for k, n in c.items() if n >= 3}

    return per_index(ws, "_walk_object_words", build)


def _is_class(ws: Workspace, name: str) -> bool:
    """A class-looking word of the index's prose that names a class: CamelCase with two capitals
    (PreTrainedModel), or a class the index defines ("Trainer"), not a capitalised word ("The")."""
    return sum(c.isupper() for c in name) >= 2 or any(s.kind == "class" for s in ws.index.by_name.get(name, []))


class StepFacts:
    """Per-step facts for walkthroughs, located once per step."""

    def __init__(self, ws: Workspace, loc: Locator, wi: WorkflowIndex) -> None:
        self.ws, self.loc, self.wi = ws, loc, wi
        self._sym: dict[tuple[str, int], Symbol | None] = {}
        self._plain: dict[tuple[str, int], WalkStep] = {}
        self._lock = threading.Lock()

    def symbol(self, step: Step) -> Symbol | None:
        key = (step.workflow, step.number)
        if key not in self._sym:
            earlier = [s for s in self.wi.steps if s.workflow == step.workflow and s.number < step.number]
            where = self.loc.locate(step, earlier)
            sym = None
            if where.kind == "internal" and where.confident and where.file and where.qualname and where.start_line:
                sym = symbol_at(self.ws, where.file, where.qualname, where.start_line)
            self._sym[key] = sym
        return self._sym[key]

    def producer(self, name: str, workflow: str) -> Step | None:
        """The first step of another workflow whose result is what ``name`` means (a ``model`` from
        a model-loading step) and that needs no object itself: where a walkthrough can start."""
        for s in sorted(self.wi.usable_steps, key=lambda s: s.number):
            if s.workflow == workflow:
                continue
            ws_ = self.walk_step(s, {}, {})
            if not ws_.returns or head_word(name) not in holds(ws_):
                continue
            try:
                needs = free_names(ws_.call)
            except SyntaxError:
                continue
            if all(n in ws_.imports or is_value_name(n) for n in needs):
                return s
        return None

    def walk_step(self, step: Step, own_imports: Mapping[str, str], docs: Mapping[str, str]) -> WalkStep:
        if own_imports or docs:
            return self._walk_step(step, own_imports, docs)
        key = (step.workflow, step.number)
        with self._lock:
            hit = self._plain.get(key)
        if hit is None:
            hit = self._walk_step(step, {}, {})
            with self._lock:
                self._plain[key] = hit
        return hit

    def _walk_step(self, step: Step, own_imports: Mapping[str, str], docs: Mapping[str, str]) -> WalkStep:
        call = (step.api_call or "").strip().strip("`")
        try:
            names = free_names(call)
        except SyntaxError:
            names = []
        sym = self.symbol(step)
        returns = (
            returns_value(self.ws, sym)
            if sym is not None
            else not re.fullmatch(r"\s*(none|—|-|nothing)?\s*\.?", (step.outputs or "").lower())
        )
        key = _call_key(step.api_call)
        values: dict[int | str, str] = {}
        if key is not None:
            wanted = _slots(call, names)
            found = literal_arguments(teaching_snippets(self.ws, self.wi), key, wanted.values())
            objects = object_words(self.ws)
            values = {
                slot: found[slot].text
                for n, slot in wanted.items()
                if slot in found and (is_value_name(n) or head_word(n) not in objects)
            }
        return WalkStep(
            call=call,
            imports=_imports(self.ws, names, own_imports),
            returns=returns,
            types=_types(self.ws, sym, step),
            outputs=step.outputs or "",
            values=values,
            docs=docs,
            inputs=_lower(step.inputs or ""),
            known=sym is not None,
        )


def _lower(text: str) -> str:
    """'A raw dataset' -> 'a raw dataset' (an acronym or a class name keeps its case)."""
    first = text.split(" ", 1)[0]
    return text[:1].lower() + text[1:] if first[:1].isupper() and (len(first) == 1 or first[1:].islower()) else text


def _slots(call: str, names: Sequence[str]) -> dict[str, int | str]:
    """free name -> the argument slot where the call passes it as itself."""
    try:
        tree = pyast.parse(call)
    except (SyntaxError, ValueError):
        return {}
    return {n: slot for n in names if (slot := argument_slot(tree, n)) is not None}


def walk_for(
    facts: StepFacts, steps: Sequence[Step], callee: Callee, import_code: str | None, docs: Mapping[str, str]
) -> Walk | None:
    """The walkthrough up to the last of ``steps`` (the documented step), with the longest tail of
    earlier steps that still makes a self-contained, binding program."""
    own = {}
    if import_code:
        m = re.fullmatch(r"from [\w.]+ import (\w+)", import_code.strip())
        if m:
            own[m.group(1)] = import_code.strip()
    walk_steps = [
        facts.walk_step(s, own if i == len(steps) - 1 else {}, docs if i == len(steps) - 1 else {})
        for i, s in enumerate(steps)
    ]
    walk = _walk(steps, walk_steps, callee)
    objects = [n for n in walk.placeholders if not is_value_name(n)] if walk is not None else []
    if walk is not None and walk.steps == len(steps) and objects:
        # the workflow starts from objects other workflows' first steps make: begin there
        preludes = list({p.workflow: p for n in objects if (p := facts.producer(n, steps[0].workflow))}.values())
        if preludes:
            pre = [facts.walk_step(p, {}, {}) for p in preludes]
            longer = _walk([*preludes, *steps], [*pre, *walk_steps], callee)
            if longer is not None and len(longer.placeholders) < len(walk.placeholders):
                k = len(preludes)
                return longer._replace(steps=len(steps), variables={v: i - k for v, i in longer.variables.items()})
    return walk


def _walk(steps: Sequence[Step], walk_steps: Sequence[WalkStep], callee: Callee) -> Walk | None:
    for start in range(len(walk_steps)):
        w = walkthrough(walk_steps[start:], callee)
        if w is not None:  # variables indexed by the step's place in ``steps``
            return w._replace(steps=len(steps) - start, variables={v: i + start for v, i in w.variables.items()})
    return None


def _receiver(code: str, member: str) -> str | None:
    try:
        tree = pyast.parse(code)
    except (SyntaxError, ValueError):
        return None
    for node in ast.walk(tree):
        f = node.func if isinstance(node, ast.Call) else None
        if isinstance(f, ast.Attribute) and f.attr == member and isinstance(f.value, ast.Name):
            return f.value.id
    return None


def entry_of(facts: StepFacts, sym: Symbol, steps: Sequence[Step], walk: Walk | None = None) -> Entry | None:
    """The class the user holds at the last of ``steps`` when it calls the method ``sym``: the class the
    call names, else the class of the walkthrough's receiver (the step that made it), else what the
    earlier steps return, nearest first."""
    step = steps[-1]
    api = parse_api(step.api_call)
    names: list[str] = []
    if api is not None and api.receiver:
        recv = api.receiver.split(".")[-1]
        if recv[:1].isupper():
            names.append(recv)
    if walk is not None and (var := _receiver(walk.code, sym.name)) in walk.variables:
        i = walk.variables[var]
        if 0 <= i < len(steps) - 1:
            names += list(_types(facts.ws, facts.symbol(steps[i]), steps[i]))
    for s in reversed(steps[:-1]):
        names += list(_types(facts.ws, facts.symbol(s), s))
    names += list(earlier_types(steps[:-1]))
    return entry_for(facts.ws, sym, names)
