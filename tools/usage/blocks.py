"""Python code blocks out of the text formats a library teaches in: Markdown (fenced blocks),
reStructuredText (code directives, literal blocks), doctest sessions (``>>>``), Jupyter notebooks
(code cells, read as JSON) and the docstrings of ``.py`` files.

Pure text functions: nothing here runs, imports or evaluates what it reads. A block keeps, for
every code line, the line of the file it came from, so that a call found in the block can be
cited as ``file`` L{start}-{end} (for a notebook: the lines of the raw JSON that hold the cell's
source).
"""

from __future__ import annotations

import json
import re
import textwrap
from typing import NamedTuple

MAX_BLOCKS_PER_FILE = 1000  # a README of 10,000 code blocks is cut here (the miner logs the cut)
MAX_BLOCK_LINES = 400  # a block longer than this is cut (generated listings, pasted logs)
_SEARCH_AHEAD = 200  # raw notebook lines searched for a cell's next source line (a bound, not a scan)

_PY_LANGS = {"python", "py", "python3", "py3", "pycon", "ipython", "ipython3", "pyodide", "pytb", ""}
_NOT_PY = re.compile(
    r"^(bash|sh|shell|console|zsh|text|txt|json|yaml|yml|toml|ini|cfg|html|xml|css|js|"
    r"javascript|jinja|jinja2|sql|diff|makefile|dockerfile|none|output|bibtex|latex|tex|"
    r"rst|markdown|md|c|cpp|rust|go|java|powershell|bat|batch|cmd|docker|nginx|apache)\b",
    re.I,
)
_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*)$")
_MD_HEADING = re.compile(r"^#{1,6}\s+(?P<title>.+?)\s*#*\s*$")
_RST_UNDERLINE = re.compile(r"^([=\-~^\"'`#*+<>.:_])\1{2,}\s*$")
_RST_CODE = re.compile(
    r"^(?P<indent>[ \t]*)\.\.\s+(?:code-block|code|sourcecode|testcode|doctest|ipython|jupyter-execute)"
    r"::\s*(?P<lang>\S*)\s*$"
)
_PROMPT = re.compile(r"^(?P<indent>[ \t]*)(?:>>>|\.\.\.)(?: |$)")


class Block(NamedTuple):
    """One piece of code as a reader sees it, each line with the file line it came from."""

    lines: tuple[tuple[int, str], ...]  # (1-based file line, code text)
    title: str  # the nearest heading above it ("" when there is none)

    @property
    def code(self) -> str:
        return "\n".join(text for _, text in self.lines)


class Blocks(NamedTuple):
    blocks: list[Block]
    cut: int  # blocks left out beyond MAX_BLOCKS_PER_FILE


def _capped(blocks: list[Block]) -> Blocks:
    kept = [b._replace(lines=b.lines[:MAX_BLOCK_LINES]) for b in blocks[:MAX_BLOCKS_PER_FILE] if b.lines]
    return Blocks(kept, max(0, len(blocks) - MAX_BLOCKS_PER_FILE))


def doctest_lines(lines: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """The code of a doctest session: prompts stripped, output lines dropped."""
    out: list[tuple[int, str]] = []
    for no, text in lines:
        m = _PROMPT.match(text)
        if m:
            out.append((no, text[m.end() :]))
    return out


def _is_doctest(lines: list[tuple[int, str]]) -> bool:
    first = next((t for _, t in lines if t.strip()), "")
    return first.lstrip().startswith(">>>")


def _dedented(lines: list[tuple[int, str]]) -> list[tuple[int, str]]:
    if _is_doctest(lines):
        return doctest_lines(lines)
    body = textwrap.dedent("\n".join(t for _, t in lines)).split("\n")
    return [(no, t) for (no, _), t in zip(lines, body)]


def _trim(lines: list[tuple[int, str]]) -> tuple[tuple[int, str], ...]:
    while lines and not lines[0][1].strip():
        lines = lines[1:]
    while lines and not lines[-1][1].strip():
        lines = lines[:-1]
    return tuple(lines)


def _doctest_runs(numbered: list[tuple[int, str]], taken: set[int], title_at: dict[int, str]) -> list[Block]:
    """``>>>`` sessions outside other blocks: a run of prompt and output lines, ended by a blank line
    that is not followed by another prompt, or by prose."""
    out: list[Block] = []
    # the next non-blank line after each index, computed once (a blank line looks ahead to it)
    next_text = [""] * (len(numbered) + 1)
    for k in range(len(numbered) - 1, -1, -1):
        next_text[k] = numbered[k][1] if numbered[k][1].strip() else next_text[k + 1]
    i = 0
    while i < len(numbered):
        no, text = numbered[i]
        if no in taken or not text.lstrip().startswith(">>>"):
            i += 1
            continue
        run: list[tuple[int, str]] = []
        while i < len(numbered) and numbered[i][0] not in taken:
            t = numbered[i][1]
            if not t.strip():
                if not next_text[i + 1].lstrip().startswith(">>>"):
                    break
            run.append(numbered[i])
            i += 1
        code = doctest_lines(run)
        if code:
            out.append(Block(_trim(code), title_at.get(run[0][0], "")))
    return out


def _titles(numbered: list[tuple[int, str]], rst: bool) -> dict[int, str]:
    """The nearest heading above each line (Markdown ATX headings, reST and setext underlines)."""
    out: dict[int, str] = {}
    current = ""
    prev = ""
    in_fence = False
    for no, text in numbered:
        if _FENCE.match(text):
            in_fence = not in_fence
        elif not in_fence:
            m = _MD_HEADING.match(text)
            if m and not rst:
                current = m.group("title").strip()
            elif _RST_UNDERLINE.match(text) and prev.strip() and not _RST_UNDERLINE.match(prev):
                if len(text.strip()) >= len(prev.strip()) - 1 and not prev.startswith((" ", "\t")):
                    current = prev.strip()
        out[no] = current
        prev = text
    return out


def markdown_blocks(text: str, first_line: int = 1) -> Blocks:
    """Fenced code blocks of Python (or without a language) and ``>>>`` sessions of a Markdown text."""
    numbered = list(enumerate(text.splitlines(), first_line))
    title_at = _titles(numbered, rst=False)
    blocks: list[Block] = []
    taken: set[int] = set()
    i = 0
    while i < len(numbered):
        no, line = numbered[i]
        m = _FENCE.match(line)
        if not m:
            i += 1
            continue
        fence, info = m.group("fence"), m.group("info").strip()
        lang = info.split()[0].strip("{}.").lower() if info else ""
        body: list[tuple[int, str]] = []
        j = i + 1
        while j < len(numbered) and not numbered[j][1].strip().startswith(fence[0] * len(fence)):
            body.append(numbered[j])
            j += 1
        taken.update(n for n, _ in numbered[i : j + 1])
        if lang in _PY_LANGS and not _NOT_PY.match(lang):
            code = _trim(_dedented(body))
            if code:
                blocks.append(Block(code, title_at.get(no, "")))
        i = j + 1
    blocks += _doctest_runs(numbered, taken, title_at)
    return _capped(sorted(blocks, key=lambda b: b.lines[0][0] if b.lines else 0))


def _indented_body(numbered: list[tuple[int, str]], start: int, base: int) -> tuple[list[tuple[int, str]], int]:
    """Lines after ``start`` indented deeper than ``base`` (blank lines inside kept); the next index."""
    body: list[tuple[int, str]] = []
    j = start
    while j < len(numbered):
        text = numbered[j][1]
        if text.strip() and len(text) - len(text.lstrip()) <= base:
            break
        body.append(numbered[j])
        j += 1
    return body, j


def rst_blocks(text: str, first_line: int = 1) -> Blocks:
    """Code directives (``code-block``, ``code``, ``sourcecode``, ``testcode``, ``doctest``), literal
    blocks after ``::`` that hold Python, and ``>>>`` sessions of a reStructuredText text."""
    numbered = list(enumerate(text.splitlines(), first_line))
    title_at = _titles(numbered, rst=True)
    blocks: list[Block] = []
    taken: set[int] = set()
    i = 0
    while i < len(numbered):
        no, line = numbered[i]
        m = _RST_CODE.match(line)
        literal = not m and line.rstrip().endswith("::") and not line.lstrip().startswith("..")
        if not m and not literal:
            i += 1
            continue
        base = len(line) - len(line.lstrip())
        body, j = _indented_body(numbered, i + 1, base)
        # directive options (":linenos:") come first
        body = [(n, t) for n, t in body if not re.match(r"^\s*:[\w-]+:", t)] if m else body
        lang = (m.group("lang") if m else "").lower()
        if body and (literal or lang in _PY_LANGS or "doctest" in line or "testcode" in line):
            taken.update(n for n, _ in numbered[i:j])
            code = _trim(_dedented(body))
            if code and (not literal or _looks_like_python(code)):
                blocks.append(Block(code, title_at.get(no, "")))
        i = max(j, i + 1)
    blocks += _doctest_runs(numbered, taken, title_at)
    return _capped(sorted(blocks, key=lambda b: b.lines[0][0] if b.lines else 0))


def _looks_like_python(code: tuple[tuple[int, str], ...]) -> bool:
    """A literal block of Python rather than a shell session, a listing or output: a call or an
    import, and no shell prompt."""
    text = "\n".join(t for _, t in code)
    if re.search(r"^\s*\$ ", text, re.M):
        return False
    return bool(re.search(r"^\s*(from\s+\w[\w.]*\s+import|import\s+\w)|\w\s*\(", text, re.M))


def docstring_blocks(text: str) -> Blocks:
    """Examples inside the docstrings (and comments) of a ``.py`` file: ``>>>`` sessions, fenced
    blocks and reST code directives, found by scanning the raw lines, never by importing."""
    numbered = list(enumerate(text.splitlines(), 1))
    blocks: list[Block] = []
    taken: set[int] = set()
    i = 0
    while i < len(numbered):
        no, line = numbered[i]
        f = _FENCE.match(line)
        d = _RST_CODE.match(line)
        if f:
            fence, info = f.group("fence"), f.group("info").strip()
            lang = info.split()[0].strip("{}.").lower() if info else ""
            body: list[tuple[int, str]] = []
            j = i + 1
            while j < len(numbered) and not numbered[j][1].strip().startswith(fence):
                if re.search(r'^\s*("""|\'\'\')', numbered[j][1]):
                    break  # the docstring ends before the fence closes
                body.append(numbered[j])
                j += 1
            if lang in _PY_LANGS and not _NOT_PY.match(lang):
                taken.update(n for n, _ in numbered[i : j + 1])
                code = _trim(_dedented(body))
                if code:
                    blocks.append(Block(code, ""))
            i = j + 1
            continue
        if d and d.group("lang").lower() in _PY_LANGS:
            base = len(line) - len(line.lstrip())
            body, j = _indented_body(numbered, i + 1, base)
            body = [(n, t) for n, t in body if not re.match(r"^\s*:[\w-]+:", t)]
            body = [(n, t) for n, t in body if not re.search(r'("""|\'\'\')\s*$', t)]
            taken.update(n for n, _ in numbered[i:j])
            code = _trim(_dedented(body))
            if code:
                blocks.append(Block(code, ""))
            i = max(j, i + 1)
            continue
        i += 1
    blocks += _doctest_runs(numbered, taken, {})
    return _capped(sorted(blocks, key=lambda b: b.lines[0][0] if b.lines else 0))


def notebook_blocks(raw: str) -> Blocks:
    """The code cells of a Jupyter notebook, read as JSON (nothing is executed). Each source line
    is mapped to the line of the raw file that holds it (nbformat writes one per line); a notebook
    written on one line maps every line to it. Markdown cells give the titles. Raises ValueError
    when the text is not a notebook."""
    data = json.loads(raw)
    cells = data.get("cells") if isinstance(data, dict) else None
    if not isinstance(cells, list):
        raise ValueError("no 'cells' list: not a Jupyter notebook")
    raw_lines = raw.splitlines()
    pos = 0  # the raw line the next source line is searched from
    title = ""
    blocks: list[Block] = []
    for cell in cells:
        if not isinstance(cell, dict):
            continue
        src = cell.get("source", "")
        parts = src if isinstance(src, list) else str(src).splitlines(keepends=True)
        parts = [p for p in parts if isinstance(p, str)]
        if cell.get("cell_type") == "markdown":
            for p in parts:
                m = _MD_HEADING.match(p.strip())
                if m:
                    title = m.group("title").strip()
            continue
        if cell.get("cell_type") != "code":
            continue
        lines: list[tuple[int, str]] = []
        for part in parts:
            for piece in part.splitlines() or [""]:
                needle = json.dumps(part)[1:-1][:80]
                window = range(pos, min(len(raw_lines), pos + _SEARCH_AHEAD))
                found = next((k for k in window if needle and needle in raw_lines[k]), None)
                if found is not None:
                    pos = found
                # IPython magics and shell escapes are not Python: kept as blank lines
                lines.append((pos + 1, "" if piece.lstrip().startswith(("%", "!")) else piece))
        code = _trim(_dedented(lines))
        if code:
            blocks.append(Block(code, title))
    return _capped(blocks)
