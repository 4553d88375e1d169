"""The excavation agent against a real model, replayed: Qwen2.5-Coder-1.5B-Instruct (llama.cpp,
see tests/cassettes/README.md) searched unsloth 2025.12.6 for the four steps of a test-written
WorkflowIndex that the deterministic locator cannot settle offline. Every answer it gave was held to
the index and to the step (a definition that exists, a call that binds, the hinted file); what it
answered wrong was refused, so nothing it got wrong is committed, and the steps it never settled
are held with the reason while the rest of the workflow is committed."""

from __future__ import annotations

import json
from pathlib import Path


from agents.model.recording import ReadableYaml
from agents.run import main
from agents.verify.verifier import verify_wiki
from tools.wiki.load import load_wiki
from tools.index.build import build_index
from tools.source.resolve import resolve_repo
from tools.index.workspace import Workspace

HERE = Path(__file__).parent
CASSETTE = HERE / "cassettes" / "unsloth_excavation_qwen2.5-coder-1.5b.yaml"
INDEX = HERE / "fixtures" / "unsloth_held_WorkflowIndex.md"
AGENT_STEPS = {"adapter_save", "ollama_modelfile", "hub_push", "export_check"}


def test_the_recorded_excavation_agent_replays_and_commits_nothing_it_got_wrong(
    unsloth_root, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1795000000")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    runs = tmp_path / "runs"
    code = main(
        [
            "--repo",
            "unslothai_unsloth",
            "--source",
            str(unsloth_root),
            "--workflow-index",
            str(INDEX),
            "--runs",
            str(runs),
            "--replay",
            str(CASSETTE),
            "--model-agents",
            "excavation",
            "--concurrency",
            "1",
            "--quiet",
            "--json",
        ]
    )
    summary = json.loads(capsys.readouterr().out)
    run_dir = runs / "unslothai_unsloth" / "latest"
    trace = [json.loads(l) for l in (run_dir / "trace.jsonl").read_text().splitlines()]
    agent = {t["step"].removeprefix("unslothai_unsloth_"): t for t in trace if t["node"] == "excavate" and "agent" in t}
    assert set(agent) == AGENT_STEPS  # the model was asked only where the locator was unsure
    resolved = {s for s, t in agent.items() if t["outcome"] != "held"}
    held = {s for s, t in agent.items() if t["outcome"] == "held"}
    assert resolved | held == AGENT_STEPS
    assert code == (1 if held else 0)
    # every answer the model gave that is not a definition fitting the step was refused, with the reason
    requests = [
        json.loads(i["request"]["body"]) for i in ReadableYaml.deserialize(CASSETTE.read_text())["interactions"]
    ]
    answers = [
        json.loads(i["response"]["body"]["string"])["choices"][0]["message"]["content"] or ""
        for i in ReadableYaml.deserialize(CASSETTE.read_text())["interactions"]
    ]
    given = sum('"answer"' in a for a in answers)
    refusals = {
        m["content"]
        for r in requests
        for m in r["messages"]
        if m["role"] == "user" and m["content"].startswith("answer refused")
    }
    assert given >= 1 and len(refusals) >= 1, "the recording holds answers, and refusals of the wrong ones"
    # measured on this recording (Qwen2.5-Coder-1.5B, 2 CPU cores): 4 steps, 32 model calls, 10 answers,
    # every one naming a definition that does not exist, all refused; 0 of 4 resolved, 0 wrong committed
    assert (len(resolved), len(held)) == (0, 4)
    wiki = runs / "unslothai_unsloth" / "wiki"
    committed = {p.stem.removeprefix("unslothai_unsloth_") for p in (wiki / "implementations").glob("*.md")}
    assert {"FastLanguageModel_from_pretrained", "get_chat_template"} <= committed
    assert committed & AGENT_STEPS == resolved
    for s in held:
        assert "excavation agent" in summary["held"][f"implementations/unslothai_unsloth_{s}.md"]
    flow = (wiki / "workflows" / "unslothai_unsloth_Export_Checks.md").read_text()
    assert flow.count("''Pending: not yet documented.''") == len(held)
    src = resolve_repo("unslothai_unsloth", str(unsloth_root))
    assert verify_wiki(load_wiki(wiki), Workspace(src, build_index(src))).errors == []
