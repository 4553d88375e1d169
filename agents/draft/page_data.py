"""The fields the page templates (prompts/pages/*.j2) take, as the drafter fills them: one record per
page type, so that the drafter, the synthesis (which lays model prose over them) and the commit (which
renders the Workflow pages) agree on every key. An Implementation page is an API Doc (a definition of
this repository) or a Wrapper Doc (an API of another package). The model's prose, which the synthesis
lays over the drafter's, is a record of its own (``Prose``)."""

from __future__ import annotations

from typing import Literal, NotRequired, TypeAlias, TypedDict, get_args

from tools.index.records import Symbol
from tools.index.workspace import Workspace


class SourceRef(TypedDict):
    kind: str  # "Repo"
    title: str  # "owner/name"
    url: str


class PageFields(TypedDict):
    """What every page has: its name without the repository prefix, metadata and the Overview."""

    name: str
    sources: list[SourceRef]
    domains: list[str]
    updated: str  # the Last Updated stamp
    overview: str
    description: str
    usage: str
    heuristics: list[str]  # full page names


class PrincipleData(PageFields):
    theory: str
    implementation: str  # the full page name of its one Implementation


class WorkflowStep(TypedDict):
    title: str
    principle: str | None  # the full page name; None for a pending step
    text: str  # the Principle's Overview


class WorkflowData(PageFields):
    steps: list[WorkflowStep]
    diagram: list[str] | None  # None: the template draws it from the steps


class InputParam(TypedDict):
    name: str
    type: str
    required: bool
    default: str | None  # the default's source text
    description: str


class OutputValue(TypedDict):
    name: str
    type: str
    description: str


class Example(TypedDict):
    title: str
    code: str
    lang: str


class ExternalReference(TypedDict):
    url: str
    label: str


class ImplementationCommon(TypedDict):
    name: str
    sources: list[SourceRef]
    domains: list[str]
    updated: str
    principle: str  # the full page name of the Principle it implements
    environments: list[str]
    heuristics: list[str]


class _ImplementationProse(TypedDict):
    overview: str
    description: str
    usage: str
    repo_url: str
    repo_label: str  # "owner/name"
    inputs: list[InputParam]
    outputs: list[OutputValue]
    examples: list[Example]


class ApiDocFields(_ImplementationProse):
    subtype: Literal["API Doc"]
    file: str
    start_line: int
    end_line: int
    signature: str
    import_code: str | None  # None: the definition cannot be imported (nested in a function)


class WrapperDocFields(_ImplementationProse):
    subtype: Literal["Wrapper Doc"]
    library: str
    library_url: str
    repository_files: list[str]
    signature: str | None  # None: the package is not installed, nothing was checked
    import_code: str
    external_reference: ExternalReference
    # checked against the installed package; the synthesis drops it before rendering
    verified: NotRequired[bool]


class ApiDocData(ImplementationCommon, ApiDocFields):
    pass


class WrapperDocData(ImplementationCommon, WrapperDocFields):
    pass


ImplementationData: TypeAlias = ApiDocData | WrapperDocData


class ExternalFacts(TypedDict):
    """What the drafter is told about an API of another package (agents.nodes.synthesize.external_facts);
    ``ws`` and ``symbol`` only when the package is installed where the page is drafted."""

    package: str
    qualname: str | None
    repo_url: str
    repo_label: str
    ws: NotRequired[Workspace]
    symbol: NotRequired[Symbol]
    version: NotRequired[str | None]


ProseKey = Literal[
    "principle_overview",
    "principle_description",
    "principle_usage",
    "theory",
    "implementation_description",
    "implementation_usage",
    "returns",
    "example_title",
    "example_code",
]
PROSE_KEYS: tuple[ProseKey, ...] = get_args(ProseKey)  # in the order the prompt asks for them


class Prose(TypedDict, total=False):
    """The model's prose for a pair, the fields it may write (PROSE_KEYS), once sanitised: each a
    non-empty string; ``parameters`` the descriptions of parameters the signature has."""

    principle_overview: str
    principle_description: str
    principle_usage: str
    theory: str
    implementation_description: str
    implementation_usage: str
    returns: str
    example_title: str
    example_code: str
    parameters: dict[str, str]
