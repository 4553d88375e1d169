"""Locator accuracy on ../shared/bench/peft (or another benchmark folder with the same files).

    python bench/locate_bench.py [--bench ../shared/bench/peft] [--cache-dir DIR]

Fetches the exact source with the benchmark's own fetch-source, runs the stable CLI contract
``python -m tools locate --json`` on the benchmark's WorkflowIndex, and compares each step with
truth.json. Prints JSON: internal pairs exact on symbol, file and lines; external pairs recognised;
the misses with what was found instead.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bench", type=Path, default=ROOT.parent / "shared" / "bench" / "peft")
    ap.add_argument("--src-dir", type=Path, default=ROOT / ".bench-src")
    args = ap.parse_args()
    truth = json.loads((args.bench / "truth.json").read_text())
    target = args.src_dir / f"{truth['package']}-{truth['version']}"
    source = subprocess.run(["bash", str(args.bench / "fetch-source"), str(target)], check=True,
                            capture_output=True, text=True).stdout.strip().splitlines()[-1]
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "tools", "locate", "--source", source, "--workflow-index",
                           str(args.bench / "_WorkflowIndex.md"), "--json"],
                          capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"locate failed: {proc.stderr.strip()}")
    rows = json.loads(proc.stdout)
    pairs = {p["implementation"]: p for p in truth["pairs"]}
    steps = {"internal": [0, 0], "external": [0, 0]}
    distinct: dict[str, bool] = {}
    misses = []
    for row in rows:
        t = pairs[row["implementation"]]
        if t["kind"] == "internal":
            ok = (row["kind"], row["qualname"], row["file"], row["start_line"], row["end_line"]) == (
                "internal", t["qualname"], t["file"], t["start_line"], t["end_line"])
        else:
            ok = row["kind"] == "external"
        steps[t["kind"]][0] += ok
        steps[t["kind"]][1] += 1
        distinct[row["implementation"]] = distinct.get(row["implementation"], True) and ok
        if not ok:
            misses.append({"implementation": row["implementation"], "found": row,
                           "truth": {k: t.get(k) for k in ("kind", "qualname", "file", "start_line", "end_line")}})
    internal_pairs = [k for k, v in pairs.items() if v["kind"] == "internal"]
    external_pairs = [k for k, v in pairs.items() if v["kind"] == "external"]
    print(json.dumps({
        "benchmark": str(args.bench), "steps": len(rows), "pairs": len(pairs),
        "internal_pairs_exact": f"{sum(distinct.get(k, False) for k in internal_pairs)}/{len(internal_pairs)}",
        "external_pairs_recognised": f"{sum(distinct.get(k, False) for k in external_pairs)}/{len(external_pairs)}",
        "internal_steps_exact": f"{steps['internal'][0]}/{steps['internal'][1]}",
        "external_steps_recognised": f"{steps['external'][0]}/{steps['external'][1]}",
        "low_confidence_steps": sum(1 for r in rows if r["confidence"] < 0.7),
        "seconds": round(seconds, 2), "misses": misses,
    }, indent=1))


if __name__ == "__main__":
    main()
