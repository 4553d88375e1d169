"""JSON Lines files of a run (trace, verdicts, findings, decisions): read tolerantly, because a
killed process can leave a last line half written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The records of ``path`` (none when it does not exist); a line that is not a JSON object is skipped."""
    if not path.is_file():
        return []
    # decoded JSON: a record's shape is its writer's (trace, verdict, decision), which the caller knows
    out: list[dict[str, Any]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if isinstance(rec, dict):
            out.append(rec)
    return out
