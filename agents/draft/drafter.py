"""The offline drafter: page data for a Principle/Implementation pair with no model.

Facts (location, signature, import, parameters, output type) come from the index through
tools.index.facts, exactly as the verifier re-derives them. The prose is extractive: the docstring's
summary and parameter descriptions, the WorkflowIndex's own words (step title, inputs, outputs,
API call), and one real usage found in the repository. Nothing is invented; where the source says
nothing the page says so plainly. Text taken from the source is data: it is flattened to one line
and stripped of wiki markup before it reaches a page.

Repairs: given the verifier's findings, the drafter drops what a rule rejected (the repository
usage example, a sentence naming the library, the pseudocode) and drafts again.
"""

from __future__ import annotations

import re
from typing import NamedTuple, overload

from tools.index.docstrings import first_sentence, summary
from agents.draft.principle_prose import call_arguments as call_arguments  # re-exported
from agents.draft.text import INJECTION as INJECTION, lower_first, plain as plain, without_injections, words
from tools.index.io_rows import output_rows
from tools.index.param_docs import bare_text, documented_params, param_description
from tools.index.param_use import fallback_note, use_note
from agents.draft import principle_prose as prose
from agents.draft.evidence import Usage
from agents.draft.page_data import (
    ApiDocData,
    Example,
    ExternalFacts,
    ImplementationCommon,
    ImplementationData,
    InputParam,
    OutputValue,
    PrincipleData,
    SourceRef,
    WorkflowData,
    WrapperDocData,
    WrapperDocFields,
)
from tools.errors import ToolError
from tools.examples.slicing import (
    Callee,
    call_text_example,
    callee_for,
    calls_bind,
    minimal_example,
    module_imports,
    slice_usage,
)
from tools.index.facts import canonical_signature, expected_inputs
from tools.index.records import Symbol
from agents.draft.walk import StepFacts, entry_of, walk_for
from agents.state import Repairs, StepInfo
from tools.examples.walkthrough import Walk
from tools.index.entry import Entry
from tools.wiki.workflow_index import Step
from tools.index.workspace import Workspace
from tools.sentences import terminated


# what the drafter knows of the step's workflow: the facts of every step, and steps 1..k (this one last)
WalkContext = tuple[StepFacts, list[Step]]


def _walk_title(repo: str, steps: list[Step], walk: Walk) -> str:
    """'Adapter Inference, steps 1–4': which part of which workflow the example walks."""
    first = steps[max(0, len(steps) - walk.steps)].number
    last = steps[-1].number
    flow = words(steps[-1].workflow.removeprefix(repo + "_"))
    return f"{flow}, step {last}" if first == last else f"{flow}, steps {first}–{last}"


def _entry_sentence(entry: Entry | None, sym: Symbol) -> str:
    """How the class the user holds reaches the documented definition."""
    if entry is None:
        return ""
    owner = (sym.parent or "").split(".")[-1]
    if entry.how == "mro":
        return f" `{entry.cls.name}.{sym.name}` is inherited from `{owner}`, where it is defined."
    return (
        f" `{entry.cls.name}` does not define `{sym.name}` itself: its `__getattr__` forwards the call to "
        f"`self.{entry.via}`, where `{owner}.{sym.name}` runs."
    )


def _repo_source(ws: Workspace) -> SourceRef:
    url = ws.source.url.rstrip("/")
    m = re.match(r"https?://[^/]+/([^/]+)/([^/]+)$", url)
    title = f"{m.group(1)}/{m.group(2)}" if m else ws.source.repo
    return {"kind": "Repo", "title": title, "url": url}


def _call_example(ws: Workspace, callee: Callee, api_call: str | None) -> str | None:
    """The WorkflowIndex's API Call text, self-contained (imports it uses, placeholders for the rest),
    or None when it cannot be (not Python, or a documented call that does not bind)."""
    return call_text_example(api_call, callee, module_imports(ws))


def _usage_code(ws: Workspace, usage: Usage, callee: Callee) -> str | None:
    """The usage sliced again knowing the documented symbol (its parameters name the placeholders,
    its value is assigned, its calls must bind); None when that slice fails, the scan's own when the
    file cannot be read again."""
    try:
        text = ws.source.physical(usage["file"]).read_text(encoding="utf-8", errors="replace")
    except (OSError, ToolError):
        code = usage.get("code")
        return code if code and calls_bind(code, callee) else None
    return slice_usage(text, usage["line"], callee)


def concept_context(principle: str, repo: str) -> tuple[str, ...]:
    """The Principle's name as words a callee's name may share (``Weight_Merging`` → Weight, Merging): the
    same for both pages of a pair, so both follow the same chain."""
    return tuple(w for w in principle.removeprefix(repo + "_").split("_") if w)


def principle_data(
    ws: Workspace,
    name: str,
    implementation: str,
    steps: list[StepInfo],
    domains: list[str],
    updated: str,
    deny: tuple[set[str], set[str]],
    repairs: Repairs,
    sym: Symbol | None = None,
    sym_ws: Workspace | None = None,
    titles: dict[tuple[str, int], str] | None = None,
) -> PrincipleData:
    """Principle data from what is known about the step: the docstrings and the body of its API ``sym``
    (found in ``sym_ws``, the repository's workspace unless the API is another package's), and the
    WorkflowIndex's words for the step and its neighbours (``titles`` by (workflow, number))."""
    short = name.removeprefix(ws.source.repo + "_")
    said = [prose.step_words(ws.source.repo, s, titles or {}) for s in steps]
    external = sym_ws is not None and sym_ws.source.root != ws.source.root
    api = (
        prose.api_facts(sym_ws or ws, sym, steps[0].get("api_call"), concept_context(name, ws.source.repo), external)
        if sym is not None
        else None
    )
    shared = sym is not None and prose.api_context(implementation.removeprefix(ws.source.repo + "_"), sym) is not None
    overview = prose.principle_overview(
        prose.concept(short, deny), api, said, deny, shared, bool(repairs.get("plain_overview"))
    )
    return {
        "name": short,
        "sources": [_repo_source(ws)],
        "domains": domains,
        "updated": updated,
        "overview": overview,
        "description": prose.principle_description(api, said),
        "usage": prose.principle_usage(api, said),
        "theory": prose.principle_theory(api, said, deny),
        "implementation": implementation,
        "heuristics": [],
    }


@overload
def implementation_data(
    ws: Workspace,
    sym: Symbol,
    name: str,
    principle: str,
    step: StepInfo,
    domains: list[str],
    updated: str,
    usage_example: Usage | None,
    repairs: Repairs,
    external: None = None,
    walk_ctx: WalkContext | None = None,
    titles: dict[tuple[str, int], str] | None = None,
) -> ApiDocData: ...


@overload
def implementation_data(
    ws: Workspace,
    sym: None,
    name: str,
    principle: str,
    step: StepInfo,
    domains: list[str],
    updated: str,
    usage_example: None,
    repairs: Repairs,
    external: ExternalFacts,
    walk_ctx: WalkContext | None = None,
    titles: dict[tuple[str, int], str] | None = None,
) -> WrapperDocData: ...


def implementation_data(
    ws: Workspace,
    sym: Symbol | None,
    name: str,
    principle: str,
    step: StepInfo,
    domains: list[str],
    updated: str,
    usage_example: Usage | None,
    repairs: Repairs,
    external: ExternalFacts | None = None,
    walk_ctx: WalkContext | None = None,
    titles: dict[tuple[str, int], str] | None = None,
) -> ImplementationData:
    """API Doc data for ``sym`` in ``ws``; Wrapper Doc data when ``external`` describes another package.
    With ``walk_ctx`` (the step facts and steps 1..k of the step's workflow), the first example walks the
    workflow up to this step and a method is imported through the entry the user holds. ``titles``: the
    WorkflowIndex's step titles by (workflow, number), for the neighbouring steps the prose names."""
    short = name.removeprefix(ws.source.repo + "_")
    title = lower_first(plain(step["title"]))
    repo = _repo_source(ws)
    common: ImplementationCommon = {
        "name": short,
        "sources": [repo],
        "domains": domains,
        "updated": updated,
        "principle": principle,
        "environments": [],
        "heuristics": [],
    }
    if external is not None:
        return {**common, **_wrapper(external, title, step, repairs, ws, walk_ctx, principle, titles or {})}
    if sym is None:  # ruled out by the overloads: an API Doc documents a definition of the index
        raise TypeError("implementation_data needs the documented symbol, or the external facts of a Wrapper Doc")
    doc = sym.docstring
    # a repair after markup rules failed keeps the source's words, never drops them (R48)
    pdocs = {
        k: param_description(without_injections(v), bare=bool(repairs.get("plain_descriptions")))
        for k, v in documented_params(ws, sym).items()
    }
    what = plain(without_injections(summary(doc))) if not repairs.get("plain_descriptions") else ""
    import_code = ws.names.canonical_import(sym)
    entry = entry_of(walk_ctx[0], sym, walk_ctx[1]) if walk_ctx and sym.parent else None
    if entry is not None:
        import_code = entry.import_code
    inputs = _inputs(ws, sym, pdocs)
    outputs = _outputs(ws, sym, bool(repairs.get("plain_descriptions")))
    examples: list[Example] = []
    docs = {k: plain(v) for k, v in pdocs.items()}
    callee = callee_for(ws, sym, import_code or f"import {sym.module}", docs)
    walk = None
    if walk_ctx is not None and not repairs.get("no_call_example"):
        walk = walk_for(walk_ctx[0], walk_ctx[1], callee, import_code, docs)
        if walk is not None and sym.parent and (better := entry_of(walk_ctx[0], sym, walk_ctx[1], walk)) != entry:
            entry = better  # the class of the object the walkthrough really calls the method on
            import_code = entry.import_code if entry is not None else ws.names.canonical_import(sym)
    if walk is not None and walk_ctx is not None:
        examples.append({"title": _walk_title(ws.source.repo, walk_ctx[1], walk), "code": walk.code, "lang": "python"})
    call = (
        None if repairs.get("no_call_example") or walk is not None else _call_example(ws, callee, step.get("api_call"))
    )
    if call:
        examples.append(
            {
                "title": f"As used in the {words(step['workflow'].removeprefix(ws.source.repo + '_'))} workflow",
                "code": call,
                "lang": "python",
            }
        )
    code = _usage_code(ws, usage_example, callee) if usage_example and not repairs.get("no_usage_example") else None
    if (
        code and usage_example is not None and code not in (e["code"] for e in examples)
    ):  # a slice is only made of a usage
        examples.append(
            {"title": f"From {usage_example['file']} (line {usage_example['line']})", "code": code, "lang": "python"}
        )
    elif not examples and (minimal := minimal_example(callee)) not in (e["code"] for e in examples):
        # no usage in the repository: a call that binds by construction
        examples.append({"title": "A call with the required arguments", "code": minimal, "lang": "python"})
    api = prose.api_facts(ws, sym, step.get("api_call"), concept_context(principle, ws.source.repo))
    said = prose.step_words(ws.source.repo, step, titles or {})
    context = prose.api_context(short, sym)
    return {
        **common,
        "subtype": "API Doc",
        "overview": prose.implementation_overview(ws.package, api, said, (set(), set()), context),
        "description": prose.implementation_description(api, what, context, said.arguments)
        + _entry_sentence(entry, sym),
        "usage": prose.implementation_usage(step.get("api_call"), said, api),
        "repo_url": repo["url"],
        "repo_label": repo["title"],
        "file": sym.file,
        "start_line": sym.start_line,
        "end_line": sym.end_line,
        "signature": canonical_signature(ws, sym),
        "import_code": import_code,
        "inputs": inputs,
        "outputs": outputs,
        "examples": examples,
    }


def _inputs(ws: Workspace, sym: Symbol, pdocs: dict[str, str]) -> list[InputParam]:
    """Inputs rows: the source's description of each parameter, with the value the body puts in place of
    ``None``; for a parameter the source does not describe, what the body does with it (R48: never a
    claim that it is undocumented when the source documents it)."""
    rows: list[InputParam] = []
    for r in expected_inputs(ws, sym):
        said = plain(pdocs.get(r.name))
        use = "" if said else plain(use_note(ws, sym, r.name))
        note = plain(fallback_note(ws, sym, r.name, r.default))
        text = " ".join(t for t in (said, note, use) if t)
        rows.append({"name": r.name, "type": r.type, "required": r.required, "default": r.default, "description": text})
    return rows


def _outputs(ws: Workspace, sym: Symbol, bare: bool) -> list[OutputValue]:
    """Outputs rows from the source (tools.index.io_rows): the result with its derived type, then what the
    call leaves behind. A repair after markup rules failed keeps the words without their markup."""
    return [
        {
            "name": r.name,
            "type": r.type,
            "description": plain(without_injections(bare_text(r.description) if bare else r.description)),
        }
        for r in output_rows(ws, sym)
    ]


def _workflow_use(title: str, step: StepInfo, package: str, qual: str) -> str:
    """What the WorkflowIndex says this step does with another package's API, in its own words."""
    takes, gives = (
        lower_first(plain(step.get("inputs"))).rstrip("."),
        lower_first(plain(step.get("outputs"))).rstrip("."),
    )
    head = (
        f"{title[:1].upper() + title[1:]} uses `{qual}` from {package}" if title else f"`{qual}` comes from {package}"
    )
    if takes and gives:
        return terminated(f"{head}: it takes {takes} and gives {gives}")
    if gives:
        return terminated(f"{head}: it gives {gives}")
    return terminated(head)


def _wrapper(
    ext: ExternalFacts,
    title: str,
    step: StepInfo,
    repairs: Repairs,
    ws: Workspace,
    walk_ctx: WalkContext | None,
    principle: str,
    titles: dict[tuple[str, int], str],
) -> WrapperDocFields:
    """Wrapper Doc: an API of another package. Checked against the installed package when there is
    one (``ext['ws']`` and ``ext['symbol']``), otherwise documented from the WorkflowIndex only."""
    package = ext["package"]
    sym: Symbol | None = ext.get("symbol")
    xws: Workspace | None = ext.get("ws")
    url = f"https://pypi.org/project/{package}/"
    repo_url, repo_label = ext["repo_url"], ext["repo_label"]
    inputs: list[InputParam] = []
    signature: str | None = None
    import_code: str | None = None
    verified = False
    if sym is not None and xws is not None:
        verified = True
        signature = canonical_signature(xws, sym)
        import_code = xws.names.canonical_import(sym)
        pdocs = {
            k: param_description(without_injections(v), bare=bool(repairs.get("plain_descriptions")))
            for k, v in documented_params(xws, sym).items()
        }
        inputs = _inputs(xws, sym, pdocs)
    if import_code is None:
        import_code = f"import {package}"
    qual = ext.get("qualname") or package
    version = ext.get("version") if verified else None
    examples: list[Example] = []
    # "verified" spelled out where the type checker must see both known
    callee = (
        callee_for(xws, sym, import_code)
        if xws is not None and sym is not None
        else Callee(qual.split(".")[-1], import_code=import_code)
    )
    walk = (
        walk_for(walk_ctx[0], walk_ctx[1], callee, None, {})
        if walk_ctx is not None and not repairs.get("no_call_example")
        else None
    )
    if walk is not None and walk_ctx is not None:
        examples.append({"title": _walk_title(ws.source.repo, walk_ctx[1], walk), "code": walk.code, "lang": "python"})
    call = None if repairs.get("no_call_example") or walk else _call_example(ws, callee, step.get("api_call"))
    if call:
        examples.append({"title": "As used in the workflow", "code": call, "lang": "python"})
    elif verified and not examples:
        examples.append(
            {"title": "A call with the required arguments", "code": minimal_example(callee), "lang": "python"}
        )
    elif not examples:  # nothing checked to call it with: where its documentation is, which uses the import
        examples.append({"title": "Import", "code": _external_help(ws, package, qual), "lang": "python"})
    api = (
        prose.api_facts(xws, sym, step.get("api_call"), concept_context(principle, ws.source.repo), external=True)
        if xws is not None and sym is not None
        else None
    )
    said = prose.step_words(ws.source.repo, step, titles)
    what = (
        plain(without_injections(summary(sym.docstring)))
        if sym is not None and verified and not repairs.get("plain_descriptions")
        else ""
    )
    return {
        "subtype": "Wrapper Doc",
        "overview": prose.implementation_overview(package, api, said, (set(), set()), qualname=qual),
        "description": " ".join(
            x
            for x in (
                _workflow_use(title, step, package + (f" {version}" if version else ""), qual),
                terminated(what) if what else "",
            )
            if x
        ),
        "usage": prose.implementation_usage(step.get("api_call"), said, api),
        "repo_url": repo_url,
        "repo_label": repo_label,
        "library": package,
        "library_url": url,
        "repository_files": [],
        "signature": signature,
        "import_code": import_code,
        "external_reference": {"url": url, "label": f"{package} on PyPI"},
        "inputs": inputs,
        "outputs": _outputs(xws, sym, bool(repairs.get("plain_descriptions")))
        if xws is not None and sym is not None
        else _step_outputs(step),
        "examples": examples,
        "verified": verified,
    }


def _step_outputs(step: StepInfo) -> list[OutputValue]:
    """An unchecked API's result as the WorkflowIndex states it; no row when it states nothing (a row
    saying only that the call returns something tells the reader nothing)."""
    said = plain(step.get("outputs"))
    return [{"name": "result", "type": "—", "description": said}] if said else []


def _external_help(ws: Workspace, package: str, qual: str) -> str:
    """``help(X.y)`` for an API of another package, imported as the repository imports ``X``."""
    parts = qual.split(".")
    rest = parts[1:] if parts[0] == package else parts
    line = module_imports(ws).get(rest[0]) if rest else None
    if line and re.fullmatch(rf"from {re.escape(package)}(\.\w+)* import {re.escape(rest[0])}", line):
        return f"{line}\n\nhelp({'.'.join(rest)})"
    return f"import {package}\n\nhelp({package})"


class FlowStep(NamedTuple):
    """A step as the Workflow page tells it: its title, its Principle page (None while pending) and the
    WorkflowIndex's words for what it takes and gives."""

    title: str
    principle: str | None
    inputs: str | None = None
    outputs: str | None = None


def _step_text(overview: str, step: FlowStep, prev: FlowStep | None, nxt: FlowStep | None) -> str:
    """What a step does (its Principle's Overview) and, in the same sentence, what it hands to the next
    one, in the WorkflowIndex's words: a Principle used by several workflows reads differently in each."""
    gives = lower_first(plain(step.outputs)).rstrip(".")
    if nxt is not None and gives:
        tail = f"it hands {gives} to {lower_first(plain(nxt.title))}"
    elif gives:
        tail = f"the workflow ends with {gives}"
    elif prev is not None:
        tail = f"it follows {lower_first(plain(prev.title))}"
    elif nxt is not None:
        tail = f"{lower_first(plain(nxt.title))} comes next"
    else:
        tail = ""
    if not overview:
        return terminated(tail[:1].upper() + tail[1:]) if tail else ""
    return terminated(f"{overview.rstrip('.')}; {tail}") if tail else overview


def workflow_data(
    ws: Workspace,
    name: str,
    description: str | None,
    steps: list[FlowStep],
    domains: list[str],
    updated: str,
    overviews: dict[str, str],
) -> WorkflowData:
    """The Workflow page as a tutorial: what the workflow achieves, where it starts and ends, and per step
    what the step does (its Principle's Overview) and what it hands to the next."""
    short = name.removeprefix(ws.source.repo + "_")
    d = plain(description)
    titles = [lower_first(plain(s.title)) for s in steps]
    start = lower_first(plain(steps[0].inputs)).rstrip(".") if steps else ""
    end = lower_first(plain(steps[-1].outputs)).rstrip(".") if steps else ""
    route = terminated(f"It goes through {', '.join(titles[:-1])} and {titles[-1]}") if len(titles) > 1 else ""
    ends = (
        terminated(f"It starts from {start} and ends with {end}")
        if start and end
        else terminated(f"It ends with {end}")
        if end
        else ""
    )
    overview = (
        first_sentence(d)
        if d
        else terminated(f"The {words(short)} workflow goes from {start} to {end}")
        if start and end
        else terminated(f"The {words(short)} workflow runs {titles[0]} through {titles[-1]}")
    )
    usage = (
        terminated(f"Choose it when you hold {start} and want {end}")
        if start and end
        else terminated(f"Choose it when the goal is {end}")
        if end
        else terminated(f"It begins with {titles[0]} and finishes with {titles[-1]}")
    )
    text = [  # a pending step has its marker only (R18): nothing is documented about it yet
        _step_text(overviews.get(s.principle, ""), s, prev, nxt) if s.principle else ""
        for s, prev, nxt in zip(steps, [None, *steps[:-1]], [*steps[1:], None])
    ]
    return {
        "name": short,
        "sources": [_repo_source(ws)],
        "domains": domains,
        "updated": updated,
        "overview": overview,
        # the Overview is the description's first sentence: the Description goes on from there
        "description": " ".join(x for x in (d.removeprefix(overview).strip() if d else "", route, ends) if x)
        or overview,
        "usage": usage,
        "steps": [{"title": plain(s.title), "principle": s.principle, "text": t} for s, t in zip(steps, text)],
        "diagram": None,
        "heuristics": [],
    }
