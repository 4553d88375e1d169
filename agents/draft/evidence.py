"""What the synthesis needs besides the location: the docstring's words and a real usage.

Usages are call statements found in the repository's examples/, docs/ and tests/ (in that
order), matched on the receiver and the member the WorkflowIndex's API Call names, each cut out
of its file as a self-contained snippet (tools.examples.slicing): the first statement whose slice
stands on its own is the usage. One pass over the files serves every step of a run, and the
result is cached on disk per source revision.
"""

from __future__ import annotations

import ast
import hashlib
import json
import logging
import threading
from pathlib import Path
from typing import Iterator, TypedDict

from tools.examples.slicing import MAX_LINES, slice_usage
from tools.atomic import atomic_write
from tools.locate import ApiRef
from tools.navigate import area
from tools.source.resolve import iter_python_files
from tools.index.workspace import Workspace
from tools import pyast

log = logging.getLogger(__name__)
MAX_SNIPPET_LINES = MAX_LINES
_FORMAT = "sliced-1"  # in the cache tag: usages cached before slicing are not reused
_AREA_ORDER = ("examples", "docs", "tests")
_lock = threading.Lock()
_memo: dict[str, dict[str, "Usage"]] = {}


class Usage(TypedDict):
    file: str
    line: int  # the statement that calls the API
    code: str  # the self-contained snippet sliced around it


def call_key(api: ApiRef | None) -> str | None:
    """'receiver.member' or 'member': what a usage must call."""
    if api is None:
        return None
    recv = api.receiver.split(".")[-1] if api.receiver and not api.receiver_called else None
    return f"{recv}.{api.member}" if recv else api.member


def _calls(stmt: ast.stmt) -> Iterator[str]:
    # a with statement calls the API in its header (``with model.disable_adapter():``), not its body
    nodes = [i.context_expr for i in stmt.items] if isinstance(stmt, ast.With) else [stmt]
    for n in (m for node in nodes for m in ast.walk(node)):
        if isinstance(n, ast.Call):
            f = n.func
            if isinstance(f, ast.Name):
                yield f.id
            elif isinstance(f, ast.Attribute):
                yield f.attr
                if isinstance(f.value, ast.Name):
                    yield f"{f.value.id}.{f.attr}"


def _call_statements(tree: ast.AST) -> list[ast.stmt]:
    """Statements that can call the API, in source order."""
    found = [
        n
        for n in ast.walk(tree)
        if isinstance(n, (ast.Assign, ast.AnnAssign, ast.Expr, ast.Return, ast.AugAssign, ast.Assert, ast.With))
    ]
    return sorted(found, key=lambda n: (n.lineno, n.col_offset))


def find_usages(ws: Workspace, keys: set[str], cache_dir: Path | None = None) -> dict[str, Usage]:
    """For each call key, the first usage statement found (examples, then docs, then tests)."""
    wanted = sorted(k for k in keys if k)
    tag = hashlib.sha256(
        json.dumps([ws.source.repo, ws.source.revision or str(ws.source.root), wanted, _FORMAT]).encode()
    ).hexdigest()[:24]
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
                atomic_write(cached, json.dumps(found))
            except OSError as exc:
                log.warning("cannot cache usages (%s)", exc)
        return found


def _scan(ws: Workspace, keys: set[str]) -> dict[str, Usage]:
    files = sorted(
        ((area(rel), rel, phys) for phys, rel in iter_python_files(ws.source) if area(rel) in _AREA_ORDER),
        key=lambda t: (_AREA_ORDER.index(t[0]), t[1]),
    )
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
        for stmt in _call_statements(tree):
            for k in sorted(todo.intersection(_calls(stmt))):
                code = slice_usage(text, stmt.lineno, k, tree=tree, max_lines=MAX_SNIPPET_LINES)
                if code is not None:
                    found[k] = Usage(file=rel, line=stmt.lineno, code=code)
                    todo.discard(k)
            if not todo:
                break
    return found
