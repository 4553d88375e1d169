"""A library's teaching material, in order of authority: the README, docs/ (Markdown, reST,
notebooks), examples/, the examples in the docstrings of its source, then its tests.

Files are read as bytes and decoded as text; nothing is imported or run. Whatever cannot be read
safely is skipped with its reason (and logged): a file larger than ``MAX_BYTES``, a binary file
with a text suffix, a link that leads out of the root or in a circle, a notebook that is not JSON.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Literal, NamedTuple, TypedDict

from tools.errors import ToolError
from tools.index.workspace import Workspace
from tools.navigate import area
from tools.source.resolve import confine, iter_files
from tools.usage.blocks import Block, Blocks, docstring_blocks, markdown_blocks, notebook_blocks, rst_blocks

log = logging.getLogger(__name__)
MAX_BYTES = 4 * 1024 * 1024
MAX_SOURCES = 20000  # units of material read in all; beyond it the rest is skipped, said once

Origin = Literal["readme", "docs", "examples", "docstring", "tests"]
ORIGINS: tuple[Origin, ...] = ("readme", "docs", "examples", "docstring", "tests")
_TEXT_SUFFIXES = (".md", ".mdx", ".rst", ".txt", ".ipynb")
# project paperwork, not teaching material
_PAPERWORK = re.compile(
    r"^(CHANGE|HISTORY|CONTRIBUT|CODE_OF_CONDUCT|LICEN[CS]E|SECURITY|NEWS|RELEASE|AUTHORS|MAINTAIN|NOTICE)", re.I
)


class Skip(TypedDict):
    file: str
    reason: str


class Material(NamedTuple):
    """One unit of material that shares one scope: a document's code blocks (a tutorial's later
    blocks use what the earlier ones imported), one docstring's examples, or a whole ``.py`` file
    whose functions are each a scope of their own."""

    file: str
    origin: Origin
    blocks: tuple[Block, ...]
    python_file: bool  # a whole .py file (examples, tests): each top-level function is its own scope
    title: str  # the docstring's owner ("Session", "PeftModel.merge_and_unload"), else ""


def origin_of(rel: str) -> Origin | None:
    """Where a file stands in the order of authority, or None when it is not teaching material."""
    name = rel.rsplit("/", 1)[-1]
    if _PAPERWORK.match(name):
        return None
    if "/" not in rel and name.lower().startswith("readme") and name.endswith(_TEXT_SUFFIXES):
        return "readme"
    where = area(rel)
    if where == "docs" and name.endswith(_TEXT_SUFFIXES + (".py",)) and name != "conf.py":
        return "docs"
    if where == "examples" and name.endswith(_TEXT_SUFFIXES + (".py",)):
        return "examples"
    if where == "tests" and name.endswith(".py") and not name.startswith("conftest"):
        return "tests"
    if where == "source" and name.endswith(".py"):
        return "docstring"
    return None


def _read(ws: Workspace, phys: Path, rel: str, skips: list[Skip]) -> str | None:
    def skip(reason: str) -> None:
        skips.append({"file": rel, "reason": reason})
        log.info("teaching material %s skipped: %s", rel, reason)

    try:
        confine(ws.source, rel)
        size = phys.stat().st_size
    except ToolError as exc:
        skip(str(exc))
        return None
    except RuntimeError:  # pathlib's resolve() on a link in a circle (Python 3.11)
        skip("cannot be read (a symbolic link in a circle)")
        return None
    except OSError as exc:  # a broken link, or a link in a circle (ELOOP)
        skip(f"cannot be read ({exc.strerror or exc})")
        return None
    if size > MAX_BYTES:
        skip(f"{size} bytes, over the {MAX_BYTES}-byte limit")
        return None
    try:
        data = phys.read_bytes()
    except OSError as exc:
        skip(f"cannot be read ({exc.strerror or exc})")
        return None
    if b"\x00" in data[:8192]:
        skip("binary content under a text name")
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        skip("not UTF-8 text")
        return None


def _blocks(rel: str, text: str) -> Blocks:
    if rel.endswith(".ipynb"):
        return notebook_blocks(text)
    if rel.endswith(".rst"):
        return rst_blocks(text)
    return markdown_blocks(text)


def _docstring_sessions(ws: Workspace, rel: str, blocks: list[Block]) -> Iterator[Material]:
    """Docstring examples grouped by the innermost definition around them (a doctest session's
    names carry across its blocks), the module's own docstring as one more group."""
    symbols = sorted(ws.index.file_symbols(rel), key=lambda s: s.end_line - s.start_line)
    groups: dict[str, list[Block]] = {}
    for b in blocks:
        line = b.lines[0][0]
        owner = next((s for s in symbols if s.start_line <= line <= s.end_line), None)
        key = owner.qualname if owner is not None else ""
        groups.setdefault(key, []).append(b)
    for key in sorted(groups, key=lambda k: groups[k][0].lines[0][0]):
        if "<locals>" in key or any(p.startswith("_") and not p.startswith("__") for p in key.split(".")):
            continue  # examples of private helpers teach no public use
        yield Material(rel, "docstring", tuple(groups[key]), False, key)


def teaching_material(ws: Workspace, skips: list[Skip]) -> list[Material]:
    """Every unit of material, in order of authority, then path, then line."""
    found: list[Material] = []
    for phys, rel in iter_files(ws.source, _TEXT_SUFFIXES + (".py",)):
        origin = origin_of(rel)
        if origin is None:
            continue
        if origin == "docstring":
            rec = ws.index.records.get(rel)
            if rec is None or rec.status == "skipped":
                continue
        text = _read(ws, phys, rel, skips)
        if text is None:
            continue
        if rel.endswith(".py") and origin != "docstring":
            lines = tuple(enumerate(text.splitlines(), 1))
            found.append(Material(rel, origin, (Block(lines, ""),), True, ""))
            if origin in ("examples", "docs"):
                # an example script teaches through its docstrings too
                found += _docstring_sessions(ws, rel, docstring_blocks(text).blocks)
            continue
        if origin == "docstring" and not any(m in text for m in (">>>", "```", ".. code")):
            continue
        try:
            got = docstring_blocks(text) if origin == "docstring" else _blocks(rel, text)
        except (ValueError, RecursionError) as exc:
            skips.append({"file": rel, "reason": f"not readable as {rel.rsplit('.', 1)[-1]} ({exc})"[:200]})
            log.info("teaching material %s skipped: %s", rel, exc)
            continue
        if got.cut:
            skips.append({"file": rel, "reason": f"{got.cut} code blocks beyond the first {len(got.blocks)} left out"})
            log.info("teaching material %s: %d code blocks left out", rel, got.cut)
        if not got.blocks:
            continue
        if origin == "docstring":
            found += _docstring_sessions(ws, rel, got.blocks)
        else:
            found.append(Material(rel, origin, tuple(got.blocks), False, ""))
    found.sort(key=lambda m: (ORIGINS.index(m.origin), m.file, m.blocks[0].lines[0][0] if m.blocks[0].lines else 0))
    if len(found) > MAX_SOURCES:
        skips.append({"file": "", "reason": f"{len(found) - MAX_SOURCES} units of material beyond {MAX_SOURCES}"})
        found = found[:MAX_SOURCES]
    return found
