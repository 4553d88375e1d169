"""Every record the run passes between its nodes, in one place: a pair's job and its state in the
graph, the pair's result, and the run's state. The records the tools make (a location, a finding)
are declared beside their makers and named here, so a node's signature says what it reads."""

from __future__ import annotations

import operator
import time
from collections.abc import Mapping
from typing import Annotated, Literal, NotRequired, TypedDict

from agents.draft.evidence import Usage
from agents.drift import Drift, SourceRecord
from agents.model.critic import Verdict
from agents.report_data import ReportSummary
from agents.runctx import RunConfig
from agents.verify.findings import FindingRecord
from agents.verify.verifier import VerifySummary
from tools.locate import LocationRecord
from tools.source.resolve import Origin


class StepInfo(TypedDict):
    workflow: str
    number: int
    title: str
    api_call: str | None
    inputs: str | None
    outputs: str | None


class PairJob(TypedDict):
    principle: str  # full page names
    implementation: str
    impl_type: str
    steps: list[StepInfo]
    usage_key: str | None


class StepHold(TypedDict):
    """A step the plan cannot turn into a pair: held with its reason, its workflow goes on."""

    workflow: str
    number: int
    title: str
    principle: str  # "" when the input gives no usable name
    implementation: str
    reason: str


class Repairs(TypedDict, total=False):
    no_usage_example: bool
    no_call_example: bool
    plain_overview: bool
    no_pseudocode: bool
    plain_descriptions: bool
    drafter_params: bool  # the drafter's parameter descriptions (from the source), not the model's
    drafter_prose: bool  # the drafter's extractive prose, not the model's
    critic: bool  # the model rewrites the claims the critic contradicted


class PairResult(TypedDict):
    principle: str
    implementation: str
    outcome: Literal["verified", "held"]
    reason: str | None
    texts: dict[str, str]  # rel path -> page text
    findings: list[FindingRecord]
    location: LocationRecord | None
    rounds: int
    steps: list[StepInfo]
    seconds: float
    critic: NotRequired[Verdict]  # the model critic's word on a verified pair (--critic)


class PairState(TypedDict, total=False):
    config: RunConfig
    job: PairJob
    started: float
    location: LocationRecord
    usage: Usage | None  # a real usage of the API found in the repository
    held: str | None
    texts: dict[str, str]
    prose: Mapping[str, object] | None  # the model's answer, field by field
    findings: list[FindingRecord]
    repairs: Repairs
    rounds: int
    done: bool
    results: Annotated[list[PairResult], operator.add]


class PairOutput(TypedDict):
    results: Annotated[list[PairResult], operator.add]


class ResolvedSource(TypedDict):
    """The source the run documents, as the resolve node found it."""

    root: str
    origin: Origin
    version: str | None
    revision: str | None
    url: str


# The plan's view of drift (agents.drift): the source the wiki was last verified against, whether that
# verdict still holds as a whole, and each recorded page's class.
RunDrift = TypedDict("RunDrift", {"from": SourceRecord | None, "trusted": bool, "pages": list[Drift]})


class CommitSummary(TypedDict):
    """What the commit node did to the wiki."""

    written: list[str]  # files whose content changed on disk
    unchanged: list[str]  # pages of this run already on disk with the same content
    committed: list[str]  # pages of this run now in the wiki
    held: dict[str, str]  # page -> reason (pages that did not make it)
    held_findings: dict[str, list[FindingRecord]]
    index_rows: dict[str, int]
    statuses: dict[str, int]  # "done" / "open" step counts
    verify: VerifySummary  # the final whole-wiki verification
    restamped: list[str]  # moved pages given their new Lines without a redraft
    source: SourceRecord  # what the wiki is now verified against


class RunState(TypedDict, total=False):
    config: RunConfig
    source: ResolvedSource
    index: dict[str, int | float | str | None]  # the index's statistics (tools.index.build)
    plan: list[PairJob]
    step_holds: list[StepHold]
    skipped: list[str]
    drift: RunDrift  # update runs
    results: Annotated[list[PairResult], operator.add]
    commit: CommitSummary
    report: ReportSummary  # the report node's headline numbers (agents.nodes.report)


def result(
    state: PairState, outcome: Literal["verified", "held"], reason: str | None, findings: list[FindingRecord]
) -> PairResult:
    job = state["job"]
    return PairResult(
        principle=job["principle"],
        implementation=job["implementation"],
        outcome=outcome,
        reason=reason,
        texts=state.get("texts") or {},
        findings=findings,
        location=state.get("location"),
        rounds=state.get("rounds", 0),
        steps=job["steps"],
        seconds=round(time.time() - state.get("started", time.time()), 3),
    )
