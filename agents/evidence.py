"""What the synthesis needs besides the location: the docstring's words and a real usage.

Usages are call statements found in the repository's examples/, docs/ and tests/ (in that
order), matched on the receiver and the member the WorkflowIndex's API Call names. One pass over
the files serves every step of a run, and the result is cached on disk per source revision.
"""
from __future__ import annotations

import ast
import hashlib
import json
import logging
import textwrap
import threading
from pathlib import Path
from typing import TypedDict

from tools.locate import ApiRef
from tools.navigate import area
from tools.resolve import iter_python_files
from tools.workspace import Workspace
from tools import pyast

log = logging.getLogger(__name__)
MAX_SNIPPET_LINES = 12
_AREA_ORDER = ("examples", "docs", "tests")
_lock = threading.Lock()
_memo: dict[str, dict[str, "Usage"]] = {}


class Usage(TypedDict):
    file: str
    line: int
    code: str


def call_key(api: ApiRef | None) -> str | None:
    """'receiver.member' or 'member': what a usage must call."""
    if api is None:
        return None
    recv = api.receiver.split(".")[-1] if api.receiver and not api.receiver_called else None
    return f"{recv}.{api.member}" if recv else api.member


def _calls(node: ast.AST):
    for n in ast.walk(node):
        if isinstance(n, ast.Call):
            f = n.func
            if isinstance(f, ast.Name):
                yield f.id
            elif isinstance(f, ast.Attribute):
                yield f.attr
                if isinstance(f.value, ast.Name):
                    yield f"{f.value.id}.{f.attr}"


def _snippet(text: str, stmt: ast.stmt) -> str | None:
    seg = ast.get_source_segment(text, stmt, padded=True)
    if not seg:
        return None
    code = textwrap.dedent(seg).strip("\n")
    if code.count("\n") + 1 > MAX_SNIPPET_LINES:
        return None
    try:
        pyast.parse(code)
    except SyntaxError:
        return None
    return code


def _simple_statements(tree: ast.AST):
    for n in ast.walk(tree):
        if isinstance(n, (ast.Assign, ast.AnnAssign, ast.Expr, ast.Return, ast.AugAssign)):
            yield n


def find_usages(ws: Workspace, keys: set[str], cache_dir: Path | None = None) -> dict[str, Usage]:
    """For each call key, the first usage statement found (examples, then docs, then tests)."""
    wanted = sorted(k for k in keys if k)
    tag = hashlib.sha256(json.dumps([ws.source.repo, ws.source.revision or str(ws.source.root), wanted])
                         .encode()).hexdigest()[:24]
    with _lock:
        if tag in _memo:
            return _memo[tag]
        cached = cache_dir / "usages" / f"{tag}.json" if cache_dir else None
        if cached is not None and cached.is_file():
            try:
                _memo[tag] = json.loads(cached.read_text(encoding="utf-8"))
                return _memo[tag]
            except (OSError, ValueError):
                pass
        found = _scan(ws, set(wanted))
        _memo[tag] = found
        if cached is not None:
            try:
                cached.parent.mkdir(parents=True, exist_ok=True)
                tmp = cached.with_suffix(".tmp")
                tmp.write_text(json.dumps(found), encoding="utf-8")
                tmp.replace(cached)
            except OSError as exc:
                log.warning("cannot cache usages (%s)", exc)
        return found


def _scan(ws: Workspace, keys: set[str]) -> dict[str, Usage]:
    files = sorted(((area(rel), rel, phys) for phys, rel in iter_python_files(ws.source)
                    if area(rel) in _AREA_ORDER), key=lambda t: (_AREA_ORDER.index(t[0]), t[1]))
    needles = {k: k.split(".")[-1].encode() for k in keys}
    found: dict[str, Usage] = {}
    for _, rel, phys in files:
        todo = {k for k in keys if k not in found}
        if not todo:
            break
        try:
            data = phys.read_bytes()
        except OSError:
            continue
        if not any(needles[k] in data for k in todo):
            continue
        try:
            text = data.decode("utf-8")
            tree = pyast.parse(text)
        except (UnicodeDecodeError, SyntaxError, ValueError):
            continue
        for stmt in _simple_statements(tree):
            hit = todo.intersection(_calls(stmt))
            if not hit:
                continue
            code = _snippet(text, stmt)
            if code is None:
                continue
            for k in hit:
                found[k] = Usage(file=rel, line=stmt.lineno, code=code)
            todo -= hit
            if not todo:
                break
    return found
