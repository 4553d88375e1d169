"""Scale figures: a WorkflowIndex of many steps through parse, plan and locate; deep nesting through
the indexer; whole offline runs of growing size (seconds and checkpoint bytes per pair must stay flat).

    python bench/scale_bench.py [--steps 10000] [--runs 10,20,40]

The index is the fixture repository's workflow repeated under new workflow and Principle names, so
every step is a real one the locator has to place (including its held and external steps), and one
Implementation name serves many Principles, which the plan must rename (R43).
Prints JSON. Targets (issue: hostile world): plan in seconds, locate < 30 s, < 2 s per deep file,
per-pair cost of a run flat as the run grows.
"""

from __future__ import annotations

import argparse
import json
import re
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from fixture_repo import FIXTURES, make_fixture_repo  # noqa: E402
from agents.nodes.plan import input_rewrites, plan_pairs, with_rewrites  # noqa: E402
from agents.run import main as run  # noqa: E402
from tools.index.build import build_index  # noqa: E402
from tools.locate import Locator  # noqa: E402
from tools.index.pyparse import parse_file  # noqa: E402
from tools.source.resolve import resolve_repo  # noqa: E402
from tools.wiki.workflow_index import parse_workflow_index  # noqa: E402
from tools.index.workspace import Workspace  # noqa: E402


def big_index(workflows: int) -> str:
    text = (FIXTURES / "minipkg_WorkflowIndex.md").read_text(encoding="utf-8")
    head, _, section = text.partition("## Workflow: acme_minipkg_Run_Jobs")
    section = "## Workflow: acme_minipkg_Run_Jobs" + section.split("\n---\n")[0]
    principles = set(re.findall(r"\*\*Principle\*\* \| `acme_minipkg_(\w+)`", section))
    out = ["# Workflow Index: acme_minipkg\n"]
    for i in range(workflows):
        s = section.replace("acme_minipkg_Run_Jobs", f"acme_minipkg_Run_Jobs_{i}")
        for p in principles:
            s = re.sub(rf"\b(acme_minipkg_)?{p}\b", lambda m: f"{m.group(1) or ''}{p}_{i}", s)
        out.append(s + "\n---\n")
    return "\n".join(out)


def timed(fn):
    t0 = time.perf_counter()
    value = fn()
    return value, round(time.perf_counter() - t0, 3)


def index_figures(steps: int, base: Path) -> dict:
    repo = make_fixture_repo(base / "repo")
    src = resolve_repo("acme_minipkg", str(repo), base / "c")
    ws = Workspace(src, build_index(src, base / "c"))
    text = big_index(steps // 5)
    wi, parse_s = timed(lambda: parse_workflow_index(text, "wi.md"))
    wi, rewrite_s = timed(lambda: parse_workflow_index(with_rewrites(text, wi, input_rewrites(wi)), "wi.md"))
    (jobs, holds), plan_s = timed(lambda: plan_pairs(wi))
    loc = Locator(ws, base / "c")
    by_flow: dict[str, list] = {}
    for s in wi.steps:
        by_flow.setdefault(s.workflow, []).append(s)

    def locate_all():
        return [loc.locate(s, flow[:k]) for flow in by_flow.values() for k, s in enumerate(flow)]

    found, locate_s = timed(locate_all)
    return {
        "steps": len(wi.steps),
        "index_mib": round(len(text) / 2**20, 2),
        "parse_s": parse_s,
        "rename_s": rewrite_s,
        "plan_s": plan_s,
        "pairs": len(jobs),
        "held_before_drafting": len(holds),
        "locate_s": locate_s,
        "located_confident": sum(1 for f in found if f.kind != "held" and f.confidence >= 0.8),
    }


def nesting_figures(depth: int, shape: str) -> dict:
    if shape == "defs":  # one-space indentation keeps 2,000 levels under the file-size limit
        src = "".join(" " * i + f"def f{i}():\n" for i in range(depth)) + " " * depth + "pass\n"
    else:  # brackets: `x = [[[...]]]`
        src = "x = " + "[" * depth + "]" * depth + "\n\ndef kept():\n    return x\n"
    rec, secs = timed(lambda: parse_file("deep.py", "deep", False, src.encode()))
    return {
        "shape": shape,
        "depth": depth,
        "seconds": secs,
        "status": rec.status,
        "symbols": len(rec.symbols),
        "reason": rec.reason,
    }


def run_figures(workflows: int, base: Path) -> dict:
    repo = make_fixture_repo(base / f"r{workflows}")
    wi = base / f"wi{workflows}.md"
    wi.write_text(big_index(workflows), encoding="utf-8")
    runs = base / f"runs{workflows}"
    code, secs = timed(
        lambda: run(
            [
                "--repo",
                "acme_minipkg",
                "--source",
                str(repo),
                "--workflow-index",
                str(wi),
                "--runs",
                str(runs),
                "--cache-dir",
                str(base / f"c{workflows}"),
                "--quiet",
            ]
        )
    )
    run_dir = max(p for p in (runs / "acme_minipkg").iterdir() if p.name[:1].isdigit())
    summary = json.loads((run_dir / "summary.json").read_text())
    db = run_dir / "checkpoints.sqlite"
    with sqlite3.connect(db) as con:
        rows = con.execute("select count(*) from checkpoints").fetchone()[0]
    pairs = max(summary.get("pairs_planned") or 0, 1)
    return {
        "workflows": workflows,
        "exit": code,
        "pairs": pairs,
        "committed": summary.get("committed_pairs"),
        "seconds": secs,
        "s_per_pair": round(secs / pairs, 4),
        "checkpoint_kib": db.stat().st_size // 1024,
        "checkpoint_kib_per_pair": round(db.stat().st_size / 1024 / pairs, 2),
        "checkpoints": rows,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=10_000)
    ap.add_argument("--runs", default="10,20,40", help="workflow counts of the whole offline runs (5 steps each)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        out = {
            "index": index_figures(args.steps, base),
            "nesting": [nesting_figures(d, shape) for shape in ("defs", "brackets") for d in (99, 2000)],
            "runs": [run_figures(int(n), base) for n in args.runs.split(",") if n],
        }
    flat = [r["s_per_pair"] for r in out["runs"]]
    out["runs_per_pair_growth"] = round(flat[-1] / flat[0], 2) if flat and flat[0] else None
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
