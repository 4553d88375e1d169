"""The attributes of a discovered step (WIKI_FORMAT §7), each from the source or its usages:
the API Call as the material writes it, the Source Location from the index, Key Parameters from
what the usages pass, Inputs and Outputs from the data flow between the workflow's calls.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from collections.abc import Mapping

from tools import pyast
from tools.index.docstrings import first_sentence, param_docs, returns_doc, summary
from tools.index.records import Symbol
from tools.index.workspace import Workspace
from tools.usage.miner import UsageRecord

MAX_API_CALL = 120
MAX_PARAMS = 4


def _cell(text: str) -> str:
    """One line, safe in a Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|").replace("`", "'")


def api_call(rec: UsageRecord) -> str:
    """The call as the material writes it; a long one keeps its callee, positional arguments that
    are names, and keyword names (``...`` for the values)."""
    text = rec["call"]
    if len(text) <= MAX_API_CALL:
        return text
    try:
        node = pyast.parse(text, mode="eval").body
    except SyntaxError:
        return f"{rec['callee']}(...)"
    if not isinstance(node, ast.Call):
        return f"{rec['callee']}(...)"
    args = [ast.unparse(a) if isinstance(a, ast.Name) else "..." for a in node.args]
    args += [f"{k.arg}=..." if k.arg else "**..." for k in node.keywords]
    short = f"{rec['callee']}({', '.join(args)})"
    return short if len(short) <= 2 * MAX_API_CALL else f"{rec['callee']}(...)"


def symbol_of(ws: Workspace, rec: UsageRecord) -> Symbol | None:
    key = rec["symbol"]
    if key is None:
        return None
    return next(
        (
            s
            for s in ws.index.file_symbols(key["file"])
            if s.qualname == key["qualname"] and s.start_line == key["start_line"]
        ),
        None,
    )


def _params_of(ws: Workspace, s: Symbol) -> tuple[Symbol, list[str]]:
    """The callable that takes the arguments (a class: its __init__) and its parameter names."""
    target = ws.names.member(s, "__init__") if s.kind == "class" else s
    target = target or s
    names = [p.name for p in target.params if p.name not in ("self", "cls")]
    if s.kind == "class" and not names and s.fields:
        names = [f.name for f in s.fields]
    return target, names


def key_parameters(ws: Workspace, s: Symbol | None, usages: list[UsageRecord]) -> str:
    """The parameters the usages pass, most often first: ``name: type - what it is``."""
    if s is None:
        passed = Counter(k for r in usages for k in r["keywords"])
        names = [k for k, _ in sorted(passed.items(), key=lambda t: (-t[1], t[0]))][:MAX_PARAMS]
        return (
            "; ".join(f"{n} - passed by the library's own examples" for n in names)
            or "— (no keyword arguments in the examples)"
        )
    target, names = _params_of(ws, s)
    passed = Counter(k for r in usages for k in r["keywords"] if k in names)
    positional = Counter(names[i] for r in usages for i in range(min(_positional_count(r["call"]), len(names))))
    order = sorted(set(passed) | set(positional), key=lambda n: (-(passed[n] + positional[n]), names.index(n)))
    docs = param_docs(target.docstring) or {}
    if s.kind == "class" and not docs:
        docs = param_docs(s.docstring) or {}
    annotations = {p.name: p.annotation for p in target.params}
    for f in s.fields:
        annotations.setdefault(f.name, f.annotation)
    out = []
    for n in order[:MAX_PARAMS]:
        ann = annotations.get(n)
        head = f"{n}: {' '.join(ann.split())}" if ann else n
        doc = docs.get(n, "")
        out.append(_cell(f"{head} - {doc}" if doc else head))
    return "; ".join(out) or "— (called without arguments)"


def _positional_count(call: str) -> int:
    try:
        node = pyast.parse(call, mode="eval").body
    except SyntaxError:
        return 0
    return sum(1 for a in node.args if not isinstance(a, ast.Starred)) if isinstance(node, ast.Call) else 0


def _arguments(call: str) -> list[str]:
    try:
        node = pyast.parse(call, mode="eval").body
    except SyntaxError:
        return []
    if not isinstance(node, ast.Call):
        return []
    return [ast.unparse(a) for a in node.args] + [ast.unparse(k.value) for k in node.keywords if k.arg]


def _receiver(callee: str) -> str | None:
    head, _, _ = callee.rpartition(".")
    return head or None


def type_name(returns: str | None) -> str | None:
    """The class name a reader knows: ``peft.peft_model:PeftModel`` → ``PeftModel``."""
    if not returns:
        return None
    last = returns.split(":")[-1].split(".")[-1]
    return last if last[:1].isupper() else None


def bound_names(
    earlier: list[tuple[int, UsageRecord]], unit: Mapping[int, UsageRecord], before: int | None = None
) -> dict[str, tuple[int, UsageRecord]]:
    """The names earlier steps' results are bound to when a call at record ``before`` is made: the
    step's own target, or the target of a call made on its result (``model = AutoModel.
    from_pretrained(x).to(device)`` binds step 1's model); a name bound again later means the later
    result (``model = get_peft_model(model, config)``)."""
    steps = {r["id"]: (n, r) for n, r in earlier}
    found: list[tuple[int, str, tuple[int, UsageRecord]]] = []
    for n, r in earlier:
        if r["target"]:
            found.append((r["id"], r["target"], (n, r)))
    for r in unit.values():
        seen, cur = 0, r
        while cur["receiver"] is not None and cur["receiver"] in unit and seen < 8:
            seen += 1
            if cur["receiver"] in steps and r["target"] and r["id"] not in steps:
                found.append((r["id"], r["target"], steps[cur["receiver"]]))
                break
            cur = unit[cur["receiver"]]
    out: dict[str, tuple[int, UsageRecord]] = {}
    for rid, name, step in sorted(found, key=lambda t: t[0]):
        if before is None or rid < before or rid not in unit:
            out[name] = step
    return out


def inputs(
    ws: Workspace,
    rec: UsageRecord,
    s: Symbol | None,
    earlier: list[tuple[int, UsageRecord]],
    unit: Mapping[int, UsageRecord] | None = None,
) -> str:
    """What the call takes: the results of earlier steps (by data flow, or by the name an earlier
    result is bound to), then the parameters the example sets. Plain words: the Principle page's
    Overview is made of them, and it names no API (R34). ``unit``: the calls of the material the
    step comes from, by id (what a result goes through before it is bound)."""
    produced = bound_names(earlier, unit or {}, rec["id"])
    by_id = {r["id"]: (n, r) for n, r in earlier}
    parts: list[str] = []
    recv = _receiver(rec["callee"])
    if recv is not None and (recv in produced or rec["receiver"] in by_id):
        n, r = produced.get(recv) or by_id[rec["receiver"] or -1]
        parts.append(f"the {type_name(r['returns']) or 'result'} of step {n}, whose method it calls")
    args = _arguments(rec["call"])
    for arg in args:
        if arg in produced:
            n, r = produced[arg]
            parts.append(f"the {type_name(r['returns']) or 'result'} of step {n}")
    set_here = _set_parameters(ws, rec, s, produced)
    if set_here:
        parts.append(
            "values for " + ", ".join(set_here[:MAX_PARAMS]) + (" and more" if len(set_here) > MAX_PARAMS else "")
        )
    if parts:
        return _cell("; ".join(parts))
    # said in the API's own words: a bare "no arguments" would read the same on every such step
    what = _plain(first_sentence(summary(s.docstring))) if s is not None and s.docstring else ""
    return _cell(f"no arguments ({what})" if what else "no arguments")


def _set_parameters(ws: Workspace, rec: UsageRecord, s: Symbol | None, produced: Mapping[str, object]) -> list[str]:
    """The parameters the call sets with values of its own (not an earlier step's result)."""
    try:
        node = pyast.parse(rec["call"], mode="eval").body
    except SyntaxError:
        return list(rec["keywords"])
    if not isinstance(node, ast.Call):
        return []
    names = _params_of(ws, s)[1] if s is not None else []
    out = []
    for i, a in enumerate(node.args):
        if ast.unparse(a) in produced or isinstance(a, ast.Starred):
            continue
        if i < len(names):
            out.append(names[i])
        elif s is None and isinstance(a, ast.Name):
            out.append(a.id)  # another package's call: its signature is not ours, the variable says what it is
    out += [k.arg for k in node.keywords if k.arg and ast.unparse(k.value) not in produced]
    return out


def _plain(text: str) -> str:
    """Docstring words as plain prose: no reST roles, back-ticks, brackets or dotted code names."""
    t = re.sub(r":[a-z]+:`([^`<]+?)\s*<[^>`]+>`", r"\1", text)  # :class:`Text <Target>` → Text
    t = re.sub(r":[a-z]+:", "", t)
    t = re.sub(r"[`*\[\]<>|\"]", "", t)
    t = re.sub(r"\b[A-Za-z_][\w]*\.(?=[A-Za-z_])", "", t)  # a.b.C -> C
    t = " ".join(t.split()).strip().rstrip(".")
    return t[:1].lower() + t[1:] if t[:2] != t[:2].upper() else t


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def outputs(ws: Workspace, rec: UsageRecord, s: Symbol | None) -> str:
    """What the call gives back: named by its class when the source says which (later steps'
    receivers are read from it), else in the docstring's own words, so that no two steps read the
    same (their Principle pages are made of it)."""
    t = type_name(rec["returns"])
    if t:
        return _cell(f"{_article(t)} {t}")
    doc = s.docstring if s is not None else None
    said = _plain(first_sentence(returns_doc(doc))) if doc else ""
    what = _plain(first_sentence(summary(doc))) if doc else ""
    ann = " ".join(s.returns.split()) if s is not None and s.returns else None
    if ann == "None":
        return _cell(f"nothing (None): {what}" if what else "nothing (None)")
    if said:
        return _cell(f"{_article(ann) + ' ' + ann + ': ' if ann and re.fullmatch(r'[a-z]+', ann) else ''}{said}")
    if ann and re.fullmatch(r"[a-z]+", ann):
        return _cell(f"{_article(ann)} {ann}" + (f" after it does this: {what}" if what else ""))
    return _cell(f"the result of the call, which does this: {what}" if what else "the call's result")


def environment(ws: Workspace) -> str | None:
    """An Environment name from the Python version the package declares (``requires-python`` in
    pyproject.toml, ``Requires-Python`` in PKG-INFO, ``python_requires`` in setup.cfg), read from
    files inside the source root only; None when none says."""
    root = ws.source.root
    for name, pattern in (
        ("pyproject.toml", r"requires-python\s*=\s*[\"']([^\"']+)[\"']"),
        ("PKG-INFO", r"^Requires-Python:\s*(\S+)"),
        ("setup.cfg", r"python_requires\s*=\s*(\S+)"),
    ):
        path = root / name
        if path.is_file() and not path.is_symlink():
            try:
                text = path.read_text(encoding="utf-8", errors="replace")[:200_000]
            except OSError:
                continue
            m = re.search(pattern, text, re.M)
            if m:
                version = re.search(r"\d+(?:\.\d+)*", m.group(1))
                if version:
                    return f"{ws.source.repo}_Python_{version.group(0).replace('.', '_')}"
    return None
