"""Workflows someone else proposed (a model), grounded by the index: every API a proposal names must
resolve to a definition the teaching material calls, and every step must be taught together with
another step of its workflow (a sequence that calls both, in the proposal's order). Whatever is not
grounded is dropped with the reason; nothing a proposal says becomes a fact by being said.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from typing import NamedTuple, TypedDict

from tools.discover.grouping import MAX_EVIDENCE, Group
from tools.discover.sequences import Evidence, Sequence
from tools.index.records import Symbol
from tools.index.workspace import Workspace
from tools.navigate import search_symbols
from tools.source.naming import NAME_RE
from tools.usage.miner import UsageRecord

MIN_STEPS = 3


class ProposedStep(TypedDict):
    api: str  # as the proposal writes it: "PeftModel.save_pretrained", "peft.get_peft_model"
    principle: str  # a concept name


class Proposed(TypedDict):
    name: str
    description: str
    steps: list[ProposedStep]


class Grounded(NamedTuple):
    group: Group
    name: str | None  # the proposal's names, when they are names (None: derive them)
    description: str | None
    principles: dict[str, str]  # api id -> Principle name


def _resolve(ws: Workspace, text: str, known: Counter[str]) -> tuple[str | None, str]:
    """(api id, why not): the API a proposal names, among the APIs the material calls."""
    t = re.sub(r"\(.*$", "", text.strip().strip("`")).strip()
    if not re.fullmatch(r"[A-Za-z_][\w.:]*", t):
        return None, f"{text!r} is not an API name"
    if ":" in t and t in known:
        return t, ""
    dotted = t.replace(":", ".")
    matches = [a for a in known if a.replace(":", ".") == dotted or a.replace(":", ".").endswith("." + dotted)]
    if not matches and ws.package:
        rest = dotted[len(ws.package) + 1 :] if dotted.startswith(ws.package + ".") else dotted
        target = ws.names.resolve_dotted(ws.package, rest)
        if isinstance(target, Symbol) and f"{target.module}:{target.qualname}" in known:
            matches = [f"{target.module}:{target.qualname}"]
    if matches:
        return max(sorted(matches), key=lambda a: known[a]), ""
    if any(how in ("exact", "dotted suffix") for how, _ in search_symbols(ws, dotted)):
        return None, f"{text} is defined in the repository but no teaching material calls it"
    return None, f"{text} is not a definition of the repository, nor a call its material makes"


def ground(
    ws: Workspace, proposals: list[Proposed], seqs: list[Sequence], known: Counter[str]
) -> tuple[list[Grounded], list[str]]:
    """The proposals the index can stand behind, and what was dropped, each with why."""
    out: list[Grounded] = []
    dropped: list[str] = []
    for p in proposals:
        label = p.get("name") or "a proposed workflow"
        apis: list[str] = []
        principles: dict[str, str] = {}
        for st in p.get("steps", []):
            api, why = _resolve(ws, str(st.get("api", "")), known)
            if api is None:
                dropped.append(f"{label}: step {st.get('api')!r} dropped: {why}")
                continue
            if api in apis:
                continue
            apis.append(api)
            name = str(st.get("principle") or "")
            if NAME_RE.match(name) and name[:1].isupper():
                principles[api] = name
        support: list[tuple[Evidence, tuple[str, ...]]] = []
        records: dict[str, int] = {}
        for s in sorted(seqs, key=lambda s: (s.evidence.rank, s.evidence.file, s.evidence.start)):
            shown = [a for a in s.apis if a in apis]
            if len(shown) >= 2 and [apis.index(a) for a in shown] == sorted(apis.index(a) for a in shown):
                support.append((s.evidence, tuple(shown)))
                for a, r in zip(s.apis, s.records):
                    if a in apis:
                        records.setdefault(a, r)
        for a in [a for a in apis if a not in records]:
            dropped.append(
                f"{label}: step {a.replace(':', '.')} dropped: no material calls it together with another step"
            )
            apis.remove(a)
        internal = [a for a in apis if ":" in a]
        if len(apis) < MIN_STEPS or len(internal) < 2:
            dropped.append(
                f"{label}: dropped: {len(apis)} grounded steps ({len(internal)} of the library); it needs {MIN_STEPS}"
            )
            continue
        picked: list[Evidence] = []
        covered: set[str] = set()
        for e, calls in support:  # enough places to ground every step, then more up to the limit
            if set(calls) - covered and e not in picked:
                picked.append(e)
                covered |= set(calls)
        for e, _ in support:
            if len(picked) >= MAX_EVIDENCE:
                break
            if e not in picked:
                picked.append(e)
        name = str(p.get("name") or "")
        desc = " ".join(str(p.get("description") or "").split()).replace("|", "/")
        out.append(
            Grounded(
                Group(tuple(apis), tuple(records[a] for a in apis), tuple(picked), min(e.rank for e in picked)),
                name if NAME_RE.match(name) and name[:1].isupper() else None,
                desc or None,
                principles,
            )
        )
    return out, dropped


class ProposalContext(TypedDict):
    """What a model sees to propose workflows: the README, the public API with first docstring
    lines and where each is used, and the sequences the material teaches (all of it quoted data)."""

    repo: str
    package: str
    readme: str
    api_map: list[str]
    taught: list[str]


Propose = Callable[[ProposalContext], list[Proposed]]
MAX_README = 8000
MAX_API_MAP = 150
MAX_TAUGHT = 40


def _readme(ws: Workspace) -> str:
    for name in ("README.md", "README.rst", "README.txt", "README"):
        path = ws.source.root / name
        if path.is_file() and not path.is_symlink() and path.stat().st_size < 1_000_000:
            return path.read_text(encoding="utf-8", errors="replace")[:MAX_README]
    return ""


def proposal_context(
    ws: Workspace, uses: Counter[str], uses_of: dict[str, list[UsageRecord]], seqs: list[Sequence]
) -> ProposalContext:
    api_map: list[str] = []
    for api, _ in sorted(uses.items(), key=lambda t: (-t[1], t[0])):
        if ":" not in api or len(api_map) >= MAX_API_MAP:
            continue
        module, qualname = api.split(":", 1)
        sym = ws.index.definition(module, qualname)
        first = (sym.docstring or "").strip().split("\n")[0][:120] if sym is not None else ""
        where = ", ".join(
            f"{r['file']}:{r['line']}"
            for r in sorted(uses_of.get(api, []), key=lambda r: (r["rank"], r["file"], r["line"]))[:2]
        )
        api_map.append(f"{module}.{qualname} — {first or '(no docstring)'} — used in {where}")
    taught: list[str] = []
    for seq in sorted(seqs, key=lambda q: (q.evidence.rank, -len(q.apis), q.evidence.file, q.evidence.start))[
        :MAX_TAUGHT
    ]:
        taught.append(
            " → ".join(a.replace(":", ".") for a in seq.apis)
            + f" ({seq.evidence.file} L{seq.evidence.start}-{seq.evidence.end})"
        )
    return {
        "repo": ws.source.repo,
        "package": ws.package or "",
        "readme": _readme(ws),
        "api_map": api_map,
        "taught": taught,
    }
