"""The pipeline as a LangGraph state machine.

    resolve → index → plan ─┬─ Send(pair) … ─→ commit → report
                            └─ (nothing to do) ─┘
    pair:  excavate → synthesize → verify ─→ (errors, rounds left) → synthesize
                 └─ (held) → hold             └─ (verified or out of rounds) → end

State is plain JSON (TypedDicts); the workspace is rebuilt from the cache by each process, so a
run resumes from its SQLite checkpoint in a new process. Nodes are idempotent: they only write
files inside the run folder, by rename, and the wiki only in commit.
"""
from __future__ import annotations

import operator
import time
from collections import Counter
from pathlib import Path
from typing import Annotated, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.types import Send

from agents.check import check, result
from agents.drift import classify, read_record, trusted, trusted_pages, wiki_files
from agents.excavate import excavate
from agents.plan import PairJob, StepHold, already_done, plan_pairs, respected, reviewer_decisions
from agents.commit import commit_node
from agents.report import report_node
from agents.runctx import RunConfig, traced, workflow_index, workspace
from agents.synthesize import synthesize
from agents.verify import verify_wiki
from agents.wiki import load_wiki
from tools.resolve import resolve_repo


class PairState(TypedDict, total=False):
    config: RunConfig
    job: PairJob
    started: float
    location: dict
    usage: dict | None
    held: str | None
    texts: dict[str, str]
    prose: dict | None
    findings: list[dict]
    repairs: dict
    rounds: int
    done: bool
    results: Annotated[list[dict], operator.add]


class PairOutput(TypedDict):
    results: Annotated[list[dict], operator.add]


class RunState(TypedDict, total=False):
    config: RunConfig
    source: dict
    index: dict
    plan: list[PairJob]
    step_holds: list[StepHold]
    skipped: list[str]
    drift: dict  # agents.drift: the last verified source and each recorded page's class (update runs)
    results: Annotated[list[dict], operator.add]
    commit: dict
    report: dict


def resolve_node(state: RunState) -> dict:
    cfg = state["config"]
    with traced(cfg, "resolve") as rec:
        src = resolve_repo(cfg["repo"], cfg["source"], Path(cfg["cache_dir"]) if cfg["cache_dir"] else None)
        rec["outcome"] = f"{src.origin} {src.version or ''}".strip()
        return {"source": {"root": str(src.root), "origin": src.origin, "version": src.version,
                           "revision": src.revision, "url": src.url}}


def index_node(state: RunState) -> dict:
    cfg = state["config"]
    with traced(cfg, "index") as rec:
        stats = vars(workspace(cfg).index.stats)
        rec["outcome"] = f"{stats.get('files')} files"
        return {"index": {k: v for k, v in stats.items() if isinstance(v, (int, float, str)) or v is None}}


def plan_node(state: RunState) -> dict:
    cfg = state["config"]
    with traced(cfg, "plan") as rec:
        wi, _ = workflow_index(cfg)
        jobs, step_holds = plan_pairs(wi)
        skipped: set[str] = set()
        wiki_dir = Path(cfg["wiki"])
        record = read_record(wiki_dir)
        # the last commit's verdict holds when wiki, source and verifier are byte for byte the same
        files = wiki_files(wiki_dir) if record is not None else {}
        same = record is not None and trusted(record, files, workspace(cfg))
        drift = {"from": record.get("source") if record else None, "trusted": same,
                 "pages": [] if not record else [
                     {"page": rel, "cls": "unchanged", "what": "", "lines": fp["lines"]} for rel, fp in
                     sorted(record["pages"].items())] if same else classify(record["pages"], workspace(cfg))}
        if not cfg["force"] and (wiki_dir / "principles").is_dir():
            # pages whose files did not change keep their verdict (git diff, else content digests)
            keep = trusted_pages(record, files, workspace(cfg)) if record is not None and not same else frozenset()
            failing = set() if same else {f.page for f in verify_wiki(load_wiki(wiki_dir, cfg["repo"]),
                                                                       workspace(cfg), trusted=keep).errors}
            rec["reverified"] = None if same else sum(1 for rel in files if "/" in rel and rel not in keep)
            skipped = already_done(jobs, wiki_dir, failing)
            # moved pages are re-stamped at commit (no redraft, no model call); changed and gone ones are
            # redrafted even where the old page still passes (its prose describes the old docstring or body)
            by_page = {f"implementations/{j['implementation']}.md": j["implementation"] for j in jobs}
            for d in drift["pages"]:
                if d["page"] in by_page:
                    if d["cls"] == "moved":
                        skipped.add(by_page[d["page"]])
                    elif d["cls"] in ("changed", "gone"):
                        skipped.discard(by_page[d["page"]])
        # a reviewer's decisions stand: a rejected pair is not redrafted the same way, an approved
        # (perhaps hand-edited) page is not overwritten, even with --force
        rejected, approved = respected(jobs, reviewer_decisions(Path(cfg["run_dir"]).parent), wiki_dir)
        skipped |= approved
        held = [result({"job": j, "started": time.time()}, "held", rejected[j["implementation"]], [])
                for j in jobs if j["implementation"] in rejected and j["implementation"] not in skipped]
        skipped |= set(rejected)
        rec["outcome"] = (f"{len(jobs)} pairs, {len(skipped)} skipped, {len(held)} rejected, "
                          f"{len(step_holds)} steps unusable")
        if drift["pages"]:
            rec["outcome"] += "; drift " + ", ".join(f"{n} {c}" for c, n in sorted(
                Counter(d["cls"] for d in drift["pages"]).items()))
        return {"plan": jobs, "skipped": sorted(skipped), "results": held, "step_holds": step_holds, "drift": drift}


def fan_out(state: RunState):
    todo = [j for j in state["plan"] if j["implementation"] not in set(state.get("skipped") or [])]
    if not todo:
        return "commit"
    return [Send("pair", {"config": state["config"], "job": j,
                          "started": time.time()}) for j in todo]


def hold_node(state: PairState) -> dict:
    return {"results": [result(state, "held", state["held"], [])]}


def build_pair_graph() -> StateGraph:
    g = StateGraph(PairState, output_schema=PairOutput)
    g.add_node("excavate", excavate)
    g.add_node("synthesize", synthesize)
    g.add_node("verify", check)
    g.add_node("hold", hold_node)
    g.add_edge(START, "excavate")
    g.add_conditional_edges("excavate", lambda s: "hold" if s.get("held") else "synthesize", ["hold", "synthesize"])
    g.add_conditional_edges("synthesize", lambda s: END if s.get("done") else "verify", ["verify", END])
    g.add_conditional_edges("verify", lambda s: END if s.get("done") else "synthesize", ["synthesize", END])
    g.add_edge("hold", END)
    return g


def build_graph(checkpointer=None):
    g = StateGraph(RunState)
    g.add_node("resolve", resolve_node)
    g.add_node("index", index_node)
    g.add_node("plan", plan_node)
    g.add_node("pair", build_pair_graph().compile())
    g.add_node("commit", commit_node)
    g.add_node("report", report_node)
    g.add_edge(START, "resolve")
    g.add_edge("resolve", "index")
    g.add_edge("index", "plan")
    g.add_conditional_edges("plan", fan_out, ["pair", "commit"])
    g.add_edge("pair", "commit")
    g.add_edge("commit", "report")
    g.add_edge("report", END)
    return g.compile(checkpointer=checkpointer)


def recursion_limit(n_pairs: int, max_repairs: int) -> int:
    # the outer graph takes 6 super-steps; each pair's sub-graph runs in one of them
    return 25 + n_pairs + 3 * (max_repairs + 1)
