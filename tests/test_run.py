"""`python -m agents.run` as it stands: resolve, index, plan and locate, with a plan on disk."""
from __future__ import annotations

import json
from pathlib import Path

from agents.run import main, shipped_workflow_index

FIXTURE_INDEX = Path(__file__).parent / "fixtures" / "minipkg_WorkflowIndex.md"


def test_run_writes_a_plan_with_every_step_located(fixture_repo, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("REPOWIKI_CACHE_DIR", str(tmp_path / "cache"))
    code = main(["--repo", "acme_minipkg", "--source", str(fixture_repo), "--workflow-index", str(FIXTURE_INDEX),
                 "--runs", str(tmp_path / "runs"), "--json"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    plan = json.loads(next((tmp_path / "runs" / "acme_minipkg").glob("*/plan.json")).read_text())
    assert plan == summary
    assert plan["located"] == 5 and plan["needs_excavation_agent"] == []
    assert [s["qualname"] for s in plan["steps"]] == [
        "Engine", "run_engine", "BaseEngine.shutdown", "make_tool", "json.JSONDecoder.decode"]


def test_bad_input_exits_2_with_one_line(fixture_repo, tmp_path, capsys):
    runs = tmp_path / "runs"
    assert main(["--repo", "acme_minipkg", "--source", str(fixture_repo), "--runs", str(runs)]) == 2
    assert capsys.readouterr().err.strip() == "error: no WorkflowIndex for acme_minipkg: pass --workflow-index FILE (format: WIKI_FORMAT.md §7)"
    assert main(["--repo", "huggingface_peft", "--source", str(fixture_repo), "--workflow-index", str(FIXTURE_INDEX),
                 "--runs", str(runs)]) == 2
    assert "the WorkflowIndex is for acme_minipkg, not huggingface_peft" in capsys.readouterr().err
    assert not runs.exists()  # nothing written for unusable input


def test_the_shipped_peft_index_is_packaged():
    wi = shipped_workflow_index("huggingface_peft")
    assert wi is not None and wi.repo == "huggingface_peft" and len(wi.steps) == 22
    assert shipped_workflow_index("nobody_nothing") is None
