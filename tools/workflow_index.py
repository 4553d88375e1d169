"""Parse ``_WorkflowIndex.md`` (WIKI_FORMAT.md §7) into typed records.

Tables are located by header text, not position, and cells are split outside back-tick
spans, because kapso writes type unions such as ``str | None`` unescaped inside them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from tools.errors import UsageError

IMPL_TYPES = ("API Doc", "Wrapper Doc", "Pattern Doc", "External Tool Doc")
_NAME_RE = re.compile(r"^[A-Za-z0-9]+(_[A-Za-z0-9]+)*$")
_EMPTY = {"", "—", "-", "–", "n/a", "none", "None"}
_ATTRS = {
    "Principle": "principle", "Implementation": "implementation", "API Call": "api_call",
    "Source Location": "source_hint", "External Dependencies": "external_deps",
    "Environment": "environment", "Key Parameters": "key_parameters", "Inputs": "inputs", "Outputs": "outputs",
}


class WorkflowIndexError(UsageError):
    pass


@dataclass(frozen=True)
class Step:
    workflow: str  # Workflow page name, with the repo prefix
    number: int
    title: str  # human step name
    principle: str  # Principle page name, with the repo prefix
    implementation: str  # Implementation page name, with the repo prefix
    api_call: str | None
    source_hint: str | None
    external_deps: tuple[str, ...]
    environment: str | None
    key_parameters: str | None
    inputs: str | None
    outputs: str | None
    status: str | None  # "✅", "⬜" or None when the overview has no Status column
    impl_type: str  # one of IMPL_TYPES (default API Doc)
    guide_api: str | None  # the API column of the Implementation Extraction Guide
    line: int  # line of the "### Step N:" heading (or of the overview row)
    status_line: int | None  # line of the Steps Overview row


@dataclass(frozen=True)
class Workflow:
    name: str
    description: str | None
    steps: tuple[Step, ...]
    line: int


@dataclass(frozen=True)
class WorkflowIndex:
    repo: str
    workflows: tuple[Workflow, ...]
    path: str | None = None

    @property
    def steps(self) -> list[Step]:
        return [s for w in self.workflows for s in w.steps]


def split_row(line: str) -> list[str]:
    """Cells of a Markdown table row; '|' inside back-ticks and '\\|' stay in the cell."""
    body = line.strip()
    if body.startswith("|"):
        body = body[1:]
    if body.endswith("|") and not body.endswith("\\|"):
        body = body[:-1]
    cells, cur, in_code, i = [], [], False, 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body) and body[i + 1] == "|":
            cur.append("|")
            i += 2
            continue
        if ch == "`":
            in_code = not in_code
        if ch == "|" and not in_code:
            cells.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
        i += 1
    cells.append("".join(cur))
    if in_code:  # unbalanced back-ticks: fall back to plain splitting
        cells = [c.replace("\\|", "|") for c in re.split(r"(?<!\\)\|", body)]
    return [c.strip() for c in cells]


def cell_spans(line: str) -> list[tuple[int, int]]:
    """(start, end) offsets of each cell's text in a table row, split like ``split_row``."""
    bars = []
    in_code = False
    for i, ch in enumerate(line):
        if ch == "`":
            in_code = not in_code
        elif ch == "|" and not in_code and (i == 0 or line[i - 1] != "\\"):
            bars.append(i)
    return [(a + 1, b) for a, b in zip(bars, bars[1:])]


def clean_cell(cell: str) -> str:
    """Strip the ** and back-ticks that wrap a whole cell (only those)."""
    c = cell.strip()
    if len(c) >= 4 and c.startswith("**") and c.endswith("**") and "**" not in c[2:-2]:
        c = c[2:-2].strip()
    if len(c) >= 2 and c.startswith("`") and c.endswith("`") and "`" not in c[1:-1]:
        c = c[1:-1].strip()
    return c


def _value(cell: str) -> str | None:
    c = clean_cell(cell)
    return None if c in _EMPTY else c


def _is_separator(line: str) -> bool:
    return bool(re.match(r"^\|?\s*:?-{3,}", line.strip())) and set(line.strip()) <= set("|-: ")


@dataclass
class _Table:
    header: list[str]
    rows: list[tuple[int, list[str]]] = field(default_factory=list)

    def col(self, *names: str) -> int | None:
        lowered = [h.lower() for h in self.header]
        for n in names:
            if n.lower() in lowered:
                return lowered.index(n.lower())
        return None


def _read_table(lines: list[str], start: int) -> tuple[_Table | None, int]:
    """The table starting at or after ``start`` (skipping blank lines); returns (table, next index)."""
    i = start
    while i < len(lines) and not lines[i].strip():
        i += 1
    if i >= len(lines) or not lines[i].lstrip().startswith("|"):
        return None, i
    table = _Table([clean_cell(c) for c in split_row(lines[i])])
    i += 1
    if i < len(lines) and _is_separator(lines[i]):
        i += 1
    while i < len(lines) and lines[i].lstrip().startswith("|"):
        table.rows.append((i + 1, split_row(lines[i])))
        i += 1
    return table, i


def _full(repo: str, name: str, what: str, path: str, line: int) -> str:
    n = clean_cell(name).strip()
    if not n.startswith(repo + "_"):
        n = f"{repo}_{n}"
    if not _NAME_RE.match(n):
        raise WorkflowIndexError(f"{path}:{line}: {what} name {name!r} is not a valid page name (letters, digits, '_'); fix the WorkflowIndex")
    return n


def parse_workflow_index(text: str, path: str = "_WorkflowIndex.md") -> WorkflowIndex:
    lines = text.splitlines()
    first = next((i for i, ln in enumerate(lines) if ln.strip()), None)
    m = re.match(r"^#\s+Workflow Index:\s*(\S+)\s*$", lines[first]) if first is not None else None
    if m is None:
        raise WorkflowIndexError(f"{path}:{(first or 0) + 1}: expected the title '# Workflow Index: owner_name'; this does not look like a WorkflowIndex")
    repo = m.group(1)
    if not re.match(r"^[A-Za-z0-9]+(_[A-Za-z0-9]+)+$", repo):
        raise WorkflowIndexError(f"{path}:{first + 1}: repo name {repo!r} in the title is not owner_name")

    workflows: list[Workflow] = []
    i = first + 1
    current: dict | None = None

    def close() -> None:
        if current is not None:
            workflows.append(_build_workflow(repo, current, path))

    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        wm = re.match(r"^##\s+Workflow:\s*(\S+)\s*$", stripped)
        if wm:
            close()
            current = {"name": _full(repo, wm.group(1), "Workflow", path, i + 1), "line": i + 1,
                       "description": None, "overview": None, "steps": {}, "guide": None}
            i += 1
            continue
        if current is None:
            i += 1
            continue
        dm = re.match(r"^\*\*Description:\*\*\s*(.*)$", stripped)
        if dm:
            current["description"] = dm.group(1).strip() or None
        elif re.match(r"^###\s+Steps Overview\s*$", stripped):
            current["overview"], i = _read_table(lines, i + 1)
            continue
        elif re.match(r"^###\s+Implementation Extraction Guide\s*$", stripped):
            current["guide"], i = _read_table(lines, i + 1)
            continue
        else:
            sm = re.match(r"^###\s+Step\s+(\d+)\s*:?\s*(.*)$", stripped)
            if sm:
                table, nxt = _read_table(lines, i + 1)
                attrs: dict[str, str | None] = {}
                if table is not None:
                    for row_line, cells in [(i + 2, table.header)] + table.rows:
                        key = clean_cell(cells[0]) if cells else ""
                        if key in _ATTRS:
                            value = " | ".join(cells[1:]) if len(cells) > 2 else (cells[1] if len(cells) > 1 else "")
                            attrs[_ATTRS[key]] = _value(value)
                current["steps"][int(sm.group(1))] = {"line": i + 1, "title": sm.group(2).strip(), "attrs": attrs}
                i = nxt
                continue
        i += 1
    close()
    if not workflows:
        raise WorkflowIndexError(f"{path}: no '## Workflow: NAME' section found; each workflow needs one")
    return WorkflowIndex(repo, tuple(workflows), path)


def _build_workflow(repo: str, w: dict, path: str) -> Workflow:
    overview: _Table | None = w["overview"]
    rows: dict[int, dict] = {}
    if overview is not None:
        c_num, c_name = overview.col("#"), overview.col("Step Name", "Step")
        c_pr, c_impl = overview.col("Principle"), overview.col("Implementation", "Rough API")
        c_status = overview.col("Status")
        for line_no, cells in overview.rows:
            def cell(c: int | None) -> str | None:
                return _value(cells[c]) if c is not None and c < len(cells) else None
            num = cell(c_num)
            if num is None or not num.isdigit():
                raise WorkflowIndexError(f"{path}:{line_no}: Steps Overview row without a step number in the '#' column")
            rows[int(num)] = {"line": line_no, "name": cell(c_name), "principle": cell(c_pr),
                              "implementation": cell(c_impl), "status": cell(c_status)}
    guide: dict[str, tuple[str | None, str]] = {}
    if w["guide"] is not None:
        g: _Table = w["guide"]
        c_pr, c_impl, c_api, c_type = g.col("Principle"), g.col("Implementation"), g.col("API"), g.col("Type")
        for line_no, cells in g.rows:
            def gcell(c: int | None) -> str | None:
                return _value(cells[c]) if c is not None and c < len(cells) else None
            kind = gcell(c_type) or "API Doc"
            if kind not in IMPL_TYPES:
                raise WorkflowIndexError(f"{path}:{line_no}: implementation type {kind!r} is not one of {', '.join(IMPL_TYPES)}")
            for key in (gcell(c_pr), gcell(c_impl)):
                if key:
                    guide[key.removeprefix(repo + "_")] = (gcell(c_api), kind)
    numbers = sorted(set(rows) | set(w["steps"]))
    steps = []
    for n in numbers:
        detail = w["steps"].get(n) or {"line": rows[n]["line"], "title": "", "attrs": {}}
        attrs, row = detail["attrs"], rows.get(n, {})
        line = detail["line"]
        principle = attrs.get("principle") or row.get("principle")
        implementation = attrs.get("implementation") or (row.get("implementation") if "implementation" in row else None)
        if not principle:
            raise WorkflowIndexError(f"{path}:{line}: step {n} of {w['name']} has no Principle; add a '**Principle**' row")
        if not implementation:
            raise WorkflowIndexError(f"{path}:{line}: step {n} of {w['name']} has no Implementation; add an '**Implementation**' row")
        principle = _full(repo, principle, "Principle", path, line)
        implementation = _full(repo, implementation, "Implementation", path, line)
        short_p, short_i = principle.removeprefix(repo + "_"), implementation.removeprefix(repo + "_")
        api, kind = guide.get(short_i) or guide.get(short_p) or (None, "API Doc")
        deps = attrs.get("external_deps")
        steps.append(Step(
            workflow=w["name"], number=n, title=row.get("name") or detail["title"] or short_p.replace("_", " "),
            principle=principle, implementation=implementation, api_call=attrs.get("api_call"),
            source_hint=attrs.get("source_hint"),
            external_deps=tuple(clean_cell(d) for d in deps.split(",") if clean_cell(d) not in _EMPTY) if deps else (),
            environment=attrs.get("environment"), key_parameters=attrs.get("key_parameters"),
            inputs=attrs.get("inputs"), outputs=attrs.get("outputs"), status=row.get("status"),
            impl_type=kind, guide_api=api, line=line, status_line=row.get("line"),
        ))
    if [s.number for s in steps] != list(range(1, len(steps) + 1)):
        raise WorkflowIndexError(f"{path}:{w['line']}: steps of {w['name']} are numbered {[s.number for s in steps]}; number them 1..n")
    return Workflow(w["name"], w["description"], tuple(steps), w["line"])


def load_workflow_index(path: str | Path) -> WorkflowIndex:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise WorkflowIndexError(f"WorkflowIndex {p} does not exist; pass --workflow-index FILE") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise WorkflowIndexError(f"cannot read WorkflowIndex {p} ({exc}); pass a UTF-8 Markdown file") from None
    return parse_workflow_index(text, str(p))
