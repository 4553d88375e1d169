"""The run report's data (agents/nodes/report.py): what report.md (prompts/report.md.j2) and
summary.json are made of, and the part of it the run's state keeps for the run's own summary
(agents/run.py, and agents/update.py through ``--json``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NotRequired, TypedDict

from agents.drift import DriftClass, SourceRecord
from agents.verify.verifier import VerifySummary
from tools.source.resolve import Origin


class Timing(TypedDict):
    """One node of trace.jsonl, summed over its executions."""

    node: str
    count: int
    total: float  # seconds
    max: float
    tokens: int
    calls: int
    cost: float  # USD


class ReportSource(TypedDict):
    origin: Origin
    version: str | None
    revision: str | None
    root: str


class UsageTotals(TypedDict):
    calls: int
    tokens: int
    cost: str  # USD, or why there is none


class PageRow(TypedDict):
    page: str
    type: str  # "Principle" or "Implementation"
    location: str  # "file:Lstart-end", the external package, or "—"
    paired: str  # the other page of the pair
    confidence: str  # the locator's, two decimals, or "—"
    rounds: int


class HeldRow(TypedDict):
    page: str
    reason: str


class StepHoldRow(TypedDict):
    step: str  # "workflow N: title"
    reason: str


class CoverageRow(TypedDict):
    name: str  # the workflow, without the repository prefix
    done: int  # steps whose two pages are in the wiki
    total: int


class RuleRow(TypedDict):
    rule: str
    drafts: int  # findings on this run's drafts
    wiki: int  # findings in the committed wiki


class CriticRow(TypedDict):
    page: str
    ratio: float | None  # supported claims over all claims
    unsupported: str  # the claims the critic was unsure of, or "—"


class Confidence(TypedDict):
    min: float
    median: float


class DriftRow(TypedDict):
    page: str
    cls: DriftClass
    what: str


# The update's drift section: the last verified source ("from", None on a first run), the source the
# wiki is verified against now ("to", empty when unknown), and every recorded page that is not unchanged.
DriftSection = TypedDict(
    "DriftSection",
    {
        "from": SourceRecord | None,
        "to": Mapping[str, object],
        "from_text": str,
        "to_text": str,
        "pages": list[DriftRow],
        "counts": list[tuple[DriftClass, int]],
        "restamped": list[str],
    },
)


class UncoveredRow(TypedDict):
    api: str
    uses: int
    where: str  # "file:line, …", most authoritative first


class DiscoverySection(TypedDict):
    """What the discover phase did (discovery.json), when the run discovered its WorkflowIndex."""

    method: str
    workflows: int
    steps: int
    seconds: float
    material: dict[str, int]
    uncovered: list[UncoveredRow]  # the first MAX_UNCOVERED_ROWS
    uncovered_total: int
    cuts: list[str]
    dropped: list[str]
    skips: list[str]


class ReportData(TypedDict):
    repo: str
    run_id: str
    wiki: str
    drafter: str
    source: ReportSource
    workflow_index: str | None  # where the run's WorkflowIndex was read from
    steps_total: int
    pairs_total: int
    pairs_planned: int
    committed_pairs: int
    held_pairs: int
    skipped_pairs: int
    counts: dict[str, int]  # pages written per type
    unchanged: int
    held: list[HeldRow]
    wiki_pairs: int
    one_to_one_findings: int
    verify: VerifySummary
    example_ratio: str
    seconds: float | None  # since the run started, resumed pauses included
    startup_seconds: float | None
    usage: UsageTotals
    pages: list[PageRow]
    types: list[tuple[str, int]]  # committed pages per type (and subtype)
    input_notes: list[str]
    step_holds: list[StepHoldRow]
    coverage: list[CoverageRow]
    index_rows: list[tuple[str, int]]  # index file -> rows
    index: dict[str, int | float | str | None]  # the index's statistics
    apis: int
    committed: list[str]
    findings_per_rule: list[RuleRow]
    timings: list[Timing]
    critic: list[CriticRow]
    confidence: Confidence | None
    drift: DriftSection
    discovery: DiscoverySection | None


class ReportSummary(TypedDict):
    """The report node's output in the run's state: what the run's summary needs of the report."""

    steps_total: NotRequired[int]  # absent in a checkpoint of an older version
    pairs_total: NotRequired[int]
    committed_pairs: int
    held_pairs: int
    skipped_pairs: int
    pairs_planned: int
    counts: dict[str, int]
    unchanged: int
    held: list[HeldRow]
    verify: VerifySummary
    coverage: list[CoverageRow]
    drift: DriftSection
