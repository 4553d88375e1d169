"""The usage miner: code blocks out of Markdown, reST, doctests, notebooks and docstrings; calls
resolved against the index with their data flow; bounded, logged skips for inputs that must not be
read; and never a line of the analysed material run."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest

from fixture_repo import FIXTURES
from tools.index.build import build_index
from tools.index.workspace import Workspace
from tools.source.resolve import resolve_repo
from tools.usage.blocks import MAX_BLOCKS_PER_FILE, docstring_blocks, markdown_blocks, notebook_blocks, rst_blocks
from tools.usage.material import MAX_BYTES
from tools.usage.miner import mine_usages, usages_of

MATERIAL = FIXTURES / "discovery"


def _ws(repo: Path, cache: Path) -> Workspace:
    src = resolve_repo("acme_minipkg", str(repo), cache)
    return Workspace(src, build_index(src, cache))


@pytest.fixture
def taught(fixture_repo: Path) -> Path:
    """The fixture repository with teaching material: a README, a reST page, a notebook."""
    shutil.copytree(MATERIAL, fixture_repo, dirs_exist_ok=True)
    return fixture_repo


def test_markdown_keeps_python_blocks_and_doctests_with_their_file_lines():
    text = (
        "# T\n\n## Use\n\n```python\nx = f(1)\n```\n\n```bash\npip install x\n```\n\n"
        "```\ny = g()\n```\n\n>>> z = h(2)\n3\n"
    )
    got = markdown_blocks(text).blocks
    assert [(b.lines, b.title) for b in got] == [
        (((6, "x = f(1)"),), "Use"),
        (((14, "y = g()"),), "Use"),
        (((17, "z = h(2)"),), "Use"),
    ]


def test_rest_directives_literal_blocks_and_doctests():
    text = (MATERIAL / "docs" / "tools.rst").read_text()
    got = rst_blocks(text).blocks
    assert [b.lines for b in got] == [
        (
            (9, "from minipkg import Engine, make_tool"),
            (10, ""),
            (11, "engine = Engine()"),
            (12, "engine.start()"),
            (13, 'saw = make_tool("saw", engine)'),
        ),
        (
            (17, "from minipkg import Engine, make_tool"),
            (18, "engine = Engine()"),
            (19, "engine.start()"),
            (20, 'make_tool("drill", engine)'),
        ),
    ]
    assert {b.title for b in got} == {"Making a tool"}


def test_notebook_cells_are_read_as_json_and_mapped_to_their_raw_lines():
    raw = (MATERIAL / "docs" / "tour.ipynb").read_text()
    got = notebook_blocks(raw).blocks
    assert [b.lines for b in got] == [
        ((16, "from minipkg import Circle"), (17, "circle = Circle(2.0)"), (18, "area = circle.area()")),
        ((28, "print(area)"),),  # an IPython magic (line 27) is not Python: left out
    ]
    assert got[0].title == "A tour of shapes"
    with pytest.raises(ValueError, match="not a Jupyter notebook"):
        notebook_blocks('{"cells": 3}')


def test_docstring_examples_are_found_in_the_raw_text_of_a_py_file():
    text = (
        "def f():\n"
        '    """Do it.\n'
        "\n"
        "    >>> a = f()\n"
        "    >>> a.go(\n"
        "    ...     1)\n"
        "    2\n"
        "\n"
        "    ```py\n"
        "    b = f()\n"
        "    ```\n"
        '    """\n'
    )
    got = docstring_blocks(text).blocks
    assert [b.lines for b in got] == [((4, "a = f()"), (5, "a.go("), (6, "    1)")), ((10, "b = f()"),)]


def test_calls_are_resolved_with_their_data_flow_and_authority(taught, cache_dir):
    mined = mine_usages(_ws(taught, cache_dir), cache_dir)
    readme = [u for u in mined["usages"] if u["file"] == "README.md"]
    assert [
        (u["line"], u["call"], u["symbol"]["qualname"] if u["symbol"] else None, u["inputs"], u["target"], u["rank"])
        for u in readme
    ] == [
        (13, "EngineConfig('nightly', workers=4)", "EngineConfig", [], "config", 0),
        (14, "Engine(config, verbose=True)", "Engine", [0], "engine", 0),
        (15, "engine.start()", "BaseEngine.start", [1], None, 0),
        (16, "run_engine(engine, ['a', 'b'], retries=1)", "run_engine", [1], "results", 0),
        (17, "engine.shutdown(force=True)", "BaseEngine.shutdown", [1], None, 0),
    ]
    assert readme[2]["receiver"] == 1 and readme[2]["how"] == "a Engine's start"
    assert [u["title"] for u in mined["units"]] == ["Running jobs", "Making a tool", "A tour of shapes", "", ""]
    # one miner for every consumer: the walkthrough of a page takes the most authoritative usage
    first = usages_of(mined, "src/minipkg/sub/tools.py", "make_tool")
    assert [(u["file"], u["line"], u["call"]) for u in first] == [
        ("docs/tools.rst", 13, "make_tool('saw', engine)"),
        ("docs/tools.rst", 20, "make_tool('drill', engine)"),
    ]


def test_nothing_the_material_says_is_run(taught, cache_dir, tmp_path):
    planted = tmp_path / "planted.txt"
    (taught / "docs" / "run_me.md").write_text(
        f"```python\nimport pathlib\npathlib.Path({str(planted)!r}).write_text('ran')\n```\n"
        f">>> open({str(planted)!r}, 'w').write('ran')\n"
    )
    (taught / "examples" / "script.py").write_text(f"open({str(planted)!r}, 'w').write('ran')\n")
    mine_usages(_ws(taught, cache_dir), cache_dir)
    assert not planted.exists()


def test_inputs_that_must_not_be_read_are_skipped_with_the_reason_and_logged(taught, cache_dir, caplog):
    docs = taught / "docs"
    with open(docs / "huge.ipynb", "wb") as fh:  # a 50 MB notebook: never read
        fh.truncate(50 * 1024 * 1024)
    (docs / "image.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (docs / "many.md").write_text("```python\nx = 1\n```\n" * 10_000)
    (docs / "loop_a.md").symlink_to(docs / "loop_b.md")
    (docs / "loop_b.md").symlink_to(docs / "loop_a.md")
    (docs / "broken.ipynb").write_text("{ not json")
    with caplog.at_level(logging.INFO, logger="tools.usage.material"):
        mined = mine_usages(_ws(taught, cache_dir), cache_dir)
    skips = {s["file"]: s["reason"] for s in mined["skips"]}
    assert skips["docs/huge.ipynb"] == f"{50 * 1024 * 1024} bytes, over the {MAX_BYTES}-byte limit"
    assert skips["docs/image.md"] == "binary content under a text name"
    assert (
        skips["docs/many.md"]
        == f"{10_000 - MAX_BLOCKS_PER_FILE} code blocks beyond the first {MAX_BLOCKS_PER_FILE} left out"
    )
    assert skips["docs/loop_a.md"].startswith("cannot be read") and skips["docs/loop_b.md"].startswith("cannot be read")
    assert skips["docs/broken.ipynb"].startswith("not readable as ipynb")
    assert {r.getMessage().split(" skipped")[0] for r in caplog.records if "skipped" in r.getMessage()} >= {
        "teaching material docs/huge.ipynb",
        "teaching material docs/image.md",
    }
    # the rest is mined as before
    assert {u["file"] for u in mined["usages"]} >= {"README.md", "docs/tools.rst", "docs/tour.ipynb"}


def test_a_link_out_of_the_root_is_refused(taught, cache_dir, tmp_path):
    outside = tmp_path / "elsewhere.md"
    outside.write_text("```python\nfrom minipkg import Engine\nEngine().start()\n```\n")
    (taught / "docs" / "linked.md").symlink_to(outside)
    mined = mine_usages(_ws(taught, cache_dir), cache_dir)
    assert "leads outside the repository root" in {s["file"]: s["reason"] for s in mined["skips"]}["docs/linked.md"]
    assert not any(u["file"] == "docs/linked.md" for u in mined["usages"])


def test_the_result_is_cached_on_disk_per_source_and_material(taught, cache_dir):
    first = mine_usages(_ws(taught, cache_dir), cache_dir)
    files = list((cache_dir / "usages").glob("*.json"))
    assert len(files) == 1 and json.loads(files[0].read_text()) == first
    (taught / "docs" / "more.md").write_text("```python\nfrom minipkg import Circle\nCircle(1.0).area()\n```\n")
    second = mine_usages(_ws(taught, cache_dir), cache_dir)
    assert len(list((cache_dir / "usages").glob("*.json"))) == 2
    assert len(second["usages"]) == len(first["usages"]) + 2
