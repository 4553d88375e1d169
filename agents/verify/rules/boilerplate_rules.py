"""R49: no boilerplate.

A page that says what every other page says tells the reader nothing. Three checks:

* wiki-level: an Overview, Description, Usage or Theoretical Basis whose text, once page names, API
  names and the repository id are set aside (each replaced by one placeholder), is the same on three or
  more pages: an error on each of them;
* page-level: a ``<math>`` that holds a placeholder (``y = f(x)``; a lone letter on a page whose maths
  are nothing more) or mostly words (``\\text{…}`` runs of six words or more making up most of it);
* page-level: the same sentence twice in one paragraph or one table cell.
"""

from __future__ import annotations

import re
from collections import defaultdict

from agents.verify.findings import Finding, finding
from agents.verify.context import Context
from tools.wiki.page import LINK_RE, Page, Section
from tools.sentences import sentences

SECTIONS = (
    ("Overview", 2, None),
    ("Description", 3, "Overview"),
    ("Usage", 3, "Overview"),
    ("Theoretical Basis", 2, None),
)
MIN_PAGES = 3
PLACEHOLDER = "\u27e8name\u27e9"
_TICKS = re.compile(r"`[^`\n]*`")
_MATH = re.compile(r"<math>(.*?)</math>", re.DOTALL)
_CODE = re.compile(r"<syntaxhighlight[^>]*>.*?</syntaxhighlight>", re.DOTALL)
_TEXT_RUN = re.compile(r"\\(?:text|textrm|textit|textbf|mbox|mathrm|operatorname)\s*\{([^{}]*)\}")
_GREEK = [
    "alpha",
    "beta",
    "gamma",
    "delta",
    "epsilon",
    "varepsilon",
    "zeta",
    "eta",
    "theta",
    "vartheta",
    "iota",
    "kappa",
    "lambda",
    "mu",
    "nu",
    "xi",
    "pi",
    "rho",
    "sigma",
    "tau",
    "upsilon",
    "phi",
    "varphi",
    "chi",
    "psi",
    "omega",
    "Gamma",
    "Delta",
    "Theta",
    "Lambda",
    "Xi",
    "Pi",
    "Sigma",
    "Phi",
    "Psi",
    "Omega",
]
_LETTER = re.compile(r"^(?:[A-Za-z]|\\(?:" + "|".join(_GREEK) + r"))$")
# y = f(x), f(x), x -> y, x \mapsto f(x): a function of a variable, nothing more
_PLACEHOLDER_MATH = re.compile(
    r"^(?:[A-Za-z]\s*=\s*)?[A-Za-z]\s*\(\s*[A-Za-z]\s*\)$|"
    r"^[A-Za-z]\s*(?:\\to|\\mapsto|\\rightarrow|->)\s*(?:[A-Za-z]|[A-Za-z]\s*\(\s*[A-Za-z]\s*\))$"
)
_LIST_ITEM = re.compile(r"^\s*[*#:;]")


# --- wiki-level ------------------------------------------------------------------------------------


def _names(ctx: Context) -> list[str]:
    """Everything a templated text would swap per page: page names (full, short, in words), the
    WorkflowIndex's step titles, the repository id and its parts, the package."""
    repo = ctx.wiki.repo
    out: set[str] = {repo, repo.replace("_", " ")}
    out.update(p for p in ctx.owner_name if len(p) > 2)
    if ctx.package:
        out.add(ctx.package)
    for page in ctx.wiki.pages.values():
        short = page.name.removeprefix(repo + "_")
        out.update({page.name, short, short.replace("_", " ")})
    wi = ctx.wiki.workflow_index
    if wi is not None:
        for step in wi.steps:
            if step.title and len(step.title) > 2:
                out.add(step.title)
    return sorted((n for n in out if n.strip()), key=len, reverse=True)


def _names_pattern(names: list[str]) -> re.Pattern[str]:
    alts = "|".join(re.escape(n).replace(r"\ ", r"[\s_]+") for n in names)
    return re.compile(rf"(?<![A-Za-z0-9_])(?:{alts})(?![A-Za-z0-9_])", re.IGNORECASE)


def names_pattern(ctx: Context) -> re.Pattern[str]:
    """What ``normalised`` sets aside in this wiki."""
    return _names_pattern(_names(ctx))


def normalised(text: str, names: re.Pattern[str]) -> str:
    """The text with links, code spans and names replaced by one placeholder, case and spacing ignored."""
    text = LINK_RE.sub(PLACEHOLDER, text)
    text = _TICKS.sub(PLACEHOLDER, text)
    text = names.sub(PLACEHOLDER, text)
    text = " ".join(text.split()).lower()
    ph = re.escape(PLACEHOLDER.lower())
    return re.sub(rf"{ph}(?:[\s,]*(?:and|or)?[\s,]*{ph})+", PLACEHOLDER.lower(), text)


def _section(page: Page, title: str, level: int, parent: str | None) -> Section | None:
    return page.section(title, level=level, parent=parent) if parent else page.section(title, level=level)


def section_of(page: Page, title: str) -> Section | None:
    """One of the sections R49 compares (Description and Usage under the Overview)."""
    for t, level, parent in SECTIONS:
        if t == title:
            return _section(page, t, level, parent)
    return None


def boilerplate_groups(ctx: Context) -> list[tuple[str, str, list[tuple[Page, int]]]]:
    """(section title, text with names set aside, pages and lines) of every section text that three or
    more pages share."""
    pattern = names_pattern(ctx)
    groups: dict[tuple[str, str], list[tuple[Page, int]]] = defaultdict(list)
    for page in sorted(ctx.wiki.pages.values(), key=lambda p: p.path):
        for title, _level, _parent in SECTIONS:
            sec = section_of(page, title)
            if sec is None:
                continue
            text = normalised(sec.text(), pattern)
            if text:
                groups[(title, text)].append((page, sec.line))
    return [
        (title, text, hits) for (title, text), hits in groups.items() if len({p.path for p, _ in hits}) >= MIN_PAGES
    ]


def check_boilerplate(ctx: Context) -> list[Finding]:
    """R49, wiki-level: the same section text (names set aside) on three or more pages."""
    out = []
    for title, text, hits in boilerplate_groups(ctx):
        shown = text if len(text) <= 90 else text[:87] + "…"
        for page, line in hits:
            out.append(
                finding(
                    "R49",
                    page.path,
                    line,
                    f"the {title} reads the same on {len(hits)} pages once names are set aside: {shown!r}",
                )
            )
    return out


# --- page-level ------------------------------------------------------------------------------------


def _words_in_text_runs(tex: str) -> tuple[int, int]:
    """(words, characters) inside \\text{…}-like runs."""
    runs = _TEXT_RUN.findall(tex)
    return sum(len(r.split()) for r in runs), sum(len(r.replace(" ", "")) for r in runs)


def math_problem(tex: str, page_has_formula: bool) -> str | None:
    """Why a <math> span is not maths, or None."""
    body = " ".join(tex.split())
    if _PLACEHOLDER_MATH.match(body):
        return f"<math>{body}</math> is a placeholder, not a formula"
    if _LETTER.match(body) and not page_has_formula:
        return f"<math>{body}</math> is a lone letter on a page with no formula it could name"
    words, chars = _words_in_text_runs(body)
    bare = [w for w in re.findall(r"(?<![\\A-Za-z])[A-Za-z]{3,}", _TEXT_RUN.sub(" ", body))]
    words += len(bare)
    chars += sum(len(w) for w in bare)
    if words >= 6 and chars * 2 > len(body.replace(" ", "")):
        return f"<math>{body[:50]}</math> is mostly words ({words}); write prose outside <math>"
    return None


def _is_formula(tex: str) -> bool:
    body = " ".join(tex.split())
    return bool(body) and not _PLACEHOLDER_MATH.match(body) and not _LETTER.match(body)


def _math_findings(page: Page) -> list[Finding]:
    text = _CODE.sub(lambda m: "\n" * m.group(0).count("\n"), page.render())
    spans = [(m.group(1), text.count("\n", 0, m.start()) + 1) for m in _MATH.finditer(text)]
    has_formula = any(_is_formula(t) and math_problem(t, True) is None for t, _ in spans)
    out = []
    for tex, line in spans:
        why = math_problem(tex, has_formula)
        if why:
            out.append(finding("R49", page.path, line, why))
    return out


def _sentence_key(s: str) -> str | None:
    s = " ".join(LINK_RE.sub(" ", s).split()).strip(" .!?;:").lower()
    return s if len(s.split()) >= 3 else None


def repeated_sentence(text: str) -> str | None:
    """A sentence that occurs twice in ``text`` (one paragraph or cell), or None."""
    seen: set[str] = set()
    for s in sentences(" ".join(text.split())):
        key = _sentence_key(s)
        if key is None:
            continue
        if key in seen:
            return s.strip()
        seen.add(key)
    return None


def _units(page: Page) -> list[tuple[int, str]]:
    """(line, text) of every paragraph (list items each on their own) and every data cell, metadata aside."""
    out: list[tuple[int, str]] = []
    meta = page.metadata
    for b in page.blocks:
        if b.kind == "text":
            para: list[str] = []
            start = b.line
            for k, line in enumerate(b.lines):
                if _LIST_ITEM.match(line):
                    if para:
                        out.append((start, " ".join(para)))
                        para = []
                    out.append((b.line + k, line))
                    start = b.line + k + 1
                else:
                    if not para:
                        start = b.line + k
                    para.append(line)
            if para:
                out.append((start, " ".join(para)))
        elif b.kind == "table" and b.table is not None and b is not meta:
            for row_line, cells in b.table.data_rows():
                out.extend((row_line, c) for c in cells)
    return out


def check_page_boilerplate(ctx: Context, page: Page) -> list[Finding]:
    """R49, page-level: placeholder or wordy maths; a sentence said twice in one paragraph or cell."""
    out = _math_findings(page)
    for line, text in _units(page):
        twice = repeated_sentence(_CODE.sub(" ", text))
        if twice:
            out.append(finding("R49", page.path, line, f"the same sentence twice in one paragraph: {twice[:80]!r}"))
    return out
