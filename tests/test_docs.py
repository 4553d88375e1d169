"""The project's own reference docs stay true to the code they describe: docs/rules.md is the
generator's output (every rule with a real failing and passing example), the tables of
docs/page-format.md are the schema's and its prose names nothing the schema lacks, and every doc
a message points to exists, down to the section or rule it names."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from agents.verify.findings import RULES
from agents.verify.mutate import MUTATIONS
from agents.verify.rule_docs import Example, collect, rules_markdown
from agents.verify.rule_examples import EXAMPLES
from agents.verify.verifier import build_parser
from tools.wiki.format_doc import BLOCKS, block_keys, render_doc
from tools.wiki.page import FOLDER_TYPES
from tools.wiki.schema import (
    EDGES,
    EXTRA_SOURCE_KINDS,
    IMPL_SUBTYPES,
    IMPLEMENTATION,
    INDEX_FILES,
    INDEX_HEADERS,
    SOURCE_KINDS,
    TOKEN_KINDS,
    PageSchema,
    schema_for,
)

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGE_FORMAT = DOCS / "page-format.md"
REGENERATE = "regenerate: python -m agents.verify.rule_docs"


@pytest.fixture(scope="module")
def examples(tmp_path_factory: pytest.TempPathFactory) -> list[Example]:
    return collect(tmp_path_factory.mktemp("rule_docs"))


# --- docs/rules.md -----------------------------------------------------------------------------


def test_the_rules_doc_is_the_generators_output(examples: list[Example]):
    assert (DOCS / "rules.md").read_text(encoding="utf-8") == rules_markdown(examples), REGENERATE


def test_every_rule_has_a_failing_and_a_passing_example(examples: list[Example]):
    covered = {ex.rule for ex in examples}
    assert set(RULES) <= covered, f"rules without an example: {sorted(set(RULES) - covered)}"
    for ex in examples:
        assert ex.diff, f"{ex.rule} {ex.origin}: the failing form does not differ from the passing one"
        assert ex.findings, f"{ex.rule} {ex.origin} ({ex.what}): the failing form has no {ex.rule} finding"
        assert not ex.passing_findings, f"{ex.rule} {ex.origin}: the passing form has {ex.passing_findings}"


def test_each_hand_written_pair_passes_and_fails_under_its_rule(examples: list[Example]):
    hand = [ex for ex in examples if ex.origin == "hand-written"]
    assert [ex.rule for ex in hand] == [ex.rule for ex in EXAMPLES]
    for ex in hand:
        assert not ex.passing_findings and ex.findings, (ex.rule, ex.what, ex.passing_findings, ex.findings)
        assert all(f": {ex.rule} [" in line for line in ex.findings)


def test_examples_cover_each_mutation_once(examples: list[Example]):
    assert [ex.origin for ex in examples if ex.origin.startswith("mutation")] == [
        f"mutation `{m.name}`" for m in MUTATIONS
    ]


def test_the_rules_doc_names_no_local_path():
    text = (DOCS / "rules.md").read_text(encoding="utf-8")
    assert str(ROOT) not in text and "/tmp" not in text
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d", text), "a run date in the doc"


# --- docs/page-format.md ----------------------------------------------------------------------


def _schemas() -> list[PageSchema]:
    out = [s for t in FOLDER_TYPES.values() if t != "Implementation" and (s := schema_for(t)) is not None]
    return out + list(IMPLEMENTATION.values())


def _titles() -> tuple[set[str], set[str]]:
    level2 = {s.title for schema in _schemas() for s in schema.sections}
    level3 = {c for schema in _schemas() for s in schema.sections for c in s.children + s.optional_children}
    return level2, level3


def test_the_page_format_tables_are_the_schemas():
    text = PAGE_FORMAT.read_text(encoding="utf-8")
    assert sorted(block_keys(text)) == sorted(BLOCKS), "every generated table appears once"
    assert render_doc(text) == text, "regenerate: python -m tools.wiki.format_doc"


def test_the_page_format_names_every_schema_term():
    text = PAGE_FORMAT.read_text(encoding="utf-8")
    level2, level3 = _titles()
    missing = [f"== {t} ==" for t in sorted(level2) if f"`== {t} ==`" not in text]
    missing += [f"=== {t} ===" for t in sorted(level3) if f"`=== {t} ===`" not in text]
    missing += [e for (_, e) in EDGES if f"`{e}`" not in text]
    missing += [s for s in IMPL_SUBTYPES if s not in text]
    missing += [f for f in INDEX_FILES.values() if f"`{f}`" not in text]
    missing += [h for h in ("| " + " | ".join(h) + " |" for h in INDEX_HEADERS.values()) if h not in text]
    kinds = SOURCE_KINDS.union(*EXTRA_SOURCE_KINDS.values())
    missing += [k for k in sorted(kinds) if f"`{k}`" not in text]
    missing += [k for k in TOKEN_KINDS.values() if f"`{k}`" not in text]
    assert not missing, f"docs/page-format.md does not name {missing}"


def strangers(text: str) -> list[str]:
    """Section titles, edges, sub-types, index files and headers, page types, folders, token and
    source kinds that the text names and the schema does not have."""
    level2, level3 = _titles()
    wrong = []
    for bar, title in re.findall(r"`(={2,3}) ([^`=]+?) \1`", text):
        known = level2 if len(bar) == 2 else level3
        if "{" not in title and title not in known:
            wrong.append(f"{bar} {title} {bar}")
    edges = {e for _, e in EDGES} | {"source", "domain", "last_updated"}
    wrong += [e for e in re.findall(r"\[\[(\w+)::", text) if e not in edges]
    wrong += [f"{s}Doc" for s in re.findall(r"\b((?:[A-Z]\w* )+)Doc\b", text) if f"{s}Doc" not in IMPL_SUBTYPES]
    wrong += [
        f for f in re.findall(r"_[A-Z]\w*Index\.md", text) if f not in {*INDEX_FILES.values(), "_WorkflowIndex.md"}
    ]
    headers = {"| " + " | ".join(h) + " |" for h in INDEX_HEADERS.values()}
    for m in re.finditer(r"^\| Page \|.*\|$|`(\| Page \|[^`]*)`", text, re.M):
        wrong += [h] if (h := m.group(1) or m.group(0)) not in headers else []
    wrong += [t for t in re.findall(r"`# (\w+)(?::| Index:)", text) if t not in FOLDER_TYPES.values()]
    wrong += [f for f in re.findall(r"`(\w+)/`", text) if f not in FOLDER_TYPES]
    wrong += [k for k in re.findall(r"[✅⬜](\w+):", text) if k not in {*TOKEN_KINDS.values(), "Type"}]
    kinds = SOURCE_KINDS.union(*EXTRA_SOURCE_KINDS.values())
    wrong += [k for k in re.findall(r"\[\[source::(\w+)\|", text) if k not in kinds]
    return wrong


def test_the_page_format_names_nothing_the_schema_lacks():
    wrong = strangers(PAGE_FORMAT.read_text(encoding="utf-8"))
    assert not wrong, f"docs/page-format.md names what tools/wiki/schema.py does not: {wrong}"


def test_a_name_the_schema_lacks_is_caught():
    planted = (
        "`== Examples ==`",
        "`=== Call Graph ===`",
        "[[realized_by::Implementation:x]]",
        "a Sample Doc",
        "`_TaskIndex.md`",
        "`| Page | File | Notes |`",
        "`# Recipe: {Name}`",
        "`impl/`",
        "✅Implementation:x",
        "[[source::Code|t|u]]",
    )
    assert len(strangers("\n".join(planted))) == len(planted)


# --- messages point to docs that exist ----------------------------------------------------------


def _code_texts() -> list[str]:
    paths = list((ROOT / "agents").rglob("*.py")) + list((ROOT / "tools").rglob("*.py"))
    return [p.read_text(encoding="utf-8") for p in paths]


def _sections(text: str) -> set[str]:
    return set(re.findall(r"^#{2,3} §(\d+(?:\.\d+)?) ", text, re.M))


def _anchors(text: str) -> set[str]:
    return set(re.findall(r'<a id="([\w-]+)"></a>', text))


def test_every_doc_a_message_points_to_exists():
    named = set()
    for text in _code_texts():
        named |= set(re.findall(r"docs/[\w.-]+\.md", text))
    assert named, "no message points to docs/"
    assert all((ROOT / d).is_file() for d in named), sorted(d for d in named if not (ROOT / d).is_file())


def test_every_section_and_rule_a_message_or_doc_cites_exists():
    sections = _sections(PAGE_FORMAT.read_text(encoding="utf-8"))
    anchors = _anchors((DOCS / "rules.md").read_text(encoding="utf-8"))
    assert {"1", "2", "3", "3.1", "4", "5", "6", "7"} <= sections
    assert {r.lower() for r in RULES} <= anchors
    cited, linked = set(), set()
    for text in _code_texts():
        cited |= set(re.findall(r"docs/page-format\.md §(\d+(?:\.\d+)?)", text))
        linked |= set(re.findall(r"docs/rules\.md#([\w-]+)", text))
    for doc in DOCS.glob("*.md"):
        text = doc.read_text(encoding="utf-8")
        linked |= set(re.findall(r"\(rules\.md#([\w-]+)\)", text))
        if doc == PAGE_FORMAT:
            cited |= set(re.findall(r"§(\d+(?:\.\d+)?)", text))
    assert cited <= sections, f"docs/page-format.md has no section {sorted(cited - sections)}"
    assert linked <= anchors, f"docs/rules.md has no anchor {sorted(linked - anchors)}"


def test_user_facing_text_cites_the_projects_docs_not_the_spec():
    texts = [hint for _, _, hint in RULES.values()] + [build_parser().format_help()]
    stale = [t for t in texts if re.search(r"WIKI_FORMAT|RULES\.md", t)]
    assert not stale, stale


def test_the_architecture_doc_names_every_module():
    """docs/ARCHITECTURE.md stays true to the tree: every module is named in it, by path or by name
    in its folder's table."""
    doc = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    missing = []
    for pkg in ("agents", "tools", "prompts"):
        for path in sorted((ROOT / pkg).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if path.name in ("__init__.py", "__main__.py") and rel not in ("prompts/__init__.py", "tools/__main__.py"):
                continue
            parts = path.relative_to(ROOT).parts
            tails = ["/".join(parts[i:]) for i in range(len(parts))]  # agents/verify/x.py, verify/x.py, x.py
            if not any(f"`{tail}`" in doc for tail in tails):
                missing.append(rel)
    assert not missing, f"docs/ARCHITECTURE.md does not name: {missing}"
