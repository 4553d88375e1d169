"""Discovery without a model: the library's teaching material → usages → sequences → workflows →
a WorkflowIndex whose every step the locator finds again with confidence and whose every workflow
is grounded in the lines it cites.

    discover(ws, cache_dir, bounds, previous) -> Discovery

The index disposes: a step the locator would not place confidently where the miner placed it is
left out (said in ``dropped``), a workflow left with fewer than three steps or without a grounded
evidence span is left out too. What no workflow covers is listed, most used first (``uncovered``).
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TypedDict

from tools.discover import naming
from tools.discover.attributes import api_call, environment, inputs, key_parameters, outputs, symbol_of
from tools.discover.grounding import Span, check_span
from tools.discover.grouping import MIN_STEPS, Bounds, Group, candidates, choose
from tools.discover.proposals import Proposed, ground
from tools.discover.sequences import Sequence, is_public, sequences
from tools.discover.write import StepPlan, WorkflowPlan, render
from tools.index.docstrings import first_sentence, summary
from tools.index.records import Symbol
from tools.index.workspace import Workspace
from tools.locate import Location, Locator
from tools.usage.material import Skip
from tools.usage.miner import Mined, SymbolKey, UsageRecord, api_id, mine_usages, symbol_key
from tools.wiki.workflow_index import Step, WorkflowIndex, parse_workflow_index

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


def _library_words(ws: Workspace) -> set[str]:
    out = {w.lower() for w in re.split(r"[^A-Za-z0-9]+", ws.source.repo) if w}
    for p in ws.names.packages:
        out.add(p.lower())
    if ws.source.package:
        out.add(ws.source.package.lower())
    return out


def _probe(repo: str, api_call_text: str, member: str, receiver: str | None) -> tuple[Step, list[Step]]:
    """A step as a WorkflowIndex would give it, to ask the locator where a call goes."""

    def step(n: int, outputs: str | None, call: str | None) -> Step:
        return Step(
            workflow=f"{repo}_Probe",
            number=n,
            title="probe",
            principle=f"{repo}_Probe_{n}",
            implementation=f"{repo}_{naming.implementation('x:' + member) or 'Probe'}",
            api_call=call,
            source_hint=None,
            external_deps=(),
            environment=None,
            key_parameters=None,
            inputs=None,
            outputs=outputs,
            status=None,
            impl_type="API Doc",
            guide_api=None,
            line=0,
            status_line=None,
        )

    earlier = [step(1, f"a {receiver}", None)] if receiver else []
    return step(2, None, api_call_text), earlier


class _Settler:
    """Calls the miner could not place (a method reached through ``__getattr__``, an object of
    unknown class), placed by the run's own locator: kept only when it is confident."""

    def __init__(self, ws: Workspace, locator: Locator) -> None:
        self.ws, self.locator = ws, locator
        self.memo: dict[tuple[str | None, str, tuple[str, ...]], SymbolKey | None] = {}

    def __call__(self, rec: UsageRecord) -> SymbolKey | None:
        member = rec["member"] or ""
        # the keywords a call passes tell overloads of one name apart (LoraModel's add_weighted_adapter
        # takes combination_type, IA3Model's does not): one question per receiver, name and keywords
        key = (rec["receiver_type"], member, tuple(sorted(rec["keywords"])))
        if key not in self.memo:
            receiver = rec["receiver_type"].split(":")[-1].split(".")[-1] if rec["receiver_type"] else None
            step, earlier = _probe(self.ws.source.repo, api_call(rec), member, receiver)
            loc = self.locator.locate(step, earlier)
            ok = loc.kind == "internal" and loc.confident and loc.symbol is not None and loc.symbol.name == member
            self.memo[key] = symbol_key(loc.symbol) if ok and loc.symbol is not None else None
        return self.memo[key]


def _roles(ws: Workspace, apis: set[str]) -> dict[str, str]:
    """An API's family: a class's topmost base in the repository (sibling config classes share
    one), a method by its class's family and its name."""

    def family(cls: Symbol) -> str:
        mro = [c for c in ws.names.mro(cls) if c.kind == "class"]
        top = mro[-1] if len(mro) > 1 else cls
        return f"{top.module}:{top.qualname}"

    out: dict[str, str] = {}
    for api in apis:
        if ":" not in api:
            continue
        module, qualname = api.split(":", 1)
        sym = ws.index.definition(module, qualname)
        if sym is None:
            continue
        if sym.kind == "class":
            out[api] = family(sym)
        elif sym.kind == "method" and sym.parent:
            owner = ws.index.definition(module, sym.parent)
            if owner is not None:
                out[api] = f"{family(owner)}.{sym.name}"
    return out


class _Names:
    """Principle and Implementation names, one pair per API (1:1), unique, and the previous
    index's names kept for the same API so that verified pages stay verified."""

    def __init__(self, ws: Workspace, previous: WorkflowIndex | None) -> None:
        self.library = _library_words(ws)
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


def _plan(
    ws: Workspace,
    group: Group,
    names: _Names,
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
                "inputs": inputs(ws, rec, sym, earlier),
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
        first = re.sub(r":[a-z]+:", "", first)  # reST roles (:class:`X`)
        first = re.sub(r"[`*|\[\]<>]", "", first).strip()
        if 3 <= len(first.split()) <= 30 and not first.endswith((":", "…")):
            return _imperative(first)
    return f"Reach {steps[-1]['title'].lower()}"


def _unique_workflow_names(plans: list[WorkflowPlan], previous: WorkflowIndex | None, repo: str) -> None:
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


class ProposalContext(TypedDict):
    """What a model sees to propose workflows: the README, the public API with first docstring
    lines and where each is used, and the sequences the material teaches (all of it quoted data)."""

    repo: str
    package: str
    readme: str
    api_map: list[str]
    taught: list[str]


Propose = Callable[[ProposalContext], list[Proposed]]
MAX_README = 8000
MAX_API_MAP = 150
MAX_TAUGHT = 40


def _readme(ws: Workspace) -> str:
    for name in ("README.md", "README.rst", "README.txt", "README"):
        path = ws.source.root / name
        if path.is_file() and not path.is_symlink() and path.stat().st_size < 1_000_000:
            return path.read_text(encoding="utf-8", errors="replace")[:MAX_README]
    return ""


def proposal_context(
    ws: Workspace, uses: Counter[str], uses_of: dict[str, list[UsageRecord]], seqs: list[Sequence]
) -> ProposalContext:
    api_map: list[str] = []
    for api, _ in sorted(uses.items(), key=lambda t: (-t[1], t[0])):
        if ":" not in api or len(api_map) >= MAX_API_MAP:
            continue
        module, qualname = api.split(":", 1)
        sym = ws.index.definition(module, qualname)
        first = (sym.docstring or "").strip().split("\n")[0][:120] if sym is not None else ""
        where = ", ".join(
            f"{r['file']}:{r['line']}"
            for r in sorted(uses_of.get(api, []), key=lambda r: (r["rank"], r["file"], r["line"]))[:2]
        )
        api_map.append(f"{module}.{qualname} — {first or '(no docstring)'} — used in {where}")
    taught: list[str] = []
    for seq in sorted(seqs, key=lambda q: (q.evidence.rank, -len(q.apis), q.evidence.file, q.evidence.start))[
        :MAX_TAUGHT
    ]:
        taught.append(
            " → ".join(a.replace(":", ".") for a in seq.apis)
            + f" ({seq.evidence.file} L{seq.evidence.start}-{seq.evidence.end})"
        )
    return {
        "repo": ws.source.repo,
        "package": ws.package or "",
        "readme": _readme(ws),
        "api_map": api_map,
        "taught": taught,
    }


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
    settle = _Settler(ws, locator)
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
        roles = _roles(ws, set(uses))
        groups = choose(candidates(seqs, bounds, cuts, roles), uses, bounds, cuts, roles)
    names = _Names(ws, previous)
    env = environment(ws)
    plans: list[WorkflowPlan] = []
    for i, g in enumerate(groups):
        p = _plan(ws, g, names, by_id, uses_of, env, preferred, overrides.get(i, (None, None)))
        if p is not None:
            plans.append(p)
    about = [""]
    located: dict[_Asked, Location] = {}
    clean = False
    for _ in range(MAX_ROUNDS):  # a dropped step changes what later steps' receivers are: check again
        plans = [p for p in plans if _keep(p, dropped)]
        _unique_workflow_names(plans, previous, ws.source.repo)
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
    _unique_workflow_names(plans, previous, ws.source.repo)
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
