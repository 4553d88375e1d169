"""``ast.parse`` and ``ast.literal_eval`` behind one lock.

CPython 3.11 before 3.11.9 keeps the AST constructor's recursion depth in state shared by all
threads (gh-106905): two threads parsing at once can fail with "SystemError: AST constructor
recursion depth mismatch". Pairs are drafted and verified in parallel threads, so every parse in
the project goes through here. Parsing is fast; the lock costs nothing measurable.
"""

from __future__ import annotations

import ast
import threading
from typing import Any, Literal, overload

_lock = threading.Lock()


@overload
def parse(source: str, filename: str = "<unknown>", mode: Literal["exec"] = "exec") -> ast.Module: ...


@overload
def parse(source: str, filename: str, mode: Literal["eval"]) -> ast.Expression: ...


@overload
def parse(source: str, filename: str = "<unknown>", *, mode: Literal["eval"]) -> ast.Expression: ...


def parse(source: str, filename: str = "<unknown>", mode: str = "exec") -> ast.AST:
    with _lock:
        return ast.parse(source, filename, mode)


def literal_eval(text: str) -> Any:
    with _lock:
        return ast.literal_eval(text)
