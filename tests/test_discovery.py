"""Discovery: the fixture repository's README, reST page, notebook, example and test become a
WorkflowIndex whose every step the locator finds again and whose every workflow is grounded in
the lines it cites; byte-stable; names kept through an update; bounds said; the model proposes
and the index disposes (a scripted endpoint); peft's README flows found in its real source."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import httpx2
import pytest

from fixture_repo import FIXTURES
from tools.discover.discovery import discover
from tools.discover.grounding import Span, check_span, parse_evidence
from tools.discover.grouping import Bounds, merge
from tools.index.build import build_index
from tools.index.workspace import Workspace
from tools.locate import Locator
from tools.source.resolve import resolve_repo
from tools.wiki.workflow_index import parse_workflow_index

MATERIAL = FIXTURES / "discovery"


def _ws(repo: Path, cache: Path) -> Workspace:
    src = resolve_repo("acme_minipkg", str(repo), cache)
    return Workspace(src, build_index(src, cache))


@pytest.fixture
def taught(fixture_repo: Path) -> Path:
    shutil.copytree(MATERIAL, fixture_repo, dirs_exist_ok=True)
    return fixture_repo


def _steps(text: str) -> list[tuple[str, list[str]]]:
    wi = parse_workflow_index(text)
    return [
        (w.name.removeprefix("acme_minipkg_"), [s.implementation.removeprefix("acme_minipkg_") for s in w.steps])
        for w in wi.workflows
    ]


def test_the_fixture_material_gives_its_two_workflows_grounded_and_located(taught, cache_dir):
    ws = _ws(taught, cache_dir)
    found = discover(ws, cache_dir)
    assert _steps(found["text"]) == [
        ("Running_Jobs", ["EngineConfig", "Engine", "BaseEngine_start", "run_engine", "BaseEngine_shutdown"]),
        ("Making_A_Tool", ["Engine", "BaseEngine_start", "make_tool"]),
    ]
    wi = parse_workflow_index(found["text"])
    assert [w.evidence for w in wi.workflows] == [
        ((21, "`README.md` L13-17; `examples/demo.py` L3-5"),),
        ((119, "`docs/tools.rst` L11-13; `docs/tools.rst` L18-20"),),
    ]
    assert found["text"].splitlines()[2] == (
        "> Discovered by offline mining from a minipkg source folder (no revision recorded): 2 workflows, 8 steps, "
        "mined from 5 files of the library's own README, docs, examples, docstrings and tests."
    )
    first = wi.workflows[0].steps
    assert [(s.principle, s.api_call, s.source_hint, s.inputs, s.outputs) for s in first[:3]] == [
        (
            "acme_minipkg_Engine_Configuration",
            "EngineConfig('nightly', workers=4)",
            "src/minipkg/core.py:L19-25",
            "values for name, workers",
            "an EngineConfig",
        ),
        (
            "acme_minipkg_Engine_Setup",
            "Engine(config, verbose=True)",
            "src/minipkg/core.py:L28-76",
            "the EngineConfig of step 1; values for verbose",
            "an Engine",
        ),
        (
            "acme_minipkg_Base_Engine_Start",
            "engine.start()",
            "src/minipkg/base.py:L4-5",
            "the Engine of step 2, whose method it calls",
            "nothing (None)",
        ),
    ]
    assert first[4].key_parameters == "force: bool" and first[4].impl_type == "API Doc"
    # every step is where the locator, as the run uses it, finds it with confidence
    locator = Locator(ws, cache_dir)
    for w in wi.workflows:
        for i, step in enumerate(w.steps):
            loc = locator.locate(step, w.steps[:i])
            assert loc.confident and f"{loc.file}:L{loc.start_line}-{loc.end_line}" == step.source_hint
    # and every cited span passes the verifier's check (R51)
    for w in wi.workflows:
        for _, value in w.evidence:
            spans, junk = parse_evidence(value)
            assert junk is None
            assert all(check_span(ws, s, list(w.steps))[0] is None for s in spans)


def test_what_no_workflow_covers_is_listed_most_used_first_and_the_failing_span_said(taught, cache_dir):
    found = discover(_ws(taught, cache_dir), cache_dir)
    assert found["uncovered"] == [
        {"api": "minipkg.shapes.Circle", "uses": 1, "where": ["docs/tour.ipynb:17"]},
        {"api": "minipkg.shapes.Circle.area", "uses": 1, "where": ["docs/tour.ipynb:18"]},
        {"api": "minipkg.lazy_mod.LazyThing", "uses": 0, "where": []},
    ]
    # the test's `run_engine(Engine(), ...)` calls the two in the other order than the steps give
    assert found["dropped"] == [
        "Running_Jobs: evidence `tests/test_minipkg.py` L5-5 calls only step 2; evidence must call at least 2 "
        "of its steps, in step order"
    ]
    assert found["skips"] == [{"file": "src/minipkg/cookie.py", "reason": "not UTF-8 text"}]


def test_the_same_source_gives_the_same_index_byte_for_byte(taught, cache_dir, tmp_path):
    first = discover(_ws(taught, cache_dir), cache_dir)["text"]
    other_cache = tmp_path / "other-cache"
    second = discover(_ws(taught, other_cache), other_cache)["text"]  # no cache, another process state
    assert first == second


def test_bounds_say_what_they_cut(taught, cache_dir):
    found = discover(_ws(taught, cache_dir), cache_dir, Bounds(max_workflows=1, max_steps=4))
    assert _steps(found["text"]) == [("Running_Jobs", ["EngineConfig", "Engine", "BaseEngine_start", "run_engine"])]
    assert found["cuts"] == [
        "--max-steps 4: the sequence taught in README.md L13-17 has 5 steps; its last 1 "
        "(minipkg.base:BaseEngine.shutdown) were left out",
        # cut to four steps, the README flow no longer holds the example's: it is a candidate of its own
        "--max-workflows 1: 2 more workflow candidate(s) left out; they would cover 2 more API(s): "
        "minipkg.base:BaseEngine.shutdown, minipkg.sub.tools:make_tool",
    ]


def test_names_are_kept_from_the_previous_index_when_the_source_moves(taught, cache_dir):
    ws = _ws(taught, cache_dir)
    first = discover(ws, cache_dir)["text"]
    renamed = first.replace("acme_minipkg_Running_Jobs", "acme_minipkg_Job_Runs").replace(
        "acme_minipkg_Engine_Configuration", "acme_minipkg_Engine_Settings"
    )
    previous = parse_workflow_index(renamed)
    # the source moves: a line above every definition of core.py
    core = taught / "src" / "minipkg" / "core.py"
    core.write_text("# moved by one line\n" + core.read_text())
    again = discover(_ws(taught, cache_dir), cache_dir, previous=previous)["text"]
    wi = parse_workflow_index(again)
    assert [w.name for w in wi.workflows] == ["acme_minipkg_Job_Runs", "acme_minipkg_Making_A_Tool"]
    assert wi.workflows[0].steps[0].principle == "acme_minipkg_Engine_Settings"
    assert wi.workflows[0].steps[0].source_hint == "src/minipkg/core.py:L20-26"


def test_merge_joins_only_a_continuation_never_a_fork():
    assert merge(["m:A", "m:B"], ("m:B", "m:C")) == ["m:A", "m:B", "m:C"]
    assert merge(["m:A", "m:B"], ("m:Z", "m:A")) == ["m:Z", "m:A", "m:B"]
    assert merge(["m:A", "m:B", "m:C"], ("m:A", "m:B", "m:D")) is None  # two ways on from B
    assert merge(["m:A", "m:C"], ("m:A", "m:B", "m:C")) is None  # B put between: nobody taught A, B, C
    assert merge(["m:A", "m:B"], ("m:B", "m:A")) is None
    assert merge(["x.Ext", "m:B"], ("x.Ext", "m:C")) is None  # another package's call is no common ground


# ---- the model proposes, the index disposes -------------------------------------------------


def _completion(content: str) -> dict:
    return {
        "id": "x",
        "object": "chat.completion",
        "created": 0,
        "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150},
    }


class _Endpoint:
    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.requests: list[dict] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(json.loads(request.content))
        return httpx2.Response(200, json=_completion(self.answers.pop(0)))


@pytest.fixture
def endpoint():
    from agents.model.llm import use_transport

    def install(*answers: str) -> _Endpoint:
        ep = _Endpoint(*answers)
        use_transport(httpx2.MockTransport(ep))
        return ep

    yield install
    use_transport(None)


PROPOSAL = {
    "workflows": [
        {
            "name": "Batch_Jobs",
            "description": "Run a batch of jobs on a configured engine.",
            "steps": [
                {"api": "minipkg.core.EngineConfig", "principle": "Engine_Settings"},
                {"api": "Engine", "principle": "Engine_Creation"},
                {"api": "minipkg.core.Engine.teleport", "principle": "Teleportation"},
                {"api": "run_engine", "principle": "Job_Execution"},
                {"api": "BaseEngine.shutdown", "principle": "Engine_Shutdown"},
            ],
        },
        {"name": "Shapes", "description": "x", "steps": [{"api": "Circle", "principle": "Circle_Setup"}]},
    ]
}


def test_a_model_proposal_is_grounded_by_the_index_and_the_rest_dropped_with_why(taught, cache_dir, tmp_path, endpoint):
    from agents.nodes.discover import run_discovery

    ep = endpoint(json.dumps(PROPOSAL))
    model = {"model": "m", "base_url": "http://fake/v1", "timeout": 5.0, "concurrency": 1, "max_retries": 0}
    found, record = run_discovery("acme_minipkg", str(taught), cache_dir, tmp_path / "wiki", Bounds(), model)
    assert _steps(found["text"]) == [
        ("Batch_Jobs", ["EngineConfig", "Engine", "run_engine", "BaseEngine_shutdown"]),
    ]
    wi = parse_workflow_index(found["text"])
    assert [s.principle.removeprefix("acme_minipkg_") for s in wi.workflows[0].steps] == [
        "Engine_Settings",
        "Engine_Creation",
        "Job_Execution",
        "Engine_Shutdown",
    ]
    assert wi.workflows[0].description == "Run a batch of jobs on a configured engine."
    assert record["dropped"] == [
        "Batch_Jobs: step 'minipkg.core.Engine.teleport' dropped: minipkg.core.Engine.teleport is not a definition "
        "of the repository, nor a call its material makes",
        "Shapes: step minipkg.shapes.Circle dropped: no material calls it together with another step",
        "Shapes: dropped: 0 grounded steps (0 of the library); it needs 3",
        "Batch_Jobs: evidence `tests/test_minipkg.py` L5-5 calls only step 2; evidence must call at least 2 of its "
        "steps, in step order",
    ]
    assert record["method"] == "the model m (proposals grounded by the index)"
    assert record["model_calls"] == 1 and record["tokens"] == 150
    # the material reaches the model as quoted data
    user = ep.requests[0]["messages"][1]["content"]
    assert "<<<DATA" in user and "engine.shutdown(force=True)" in user


def test_a_model_answer_that_grounds_nothing_leaves_the_offline_index(taught, cache_dir, tmp_path, endpoint):
    from agents.nodes.discover import run_discovery

    endpoint(json.dumps({"workflows": [{"name": "X", "steps": [{"api": "os.system", "principle": "Y"}]}]}))
    model = {"model": "m", "base_url": "http://fake/v1", "timeout": 5.0, "concurrency": 1, "max_retries": 0}
    found, record = run_discovery("acme_minipkg", str(taught), cache_dir, tmp_path / "wiki", Bounds(), model)
    assert _steps(found["text"])[0][0] == "Running_Jobs"
    assert (
        record["method"]
        == "offline mining (the proposals of the model m (proposals grounded by the index) were not grounded)"
    )
    assert "no proposed workflow is grounded in the material: the offline grouping stands" in record["dropped"]


# ---- a real library ------------------------------------------------------------------------------


@pytest.mark.peft
def test_peft_readme_flows_come_first_and_are_grounded(peft_ws):
    found = discover(peft_ws)
    wi = parse_workflow_index(found["text"])
    first = wi.workflows[0]
    assert [s.implementation.removeprefix("huggingface_peft_") for s in first.steps] == [
        "AutoModelForCausalLM_from_pretrained",
        "LoraConfig",
        "get_peft_model",
        "PeftModel_print_trainable_parameters",
        "PeftModel_save_pretrained",
    ]
    assert first.evidence[0][1].startswith("`README.md` L47-59")
    assert [s.impl_type for s in first.steps] == ["Wrapper Doc", "API Doc", "API Doc", "API Doc", "API Doc"]
    assert first.steps[2].source_hint == "src/peft/mapping_func.py:L30-128"
    # every cited span of every workflow passes R51's check
    for w in wi.workflows:
        for _, value in w.evidence:
            spans, _ = parse_evidence(value)
            assert all(check_span(peft_ws, Span(*s), list(w.steps))[0] is None for s in spans), w.name


def test_evidence_spans_are_checked_like_any_fact(taught, cache_dir):
    ws = _ws(taught, cache_dir)
    wi = parse_workflow_index(discover(ws, cache_dir)["text"])
    steps = list(wi.workflows[0].steps)
    assert check_span(ws, Span("README.md", 13, 17), steps) == (None, [1, 2, 3, 4, 5])
    assert check_span(ws, Span("README.md", 13, 40), steps)[0] == ("`README.md` has 24 lines; L13-40 lies outside it")
    assert check_span(ws, Span("NOTES.md", 1, 2), steps)[0] == "`NOTES.md` is not a file of the analysed source"
    assert check_span(ws, Span("../outside/secret.py", 1, 2), steps)[0].startswith(
        "`../outside/secret.py` cannot be cited (path '../outside/secret.py' contains '..'"
    )
    assert check_span(ws, Span("README.md", 16, 17), steps) == (None, [4, 5])
    assert check_span(ws, Span("README.md", 17, 17), steps) == (
        "`README.md` L17-17 calls only step 5; evidence must call at least 2 of its steps, in step order",
        [5],
    )
    assert parse_evidence("`README.md` L13-17; `docs/x.md` L4") == (
        [Span("README.md", 13, 17), Span("docs/x.md", 4, 4)],
        None,
    )
    assert parse_evidence("see the README") == ([], "see the README")


def _rec(rid: int, call: str, target: str | None, returns: str | None, receiver: int | None = None) -> dict:
    return {
        "id": rid,
        "unit": 0,
        "file": "README.md",
        "line": rid + 1,
        "end_line": rid + 1,
        "rank": 0,
        "call": call,
        "callee": call.split("(")[0],
        "symbol": None,
        "external": None,
        "how": "",
        "receiver": receiver,
        "inputs": [receiver] if receiver is not None else [],
        "keywords": [],
        "returns": returns,
        "member": None,
        "receiver_type": None,
        "target": target,
    }


def test_inputs_follow_a_name_as_it_is_rebound_and_through_a_call_on_a_result(ws):
    from tools.discover.attributes import inputs

    load = _rec(0, "AutoModel.from_pretrained(name)", None, "transformers.AutoModel")
    moved = _rec(1, "AutoModel.from_pretrained(name).to(device)", "model", None, receiver=0)
    wrap = _rec(2, "wrap(model, config)", "model", "pkg:Wrapped")
    save = _rec(3, "model.save('out')", None, None, receiver=2)
    unit = {r["id"]: r for r in (load, moved, wrap, save)}
    # step 1's model went through .to(device) before it was bound
    assert inputs(ws, wrap, None, [(1, load)], unit) == "the AutoModel of step 1; values for config"
    # model is rebound by step 2: step 3 calls the Wrapped, not the base model
    assert inputs(ws, save, None, [(1, load), (2, wrap)], unit) == "the Wrapped of step 2, whose method it calls"
