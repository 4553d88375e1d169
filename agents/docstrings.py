"""Read what a docstring says: its summary paragraph, per-parameter descriptions and the return.

Understands the Google style (``Args:`` / ``name (type): text``), the Hugging Face variant
(``name (`type`, *optional*, defaults to ...):`` on one line, the text indented below) and NumPy
sections (``Parameters`` underlined). The text is data: callers sanitise it before it reaches a page.
"""
from __future__ import annotations

import inspect
import re

_PARAM_HEADERS = {"args", "arguments", "parameters", "params", "keyword args", "keyword arguments", "kwargs",
                  "other parameters", "attributes"}
_RETURN_HEADERS = {"returns", "return", "yields"}
_HEADER = re.compile(r"^\s*([A-Za-z][A-Za-z ]*?)\s*:?\s*$")
# `name (type): text`, `name: text`, or the Hugging Face `name (`type`, *optional*)` with the text below
_ENTRY = re.compile(r"^(\*{0,2}[A-Za-z_]\w*)\s*(?:(\(.*\))\s*:?|:)\s*(.*)$")
_MAX = 240
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z(`])")


def summary(doc: str | None) -> str:
    """The first paragraph, on one line."""
    if not doc:
        return ""
    para = inspect.cleandoc(doc).split("\n\n", 1)[0]
    return " ".join(para.split())


def first_sentence(text: str) -> str:
    text = " ".join(text.split())
    first = _SENTENCE.split(text, 1)[0] if text else ""
    return first if len(first) <= _MAX else first[:_MAX].rsplit(" ", 1)[0] + " …"


def _sections(doc: str) -> dict[str, list[str]]:
    lines = inspect.cleandoc(doc).splitlines()
    out: dict[str, list[str]] = {}
    current = None
    i = 0
    while i < len(lines):
        line = lines[i]
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        m = _HEADER.match(line)
        if m and not line.startswith((" ", "\t")):
            name = m.group(1).strip().lower()
            if line.rstrip().endswith(":") or re.fullmatch(r"-{3,}", nxt.strip()):
                current = name
                out.setdefault(current, [])
                if re.fullmatch(r"-{3,}", nxt.strip()):
                    i += 1
                i += 1
                continue
        if current is not None:
            if line.strip() and not line.startswith((" ", "\t")) and not _ENTRY.match(line):
                current = None
            else:
                out[current].append(line)
        i += 1
    return out


def param_docs(doc: str | None) -> dict[str, str]:
    """name -> first sentence of its description."""
    if not doc:
        return {}
    out: dict[str, str] = {}
    for name, body in _sections(doc).items():
        if name not in _PARAM_HEADERS:
            continue
        indents = [len(l) - len(l.lstrip()) for l in body if l.strip()]
        if not indents:
            continue
        base = min(indents)
        entry, text = None, []
        for line in body + [""]:
            stripped = line.strip()
            indent = len(line) - len(line.lstrip())
            m = _ENTRY.match(stripped) if stripped and indent == base else None
            if m or (not stripped and entry is None):
                if entry:
                    out.setdefault(entry, first_sentence(" ".join(text)))
                entry, text = (m.group(1).lstrip("*"), [m.group(3)]) if m else (None, [])
            elif entry:
                text.append(stripped)
        if entry:
            out.setdefault(entry, first_sentence(" ".join(text)))
    return {k: v for k, v in out.items() if v}


def returns_doc(doc: str | None) -> str:
    if not doc:
        return ""
    for name, body in _sections(doc).items():
        if name in _RETURN_HEADERS:
            text = " ".join(l.strip() for l in body if l.strip())
            m = re.match(r"^`?[\w.\[\], |]+`?\s*:\s*(.+)$", text)
            return first_sentence(m.group(1) if m else text)
    return ""
