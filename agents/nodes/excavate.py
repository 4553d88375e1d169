"""The excavate node: find the code a step documents and gather what the synthesis needs.

The deterministic locator decides when it is confident. When it is not, and a model is configured,
the excavation agent searches with the navigation tools in a bounded loop; its answer must name a
definition that exists in the index (it is told otherwise and may search again). Offline, or when
the agent gives up, the step is held with the reason.
"""

from __future__ import annotations

import threading
from pathlib import Path

from agents.draft.evidence import Usage as UsageExample
from agents.draft.evidence import find_usages
from agents.model.llm import LLM, BudgetExceeded, Message, ModelOutputError, Usage, door
from agents.runctx import RunConfig, locator, traced, workflow_index, workspace
from agents.state import PairJob, PairState
from tools.index.records import Symbol
from tools.locate import CONFIDENT, Location, LocationRecord
from tools.wiki.workflow_index import Step


def find_step(cfg: RunConfig, workflow: str, number: int) -> Step:
    wi, _ = workflow_index(cfg)
    return next(s for s in wi.steps if s.workflow == workflow and s.number == number)


_keys_lock = threading.Lock()
_keys: dict[str, set[str]] = {}


def usage_keys(cfg: RunConfig) -> set[str]:
    """The usage keys of every pair of the run (one pass over examples and docs serves them all),
    derived from the run's WorkflowIndex once per process rather than carried in each pair's state:
    a copy per pair made the checkpoint grow with the square of the pairs."""
    from agents.nodes.plan import plan_pairs

    with _keys_lock:
        if cfg["run_dir"] not in _keys:
            jobs, _ = plan_pairs(workflow_index(cfg)[0])
            _keys[cfg["run_dir"]] = {j["usage_key"] for j in jobs if j["usage_key"]}
        return _keys[cfg["run_dir"]]


MAX_TURNS = 8
NAV_TOOLS = ("find_symbol", "outline", "read_symbol", "read_lines", "search_text", "find_usages", "list_dir")
ANSWER = {
    "type": "function",
    "function": {
        "name": "answer",
        "description": "Give the definition that implements the step.",
        "parameters": {
            "type": "object",
            "required": ["qualname", "file"],
            "properties": {
                "qualname": {"type": "string", "description": "Class.method or function name, as defined"},
                "file": {"type": "string", "description": "repository-relative path of the file that defines it"},
                "reason": {"type": "string", "description": "one sentence: why this definition"},
            },
        },
    },
}


def answer_doubts(cfg: RunConfig, sym: Symbol, loc: Location, step: Step) -> list[str]:
    """The locator's doubts about the agent's answer, as it would have them about its own: the
    answer is held to the same evidence (the called name, the hinted file, where the code lives)."""
    from tools.index.bindings import runtime_bindings
    from tools.locate import parse_api, parse_hint

    ws = workspace(cfg)
    api = parse_api(step.api_call) or parse_api(step.guide_api)
    hint = parse_hint(step.source_hint, ws.names.packages)
    how = "agent answer"
    if api is not None and any(b.function == sym for b in runtime_bindings(ws).get(api.member, [])):
        how = f"bound at run time as .{api.member}"
    elif api is not None and sym.name == api.member:
        how = "resolved"
    loc_ = locator(cfg)
    out = loc_.doubts(sym, how, api, hint, step.implementation.removeprefix(ws.source.repo + "_"))
    misfit = loc_.call_misfit(sym, step.api_call, bound=how.startswith("bound at run time"))
    if misfit:
        out.append(misfit)
    from tools.navigate import area

    if api is not None and not any(area(s.file) == "source" for s in ws.index.by_name.get(api.member, [])):
        # the step names something the repository does not define: finding the real one under another
        # name is the agent's job, not a doubt
        out = [d for d in out if not d.startswith("the step calls")]
    return out


def agent_locate(
    llm: LLM, cfg: RunConfig, job: PairJob, loc: Location, used: Usage
) -> tuple[LocationRecord | None, str]:
    """(location details, what happened) from the excavation agent's tool loop; each call's usage
    is added to ``used``."""
    import importlib.resources
    import json

    from tools.errors import ToolError
    from tools.toolspec import TOOLS

    ws = workspace(cfg)
    step = job["steps"][0]
    step_rec = find_step(cfg, step["workflow"], step["number"])
    tools = [TOOLS[n].schema() for n in NAV_TOOLS] + [ANSWER]
    system = importlib.resources.files("prompts").joinpath("excavate_system.md.j2").read_text(encoding="utf-8")
    hints = "; ".join(f"{c['qualname']} in {c['file']}" for c in loc.candidates[:5]) or "none"
    from tools.locate import parse_api, parse_hint

    api = parse_api(step_rec.api_call) or parse_api(step_rec.guide_api)
    hint = parse_hint(step_rec.source_hint, ws.names.packages)
    files = locator(cfg).hint_files(hint)
    outline = ""
    if files:
        names = [
            f"{s.qualname} (L{s.start_line})" for s in ws.index.file_symbols(files[0]) if "<locals>" not in s.qualname
        ]
        outline = f"\nDefinitions in {files[0]} (the hinted file; the hint may be wrong): " + ", ".join(names[:60])
    messages: list[Message] = [
        {"role": "system", "content": system},
        {
            "role": "user",
            "content": (
                f"Step: {step['title']}.\n"
                f"The workflow calls: {step.get('api_call') or '-'}\n"
                f"Where an earlier pass thought it lives (may be wrong): {step_rec.source_hint or '-'}\n"
                f"What the step gives: {step_rec.outputs or '-'}\nPackage: {ws.package}\n"
                + (
                    f"Search for the called name {api.member!r} (find_symbol, search_text), not for page names.\n"
                    if api
                    else "Search for the names the step's words suggest, not for page names.\n"
                )
                + f"The deterministic locator was not sure; its candidates: {hints}.{outline}"
            ),
        },
    ]
    for turn in range(MAX_TURNS):
        reply = llm.complete(messages, step=job["implementation"], tools=tools)
        used.add(reply.usage)
        said = reply.content or " ".join(
            json.dumps({"name": c.name, "arguments": c.arguments}) for c in reply.tool_calls
        )
        messages.append({"role": "assistant", "content": said or "(empty)"})
        if not reply.tool_calls:
            messages.append({"role": "user", "content": "Call one of the tools, or answer."})
            continue
        results: list[str] = []
        for call in reply.tool_calls[:3]:
            if call.name == "answer":
                file, qual = str(call.arguments.get("file", "")), str(call.arguments.get("qualname", ""))
                sym = next((s for s in ws.index.file_symbols(file) if s.qualname == qual), None)
                doubts = answer_doubts(cfg, sym, loc, step_rec) if sym is not None else []
                if sym is not None and doubts:
                    results.append(
                        f"answer refused: {qual} in {file} does not fit the step ({'; '.join(doubts)}); "
                        "search again or answer another definition"
                    )
                    continue
                if sym is not None:
                    return (
                        {
                            **loc.details(),
                            "qualname": sym.qualname,
                            "file": sym.file,
                            "start_line": sym.start_line,
                            "end_line": sym.end_line,
                            "confidence": 0.8,
                            "reasons": loc.reasons
                            + [f"excavation agent (turn {turn + 1}): {str(call.arguments.get('reason', ''))[:200]}"],
                        },
                        f"agent answered in {turn + 1} turn(s)",
                    )
                results.append(f"answer refused: no definition {qual!r} in {file!r}; search again")
                continue
            try:
                out = (
                    TOOLS[call.name].call(ws, call.arguments)
                    if call.name in NAV_TOOLS
                    else {"error": f"unknown tool {call.name}"}
                )
            except ToolError as exc:
                out = {"error": str(exc)}
            results.append(f"Result of {call.name}: " + json.dumps(out, ensure_ascii=False)[:6000])
        messages.append({"role": "user", "content": "\n\n".join(results)})
    return None, f"excavation agent gave no existing definition in {MAX_TURNS} turns"


def excavate(state: PairState) -> PairState:
    cfg, job = state["config"], state["job"]
    with traced(cfg, "excavate", job["implementation"]) as rec:
        ws = workspace(cfg)
        first = job["steps"][0]
        step = find_step(cfg, first["workflow"], first["number"])
        wi, _ = workflow_index(cfg)
        flow = next(w for w in wi.workflows if w.name == step.workflow)
        loc = locator(cfg).locate(step, flow.steps[: step.number - 1])
        held: str | None = None
        details = loc.details()
        if loc.kind == "external" and not loc.confident:
            # nothing is committed on a guess: another package's API needs the locator's own evidence (the
            # excavation agent answers only with definitions of this repository)
            held = (
                f"locator not confident ({loc.confidence:.2f} < {CONFIDENT}) that the step documents "
                f"{loc.qualname or 'an API'} of {loc.package or 'another package'}: {'; '.join(loc.reasons)}; "
                "write the step's API Call as the call the user makes (or the Python function a command runs) "
                "and run again"
            )
        elif loc.kind == "internal" and (loc.qualname is None or not loc.confident):
            why = "; ".join(loc.reasons[-2:]) or "no candidate"
            llm = door(cfg.get("model"))
            if llm is None:
                held = (
                    f"locator not confident ({loc.confidence:.2f}): {why}; to fix it offline, pick one of "
                    f"{len(loc.candidates)} candidate(s) (python -m agents.review show PAGE, then agents.review "
                    "pick PAGE N) or correct the step's API Call / Source Location in the WorkflowIndex and run "
                    "again; with --model the excavation agent decides such steps"
                    if loc.candidates
                    else f"locator found nothing ({why}); correct the step's API Call / Source Location in the "
                    "WorkflowIndex and run again, or run with --model for the excavation agent"
                )
            else:
                used = Usage()
                try:
                    found, what = agent_locate(llm, cfg, job, loc, used)
                except (BudgetExceeded, ModelOutputError) as exc:
                    found, what = None, f"the excavation agent stopped: {exc}"
                rec.update({"agent": what, "tokens": used.tokens, "calls": used.calls})
                if found is None:
                    held = f"locator not confident ({loc.confidence:.2f}): {why}; {what}"
                else:
                    details = found
        usage: UsageExample | None = None
        if not held and details["kind"] == "internal" and job["usage_key"]:
            cache = Path(cfg["cache_dir"]) if cfg["cache_dir"] else None
            usage = find_usages(ws, usage_keys(cfg), cache).get(job["usage_key"])
        rec["outcome"] = "held" if held else f"{details['kind']} {details['confidence']:.2f}"
        return {"location": details, "usage": usage, "held": held}
