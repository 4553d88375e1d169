"""Render wiki pages and index files from plain data with the jinja2 templates in prompts/pages/.

StrictUndefined: a field the caller forgot is an error, never an empty section.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import lru_cache

import jinja2

from prompts import template_env
from tools.wiki.page import DOMAIN_RE, SOURCE_RE, UPDATED_RE, Page, escape_cell

PAGE_TEMPLATES = {
    "Workflow": "workflow.md.j2",
    "Principle": "principle.md.j2",
    "Implementation": "implementation.md.j2",
    "Environment": "environment.md.j2",
    "Heuristic": "heuristic.md.j2",
}


def _cell(value: object) -> str:
    """A table cell: one line, '|' escaped (WIKI_FORMAT §3)."""
    return escape_cell(" ".join(str(value).split()))


def _mermaid(value: str) -> str:
    return re.sub(r"[\[\]{}()|<>\"]", " ", value).strip()


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = template_env("pages")
    env.filters["cell"] = _cell
    env.filters["domain"] = lambda d: f"[[domain::{d}]]"
    env.filters["mermaid"] = _mermaid
    return env


def render_page(page_type: str, data: Mapping[str, object]) -> str:
    text = environment().get_template(PAGE_TEMPLATES[page_type]).render(**data)
    return _tidy(text)


def render_index(title: str, repo: str, blurb: str, columns: list[str], rows: list[list[str]]) -> str:
    return _tidy(
        environment()
        .get_template("page_index.md.j2")
        .render(title=title, repo=repo, blurb=blurb, columns=columns, rows=rows)
    )


def _tidy(text: str) -> str:
    """Collapse blank-line runs the template's optional parts leave, end with one newline."""
    out: list[str] = []
    in_code = False
    for line in text.splitlines():
        if line.lstrip().startswith("<syntaxhighlight"):
            in_code = True
        elif line.strip() == "</syntaxhighlight>":
            in_code = False
        if not in_code and not line.strip() and out and not out[-1].strip():
            continue
        out.append(line if in_code else line.rstrip())
    while out and not out[-1].strip():
        out.pop()
    return "\n".join(out) + "\n"


def page_data(page: Page, subtype: str | None = None) -> dict[str, object]:
    """The template fields of a parsed page: the inverse of ``render_page`` for pages in the format."""
    meta = "\n".join(page.metadata.render()) if page.metadata else ""

    def body(title: str, level: int = 3, parent: str | None = None) -> str:
        sec = page.section(title, level=level, parent=parent)
        return sec.text().strip("\n") if sec else ""

    def links(edge: str) -> list[str]:
        return [l.target for l in page.links if l.edge == edge]

    data: dict[str, object] = {
        "name": page.lines[0].split(": ", 1)[1] if page.lines and ": " in page.lines[0] else page.name,
        "sources": [{"kind": k, "title": t, "url": u} for k, t, u in SOURCE_RE.findall(meta)],
        "domains": DOMAIN_RE.findall(meta),
        "updated": (UPDATED_RE.findall(meta) or [""])[0],
        "overview": body("Overview", level=2),
        "description": body("Description", parent="Overview"),
        "usage": body("Usage", parent="Overview"),
        "heuristics": links("uses_heuristic"),
    }
    if page.type == "Principle":
        data["theory"] = body("Theoretical Basis", level=2)
        data["implementation"] = (links("implemented_by") or [""])[0]
    elif page.type == "Workflow":
        diagram = body("Execution Diagram", level=2).splitlines()
        data["diagram"] = [l for l in diagram if not l.startswith("{{#mermaid") and l.strip() != "}}"]
        steps: list[dict[str, str]] = []
        for s in page.sections:
            if s.level == 3 and s.parent == "Execution Steps":
                text = s.text().strip("\n").split("\n")
                link = re.match(r"\[\[step::Principle:([^\]]+)\]\]", text[0]) if text else None
                steps.append(
                    {
                        "title": s.title.split(": ", 1)[-1],
                        "principle": link.group(1) if link else "",
                        "text": "\n".join(text[1:]).strip("\n"),
                    }
                )
        data["steps"] = steps
    elif page.type == "Implementation":
        data.update(_implementation_data(page, subtype or "API Doc", body, links))
    return data


def _implementation_data(
    page: Page, subtype: str, body: Callable[[str], str], links: Callable[[str], list[str]]
) -> dict[str, object]:
    loc: dict[str, str] = {}
    for line in body("Source Location").splitlines() + body("Tool Location").splitlines():
        m = re.match(r"^\*\s*'''([^:']+):'''\s*(.*)$", line)
        if m:
            loc[m.group(1)] = m.group(2)
    repo = re.match(r"^\[(\S+)\s+(.*)\]$", loc.get("Repository", ""))
    lib = re.match(r"^\[(\S+)\s+(.*)\]$", loc.get("Library", ""))
    lines = re.match(r"^L(\d+)-(\d+)$", loc.get("Lines", ""))
    ext = re.match(r"^\*\s*\[(\S+)\s+(.*)\]$", body("External Reference"))

    def code(title: str) -> str | None:
        sec = page.section(title, level=3)
        return "\n".join(sec.code()[0].code) if sec and sec.code() else None

    inputs: list[dict[str, object]] = []
    sec = page.section("Inputs", level=3)
    for _, cells in sec.tables()[0].data_rows() if sec and sec.tables() else []:
        desc = cells[3] if len(cells) > 3 else ""
        m = re.match(r"^(.*?) ?Default: `(.*)`\.$", desc, re.S)
        inputs.append(
            {
                "name": cells[0],
                "type": cells[1],
                "required": cells[2] == "Yes",
                "description": m.group(1) if m else desc,
                "default": m.group(2) if m else None,
            }
        )
    outputs: list[dict[str, str]] = []
    sec = page.section("Outputs", level=3)
    for _, cells in sec.tables()[0].data_rows() if sec and sec.tables() else []:
        outputs.append({"name": cells[0], "type": cells[1], "description": cells[2] if len(cells) > 2 else ""})
    examples: list[dict[str, str | None]] = []
    for s in page.sections:
        if s.level == 3 and s.parent == "Usage Examples" and s.code():
            examples.append({"title": s.title, "code": "\n".join(s.code()[0].code), "lang": s.code()[0].lang})
    constraints = [re.sub(r"^\*\s*", "", l) for l in body("Constraints").splitlines() if l.startswith("*")]
    files = loc.get("Repository files")
    return {
        "subtype": subtype,
        "repo_url": repo.group(1) if repo else "",
        "repo_label": repo.group(2) if repo else "",
        "file": loc.get("File", ""),
        "start_line": int(lines.group(1)) if lines else 0,
        "end_line": int(lines.group(2)) if lines else 0,
        "signature": code("Signature") or code("Required Signature"),
        "import_code": code("Import"),
        "library_url": lib.group(1) if lib else "",
        "library": lib.group(2) if lib else "",
        "repository_files": [f.strip() for f in files.split(",")] if files else [],
        "external_reference": {"url": ext.group(1), "label": ext.group(2)} if ext else None,
        "constraints": constraints,
        "tool": loc.get("External Tool", ""),
        "build_from": loc.get("Build From", ""),
        "inputs": inputs,
        "outputs": outputs,
        "examples": examples,
        "principle": (links("implements") or [""])[0],
        "environments": links("requires_env"),
    }
