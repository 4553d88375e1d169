"""The synthesize node: write the two pages of a pair.

Offline, the extractive drafter writes everything. With a model (``--model``), the synthesis
agent writes the prose as one JSON object (prompts/synthesize_*.md.j2) and the drafter's data
keeps every fact: location, signature, import, parameter names, types and defaults never come
from the model. On a verifier failure the model gets its previous answer and the findings; the
drafter's deterministic repairs (dropping what a rule rejected) apply on top, so the last round
always has a safe fallback. Source text reaches the model as quoted data, and any answer that
repeats an instruction planted in the source is replaced by the extractive text (``guard``).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Literal, TypedDict

import jinja2

from tools.index.docstrings import without_default
from agents.draft.drafter import INJECTION, implementation_data, plain, principle_data
from agents.draft.walk import StepFacts, workflow_steps
from agents.draft.evidence import Usage as UsageExample
from agents.draft.page_data import (
    PROSE_KEYS,
    Example,
    ExternalFacts,
    ImplementationData,
    PrincipleData,
    Prose,
    ProseKey,
)
from agents.state import PairJob, PairState, Repairs
from agents.verify.findings import FindingRecord
from tools.examples.check import CallTarget
from tools.index.records import Symbol
from tools.locate import LocationRecord
from tools.errors import ToolError
from tools.index.callees import callee_chain
from tools.index.source_ast import module_docstring
from tools.index.workspace import Workspace
from tools.index.workspace import symbol_at
from agents.model.llm import BudgetExceeded, LLM, ModelOutputError, Usage, door
from tools.examples.check import call_target
from tools.wiki.render import render_page
from agents.verify.context import Context
from agents.runctx import RunConfig, locator, traced, workflow_index, workspace
from prompts import template_env
from tools.wiki.load import Wiki
from tools.wiki.page import TYPE_FOLDERS
from tools.sentences import has_several, sentences
from tools import pyast


_facts_lock = threading.Lock()
_facts: dict[str, StepFacts] = {}


def step_facts(cfg: RunConfig) -> StepFacts:
    """The run's per-step facts (each step located once per process, shared by every pair)."""
    with _facts_lock:
        hit = _facts.get(cfg["run_dir"])
        if hit is None:
            hit = _facts[cfg["run_dir"]] = StepFacts(workspace(cfg), locator(cfg), workflow_index(cfg)[0])
        return hit


def domains_of(cfg: RunConfig, job: PairJob) -> list[str]:
    return sorted({s["workflow"].removeprefix(cfg["repo"] + "_") for s in job["steps"]})


def external_facts(cfg: RunConfig, loc: LocationRecord) -> ExternalFacts:
    ws = workspace(cfg)
    package = loc.get("package") or ""
    out: ExternalFacts = {
        "package": package,
        "qualname": loc.get("qualname"),
        "repo_url": ws.source.url.rstrip("/"),
        "repo_label": ws.source.url.rstrip("/").split("://", 1)[-1].split("/", 1)[-1],
    }
    ext = loc.get("external_location")
    xws = locator(cfg).external_workspace(package) if ext and package else None
    if xws is not None and ext:  # ext is known here (spelled out for the type checker)
        sym = symbol_at(xws, ext["file"], ext["qualname"], ext["start_line"])
        if sym is not None:
            out.update(
                {"ws": xws, "symbol": sym, "version": ext.get("version"), "qualname": f"{package}.{sym.qualname}"}
            )
    return out


@lru_cache(maxsize=1)
def _prompts() -> jinja2.Environment:
    return template_env(keep_trailing_newline=False)


def guard(prose: Prose, evidence: str) -> tuple[Prose, list[str]]:
    """Drop answer fields that carry an instruction planted in the source, or look like obeying one."""
    planted = [s for line in evidence.splitlines() for s in sentences(line) if INJECTION.search(s)]
    grams: set[str] = set()
    for s in planted:
        w = re.findall(r"\w+", s.lower())
        grams |= {" ".join(w[i : i + 4]) for i in range(max(0, len(w) - 3))}
    dropped: list[str] = []
    out = prose.copy()
    for k in _FIELDS:  # the answer's own order: sanitize writes PROSE_KEYS, then the parameters
        if k not in prose:
            continue
        v = prose[k]
        text = json.dumps(v).lower() if not isinstance(v, str) else v.lower()
        w = re.findall(r"\w+", text)
        copied = any(" ".join(w[i : i + 4]) in grams for i in range(max(0, len(w) - 3)))
        if INJECTION.search(text) or copied:
            dropped.append(k)
            del out[k]
    return out, dropped


_FIELDS: tuple[ProseKey | Literal["parameters"], ...] = (*PROSE_KEYS, "parameters")


def _validate(obj: Mapping[str, object]) -> list[str]:
    """Only what makes an answer unusable is re-asked: no JSON object, or most keys missing.
    Field-level problems are settled by ``sanitize`` without another call."""
    present = [k for k in PROSE_KEYS if isinstance(v := obj.get(k), str) and v.strip()]
    if len(present) < len(PROSE_KEYS) // 2:
        missing = [k for k in PROSE_KEYS if k not in present]
        return [f"the object must have the keys {', '.join(PROSE_KEYS)} as strings; missing: {', '.join(missing)}"]
    return []


_CODE_SPAN = re.compile(r"`([^`\n]+)`")
_CODE_NAME = re.compile(r"[A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*")


def invented_names(text: str, known: Callable[[str], bool]) -> list[str]:
    """Code names in back-ticks that neither the index nor the documented source knows."""
    out: list[str] = []
    for span in _CODE_SPAN.findall(text):
        m = _CODE_NAME.match(span.strip())
        if m and m.group(0) == span.strip().removesuffix("()") and not known(m.group(0)):
            out.append(m.group(0))
    return out


def sanitize(
    obj: Mapping[str, object],
    deny: set[str],
    params: set[str],
    known: Callable[[str], bool] = lambda name: True,
    plain_claims: Callable[[str], list[tuple[str, str]]] = lambda text: [],
    example_problems: Callable[[str], list[str]] = lambda code: [],
) -> tuple[Prose, list[str]]:
    """The usable part of an answer, and what was dropped (the drafter's text stands in for it):
    a field that names an API nobody defined is dropped whole, as is maths that is not in <math>."""
    out: Prose = {}
    dropped: list[str] = []
    for k in PROSE_KEYS:
        v = obj.get(k)
        if isinstance(v, str) and v.strip():
            out[k] = v.strip()
    for k in [k for k in PROSE_KEYS if k in out]:
        names = (invented_names(out[k], known) + [t for t, _ in plain_claims(out[k])]) if k != "example_code" else []
        if names:
            dropped.append(f"{k} (names {', '.join(dict.fromkeys(names))})")
            out.pop(k)
    for k in [k for k in PROSE_KEYS if k in out and k != "example_code"]:
        text = out[k]
        # maths belongs only in the Theoretical Basis; elsewhere even <math> is a placeholder
        outside = re.sub(r"<math>.*?</math>", "", text, flags=re.S) if k == "theory" else text
        if re.search(r"\\[A-Za-z]+", outside) or text.count("<math>") != text.count("</math>"):
            dropped.append(f"{k} (maths outside <math>)")
            out.pop(k)
    ov = out.get("principle_overview", "")
    if ov and (has_several(ov) or any(w.lower().strip(".") in deny for w in re.findall(r"[A-Za-z0-9_.-]+", ov))):
        dropped.append("principle_overview")
        out.pop("principle_overview")
    code = out.get("example_code")
    if code is not None:
        code = out["example_code"] = re.sub(r"^```\w*\n|\n?```\s*$", "", code.strip()).strip()
        try:
            pyast.parse(code)
            problems = example_problems(code)
        except SyntaxError:
            problems = ["it does not parse"]
        if problems:  # R45–R47 before the verifier: the drafter's self-contained examples stand instead
            dropped.append(f"example_code ({'; '.join(problems[:3])})")
            out.pop("example_code")
    given = raw if isinstance(raw := obj.get("parameters"), dict) else {}
    out["parameters"] = {k: v for k, v in given.items() if k in params and isinstance(v, str) and v.strip()}
    if set(given) - params:
        dropped.append("parameters not in the signature")
    return out, dropped


# Sized so that a strong model sees what it must describe whole (a long TrainingArguments docstring, a
# train() body) and answers in full: the answer of a complete pair runs to ~3,500 characters.
MAX_DOC_CHARS = 16000
# a whole answer for both pages (~3,500 characters, ~1,200 tokens) with room for longer ones: 700 cut
# answers mid-JSON
SYNTHESIS_MAX_TOKENS = 4000
MAX_CONTEXT_DOC_CHARS = 3000
MAX_BODY_LINES = 200
MAX_WORK_LINES = 120  # per definition the work is handed to
MAX_WORK_LINKS = 4


class ModelEvidence(TypedDict):
    """What the model is shown of the source, each part quoted in the prompt."""

    docstring: str
    class_doc: str
    module_doc: str
    body: str
    work: str
    walkthrough: str
    examples: str


def _lines(ws: Workspace, sym: Symbol, limit: int) -> str:
    try:
        text = ws.source.physical(sym.file).read_text(encoding="utf-8", errors="replace").splitlines()
    except (OSError, ToolError):
        return ""
    body = text[(sym.decorator_line or sym.start_line) - 1 : sym.end_line]
    shown = "\n".join(body[:limit])
    return shown + (f"\n# … {len(body) - limit} more lines" if len(body) > limit else "")


def _cut(text: str | None, limit: int) -> str:
    text = (text or "").strip()
    return text[:limit] + (" …" if len(text) > limit else "")


def model_evidence(
    ws: Workspace | None, sym: Symbol | None, source_text: str, i_data: ImplementationData, api_call: str | None = None
) -> ModelEvidence:
    """What the model may describe: the full docstring, those of its class and module, the definition's
    source, the definitions its work is handed to (tools.index.callees), the walkthrough and the other
    examples, which already passed R45–R47. All of it is data, quoted in the prompt."""
    doc = ((sym.docstring if sym is not None else "") or "").strip()
    body = source_text.splitlines()
    shown = "\n".join(body[:MAX_BODY_LINES]) + (
        f"\n# … {len(body) - MAX_BODY_LINES} more lines" if len(body) > MAX_BODY_LINES else ""
    )
    codes = [e["code"] for e in i_data.get("examples", []) if e.get("lang") == "python"]
    class_doc = module_doc = work = ""
    if ws is not None and sym is not None:
        owner = ws.names.owner(sym)
        if owner is not None and owner is not sym and owner.qualname != sym.qualname:
            class_doc = _cut(owner.docstring, MAX_CONTEXT_DOC_CHARS)
        module_doc = _cut(module_docstring(ws, sym.file), MAX_CONTEXT_DOC_CHARS)
        chain = callee_chain(ws, sym, api_call)[1 : 1 + MAX_WORK_LINKS]
        work = "\n\n".join(
            f"# {link.symbol.qualname} ({link.symbol.file}:L{link.symbol.start_line}-{link.symbol.end_line})\n"
            + _lines(ws, link.symbol, MAX_WORK_LINES)
            for link in chain
        )
    return {
        "docstring": doc[:MAX_DOC_CHARS] + (" …" if len(doc) > MAX_DOC_CHARS else "") or "(no docstring)",
        "class_doc": class_doc,
        "module_doc": module_doc,
        "body": shown or "(not in this repository)",
        "work": work,
        "walkthrough": codes[0] if codes else "(none)",
        "examples": "\n\n".join(codes[1:]) or "(none)",
    }


def evidence_text(evidence: ModelEvidence) -> str:
    e = evidence
    return "\n\n".join(
        (e["docstring"], e["class_doc"], e["module_doc"], e["body"], e["work"], e["walkthrough"], e["examples"])
    )


def example_findings(code: str, target: CallTarget | None) -> list[str]:
    """R45–R47 on a model-written example, as short reasons."""
    from tools.examples.check import call_problems, compile_problem, unbound_names, unused_imports

    problem = compile_problem(code)
    if problem:
        return [f"line {problem[0]}: {problem[1]}"]
    out = [f"{name} is used but never bound" for _, name in unbound_names(code)]
    out += [f"{name} is imported but unused" for _, name in unused_imports(code)]
    if target is not None:
        out += [msg for _, msg in call_problems(code, target)]
    return out


def model_prose(
    llm: LLM,
    cfg: RunConfig,
    job: PairJob,
    p_data: PrincipleData,
    i_data: ImplementationData,
    evidence: ModelEvidence,
    deny: set[str],
    previous: Mapping[str, object] | None,
    findings: list[FindingRecord],
    used: Usage,
    known: Callable[[str], bool] = lambda name: True,
    plain_claims: Callable[[str], list[tuple[str, str]]] = lambda text: [],
    example_problems: Callable[[str], list[str]] = lambda code: [],
) -> tuple[Prose, list[str]]:
    step = job["steps"][0]
    wi, _ = workflow_index(cfg)
    goal = next((w.description for w in wi.workflows if w.name == step["workflow"]), "") or ""
    flow = [
        {"number": s.number, "title": s.title, "api_call": s.api_call or "-", "current": s.number == step["number"]}
        for s in wi.steps
        if s.workflow == step["workflow"]
    ]
    params = [p["name"] for p in i_data.get("inputs", [])]
    env = _prompts()
    system = env.get_template("synthesize_system.md.j2").render(forbidden=sorted(deny)[:12])
    user = env.get_template("synthesize_user.md.j2").render(
        step_title=step["title"],
        principle=job["principle"],
        implementation=job["implementation"],
        goal=goal,
        steps=flow,
        api_call=step.get("api_call") or "-",
        inputs=step.get("inputs") or "-",
        outputs=step.get("outputs") or "-",
        import_line=i_data.get("import_code") or "-",
        signature=i_data.get("signature") or "(external API)",
        parameters=params or ["(none)"],
        docstring=evidence["docstring"],
        class_doc=evidence["class_doc"],
        module_doc=evidence["module_doc"],
        body=evidence["body"],
        work=evidence["work"],
        walkthrough=evidence["walkthrough"],
        examples=evidence["examples"],
        findings=[
            f"{f['rule']} on {f['page'].split('/')[0].rstrip('s')} page line {f.get('line') or '-'}: {f['message']}"
            for f in findings
        ],
        previous=json.dumps(previous, ensure_ascii=False) if previous else "",
    )
    answer = llm.complete_json(
        [{"role": "system", "content": system}, {"role": "user", "content": user}],
        step=job["implementation"],
        validate=_validate,
        used=used,
        max_tokens=SYNTHESIS_MAX_TOKENS,
    )
    return sanitize(answer, deny, set(params), known, plain_claims, example_problems)


def _keep_math(line: str) -> str:
    """One line of maths-or-prose made safe: text outside <math> is flattened like any prose, text
    inside keeps its TeX (only wiki link/table markup is removed)."""
    parts = re.split(r"(<math>.*?</math>)", line)
    out = []
    for part in parts:
        if part.startswith("<math>") and part.endswith("</math>"):
            # TeX's {|B|} is not a wiki table inside <math>: only link markup and nested tags go
            body = re.sub(r"\[\[|\]\]|</?math>", "", part[6:-7])
            out.append(f"<math>{body}</math>")
        else:
            out.append(plain(part))
    return " ".join(p for p in out if p)


def _theory(text: str) -> str:
    lines = [
        _keep_math(l) if not l.startswith((" ", "\t")) else l.replace("{|", "").replace("|}", "")
        for l in text.strip().splitlines()
        if l.strip()
    ]
    if any(l.startswith((" ", "\t")) for l in lines) or any(l.rstrip().endswith(":") for l in lines):
        return '<syntaxhighlight lang="text">\n' + "\n".join(lines) + "\n</syntaxhighlight>"
    return " ".join(lines)


_PROSE_FIELDS: dict[
    Literal["principle", "implementation"], tuple[tuple[ProseKey, Literal["description", "usage"]], ...]
] = {
    "principle": (("principle_description", "description"), ("principle_usage", "usage")),
    "implementation": (("implementation_description", "description"), ("implementation_usage", "usage")),
}


def merge(p_data: PrincipleData, i_data: ImplementationData, prose: Prose, repairs: Repairs) -> None:
    """Model prose over the drafter's; facts and the drafter's repairs stay in charge."""
    if not repairs.get("plain_overview") and prose.get("principle_overview"):
        p_data["overview"] = plain(prose["principle_overview"])
    for key, field in _PROSE_FIELDS["principle"]:
        if prose.get(key):
            p_data[field] = plain(prose[key])
    if prose.get("theory") and not repairs.get("no_pseudocode"):
        p_data["theory"] = _theory(prose["theory"])
    if repairs.get("plain_descriptions"):
        return
    for key, field in _PROSE_FIELDS["implementation"]:
        if prose.get(key):
            i_data[field] = plain(prose[key])
    for row in [] if repairs.get("drafter_params") else i_data.get("inputs", []):
        d = (prose.get("parameters") or {}).get(row["name"])
        if isinstance(d, str) and without_default(d).strip():
            row["description"] = plain(without_default(d))  # the template states the default once (R26)
    if prose.get("returns") and i_data.get("outputs"):
        i_data["outputs"][0]["description"] = plain(prose["returns"])
    if prose.get("example_code") and not repairs.get("no_call_example"):
        ex: Example = {
            "title": plain(prose.get("example_title")) or "Example",
            "code": prose["example_code"].strip("\n"),
            "lang": "python",
        }
        # the walkthrough (the drafter's first example) stays first: the model's example is another use
        first, rest = i_data["examples"][:1], i_data["examples"][1:]
        i_data["examples"] = first + [ex] + [e for e in rest if e["title"].startswith("From ")]


class DraftNotes(TypedDict, total=False):
    prose: Prose  # the model's prose that was used
    guarded: list[str]  # fields the guard dropped
    unusable: list[str]  # fields sanitize dropped, with why
    model_fallback: str  # why the extractive prose stands instead of the model's


def draft_pair(
    cfg: RunConfig,
    job: PairJob,
    loc: LocationRecord,
    usage: UsageExample | None,
    repairs: Repairs,
    state: PairState | None = None,
    used: Usage | None = None,
) -> tuple[dict[str, str], DraftNotes]:
    """(page texts, notes: prose used, fields dropped by the guard, model fallback reason); model
    usage is added to ``used``."""
    used = used if used is not None else Usage()
    state = state or {}
    ws = workspace(cfg)
    wi, _ = workflow_index(cfg)
    domains = domains_of(cfg, job)
    ctx = Context(Wiki(ws.source.root, cfg["repo"]), ws)
    pname, iname = job["principle"], job["implementation"]
    low, exact = ctx.deny_terms(None)
    keys = {(s["workflow"], s["number"]) for s in job["steps"]}
    low |= {d.lower() for s in wi.steps if (s.workflow, s.number) in keys for d in s.external_deps}
    step = job["steps"][0]
    walk_ctx = (step_facts(cfg), workflow_steps(wi, step))
    titles = {(s.workflow, s.number): s.title for s in wi.steps}
    sym: Symbol | None = None
    i_data: ImplementationData
    if loc["kind"] == "external":
        ext = external_facts(cfg, loc)
        api_sym, api_ws = ext.get("symbol"), ext.get("ws")
        i_data = implementation_data(
            ws,
            None,
            iname,
            pname,
            step,
            domains,
            cfg["updated"],
            None,
            repairs,
            external=ext,
            walk_ctx=walk_ctx,
            titles=titles,
        )
        i_data.pop("verified")
    else:
        sym = symbol_at(ws, loc["file"], loc["qualname"], loc["start_line"])
        if sym is None:  # the location names a definition of this very index
            raise LookupError(f"{loc['qualname']} at {loc['file']}:L{loc['start_line']} is not in the index")
        api_sym, api_ws = sym, ws
        i_data = implementation_data(
            ws, sym, iname, pname, step, domains, cfg["updated"], usage, repairs, walk_ctx=walk_ctx, titles=titles
        )
    # the Principle is written from the API's docstrings and body, and from the neighbouring steps
    p_data = principle_data(
        ws,
        pname,
        iname,
        job["steps"],
        domains,
        cfg["updated"],
        (low, exact),
        repairs,
        api_sym,
        api_ws,
        titles,
    )
    notes: DraftNotes = {}
    # after the critic's last word, the drafter's extractive prose stands: no model call
    llm = (
        door(cfg.get("model")) if cfg.get("model_agents", "all") == "all" and not repairs.get("drafter_prose") else None
    )
    if llm is not None:
        source_text = ""
        if sym is not None:
            lines = ws.source.physical(sym.file).read_text(encoding="utf-8", errors="replace").splitlines()
            source_text = "\n".join(lines[sym.start_line - 1 : sym.end_line])
        quoted = model_evidence(ws if sym is not None else None, sym, source_text, i_data, step.get("api_call"))
        evidence = evidence_text(quoted)
        try:
            params = {r["name"] for r in i_data.get("inputs", [])}

            def known(name: str) -> bool:
                last = name.split(".")[-1]
                return last in ws.index.by_name or last in params or name in source_text or name in evidence

            from agents.verify.rules.claim_rules import invented

            own = set(re.findall(r"\w+", " ".join([evidence, source_text, pname, iname, json.dumps(step)])))
            own |= params | {cfg["repo"], *cfg["repo"].split("_")}

            def plain_claims(text: str) -> list[tuple[str, str]]:
                # R50 before the verifier sees it: an API named nowhere (back-ticked or not) drops the field
                return invented(ctx, text, own, wrapper=loc["kind"] == "external")

            target = call_target(ws, sym) if sym is not None else None

            def example_problems(code: str) -> list[str]:
                return example_findings(code, target)

            prose, unusable = model_prose(
                llm,
                cfg,
                job,
                p_data,
                i_data,
                quoted,
                low,
                state.get("prose"),
                [f for f in state.get("findings") or [] if f["severity"] == "E"],
                used,
                known,
                plain_claims,
                example_problems,
            )
            prose, dropped = guard(prose, evidence)
            notes.update({"prose": prose, "guarded": dropped, "unusable": unusable})
            merge(p_data, i_data, prose, repairs)
        except ModelOutputError as exc:
            notes["model_fallback"] = f"model answer unusable ({exc}); extractive prose used"
    return (
        {
            f"{TYPE_FOLDERS['Principle']}/{pname}.md": render_page("Principle", p_data),
            f"{TYPE_FOLDERS['Implementation']}/{iname}.md": render_page("Implementation", i_data),
        },
        notes,
    )


def synthesize(state: PairState) -> PairState:
    cfg, job = state["config"], state["job"]
    with traced(cfg, "synthesize", job["implementation"]) as rec:
        used = Usage()
        try:
            texts, notes = draft_pair(
                cfg, job, state["location"], state.get("usage"), state.get("repairs") or {}, state, used
            )
        except BudgetExceeded as exc:
            from agents.state import result

            rec["outcome"] = "held: budget"
            reason = f"not drafted: {exc}; raise --max-cost/--max-tokens and --resume"
            return {"held": reason, "done": True, "results": [result(state, "held", reason, [])]}
        finally:
            if cfg.get("model"):
                rec.update(
                    {
                        "tokens": used.tokens,
                        "calls": used.calls,
                        "cost": round(used.cost, 6),
                        "cached_calls": used.cached_calls,
                    }
                )
        if notes.get("unusable"):
            rec["dropped"] = notes["unusable"]
        if notes.get("model_fallback"):
            rec["fallback"] = notes["model_fallback"]
        rec["outcome"] = (
            f"drafted round {state.get('rounds', 0)}"
            + (f"; guard dropped {notes['guarded']}" if notes.get("guarded") else "")
            + ("; model fallback" if notes.get("model_fallback") else "")
        )
        return {"texts": texts, "prose": notes.get("prose")}
