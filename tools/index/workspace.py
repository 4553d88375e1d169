"""A Workspace bundles what every tool needs: the resolved source, its index and name resolution."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from tools.index.build import Index, build_index
from tools.index.names import Names
from tools.errors import UsageError
from tools.source.resolve import LATEST, RepoSource, guess_package, installed_source, registry, resolve_repo
from tools.index.records import Symbol

log = logging.getLogger(__name__)


@dataclass
class Workspace:
    source: RepoSource
    index: Index
    names: Names = field(init=False)

    def __post_init__(self) -> None:
        self.names = Names(self.index)

    @cached_property
    def package(self) -> str | None:
        if self.source.package and self.source.package in self.index.modules:
            return self.source.package
        return self.names.packages[0] if self.names.packages else None


_installed: dict[tuple[str, str | None], "Workspace | None"] = {}
_installed_lock = threading.Lock()


def installed_workspace(package: str, cache_dir: Path | None = None) -> "Workspace | None":
    """The installed copy of another package, indexed once per process and cache folder (None when it
    is not installed, or cannot be indexed: its facts then stay unchecked, never guessed)."""
    key = (package, str(cache_dir) if cache_dir else None)
    with _installed_lock:
        if key not in _installed:
            ws = None
            try:
                src = installed_source(package)
                if src is not None:
                    ws = Workspace(src, build_index(src, cache_dir))
            except UsageError as exc:
                log.warning("cannot index the installed %s (%s)", package, exc)
            _installed[key] = ws
        return _installed[key]


def open_workspace(
    repo: str | None, source: str | None, cache_dir: Path | None = None, workers: int | None = None
) -> Workspace:
    src = resolve_repo(repo or guess_repo(source), source, cache_dir)
    return Workspace(src, build_index(src, cache_dir, workers=workers))


def guess_repo(source: str | None) -> str:
    """A repo name when only ``--source`` is given: the registry entry of the package it holds."""
    if source == LATEST:
        raise UsageError("--source latest reads an installed package: say which with --repo owner_name")
    if source and source.startswith("pypi:"):
        pkg = source[5:].split("==")[0].lower()
    elif source:
        pkg = guess_package(Path(source).expanduser()) or Path(source).name
    else:
        pkg = ""
    for name, entry in registry().items():
        if entry.package == pkg or entry.distribution == pkg:
            return name
    clean = "".join(c if c.isalnum() else "_" for c in pkg).strip("_") or "source"
    return f"local_{clean}"


def symbol_at(ws: Workspace, file: str | None, qualname: str | None, start: int | None) -> Symbol | None:
    if not file or not qualname:
        return None
    return next((s for s in ws.index.file_symbols(file) if s.qualname == qualname and s.start_line == start), None)
