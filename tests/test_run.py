"""`python -m agents.run` end to end with the offline drafter: the LangGraph pipeline, its run
folder, the committed wiki (checked by the verifier), idempotence, held steps, resume after a
SIGKILL, concurrency and bad input."""

from __future__ import annotations

import json
import shutil
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fixture_repo import fixture_argv
from read_only import run_read_only

from tools.wiki.load import read_pages, same_but_stamp
from agents.run import main, shipped_workflow_index
from agents.verify.verifier import verify_wiki
from tools.wiki.load import load_wiki
from tools.index.build import build_index
from tools.source.resolve import resolve_repo
from tools.index.workspace import Workspace

FIXTURE_INDEX = Path(__file__).parent / "fixtures" / "minipkg_WorkflowIndex.md"
ROOT = Path(__file__).resolve().parents[1]


def _run(tmp_path: Path, fixture_repo: Path, *extra: str, index: Path = FIXTURE_INDEX) -> int:
    return main(
        [
            *fixture_argv(fixture_repo, index, tmp_path / "runs", tmp_path / "cache"),
            "--quiet",
            *extra,
        ]
    )


def _ws(fixture_repo: Path, tmp_path: Path) -> Workspace:
    src = resolve_repo("acme_minipkg", str(fixture_repo), tmp_path / "cache")
    return Workspace(src, build_index(src, tmp_path / "cache"))


def test_offline_run_commits_a_verified_wiki_and_a_true_report(fixture_repo, tmp_path, capsys):
    assert _run(tmp_path, fixture_repo, "--json") == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["pairs_planned"] == 5 and summary["pairs_committed"] == 5 and summary["held"] == {}
    wiki = tmp_path / "runs" / "acme_minipkg" / "wiki"
    report = verify_wiki(load_wiki(wiki), _ws(fixture_repo, tmp_path))
    assert [str(f) for f in report.errors] == []
    assert report.pages == 11  # 5 + 5 + the workflow page
    run_dir = tmp_path / "runs" / "acme_minipkg" / "latest"
    assert run_dir.is_symlink() and run_dir.resolve().name == summary["run_id"]
    for name in (
        "drafts",
        "findings.jsonl",
        "verdicts.jsonl",
        "trace.jsonl",
        "report.md",
        "run.json",
        "checkpoints.sqlite",
        "workflow_index.md",
    ):
        assert (run_dir / name).exists(), name
    trace = [json.loads(l) for l in (run_dir / "trace.jsonl").read_text().splitlines()]
    assert {t["node"] for t in trace} >= {"resolve", "index", "plan", "excavate", "synthesize", "verify", "commit"}
    assert all(set(t) >= {"node", "step", "seconds", "tokens", "outcome"} for t in trace)
    verdicts = {v["implementation"]: v for v in map(json.loads, (run_dir / "verdicts.jsonl").read_text().splitlines())}
    assert verdicts["acme_minipkg_Engine_shutdown"]["location"] == {
        "kind": "internal",
        "qualname": "BaseEngine.shutdown",
        "file": "src/minipkg/base.py",
        "start_line": 7,
        "end_line": 14,
    }
    text = (run_dir / "report.md").read_text()
    assert "of 5 pairs in the plan, 5 committed by this run, 0 held" in text
    assert (
        "| Principle pages written by this run | 5 |" in text and "| Workflow pages written by this run | 1 |" in text
    )
    assert "| implementations/acme_minipkg_Engine_shutdown.md | Implementation | src/minipkg/base.py:L7-14 |" in text
    assert "| acme_minipkg_Run_Jobs | ✅" not in text and "| Run_Jobs | 5/5 |" in text
    wi = (wiki / "_WorkflowIndex.md").read_text()
    assert wi.count("| ✅ |") == 5 and "⬜" not in wi.split("### Step 1")[0]
    meta = json.loads((run_dir / "run.json").read_text())
    assert meta["versions"]["langgraph"] and meta["config"]["drafter"] == "offline"


def test_running_twice_changes_nothing_and_force_keeps_stamps(fixture_repo, tmp_path):
    assert _run(tmp_path, fixture_repo) == 0
    wiki = tmp_path / "runs" / "acme_minipkg" / "wiki"
    first = {p: p.read_bytes() for p in wiki.rglob("*.md")}
    assert _run(tmp_path, fixture_repo) == 0  # every pair verifies in the wiki: skipped
    assert {p: p.read_bytes() for p in wiki.rglob("*.md")} == first
    runs = sorted(p for p in (tmp_path / "runs" / "acme_minipkg").iterdir() if p.name[0].isdigit())
    assert json.loads((runs[-1] / "summary.json").read_text())["skipped_pairs"] == 5
    noop = (runs[-1] / "report.md").read_text()  # a run that wrote nothing says so
    assert (
        "of 5 pairs in the plan, 0 committed by this run" in noop
        and "| Workflow pages written by this run | 0 |" in noop
    )
    # an old stamp survives a forced redraft when nothing else changed
    page = wiki / "implementations" / "acme_minipkg_Engine.md"
    old = page.read_text().replace(page.read_text().split("[[last_updated::")[1].split("]]")[0], "2026-01-02 03:04 GMT")
    page.write_text(old)
    assert _run(tmp_path, fixture_repo, "--force") == 0
    assert page.read_text() == old
    index = (wiki / "_ImplementationIndex.md").read_text()
    assert index.count("| acme_minipkg_Engine |") == 1


def _two_workflows(tmp_path: Path) -> Path:
    def step(n: int, principle: str, impl: str, api: str) -> str:
        return (
            f"### Step {n}: {principle}\n\n| Attribute | Value |\n|---|---|\n| **Principle** | `acme_minipkg_{principle}` |\n"
            f"| **Implementation** | `acme_minipkg_{impl}` |\n| **API Call** | `{api}` |\n"
            "| **Inputs** | A job list |\n| **Outputs** | Results |\n\n"
        )

    text = (
        "# Workflow Index: acme_minipkg\n\n## Workflow: acme_minipkg_Good\n\n**Description:** Run jobs.\n\n"
        + step(1, "Engine_Setup", "Engine", "Engine(config)")
        + step(2, "Job_Execution", "run_engine", "run_engine(engine, jobs)")
        + "---\n\n## Workflow: acme_minipkg_Bad\n\n**Description:** Uses an API that is not there.\n\n"
        + step(1, "Teleportation", "teleport", "teleport(engine)")
    )
    path = tmp_path / "two.md"
    path.write_text(text)
    return path


def test_a_step_whose_api_does_not_exist_is_held_with_its_reason(fixture_repo, tmp_path, capsys):
    assert _run(tmp_path, fixture_repo, "--json", index=_two_workflows(tmp_path)) == 1
    summary = json.loads(capsys.readouterr().out)
    held = summary["held"]
    assert "locator found nothing (no definition of teleport" in held["implementations/acme_minipkg_teleport.md"]
    assert held["workflows/acme_minipkg_Bad.md"] == (
        "0 of its 1 step(s) documented, a Workflow page needs 2 (pending: Teleportation)"
    )
    wiki = tmp_path / "runs" / "acme_minipkg" / "wiki"
    assert sorted(read_pages(wiki)) == [
        "implementations/acme_minipkg_Engine.md",
        "implementations/acme_minipkg_run_engine.md",
        "principles/acme_minipkg_Engine_Setup.md",
        "principles/acme_minipkg_Job_Execution.md",
        "workflows/acme_minipkg_Good.md",
    ]
    assert "acme_minipkg_Bad" not in (wiki / "_WorkflowIndex.md").read_text()  # R38: only committed workflows
    assert verify_wiki(load_wiki(wiki), _ws(fixture_repo, tmp_path)).errors == []
    report = (tmp_path / "runs" / "acme_minipkg" / "latest" / "report.md").read_text()
    assert "implementations/acme_minipkg_teleport.md | locator found nothing" in report


def test_an_api_given_for_two_principles_gets_a_context_page_and_the_input_says_so(fixture_repo, tmp_path, capsys):
    shared = tmp_path / "shared.md"
    shared.write_text(FIXTURE_INDEX.read_text().replace("`acme_minipkg_run_engine`", "`acme_minipkg_Engine`"))
    assert _run(tmp_path, fixture_repo, index=shared) in (0, 1)
    run_dir = tmp_path / "runs" / "acme_minipkg" / "latest"
    copy = (run_dir / "workflow_index.md").read_text()
    assert "| **Implementation** | `acme_minipkg_Engine_Job_Execution` |" in copy
    assert "(docs/rules.md#r43)" in (run_dir / "report.md").read_text()
    wiki = tmp_path / "runs" / "acme_minipkg" / "wiki"
    assert "acme_minipkg_Engine_Job_Execution" in (wiki / "_WorkflowIndex.md").read_text()
    assert verify_wiki(load_wiki(wiki), _ws(fixture_repo, tmp_path)).errors == []


def test_a_held_step_leaves_its_workflow_committed_with_the_step_pending(fixture_repo, tmp_path):
    """A verified pair is never held because a sibling step failed (WIKI_FORMAT §4, RULES R18)."""
    text = FIXTURE_INDEX.read_text()
    bad = tmp_path / "pending.md"
    bad.write_text(
        text.replace(
            "| **API Call** | `run_engine(engine, jobs, retries=3)` |", "| **API Call** | `teleport(engine, jobs)` |"
        ).replace("`acme_minipkg_run_engine`", "`acme_minipkg_teleport`")
    )
    assert _run(tmp_path, fixture_repo, index=bad) == 1
    wiki = tmp_path / "runs" / "acme_minipkg" / "wiki"
    page = (wiki / "workflows" / "acme_minipkg_Run_Jobs.md").read_text()
    step2 = page.split("=== Step 2:")[1].split("=== Step 3:")[0]
    assert "''Pending: not yet documented.''" in step2 and "[[step::" not in step2
    assert "acme_minipkg_Job_Execution" not in page
    assert page.count("[[step::Principle:") == 2 * 4  # four documented steps, each linked twice
    statuses = [l for l in (wiki / "_WorkflowIndex.md").read_text().splitlines() if l.startswith("| 2 |")]
    assert statuses and statuses[0].rstrip().endswith("⬜ |")
    assert verify_wiki(load_wiki(wiki), _ws(fixture_repo, tmp_path)).errors == []


def test_concurrency_gives_the_same_pages(fixture_repo, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    assert _run(a, fixture_repo, "--concurrency", "1") == 0
    assert _run(b, fixture_repo, "--concurrency", "5") == 0
    pa, pb = read_pages(a / "runs/acme_minipkg/wiki"), read_pages(b / "runs/acme_minipkg/wiki")
    assert pa.keys() == pb.keys() and all(same_but_stamp(pa[k], pb[k]) for k in pa)


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--workflow-index", "nope.md"], "WorkflowIndex nope.md does not exist"),
        (["--concurrency", "0", "--workflow-index", str(FIXTURE_INDEX)], "--concurrency must be ≥ 1"),
    ],
)
def test_bad_arguments_exit_2(fixture_repo, tmp_path, capsys, extra, message):
    runs = tmp_path / "runs"
    assert main(["--repo", "acme_minipkg", "--source", str(fixture_repo), "--runs", str(runs), *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (runs / "acme_minipkg").exists() or not any((runs / "acme_minipkg").iterdir())


def test_bad_input_exits_2_and_writes_nothing(fixture_repo, tmp_path, capsys):
    runs = tmp_path / "runs"
    for folder in ("examples", "docs", "tests"):  # no WorkflowIndex and no material to discover one from
        shutil.rmtree(fixture_repo / folder)
    assert main(["--repo", "acme_minipkg", "--source", str(fixture_repo), "--runs", str(runs)]) == 2
    assert "no workflow could be discovered for acme_minipkg" in capsys.readouterr().err
    assert (
        main(
            [
                "--repo",
                "huggingface_peft",
                "--source",
                str(fixture_repo),
                "--workflow-index",
                str(FIXTURE_INDEX),
                "--runs",
                str(runs),
            ]
        )
        == 2
    )
    assert "the WorkflowIndex is for acme_minipkg, not huggingface_peft" in capsys.readouterr().err
    assert (
        main(
            [
                *fixture_argv(tmp_path / "no_such_checkout", FIXTURE_INDEX, runs),
            ]
        )
        == 2
    )
    assert "no_such_checkout" in capsys.readouterr().err
    assert not runs.exists()


def test_unwritable_wiki_is_refused_and_the_committed_wiki_is_untouched(fixture_repo, tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    assert _run(tmp_path, fixture_repo, "--wiki", str(blocker / "wiki")) == 2
    assert "cannot write to" in capsys.readouterr().err
    assert _run(tmp_path, fixture_repo) == 0
    wiki = tmp_path / "runs" / "acme_minipkg" / "wiki"
    before = {p: p.read_bytes() for p in wiki.rglob("*.md")}
    p = run_read_only(
        wiki,
        "agents.run",
        *fixture_argv(fixture_repo, FIXTURE_INDEX, tmp_path / "runs", tmp_path / "cache"),
        "--quiet",
        "--force",
    )
    assert p.returncode == 2, p.stderr
    assert p.stderr.startswith("error: cannot write to") and p.stderr.count("\n") == 1, p.stderr
    assert {p: p.read_bytes() for p in wiki.rglob("*.md")} == before


def test_resume_after_sigkill_finishes_without_redoing_steps(fixture_repo, tmp_path):
    base = [
        "--repo",
        "acme_minipkg",
        "--source",
        str(fixture_repo),
        "--workflow-index",
        str(FIXTURE_INDEX),
        "--cache-dir",
        str(tmp_path / "cache"),
        "--quiet",
        "--concurrency",
        "1",
    ]
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(ROOT / "tests" / "hooks"), str(ROOT)]),
        REPOWIKI_TEST_PAIR_DELAY="0.4",
    )
    killed_runs = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "agents.run", *base, "--runs", str(killed_runs)], env=env, cwd=ROOT)
    trace = None
    deadline = time.time() + 60
    while time.time() < deadline:
        found = list(killed_runs.glob("acme_minipkg/*/trace.jsonl"))
        if found and sum('"node": "verify"' in l for l in found[0].read_text().splitlines()) >= 2:
            trace = found[0]
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert trace is not None, "the run never reached its third pair"
    run_dir = trace.parent
    verified_before = sum('"node": "verify"' in l for l in trace.read_text().splitlines())
    assert not (run_dir / "report.md").exists() and verified_before < 5
    with sqlite3.connect(run_dir / "checkpoints.sqlite") as db:
        assert db.execute("select count(*) from writes").fetchone()[0] > 0  # finished pairs were checkpointed
    r = subprocess.run(
        [sys.executable, "-m", "agents.run", *base, "--runs", str(killed_runs), "--resume", "latest"],
        env=dict(env, REPOWIKI_TEST_PAIR_DELAY="0"),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    lines = [json.loads(l) for l in trace.read_text().splitlines()]
    excavated = [l["step"] for l in lines if l["node"] == "excavate"]
    verified = [l["step"] for l in lines if l["node"] == "verify"]
    # every pair verified; only the pair in flight at the kill ran some of its nodes again
    assert len(set(verified)) == 5 and len(verified) - 5 <= 1 and len(excavated) - len(set(excavated)) <= 1
    # same pages as an uninterrupted run
    clean = tmp_path / "clean"
    assert main([*base, "--runs", str(clean)]) == 0
    got, want = read_pages(killed_runs / "acme_minipkg" / "wiki"), read_pages(clean / "acme_minipkg" / "wiki")
    assert got.keys() == want.keys() and all(same_but_stamp(got[k], want[k]) for k in got)
    assert len(json.loads((run_dir / "summary.json").read_text())["pages"]) == 10


def test_a_shipped_index_pins_the_release_it_was_written_for():
    from agents.run import _shipped_text, written_for

    assert written_for(_shipped_text("huggingface_peft"), "huggingface_peft") == "pypi:peft==0.18.1"
    assert (
        written_for(_shipped_text("huggingface_transformers"), "huggingface_transformers") == "pypi:transformers==5.0.0"
    )
    assert written_for("# Workflow Index: acme_minipkg\n", "acme_minipkg") is None


def test_the_shipped_indexes_are_packaged():
    wi = shipped_workflow_index("huggingface_peft")
    assert wi is not None and wi.repo == "huggingface_peft" and len(wi.steps) == 22
    tf = shipped_workflow_index("huggingface_transformers")
    assert tf is not None and len(tf.steps) == 31 and len(tf.workflows) == 5
    assert shipped_workflow_index("nobody_nothing") is None


def test_a_fault_inside_a_node_stops_with_one_line_and_resumes(fixture_repo, tmp_path, capsys, monkeypatch):
    import agents.nodes.commit

    def broken(*a, **k):
        raise IndexError("list index out of range")

    real = agents.nodes.commit.render_indexes
    monkeypatch.setattr(agents.nodes.commit, "render_indexes", broken)
    assert _run(tmp_path, fixture_repo) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: the commit node failed (IndexError: list index out of range)")
    assert "--resume" in err[0] and "Traceback" not in err[0]
    run_dir = tmp_path / "runs" / "acme_minipkg" / "latest"
    assert "IndexError" in (run_dir / "error.log").read_text()
    assert not (tmp_path / "runs" / "acme_minipkg" / "wiki" / "principles").exists()  # nothing half-written
    monkeypatch.setattr(agents.nodes.commit, "render_indexes", real)
    assert _run(tmp_path, fixture_repo, "--resume", "latest") == 0
    wiki = tmp_path / "runs" / "acme_minipkg" / "wiki"
    assert len(list((wiki / "principles").glob("*.md"))) == 5
    assert verify_wiki(load_wiki(wiki), _ws(fixture_repo, tmp_path)).errors == []


def test_when_every_workflow_is_held_the_wiki_still_verifies_and_the_next_run_starts(fixture_repo, tmp_path):
    text = (
        "# Workflow Index: acme_minipkg\n\n## Workflow: acme_minipkg_Nowhere\n\n**Description:** Nothing exists.\n\n"
        + "".join(
            f"### Step {n}: P{n}\n\n| Attribute | Value |\n|---|---|\n| **Principle** | `acme_minipkg_Gone_{n}` |\n"
            f"| **Implementation** | `acme_minipkg_gone_{n}` |\n| **API Call** | `gone_{n}(x)` |\n\n"
            for n in (1, 2)
        )
    )
    index = tmp_path / "nowhere.md"
    index.write_text(text)
    assert _run(tmp_path, fixture_repo, index=index) == 1
    wiki = tmp_path / "runs" / "acme_minipkg" / "wiki"
    assert not (wiki / "_WorkflowIndex.md").exists()  # nothing to list: no index that would not parse
    assert (
        verify_wiki(load_wiki(wiki, "acme_minipkg"), _ws(fixture_repo, tmp_path)).errors == []
        if wiki.exists()
        else True
    )
    assert _run(tmp_path, fixture_repo) == 0  # the next run (the fixture index) starts and commits
    assert _run(tmp_path, fixture_repo, index=index) == 1  # a later all-held run keeps the wiki's index as it was
    assert "acme_minipkg_Run_Jobs" in (wiki / "_WorkflowIndex.md").read_text()
    assert verify_wiki(load_wiki(wiki), _ws(fixture_repo, tmp_path)).errors == []


@pytest.mark.parametrize("second, committed", [("run_engine_retrying", True), ("jobs_runner", False)])
def test_two_pages_of_one_api_share_its_name_stem(fixture_repo, tmp_path, second, committed):
    """RULES R21: pages documenting one definition are named {repo}_{API} or {repo}_{API}_{context},
    with API any dotted tail of the definition's name; otherwise the later one is held."""

    def step(n, principle, impl):
        return (
            f"### Step {n}: {principle}\n\n| Attribute | Value |\n|---|---|\n| **Principle** | `acme_minipkg_{principle}` |\n"
            f"| **Implementation** | `acme_minipkg_{impl}` |\n| **API Call** | `run_engine(engine, jobs)` |\n\n"
        )

    index = tmp_path / "r21.md"
    index.write_text(
        "# Workflow Index: acme_minipkg\n\n## Workflow: acme_minipkg_Twice\n\n**Description:** Run twice.\n\n"
        + step(1, "Job_Execution", "run_engine_basic")
        + step(2, "Retried_Execution", second)
        + step(3, "Third_Run", "run_engine")
    )
    _run(tmp_path, fixture_repo, index=index)
    wiki = tmp_path / "runs" / "acme_minipkg" / "wiki"
    assert (wiki / "implementations" / f"acme_minipkg_{second}.md").exists() == committed
    assert (wiki / "implementations" / "acme_minipkg_run_engine_basic.md").exists()
    assert verify_wiki(load_wiki(wiki), _ws(fixture_repo, tmp_path)).errors == []


def test_a_page_that_no_longer_verifies_leaves_the_wiki_and_its_step_becomes_pending(fixture_repo, tmp_path):
    """The source moves on: run_engine is renamed. The re-run cannot redraft that pair, so its old pages
    leave the wiki (their last text under held/), the step is pending and ⬜, and the wiki verifies whole."""
    assert _run(tmp_path, fixture_repo) == 0
    core = fixture_repo / "src" / "minipkg" / "core.py"
    core.write_text(
        core.read_text().replace("def run_engine(", "def drive_engine(").replace("run_engine", "drive_engine")
    )
    init = fixture_repo / "src" / "minipkg" / "__init__.py"
    init.write_text(init.read_text().replace("run_engine", "drive_engine"))
    assert _run(tmp_path, fixture_repo) == 1
    wiki = tmp_path / "runs" / "acme_minipkg" / "wiki"
    assert not (wiki / "implementations" / "acme_minipkg_run_engine.md").exists()
    assert not (wiki / "principles" / "acme_minipkg_Job_Execution.md").exists()
    run_dir = tmp_path / "runs" / "acme_minipkg" / "latest"
    assert (run_dir / "held" / "implementations" / "acme_minipkg_run_engine.md").is_file()
    flow = (wiki / "workflows" / "acme_minipkg_Run_Jobs.md").read_text()
    assert "''Pending: not yet documented.''" in flow
    rows = [l for l in (wiki / "_WorkflowIndex.md").read_text().splitlines() if l.startswith("| 2 |")]
    assert rows and rows[0].rstrip().endswith("⬜ |")
    assert verify_wiki(load_wiki(wiki), _ws(fixture_repo, tmp_path)).errors == []
