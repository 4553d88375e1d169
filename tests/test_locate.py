"""The deterministic locator on the fixture repository (hints partly wrong on purpose)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.locate import ApiRef, Hint, Locator, parse_api, parse_hint
from tools.wiki.workflow_index import load_workflow_index

FIXTURE = Path(__file__).parent / "fixtures" / "minipkg_WorkflowIndex.md"


@pytest.fixture
def located(ws, cache_dir):
    locator = Locator(ws, cache_dir)
    return {
        s.implementation.removeprefix("acme_minipkg_"): locator.locate(s) for s in load_workflow_index(FIXTURE).steps
    }


def test_contract_shape_and_exact_locations(located):
    got = {k: v.contract() for k, v in located.items()}
    assert {k: (v["kind"], v["qualname"], v["file"], v["start_line"], v["end_line"]) for k, v in got.items()} == {
        # wrong file hint (engine.py does not exist): found through the package's exports
        "Engine": ("internal", "Engine", "src/minipkg/core.py", 28, 76),
        # bare file name hint with an off-by-one range
        "run_engine": ("internal", "run_engine", "src/minipkg/core.py", 80, 85),
        # Class.method inherited from a base class in another file
        "Engine_shutdown": ("internal", "BaseEngine.shutdown", "src/minipkg/base.py", 7, 14),
        # re-exported from a sub-package, wrong hint
        "make_tool": ("internal", "make_tool", "src/minipkg/sub/tools.py", 4, 5),
        # an API of another package: external, no file or lines in the contract
        "JSONDecoder_decode": ("external", "json.JSONDecoder.decode", None, None, None),
    }
    assert all(
        set(v) == {"implementation", "kind", "qualname", "file", "start_line", "end_line", "confidence"}
        for v in got.values()
    )
    assert all(loc.confident for loc in located.values())


def test_reasons_explain_the_choice(located):
    assert any("base class" in r for r in located["Engine_shutdown"].reasons)
    assert "in the hinted file" in located["run_engine"].reasons


def test_external_api_is_located_in_the_installed_package(located):
    ext = located["JSONDecoder_decode"]
    assert ext.package == "json"
    where = ext.external_location
    assert (where["qualname"], where["module"], where["file"]) == (
        "JSONDecoder.decode",
        "json.decoder",
        "json/decoder.py",
    )
    import inspect
    import json.decoder

    lines, start = inspect.getsourcelines(json.decoder.JSONDecoder.decode)
    assert where["start_line"] == start and where["end_line"] == start + len(lines) - 1


def test_uninstalled_external_package_is_reported_unverified(ws, cache_dir):
    from tools.wiki.workflow_index import parse_workflow_index

    wi = parse_workflow_index(
        "# Workflow Index: acme_minipkg\n\n## Workflow: acme_minipkg_W\n\n### Step 1: P\n\n"
        "| Attribute | Value |\n|---|---|\n| **Principle** | `P` |\n| **Implementation** | `Thing_fit` |\n"
        "| **API Call** | `Thing().fit(x)` |\n| **Source Location** | `nosuchpkg_zz (external library)` |\n"
    )
    loc = Locator(ws, cache_dir).locate(wi.steps[0])
    assert (loc.kind, loc.qualname, loc.package, loc.external_location) == (
        "external",
        "nosuchpkg_zz.Thing.fit",
        "nosuchpkg_zz",
        None,
    )
    assert any("not installed" in r for r in loc.reasons)


def test_unknown_api_is_not_guessed(ws, cache_dir):
    from tools.wiki.workflow_index import parse_workflow_index

    wi = parse_workflow_index(
        "# Workflow Index: acme_minipkg\n\n## Workflow: acme_minipkg_W\n\n### Step 1: P\n\n"
        "| Attribute | Value |\n|---|---|\n| **Principle** | `P` |\n| **Implementation** | `qqq_zzz` |\n"
        "| **API Call** | `qqq_zzz(1)` |\n"
    )
    loc = Locator(ws, cache_dir).locate(wi.steps[0])
    assert loc.qualname is None and not loc.confident


@pytest.mark.parametrize(
    "text, ref",
    [
        ("get_peft_model(model, peft_config)", ApiRef(None, "get_peft_model", False)),
        ("peft_model.save_pretrained(save_directory)", ApiRef("peft_model", "save_pretrained", False)),
        (
            "AutoModelForCausalLM.from_pretrained(name, torch_dtype=...)",
            ApiRef("AutoModelForCausalLM", "from_pretrained", False, ("torch_dtype",)),
        ),
        ("Trainer(model=m, args=TrainingArguments(...)).train()", ApiRef("Trainer", "train", True)),
        ("LoraConfig(r=8, target_modules=[...])", ApiRef(None, "LoraConfig", False, ("r", "target_modules"))),
        ("`model.merge_and_unload()` then save", ApiRef("model", "merge_and_unload", False)),
        ("tokenizer: str | None = None", ApiRef(None, "tokenizer", False)),
    ],
)
def test_parse_api(text, ref):
    assert parse_api(text) == ref


def test_parse_hint():
    assert parse_hint("src/peft/peft_model.py:L190-387", ["peft"]) == Hint("src/peft/peft_model.py", 190, 387, None)
    assert parse_hint("config.py:L321-879", ["peft"]) == Hint("config.py", 321, 879, None)
    assert parse_hint("src/peft/mapping.py", ["peft"]) == Hint("src/peft/mapping.py", None, None, None)
    assert parse_hint("transformers (external library)", ["peft"]).external == "transformers"
    assert parse_hint("External (transformers)", ["peft"]).external == "transformers"


def _one_step(impl: str, api: str) -> str:
    return (
        "# Workflow Index: acme_minipkg\n\n## Workflow: acme_minipkg_W\n\n### Step 1: P\n\n"
        f"| Attribute | Value |\n|---|---|\n| **Principle** | `P` |\n| **Implementation** | `{impl}` |\n"
        f"| **API Call** | `{api}` |\n"
    )


def test_overload_stubs_give_way_to_the_real_definition_and_calls_of_objects(fixture_repo, cache_dir):
    from tools.index.build import build_index
    from tools.source.resolve import resolve_repo
    from tools.wiki.workflow_index import parse_workflow_index
    from tools.index.workspace import Workspace

    (fixture_repo / "src" / "minipkg" / "factory.py").write_text(
        "from typing import overload\n\n\n@overload\ndef build(kind: int) -> int: ...\n\n\n"
        "@overload\ndef build(kind: str) -> str: ...\n\n\ndef build(kind):\n    return kind\n\n\n"
        "class Tokenizer:\n    def tokenizer(self):\n        return self\n\n"
        "    def __call__(self, text):\n        return text.split()\n"
    )
    src = resolve_repo("acme_minipkg", str(fixture_repo), cache_dir)
    loc = Locator(Workspace(src, build_index(src, cache_dir)), cache_dir)
    built = loc.locate(parse_workflow_index(_one_step("build", "build(3)")).steps[0])
    assert (built.qualname, built.start_line, built.end_line) == ("build", 12, 13)
    called = loc.locate(parse_workflow_index(_one_step("Tokenizer_call", 'tokenizer("a b")')).steps[0])
    assert (called.qualname, called.start_line) == ("Tokenizer.__call__", 20)


RUNTIME = '''import types
from json import JSONDecoder


class Model:
    def save(self, path):
        return path


def fast_export(self, path: str, quant: str = "q4") -> str:
    """Export fast."""
    return path


def patch(model):
    model.export_fast = types.MethodType(fast_export, model)


class Scorer:
    def score(self, text: str, strict: bool = False) -> float:
        return 0.0


def score(values):
    return sum(values)


def make_decoder() -> JSONDecoder:
    return JSONDecoder()


class Encoder:
    def __call__(self, text: str, padding: bool = False) -> list[int]:
        return [len(text)]


def make_encoder() -> Encoder:
    return Encoder()


def convert_weights(model, skip: list | None = None) -> int:
    """Renamed from _convert_weights."""
    return 0
'''


def _steps(*rows: tuple[str, str, str, str]) -> str:
    """rows: (implementation, api call, source location, outputs)."""
    out = "# Workflow Index: acme_minipkg\n\n## Workflow: acme_minipkg_W\n\n"
    for n, (impl, api, hint, outputs) in enumerate(rows, 1):
        out += (
            f"### Step {n}: P{n}\n\n| Attribute | Value |\n|---|---|\n| **Principle** | `P{n}` |\n"
            f"| **Implementation** | `{impl}` |\n| **API Call** | `{api}` |\n| **Source Location** | {hint} |\n"
            f"| **External Dependencies** | `numpy` |\n| **Outputs** | {outputs} |\n\n"
        )
    return out


@pytest.fixture
def runtime_locator(fixture_repo, cache_dir):
    from tools.index.build import build_index
    from tools.source.resolve import resolve_repo
    from tools.index.workspace import Workspace

    (fixture_repo / "src" / "minipkg" / "runtime.py").write_text(RUNTIME)
    src = resolve_repo("acme_minipkg", str(fixture_repo), cache_dir)
    return Locator(Workspace(src, build_index(src, cache_dir)), cache_dir)


def test_evidence_beyond_definitions(runtime_locator):
    from tools.wiki.workflow_index import parse_workflow_index

    wi = parse_workflow_index(
        _steps(
            ("decoder_setup", "make_decoder()", "`src/minipkg/runtime.py`", "A `JSONDecoder`"),
            ("export_fast", "model.export_fast(path)", "`src/minipkg/runtime.py` (patched)", "a path"),
            ("Scorer_score", "score(self, text: str, strict: bool = False) -> float", "`runtime.py`", "a score"),
            ("decode", "decoder.decode(text)", "—", "the object"),
            ("teleport", "teleport(engine)", "—", "nothing"),
            ("encoder_setup", "make_encoder()", "—", "An `Encoder`"),
            ("encode", "enc(text, padding=True)", "—", "token ids"),
            ("weights", "_convert_weights(model, skip=None)", "`src/minipkg/runtime.py:L40-45`", "a count"),
        )
    )
    steps = wi.steps
    got = [runtime_locator.locate(s, steps[:i]) for i, s in enumerate(steps)]
    # a function attached to an object at run time
    assert (got[1].kind, got[1].qualname, got[1].start_line) == ("internal", "fast_export", 10)
    assert got[1].confident and any("bound at run time" in r for r in got[1].reasons)
    # a signature with self names a method, never the module-level function of the same name
    assert (got[2].qualname, got[2].confident) == ("Scorer.score", True)
    # the receiver is an object an earlier step returned, of a class the repository imports from json
    assert (got[3].kind, got[3].package) == ("external", "json")
    assert "imports from json" in got[3].reasons[0]
    # nothing found is "not found", never external (numpy is only listed as a dependency)
    assert (got[4].kind, got[4].qualname, got[4].confidence) == ("internal", None, 0.0)
    assert got[4].reasons[0] == (
        "no definition of teleport in the repository, and nothing says it belongs to another package"
    )
    # an object is called: the __call__ of the class an earlier step returned
    assert (got[6].qualname, got[6].confident) == ("Encoder.__call__", True)
    # renamed since the index was written: the one clear successor in the hinted file
    assert (got[7].qualname, got[7].confident) == ("convert_weights", True)
    assert "successor of _convert_weights in the hinted file" in got[7].reasons


def test_signature_and_two_call_cells_parse():
    assert parse_api("`train(self, resume_from_checkpoint: str | bool = None, ...)`") == ApiRef(
        None, "train", False, (), True, ("resume_from_checkpoint",)
    )
    assert parse_api("`save_model(output_dir)` / `save_state()`").member == "save_model"
    assert parse_api("save_model(x) / save_state()").member == "save_model"
    t = parse_api("Trainer.train(self, trial=None) -> TrainOutput")
    assert (t.receiver, t.member, t.is_method) == ("Trainer", "train", True)
    assert parse_api("`import unsloth`") is None
    assert parse_hint("`pkg/models/llama.py:L2500-2550` (patched generate)", []) == Hint(
        "pkg/models/llama.py", 2500, 2550, None
    )
    assert parse_hint("TRL library (external), patched in `trainer.py`", ["pkg"]).external == "trl"
