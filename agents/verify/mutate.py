"""Fault injection for the verifier: each mutation plants one known fault in a correct wiki.

Used by the mutation tests and by bench/verify_bench.py. Mutations edit page text the way a
careless author (or model) would, pick their target deterministically (first page, in name
order, that offers what they need) and return a one-line description, or None when the wiki has
no suitable target. Each names the rule id that must catch it.
"""

from __future__ import annotations

import ast
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from tools.index.docstrings import param_entries
from tools.index.param_docs import field_help
from tools.sentences import first_sentence
from tools import pyast

_LINES = re.compile(r"^(\* '''Lines:''' L)(\d+)-(\d+)$", re.M)
_FILE = re.compile(r"^(\* '''File:''' )(\S+)$", re.M)
_INPUT_ROW = re.compile(r"^\| (\w+) \|\| (.*?) \|\| (Yes|No) \|\| (.*)$", re.M)
_DEFAULT = re.compile(r"Default: `([^`]+)`\.")
_IMPORT = re.compile(r"^from ([\w.]+) import (\w+)", re.M)
_ROW = re.compile(r"^\| \w+ \| \[→\]", re.M)
_T = TypeVar("_T")


@dataclass(frozen=True)
class Mutation:
    name: str
    rule: str
    apply: Callable[[Path, Path | None], str | None]  # (wiki root, source root) -> what changed


def _pages(root: Path, folder: str) -> list[Path]:
    return sorted((root / folder).glob("*.md"))


def _api_docs(root: Path) -> list[Path]:
    return [p for p in _pages(root, "implementations") if _LINES.search(p.read_text(encoding="utf-8"))]


def _edit(path: Path, old: str, new: str, count: int = 1) -> bool:
    text = path.read_text(encoding="utf-8")
    if old not in text:
        return False
    path.write_text(text.replace(old, new, count), encoding="utf-8")
    return True


def _section(text: str, title: str, level: int = 2) -> tuple[int, int] | None:
    """(start, end) character offsets of a section, its heading included."""
    bar = "=" * level
    m = re.search(rf"^{bar} {re.escape(title)} {bar}$", text, re.M)
    if not m:
        return None
    nxt = re.compile(rf"^={{2,{level}}} [^=].*? ={{2,{level}}}$", re.M).search(text, m.end())
    return m.start(), nxt.start() if nxt else len(text)


def _first(paths: list[Path], pred: Callable[[str], _T | None]) -> tuple[Path, _T] | None:
    for p in paths:
        hit = pred(p.read_text(encoding="utf-8"))
        if hit:
            return p, hit
    return None


def _rel(root: Path, p: Path) -> str:
    return p.relative_to(root).as_posix()


# --- mutations -------------------------------------------------------------------------------


def line_shift(root: Path, src: Path | None) -> str | None:
    for p in _api_docs(root):
        m = _LINES.search(p.read_text(encoding="utf-8"))
        if m is None:  # _api_docs keeps only pages with a Lines bullet
            continue
        a, b = int(m.group(2)), int(m.group(3))
        _edit(p, m.group(0), f"{m.group(1)}{a + 1}-{b + 1}")
        return f"{_rel(root, p)}: Lines L{a}-{b} -> L{a + 1}-{b + 1}"
    return None


def wrong_file(root: Path, src: Path | None) -> str | None:
    if src is None:
        return None
    for p in _api_docs(root):
        m = _FILE.search(p.read_text(encoding="utf-8"))
        if m is None:
            continue
        cited = src / m.group(2)
        others = sorted(
            f
            for f in cited.parent.glob("*.py")
            if f.name != cited.name and f.name != "__init__.py" and f.is_file() and not f.is_symlink()
        )
        if not others:
            continue
        new = others[0].relative_to(src).as_posix()
        _edit(p, m.group(0), m.group(1) + new)
        return f"{_rel(root, p)}: File {m.group(2)} -> {new}"
    return None


def _input_with_default(text: str) -> tuple[re.Match[str], re.Match[str]] | None:
    io = _section(text, "Inputs", 3)
    if io is None:
        return None
    for m in _INPUT_ROW.finditer(text, io[0], io[1]):
        d = _DEFAULT.search(m.group(4))
        if m.group(3) == "No" and d and "\n" not in d.group(1):
            return m, d
    return None


def _other_value(value: str) -> str:
    if re.fullmatch(r"-?\d+", value):
        return str(int(value) + 1)
    return "0" if value == "None" else "None"


def param_renamed(root: Path, src: Path | None) -> str | None:
    hit = _first(_api_docs(root), lambda t: (io := _section(t, "Inputs", 3)) and _INPUT_ROW.search(t, io[0], io[1]))
    if hit is None:
        return None
    p, m = hit
    _edit(p, m.group(0), m.group(0).replace(f"| {m.group(1)} ||", f"| {m.group(1)}_value ||", 1))
    return f"{_rel(root, p)}: input {m.group(1)} renamed {m.group(1)}_value"


def required_wrong(root: Path, src: Path | None) -> str | None:
    def pred(t: str) -> re.Match[str] | None:
        io = _section(t, "Inputs", 3)
        return io and next((m for m in _INPUT_ROW.finditer(t, io[0], io[1]) if m.group(3) == "Yes"), None)

    hit = _first(_api_docs(root), pred)
    if hit is None:
        return None
    p, m = hit
    _edit(p, m.group(0), m.group(0).replace("|| Yes ||", "|| No ||", 1))
    return f"{_rel(root, p)}: input {m.group(1)} Required Yes -> No"


def default_in_inputs(root: Path, src: Path | None) -> str | None:
    hit = _first(_api_docs(root), _input_with_default)
    if hit is None:
        return None
    p, (row, d) = hit
    new = _other_value(d.group(1))
    _edit(p, row.group(0), row.group(0).replace(d.group(0), f"Default: `{new}`."))
    return f"{_rel(root, p)}: Inputs default of {row.group(1)} {d.group(1)} -> {new}"


def default_in_signature(root: Path, src: Path | None) -> str | None:
    for p in _api_docs(root):
        text = p.read_text(encoding="utf-8")
        sig = _section(text, "Signature", 3)
        hit = _input_with_default(text)
        if sig is None or hit is None:
            continue
        row, d = hit
        pat = re.compile(rf"\b{re.escape(row.group(1))}\b[^=\n]*?=\s*({re.escape(d.group(1))})")
        m = pat.search(text, sig[0], sig[1])
        if not m:
            continue
        new = _other_value(d.group(1))
        p.write_text(text[: m.start(1)] + new + text[m.end(1) :], encoding="utf-8")
        return f"{_rel(root, p)}: Signature default of {row.group(1)} {d.group(1)} -> {new}"
    return None


def section_missing(root: Path, src: Path | None) -> str | None:
    hit = _first(_pages(root, "implementations"), lambda t: _section(t, "Usage Examples"))
    if hit is None:
        return None
    p, (a, b) = hit
    text = p.read_text(encoding="utf-8")
    p.write_text(text[:a] + text[b:], encoding="utf-8")
    return f"{_rel(root, p)}: section Usage Examples removed"


def sections_swapped(root: Path, src: Path | None) -> str | None:
    for p in _api_docs(root):
        text = p.read_text(encoding="utf-8")
        io, ex = _section(text, "I/O Contract"), _section(text, "Usage Examples")
        if io and ex and io[1] == ex[0]:
            p.write_text(text[: io[0]] + text[ex[0] : ex[1]] + text[io[0] : io[1]] + text[ex[1] :], encoding="utf-8")
            return f"{_rel(root, p)}: I/O Contract and Usage Examples swapped"
    return None


def broken_link(root: Path, src: Path | None) -> str | None:
    hit = _first(_pages(root, "principles"), lambda t: re.search(r"\[\[implemented_by::Implementation:(\w+)\]\]", t))
    if hit is None:
        return None
    p, m = hit
    _edit(p, m.group(0), m.group(0).replace(m.group(1), m.group(1) + "_Gone"))
    return f"{_rel(root, p)}: implemented_by -> {m.group(1)}_Gone (no such page)"


def second_implemented_by(root: Path, src: Path | None) -> str | None:
    impls = [p.stem for p in _pages(root, "implementations")]
    hit = _first(
        _pages(root, "principles"), lambda t: re.search(r"^\* \[\[implemented_by::Implementation:(\w+)\]\]$", t, re.M)
    )
    if hit is None or len(impls) < 2:
        return None
    p, m = hit
    other = next(i for i in impls if i != m.group(1))
    _edit(p, m.group(0), f"{m.group(0)}\n* [[implemented_by::Implementation:{other}]]")
    return f"{_rel(root, p)}: second implemented_by {other}"


def orphan_implementation(root: Path, src: Path | None) -> str | None:
    impls = _api_docs(root)
    if not impls:
        return None
    p = impls[0]
    copy = p.with_name(p.stem + "_copy.md")
    text = p.read_text(encoding="utf-8")
    first, _, rest = text.partition("\n")
    copy.write_text(f"{first}_copy\n{rest}", encoding="utf-8")
    return f"{_rel(root, copy)}: copy of {p.stem} that no Principle implements"


def wrong_import(root: Path, src: Path | None) -> str | None:
    def pred(t: str) -> re.Match[str] | None:
        imp = _section(t, "Import", 3)
        return imp and _IMPORT.search(t, imp[0], imp[1])

    hit = _first(_api_docs(root), pred)
    if hit is None:
        return None
    p, m = hit
    module = m.group(1)
    new = module.rpartition(".")[0] if "." in module else f"{module}.internal"
    _edit(p, m.group(0), f"from {new} import {m.group(2)}")
    return f"{_rel(root, p)}: import {m.group(2)} from {new} instead of {module}"


def _example_block(t: str) -> re.Match[str] | None:
    ex = _section(t, "Usage Examples")
    if ex is None:
        return None
    m = re.compile(r'^<syntaxhighlight lang="python">\n', re.M).search(t, ex[0], ex[1])
    return m


def _into_example(root: Path, line: str) -> tuple[Path, str] | None:
    hit = _first(_api_docs(root), _example_block)
    if hit is None:
        return None
    p, m = hit
    text = p.read_text(encoding="utf-8")
    p.write_text(text[: m.end()] + line + "\n" + text[m.end() :], encoding="utf-8")
    return p, line


def unparsable_example(root: Path, src: Path | None) -> str | None:
    hit = _into_example(root, "def broken(:")
    return hit and f"{_rel(root, hit[0])}: example starts with 'def broken(:'"


def _package(root: Path) -> str | None:
    for p in _api_docs(root):
        t = p.read_text(encoding="utf-8")
        imp = _section(t, "Import", 3)
        m = imp and _IMPORT.search(t, imp[0], imp[1])
        if m:
            return m.group(1).split(".")[0]
    return None


def invented_api(root: Path, src: Path | None) -> str | None:
    pkg = _package(root)
    hit = pkg and _into_example(root, f"from {pkg} import NoSuchHelper")
    return hit and f"{_rel(root, hit[0])}: example imports {pkg}.NoSuchHelper"


_CODE = re.compile(r'^<syntaxhighlight lang="python">\n(.*?)^</syntaxhighlight>$', re.M | re.S)


def _example_code(text: str) -> list[re.Match[str]]:
    """The python blocks under Usage Examples (group 1: the code, ending with a newline)."""
    ex = _section(text, "Usage Examples")
    return list(_CODE.finditer(text, ex[0], ex[1])) if ex else []


def _append_to_example(p: Path, block: re.Match[str], lines: str) -> None:
    text = p.read_text(encoding="utf-8")
    p.write_text(text[: block.end(1)] + lines + "\n" + text[block.end(1) :], encoding="utf-8")


def _fresh_name(code: str, base: str) -> str:
    name, n = base, 1
    while re.search(rf"\b{name}\b", code):
        name, n = f"{base}_{n}", n + 1
    return name


def example_uses_undefined_name(root: Path, src: Path | None) -> str | None:
    for p in _pages(root, "implementations"):
        blocks = _example_code(p.read_text(encoding="utf-8"))
        if blocks:
            name = _fresh_name(blocks[0].group(1), "prepared_inputs")
            _append_to_example(p, blocks[0], f"print({name})")
            return f"{_rel(root, p)}: example prints {name}, which it never binds"
    return None


def example_return_outside_function(root: Path, src: Path | None) -> str | None:
    for p in _pages(root, "implementations"):
        blocks = _example_code(p.read_text(encoding="utf-8"))
        if blocks:
            _append_to_example(p, blocks[0], "return None")
            return f"{_rel(root, p)}: example ends with a top-level 'return None'"
    return None


def example_unused_import(root: Path, src: Path | None) -> str | None:
    for p in _pages(root, "implementations"):
        text = p.read_text(encoding="utf-8")
        for block in _example_code(text):
            module = next(
                (m for m in ("os", "sys", "json", "math") if not re.search(rf"\b{m}\b", block.group(1))), None
            )
            if module:
                p.write_text(text[: block.start(1)] + f"import {module}\n" + text[block.start(1) :], encoding="utf-8")
                return f"{_rel(root, p)}: example imports {module} and never uses it"
    return None


def _documented_call(text: str) -> tuple[str, bool] | None:
    """(called name, is a method) of an API Doc's Signature block; None when its parameters take
    ``**kwargs`` (an unknown keyword would bind)."""
    sig = _section(text, "Signature", 3)
    block = sig and _CODE.search(text, sig[0], sig[1])
    if not block or "**" in block.group(1):
        return None
    heads = re.findall(r"^\s*(?:async\s+def|def|class)\s+(\w+)", block.group(1), re.M)
    top = re.match(r"\s*(?:@.*\n\s*)*(class|async\s+def|def)\s", block.group(1))
    if not heads or top is None:
        return None
    if top.group(1) == "class" and len(heads) > 1 and heads[1] != "__init__":
        return heads[1], True
    return heads[0], False


def _calls_of(code: str, name: str, is_method: bool, owner: str | None) -> list[ast.Call]:
    """Calls of the documented API the verifier judges: a function or class through its name; a
    method on an object the block writes as `...` or builds from its class (`owner(...)`)."""
    try:
        tree = pyast.parse(code)
    except SyntaxError:
        return []

    def made_here(v: ast.expr | None) -> bool:
        return (isinstance(v, ast.Constant) and v.value is Ellipsis) or (
            isinstance(v, ast.Call) and isinstance(v.func, ast.Name) and v.func.id == owner
        )

    values = {id(t): n.value for n in ast.walk(tree) if isinstance(n, ast.Assign) for t in n.targets}
    built: dict[str, list[bool]] = {}
    for n in ast.walk(tree):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
            built.setdefault(n.id, []).append(made_here(values.get(id(n))))
    out = []
    for n in ast.walk(tree):
        if (
            not isinstance(n, ast.Call)
            or any(isinstance(a, ast.Starred) for a in n.args)
            or any(k.arg is None for k in n.keywords)
        ):
            continue
        f = n.func
        if (
            is_method
            and isinstance(f, ast.Attribute)
            and f.attr == name
            and isinstance(f.value, ast.Name)
            and all(built.get(f.value.id, [False]))
        ):
            out.append(n)
        elif not is_method and isinstance(f, ast.Name) and f.id == name:
            out.append(n)
    return sorted(out, key=lambda c: (c.lineno, c.col_offset))


def example_call_does_not_bind(root: Path, src: Path | None) -> str | None:
    """An unknown keyword on the first call of the documented API in an API Doc example (or an
    appended call with one, when no example calls it)."""
    pages = [(p, p.read_text(encoding="utf-8")) for p in _api_docs(root)]
    for p, text in pages:
        target = _documented_call(text)
        if target is None:
            continue
        imp = _section(text, "Import", 3)
        owner = imp and _IMPORT.search(text, imp[0], imp[1])
        for block in _example_code(text):
            calls = _calls_of(block.group(1), *target, owner.group(2) if owner else None)
            if not calls:
                continue
            call = calls[0]
            end_line, end_col = call.end_lineno, call.end_col_offset
            if end_line is None or end_col is None:  # a parsed node always has both
                continue
            lines = block.group(1).split("\n")
            line = lines[end_line - 1].encode("utf-8")
            close = len(line[: end_col - 1].decode("utf-8"))  # the call's ')'
            head = "\n".join(lines[: end_line - 1] + [lines[end_line - 1][:close]])
            sep = "" if not (call.args or call.keywords) else (" " if head.rstrip().endswith(",") else ", ")
            at = block.start(1) + len(head)
            p.write_text(text[:at] + sep + "not_a_parameter=1" + text[at:], encoding="utf-8")
            return f"{_rel(root, p)}: call of {target[0]} at example line {call.end_lineno} gets not_a_parameter=1"
    for p, text in pages:
        target, blocks = _documented_call(text), _example_code(text)
        imp = _section(text, "Import", 3)
        first_import = imp and _IMPORT.search(text, imp[0], imp[1])
        if target is None or not blocks or not first_import:
            continue
        name, is_method = target
        appended = (
            f"obj = ...  # the object the method belongs to\nobj.{name}(not_a_parameter=1)"
            if is_method
            else f"{first_import.group(0)}\n{name}(not_a_parameter=1)"
        )
        _append_to_example(p, blocks[0], appended)
        return f"{_rel(root, p)}: example appends a call of {name} with not_a_parameter=1"
    return None


def _into_section(root: Path, title: str, sentence: str) -> Path | None:
    """Append a sentence to the first paragraph under a section of the first Implementation page."""
    for p in _pages(root, "implementations"):
        t = p.read_text(encoding="utf-8")
        sec = _section(t, title, 3)
        if sec is None:
            continue
        body_start = t.index("\n\n", sec[0]) + 2
        end = t.find("\n", body_start)
        p.write_text(t[:end] + " " + sentence + t[end:], encoding="utf-8")
        return p
    return None


def invented_call_in_prose(root: Path, src: Path | None) -> str | None:
    pkg = _package(root)
    if not pkg:
        return pkg
    hit = _into_section(root, "Description", f"It also calls {pkg}.magic_merge_all(model, fast=True) internally.")
    return f"{_rel(root, hit)}: prose names {pkg}.magic_merge_all without back-ticks" if hit else None


def invented_method_in_prose(root: Path, src: Path | None) -> str | None:
    hit = _into_section(root, "Usage", "Call turbo_quantize_adapters() afterwards to halve the memory.")
    return f"{_rel(root, hit)}: prose tells the reader to call turbo_quantize_adapters()" if hit else None


def secret_in_example(root: Path, src: Path | None) -> str | None:
    hit = _into_example(root, 'api_key = "sk-' + "a1B2c3D4" * 4 + '"')
    return hit and f"{_rel(root, hit[0])}: example holds an API key"


def path_in_metadata(root: Path, src: Path | None) -> str | None:
    hit = _first(
        _pages(root, "implementations"),
        lambda t: re.search(r"^\* \[\[source::Repo\|([^|]+)\|(https://[^\]]+)\]\]$", t, re.M),
    )
    if hit is None:
        return None
    p, m = hit
    _edit(p, m.group(0), f"{m.group(0)}\n* [[source::Repo|{m.group(1)} core|{m.group(2)}/blob/main/src/core.py]]")
    return f"{_rel(root, p)}: metadata cites a file path"


def future_timestamp(root: Path, src: Path | None) -> str | None:
    hit = _first(_pages(root, "principles"), lambda t: re.search(r"\[\[last_updated::[^\]]+\]\]", t))
    if hit is None:
        return None
    p, m = hit
    _edit(p, m.group(0), "[[last_updated::2099-01-01 00:00 GMT]]")
    return f"{_rel(root, p)}: Last Updated in 2099"


def library_in_overview(root: Path, src: Path | None) -> str | None:
    pkg = _package(root)
    if pkg is None:
        return None
    for p in _pages(root, "principles"):
        text = p.read_text(encoding="utf-8")
        sec = _section(text, "Overview")
        if sec is None:
            continue
        m = re.compile(r"^(\S.*?)\.$", re.M).search(text, sec[0] + 1, sec[1])
        if m and not m.group(0).startswith("="):
            p.write_text(text[: m.end(1)] + f" with {pkg}" + text[m.end(1) :], encoding="utf-8")
            return f"{_rel(root, p)}: Overview names {pkg}"
    return None


def source_line_in_theory(root: Path, src: Path | None) -> str | None:
    """Paste the longest line of an Implementation's cited source range into its Principle's basis."""
    if src is None:
        return None
    for impl in _api_docs(root):
        text = impl.read_text(encoding="utf-8")
        file, lines = _FILE.search(text), _LINES.search(text)
        link = re.search(r"\[\[implements::Principle:(\w+)\]\]", text)
        principle = root / "principles" / f"{link.group(1)}.md" if link else None
        if not file or not lines or principle is None or not principle.exists() or not (src / file.group(2)).is_file():
            continue
        code = (
            (src / file.group(2))
            .read_text(encoding="utf-8")
            .splitlines()[int(lines.group(2)) - 1 : int(lines.group(3))]
        )
        line = max(code, key=lambda l: len(l.replace(" ", "")), default="").strip()
        ptext = principle.read_text(encoding="utf-8")
        basis = _section(ptext, "Theoretical Basis")
        if len(line.replace(" ", "")) < 25 or basis is None:
            continue
        block = f'<syntaxhighlight lang="python">\n{line}\n</syntaxhighlight>\n\n'
        principle.write_text(ptext[: basis[1]] + block + ptext[basis[1] :], encoding="utf-8")
        return f"{_rel(root, principle)}: Theoretical Basis holds the source line {line[:40]!r}"
    return None


def markdown_heading(root: Path, src: Path | None) -> str | None:
    hit = _first(_pages(root, "principles"), lambda t: "\n=== Usage ===\n" in t)
    if hit is None:
        return None
    p, _ = hit
    _edit(p, "\n=== Usage ===\n", "\n### Usage\n")
    return f"{_rel(root, p)}: Markdown heading '### Usage'"


def realized_by_edge(root: Path, src: Path | None) -> str | None:
    hit = _first(
        _pages(root, "principles"), lambda t: re.search(r"^\* \[\[implemented_by::Implementation:(\w+)\]\]$", t, re.M)
    )
    if hit is None:
        return None
    p, m = hit
    _edit(p, m.group(0), m.group(0).replace("implemented_by::", "realized_by::"))
    return f"{_rel(root, p)}: implemented_by written as realized_by"


def _index_rows(root: Path, name: str) -> tuple[Path, list[re.Match[str]]] | None:
    path = root / name
    if not path.exists():
        return None
    text = path.read_text(encoding="utf-8")
    rows = list(re.finditer(r"^\| \w+ \| \[→\].*$", text, re.M))
    return (path, rows) if len(rows) >= 2 else None


def index_row_missing(root: Path, src: Path | None) -> str | None:
    hit = _index_rows(root, "_PrincipleIndex.md")
    if hit is None:
        return None
    path, rows = hit
    _edit(path, rows[0].group(0) + "\n", "")
    return f"_PrincipleIndex.md: row {rows[0].group(0).split('|')[1].strip()} removed"


def index_unsorted(root: Path, src: Path | None) -> str | None:
    hit = _index_rows(root, "_ImplementationIndex.md")
    if hit is None:
        return None
    path, rows = hit
    text = path.read_text(encoding="utf-8")
    a, b = rows[0], rows[1]
    path.write_text(
        text[: a.start()] + b.group(0) + text[a.end() : b.start()] + a.group(0) + text[b.end() :], encoding="utf-8"
    )
    return "_ImplementationIndex.md: first two rows swapped"


def index_source_range(root: Path, src: Path | None) -> str | None:
    hit = _index_rows(root, "_ImplementationIndex.md")
    if hit is None:
        return None
    path, rows = hit
    for r in rows:
        m = re.search(r":L(\d+)-(\d+) \|", r.group(0))
        if m:
            new = r.group(0).replace(m.group(0), f":L{m.group(1)}-{int(m.group(2)) + 1} |")
            _edit(path, r.group(0), new)
            return f"_ImplementationIndex.md: Source range of {r.group(0).split('|')[1].strip()} extended by one line"
    return None


def status_unearned(root: Path, src: Path | None) -> str | None:
    """A ✅ step whose Implementation page is gone (deleted, with its index row)."""
    wi = root / "_WorkflowIndex.md"
    if not wi.exists():
        return None
    m = re.search(r"^\| \*\*Implementation\*\* \| `(\w+)` \|", wi.read_text(encoding="utf-8"), re.M)
    if m is None:
        return None
    page = root / "implementations" / f"{m.group(1)}.md"
    if not page.exists() or "| ✅ |" not in wi.read_text(encoding="utf-8"):
        return None
    page.unlink()
    idx = root / "_ImplementationIndex.md"
    if idx.exists():
        text = idx.read_text(encoding="utf-8")
        idx.write_text(re.sub(rf"^\| {m.group(1)} \|.*\n", "", text, flags=re.M), encoding="utf-8")
    return f"implementations/{m.group(1)}.md deleted while its step stays ✅"


def _documented_in_source(src: Path, text: str) -> set[str]:
    """Parameters the page's cited definition documents itself: its docstring (a class's, and its
    ``__init__``'s) or a dataclass field's ``help`` — what R48 holds the page to, inheritance aside."""
    file, lines = _FILE.search(text), _LINES.search(text)
    if not file or not lines:
        return set()
    try:
        code = (src / file.group(2)).read_text(encoding="utf-8", errors="replace")
        tree = pyast.parse(code)
    except (OSError, SyntaxError, ValueError):
        return set()
    defs = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    node = next((n for n in ast.walk(tree) if isinstance(n, defs) and n.lineno == int(lines.group(2))), None)
    if node is None:
        return set()
    nodes = [node] + [
        n
        for n in getattr(node, "body", [])
        if isinstance(node, ast.ClassDef)
        and isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
        and n.name == "__init__"
    ]
    names = {name for n in nodes for name in param_entries(ast.get_docstring(n))}
    if isinstance(node, ast.ClassDef):
        names |= {
            s.target.id
            for s in node.body
            if isinstance(s, ast.AnnAssign)
            and isinstance(s.target, ast.Name)
            and s.value is not None
            and field_help(ast.get_source_segment(code, s.value))
        }
    return names


def param_doc_dropped(root: Path, src: Path | None) -> str | None:
    """A parameter the source documents, described as undocumented (the drafter's old fallback)."""
    if src is None:
        return None
    for p in _api_docs(root):
        text = p.read_text(encoding="utf-8")
        io = _section(text, "Inputs", 3)
        if io is None:
            continue
        documented = _documented_in_source(src, text)
        for m in _INPUT_ROW.finditer(text, io[0], io[1]) if documented else []:
            if m.group(1) in documented and "undocumented" not in m.group(4):
                d = _DEFAULT.search(m.group(4))
                new = f"The `{m.group(1)}` argument (undocumented in the source)." + (f" {d.group(0)}" if d else "")
                _edit(p, m.group(0), m.group(0)[: m.start(4) - m.start(0)] + new)
                return f"{_rel(root, p)}: input {m.group(1)}, documented in the source, said to be undocumented"
    return None


def default_said_twice(root: Path, src: Path | None) -> str | None:
    """The source's own "Defaults to x." kept in front of the row's ``Default: `x`.``."""
    hit = _first(_api_docs(root), _input_with_default)
    if hit is None:
        return None
    p, (row, d) = hit
    _edit(p, row.group(0), row.group(0).replace(d.group(0), f"Defaults to `{d.group(1)}`. {d.group(0)}"))
    return f"{_rel(root, p)}: input {row.group(1)} says its default twice"


def _first_line(text: str, title: str, level: int) -> re.Match[str] | None:
    """The first text line under a section heading."""
    sec = _section(text, title, level)
    return sec and re.compile(r"^([^=\n{|*#].*)$", re.M).search(text, text.index("\n", sec[0]) + 1, sec[1])


def _short_name(text: str) -> str:
    return text.split("\n", 1)[0].split(": ", 1)[-1]


def boilerplate_overview(root: Path, src: Path | None) -> str | None:
    """One Principle's Overview pasted onto two more, each with its own name swapped in: a template."""
    pages = [
        (p, t, m)
        for p in _pages(root, "principles")
        if (m := _first_line(t := p.read_text(encoding="utf-8"), "Overview", 2))
    ]
    if len(pages) < 3:
        return None
    source_name = _short_name(pages[0][1]).replace("_", " ")
    sentence = pages[0][2].group(1)
    body = sentence[:1].lower() + sentence[1:]
    for p, text, m in pages[:3]:
        name = _short_name(text).replace("_", " ")
        line = f"{name} means {body.replace(source_name, name)}"
        p.write_text(text[: m.start(1)] + line + text[m.end(1) :], encoding="utf-8")
    return f"the Overview of {pages[0][0].stem} copied onto {pages[1][0].stem} and {pages[2][0].stem}, names swapped"


def placeholder_math(root: Path, src: Path | None) -> str | None:
    hit = _first(_pages(root, "principles"), lambda t: _first_line(t, "Theoretical Basis", 2))
    if hit is None:
        return None
    p, m = hit
    text = p.read_text(encoding="utf-8")
    p.write_text(
        text[: m.start()] + "Abstractly, the step computes <math>y = f(x)</math>.\n\n" + text[m.start() :],
        encoding="utf-8",
    )
    return f"{_rel(root, p)}: Theoretical Basis says <math>y = f(x)</math>"


def sentence_twice(root: Path, src: Path | None) -> str | None:
    def pred(t: str) -> re.Match[str] | None:
        m = _first_line(t, "Description", 3)
        return m if m and len(first_sentence(m.group(1)).split()) >= 3 else None

    hit = _first(_pages(root, "principles"), pred)
    if hit is None:
        return None
    p, m = hit
    first = first_sentence(m.group(1))
    _edit(p, m.group(0), f"{m.group(0)} {first}")
    return f"{_rel(root, p)}: the Description says {first[:40]!r} twice"


MUTATIONS: tuple[Mutation, ...] = (
    Mutation("line_shift", "R23", line_shift),
    Mutation("wrong_file", "R23", wrong_file),
    Mutation("param_renamed", "R26", param_renamed),
    Mutation("required_wrong", "R26", required_wrong),
    Mutation("default_in_inputs", "R26", default_in_inputs),
    Mutation("default_in_signature", "R24", default_in_signature),
    Mutation("section_missing", "R6", section_missing),
    Mutation("sections_swapped", "R6", sections_swapped),
    Mutation("broken_link", "R14", broken_link),
    Mutation("second_implemented_by", "R16", second_implemented_by),
    Mutation("orphan_implementation", "R17", orphan_implementation),
    Mutation("wrong_import", "R25", wrong_import),
    Mutation("unparsable_example", "R8", unparsable_example),
    Mutation("invented_api", "R28", invented_api),
    Mutation("secret_in_example", "R36", secret_in_example),
    Mutation("path_in_metadata", "R11", path_in_metadata),
    Mutation("future_timestamp", "R13", future_timestamp),
    Mutation("library_in_overview", "R34", library_in_overview),
    Mutation("source_line_in_theory", "R35", source_line_in_theory),
    Mutation("markdown_heading", "R4", markdown_heading),
    Mutation("realized_by_edge", "R15", realized_by_edge),
    Mutation("index_row_missing", "R38", index_row_missing),
    Mutation("index_unsorted", "R39", index_unsorted),
    Mutation("index_source_range", "R29", index_source_range),
    Mutation("status_unearned", "R44", status_unearned),
    Mutation("invented_call_in_prose", "R50", invented_call_in_prose),
    Mutation("invented_method_in_prose", "R50", invented_method_in_prose),
    Mutation("example_uses_undefined_name", "R45", example_uses_undefined_name),
    Mutation("example_return_outside_function", "R45", example_return_outside_function),
    Mutation("example_call_does_not_bind", "R46", example_call_does_not_bind),
    Mutation("example_unused_import", "R47", example_unused_import),
    Mutation("param_doc_dropped", "R48", param_doc_dropped),
    Mutation("default_said_twice", "R26", default_said_twice),
    Mutation("boilerplate_overview", "R49", boilerplate_overview),
    Mutation("placeholder_math", "R49", placeholder_math),
    Mutation("sentence_twice", "R49", sentence_twice),
)


def mutated_copy(wiki: Path, dest: Path, mutation: Mutation, source: Path | None) -> str | None:
    """Copy the wiki to dest and apply one mutation; None when the wiki offers no target."""
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(wiki, dest)
    return mutation.apply(dest, source)
