"""One grammar across the five CLIs, tested the way a person types them: options before and after a
sub-command, ``--wiki`` everywhere (verify's positional kept), ``verify WIKI`` against the source the
wiki records, ``--source latest``, an installed package read with one layout by the run and every later
check, and two or three example command lines in every ``--help``."""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fixture_repo import FIXTURES, fixture_argv

from agents.review.cli import build_parser as review_parser
from agents.run import build_parser as run_parser
from agents.run import main as run_main
from agents.update import build_parser as update_parser
from agents.verify.verifier import build_parser as verify_parser
from tools.cli import build_parser as tools_parser

ROOT = Path(__file__).resolve().parents[1]
SHELL = {"|", ">", "&&", ";"}  # where a command line's own words end
PARSERS = {
    "agents.run": run_parser,
    "agents.verify": verify_parser,
    "agents.review": review_parser,
    "agents.update": update_parser,
    "tools": tools_parser,
}


def cli(module: str, *args: str, cache: Path | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if cache is not None:
        env["REPOWIKI_CACHE_DIR"] = str(cache)
    return subprocess.run(
        [sys.executable, "-m", module, *args], capture_output=True, text=True, env=env, cwd=cwd or ROOT, timeout=300
    )


def _sub_parsers(ap: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    out: dict[str, argparse.ArgumentParser] = {}
    for action in ap._actions:
        if isinstance(action, argparse._SubParsersAction):
            out.update(action.choices)
    return out


def _examples(help_text: str) -> list[str]:
    lines = help_text.split("\nexamples:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    return [l.strip() for l in lines]


# ---- --help ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("module", PARSERS)
def test_every_help_shows_two_or_three_examples_that_its_parser_accepts(module):
    main = PARSERS[module]()
    helps = {"": main, **_sub_parsers(main)}
    for name, parser in helps.items():
        examples = _examples(parser.format_help())
        assert 2 <= len(examples) <= 3, (module, name, examples)
        for line in examples:
            words = shlex.split(line)
            words = words[: next((i for i, w in enumerate(words) if w in SHELL), len(words))]
            assert words[:3] == ["python", "-m", module], line
            if name:
                assert name in words, f"{module} {name}: {line} does not use the sub-command"
            args, rest = main.parse_known_args(words[3:])
            if module == "agents.update":  # what it does not know goes to agents.run
                run_parser().parse_known_args(["--repo", "huggingface_peft", *rest])
                assert not [w for w in rest if w.startswith("--") and w not in _options(run_parser())], rest
            else:
                assert rest == [], (line, rest)


def _options(ap: argparse.ArgumentParser) -> set[str]:
    return {o for a in ap._actions for o in a.option_strings}


@pytest.mark.parametrize("module", ["agents.review", "tools"])
def test_the_help_of_a_cli_with_sub_commands_says_where_their_options_go(module):
    assert "Options may be given before or after the sub-command." in " ".join(PARSERS[module]().format_help().split())


def test_a_help_is_printed_in_a_terminal_as_written():
    proc = cli("agents.review", "list", "--help")
    assert proc.returncode == 0
    assert "examples:\n  python -m agents.review list --repo huggingface_peft\n" in proc.stdout


# ---- options before and after the sub-command -----------------------------------------------------


@pytest.mark.parametrize(
    "module, before, after",
    [
        (
            "tools",
            ["--source", "S", "--json", "read-lines", "f.py", "1", "2"],
            ["read-lines", "f.py", "1", "2", "--source", "S", "--json"],
        ),
        ("tools", ["--repo", "r", "index"], ["index", "--repo", "r"]),
        ("agents.review", ["--repo", "r", "--runs", "x", "list"], ["list", "--repo", "r", "--runs", "x"]),
        ("agents.review", ["--run", "7", "show", "P"], ["show", "P", "--run", "7"]),
    ],
)
def test_an_option_means_the_same_before_and_after_the_sub_command(module, before, after):
    ap = PARSERS[module]()
    a, b = vars(ap.parse_args(before)), vars(ap.parse_args(after))
    assert a == b
    # a value given before the sub-command is not overwritten by the sub-command's default
    assert a.get("repo") in ("r", None) and (a.get("source") in ("S", None))


def test_review_list_takes_repo_after_the_sub_command_once_two_repositories_ran(fixture_repo, tmp_path):
    runs, cache = tmp_path / "runs", tmp_path / "cache"
    index = FIXTURES / "minipkg_WorkflowIndex.md"
    assert run_main([*fixture_argv(fixture_repo, index, runs, cache), "--quiet"]) == 0
    shutil.copytree(runs / "acme_minipkg", runs / "acme_other", symlinks=True)  # a second repository's runs
    both = cli("agents.review", "list", "--runs", str(runs), cache=cache)
    assert both.returncode == 2
    assert both.stderr == "error: say which repository: --repo one of acme_minipkg, acme_other\n"
    after = cli("agents.review", "list", "--repo", "acme_minipkg", "--runs", str(runs), cache=cache)
    before = cli("agents.review", "--repo", "acme_minipkg", "--runs", str(runs), "list", cache=cache)
    assert after.returncode == before.returncode == 0, after.stderr
    assert after.stdout == before.stdout
    assert re.search(r"^implementations/acme_minipkg_run_engine\.md +committed +0 ", after.stdout, re.M), after.stdout


# ---- verify: --wiki, the recorded source, latest ----------------------------------------------------


def test_verify_takes_the_wiki_as_argument_or_option_and_refuses_two(fixture_repo, tmp_path):
    runs, cache = tmp_path / "runs", tmp_path / "cache"
    assert run_main([*fixture_argv(fixture_repo, FIXTURES / "minipkg_WorkflowIndex.md", runs, cache), "--quiet"]) == 0
    wiki = runs / "acme_minipkg" / "wiki"
    positional = cli("agents.verify", str(wiki), "--source", str(fixture_repo), cache=cache)
    option = cli("agents.verify", "--wiki", str(wiki), "--source", str(fixture_repo), cache=cache)
    assert positional.returncode == option.returncode == 0, positional.stderr
    assert positional.stderr.splitlines()[-1].startswith("11 pages, 0 errors, 0 warnings")
    two = cli("agents.verify", str(wiki), "--wiki", str(tmp_path), "--source", str(fixture_repo), cache=cache)
    assert (two.returncode, two.stderr) == (2, f"error: two wikis given ({wiki} and --wiki {tmp_path}); give one\n")
    none = cli("agents.verify", "--source", str(fixture_repo), cache=cache)
    assert none.returncode == 2 and none.stderr.startswith("error: say which wiki to check")
    # a checkout's folder is not recorded (the wiki is committed elsewhere): the error says what to pass,
    # to verify and to a later run alike
    index = str(FIXTURES / "minipkg_WorkflowIndex.md")
    for module, args in (
        ("agents.verify", [str(wiki)]),
        ("agents.run", ["--repo", "acme_minipkg", "--runs", str(runs), "--workflow-index", index]),
    ):
        unrecorded = cli(module, *args, cache=cache)
        assert unrecorded.returncode == 2 and unrecorded.stderr.count("\n") == 1, unrecorded.stderr
        assert "whose folder is not recorded; pass it: --source PATH" in unrecorded.stderr
    assert len(list((runs / "acme_minipkg").glob("2*"))) == 1  # the refused run wrote nothing


@pytest.mark.peft
def test_verify_without_source_checks_against_the_recorded_archive(peft_root, tmp_path):
    runs = tmp_path / "runs"
    index = FIXTURES / "peft_replay_WorkflowIndex.md"
    argv = ["--repo", "huggingface_peft", "--source", "pypi:peft==0.18.1", "--workflow-index", str(index)]
    assert run_main([*argv, "--runs", str(runs), "--quiet"]) in (0, 1)
    wiki = runs / "huggingface_peft" / "wiki"
    proc = cli("agents.verify", str(wiki))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stderr.splitlines()
    assert lines[0] == "source: peft 0.18.1, its source archive (recorded in _reports/verified_source.json)"
    assert " 0 errors" in lines[-1]
    # a later run over the wiki without --source documents the same release (not the newest, not another)
    again = cli("agents.run", "--repo", "huggingface_peft", "--workflow-index", str(index), "--runs", str(runs))
    assert again.returncode == 0, again.stderr
    assert again.stderr.splitlines()[0] == (
        "source: peft 0.18.1, its source archive (recorded in _reports/verified_source.json); --source to document "
        "another"
    )
    assert "0 committed, 0 held, 4 skipped" in again.stderr.splitlines()[-1]


JINJA_INDEX = FIXTURES / "jinja_WorkflowIndex.md"  # two steps of the installed jinja2


def test_a_run_on_the_installed_package_and_every_later_check_read_one_layout(tmp_path):
    """jinja2 is installed with the project and registered with a src/ layout: the run says which copy
    it reads, and verify agrees with the run however that copy is named again (the record, its folder
    as the report shows it, --source latest)."""
    import jinja2

    cache = tmp_path / "cache"
    shutil.copy(JINJA_INDEX, tmp_path / "wi.md")
    proc = cli(
        "agents.run", "--repo", "pallets_jinja", "--workflow-index", "wi.md", "--quiet", cache=cache, cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    installed = Path(jinja2.__file__).parent.resolve()
    assert proc.stderr.splitlines()[0] == (
        f"source: the installed jinja2 {jinja2.__version__} at {installed} (files named src/jinja2/…; "
        f"--source pypi:jinja2=={jinja2.__version__} reads its source archive instead)"
    )
    wiki = tmp_path / "runs" / "pallets_jinja" / "wiki"
    page = (wiki / "implementations" / "pallets_jinja_Environment.md").read_text()
    assert "* '''File:''' src/jinja2/environment.py" in page
    for source in ([], ["--source", str(installed)], ["--source", "latest"]):
        check = cli("agents.verify", "--wiki", str(wiki), *source, cache=cache)
        assert check.returncode == 0, (source, check.stdout)
        assert check.stderr.splitlines()[-1].startswith("5 pages, 0 errors"), (source, check.stderr)
    recorded = cli("agents.verify", str(wiki), cache=cache)
    assert recorded.stderr.splitlines()[0] == (
        f"source: the installed jinja2 {jinja2.__version__} at {installed} (recorded in _reports/verified_source.json)"
    )


def test_source_latest_is_read_the_same_by_every_cli(tmp_path):
    cache = tmp_path / "cache"
    index = cli("tools", "index", "--repo", "pallets_jinja", "--source", "latest", "--json", cache=cache)
    assert index.returncode == 0 and '"repo": "pallets_jinja"' in index.stdout
    found = cli("tools", "--source", "latest", "--repo", "pallets_jinja", "find-symbol", "Environment", cache=cache)
    assert found.returncode == 0 and "file=src/jinja2/environment.py" in found.stdout
    bare = cli("tools", "index", "--source", "latest", cache=cache)
    assert (bare.returncode, bare.stderr) == (
        2,
        "error: --source latest reads an installed package: say which with --repo owner_name\n",
    )


# ---- tools locate: a step not found says so -------------------------------------------------------


def test_locate_says_not_found_and_why(fixture_repo, tmp_path):
    index = tmp_path / "wi.md"
    index.write_text(
        (FIXTURES / "minipkg_WorkflowIndex.md")
        .read_text()
        .replace("`run_engine(engine, jobs, retries=3)`", "`no_such_function(engine)`")
    )
    proc = cli("tools", "locate", "--source", str(fixture_repo), "--workflow-index", str(index), cache=tmp_path / "c")
    assert proc.returncode == 0, proc.stderr
    line = next(l for l in proc.stdout.splitlines() if l.startswith("Run_Jobs #2 "))
    assert line == (
        "Run_Jobs #2 acme_minipkg_run_engine: not found (confidence 0.00): no definition of no_such_function in "
        "the repository, and nothing says it belongs to another package"
    )
    assert "None" not in proc.stdout


# ---- agents.run's last line ---------------------------------------------------------------------------


def test_the_last_line_counts_steps_and_pairs_as_the_report_does_and_keeps_the_path_whole(fixture_repo, tmp_path):
    deep = tmp_path / ("a-rather-long-folder-name-" * 3) / "runs"  # longer than the terminal
    argv = fixture_argv(fixture_repo, FIXTURES / "minipkg_WorkflowIndex.md", deep, tmp_path / "cache")
    env = {**os.environ, "COLUMNS": "60"}
    proc = subprocess.run(
        [sys.executable, "-m", "agents.run", *argv], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    report = next((deep / "acme_minipkg").glob("2*/report.md")).resolve()
    assert proc.stderr.splitlines()[-1] == (
        "5 steps, 5 Principle/Implementation pairs: 5 committed, 0 held, 0 skipped (already verified); "
        f"wiki: 0 errors over 11 pages; report: {report}"
    )
    assert "- **WorkflowIndex:** " in report.read_text() and "(5 steps, 5 Principle/Implementation pairs)" in (
        report.read_text()
    )
