"""Runs recorded against a strong model replay offline (tests/cassettes/README.md):
peft's Adapter_Inference and transformers' Trainer_Fine_Tuning workflows, every pair committed, the same
pages byte for byte as the recorded run, a wiki that verifies, every recorded exchange asked for once.
And what a reader needs from those pages is there: each first example walks the workflow, each
Theoretical Basis states its idea as a formula or an algorithm rather than narrating statements."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from agents.run import main
from agents.verify.verifier import verify_wiki
from tools.index.build import build_index
from tools.index.workspace import Workspace
from tools.source.resolve import default_cache_dir, resolve_repo
from tools.source.sdist import fetch_sdist
from tools.wiki.load import load_wiki

CASSETTES = Path(__file__).parent / "cassettes"
FIXTURES = Path(__file__).parent / "fixtures"
STAMP = "1795000000"
CASES = {
    "peft": ("huggingface_peft", "peft==0.18.1", FIXTURES / "peft_replay_WorkflowIndex.md", 4),
    "transformers": (
        "huggingface_transformers",
        "transformers==5.0.0",
        FIXTURES / "transformers_trainer_WorkflowIndex.md",
        7,
    ),
}


def _files(wiki: Path) -> dict[str, bytes]:
    return {p.relative_to(wiki).as_posix(): p.read_bytes() for p in sorted(wiki.rglob("*.md"))}


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_strong_models_run_replays_page_for_page_and_teaches(name, tmp_path, monkeypatch, capsys):
    repo, requirement, index, pairs = CASES[name]
    cassette = CASSETTES / f"{name}_frontier.yaml"
    root = fetch_sdist(requirement, default_cache_dir())  # fetched by the README's test command
    monkeypatch.setenv("SOURCE_DATE_EPOCH", STAMP)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    argv = ["--repo", repo, "--source", str(root), "--workflow-index", str(index), "--runs", str(tmp_path)]
    code = main([*argv, "--replay", str(cassette), "--quiet", "--json"])
    summary = json.loads(capsys.readouterr().out)
    assert code == 0 and summary["pairs_committed"] == pairs and not summary["held"]
    wiki = tmp_path / repo / "wiki"
    assert _files(wiki) == _files(CASSETTES / f"{name}_frontier.wiki")
    src = resolve_repo(repo, str(root))
    assert verify_wiki(load_wiki(wiki), Workspace(src, build_index(src))).errors == []
    trace = [json.loads(l) for l in (tmp_path / repo / "latest" / "trace.jsonl").read_text().splitlines()]
    assert sum(t.get("calls", 0) or 0 for t in trace) == len(yaml.safe_load(cassette.read_text())["interactions"])
    for page in sorted((wiki / "principles").glob("*.md")):
        theory = page.read_text().split("== Theoretical Basis ==", 1)[1].split("== Related Pages ==", 1)[0]
        # a formula, a numbered algorithm, or the loop's steps in order
        assert "<math>" in theory or re.search(r"^\s*(#|1\.)", theory, re.M) or "→" in theory, page.name
        assert not re.search(r"^# (Call|If|For each|Return) ", theory, re.M), page.name
    firsts = []
    for page in sorted((wiki / "implementations").glob("*.md")):
        examples = page.read_text().split("== Usage Examples ==", 1)[1]
        firsts.append(examples.split('<syntaxhighlight lang="python">', 1)[1].split("</syntaxhighlight>", 1)[0])
    # the last step's first example runs the workflow's calls in order (each later page holds the earlier calls)
    assert sum(code.count("\n") for code in firsts) > 3 * len(firsts)
