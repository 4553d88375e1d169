"""Discovery without a model: the library's teaching material → usages → sequences → workflows →
a WorkflowIndex whose every step the locator finds again with confidence and whose every workflow
is grounded in the lines it cites.

    discover(ws, cache_dir, bounds, previous) -> Discovery

The index disposes: a step the locator would not place confidently where the miner placed it is
left out (said in ``dropped``), a workflow left with fewer than three steps or without a grounded
evidence span is left out too. What no workflow covers is listed, most used first (``uncovered``).
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import TypedDict

from tools.discover.attributes import environment
from tools.discover.grounding import Span, check_span
from tools.discover.grouping import MIN_STEPS, Bounds, Group, candidates, choose
from tools.discover.planning import Names, plan_workflow, unique_workflow_names
from tools.discover.proposals import Propose, ground, proposal_context
from tools.discover.sequences import is_public, sequences
from tools.discover.settle import Settler, roles
from tools.discover.write import WorkflowPlan, render
from tools.index.records import Symbol
from tools.index.workspace import Workspace
from tools.locate import Location, Locator
from tools.usage.material import Skip
from tools.usage.miner import Mined, UsageRecord, api_id, mine_usages, symbol_key
from tools.wiki.workflow_index import WorkflowIndex, parse_workflow_index

MAX_UNCOVERED_WHERE = 3
MAX_ROUNDS = 8  # rounds of locating and grounding the plan, each after dropping what failed


class CoverageItem(TypedDict):
    api: str  # dotted: module.Qualname
    uses: int  # calls of it in the teaching material
    where: list[str]  # "file:line", most authoritative first


class Discovery(TypedDict):
    repo: str
    method: str  # "offline mining" or "model NAME"
    text: str  # the WorkflowIndex
    workflows: list[WorkflowPlan]
    uncovered: list[CoverageItem]
    cuts: list[str]  # what --max-workflows / --max-steps left out
    dropped: list[str]  # steps and workflows left out, each with why
    skips: list[Skip]  # material that could not be read
    material: dict[str, int]  # files, units, usages, sequences
    seconds: float


def _dotted(api: str) -> str:
    return api.replace(":", ".")


def source_description(ws: Workspace) -> str:
    """Which source, in words that do not depend on the machine (no absolute path)."""
    src = ws.source
    pkg = src.package or src.repo
    rev = src.revision
    if src.origin == "pypi":
        return f"{pkg} {src.version} (source archive, sha256 {rev[:16] if rev else 'unknown'})"
    if src.origin == "installed":
        return f"the installed {pkg} {src.version or '(version unknown)'}"
    return f"a {pkg} checkout at revision {rev[:12]}" if rev else f"a {pkg} source folder (no revision recorded)"


_Asked = tuple[str | None, str | None, str, str, tuple[str | None, ...]]


def _located_as_planned(
    locator: Locator, wi: WorkflowIndex, plans: list[WorkflowPlan], memo: dict[_Asked, Location]
) -> list[tuple[int, int, str]]:
    """(workflow, step, why) for each step the locator does not place where the plan says (``memo``:
    the same question asked again, after another step was dropped, has the same answer)."""
    bad: list[tuple[int, int, str]] = []
    for wn, (w, plan) in enumerate(zip(wi.workflows, plans)):
        for i, st in enumerate(w.steps):
            sp = plan["steps"][i]
            asked = (
                st.api_call,
                st.source_hint,
                st.implementation,
                st.impl_type,
                tuple(e.outputs for e in w.steps[:i]),
            )
            if asked not in memo:
                memo[asked] = locator.locate(st, w.steps[:i])
            loc = memo[asked]
            if sp["impl_type"] == "Wrapper Doc":
                if loc.kind != "external":
                    bad.append((wn, i, f"the locator does not read {sp['api_call']} as another package's API"))
                continue
            want = sp["source"]
            got = f"{loc.file}:L{loc.start_line}-{loc.end_line}" if loc.file else None
            if loc.kind != "internal" or not loc.confident or got != want:
                bad.append(
                    (
                        wn,
                        i,
                        f"the locator places {sp['api_call']} at {got or 'nothing'} (confidence {loc.confidence:.2f}), not {want}",
                    )
                )
    return bad


def _coverage(ws: Workspace, mined: Mined, api_of: dict[int, str | None], covered: set[str]) -> list[CoverageItem]:
    uses: dict[str, list[UsageRecord]] = {}
    for r in mined["usages"]:
        a = api_of.get(r["id"])
        if a and ":" in a:
            uses.setdefault(a, []).append(r)
    public: set[str] = set()
    if ws.package:
        for name, t in ws.names.exports(ws.package).items():
            if isinstance(t, Symbol) and is_public(symbol_key(t)) and t.kind in ("class", "function"):
                public.add(f"{t.module}:{t.qualname}")
    for a, recs in uses.items():
        key = recs[0]["symbol"]
        if key is not None and is_public(key):
            public.add(a)
    out: list[CoverageItem] = []
    for a in public - covered:
        recs = sorted(uses.get(a, []), key=lambda r: (r["rank"], r["file"], r["line"]))
        out.append(
            {
                "api": _dotted(a),
                "uses": len(recs),
                "where": [f"{r['file']}:{r['line']}" for r in recs[:MAX_UNCOVERED_WHERE]],
            }
        )
    return sorted(out, key=lambda c: (-c["uses"], c["api"]))


def discover(
    ws: Workspace,
    cache_dir: Path | None = None,
    bounds: Bounds = Bounds(),
    previous: WorkflowIndex | None = None,
    method: str = "offline mining",
    propose: Propose | None = None,
) -> Discovery:
    """The WorkflowIndex of a library from its own teaching material. ``propose``: a model that
    proposes workflows from the README and the API map (its proposals are grounded by the index,
    the rest dropped with the reason); without it, or when nothing it proposes is grounded, the
    offline grouping."""
    t0 = time.perf_counter()
    mined = mine_usages(ws, cache_dir)
    locator = Locator(ws, cache_dir)
    settle = Settler(ws, locator)
    seqs = sequences(mined, settle)
    by_id = {r["id"]: r for r in mined["usages"]}
    api_of: dict[int, str | None] = {}
    for r in mined["usages"]:
        if r["symbol"] is None and r["member"]:
            key = settle(r)
            api_of[r["id"]] = f"{key['module']}:{key['qualname']}" if key else None
        else:
            api_of[r["id"]] = api_id(r)
    # how much the material uses an API, a README call counting five times a test's
    uses: Counter[str] = Counter()
    for r in mined["usages"]:
        a = api_of[r["id"]]
        if a:
            uses[a] += 5 - r["rank"]
    uses_of: dict[str, list[UsageRecord]] = {}
    for r in mined["usages"]:
        a = api_of[r["id"]]
        if a:
            uses_of.setdefault(a, []).append(r)
    cuts: list[str] = []
    dropped: list[str] = []
    groups: list[Group] | None = None
    overrides: dict[int, tuple[str | None, str | None]] = {}  # group index -> (workflow name, description)
    preferred: dict[str, str] = {}  # api id -> Principle name a model gave
    if propose is not None:
        grounded, unfounded = ground(ws, propose(proposal_context(ws, uses, uses_of, seqs)), seqs, uses)
        dropped += unfounded
        if len(grounded) > bounds.max_workflows:
            cuts.append(
                f"--max-workflows {bounds.max_workflows}: {len(grounded) - bounds.max_workflows} proposed workflow(s) left out"
            )
            grounded = grounded[: bounds.max_workflows]
        if grounded:
            groups = []
            for i, found in enumerate(grounded):
                grp = found.group
                if len(grp.apis) > bounds.max_steps:
                    cuts.append(
                        f"--max-steps {bounds.max_steps}: proposed workflow {found.name or i + 1} cut from {len(grp.apis)} steps"
                    )
                    grp = Group(grp.apis[: bounds.max_steps], grp.records[: bounds.max_steps], grp.evidence, grp.rank)
                groups.append(grp)
                overrides[i] = (found.name, found.description)
                for api, name in found.principles.items():
                    preferred.setdefault(api, name)
        else:
            dropped.append("no proposed workflow is grounded in the material: the offline grouping stands")
            method = f"offline mining (the proposals of {method} were not grounded)"
    if groups is None:
        families = roles(ws, set(uses))
        groups = choose(candidates(seqs, bounds, cuts, families), uses, bounds, cuts, families)
    names = Names(ws, previous)
    env = environment(ws)
    plans: list[WorkflowPlan] = []
    for i, g in enumerate(groups):
        p = plan_workflow(ws, g, names, by_id, uses_of, env, preferred, overrides.get(i, (None, None)))
        if p is not None:
            plans.append(p)
    about = [""]
    located: dict[_Asked, Location] = {}
    clean = False
    for _ in range(MAX_ROUNDS):  # a dropped step changes what later steps' receivers are: check again
        plans = [p for p in plans if _keep(p, dropped)]
        unique_workflow_names(plans, previous, ws.source.repo)
        if not plans:
            clean = True
            break
        wi = parse_workflow_index(render(ws.source.repo, about, plans), "discovered _WorkflowIndex.md")
        bad = _located_as_planned(locator, wi, plans, located)
        bad_spans, uncalled = _ungrounded(ws, wi, plans)
        if not bad and not bad_spans and not uncalled:
            clean = True
            break
        # failing spans first: the steps only they called are judged again with the spans that pass
        leave = {(wn, i): why for wn, i, why in bad + ([] if bad_spans else uncalled)}
        for (wn, i), why in sorted(leave.items(), reverse=True):
            dropped.append(f"{plans[wn]['name']}: step {plans[wn]['steps'][i]['api_call']} left out: {why}")
            del plans[wn]["steps"][i]
        for wn, e, why in sorted(bad_spans, reverse=True):
            dropped.append(f"{plans[wn]['name']}: evidence {why}")
            del plans[wn]["evidence"][e]
    if not clean:
        dropped += [f"{p['name']}: workflow left out: still not grounded after {MAX_ROUNDS} rounds" for p in plans]
        plans = []
    plans = [p for p in plans if _keep(p, dropped)]
    unique_workflow_names(plans, previous, ws.source.repo)
    covered = {s["api"] for p in plans for s in p["steps"]}
    n_steps = sum(len(p["steps"]) for p in plans)
    about = [
        f"Discovered by {method} from {source_description(ws)}: {len(plans)} workflows, {n_steps} steps, "
        f"mined from {mined['files']} files of the library's own README, docs, examples, docstrings and tests.",
        "Every workflow cites the lines it was mined from (**Evidence:**); Source Locations come from the index; "
        "Principle names are concepts derived from the APIs.",
    ]
    return {
        "repo": ws.source.repo,
        "method": method,
        "text": render(ws.source.repo, about, plans) if plans else "",
        "workflows": plans,
        "uncovered": _coverage(ws, mined, api_of, covered),
        "cuts": cuts,
        "dropped": dropped,
        "skips": mined["skips"],
        "material": {
            "files": mined["files"],
            "units": len(mined["units"]),
            "usages": len(mined["usages"]),
            "sequences": len(seqs),
        },
        "seconds": round(time.perf_counter() - t0, 3),
    }


def _keep(p: WorkflowPlan, dropped: list[str]) -> bool:
    internal = sum(1 for s in p["steps"] if s["impl_type"] == "API Doc")
    if len(p["steps"]) >= MIN_STEPS and internal >= 2 and p["evidence"]:
        return True
    why = (
        "no grounded evidence left"
        if not p["evidence"]
        else f"{len(p['steps'])} steps left ({internal} of the library); a workflow needs {MIN_STEPS}, two of them the library's"
    )
    dropped.append(f"{p['name']}: workflow left out: {why}")
    return False


def _ungrounded(
    ws: Workspace, wi: WorkflowIndex, plans: list[WorkflowPlan]
) -> tuple[list[tuple[int, int, str]], list[tuple[int, int, str]]]:
    """(evidence spans that fail R51's check, steps no passing span calls), each (workflow, index, why)."""
    spans_out: list[tuple[int, int, str]] = []
    steps_out: list[tuple[int, int, str]] = []
    for wn, (w, plan) in enumerate(zip(wi.workflows, plans)):
        called: set[int] = set()
        for e, span in enumerate(plan["evidence"]):
            why, steps = check_span(ws, Span(span["file"], span["start"], span["end"]), list(w.steps))
            if why:
                spans_out.append((wn, e, why))
            else:
                called |= set(steps)
        for i, st in enumerate(w.steps):
            if st.number not in called:
                steps_out.append((wn, i, "no cited line calls it in the order of the steps"))
    return spans_out, steps_out
