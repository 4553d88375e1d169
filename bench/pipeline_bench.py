"""Offline pipeline speed on transformers, and exactness on the peft benchmark.

    python bench/pipeline_bench.py [--source DIR] [--peft-source DIR] [--skip-peft]

transformers (default: the 5.0.0 source archive from the package index, cached): the project's
31-step WorkflowIndex, run as a user runs it (a fresh process each time):
  cold — empty cache: indexing, usage scan and drafting; warm — cache present, new wiki;
  per-step overhead — warm, one pair at a time: wall seconds not spent inside the nodes, per pair;
  baseline — in the same run, the seconds of `python -m tools index` on the warm cache (process
  start-up, imports and loading the index), which every run pays before drafting.
benchmarks (every ../shared/bench folder with a truth.json): the benchmark's WorkflowIndex, offline;
per case: internal pairs committed exact, external recognised, ambiguous held, committed pages whose
location differs from the truth (must be 0), tracebacks (must be 0), `python -m agents.verify` errors on the
result (must be 0).
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
sys.path.insert(0, str(ROOT))

from tools.source.resolve import default_cache_dir  # noqa: E402
from tools.source.sdist import fetch_sdist  # noqa: E402


def run(args: list[str], env: dict) -> tuple[float, subprocess.CompletedProcess]:
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, cwd=ROOT)
    return time.perf_counter() - t0, p


def pipeline(repo: str, source: Path, cache: Path, runs: Path, extra: list[str], env: dict) -> tuple[float, dict]:
    secs, p = run(
        [
            "-m",
            "agents.run",
            "--repo",
            repo,
            "--source",
            str(source),
            "--runs",
            str(runs),
            "--cache-dir",
            str(cache),
            "--json",
            *extra,
        ],
        env,
    )
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
        base, _ = run(
            [
                "-m",
                "tools",
                "index",
                "--repo",
                "huggingface_transformers",
                "--source",
                str(source),
                "--cache-dir",
                str(cache),
            ],
            env,
        )
        warm, s_warm = pipeline("huggingface_transformers", source, cache, tmp / "warm", [], env)
        serial, s_serial = pipeline(
            "huggingface_transformers", source, cache, tmp / "serial", ["--concurrency", "1"], env
        )
        pairs = s_serial["pairs_planned"] or 1
        overhead = (serial - node_seconds(Path(s_serial["run_dir"]))) / pairs
        ver, p = run(
            [
                "-m",
                "agents.verify",
                s_warm["wiki"],
                "--source",
                str(source),
                "--cache-dir",
                str(cache),
                "--json",
            ],
            env,
        )
        v = json.loads(p.stdout)
        return {
            "steps": 31,
            "pairs": s_warm["pairs_planned"],
            "committed_pairs": s_warm["pairs_committed"],
            "held_pairs": s_warm["pairs_held"],
            "pages_committed": s_warm["pages_committed"],
            "cold_seconds": round(cold, 2),
            "warm_seconds": round(warm, 2),
            "baseline_index_load_seconds": round(base, 2),
            "warm_minus_baseline_seconds": round(warm - base, 2),
            "serial_warm_seconds": round(serial, 2),
            "overhead_ms_per_step": round(1000 * overhead, 1),
            "verify_exit": p.returncode,
            "verify_errors": v["errors"],
            "verify_seconds_cli": round(ver, 2),
            "targets": {"cold_le_60": cold <= 60, "warm_le_10": warm <= 10, "overhead_le_50ms": overhead <= 0.05},
        }


def fetch_bench_source(bench: Path, truth: dict) -> Path:
    target = ROOT / ".bench-src" / f"{truth['package']}-{truth['version']}"
    out = (
        subprocess.run(["bash", str(bench / "fetch-source"), str(target)], check=True, capture_output=True, text=True)
        .stdout.strip()
        .splitlines()
    )
    return Path(out[-1])


def bench_figures(bench: Path, env: dict) -> dict:
    """The offline run on a benchmark's WorkflowIndex, each committed page held against truth.json:
    a committed pair whose location differs from the truth is a wrong page (must be 0)."""
    truth = json.loads((bench / "truth.json").read_text())
    source = fetch_bench_source(bench, truth)
    by_step = {(o["workflow"], o["step"]): p for p in truth["pairs"] for o in p.get("occurrences") or []}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        p = subprocess.run(
            [
                sys.executable,
                "-m",
                "agents.run",
                "--repo",
                truth["repo"],
                "--source",
                str(source),
                "--runs",
                str(tmp / "runs"),
                "--cache-dir",
                str(tmp / "cache"),
                "--json",
                "--workflow-index",
                str(bench / "_WorkflowIndex.md"),
            ],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
        )
        secs = time.perf_counter() - t0
        if p.returncode not in (0, 1):
            return {
                "benchmark": bench.name,
                "exit": p.returncode,
                "error": p.stderr.strip()[-400:],
                "tracebacks": int("Traceback" in p.stderr),
            }
        s = json.loads(p.stdout)
        run_dir = Path(s["run_dir"])
        counts = {"internal": [0, 0], "external": [0, 0], "ambiguous": [0, 0]}
        wrong = []
        for line in (run_dir / "verdicts.jsonl").read_text().splitlines():
            v = json.loads(line)
            t = next(
                (
                    by_step[(st["workflow"], st["number"])]
                    for st in v["steps"]
                    if (st["workflow"], st["number"]) in by_step
                ),
                None,
            )
            if t is None:
                continue
            loc = v.get("location") or {}
            committed = v["outcome"] == "committed"
            if t["kind"] == "ambiguous":
                counts["ambiguous"][0] += not committed
                counts["ambiguous"][1] += 1
                continue
            good = (
                loc.get("kind") == "external"
                if t["kind"] == "external"
                else (loc.get("qualname"), loc.get("file"), loc.get("start_line"), loc.get("end_line"))
                == (t["qualname"], t["file"], t["start_line"], t["end_line"])
            )
            counts[t["kind"]][0] += committed and good
            counts[t["kind"]][1] += 1
            if committed and not good:
                wrong.append(
                    {
                        "page": v["implementation"],
                        "found": loc,
                        "truth": {k: t[k] for k in ("kind", "qualname", "file", "start_line", "end_line")},
                    }
                )
        _, vp = run(
            [
                "-m",
                "agents.verify",
                s["wiki"],
                "--source",
                str(source),
                "--cache-dir",
                str(tmp / "cache"),
                "--json",
            ],
            env,
        )
        ver = json.loads(vp.stdout) if vp.stdout.strip() else {}
        return {
            "benchmark": bench.name,
            "version": f"{truth['package']} {truth['version']}",
            "exit": p.returncode,
            "pairs_planned": s["pairs_planned"],
            "pairs_committed": s["pairs_committed"],
            "internal_committed_exact": f"{counts['internal'][0]}/{counts['internal'][1]}",
            "external_committed_recognised": f"{counts['external'][0]}/{counts['external'][1]}",
            "ambiguous_held": f"{counts['ambiguous'][0]}/{counts['ambiguous'][1]}",
            "committed_with_wrong_location": len(wrong),
            "wrong": wrong,
            "held": s["held"],
            "tracebacks": int("Traceback" in p.stderr),
            "verify_errors": ver.get("errors"),
            "seconds": round(secs, 2),
        }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", type=Path, help="transformers 5.0.0 source (default: fetched sdist)")
    ap.add_argument(
        "--bench-root",
        type=Path,
        default=ROOT.parent / "shared" / "bench",
        help="benchmark folders with a truth.json (default ../shared/bench)",
    )
    ap.add_argument("--skip-benchmarks", action="store_true")
    ap.add_argument("--skip-transformers", action="store_true")
    args = ap.parse_args()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("REPOWIKI_CACHE_DIR", None)
    out = {}
    if not args.skip_transformers:
        src = args.source or fetch_sdist("transformers==5.0.0", default_cache_dir())
        out["transformers"] = transformers_figures(src, env)
    if not args.skip_benchmarks:
        out["benchmarks"] = [
            bench_figures(b, env) for b in sorted(p.parent for p in args.bench_root.glob("*/truth.json"))
        ]
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
