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

import time
from typing import Literal

from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Checkpointer, Send

from agents.nodes.verify_node import check
from agents.nodes.commit import commit_node
from agents.nodes.excavate import excavate
from agents.nodes.phases import index_node, plan_node, resolve_node
from agents.state import PairOutput, PairState, RunState, result
from agents.nodes.report import report_node
from agents.nodes.synthesize import synthesize


def fan_out(state: RunState) -> Literal["commit"] | list[Send]:
    todo = [j for j in state["plan"] if j["implementation"] not in set(state.get("skipped") or [])]
    if not todo:
        return "commit"
    return [Send("pair", PairState(config=state["config"], job=j, started=time.time())) for j in todo]


def hold_node(state: PairState) -> PairState:
    return {"results": [result(state, "held", state["held"], [])]}


def build_pair_graph() -> StateGraph[PairState, None, PairState, PairOutput]:
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


def build_graph(checkpointer: Checkpointer = None) -> CompiledStateGraph[RunState, None, RunState, RunState]:
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
