"""Run a command with one folder read-only, in a way root cannot write through: an unprivileged user
gets the folder's mode taken away; root (as in CI) gets a read-only bind mount in a private mount
namespace, where writes fail with EROFS whatever the permissions."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_MOUNT = 'mount --bind -o ro "$0" "$0" || exit 97; shift; exec "$@"'


def run_read_only(folder: Path, module: str, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", module, *args]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    if os.geteuid() != 0:
        mode = folder.stat().st_mode
        folder.chmod(0o555)
        try:
            return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env)
        finally:
            folder.chmod(mode)
    if shutil.which("unshare") is None:
        pytest.skip("root, and no unshare(1) for a read-only mount")
    p = subprocess.run(
        ["unshare", "--mount", "sh", "-c", _MOUNT, str(folder), "--", *cmd],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
    )
    if p.returncode == 97:
        pytest.skip(f"root, and this machine refuses a private read-only mount: {p.stderr.strip()[:200]}")
    return p
