"""A discovered WorkflowIndex as text: kapso's shape (WIKI_FORMAT §7), every attribute filled, and
the ``**Evidence:**`` line the amended §7 adds to each workflow. Byte-stable: nothing in it depends
on the clock, the machine or the order dictionaries were filled in.
"""

from __future__ import annotations

from typing import TypedDict


class EvidenceSpan(TypedDict):
    file: str
    start: int
    end: int


class StepPlan(TypedDict):
    api: str  # module:Qualname, or the external dotted name
    principle: str  # without the repo prefix
    implementation: str
    title: str
    api_call: str
    source: str  # "path:Lstart-end" or "package (external library)"
    external_deps: list[str]
    environment: str | None
    key_parameters: str
    inputs: str
    outputs: str
    impl_type: str  # "API Doc" or "Wrapper Doc"


class WorkflowPlan(TypedDict):
    name: str  # without the repo prefix
    description: str
    evidence: list[EvidenceSpan]
    steps: list[StepPlan]


def _code(text: str) -> str:
    return f"`{text}`"


def evidence_line(spans: list[EvidenceSpan]) -> str:
    return "**Evidence:** " + "; ".join(f"`{e['file']}` L{e['start']}-{e['end']}" for e in spans)


def render(repo: str, about: list[str], workflows: list[WorkflowPlan]) -> str:
    """The WorkflowIndex text; ``about`` are its blockquote lines (the first says how it was made)."""
    out = [f"# Workflow Index: {repo}", ""]
    out += [f"> {line}" for line in about]
    out += ["", "---", "", "## Summary", ""]
    out += [
        "| Workflow | Steps | Principles | Implementation APIs |",
        "|----------|-------|------------|---------------------|",
    ]
    for w in workflows:
        apis = ", ".join(dict.fromkeys(_code(s["implementation"]) for s in w["steps"]))
        principles = len({s["principle"] for s in w["steps"]})
        out.append(f"| {repo}_{w['name']} | {len(w['steps'])} | {principles} | {apis} |")
    out += ["", "---", ""]
    for w in workflows:
        out += [
            f"## Workflow: {repo}_{w['name']}",
            "",
            f"**File:** [→](./workflows/{repo}_{w['name']}.md)",
            f"**Description:** {w['description']}",
            evidence_line(w["evidence"]),
            "",
            "### Steps Overview",
            "",
            "| # | Step Name | Principle | Implementation | Status |",
            "|---|-----------|-----------|----------------|--------|",
        ]
        for n, s in enumerate(w["steps"], 1):
            out.append(f"| {n} | {s['title']} | {s['principle']} | {_code(s['implementation'])} | ⬜ |")
        out.append("")
        for n, s in enumerate(w["steps"], 1):
            deps = ", ".join(_code(d) for d in s["external_deps"]) or "—"
            out += [
                f"### Step {n}: {s['principle']}",
                "",
                "| Attribute | Value |",
                "|-----------|-------|",
                f"| **Principle** | {_code(f'{repo}_' + s['principle'])} |",
                f"| **Implementation** | {_code(f'{repo}_' + s['implementation'])} |",
                f"| **API Call** | {_code(s['api_call'])} |",
                f"| **Source Location** | {_code(s['source'])} |",
                f"| **External Dependencies** | {deps} |",
                f"| **Environment** | {_code(s['environment']) if s['environment'] else '—'} |",
                f"| **Key Parameters** | {s['key_parameters']} |",
                f"| **Inputs** | {s['inputs']} |",
                f"| **Outputs** | {s['outputs']} |",
                "",
            ]
        out += [
            "### Implementation Extraction Guide",
            "",
            "| Principle | Implementation | API | Source | Type |",
            "|-----------|----------------|-----|--------|------|",
        ]
        seen: set[str] = set()
        for s in w["steps"]:
            if s["implementation"] in seen:
                continue
            seen.add(s["implementation"])
            api = s["api"].split(":", 1)[1] if ":" in s["api"] else s["api"]
            out.append(
                f"| {s['principle']} | {_code(s['implementation'])} | {_code(api)} | {s['source']} | {s['impl_type']} |"
            )
        out += ["", "---", ""]
    out.append("**Legend:** `✅Type:Name` = page exists | `⬜Type:Name` = page needs creation")
    return "\n".join(out) + "\n"
