"""The discover phase: when a run has no WorkflowIndex (none given, none in the wiki, none shipped)
or is asked to (``--discover``), the library's own teaching material is mined and a WorkflowIndex
written from it (tools/discover). It runs before the graph: the run's copy of the WorkflowIndex is
the plan's input, and a resumed run reads that copy instead of discovering again.

With a model, the model proposes workflows and concept names from the README and a map of the
public API (all of it quoted data in the prompt); the index grounds every proposal, and the offline
grouping stands when nothing proposed is grounded. Offline discovery needs no key.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TypedDict

from agents.model.llm import BudgetExceeded, ModelOutputError, ModelRecord, Usage, door
from prompts import template_env
from tools.discover.discovery import CoverageItem, Discovery, discover
from tools.discover.grouping import Bounds
from tools.discover.proposals import ProposalContext, Proposed, ProposedStep
from tools.errors import UsageError
from tools.index.workspace import open_workspace
from tools.usage.material import Skip
from tools.wiki.workflow_index import WorkflowIndex, WorkflowIndexError, parse_workflow_index

log = logging.getLogger(__name__)


class DiscoveryRecord(TypedDict):
    """discovery.json in the run folder: what the discover phase found and left out (the report's
    Discovery section reads it)."""

    repo: str
    method: str
    workflows: int
    steps: int
    seconds: float
    material: dict[str, int]
    uncovered: list[CoverageItem]
    cuts: list[str]
    dropped: list[str]
    skips: list[Skip]
    tokens: int
    model_calls: int


def previous_index(wiki: Path) -> WorkflowIndex | None:
    """The wiki's own WorkflowIndex (a discovered one keeps its names through an update run)."""
    path = wiki / "_WorkflowIndex.md"
    if not path.is_file():
        return None
    try:
        return parse_workflow_index(path.read_text(encoding="utf-8", errors="replace"), str(path))
    except WorkflowIndexError:
        return None


def _validate(obj: dict[str, object]) -> list[str]:
    flows = obj.get("workflows")
    if not isinstance(flows, list) or not flows:
        return ['the answer needs a non-empty "workflows" list']
    problems = []
    for i, w in enumerate(flows):
        if not isinstance(w, dict) or not isinstance(w.get("steps"), list):
            problems.append(f"workflow {i + 1} needs a name and a list of steps")
    return problems


def _proposals(answer: Mapping[str, object]) -> list[Proposed]:
    out: list[Proposed] = []
    flows = answer.get("workflows")
    for w in flows if isinstance(flows, list) else []:
        if not isinstance(w, dict):
            continue
        steps: list[ProposedStep] = []
        raw = w.get("steps")
        for st in raw if isinstance(raw, list) else []:
            if isinstance(st, dict):
                steps.append({"api": str(st.get("api") or ""), "principle": str(st.get("principle") or "")})
        out.append({"name": str(w.get("name") or ""), "description": str(w.get("description") or ""), "steps": steps})
    return out


class _ModelProposer:
    """The model proposes; the index (tools/discover/proposals.py) disposes."""

    def __init__(self, model: ModelRecord, bounds: Bounds) -> None:
        self.model, self.bounds = model, bounds
        self.used = Usage()
        self.calls = 0
        self.failure: str | None = None

    def __call__(self, ctx: ProposalContext) -> list[Proposed]:
        llm = door(self.model)
        if llm is None:
            return []
        env = template_env()
        system = env.get_template("discover_system.md.j2").render(
            package=ctx["package"] or ctx["repo"], max_workflows=self.bounds.max_workflows
        )
        user = env.get_template("discover_user.md.j2").render(
            repo=ctx["repo"], readme=ctx["readme"], api_map=ctx["api_map"], taught=ctx["taught"]
        )
        self.calls += 1
        try:
            answer = llm.complete_json(
                [{"role": "system", "content": system}, {"role": "user", "content": user}],
                step="discover",
                validate=_validate,
                used=self.used,
            )
        except (ModelOutputError, BudgetExceeded) as exc:
            self.failure = f"the model's answer could not be used ({type(exc).__name__}: {str(exc)[:200]})"
            return []
        return _proposals(answer)


def run_discovery(
    repo: str,
    source: str | None,
    cache_dir: Path | None,
    wiki: Path,
    bounds: Bounds,
    model: ModelRecord | None,
) -> tuple[Discovery, DiscoveryRecord]:
    """Discover the WorkflowIndex of ``repo``; UsageError (exit 2) when the material teaches no
    workflow at all."""
    if bounds.max_workflows < 1 or bounds.max_steps < 3:
        raise UsageError("--max-workflows must be ≥ 1 and --max-steps ≥ 3 (a workflow has 3–8 steps)")
    ws = open_workspace(repo, source, cache_dir)
    proposer = _ModelProposer(model, bounds) if model else None
    method = f"the model {model['model']} (proposals grounded by the index)" if model else "offline mining"
    found = discover(ws, cache_dir, bounds, previous_index(wiki), method, proposer)
    record: DiscoveryRecord = {
        "repo": repo,
        "method": found["method"],
        "workflows": len(found["workflows"]),
        "steps": sum(len(w["steps"]) for w in found["workflows"]),
        "seconds": found["seconds"],
        "material": found["material"],
        "uncovered": found["uncovered"],
        "cuts": found["cuts"],
        "dropped": ([proposer.failure] if proposer and proposer.failure else []) + found["dropped"],
        "skips": found["skips"],
        "tokens": proposer.used.tokens if proposer else 0,
        "model_calls": proposer.calls if proposer else 0,
    }
    if not found["text"]:
        why = found["dropped"][-1] if found["dropped"] else "no two public calls are taught together"
        raise UsageError(
            f"no workflow could be discovered for {repo} ({found['material']['files']} files of teaching material, "
            f"{found['material']['usages']} calls of its API; {why}); pass --workflow-index FILE "
            "(format: docs/workflow-index.md)"
        )
    return found, record


def write_record(run_dir: Path, record: DiscoveryRecord) -> None:
    (run_dir / "discovery.json").write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
