"""A chosen workflow as a WorkflowIndex section: names (one Principle and one Implementation per API,
the previous index's kept), each step's attributes from its usage, the description from the
library's own words, workflow names unique and kept from the previous index.
"""

from __future__ import annotations

import re

from tools.discover import naming
from tools.discover.attributes import api_call, inputs, key_parameters, outputs, symbol_of
from tools.discover.grouping import Group
from tools.discover.write import StepPlan, WorkflowPlan
from tools.index.docstrings import first_sentence, summary
from tools.index.workspace import Workspace
from tools.usage.miner import UsageRecord
from tools.wiki.workflow_index import WorkflowIndex


def library_words(ws: Workspace) -> set[str]:
    out = {w.lower() for w in re.split(r"[^A-Za-z0-9]+", ws.source.repo) if w}
    for p in ws.names.packages:
        out.add(p.lower())
    if ws.source.package:
        out.add(ws.source.package.lower())
    return out


class Names:
    """Principle and Implementation names, one pair per API (1:1), unique, and the previous
    index's names kept for the same API so that verified pages stay verified."""

    def __init__(self, ws: Workspace, previous: WorkflowIndex | None) -> None:
        self.library = library_words(ws)
        self.repo = ws.source.repo
        self.by_api: dict[str, tuple[str, str]] = {}
        self.taken: set[str] = set()
        self.previous: dict[str, str] = {}  # Implementation -> Principle, from the previous index
        if previous is not None:
            for st in previous.usable_steps:
                self.previous.setdefault(
                    st.implementation.removeprefix(self.repo + "_"), st.principle.removeprefix(self.repo + "_")
                )
            self.taken.update(self.previous.values())

    def of(self, api: str, preferred: str | None = None) -> tuple[str, str] | None:
        if api in self.by_api:
            return self.by_api[api]
        impl = naming.implementation(api)
        if impl is None:
            return None
        principle = self.previous.get(impl)
        if principle is None:
            principle = preferred or naming.concept(
                api.split(":", 1)[1] if ":" in api else ".".join(api.split(".")[1:]), self.library
            )
            if principle in self.taken:
                principle = f"{principle}_{impl}"
            n = 2
            base = principle
            while principle in self.taken:
                principle, n = f"{base}_{n}", n + 1
        self.taken.add(principle)
        self.by_api[api] = (principle, impl)
        return principle, impl


def plan_workflow(
    ws: Workspace,
    group: Group,
    names: Names,
    by_id: dict[int, UsageRecord],
    uses_of: dict[str, list[UsageRecord]],
    env: str | None,
    preferred: dict[str, str],
    override: tuple[str | None, str | None],
) -> WorkflowPlan | None:
    steps: list[StepPlan] = []
    earlier: list[tuple[int, UsageRecord]] = []
    for n, (api, rid) in enumerate(zip(group.apis, group.records), 1):
        rec = by_id[rid]
        named = names.of(api, preferred.get(api))
        if named is None:
            return None
        principle, impl = named
        internal = ":" in api
        sym = symbol_of(ws, rec) if internal and rec["symbol"] is not None else None
        if internal and sym is None:
            module, qualname = api.split(":", 1)
            sym = ws.index.definition(module, qualname)
            if sym is None:
                return None
        package = api.split(".")[0] if not internal else None
        steps.append(
            {
                "api": api,
                "principle": principle,
                "implementation": impl,
                "title": naming.step_title(principle),
                "api_call": api_call(rec).replace("`", "'"),
                "source": f"{sym.file}:L{sym.start_line}-{sym.end_line}"
                if sym is not None
                else f"{package} (external library)",
                "external_deps": [package] if package else [],
                "environment": env,
                "key_parameters": key_parameters(ws, sym, uses_of.get(api, [rec])),
                "inputs": inputs(ws, rec, sym, earlier, {i: r for i, r in by_id.items() if r["unit"] == rec["unit"]}),
                "outputs": outputs(ws, rec, sym),
                "impl_type": "API Doc" if internal else "Wrapper Doc",
            }
        )
        earlier.append((n, rec))
    first = group.evidence[0]
    titles = [s["title"].lower() for s in steps]
    description = f"{_goal(ws, steps)}: {', '.join(titles[:-1])} and {titles[-1]}."
    name = override[0] or naming.workflow_name(first.title if first.rank <= 2 else "", steps[-1]["principle"])
    return {
        "name": name,
        "description": (override[1] or description).replace("|", "/"),
        "evidence": [{"file": e.file, "start": e.start, "end": e.end} for e in group.evidence],
        "steps": steps,
    }


_NOT_VERBS = {"this", "these", "those", "its", "it", "a", "an", "the", "is", "was", "has", "does", "thus", "as"}


def _imperative(sentence: str) -> str:
    """A docstring's summary as a goal: "Sends a PreparedRequest." → "Send a PreparedRequest"."""
    words = sentence.strip().rstrip(".").split()
    if not words:
        return ""
    head = words[0]
    if head.lower() in _NOT_VERBS:
        return " ".join(words)
    if head[:1].isupper() and head.lower().endswith(("ches", "shes", "sses", "xes", "zes")):
        head = head[:-2]
    elif head[:1].isupper() and head.endswith("s") and not head.endswith("ss") and len(head) > 3:
        head = head[:-1]
    return " ".join([head] + words[1:])


def _goal(ws: Workspace, steps: list[StepPlan]) -> str:
    """Where the workflow leads, in the library's own words: the summary of the docstring of its last
    step that has one (the page's Overview and Usage are made of it)."""
    for st in reversed(steps):
        if ":" not in st["api"]:
            continue
        module, qualname = st["api"].split(":", 1)
        sym = ws.index.definition(module, qualname)
        first = first_sentence(summary(sym.docstring)) if sym is not None and sym.docstring else ""
        first = re.sub(r":[a-z]+:`([^`<]+?)\s*<[^>`]+>`", r"\1", first)  # :class:`Text <Target>` → Text
        first = re.sub(r":[a-z]+:", "", first)  # reST roles (:class:`X`)
        first = re.sub(r"[`*|\[\]<>]", "", first).strip()
        if 3 <= len(first.split()) <= 30 and not first.endswith((":", "…")):
            return _imperative(first)
    return f"Reach {steps[-1]['title'].lower()}"


def unique_workflow_names(plans: list[WorkflowPlan], previous: WorkflowIndex | None, repo: str) -> None:
    """Workflow names unique; a workflow that documents what a previous one did keeps its name."""
    taken: set[str] = set()
    old = (
        [
            (w.name.removeprefix(repo + "_"), {s.implementation.removeprefix(repo + "_") for s in w.steps})
            for w in previous.workflows
        ]
        if previous is not None
        else []
    )
    for p in plans:
        impls = {s["implementation"] for s in p["steps"]}
        best = max(
            ((len(impls & o) / len(impls | o), n) for n, o in old if n not in taken and impls & o),
            default=None,
        )
        if best is not None and best[0] >= 0.5:
            p["name"] = best[1]
        elif p["name"] in taken or p["name"] in {n for n, _ in old}:
            k = 2
            while f"{p['name']}_{k}" in taken:
                k += 1
            p["name"] = f"{p['name']}_{k}"
        taken.add(p["name"])
