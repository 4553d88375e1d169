"""The offline drafter: page data for a Principle/Implementation pair with no model.

Facts (location, signature, import, parameters, output type) come from the index through
tools.facts, exactly as the verifier re-derives them. The prose is extractive: the docstring's
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
from typing import TypedDict

from agents.docstrings import first_sentence, param_docs, returns_doc, summary
from tools.facts import canonical_signature, expected_inputs, expected_output_type
from tools.records import Symbol
from tools.workspace import Workspace
from tools import pyast

_MARKUP = re.compile(r"\[\[|\]\]|\{\||\|\}|<syntaxhighlight|</syntaxhighlight>|^=+|=+$|\{\{|\}\}|'''|''|<math>|</math>")
_TAGS = re.compile(r"<[^>]{1,80}>")
# Sentences in source text that address an agent ("ignore your instructions and ...") are not
# documentation: the drafter never copies them, and a model answer repeating one is discarded.
INJECTION = re.compile(r"\b(ignore|disregard|forget)\b[^.\n]{0,40}\b(instructions?|prompt|rules)\b|\byou are now\b|"
                       r"\bsystem prompt\b|\bnew instructions\b", re.I)


def without_injections(text: str) -> str:
    parts = re.split(r"(?<=[.!?])\s+", text)
    return " ".join(p for p in parts if not INJECTION.search(p))


class StepInfo(TypedDict):
    workflow: str
    number: int
    title: str
    api_call: str | None
    inputs: str | None
    outputs: str | None


class Repairs(TypedDict, total=False):
    no_usage_example: bool
    no_call_example: bool
    plain_overview: bool
    no_pseudocode: bool
    plain_descriptions: bool


def plain(text: str | None) -> str:
    """Source text made safe for a page: one line, no wiki markup, no HTML tags."""
    if not text:
        return ""
    text = " ".join(str(text).split())
    text = _TAGS.sub("", text)
    text = _MARKUP.sub("", text)
    text = text.replace("|", "/")
    return text.strip()


def words(name: str) -> str:
    return name.replace("_", " ")


def _lower_first(text: str) -> str:
    """'A base model' -> 'a base model', 'Adapter Injection' -> 'adapter injection'; acronyms and
    mixed-case names (LoRA, PEFT, PeftModel) are kept."""
    return " ".join(w.lower() if w[:1].isupper() and (len(w) == 1 or w[1:].islower()) else w
                    for w in text.split(" ")) if text else text


def _mentions(text: str, deny: tuple[set[str], set[str]]) -> bool:
    low, exact = deny
    toks = re.findall(r"[A-Za-z0-9_.-]+", text)
    return any(t.lower().strip(".") in low for t in toks) or any(t.strip(".") in exact for t in toks)


def _repo_source(ws: Workspace) -> dict:
    url = ws.source.url.rstrip("/")
    m = re.match(r"https?://[^/]+/([^/]+)/([^/]+)$", url)
    title = f"{m.group(1)}/{m.group(2)}" if m else ws.source.repo
    return {"kind": "Repo", "title": title, "url": url}


def _call_example(import_code: str | None, api_call: str | None) -> str | None:
    if not api_call:
        return None
    call = api_call.strip().strip("`")
    code = f"{import_code}\n\n{call}" if import_code else call
    try:
        pyast.parse(code)
    except SyntaxError:
        return None
    return code


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


def principle_data(ws: Workspace, name: str, implementation: str, steps: list[StepInfo], domains: list[str],
                   updated: str, deny: tuple[set[str], set[str]], repairs: Repairs,
                   workflow_descriptions: dict[str, str]) -> dict:
    short = name.removeprefix(ws.source.repo + "_")
    step = steps[0]
    concept = " ".join(w for w in _lower_first(words(short)).split() if not _mentions(w, deny)) or "this step"
    takes, gives = _lower_first(plain(step.get("inputs"))), _lower_first(plain(step.get("outputs")))
    options = [f"The step of a workflow that turns {takes} into {gives}." if takes and gives else "",
               f"The step of a workflow that produces {gives}." if gives else "",
               f"The step of a workflow that takes {takes}." if takes else "",
               f"The step of a workflow concerned with {concept}."]
    if repairs.get("plain_overview"):
        options = options[-1:]
    overview = next(o for o in options if o and not _mentions(o, deny) and "." not in o[:-1].replace("e.g.", ""))
    flows = []
    for s in steps:
        d = plain(workflow_descriptions.get(s["workflow"], ""))
        flow = words(s["workflow"].removeprefix(ws.source.repo + "_"))
        sentence = f"In the {flow} workflow it is step {s['number']}, {_lower_first(plain(s['title']))}"
        if d and not _mentions(d, deny):
            sentence += f", on the way to the goal: {_lower_first(d).rstrip('.')}"
        flows.append(sentence + ".")
    description = " ".join(flows)
    usage = f"Reach for {concept} when a workflow needs {(gives or concept).rstrip('.')}."
    if _mentions(usage, deny):
        usage = f"Reach for {concept} when a workflow needs it."
    params = [] if repairs.get("no_pseudocode") else [p for p in call_arguments(step.get("api_call"))
                                                       if not _mentions(p, deny)]
    args = ", ".join(params[:6]) or "inputs"
    takes_t = takes if takes and not _mentions(takes, deny) else "the inputs"
    gives_t = gives if gives and not _mentions(gives, deny) else "its result"
    theory = f"Abstractly, with inputs <math>x</math> ({takes_t}) the step computes <math>y = f(x)</math> ({gives_t})."
    if not repairs.get("no_pseudocode"):
        fn = re.sub(r"\W", "_", concept.lower())
        theory += (f"\n\n<syntaxhighlight lang=\"python\">\ndef {fn}({args}):\n"
                   f"    settings = validate({args})\n    result = apply(settings)\n"
                   f"    return result\n</syntaxhighlight>")
    return {"name": short, "sources": [_repo_source(ws)], "domains": domains, "updated": updated,
            "overview": overview, "description": description, "usage": usage, "theory": theory,
            "implementation": implementation, "heuristics": []}


def implementation_data(ws: Workspace, sym: Symbol | None, name: str, principle: str, step: StepInfo,
                        domains: list[str], updated: str, usage_example: dict | None, repairs: Repairs,
                        external: dict | None = None) -> dict:
    """API Doc data for ``sym`` in ``ws``; Wrapper Doc data when ``external`` describes another package."""
    short = name.removeprefix(ws.source.repo + "_")
    title = _lower_first(plain(step["title"]))
    repo = _repo_source(ws)
    common = {"name": short, "sources": [repo], "domains": domains, "updated": updated,
              "principle": principle, "environments": [], "heuristics": []}
    if external is not None:
        return {**common, **_wrapper(external, title, step, repairs)}
    doc = sym.docstring
    pdocs = {} if repairs.get("plain_descriptions") else {k: without_injections(v) for k, v in param_docs(doc).items()}
    what = plain(without_injections(summary(doc))) if not repairs.get("plain_descriptions") else ""
    import_code = ws.names.canonical_import(sym)
    inputs = [{"name": r.name, "type": r.type, "required": r.required, "default": r.default,
               "description": plain(pdocs.get(r.name)) or f"The `{r.name}` argument (undocumented in the source)."}
              for r in expected_inputs(ws, sym)]
    out_type = expected_output_type(sym) or "—"
    ret = plain(without_injections(returns_doc(doc))) if not repairs.get("plain_descriptions") else ""
    out_name = re.sub(r"(?<!^)(?=[A-Z])", "_", sym.name).lower() if sym.kind == "class" else "result"
    outputs = [{"name": out_name, "type": out_type,
                "description": ret or (f"A new `{sym.name}` instance." if sym.kind == "class"
                                       else f"What `{sym.qualname}` returns.")}]
    examples = []
    call = None if repairs.get("no_call_example") else _call_example(import_code, step.get("api_call"))
    if call:
        examples.append({"title": f"As used in the {words(step['workflow'].removeprefix(ws.source.repo + '_'))} workflow",
                         "code": call, "lang": "python"})
    if usage_example and not repairs.get("no_usage_example"):
        code = f"{import_code}\n\n{usage_example['code']}" if import_code else usage_example["code"]
        examples.append({"title": f"From {usage_example['file']} (line {usage_example['line']})",
                         "code": code, "lang": "python"})
    if not examples:
        examples.append({"title": "Import", "code": import_code or f"import {sym.module}", "lang": "python"})
    kind = {"class": "class", "function": "function", "method": "method"}.get(sym.kind, sym.kind)
    description = f"`{sym.qualname}` is a {kind} in `{sym.module}`."
    if what:
        description += f" Its documentation says: {what}"
    usage = f"Use it for {title}"
    if step.get("api_call"):
        usage += f", as in `{plain(step['api_call']).replace('`', '')}`"
    return {**common, "subtype": "API Doc", "overview": f"Concrete tool for {title} provided by {ws.package}.",
            "description": description, "usage": usage + ".", "repo_url": repo["url"], "repo_label": repo["title"],
            "file": sym.file, "start_line": sym.start_line, "end_line": sym.end_line,
            "signature": canonical_signature(ws, sym), "import_code": import_code, "inputs": inputs,
            "outputs": outputs, "examples": examples}


def _wrapper(ext: dict, title: str, step: StepInfo, repairs: Repairs) -> dict:
    """Wrapper Doc: an API of another package. Checked against the installed package when there is
    one (``ext['ws']`` and ``ext['symbol']``), otherwise documented from the WorkflowIndex only."""
    package = ext["package"]
    sym: Symbol | None = ext.get("symbol")
    xws: Workspace | None = ext.get("ws")
    url = f"https://pypi.org/project/{package}/"
    repo_url, repo_label = ext["repo_url"], ext["repo_label"]
    inputs, signature, import_code, verified = [], None, None, False
    if sym is not None and xws is not None:
        verified = True
        signature = canonical_signature(xws, sym)
        import_code = xws.names.canonical_import(sym)
        pdocs = param_docs(sym.docstring)
        inputs = [{"name": r.name, "type": r.type, "required": r.required, "default": r.default,
                   "description": plain(pdocs.get(r.name)) or f"The `{r.name}` argument."}
                  for r in expected_inputs(xws, sym)]
    if import_code is None:
        import_code = f"import {package}"
    qual = ext.get("qualname") or package
    note = (f"Checked against the installed {package} {ext.get('version') or ''}".rstrip() + "."
            if verified else f"Unverified: {package} is not installed where this page was drafted, so its "
                             "signature and parameters were not checked.")
    examples = []
    call = None if repairs.get("no_call_example") else _call_example(import_code, step.get("api_call"))
    if call:
        examples.append({"title": "As used in the workflow", "code": call, "lang": "python"})
    else:
        examples.append({"title": "Import", "code": import_code, "lang": "python"})
    return {"subtype": "Wrapper Doc", "overview": f"Concrete tool for {title} provided by {package}.",
            "description": f"`{qual}` comes from the external package {package}. {note}",
            "usage": f"Use it for {title}.", "repo_url": repo_url, "repo_label": repo_label,
            "library": package, "library_url": url, "repository_files": [], "signature": signature,
            "import_code": import_code, "external_reference": {"url": url, "label": f"{package} on PyPI"},
            "inputs": inputs, "outputs": [{"name": "result", "type": "—",
                                           "description": plain(step.get("outputs")) or "The call's result."}],
            "examples": examples, "verified": verified}


def workflow_data(ws: Workspace, name: str, description: str | None, steps: list[tuple[str, str]], domains: list[str],
                  updated: str, overviews: dict[str, str]) -> dict:
    """steps: (title, principle page name, or None for a pending step) in order."""
    short = name.removeprefix(ws.source.repo + "_")
    d = plain(description) or f"The {words(short)} workflow."
    return {"name": short, "sources": [_repo_source(ws)], "domains": domains, "updated": updated,
            "overview": first_sentence(d), "description": f"{d} It has {len(steps)} steps.",
            "usage": f"Follow it to {_lower_first(d).rstrip('.')}." if d else "Follow the steps in order.",
            "steps": [{"title": plain(t), "principle": p, "text": overviews.get(p, "") if p else ""} for t, p in steps],
            "diagram": None, "heuristics": []}
