"""Locator accuracy and calibration on every benchmark folder that has a truth.json.

    python bench/locate_bench.py [--bench-root ../shared/bench] [--bench DIR ...] [--src-dir DIR]

For each benchmark: fetch the exact source with the folder's own fetch-source, run the stable CLI
contract ``python -m tools locate --json --details`` on its WorkflowIndex, and compare each step
with truth.json. Prints JSON per case: internal steps exact, external recognised, ambiguous steps
held (answered below the commit threshold, or unusable input) with their reasons, wrong answers at
or above the threshold (must be 0), a calibration table (confidence band → answered, exact), and
seconds. A step is "exact" when kind, qualified name, file and lines all equal the truth (or one of
its alternatives); an external truth is recognised by kind ``external``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BANDS = [(0.0, 0.5), (0.5, 0.7), (0.7, 0.8), (0.8, 0.9), (0.9, 0.95), (0.95, 1.01)]


def fetch(bench: Path, src_dir: Path, truth: dict) -> str:
    target = src_dir / f"{truth['package']}-{truth['version']}"
    out = (
        subprocess.run(["bash", str(bench / "fetch-source"), str(target)], check=True, capture_output=True, text=True)
        .stdout.strip()
        .splitlines()
    )
    return out[-1]


def exact(row: dict, t: dict) -> bool:
    if t["kind"] == "external":
        return row["kind"] == "external"
    if t["kind"] != "internal" or row["kind"] != "internal":
        return False
    got = (row["qualname"], row["file"], row["start_line"], row["end_line"])
    want = [(t["qualname"], t["file"], t["start_line"], t["end_line"])]
    want += [
        (a.get("qualname"), a.get("file"), a.get("start_line"), a.get("end_line"))
        for a in t.get("alternatives") or []
        if isinstance(a, dict)
    ]
    return got in want


def case(bench: Path, src_dir: Path, threshold: float) -> dict:
    truth = json.loads((bench / "truth.json").read_text())
    source = fetch(bench, src_dir, truth)
    t0 = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tools",
            "locate",
            "--source",
            source,
            "--workflow-index",
            str(bench / "_WorkflowIndex.md"),
            "--json",
            "--details",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        return {
            "benchmark": bench.name,
            "error": proc.stderr.strip()[-400:],
            "tracebacks": int("Traceback" in proc.stderr),
        }
    rows = json.loads(proc.stdout)
    pairs = {p["implementation"]: p for p in truth["pairs"]}
    counts = {"internal": [0, 0], "external": [0, 0]}
    ambiguous, wrong, unmatched = [], [], []
    bands = {f"{lo:.2f}-{min(hi, 1):.2f}": [0, 0] for lo, hi in BANDS}
    for row in rows:
        t = pairs.get(row.get("implementation") or "")
        if t is None:
            unmatched.append(
                {
                    "implementation": row.get("implementation"),
                    "kind": row["kind"],
                    "reason": (row.get("reasons") or [""])[-1][:200],
                }
            )
            continue
        conf = row.get("confidence") or 0.0
        answered = row["kind"] in ("internal", "external") and (row["kind"] == "external" or row["qualname"])
        if t["kind"] == "ambiguous":
            held = row["kind"] == "held" or conf < threshold or not answered
            ambiguous.append(
                {
                    "implementation": row["implementation"],
                    "held": held,
                    "why": (row.get("reasons") or [""])[-1][:200]
                    if held
                    else f"answered {row['kind']} {row.get('qualname')} at {conf:.2f}",
                }
            )
            continue
        ok = bool(answered) and exact(row, t)
        counts[t["kind"]][0] += ok and conf >= threshold
        counts[t["kind"]][1] += 1
        if answered:
            band = next(f"{lo:.2f}-{min(hi, 1):.2f}" for lo, hi in BANDS if lo <= conf < hi)
            bands[band][0] += 1
            bands[band][1] += ok
        if answered and conf >= threshold and not ok:
            wrong.append(
                {
                    "implementation": row["implementation"],
                    "confidence": conf,
                    "found": {k: row.get(k) for k in ("kind", "qualname", "file", "start_line", "end_line")},
                    "truth": {k: t.get(k) for k in ("kind", "qualname", "file", "start_line", "end_line")},
                }
            )
    confident = [
        r
        for r in rows
        if r["kind"] in ("internal", "external")
        and (r.get("confidence") or 0) >= threshold
        and (r.get("implementation") in pairs and pairs[r["implementation"]]["kind"] != "ambiguous")
    ]
    return {
        "benchmark": bench.name,
        "version": f"{truth['package']} {truth['version']}",
        "steps": len(rows),
        "internal_steps_exact": f"{counts['internal'][0]}/{counts['internal'][1]}",
        "external_steps_recognised": f"{counts['external'][0]}/{counts['external'][1]}",
        "ambiguous_held": f"{sum(a['held'] for a in ambiguous)}/{len(ambiguous)}",
        "confident_answers": len(confident),
        "confident_wrong": len(wrong),
        "precision_at_threshold": round(1 - len(wrong) / len(confident), 3) if confident else None,
        "calibration": {b: {"answered": n, "exact": e} for b, (n, e) in bands.items() if n},
        "wrong": wrong,
        "ambiguous": ambiguous,
        "steps_without_truth": unmatched,
        "tracebacks": int("Traceback" in proc.stderr),
        "seconds": round(seconds, 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bench-root", type=Path, default=ROOT.parent / "shared" / "bench")
    ap.add_argument("--bench", type=Path, nargs="*", help="benchmark folders (default: every one under --bench-root)")
    ap.add_argument("--src-dir", type=Path, default=ROOT / ".bench-src")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from tools.locate import CONFIDENT

    benches = args.bench or sorted(p.parent for p in args.bench_root.glob("*/truth.json"))
    print(json.dumps({"threshold": CONFIDENT, "cases": [case(b, args.src_dir, CONFIDENT) for b in benches]}, indent=1))


if __name__ == "__main__":
    main()
