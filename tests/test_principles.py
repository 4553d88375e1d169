"""Pages that explain: the prose drawn from docstrings, the callee chain and the step's words
(agents.draft.principle_prose, agents.draft.theory), no template sentences, and R49, the rule against
boilerplate."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from agents.draft.drafter import implementation_data, principle_data
from tools.wiki.render import render_page
from agents.nodes.plan import plan_pairs
from agents.draft.docwords import base_form, gerund, gist, third_person
from agents.draft.principle_prose import neutral
from agents.verify.rules.boilerplate_rules import (
    check_boilerplate,
    check_page_boilerplate,
    math_problem,
    repeated_sentence,
)
from agents.verify.context import Context
from agents.verify.verifier import verify_pages
from tools.wiki.load import Wiki
from tools.wiki.page import parse_page
from tools.wiki.workflow_index import parse_workflow_index

ROOT = Path(__file__).resolve().parents[1]
REPO = "acme_minipkg"


# --- the prose of a Principle ----------------------------------------------------------------------------


def test_verb_forms():
    assert [base_form(v) for v in ("returns", "applies", "passes", "sets", "load")] == [
        "return",
        "apply",
        "pass",
        "set",
        "load",
    ]
    assert [third_person(v) for v in ("tokenize", "apply", "pass", "tie")] == ["tokenizes", "applies", "passes", "ties"]
    assert [gerund(v) for v in ("set", "pad", "save", "tie", "load", "merge")] == [
        "setting",
        "padding",
        "saving",
        "tying",
        "loading",
        "merging",
    ]


def test_gist_generalises_library_names_and_refuses_what_it_cannot():
    deny = ({"peft", "transformers"}, {"LoraModel", "PeftModel"})
    assert (
        gist("Returns a Peft model object from a model and a config.", deny).verb
        == "returns a model object from a model and a config"
    )
    assert (
        gist("This is the configuration class to store the configuration of a [`LoraModel`].", deny).noun
        == "the configuration class to store the configuration of a lora model"
    )
    assert (
        gist("Main method to tokenize and prepare for the model one or several sequences.", deny).verb
        == "tokenizes and prepares for the model one or several sequences"
    )
    assert (
        gist("Context manager that disables the adapter module. Use this to run inference.", deny).gerund()
        == "disabling the adapter module"
    )
    assert gist("Note this method only works for `transformers` models.", deny) is None
    assert gist("Works only for transformers.", deny) is None  # the clause ends on the library's name
    assert (
        neutral("gives a PreTrainedModel and adapter_config.json")
        == "gives a pre trained model and adapter_config.json"
    )


# --- R49 ------------------------------------------------------------------------------------------------


def principle(
    name: str, overview: str, description: str | None = None, usage: str | None = None, theory: str | None = None
) -> str:
    n = len(name)  # the other sections differ from page to page, so only the one under test can repeat
    description = description or f"It keeps {n} settings."
    usage = usage or f"Use it before {n} jobs run."
    theory = theory or f"The rule is <math>a = b + {n}</math>."
    return (
        f"# Principle: {name}\n\n== Overview ==\n\n{overview}\n\n=== Description ===\n\n{description}\n\n"
        f"=== Usage ===\n\n{usage}\n\n== Theoretical Basis ==\n\n{theory}\n\n== Related Pages ==\n\n"
        f"=== Implemented By ===\n\n* [[implemented_by::Implementation:{REPO}_X_{name}]]\n"
    )


def wiki_of(pages: dict[str, str]) -> Context:
    parsed = {f"principles/{REPO}_{n}.md": parse_page(t, f"principles/{REPO}_{n}.md") for n, t in pages.items()}
    return Context(Wiki(Path("."), REPO, pages=parsed), None)


def test_r49_finds_one_sentence_on_three_pages_once_names_are_set_aside():
    names = ["Engine_Setup", "Job_Execution", "Result_Decoding"]
    ctx = wiki_of(
        {n: principle(n, f"{n.replace('_', ' ')} is the step of a workflow that takes `{n}` settings.") for n in names}
    )
    found = check_boilerplate(ctx)
    assert sorted(f.page for f in found) == sorted(f"principles/{REPO}_{n}.md" for n in names)
    assert all(f.rule == "R49" and "Overview" in f.message for f in found)


def test_r49_allows_two_copies_and_distinct_texts():
    two = wiki_of(
        {
            "Engine_Setup": principle("Engine_Setup", "Engine Setup builds the runner."),
            "Job_Execution": principle("Job_Execution", "Job Execution builds the runner."),
            "Result_Decoding": principle("Result_Decoding", "Result Decoding parses stored text."),
        }
    )
    assert check_boilerplate(two) == []


def test_r49_math_placeholders_and_words():
    assert math_problem("y = f(x)", True) and math_problem("f(x)", True) and math_problem("x \\mapsto f(x)", True)
    assert math_problem("x", False) and math_problem("\\theta", False)
    assert math_problem("x", True) is None  # a letter the page's formulas define
    assert math_problem("\\text{the step applies the chosen settings to the model}", True)
    # hand-checked: a formula with a short remark in \text is maths
    assert (
        math_problem("f_{a}(x; \\theta_0), \\qquad \\theta_0 \\text{ fixed for the rest of the workflow.}", True)
        is None
    )
    assert math_problem("r_i = f(j_i)", True) is None and math_problem("h = W_0 x + \\gamma B A x", True) is None
    page = parse_page(
        principle(
            "Engine_Setup",
            "Builds a runner.",
            theory="Abstractly, with inputs <math>x</math> the step computes <math>y = f(x)</math>.",
        ),
        f"principles/{REPO}_Engine_Setup.md",
    )
    assert len(check_page_boilerplate(wiki_of({}), page)) == 2
    fine = parse_page(
        principle(
            "Engine_Setup",
            "Builds a runner.",
            theory="For <math>w \\ge 1</math> workers each gets <math>n / w</math> jobs; <math>w</math> is fixed.",
        ),
        "principles/x.md",
    )
    assert check_page_boilerplate(wiki_of({}), fine) == []


def test_r49_same_sentence_twice_in_a_paragraph_or_cell_but_not_across_list_items():
    assert repeated_sentence("The runner starts. It runs jobs. The runner starts.") == "The runner starts."
    assert repeated_sentence("It runs. It runs.") is None  # too short to be a sentence worth comparing
    body = (
        "The runner is built once. It keeps its settings. The runner is built once.\n\n"
        "* Stop the runner when done.\n* Stop the runner when done."
    )
    page = parse_page(principle("Engine_Setup", "Builds a runner.", description=body), f"principles/{REPO}_E.md")
    found = check_page_boilerplate(wiki_of({}), page)
    assert len(found) == 1 and "built once" in found[0].message
    table = '{| class="wikitable"\n! Name !! Description\n|-\n| n || The count of jobs. The count of jobs.\n|}'
    page = parse_page(principle("Engine_Setup", "Builds a runner.", usage=table), f"principles/{REPO}_E.md")
    assert [f.rule for f in check_page_boilerplate(wiki_of({}), page)] == ["R49"]


# --- real peft: the shipped WorkflowIndex -----------------------------------------------------------------

PEFT_APIS = {  # Implementation page -> (module, qualname) the locator finds for it
    "huggingface_peft_get_peft_model": ("peft.mapping_func", "get_peft_model"),
    "huggingface_peft_PeftModel_save_pretrained": ("peft.peft_model", "PeftModel.save_pretrained"),
    "huggingface_peft_set_adapter": ("peft.peft_model", "PeftModel.set_adapter"),
    "huggingface_peft_delete_adapter": ("peft.peft_model", "PeftModel.delete_adapter"),
    "huggingface_peft_LoraConfig": ("peft.tuners.lora.config", "LoraConfig"),
    "huggingface_peft_LoraConfig_dora": ("peft.tuners.lora.config", "LoraConfig"),
    "huggingface_peft_PromptTuningConfig": ("peft.tuners.prompt_tuning.config", "PromptTuningConfig"),
    "huggingface_peft_merge_and_unload": ("peft.tuners.tuners_utils", "BaseTuner.merge_and_unload"),
}
# fixed phrasings the drafter once wrote on every page, and text about how a page was made (issue 22)
TEMPLATES = re.compile(
    r"Concrete tool for|is the step that|is the step of|is carried out by|It has \d+ steps|Follow it to|"
    r"Follow the steps|Call it at step|Of its \d+ (parameters|settings)|It takes \d+ parameters|"
    r"Outline of the|left out|branch(es)? and \d+ loops?|The docstring gives|definition lives outside|"
    r"Unverified:|No source body|was drafted|this page documents only",
    re.IGNORECASE,
)


@pytest.fixture(scope="module")
def peft_pairs(peft_ws) -> dict[str, dict[str, str]]:
    text = (ROOT / "agents" / "workflow_indexes" / "huggingface_peft.md").read_text(encoding="utf-8")
    wi = parse_workflow_index(text, "huggingface_peft.md")
    jobs = {j["implementation"]: j for j in plan_pairs(wi)[0]}
    ctx = Context(Wiki(peft_ws.source.root, "huggingface_peft"), peft_ws)
    low, exact = ctx.deny_terms(None)
    titles = {(s.workflow, s.number): s.title for s in wi.steps}
    out = {}
    for impl, (module, qualname) in PEFT_APIS.items():
        job = jobs[impl]
        sym = peft_ws.index.definition(module, qualname)
        p = principle_data(
            peft_ws,
            job["principle"],
            impl,
            job["steps"],
            ["Fine_Tuning"],
            "2026-01-01 00:00 GMT",
            (low, exact),
            {},
            sym,
            peft_ws,
            titles,
        )
        i = implementation_data(
            peft_ws,
            sym,
            impl,
            job["principle"],
            job["steps"][0],
            ["Fine_Tuning"],
            "2026-01-01 00:00 GMT",
            None,
            {},
            titles=titles,
        )
        out[impl] = {
            "principle": p,
            "implementation": i,
            f"principles/{job['principle']}.md": render_page("Principle", p),
            f"implementations/{impl}.md": render_page("Implementation", i),
        }
    return out


def test_peft_principles_have_distinct_specific_overviews(peft_pairs):
    overviews = [pair["principle"]["overview"] for pair in peft_pairs.values()]
    assert len(set(overviews)) == len(overviews)
    adapter = peft_pairs["huggingface_peft_get_peft_model"]["principle"]["overview"]
    assert adapter.startswith("Adapter injection returns ") and "from a model and a config" in adapter
    assert "peft" not in adapter.lower()
    assert peft_pairs["huggingface_peft_merge_and_unload"]["principle"]["overview"] == (
        "Weight merging merges the adapter layers into the base model."
    )


def test_weight_merging_explains_the_update_and_cites_where_it_is_computed(peft_pairs):
    """The Theoretical Basis gives W ← W + ΔW and ΔW = (B A) s with s = α / r, each with the file and line
    that computes it, reached from merge_and_unload; it narrates no statement."""
    theory = peft_pairs["huggingface_peft_merge_and_unload"]["principle"]["theory"]
    assert theory == (
        "From `BaseTuner.merge_and_unload` the work goes through `BaseTuner._unload_and_optionally_merge` → "
        "`Linear.merge` → `Linear.get_delta_weight`. "
        "`Linear.merge` merges the active adapter weights into the base weights (src/peft/tuners/lora/layer.py, "
        r"L709): <math>W \leftarrow W + \Delta W</math> where <math>\Delta W</math> is `delta_weight` and "
        "<math>W</math> is `base_layer.weight`. "
        "`Linear.get_delta_weight` computes the delta weight for the given adapter (src/peft/tuners/lora/layer.py, "
        r"L768): <math>\Delta W = \operatorname{transpose}(B A, \ldots) \cdot s</math> where <math>B</math> is "
        "`lora_B.weight`, <math>A</math> is `lora_A.weight` and <math>s</math> is `scaling`. "
        r"`LoraLayer.update_layer` (src/peft/tuners/lora/layer.py, L203): <math>s = \frac{\alpha}{r}</math> where "
        r"<math>s</math> is `scaling`, <math>\alpha</math> is `lora_alpha` and <math>r</math> is `r`."
    )
    description = peft_pairs["huggingface_peft_merge_and_unload"]["implementation"]["description"]
    assert "It hands the work to `BaseTuner._unload_and_optionally_merge` → `Linear.merge` → " in description


def test_without_maths_the_theory_says_in_one_sentence_what_is_computed_and_where(peft_pairs):
    theory = {k: v["principle"]["theory"] for k, v in peft_pairs.items()}
    assert theory["huggingface_peft_delete_adapter"] == (
        "`delete_adapter` (src/peft/tuners/tuners_utils.py, L1937-1973) deletes an existing adapter; "
        "`PeftModel.delete_adapter` reaches it through `BaseTuner.delete_adapter`."
    )
    assert theory["huggingface_peft_LoraConfig"].startswith(
        "`LoraConfig` (src/peft/tuners/lora/config.py, L250-798) holds the settings the call passes: "
        "`r`, lora attention dimension"
    )
    for k, t in theory.items():
        assert not re.search(r"^#", t, re.M), k  # no numbered outline of statements
        assert len(t.split("\n\n")) <= 3, k


def test_usage_says_where_the_step_sits_in_the_workflows_own_words(peft_pairs):
    usage = peft_pairs["huggingface_peft_delete_adapter"]["principle"]["usage"]
    assert "It follows adapter blending and ends the Multi Adapter Serving workflow" in usage
    impl = peft_pairs["huggingface_peft_merge_and_unload"]["implementation"]["usage"]
    assert impl.startswith("`model.merge_and_unload(progressbar=False, safe_merge=True)` takes a PeftModel and gives ")


def test_no_page_carries_a_template_sentence_or_text_about_how_it_was_made(peft_pairs):
    for pair in peft_pairs.values():
        for rel, text in pair.items():
            if rel.endswith(".md"):
                found = TEMPLATES.search(text)
                assert found is None, f"{rel}: {found.group(0) if found else ''}"


def test_peft_pages_pass_the_content_rules_alone_and_together(peft_ws, peft_pairs):
    texts = {rel: t for pair in peft_pairs.values() for rel, t in pair.items() if rel.endswith(".md")}
    findings = verify_pages(texts, "huggingface_peft", peft_ws)
    assert [str(f) for f in findings if f.rule in ("R33", "R34", "R35", "R49", "R4", "R50")] == []
    wiki = Wiki(Path("."), "huggingface_peft", pages={rel: parse_page(t, rel) for rel, t in texts.items()})
    assert [str(f) for f in check_boilerplate(Context(wiki, peft_ws))] == []
