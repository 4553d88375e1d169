"""Examples that walk the workflow, values from the library's own usages, and the entry the user holds.

The walkthrough is checked on exact programs (a small scripted workflow) and on the real peft source
with the shipped WorkflowIndex: every walkthrough passes the verifier's own example checks, each step's
result feeds the next, and a method reached through ``__getattr__`` or the MRO is imported the way the
user imports the object they hold."""

from __future__ import annotations

import textwrap
from pathlib import Path

from agents.draft.walk import StepFacts, entry_of, walk_for, workflow_steps
from tools.examples.check import compile_problem, unbound_names, unused_imports
from tools.examples.slicing import callee_for
from tools.examples.values import Snippet, code_blocks, doctest_code, literal_arguments, snippets
from tools.examples.walkthrough import WalkStep, head_word, tokens, walkthrough, wrapped
from tools.index.entry import entry_for, entry_from_import, forwarded_attribute, public_class
from tools.index.workspace import Workspace
from tools.locate import Locator
from tools.wiki.workflow_index import load_workflow_index

PEFT_INDEX = next((Path(__file__).parents[1] / "agents" / "workflow_indexes").glob("huggingface_peft*.md"))


def _step(call: str, **kw: object) -> WalkStep:
    return WalkStep(call=call, **kw)  # type: ignore[arg-type]


def test_tokens_and_head_words_read_names_as_a_person_does() -> None:
    assert tokens("PeftModel") == {"peft", "model"}
    assert tokens("peft_config") == {"peft", "config"}
    assert tokens("A PreTrainedModel") == {"pre", "trained", "model"}
    assert head_word("training_args") == "arguments"  # args is short for arguments
    assert head_word("model_id") == "id"


def test_each_result_feeds_the_next_call_under_the_name_that_call_uses() -> None:
    steps = [
        _step(
            'AutoModel.from_pretrained(model_id, dtype="auto")',
            imports={"AutoModel": "from transformers import AutoModel"},
            returns=True,
            types=("PreTrainedModel",),
            values={0: '"facebook/opt-125m"'},
        ),
        _step(
            "LoraConfig(r=16)",
            imports={"LoraConfig": "from peft import LoraConfig"},
            returns=True,
            types=("LoraConfig",),
        ),
        _step(
            "get_peft_model(model, peft_config)",
            imports={"get_peft_model": "from peft import get_peft_model"},
            returns=True,
            types=("PeftModel",),
        ),
        _step("peft_model.print_trainable_parameters()", returns=False),
    ]
    walk = walkthrough(steps)
    assert walk is not None
    assert walk.code == textwrap.dedent(
        """\
        from transformers import AutoModel
        from peft import LoraConfig, get_peft_model

        model_id = "facebook/opt-125m"
        model = AutoModel.from_pretrained(model_id, dtype="auto")
        peft_config = LoraConfig(r=16)
        peft_model = get_peft_model(model, peft_config)
        peft_model.print_trainable_parameters()"""
    )
    assert walk.placeholders == ()
    assert walk.variables == {"model": 0, "peft_config": 1, "peft_model": 2}


def test_a_later_name_for_an_earlier_object_is_rewritten_and_the_newest_object_of_a_kind_wins() -> None:
    steps = [
        _step(
            "AutoModel.from_pretrained(model_id)",
            imports={"AutoModel": "from t import AutoModel"},
            returns=True,
            types=("PreTrainedModel",),
            values={0: "'m'"},
        ),
        _step(
            "PeftModel.from_pretrained(base_model, adapter_id)",
            imports={"PeftModel": "from peft import PeftModel"},
            returns=True,
            types=("PeftModel",),
            values={1: "'a'"},
        ),
        # the index calls the PeftModel `model` here: the newest model is meant, not the base model
        _step("model.merge_and_unload(safe_merge=True)", returns=True, types=("Module",)),
    ]
    walk = walkthrough(steps)
    assert walk is not None
    lines = walk.code.splitlines()
    assert "base_model = AutoModel.from_pretrained(model_id)" in lines
    # the name the next call uses is the one given
    assert "model = PeftModel.from_pretrained(base_model, adapter_id)" in lines
    assert lines[-1] == "module = model.merge_and_unload(safe_merge=True)"


def test_an_earlier_methods_unused_result_is_not_kept_and_a_transformed_argument_keeps_its_name() -> None:
    steps = [
        _step(
            "load(model_id)", imports={"load": "from p import load"}, returns=True, types=("Model",), values={0: "'x'"}
        ),
        _step(
            "prepare(model, flag=True)",
            imports={"prepare": "from p import prepare"},
            returns=True,
            outputs="A model ready for training",
        ),
        _step("model.add_adapter(name)", returns=True, known=True, values={0: '"second"'}),
        _step("model.train()", returns=False),
    ]
    walk = walkthrough(steps)
    assert walk is not None
    assert "model = prepare(model, flag=True)" in walk.code
    assert "\nmodel.add_adapter(name)\n" in walk.code  # its value is not the model
    assert 'name = "second"' in walk.code


def test_placeholders_come_where_they_are_first_needed_with_what_they_are() -> None:
    steps = [
        _step("Args(output_dir='out')", imports={"Args": "from t import Args"}, returns=True, types=("Args",)),
        _step(
            "dataset.map(tokenize, batched=True)", returns=True, outputs="A tokenized dataset", inputs="a raw dataset"
        ),
        _step(
            "Trainer(model=model, args=args, train_dataset=train)",
            imports={"Trainer": "from t import Trainer"},
            returns=True,
            types=("Trainer",),
        ),
    ]
    walk = walkthrough(steps)
    assert walk is not None
    body = walk.code.split("\n\n", 1)[1].splitlines()
    assert body[0] == "args = Args(output_dir='out')"
    assert body[1] == "dataset = ...  # a raw dataset"
    assert "dataset = dataset.map(tokenize, batched=True)" in body  # another package's call, by its words
    assert "train = ...  # the train dataset" in body
    assert set(walk.placeholders) == {"dataset", "tokenize", "model", "train"}


def test_no_walkthrough_when_the_documented_call_is_not_python() -> None:
    assert walkthrough([_step("vllm serve MODEL", returns=True)]) is None


def test_a_long_call_gets_one_argument_per_line() -> None:
    text = "config = LoraConfig(" + ", ".join(f"arg{i}={i}" for i in range(14)) + ")"
    out = wrapped(text)
    assert out.splitlines()[0] == "config = LoraConfig("
    assert out.splitlines()[1] == "    arg0=0,"
    assert compile(out, "<x>", "exec")


def test_code_blocks_and_doctests_are_read_from_markdown_rst_and_docstrings() -> None:
    md = "Intro\n\n```python\nx = f('a')\n```\n\n```bash\nls\n```\n"
    assert list(code_blocks(md)) == [(4, "x = f('a')\n")]
    rst = "Text\n\n.. code-block:: python\n\n    y = g(1)\n    z = 2\n\nMore\n"
    assert [c for _, c in code_blocks(rst)] == ["\ny = g(1)\nz = 2\n\n"]
    assert (
        doctest_code("Example:\n    >>> m = load('x')\n    >>> m.run(\n    ...     2)\n")
        == "m = load('x')\nm.run(\n    2)"
    )


def test_literal_arguments_prefer_the_more_authoritative_source_and_follow_simple_assignments() -> None:
    found = [
        Snippet(0, "README.md", 10, 'mid = "org/model"\nm = Auto.from_pretrained(mid, revision="main")\n'),
        Snippet(4, "tests/test_x.py", 1, 'm = Auto.from_pretrained("tiny/test", revision=...)\nf(r=8)\n'),
    ]
    got = literal_arguments(found, "Auto.from_pretrained")
    assert got[0].text == '"org/model"' and got[0].file == "README.md" and got[0].line == 11
    assert got["revision"].text == '"main"'
    assert literal_arguments(found, "f")["r"].text == "8"
    assert literal_arguments(found, "Other.from_pretrained") == {}


def test_peft_readme_teaches_the_values_of_the_walkthrough(peft_ws: Workspace) -> None:
    found = snippets(peft_ws, [b"from_pretrained"])
    assert found[0].file == "README.md" and found[0].rank == 0
    assert any(s.file.startswith("tests/") for s in found)
    values = literal_arguments(found, "AutoModelForCausalLM.from_pretrained", [0])
    assert values[0].file == "README.md"


def test_the_entry_is_the_public_class_the_user_holds(peft_ws: Workspace) -> None:
    merge = next(s for s in peft_ws.index.by_name["merge_and_unload"] if s.qualname == "BaseTuner.merge_and_unload")
    peft_model = public_class(peft_ws, "PeftModel")
    assert peft_model is not None and forwarded_attribute(peft_ws, peft_model) == "base_model"
    e = entry_for(peft_ws, merge, ["PeftModel"])
    assert e is not None and (e.import_code, e.how, e.via) == ("from peft import PeftModel", "forward", "base_model")
    mixin = next(s for s in peft_ws.index.by_name["from_pretrained"] if s.qualname == "PeftConfigMixin.from_pretrained")
    e = entry_for(peft_ws, mixin, ["PeftConfig"])
    assert e is not None and (e.import_code, e.how, e.via) == ("from peft import PeftConfig", "mro", "PeftConfigMixin")
    # R25's side: the entry import is accepted, an unrelated public class is not
    assert entry_from_import(peft_ws, merge, "from peft import PeftModel") is not None
    assert entry_from_import(peft_ws, mixin, "from peft import LoraConfig") is not None  # a subclass: MRO reaches it
    assert entry_from_import(peft_ws, merge, "from peft import LoraConfig") is None
    assert entry_from_import(peft_ws, merge, "from peft.peft_model import PeftModel") is None  # not the public import
    # an override is not the documented definition: no entry
    save = next(s for s in peft_ws.index.by_name["save_pretrained"] if s.qualname == "PeftConfigMixin.save_pretrained")
    assert entry_for(peft_ws, save, ["PeftModel"]) is None


def test_every_peft_step_walks_its_workflow_and_passes_the_example_checks(peft_ws: Workspace) -> None:
    wi = load_workflow_index(PEFT_INDEX)
    facts = StepFacts(peft_ws, Locator(peft_ws), wi)
    walked = 0
    for step in wi.usable_steps:
        steps = workflow_steps(wi, {"workflow": step.workflow, "number": step.number})
        sym = facts.symbol(step)
        if sym is None:
            continue
        imp = peft_ws.names.canonical_import(sym)
        walk = walk_for(facts, steps, callee_for(peft_ws, sym, imp), imp, {})
        assert walk is not None, step.implementation
        assert compile_problem(walk.code) is None and not unbound_names(walk.code) and not unused_imports(walk.code)
        walked += walk.steps == len(steps)
        if step.number > 1:
            # each earlier step's call is in the program
            for earlier in steps[:-1]:
                member = (earlier.api_call or "").split("(")[0].split(".")[-1]
                assert f"{member}(" in walk.code, (step.implementation, member)
    assert walked >= 15
    merge = next(s for s in wi.usable_steps if s.implementation.endswith("merge_and_unload"))
    steps = workflow_steps(wi, {"workflow": merge.workflow, "number": merge.number})
    sym = facts.symbol(merge)
    assert sym is not None
    imp = peft_ws.names.canonical_import(sym)
    walk = walk_for(facts, steps, callee_for(peft_ws, sym, imp), imp, {})
    assert walk is not None and walk.code.splitlines()[-1] == (
        "module = peft_model.merge_and_unload(progressbar=False, safe_merge=True)"
    )
    e = entry_of(facts, sym, steps, walk)
    assert e is not None and e.cls.name == "PeftModel"
