"""Resolve ``--repo owner_name`` (and an optional ``--source``) to a source tree on disk.

Whatever the source (checkout, source archive, installed package), files are named by
their repository-relative path (``src/peft/peft_model.py``): a ``RepoSource`` maps
between that path and the folder actually read, and refuses anything outside it.
"""

from __future__ import annotations

import importlib.metadata
import importlib.resources
import importlib.util
import json
import logging
import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Literal

import platformdirs

from tools.source.naming import REPO_RE, normalize_repo
from tools.errors import ToolError, UsageError
from tools.source.sdist import fetch_sdist, say_once, source_info

log = logging.getLogger(__name__)
CACHE_ENV = "REPOWIKI_CACHE_DIR"
_REPO_RE = REPO_RE
_SKIP_DIRS = {
    ".git",
    ".hg",
    ".svn",
    "__pycache__",
    "node_modules",
    ".tox",
    ".nox",
    ".venv",
    "venv",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".eggs",
    "site-packages",
}

Origin = Literal["path", "pypi", "installed"]


@dataclass(frozen=True)
class RegistryEntry:
    package: str
    distribution: str
    url: str
    layout: Literal["src", "flat"]


@dataclass(frozen=True)
class RepoSource:
    repo: str  # "huggingface_peft"
    root: Path  # the folder actually read (resolved, absolute)
    prefix: str  # repository-relative path of ``root``: "" for a checkout, "src/peft" for an installed package
    package: str | None  # top-level import name, when known
    url: str  # repository URL cited on pages
    origin: Origin
    version: str | None
    revision: str | None  # git HEAD or archive sha256

    def repo_path(self, physical: Path) -> str:
        rel = physical.relative_to(self.root).as_posix()
        if not self.prefix:
            return rel
        return self.prefix if rel == "." else f"{self.prefix}/{rel}"

    def physical(self, repo_path: str) -> Path:
        """The file for a repository-relative path, confined to the root (ToolError otherwise)."""
        return confine(self, repo_path)


def confine(source: RepoSource, repo_path: str) -> Path:
    raw = str(repo_path).strip()
    if raw in ("", ".", "/"):
        raw = "."
    if raw.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:[\\/]", raw) or raw.startswith("~"):
        raise ToolError(f"path {repo_path!r} is absolute; give a path relative to the repository root")
    posix = PurePosixPath(raw.replace("\\", "/"))
    if ".." in posix.parts:
        raise ToolError(f"path {repo_path!r} contains '..'; give a path inside the repository root")
    rel = posix.as_posix()
    if source.prefix:
        if rel == ".":
            rel = source.prefix
        if rel != source.prefix and not rel.startswith(source.prefix + "/") and not source.prefix.startswith(rel + "/"):
            raise ToolError(f"path {repo_path!r} is not part of this source (only {source.prefix}/ is available)")
        if source.prefix.startswith(rel + "/"):
            rel = "."  # an ancestor of the available part: show the part we have
        else:
            rel = rel[len(source.prefix) :].lstrip("/") or "."
    candidate = source.root / rel
    resolved = candidate.resolve()
    if resolved != source.root and source.root not in resolved.parents:
        raise ToolError(f"path {repo_path!r} leads outside the repository root (a symlink?); it is refused")
    return resolved


@lru_cache(maxsize=1)
def registry() -> dict[str, RegistryEntry]:
    text = importlib.resources.files("tools.source").joinpath("registry.json").read_text(encoding="utf-8")
    return {k: RegistryEntry(**v) for k, v in json.loads(text).items()}


def default_cache_dir() -> Path:
    env = os.environ.get(CACHE_ENV)
    return Path(env).expanduser() if env else Path(platformdirs.user_cache_dir("repowiki"))


def repo_name(value: str) -> str:
    """An ``owner_name`` repo name (WIKI_FORMAT §2), normalised as §2 says: ``vllm-project_vllm``
    and ``vllm-project/vllm`` both give ``vllm_project_vllm``."""
    name = normalize_repo(value or "")
    if not _REPO_RE.match(name):
        raise UsageError(
            f"bad repo name {value!r}: write owner_name with letters, digits and '_' (e.g. huggingface_peft)"
        )
    return name


LATEST = "latest"  # --source latest: the installed package, else the newest source archive (every CLI)


def resolve_repo(repo: str, source: str | None = None, cache_dir: Path | None = None) -> RepoSource:
    repo_name(repo)
    cache_dir = cache_dir or default_cache_dir()
    if source == LATEST:
        source = None
    entry = registry().get(repo)
    url = entry.url if entry else _guess_url(repo)
    if source is None and entry is None:
        known = ", ".join(sorted(registry()))
        raise UsageError(
            f"unknown repo {repo!r}: pass --source PATH (a checkout) or --source pypi:PACKAGE, or use a known repo ({known})"
        )
    if source is not None and source.startswith("pypi:"):
        root = fetch_sdist(source[len("pypi:") :], cache_dir)
        return _from_tree(repo, root, url, "pypi", entry)
    if source is not None:
        path = Path(source).expanduser()
        if not path.exists():
            raise UsageError(f"source path {source!r} does not exist; pass a checkout folder or pypi:PACKAGE==VERSION")
        if not path.is_dir():
            raise UsageError(f"source path {source!r} is not a folder; pass the root of a checkout or unpacked archive")
        # the folder of an installed package (a path copied from a report) is read as the installed
        # package is, with the same repository paths: one layout for the run and every later check
        return installed_at(repo, path, entry) or _from_tree(repo, path, url, "path", entry)
    assert entry is not None
    installed = installed_source(entry.package, repo, entry)
    if installed is not None:
        say_once(
            "source: the installed %s %s at %s (files named %s/…; --source pypi:%s==%s reads its source archive "
            "instead)",
            entry.distribution,
            installed.version or "(version unknown)",
            installed.root,
            installed.prefix,
            entry.distribution,
            installed.version or "VERSION",
        )
        return installed
    say_once("%s is not installed here; using its newest source archive instead", entry.distribution)
    root = fetch_sdist(entry.distribution, cache_dir)
    return _from_tree(repo, root, url, "pypi", entry)


def installed_source(package: str, repo: str | None = None, entry: RegistryEntry | None = None) -> RepoSource | None:
    """The installed copy of ``package`` (never imported), mapped back to repository paths."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    entry = entry or next((e for e in registry().values() if e.package == package), None)
    pkg_dir = Path(next(iter(spec.submodule_search_locations))).resolve()
    # Unregistered packages keep their import layout (json/decoder.py): their repository is unknown.
    prefix = f"src/{package}" if entry is not None and entry.layout == "src" else package
    version = _installed_version(entry.distribution if entry else package)
    repo = repo or next((r for r, e in registry().items() if e.package == package), f"external_{package}")
    url = entry.url if entry else f"https://pypi.org/project/{package}"
    log.info("using the installed %s %s at %s as %s/", package, version, pkg_dir, prefix)
    src = RepoSource(repo, pkg_dir, prefix, package, url, "installed", version, None)
    _require_python(src)
    return src


def installed_at(repo: str, path: Path, entry: RegistryEntry | None) -> RepoSource | None:
    """``path`` read as an installed package when it is one: an import package inside a
    ``site-packages`` (or ``dist-packages``) folder. Its repository paths are those a run on the
    installed package gives (``src/requests/sessions.py`` for a src-layout repository)."""
    root = path.resolve()
    if not (root / "__init__.py").is_file() or not any(
        p.name in ("site-packages", "dist-packages") for p in root.parents
    ):
        return None
    ours = entry is not None and entry.package == root.name
    dist = entry.distribution if entry is not None and ours else root.name
    prefix = f"src/{root.name}" if entry is not None and ours and entry.layout == "src" else root.name
    url = entry.url if entry is not None else _guess_url(repo)
    src = RepoSource(repo, root, prefix, root.name, url, "installed", _version_beside(root, dist), None)
    _require_python(src)
    return src


def _version_beside(pkg_dir: Path, dist: str) -> str | None:
    """The version in the ``*.dist-info`` next to an installed package folder (the one installed there,
    whichever environment this process runs in)."""
    want = re.sub(r"[-_.]+", "_", dist).lower()
    for info in sorted(pkg_dir.parent.glob("*.dist-info")):
        name, _, version = info.name.removesuffix(".dist-info").rpartition("-")
        if re.sub(r"[-_.]+", "_", name).lower() == want and version:
            return version
    return None


def _from_tree(repo: str, path: Path, url: str, origin: Origin, entry: RegistryEntry | None) -> RepoSource:
    root = path.resolve()
    info = source_info(root)
    version = info["requirement"].split("==", 1)[1] if info else None
    revision = info["sha256"] if info else _git_head(root)
    package = entry.package if entry else guess_package(root)
    src = RepoSource(repo, root, "", package, url, origin, version, revision)
    _require_python(src)
    return src


def _require_python(src: RepoSource) -> None:
    for _ in iter_python_files(src):
        return
    raise UsageError(f"no Python files under {src.root}; pass the root of a Python project with --source")


def iter_files(src: RepoSource, suffixes: tuple[str, ...] = (".py",)) -> Iterator[tuple[Path, str]]:
    """Yield (physical path, repo path) of files with these suffixes; never descends into
    symlinked folders or tool caches (a symlinked file is yielded: callers check where it leads)."""
    for dirpath, dirnames, filenames in os.walk(src.root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS and not d.endswith(".egg-info"))
        for fname in sorted(filenames):
            if fname.endswith(suffixes):
                p = Path(dirpath) / fname
                yield p, src.repo_path(p)


def iter_python_files(src: RepoSource) -> Iterator[tuple[Path, str]]:
    return iter_files(src, (".py",))


def _installed_version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _git_head(root: Path) -> str | None:
    if not (root / ".git").exists():
        return None
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def _guess_url(repo: str) -> str:
    owner, _, name = repo.partition("_")
    return f"https://github.com/{owner}/{name}"


def guess_package(root: Path) -> str | None:
    """The top-level package of a tree: the one under src/, else the first one at the root."""
    for base in (root / "src", root):
        if base.is_dir():
            pkgs = sorted(
                p.name
                for p in base.iterdir()
                if (p / "__init__.py").is_file() and p.name not in ("tests", "test", "docs", "examples")
            )
            if pkgs:
                return pkgs[0]
    return None
