"""The project's own reference docs stay true to the code they describe."""
from __future__ import annotations

import re
from pathlib import Path

from agents.verify.findings import rules_markdown

ROOT = Path(__file__).resolve().parents[1]


def test_the_rules_doc_is_the_verifiers_rule_table():
    assert (ROOT / "docs" / "rules.md").read_text(encoding="utf-8") == rules_markdown(), \
        "regenerate: python -c \"from agents.verify.findings import rules_markdown; open('docs/rules.md','w').write(rules_markdown())\""


def test_every_doc_a_message_points_to_exists():
    named = set()
    for path in list((ROOT / "agents").rglob("*.py")) + list((ROOT / "tools").rglob("*.py")):
        named |= set(re.findall(r"docs/[\w.-]+\.md", path.read_text(encoding="utf-8")))
    assert named, "no message points to docs/"
    assert all((ROOT / d).is_file() for d in named), sorted(d for d in named if not (ROOT / d).is_file())
