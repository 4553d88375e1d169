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

import ast
import re
from typing import overload

from tools.index.docstrings import first_sentence, summary, without_tags
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
from agents.state import Repairs, StepInfo
from tools.index.workspace import Workspace
from tools.sentences import sentences
from tools import pyast

_MARKUP = re.compile(r"\[\[|\]\]|\{\||\|\}|<syntaxhighlight|</syntaxhighlight>|^=+|=+$|\{\{|\}\}|'''|''|<math>|</math>")
# Sentences in source text that address an agent ("ignore your instructions and ...") are not
# documentation: the drafter never copies them, and a model answer repeating one is discarded.
INJECTION = re.compile(
    r"\b(ignore|disregard|forget)\b[^.\n]{0,40}\b(instructions?|prompt|rules)\b|\byou are now\b|"
    r"\bsystem prompt\b|\bnew instructions\b",
    re.I,
)


def without_injections(text: str) -> str:
    return " ".join(s for s in sentences(text) if not INJECTION.search(s))


def plain(text: str | None) -> str:
    """Source text made safe for a page: one line, no wiki markup, no HTML tags."""
    if not text:
        return ""
    text = " ".join(str(text).split())
    text = without_tags(text)  # placeholders such as `torch.<device>.empty_cache()` are not tags
    text = _MARKUP.sub("", text)
    text = text.replace("|", "/")
    return text.strip()


def words(name: str) -> str:
    return name.replace("_", " ")


def _lower_first(text: str) -> str:
    """'A base model' -> 'a base model', 'Adapter Injection' -> 'adapter injection'; acronyms and
    mixed-case names (LoRA, PEFT, PeftModel) are kept."""
    return (
        " ".join(w.lower() if w[:1].isupper() and (len(w) == 1 or w[1:].islower()) else w for w in text.split(" "))
        if text
        else text
    )


def _mentions(text: str, deny: tuple[set[str], set[str]]) -> bool:
    low, exact = deny
    toks = re.findall(r"[A-Za-z0-9_.-]+", text)
    return any(t.lower().strip(".") in low for t in toks) or any(t.strip(".") in exact for t in toks)


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


def call_arguments(api_call: str | None) -> list[str]:
    """The names a call passes: positional variables, then keyword names (`f(model, r=8)` → model, r)."""
    try:
        node = pyast.parse((api_call or "").strip().strip("`"), mode="eval").body
    except SyntaxError:
        return []
    while isinstance(node, ast.Attribute) and isinstance(node.value, ast.Call):
        node = node.value  # Trainer(...).train(): the constructor's arguments
    if not isinstance(node, ast.Call):
        return []
    names = [a.id for a in node.args if isinstance(a, ast.Name)]
    names += [k.arg for k in node.keywords if k.arg]
    return list(dict.fromkeys(n for n in names if n.isidentifier()))


def principle_data(
    ws: Workspace,
    name: str,
    implementation: str,
    steps: list[StepInfo],
    domains: list[str],
    updated: str,
    deny: tuple[set[str], set[str]],
    repairs: Repairs,
    workflow_descriptions: dict[str, str],
    sym: Symbol | None = None,
    sym_ws: Workspace | None = None,
    titles: dict[tuple[str, int], str] | None = None,
) -> PrincipleData:
    """Principle data from what is known about the step: the docstrings and the body of its API ``sym``
    (found in ``sym_ws``, the repository's workspace unless the API is another package's), and the
    WorkflowIndex's words for the step and its neighbours (``titles`` by (workflow, number))."""
    short = name.removeprefix(ws.source.repo + "_")
    said = [prose.step_words(ws.source.repo, s, titles or {}) for s in steps]
    api = prose.api_facts(sym_ws or ws, sym, deny, steps[0].get("api_call")) if sym is not None else None
    shared = sym is not None and prose.api_context(implementation.removeprefix(ws.source.repo + "_"), sym) is not None
    overview = prose.principle_overview(
        prose.concept(short, deny), api, said, deny, shared, bool(repairs.get("plain_overview"))
    )
    goals = {s["workflow"]: plain(workflow_descriptions.get(s["workflow"], "")) for s in steps}
    return {
        "name": short,
        "sources": [_repo_source(ws)],
        "domains": domains,
        "updated": updated,
        "overview": overview,
        "description": prose.principle_description(api, said, goals),
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
) -> ImplementationData:
    """API Doc data for ``sym`` in ``ws``; Wrapper Doc data when ``external`` describes another package."""
    short = name.removeprefix(ws.source.repo + "_")
    title = _lower_first(plain(step["title"]))
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
        return {**common, **_wrapper(external, title, step, repairs, ws)}
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
    inputs = _inputs(ws, sym, pdocs)
    outputs = _outputs(ws, sym, bool(repairs.get("plain_descriptions")))
    examples: list[Example] = []
    callee = callee_for(ws, sym, import_code or f"import {sym.module}", {k: plain(v) for k, v in pdocs.items()})
    call = None if repairs.get("no_call_example") else _call_example(ws, callee, step.get("api_call"))
    if call:
        examples.append(
            {
                "title": f"As used in the {words(step['workflow'].removeprefix(ws.source.repo + '_'))} workflow",
                "code": call,
                "lang": "python",
            }
        )
    code = _usage_code(ws, usage_example, callee) if usage_example and not repairs.get("no_usage_example") else None
    if code and usage_example is not None:  # a slice is only made of a usage
        examples.append(
            {"title": f"From {usage_example['file']} (line {usage_example['line']})", "code": code, "lang": "python"}
        )
    elif (minimal := minimal_example(callee)) not in (e["code"] for e in examples):
        # no usage in the repository: a call that binds by construction
        examples.append({"title": "A call with the required arguments", "code": minimal, "lang": "python"})
    api = prose.api_facts(ws, sym, (set(), set()), step.get("api_call"))
    said = prose.step_words(ws.source.repo, step, {})
    context = prose.api_context(short, sym)
    return {
        **common,
        "subtype": "API Doc",
        "overview": prose.implementation_overview(ws.package, api, said, (set(), set()), context),
        "description": prose.implementation_description(api, what, context),
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


def _workflow_use(title: str, step: StepInfo) -> str:
    """What the WorkflowIndex says this step does with the API: its own words, so that Wrapper Docs of
    one uninstalled package do not read alike (R49)."""
    takes, gives = plain(step.get("inputs")), plain(step.get("outputs"))
    if takes and gives:
        return (
            f" In the workflow it is used for {title}: it takes {_lower_first(takes).rstrip('.')} and gives "
            f"{_lower_first(gives).rstrip('.')}."
        )
    return f" In the workflow it is used for {title}." if title else ""


def _wrapper(ext: ExternalFacts, title: str, step: StepInfo, repairs: Repairs, ws: Workspace) -> WrapperDocFields:
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
    note = (
        f"Checked against the installed {package} {ext.get('version') or ''}".rstrip() + "."
        if verified
        else f"Unverified: {package} is not installed where this page was drafted, so its "
        "signature and parameters were not checked."
    )
    examples: list[Example] = []
    # "verified" spelled out where the type checker must see both known
    callee = (
        callee_for(xws, sym, import_code)
        if xws is not None and sym is not None
        else Callee(qual.split(".")[-1], import_code=import_code)
    )
    call = None if repairs.get("no_call_example") else _call_example(ws, callee, step.get("api_call"))
    if call:
        examples.append({"title": "As used in the workflow", "code": call, "lang": "python"})
    elif verified:
        examples.append(
            {"title": "A call with the required arguments", "code": minimal_example(callee), "lang": "python"}
        )
    else:  # nothing checked to call it with: where its documentation is, which uses the import
        examples.append({"title": "Import", "code": _external_help(ws, package, qual), "lang": "python"})
    api = (
        prose.api_facts(xws, sym, (set(), set()), step.get("api_call")) if xws is not None and sym is not None else None
    )
    said = prose.step_words(ws.source.repo, step, {})
    what = (
        plain(without_injections(summary(sym.docstring)))
        if sym is not None and verified and not repairs.get("plain_descriptions")
        else ""
    )
    return {
        "subtype": "Wrapper Doc",
        "overview": prose.implementation_overview(package, api, said, (set(), set())),
        "description": f"`{qual}` comes from the external package {package}. {note}"
        + (f" {what}" if what else "")
        + _workflow_use(title, step),
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


def workflow_data(
    ws: Workspace,
    name: str,
    description: str | None,
    steps: list[tuple[str, str | None]],
    domains: list[str],
    updated: str,
    overviews: dict[str, str],
) -> WorkflowData:
    """steps: (title, principle page name, or None for a pending step) in order."""
    short = name.removeprefix(ws.source.repo + "_")
    d = plain(description) or f"The {words(short)} workflow."
    return {
        "name": short,
        "sources": [_repo_source(ws)],
        "domains": domains,
        "updated": updated,
        "overview": first_sentence(d),
        "description": f"{d} It has {len(steps)} steps.",
        "usage": f"Follow it to {_lower_first(d).rstrip('.')}." if d else "Follow the steps in order.",
        "steps": [{"title": plain(t), "principle": p, "text": overviews.get(p, "") if p else ""} for t, p in steps],
        "diagram": None,
        "heuristics": [],
    }
