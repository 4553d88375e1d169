"""Fault injection for the verifier: each mutation plants one known fault in a correct wiki.

Used by the mutation tests and by bench/verify_bench.py. Mutations edit page text the way a
careless author (or model) would, pick their target deterministically (first page, in name
order, that offers what they need) and return a one-line description, or None when the wiki has
no suitable target. Each names the rule id that must catch it.
"""
from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

_LINES = re.compile(r"^(\* '''Lines:''' L)(\d+)-(\d+)$", re.M)
_FILE = re.compile(r"^(\* '''File:''' )(\S+)$", re.M)
_INPUT_ROW = re.compile(r"^\| (\w+) \|\| (.*?) \|\| (Yes|No) \|\| (.*)$", re.M)
_DEFAULT = re.compile(r"Default: `([^`]+)`\.")
_IMPORT = re.compile(r"^from ([\w.]+) import (\w+)", re.M)
_ROW = re.compile(r"^\| \w+ \| \[→\]", re.M)


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


def _first(paths: list[Path], pred: Callable[[str], object]) -> tuple[Path, object] | None:
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
        a, b = int(m.group(2)), int(m.group(3))
        _edit(p, m.group(0), f"{m.group(1)}{a + 1}-{b + 1}")
        return f"{_rel(root, p)}: Lines L{a}-{b} -> L{a + 1}-{b + 1}"
    return None


def wrong_file(root: Path, src: Path | None) -> str | None:
    if src is None:
        return None
    for p in _api_docs(root):
        m = _FILE.search(p.read_text(encoding="utf-8"))
        cited = src / m.group(2)
        others = sorted(f for f in cited.parent.glob("*.py") if f.name != cited.name and f.name != "__init__.py"
                        and f.is_file() and not f.is_symlink())
        if not others:
            continue
        new = others[0].relative_to(src).as_posix()
        _edit(p, m.group(0), m.group(1) + new)
        return f"{_rel(root, p)}: File {m.group(2)} -> {new}"
    return None


def _input_with_default(text: str):
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
    def pred(t: str):
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
        p.write_text(text[:m.start(1)] + new + text[m.end(1):], encoding="utf-8")
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
            p.write_text(text[:io[0]] + text[ex[0]:ex[1]] + text[io[0]:io[1]] + text[ex[1]:], encoding="utf-8")
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
    hit = _first(_pages(root, "principles"), lambda t: re.search(r"^\* \[\[implemented_by::Implementation:(\w+)\]\]$", t, re.M))
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
    def pred(t: str):
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


def _example_block(t: str):
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
    p.write_text(text[:m.end()] + line + "\n" + text[m.end():], encoding="utf-8")
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
    hit = pkg and _into_section(root, "Description", f"It also calls {pkg}.magic_merge_all(model, fast=True) internally.")
    return hit and f"{_rel(root, hit)}: prose names {pkg}.magic_merge_all without back-ticks"


def invented_method_in_prose(root: Path, src: Path | None) -> str | None:
    hit = _into_section(root, "Usage", "Call turbo_quantize_adapters() afterwards to halve the memory.")
    return hit and f"{_rel(root, hit)}: prose tells the reader to call turbo_quantize_adapters()"


def secret_in_example(root: Path, src: Path | None) -> str | None:
    hit = _into_example(root, 'api_key = "sk-' + "a1B2c3D4" * 4 + '"')
    return hit and f"{_rel(root, hit[0])}: example holds an API key"


def path_in_metadata(root: Path, src: Path | None) -> str | None:
    hit = _first(_pages(root, "implementations"), lambda t: re.search(r"^\* \[\[source::Repo\|([^|]+)\|(https://[^\]]+)\]\]$", t, re.M))
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
            p.write_text(text[:m.end(1)] + f" with {pkg}" + text[m.end(1):], encoding="utf-8")
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
        code = (src / file.group(2)).read_text(encoding="utf-8").splitlines()[int(lines.group(2)) - 1:int(lines.group(3))]
        line = max(code, key=lambda l: len(l.replace(" ", "")), default="").strip()
        ptext = principle.read_text(encoding="utf-8")
        basis = _section(ptext, "Theoretical Basis")
        if len(line.replace(" ", "")) < 25 or basis is None:
            continue
        block = f'<syntaxhighlight lang="python">\n{line}\n</syntaxhighlight>\n\n'
        principle.write_text(ptext[:basis[1]] + block + ptext[basis[1]:], encoding="utf-8")
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
    hit = _first(_pages(root, "principles"), lambda t: re.search(r"^\* \[\[implemented_by::Implementation:(\w+)\]\]$", t, re.M))
    if hit is None:
        return None
    p, m = hit
    _edit(p, m.group(0), m.group(0).replace("implemented_by::", "realized_by::"))
    return f"{_rel(root, p)}: implemented_by written as realized_by"


def _index_rows(root: Path, name: str) -> tuple[Path, list[re.Match]] | None:
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
    path.write_text(text[:a.start()] + b.group(0) + text[a.end():b.start()] + a.group(0) + text[b.end():],
                    encoding="utf-8")
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
    page = m and root / "implementations" / f"{m.group(1)}.md"
    if not page or not page.exists() or "| ✅ |" not in wi.read_text(encoding="utf-8"):
        return None
    page.unlink()
    idx = root / "_ImplementationIndex.md"
    if idx.exists():
        text = idx.read_text(encoding="utf-8")
        idx.write_text(re.sub(rf"^\| {m.group(1)} \|.*\n", "", text, flags=re.M), encoding="utf-8")
    return f"implementations/{m.group(1)}.md deleted while its step stays ✅"


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
)


def mutated_copy(wiki: Path, dest: Path, mutation: Mutation, source: Path | None) -> str | None:
    """Copy the wiki to dest and apply one mutation; None when the wiki offers no target."""
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(wiki, dest)
    return mutation.apply(dest, source)
