"""Sequences of public calls a library teaches together: within one unit of material, the calls
joined by data flow (one call's result is the receiver or an argument of another), kept when at
least two of them are public APIs of the repository.

Another package's call joins a sequence only as a direct producer of an input of the library's
first calls (loading the base model that ``get_peft_model`` wraps): the workflow starts where the
reader starts, and documents the library.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import NamedTuple

from tools.navigate import area
from tools.usage.miner import Mined, SymbolKey, UsageRecord, api_id

Settle = Callable[[UsageRecord], SymbolKey | None]  # resolves a call the miner could not place


class Evidence(NamedTuple):
    """One place a sequence is taught: file, lines, authority."""

    file: str
    start: int
    end: int
    rank: int  # 0 README, 1 docs, 2 examples, 3 docstrings, 4 tests
    title: str  # the heading above it, or the docstring's owner


class Sequence(NamedTuple):
    apis: tuple[str, ...]  # API ids in the order taught (module:Qualname, or the external dotted name)
    records: tuple[int, ...]  # the usage record of each API (its first call in the unit)
    evidence: Evidence


def is_public(key: SymbolKey) -> bool:
    """An API a user of the library calls: in the library's source, no private module or name,
    no dunder other than ``__call__``."""
    if area(key["file"]) != "source" or "<locals>" in key["qualname"]:
        return False
    parts = key["module"].split(".") + key["qualname"].split(".")
    for i, p in enumerate(parts):
        if p.startswith("__") and p.endswith("__"):
            if not (p == "__call__" and i == len(parts) - 1):
                return False
        elif p.startswith("_"):
            return False
    return True


class _Union:
    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        root = x
        while self.parent.get(root, root) != root:
            root = self.parent[root]
        while self.parent.get(x, x) != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def join(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def sequences(mined: Mined, settle: Settle | None = None) -> list[Sequence]:
    """Every sequence of two or more public calls joined by data flow, unit by unit."""
    units = {u["id"]: u for u in mined["units"]}
    by_unit: dict[int, list[UsageRecord]] = {}
    for r in mined["usages"]:
        by_unit.setdefault(r["unit"], []).append(r)
    out: list[Sequence] = []
    for uid in sorted(by_unit):
        recs = by_unit[uid]
        resolved: dict[int, SymbolKey] = {}
        for r in recs:
            key = r["symbol"]
            if key is None and r["member"] and settle is not None:
                key = settle(r)
            if key is not None and is_public(key):
                resolved[r["id"]] = key
        if len(resolved) < 2:
            continue
        uf = _Union()
        for r in recs:
            for i in r["inputs"]:
                uf.join(r["id"], i)
        feeds: dict[int, set[int]] = {}  # record -> the internal calls it feeds directly
        for r in recs:
            for i in r["inputs"]:
                feeds.setdefault(i, set()).add(r["id"])
        components: dict[int, list[UsageRecord]] = {}
        for r in recs:
            components.setdefault(uf.find(r["id"]), []).append(r)
        unit = units[uid]
        by_id = {r["id"]: r for r in recs}
        for comp in components.values():
            internal = [r for r in comp if r["id"] in resolved]
            ids = {_key_id(resolved[r["id"]]) for r in internal}
            if len(ids) < 2:
                continue
            first_internal = min(r["id"] for r in internal)
            chosen: list[tuple[int, str, UsageRecord]] = []
            seen: set[str] = set()
            for r in sorted(comp, key=lambda r: r["id"]):
                if r["id"] in resolved:
                    api = _key_id(resolved[r["id"]])
                elif r["external"] and r["id"] < first_internal and feeds.get(r["id"], set()) & set(resolved):
                    root = _producer(r, by_id)
                    if root is None:
                        continue
                    api, r = api_id(root) or "", root
                else:
                    continue
                if api and api not in seen:
                    seen.add(api)
                    chosen.append((r["id"], api, r))
            used = [r for _, _, r in chosen]
            out.append(
                Sequence(
                    tuple(a for _, a, _ in chosen),
                    tuple(i for i, _, _ in chosen),
                    Evidence(
                        unit["file"],
                        min(r["line"] for r in used),
                        max(r["end_line"] for r in used),
                        unit["rank"],
                        unit["title"],
                    ),
                )
            )
    return out


def _producer(r: UsageRecord, by_id: dict[int, UsageRecord]) -> UsageRecord | None:
    """The other package's call that made the object: back along receivers that are calls of that
    package too (``AutoModel.from_pretrained(x).to(device)`` → ``AutoModel.from_pretrained``); None
    unless it builds an object of a class (a constructor or a class's own method)."""
    seen = {r["id"]}
    while r["receiver"] is not None and r["receiver"] in by_id and r["receiver"] not in seen:
        prev = by_id[r["receiver"]]
        if not prev["external"]:
            break
        seen.add(prev["id"])
        r = prev
    parts = (r["external"] or "").split(".")
    if parts[0] in sys.stdlib_module_names:
        return None  # io.BytesIO, pathlib.Path: the language's own, not a workflow's step
    classy = len(parts) >= 2 and (parts[-1][:1].isupper() or (len(parts) >= 3 and parts[-2][:1].isupper()))
    return r if classy else None


def _key_id(key: SymbolKey) -> str:
    return f"{key['module']}:{key['qualname']}"
