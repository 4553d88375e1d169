"""``python -m agents.run``: draft, verify and commit the wiki of a repository.

    python -m agents.run --repo huggingface_peft                 # offline drafter, shipped WorkflowIndex
    python -m agents.run --repo R --workflow-index FILE --wiki DIR --concurrency 4
    python -m agents.run --repo R --resume latest               # finish an interrupted run

Exit code 0 when every planned page was committed, 1 when some were held (listed with their
reasons), 2 on unusable input (nothing is written then).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.resources
import json
import re
import logging
import os
import platform
import sqlite3
import sys
import time
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, NotRequired, TypedDict, cast

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from agents import PROCESS_STARTED
from agents.drift import read_record, recorded_source
from agents.install_check import refused_for_shadowing
from agents.nodes.plan import input_rewrites, with_rewrites
from agents.report_data import CoverageRow, DriftSection
from agents.runctx import RunConfig
from agents.review.runs import latest_run_id, mark_latest
from agents.state import RunState
from agents.verify.verifier import VerifySummary
from tools.cliargs import command_parser
from tools.errors import ExternalFault, ToolError, UsageError
from tools.redact import redact
from tools.source.resolve import default_cache_dir, repo_name, resolve_repo
from tools.wiki.workflow_index import WorkflowIndex, parse_workflow_index

if TYPE_CHECKING:
    from langchain_core.runnables import RunnableConfig

    from agents.nodes.discover import DiscoveryRecord

    from agents.model.llm import ModelOverrides, ModelRecord

log = logging.getLogger("agents.run")
PHASES = ("resolve", "index", "plan", "pair", "commit", "report")


class RunMeta(TypedDict):
    """run.json: how the run was started, kept beside its output (and read again by --resume)."""

    run_id: str
    arguments: dict[str, object]  # the command line, paths as text
    config: RunConfig
    workflow_index: str  # where the WorkflowIndex came from
    versions: dict[str, str | None]
    started: str  # ISO time the process (or this call) began
    startup_seconds: float
    steps: int
    input_notes: list[str]  # what the run read differently from the letter of the input
    resumed_with: NotRequired[list[ModelOverrides]]  # the model settings each --resume changed


class HeldStep(TypedDict):
    workflow: str
    step: int
    title: str
    reason: str


class DiscoveredSummary(TypedDict):
    method: str
    workflows: int
    steps: int
    uncovered: int  # public APIs no workflow covers (the report lists them)
    seconds: float


class RunSummary(TypedDict):
    """What a run prints with --json (agents.update reads it) and shows at its end."""

    run_id: str
    repo: str
    run_dir: str
    wiki: str
    steps: int | None  # the WorkflowIndex's steps (None: the run has no report, it stopped before)
    pairs: int | None  # its Principle/Implementation pairs (steps that share a pair count once)
    pairs_planned: int | None  # pairs this run drafted (the rest were skipped: already verified)
    pairs_committed: int | None
    pairs_held: int | None
    pairs_skipped: int | None
    pages_committed: int
    pages_written: int
    held: dict[str, str]  # page -> reason
    verify: VerifySummary | None
    coverage: list[CoverageRow] | None
    drift: DriftSection | None
    steps_held: list[HeldStep]
    discovery: DiscoveredSummary | None  # when the run discovered its WorkflowIndex
    seconds: NotRequired[float]


DISCOVERED = "the discovered _WorkflowIndex.md"  # the origin of a WorkflowIndex the discover phase wrote


def find_workflow_index(repo: str, given: Path | None, wiki: Path) -> tuple[str, str] | None:
    """(text, where it came from): --workflow-index, else the wiki's own, else the one shipped;
    None when there is none (the discover phase writes one)."""
    if given is not None:
        if not given.is_file():
            raise UsageError(f"WorkflowIndex {given} does not exist; pass an existing file to --workflow-index")
        return given.read_text(encoding="utf-8", errors="replace"), str(given)
    own = wiki / "_WorkflowIndex.md"
    if own.is_file():
        return own.read_text(encoding="utf-8", errors="replace"), str(own)
    shipped = _shipped_text(repo)
    if shipped is not None:
        return shipped, f"agents/workflow_indexes/{repo}.md"
    return None


def _shipped_text(repo: str) -> str | None:
    ref = importlib.resources.files("agents").joinpath("workflow_indexes", f"{repo}.md")
    return ref.read_text(encoding="utf-8") if ref.is_file() else None


def shipped_workflow_index(repo: str) -> WorkflowIndex | None:
    text = _shipped_text(repo)
    return parse_workflow_index(text, f"agents/workflow_indexes/{repo}.md") if text is not None else None


def _check_writable(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".write-probe-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise UsageError(
            f"cannot write to {folder} ({exc.strerror or exc}); pass a writable --wiki / --runs folder"
        ) from None


def _versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {"python": platform.python_version()}
    for dist in ("repowiki", "langgraph", "openai", "tree-sitter", "tree-sitter-python", "jinja2"):
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            out[dist] = None
    return out


EXAMPLES = (
    "python -m agents.run --repo huggingface_peft --source pypi:peft==0.18.1",
    "python -m agents.run --repo huggingface_peft --source path/to/peft --workflow-index FILE --wiki DIR",
    "python -m agents.run --repo huggingface_peft --resume latest",
)


def build_parser() -> argparse.ArgumentParser:
    ap = command_parser(
        "python -m agents.run",
        __doc__.splitlines()[0],
        EXAMPLES,
        "Options go in any order. Without --source: the source the wiki records (_reports/verified_source.json), "
        "else the release a shipped WorkflowIndex was written for, else the installed package (its path and "
        "version are said at the start), else its newest source archive; --source latest skips the first two.",
        "Exit codes: 0 every planned page committed; 1 some pages or steps held (the report says why); "
        "2 unusable input, nothing written; 3 the run stopped on a fault and can be resumed (--resume). "
        "The WorkflowIndex format and the verifier's rules: docs/workflow-index.md, docs/rules.md.",
    )
    ap.add_argument(
        "--repo",
        required=True,
        type=repo_name,
        help="owner_name, e.g. huggingface_peft (other characters become '_': vllm-project_vllm)",
    )
    ap.add_argument(
        "--source",
        help="checkout folder, pypi:PACKAGE==VERSION or 'latest' (the installed package, else the newest "
        "source archive); default: the source the wiki records, else the version the shipped WorkflowIndex "
        "was written for, else 'latest'",
    )
    ap.add_argument(
        "--workflow-index",
        type=Path,
        help="the _WorkflowIndex.md to follow (default: the wiki's own, else the one shipped for --repo)",
    )
    ap.add_argument(
        "--discover",
        action="store_true",
        help="write a fresh WorkflowIndex from the library's own README, docs, examples, docstrings and tests, "
        "ignoring a shipped or wiki one (without any WorkflowIndex this is what a run does)",
    )
    ap.add_argument("--max-workflows", type=int, default=12, help="discovery: at most this many workflows (default 12)")
    ap.add_argument(
        "--max-steps", type=int, default=8, help="discovery: at most this many steps a workflow (default 8)"
    )
    ap.add_argument("--wiki", type=Path, help="wiki folder (default: RUNS/<repo>/wiki)")
    ap.add_argument("--runs", type=Path, default=Path("runs"), help="folder for run output (default: ./runs)")
    ap.add_argument("--cache-dir", type=Path, help="cache folder (default: $REPOWIKI_CACHE_DIR or the user cache)")
    ap.add_argument("--force", action="store_true", help="redraft pairs whose pages already exist and verify")
    ap.add_argument("--resume", metavar="RUN_ID", help="finish an interrupted run (a run id or 'latest')")
    ap.add_argument("--concurrency", type=int, default=4, help="pairs drafted in parallel (default 4)")
    ap.add_argument("--max-repairs", type=int, default=2, help="repair rounds after a failed verification (default 2)")
    m = ap.add_argument_group("model (optional; without --model the offline drafter writes the prose)")
    m.add_argument("--model", help="model name at an OpenAI-compatible endpoint (key: $OPENAI_API_KEY)")
    m.add_argument("--base-url", help="endpoint, e.g. http://127.0.0.1:8080/v1 (default: $OPENAI_BASE_URL or OpenAI)")
    m.add_argument("--max-cost", type=float, help="stop drafting when this many USD are spent (needs --prices)")
    m.add_argument("--max-tokens", type=int, help="stop drafting when this many tokens are spent")
    m.add_argument(
        "--prices", type=Path, help='JSON file {"model": [USD per 1M prompt tokens, per 1M completion tokens]}'
    )
    m.add_argument("--model-concurrency", type=int, default=2, help="model calls in flight at once (default 2)")
    m.add_argument("--timeout", type=float, help="seconds per model call (default 180)")
    m.add_argument("--retries", type=int, help="retries of a call on rate limits, 5xx and timeouts (default 3)")
    m.add_argument(
        "--model-agents",
        choices=("all", "excavation"),
        default="all",
        help="which agents use the model: all (locating and prose), or excavation only (the model "
        "searches where the locator is unsure; the offline drafter writes every page)",
    )
    m.add_argument(
        "--critic",
        action="store_true",
        help="also ask the model to check each page's claims against "
        "the source (advisory: reported, never decides a commit)",
    )
    m.add_argument("--record", type=Path, metavar="CASSETTE", help="record every model exchange of the run (vcrpy)")
    m.add_argument("--replay", type=Path, metavar="CASSETTE", help="replay a recorded run: no network, no key")
    ap.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    ap.add_argument("--quiet", action="store_true", help="no progress bars or tables")
    return ap


def _new_run(args: argparse.Namespace) -> tuple[RunConfig, RunMeta]:
    wiki = args.wiki or args.runs / args.repo / "wiki"
    if args.discover and args.workflow_index is not None:
        raise UsageError("--discover writes the WorkflowIndex itself; pass either --discover or --workflow-index")
    found = None if args.discover else find_workflow_index(args.repo, args.workflow_index, wiki)
    discovery: DiscoveryRecord | None = None
    if found is None:
        from agents.nodes.discover import run_discovery
        from tools.discover.grouping import Bounds

        if args.source == "latest":
            args.source = None
        d, discovery = run_discovery(
            args.repo,
            args.source,
            args.cache_dir,
            wiki,
            Bounds(args.max_workflows, args.max_steps),
            model_settings(args),
        )
        found = d["text"], DISCOVERED
        if not args.quiet:
            print(
                f"discovered {discovery['workflows']} workflows ({discovery['steps']} steps) by {discovery['method']} "
                f"in {discovery['seconds']} s; {len(discovery['uncovered'])} public APIs no workflow covers "
                "(listed in the report)",
                file=sys.stderr,
            )
            for cut in discovery["cuts"]:
                print(f"discovery: {cut}", file=sys.stderr)
    text, origin = found
    wi = parse_workflow_index(text, origin)
    if wi.repo != args.repo:
        raise UsageError(
            f"the WorkflowIndex is for {wi.repo}, not {args.repo}; pass --repo {wi.repo} or another --workflow-index"
        )
    rewrites = input_rewrites(wi)
    text = with_rewrites(text, wi, rewrites)
    notes = input_notes(wi, rewrites)
    if args.concurrency < 1 or args.max_repairs < 0:
        raise UsageError("--concurrency must be ≥ 1 and --max-repairs ≥ 0")
    recorded = read_record(wiki) if args.source is None else None
    if recorded is not None:
        # one source for a wiki: a later run reads what its pages were verified against, as verify does
        args.source, said = recorded_source(wiki, args.repo)
        if not args.quiet:
            print(f"source: {said}; --source to document another", file=sys.stderr)
    elif args.source == "latest":
        args.source = None  # the installed package, else its newest source archive
    elif args.source is None and origin.startswith("agents/workflow_indexes/"):
        pinned = written_for(text, args.repo)
        if pinned:
            args.source = pinned
            if not args.quiet:
                print(
                    f"source: {pinned.removeprefix('pypi:')}, the version the shipped WorkflowIndex was written "
                    "for (--source latest for the newest)",
                    file=sys.stderr,
                )
    # an unknown repository or an unusable source stops here too, before the run folder exists
    resolve_repo(args.repo, args.source, args.cache_dir)
    _check_writable(wiki)
    _check_writable(args.runs / args.repo)
    model = model_settings(args)
    now = datetime.now(timezone.utc)
    run_id = now.strftime("%Y%m%dT%H%M%S") + f"{now.microsecond // 1000:03d}Z"
    # the first run of a process counts from the process start (imports included); a later run in the
    # same process (agents.update, a library caller) from its own call
    began = PROCESS_STARTED if len(_CALLS) <= 1 else _CALLS[-1]
    # SOURCE_DATE_EPOCH (the reproducible-builds convention) pins the Last Updated stamp
    stamp = (
        datetime.fromtimestamp(int(os.environ["SOURCE_DATE_EPOCH"]), timezone.utc)
        if os.environ.get("SOURCE_DATE_EPOCH", "").isdigit()
        else now
    )
    run_dir = args.runs / args.repo / run_id
    run_dir.mkdir(parents=True)
    (run_dir / "workflow_index.md").write_text(text, encoding="utf-8")
    cfg = RunConfig(
        repo=args.repo,
        source=args.source,
        wiki=str(wiki.resolve()),
        run_dir=str(run_dir.resolve()),
        run_id=run_id,
        cache_dir=str(args.cache_dir.resolve()) if args.cache_dir else None,
        force=args.force,
        max_repairs=args.max_repairs,
        updated=stamp.strftime("%Y-%m-%d %H:%M GMT"),
        drafter="model" if model else "offline",
        model=model,
        critic=bool(args.critic and model),
        workflow_index_origin=origin,
        model_agents=args.model_agents,
    )
    meta: RunMeta = {
        "run_id": run_id,
        "arguments": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "config": cfg,
        "workflow_index": origin,
        "versions": _versions(),
        "started": datetime.fromtimestamp(began, timezone.utc).isoformat(),
        "startup_seconds": round(now.timestamp() - began, 3),
        "steps": len(wi.steps),
        # in run.json, not in the config every pair carries: a checkpoint per pair must not grow with the index
        "input_notes": notes,
    }
    (run_dir / "run.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    if discovery is not None:
        from agents.nodes.discover import write_record
        from agents.runctx import trace

        write_record(run_dir, discovery)
        trace(
            cfg,
            {
                "node": "discover",
                "step": None,
                "seconds": discovery["seconds"],
                "outcome": f"{discovery['workflows']} workflows, {discovery['steps']} steps",
                "tokens": discovery["tokens"],
                "calls": discovery["model_calls"],
            },
        )
    mark_latest(args.runs / args.repo, run_id)
    return cfg, meta


def written_for(text: str, repo: str) -> str | None:
    """``pypi:DIST==VERSION`` when a WorkflowIndex says it was written from a release of the
    repository's registered package ("> Written … from peft 0.18.1")."""
    from tools.source.resolve import registry

    entry = registry().get(repo)
    if entry is None:
        return None
    m = re.search(rf"^>.*\bfrom {re.escape(entry.distribution)} (\d+(?:\.\d+)+)\b", text, re.M)
    return f"pypi:{entry.distribution}=={m.group(1)}" if m else None


def input_notes(wi: WorkflowIndex, rewrites: dict[tuple[str, int], str]) -> list[str]:
    """What the run read differently from the letter of the input, said in the plan and the report."""
    notes: list[str] = []
    if wi.repo_as_written and wi.repo_as_written != wi.repo:
        notes.append(
            f"repo prefix {wi.repo_as_written} is written {wi.repo} (docs/page-format.md §2), in every page name"
        )
    for step in wi.steps:
        notes += [f"{step.workflow} step {step.number}: {d}" for d in step.derived]
        new = rewrites.get((step.workflow, step.number))
        if new is not None and new.startswith("`"):
            notes.append(
                f"{step.workflow} step {step.number}: {step.implementation} serves another Principle too; "
                f"this step's page is {new.strip('`')} (docs/rules.md#r43)"
            )
        elif new is not None:
            notes.append(f"{step.workflow} step {step.number}: {new}; the step is held")
    return notes


def model_settings(args: argparse.Namespace) -> ModelRecord | None:
    from agents.model.llm import ModelSettings
    from agents.model.recording import recorded_endpoint

    model, base_url = args.model, args.base_url
    if args.replay is not None:
        if not args.replay.is_file():
            raise UsageError(f"cassette {args.replay} does not exist; record one with --record")
        rec_model, rec_url = recorded_endpoint(args.replay)
        model, base_url = model or rec_model, base_url or rec_url
    if model is None:
        if args.record or args.max_cost or args.max_tokens:
            raise UsageError("--record, --max-cost and --max-tokens need a model: pass --model NAME")
        return None
    prices: dict[str, list[float]] = {}
    if args.prices is not None:
        try:
            prices = json.loads(args.prices.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UsageError(
                f"cannot read --prices {args.prices} ({exc}); give a JSON object of model: [in, out]"
            ) from None
    if args.max_cost is not None and model not in prices:
        raise UsageError(f"--max-cost needs a price for {model}: pass --prices FILE")
    bypass = args.record is not None or args.replay is not None  # every exchange must go over the wire
    cache = None if bypass else str((args.cache_dir or default_cache_dir()).resolve())
    return ModelSettings(
        model=model,
        base_url=base_url,
        timeout=args.timeout or 180.0,
        concurrency=args.model_concurrency,
        max_retries=0 if args.replay is not None else (3 if args.retries is None else args.retries),
        prices=prices,
        max_cost=args.max_cost,
        max_tokens=args.max_tokens,
        cache_dir=cache,
    ).as_dict()


def _resumed_run(args: argparse.Namespace) -> tuple[RunConfig, RunMeta]:
    base = args.runs / args.repo
    run_id = args.resume
    if run_id == "latest":
        run_id = latest_run_id(base)
        if run_id is None:
            raise UsageError(f"no run to resume under {base}; start one without --resume")
    meta_path = base / run_id / "run.json"
    if not meta_path.is_file():
        raise UsageError(f"no run {run_id!r} under {base}; see the folder names there")
    meta: RunMeta = json.loads(meta_path.read_text(encoding="utf-8"))
    overrides: ModelOverrides = {}  # in this order in run.json
    if args.base_url is not None:
        overrides["base_url"] = args.base_url
    if args.model is not None:
        overrides["model"] = args.model
    if args.timeout is not None:
        overrides["timeout"] = args.timeout
    if args.retries is not None:
        overrides["max_retries"] = args.retries
    if overrides:
        if not meta["config"].get("model"):
            raise UsageError(
                "this run was started without a model; --base-url/--model/--timeout/--retries "
                "only change the model of a run that has one"
            )
        from agents.model.llm import set_overrides

        set_overrides(overrides)  # every node of this process talks to the model with these settings
        meta.setdefault("resumed_with", []).append(overrides)
        meta_path.write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    return meta["config"], meta


def settled(cfg: RunConfig) -> RunState | None:
    """A run over a wiki the last commit verified against this very source, with this verifier, and
    with nothing to draft: the phase nodes run directly, without loading the graph library (a no-op
    update of transformers: 3.5 s → about 1.5 s, most of it the graph library's imports). None when
    there may be work: then the graph runs, reusing the workspace opened here."""
    from agents.drift import read_record, trusted, trusted_without_source, wiki_files
    from agents.runctx import workspace

    wiki = Path(cfg["wiki"])
    record = read_record(wiki)
    if cfg["force"] or record is None:
        return None
    files = wiki_files(wiki)
    src = resolve_repo(cfg["repo"], cfg["source"], Path(cfg["cache_dir"]) if cfg["cache_dir"] else None)
    recorded: Mapping[str, object] = record.get("source") or {}
    # cheap checks first, so that a run with work to do opens nothing here and its trace stays whole
    if not trusted_without_source(record, files) or (src.version, src.revision) != (
        recorded.get("version"),
        recorded.get("revision"),
    ):
        return None
    from agents.nodes.phases import index_node, nothing_to_do, plan_node, resolve_node

    state: RunState = {"config": cfg}
    for node in (resolve_node, index_node):
        state.update(node(state))
    if not trusted(record, files, workspace(cfg)):
        return None  # same release, other bytes (an edited checkout): the graph checks it all
    state.update(plan_node(state))
    if not nothing_to_do(state) or state.get("results"):
        return None
    from agents.nodes.commit import commit_node
    from agents.nodes.report import report_node

    state.update(commit_node(state))
    state.update(report_node(state))
    return state


def execute(cfg: RunConfig, resume: bool, concurrency: int, quiet: bool, n_steps: int) -> RunState:
    if not resume:
        done = settled(cfg)
        if done is not None:
            return done
    from langgraph.checkpoint.sqlite import SqliteSaver
    from agents.graph import build_graph, recursion_limit

    db = Path(cfg["run_dir"]) / "checkpoints.sqlite"
    conn = sqlite3.connect(str(db), check_same_thread=False)
    try:
        graph = build_graph(SqliteSaver(conn))
        config: RunnableConfig = {
            "configurable": {"thread_id": cfg["run_id"]},
            "max_concurrency": concurrency,
            "recursion_limit": recursion_limit(n_steps, cfg["max_repairs"]),
        }
        inputs: RunState | None
        if resume:
            snap = graph.get_state(config)
            if not snap.next:
                return cast(RunState, snap.values)  # a snapshot's values are the graph's state (untyped there)
            inputs = None
        else:
            inputs = {"config": cfg}
        console = Console(stderr=True)
        with Progress(
            TextColumn("{task.description:<12}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[note]}"),
            console=console,
            disable=quiet,
            transient=False,
        ) as bar:
            phases = bar.add_task("phases", total=len(PHASES), note="")
            pairs = bar.add_task("pairs", total=None, note="")
            for chunk in graph.stream(inputs, config, stream_mode="updates"):
                for node, update in chunk.items():
                    if node == "plan" and update:
                        todo = len(update["plan"]) - len(update["skipped"])
                        bar.update(pairs, total=todo, note=f"{len(update['skipped'])} skipped")
                        bar.advance(phases)
                    elif node == "pair" and update:
                        for r in update.get("results", []):
                            bar.advance(pairs)
                            bar.update(
                                pairs, note=f"{r['implementation'].removeprefix(cfg['repo'] + '_')}: {r['outcome']}"
                            )
                    elif node in PHASES:
                        bar.update(phases, completed=PHASES.index(node) + 1, note=node)
        return cast(RunState, graph.get_state(config).values)  # as above
    finally:
        conn.close()


def summary(values: RunState, cfg: RunConfig) -> RunSummary:
    rep = values.get("report")  # None: the run stopped before its report (or its commit)
    commit = values.get("commit")
    return {
        "run_id": cfg["run_id"],
        "repo": cfg["repo"],
        "run_dir": cfg["run_dir"],
        "wiki": cfg["wiki"],
        "steps": rep.get("steps_total") if rep else None,
        "pairs": rep.get("pairs_total") if rep else None,
        "pairs_planned": rep.get("pairs_planned") if rep else None,
        "pairs_committed": rep.get("committed_pairs") if rep else None,
        "pairs_held": rep.get("held_pairs") if rep else None,
        "pairs_skipped": rep.get("skipped_pairs") if rep else None,
        "pages_committed": len(commit.get("committed", [])) if commit else 0,
        "pages_written": len(commit.get("written", [])) if commit else 0,
        "held": commit.get("held", {}) if commit else {},
        "verify": rep.get("verify") if rep else None,
        "coverage": rep.get("coverage") if rep else None,
        "drift": rep.get("drift") if rep else None,
        "steps_held": [
            {"workflow": h["workflow"], "step": h["number"], "title": h["title"], "reason": h["reason"]}
            for h in values.get("step_holds") or []
        ],
        "discovery": _discovered(Path(cfg["run_dir"])),
    }


def _discovered(run_dir: Path) -> DiscoveredSummary | None:
    try:
        d = json.loads((run_dir / "discovery.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return {
        "method": d["method"],
        "workflows": d["workflows"],
        "steps": d["steps"],
        "uncovered": len(d["uncovered"]),
        "seconds": d["seconds"],
    }


def show(s: RunSummary, quiet: bool) -> None:
    if quiet:
        return
    console = Console(stderr=True)
    t = Table(title=f"{s['repo']} run {s['run_id']}")
    t.add_column("Workflow")
    t.add_column("Steps documented", justify="right")
    for w in s["coverage"] or []:
        t.add_row(w["name"], f"{w['done']}/{w['total']}")
    console.print(t)
    for h in s["steps_held"]:
        console.print(
            f"held step: {h['workflow'].removeprefix(s['repo'] + '_')} {h['step']} ({h['title']}): {h['reason']}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    for page, why in sorted(s["held"].items()):
        console.print(f"held: {page}: {why}", markup=False, highlight=False, soft_wrap=True)
    console.print(final_line(s), markup=False, highlight=False, soft_wrap=True)  # a path is never cut


def final_line(s: RunSummary) -> str:
    """The run's last line: the plan counted as report.md and the README count it (steps, then the
    Principle/Implementation pairs they make), what happened to the pairs, the wiki, the report."""
    v: Mapping[str, object] = s["verify"] or {}
    plan = f"{s['steps']} steps, {s['pairs']} Principle/Implementation pairs: " if s.get("steps") is not None else ""
    return (
        f"{plan}{s['pairs_committed']} committed, {s['pairs_held']} held, {s['pairs_skipped']} skipped (already "
        f"verified); wiki: {v.get('errors')} errors over {v.get('pages')} pages; report: {s['run_dir']}/report.md"
    )


def run(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    t0 = time.perf_counter()
    from agents.model.llm import set_overrides

    set_overrides({})  # a process may run several times (tests): nothing carries over
    from agents.model.recording import cassette

    started: RunConfig | None = None  # set once the run folder exists: a fault after it is resumable
    try:
        # the discover phase may ask the model too: inside the cassette, so that a replay replays it
        with cassette(args.record, args.replay):
            cfg, meta = _resumed_run(args) if args.resume else _new_run(args)
            started = cfg
            values = execute(cfg, bool(args.resume), args.concurrency, args.quiet or args.json, meta.get("steps", 50))
    except (UsageError, ToolError, ExternalFault, KeyboardInterrupt):
        raise
    except Exception as exc:  # a fault inside a node: the checkpoint holds every finished step
        if started is None:
            raise
        raise RunStopped(started, exc) from None
    s = summary(values, cfg)
    s["seconds"] = round(time.perf_counter() - t0, 3)
    if args.json:
        print(json.dumps(s, ensure_ascii=False))
    show(s, args.quiet or args.json)
    return 0 if not s["held"] and not s["steps_held"] else 1


class RunStopped(Exception):
    """A node failed: the run stops with one line, its details in the run folder, resumable."""

    def __init__(self, cfg: RunConfig, exc: Exception) -> None:
        import traceback

        run_dir = Path(cfg["run_dir"])
        where = getattr(exc, "repowiki_where", None) or "a node"
        log_path: Path | None = None  # None: the details could not be written
        try:
            (run_dir / "error.log").write_text(redact("".join(traceback.format_exception(exc))), encoding="utf-8")
            log_path = run_dir / "error.log"
        except OSError:
            pass
        first = (str(exc).splitlines() or [""])[0][:300]
        super().__init__(
            f"{where} failed ({type(exc).__name__}: {first}); finished steps are kept in the checkpoint"
            + (f", details in {log_path}" if log_path else "")
            + f"; fix the cause (the run's WorkflowIndex copy is {run_dir / 'workflow_index.md'}) and run "
            f"python -m agents.run --repo {cfg['repo']} --resume {cfg['run_id']}"
        )


_CALLS: list[float] = []  # when each main() call of this process began


def main(argv: list[str] | None = None) -> int:
    _CALLS.append(time.time())
    if refused_for_shadowing():
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)
    try:
        return run(argv)
    except (UsageError, ToolError) as exc:
        print(f"error: {redact(str(exc))}", file=sys.stderr)
        return 2
    except RunStopped as exc:
        print(f"error: {redact(str(exc))}", file=sys.stderr)
        return 3
    except ExternalFault as exc:
        print(f"error: {redact(str(exc))}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print("interrupted: resume with --resume latest", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
