"""What every rule may read: the wiki, the source workspace, the deny-list, the clock."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cached_property
from typing import TypeVar, cast

from tools.wiki.load import Wiki
from tools.source.resolve import iter_python_files, registry
from tools.wiki.page import Page
from tools.index.workspace import Workspace

_CODE_SPANS = re.compile(r"<syntaxhighlight[^>]*>.*?</syntaxhighlight>|<math>.*?</math>|`[^`\n]*`", re.S)


def outside_code(text: str) -> str:
    """The text with code blocks, maths and back-tick spans blanked (line numbers kept)."""
    return _CODE_SPANS.sub(lambda m: "\n" * m.group(0).count("\n"), text)


@dataclass
class Context:
    wiki: Wiki
    ws: Workspace | None
    now: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    @cached_property
    def package(self) -> str | None:
        return self.ws.package if self.ws else None

    @cached_property
    def owner_name(self) -> tuple[str, str]:
        url = self.ws.source.url if self.ws else ""
        m = re.match(r"https?://[^/]+/([^/]+)/([^/]+?)/?$", url)
        if m:
            return m.group(1), m.group(2)
        owner, _, name = self.wiki.repo.partition("_")
        return owner, name

    @cached_property
    def export_names(self) -> set[str]:
        ws, package = self.ws, self.package
        if ws is None or not package:
            return set()
        return _per_source(ws, "exports", lambda: set(ws.names.exports(package)))

    def deny_terms(self, principle: Page | None = None) -> tuple[set[str], set[str]]:
        """(case-insensitive words, case-sensitive words) a Principle's Overview must not contain."""
        words = {w.lower() for w in self.owner_name if w}
        if self.ws is not None:
            words.update(p.lower() for p in self.ws.names.packages)
            entry = registry().get(self.wiki.repo)
            if entry:
                words.update({entry.package.lower(), entry.distribution.lower()})
        if principle is not None and self.wiki.workflow_index is not None:
            for step in self.wiki.workflow_index.steps:
                if step.principle == principle.name:
                    words.update(d.lower() for d in step.external_deps)
        return words, self.code_like_exports

    @cached_property
    def code_like_exports(self) -> set[str]:
        """Exported names that can only be code (snake_case or CamelCase), matched case-sensitively."""
        return _per_source(
            self.ws, "code_like", lambda: {n for n in self.export_names if "_" in n or any(c.isupper() for c in n[1:])}
        )

    @cached_property
    def source_lines(self) -> set[str]:
        """Every line of the source tree with ≥ 25 non-blank characters, whitespace collapsed (R35)."""
        ws = self.ws
        if ws is None:
            return set()
        return _per_source(ws, "source_lines", lambda: _source_lines(ws))


_shared: dict[tuple[int, str], tuple[Workspace, object]] = {}
_shared_lock = threading.RLock()
_T = TypeVar("_T")


def _per_source(ws: Workspace | None, what: str, build: Callable[[], _T]) -> _T:
    """Facts that depend only on the source, computed once per workspace and process: a run checks
    each drafted pair with its own Context, and rebuilding these per pair would dominate the run."""
    if ws is None:
        return build()
    key = (id(ws), what)
    with _shared_lock:
        hit = _shared.get(key)
        if hit is not None and hit[0] is ws:
            return cast(_T, hit[1])  # ``what`` names one fact, always built by the same ``build``
        value = build()
        _shared[key] = (ws, value)
        return value


def _source_lines(ws: Workspace) -> set[str]:
    out: set[str] = set()
    for physical, _ in iter_python_files(ws.source):
        try:
            text = physical.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for line in text.splitlines():
            s = line.strip()
            if len(s) >= 25:
                collapsed = " ".join(s.split())
                if len(collapsed.replace(" ", "")) >= 25:
                    out.add(collapsed)
    return out
