"""`python -m agents.run` without a WorkflowIndex: the discover phase writes one from the library's
own material, the pipeline runs on it unchanged, the wiki keeps it (with its evidence, verified
by R51) and the report lists what no workflow covers; bad input stops in one line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from agents.run import main
from agents.verify.verifier import verify_wiki
from fixture_repo import FIXTURES
from tools.index.build import build_index
from tools.index.workspace import Workspace
from tools.source.resolve import resolve_repo
from tools.wiki.load import load_wiki
from tools.wiki.workflow_index import parse_workflow_index


@pytest.fixture
def taught(fixture_repo: Path) -> Path:
    shutil.copytree(FIXTURES / "discovery", fixture_repo, dirs_exist_ok=True)
    return fixture_repo


def _argv(repo: Path, tmp: Path, *extra: str) -> list[str]:
    return [
        "--repo",
        "acme_minipkg",
        "--source",
        str(repo),
        "--runs",
        str(tmp / "runs"),
        "--cache-dir",
        str(tmp / "cache"),
        "--quiet",
        *extra,
    ]


def test_a_run_without_a_workflow_index_discovers_one_and_documents_it(taught, tmp_path, capsys):
    assert main(_argv(taught, tmp_path, "--json")) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["pairs_planned"], summary["pairs_committed"], summary["verify"]["errors"]) == (6, 6, 0)
    assert summary["discovery"] == {
        "method": "offline mining",
        "workflows": 2,
        "steps": 8,
        "uncovered": 3,
        "seconds": summary["discovery"]["seconds"],
    }
    wiki = tmp_path / "runs" / "acme_minipkg" / "wiki"
    run_dir = Path(summary["run_dir"])
    wi = parse_workflow_index((wiki / "_WorkflowIndex.md").read_text())
    assert [w.name for w in wi.workflows] == ["acme_minipkg_Running_Jobs", "acme_minipkg_Making_A_Tool"]
    assert wi.workflows[0].evidence == ((21, "`README.md` L13-17; `examples/demo.py` L3-5"),)
    assert all(s.status == "✅" for s in wi.steps)
    assert sorted(p.name for p in (wiki / "workflows").iterdir()) == [
        "acme_minipkg_Making_A_Tool.md",
        "acme_minipkg_Running_Jobs.md",
    ]
    report = (run_dir / "report.md").read_text()
    assert "## Discovery" in report and "| minipkg.shapes.Circle | 1 | docs/tour.ipynb:17 |" in report
    assert json.loads((run_dir / "run.json").read_text())["workflow_index"] == "the discovered _WorkflowIndex.md"
    assert [json.loads(l)["node"] for l in (run_dir / "trace.jsonl").read_text().splitlines()][0] == "discover"
    # the wiki verifies whole, its evidence lines included (R51)
    src = resolve_repo("acme_minipkg", str(taught), tmp_path / "cache")
    ws = Workspace(src, build_index(src, tmp_path / "cache"))
    assert verify_wiki(load_wiki(wiki, "acme_minipkg"), ws).errors == []
    # the second run follows the wiki's own index: nothing to do, nothing discovered again
    assert main(_argv(taught, tmp_path, "--json")) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["discovery"] is None and again["pairs_skipped"] == 6


def test_discover_again_gives_the_same_index_and_nothing_to_redo(taught, tmp_path, capsys):
    assert main(_argv(taught, tmp_path)) == 0
    first = (tmp_path / "runs" / "acme_minipkg" / "latest" / "workflow_index.md").read_text()
    assert main(_argv(taught, tmp_path, "--discover", "--json")) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["discovery"]["workflows"] == 2 and summary["pairs_skipped"] == 6
    assert (Path(summary["run_dir"]) / "workflow_index.md").read_text() == first


def test_refusals_are_one_line(taught, tmp_path, capsys):
    index = FIXTURES / "minipkg_WorkflowIndex.md"
    assert main(_argv(taught, tmp_path, "--discover", "--workflow-index", str(index))) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: --discover writes the WorkflowIndex itself; pass either --discover or --workflow-index"]
    assert main(_argv(taught, tmp_path, "--max-steps", "2")) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "error: --max-workflows must be ≥ 1 and --max-steps ≥ 3 (a workflow has 3–8 steps)"
    ]


def test_a_library_that_teaches_nothing_is_refused_in_one_line(fixture_repo, tmp_path, capsys):
    for folder in ("examples", "docs", "tests"):
        shutil.rmtree(fixture_repo / folder)
    assert main(_argv(fixture_repo, tmp_path)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: no workflow could be discovered for acme_minipkg (")
    assert "pass --workflow-index FILE" in err[0]
    assert not (tmp_path / "runs" / "acme_minipkg" / "latest").exists()


def test_the_main_job_on_an_installed_library_needs_no_other_input(tmp_path, capsys):
    """`python -m agents.run --repo psf_requests`: requests is installed beside the project (a
    dependency of its dependencies), so the run reads that copy, offline, and discovers its
    workflows from the examples in its docstrings."""
    import importlib.util

    if importlib.util.find_spec("requests") is None:
        pytest.skip("requests is not installed here; the run would fetch its newest source archive")
    code = main(
        ["--repo", "psf_requests", "--runs", str(tmp_path / "runs"), "--cache-dir", str(tmp_path / "c"), "--json"]
    )
    summary = json.loads(capsys.readouterr().out)
    assert code in (0, 1) and summary["verify"]["errors"] == 0
    assert summary["discovery"]["workflows"] >= 2 and summary["pairs_committed"] >= 6
    wi = parse_workflow_index((Path(summary["wiki"]) / "_WorkflowIndex.md").read_text())
    assert all(w.evidence and w.evidence[0][1].startswith("`src/requests/") for w in wi.workflows)
