"""The run report of the fixture repository, figure by figure (a golden file), and the page counts of
summary.json adding up to the wiki. Only what differs between machines and runs is masked: run ids,
dates, paths and seconds."""

from __future__ import annotations

import json
import re
from pathlib import Path

from fixture_repo import fixture_argv
from tools.wiki.load import read_pages
from agents.run import main

FIXTURES = Path(__file__).parent / "fixtures"
GOLDEN = FIXTURES / "report.expected.md"


def masked(text: str, tmp: Path) -> str:
    text = text.replace(str(tmp), "<TMP>").replace(str(FIXTURES.parents[1]), "<PROJECT>")
    text = re.sub(r"\d{8}T\d{9}Z", "<RUN>", text)
    text = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "<DATE>", text)
    text = re.sub(r"\b\d+\.\d+ s\b", "<S> s", text)  # seconds; confidences and counts stay exact
    head, sep, timings = text.partition("## Timings")
    return head + sep + re.sub(r"\b\d+\.\d+\b", "<S>", timings)


def _run(tmp_path: Path, repo: Path) -> int:
    return main(
        [
            *fixture_argv(repo, FIXTURES / "minipkg_WorkflowIndex.md", tmp_path / "runs", tmp_path / "cache"),
            "--quiet",
        ]
    )


def test_the_report_of_the_fixture_run_is_the_golden_one(fixture_repo, tmp_path):
    assert _run(tmp_path, fixture_repo) == 0
    run_dir = tmp_path / "runs" / "acme_minipkg" / "latest"
    got = masked((run_dir / "report.md").read_text(), tmp_path)
    assert got == GOLDEN.read_text(), "regenerate tests/fixtures/report.expected.md if the change is intended"


def _summary(tmp_path: Path) -> dict:
    return json.loads((tmp_path / "runs" / "acme_minipkg" / "latest" / "summary.json").read_text())


def test_page_counts_add_up_to_the_wiki_and_the_phases_fit_in_the_wall_time(fixture_repo, tmp_path):
    assert _run(tmp_path, fixture_repo) == 0
    wiki = tmp_path / "runs" / "acme_minipkg" / "wiki"
    first = _summary(tmp_path)
    assert sum(first["counts"].values()) + first["unchanged"] + len(first["held"]) == len(read_pages(wiki)) == 11
    serial = sum(t["total"] for t in first["timings"] if t["node"] in ("resolve", "index", "plan", "commit"))
    assert 0 < first["startup_seconds"] and first["startup_seconds"] + serial <= first["seconds"]
    assert _run(tmp_path, fixture_repo) == 0  # nothing to do: nothing written, every page kept
    second = _summary(tmp_path)
    assert sum(second["counts"].values()) == second["unchanged"] == 0 and second["skipped_pairs"] == 5
    assert len(read_pages(wiki)) == 11
