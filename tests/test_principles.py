"""Principle pages that say what is known: the outline of a body (tools.index.outline), the prose drawn from
docstrings (agents.draft.principle_prose), and R49, the rule against boilerplate."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from agents.draft.drafter import implementation_data, principle_data
from tools.wiki.render import render_page
from agents.nodes.plan import plan_pairs
from agents.draft.principle_prose import base_form, gerund, gist, neutral, third_person
from agents.verify.rules.boilerplate_rules import (
    check_boilerplate,
    check_page_boilerplate,
    math_problem,
    repeated_sentence,
)
from agents.verify.context import Context
from agents.verify.verifier import verify_pages
from tools.wiki.load import Wiki
from tools.index.outline import outline_function, render_outline, words
from tools.wiki.page import parse_page
from tools.wiki.workflow_index import parse_workflow_index

ROOT = Path(__file__).resolve().parents[1]
REPO = "acme_minipkg"


def fn(source: str) -> ast.FunctionDef:
    return ast.parse(textwrap.dedent(source)).body[0]


# --- tools.index.outline -----------------------------------------------------------------------------------


def test_outline_names_branches_loops_calls_raises_and_early_returns():
    o = outline_function(
        fn('''
        def run(jobs, engine, retries=3):
            """Run every job."""
            if engine is None:
                raise ValueError("no engine")
            if not jobs:
                return []
            results = []
            for job in jobs:
                result = engine.submit_job(job, retries=retries)
                results.append(result)
            engine.flush_queue()
            return results
    ''')
    )
    texts = [s.text for s in o.steps]
    assert "If engine is missing: raise ValueError." in texts
    assert "If jobs is not set: return ()." not in texts and "If jobs is not set: return an empty collection." in texts
    assert "For each job in jobs:" in texts
    assert any(s.depth == 1 and "submit job on engine" in s.text for s in o.steps)
    assert "Call flush queue on engine." in texts and texts[-1] == "Return results."
    assert o.helpers == ("submit_job", "flush_queue") and o.raises == ("ValueError",)
    assert (o.branches, o.loops, o.abstract, o.omitted) == (2, 1, False, 0)
    listing = render_outline(o)
    assert "\n#* " in listing and "##" not in listing  # R4 reads '## ' as a Markdown heading


def test_outline_chains_elif_else_and_handlers():
    o = outline_function(
        fn("""
        def decode(text, strict):
            try:
                value = parse_document(text)
            except KeyError:
                raise LookupError("missing")
            if strict and value.has_errors:
                raise TypeError("bad")
            elif value.partial:
                warnings.warn("partial")
            else:
                value = normalise_value(value)
            return value
    """)
    )
    texts = [s.text for s in o.steps]
    assert texts[0] == "Compute value with parse document of text."
    assert "If key error is raised: raise LookupError." in texts
    assert "If strict and value has errors: raise TypeError." in texts
    assert "Otherwise, if value's partial: warn." in texts
    assert "Otherwise: compute value with normalise value of value." in texts


def test_a_run_of_guard_clauses_is_one_step_and_library_words_are_dropped():
    o = outline_function(
        fn("""
        def make(peft_config, rank):
            if rank < 1:
                raise ValueError("rank")
            if peft_config.alpha is None:
                raise ValueError("alpha")
            if not isinstance(peft_config, dict):
                raise TypeError("type")
            return build_peft_layer(peft_config, rank)
    """),
        deny=({"peft"}, set()),
    )
    texts = [s.text for s in o.steps]
    assert texts[0].startswith(
        "Check 3 conditions, raising ValueError or TypeError when one fails (the first: rank is below 1"
    )
    assert texts[1] == "Return the result of build layer of config, rank."
    assert not any("peft" in t.lower() for t in texts)
    assert words("PEFT_TYPE_TO_CONFIG_MAPPING", ({"peft"}, set())) == "type to config mapping"
    assert words("PeftModelForCausalLM", ({"peft"}, set())) == "model for causal LM"


def test_abstract_body_and_long_bodies_are_cut_with_their_headings():
    abstract = outline_function(
        fn('''
        def preprocess(self, item):
            """Subclasses turn an item into tensors."""
            raise NotImplementedError("override me")
    ''')
    )
    assert abstract.abstract and abstract.raises == ("NotImplementedError",)
    body = "\n".join(f"    if flag_{i}:\n        step_{i}(x)\n    else:\n        other_{i}(x)" for i in range(12))
    long = outline_function(fn(f"def big(x):\n{body}\n    return finish(x)\n"), limit=8)
    assert len(long.steps) <= 8 and long.omitted > 0
    for k, step in enumerate(long.steps):  # an 'otherwise' never stands without the 'if' it continues
        if step.text.startswith("Otherwise"):
            assert k > 0 and long.steps[k - 1].text.startswith("If")


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
}


@pytest.fixture(scope="module")
def peft_pairs(peft_ws) -> dict[str, dict[str, str]]:
    text = (ROOT / "agents" / "workflow_indexes" / "huggingface_peft.md").read_text(encoding="utf-8")
    wi = parse_workflow_index(text, "huggingface_peft.md")
    jobs = {j["implementation"]: j for j in plan_pairs(wi)[0]}
    ctx = Context(Wiki(peft_ws.source.root, "huggingface_peft"), peft_ws)
    low, exact = ctx.deny_terms(None)
    titles = {(s.workflow, s.number): s.title for s in wi.steps}
    goals = {w.name: w.description or "" for w in wi.workflows}
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
            goals,
            sym,
            peft_ws,
            titles,
        )
        i = implementation_data(
            peft_ws, sym, impl, job["principle"], job["steps"][0], ["Fine_Tuning"], "2026-01-01 00:00 GMT", None, {}
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
    assert adapter.startswith("Adapter injection ") and "from a model and a config" in adapter
    assert "peft" not in adapter.lower()


def test_peft_theoretical_basis_outlines_the_real_body(peft_pairs):
    theory = peft_pairs["huggingface_peft_get_peft_model"]["principle"]["theory"]
    assert "get model config" in theory and "If mixed: return a new mixed model" in theory
    assert "<math>" not in theory and "validate(" not in theory and "apply(settings)" not in theory
    assert "raise ValueError" in peft_pairs["huggingface_peft_set_adapter"]["principle"]["theory"]
    assert "post-initialisation check" in peft_pairs["huggingface_peft_LoraConfig"]["principle"]["theory"]
    usage = peft_pairs["huggingface_peft_delete_adapter"]["principle"]["usage"]
    assert "after adapter blending" in usage.lower()  # the neighbouring step of the WorkflowIndex


def test_peft_pages_pass_the_content_rules_alone_and_together(peft_ws, peft_pairs):
    texts = {rel: t for pair in peft_pairs.values() for rel, t in pair.items() if rel.endswith(".md")}
    findings = verify_pages(texts, "huggingface_peft", peft_ws)
    assert [str(f) for f in findings if f.rule in ("R33", "R34", "R35", "R49", "R4", "R50")] == []
    wiki = Wiki(Path("."), "huggingface_peft", pages={rel: parse_page(t, rel) for rel, t in texts.items()})
    assert [str(f) for f in check_boilerplate(Context(wiki, peft_ws))] == []
