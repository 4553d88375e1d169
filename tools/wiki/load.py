"""A wiki folder loaded for checking: its pages, index tables and WorkflowIndex."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from tools.errors import UsageError
from tools.wiki.schema import INDEX_FILES, IMPL_SUBTYPES
from tools.wiki.page import FOLDER_TYPES, TYPE_FOLDERS, Page, parse_page
from tools.wiki.workflow_index import WorkflowIndex, WorkflowIndexError, parse_workflow_index, split_row

ROOT_FILES = {"_WorkflowIndex.md", *INDEX_FILES.values()}
SCRATCH = re.compile(r"^(_RepoMap_.*\.md|_files|_orphan_candidates\.md|_reports)$")


@dataclass
class IndexRow:
    line: int
    cells: list[str]


@dataclass
class IndexTable:
    path: str
    header: list[str] | None
    header_line: int | None
    rows: list[IndexRow]
    title: str | None


@dataclass
class Wiki:
    root: Path
    repo: str
    pages: dict[str, Page] = field(default_factory=dict)  # by path relative to the root
    stray: list[str] = field(default_factory=list)  # entries R2 does not allow
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    indexes: dict[str, IndexTable] = field(default_factory=dict)  # by page type
    workflow_index: WorkflowIndex | None = None
    workflow_index_error: WorkflowIndexError | None = None
    workflow_index_text: str | None = None

    def page(self, page_type: str, name: str) -> Page | None:
        return self.pages.get(f"{TYPE_FOLDERS[page_type]}/{name}.md")

    def of_type(self, page_type: str) -> list[Page]:
        return [p for p in self.pages.values() if p.type == page_type]

    def subtype(self, page: Page) -> str:
        """An Implementation page's sub-type: from the index Notes, else from its headings."""
        table = self.indexes.get("Implementation")
        if table is not None and table.header:
            try:
                notes = table.header.index("Notes")
            except ValueError:
                notes = None
            for row in table.rows:
                if row.cells and row.cells[0] == page.name and notes is not None and notes < len(row.cells):
                    for kind in IMPL_SUBTYPES:
                        if row.cells[notes].startswith(kind):
                            return kind
        titles = {s.title for s in page.sections}
        if "Interface Specification" in titles:
            return "Pattern Doc"
        if "Tool Location" in titles:
            return "External Tool Doc"
        loc = page.section("Source Location")
        if loc is not None and "'''Library:'''" in loc.text():
            return "Wrapper Doc"
        return "API Doc"


def _parse_index(text: str, rel: str) -> IndexTable:
    lines = text.splitlines()
    title = lines[0] if lines else None
    header, header_line, rows = None, None, []
    in_pages = False
    for i, line in enumerate(lines, 1):
        if line.startswith("## "):
            in_pages = line.strip() == "## Pages"
            continue
        if not in_pages or not line.lstrip().startswith("|"):
            continue
        cells = [c.strip() for c in split_row(line)]
        if header is None:
            header, header_line = cells, i
        elif set(line.strip()) <= set("|-: "):
            continue
        else:
            rows.append(IndexRow(i, cells))
    return IndexTable(rel, header, header_line, rows, title)


def load_wiki(root: Path, repo: str | None = None, ignore: tuple[str, ...] = ()) -> Wiki:
    if not root.exists():
        raise UsageError(f"wiki folder {root} does not exist; pass the folder that holds workflows/, principles/ …")
    if not root.is_dir():
        raise UsageError(f"{root} is not a folder; pass the wiki's root folder")
    wi_text = None
    wi_path = root / "_WorkflowIndex.md"
    if wi_path.is_file():
        wi_text = wi_path.read_text(encoding="utf-8", errors="replace")
    repo = repo or _repo_from(root, wi_text)
    wiki = Wiki(root, repo)
    for entry in sorted(root.iterdir()):
        name = entry.name
        if name in ignore or name.startswith("."):
            continue
        if entry.is_dir() and name in FOLDER_TYPES:
            for child in sorted(entry.iterdir()):
                rel = f"{name}/{child.name}"
                if child.name in ignore or child.name.startswith("."):
                    continue
                if not child.is_file() or child.suffix != ".md":
                    wiki.stray.append(rel)
                    continue
                try:
                    wiki.pages[rel] = parse_page(child.read_text(encoding="utf-8"), rel)
                except (OSError, UnicodeDecodeError) as exc:
                    wiki.unreadable.append((rel, str(exc)))
        elif name in ROOT_FILES or SCRATCH.match(name):
            continue
        else:
            wiki.stray.append(name)
    for page_type, fname in INDEX_FILES.items():
        p = root / fname
        if p.is_file():
            wiki.indexes[page_type] = _parse_index(p.read_text(encoding="utf-8", errors="replace"), fname)
    if wi_text is not None:
        wiki.workflow_index_text = wi_text
        try:
            wiki.workflow_index = parse_workflow_index(wi_text, "_WorkflowIndex.md")
        except WorkflowIndexError as exc:
            wiki.workflow_index_error = exc
    return wiki


def _repo_from(root: Path, wi_text: str | None) -> str:
    texts = [wi_text] if wi_text else []
    texts += [
        (root / f).read_text(encoding="utf-8", errors="replace") for f in INDEX_FILES.values() if (root / f).is_file()
    ]
    for text in texts:
        m = re.match(r"^#\s+\w+ Index:\s*(\S+)", text or "")
        if m:
            return m.group(1)
    raise UsageError(
        f"cannot tell the repository of {root} (no _WorkflowIndex.md or index file); pass --repo owner_name"
    )


_STAMP = re.compile(r"\[\[last_updated::[^\]]*\]\]")


def read_pages(wiki: Path) -> dict[str, str]:
    out = {}
    for folder in FOLDER_TYPES:
        d = wiki / folder
        if d.is_dir():
            for p in sorted(d.glob("*.md")):
                out[f"{folder}/{p.name}"] = p.read_text(encoding="utf-8", errors="replace")
    return out


def same_but_stamp(a: str, b: str) -> bool:
    return _STAMP.sub("", a) == _STAMP.sub("", b)
