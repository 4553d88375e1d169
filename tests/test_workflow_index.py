"""The WorkflowIndex parser: the spec's shape, kapso's variations, and errors with line numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.wiki.workflow_index import WorkflowIndexError, load_workflow_index, parse_workflow_index, split_row

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


def _step(n: int, heading: str, rows: dict[str, str]) -> str:
    body = "".join(f"| **{k}** | {v} |\n" for k, v in rows.items())
    return f"### Step {n}: {heading}\n\n| Attribute | Value |\n|---|---|\n{body}\n"


def _index(title: str, *steps: str, workflow: str = "W") -> str:
    return f"# Workflow Index: {title}\n\n## Workflow: {title}_{workflow}\n\n" + "".join(steps)


def test_a_hyphenated_repo_prefix_is_normalised_with_every_page_name():
    wi = parse_workflow_index(
        _index(
            "acme-labs_minipkg",
            _step(
                1,
                "Setup",
                {"Principle": "`acme-labs_minipkg_Engine_Setup`", "Implementation": "`acme-labs_minipkg_Engine`"},
            ),
            _step(2, "Run", {"Principle": "`Job_Execution`", "Implementation": "`acme_labs_minipkg_run_engine`"}),
        )
    )
    assert (wi.repo, wi.repo_as_written) == ("acme_labs_minipkg", "acme-labs_minipkg")
    assert wi.workflows[0].name == "acme_labs_minipkg_W"
    assert [(s.principle, s.implementation) for s in wi.steps] == [
        ("acme_labs_minipkg_Engine_Setup", "acme_labs_minipkg_Engine"),
        ("acme_labs_minipkg_Job_Execution", "acme_labs_minipkg_run_engine"),
    ]


def test_an_unusable_step_is_held_with_its_line_and_the_rest_goes_on():
    text = _index(
        "acme_minipkg",
        _step(
            1,
            "Setup",
            {
                "Principle": "`acme_minipkg_Engine_Setup`",
                "Implementation": "`acme_minipkg_Engine`",
                "API Call": "`Engine(config)`",
            },
        ),
        _step(
            2,
            "Choose",
            {"Principle": "`acme_minipkg_Format_Choice`", "Implementation": "N/A (decision point)", "API Call": "N/A"},
        ),
        _step(
            3,
            "Score",
            {
                "Principle": "`acme_minipkg_Scoring`",
                "Implementation": "`acme_minipkg_score_fn`",
                "API Call": "`def score(prompts, completions) -> list[float]`",
                "Source Location": "User-defined",
            },
        ),
        _step(
            4,
            "Init",
            {
                "Principle": "`acme_minipkg_Init`",
                "Implementation": "`acme_minipkg_import_it`",
                "API Call": "`import minipkg` (first)",
            },
        ),
        _step(5, "Empty", {"Principle": "`acme_minipkg_Empty`", "Implementation": ""}),
        _step(
            6,
            "Evaluate",
            {
                "Principle": "`acme_minipkg_Evaluation`",
                "Implementation": "`acme_minipkg_evaluate`",
                "API Call": "`engine.run(x)` then compare",
                "Source Location": "User-defined evaluation",
            },
        ),
    )
    wi = parse_workflow_index(text, "wi.md")
    assert [s.problem is None for s in wi.steps] == [True, False, False, False, False, False]
    assert wi.steps[1].problem == (
        "wi.md:13: step 2 of acme_minipkg_W: its Implementation cell 'N/A (decision point)' "
        "is not a page name (letters, digits and '_')"
    )
    assert "a function the user writes" in wi.steps[2].problem
    assert "an import statement" in wi.steps[3].problem
    assert "its Implementation cell is empty" in wi.steps[4].problem
    assert "says the code is the user's" in wi.steps[5].problem
    assert [s.number for s in wi.usable_steps] == [1]


def test_kapsos_older_variant_gets_derived_names():
    """Steps with only API Call / Source Location rows: Principle from the heading, Implementation
    from the first API of the API Call (dots to '_', dunder underscores dropped)."""
    wi = parse_workflow_index(
        _index(
            "karpathy_micrograd",
            _step(1, "Data_Preparation", {"API Call": "Python lists (user-defined)", "Source Location": "(user code)"}),
            _step(
                2,
                "Network Definition",
                {
                    "API Call": "`MLP.__init__(self, nin: int, nouts: list[int]) -> None`",
                    "Source Location": "`micrograd/nn.py:L47-49`",
                },
            ),
            _step(3, "Backward_Pass (autograd)", {"API Call": "`Value.backward`, `Value.relu`"}),
        )
    )
    s1, s2, s3 = wi.steps
    assert "names no API" in s1.problem or "user-written code" in s1.problem
    assert (s2.principle, s2.implementation) == ("karpathy_micrograd_Network_Definition", "karpathy_micrograd_MLP_init")
    assert (s3.principle, s3.implementation) == (
        "karpathy_micrograd_Backward_Pass",
        "karpathy_micrograd_Value_backward",
    )
    assert s2.derived == (
        "Principle karpathy_micrograd_Network_Definition from the step heading",
        "Implementation karpathy_micrograd_MLP_init from the API Call MLP.__init__",
    )


def test_cells_as_others_write_them():
    wi = parse_workflow_index(
        _index(
            "acme_minipkg",
            _step(
                1,
                "Save (final)",
                {
                    "Principle": "**`acme_minipkg_Saving`**",
                    "Implementation": "✅ `acme_minipkg_save_all` [→](./implementations/acme_minipkg_save_all.md)",
                    "API Call": "`save_all(out: str | None = None)` / `save_state()`",
                    "External Dependencies": "`json`, —",
                },
            ),
            _step(3, "Load", {"Principle": "`acme_minipkg_Loading`", "Implementation": "`acme_minipkg_load`"}),
        )
    )
    s1, s2 = wi.steps
    assert (s1.principle, s1.implementation) == ("acme_minipkg_Saving", "acme_minipkg_save_all")
    assert s1.api_call == "`save_all(out: str | None = None)` / `save_state()`"
    assert s1.external_deps == ("json",)
    assert (s2.number, s2.written_number) == (2, 3)  # a gap in the numbering is closed, the written number kept


@pytest.mark.parametrize(
    "text, message",
    [
        ("Just some notes\n", ":1: expected the title"),
        ("# Workflow Index: huggingface_peft\n\nno workflows\n", "no '## Workflow: NAME' section"),
        (
            "# Workflow Index: huggingface_peft\n\n| Page | File | Connections | Notes |\n|---|---|---|---|\n",
            "this file is a page index of Workflow pages",
        ),
        (
            _index("huggingface_peft", _step(1, "X", {"Principle": "`Bad-Name`", "Implementation": "`f`"})),
            "wi.md:5: step 1 of huggingface_peft_W: its Principle cell 'Bad-Name' is not a page name (letters, digits and "
            "'_'); nothing in this WorkflowIndex is usable",
        ),
    ],
)
def test_a_file_with_nothing_usable_names_the_line_and_the_fix(text, message):
    with pytest.raises(WorkflowIndexError) as err:
        parse_workflow_index(text, "wi.md")
    assert message in str(err.value)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(WorkflowIndexError, match="does not exist; pass --workflow-index FILE"):
        load_workflow_index(tmp_path / "nope.md")


def test_evidence_lines_of_a_discovered_index_are_read_with_their_line():
    text = FIXTURE.read_text()
    first = text.index("**Description:**")
    end = text.index("\n", first) + 1
    text = text[:end] + "**Evidence:** `examples/demo.py` L3-5\n**Evidence:** `README.md` L1-2\n" + text[end:]
    wi = parse_workflow_index(text)
    line = text[:end].count("\n") + 1
    assert wi.workflows[0].evidence == ((line, "`examples/demo.py` L3-5"), (line + 1, "`README.md` L1-2"))
    assert all(w.evidence == () for w in wi.workflows[1:])
