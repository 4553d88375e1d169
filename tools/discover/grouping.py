"""From taught sequences to workflows of 3–8 steps, the README's and docs' flows first.

Sequences are merged only where one continues the other within one file: two sequences of the
same document that share APIs in the same order join when the other's new calls come before or
after all they share. Two that go different ways after the same call stay two workflows, and two
documents are never stitched into one lesson (a README flow is never padded with a test's set-up).

Workflows are then chosen: first the flows the README, the docs and the examples teach; then, for
the most-used API no chosen workflow covers yet, the best-taught workflow that covers it (docstring
examples before tests), until ``max_workflows``.
What the bounds cut is said, never dropped silently.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import NamedTuple

from tools.discover.sequences import Evidence, Sequence

MIN_STEPS = 3
MAX_EVIDENCE = 3  # evidence spans cited per workflow (the most authoritative first)
_AUTHORITY = (1.0, 0.9, 0.8, 0.7, 0.5)


class Bounds(NamedTuple):
    max_workflows: int = 12
    max_steps: int = 8


class Group(NamedTuple):
    """A workflow before it is named: its APIs in order, the record that describes each, and the
    places it was taught."""

    apis: tuple[str, ...]
    records: tuple[int, ...]  # per API: the usage record its step is written from
    evidence: tuple[Evidence, ...]
    rank: int


@dataclass
class _Candidate:
    apis: list[str]
    records: dict[str, int]
    evidence: list[tuple[Evidence, tuple[str, ...]]] = field(default_factory=list)  # with the APIs it calls
    rank: int = 4


def _internal(api: str) -> bool:
    return ":" in api


def _contained(small: tuple[str, ...], big: list[str]) -> bool:
    pos = -1
    for a in small:
        if a not in big or big.index(a) <= pos:
            return False
        pos = big.index(a)
    return True


def merge(big: list[str], small: tuple[str, ...]) -> list[str] | None:
    """``big`` and ``small`` as one line of steps, where one continues the other (``small`` adds
    steps only before the first or after the last API they share), or None: they share no API of
    the library, put shared APIs in another order, or both go on differently from the same place."""
    shared = [a for a in small if a in big]
    if not any(_internal(a) for a in shared):
        return None
    pos = [big.index(a) for a in shared]
    if pos != sorted(pos):
        return None
    # the calls of each side between consecutive shared APIs (gap k: after the k-th shared API)
    gaps_big: list[list[str]] = [[] for _ in range(len(shared) + 1)]
    gaps_small: list[list[str]] = [[] for _ in range(len(shared) + 1)]
    k = 0
    for a in big:
        if k < len(shared) and a == shared[k]:
            k += 1
        else:
            gaps_big[k].append(a)
    k = 0
    for a in small:
        if k < len(shared) and a == shared[k]:
            k += 1
        else:
            gaps_small[k].append(a)
    out: list[str] = []
    for k in range(len(shared) + 1):
        if gaps_big[k] and gaps_small[k]:
            return None  # a fork: the two go on differently from the same place
        if gaps_small[k] and 0 < k < len(shared):
            return None  # a step put between two of the other's: a combination nobody taught
        out += gaps_big[k] or gaps_small[k]
        if k < len(shared):
            out.append(shared[k])
    return out


def _cut(seq: Sequence, max_steps: int, cuts: list[str]) -> Sequence:
    if len(seq.apis) <= max_steps:
        return seq
    e = seq.evidence
    cuts.append(
        f"--max-steps {max_steps}: the sequence taught in {e.file} L{e.start}-{e.end} has {len(seq.apis)} "
        f"steps; its last {len(seq.apis) - max_steps} ({', '.join(seq.apis[max_steps:])}) were left out"
    )
    return Sequence(seq.apis[:max_steps], seq.records[:max_steps], e)


def _one_per_role(seq: Sequence, roles: dict[str, str]) -> Sequence:
    """A sequence with one API per role: a test that builds three sibling configs teaches one step."""
    seen: set[str] = set()
    keep: list[int] = []
    for i, a in enumerate(seq.apis):
        role = roles.get(a, a)
        if role not in seen:
            seen.add(role)
            keep.append(i)
    if len(keep) == len(seq.apis):
        return seq
    return Sequence(tuple(seq.apis[i] for i in keep), tuple(seq.records[i] for i in keep), seq.evidence)


def candidates(
    seqs: list[Sequence], bounds: Bounds, cuts: list[str], roles: dict[str, str] | None = None
) -> list[_Candidate]:
    """Workflow candidates: the sequences (one API per role), merged where they continue each other
    within a tier."""
    roles = roles or {}
    ordered = sorted(
        (_cut(_one_per_role(s, roles), bounds.max_steps, cuts) for s in seqs),
        key=lambda s: (s.evidence.rank, -sum(map(_internal, s.apis)), s.evidence.file, s.evidence.start),
    )
    out: list[_Candidate] = []
    for s in ordered:
        home = next((c for c in out if _contained(s.apis, c.apis)), None)
        if home is not None:
            home.evidence.append((s.evidence, s.apis))
            for a, r in zip(s.apis, s.records):
                home.records.setdefault(a, r)
            continue
        grown = None
        for c in out:
            if c.rank != s.evidence.rank or c.evidence[0][0].file != s.evidence.file:
                continue  # one document goes on where it stopped; two documents are not one lesson
            m = merge(c.apis, s.apis)
            if m is not None and len(m) <= bounds.max_steps:
                grown = (c, m)
                break
        if grown is not None:
            c, m = grown
            c.apis = m
            c.evidence.append((s.evidence, s.apis))
            for a, r in zip(s.apis, s.records):
                c.records.setdefault(a, r)
            continue
        out.append(_Candidate(list(s.apis), dict(zip(s.apis, s.records)), [(s.evidence, s.apis)], s.evidence.rank))
    return out


def choose(
    cands: list[_Candidate], uses: Counter[str], bounds: Bounds, cuts: list[str], roles: dict[str, str] | None = None
) -> list[Group]:
    """The flows the README, the docs and the examples teach, in that order; then, most-used API
    first, the best-taught workflow that covers each API no chosen workflow covers yet, from the
    docstrings' examples, then from the tests, until ``max_workflows``. A candidate whose steps play the same
    roles as a chosen workflow's (``roles``: an API's family, e.g. the common base of sibling config
    classes) is a variant of it, not a workflow of its own; an API whose family a chosen workflow
    covers does not call for one either."""
    roles = roles or {}
    usable = [c for c in cands if len(c.apis) >= MIN_STEPS and sum(map(_internal, c.apis)) >= 2]
    covered: set[str] = set()
    chosen: list[_Candidate] = []
    shapes: list[tuple[str, ...]] = []

    def shape(c: _Candidate) -> tuple[str, ...]:
        return tuple(roles.get(a, a) for a in c.apis if _internal(a))

    def variant(c: _Candidate) -> bool:
        """Its steps play roles a chosen workflow already plays in that order, or it reaches the same
        last step (another way to the same goal)."""
        mine = shape(c)
        return any(_contained(mine, list(s)) or (mine and s and mine[-1] == s[-1]) for s in shapes)

    def gain(c: _Candidate) -> float:
        return sum(math.log2(1 + uses[a]) for a in c.apis if _internal(a) and a not in covered)

    def take(c: _Candidate) -> bool:
        if len(chosen) >= bounds.max_workflows:
            return False
        chosen.append(c)
        shapes.append(shape(c))
        covered.update(a for a in c.apis if _internal(a))
        return True

    full = False
    for tier in (0, 1, 2):  # README, docs, examples: their flows as taught
        while not full:
            pool = [c for c in usable if c.rank == tier and c not in chosen and gain(c) > 0 and not variant(c)]
            if not pool:
                break
            full = not take(max(pool, key=lambda c: (_score(c, gain(c), covered), -usable.index(c))))
    drivers = sorted({a for c in usable for a in c.apis if _internal(a)}, key=lambda a: (-uses[a], a))
    for tier in (3, 4):  # docstring examples before tests
        for api in drivers:
            if full:
                break
            family = roles.get(api, api)
            if api in covered or any(roles.get(x, x) == family for x in covered):
                continue
            options = [c for c in usable if c.rank == tier and api in c.apis and c not in chosen and not variant(c)]
            if options:
                full = not take(max(options, key=lambda c: (_score(c, gain(c), covered), -usable.index(c))))
    if full:
        more = [c for c in usable if c not in chosen and gain(c) > 0 and not variant(c)]
        adds = sorted({a for c in more for a in c.apis if _internal(a) and a not in covered})
        if adds:
            cuts.append(
                f"--max-workflows {bounds.max_workflows}: {len(more)} more workflow candidate(s) left out; "
                f"they would cover {len(adds)} more API(s): {', '.join(adds[:12])}" + (" …" if len(adds) > 12 else "")
            )
    return [Group(tuple(c.apis), tuple(c.records[a] for a in c.apis), _cited(c), c.rank) for c in chosen]


def _score(c: _Candidate, gain: float, covered: set[str]) -> float:
    """What choosing ``c`` is worth: the APIs it adds, by authority and support, and by how much
    of it is new (a focused workflow before one that repeats most of what is chosen)."""
    internal = [a for a in c.apis if _internal(a)]
    new = sum(1 for a in internal if a not in covered)
    focus = math.sqrt(new / len(internal)) if internal else 0.0
    # taught again and again, as a whole: a path readers take (a place that shows two of eight steps
    # counts a quarter)
    shown = sum(len(set(apis) & set(c.apis)) / len(c.apis) for _, apis in dict(c.evidence).items())
    taught = 1 + math.log2(1 + shown)
    return gain * _AUTHORITY[c.rank] * taught * focus


def _cited(c: _Candidate) -> tuple[Evidence, ...]:
    """The evidence to cite: enough spans to cover every step (most authoritative first), then
    more up to MAX_EVIDENCE."""
    spans = sorted(dict(c.evidence).items(), key=lambda t: (t[0].rank, t[0].file, t[0].start))
    picked: list[Evidence] = []
    covered: set[str] = set()
    for e, apis in spans:
        if set(apis) - covered:
            picked.append(e)
            covered |= set(apis)
    for e, _ in spans:
        if len(picked) >= MAX_EVIDENCE:
            break
        if e not in picked:
            picked.append(e)
    return tuple(sorted(picked, key=lambda e: (e.rank, e.file, e.start)))
