"""R49 as amended: wording is repaired, never a reason to hold a page whose facts verify. A section three
pages share is rewritten from each page's own sources, a sentence said twice loses its copy, placeholder
maths goes (agents.draft.rewrite), and the commit does this instead of holding the pages (agents.nodes.commit)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from agents.draft.rewrite import repair_page_text, repair_repeated_sections, replace_section, section_body
from agents.nodes.commit import commit
from agents.state import PairResult
from agents.verify.context import Context
from agents.verify.rules.boilerplate_rules import check_boilerplate, check_page_boilerplate
from agents.verify.verifier import verify_wiki
from fixture_repo import fixture_argv
from tools.index.workspace import open_workspace
from tools.wiki.load import Wiki, load_wiki
from tools.wiki.page import parse_page

ROOT = Path(__file__).resolve().parents[1]
REPO = "acme_minipkg"


def principle(name: str, overview: str, description: str, usage: str | None = None, theory: str | None = None) -> str:
    n = len(name)  # the sections not under test differ from page to page
    usage = usage or f"Use it before {n} jobs run."
    theory = theory or f"The rule is <math>a = b + {n}</math>."
    return (
        f"# Principle: {name}\n\n== Overview ==\n\n{overview}\n\n=== Description ===\n\n{description}\n\n"
        f"=== Usage ===\n\n{usage}\n\n== Theoretical Basis ==\n\n{theory}\n\n== Related Pages ==\n\n"
        f"=== Implemented By ===\n\n* [[implemented_by::Implementation:{REPO}_X_{name}]]\n"
    )


def wiki_of(texts: dict[str, str]) -> Context:
    return Context(Wiki(Path("."), REPO, pages={rel: parse_page(t, rel) for rel, t in texts.items()}), None)


def test_a_section_three_pages_share_is_rewritten_from_each_pages_own_sources():
    names = ["Engine_Setup", "Job_Execution", "Result_Decoding"]
    shared = "It keeps everything ready for the next run."
    texts = {f"principles/{REPO}_{n}.md": principle(n, f"{n} builds part {len(n)}.", description=shared) for n in names}
    ctx = wiki_of(texts)
    own = {
        f"principles/{REPO}_Engine_Setup.md": ["The engine reads its settings once."],
        f"principles/{REPO}_Job_Execution.md": ["Each job runs until it returns or fails."],
        f"principles/{REPO}_Result_Decoding.md": ["Results are parsed from stored text."],
    }
    fixed = repair_repeated_sections(ctx, texts, lambda rel, section: own[rel] if section == "Description" else [])
    assert {rel: section_body(t, "Description") for rel, t in fixed.items()} == {k: v[0] for k, v in own.items()}
    assert check_boilerplate(wiki_of(fixed)) == []


def test_a_page_of_ours_with_nothing_else_to_say_is_left_to_the_hold():
    names = ["Engine_Setup", "Job_Execution", "Result_Decoding"]
    texts = {
        f"principles/{REPO}_{n}.md": principle(n, f"{n} runs {len(n)} jobs.", f"It has {len(n)} parts.", "Use it.")
        for n in names
    }
    ctx = wiki_of(texts)
    assert repair_repeated_sections(ctx, texts, lambda rel, section: []) == {}


def test_a_sentence_said_twice_and_placeholder_maths_are_dropped_from_the_page():
    page = principle(
        "Engine_Setup",
        "Builds a runner.",
        "The runner is built once. It keeps its settings. The runner is built once.",
        theory=r"Abstractly <math>y = f(x)</math> holds; the runner splits <math>n / w</math> jobs over workers.",
    )
    fixed = repair_page_text(page)
    assert section_body(fixed, "Description") == "The runner is built once. It keeps its settings."
    assert "<math>y = f(x)</math>" not in fixed and "<math>n / w</math>" in fixed
    assert check_page_boilerplate(wiki_of({}), parse_page(fixed, f"principles/{REPO}_Engine_Setup.md")) == []


def test_the_commit_repairs_a_repeated_section_instead_of_holding_the_pages(fixture_repo, tmp_path):
    """Three verified pairs whose Principle Usage reads the same (a model's stock phrase, say): the whole-wiki
    check finds R49 on the three pages. The commit rewrites the section from each page's source and commits
    all three pairs; it used to hold every page involved."""
    index = ROOT / "tests" / "fixtures" / "minipkg_WorkflowIndex.md"
    runs = tmp_path / "runs"
    subprocess.run([sys.executable, "-m", "agents.run", *fixture_argv(fixture_repo, index, runs), "--quiet"], cwd=ROOT)
    run_dir = (runs / "acme_minipkg" / "latest").resolve()
    cfg = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))["config"]
    wiki = Path(cfg["wiki"])
    verdicts = [json.loads(x) for x in (run_dir / "verdicts.jsonl").read_text(encoding="utf-8").splitlines()]
    pairs = [v for v in verdicts if (wiki / "principles" / f"{v['principle']}.md").is_file()][:3]
    assert len(pairs) == 3
    stock = "It is the right tool whenever the job calls for it."
    results: list[PairResult] = []
    for v in pairs:
        texts = {
            rel: (wiki / rel).read_text(encoding="utf-8")
            for rel in (f"principles/{v['principle']}.md", f"implementations/{v['implementation']}.md")
        }
        p = f"principles/{v['principle']}.md"
        texts[p] = replace_section(texts[p], "Usage", stock)
        results.append(
            PairResult(
                principle=v["principle"],
                implementation=v["implementation"],
                outcome="verified",
                reason=None,
                texts=texts,
                findings=[],
                location=v["location"],
                rounds=0,
                steps=v["steps"],
                seconds=0.0,
            )
        )
    summary = commit(cfg, results)
    assert summary["held"] == {}
    for v in pairs:
        text = (wiki / "principles" / f"{v['principle']}.md").read_text(encoding="utf-8")
        usage = section_body(text, "Usage")
        assert usage and stock not in usage
    assert verify_wiki(load_wiki(wiki), open_workspace("acme_minipkg", str(fixture_repo), tmp_path / "c")).errors == []
