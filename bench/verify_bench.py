"""Verifier accuracy and speed.

    python bench/verify_bench.py [--peft-source DIR] [--transformers-source DIR]

Accuracy, on the spec's hand-checked example wiki (../shared/spec/examples, peft 0.18.1): false
positives on the correct wiki, then every fault of agents.verify.mutate injected into a fresh copy —
injected, caught under the expected rule, caught under another rule only, missed.
Speed, on transformers 5.0.0: a wiki drafted by the offline pipeline from the project's 31-step
WorkflowIndex (31 pairs + 5 workflow pages) is verified against the warm index; the baseline,
measured in the same run, is loading that warm index (every verification pays it).
Prints one JSON object. Target: ≤ 2 s for the wiki.
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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT.parent / "shared" / "spec" / "examples"
sys.path.insert(0, str(ROOT))

from agents.verify.mutate import MUTATIONS, mutated_copy  # noqa: E402
from agents.verify.verifier import verify_wiki  # noqa: E402
from tools.wiki.load import load_wiki  # noqa: E402
from tools.source.resolve import default_cache_dir  # noqa: E402
from tools.source.sdist import fetch_sdist  # noqa: E402
from tools.index.workspace import open_workspace  # noqa: E402


def accuracy(peft: Path, cache: Path) -> dict:
    ws = open_workspace("huggingface_peft", str(peft), cache)
    base = verify_wiki(load_wiki(EXAMPLES, "huggingface_peft", ("README.md",)), ws)
    out = {
        "pages": base.pages,
        "false_positives": len(base.findings),
        "injected": 0,
        "caught": 0,
        "caught_other_rule": [],
        "missed": [],
        "not_applicable": [],
    }
    with tempfile.TemporaryDirectory() as tmp:
        for m in MUTATIONS:
            dest = Path(tmp) / m.name
            what = mutated_copy(EXAMPLES, dest, m, ws.source.root)
            if what is None:
                out["not_applicable"].append(m.name)
                continue
            out["injected"] += 1
            rules = verify_wiki(load_wiki(dest, "huggingface_peft", ("README.md",)), ws).per_rule()
            if m.rule in rules:
                out["caught"] += 1
            elif rules:
                out["caught_other_rule"].append({"fault": m.name, "expected": m.rule, "got": sorted(rules)})
            else:
                out["missed"].append(m.name)
    return out


def speed(source: Path, cache: Path, repeat: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        p = subprocess.run(
            [
                sys.executable,
                "-m",
                "agents.run",
                "--repo",
                "huggingface_transformers",
                "--source",
                str(source),
                "--runs",
                tmp,
                "--cache-dir",
                str(cache),
                "--json",
                "--quiet",
            ],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
        )
        if p.returncode not in (0, 1):
            raise SystemExit(f"drafting the wiki failed: {p.stderr.strip()[-400:]}")
        wiki = Path(json.loads(p.stdout)["wiki"])
        loads, checks, pages, errors = [], [], 0, 0
        for _ in range(repeat):
            t0 = time.perf_counter()
            ws = open_workspace("huggingface_transformers", str(source), cache)
            loads.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            report = verify_wiki(load_wiki(wiki, "huggingface_transformers"), ws)
            checks.append(time.perf_counter() - t0)
            pages, errors = report.pages, len(report.errors)
            from agents.verify import context

            context._shared.clear()  # each repeat pays the source-wide facts again, as a fresh process does
        med = statistics.median(checks)
        return {
            "pages": pages,
            "errors": errors,
            "verify_seconds": round(med, 3),
            "baseline_warm_index_load_seconds": round(statistics.median(loads), 3),
            "seconds_per_page_ms": round(1000 * med / max(pages, 1), 1),
            "target_le_2s": med <= 2.0,
            "repeat": repeat,
        }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--peft-source", type=Path)
    ap.add_argument("--transformers-source", type=Path)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    cache = Path(os.environ.get("REPOWIKI_CACHE_DIR") or default_cache_dir())
    peft = args.peft_source or fetch_sdist("peft==0.18.1", cache)
    tf = args.transformers_source or fetch_sdist("transformers==5.0.0", cache)
    print(
        json.dumps(
            {
                "accuracy_on_spec_examples": accuracy(peft, cache),
                "speed_on_transformers": speed(tf, cache, args.repeat),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
