"""Navigation tools: results, confinement, caps, and one definition for schema and CLI."""

from __future__ import annotations

import json

import pytest

from tools import navigate
from tools.errors import ToolError
from tools.toolspec import TOOLS, tool


def call(ws, tool_name, **args):
    return TOOLS[tool_name].call(ws, args)


def test_every_tool_has_a_valid_openai_schema():
    assert set(TOOLS) == {
        "list_dir",
        "outline",
        "find_symbol",
        "read_symbol",
        "read_lines",
        "search_text",
        "find_usages",
    }
    for t in TOOLS.values():
        schema = t.schema()
        json.dumps(schema)
        fn = schema["function"]
        assert fn["name"] == t.name and fn["description"]
        params = fn["parameters"]
        assert params["type"] == "object" and params["additionalProperties"] is False
        assert set(params["required"]) <= set(params["properties"])
        for prop in params["properties"].values():
            assert prop["type"] in ("string", "integer", "boolean") and prop["description"]


def test_a_tool_definition_that_disagrees_with_its_function_is_refused():
    with pytest.raises(TypeError, match="described"):

        @tool("broken", wrong="x")
        def broken_tool(ws, right: str) -> dict:
            return {}


def test_arguments_are_validated_like_a_model_sends_them(ws):
    with pytest.raises(ToolError, match="missing required argument 'file'"):
        call(ws, "outline")
    with pytest.raises(ToolError, match="unknown argument"):
        call(ws, "outline", file="x.py", colour="red")
    with pytest.raises(ToolError, match="must be integer"):
        call(ws, "read_lines", file="src/minipkg/base.py", start="one", end=3)
    assert call(ws, "read_lines", file="src/minipkg/base.py", start="1", end=1)["start"] == 1


def test_list_dir_and_outline(ws):
    root = call(ws, "list_dir", path=".")
    names = [e["name"] for e in root["entries"]]
    assert names == ["docs/", "examples/", "linked_dir", "src/", "tests/"]
    assert {"name": "linked_dir", "type": "link outside the root (not readable)"} in root["entries"]
    out = call(ws, "outline", file="src/minipkg/base.py")
    assert [(s["qualname"], s["start_line"], s["end_line"]) for s in out["symbols"]] == [
        ("BaseEngine", 1, 14),
        ("BaseEngine.start", 4, 5),
        ("BaseEngine.shutdown", 7, 14),
    ]
    broken = call(ws, "outline", file="src/minipkg/broken.py")
    assert broken["status"] == "partial" and "line 5" in broken["reason"]


@pytest.mark.parametrize(
    "path",
    [
        "../outside/secret.py",
        "/etc/passwd",
        "src/../../outside/secret.py",
        "linked_dir/secret.py",
        "src/minipkg/escape.py",
        "~/x.py",
    ],
)
def test_paths_outside_the_root_are_refused(ws, path):
    with pytest.raises(ToolError) as err:
        call(ws, "read_lines", file=path, start=1, end=2)
    assert "token" not in str(err.value)
    assert any(w in str(err.value) for w in ("absolute", "'..'", "outside the repository root"))


def test_find_symbol_ranks_exact_suffix_inherited_and_fuzzy(ws):
    exact = call(ws, "find_symbol", name="Engine")["matches"]
    assert exact[0]["qualname"] == "Engine" and exact[0]["match"] == "exact"
    dotted = call(ws, "find_symbol", name="minipkg.core.run_engine")["matches"]
    assert [(m["qualname"], m["match"]) for m in dotted] == [("run_engine", "exact")]
    inherited = call(ws, "find_symbol", name="Engine.shutdown")["matches"]
    assert (inherited[0]["qualname"], inherited[0]["file"]) == ("BaseEngine.shutdown", "src/minipkg/base.py")
    assert inherited[0]["match"] == "inherited by Engine"
    fuzzy = call(ws, "find_symbol", name="run_engin")["matches"]
    assert fuzzy[0]["qualname"] == "run_engine" and fuzzy[0]["match"] == "fuzzy"
    methods = call(ws, "find_symbol", name="__init__", kind="method")["matches"]
    assert {m["qualname"] for m in methods} == {"Engine.__init__", "Circle.__init__", "LazyThing.__init__"}
    none = call(ws, "find_symbol", name="zzzzzz")
    assert none["matches"] == [] and "no symbol" in none["note"]


def test_read_symbol_includes_decorators_and_line_numbers(ws):
    out = call(ws, "read_symbol", qualname="run_engine")
    lines = out["source"].splitlines()
    assert lines[0] == "79 @traced" and lines[1].startswith("80 def run_engine(")
    assert out["symbol"]["end_line"] == 85 and not out["truncated"]


def test_read_lines_clamps_and_caps(ws):
    out = call(ws, "read_lines", file="src/minipkg/base.py", start=0, end=999)
    assert out["start"] == 1 and out["end"] == 17 and len(out["warnings"]) == 2
    with pytest.raises(ToolError, match="is not text"):
        call(ws, "read_lines", file="src/minipkg/blob.py", start=1, end=2)
    with pytest.raises(ToolError, match="larger than"):
        call(ws, "read_lines", file="src/minipkg/huge.py", start=1, end=2)


def test_read_lines_caps_long_reads(ws, fixture_repo):
    (fixture_repo / "long.txt").write_text("".join(f"line {i}\n" for i in range(1000)))
    out = call(ws, "read_lines", file="long.txt", start=1, end=1000)
    assert out["truncated"] and out["end"] == navigate.MAX_LINES and "showing 400 of 1000" in out["note"]


def test_search_text_regex_glob_caps_and_errors(ws, fixture_repo):
    hits = call(ws, "search_text", pattern=r"def \w+\(self", glob="*.py")["matches"]
    assert {(h["file"], h["line"]) for h in hits} >= {("src/minipkg/base.py", 4), ("src/minipkg/shapes.py", 10)}
    assert all("secret" not in h["file"] for h in hits)
    assert call(ws, "search_text", pattern="run_engine", glob="docs/*")["matches"] == [
        {"file": "docs/guide.md", "line": 3, "text": "Call `run_engine(engine, jobs)` to run jobs on an engine."}
    ]
    with pytest.raises(ToolError, match="bad regular expression"):
        call(ws, "search_text", pattern="(unclosed")
    (fixture_repo / "many.txt").write_text("needle\n" * 300)
    capped = call(ws, "search_text", pattern="needle")
    assert capped["truncated"] and len(capped["matches"]) == navigate.MAX_MATCHES and "narrow" in capped["note"]


def test_find_usages_orders_examples_docs_tests_source(ws):
    out = call(ws, "find_usages", name="run_engine")
    got = [(u["area"], u["file"], u["line"], u["use"]) for u in out["uses"]]
    assert got == [
        ("examples", "examples/demo.py", 1, "import"),
        ("examples", "examples/demo.py", 4, "call"),
        ("docs", "docs/guide.md", 3, "mention"),
        ("tests", "tests/test_minipkg.py", 1, "import"),
        ("tests", "tests/test_minipkg.py", 5, "call"),
        ("source", "src/minipkg/__init__.py", 4, "import"),
    ]
    assert out["counts"] == {"examples": 2, "docs": 1, "tests": 2, "source": 1}
    shutdown = call(ws, "find_usages", name="Engine.shutdown")["uses"]
    assert [(u["file"], u["line"], u["use"]) for u in shutdown] == [("examples/demo.py", 5, "call")]


def test_model_written_arguments_are_refused_with_a_message_the_agent_reads(ws):
    from tools.errors import ToolError
    from tools.toolspec import TOOLS

    for args, message in (
        ({"path": "\u0000etc"}, "control character"),
        ({"path": "x" * 5000}, "at most 2000"),
        ({"path": 3}, "must be string"),
    ):
        with pytest.raises(ToolError, match=message):
            TOOLS["list_dir"].call(ws, args)
    assert TOOLS["search_text"].schema()["function"]["parameters"]["properties"]["pattern"]["maxLength"] == 2000


def test_a_pathological_pattern_returns_within_the_budget(ws):
    import time

    from tools.toolspec import TOOLS

    t0 = time.monotonic()
    out = TOOLS["search_text"].call(ws, {"pattern": "(.*)*x(a+)+$"})
    assert time.monotonic() - t0 < 12 and "matches" in out
