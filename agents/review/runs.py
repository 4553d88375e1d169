"""A finished (or interrupted) run as the reviewer sees it: its pages, their status, findings,
locator confidence, the source they document, and the reviewer's decisions."""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

from tools.wiki.load import same_but_stamp
from tools.wiki.page import page_path
from tools.jsonl import read_jsonl
from tools.errors import UsageError

if TYPE_CHECKING:  # the run context (and the index behind it) loads only where a source is read
    from agents.runctx import RunConfig

MAX_EXCERPT = 80
# The run's JSON records as read back (findings.jsonl, verdicts.jsonl, decisions.jsonl, summary.json):
# decoded JSON, in the shape their writers (agents/nodes/report.py, record_decision) give them.
JsonRecord = dict[str, Any]


class Decision(TypedDict):
    """One line of a run's decisions.jsonl."""

    page: str
    decision: str  # "approve" or "reject"
    reason: str | None
    sha256: str | None  # of the approved text
    at: str  # UTC, ISO 8601


@dataclass
class PageEntry:
    page: str  # rel path, e.g. implementations/x.md
    status: str  # committed / held / changed / new
    findings: list[JsonRecord]
    confidence: float | None
    draft: Path | None  # the draft file in the run folder (held/ wins over drafts/)
    pair: str | None  # the other page of the pair
    location: JsonRecord | None  # the Implementation's location (for a Principle: its pair's)
    reason: str | None = None
    decision: JsonRecord | None = None

    @property
    def name(self) -> str:
        return Path(self.page).stem


@dataclass
class RunView:
    run_dir: Path
    config: RunConfig
    entries: list[PageEntry] = field(default_factory=list)

    @property
    def wiki(self) -> Path:
        return Path(self.config["wiki"])

    def entry(self, page: str) -> PageEntry:
        for e in self.entries:
            if page in (e.page, e.name, Path(e.page).name):
                return e
        raise UsageError(f"no page {page!r} in run {self.run_dir.name}; `python -m agents.review list` shows them")


def latest_run_id(base: Path) -> str | None:
    """The newest run of a repository's runs folder: the `latest` link, or the LATEST file written
    where links cannot be made."""
    link = base / "latest"
    if link.is_symlink():
        return os.readlink(link)
    if (base / "LATEST").is_file():
        return (base / "LATEST").read_text().strip() or None
    return None


def mark_latest(base: Path, run_id: str) -> None:
    latest = base / "latest"
    try:
        if latest.is_symlink() or latest.exists():
            latest.unlink()
        latest.symlink_to(run_id)
    except OSError:
        (base / "LATEST").write_text(run_id + "\n")


def resolve_run(runs: Path, repo: str | None, run: str | None) -> Path:
    if repo is None:
        repos = sorted(p.name for p in runs.iterdir() if p.is_dir()) if runs.is_dir() else []
        if len(repos) != 1:
            raise UsageError(
                f"say which repository: --repo one of {', '.join(repos) or '(none under ' + str(runs) + ')'}"
            )
        repo = repos[0]
    base = runs / repo
    run = run or "latest"
    if run == "latest":
        run = latest_run_id(base)
        if run is None:
            raise UsageError(f"no runs under {base}; run `python -m agents.run --repo {repo}` first")
    path = base / run
    if not (path / "run.json").is_file():
        raise UsageError(f"no run {run!r} under {base}; the folders there are the run ids")
    return path


def decisions(run_dir: Path) -> dict[str, JsonRecord]:
    """The last decision per page."""
    return {d["page"]: d for d in read_jsonl(run_dir / "decisions.jsonl")}


def record_decision(
    run_dir: Path, page: str, decision: str, reason: str | None = None, text: str | None = None
) -> Decision:
    rec: Decision = {
        "page": page,
        "decision": decision,
        "reason": reason,
        "sha256": hashlib.sha256(text.encode()).hexdigest() if text is not None else None,
        "at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    with open(run_dir / "decisions.jsonl", "a", encoding="utf-8") as fh:
        fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    return rec


def load_run(run_dir: Path) -> RunView:
    meta = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    view = RunView(run_dir, meta["config"])
    summary = json.loads((run_dir / "summary.json").read_text()) if (run_dir / "summary.json").is_file() else {}
    held = {h["page"]: h["reason"] for h in summary.get("held", [])}
    findings: dict[str, list[JsonRecord]] = {}
    for f in read_jsonl(run_dir / "findings.jsonl"):
        findings.setdefault(f["page"], []).append(f)
    verdicts = read_jsonl(run_dir / "verdicts.jsonl")
    by_page: dict[str, tuple[JsonRecord, str | None]] = {}
    for verdict in verdicts:
        p = page_path("Principle", verdict["principle"])
        i = page_path("Implementation", verdict["implementation"])
        by_page[p] = (verdict, i)
        by_page[i] = (verdict, p)
    decided = decisions(run_dir)
    pages = set(by_page)
    for folder in ("drafts", "held"):
        root = run_dir / folder
        if root.is_dir():
            pages |= {p.relative_to(root).as_posix() for p in root.rglob("*.md")}
    pages |= set(held) | set(summary.get("committed", []))
    for page in sorted(pages):
        draft = next((run_dir / f / page for f in ("held", "drafts") if (run_dir / f / page).is_file()), None)
        v, pair = by_page.get(page, (None, None))
        in_wiki = view.wiki / page
        if page in held and not (decided.get(page, {}).get("decision") == "approve"):
            status = "held"
        elif draft is not None and in_wiki.is_file():
            status = (
                "committed"
                if same_but_stamp(in_wiki.read_text(encoding="utf-8"), draft.read_text(encoding="utf-8"))
                else "changed"
            )
        elif in_wiki.is_file():
            status = "committed"
        else:
            status = "new"
        view.entries.append(
            PageEntry(
                page=page,
                status=status,
                findings=sorted(findings.get(page, []), key=lambda f: f.get("line") or 0),
                confidence=(v or {}).get("confidence"),
                draft=draft,
                pair=pair,
                location=(v or {}).get("location"),
                reason=(held.get(page) or (v or {}).get("reason")) if status == "held" else None,
                decision=decided.get(page),
            )
        )
    return view


def counts(view: RunView) -> Counter[str]:
    return Counter(e.status for e in view.entries)


def source_excerpt(view: RunView, entry: PageEntry) -> tuple[str, int, list[str]] | None:
    """(file, first line, lines) of the code a page documents, read from the run's source."""
    loc = entry.location or {}
    if loc.get("kind") != "internal" or not loc.get("file"):
        return None
    from agents.runctx import workspace

    try:
        ws = workspace(view.config)
        path = ws.source.physical(loc["file"])
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except (OSError, UsageError):
        return None
    start, end = loc["start_line"], loc["end_line"]
    chunk = lines[start - 1 : min(end, start - 1 + MAX_EXCERPT)]
    if end - start + 1 > MAX_EXCERPT:
        chunk.append(f"… ({end - start + 1 - MAX_EXCERPT} more lines, to L{end})")
    return loc["file"], start, chunk
