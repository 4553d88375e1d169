"""The run's review site: ``runs/<repo>/<run_id>/review/index.html`` and one HTML file per page.

Static and self-contained: inline CSS, no script, no network. Each page shows the draft (or the
committed text) rendered, its verifier findings linked to the lines, and the source it documents.
The HTML is written by the templates in prompts/site/ with autoescape on, so everything from a page,
a docstring, a finding or the source reaches it escaped; the page bodies come from tools/wiki/html.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypedDict

from markupsafe import Markup
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

from agents.drift import SourceRecord
from agents.review.runs import PageEntry, RunView, counts, load_run, source_excerpt
from prompts import html_env
from tools.wiki.html import css, page_html
from tools.wiki.page import TYPE_FOLDERS, parse_page

# The part of summary.json (agents/nodes/report.py) the index shows; a run stopped early may lack any of it.
_VerifyFigures = TypedDict("_VerifyFigures", {"errors": int, "pages": int}, total=False)
_DriftFigures = TypedDict(
    "_DriftFigures",
    {
        "from": SourceRecord | None,
        "from_text": str,
        "to": SourceRecord,
        "to_text": str,
        "counts": list[tuple[str, int]],
    },
    total=False,
)


class _Summary(TypedDict, total=False):
    pairs_planned: int
    committed_pairs: int
    held_pairs: int
    skipped_pairs: int
    verify: _VerifyFigures
    drift: _DriftFigures


@dataclass(frozen=True)
class _Row:
    """One page in the index."""

    name: str
    page: str
    status: str
    reason: str | None
    findings: int
    confidence: str


@dataclass(frozen=True)
class _Finding:
    rule: str
    severity: str
    line: int | None  # None: about the whole page
    message: str
    hint: str


@dataclass(frozen=True)
class _Excerpt:
    file: str
    start: int
    end: int
    html: Markup  # Pygments' highlighting (it escapes the code)
    kind: Literal["excerpt"] = "excerpt"


@dataclass(frozen=True)
class _External:
    qualname: str
    kind: Literal["external"] = "external"


@dataclass(frozen=True)
class _NoSource:
    kind: Literal["none"] = "none"


def _href_for(view: RunView, here: str) -> Callable[[str, str], str | None]:
    """Link targets: another page of the run (its HTML), else nothing (shown as a missing link)."""
    names = {e.name for e in view.entries}

    def href(kind: str, name: str) -> str | None:
        if kind not in TYPE_FOLDERS:
            return None
        if name in names:
            return f"{name}.html" if here == "page" else f"pages/{name}.html"
        return None

    return href


def _text_of(view: RunView, e: PageEntry) -> str | None:
    if e.draft is not None:
        return e.draft.read_text(encoding="utf-8", errors="replace")
    path = view.wiki / e.page
    return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else None


def _findings(e: PageEntry) -> list[_Finding]:
    return [_Finding(f["rule"], f["severity"], f.get("line") or None, f["message"], f["hint"]) for f in e.findings]


def _source(view: RunView, e: PageEntry) -> _Excerpt | _External | _NoSource:
    ex = source_excerpt(view, e)
    loc = e.location or {}
    if ex is None:
        return _External(str(loc.get("qualname"))) if loc.get("kind") == "external" else _NoSource()
    file, start, lines = ex
    code = highlight("\n".join(lines), PythonLexer(), HtmlFormatter(cssclass="hl", linenos="inline", linenostart=start))
    return _Excerpt(file, start, loc["end_line"], Markup(code))


def _verified_against(summary: _Summary) -> str:
    drift = summary.get("drift") or _DriftFigures()
    to = drift.get("to")
    if not to:
        return "—"
    text = (
        f"{drift.get('to_text')}"
        + (f" (sha256 {sha[:16]}…)" if (sha := to.get("sha256")) else "")
        + f", {to.get('verified_at')}"
    )
    if drift.get("from"):
        counts = ", ".join(f"{n} {c}" for c, n in drift.get("counts") or []) or "no recorded pages"
        text += f"; since {drift.get('from_text')}: {counts}"
    return text


def _figures(view: RunView, summary: _Summary) -> list[tuple[str, object]]:
    c = counts(view)
    verify = summary.get("verify") or _VerifyFigures()
    return [
        ("Run", view.config["run_id"]),
        ("Repository", view.config["repo"]),
        ("Pairs planned", summary.get("pairs_planned", "—")),
        ("Pairs committed", summary.get("committed_pairs", "—")),
        ("Pairs held", summary.get("held_pairs", "—")),
        ("Pages skipped (already verified)", summary.get("skipped_pairs", "—")),
        ("Whole-wiki verification", f"{verify.get('errors', '—')} errors over {verify.get('pages', '—')} pages"),
        ("Page statuses", ", ".join(f"{k}: {v}" for k, v in sorted(c.items())) or "—"),
        ("Verified against", _verified_against(summary)),
    ]


def write_site(run_dir: Path) -> Path:
    view = load_run(run_dir)
    out = run_dir / "review"
    (out / "pages").mkdir(parents=True, exist_ok=True)
    summary: _Summary = (
        json.loads((run_dir / "summary.json").read_text()) if (run_dir / "summary.json").is_file() else {}
    )
    env = html_env()
    rows = [
        _Row(
            e.name,
            e.page,
            e.status,
            e.reason,
            len(e.findings),
            f"{e.confidence:.2f}" if e.confidence is not None else "—",
        )
        for e in view.entries
    ]
    (out / "index.html").write_text(
        env.get_template("index.html.j2").render(
            title=f"Review of {view.config['repo']} run {view.config['run_id']}",
            highlight_css=css(),
            figures=_figures(view, summary),
            rows=rows,
        ),
        encoding="utf-8",
    )
    href = _href_for(view, "page")
    page = env.get_template("page.html.j2")
    for e in view.entries:
        text = _text_of(view, e)
        (out / "pages" / f"{e.name}.html").write_text(
            page.render(
                title=e.page,
                highlight_css=css(),
                body=page_html(parse_page(text, e.page), href) if text is not None else None,
                status=e.status,
                reason=e.reason,
                findings=_findings(e),
                source=_source(view, e),
            ),
            encoding="utf-8",
        )
    return out / "index.html"
