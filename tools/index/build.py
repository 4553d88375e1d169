"""The repository index: every .py file parsed once, cached on disk by content.

A cold build parses in a process pool (tree-sitter holds the GIL); a warm build reads
and hashes the files and re-parses only those whose content changed.
"""

from __future__ import annotations

import logging
import os
import marshal
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from hashlib import blake2b
from pathlib import Path

from tools.errors import UsageError
from tools.index.pyparse import MAX_FILE_BYTES, digest, parse_file, skipped
from tools.atomic import atomic_write_bytes
from collections.abc import Iterator, Mapping

from tools.index.records import FileRecord, Symbol, from_plain, to_plain
from tools.source.resolve import RepoSource, default_cache_dir, iter_python_files

log = logging.getLogger(__name__)
SCHEMA = 3  # bump when FileRecord or the parser output changes: old caches are then ignored
_POOL_MIN_FILES = 64
Entry = tuple[str, str, bytes]  # a cached file: (content digest, module, marshalled plain FileRecord)
Counts = tuple[int, int, int, int]  # a file's (lines, symbols, skipped, partial), summed without decoding it
_COUNTS_KEY = "\0counts"  # the cache file's one entry that is not a path: every file's Counts


@dataclass
class BuildStats:
    files: int = 0
    lines: int = 0
    symbols: int = 0
    parsed: int = 0
    reused: int = 0
    skipped: int = 0
    partial: int = 0
    seconds: float = 0.0
    cache: str | None = None  # the cache file, or None when the cache could not be used

    def summary(self) -> str:
        where = self.cache or "memory only (cache unavailable)"
        return (
            f"{self.files} files, {self.lines} lines, {self.symbols} symbols; parsed {self.parsed}, "
            f"reused {self.reused}, skipped {self.skipped}, partial {self.partial}; "
            f"{self.seconds:.2f}s; cache: {where}"
        )


@dataclass
class Index:
    source: RepoSource
    records: Mapping[str, FileRecord]  # by repository path
    stats: BuildStats = field(default_factory=BuildStats)

    @cached_property
    def symbols(self) -> list[Symbol]:
        return [s for r in self.records.values() for s in r.symbols]

    @cached_property
    def by_name(self) -> dict[str, list[Symbol]]:
        out: dict[str, list[Symbol]] = defaultdict(list)
        for s in self.symbols:
            out[s.name].append(s)
        return dict(out)

    @cached_property
    def modules(self) -> dict[str, FileRecord]:
        out: dict[str, FileRecord] = {}
        for rec in self.records.values():
            if rec.module and rec.module not in out:
                out[rec.module] = rec
        return out

    @cached_property
    def _by_module(self) -> dict[tuple[str, str], list[Symbol]]:
        out: dict[tuple[str, str], list[Symbol]] = defaultdict(list)
        for s in self.symbols:
            out[(s.module, s.qualname)].append(s)
        return dict(out)

    def lookup(self, module: str, qualname: str) -> list[Symbol]:
        """Definitions of ``qualname`` in ``module`` (several for overloads / conditional defs)."""
        return self._by_module.get((module, qualname), [])

    def definition(self, module: str, qualname: str) -> Symbol | None:
        """The definition Python would bind last, skipping ``@overload`` stubs."""
        defs = self.lookup(module, qualname)
        real = [s for s in defs if not any(d.split(".")[-1] == "overload" for d in s.decorators)]
        return (real or defs)[-1] if defs else None

    def digests(self) -> dict[str, str]:
        """path -> content digest of every file of the source."""
        if isinstance(self.records, LazyRecords):
            return self.records.digests()
        return {path: r.digest for path, r in self.records.items()}

    def file_symbols(self, path: str) -> tuple[Symbol, ...]:
        rec = self.records.get(path)
        return rec.symbols if rec else ()


def module_names(paths: list[str]) -> dict[str, tuple[str, bool]]:
    """Map repository paths to (dotted module, is_package): climb while the folder has __init__.py,
    or is a folder without one inside a package (a namespace portion such as flask's ``sansio/``,
    which Python imports as ``flask.sansio``)."""
    pkg_dirs = {p.rpartition("/")[0] for p in paths if p.rpartition("/")[2] == "__init__.py"}
    out = {}
    for p in paths:
        parts = p[:-3].split("/")
        dirs = parts[:-1]
        i = len(dirs)
        while i > 0 and ("/".join(dirs[:i]) in pkg_dirs or (i > 1 and "/".join(dirs[: i - 1]) in pkg_dirs)):
            i -= 1
        is_pkg = parts[-1] == "__init__"
        mod_parts = parts[i:-1] if is_pkg else parts[i:]
        out[p] = (".".join(mod_parts), is_pkg)
    return out


def _cache_file(cache_dir: Path, source: RepoSource) -> Path:
    key = blake2b(f"{source.root}\0{source.prefix}".encode(), digest_size=12).hexdigest()
    return cache_dir / f"index-v{SCHEMA}" / f"{source.repo}-{key}.marshal"


def _load_cache(path: Path) -> tuple[dict[str, Entry], dict[str, Counts] | None]:
    """The cached entries by path, and the counts (None when the cache has none)."""
    try:
        data = marshal.loads(path.read_bytes())
    except FileNotFoundError:
        return {}, None
    except (OSError, ValueError, EOFError, TypeError) as exc:
        log.warning("ignoring unreadable index cache %s (%s)", path, exc)
        return {}, None
    if not isinstance(data, dict):
        return {}, None
    counts: dict[str, Counts] | None = data.pop(_COUNTS_KEY, None)
    return data, counts


def _save_cache(path: Path, entries: dict[str, Entry], counts: dict[str, Counts]) -> bool:
    data: dict[str, Entry | dict[str, Counts]] = {**entries, _COUNTS_KEY: counts}
    try:
        atomic_write_bytes(path, marshal.dumps(data))
        return True
    except OSError as exc:
        log.warning("index cache not written (%s); the index stays in memory only", exc)
        return False


class LazyRecords(Mapping[str, FileRecord]):
    """FileRecords decoded on first access: a warm load touches only the files it uses."""

    def __init__(self, entries: dict[str, Entry]) -> None:
        self._entries = entries
        self._done: dict[str, FileRecord] = {}

    def __getitem__(self, path: str) -> FileRecord:
        rec = self._done.get(path)
        if rec is None:
            rec = from_plain(marshal.loads(self._entries[path][2]))
            self._done[path] = rec
        return rec

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def digests(self) -> dict[str, str]:
        """Each file's content digest, without decoding any record."""
        return {path: e[0] for path, e in self._entries.items()}

    def __len__(self) -> int:
        return len(self._entries)


def _encode(rec: FileRecord) -> Entry:
    return (rec.digest, rec.module, marshal.dumps(to_plain(rec)))


def _parse_job(job: tuple[str, str, str, bool, int]) -> tuple[str, Entry, Counts]:
    physical, path, module, is_pkg, max_bytes = job
    try:
        with open(physical, "rb") as fh:
            data = fh.read()
        rec = parse_file(path, module, is_pkg, data, max_bytes)
    except OSError as exc:
        rec = skipped(path, module, is_pkg, b"", f"unreadable ({exc.strerror})")
    return path, _encode(rec), _counts(rec)


def _counts(rec: FileRecord) -> Counts:
    return (rec.lines, len(rec.symbols), rec.status == "skipped", rec.status == "partial")


def build_index(
    source: RepoSource,
    cache_dir: Path | None = None,
    workers: int | None = None,
    max_file_bytes: int = MAX_FILE_BYTES,
    use_cache: bool = True,
) -> Index:
    t0 = time.perf_counter()
    cache_dir = (cache_dir or default_cache_dir()).expanduser().resolve()
    if cache_dir == source.root or source.root in cache_dir.parents:
        raise UsageError(f"cache folder {cache_dir} is inside the analysed source; choose another --cache-dir")
    cache_path = _cache_file(cache_dir, source) if use_cache else None
    cached, counts_cached = _load_cache(cache_path) if cache_path else ({}, None)

    files = list(iter_python_files(source))
    names = module_names([p for _, p in files])
    entries: dict[str, Entry] = {}
    counts: dict[str, Counts] = {}
    jobs: list[tuple[str, str, str, bool, int]] = []
    stats = BuildStats()
    for physical, path in files:
        module, is_pkg = names[path]
        real = physical.resolve()
        if real != physical and source.root not in real.parents:
            rec = skipped(path, module, is_pkg, b"", "symlink to a file outside the repository root")
            entries[path], counts[path] = _encode(rec), _counts(rec)
            continue
        old = cached.get(path)
        if old is not None and counts_cached and path in counts_cached:
            try:
                data = physical.read_bytes()
            except OSError:
                data = None
            if data is not None and old[0] == digest(data) and old[1] == module:
                entries[path], counts[path] = old, counts_cached[path]
                stats.reused += 1
                continue
        jobs.append((str(physical), path, module, is_pkg, max_file_bytes))

    stats.parsed = len(jobs)
    workers = workers or os.cpu_count() or 1
    if workers > 1 and len(jobs) >= _POOL_MIN_FILES:
        # Largest files first so no worker is left with one big file at the end.
        jobs.sort(key=lambda j: -os.stat(j[0]).st_size)
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(_parse_job, jobs, chunksize=max(1, len(jobs) // (workers * 16))))
    else:
        results = [_parse_job(job) for job in jobs]
    for path, entry, count in results:
        entries[path], counts[path] = entry, count

    order = [p for _, p in files]
    entries = {p: entries[p] for p in order}
    counts = {p: counts[p] for p in order}
    if cache_path is not None:
        if jobs or len(cached) != len(entries):
            ok = _save_cache(cache_path, entries, counts)
            stats.cache = str(cache_path) if ok else None
        else:
            stats.cache = str(cache_path)
    for lines, nsym, skip, partial in counts.values():
        stats.files += 1
        stats.lines += lines
        stats.symbols += nsym
        stats.skipped += skip
        stats.partial += partial
    stats.seconds = time.perf_counter() - t0
    return Index(source, LazyRecords(entries), stats)
