"""Parameter documentation carried from the source: every docstring style, dataclass field help,
inheritance, the default clause dropped (R26), R48 on a page, and peft's real docstrings."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tools.index.docstrings import param_docs, param_entries, states_default, without_default
from tools.index.param_docs import doc_text, documented_params, field_help, param_description
from agents.verify.rules.content_rules import says_undocumented
from tools.index.build import build_index
from tools.source.resolve import resolve_repo
from tools.index.workspace import Workspace

GOOGLE = """Wrap a model.

    Args:
        model (nn.Module): The model
            to wrap.
        r: The rank. Defaults to 8.
        *args: Extra positionals.
        **kwargs: Extra options.

    Returns:
        int: the number of layers.
    """

HF = """Training settings.

Parameters:
    learning_rate (`float`, *optional*, defaults to 5e-5):
        The initial learning rate for [`~torch.optim.AdamW`] optimizer.

        A second paragraph.
    eval_strategy (`str` or [`~trainer_utils.IntervalStrategy`], *optional*, defaults to `"no"`):
        The evaluation strategy to adopt during training. Possible values are:

            - `"no"`: No evaluation is done during training.
    pixel_values (`torch.FloatTensor` of shape (batch_size, channels, height,
        width)): Input images.
    num_masks (`int)`:
        The number of masks.
    kwargs (additional keyword arguments, *optional*):
        Passed on to the model.
"""

NUMPY = """Sum values.

Parameters
----------
x : array_like
    Input values.
    More about them.
axis : int, optional
    Axis to sum over.
*args
    Ignored.

Returns
-------
out : ndarray
    The sum.
"""

SPHINX = """Send a message.

:param channel: where to send it,
    on one or more lines.
:param int retries: how often to try.
:type retries: int
:param \\*\\*options: transport options.
:returns: nothing.
"""


def test_google_entries_with_continuations_and_star_args():
    assert param_entries(GOOGLE) == {
        "model": "The model\nto wrap.",
        "r": "The rank. Defaults to 8.",
        "args": "Extra positionals.",
        "kwargs": "Extra options.",
    }
    assert param_docs(GOOGLE)["model"] == "The model to wrap."


def test_hugging_face_entries_with_the_text_below_and_broken_types():
    docs = param_entries(HF)
    assert docs["learning_rate"].startswith("The initial learning rate for [`~torch.optim.AdamW`] optimizer.")
    assert "A second paragraph." in docs["learning_rate"]  # several paragraphs stay one entry
    assert '- `"no"`: No evaluation' in docs["eval_strategy"]
    assert docs["pixel_values"] == "Input images."  # a type wrapped onto the next line
    assert docs["num_masks"] == "The number of masks."  # an unbalanced type
    assert docs["kwargs"] == "Passed on to the model."


def test_numpy_entries_under_an_underlined_header():
    assert param_entries(NUMPY) == {
        "x": "Input values.\nMore about them.",
        "axis": "Axis to sum over.",
        "args": "Ignored.",
    }


def test_sphinx_fields():
    assert param_entries(SPHINX) == {
        "channel": "where to send it,\non one or more lines.",
        "retries": "how often to try.",
        "options": "transport options.",
    }


def test_prose_that_only_looks_like_an_entry_is_not_one():
    doc = "Summary.\n\nThe model (a module) is wrapped here.\nNotes: nothing."
    assert param_entries(doc) == {}
    assert param_entries(None) == {} and param_entries("") == {}


@pytest.mark.parametrize(
    "text, kept",
    [
        ("The rank. Defaults to 8.", "The rank."),
        ("The rank (default: 8) of the update.", "The rank of the update."),
        ("The number of workers, defaults to `2`.", "The number of workers."),
        (
            "Pad among: `True` (default): to the longest; `False`: not at all.",
            "Pad among: `True`: to the longest; `False`: not at all.",
        ),
        ("The scale (default: `f(x)`) of the update.", "The scale of the update."),
        ("Whether to pad. Will default to `True` if no tokenizer is given.", "Whether to pad."),
        ("If unset, defaults to the model's length. A smaller one is faster.", "A smaller one is faster."),
        ("Settings; the defaults are used when it is None.", "Settings; the defaults are used when it is None."),
        ("Name of the adapter; `default` is used otherwise.", "Name of the adapter; `default` is used otherwise."),
    ],
)
def test_the_sources_default_clause_is_dropped(text: str, kept: str):
    assert without_default(text) == kept
    assert not states_default(kept)


def test_a_row_description_is_plain_first_sentence_without_the_default():
    assert (
        param_description("The initial learning rate for [`~torch.optim.AdamW`] optimizer. More.")
        == "The initial learning rate for `AdamW` optimizer."
    )
    assert (
        param_description("The **global** batch size, see [the docs](https://x.org/a). Defaults to 8.")
        == "The global batch size, see the docs."
    )
    assert param_description("Use :class:`~pkg.mod.Thing` and ``x=1`` (default: 3).") == "Use `Thing` and `x=1`."
    assert param_description("Defaults to `None`.") == "Its source description states only the default."
    assert param_description("Whether to use `*x*` **now**.", bare=True) == "Whether to use x now."
    assert doc_text("*optional* text") == "optional text"


def test_field_help_joins_literal_parts():
    assert field_help('field(default=8, metadata={"help": "Lora attention dimension"})') == "Lora attention dimension"
    assert (
        field_help(
            'field(\n    default=None,\n    metadata={\n        "help": (\n            "One. "\n'
            '            "Two."\n        ),\n    },\n)'
        )
        == "One. Two."
    )
    assert field_help('field(default=1, metadata={"help": "a" + "b"})') == "ab"
    assert field_help('field(default=1, metadata=dict(help="kw"))') == "kw"
    assert field_help("field(default=1)") is None and field_help("3") is None and field_help(None) is None


def _tiny_ws(tmp_path: Path) -> Workspace:
    pkg = tmp_path / "tinyrepo" / "tinypkg"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "mod.py").write_text(
        textwrap.dedent('''\
        from dataclasses import dataclass, field


        class Base:
            """A base.

            Args:
                size (`int`): How big it is.
            """

            def __init__(self, size: int = 1) -> None:
                self.size = size

            def run(self, steps: int, fast: bool = False) -> None:
                """Run.

                Args:
                    steps: How many steps to take.
                    fast: Skip the checks.
                """


        class Child(Base):
            def __init__(self, size: int = 2, name: str = "x") -> None:
                """Make one.

                :param name: what to call it.
                """
                super().__init__(size)

            def run(self, steps: int, fast: bool = False) -> None:
                """Run faster.

                Args:
                    fast: Skip every check.
                """


        @dataclass
        class BaseConfig:
            """Settings.

            Args:
                seed (`int`, *optional*, defaults to 0): The random seed.
            """

            seed: int = 0


        @dataclass
        class Config(BaseConfig):
            rank: int = field(default=8, metadata={"help": "The rank " "of the update."})
            alpha: int = 8
        ''')
    )
    src = resolve_repo("acme_tinypkg", str(tmp_path / "tinyrepo"), tmp_path / "cache")
    return Workspace(src, build_index(src, tmp_path / "cache"))


def _sym(ws: Workspace, qualname: str):
    return next(s for s in ws.index.symbols if s.qualname == qualname)


def test_methods_inherit_the_docs_of_the_method_they_override(tmp_path: Path):
    ws = _tiny_ws(tmp_path)
    docs = documented_params(ws, _sym(ws, "Child.run"))
    assert docs == {"fast": "Skip every check.", "steps": "How many steps to take."}  # own entry first


def test_a_class_is_documented_by_its_docstring_its_init_and_its_bases(tmp_path: Path):
    ws = _tiny_ws(tmp_path)
    for qualname in ("Child", "Child.__init__"):
        assert documented_params(ws, _sym(ws, qualname)) == {"name": "what to call it.", "size": "How big it is."}


def test_dataclass_fields_are_documented_by_their_help_and_the_bases(tmp_path: Path):
    ws = _tiny_ws(tmp_path)
    docs = documented_params(ws, _sym(ws, "Config"))
    assert docs == {"rank": "The rank of the update.", "seed": "The random seed."}
    assert "alpha" not in docs  # nothing in the source describes it: the row stays honest


def test_the_undocumented_marker_is_what_r48_reads():
    assert says_undocumented("The `x` argument (undocumented in the source). Default: `None`.")
    assert says_undocumented("Default: `3`.") and says_undocumented("")
    assert not says_undocumented("The rank. Default: `8`.")


@pytest.mark.peft
def test_peft_lora_config_fields_and_a_documented_method(peft_ws: Workspace):
    lora = next(s for s in peft_ws.index.by_name["LoraConfig"] if s.kind == "class")
    helps = {f.name: field_help(f.value) for f in lora.fields}
    assert helps["r"] == "Lora attention dimension"
    assert helps["target_modules"].startswith("List of module names or regex expression of the module names")
    docs = documented_params(peft_ws, lora)
    assert docs["r"].startswith("Lora attention dimension")
    assert docs["target_modules"].startswith("The names of the modules to apply the adapter to.")
    assert docs["task_type"]  # inherited: PeftConfig documents it
    # fields the class docstring leaves out are described by their help text
    assert docs["use_qalora"] == helps["use_qalora"] and docs["arrow_config"] == helps["arrow_config"]
    save = next(s for s in peft_ws.index.symbols if s.qualname == "PeftModel.save_pretrained")
    docs = documented_params(peft_ws, save)
    assert param_description(docs["save_directory"]).startswith("Directory where the adapter model and configuration")
    assert {"safe_serialization", "selected_adapters", "kwargs"} <= set(docs)


@pytest.mark.peft
def test_the_drafter_carries_peft_docs_onto_rows_once_defaulted(peft_ws: Workspace):
    from agents.draft.drafter import implementation_data

    lora = next(s for s in peft_ws.index.by_name["LoraConfig"] if s.kind == "class")
    step = {
        "workflow": "huggingface_peft_LoRA",
        "number": 1,
        "title": "Configure LoRA",
        "api_call": None,
        "inputs": None,
        "outputs": None,
    }
    for repairs in ({}, {"plain_descriptions": True}):
        data = implementation_data(peft_ws, lora, "huggingface_peft_LoraConfig", "P", step, [], "", None, repairs)
        rows = data["inputs"]
        assert len(rows) == 37
        assert [r["name"] for r in rows if says_undocumented(r["description"])] == []
        assert [r["name"] for r in rows if states_default(r["description"])] == []
        assert all("**" not in r["description"] for r in rows)
        assert next(r for r in rows if r["name"] == "r")["description"] == 'Lora attention dimension (the "rank").'
