"""On the real peft 0.18.1 source archive: the index agrees with CPython's ast on every
function and class, and the locator finds every step of the project's own peft WorkflowIndex."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tools.locate import Locator
from tools.wiki.workflow_index import load_workflow_index

pytestmark = pytest.mark.peft
PEFT_INDEX = Path(__file__).parents[1] / "agents" / "workflow_indexes" / "huggingface_peft.md"


def _ast_symbols(path: Path) -> list[tuple[str, int, int]]:
    out = []

    def walk(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                q = prefix + child.name
                out.append((q, child.lineno, child.end_lineno))
                walk(child, q + ("." if isinstance(child, ast.ClassDef) else ".<locals>."))
            else:
                walk(child, prefix)

    walk(ast.parse(path.read_bytes()), "")
    return sorted(out)


def test_every_symbol_agrees_with_ast(peft_ws):
    files = symbols = 0
    mismatched = []
    for path, rec in peft_ws.index.records.items():
        assert rec.status == "ok", (path, rec.reason)
        ours = sorted((s.qualname, s.start_line, s.end_line) for s in rec.symbols)
        if ours != _ast_symbols(peft_ws.source.physical(path)):
            mismatched.append(path)
        files += 1
        symbols += len(ours)
    assert mismatched == []
    assert files > 200 and symbols > 3000


def test_signatures_are_the_source_text(peft_ws):
    s = peft_ws.index.definition("peft.mapping_func", "get_peft_model")
    text = peft_ws.source.physical(s.file).read_text().splitlines()
    sig = s.signature.splitlines()
    assert sig[0] == "def get_peft_model(" and len(sig) > 3
    assert sig == text[s.start_line - 1 : s.start_line - 1 + len(sig)]
    assert sig[-1].endswith(":")
    assert [p.name for p in s.params][:2] == ["model", "peft_config"]


# Checked by hand against the peft 0.18.1 sources (grep "def NAME" / "class NAME").
EXPECTED = {
    "AutoModelForCausalLM_from_pretrained": ("external", "transformers.AutoModelForCausalLM.from_pretrained", None),
    "LoraConfig": ("internal", "LoraConfig", "src/peft/tuners/lora/config.py"),
    "get_peft_model": ("internal", "get_peft_model", "src/peft/mapping_func.py"),
    "print_trainable_parameters": ("internal", "PeftModel.print_trainable_parameters", "src/peft/peft_model.py"),
    "PeftModel_save_pretrained": ("internal", "PeftModel.save_pretrained", "src/peft/peft_model.py"),
    "PeftConfig_from_pretrained": ("internal", "PeftConfigMixin.from_pretrained", "src/peft/config.py"),
    "PeftModel_from_pretrained": ("internal", "PeftModel.from_pretrained", "src/peft/peft_model.py"),
    "merge_and_unload": ("internal", "BaseTuner.merge_and_unload", "src/peft/tuners/tuners_utils.py"),
    "PromptTuningConfig": ("internal", "PromptTuningConfig", "src/peft/tuners/prompt_tuning/config.py"),
    "load_adapter": ("internal", "PeftModel.load_adapter", "src/peft/peft_model.py"),
    "set_adapter": ("internal", "PeftModel.set_adapter", "src/peft/peft_model.py"),
    "add_weighted_adapter": ("internal", "LoraModel.add_weighted_adapter", "src/peft/tuners/lora/model.py"),
    "delete_adapter": ("internal", "PeftModel.delete_adapter", "src/peft/peft_model.py"),
    "BitsAndBytesConfig": ("external", "transformers.BitsAndBytesConfig", None),
    "prepare_model_for_kbit_training": ("internal", "prepare_model_for_kbit_training", "src/peft/utils/other.py"),
    "LoraConfig_dora": ("internal", "LoraConfig", "src/peft/tuners/lora/config.py"),
    "disable_adapter": ("internal", "PeftModel.disable_adapter", "src/peft/peft_model.py"),
}


def test_locator_on_the_projects_peft_workflow_index(peft_ws):
    wi = load_workflow_index(PEFT_INDEX)
    assert len(wi.steps) == 22
    locator = Locator(peft_ws)
    got = {}
    for step in wi.steps:
        loc = locator.locate(step)
        short = step.implementation.removeprefix("huggingface_peft_")
        got[short] = (loc.kind, loc.qualname, loc.file)
        if loc.kind == "internal":
            # the range is exactly ast's range of that definition
            module_syms = dict(((q, (a, b)) for q, a, b in _ast_symbols(peft_ws.source.physical(loc.file))))
            assert (loc.start_line, loc.end_line) == module_syms[loc.qualname], short
        else:
            assert (loc.file, loc.start_line, loc.end_line) == (None, None, None)
    assert got == EXPECTED


def test_canonical_imports_on_peft(peft_ws):
    n, d = peft_ws.names, peft_ws.index.definition
    assert n.canonical_import(d("peft.tuners.lora.config", "LoraConfig")) == "from peft import LoraConfig"
    assert n.canonical_import(d("peft.peft_model", "PeftModel.save_pretrained")) == "from peft import PeftModel"
    assert (
        n.canonical_import(d("peft.tuners.tuners_utils", "BaseTuner.merge_and_unload"))
        == "from peft.tuners.tuners_utils import BaseTuner"
    )
    assert (
        n.canonical_import(d("peft.utils.hotswap", "hotswap_adapter"))
        == "from peft.utils.hotswap import hotswap_adapter"
    )
    assert n.public_modules(d("peft.utils.other", "prepare_model_for_kbit_training")) == [
        "peft",
        "peft.utils",
        "peft.utils.other",
    ]


def test_offline_pipeline_on_peft_commits_every_pair_verified(peft_root, tmp_path, capsys):
    """The whole pipeline on the real source with the project's own WorkflowIndex (22 steps,
    17 pairs): every pair committed, the wiki verifies, every location is ast's range."""
    import json

    from agents.run import main
    from agents.verify.verifier import verify_wiki
    from tools.wiki.load import load_wiki

    code = main(
        [
            "--repo",
            "huggingface_peft",
            "--source",
            str(peft_root),
            "--runs",
            str(tmp_path / "runs"),
            "--json",
            "--quiet",
        ]
    )
    summary = json.loads(capsys.readouterr().out)
    assert code == 0, summary["held"]
    assert summary["pairs_planned"] == 17 and summary["pairs_committed"] == 17
    wiki = tmp_path / "runs" / "huggingface_peft" / "wiki"
    from tools.index.build import build_index
    from tools.source.resolve import resolve_repo
    from tools.index.workspace import Workspace

    src = resolve_repo("huggingface_peft", str(peft_root))
    report = verify_wiki(load_wiki(wiki), Workspace(src, build_index(src)))
    assert report.errors == [] and report.pages == 17 * 2 + 5
    verdicts = [json.loads(l) for l in (wiki.parent / "latest" / "verdicts.jsonl").read_text().splitlines()]
    for v in verdicts:
        loc = v["location"]
        if loc["kind"] == "internal":
            module_syms = {q: (a, b) for q, a, b in _ast_symbols(peft_root / loc["file"])}
            assert (loc["start_line"], loc["end_line"]) == module_syms[loc["qualname"]], v["implementation"]
    assert {
        v["implementation"].removeprefix("huggingface_peft_"): v["location"]["qualname"]
        for v in verdicts
        if v["location"]["kind"] == "internal"
    } == {k: q for k, (kind, q, _) in EXPECTED.items() if kind == "internal"}


KAPSO_PHASE_1A = """# Workflow Index: huggingface_peft

> Written for the tests in kapso's phase-1a shape: no step tables, Rough API / Related Files
> columns instead of Implementation / Status, a decision step, an API written as a signature.

## Workflow: huggingface_peft_Adapter_Flow

**Description:** Configure LoRA, wrap a model, decide how to ship it, save the adapter.

### Steps Overview

| # | Step Name | Principle | Rough API | Related Files |
|---|-----------|-----------|-----------|---------------|
| 1 | Configure | LoRA_Setup | `LoraConfig(r=8, lora_alpha=16)` | tuners/lora/config.py |
| 2 | Wrap | Model_Wrapping | `get_peft_model(model, peft_config)` | mapping_func.py |
| 3 | Decide | Shipping_Decision | N/A (decision point) | (user code) |
| 4 | Save | Adapter_Save | `PeftModel.save_pretrained(self, save_directory: str, safe_serialization: bool = True, **kwargs)` | peft_model.py |
"""


def test_a_phase_1a_index_on_the_real_source_commits_what_it_can_and_shows_the_rest_pending(
    peft_root, tmp_path, capsys
):
    import json

    from agents.run import main
    from agents.verify.verifier import verify_wiki
    from tools.wiki.load import load_wiki
    from tools.index.build import build_index
    from tools.source.resolve import resolve_repo
    from tools.index.workspace import Workspace

    index = tmp_path / "wi.md"
    index.write_text(KAPSO_PHASE_1A)
    code = main(
        [
            "--repo",
            "huggingface_peft",
            "--source",
            str(peft_root),
            "--workflow-index",
            str(index),
            "--runs",
            str(tmp_path / "runs"),
            "--json",
            "--quiet",
        ]
    )
    summary = json.loads(capsys.readouterr().out)
    assert code == 1  # one step held
    wiki = tmp_path / "runs" / "huggingface_peft" / "wiki"
    assert sorted(p.name for p in (wiki / "implementations").glob("*.md")) == [
        "huggingface_peft_LoraConfig.md",
        "huggingface_peft_PeftModel_save_pretrained.md",
        "huggingface_peft_get_peft_model.md",
    ]
    flow = (wiki / "workflows" / "huggingface_peft_Adapter_Flow.md").read_text()
    assert flow.split("=== Step 3: Decide ===")[1].split("===")[0].strip() == "''Pending: not yet documented.''"
    rows = [l for l in (wiki / "_WorkflowIndex.md").read_text().splitlines() if re.match(r"^\| \d \|", l)]
    assert [r.rstrip().rsplit("|", 2)[-2].strip() for r in rows] == ["✅", "✅", "⬜", "✅"]  # a Status column added
    report = (wiki.parent / "latest" / "report.md").read_text()
    assert "Adapter_Flow 3: Decide | unusable input:" in report and "wi.md:16:" in report
    assert (
        "Implementation huggingface_peft_PeftModel_save_pretrained from the API Call PeftModel.save_pretrained"
        in report
    )
    src = resolve_repo("huggingface_peft", str(peft_root))
    assert verify_wiki(load_wiki(wiki), Workspace(src, build_index(src))).errors == []
    assert summary["pairs_committed"] == 3
