"""The README's commands run as written, in its order, in a folder laid out like a fresh clone (its files
linked, an empty ``runs/`` that git ignores): a newcomer copying them meets no error. Commands that need a
model endpoint are parsed by their CLI and their model settings checked; the benchmarks' options are
checked against their ``--help`` (they run for minutes over ../shared); ``pip install`` and the test
suite itself are the set-up this suite already ran. Any other line fails the test: the README shows
only what is run here."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from agents.nodes.plan import plan_pairs
from agents.run import shipped_workflow_index

pytestmark = pytest.mark.peft  # the commands read the peft releases the README's test command fetches
ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
OURS = ("agents.run", "agents.verify", "agents.review", "agents.update", "tools")
LEFT_OUT = {".git", ".venv", "runs", "build", ".pytest_cache", ".mypy_cache", ".hypothesis", ".bench-src"}


def readme_commands(text: str) -> list[tuple[str, int]]:
    """Every command of the README's ``bash`` blocks, in order, with the exit code its comment states
    (``# exit 1: …``; 0 when it states none): continuation lines joined, ``&&`` chains split."""
    out: list[tuple[str, int]] = []
    for block in re.findall(r"^ *```bash\n(.*?)^ *```", text, re.S | re.M):
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            words = shlex.split(line, comments=True)
            stated = re.search(r"#\s*exit (\d+)\b", line)
            if words:
                out += [(c.strip(), int(stated.group(1)) if stated else 0) for c in shlex.join(words).split(" '&&' ")]
    return out


def _sandbox(tmp_path: Path) -> Path:
    """A folder that looks like a fresh clone: the project's files linked, runs/ empty but for its
    .gitignore, in a git working tree with one commit (agents.update needs one)."""
    clone = tmp_path / "clone"
    clone.mkdir()
    for entry in ROOT.iterdir():
        if entry.name == ".gitignore":
            shutil.copy(entry, clone / entry.name)  # git reads no linked .gitignore
        elif entry.name not in LEFT_OUT and not entry.name.endswith(".egg-info"):
            (clone / entry.name).symlink_to(entry)
    (clone / "runs").mkdir()
    shutil.copy(ROOT / "runs" / ".gitignore", clone / "runs" / ".gitignore")
    git = ["git", "-C", str(clone), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "runs/.gitignore"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "clone"], check=True)
    return clone


def _needs_endpoint(words: list[str]) -> bool:
    return ("--model" in words or "--base-url" in words) and "--replay" not in words


def _check_model_command(words: list[str], cwd: Path) -> None:
    """What can be checked without an endpoint: the parser takes it, the model settings are whole."""
    from agents.run import build_parser, model_settings

    args = build_parser().parse_args(words[3:])
    here = Path.cwd()
    os.chdir(cwd)
    try:
        settings = model_settings(args)
    finally:
        os.chdir(here)
    assert settings is not None and settings["model"] == args.model


def _check_bench(words: list[str], cwd: Path, env: dict[str, str]) -> None:
    shown = subprocess.run([sys.executable, words[1], "--help"], cwd=cwd, env=env, capture_output=True, text=True)
    assert shown.returncode == 0, shown.stderr
    unknown = [w for w in words[2:] if w.startswith("--") and w not in shown.stdout]
    assert not unknown, f"{shlex.join(words)}: {unknown} not in its --help"


def test_the_readme_commands_run_as_written(tmp_path):
    clone = _sandbox(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "REPOWIKI_"))}
    ran: list[str] = []
    for command, code in readme_commands(README.read_text(encoding="utf-8")):
        words = shlex.split(command)
        if words[:2] == ["pip", "install"] or words[:3] == ["python", "-m", "pytest"] or words[0] == "export":
            continue  # the set-up this test suite runs in
        if words[0] == "echo" and words[-2:-1] == [">"]:  # a file the next commands read
            (clone / words[-1]).write_text(" ".join(words[1:-2]) + "\n", encoding="utf-8")
            continue
        if words[:1] == ["python"] and words[1].startswith("bench/"):
            _check_bench(words, clone, env)
            continue
        assert words[:2] == ["python", "-m"] and words[2] in OURS, f"the README shows a command not run here: {command}"
        if _needs_endpoint(words):
            _check_model_command(words, clone)
            continue
        proc = subprocess.run(
            [sys.executable, *words[1:]], cwd=clone, env=env, capture_output=True, text=True, timeout=600
        )
        assert proc.returncode == code, (
            f"{command}\nexit {proc.returncode}\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
        )
        assert "Traceback" not in proc.stderr, command
        ran.append(words[2])
    assert set(ran) == set(OURS), f"every CLI is shown and run: {sorted(set(OURS) - set(ran))} missing"


def test_the_readme_counts_steps_and_pairs_of_the_shipped_indexes_as_a_run_does():
    text = " ".join(README.read_text(encoding="utf-8").split())
    for repo, release in (("huggingface_peft", "peft 0.18.1"), ("huggingface_transformers", "transformers 5.0.0")):
        wi = shipped_workflow_index(repo)
        assert wi is not None
        jobs, _ = plan_pairs(wi)
        assert f"{release}: {len(wi.steps)} steps, {len(jobs)} Principle/Implementation pairs" in text, repo


def test_commands_inside_the_readme_prose_use_options_their_cli_has():
    """Synopses in the text (``python -m agents.review pick PAGE N``) name only real options."""
    from test_cli_grammar import PARSERS

    text = README.read_text(encoding="utf-8")
    prose = re.sub(r"^ *```bash\n.*?^ *```", "", text, flags=re.S | re.M)
    spans = re.findall(r"`(python -m [\w.]+[^`]*)`", prose)
    assert spans
    for span in spans:
        module = span.split()[2]
        if module not in PARSERS:
            continue
        parser = PARSERS[module]()
        known = {o for a in parser._actions for o in a.option_strings}
        for sub in parser._subparsers._group_actions[0].choices.values() if parser._subparsers else []:
            known |= {o for a in sub._actions for o in a.option_strings}
        if module == "agents.update":
            known |= {o for a in PARSERS["agents.run"]()._actions for o in a.option_strings}
        used = set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", span))
        assert used <= known, (span, used - known)
