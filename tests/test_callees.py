"""Where a step's work happens (tools.index.callees) and what it computes there (tools.index.outline): the
delegation chain through the index and the formulas and work loop found along it, on the real peft source
and on a small library written for the tests (tests/fixtures/trainlib)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tools.index.callees import callee_chain, main_method
from tools.index.callees import _mapping_class as mapping_class
from tools.index.outline import core
from tools.index.workspace import Workspace, open_workspace

TRAINLIB = Path(__file__).parent / "fixtures" / "trainlib"


@pytest.fixture(scope="module")
def trainlib(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    root = tmp_path_factory.mktemp("trainlib") / "trainlib"
    shutil.copytree(TRAINLIB, root)
    return open_workspace("acme_trainlib", str(root), tmp_path_factory.mktemp("cache"))


def chain_of(ws: Workspace, module: str, qualname: str, *context: str) -> list[tuple[str, str, int | None]]:
    sym = ws.index.definition(module, qualname)
    assert sym is not None
    return [(link.symbol.qualname, link.via, link.line) for link in callee_chain(ws, sym, None, context)]


# --- real peft ---------------------------------------------------------------------------------------


def test_merge_and_unload_is_followed_to_the_layer_that_computes_the_delta_weight(peft_ws):
    """BaseTuner.merge_and_unload → _unload_and_optionally_merge (its only statement) → each module's merge
    (an object of unknown class: the definitions named merge, the one the README teaches, LoRA's) →
    get_delta_weight (its result is added to the weight)."""
    chain = callee_chain(
        peft_ws, peft_ws.index.definition("peft.tuners.tuners_utils", "BaseTuner.merge_and_unload"), None, ("Weight",)
    )
    assert [(link.symbol.qualname, link.via, link.line) for link in chain] == [
        ("BaseTuner.merge_and_unload", "entry", None),
        ("BaseTuner._unload_and_optionally_merge", "self", 645),
        ("Linear.merge", "name", 606),
        ("Linear.get_delta_weight", "self", 682),
    ]
    assert chain[2].symbol.file == "src/peft/tuners/lora/layer.py"


def test_the_core_of_merging_is_the_update_the_delta_and_the_scale_with_their_lines(peft_ws):
    chain = callee_chain(
        peft_ws, peft_ws.index.definition("peft.tuners.tuners_utils", "BaseTuner.merge_and_unload"), None, ("Weight",)
    )
    c = core(peft_ws, chain)
    assert [(f.tex, f.symbol.qualname, f.line) for f in c.formulas] == [
        (r"W \leftarrow W + \Delta W", "Linear.merge", 709),
        (r"\Delta W = \operatorname{transpose}(B A, \ldots) \cdot s", "Linear.get_delta_weight", 768),
        (r"s = \frac{\alpha}{r}", "LoraLayer.update_layer", 203),  # the default branch (not rsLoRA's √r)
    ]
    assert c.formulas[1].legend == (("B", "self.lora_B.weight"), ("A", "self.lora_A.weight"), ("s", "self.scaling"))
    assert c.formulas[0].legend == ((r"\Delta W", "delta_weight"), ("W", "base_layer.weight"))
    assert c.loop is None and c.doc_formulas == ()


def test_a_table_of_classes_called_by_key_reaches_their_shared_base(peft_ws):
    """`MODEL_TYPE_TO_PEFT_MODEL_MAPPING[task](...)`: the table is annotated dict[str, type[PeftModel]]."""
    cls = mapping_class(peft_ws, "peft.mapping_func", "MODEL_TYPE_TO_PEFT_MODEL_MAPPING")
    assert cls is not None and (cls.module, cls.qualname) == ("peft.peft_model", "PeftModel")


def test_a_dataclass_config_is_entered_by_its_post_init_and_its_body_is_the_end(peft_ws):
    sym = peft_ws.index.definition("peft.tuners.lora.config", "LoraConfig")
    assert main_method(peft_ws, sym)[0].qualname == "LoraConfig.__post_init__"  # type: ignore[index]
    assert [link.symbol.qualname for link in callee_chain(peft_ws, sym)] == ["LoraConfig.__post_init__"]


# --- a small library written for the tests -----------------------------------------------------------


def test_a_method_passed_as_a_value_and_then_run_is_followed_and_checks_are_not(trainlib):
    """Trainer.train runs `retry_wrapper(self._inner_loop)`: the reference is the work; the tracker's start
    (a call of an attribute whose class is known, not returned, not in a loop) is not."""
    assert chain_of(trainlib, "trainlib.loop", "Trainer.train", "Model", "Training") == [
        ("Trainer.train", "entry", None),
        ("Trainer._inner_loop", "reference", 44),
        ("Trainer.training_step", "self", 52),
    ]


def test_the_work_loop_keeps_the_algorithm_and_leaves_out_bookkeeping(trainlib):
    """Callbacks, logging and a platform branch (`if is_xla_available():`) are not the algorithm."""
    sym = trainlib.index.definition("trainlib.loop", "Trainer.train")
    c = core(trainlib, callee_chain(trainlib, sym, None, ("Training",)))
    assert c.loop is not None
    assert (c.loop.levels, c.loop.ops, c.loop.inner) == (
        ("epoch", "batch"),
        ("training_step", "optimizer.step", "optimizer.zero_grad"),
        ("compute_loss", "loss.backward"),
    )
    assert (c.loop.symbol.qualname, c.loop.line, c.loop.end_line) == ("Trainer._inner_loop", 49, 58)
    assert c.formulas == ()  # `total = total + loss` only adds up what is reported


def test_an_abstract_method_is_replaced_by_the_override_the_readme_teaches(trainlib):
    """`self.layer.merge()` on a `Layer` (abstract merge): FastLayer, which the README names, not SlowLayer."""
    assert chain_of(trainlib, "trainlib.layers", "Model.merge_all", "Weight", "Merging") == [
        ("Model.merge_all", "entry", None),
        ("FastLayer.merge", "override", 45),
        ("FastLayer.get_delta_weight", "self", 27),
    ]
    sym = trainlib.index.definition("trainlib.layers", "Model.merge_all")
    c = core(trainlib, callee_chain(trainlib, sym, None, ("Merging",)))
    assert [(f.tex, f.legend, f.line) for f in c.formulas] == [
        (r"W \leftarrow W + \Delta W", ((r"\Delta W", "delta"), ("W", "self.weight")), 28),
        (r"\Delta W = B A \cdot s", (("B", "self.B.weight"), ("A", "self.A.weight"), ("s", "self.scale")), 35),
        (r"s = \frac{\alpha}{r}", (("s", "self.scale"), (r"\alpha", "alpha"), ("r", "rank")), 20),
    ]
