"""Is a workflow grounded in the lines it cites? The check behind the verifier's rule R51 and the
discovery's own filter: every ``**Evidence:**`` span names a file of the analysed source, lies
inside it, and calls at least two of the workflow's APIs in the order its steps give.

"Calls" is read in the cited text itself, whatever its format (Python, a Markdown or reST code
block, a doctest, the JSON of a notebook): the API's name followed by ``(``, with the class
in front when the step's API Call names one (``PeftModel.from_pretrained(``).
"""

from __future__ import annotations

import re
from typing import NamedTuple

from tools.errors import ToolError
from tools.index.workspace import Workspace
from tools.locate import parse_api
from tools.wiki.workflow_index import Step

MIN_CALLED = 2
MAX_SPAN_LINES = 2000


class Span(NamedTuple):
    file: str
    start: int
    end: int


_SPAN = re.compile(r"`([^`]+)`\s*L(\d+)(?:\s*-\s*L?(\d+))?")


def parse_evidence(text: str) -> tuple[list[Span], str | None]:
    """The spans of an ``**Evidence:**`` value, and what in it is not a span (None when all is)."""
    spans: list[Span] = []
    rest = text
    for m in _SPAN.finditer(text):
        start = int(m.group(2))
        spans.append(Span(m.group(1).strip(), start, int(m.group(3) or start)))
        rest = rest.replace(m.group(0), "", 1)
    left = rest.replace(";", "").replace(",", "").strip()
    return spans, (left or None) if spans else (text.strip() or "no span")


def needle(step: Step) -> re.Pattern[str] | None:
    """What a call of the step's API looks like in text."""
    api = parse_api(step.api_call) or parse_api(step.guide_api)
    if api is None:
        return None
    member = re.escape(api.member)
    if api.receiver and api.receiver.split(".")[-1][:1].isupper() and not api.receiver_called:
        cls = re.escape(api.receiver.split(".")[-1])
        return re.compile(rf"(?<![\w]){cls}\s*\.\s*{member}\s*\(")
    return re.compile(rf"(?<![\w]){member}\s*\(")


def called_in_order(text: str, steps: list[Step]) -> list[int]:
    """The longest run of the steps (their numbers, in order) whose calls appear in the text in
    that order."""
    hits: list[tuple[int, list[int]]] = []
    for st in steps:
        pat = needle(st)
        positions = [m.start() for m in pat.finditer(text)] if pat is not None else []
        hits.append((st.number, positions))
    # longest chain: best[i] = (length, last position, chain) ending with step i
    best: list[tuple[int, int, list[int]]] = []
    for i, (num, positions) in enumerate(hits):
        top: tuple[int, int, list[int]] = (0, -1, [])
        for pos in positions:
            cand = (1, pos, [num])
            for j in range(i):
                length, last, chain = best[j]
                if length and last < pos and length + 1 > cand[0]:
                    cand = (length + 1, pos, chain + [num])
            if cand[0] > top[0] or (cand[0] == top[0] and cand[1] < top[1]):
                top = cand
        best.append(top)
    return max((b[2] for b in best), key=len, default=[])


def check_span(ws: Workspace, span: Span, steps: list[Step]) -> tuple[str | None, list[int]]:
    """(what is wrong, None when nothing; the steps the span calls)."""
    try:
        path = ws.source.physical(span.file)
    except ToolError as exc:
        return f"`{span.file}` cannot be cited ({exc})", []
    if not path.is_file():
        return f"`{span.file}` is not a file of the analysed source", []
    if span.start < 1 or span.end < span.start or span.end - span.start > MAX_SPAN_LINES:
        return f"`{span.file}` L{span.start}-{span.end} is not a line range (start ≥ 1, end ≥ start)", []
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        return f"`{span.file}` cannot be read ({exc.strerror or exc})", []
    if span.end > len(lines):
        return f"`{span.file}` has {len(lines)} lines; L{span.start}-{span.end} lies outside it", []
    text = "\n".join(lines[span.start - 1 : span.end])
    called = called_in_order(text, steps)
    if len(called) < min(MIN_CALLED, len(steps)):
        names = "only step " + ", ".join(str(n) for n in called) if called else "none of the workflow's steps"
        return (
            f"`{span.file}` L{span.start}-{span.end} calls {names}; evidence must call at least {MIN_CALLED} "
            "of its steps, in step order",
            called,
        )
    return None, called
