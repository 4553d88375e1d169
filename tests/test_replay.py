"""A whole run recorded against a real model (tests/cassettes/README.md: peft_frontier.yaml) replays
offline: the same pages byte for byte as the recorded wiki, a wiki that verifies, parallel steps
replayed in any order, and a replay that asks for an exchange the cassette does not hold fails loudly."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from agents.run import main
from agents.verify.verifier import verify_wiki
from tools.wiki.load import load_wiki
from tools.index.build import build_index
from tools.source.resolve import resolve_repo
from tools.index.workspace import Workspace

pytestmark = pytest.mark.peft
CASSETTES = Path(__file__).parent / "cassettes"
CASSETTE = CASSETTES / "peft_frontier.yaml"
RECORDED_WIKI = CASSETTES / "peft_frontier.wiki"
STAMP = "1795000000"  # SOURCE_DATE_EPOCH of the recording run
INDEX = Path(__file__).parent / "fixtures" / "peft_replay_WorkflowIndex.md"  # the recorded run's WorkflowIndex


def _replay(peft_root: Path, runs: Path, *extra: str) -> int:
    return main(
        [
            "--repo",
            "huggingface_peft",
            "--source",
            str(peft_root),
            "--workflow-index",
            str(INDEX),
            "--runs",
            str(runs),
            "--replay",
            str(CASSETTE),
            "--quiet",
            *extra,
        ]
    )


def _files(wiki: Path) -> dict[str, bytes]:
    return {p.relative_to(wiki).as_posix(): p.read_bytes() for p in sorted(wiki.rglob("*.md"))}


def test_replay_gives_the_recorded_pages_byte_for_byte(peft_root, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", STAMP)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    code = _replay(peft_root, tmp_path / "runs", "--json")
    summary = json.loads(capsys.readouterr().out)
    wiki = tmp_path / "runs" / "huggingface_peft" / "wiki"
    assert _files(wiki) == _files(RECORDED_WIKI)
    assert summary["pairs_planned"] == 4
    src = resolve_repo("huggingface_peft", str(peft_root))
    report = verify_wiki(load_wiki(wiki), Workspace(src, build_index(src)))
    assert report.errors == []
    run_dir = tmp_path / "runs" / "huggingface_peft" / "latest"
    text = (run_dir / "report.md").read_text()
    trace = [json.loads(l) for l in (run_dir / "trace.jsonl").read_text().splitlines()]
    calls = sum(t.get("calls", 0) or 0 for t in trace)
    assert calls > 0 and f"| Model calls / tokens / cost | {calls} /" in text
    # strict cassette: the replay asked for every recorded exchange, no more and no fewer
    assert calls == len(yaml.safe_load(CASSETTE.read_text())["interactions"])
    for page, why in summary["held"].items():  # a held page is listed with its reason
        assert f"| {page} | " in text and why
    assert code == (0 if not summary["held"] else 1)


def test_parallel_replay_matches(peft_root, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", STAMP)
    _replay(peft_root, tmp_path / "runs", "--concurrency", "4")
    assert _files(tmp_path / "runs" / "huggingface_peft" / "wiki") == _files(RECORDED_WIKI)


def test_a_replay_that_misses_an_exchange_fails_loudly(peft_root, tmp_path, capsys):
    shipped = Path(__file__).parents[1] / "agents" / "workflow_indexes" / "huggingface_peft.md"
    changed = tmp_path / "wi.md"
    changed.write_text(shipped.read_text().replace("| 3 | Adapter Injection |", "| 3 | Adapter Wiring |"))
    code = main(
        [
            "--repo",
            "huggingface_peft",
            "--source",
            str(peft_root),
            "--runs",
            str(tmp_path / "runs"),
            "--workflow-index",
            str(changed),
            "--replay",
            str(CASSETTE),
            "--quiet",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "does not hold" in err and "re-record" in err


def test_the_cassette_holds_no_secret():
    """No credential header among the recorded headers, and no key anywhere (prompts quote docstrings, so
    words such as 'disk-offloaded' or 'bearer authorization' may appear in bodies)."""
    for cassette in sorted(CASSETTES.glob("*.yaml")):
        data = yaml.safe_load(cassette.read_text())
        for ex in data["interactions"]:
            for part in (ex["request"], ex["response"]):
                keys = {k.lower() for k in (part.get("headers") or {})}
                assert not keys & {"authorization", "api-key", "x-api-key", "openai-organization"}, cassette.name
        text = cassette.read_text()
        assert not re.search(r"sk-[A-Za-z0-9]{20,}|Bearer [A-Za-z0-9._-]{10,}|hf_[A-Za-z0-9]{30,}", text), cassette.name


def test_a_changed_prompt_line_diffs_as_that_line_in_the_cassette():
    """Bodies are stored as data with literal blocks, so a re-recording diffs line by line."""
    import difflib

    from agents.model.recording import ReadableYaml

    text = CASSETTE.read_text()
    data = ReadableYaml.deserialize(text)
    assert json.loads(data["interactions"][0]["request"]["body"])["messages"]  # JSON again for vcrpy
    assert ReadableYaml.serialize(ReadableYaml.deserialize(text)) == text  # stable round trip
    body = json.loads(data["interactions"][0]["request"]["body"])
    system = body["messages"][0]["content"].splitlines()
    system[3] = "A changed line of the system prompt."
    body["messages"][0]["content"] = "\n".join(system)
    data["interactions"][0]["request"]["body"] = json.dumps(body)
    changed = [
        l
        for l in difflib.unified_diff(text.splitlines(), ReadableYaml.serialize(data).splitlines(), n=0)
        if l[:1] in "+-" and not l.startswith(("+++", "---"))
    ]
    assert len(changed) == 2, changed
    assert changed[0].startswith("-") and changed[1].lstrip("+").strip() == "A changed line of the system prompt."
