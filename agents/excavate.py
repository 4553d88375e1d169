"""The excavate node: find the code a step documents and gather what the synthesis needs.

Offline this is the deterministic locator plus a usage search; when the locator is not confident
the step is held with the reason (the model-driven excavation agent takes these steps when a
model is configured).
"""
from __future__ import annotations

import os
import time
from pathlib import Path

from agents.evidence import find_usages
from agents.runctx import RunConfig, traced, workflow_index, workspace
from tools.locate import Locator
from tools.records import Symbol
from tools.workspace import Workspace


def find_step(cfg: RunConfig, workflow: str, number: int):
    wi, _ = workflow_index(cfg)
    return next(s for s in wi.steps if s.workflow == workflow and s.number == number)


def symbol_at(ws: Workspace, file: str | None, qualname: str | None, start: int | None) -> Symbol | None:
    if not file or not qualname:
        return None
    return next((s for s in ws.index.file_symbols(file) if s.qualname == qualname and s.start_line == start), None)


def locator(cfg: RunConfig) -> Locator:
    return Locator(workspace(cfg), Path(cfg["cache_dir"]) if cfg["cache_dir"] else None)


def excavate(state: dict) -> dict:
    cfg, job = state["config"], state["job"]
    # REPOWIKI_PAIR_DELAY slows each pair down: for watching the progress bars, and for the test that
    # kills a run half-way and resumes it.
    time.sleep(float(os.environ.get("REPOWIKI_PAIR_DELAY") or 0))
    with traced(cfg, "excavate", job["implementation"]) as rec:
        ws = workspace(cfg)
        first = job["steps"][0]
        loc = locator(cfg).locate(find_step(cfg, first["workflow"], first["number"]))
        held = None
        if loc.kind == "internal" and (loc.qualname is None or not loc.confident):
            why = "; ".join(loc.reasons[-2:]) or "no candidate"
            held = (f"locator not confident ({loc.confidence:.2f}): {why}; the excavation agent "
                    "(run with a model) decides such steps")
        usage = None
        if not held and loc.kind == "internal" and job["usage_key"]:
            cache = Path(cfg["cache_dir"]) if cfg["cache_dir"] else None
            usage = find_usages(ws, set(state["usage_keys"]), cache).get(job["usage_key"])
        rec["outcome"] = "held" if held else f"{loc.kind} {loc.confidence:.2f}"
        return {"location": loc.details(), "usage": usage, "held": held}
