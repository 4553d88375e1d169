"""Rules on one page's files, markup, metadata and content: R1, R3–R13, R32–R36."""

from __future__ import annotations

import re
from functools import lru_cache
from datetime import datetime, timezone

from agents.verify.findings import Finding, finding
from agents.verify.context import Context, outside_code
from tools.wiki.schema import EXTRA_SOURCE_KINDS, SOURCE_KINDS, schema_for
from tools.wiki.page import DOMAIN_RE, SOURCE_RE, UPDATED_RE, Block, Page
from tools.sentences import sentences
from tools import pyast

META_OPENER = '{| class="wikitable" style="float:right; margin-left:1em; width:300px;"'
_NAME_RE = r"[A-Za-z0-9]+(_[A-Za-z0-9]+)*"
_SECRETS = re.compile(r"sk-[A-Za-z0-9]{20,}|hf_[A-Za-z0-9]{30,}|gh[pousr]_[A-Za-z0-9]{30,}|AKIA[0-9A-Z]{16}|-----BEGIN")


def check_page(ctx: Context, page: Page, subtype: str | None) -> list[Finding]:
    out: list[Finding] = []
    for check in (_r1, _r3, _r4, _r5, _r7_r8, _metadata, _r32, _r33, _r34_r35, _r36):
        out.extend(check(ctx, page))
    out.extend(_r6(page, subtype))
    return out


def _r1(ctx: Context, page: Page) -> list[Finding]:
    repo = re.escape(ctx.wiki.repo)
    if not re.match(rf"^{repo}_{_NAME_RE}\.md$", page.path.rsplit("/", 1)[-1]):
        return [
            finding(
                "R1", page.path, None, f"file name {page.name}.md is not {ctx.wiki.repo}_{{Name}}.md with a valid Name"
            )
        ]
    name = page.name[len(ctx.wiki.repo) + 1 :]
    if page.type != "Implementation" and name[:1].islower():
        return [finding("R1", page.path, None, f"{page.type} name {name!r} starts with a lower-case letter")]
    return []


def short_name(ctx: Context, page: Page) -> str:
    return page.name.removeprefix(ctx.wiki.repo + "_")


def _r3(ctx: Context, page: Page) -> list[Finding]:
    want = f"# {page.type}: {short_name(ctx, page)}"
    got = page.lines[0] if page.lines else ""
    return [] if got == want else [finding("R3", page.path, 1, f"line 1 is {got!r}, expected {want!r}")]


def _r4(ctx: Context, page: Page) -> list[Finding]:
    out = []
    for i, line in enumerate(outside_code(page.render()).splitlines(), 1):
        if re.match(r"^#{2,6} ", line) or re.search(r"\*\*[^*\n]+\*\*", line) or line.startswith("```"):
            out.append(finding("R4", page.path, i, f"Markdown markup: {line.strip()[:60]!r}"))
    return out


def _r5(ctx: Context, page: Page) -> list[Finding]:
    out = []
    lines = outside_code(page.render()).splitlines()
    for i, line in enumerate(lines):
        if not line.startswith("="):
            continue
        if not re.match(r"^(={2,4}) \S.*\S \1$", line) and not re.match(r"^(={2,4}) \S \1$", line):
            out.append(finding("R5", page.path, i + 1, f"malformed heading {line!r}"))
        elif i + 1 < len(lines) and lines[i + 1].strip():
            out.append(finding("R5", page.path, i + 1, f"heading {line!r} is not followed by a blank line"))
    return out


def _r6(page: Page, subtype: str | None) -> list[Finding]:
    schema = schema_for(page.type or "", subtype)
    if schema is None:
        return []
    out = []
    got = [(s.title, s.line) for s in page.sections if s.level == 2]
    allowed = schema.allowed_titles()
    required = schema.required_titles()
    titles = [t for t, _ in got]
    extra = [(t, ln) for t, ln in got if t not in allowed]
    for t, ln in extra:
        out.append(finding("R6", page.path, ln, f"level-2 section '{t}' is not allowed on a {page.type} page"))
    known = [t for t in titles if t in allowed]
    if (
        [t for t in known if t in required] != required
        or known != sorted(known, key=allowed.index)
        or len(set(known)) != len(known)
    ):
        missing = [t for t in required if t not in titles]
        detail = f"missing {', '.join(missing)}" if missing else f"order is {', '.join(known)}"
        out.append(finding("R6", page.path, None, f"level-2 sections should be {', '.join(required)}; {detail}"))
    for spec in schema.sections:
        parent = page.section(spec.title, level=2)
        if parent is None or not spec.children:
            continue
        kids = [s.title for s in page.sections if s.level == 3 and s.parent == spec.title]
        present = [k for k in kids if k in spec.children]
        if present != list(spec.children):
            missing = [c for c in spec.children if c not in kids]
            rule = "R31" if spec.title in ("Interface Specification",) or "Tool Location" in spec.children else "R6"
            why = f"missing {', '.join(missing)}" if missing else f"order is {', '.join(present)}"
            out.append(
                finding(
                    rule, page.path, parent.line, f"'{spec.title}' needs subsections {', '.join(spec.children)}; {why}"
                )
            )
    # Sections whose content lives in their subsections may hold no text of their own.
    holders = {spec.title for spec in schema.sections if spec.children} | {
        "Execution Steps",
        "Related Pages",
        "Usage Examples",
        "Overview",
    }
    for s in page.sections:
        if s.level == 2 and s.title in required and s.title not in holders:
            if not s.text().strip():
                out.append(finding("R6", page.path, s.line, f"section '{s.title}' is empty"))
        if s.level == 3 and not s.text().strip():
            out.append(finding("R6", page.path, s.line, f"subsection '{s.title}' is empty"))
    return out


def signature_source(code: list[str]) -> str:
    """A Signature block made parseable: an indented '...' body after each header line that has none."""
    out = []
    for i, line in enumerate(code):
        out.append(line)
        stripped = line.split("#", 1)[0].rstrip()
        if not stripped.endswith(":"):
            continue
        indent = len(line) - len(line.lstrip())
        nxt = next((ln for ln in code[i + 1 :] if ln.strip()), None)
        if nxt is None or len(nxt) - len(nxt.lstrip()) <= indent:
            out.append(" " * (indent + 4) + "...")
    return "\n".join(out)


def _r7_r8(ctx: Context, page: Page) -> list[Finding]:
    out = []
    sig = page.section("Signature", level=3)
    sig_blocks = {id(b) for b in sig.code()} if sig else set()
    req = page.section("Required Signature", level=3)
    if req:
        sig_blocks.update(id(b) for b in req.code())
    for b in page.code_blocks:
        if b.lang not in ("python", "bash"):
            out.append(finding("R7", page.path, b.line, f"code block language {b.lang!r}; use python or bash"))
        if not b.closed:
            out.append(finding("R7", page.path, b.line, "code block is never closed"))
        if any(line.lstrip().startswith("<syntaxhighlight") for line in b.code):
            out.append(finding("R7", page.path, b.line, "code block opened inside another code block"))
        if b.lang == "python":
            src = signature_source(b.code) if id(b) in sig_blocks else "\n".join(b.code)
            try:
                pyast.parse(src)
            except SyntaxError as exc:
                out.append(
                    finding("R8", page.path, b.line + (exc.lineno or 1), f"python block does not parse: {exc.msg}")
                )
    return out


def _metadata(ctx: Context, page: Page) -> list[Finding]:
    block = page.metadata
    first = next((b for b in page.blocks[1:] if b.kind != "blank"), None)
    table = block.table if block is not None else None  # a table block always holds its table
    if block is None or table is None or table.opener != META_OPENER:
        line = first.line if first else None
        return [finding("R9", page.path, line, "the metadata wikitable does not follow the title")]
    out = []
    headers = [c for row in table.rows for cl in row if cl.kind == "!" for c in cl.cells]
    if headers != ["Knowledge Sources", "Domains", "Last Updated"]:
        out.append(
            finding(
                "R9",
                page.path,
                block.line,
                f"metadata rows are {headers}, expected Knowledge Sources, Domains, Last Updated",
            )
        )
    text = "\n".join(table.render())
    kinds = SOURCE_KINDS | EXTRA_SOURCE_KINDS.get(page.type or "", set())
    sources = SOURCE_RE.findall(text)
    if not sources:
        out.append(finding("R10", page.path, block.line, "no [[source::Kind|Title|URL]] in the metadata block"))
    for kind, _title, url in sources:
        if kind not in kinds:
            out.append(
                finding("R10", page.path, block.line, f"source kind {kind!r} is not one of {', '.join(sorted(kinds))}")
            )
        if not re.match(r"^https?://\S+$", url.strip()):
            out.append(finding("R10", page.path, block.line, f"source URL {url!r} is not an http(s) URL"))
        if kind == "Repo":
            path = re.sub(r"^https?://[^/]+", "", url.strip()).strip("/")
            if len([p for p in path.split("/") if p]) > 2:
                out.append(finding("R11", page.path, block.line, f"Repo URL {url!r} points below the repository root"))
    for pattern, what in (
        (r"\.py\b", ".py path"),
        (r"/blob/", "/blob/ URL"),
        (r"/tree/", "/tree/ URL"),
        (r"#L\d", "line anchor"),
        (r":L\d", "line range"),
    ):
        if re.search(pattern, text):
            out.append(finding("R11", page.path, block.line, f"metadata block contains a {what}"))
    domains = DOMAIN_RE.findall(text)
    if not domains:
        out.append(finding("R12", page.path, block.line, "no [[domain::Tag]] in the metadata block"))
    for d in domains:
        if not re.match(r"^[A-Za-z0-9_]+$", d):
            out.append(finding("R12", page.path, block.line, f"domain tag {d!r} has characters outside [A-Za-z0-9_]"))
    stamps = UPDATED_RE.findall(text)
    if len(stamps) != 1:
        out.append(finding("R13", page.path, block.line, f"{len(stamps)} last_updated values; exactly one is needed"))
    for v in stamps:
        if not re.match(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2} GMT$", v):
            out.append(finding("R13", page.path, block.line, f"timestamp {v!r} is not YYYY-MM-DD HH:MM GMT"))
            continue
        try:
            when = datetime.strptime(v, "%Y-%m-%d %H:%M GMT").replace(tzinfo=timezone.utc)
        except ValueError:
            out.append(finding("R13", page.path, block.line, f"timestamp {v!r} is not a real date"))
            continue
        if when > ctx.now:
            out.append(finding("R13", page.path, block.line, f"timestamp {v!r} lies in the future"))
    return out


def _r32(ctx: Context, page: Page) -> list[Finding]:
    if page.type != "Workflow":
        return []
    return [finding("R32", page.path, b.line, "code block on a Workflow page") for b in page.code_blocks]


def overview_paragraph(page: Page) -> tuple[list[Block], int | None]:
    sec = page.section("Overview", level=2)
    if sec is None:
        return [], None
    blocks = list(sec.blocks)
    while blocks and blocks[0].kind == "blank":
        blocks.pop(0)
    while blocks and blocks[-1].kind == "blank":
        blocks.pop()
    return blocks, sec.line


def _r33(ctx: Context, page: Page) -> list[Finding]:
    blocks, line = overview_paragraph(page)
    if line is None:
        return []
    if any(b.kind == "blank" for b in blocks) or any(b.kind != "text" for b in blocks):
        return [finding("R33", page.path, line, "the Overview has more than one paragraph")]
    text = " ".join(l.strip() for b in blocks for l in b.lines)
    pieces = sentences(text)
    if len(pieces) > 1:
        return [finding("R33", page.path, line, f"the Overview has {len(pieces)} sentences; write one")]
    return []


@lru_cache(maxsize=4096)
def _word_re(w: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![A-Za-z0-9_]){re.escape(w)}(?![A-Za-z0-9_])", re.I)


def _has_term(text: str, words: set[str], code_like: set[str]) -> str | None:
    for w in sorted(words):
        if _word_re(w).search(text):
            return w
    # code-like names are identifiers: a token lookup finds the same matches as a per-name regex
    hits = code_like.intersection(re.findall(r"[A-Za-z0-9_]+", text))
    return min(hits) if hits else None


def _r34_r35(ctx: Context, page: Page) -> list[Finding]:
    if page.type != "Principle":
        return []
    out = []
    words, code_like = ctx.deny_terms(page)
    blocks, line = overview_paragraph(page)
    text = " ".join(l for b in blocks for l in b.render())
    term = _has_term(text, words, code_like)
    if term:
        out.append(finding("R34", page.path, line, f"the Overview names {term!r}"))
    basis = page.section("Theoretical Basis", level=2)
    if basis is not None:
        for b in basis.code():
            code = "\n".join(b.code)
            if re.search(r"^\s*(import\s+\w|from\s+[\w.]+\s+import\b)", code, re.M):
                out.append(finding("R35", page.path, b.line, "pseudocode contains an import statement"))
            term = _has_term(code, words, code_like)
            if term:
                out.append(finding("R35", page.path, b.line, f"pseudocode names {term!r}"))
            for i, raw in enumerate(b.code, 1):
                collapsed = " ".join(raw.split())
                if len(collapsed.replace(" ", "")) >= 25 and collapsed in ctx.source_lines:
                    out.append(
                        finding("R35", page.path, b.line + i, f"line copied from the source: {collapsed[:60]!r}")
                    )
    return out


def _r36(ctx: Context, page: Page) -> list[Finding]:
    out = []
    for i, line in enumerate(page.lines, 1):
        if _SECRETS.search(line):
            out.append(finding("R36", page.path, i, "text looks like a credential"))
    cred = page.section("Credentials", level=2)
    if cred is not None:
        for b in cred.blocks:
            for j, line in enumerate(b.render()):
                if re.search(r"\b[A-Z][A-Z0-9_]*\s*=\s*\S", line):
                    out.append(finding("R36", page.path, b.line + j, "a credential is assigned a value"))
    return out
