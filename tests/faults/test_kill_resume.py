"""A model-backed run killed with SIGKILL at a seeded random moment, then resumed, ends with the same
wiki as an uninterrupted run, and loses no page."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tools.wiki.load import read_pages, same_but_stamp

ROOT = Path(__file__).resolve().parents[2]
FIXTURE_INDEX = ROOT / "tests" / "fixtures" / "minipkg_WorkflowIndex.md"
PROSE = {
    "principle_description": "Work items are handed to a runner that processes them in order.",
    "implementation_usage": "Call it after the engine was created.",
}


class Slow:
    """Every answer after a pause, so that the kill lands while pairs are in flight."""

    def reply(self, body: dict):
        time.sleep(0.25)
        content = json.dumps(PROSE)
        return (
            200,
            {
                "id": "x",
                "object": "chat.completion",
                "created": 0,
                "model": "fake",
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
                ],
                "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
            },
            {},
        )


@pytest.mark.parametrize("seed", [1, 2])
def test_a_model_backed_run_killed_at_a_random_moment_resumes_to_the_same_wiki(seed, endpoint, fixture_repo, tmp_path):
    url = endpoint(Slow())
    env = dict(os.environ, PYTHONPATH=str(ROOT), OPENAI_API_KEY="local")
    base = [
        "--repo",
        "acme_minipkg",
        "--source",
        str(fixture_repo),
        "--workflow-index",
        str(FIXTURE_INDEX),
        "--quiet",
        "--model",
        "fake",
        "--base-url",
        url,
        "--concurrency",
        "2",
    ]
    killed = tmp_path / "killed"
    proc = subprocess.Popen(
        [sys.executable, "-m", "agents.run", *base, "--runs", str(killed), "--cache-dir", str(tmp_path / "c1")],
        env=env,
        cwd=ROOT,
    )
    deadline = time.time() + 60
    while time.time() < deadline and not any(p.read_text() for p in killed.glob("acme_minipkg/*/trace.jsonl")):
        time.sleep(0.02)  # the run has started its nodes
    time.sleep(random.Random(seed).uniform(0.0, 1.5))  # then a seeded moment among the pairs in flight
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert list(killed.glob("acme_minipkg/*/run.json")), "the run never started"
    r = subprocess.run(
        [sys.executable, "-m", "agents.run", *base, "--runs", str(killed), "--resume", "latest"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert r.returncode == 0, r.stderr
    clean = tmp_path / "clean"
    r = subprocess.run(
        [sys.executable, "-m", "agents.run", *base, "--runs", str(clean), "--cache-dir", str(tmp_path / "c2")],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert r.returncode == 0, r.stderr
    got, want = read_pages(killed / "acme_minipkg" / "wiki"), read_pages(clean / "acme_minipkg" / "wiki")
    assert got.keys() == want.keys() and len(got) == 11
    assert all(same_but_stamp(got[k], want[k]) for k in got)
