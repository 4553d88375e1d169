"""Shared fixtures. The fixture repository is copied into a temporary folder and given the
files git cannot carry well (a symlink out of the root, non-UTF-8 bytes, a huge file)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.index.build import build_index
from tools.source.resolve import default_cache_dir, resolve_repo
from tools.source.sdist import fetch_sdist
from tools.index.workspace import Workspace

from fixture_repo import FIXTURES, make_fixture_repo  # noqa: F401 (re-exported for the tests)

collect_ignore_glob = ["fixtures/*"]
PEFT_VERSION = "0.18.1"


@pytest.fixture
def fixture_repo(tmp_path: Path) -> Path:
    return make_fixture_repo(tmp_path)


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture
def ws(fixture_repo: Path, cache_dir: Path) -> Workspace:
    src = resolve_repo("acme_minipkg", str(fixture_repo), cache_dir)
    return Workspace(src, build_index(src, cache_dir))


@pytest.fixture(scope="session")
def peft_root() -> Path:
    """peft's source archive from the package index, cached (.ci/run fetches it before the tests)."""
    return fetch_sdist(f"peft=={PEFT_VERSION}", default_cache_dir())


@pytest.fixture(scope="session")
def peft_ws(peft_root: Path) -> Workspace:
    src = resolve_repo("huggingface_peft", str(peft_root))
    return Workspace(src, build_index(src))


@pytest.fixture(scope="session")
def unsloth_root() -> Path:
    """unsloth's source archive (a library whose methods are attached at run time), cached."""
    return fetch_sdist("unsloth==2025.12.6", default_cache_dir())
