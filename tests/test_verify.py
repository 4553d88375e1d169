"""The wiki model and the verifier on the project's own fixture wiki (tests/fixtures/wiki), which
documents the fixture package minipkg and was checked by hand."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jinja2
import pytest

from agents.verify.findings import RULES
from tools.wiki.indexes import render_indexes, with_statuses
from agents.verify.mutate import MUTATIONS, mutated_copy
from agents.verify.context import Context
from agents.verify.rules.page_rules import check_page
from tools.wiki.render import PAGE_TEMPLATES, page_data, render_index, render_page
from agents.verify.verifier import verify_wiki
from tools.wiki.load import load_wiki
from tools.wiki.page import parse_page
from tools.wiki.workflow_index import parse_workflow_index
from tools.index.workspace import Workspace

WIKI = Path(__file__).parent / "fixtures" / "wiki"
ROOT = Path(__file__).resolve().parents[1]


def page_files() -> list[Path]:
    return sorted(p for p in WIKI.rglob("*.md") if p.parent != WIKI)


def test_fixture_wiki_has_every_kind_of_page():
    wiki = load_wiki(WIKI)
    kinds = {(p.type, wiki.subtype(p) if p.type == "Implementation" else None) for p in wiki.pages.values()}
    assert {
        ("Workflow", None),
        ("Principle", None),
        ("Implementation", "API Doc"),
        ("Implementation", "Wrapper Doc"),
    } <= kinds
    assert len(wiki.pages) == 11


def test_fixture_wiki_verifies_with_zero_findings(ws: Workspace):
    report = verify_wiki(load_wiki(WIKI), ws)
    assert [str(f) for f in report.findings] == []
    assert report.pages == 11
    assert report.examples.names > 0 and report.examples.found == report.examples.names


@pytest.mark.parametrize("path", page_files(), ids=lambda p: p.name)
def test_page_round_trips_through_parser_and_template(path: Path):
    wiki = load_wiki(WIKI)
    rel = path.relative_to(WIKI).as_posix()
    page = wiki.pages[rel]
    subtype = wiki.subtype(page) if page.type == "Implementation" else None
    assert render_page(page.type, page_data(page, subtype)) == path.read_text(encoding="utf-8")


def test_parser_keeps_line_numbers_of_sections_tables_links_and_code():
    page = load_wiki(WIKI).pages["implementations/acme_minipkg_EngineConfig.md"]
    lines = page.lines
    loc = page.section("Source Location")
    assert lines[loc.line - 1] == "=== Source Location ==="
    sig = page.section("Signature").code()[0]
    assert lines[sig.line - 1] == '<syntaxhighlight lang="python">' and sig.code[0] == "@dataclass"
    link = next(l for l in page.links if l.edge == "implements")
    assert (link.target_type, link.target) == ("Principle", "acme_minipkg_Engine_Configuration")
    assert "[[implements::" in lines[link.line - 1]


def test_indexes_regenerate_identically_from_the_pages():
    wiki = load_wiki(WIKI)
    for fname, text in render_indexes(wiki).items():
        assert text == (WIKI / fname).read_text(encoding="utf-8"), fname


def test_workflow_index_status_update_sets_only_the_given_steps():
    text = (WIKI / "_WorkflowIndex.md").read_text(encoding="utf-8")
    wi = parse_workflow_index(text, "_WorkflowIndex.md")
    all_steps = {(s.workflow, s.number) for s in wi.steps}
    assert with_statuses(text, wi, all_steps) == text
    some = with_statuses(text, wi, all_steps - {("acme_minipkg_Run_Jobs", 2)})
    changed = [(a, b) for a, b in zip(text.splitlines(), some.splitlines()) if a != b]
    assert changed == [
        (
            "| 2 | Create the engine | Engine_Setup | `Engine` | ✅ |",
            "| 2 | Create the engine | Engine_Setup | `Engine` | ⬜ |",
        )
    ]
    reparsed = parse_workflow_index(some, "_WorkflowIndex.md")
    assert [s.status for s in reparsed.steps] == ["✅", "⬜", "✅", "✅", "✅"]


@pytest.mark.parametrize("page_type", sorted(PAGE_TEMPLATES))
def test_every_template_refuses_missing_fields(page_type: str):
    with pytest.raises(jinja2.UndefinedError):
        render_page(page_type, {"name": "X"})


def test_every_template_renders_a_full_page():
    wiki = load_wiki(WIKI)
    for page in wiki.pages.values():
        data = page_data(page, wiki.subtype(page) if page.type == "Implementation" else None)
        missing = dict(data)
        missing.pop(next(iter(k for k in data if k not in ("name",))))
        with pytest.raises(jinja2.UndefinedError):
            render_page(page.type, missing)
    full = {
        "sources": [{"kind": "Doc", "title": "Python", "url": "https://docs.python.org/3/"}],
        "domains": ["Infrastructure"],
        "updated": "2026-11-20 09:00 GMT",
        "overview": "A short overview.",
        "description": "A description.",
        "usage": "When to use it.",
    }
    env = dict(
        full,
        name="Python_Runtime",
        requirements=[{"category": "OS", "requirement": "Linux", "notes": "Any"}],
        system_packages=["git"],
        python_packages=["minipkg"],
        credentials=["HF_TOKEN"],
        install="pip install minipkg",
        evidence=[{"where": "src/minipkg/core.py", "code": "import os"}],
        errors=[{"message": "ImportError", "cause": "not installed", "solution": "pip install minipkg"}],
        compatibility="Linux only.",
        required_by=["acme_minipkg_Engine"],
    )
    heur = dict(
        full,
        name="Small_Batches",
        action="Keep batches small.",
        value="8 jobs",
        reasoning="Less waiting.",
        tradeoff="More overhead.",
        used_by=[{"type": "Implementation", "name": "acme_minipkg_Engine"}],
    )
    for page_type, data in (("Environment", env), ("Heuristic", heur)):
        text = render_page(page_type, data)
        page = parse_page(text, f"{page_type.lower()}s/acme_minipkg_{data['name']}.md")
        ctx = Context(load_wiki(WIKI), None)
        rules = {f.rule for f in check_page(ctx, page, None)}
        assert not rules & {"R3", "R4", "R5", "R6", "R7", "R8", "R9", "R13"}, (page_type, rules, text)
    assert render_index("Principle", "acme_minipkg", "blurb", ["Page", "File", "Connections", "Notes"], []).startswith(
        "# Principle Index: acme_minipkg"
    )


# --- mutation suite ------------------------------------------------------------------------------


def test_mutation_catalogue_is_broad():
    assert len(MUTATIONS) >= 15
    assert len({m.name for m in MUTATIONS}) == len(MUTATIONS)


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: m.name)
def test_each_fault_is_caught_under_its_rule(mutation, ws: Workspace, tmp_path: Path):
    what = mutated_copy(WIKI, tmp_path / "wiki", mutation, ws.source.root)
    assert what, f"{mutation.name} found no target in the fixture wiki"
    report = verify_wiki(load_wiki(tmp_path / "wiki"), ws)
    rules = report.per_rule()
    assert mutation.rule in rules, f"{what}: expected {mutation.rule}, got {rules}"
    if RULES[mutation.rule][0] == "E":
        assert report.errors, "every planted error fault blocks the commit"
    else:  # a warning is reported, and is all that is reported: it must not block the page
        assert not report.errors, f"{what}: a warning-only fault raised errors {rules}"


# --- CLI ---------------------------------------------------------------------------------------


def _cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "agents.verify", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
    )


def test_cli_passes_the_fixture_wiki_and_prints_json(fixture_repo: Path, cache_dir: Path):
    r = _cli(str(WIKI), "--source", str(fixture_repo), "--cache-dir", str(cache_dir), "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["pages"] == 11 and out["errors"] == 0 and out["per_rule"] == {} and out["findings"] == []
    assert out["example_names"]["ratio"] == 1.0


def test_cli_fails_a_faulty_wiki_with_rule_counts(fixture_repo: Path, cache_dir: Path, tmp_path: Path):
    wrong = next(m for m in MUTATIONS if m.name == "default_in_signature")
    mutated_copy(WIKI, tmp_path / "wiki", wrong, fixture_repo)
    r = _cli(str(tmp_path / "wiki"), "--source", str(fixture_repo), "--cache-dir", str(cache_dir), "--json")
    assert r.returncode == 1
    out = json.loads(r.stdout)
    assert out["per_rule"]["R24"] == 1
    f = next(f for f in out["findings"] if f["rule"] == "R24")
    assert f["page"] == "implementations/acme_minipkg_Engine.md" and f["line"] and f["hint"]
    text = _cli(str(tmp_path / "wiki"), "--source", str(fixture_repo), "--cache-dir", str(cache_dir))
    assert text.returncode == 1
    assert "implementations/acme_minipkg_Engine.md:" in text.stdout and "R24 [E]" in text.stdout
    assert "errors" in text.stderr


def test_cli_bad_input_is_one_line_and_exit_2(fixture_repo: Path, tmp_path: Path):
    r = _cli(str(tmp_path / "nowhere"), "--source", str(fixture_repo))
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "does not exist" in r.stderr
    assert "Traceback" not in r.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    r = _cli(str(empty), "--source", str(fixture_repo))
    assert r.returncode == 2 and "--repo" in r.stderr and r.stderr.count("\n") == 1
    r = _cli(str(WIKI))
    assert r.returncode == 2 and "--source" in r.stderr


def test_pages_not_in_the_format_are_findings_not_crashes(ws: Workspace, tmp_path: Path):
    wiki = tmp_path / "wiki"
    shutil.copytree(WIKI, wiki)
    (wiki / "principles" / "acme_minipkg_Notes.md").write_text("just some notes\n| not | a table\n")
    (wiki / "principles" / "acme_minipkg_Binary.md").write_bytes(b"\xff\xfe\x00garbage")
    (wiki / "implementations" / "acme_minipkg_Empty.md").write_text("")
    (wiki / "stray.txt").write_text("x")
    report = verify_wiki(load_wiki(wiki), ws)
    by_page = {}
    for f in report.findings:
        by_page.setdefault(f.page, set()).add(f.rule)
    assert "R3" in by_page["principles/acme_minipkg_Notes.md"]
    assert by_page["principles/acme_minipkg_Binary.md"] == {"R2"}
    assert "R3" in by_page["implementations/acme_minipkg_Empty.md"]
    assert "R2" in by_page["stray.txt"]
