"""What every node of a run shares: the run's configuration (plain JSON in the graph state), the
workspace it documents (rebuilt from the cache on resume, never stored in state) and the trace."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TypedDict

from agents.model.llm import ModelRecord
from tools.wiki.workflow_index import WorkflowIndex, parse_workflow_index
from tools.index.workspace import Workspace, open_workspace
from tools.atomic import atomic_write
from tools.locate import Locator

_lock = threading.Lock()
_workspaces: dict[tuple[str, str | None, str | None], tuple[str | None, Workspace]] = {}  # key -> (run id, workspace)


class RunConfig(TypedDict):
    repo: str
    source: str | None  # as given; None = the registered package
    wiki: str  # wiki folder
    run_dir: str
    run_id: str
    cache_dir: str | None
    force: bool
    max_repairs: int
    updated: str  # the Last Updated stamp of pages drafted by this run
    drafter: str  # "offline" or "model"
    model: ModelRecord | None  # agents.model.llm.ModelSettings as a dict; None offline (no key is ever stored)
    critic: bool  # run the model critic on verified pages (advisory)
    model_agents: str  # "all": the model locates and writes prose; "excavation": it only locates
    workflow_index_origin: str  # where the WorkflowIndex came from (messages name its lines there)


def workspace(cfg: RunConfig) -> Workspace:
    """The run's workspace, opened once per run: a later run in the same process (an update after the
    source moved) re-reads the source instead of trusting the previous run's index."""
    key = (cfg["repo"], cfg["source"], cfg["cache_dir"])
    with _lock:
        run, ws = _workspaces.get(key, (None, None))
        if ws is None or run != cfg.get("run_id"):
            ws = open_workspace(cfg["repo"], cfg["source"], Path(cfg["cache_dir"]) if cfg["cache_dir"] else None)
            _workspaces[key] = (cfg.get("run_id"), ws)
        return ws


_parsed: dict[tuple[str, int, int], tuple[WorkflowIndex, str]] = {}


def workflow_index(cfg: RunConfig) -> tuple[WorkflowIndex, str]:
    """The WorkflowIndex this run follows: the copy taken when the run started, parsed once per
    process (every node asks for it; a big index would otherwise be re-read by each)."""
    path = Path(cfg["run_dir"]) / "workflow_index.md"
    st = path.stat()
    key = (str(path), st.st_mtime_ns, st.st_size)
    with _lock:
        hit = _parsed.get(key)
    if hit is None:
        text = path.read_text(encoding="utf-8")
        hit = parse_workflow_index(text, cfg.get("workflow_index_origin") or str(path)), text
        with _lock:
            _parsed[key] = hit
    return hit


class TraceRecord(TypedDict, total=False):
    """One node execution as trace.jsonl holds it; the node fills in what it did."""

    node: str
    step: str | None  # the pair's Implementation, for a pair's node
    outcome: str
    seconds: float
    tokens: int
    calls: int
    cached_calls: int
    cost: float
    agent: str  # what the excavation agent did
    dropped: list[str]  # model fields the drafter did not use, with why
    fallback: str  # why the drafter's prose stands instead of the model's
    reverified: int | None  # pages the plan verified again (None: the whole verdict held)


def trace(cfg: RunConfig, record: Mapping[str, object]) -> None:
    line = json.dumps(record, ensure_ascii=False) + "\n"
    with _lock, open(Path(cfg["run_dir"]) / "trace.jsonl", "a", encoding="utf-8") as fh:
        fh.write(line)


@contextmanager
def traced(cfg: RunConfig, node: str, step: str | None = None) -> Iterator[TraceRecord]:
    """Time a node execution and write one trace line; the body fills in 'outcome' (and tokens)."""
    rec: TraceRecord = {"node": node, "step": step, "outcome": "ok", "tokens": 0}
    t0 = time.perf_counter()
    try:
        yield rec
    except BaseException as exc:
        rec["outcome"] = f"error: {type(exc).__name__}"
        if isinstance(exc, Exception) and not getattr(exc, "repowiki_where", None):
            exc.repowiki_where = f"the {node} node" + (f" of {step}" if step else "")  # type: ignore[attr-defined]
        raise
    finally:
        rec["seconds"] = round(time.perf_counter() - t0, 4)
        trace(cfg, {"node": rec.pop("node"), "step": rec.pop("step"), "seconds": rec.pop("seconds"), **rec})


def write_draft(cfg: RunConfig, folder: str, texts: dict[str, str]) -> None:
    for rel, text in texts.items():
        atomic_write(Path(cfg["run_dir"]) / folder / rel, text)


def locator(cfg: RunConfig) -> Locator:
    return Locator(workspace(cfg), Path(cfg["cache_dir"]) if cfg["cache_dir"] else None)
