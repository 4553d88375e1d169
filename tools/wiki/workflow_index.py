"""Parse ``_WorkflowIndex.md`` (WIKI_FORMAT.md §7) into typed records.

Tables are located by header text, not position, and cells are split outside back-tick
spans, because kapso writes type unions such as ``str | None`` unescaped inside them.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict

from tools.errors import UsageError
from tools.source.naming import NAME_RE, REPO_RE, api_page_name, normalize_repo

IMPL_TYPES = ("API Doc", "Wrapper Doc", "Pattern Doc", "External Tool Doc")
_EMPTY = {"", "—", "-", "–", "n/a", "none", "None"}
_ATTRS = {
    "Principle": "principle",
    "Implementation": "implementation",
    "API Call": "api_call",
    "Source Location": "source_hint",
    "External Dependencies": "external_deps",
    "Environment": "environment",
    "Key Parameters": "key_parameters",
    "Inputs": "inputs",
    "Outputs": "outputs",
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
    problem: str | None = None  # why the step cannot be used ("file:line: …"); it is held with this reason
    derived: tuple[str, ...] = ()  # names derived rather than read (kapso's older step variant)
    written_number: int | None = None  # the step number as the file writes it (steps are renumbered 1..n)
    impl_line: int | None = None  # line of the "**Implementation**" row, where a rename is written


@dataclass(frozen=True)
class Workflow:
    name: str
    description: str | None
    steps: tuple[Step, ...]
    line: int
    evidence: tuple[tuple[int, str], ...] = ()  # (line, value) of each **Evidence:** line (§7, discovered indexes)


@dataclass(frozen=True)
class WorkflowIndex:
    repo: str  # normalised by WIKI_FORMAT §2
    workflows: tuple[Workflow, ...]
    path: str | None = None
    repo_as_written: str | None = None  # the title's spelling, when §2 changed it (vllm-project_vllm)

    @property
    def steps(self) -> list[Step]:
        return [s for w in self.workflows for s in w.steps]

    @property
    def usable_steps(self) -> list[Step]:
        return [s for s in self.steps if s.problem is None]


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


class _RawStep(TypedDict):
    """A ``### Step N:`` section as read, before the step is built."""

    line: int
    title: str
    attrs: dict[str, str | None]  # by Step attribute name (_ATTRS), cell values
    impl_line: int | None


class _RawWorkflow(TypedDict):
    """A ``## Workflow:`` section as read, before its steps are built."""

    name: str
    line: int
    description: str | None
    evidence: list[tuple[int, str]]
    overview: _Table | None
    steps: dict[int, _RawStep]  # by the number the heading writes
    guide: _Table | None


class _OverviewRow(TypedDict, total=False):
    """A Steps Overview row (a step the overview does not list reads as the empty row)."""

    line: int
    name: str | None
    principle: str | None
    implementation: str | None
    api: str | None
    status: str | None


_MARKERS = re.compile(r"[✅⬜❌✔]|\[[^\]]*\]\([^)]*\)")
_USER_CODE = re.compile(
    r"\b(user[- ]defined|user[- ]written|user code|user-provided|manual(ly)?|decision point|"
    r"n/a|not applicable)\b",
    re.I,
)


def name_text(cell: str) -> str:
    """What a name cell says: the first back-ticked span when there is one (kapso sometimes adds a
    status mark or a link around it), else the cell without its wrapping markup."""
    c = _MARKERS.sub("", clean_cell(cell)).strip()
    m = re.search(r"`([^`]+)`", c)
    return clean_cell(m.group(1) if m else c).strip()


def _page_name(repo: str, written: str, text: str, what: str) -> tuple[str | None, str | None]:
    """(full page name, None) or (None, why the cell is not a name)."""
    n = text
    for prefix in dict.fromkeys((written + "_", repo + "_")):
        if n.startswith(prefix):
            n = n[len(prefix) :]
            break
    if n.lower() in _EMPTY or not n:
        return None, f"its {what} cell is empty"
    if not NAME_RE.match(n):
        return None, f"its {what} cell {text!r} is not a page name (letters, digits and '_')"
    return f"{repo}_{n}", None


def first_api(text: str | None) -> str | None:
    """The first API a cell names: a back-ticked dotted name (``MLP.__init__``, ``get_x(...)``), or
    a ``name(`` call written without back-ticks."""
    if not text:
        return None
    whole = re.match(r"^\s*([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\s*(\(.*\))?\s*$", text)
    if whole and not keyword.iskeyword(whole.group(1).split(".")[0]):
        return whole.group(1)
    for span in re.findall(r"`([^`]+)`", text):
        m = re.match(r"\s*([A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*)", span)
        if m and not keyword.iskeyword(m.group(1).split(".")[0]):
            return m.group(1)
    m = re.search(r"(?<![\w.])([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\(", text)
    return m.group(1) if m else None


def unusable_api(api_call: str | None, hint: str | None) -> str | None:
    """Why a step's API Call names no library API: code the user writes (a ``def`` to fill in, "user
    defined"), a decision or a manual action, an import statement; None when it may name one."""
    call = (api_call or "").strip().strip("`").strip()
    if re.match(r"(async\s+)?def\s|class\s", call):
        return (
            f"its API Call {api_call!r} is a function the user writes (a Pattern Doc, which the drafter "
            "does not write yet)"
        )
    if re.match(r"(import|from)\s+[\w.]+", call):
        return f"its API Call {api_call!r} is an import statement, not an API to document"
    if first_api(api_call) is None and any(c and _USER_CODE.search(c) for c in (api_call, hint)):
        return (
            f"its API Call {api_call or '(none)'!r} names user-written code, a decision or a manual step, "
            "not a library API"
        )
    if hint and _USER_CODE.search(hint) and not re.search(r"[\w/.-]+\.py\b", hint):
        return (
            f"its Source Location {hint!r} says the code is the user's, not the library's (a Pattern Doc, "
            "which the drafter does not write yet)"
        )
    return None


def parse_workflow_index(text: str, path: str = "_WorkflowIndex.md") -> WorkflowIndex:
    """The WorkflowIndex of a text. Only a file with nothing usable is refused (WorkflowIndexError,
    naming the line); a step that cannot be used carries its ``problem`` and the rest goes on."""
    lines = text.splitlines()
    first = next((i for i, ln in enumerate(lines) if ln.strip()), None)
    m = re.match(r"^#\s+Workflow Index:\s*(\S+)\s*$", lines[first]) if first is not None else None
    if m is None or first is None:
        raise WorkflowIndexError(
            f"{path}:{(first or 0) + 1}: expected the title '# Workflow Index: owner_name'; this does not look like a WorkflowIndex"
        )
    written = m.group(1)
    repo = normalize_repo(written)
    if not REPO_RE.match(repo):
        raise WorkflowIndexError(f"{path}:{first + 1}: repo name {written!r} in the title is not owner_name")

    workflows: list[Workflow] = []
    i = first + 1
    current: _RawWorkflow | None = None

    def close() -> None:
        if current is not None:
            workflows.append(_build_workflow(repo, written, current, path))

    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        wm = re.match(r"^##\s+Workflow:\s*(.+?)\s*$", stripped)
        if wm:
            close()
            name, why = _page_name(repo, written, name_text(wm.group(1)), "Workflow")
            if name is None:
                raise WorkflowIndexError(
                    f"{path}:{i + 1}: Workflow heading {wm.group(1)!r} is not a page name "
                    "(letters, digits and '_'); rename the workflow"
                )
            current = {
                "name": name,
                "line": i + 1,
                "description": None,
                "evidence": [],
                "overview": None,
                "steps": {},
                "guide": None,
            }
            i += 1
            continue
        if current is None:
            i += 1
            continue
        dm = re.match(r"^\*\*Description:\*\*\s*(.*)$", stripped)
        em = re.match(r"^\*\*Evidence:\*\*\s*(.*)$", stripped)
        if dm:
            current["description"] = dm.group(1).strip() or None
        elif em:
            current["evidence"].append((i + 1, em.group(1).strip()))
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
                impl_line = None
                if table is not None:
                    for row_line, cells in [(i + 2, table.header)] + table.rows:
                        key = clean_cell(cells[0]) if cells else ""
                        if key in _ATTRS and _ATTRS[key] not in attrs:
                            value = " | ".join(cells[1:]) if len(cells) > 2 else (cells[1] if len(cells) > 1 else "")
                            attrs[_ATTRS[key]] = _value(value)
                            if key == "Implementation":
                                impl_line = row_line
                if int(sm.group(1)) not in current["steps"]:
                    current["steps"][int(sm.group(1))] = {
                        "line": i + 1,
                        "title": sm.group(2).strip(),
                        "attrs": attrs,
                        "impl_line": impl_line,
                    }
                i = nxt
                continue
        i += 1
    close()
    if not workflows:
        page_index = any(re.match(r"^\|\s*Page\s*\|\s*File\s*\|", ln) for ln in lines)
        raise WorkflowIndexError(
            f"{path}: no '## Workflow: NAME' section found"
            + (
                "; this file is a page index of Workflow pages (a '| Page | File |' table), not a WorkflowIndex "
                "with steps"
                if page_index
                else ""
            )
            + "; each workflow needs a '## Workflow: NAME' section with its steps (see docs/workflow-index.md)"
        )
    wi = WorkflowIndex(repo, tuple(workflows), path, written)
    if not any(s.problem is None for s in wi.steps):
        if not wi.steps:
            raise WorkflowIndexError(
                f"{path}:{workflows[0].line}: {workflows[0].name} has no steps; nothing in this "
                "WorkflowIndex is usable (see docs/workflow-index.md)"
            )
        more = len(wi.steps) - 1
        raise WorkflowIndexError(
            f"{wi.steps[0].problem}"
            + (f" (and {more} more unusable step(s))" if more else "")
            + "; nothing in this WorkflowIndex is usable: fix the step rows "
            "(see docs/workflow-index.md)"
        )
    return wi


def _heading_name(title: str) -> str | None:
    """The Principle name a ``### Step N:`` heading gives, for steps without a Principle row:
    its leading name (``SFT_Training (Optional Warmup)`` → ``SFT_Training``; ``Data Preparation`` →
    ``Data_Preparation``)."""
    t = re.sub(r"\(.*?\)|\[.*?\]", " ", title).strip()
    t = re.sub(r"[\s-]+", "_", t).strip("_")
    if NAME_RE.match(t):
        return t
    m = re.match(r"[A-Za-z0-9]+(?:_[A-Za-z0-9]+)*", title.strip())
    return m.group(0) if m else None


def _build_workflow(repo: str, written: str, w: _RawWorkflow, path: str) -> Workflow:
    overview = w["overview"]
    rows: dict[int, _OverviewRow] = {}
    if overview is not None:
        c_num, c_name = overview.col("#", "Step", "No"), overview.col("Step Name", "Name", "Step")
        c_pr = overview.col("Principle")
        c_impl, c_api = overview.col("Implementation"), overview.col("Rough API", "API", "Key API", "Key APIs")
        c_status = overview.col("Status")
        for line_no, cells in overview.rows:

            def cell(c: int | None) -> str | None:
                return _value(cells[c]) if c is not None and c < len(cells) else None

            num = cell(c_num)
            m = re.match(r"^\D{0,8}?(\d+)\b", num or "")
            if m is None or int(m.group(1)) in rows:
                continue  # a row without a step number (or a repeated one) says nothing we can use
            rows[int(m.group(1))] = {
                "line": line_no,
                "name": cell(c_name),
                "principle": cell(c_pr),
                "implementation": cell(c_impl),
                "api": cell(c_api) or cell(c_impl),
                "status": cell(c_status),
            }
    guide: dict[str, tuple[str | None, str]] = {}
    if w["guide"] is not None:
        g = w["guide"]
        c_pr, c_impl, c_api, c_type = g.col("Principle"), g.col("Implementation"), g.col("API"), g.col("Type")
        for line_no, cells in g.rows:

            def gcell(c: int | None) -> str | None:
                return _value(cells[c]) if c is not None and c < len(cells) else None

            kind = gcell(c_type) or "API Doc"
            kind = next((t for t in IMPL_TYPES if t.lower() == kind.lower()), kind)
            for key in (gcell(c_pr), gcell(c_impl)):
                if key:
                    guide[name_text(key).removeprefix(written + "_").removeprefix(repo + "_")] = (gcell(c_api), kind)
    numbers = sorted(set(rows) | set(w["steps"]))
    steps = []
    for position, n in enumerate(numbers, 1):
        detail = w["steps"].get(n) or {"line": rows[n]["line"], "title": "", "attrs": {}, "impl_line": None}
        attrs, row = detail["attrs"], rows.get(n, {})
        line = detail["line"]
        problems: list[str] = []
        derived: list[str] = []
        api_call = attrs.get("api_call") or (row.get("api") if not detail["attrs"] else None)
        # Principle: its row, else the overview's column, else the heading's name (kapso's older variant)
        if "principle" in attrs or row.get("principle"):
            principle, why = _page_name(
                repo, written, name_text(attrs.get("principle") or row.get("principle") or ""), "Principle"
            )
        else:
            heading = _heading_name(detail["title"] or row.get("name") or "")
            principle, why = (
                (f"{repo}_{heading}", None)
                if heading
                else (None, "it has no Principle row and its heading gives no name")
            )
            if heading:
                derived.append(f"Principle {principle} from the step heading")
        if why:
            problems.append(why)
        # Implementation: its row, else derived from the first API of the API Call
        if "implementation" in attrs:
            implementation, why = _page_name(
                repo, written, name_text(attrs.get("implementation") or ""), "Implementation"
            )
        else:
            ov = row.get("implementation")
            ov_name = name_text(ov) if ov else ""
            implementation, why = (
                _page_name(repo, written, ov_name, "Implementation")
                if ov_name
                and NAME_RE.match(ov_name.removeprefix(written + "_"))
                and "(" not in (ov or "")
                and "." not in ov_name
                else (None, "x")
            )
            if implementation is None:
                api = first_api(api_call)
                short = api_page_name(api) if api else None
                implementation, why = (
                    (f"{repo}_{short}", None)
                    if short
                    else (None, "it has no Implementation row and its API Call names no API")
                )
                if short:
                    derived.append(f"Implementation {implementation} from the API Call {api}")
        if why:
            problems.append(why)
        short_p = (principle or "").removeprefix(repo + "_")
        short_i = (implementation or "").removeprefix(repo + "_")
        api, kind = guide.get(short_i) or guide.get(short_p) or (None, "API Doc")
        if kind not in IMPL_TYPES:
            problems.append(f"its implementation type {kind!r} is not one of {', '.join(IMPL_TYPES)}")
            kind = "API Doc"
        unusable = unusable_api(api_call, attrs.get("source_hint")) if not problems else None
        if unusable:
            problems.append(unusable)
        deps = attrs.get("external_deps")
        steps.append(
            Step(
                workflow=w["name"],
                number=position,
                title=row.get("name") or detail["title"] or short_p.replace("_", " "),
                principle=principle or "",
                implementation=implementation or "",
                api_call=api_call,
                source_hint=attrs.get("source_hint"),
                external_deps=tuple(name_text(d) for d in deps.split(",") if name_text(d).lower() not in _EMPTY)
                if deps
                else (),
                environment=attrs.get("environment"),
                key_parameters=attrs.get("key_parameters"),
                inputs=attrs.get("inputs"),
                outputs=attrs.get("outputs"),
                status=row.get("status"),
                impl_type=kind,
                guide_api=api,
                line=line,
                status_line=row.get("line"),
                problem=f"{path}:{line}: step {n} of {w['name']}: " + "; ".join(problems) if problems else None,
                derived=tuple(derived),
                written_number=n,
                impl_line=detail.get("impl_line"),
            )
        )
    return Workflow(w["name"], w["description"], tuple(steps), w["line"], tuple(w["evidence"]))


def load_workflow_index(path: str | Path) -> WorkflowIndex:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise WorkflowIndexError(f"WorkflowIndex {p} does not exist; pass --workflow-index FILE") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise WorkflowIndexError(f"cannot read WorkflowIndex {p} ({exc}); pass a UTF-8 Markdown file") from None
    return parse_workflow_index(text, str(p))
