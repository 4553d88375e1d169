"""Offline pipeline speed on transformers, and exactness on the peft benchmark.

    python bench/pipeline_bench.py [--source DIR] [--peft-source DIR] [--skip-peft]

transformers (default: the 5.0.0 source archive from the package index, cached): the project's
31-step WorkflowIndex, run as a user runs it (a fresh process each time):
  cold — empty cache: indexing, usage scan and drafting; warm — cache present, new wiki;
  per-step overhead — warm, one pair at a time: wall seconds not spent inside the nodes, per pair;
  baseline — in the same run, the seconds of `python -m tools index` on the warm cache (process
  start-up, imports and loading the index), which every run pays before drafting.
peft (../shared/bench/peft): the benchmark's WorkflowIndex (23 steps, 15 pairs, some hints wrong);
pairs committed with the true location (truth.json), and `python -m agents.verify` on the result.
Prints one JSON object. Targets: cold ≤ 60 s, warm ≤ 10 s, overhead ≤ 50 ms per step.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "bench" / "peft"
sys.path.insert(0, str(ROOT))

from tools.resolve import default_cache_dir  # noqa: E402
from tools.sdist import fetch_sdist  # noqa: E402


def run(args: list[str], env: dict) -> tuple[float, subprocess.CompletedProcess]:
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, cwd=ROOT)
    return time.perf_counter() - t0, p


def pipeline(repo: str, source: Path, cache: Path, runs: Path, extra: list[str], env: dict) -> tuple[float, dict]:
    secs, p = run(["-m", "agents.run", "--repo", repo, "--source", str(source), "--runs", str(runs),
                   "--cache-dir", str(cache), "--json", *extra], env)
    if p.returncode not in (0, 1):
        raise SystemExit(f"run failed ({p.returncode}): {p.stderr.strip()[-500:]}")
    return secs, json.loads(p.stdout)


def node_seconds(run_dir: Path) -> float:
    lines = [json.loads(l) for l in (run_dir / "trace.jsonl").read_text().splitlines()]
    return sum(l["seconds"] for l in lines)


def transformers_figures(source: Path, env: dict) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        cache = tmp / "cache"
        cold, s_cold = pipeline("huggingface_transformers", source, cache, tmp / "cold", [], env)
        base, _ = run(["-m", "tools", "index", "--repo", "huggingface_transformers", "--source", str(source),
                       "--cache-dir", str(cache)], env)
        warm, s_warm = pipeline("huggingface_transformers", source, cache, tmp / "warm", [], env)
        serial, s_serial = pipeline("huggingface_transformers", source, cache, tmp / "serial",
                                    ["--concurrency", "1"], env)
        pairs = s_serial["pairs_planned"] or 1
        overhead = (serial - node_seconds(Path(s_serial["run_dir"]))) / pairs
        ver, p = run(["-m", "agents.verify", s_warm["wiki"], "--source", str(source), "--cache-dir", str(cache),
                      "--json"], env)
        v = json.loads(p.stdout)
        return {"steps": 31, "pairs": s_warm["pairs_planned"], "committed_pairs": s_warm["pairs_committed"],
                "held_pairs": s_warm["pairs_held"], "pages_committed": s_warm["pages_committed"],
                "cold_seconds": round(cold, 2), "warm_seconds": round(warm, 2),
                "baseline_index_load_seconds": round(base, 2),
                "warm_minus_baseline_seconds": round(warm - base, 2),
                "serial_warm_seconds": round(serial, 2), "overhead_ms_per_step": round(1000 * overhead, 1),
                "verify_exit": p.returncode, "verify_errors": v["errors"], "verify_seconds_cli": round(ver, 2),
                "targets": {"cold_le_60": cold <= 60, "warm_le_10": warm <= 10, "overhead_le_50ms": overhead <= 0.05}}


def peft_figures(source: Path, env: dict) -> dict:
    truth = json.loads((SHARED / "truth.json").read_text())
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        secs, s = pipeline("huggingface_peft", source, tmp / "cache", tmp / "runs",
                           ["--workflow-index", str(SHARED / "_WorkflowIndex.md")], env)
        run_dir = Path(s["run_dir"])
        verdicts = {json.loads(l)["implementation"]: json.loads(l) for l in (run_dir / "verdicts.jsonl").read_text().splitlines()}
        exact, wrong = 0, []
        for pair in truth["pairs"]:
            v = verdicts.get(pair["implementation"])
            loc = (v or {}).get("location") or {}
            if pair["kind"] == "external":
                good = loc.get("kind") == "external"
            else:
                good = (loc.get("file"), loc.get("start_line"), loc.get("end_line")) == \
                    (pair["file"], pair["start_line"], pair["end_line"])
            if good and v["outcome"] == "committed":
                exact += 1
            else:
                wrong.append(pair["implementation"])
        _, p = run(["-m", "agents.verify", s["wiki"], "--source", str(source), "--cache-dir", str(tmp / "cache")], env)
        return {"steps": 23, "pairs": len(truth["pairs"]), "committed_pairs": s["pairs_committed"],
                "held": s["held"], "committed_with_true_location": exact, "wrong": wrong,
                "verify_exit": p.returncode, "seconds": round(secs, 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", type=Path, help="transformers 5.0.0 source (default: fetched sdist)")
    ap.add_argument("--peft-source", type=Path, help="peft 0.18.1 source (default: fetched sdist)")
    ap.add_argument("--skip-peft", action="store_true")
    ap.add_argument("--skip-transformers", action="store_true")
    args = ap.parse_args()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("REPOWIKI_CACHE_DIR", None)
    out = {}
    if not args.skip_transformers:
        src = args.source or fetch_sdist("transformers==5.0.0", default_cache_dir())
        out["transformers"] = transformers_figures(src, env)
    if not args.skip_peft:
        src = args.peft_source or fetch_sdist("peft==0.18.1", default_cache_dir())
        out["peft_benchmark"] = peft_figures(src, env)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
