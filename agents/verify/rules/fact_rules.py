"""Rules that check an Implementation page's facts against the source: R22–R30."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from dataclasses import dataclass, field

from tools.index.docstrings import states_default
from agents.verify.findings import Finding, finding
from agents.verify.context import Context
from tools.wiki.page import source_location
from agents.verify.rules.page_rules import signature_source
from tools.errors import ToolError
from tools.index.facts import canonical_signature, collapse, expected_inputs, expected_output_type
from tools.index.names import ModuleRef
from tools.index.records import Symbol
from tools.wiki.page import Page
from tools.index.workspace import Workspace, installed_workspace
from tools import pyast
from tools.index.entry import entry_from_import


@dataclass
class ExampleStats:
    """How many names the examples take from the package exist in the index."""

    names: int = 0
    found: int = 0
    unknown: list[str] = field(default_factory=list)


def code_of(page: Page, title: str) -> list[str] | None:
    sec = page.section(title, level=3)
    if sec is None or not sec.code():
        return None
    return sec.code()[0].code


def documented_qualname(sig: list[str] | None) -> str | None:
    """``Class.method`` for a method signature, ``name`` for a function or class."""
    if not sig:
        return None
    try:
        tree = pyast.parse(signature_source(sig))
    except SyntaxError:
        m = re.search(r"^\s*(?:async\s+def|def|class)\s+(\w+)", "\n".join(sig), re.M)
        return m.group(1) if m else None
    top = next((n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))), None)
    if top is None:
        return None
    if isinstance(top, ast.ClassDef):
        inner = [n for n in top.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        if inner and inner[0].name != "__init__":
            return f"{top.name}.{inner[0].name}"
    return top.name


def symbol_for(ws: Workspace, file: str, qualname: str | None, start: int | None) -> Symbol | None:
    """The documented symbol of an API Doc page: the definition of ``file`` named ``qualname`` starting at ``start``."""
    rec = ws.index.records.get(file)
    if rec is None:
        return None
    if qualname:
        defs = ws.index.lookup(rec.module, qualname)
        exact = [d for d in defs if d.start_line == start]
        if not exact:
            # a constructor page: the class's canonical signature, Lines from `def __init__` (R23)
            exact = [d for d in ws.index.lookup(rec.module, f"{qualname}.__init__") if d.start_line == start]
        return exact[0] if exact else ws.index.definition(rec.module, qualname)
    return next((s for s in rec.symbols if s.start_line == start), None)


def page_symbol(ws: Workspace, page: Page, lines_required: bool = False) -> Symbol | None:
    """The symbol an API Doc page states, found as R23 finds it (its File, Lines and Signature);
    None when the location does not resolve (R22/R23 report that)."""
    loc = source_location(page)
    file = loc.get("File", ("", None))[0]
    m = re.fullmatch(r"L(\d+)-(\d+)", loc.get("Lines", ("", None))[0])
    if not file or file not in ws.index.records or (lines_required and m is None):
        return None
    return symbol_for(ws, file, documented_qualname(code_of(page, "Signature")), int(m.group(1)) if m else None)


def check_facts(ctx: Context, page: Page, subtype: str | None, stats: ExampleStats) -> list[Finding]:
    out: list[Finding] = []
    if ctx.ws is None:
        return out
    out.extend(_r28(ctx.ws, page, stats))
    if subtype == "API Doc":
        out.extend(_api_doc(ctx, ctx.ws, page))
    elif subtype == "Wrapper Doc":
        out.extend(_r30(ctx, page))
    return out


def _api_doc(ctx: Context, ws: Workspace, page: Page) -> list[Finding]:
    out: list[Finding] = []
    sec = page.section("Source Location", level=3)
    loc = source_location(page)
    bullets = [line for b in (sec.blocks if sec else []) for line in b.render() if line.startswith("*")]
    if [k for k in loc] != ["Repository", "File", "Lines"] or len(bullets) != 3:
        out.append(
            finding(
                "R22",
                page.path,
                sec.line if sec else None,
                f"Source Location bullets are {list(loc)}; expected exactly Repository, File, Lines",
            )
        )
    file, file_line = loc.get("File", ("", None))
    lines, lines_line = loc.get("Lines", ("", None))
    if not file:
        return out
    if file.startswith("/") or "\\" in file or re.match(r"^[A-Za-z]:", file):
        return out + [finding("R22", page.path, file_line, f"File {file!r} is not a repository-relative path")]
    try:
        physical = ws.source.physical(file)
    except ToolError as exc:
        return out + [finding("R22", page.path, file_line, f"File {file!r}: {exc}")]
    if not physical.is_file() or file not in ws.index.records:
        return out + [finding("R22", page.path, file_line, f"File {file} is not a Python file of the source tree")]
    m = re.fullmatch(r"L(\d+)-(\d+)", lines)
    start, end = (int(m.group(1)), int(m.group(2))) if m else (None, None)
    if m is None:
        out.append(finding("R22", page.path, lines_line, f"Lines {lines!r} is not L{{start}}-{{end}}"))
    sig_code = code_of(page, "Signature")
    qualname = documented_qualname(sig_code)
    sym = symbol_for(ws, file, qualname, start)
    if sym is None:
        what = qualname or f"a definition starting at line {start}"
        return out + [finding("R23", page.path, lines_line, f"no {what} in {file}")]
    if (start, end) != (sym.start_line, sym.end_line):
        out.append(
            finding(
                "R23",
                page.path,
                lines_line,
                f"Lines L{start}-{end}, but {sym.qualname} spans L{sym.start_line}-{sym.end_line} in {file}",
            )
        )
    elif start is not None:
        text = ws.source.physical(file).read_text(encoding="utf-8", errors="replace").splitlines()
        first = text[start - 1].lstrip() if start <= len(text) else ""
        if not re.match(rf"^(async\s+def|def|class)\s+{re.escape(sym.name)}\b", first):
            out.append(
                finding("R23", page.path, lines_line, f"line {start} does not start the definition of {sym.name}")
            )
    canonical = canonical_signature(ws, sym)
    sec_sig = page.section("Signature", level=3)
    if sig_code is None or sec_sig is None:  # no section gives no code
        out.append(finding("R24", page.path, sec_sig.line if sec_sig else None, "no Signature block"))
    elif [l.rstrip() for l in sig_code] != [l.rstrip() for l in canonical.splitlines()]:
        diff = next(
            (i for i, (a, b) in enumerate(zip(sig_code, canonical.splitlines())) if a.rstrip() != b.rstrip()),
            min(len(sig_code), len(canonical.splitlines())),
        )
        out.append(
            finding(
                "R24",
                page.path,
                sec_sig.code()[0].line + 1 + diff,
                f"Signature differs from the source at its line {diff + 1}",
            )
        )
    out.extend(_r25(ws, page, sym))
    out.extend(_r26(ws, page, sym))
    out.extend(_r27(ws, page, sym))
    out.extend(_r29(ctx, page, file, start, end))
    return out


def _r25(ws: Workspace, page: Page, sym: Symbol) -> list[Finding]:
    code = code_of(page, "Import")
    sec = page.section("Import", level=3)
    if code is None or sec is None:  # no section gives no code
        return [finding("R25", page.path, sec.line if sec else None, "no Import block")]
    want = ws.names.canonical_import(sym)
    try:
        tree = pyast.parse("\n".join(code))
    except SyntaxError:
        return []  # R8 reports it
    out: list[Finding] = []
    stmts = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    first = ast.unparse(stmts[0]) if stmts else None
    # the entry the user holds (a public class from which the method is reached) is as right as its owner
    if first != want and not (first and sym.parent and entry_from_import(ws, sym, first)):
        out.append(
            finding(
                "R25",
                page.path,
                sec.code()[0].line + 1,
                f"first import is {first!r}, expected {want!r} or the import of a public class that reaches "
                f"{sym.name} by its MRO or a forwarding __getattr__",
            )
        )
    for stmt in stmts[1:]:
        out.extend(_unresolved_imports(ws, page, stmt, sec.code()[0].line, "R25"))
    return out


def _unresolved_imports(ws: Workspace, page: Page, stmt: ast.stmt, block_line: int, rule: str) -> list[Finding]:
    names = ws.names
    packages = set(names.packages)
    out: list[Finding] = []
    line = block_line + getattr(stmt, "lineno", 1)
    if isinstance(stmt, ast.Import):
        for alias in stmt.names:
            if alias.name.split(".")[0] in packages and alias.name not in ws.index.modules:
                out.append(finding(rule, page.path, line, f"module {alias.name} does not exist"))
    elif isinstance(stmt, ast.ImportFrom) and stmt.module and not stmt.level:
        if stmt.module.split(".")[0] not in packages:
            return out
        if stmt.module not in ws.index.modules:
            return [finding(rule, page.path, line, f"module {stmt.module} does not exist")]
        for alias in stmt.names:
            if alias.name != "*" and names.resolve(stmt.module, alias.name) is None:
                out.append(finding(rule, page.path, line, f"{stmt.module} has no name {alias.name}"))
    return out


def _r26(ws: Workspace, page: Page, sym: Symbol) -> list[Finding]:
    sec = page.section("Inputs", level=3)
    if sec is None or not sec.tables():
        return [finding("R26", page.path, sec.line if sec else None, "no Inputs table")]
    table = sec.tables()[0]
    out: list[Finding] = []
    if table.header != ["Name", "Type", "Required", "Description"]:
        out.append(finding("R26", page.path, table.line, f"Inputs header is {table.header}"))
        return out
    expected = {r.name: r for r in expected_inputs(ws, sym)}
    seen = set()
    for line, cells in table.data_rows():
        if len(cells) != 4:
            out.append(finding("R26", page.path, line, f"row has {len(cells)} cells (a raw '|'? write &#124;)"))
            continue
        name, typ, req, desc = cells
        row = expected.get(name)
        if row is None:
            out.append(finding("R26", page.path, line, f"{name!r} is not a parameter of {sym.qualname}"))
            continue
        seen.add(name)
        if collapse(typ) != row.type:
            out.append(finding("R26", page.path, line, f"{name}: Type {typ!r}, the source says {row.type!r}"))
        want_req = "Yes" if row.required else "No"
        if req != want_req:
            out.append(finding("R26", page.path, line, f"{name}: Required {req!r}, expected {want_req!r}"))
        if row.default is not None:
            tail = f"Default: `{collapse(row.default)}`."
            if not collapse(desc).endswith(tail):
                out.append(finding("R26", page.path, line, f"{name}: Description must end with {tail}"))
            elif states_default(collapse(desc)[: -len(tail)]):
                out.append(
                    finding(
                        "R26",
                        page.path,
                        line,
                        f"{name}: Description states the default before {tail}; drop the source's own default clause",
                    )
                )
    for name, row in expected.items():
        if row.required and name not in seen:
            out.append(finding("R26", page.path, table.line, f"required parameter {name!r} is missing"))
    return out


# the words of a description that only says the API returns something: "What `X` returns.", "The
# call's result.", "A new `X` instance.", "The return value."
_RESTATING = frozenset(
    "what returns return returned the a an of value values result results output outputs call calls s it its "
    "this that function method api gives given by from new instance object is are".split()
)
_CODE_SPAN = re.compile(r"`[^`]*`")
_IDENTIFIER = re.compile(r"\b[A-Za-z_]\w*(?:\.\w+)+\b|\b\w*_\w*\b|\b[a-z]+[A-Z]\w*\b|\b[A-Z][a-z]+[A-Z]\w*\b")


def restates_return(description: str, api: str) -> bool:
    """An Outputs Description that tells the reader nothing but that something is returned (R27): no name
    besides the API's own (``api``: its qualified name, page name or parts of them), and besides it only
    words like "what", "returns", "the", "result", "new", "instance" (or nothing at all)."""
    own = {p for p in re.split(r"[._]", api) if p} | {api}
    text = _CODE_SPAN.sub(" ", description)
    names = [m.strip("`") for m in _CODE_SPAN.findall(description)] + _IDENTIFIER.findall(text)
    other = [n for n in names if not {p for p in re.split(r"[._]", n) if p} <= own]
    words = re.findall(r"[a-z]+", _IDENTIFIER.sub(" ", text).lower())
    return not other and all(w in _RESTATING or w in {p.lower() for p in own} for w in words)


def _r27(ws: Workspace, page: Page, sym: Symbol) -> list[Finding]:
    sec = page.section("Outputs", level=3)
    if sec is None or not sec.tables():
        return [finding("R27", page.path, sec.line if sec else None, "no Outputs table")]
    table = sec.tables()[0]
    rows = table.data_rows()
    want = expected_output_type(ws, sym)
    if table.header != ["Name", "Type", "Description"]:
        return [finding("R27", page.path, table.line, f"Outputs header is {table.header}")]
    if not rows:
        return [finding("R27", page.path, table.line, "Outputs table has no row")]
    line, cells = rows[0]
    if len(cells) != 3:
        return [finding("R27", page.path, line, f"row has {len(cells)} cells (a raw '|'? write &#124;)")]
    out: list[Finding] = []
    if want is not None and collapse(cells[1]) != want:
        out.append(finding("R27", page.path, line, f"Type {cells[1]!r}, the source says {want!r}"))
    if restates_return(cells[2], sym.qualname):
        out.append(
            finding(
                "R27",
                page.path,
                line,
                f"Description {cells[2]!r} only says that {sym.qualname} returns something; say what it is",
            )
        )
    return out


def _r28(ws: Workspace, page: Page, stats: ExampleStats) -> list[Finding]:
    out: list[Finding] = []
    names = ws.names
    for s in page.sections:
        if s.level != 3 or s.parent != "Usage Examples":
            continue
        for b in s.code():
            if b.lang != "python":
                continue
            try:
                tree = pyast.parse("\n".join(b.code))
            except SyntaxError:
                continue  # R8
            imported: dict[str, Symbol | ModuleRef] = {}
            for node in ast.walk(tree):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    bad = _unresolved_imports(ws, page, node, b.line, "R28")
                    out.extend(bad)
                    if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in names.packages:
                        for alias in node.names:
                            stats.names += 1
                            t = names.resolve(node.module, alias.name) if node.module in ws.index.modules else None
                            if t is not None:
                                stats.found += 1
                                imported[alias.asname or alias.name] = t
                            else:
                                stats.unknown.append(f"{node.module}.{alias.name}")
            for node in ast.walk(tree):
                if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in imported:
                    target = imported[node.value.id]
                    if isinstance(target, Symbol) and target.kind == "class" and _fully_known(ws, target):
                        stats.names += 1
                        if names.member(target, node.attr) is not None or node.attr in _class_attrs(ws, target):
                            stats.found += 1
                        else:
                            stats.unknown.append(f"{target.name}.{node.attr}")
                            out.append(
                                finding(
                                    "R28",
                                    page.path,
                                    b.line + node.lineno,
                                    f"{target.name} has no attribute {node.attr}",
                                )
                            )
    return out


def _class_attrs(ws: Workspace, cls: Symbol) -> set[str]:
    return {f.name for k in ws.names.mro(cls) for f in k.fields}


def _fully_known(ws: Workspace, cls: Symbol) -> bool:
    """Every base of the class is in the index (so a missing member really is missing)."""
    for klass in ws.names.mro(cls):
        if len(ws.names.bases(klass)) != len(
            [b for b in klass.bases if b not in ("object", "Generic") and not b.startswith(("Generic[", "Protocol"))]
        ):
            return False
    return True


def _r29(ctx: Context, page: Page, file: str, start: int | None, end: int | None) -> list[Finding]:
    table = ctx.wiki.indexes.get("Implementation")
    if table is None or not table.header or "Source" not in table.header:
        return []
    col = table.header.index("Source")
    for row in table.rows:
        if row.cells and row.cells[0] == page.name and col < len(row.cells):
            want = f"{file}:L{start}-{end}"
            if row.cells[col] != want:
                return [
                    finding(
                        "R29",
                        page.path,
                        None,
                        f"_ImplementationIndex.md line {row.line} says {row.cells[col]!r}, the page says {want!r}",
                    )
                ]
    return []


def _cache_dir_of(ctx: Context) -> Path | None:
    """The cache folder the checked source was indexed into (its --cache-dir), for the external index too."""
    cache = ctx.ws.index.stats.cache if ctx.ws is not None else None
    return Path(cache).parents[1] if cache else None


def _external(package: str, ctx: Context) -> Workspace | None:
    return installed_workspace(package, _cache_dir_of(ctx))


def _r30(ctx: Context, page: Page) -> list[Finding]:
    out: list[Finding] = []
    loc = source_location(page)
    sec = page.section("Source Location", level=3)
    for key in ("File", "Lines"):
        if key in loc:
            out.append(finding("R30", page.path, loc[key][1], f"a Wrapper Doc has no {key} bullet; use Library"))
    library = loc.get("Library")
    if library is None:
        out.append(finding("R30", page.path, sec.line if sec else None, "no '''Library:''' bullet"))
    sig = code_of(page, "Signature")
    sec_sig = page.section("Signature", level=3)
    if sig is not None and sec_sig is not None:  # no section gives no code
        m = re.match(r"^\[\S+\s+([\w.-]+)\]", library[0]) if library else None
        ext = _external(m.group(1), ctx) if m else None
        qual = documented_qualname(sig)
        sym = None
        if ext is not None and qual:
            found = [s for s in ext.index.by_name.get(qual.split(".")[-1], []) if s.qualname == qual]
            sym = found[0] if found else None
        if ext is None or sym is None:  # no installed package gives no symbol
            out.append(
                finding(
                    "R30", page.path, sec_sig.line, "Signature was not checked against the installed package; omit it"
                )
            )
        elif [l.rstrip() for l in sig] != [l.rstrip() for l in canonical_signature(ext, sym).splitlines()]:
            out.append(
                finding(
                    "R30", page.path, sec_sig.line, f"Signature differs from {sym.qualname} in the installed package"
                )
            )
    return out
