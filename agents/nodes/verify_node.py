"""The verify node of a pair: the deterministic verifier on the two drafted pages, the repair
decision, and the pair's result. Drafts are written under the run's drafts/ as they are made."""

from __future__ import annotations

from typing import Literal

from agents.draft.rewrite import repair_page_text
from agents.model.critic import Verdict, as_findings, critic_verdict
from agents.runctx import RunConfig, TraceRecord, traced, workflow_index, workspace, write_draft
from agents.state import PairState, Repairs, result
from agents.verify.findings import FindingRecord
from agents.verify.verifier import verify_pages
from tools.wiki.page import TYPE_FOLDERS

RepairFlag = Literal[
    "no_usage_example", "plain_overview", "no_pseudocode", "plain_descriptions", "drafter_params", "drafter_prose"
]
# What the offline drafter can change when a rule rejects a draft.
_REPAIR_FOR: dict[str, RepairFlag] = {
    "R8": "no_usage_example",
    "R28": "no_usage_example",
    "R36": "no_usage_example",
    "R33": "plain_overview",
    "R34": "plain_overview",
    "R35": "no_pseudocode",
    "R4": "plain_descriptions",
    "R5": "plain_descriptions",
    "R7": "plain_descriptions",
    "R45": "no_usage_example",
    "R46": "no_usage_example",
    "R47": "no_usage_example",
    "R48": "drafter_params",
    "R49": "drafter_prose",
}


def repairs_for(findings: list[FindingRecord], current: Repairs, rounds: int) -> Repairs:
    out = current.copy()
    for f in findings:
        if f["rule"] in _REPAIR_FOR:
            out[_REPAIR_FOR[f["rule"]]] = True
    if out == current or rounds >= 1:  # nothing specific left to try: strip to the safest draft
        out.update(
            {
                "no_usage_example": True,
                "no_call_example": True,
                "plain_overview": True,
                "no_pseudocode": True,
                "plain_descriptions": True,
            }
        )
    return out


def check(state: PairState) -> PairState:
    cfg, job = state["config"], state["job"]
    with traced(cfg, "verify", job["implementation"]) as rec:
        ws = workspace(cfg)
        wi, _ = workflow_index(cfg)
        texts = state["texts"]
        findings = [f.as_dict() for f in verify_pages(texts, cfg["repo"], ws, workflow_index=wi)]
        errors = [f for f in findings if f["severity"] == "E"]
        if errors and all(f["rule"] == "R49" for f in errors):
            # wording is repaired, not a reason for another round or a hold (R49 as amended): a sentence
            # said twice loses its second copy, placeholder maths goes, and the pair is checked again
            fixed = {rel: repair_page_text(t) for rel, t in texts.items()}
            if fixed != texts:
                texts = fixed
                state = state.copy()
                state["texts"] = texts
                findings = [f.as_dict() for f in verify_pages(texts, cfg["repo"], ws, workflow_index=wi)]
                errors = [f for f in findings if f["severity"] == "E"]
        rounds = state.get("rounds", 0)
        write_draft(cfg, "drafts", texts)
        repairs: Repairs = state.get("repairs") or {}
        if not errors:
            verdict = (
                _critic(cfg, state, rec)
                if cfg.get("critic") and cfg.get("model") and not repairs.get("drafter_prose")
                else None
            )
            contradicted = as_findings(verdict, _impl_page(state)) if verdict and "error" not in verdict else []
            if contradicted and not repairs.get("drafter_prose"):
                # the model gets the quotes and rewrites; if the claim survives its rounds, the drafter's
                # extractive prose (which says only what the source says) is the last word
                last = rounds >= cfg["max_repairs"]
                rec["outcome"] = f"critic: {len(contradicted)} claim(s) contradicted by the source; " + (
                    "the drafter's prose replaces the model's" if last else f"repair {rounds + 1}"
                )
                return {
                    "findings": findings + contradicted,
                    "rounds": rounds + 1,
                    "repairs": {**repairs, "drafter_prose": True} if last else {**repairs, "critic": True},
                }
            rec["outcome"] = "verified"
            res = result(state, "verified", None, findings)
            if verdict is not None:
                res["critic"] = verdict
            return {"findings": findings, "done": True, "results": [res], "texts": texts}
        if rounds < cfg["max_repairs"]:
            rec["outcome"] = f"repair {rounds + 1}: {sorted({f['rule'] for f in errors})}"
            return {
                "findings": findings,
                "rounds": rounds + 1,
                "repairs": repairs_for(errors, state.get("repairs") or {}, rounds),
            }
        rules = ", ".join(sorted({f["rule"] for f in errors}, key=lambda r: int(r[1:])))
        reason = f"fails {rules} after {rounds} repair round(s): {errors[0]['message']}"
        write_draft(cfg, "held", state["texts"])
        rec["outcome"] = "held"
        return {"findings": findings, "done": True, "results": [result(state, "held", reason, findings)]}


def _impl_page(state: PairState) -> str:
    return next(rel for rel in state["texts"] if rel.startswith(TYPE_FOLDERS["Implementation"] + "/"))


def _critic(cfg: RunConfig, state: PairState, rec: TraceRecord) -> Verdict | None:
    """The model critic on the Implementation page against the source it documents: the definition's
    lines (its docstring among them), at most 150."""
    from agents.model.llm import BudgetExceeded, ModelOutputError, Usage, door

    llm = door(cfg["model"]) if cfg.get("model_agents", "all") == "all" else None
    loc = state.get("location")
    if llm is None or loc is None or loc.get("kind") != "internal":
        return None
    file, start, end = loc["file"], loc["start_line"], loc["end_line"]
    if file is None or start is None or end is None:  # an internal location has them
        return None
    ws = workspace(cfg)
    lines = ws.source.physical(file).read_text(encoding="utf-8", errors="replace").splitlines()
    excerpt = "\n".join(lines[start - 1 : end][:150])
    page = state["texts"][_impl_page(state)]
    used = Usage()
    verdict: Verdict
    try:
        verdict = critic_verdict(llm, state["job"]["implementation"], page, excerpt, used)
    except (ModelOutputError, BudgetExceeded) as exc:
        verdict = {"error": str(exc)[:200]}
    rec["tokens"], rec["calls"] = used.tokens, used.calls
    return verdict
