"""Nothing is committed on a guess: a step run as a command (``vllm serve …``) documents the function its
console script names in the source's metadata (pyproject, setup.cfg, setup.py), or is held with the reason;
an answer below the locator's confidence threshold is held, another package's included."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agents.run import main
from tools.index.build import build_index
from tools.index.workspace import Workspace
from tools.locate import Locator, command_words
from tools.source.resolve import resolve_repo
from tools.source.scripts import ConsoleScript, console_scripts
from tools.wiki.workflow_index import parse_workflow_index

PYPROJECT = '[project]\nname = "minipkg"\nversion = "1.0"\n\n[project.scripts]\nminipkg = "minipkg.core:run_engine"\n'


def _step(n: int, principle: str, impl: str, api: str, extra: str = "") -> str:
    return (
        f"### Step {n}: {principle}\n\n| Attribute | Value |\n|---|---|\n| **Principle** | `acme_minipkg_{principle}` |\n"
        f"| **Implementation** | `acme_minipkg_{impl}` |\n| **API Call** | {api} |\n{extra}"
        "| **Inputs** | Something |\n| **Outputs** | Something |\n\n"
    )


INDEX = (
    "# Workflow Index: acme_minipkg\n\n## Workflow: acme_minipkg_Serve_Jobs\n\n**Description:** Run jobs.\n\n"
    + _step(1, "Engine_Setup", "Engine", "`Engine(config)`")
    + _step(
        2,
        "Job_Running",
        "run_command",
        "`minipkg run --retries 2` (CLI) or `uvicorn minipkg.app:app`",
        "| **External Dependencies** | `uvicorn` |\n",
    )
    + _step(3, "Serving", "serve_command", "`minipkg-serve --port 8000` (CLI)")
    + _step(
        4,
        "Argument_Parsing",
        "argparse_wrapper",
        "Parse the arguments",
        "| **Source Location** | External (`argparse`) |\n",
    )
)


@pytest.mark.parametrize(
    "text, words",
    [
        ("`vllm serve` (CLI) or `uvicorn vllm.entrypoints.openai.api_server:app`", ["vllm", "uvicorn"]),
        ("`$ flask run --debug`", ["flask"]),
        ("transformers chat (CLI)", ["transformers"]),
        ("`huggingface-cli login`", ["huggingface-cli"]),
        ("`train(model)`", []),  # Python
        ("`train`", []),  # a bare name is the Python name it looks like
        ("`model.generate(**inputs)`", []),
        ("`import unsloth`", []),
        ("GGUF conversion + Modelfile generation", []),  # prose
        ("Parse the command line", []),
    ],
)
def test_a_command_line_is_told_from_python_and_prose(text, words):
    assert command_words(text) == words


def test_console_scripts_are_read_from_every_metadata_file(fixture_repo, tmp_path):
    src = resolve_repo("acme_minipkg", str(fixture_repo), tmp_path / "cache")
    assert console_scripts(src) == {}
    (fixture_repo / "pyproject.toml").write_text(
        PYPROJECT + '\n[tool.poetry.scripts]\nmp-poetry = "minipkg.base:BaseEngine.shutdown"\n'
    )
    (fixture_repo / "setup.cfg").write_text(
        "[options.entry_points]\nconsole_scripts =\n    mp-cfg = minipkg.core:Engine\n"
    )
    (fixture_repo / "setup.py").write_text(
        "from setuptools import setup\n"
        'ENTRY = {"console_scripts": ["mp-py=minipkg.tools:make_tool", "minipkg = elsewhere:main"]}\n'
        "setup(name='minipkg', entry_points=ENTRY)\n"
    )
    assert console_scripts(src) == {
        "minipkg": ConsoleScript("minipkg", "minipkg.core", "run_engine", "pyproject.toml [project.scripts]"),
        "mp-poetry": ConsoleScript(
            "mp-poetry", "minipkg.base", "BaseEngine.shutdown", "pyproject.toml [tool.poetry.scripts]"
        ),
        "mp-cfg": ConsoleScript("mp-cfg", "minipkg.core", "Engine", "setup.cfg [options.entry_points] console_scripts"),
        "mp-py": ConsoleScript("mp-py", "minipkg.tools", "make_tool", "setup.py entry_points console_scripts"),
    }


def test_an_installed_copy_declares_no_scripts_it_would_have_to_read_outside_its_root():
    src = resolve_repo("pallets_jinja")  # installed with the project
    assert src.origin == "installed" and console_scripts(src) == {}


def test_the_locator_resolves_a_command_to_its_entry_point(fixture_repo, tmp_path):
    (fixture_repo / "pyproject.toml").write_text(PYPROJECT)
    src = resolve_repo("acme_minipkg", str(fixture_repo), tmp_path / "cache")
    locator = Locator(Workspace(src, build_index(src, tmp_path / "cache")))
    wi = parse_workflow_index(INDEX, "wi.md")
    locs = {s.implementation: locator.locate(s, wi.steps[: s.number - 1]) for s in wi.steps}
    run = locs["acme_minipkg_run_command"]
    assert (run.kind, run.qualname, run.file, run.confidence) == ("internal", "run_engine", "src/minipkg/core.py", 0.9)
    assert run.reasons == [
        "the command minipkg runs the console script minipkg.core:run_engine (pyproject.toml [project.scripts])"
    ]
    serve = locs["acme_minipkg_serve_command"]
    assert (serve.kind, serve.qualname, serve.confidence) == ("internal", None, 0.0)
    assert serve.reasons == [
        "a command-line step (minipkg-serve): the source declares no such console script (pyproject.toml "
        "[project.scripts], setup.cfg or setup.py console_scripts; declared: minipkg); write the API Call as the "
        "Python function the command runs"
    ]


def test_a_run_commits_nothing_below_the_threshold(fixture_repo, tmp_path, capsys):
    (fixture_repo / "pyproject.toml").write_text(PYPROJECT)
    (tmp_path / "wi.md").write_text(INDEX)
    runs = tmp_path / "runs"
    argv = ["--repo", "acme_minipkg", "--source", str(fixture_repo), "--workflow-index", str(tmp_path / "wi.md")]
    code = main([*argv, "--runs", str(runs), "--cache-dir", str(tmp_path / "cache"), "--json"])
    summary = json.loads(capsys.readouterr().out)
    assert code == 1
    assert sorted(summary["held"]) == [
        "implementations/acme_minipkg_argparse_wrapper.md",
        "implementations/acme_minipkg_serve_command.md",
    ]
    assert summary["held"]["implementations/acme_minipkg_argparse_wrapper.md"].startswith(
        "locator not confident (0.60 < 0.8) that the step documents an API of argparse: the hint says external"
    )
    assert "a command-line step (minipkg-serve)" in summary["held"]["implementations/acme_minipkg_serve_command.md"]
    wiki = runs / "acme_minipkg" / "wiki"
    assert sorted(p.name for p in (wiki / "implementations").iterdir()) == [
        "acme_minipkg_Engine.md",
        "acme_minipkg_run_command.md",
    ]
    page = (wiki / "implementations" / "acme_minipkg_run_command.md").read_text()
    assert "* '''File:''' src/minipkg/core.py" in page and "def run_engine(" in page
    for row in json.loads(Path(summary["run_dir"], "summary.json").read_text())["pages"]:
        assert row["confidence"] in ("—", None) or float(row["confidence"]) >= 0.8, row
