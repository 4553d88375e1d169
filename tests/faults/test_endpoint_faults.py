"""Fault injection against a real HTTP server on 127.0.0.1: a scripted OpenAI-compatible endpoint
(bounded requests, a lifetime, stopped by the test) answers the pipeline's model calls and plants
one fault each. Every case asserts the exit code, no traceback, what is committed, a wiki that
verifies with 0 errors, and the key nowhere on disk."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from fixture_repo import fixture_argv

from agents.run import main
from agents.verify.verifier import verify_wiki
from tools.wiki.load import load_wiki
from tools.index.build import build_index
from tools.source.resolve import resolve_repo
from tools.index.workspace import Workspace

KEY = "sk-faulttest" + "Q" * 36
PROSE = {
    "principle_overview": "Carrying out a batch of queued work items on a prepared runner.",
    "principle_description": "Work items are handed to a runner that processes them in order and reports each result.",
    "principle_usage": "Use it whenever queued work must be processed.",
    "implementation_description": "Runs each job on the engine and returns the job names that finished.",
    "implementation_usage": "Call it after the engine was created.",
}
ANSWER = {"name": "answer", "arguments": {"qualname": "run_engine", "file": "src/minipkg/core.py"}}


def _completion(content: str) -> dict:
    return {
        "id": "x",
        "object": "chat.completion",
        "created": 0,
        "model": "fake",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    }


class Script:
    """What the endpoint does with the n-th request: a fault, or the right answer."""

    def __init__(self, fault: str, times: int = 1):
        self.fault, self.times, self.n, self.bodies = fault, times, 0, []
        self.lock = threading.Lock()

    AGENT_ONLY = {"unknown_tool", "outside_path"}
    PROSE_ONLY = {"invented_api"}

    def reply(self, body: dict) -> tuple[int, dict | str | None, dict]:
        agent = "tools" in body
        with self.lock:
            self.n += 1
            self.bodies.append(body)
            kind = "agent" if agent else "prose"
            self.seen = getattr(self, "seen", {})
            self.seen[kind] = self.seen.get(kind, 0) + 1
            n = self.seen[kind] if self.fault in self.AGENT_ONLY | self.PROSE_ONLY else self.n
        faulty = n <= self.times
        good = _completion("```json\n" + json.dumps(ANSWER) + "\n```") if agent else _completion(json.dumps(PROSE))
        if not faulty:
            return 200, good, {}
        f = self.fault
        if f == "rate_limit":
            return 429, {"error": {"message": "slow down"}}, {"Retry-After": "0"}
        if f == "server_error":
            return 503, {"error": {"message": "busy"}}, {}
        if f == "hang":
            time.sleep(2.5)
            return 200, good, {}
        if f == "reset":
            return -1, None, {}
        if f == "not_json":
            return 200, "<html>bad gateway</html>", {}
        if f == "no_choices":
            return 200, {**good, "choices": []}, {}
        if f == "echo_key":
            return 401, {"error": {"message": f"invalid key {body.get('_auth')}"}}, {}
        if f == "unknown_tool" and agent:
            return 200, _completion(json.dumps({"name": "rm_rf", "arguments": {"path": "/"}})), {}
        if f == "outside_path" and agent:
            return (
                200,
                _completion(
                    json.dumps(
                        {"name": "read_lines", "arguments": {"file": "../../../etc/passwd", "start": 1, "end": 5}}
                    )
                ),
                {},
            )
        if f == "invented_api" and not agent:
            return (
                200,
                _completion(
                    json.dumps(
                        {
                            **PROSE,
                            "implementation_usage": "Call it after the engine was created. It also calls "
                            "minipkg.magic_merge_all(engine, fast=True) internally.",
                        }
                    )
                ),
                {},
            )
        return 200, good, {}


def _index(tmp_path: Path) -> Path:
    def step(n, principle, impl, call):
        return (
            f"### Step {n}: {principle}\n\n| Attribute | Value |\n|---|---|\n| **Principle** | `acme_minipkg_{principle}` |\n"
            f"| **Implementation** | `acme_minipkg_{impl}` |\n| **API Call** | `{call}` |\n\n"
        )

    path = tmp_path / "wi.md"
    path.write_text(
        "# Workflow Index: acme_minipkg\n\n## Workflow: acme_minipkg_Run\n\n**Description:** Run jobs.\n\n"
        + step(1, "Engine_Setup", "Engine", "Engine(config)")
        + step(2, "Job_Execution", "mystery", "mystery(engine, jobs)")
    )
    return path


CASES = [  # fault, times, expected exit
    ("rate_limit", 1, 0),
    ("server_error", 2, 0),
    ("hang", 1, 0),
    ("reset", 1, 0),
    ("not_json", 2, 0),
    ("no_choices", 1, 0),
    ("unknown_tool", 1, 0),
    ("outside_path", 1, 0),
    ("invented_api", 99, 0),
    ("not_json", 99, 1),
    ("echo_key", 99, 3),
]


@pytest.mark.parametrize("fault, times, code", CASES, ids=[f"{c[0]}x{c[1]}" for c in CASES])
def test_the_pipeline_survives_an_endpoint_fault(
    fault, times, code, endpoint, fixture_repo, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setattr("agents.model.llm.time.sleep", lambda s: None)  # our own backoff; the SDK's is short
    script = Script(fault, times)
    url = endpoint(script)
    runs = tmp_path / "runs"
    got = main(
        [
            *fixture_argv(fixture_repo, _index(tmp_path), runs, tmp_path / "cache"),
            "--quiet",
            "--model",
            "fake",
            "--base-url",
            url,
            "--timeout",
            "1",
            "--retries",
            "2",
            "--concurrency",
            "1",
        ]
    )
    err = capsys.readouterr().err
    assert got == code, err
    assert "Traceback" not in err
    assert script.n <= 60  # bounded: nothing loops on a fault
    for path in runs.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path
    assert KEY not in err
    wiki = runs / "acme_minipkg" / "wiki"
    if (wiki / "principles").is_dir():
        src = resolve_repo("acme_minipkg", str(fixture_repo), tmp_path / "cache")
        assert verify_wiki(load_wiki(wiki), Workspace(src, build_index(src, tmp_path / "cache"))).errors == []
        for page in wiki.rglob("*.md"):
            assert "magic_merge_all" not in page.read_text()
    if fault == "outside_path":
        told = [m["content"] for b in script.bodies for m in b.get("messages", []) if m["role"] == "user"]
        assert any("Result of read_lines" in t and "inside the repository root" in t for t in told), told[-3:]
    if fault == "unknown_tool":
        told = [m["content"] for b in script.bodies for m in b.get("messages", []) if m["role"] == "user"]
        assert any("Call one of the tools, or answer." in t for t in told)  # an unknown tool is not run
