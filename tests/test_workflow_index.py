"""The WorkflowIndex parser: the spec's shape, kapso's variations, and errors with line numbers."""
from __future__ import annotations

from pathlib import Path

import pytest

from tools.workflow_index import WorkflowIndexError, load_workflow_index, parse_workflow_index, split_row

FIXTURE = Path(__file__).parent / "fixtures" / "minipkg_WorkflowIndex.md"


def test_parses_the_fixture_index_into_typed_steps():
    wi = load_workflow_index(FIXTURE)
    assert wi.repo == "acme_minipkg"
    [wf] = wi.workflows
    assert wf.name == "acme_minipkg_Run_Jobs"
    assert wf.description == "Configure an engine, run jobs on it and shut it down."
    steps = wi.steps
    assert [(s.number, s.principle, s.implementation, s.status, s.impl_type) for s in steps] == [
        (1, "acme_minipkg_Engine_Setup", "acme_minipkg_Engine", "⬜", "API Doc"),
        (2, "acme_minipkg_Job_Execution", "acme_minipkg_run_engine", "✅", "API Doc"),
        (3, "acme_minipkg_Engine_Shutdown", "acme_minipkg_Engine_shutdown", "⬜", "API Doc"),
        (4, "acme_minipkg_Tool_Creation", "acme_minipkg_make_tool", "⬜", "API Doc"),
        (5, "acme_minipkg_Result_Decoding", "acme_minipkg_JSONDecoder_decode", "⬜", "Wrapper Doc"),
    ]
    first = steps[0]
    # the bare '|' of a type union inside back-ticks stays in the cell
    assert first.api_call == "Engine(config: EngineConfig | None = None, *, verbose: bool = False)"
    assert first.source_hint == "src/minipkg/engine.py:L10-40"
    assert first.external_deps == () and first.environment is None
    assert first.key_parameters == "`verbose: bool` - print progress"
    assert (first.title, first.line, first.status_line) == ("Engine Setup", 30, 24)
    assert steps[1].environment == "acme_minipkg_Python" and steps[1].external_deps == ()
    assert steps[4].external_deps == ("json",) and steps[4].guide_api == "json.JSONDecoder.decode"
    assert steps[2].inputs is None  # missing attribute rows are None, not guessed


def test_split_row_keeps_code_pipes_and_escaped_pipes():
    assert split_row("| 1 | `a | b` | c \\| d |") == ["1", "`a | b`", "c | d"]
    assert split_row("| **Principle** | `x` |") == ["**Principle**", "`x`"]


KAPSO_1A = """# Workflow Index: huggingface_peft

## Workflow: huggingface_peft_Tiny

### Steps Overview

| # | Step Name | Principle | Rough API | Related Files |
|---|-----------|-----------|-----------|---------------|
| 1 | Load | Model_Loading | `AutoModel_from_pretrained` | - |
| 2 | Wrap | PEFT_Application | `get_peft_model` | src/peft/mapping.py |
"""


def test_phase_1a_columns_without_status_or_step_tables():
    wi = parse_workflow_index(KAPSO_1A)
    assert [(s.principle, s.implementation, s.status) for s in wi.steps] == [
        ("huggingface_peft_Model_Loading", "huggingface_peft_AutoModel_from_pretrained", None),
        ("huggingface_peft_PEFT_Application", "huggingface_peft_get_peft_model", None),
    ]


@pytest.mark.parametrize("text, message", [
    ("Just some notes\n", ":1: expected the title"),
    ("# Workflow Index: huggingface_peft\n\nno workflows\n", "no '## Workflow: NAME' section"),
    ("# Workflow Index: huggingface_peft\n\n## Workflow: huggingface_peft_W\n\n### Step 1: X\n\n"
     "| Attribute | Value |\n|---|---|\n| **Implementation** | `get_peft_model` |\n", ":5: step 1 of huggingface_peft_W has no Principle"),
    ("# Workflow Index: huggingface_peft\n\n## Workflow: huggingface_peft_W\n\n### Step 1: X\n\n"
     "| Attribute | Value |\n|---|---|\n| **Principle** | `Bad-Name` |\n| **Implementation** | `f` |\n",
     ":5: Principle name 'Bad-Name' is not a valid page name"),
    ("# Workflow Index: huggingface_peft\n\n## Workflow: huggingface_peft_W\n\n### Step 2: X\n\n"
     "| Attribute | Value |\n|---|---|\n| **Principle** | `P` |\n| **Implementation** | `f` |\n",
     "numbered [2]; number them 1..n"),
])
def test_malformed_input_names_the_line_and_the_fix(text, message):
    with pytest.raises(WorkflowIndexError) as err:
        parse_workflow_index(text, "wi.md")
    assert message in str(err.value)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(WorkflowIndexError, match="does not exist; pass --workflow-index FILE"):
        load_workflow_index(tmp_path / "nope.md")
