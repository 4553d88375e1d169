"""Fetch a source distribution from the package index with pip, check it, unpack it into a cache.

A pinned requirement (``peft==0.18.1``) already in the cache is reused without the network.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path
from typing import TypedDict

from tools.atomic import atomic_write
from tools.errors import UsageError

log = logging.getLogger(__name__)
_REQ_RE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:==([A-Za-z0-9][A-Za-z0-9.+!_-]*))?$")
_DONE = ".repowiki-source.json"


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_requirement(req: str) -> tuple[str, str | None]:
    m = _REQ_RE.match(req.strip())
    if not m:
        raise UsageError(
            f"bad package requirement {req!r}: write pypi:NAME or pypi:NAME==VERSION (e.g. pypi:peft==0.18.1)"
        )
    return m.group(1), m.group(2)


class SourceMarker(TypedDict):
    """What ``fetch_sdist`` writes next to an unpacked archive (``.repowiki-source.json``)."""

    requirement: str  # "peft==0.18.1"
    archive: str  # the archive's file name
    sha256: str


LATEST_TTL = 86400  # seconds a package index answer about the newest release is trusted
_said: set[str] = set()


def say_once(msg: str, *args: object) -> None:
    """A warning printed once per process, however many nodes resolve the same source."""
    text = msg % args if args else msg
    if text not in _said:
        _said.add(text)
        log.warning("%s", text)


def _latest_file(sources: Path) -> Path:
    return sources / ".latest.json"


def _known_latest(sources: Path, name: str) -> str | None:
    try:
        data = json.loads(_latest_file(sources).read_text(encoding="utf-8"))
        entry = data[_norm(name)]
        if time.time() - float(entry["at"]) < LATEST_TTL:
            return str(entry["version"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return None


def _remember_latest(sources: Path, name: str, version: str) -> None:
    path = _latest_file(sources)
    try:
        data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except (OSError, ValueError):
        data = {}
    data[_norm(name)] = {"version": version, "at": time.time()}
    try:
        atomic_write(path, json.dumps(data, indent=1))
    except OSError:
        pass  # a cache, not a record: the next run asks the index again


def fetch_sdist(req: str, cache_dir: Path) -> Path:
    """Return the unpacked source root for ``req`` (``NAME`` or ``NAME==VERSION``). The newest
    release (no version) is looked up once a day: repeated runs are offline and quick."""
    name, version = parse_requirement(req)
    sources = cache_dir / "sources"
    if not version:
        known = _known_latest(sources, name)
        if known and _cached(sources / f"{_norm(name)}-{known}") is not None:
            say_once(
                "%s %s is the newest release the package index named in the last day (cached; "
                "pass pypi:%s==VERSION to pin one)",
                _norm(name),
                known,
                _norm(name),
            )
            return sources / f"{_norm(name)}-{known}"
    if version:
        cached = _cached(sources / f"{_norm(name)}-{version}")
        if cached is not None:
            return cached
    try:
        sources.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(
            f"cannot create the source cache {sources} ({exc.strerror}); set --cache-dir or REPOWIKI_CACHE_DIR to a writable folder"
        ) from exc
    spec = f"{name}=={version}" if version else name
    say_once("fetching the source archive of %s from the package index into %s", spec, sources)
    with tempfile.TemporaryDirectory(dir=sources, prefix=".download-") as tmp:
        dl = Path(tmp) / "dl"
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--no-binary",
                ":all:",
                "--disable-pip-version-check",
                "-q",
                spec,
                "-d",
                str(dl),
            ],
            capture_output=True,
            text=True,
        )
        archives = sorted(p for p in dl.glob("*") if p.suffix in (".gz", ".zip")) if dl.exists() else []
        if proc.returncode != 0 or not archives:
            why = (proc.stderr.strip().splitlines() or ["no archive downloaded"])[-1]
            raise UsageError(
                f"could not download the source archive of {spec} ({why}); check the name and version, or pass --source PATH to a checkout"
            )
        archive = archives[0]
        got_version = version or _version_from_archive(archive.name, name)
        if not version:
            _remember_latest(sources, name, got_version)
        target = sources / f"{_norm(name)}-{got_version}"
        cached = _cached(target)
        if cached is not None:
            return cached
        sha = hashlib.sha256(archive.read_bytes()).hexdigest()
        unpack = Path(tmp) / "unpacked"
        _unpack(archive, unpack)
        tops = [p for p in unpack.iterdir()]
        top = tops[0] if len(tops) == 1 and tops[0].is_dir() else unpack
        marker = SourceMarker(requirement=f"{name}=={got_version}", archive=archive.name, sha256=sha)
        (top / _DONE).write_text(json.dumps(marker), encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        top.rename(target)
    log.warning("unpacked %s (sha256 %s…) into %s", archive.name, sha[:16], target)
    return target


def source_info(root: Path) -> SourceMarker | None:
    """What ``fetch_sdist`` recorded about an unpacked archive, if ``root`` is one."""
    marker = root / _DONE
    if marker.is_file():
        info: SourceMarker = json.loads(marker.read_text(encoding="utf-8"))  # written by fetch_sdist only
        return info
    return None


def _cached(target: Path) -> Path | None:
    return target if (target / _DONE).is_file() else None


def _version_from_archive(filename: str, name: str) -> str:
    stem = re.sub(r"\.(tar\.gz|zip)$", "", filename)
    prefix = re.compile(re.escape(name).replace(r"\-", "[-_.]").replace(r"\_", "[-_.]") + "-", re.I)
    m = prefix.match(stem)
    return stem[m.end() :] if m else stem.rsplit("-", 1)[-1]


def _unpack(archive: Path, dest: Path) -> None:
    dest.mkdir()
    if archive.name.endswith(".zip"):
        with zipfile.ZipFile(archive) as zf:
            for member in zf.namelist():
                p = Path(member)
                if p.is_absolute() or ".." in p.parts:
                    raise UsageError(f"refusing {archive.name}: member {member!r} would unpack outside its folder")
            zf.extractall(dest)
    else:
        try:
            with tarfile.open(archive) as tf:
                # The 'data' filter refuses absolute paths, '..', links out and device files.
                tf.extractall(dest, filter="data")
        except tarfile.FilterError as exc:
            raise UsageError(f"refusing {archive.name}: {exc}") from None
        except (tarfile.TarError, OSError) as exc:
            raise UsageError(f"cannot unpack {archive.name} ({exc}); delete it and try again") from None
