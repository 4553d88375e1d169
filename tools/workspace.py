"""A Workspace bundles what every tool needs: the resolved source, its index and name resolution."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from tools.index import Index, build_index
from tools.names import Names
from tools.resolve import RepoSource, guess_package, registry, resolve_repo


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


def open_workspace(repo: str | None, source: str | None, cache_dir: Path | None = None,
                   workers: int | None = None) -> Workspace:
    src = resolve_repo(repo or guess_repo(source), source, cache_dir)
    return Workspace(src, build_index(src, cache_dir, workers=workers))


def guess_repo(source: str | None) -> str:
    """A repo name when only ``--source`` is given: the registry entry of the package it holds."""
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
