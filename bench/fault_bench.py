"""Fault injection figures: the endpoint faults of tests/faults (a scripted server on 127.0.0.1),
the kill-and-resume test, and mutated WorkflowIndexes, each run in a fresh process.

    python bench/fault_bench.py [--bad-inputs N]

Prints JSON: faults survived / tried (each case asserts exit code, no traceback, a wiki that
verifies, the key nowhere on disk), kills survived, bad inputs tried / tracebacks / hangs (random
mutations of the fixture WorkflowIndex through parse, plan and locate, each under a 10 s limit),
and the peak RSS of the child processes.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def pytest_cases(*args: str) -> tuple[int, int, float]:
    t0 = time.perf_counter()
    p = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    passed = len(re.findall(r"^PASSED ", p.stdout, re.M))
    failed = len(re.findall(r"^(FAILED|ERROR) ", p.stdout, re.M))
    return passed, passed + failed, time.perf_counter() - t0


BAD_INPUTS = r"""
import random, re, signal, sys, traceback
sys.path.insert(0, "tests")
from pathlib import Path
from test_input_properties import OPS, _mutate
from fixture_repo import make_fixture_repo
import tempfile
from agents.nodes.plan import input_rewrites, plan_pairs, with_rewrites
from tools.errors import UsageError
from tools.index.build import build_index
from tools.locate import Locator
from tools.source.resolve import resolve_repo
from tools.wiki.workflow_index import parse_workflow_index
from tools.index.workspace import Workspace
base = Path(tempfile.mkdtemp())
repo = make_fixture_repo(base)
src = resolve_repo("acme_minipkg", str(repo), base / "c")
ws = Workspace(src, build_index(src, base / "c"))
loc = Locator(ws, base / "c")
rng = random.Random(int(sys.argv[1]))
tried = tracebacks = hangs = 0
def alarm(*a):
    raise TimeoutError
signal.signal(signal.SIGALRM, alarm)
for _ in range(int(sys.argv[2])):
    ops = [(rng.choice(OPS), rng.randrange(10**6)) for _ in range(rng.randint(1, 4))]
    tried += 1
    signal.alarm(10)
    try:
        try:
            wi = parse_workflow_index(_mutate(ops), "wi.md")
        except UsageError:
            continue
        wi = parse_workflow_index(with_rewrites(_mutate(ops), wi, input_rewrites(wi)), "wi.md")
        plan_pairs(wi)
        for s in wi.steps:
            loc.locate(s, [e for e in wi.steps if e.workflow == s.workflow and e.number < s.number])
    except TimeoutError:
        hangs += 1
    except Exception:
        tracebacks += 1
        traceback.print_exc()
    finally:
        signal.alarm(0)
print(tried, tracebacks, hangs)
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bad-inputs", type=int, default=500)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    faults_ok, faults_tried, faults_s = pytest_cases("tests/faults")
    kills_ok, kills_tried, _ = pytest_cases("tests/test_run.py", "-k", "sigkill or fault_inside")
    p = subprocess.run(
        [sys.executable, "-c", BAD_INPUTS, str(args.seed), str(args.bad_inputs)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    tried, tracebacks, hangs = (int(x) for x in p.stdout.split()[-3:]) if p.stdout.strip() else (0, -1, -1)
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(
        json.dumps(
            {
                "faults_survived": f"{faults_ok}/{faults_tried}",
                "faults_seconds": round(faults_s, 1),
                "kill_and_resume_tests": f"{kills_ok}/{kills_tried}",
                "bad_inputs_tried": tried,
                "tracebacks": tracebacks,
                "hangs": hangs,
                "secrets_found": 0 if faults_ok == faults_tried else "see the failing fault case",
                "peak_rss_mib": round(rss / 1024, 1),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
