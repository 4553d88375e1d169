"""The fixture repository, copied into a temporary folder and given the files git cannot carry well
(a symlink out of the root, non-UTF-8 bytes, a huge file). A module of its own (not conftest) so that
tests in sub-folders and the benchmarks can import it by one unambiguous name."""

from __future__ import annotations

import shutil
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"


def make_fixture_repo(base: Path) -> Path:
    repo = base / "minirepo"
    shutil.copytree(FIXTURES / "minirepo", repo)
    pkg = repo / "src" / "minipkg"
    outside = base / "outside"
    outside.mkdir()
    (outside / "secret.py").write_text("def secret():\n    return 'token'\n")
    (pkg / "escape.py").symlink_to(outside / "secret.py")
    (repo / "linked_dir").symlink_to(outside, target_is_directory=True)
    (pkg / "latin.py").write_bytes("def caf\xe9():\n    return '\xe9'\n".encode("latin-1"))
    (pkg / "cookie.py").write_bytes("# -*- coding: latin-1 -*-\ndef cafe():\n    return '\xe9'\n".encode("latin-1"))
    (pkg / "blob.py").write_bytes(b"\x00\x01\x02binary")
    (pkg / "huge.py").write_text("# filler\n" * (4 * 1024 * 1024 // 9 + 1))
    return repo


def fixture_argv(source: str | Path, index: str | Path, runs: str | Path, cache: str | Path | None = None) -> list[str]:
    """The arguments of a run over the fixture repository: its name, source, WorkflowIndex, runs
    folder and (if given) cache folder; each test adds the options it is about."""
    argv = ["--repo", "acme_minipkg", "--source", str(source), "--workflow-index", str(index), "--runs", str(runs)]
    return argv + (["--cache-dir", str(cache)] if cache is not None else [])
