"""Self-contained usage examples: slices of real usages, minimal calls, WorkflowIndex call texts.

Every produced example must pass the verifier's own checks (tools.examples.check): it compiles at
module level and loads no name it does not bind (R45), its calls of the documented API bind (R46),
it imports nothing it does not use (R47)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tools.examples.check import (
    call_problems,
    call_target,
    compile_problem,
    unbound_names,
    unused_imports,
)
from tools.examples.slicing import (
    Callee,
    call_text_example,
    callee_for,
    minimal_example,
    order_imports,
    result_name,
    returns_value,
    slice_usage,
)
from tools.index.records import Param

INDEXES = sorted((Path(__file__).parents[1] / "agents" / "workflow_indexes").glob("huggingface_peft*.md"))


def clean(code: str | None) -> str:
    """The example, after asserting it passes R45 and R47."""
    assert code is not None
    assert compile_problem(code) is None, code
    assert unbound_names(code) == [], code
    assert unused_imports(code) == [], code
    return code


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def P(
    name: str, annotation: str | None = None, default: str | None = None, kind: str = "positional_or_keyword"
) -> Param:
    return Param(name, kind, annotation, default)


UNITTEST = textwrap.dedent("""
    import os
    import tempfile
    import unittest

    from transformers import AutoModelForCausalLM
    from peft import LoraConfig, get_peft_model
    from .testing_utils import require_gpu, make_tiny_model

    MODEL_ID = "hf-internal-testing/tiny-random-OPTForCausalLM"


    class MergeTests(unittest.TestCase):
        model_id = MODEL_ID

        def setUp(self):
            self.base = AutoModelForCausalLM.from_pretrained(self.model_id)
            self.config = LoraConfig(r=8, target_modules=["q_proj"])

        def _helper(self):
            return make_tiny_model()

        @require_gpu
        def test_merge(self):
            model = get_peft_model(self.base, self.config)
            with tempfile.TemporaryDirectory() as tmp_dirname:
                model.save_pretrained(tmp_dirname)
                self.assertTrue(os.path.exists(tmp_dirname))
            self.assertIsNotNone(model.merge_and_unload())
            return model.merge_and_unload()

        def test_with_helper(self):
            model = self._helper()
            merged = model.merge_and_unload()

        def test_helper_in_call(self):
            merged = get_peft_model(self._helper(), self.config)

        def test_error(self):
            with self.assertRaises(ValueError):
                get_peft_model(self.base, None)
""")


def test_a_test_method_becomes_plain_code_bound_by_setup_and_class_attributes():
    code = clean(slice_usage(UNITTEST, line_of(UNITTEST, "model = get_peft_model(self.base"), "get_peft_model"))
    assert "self" not in code and "assert" not in code and "@" not in code
    assert code.splitlines()[:2] == [
        "from transformers import AutoModelForCausalLM",
        "from peft import LoraConfig, get_peft_model",
    ]
    # self.x -> x, bound where setUp and the class body assign it; the module constant it reads comes too
    assert 'MODEL_ID = "hf-internal-testing/tiny-random-OPTForCausalLM"' in code
    assert "base = AutoModelForCausalLM.from_pretrained(model_id)" in code
    assert code.rstrip().endswith("model = get_peft_model(base, config)")
    assert "import os" not in code and "tempfile" not in code  # only the imports the slice uses


def test_enclosing_with_blocks_are_kept_and_their_names_bound():
    code = clean(slice_usage(UNITTEST, line_of(UNITTEST, "model.save_pretrained(tmp_dirname)"), "save_pretrained"))
    assert code.splitlines()[0] == "import tempfile"
    assert "with tempfile.TemporaryDirectory() as tmp_dirname:\n    model.save_pretrained(tmp_dirname)" in code


def test_return_and_assertions_keep_the_call_and_assign_its_value():
    callee = Callee("merge_and_unload", kind="method", owner="BaseTuner", result="module")
    code = clean(slice_usage(UNITTEST, line_of(UNITTEST, "return model.merge_and_unload()"), callee))
    assert code.rstrip().endswith("module = model.merge_and_unload()") and "return" not in code
    code = clean(slice_usage(UNITTEST, line_of(UNITTEST, "assertIsNotNone(model.merge"), "merge_and_unload"))
    assert code.rstrip().endswith("result = model.merge_and_unload()") and "assert" not in code


def test_a_value_from_a_helper_method_becomes_a_placeholder_and_a_call_through_one_gives_up():
    code = clean(slice_usage(UNITTEST, line_of(UNITTEST, "merged = model.merge_and_unload()"), "merge_and_unload"))
    assert code == "model = ...  # as returned by _helper()\nmerged = model.merge_and_unload()"
    assert slice_usage(UNITTEST, line_of(UNITTEST, "merged = get_peft_model(self._helper()"), "get_peft_model") is None


def test_an_expected_error_is_no_usage():
    assert slice_usage(UNITTEST, line_of(UNITTEST, "get_peft_model(self.base, None)"), "get_peft_model") is None


PYTEST = textwrap.dedent("""
    import pytest
    import torch
    from peft import LoraConfig, get_peft_model
    from peft.utils import infer_device

    DEVICE = infer_device()


    def make_base():
        return torch.nn.Sequential(torch.nn.Linear(4, 4))


    @pytest.mark.parametrize("r, alpha", [(8, 16), (4, 8)])
    def test_save(tmp_path, r, alpha, model: torch.nn.Module, config_cls):
        config = LoraConfig(r=r, lora_alpha=alpha)
        config.target_modules = ["0"]
        peft_model = get_peft_model(make_base(), config)
        peft_model.save_pretrained(tmp_path)
        assert get_peft_model(model, config_cls()) is not None
""")


def test_pytest_fixtures_and_parameters_become_values_or_honest_placeholders():
    code = clean(slice_usage(PYTEST, line_of(PYTEST, "peft_model.save_pretrained(tmp_path)"), "save_pretrained"))
    lines = code.splitlines()
    assert "tmp_path = pathlib.Path(tempfile.mkdtemp())" in lines  # pytest's tmp_path, as plain code
    assert "r = 8" in lines and "alpha = 16" in lines  # the first parametrized case
    assert 'config.target_modules = ["0"]' in lines  # a change to an object the call uses
    assert "def make_base():" in lines  # a short helper is copied
    assert "pytest" not in code and "DEVICE" not in code

    callee = Callee(
        "get_peft_model",
        kind="function",
        result="peft_model",
        params=(P("model", "PreTrainedModel"), P("peft_config", "PeftConfig")),
    )
    code = clean(slice_usage(PYTEST, line_of(PYTEST, "assert get_peft_model(model"), callee))
    assert "model = ...  # a torch.nn.Module" in code  # the parameter's own annotation first
    assert "config_cls = ...  # the config_cls fixture" in code
    assert code.rstrip().endswith("peft_model = get_peft_model(model, config_cls())")


SCRIPT = textwrap.dedent('''
    """Fine-tune a model with LoRA (examples/train.py)."""
    import argparse

    import torch
    from transformers import AutoModelForCausalLM
    from peft import LoraConfig, get_peft_model


    def parse_args():
        parser = argparse.ArgumentParser()
        parser.add_argument("--model", default="facebook/opt-125m")
        parser.add_argument("--rank", type=int, default=8)
        parser.add_argument("--lr", type=float, default=1e-4)
        parser.add_argument("--epochs", type=int, default=1)
        return parser.parse_args()


    def main():
        args = parse_args()
        base = AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.bfloat16)
        config = LoraConfig(r=args.rank, target_modules=["q_proj", "v_proj"])
        model = get_peft_model(base, config)
        model.print_trainable_parameters()


    if __name__ == "__main__":
        main()
''')


def test_a_script_in_examples_keeps_its_steps_and_stands_in_for_its_command_line():
    code = clean(
        slice_usage(SCRIPT, line_of(SCRIPT, "model.print_trainable_parameters()"), "print_trainable_parameters")
    )
    assert code == textwrap.dedent("""\
        import torch
        from transformers import AutoModelForCausalLM
        from peft import LoraConfig, get_peft_model

        args = ...  # as returned by parse_args()
        base = AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.bfloat16)
        config = LoraConfig(r=args.rank, target_modules=["q_proj", "v_proj"])
        model = get_peft_model(base, config)
        model.print_trainable_parameters()""")


NOTEBOOK = textwrap.dedent("""
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from peft import PeftModel
    import torch

    base_model = "facebook/opt-125m"
    tokenizer = AutoTokenizer.from_pretrained(base_model)
    model = AutoModelForCausalLM.from_pretrained(base_model, dtype=torch.float16)
    print(model)
    model = PeftModel.from_pretrained(model, "ybelkada/opt-350m-lora")
    with torch.no_grad():
        out = model.generate(**tokenizer("Hello", return_tensors="pt"), max_new_tokens=5)
    print(tokenizer.decode(out[0]))
""")


def test_a_notebook_like_module_is_sliced_at_module_level():
    code = clean(
        slice_usage(NOTEBOOK, line_of(NOTEBOOK, "model = PeftModel.from_pretrained"), "PeftModel.from_pretrained")
    )
    assert "tokenizer" not in code.lower() and "print" not in code  # what the call does not need stays out
    assert code.splitlines()[:3] == [
        "import torch",
        "from transformers import AutoModelForCausalLM",
        "from peft import PeftModel",
    ]
    code = clean(slice_usage(NOTEBOOK, line_of(NOTEBOOK, "out = model.generate"), "generate"))
    assert "with torch.no_grad():\n    out = model.generate(" in code and "AutoTokenizer" in code


def test_too_long_a_slice_is_cut_back_to_placeholders_or_given_up():
    body = "\n".join(f"x{i} = x{i - 1} + 1" for i in range(1, 30))
    text = f"x0 = 1\n{body}\nresult = run(x29)\n"
    code = clean(
        slice_usage(text, line_of(text, "result = run(x29)"), Callee("run", import_code="from pkg import run"))
    )
    lines = code.splitlines()
    assert len(lines) <= 15 and lines[0] == "from pkg import run" and lines[-1] == "result = run(x29)"
    assert [l for l in lines if " = ...  # " in l] == ["x26 = ...  # supplied by the reader"]  # cut 3 steps back
    assert slice_usage("def broken(:\n", 1, "run") is None
    assert slice_usage(text, 1, "run") is None  # no call of the API on that line


def test_changes_to_an_object_the_call_uses_come_along_or_it_becomes_the_readers():
    text = textwrap.dedent("""
        from pkg import Job, run, helper_from_nowhere
        from .private import secret

        jobs = []
        jobs.append(Job("a"))
        unrelated = []
        unrelated.append(1)
        run(jobs)
        opts = {}
        helper_from_nowhere(opts)
        opts["x"] = 1
        run(opts)
        opts["y"] = secret()
        opts["z"] = 2
        run(opts)
    """)
    code = clean(slice_usage(text, line_of(text, "run(jobs)"), "run"))
    assert code == 'from pkg import Job, run\n\njobs = []\njobs.append(Job("a"))\nrun(jobs)'
    code = clean(slice_usage(text, line_of(text, "run(opts)"), "run"))
    assert code == 'from pkg import run\n\nopts = {}\nopts["x"] = 1\nrun(opts)'
    # a change that cannot be shown (it needs a relative import): the object is the reader's from there on
    code = clean(slice_usage(text, len(text.splitlines()), "run"))
    assert code == 'from pkg import run\n\nopts = ...  # the opts passed to run\nopts["z"] = 2\nrun(opts)'


def test_the_canonical_import_replaces_the_files_own_and_imports_merge():
    text = "from peft.tuners.lora import LoraConfig\nfrom peft import get_peft_model\n\ncfg = LoraConfig(r=4)\n"
    code = clean(slice_usage(text, 4, Callee("LoraConfig", import_code="from peft import LoraConfig")))
    assert code == "from peft import LoraConfig\n\ncfg = LoraConfig(r=4)"
    assert order_imports(["from a import x", "import os", "from a import y", "import os"]) == [
        "import os",
        "from a import x, y",
    ]


def test_a_call_that_does_not_bind_is_no_usage(peft_ws):
    sym = peft_ws.index.definition("peft.mapping_func", "get_peft_model")
    callee = callee_for(peft_ws, sym, "from peft import get_peft_model")
    text = "from peft import get_peft_model\n\nmodel = ...\nout = get_peft_model(model, no_such_argument=1)\n"
    assert slice_usage(text, 4, Callee("get_peft_model")) is not None  # the scan cannot judge it
    assert slice_usage(text, 4, callee) is None


# ---- minimal examples and call texts --------------------------------------------------------------


def test_minimal_examples_bind_by_construction(peft_ws):
    d = peft_ws.index.definition
    cases = {
        ("peft.mapping_func", "get_peft_model"): "peft_model = get_peft_model(model=model, peft_config=peft_config)",
        ("peft.peft_model", "PeftModel.save_pretrained"): "peft_model.save_pretrained(save_directory=save_directory)",
        ("peft.peft_model", "PeftModel.from_pretrained"): "PeftModel.from_pretrained(model=model, model_id=model_id)",
        ("peft.peft_model", "PeftModel.disable_adapter"): "with peft_model.disable_adapter():\n    ...",
        ("peft.tuners.lora.config", "LoraConfig"): "lora_config = LoraConfig()",
    }
    for (module, qualname), call in cases.items():
        sym = d(module, qualname)
        code = clean(minimal_example(callee_for(peft_ws, sym, peft_ws.names.canonical_import(sym))))
        assert code.endswith(call), code
        assert call_problems(code, call_target(peft_ws, sym)) == [], code
    code = minimal_example(callee_for(peft_ws, d("peft.peft_model", "PeftModel.save_pretrained")), receiver="trained")
    assert code.startswith("trained = ...  # a PeftModel\nsave_directory = ...  # str\n")
    assert "import" not in code  # the owner's import would be unused: the receiver is the reader's


def test_minimal_example_of_plain_signatures():
    f = Callee(
        "scale",
        kind="function",
        import_code="from pkg import scale",
        result="result",
        params=(
            P("x", kind="positional_only"),
            P("factor", "float"),
            P("bias", default="0.0"),
            P("args", kind="var_positional"),
            P("mode", kind="keyword_only"),
            P("kw", kind="var_keyword"),
        ),
        docs=(("mode", "How to round. Either 'up' or 'down'."),),
    )
    assert clean(minimal_example(f)) == (
        "from pkg import scale\n\nx = ...  # the x argument\nfactor = ...  # float\n"
        "mode = ...  # How to round\nresult = scale(x, factor=factor, mode=mode)"
    )
    # a name the import does not bind is reached through the imported module; the value does not shadow it
    g = Callee("pipeline", kind="function", import_code="import pkg.pipelines", result="pipeline", params=())
    assert clean(minimal_example(g)) == "import pkg.pipelines\n\npipeline = pkg.pipelines.pipeline()"
    g = g._replace(import_code="from pkg import pipeline")
    assert clean(minimal_example(g)) == "from pkg import pipeline\n\nresult = pipeline()"


def test_the_call_text_gets_its_imports_and_placeholders(peft_ws):
    d = peft_ws.index.definition
    sym = d("peft.mapping_func", "get_peft_model")
    callee = callee_for(peft_ws, sym, "from peft import get_peft_model")
    code = clean(call_text_example('`get_peft_model(model, peft_config, adapter_name="default")`', callee))
    assert code == (
        "from peft import get_peft_model\n\nmodel = ...  # a PreTrainedModel\n"
        "peft_config = ...  # a PeftConfig\n"
        'peft_model = get_peft_model(model, peft_config, adapter_name="default")'
    )
    save = callee_for(peft_ws, d("peft.peft_model", "PeftModel.save_pretrained"), "from peft import PeftModel")
    code = clean(call_text_example("peft_model.save_pretrained(save_directory)", save))
    assert (
        code
        == "peft_model = ...  # a PeftModel\nsave_directory = ...  # str\npeft_model.save_pretrained(save_directory)"
    )
    ext = Callee("from_pretrained", import_code="import transformers")
    code = clean(
        call_text_example(
            "AutoModelForCausalLM.from_pretrained(model_id, dtype=torch.bfloat16)",
            ext,
            {"torch": "import torch", "AutoModelForCausalLM": "from transformers import AutoModelForCausalLM"},
        )
    )
    assert code.splitlines()[:2] == ["import torch", "from transformers import AutoModelForCausalLM"]
    assert "import transformers" not in code
    assert call_text_example("get_peft_model(model, wrong_keyword=1)", callee) is None  # would not bind
    assert call_text_example("N/A (decision point)", callee) is None


def test_result_names_follow_the_class_or_the_return_annotation(peft_ws):
    d = peft_ws.index.definition
    assert result_name(d("peft.tuners.lora.config", "LoraConfig"), True) == "lora_config"
    assert result_name(d("peft.mapping_func", "get_peft_model"), True) == "peft_model"  # PeftModel | PeftMixedModel
    assert result_name(d("peft.tuners.tuners_utils", "BaseTuner.merge_and_unload"), True) == "module"
    assert result_name(d("peft.peft_model", "PeftModel.save_pretrained"), False) is None  # -> None
    assert returns_value(peft_ws, d("peft.peft_model", "PeftModel.load_adapter"))


# ---- the drafter on real peft ---------------------------------------------------------------------


def _drafted_examples(ws, index: Path):
    from agents.draft.drafter import implementation_data
    from agents.draft.evidence import find_usages
    from tools.index.workspace import symbol_at
    from agents.nodes.plan import plan_pairs
    from tools.locate import Locator
    from tools.wiki.workflow_index import load_workflow_index

    wi = load_workflow_index(index)
    jobs, _ = plan_pairs(wi)
    usages = find_usages(ws, {j["usage_key"] for j in jobs if j["usage_key"]})
    locator = Locator(ws)
    for job in jobs:
        first = job["steps"][0]
        flow = next(w for w in wi.workflows if w.name == first["workflow"])
        step = flow.steps[first["number"] - 1]
        loc = locator.locate(step, flow.steps[: step.number - 1])
        if loc.kind == "internal":
            sym = symbol_at(ws, loc.file, loc.qualname, loc.start_line)
            data = implementation_data(
                ws,
                sym,
                job["implementation"],
                job["principle"],
                first,
                [],
                "2025-01-01",
                usages.get(job["usage_key"]),
                {},
            )
        else:
            sym = None
            ext = {
                "package": loc.package or "",
                "qualname": loc.qualname,
                "repo_url": ws.source.url,
                "repo_label": "huggingface/peft",
            }
            data = implementation_data(
                ws, None, job["implementation"], job["principle"], first, [], "2025-01-01", None, {}, external=ext
            )
        yield job["implementation"], sym, data["examples"]


@pytest.mark.peft
@pytest.mark.parametrize("index", INDEXES, ids=[p.stem for p in INDEXES])
def test_every_drafted_peft_example_is_self_contained_and_binds(peft_ws, index):
    seen = usages = 0
    for impl, sym, examples in _drafted_examples(peft_ws, index):
        assert examples, impl
        for ex in examples:
            code = ex["code"]
            seen += 1
            usages += ex["title"].startswith("From ")
            assert compile_problem(code) is None, (impl, code)
            assert unbound_names(code) == [], (impl, code)
            assert unused_imports(code) == [], (impl, code)
            if sym is not None:
                assert call_problems(code, call_target(peft_ws, sym)) == [], (impl, code)
                assert sym.name in code or (sym.parent or "").split(".")[-1] in code, (impl, code)
    assert seen >= 17 and usages >= 10


def test_find_usages_carries_the_sliced_snippet_and_caches_it(ws, cache_dir):
    from agents.draft.evidence import _memo, find_usages

    found = find_usages(ws, {"engine.shutdown", "run_engine"}, cache_dir)
    assert found["engine.shutdown"] == {
        "file": "examples/demo.py",
        "line": 5,
        "code": ("from minipkg import Engine\n\nengine = Engine(verbose=True)\nengine.shutdown(force=True)"),
    }
    assert found["run_engine"]["code"] == (
        'from minipkg import Engine, run_engine\n\nengine = Engine(verbose=True)\nprint(run_engine(engine, ["a", "b"]))'
    )
    _memo.clear()
    assert find_usages(ws, {"engine.shutdown", "run_engine"}, cache_dir) == found  # read back from the cache
    assert len(list((cache_dir / "usages").glob("*.json"))) == 1
