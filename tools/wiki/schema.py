"""The page types of WIKI_FORMAT.md §4 as data: level-2 sections in order, required level-3
subsections under each, and which are optional. The verifier (R6, R31) and the templates
read these; nothing else hard-codes a section list."""

from __future__ import annotations

from dataclasses import dataclass

IMPL_SUBTYPES = ("API Doc", "Wrapper Doc", "Pattern Doc", "External Tool Doc")


@dataclass(frozen=True)
class SectionSpec:
    title: str
    required: bool = True
    children: tuple[str, ...] = ()  # required level-3 subsections, in order
    optional_children: tuple[str, ...] = ()  # allowed level-3 subsections that may be absent


@dataclass(frozen=True)
class PageSchema:
    type: str
    sections: tuple[SectionSpec, ...]

    def required_titles(self) -> list[str]:
        return [s.title for s in self.sections if s.required]

    def allowed_titles(self) -> list[str]:
        return [s.title for s in self.sections]


_OVERVIEW = SectionSpec("Overview", children=("Description", "Usage"))

WORKFLOW = PageSchema(
    "Workflow",
    (
        _OVERVIEW,
        SectionSpec("Execution Steps"),
        SectionSpec("Execution Diagram"),
        SectionSpec("Related Pages"),
    ),
)
PRINCIPLE = PageSchema(
    "Principle",
    (
        _OVERVIEW,
        SectionSpec("Theoretical Basis"),
        SectionSpec("Practical Guide", required=False),
        SectionSpec("Related Pages", children=("Implemented By",), optional_children=("Uses Heuristic",)),
    ),
)
_IMPL_RELATED = SectionSpec(
    "Related Pages", children=("Implements Principle",), optional_children=("Requires Environment", "Uses Heuristic")
)
_IO = SectionSpec("I/O Contract", children=("Inputs", "Outputs"))
_EXAMPLES = SectionSpec("Usage Examples")
IMPLEMENTATION = {
    "API Doc": PageSchema(
        "Implementation",
        (
            _OVERVIEW,
            SectionSpec("Code Reference", children=("Source Location", "Signature", "Import")),
            _IO,
            _EXAMPLES,
            _IMPL_RELATED,
        ),
    ),
    "Wrapper Doc": PageSchema(
        "Implementation",
        (
            _OVERVIEW,
            SectionSpec(
                "Code Reference",
                children=("Source Location", "Import"),
                optional_children=("Signature", "External Reference"),
            ),
            _IO,
            _EXAMPLES,
            _IMPL_RELATED,
        ),
    ),
    "Pattern Doc": PageSchema(
        "Implementation",
        (
            _OVERVIEW,
            SectionSpec("Interface Specification", children=("Required Signature", "Constraints")),
            _IO,
            _EXAMPLES,
            _IMPL_RELATED,
        ),
    ),
    "External Tool Doc": PageSchema(
        "Implementation",
        (
            _OVERVIEW,
            SectionSpec("Code Reference", children=("Tool Location",), optional_children=("Import",)),
            _IO,
            _EXAMPLES,
            _IMPL_RELATED,
        ),
    ),
}
ENVIRONMENT = PageSchema(
    "Environment",
    (
        _OVERVIEW,
        SectionSpec("System Requirements"),
        SectionSpec("Dependencies", children=("System Packages", "Python Packages")),
        SectionSpec("Credentials"),
        SectionSpec("Quick Install"),
        SectionSpec("Code Evidence"),
        SectionSpec("Common Errors"),
        SectionSpec("Compatibility Notes"),
        SectionSpec("Related Pages"),
    ),
)
HEURISTIC = PageSchema(
    "Heuristic",
    (
        _OVERVIEW,
        SectionSpec("The Insight (Rule of Thumb)"),
        SectionSpec("Reasoning"),
        SectionSpec("Related Pages"),
    ),
)


def schema_for(page_type: str, subtype: str | None = None) -> PageSchema | None:
    if page_type == "Implementation":
        return IMPLEMENTATION.get(subtype or "API Doc")
    return {"Workflow": WORKFLOW, "Principle": PRINCIPLE, "Environment": ENVIRONMENT, "Heuristic": HEURISTIC}.get(
        page_type
    )


# Allowed semantic links (WIKI_FORMAT §5): (source type, edge) -> target type
EDGES = {
    ("Workflow", "step"): "Principle",
    ("Workflow", "uses_heuristic"): "Heuristic",
    ("Principle", "implemented_by"): "Implementation",
    ("Principle", "uses_heuristic"): "Heuristic",
    ("Implementation", "implements"): "Principle",
    ("Implementation", "requires_env"): "Environment",
    ("Implementation", "uses_heuristic"): "Heuristic",
    ("Environment", "required_by"): "Implementation",
    ("Heuristic", "used_by"): ("Implementation", "Workflow"),
}
SOURCE_KINDS = {"Repo", "Doc", "Paper", "Blog"}
EXTRA_SOURCE_KINDS = {"Principle": {"Textbook"}, "Heuristic": {"Discussion"}}
INDEX_FILES = {
    "Principle": "_PrincipleIndex.md",
    "Implementation": "_ImplementationIndex.md",
    "Environment": "_EnvironmentIndex.md",
    "Heuristic": "_HeuristicIndex.md",
}
INDEX_HEADERS = {
    "Principle": ["Page", "File", "Connections", "Notes"],
    "Implementation": ["Page", "File", "Connections", "Source", "Notes"],
    "Environment": ["Page", "File", "Connections", "Notes"],
    "Heuristic": ["Page", "File", "Connections", "Notes"],
}
TOKEN_KINDS = {
    "Workflow": "Workflow",
    "Principle": "Principle",
    "Implementation": "Impl",
    "Environment": "Env",
    "Heuristic": "Heuristic",
}
