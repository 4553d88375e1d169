"""Index speed and memory against a baseline measured in the same run.

    python bench/index_bench.py --source DIR [--repeat 3]

Prints JSON: files, lines, symbols; cold seconds (empty cache, process pool), warm seconds
(cache present, nothing changed); the seconds of a plain single-process tree-sitter parse of
the same files (the baseline); their ratio; peak RSS of the main process and of the workers.
Each figure is the median of --repeat runs; the file contents are read once beforehand so
that the page cache treats baseline and index alike.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tools.index.build import build_index  # noqa: E402
from tools.index.pyparse import parser  # noqa: E402
from tools.source.resolve import iter_python_files, resolve_repo  # noqa: E402
from tools.index.workspace import guess_repo  # noqa: E402


def plain_parse(paths: list[Path]) -> float:
    p = parser()
    t0 = time.perf_counter()
    for path in paths:
        p.parse(path.read_bytes())
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", required=True)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    src = resolve_repo(guess_repo(args.source), args.source)
    paths = [p for p, _ in iter_python_files(src)]
    for p in paths:
        p.read_bytes()
    baseline, cold, warm = [], [], []
    stats = None
    for _ in range(args.repeat):
        baseline.append(plain_parse(paths))
        with tempfile.TemporaryDirectory() as cache:
            t0 = time.perf_counter()
            idx = build_index(src, Path(cache))
            cold.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            again = build_index(src, Path(cache))
            warm.append(time.perf_counter() - t0)
            assert again.stats.parsed == 0, "warm build re-parsed files"
            stats = idx.stats
    main_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    med = statistics.median
    print(
        json.dumps(
            {
                "source": str(src.root),
                "files": stats.files,
                "lines": stats.lines,
                "symbols": stats.symbols,
                "skipped": stats.skipped,
                "partial": stats.partial,
                "cold_seconds": round(med(cold), 3),
                "warm_seconds": round(med(warm), 3),
                "plain_parse_seconds": round(med(baseline), 3),
                "cold_vs_plain_parse": round(med(cold) / med(baseline), 3),
                "peak_rss_mib_main": round(main_rss, 1),
                "peak_rss_mib_worker": round(child_rss, 1),
                "repeat": args.repeat,
                "targets": {"cold_vs_plain_parse": "<= 1.0", "warm_seconds": "<= 1.0", "peak_rss_mib": "<= 1536"},
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
