"""Model usage of a recorded run, replayed offline.

    python bench/llm_bench.py [--cassette tests/cassettes/peft_frontier.yaml] [--source DIR]

Replays the cassette through the pipeline (no network, no key) with the project's own peft
WorkflowIndex and prints JSON from the run's trace and verdicts: model calls and tokens per pair
(median, max), the share of steps that needed the excavation agent, repair rounds, pages
committed vs held, and replay seconds. Targets: median ≤ 3 calls and ≤ 12,000 tokens per step.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools.source.resolve import default_cache_dir  # noqa: E402
from tools.source.sdist import fetch_sdist  # noqa: E402

RECORDED_STAMP = "1795000000"  # SOURCE_DATE_EPOCH of the recording (tests/cassettes/README.md)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cassette", type=Path, default=ROOT / "tests" / "cassettes" / "peft_qwen2.5-coder-1.5b.yaml")
    ap.add_argument("--source", type=Path, help="peft 0.18.1 source (default: the fetched sdist)")
    args = ap.parse_args()
    source = args.source or fetch_sdist("peft==0.18.1", default_cache_dir())
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, PYTHONPATH=str(ROOT), SOURCE_DATE_EPOCH=RECORDED_STAMP)
        t0 = time.perf_counter()
        p = subprocess.run(
            [
                sys.executable,
                "-m",
                "agents.run",
                "--repo",
                "huggingface_peft",
                "--source",
                str(source),
                "--runs",
                tmp,
                "--replay",
                str(args.cassette),
                "--json",
                "--quiet",
            ],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
        )
        seconds = time.perf_counter() - t0
        if p.returncode not in (0, 1):
            raise SystemExit(f"replay failed: {p.stderr.strip()[-600:]}")
        summary = json.loads(p.stdout)
        run_dir = Path(summary["run_dir"])
        trace = [json.loads(l) for l in (run_dir / "trace.jsonl").read_text().splitlines()]
        verdicts = [json.loads(l) for l in (run_dir / "verdicts.jsonl").read_text().splitlines()]
    calls, tokens = defaultdict(int), defaultdict(int)
    agent = set()
    for t in trace:
        if t.get("step") and t["node"] in ("excavate", "synthesize"):
            calls[t["step"]] += t.get("calls", 0) or 0
            tokens[t["step"]] += t.get("tokens", 0) or 0
            if t.get("agent"):
                agent.add(t["step"])
    pairs = [v["implementation"] for v in verdicts]
    c = [calls[p] for p in pairs] or [0]
    k = [tokens[p] for p in pairs] or [0]
    print(
        json.dumps(
            {
                "cassette": str(
                    args.cassette.relative_to(ROOT) if args.cassette.is_relative_to(ROOT) else args.cassette
                ),
                "pairs": len(pairs),
                "model_calls": sum(c),
                "tokens": sum(k),
                "calls_per_pair": {"median": statistics.median(c), "max": max(c)},
                "tokens_per_pair": {"median": statistics.median(k), "max": max(k)},
                "excavation_agent_share": round(len(agent) / max(len(pairs), 1), 3),
                "repair_rounds": {
                    "total": sum(v["rounds"] for v in verdicts),
                    "pairs_repaired": sum(1 for v in verdicts if v["rounds"]),
                },
                "pairs_committed": summary["pairs_committed"],
                "pairs_held": summary["pairs_held"],
                "held": summary["held"],
                "verify_errors": summary["verify"]["errors"],
                "replay_seconds": round(seconds, 2),
                "targets": {
                    "median_calls_le_3": statistics.median(c) <= 3,
                    "median_tokens_le_12000": statistics.median(k) <= 12000,
                },
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
