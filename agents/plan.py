"""The plan: one job per Principle/Implementation pair of the WorkflowIndex.

A Principle reused by several workflows is one pair (its steps are all listed on the job); an API
shared by two Principles must already carry two context-specific Implementation names (R43), or
the WorkflowIndex is unusable. Pairs whose pages exist in the wiki and still verify are skipped
unless forced.
"""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import TypedDict

from agents.draft import StepInfo
from agents.evidence import call_key
from tools.errors import UsageError
from tools.locate import parse_api
from tools.wikipage import TYPE_FOLDERS
from tools.workflow_index import WorkflowIndex


class PairJob(TypedDict):
    principle: str  # full page names
    implementation: str
    impl_type: str
    steps: list[StepInfo]
    usage_key: str | None


def plan_pairs(wi: WorkflowIndex) -> list[PairJob]:
    by_impl: dict[str, list] = defaultdict(list)
    principles_of: dict[str, set[str]] = defaultdict(set)
    impls_of: dict[str, set[str]] = defaultdict(set)
    for step in wi.steps:
        by_impl[step.implementation].append(step)
        principles_of[step.implementation].add(step.principle)
        impls_of[step.principle].add(step.implementation)
    for impl, ps in principles_of.items():
        if len(ps) > 1:
            raise UsageError(f"{wi.path}: {impl} is given for {len(ps)} Principles ({', '.join(sorted(ps))}); "
                             "give each Principle its own context-specific Implementation name (RULES R43)")
    for p, impls in impls_of.items():
        if len(impls) > 1:
            raise UsageError(f"{wi.path}: Principle {p} has {len(impls)} Implementations ({', '.join(sorted(impls))}); "
                             "a Principle has exactly one (RULES R16)")
    jobs = []
    for impl, steps in by_impl.items():
        first = steps[0]
        api = parse_api(first.api_call) or parse_api(first.guide_api)
        jobs.append(PairJob(
            principle=first.principle, implementation=impl, impl_type=first.impl_type, usage_key=call_key(api),
            steps=[StepInfo(workflow=s.workflow, number=s.number, title=s.title, api_call=s.api_call,
                            inputs=s.inputs, outputs=s.outputs) for s in steps]))
    return jobs


def already_done(jobs: list[PairJob], wiki_dir: Path, failing: set[str]) -> set[str]:
    """Implementation names whose two pages exist in the wiki and have no error finding."""
    done = set()
    for job in jobs:
        rels = [f"{TYPE_FOLDERS['Principle']}/{job['principle']}.md",
                f"{TYPE_FOLDERS['Implementation']}/{job['implementation']}.md"]
        if all((wiki_dir / r).is_file() for r in rels) and not failing.intersection(rels):
            done.add(job["implementation"])
    return done


def reviewer_decisions(runs_of_repo: Path) -> dict[str, dict]:
    """The latest reviewer decision per page over every run of the repository."""
    import json
    found: list[dict] = []
    for path in runs_of_repo.glob("*/decisions.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                found.append(json.loads(line))
            except ValueError:
                continue
    found.sort(key=lambda d: d.get("at", ""))
    return {d["page"]: d for d in found}


def respected(jobs: list[PairJob], decisions: dict[str, dict], wiki_dir: Path) -> tuple[dict[str, str], set[str]]:
    """(rejected pairs -> reason, pairs a reviewer approved and whose approved text is still in the wiki)."""
    import hashlib
    rejected, kept = {}, set()
    for job in jobs:
        pages = [f"{TYPE_FOLDERS['Principle']}/{job['principle']}.md",
                 f"{TYPE_FOLDERS['Implementation']}/{job['implementation']}.md"]
        for page in pages:
            d = decisions.get(page)
            if d is None:
                continue
            if d["decision"] == "reject":
                rejected[job["implementation"]] = f"rejected by the reviewer ({page}): {d.get('reason')}"
            elif d["decision"] == "approve" and (wiki_dir / page).is_file() and d.get("sha256") == \
                    hashlib.sha256((wiki_dir / page).read_text(encoding="utf-8").encode()).hexdigest():
                kept.add(job["implementation"])
    return rejected, kept
