"""The run's review site: ``runs/<repo>/<run_id>/review/index.html`` and one HTML file per page.

Static and self-contained: inline CSS, no script, no network. Each page shows the draft (or the
committed text) rendered, its verifier findings linked to the lines, and the source it documents.
Everything from a page, a docstring or the source is escaped (tools/wiki/html.py).
"""
from __future__ import annotations

import html
import json
from pathlib import Path

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

from agents.review.runs import PageEntry, RunView, counts, load_run, source_excerpt
from tools.wiki.html import css, page_html
from tools.wiki.page import TYPE_FOLDERS, parse_page

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:0;color:#1d232a;background:#f6f7f9}
header{background:#24313f;color:#fff;padding:.8em 1.5em} header a{color:#cfe3ff}
main{padding:1em 1.5em} h1{font-size:1.4em;margin:.2em 0}
table{border-collapse:collapse;background:#fff} td,th{border:1px solid #d5dae0;padding:.3em .6em;text-align:left;vertical-align:top}
th{background:#eef1f4} .status-held{color:#a4262c;font-weight:600} .status-committed{color:#1e7b34}
.status-changed{color:#9a6700} .status-new{color:#0b5cad}
.cols{display:flex;gap:1.5em;align-items:flex-start} .page{flex:3;background:#fff;padding:1em 1.5em;border:1px solid #d5dae0;min-width:0}
aside{flex:2;min-width:0} aside section{background:#fff;border:1px solid #d5dae0;padding:.6em 1em;margin-bottom:1em}
.meta-box table{float:right;margin:0 0 1em 1em;font-size:.9em} .edge{color:#6b7785;font-size:.85em}
.missing{color:#a4262c} .finding{margin:.3em 0} .rule{font-weight:600} .E{color:#a4262c} .W{color:#9a6700}
pre{overflow-x:auto} .hl{background:#f8f8f8;padding:.4em;border:1px solid #e3e6ea;overflow-x:auto}
.figures td:first-child{font-weight:600} figure.mermaid-source pre{background:#f8f8f8;padding:.5em}
"""


def _href_for(view: RunView, here: str):
    """Link targets: another page of the run (its HTML), else nothing (shown as a missing link)."""
    names = {e.name for e in view.entries}

    def href(kind: str, name: str) -> str | None:
        if kind not in TYPE_FOLDERS:
            return None
        if name in names:
            return f"{name}.html" if here == "page" else f"pages/{name}.html"
        return None
    return href


def _doc(title: str, body: str, up: str = "") -> str:
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<title>{html.escape(title)}</title><style>{_STYLE}{css()}</style></head>"
            f"<body><header>{up}<h1>{html.escape(title)}</h1></header><main>{body}</main></body></html>\n")


def _text_of(view: RunView, e: PageEntry) -> str | None:
    if e.draft is not None:
        return e.draft.read_text(encoding="utf-8", errors="replace")
    path = view.wiki / e.page
    return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else None


def _findings_html(e: PageEntry) -> str:
    if not e.findings:
        return "<p>No findings.</p>"
    items = []
    for f in e.findings:
        where = f'<a href="#L{f["line"]}">line {f["line"]}</a>' if f.get("line") else "page"
        items.append(f'<div class="finding"><span class="rule {html.escape(f["severity"])}">{html.escape(f["rule"])}</span> '
                     f'{where}: {html.escape(f["message"])}<br><small>fix: {html.escape(f["hint"])}</small></div>')
    return "".join(items)


def _excerpt_html(view: RunView, e: PageEntry) -> str:
    ex = source_excerpt(view, e)
    if ex is None:
        loc = e.location or {}
        if loc.get("kind") == "external":
            return f"<p>External API {html.escape(str(loc.get('qualname')))}: no source in this repository.</p>"
        return "<p>No source location.</p>"
    file, start, lines = ex
    code = highlight("\n".join(lines), PythonLexer(), HtmlFormatter(cssclass="hl", linenos="inline", linenostart=start))
    return f"<p><code>{html.escape(file)}:L{start}-{e.location['end_line']}</code></p>{code}"


def _verified_against(summary: dict) -> str:
    drift = summary.get("drift") or {}
    to = drift.get("to") or {}
    if not to:
        return "—"
    text = f"{drift.get('to_text')}" + (f" (sha256 {to['sha256'][:16]}…)" if to.get("sha256") else "") + \
        f", {to.get('verified_at')}"
    if drift.get("from"):
        counts = ", ".join(f"{n} {c}" for c, n in drift.get("counts") or []) or "no recorded pages"
        text += f"; since {drift.get('from_text')}: {counts}"
    return text


def write_site(run_dir: Path) -> Path:
    view = load_run(run_dir)
    out = run_dir / "review"
    (out / "pages").mkdir(parents=True, exist_ok=True)
    summary = json.loads((run_dir / "summary.json").read_text()) if (run_dir / "summary.json").is_file() else {}
    c = counts(view)
    figures = [("Run", view.config["run_id"]), ("Repository", view.config["repo"]),
               ("Pairs planned", summary.get("pairs_planned", "—")), ("Pairs committed", summary.get("committed_pairs", "—")),
               ("Pairs held", summary.get("held_pairs", "—")), ("Pages skipped (already verified)", summary.get("skipped_pairs", "—")),
               ("Whole-wiki verification", f"{(summary.get('verify') or {}).get('errors', '—')} errors over "
                                            f"{(summary.get('verify') or {}).get('pages', '—')} pages"),
               ("Page statuses", ", ".join(f"{k}: {v}" for k, v in sorted(c.items())) or "—"),
               ("Verified against", _verified_against(summary))]
    rows = []
    for e in view.entries:
        conf = f"{e.confidence:.2f}" if e.confidence is not None else "—"
        why = f"<br><small>{html.escape(e.reason)}</small>" if e.reason else ""
        rows.append(f'<tr><td><a href="pages/{html.escape(e.name)}.html">{html.escape(e.page)}</a></td>'
                    f'<td class="status-{e.status}">{e.status}{why}</td><td>{len(e.findings)}</td><td>{conf}</td></tr>')
    body = ('<table class="figures">' + "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(str(v))}</td></tr>"
                                                  for k, v in figures) + "</table>"
            + '<h2>Pages</h2><table id="pages"><thead><tr><th>Page</th><th>Status</th><th>Findings</th>'
            + "<th>Locator confidence</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>")
    (out / "index.html").write_text(_doc(f"Review of {view.config['repo']} run {view.config['run_id']}", body),
                                    encoding="utf-8")
    href = _href_for(view, "page")
    for e in view.entries:
        text = _text_of(view, e)
        rendered = page_html(parse_page(text, e.page), href) if text is not None else "<p>No text: nothing was drafted.</p>"
        side = (f'<section><h2>Status</h2><p class="status-{e.status}">{e.status}</p>'
                + (f"<p>{html.escape(e.reason)}</p>" if e.reason else "")
                + f'</section><section><h2>Findings</h2>{_findings_html(e)}</section>'
                + f'<section><h2>Source</h2>{_excerpt_html(view, e)}</section>')
        up = '<a id="back" href="../index.html">← all pages</a>'
        (out / "pages" / f"{e.name}.html").write_text(
            _doc(e.page, f'<div class="cols"><article class="page">{rendered}</article><aside>{side}</aside></div>', up),
            encoding="utf-8")
    return out / "index.html"
