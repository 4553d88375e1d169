"""Every record the run passes between its nodes, in one place: a pair's job and its state in the
graph, the pair's result, and the run's state. The records the tools make (a location, a finding)
are declared beside their makers and named here, so a node's signature says what it reads."""
from __future__ import annotations

import operator
import time
from typing import Annotated, Literal, TypedDict

from agents.draft.evidence import Usage
from agents.runctx import RunConfig
from agents.verify.findings import FindingRecord
from tools.locate import LocationRecord


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


class PairState(TypedDict, total=False):
    config: RunConfig
    job: PairJob
    started: float
    location: LocationRecord
    usage: Usage | None  # a real usage of the API found in the repository
    held: str | None
    texts: dict[str, str]
    prose: dict[str, object] | None  # the model's answer, field by field
    findings: list[FindingRecord]
    repairs: Repairs
    rounds: int
    done: bool
    results: Annotated[list[PairResult], operator.add]


class PairOutput(TypedDict):
    results: Annotated[list[PairResult], operator.add]


class RunState(TypedDict, total=False):
    config: RunConfig
    source: dict
    index: dict
    plan: list[PairJob]
    step_holds: list[StepHold]
    skipped: list[str]
    drift: dict  # agents.drift: the last verified source and each recorded page's class (update runs)
    results: Annotated[list[PairResult], operator.add]
    commit: dict
    report: dict


def result(state: PairState, outcome: Literal["verified", "held"], reason: str | None,
           findings: list[FindingRecord]) -> PairResult:
    job = state["job"]
    return PairResult(principle=job["principle"], implementation=job["implementation"], outcome=outcome,
                      reason=reason, texts=state.get("texts") or {}, findings=findings,
                      location=state.get("location"), rounds=state.get("rounds", 0), steps=job["steps"],
                      seconds=round(time.time() - state.get("started", time.time()), 3))
