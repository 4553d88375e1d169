"""The plan: one job per Principle/Implementation pair of the WorkflowIndex.

A Principle reused by several workflows is one pair (its steps are all listed on the job); an API
shared by two Principles gets a context-specific Implementation name for the second (R43, written
into the run's copy of the WorkflowIndex). A step that cannot be used is held with its reason and
the rest of the plan stands. Pairs whose pages exist in the wiki and still verify are skipped unless
forced.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from agents.state import PairJob, StepHold, StepInfo
from agents.draft.evidence import call_key
from tools.jsonl import read_jsonl
from tools.locate import parse_api
from tools.wiki.page import TYPE_FOLDERS
from tools.wiki.workflow_index import Step, WorkflowIndex, split_row


def input_rewrites(wi: WorkflowIndex) -> dict[tuple[str, int], str]:
    """The Implementation cells the plan rewrites before anything is written, so that the run's copy
    of the WorkflowIndex (and the wiki's ``_WorkflowIndex.md`` made from it) satisfies RULES R43:

    * a Principle given a second Implementation name (R16): that step is held, its cell says why
      (not a name any more, so every later reading holds it too);
    * an Implementation name given for several Principles: the first Principle (file order) keeps
      it, each other Principle's steps get ``{name}_{Principle}``, a context-specific page of the same API.
    """
    out: dict[tuple[str, int], str] = {}
    impl_of: dict[str, str] = {}
    kept: list[Step] = []
    for step in wi.usable_steps:
        first = impl_of.setdefault(step.principle, step.implementation)
        if first != step.implementation:
            out[(step.workflow, step.number)] = (
                f"held (docs/rules.md#r16): {step.implementation.removeprefix(wi.repo + '_')} was given here, but "
                f"Principle {step.principle.removeprefix(wi.repo + '_')} already has {first.removeprefix(wi.repo + '_')}"
            )
        else:
            kept.append(step)
    owner: dict[str, str] = {}
    for step in kept:
        if owner.setdefault(step.implementation, step.principle) != step.principle:
            out[(step.workflow, step.number)] = f"`{step.implementation}_{step.principle.removeprefix(wi.repo + '_')}`"
    return out


def with_rewrites(text: str, wi: WorkflowIndex, rewrites: dict[tuple[str, int], str]) -> str:
    """The WorkflowIndex text with the rewritten Implementation cells (the run follows its copy)."""
    lines = text.split("\n")
    for step in wi.steps:
        new = rewrites.get((step.workflow, step.number))
        if new is None or step.impl_line is None:
            continue
        i = step.impl_line - 1
        cells = split_row(lines[i])
        if len(cells) >= 2:
            lines[i] = f"| {cells[0]} | {new} |"
    return "\n".join(lines)


def plan_pairs(wi: WorkflowIndex) -> tuple[list[PairJob], list[StepHold]]:
    """(one job per Principle/Implementation pair, the steps held before any work: unusable input,
    or a Principle given a second Implementation)."""
    holds: list[StepHold] = []

    def hold(step: Step, reason: str) -> None:
        holds.append(
            StepHold(
                workflow=step.workflow,
                number=step.number,
                title=step.title,
                principle=step.principle,
                implementation=step.implementation,
                reason=reason,
            )
        )

    by_impl: dict[str, list[Step]] = defaultdict(list)
    impl_of: dict[str, str] = {}
    owner_of: dict[str, str] = {}
    for step in wi.steps:
        if step.problem:
            hold(step, f"unusable input: {step.problem}")
            continue
        if impl_of.setdefault(step.principle, step.implementation) != step.implementation:
            hold(
                step,
                f"Principle {step.principle} is already implemented by {impl_of[step.principle]}; a Principle "
                f"has exactly one Implementation (docs/rules.md#r16): give this step another Principle name",
            )
            continue
        if owner_of.setdefault(step.implementation, step.principle) != step.principle:
            hold(
                step,
                f"{step.implementation} is given for two Principles ({owner_of[step.implementation]}, "
                f"{step.principle}); rename one to {{API}}_{{context}} (docs/rules.md#r43)",
            )
            continue
        by_impl[step.implementation].append(step)
    jobs: list[PairJob] = []
    for impl, steps in by_impl.items():
        first = steps[0]
        api = parse_api(first.api_call) or parse_api(first.guide_api)
        jobs.append(
            PairJob(
                principle=first.principle,
                implementation=impl,
                impl_type=first.impl_type,
                usage_key=call_key(api),
                steps=[
                    StepInfo(
                        workflow=s.workflow,
                        number=s.number,
                        title=s.title,
                        api_call=s.api_call,
                        inputs=s.inputs,
                        outputs=s.outputs,
                    )
                    for s in steps
                ],
            )
        )
    return jobs, holds


def already_done(jobs: list[PairJob], wiki_dir: Path, failing: set[str]) -> set[str]:
    """Implementation names whose two pages exist in the wiki and have no error finding."""
    done: set[str] = set()
    for job in jobs:
        rels = [
            f"{TYPE_FOLDERS['Principle']}/{job['principle']}.md",
            f"{TYPE_FOLDERS['Implementation']}/{job['implementation']}.md",
        ]
        if all((wiki_dir / r).is_file() for r in rels) and not failing.intersection(rels):
            done.add(job["implementation"])
    return done


def reviewer_decisions(runs_of_repo: Path) -> dict[str, dict[str, Any]]:
    """The latest reviewer decision per page over every run of the repository (decoded decisions.jsonl
    records, as agents.review.runs.record_decision writes them)."""
    found = [d for path in runs_of_repo.glob("*/decisions.jsonl") for d in read_jsonl(path)]
    found.sort(key=lambda d: d.get("at", ""))
    return {d["page"]: d for d in found}


def respected(
    jobs: list[PairJob], decisions: dict[str, dict[str, Any]], wiki_dir: Path
) -> tuple[dict[str, str], set[str]]:
    """(rejected pairs -> reason, pairs a reviewer approved and whose approved text is still in the wiki)."""
    import hashlib

    rejected: dict[str, str] = {}
    kept: set[str] = set()
    for job in jobs:
        pages = [
            f"{TYPE_FOLDERS['Principle']}/{job['principle']}.md",
            f"{TYPE_FOLDERS['Implementation']}/{job['implementation']}.md",
        ]
        for page in pages:
            d = decisions.get(page)
            if d is None:
                continue
            if d["decision"] == "reject":
                rejected[job["implementation"]] = f"rejected by the reviewer ({page}): {d.get('reason')}"
            elif (
                d["decision"] == "approve"
                and (wiki_dir / page).is_file()
                and d.get("sha256")
                == hashlib.sha256((wiki_dir / page).read_text(encoding="utf-8").encode()).hexdigest()
            ):
                kept.add(job["implementation"])
    return rejected, kept
