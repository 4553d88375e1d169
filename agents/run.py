"""``python -m agents.run``: the pipeline's entry point.

What runs today: resolve the repository, index it, read the WorkflowIndex and locate the
implementation of every step, writing the plan to ``runs/<repo>/<run_id>/plan.json``.
Drafting, verification and commit come with the pipeline (see docs/ARCHITECTURE.md).
"""
from __future__ import annotations

import argparse
import importlib.resources
import json
import logging
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from tools.errors import ToolError, UsageError
from tools.locate import Locator
from tools.resolve import repo_name
from tools.workflow_index import WorkflowIndex, load_workflow_index, parse_workflow_index
from tools.workspace import open_workspace

log = logging.getLogger("agents.run")


def shipped_workflow_index(repo: str) -> WorkflowIndex | None:
    """The example WorkflowIndex the project ships for a well-known repository, if any."""
    ref = importlib.resources.files("agents").joinpath("workflow_indexes", f"{repo}.md")
    if not ref.is_file():
        return None
    return parse_workflow_index(ref.read_text(encoding="utf-8"), f"agents/workflow_indexes/{repo}.md")


def find_workflow_index(repo: str, given: Path | None) -> WorkflowIndex:
    if given is not None:
        wi = load_workflow_index(given)
    else:
        wi = shipped_workflow_index(repo)
        if wi is None:
            raise UsageError(f"no WorkflowIndex for {repo}: pass --workflow-index FILE (format: WIKI_FORMAT.md §7)")
    if wi.repo != repo:
        raise UsageError(f"the WorkflowIndex is for {wi.repo}, not {repo}; pass --repo {wi.repo} or another --workflow-index")
    return wi


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m agents.run", description=__doc__.splitlines()[0])
    ap.add_argument("--repo", required=True, type=repo_name, help="owner_name, e.g. huggingface_peft")
    ap.add_argument("--source", help="checkout folder or pypi:PACKAGE==VERSION (default: the registered package)")
    ap.add_argument("--workflow-index", type=Path, help="the _WorkflowIndex.md to follow (default: the one shipped for --repo)")
    ap.add_argument("--runs", type=Path, default=Path("runs"), help="folder for run output (default: ./runs)")
    ap.add_argument("--cache-dir", type=Path, help="cache folder (default: $REPOWIKI_CACHE_DIR or the user cache)")
    ap.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    return ap


def run(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    t0 = time.perf_counter()
    wi = find_workflow_index(args.repo, args.workflow_index)
    ws = open_workspace(args.repo, args.source, args.cache_dir)
    log.warning("index: %s", ws.index.stats.summary())
    locator = Locator(ws, args.cache_dir)
    steps = []
    for step in wi.steps:
        loc = locator.locate(step)
        steps.append({"workflow": step.workflow, "step": step.number, "principle": step.principle,
                      "impl_type": step.impl_type, **loc.details()})
    run_id = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    run_dir = args.runs / args.repo / run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    summary = {
        "run_id": run_id, "repo": args.repo, "source": str(ws.source.root), "origin": ws.source.origin,
        "version": ws.source.version, "revision": ws.source.revision, "workflow_index": wi.path,
        "index": vars(ws.index.stats), "steps": steps,
        "located": sum(1 for s in steps if s["confidence"] >= 0.7),
        "needs_excavation_agent": [s["implementation"] for s in steps if s["confidence"] < 0.7],
        "seconds": round(time.perf_counter() - t0, 3),
    }
    (run_dir / "plan.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    if args.json:
        print(json.dumps(summary))
    else:
        for s in steps:
            where = f"{s['file']}:L{s['start_line']}-{s['end_line']}" if s["file"] else f"{s['package'] or '?'} (external)"
            print(f"{s['workflow'].removeprefix(args.repo + '_'):<28} {s['step']:>2}  {s['qualname'] or '-':<45} "
                  f"{where:<55} {s['confidence']:.2f}")
        print(f"{summary['located']}/{len(steps)} steps located with confidence; plan written to {run_dir / 'plan.json'}")
    return 0 if not summary["needs_excavation_agent"] else 1


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)
    try:
        return run(argv)
    except (UsageError, ToolError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
