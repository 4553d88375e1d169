"""Real WorkflowIndexes end to end, offline: does every input run without a traceback, commit only
what verifies, and say why for the rest?

    python bench/inputs_bench.py --case INDEX SOURCE [--case INDEX SOURCE ...] [--parse-only INDEX ...]

SOURCE is what ``--source`` takes (a folder or pypi:NAME==VERSION). The repository name is read from
the index's title. Each case runs ``python -m agents.run`` in a fresh process and then
``python -m agents.verify`` on the wiki it wrote; ``--parse-only`` cases (no source at hand) are only
parsed and planned. Prints JSON per case: exit code, tracebacks, steps, steps held before drafting,
pairs planned / committed / held, whole-wiki verify errors, seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def repo_of(index: Path) -> str:
    m = re.search(r"^#\s+Workflow Index:\s*(\S+)", index.read_text(encoding="utf-8"), re.M)
    return m.group(1) if m else "unknown_repo"


def run_case(index: Path, source: str, env: dict) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        p = subprocess.run(
            [
                sys.executable,
                "-m",
                "agents.run",
                "--repo",
                repo_of(index),
                "--source",
                source,
                "--workflow-index",
                str(index),
                "--runs",
                tmp,
                "--json",
                "--quiet",
            ],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
        )
        secs = time.perf_counter() - t0
        out = {
            "index": index.name,
            "exit": p.returncode,
            "tracebacks": int("Traceback" in p.stderr),
            "seconds": round(secs, 2),
        }
        if p.returncode not in (0, 1):
            return {**out, "error": p.stderr.strip().splitlines()[-1][:300] if p.stderr.strip() else ""}
        s = json.loads(p.stdout)
        v = subprocess.run(
            [sys.executable, "-m", "agents.verify", s["wiki"], "--source", source, "--json"],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
        )
        ver = json.loads(v.stdout) if v.stdout.strip() else {}
        return {
            **out,
            "steps_held_before_drafting": len(s["steps_held"]),
            "pairs_planned": s["pairs_planned"],
            "pairs_committed": s["pairs_committed"],
            "pairs_held": s["pairs_held"],
            "pages_committed": s["pages_committed"],
            "verify_errors": ver.get("errors"),
            "held": {k: v[:160] for k, v in sorted(s["held"].items())},
        }


def parse_case(index: Path) -> dict:
    sys.path.insert(0, str(ROOT))
    from agents.nodes.plan import input_rewrites, plan_pairs, with_rewrites
    from tools.errors import UsageError
    from tools.wiki.workflow_index import parse_workflow_index

    text = index.read_text(encoding="utf-8")
    try:
        wi = parse_workflow_index(text, str(index))
    except UsageError as exc:
        return {"index": index.name, "refused": str(exc).split(": ", 1)[-1][:200]}
    wi = parse_workflow_index(with_rewrites(text, wi, input_rewrites(wi)), str(index))
    jobs, holds = plan_pairs(wi)
    return {
        "index": index.name,
        "repo": wi.repo,
        "repo_as_written": wi.repo_as_written,
        "steps": len(wi.steps),
        "pairs": len(jobs),
        "steps_held": len(holds),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--case", nargs=2, action="append", default=[], metavar=("INDEX", "SOURCE"))
    ap.add_argument("--parse-only", nargs="*", default=[], type=Path)
    args = ap.parse_args()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    print(
        json.dumps(
            {
                "runs": [run_case(Path(i), s, env) for i, s in args.case],
                "parsed": [parse_case(p) for p in args.parse_only],
            },
            indent=1,
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
