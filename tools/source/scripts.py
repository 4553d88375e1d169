"""The console scripts a source declares: what a command-line step (``vllm serve …``) runs.

A command is documented through the function its console script names (``vllm =
"vllm.entrypoints.cli.main:main"``), read from the package metadata at the source root:
``pyproject.toml`` (``[project.scripts]``, Poetry's ``[tool.poetry.scripts]``), ``setup.cfg``
(``[options.entry_points] console_scripts``) and ``setup.py`` (a literal ``entry_points=`` of its
``setup()`` call, read with ``ast``, never run). Only files inside the source root are read; an installed
copy (its metadata lies beside it, outside the root) declares none.
"""

from __future__ import annotations

import ast
import configparser
import re
import tomllib
from typing import NamedTuple

from tools import pyast
from tools.errors import ToolError
from tools.source.resolve import RepoSource

_SPEC = re.compile(r"^\s*(?P<name>[\w.-]+)\s*=\s*(?P<module>[\w.]+)\s*:\s*(?P<attr>[\w.]+)\s*(?:\[.*\])?\s*$")


class ConsoleScript(NamedTuple):
    name: str  # the command a user types: "vllm"
    module: str  # "vllm.entrypoints.cli.main"
    attr: str  # "main" (may be dotted: "Cli.run")
    declared_in: str  # "pyproject.toml [project.scripts]"


def console_scripts(src: RepoSource) -> dict[str, ConsoleScript]:
    """Command name -> its entry point, as the source's metadata files declare them (the first
    declaration of a name wins, in the order pyproject.toml, setup.cfg, setup.py)."""
    out: dict[str, ConsoleScript] = {}
    if src.prefix:  # an installed copy: no metadata file inside its root
        return out
    for where, specs in (*_pyproject(src), *_setup_cfg(src), *_setup_py(src)):
        for spec in specs:
            m = _SPEC.match(spec)
            if m and m.group("name") not in out:
                out[m.group("name")] = ConsoleScript(m.group("name"), m.group("module"), m.group("attr"), where)
    return out


def _text(src: RepoSource, name: str) -> str | None:
    try:
        path = src.physical(name)
    except ToolError:
        return None
    return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else None


def _pyproject(src: RepoSource) -> list[tuple[str, list[str]]]:
    text = _text(src, "pyproject.toml")
    if text is None:
        return []
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return []
    out = []
    for where, table in (
        ("pyproject.toml [project.scripts]", data.get("project", {}).get("scripts")),
        ("pyproject.toml [tool.poetry.scripts]", data.get("tool", {}).get("poetry", {}).get("scripts")),
    ):
        if isinstance(table, dict):
            out.append((where, [f"{k} = {v}" for k, v in table.items() if isinstance(v, str)]))
    return out


def _setup_cfg(src: RepoSource) -> list[tuple[str, list[str]]]:
    text = _text(src, "setup.cfg")
    if text is None:
        return []
    cfg = configparser.ConfigParser(interpolation=None)
    try:
        cfg.read_string(text)
    except configparser.Error:
        return []
    value = cfg.get("options.entry_points", "console_scripts", fallback="")
    return [("setup.cfg [options.entry_points] console_scripts", [l for l in value.splitlines() if l.strip()])]


def _setup_py(src: RepoSource) -> list[tuple[str, list[str]]]:
    text = _text(src, "setup.py")
    if text is None:
        return []
    try:
        tree = pyast.parse(text)
    except SyntaxError:
        return []
    # module-level names bound to literals: entry_points=ENTRY_POINTS is common
    names: dict[str, ast.expr] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            names[stmt.targets[0].id] = stmt.value
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        for kw in node.keywords:
            if kw.arg != "entry_points":
                continue
            value = names.get(kw.value.id, kw.value) if isinstance(kw.value, ast.Name) else kw.value
            try:
                entry_points = ast.literal_eval(value)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                continue
            specs = entry_points.get("console_scripts") if isinstance(entry_points, dict) else None
            if isinstance(specs, str):
                specs = specs.splitlines()
            if isinstance(specs, (list, tuple)):
                return [("setup.py entry_points console_scripts", [s for s in specs if isinstance(s, str)])]
    return []
