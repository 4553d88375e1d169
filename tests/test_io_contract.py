"""The I/O Contract from the source: the type and description of what a call returns (R27 as amended),
what it leaves behind (files, attributes, printed text), what documents a parameter (docstring
decorators, base methods, the class for ``__call__``, the API a docstring refers to, prose), what the body
does with an undocumented one and the value it puts in place of ``None``; markup flattened without
garbling placeholders. Real parses of peft 0.18.1, and of a small package written here for the shapes
peft does not have (transformers' docstring decorators, its Trainer.train)."""

from __future__ import annotations


import pytest

from agents.draft.drafter import implementation_data, plain
from agents.verify.rules.fact_rules import restates_return
from tools.index.build import build_index
from tools.index.constants import string_constant
from tools.index.docstrings import returns_entry, without_tags
from tools.index.effects import effects
from tools.index.facts import expected_output_type
from tools.index.io_rows import OutputRow, output_rows
from tools.index.param_docs import doc_text, documented_params, param_description
from tools.index.param_use import fallback_note, use_note
from tools.index.records import Symbol
from tools.index.runtime_doc import runtime_docstring
from tools.index.workspace import Workspace
from tools.source.resolve import resolve_repo

_DOC_MODULE = '''\
ENCODE_ARGS = r"""
            padding (`bool`, *optional*, defaults to `False`):
                Whether to pad.
            kwargs (additional keyword arguments, *optional*):
                Passed to `tokenize`.
"""


def add_end_docstrings(*docstr):
    def docstring_decorator(fn):
        fn.__doc__ = (fn.__doc__ if fn.__doc__ is not None else "") + "".join(docstr)
        return fn

    return docstring_decorator


def add_start_docstrings(*docstr):
    def docstring_decorator(fn):
        fn.__doc__ = "".join(docstr) + (fn.__doc__ if fn.__doc__ is not None else "")
        return fn

    return docstring_decorator


def copy_name(fn):
    fn.__doc__ = fn.__name__
    return fn


def build_args(has_tokenizer: bool = False, binary: bool = True) -> str:
    docstring = r"""
    Arguments:
        model (`Model`):
            The model to run."""
    if has_tokenizer:
        docstring += r"""
        tokenizer (`Tokenizer`):
            The tokenizer to use."""
    if not binary:
        docstring += r"""
        binary_output (`bool`):
            Never documented with binary=True."""
    return docstring
'''

_CORE_MODULE = '''\
import functools
import os
from dataclasses import dataclass

import torch

from .doc import ENCODE_ARGS, add_end_docstrings, add_start_docstrings, build_args, copy_name

WEIGHTS = "weights.bin"


class Tokenizer:
    @add_end_docstrings(ENCODE_ARGS)
    def __call__(self, text=None, padding=False, stride=0, **kwargs):
        """
        Tokenize.

        Args:
            text (`str`):
                The text.
        """
        return self.encode(text, stride=stride, **kwargs)

    @copy_name
    def encode(self, text, stride=0, **kwargs):
        return Encoding(text, stride)


def prepare(model: "Encoding", flag=False):
    model.ready = flag
    return model


@add_start_docstrings("Shared start. ")
def started(x):
    """Own text."""
    return x


@add_end_docstrings(build_args(has_tokenizer=True))
class Pipeline:
    """Runs a model."""

    def __init__(self, model, tokenizer=None):
        self.model = model
        self.tokenizer = tokenizer

    def __call__(self, inputs, batch_size=None, model=None):
        return self.run(inputs)

    def run(self, inputs):
        return inputs


class Encoding:
    """Holds token ids."""

    def __init__(self, ids, stride):
        self.ids = ids


class TrainOutput:
    def __init__(self, global_step, training_loss, metrics):
        self.global_step = global_step


def find_batch_size(function, size=8):
    return functools.partial(function, batch_size=size)


INSTALLED_DOC = r"""
        Load one.

        Args:
            name_or_path (`str`):
                Where to load from.
"""


def _load(cls, name_or_path, **kwargs):
    return cls()


def install_loader(cls, head=""):
    doc = INSTALLED_DOC.replace("one", head)
    loader = _load
    loader.__doc__ = doc
    cls.load = classmethod(loader)
    return cls


class AutoThing:
    @classmethod
    def load(cls, name_or_path, **kwargs):
        return cls()


AutoThing = install_loader(AutoThing, head="a thing")


@dataclass
class Arguments:
    """Settings.

    Args:
        output_dir (`str`, *optional*):
            Where to write. Defaults to `"out"` if not provided.
    """

    output_dir: str = None
    seed: int = 42

    def __post_init__(self):
        if self.output_dir is None:
            self.output_dir = "out"


class Trainer:
    def __init__(self, model, args=None):
        if args is None:
            args = Arguments()
        self.model = model
        self.args = args

    def train(self, resume=None, trial=None):
        """Train."""
        self.is_training = True
        loop = find_batch_size(self._loop, 8)
        return loop(resume=resume)

    def _loop(self, batch_size, resume=None):
        return TrainOutput(self.step, 0.5, {})

    def save(self, output_dir=None, unused=None):
        """Save. For the other arguments, see [`Trainer.train`]."""
        if output_dir is None:
            output_dir = self.args.output_dir
        os.makedirs(output_dir, exist_ok=True)
        self._write(output_dir)
        print("saved", output_dir)

    def _write(self, folder):
        torch.save(self.model, os.path.join(folder, WEIGHTS))
        with open(os.path.join(folder, "config.json"), "w") as fh:
            fh.write("{}")
        self.saved_to = folder

    def described(self, resume):
        """Checks the `resume` path before anything runs.

        Returns:
            [`~core.TrainOutput`] or `dict`: What training gave.
        """
        return {}
'''


@pytest.fixture(scope="module")
def mini_ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    root = tmp_path_factory.mktemp("io") / "iorepo"
    pkg = root / "iopkg"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "doc.py").write_text(_DOC_MODULE)
    (pkg / "core.py").write_text(_CORE_MODULE)
    cache = root.parent / "cache"
    src = resolve_repo("acme_iopkg", str(root), cache)
    return Workspace(src, build_index(src, cache))


def _sym(ws: Workspace, qualname: str) -> Symbol:
    return next(s for s in ws.index.symbols if s.qualname == qualname and "tests/" not in s.file)


# --- what documents a parameter (R48 and the drafter read the same) -----------------------------------


def test_docstring_decorators_add_the_text_help_shows(mini_ws: Workspace):
    call = _sym(mini_ws, "Tokenizer.__call__")
    assert runtime_docstring(mini_ws, call).endswith("Passed to `tokenize`.\n")
    assert set(documented_params(mini_ws, call)) == {"text", "padding", "kwargs"}
    started = runtime_docstring(mini_ws, _sym(mini_ws, "started"))
    assert started.startswith("Shared start. ") and started.endswith("Own text.")
    # a decorator that assigns __doc__ from something else is not a docstring decorator
    assert runtime_docstring(mini_ws, _sym(mini_ws, "Tokenizer.encode")) is None


def test_a_string_building_function_is_run_on_literal_arguments_only(mini_ws: Workspace):
    docs = documented_params(mini_ws, _sym(mini_ws, "Pipeline"))
    assert set(docs) == {"model", "tokenizer"}  # binary=True: binary_output is not part of the text
    assert string_constant(mini_ws, "iopkg.core", "WEIGHTS") == "weights.bin"
    assert string_constant(mini_ws, "iopkg.core", "ENCODE_ARGS").strip().startswith("padding (")


def test_call_is_documented_by_its_class_and_docstrings_send_readers_elsewhere(mini_ws: Workspace):
    call = documented_params(mini_ws, _sym(mini_ws, "Pipeline.__call__"))
    assert call["model"] == "The model to run."  # from the class docstring the decorator completed
    assert "batch_size" not in call and "inputs" not in call  # nothing says what they are
    save = documented_params(mini_ws, _sym(mini_ws, "Trainer.save"))
    assert save == {}  # Trainer.train documents nothing either: the reference adds only what exists
    described = documented_params(mini_ws, _sym(mini_ws, "Trainer.described"))
    assert described == {"resume": "Checks the `resume` path before anything runs."}


def test_a_docstring_installed_on_the_method_by_a_class_level_function(mini_ws: Workspace):
    # AutoThing = install_loader(AutoThing, ...) sets loader.__doc__ from INSTALLED_DOC and installs it as load
    assert documented_params(mini_ws, _sym(mini_ws, "AutoThing.load")) == {"name_or_path": "Where to load from."}


@pytest.mark.peft
def test_peft_argument_reference_and_prose(peft_ws: Workspace):
    sym = _sym(peft_ws, "PeftConfigMixin.from_pretrained")
    assert set(documented_params(peft_ws, sym)) == {"pretrained_model_name_or_path", "kwargs"}
    assert use_note(peft_ws, sym, "subfolder") == "Passed to `os.path.join` and `hf_hub_download`."


# --- what the body does with a parameter ---------------------------------------------------------------


def test_values_put_in_place_of_none(mini_ws: Workspace):
    args = _sym(mini_ws, "Arguments")
    assert fallback_note(mini_ws, args, "output_dir", "None") == 'When `None`, `"out"` is used.'
    assert fallback_note(mini_ws, args, "seed", "42") == ""
    save = _sym(mini_ws, "Trainer.save")
    assert fallback_note(mini_ws, save, "output_dir", "None") == "When `None`, `self.args.output_dir` is used."
    trainer = _sym(mini_ws, "Trainer")
    assert fallback_note(mini_ws, trainer, "args", "None") == "When `None`, `Arguments()` is used."


@pytest.mark.peft
def test_peft_values_put_in_place_of_none(peft_ws: Workspace):
    kbit = _sym(peft_ws, "prepare_model_for_kbit_training")
    assert fallback_note(peft_ws, kbit, "gradient_checkpointing_kwargs", "None") == "When `None`, `{}` is used."
    load = _sym(peft_ws, "PeftModel.load_adapter")
    assert fallback_note(peft_ws, load, "torch_device", "None") == "When `None`, `infer_device()` is used."


def test_what_the_body_does_with_an_undocumented_parameter(mini_ws: Workspace):
    save = _sym(mini_ws, "Trainer.save")
    assert use_note(mini_ws, save, "unused") == "Not read by the body of `Trainer.save`."
    assert use_note(mini_ws, save, "output_dir") == "Passed to `os.makedirs` and `self._write`."
    call = _sym(mini_ws, "Tokenizer.__call__")
    assert use_note(mini_ws, call, "stride") == "Passed to `self.encode`."
    assert use_note(mini_ws, _sym(mini_ws, "Pipeline"), "tokenizer") == "Stored as `self.tokenizer`."


# --- what the call returns -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "doc, want",
    [
        ("Do.\n\nReturns:\n    int: the number of layers.\n", ("int", "the number of layers.")),
        ("Do.\n\nReturns\n-------\nout : ndarray\n    The sum.\n", ("ndarray", "The sum.")),
        ("Do.\n\n:returns: nothing.\n:rtype: None\n", ("None", "nothing.")),
        ("Do.\n\nReturns:\n    [`Pipeline`]: A suitable pipeline.\n", ("Pipeline", "A suitable pipeline.")),
        (
            "Do.\n\nReturn:\n    [`~utils.ModelOutput`] or `torch.LongTensor`: An output.\n",
            ("ModelOutput | torch.LongTensor", "An output."),
        ),
        ("Do.\n\nReturns:\n    A dictionary: with keys.\n", (None, "A dictionary: with keys.")),
        ("Do.", (None, "")),
    ],
)
def test_the_returns_section_names_a_type_only_in_type_syntax(doc: str, want: tuple[str | None, str]):
    assert tuple(returns_entry(doc)) == want


def test_the_type_every_return_constructs(mini_ws: Workspace):
    train = _sym(mini_ws, "Trainer.train")
    # train hands over to a batch-size wrapper of self._loop, which builds a TrainOutput
    assert expected_output_type(mini_ws, train) == "TrainOutput"
    assert output_rows(mini_ws, train)[0] == OutputRow(
        "result", "TrainOutput", "A `TrainOutput` of `global_step`, `training_loss` and `metrics`."
    )
    call = _sym(mini_ws, "Tokenizer.__call__")
    assert expected_output_type(mini_ws, call) == "Encoding"  # self.encode(...) → Encoding(...)
    assert output_rows(mini_ws, call)[0].description == "A `Encoding` of `ids` and `stride`."
    described = _sym(mini_ws, "Trainer.described")
    assert expected_output_type(mini_ws, described) == "TrainOutput | dict"  # the docstring before the body
    assert expected_output_type(mini_ws, _sym(mini_ws, "Pipeline.__call__")) is None  # an unannotated argument
    assert output_rows(mini_ws, _sym(mini_ws, "prepare"))[0] == OutputRow(
        "result", '"Encoding"', "The `model` it was given, the same object."
    )
    assert expected_output_type(mini_ws, _sym(mini_ws, "Trainer.save")) == "None"


@pytest.mark.peft
def test_peft_results(peft_ws: Workspace):
    def first(qualname: str) -> OutputRow:
        return output_rows(peft_ws, _sym(peft_ws, qualname))[0]

    assert first("BaseTuner.merge_and_unload") == OutputRow(
        "result", "torch.nn.Module", "The object's `model` attribute (`self.model`)."
    )
    assert first("prepare_model_for_kbit_training") == OutputRow(
        "result", "—", "The `model` it was given, the same object."
    )
    assert first("PeftMixedModel.from_pretrained") == OutputRow(
        "result", "PeftMixedModel", "A new instance of the class it is called on."
    )
    assert first("PeftMixedModel.get_nb_trainable_parameters") == OutputRow(
        "result", "tuple", "A tuple of `trainable_params` and `all_param`."
    )
    assert first("PeftConfigMixin.from_pretrained") == OutputRow("result", "—", "Comes from `cls.from_peft_type`.")
    assert first("LoraConfig") == OutputRow(
        "lora_config", "LoraConfig", "A `LoraConfig` holding each argument as the attribute of the same name."
    )
    assert first("get_peft_model").description == (
        "A `PeftMixedModel`; or a `PeftModel`; or an instance of the class that "
        "`MODEL_TYPE_TO_PEFT_MODEL_MAPPING` maps `peft_config.task_type` to."
    )


# --- what the call leaves behind ---------------------------------------------------------------------


def test_files_attributes_and_printed_text(mini_ws: Workspace):
    rows = output_rows(mini_ws, _sym(mini_ws, "Trainer.save"))
    assert rows == [
        OutputRow(
            "result",
            "None",
            "Nothing (`None`); the call writes under `output_dir`, changes `saved_to` and prints to standard output.",
        ),
        OutputRow("output_dir", "folder", "Created when missing, by `os.makedirs`."),
        OutputRow("weights.bin", "file", "Written under `output_dir` by `torch.save` in `_write`."),
        OutputRow("config.json", "file", "Written under `output_dir` by `open` in `_write`."),
        OutputRow("attributes", "state", "Sets `saved_to` (to the `output_dir` argument) on the `Trainer`."),
        OutputRow("stdout", "text", "Printed with `print`."),
    ]
    assert [e.name for e in effects(mini_ws, _sym(mini_ws, "Trainer"))] == []  # a constructor sets itself up


@pytest.mark.peft
def test_peft_save_pretrained_writes_under_save_directory(peft_ws: Workspace):
    rows = output_rows(peft_ws, _sym(peft_ws, "PeftModel.save_pretrained"))
    assert rows[0].type == "None"
    files = {r.name: r.description for r in rows if r.type == "file"}
    assert files == {
        "adapter_model.safetensors": "Written under `save_directory` by `safetensors.torch.save_file`, "
        "under some conditions.",
        "adapter_model.bin": "Written under `save_directory` by `torch.save`, under some conditions.",
        "README.md": "Written under `save_directory` by `card.save` in `create_or_update_model_card`, "
        "under some conditions.",
    }
    assert (
        OutputRow("save_directory", "folder", "Created when missing, by `os.makedirs`, under some conditions.") in rows
    )
    state = output_rows(peft_ws, _sym(peft_ws, "PeftModel.set_adapter"))
    assert state[1] == OutputRow(
        "attributes", "state", "Sets `active_adapter` (to the `adapter_name` argument) on the `PeftModel`."
    )


# --- the drafter writes these; R27 rejects a description that says nothing ----------------------------


@pytest.mark.peft
def test_drafted_rows_say_something_true(peft_ws: Workspace):
    step = {
        "workflow": "huggingface_peft_X",
        "number": 1,
        "title": "Save",
        "api_call": None,
        "inputs": None,
        "outputs": None,
    }
    save = _sym(peft_ws, "PeftModel.save_pretrained")
    data = implementation_data(peft_ws, save, "huggingface_peft_PeftModel_save_pretrained", "P", step, [], "", None, {})
    assert not restates_return(data["outputs"][0]["description"], save.qualname)
    assert all("undocumented" not in r["description"] for r in data["inputs"])
    config = _sym(peft_ws, "PeftConfigMixin.from_pretrained")
    data = implementation_data(
        peft_ws, config, "huggingface_peft_PeftConfig_from_pretrained", "P", step, [], "", None, {}
    )
    rows = {r["name"]: r["description"] for r in data["inputs"]}
    assert rows["subfolder"] == "Passed to `os.path.join` and `hf_hub_download`."


@pytest.mark.parametrize(
    "description, api, restating",
    [
        ("What `Trainer.train` returns.", "Trainer.train", True),
        ("What Trainer.train returns.", "Trainer.train", True),
        ("The call's result.", "Trainer.train", True),
        ("A new `LoraConfig` instance.", "LoraConfig", True),
        ("", "f", True),
        ("Nothing (`None`).", "f", False),
        ("A PreTrainedModel", "AutoModelForCausalLM.from_pretrained", False),
        ("A `TrainOutput` of `global_step`.", "Trainer.train", False),
    ],
)
def test_a_description_that_only_restates_the_return(description: str, api: str, restating: bool):
    assert restates_return(description, api) is restating


# --- flattening docstring text ------------------------------------------------------------------------


def test_placeholders_in_angle_brackets_survive_flattening():
    text = "Steps before calling `torch.<device>.empty_cache()`, saved as model.<variant>.safetensors."
    assert plain(param_description(text)) == text
    assert without_tags("<Tip warning={true}>Use `a<b>` <b>now</b>.</Tip>") == "Use `a<b>` now."
    assert doc_text("Pass `*args*` and *this*.") == "Pass `*args*` and this."
