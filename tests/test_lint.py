"""The checks the project holds itself to, run as part of the tests so CI enforces them: lint and
format (pyproject.toml [tool.ruff]), the layers (import-linter contracts, [tool.importlinter]) and
types (mypy --strict over tools/, agents/ and prompts/, [tool.mypy]). Each tool comes with the dev extra."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(module: str, *args: str, code: str | None = None) -> subprocess.CompletedProcess[str]:
    if importlib.util.find_spec(module) is None:
        pytest.fail(f"{module} is not installed: pip install -e '.[dev]'")
    cmd = ["-c", code, *args] if code else ["-m", module, *args]
    return subprocess.run([sys.executable, *cmd], capture_output=True, text=True, cwd=ROOT)


def test_ruff_finds_nothing():
    p = _run("ruff", "check", "--output-format", "concise", ".")
    assert p.returncode == 0, p.stdout + p.stderr


def test_the_layers_hold():
    p = _run(
        "importlinter",
        "--no-cache",
        code="import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())",
    )
    assert p.returncode == 0 and "0 broken" in p.stdout, p.stdout + p.stderr


def test_types_check_strictly():
    p = _run("mypy")
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr


def test_the_code_is_formatted():
    p = _run("ruff", "format", "--check", ".")
    assert p.returncode == 0, p.stdout + p.stderr + "\nrun: ruff format ."
