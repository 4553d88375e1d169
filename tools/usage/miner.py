"""The usage miner: every call of the library's API in its own teaching material, resolved against
the index, with the data flow between calls and the authority of where it was taught.

    mine_usages(ws, cache_dir) -> Mined

One pass over the material serves every consumer: discovery groups the sequences into workflows,
the drafter picks a walkthrough example for an API (``usages_of``). The result is plain JSON,
cached per source and material (content digests), so a second run reads it back.

Nothing from the analysed source is imported or run: ``.py`` files and code blocks are parsed with
``ast``, notebooks are read as JSON, and every unreadable input is a logged skip (material.py).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import threading
import time
from pathlib import Path
from typing import TypedDict

from tools.atomic import atomic_write
from tools.index.records import Symbol
from tools.index.workspace import Workspace
from tools.usage.calls import Call, UnitCalls, block_calls, python_file_units
from tools.usage.material import ORIGINS, Material, Origin, Skip, teaching_material

log = logging.getLogger(__name__)
FORMAT = "usages-2"  # in the cache key: a change of the records' shape is never read back wrongly
_lock = threading.Lock()
_memo: dict[str, "Mined"] = {}


class SymbolKey(TypedDict):
    """A definition of the repository, as the index names it."""

    qualname: str
    module: str
    file: str
    start_line: int
    end_line: int
    kind: str


class Unit(TypedDict):
    """Code that shares one scope: calls in it are taught together."""

    id: int
    file: str
    origin: Origin
    rank: int  # authority: 0 README, 1 docs, 2 examples, 3 docstrings, 4 tests
    title: str  # the nearest heading, or the docstring's owner
    start: int
    end: int


class UsageRecord(TypedDict):
    id: int  # position in Mined.usages
    unit: int
    file: str
    line: int
    end_line: int
    rank: int
    call: str  # the call as written (whitespace collapsed)
    callee: str  # the called expression as written: "model.save_pretrained"
    symbol: SymbolKey | None  # the repository's definition it reaches
    external: str | None  # or another package's API, package first
    how: str  # how it was resolved
    receiver: int | None  # id of the call whose result is the receiver
    inputs: list[int]  # ids of the calls whose results feed this one (receiver included)
    keywords: list[str]
    returns: str | None  # "module:Qualname" of an internal class, or an external dotted name
    member: str | None  # unresolved (symbol and external None): the method name called ...
    receiver_type: str | None  # ... on an object of this class ("module:Qualname"), when known
    target: str | None  # the name the result is bound to ("model"), when it is bound


class Mined(TypedDict):
    units: list[Unit]
    usages: list[UsageRecord]
    skips: list[Skip]
    files: int  # files of material read
    seconds: float


def symbol_key(s: Symbol) -> SymbolKey:
    return {
        "qualname": s.qualname,
        "module": s.module,
        "file": s.file,
        "start_line": s.start_line,
        "end_line": s.end_line,
        "kind": s.kind,
    }


def api_id(rec: UsageRecord) -> str | None:
    """One name per API: ``module:Qualname`` inside the repository, the dotted name outside."""
    s = rec["symbol"]
    if s is not None:
        return f"{s['module']}:{s['qualname']}"
    return rec["external"]


def _records(units: list[tuple[Material, int, int, UnitCalls]]) -> tuple[list[Unit], list[UsageRecord]]:
    out_units: list[Unit] = []
    out: list[UsageRecord] = []
    for mat, start, end, got in units:
        if not got.calls:
            continue
        uid = len(out_units)
        out_units.append(
            {
                "id": uid,
                "file": mat.file,
                "origin": mat.origin,
                "rank": ORIGINS.index(mat.origin),
                "title": mat.title or next((b.title for b in mat.blocks if b.title), ""),
                "start": min(c.line for c in got.calls),
                "end": max(c.end_line for c in got.calls),
            }
        )
        base = len(out)
        for i, c in enumerate(got.calls):
            out.append(_record(c, base + i, uid, mat.file, ORIGINS.index(mat.origin), base))
    return out_units, out


def _record(c: Call, rid: int, uid: int, file: str, rank: int, base: int) -> UsageRecord:
    return {
        "id": rid,
        "unit": uid,
        "file": file,
        "line": c.line,
        "end_line": c.end_line,
        "rank": rank,
        "call": c.text,
        "callee": c.callee,
        "symbol": symbol_key(c.symbol) if c.symbol is not None else None,
        "external": c.external,
        "how": c.how,
        "receiver": c.receiver + base if c.receiver is not None else None,
        "inputs": [i + base for i in c.inputs],
        "keywords": list(c.keywords),
        "returns": c.returns,
        "member": c.member,
        "receiver_type": c.receiver_type,
        "target": c.target,
    }


def _mine(ws: Workspace, material: list[Material], skips: list[Skip]) -> Mined:
    t0 = time.perf_counter()
    units: list[tuple[Material, int, int, UnitCalls]] = []
    for mat in material:
        if mat.python_file:
            for got in python_file_units(ws, mat.blocks[0]):
                units.append((mat, 0, 0, got))
        else:
            units.append((mat, 0, 0, block_calls(ws, mat.blocks)))
    u, recs = _records(units)
    return {
        "units": u,
        "usages": recs,
        "skips": skips,
        "files": len({m.file for m in material}),
        "seconds": round(time.perf_counter() - t0, 3),
    }


@functools.lru_cache(maxsize=1)
def _miner_digest() -> str:
    """The miner's own code, in the cache key: a change to how calls are resolved is never served
    from a cache the old code wrote."""
    h = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        h.update(path.read_bytes())
    return h.hexdigest()


def _cache_key(ws: Workspace, material_digest: str) -> str:
    digests = ws.index.digests()
    payload = json.dumps([FORMAT, _miner_digest(), ws.source.repo, sorted(digests.items()), material_digest])
    return hashlib.sha256(payload.encode()).hexdigest()[:24]


def mine_usages(ws: Workspace, cache_dir: Path | None = None) -> Mined:
    """Every usage of the library's API in its teaching material (cached per source and material)."""
    skips: list[Skip] = []
    material = teaching_material(ws, skips)
    h = hashlib.sha256(json.dumps(skips).encode())  # what was skipped is part of the answer too
    for m in material:
        h.update(m.file.encode())
        for b in m.blocks:
            h.update(b.code.encode("utf-8", "replace"))
    key = _cache_key(ws, h.hexdigest())
    memo_key = f"{key}:{cache_dir}"
    with _lock:
        if memo_key in _memo:
            return _memo[memo_key]
    path = cache_dir / "usages" / f"{key}.json" if cache_dir is not None else None
    if path is not None and path.is_file():
        try:
            mined: Mined = json.loads(path.read_text(encoding="utf-8"))  # written by this module only
            with _lock:
                _memo[memo_key] = mined
            return mined
        except (OSError, ValueError):
            pass
    mined = _mine(ws, material, skips)
    if path is not None:
        try:
            atomic_write(path, json.dumps(mined))
        except OSError as exc:
            log.warning("cannot cache the mined usages (%s)", exc)
    with _lock:
        _memo[memo_key] = mined
    return mined


def usages_of(mined: Mined, file: str, qualname: str) -> list[UsageRecord]:
    """The usages of one definition, most authoritative first (README, docs, examples, docstrings,
    tests), then by place: what a page's walkthrough example should be cut from."""
    found = [
        r
        for r in mined["usages"]
        if r["symbol"] is not None and (r["symbol"]["file"], r["symbol"]["qualname"]) == (file, qualname)
    ]
    return sorted(found, key=lambda r: (r["rank"], r["file"], r["line"]))
