"""What a wiki was verified against, and how its pages drifted when the source moved.

After every commit the wiki records its source (package, version, archive sha256 or git revision,
date) and one fingerprint per API Doc page (file, symbol, lines, and digests of the canonical
signature, the Inputs facts, the docstring, the body, the Outputs type and the documented parameters)
in ``_reports/verified_source.json``.
An update run compares those fingerprints with the new source:

* unchanged — same lines, same facts: nothing to do;
* moved — only the lines changed: the page is re-stamped deterministically, its prose kept, no model call;
* changed — signature, parameters, docstring, body, the Outputs type or what documents the parameters
  changed (the last two can change with another definition: a callee, a base class, a decorator's text):
  facts re-derived and prose redrafted;
* gone — the symbol is not in its file any more: the locator looks for its successor, else it is held.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import subprocess
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Literal, NotRequired, TypedDict, cast

from tools.index.facts import canonical_signature, expected_inputs, expected_output_type
from tools.index.param_docs import documented_params
from tools.errors import UsageError
from tools.index.records import Symbol
from tools.source.sdist import source_info
from tools.wiki.page import Page, parse_page
from tools.index.workspace import Workspace

if TYPE_CHECKING:
    from agents.verify.verifier import VerifySummary

RECORD = "_reports/verified_source.json"
DriftClass = Literal["unchanged", "moved", "changed", "gone"]
_LINES = re.compile(r"^(\*[ \t]*'''Lines:'''[ \t]*)L\d+-\d+[ \t]*$", re.M)


class SourceRecord(TypedDict):
    package: str | None
    version: str | None
    sha256: str | None
    revision: str | None
    origin: str
    verified_at: str
    # pypi:{requirement} reads a source archive again (agents.verify WIKI uses it); None for other origins.
    # A checkout's folder is not recorded: the wiki is committed elsewhere, where that path means nothing.
    requirement: NotRequired[str | None]


class Fingerprint(TypedDict):
    file: str
    qualname: str
    lines: str
    signature: str
    inputs: str
    docstring: str
    body: str
    # facts that rest on other definitions too (R27's type through the callees a body hands over to,
    # R48's documented parameters through bases, decorators and referenced APIs); absent in older records
    outputs: NotRequired[str]
    documented: NotRequired[str]


class Drift(TypedDict):
    page: str
    cls: DriftClass
    what: str
    lines: str | None  # the new Lines value of a moved page


class Trust(TypedDict, total=False):
    """The digests that let the next run trust a clean verdict when nothing changed."""

    wiki: str
    source: str
    code: str
    texts: dict[str, str]  # page -> digest of its text
    files: dict[str, str]  # source file -> digest (watched_digests)


class VerifiedRecord(TypedDict, total=False):
    """``_reports/verified_source.json``. Read back, it may come from an older version: any key may
    be missing, so readers ask with ``get``."""

    source: SourceRecord
    pages: dict[str, Fingerprint]
    trust: Trust
    verify: VerifySummary


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def source_record(ws: Workspace, now: datetime | None = None) -> SourceRecord:
    src = ws.source
    info = source_info(src.root)
    return SourceRecord(
        package=ws.package,
        version=src.version,
        sha256=info.get("sha256") if info else None,
        revision=src.revision,
        origin=src.origin,
        verified_at=(now or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        requirement=info.get("requirement") if info and src.origin == "pypi" else None,
    )


def describe(rec: SourceRecord | None) -> str:
    """'peft 0.18.1' / 'peft at 1a2b3c4d' / 'the source at PATH' for the report."""
    if not rec:
        return "an unrecorded source"
    name = rec.get("package") or "the source"
    if rec.get("version"):
        return f"{name} {rec['version']}"
    if rec.get("revision"):
        return f"{name} at {str(rec['revision'])[:12]}"
    return name


def recorded_source(wiki: Path, repo: str) -> tuple[str, str]:
    """(the ``--source`` that reads again what the wiki was last verified against, that source in words),
    from ``_reports/verified_source.json``; UsageError when the record cannot say it."""
    from tools.source.resolve import installed_source, registry

    record = read_record(wiki)
    src = record.get("source") if record else None
    if not src:
        raise UsageError(
            f"{wiki} records no source ({RECORD} is missing or unreadable; agents.run writes it); say which "
            "source the wiki documents: --source PATH, --source pypi:PACKAGE==VERSION or --source latest"
        )
    said, where = describe(src), f"recorded in {RECORD}"
    entry = registry().get(repo)
    if src.get("origin") == "pypi" and (src.get("requirement") or src.get("version")):
        dist = entry.distribution if entry else src.get("package")
        requirement = src.get("requirement") or f"{dist}=={src['version']}"
        return f"pypi:{requirement}", f"{said}, its source archive ({where})"
    if src.get("origin") == "installed" and src.get("package"):
        package = str(src["package"])
        here = installed_source(package, repo, entry)
        if here is None:
            raise UsageError(
                f"the wiki was verified against the installed {said} ({where}), and {package} is not installed "
                f"here; pass --source pypi:{entry.distribution if entry else package}=={src.get('version') or 'VERSION'}"
                " or a checkout"
            )
        other = (
            f"; the installed copy here is {here.version}, not {src.get('version')}"
            if here.version != src.get("version")
            else ""
        )
        return str(here.root), f"the installed {package} {here.version or ''} at {here.root} ({where}{other})"
    raise UsageError(
        f"the wiki was verified against a checkout ({said}, {where}) whose folder is not recorded; "
        "pass it: --source PATH"
    )


def _body(ws: Workspace, sym: Symbol) -> str:
    lines = ws.source.physical(sym.file).read_text(encoding="utf-8", errors="replace").splitlines()
    body = lines[sym.start_line - 1 : sym.end_line]
    indent = min((len(l) - len(l.lstrip()) for l in body if l.strip()), default=0)
    return "\n".join(l[indent:].rstrip() for l in body)


def fingerprint(ws: Workspace, sym: Symbol) -> Fingerprint:
    rows = [[r.name, r.type, r.required, r.default] for r in expected_inputs(ws, sym)]
    return Fingerprint(
        file=sym.file,
        qualname=sym.qualname,
        lines=f"L{sym.start_line}-{sym.end_line}",
        signature=_sha(canonical_signature(ws, sym)),
        inputs=_sha(json.dumps(rows)),
        docstring=_sha(sym.docstring or ""),
        body=_sha(_body(ws, sym)),
        outputs=_sha(expected_output_type(ws, sym) or ""),
        documented=_sha(json.dumps(sorted(documented_params(ws, sym)))),
    )


def documented_symbol(ws: Workspace, page: Page) -> Symbol | None:
    """The symbol an API Doc page states, found the way the verifier finds it."""
    from agents.verify.rules.fact_rules import page_symbol

    return page_symbol(ws, page, lines_required=True)


def fingerprints(ws: Workspace, pages: dict[str, str]) -> dict[str, Fingerprint]:
    out: dict[str, Fingerprint] = {}
    for rel, text in sorted(pages.items()):
        if not rel.startswith("implementations/") or "'''File:'''" not in text:
            continue
        sym = documented_symbol(ws, parse_page(text, rel))
        if sym is not None:
            out[rel] = fingerprint(ws, sym)
    return out


def read_record(wiki: Path) -> VerifiedRecord | None:
    try:
        data = json.loads((wiki / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("pages"), dict):
        return None
    return cast(VerifiedRecord, data)  # what record_text wrote (this version or an older one)


def wiki_files(wiki: Path) -> dict[str, str]:
    """The files a commit writes: pages, index files and _WorkflowIndex.md, as on disk now."""
    from tools.wiki.load import read_pages
    from tools.wiki.schema import INDEX_FILES

    out = read_pages(wiki)
    for name in [*INDEX_FILES.values(), "_WorkflowIndex.md"]:
        if (wiki / name).is_file():
            out[name] = (wiki / name).read_text(encoding="utf-8", errors="replace")
    return out


def wiki_digest(files: dict[str, str]) -> str:
    """One digest of the wiki's files (the record itself left out)."""
    return _sha(json.dumps(sorted((rel, _sha(text)) for rel, text in files.items() if not rel.startswith("_reports/"))))


def source_digest(ws: Workspace) -> str:
    return _sha(json.dumps(sorted(ws.index.digests().items())))


@functools.cache
def code_digest() -> str:
    """The verifier and drafter as installed: a new rule invalidates every trusted verdict."""
    root = Path(__file__).resolve().parents[1]
    parts = sorted(
        p
        for d in ("agents", "tools", "prompts")
        for p in (root / d).rglob("*")
        if p.suffix in (".py", ".j2", ".json", ".scm") and p.is_file()
    )
    return _sha(
        json.dumps([(str(p.relative_to(root)), _sha(p.read_text(encoding="utf-8", errors="replace"))) for p in parts])
    )


def record_text(
    ws: Workspace, files: dict[str, str], old: VerifiedRecord | None, verify: VerifySummary, now: datetime | None = None
) -> str:
    """The record after a commit: the source, each API page's fingerprint, and the digests that let
    the next run trust this verdict when nothing changed. An unchanged source and wiki keep the old
    date, so a re-run changes nothing."""
    pages = fingerprints(ws, files)
    rec: VerifiedRecord = {
        "source": source_record(ws, now),
        "pages": pages,
        "trust": {
            "wiki": wiki_digest(files),
            "source": source_digest(ws),
            "code": code_digest(),
            "texts": {
                rel: _sha(t) for rel, t in sorted(files.items()) if "/" in rel and not rel.startswith("_reports/")
            },
            "files": watched_digests(ws, {fp["file"] for fp in pages.values()}),
        },
        "verify": {
            "errors": verify["errors"],
            "warnings": verify["warnings"],
            "pages": verify["pages"],
            "per_rule": verify["per_rule"],
            "example_names": verify["example_names"],
        },
    }
    if (
        old
        and old.get("pages") == rec["pages"]
        and isinstance(old.get("source"), dict)
        and {k: v for k, v in old["source"].items() if k != "verified_at"}
        == {k: v for k, v in rec["source"].items() if k != "verified_at"}
    ):
        rec["source"] = old["source"]
    return json.dumps(rec, indent=1, sort_keys=True) + "\n"


def watched_digests(ws: Workspace, files: set[str]) -> dict[str, str]:
    """The digests a page's verdict rests on: its documented file, and every package ``__init__.py``
    (exports decide imports, R25/R28, and the deny-list)."""
    digests = ws.index.digests()
    return {f: d for f, d in sorted(digests.items()) if f in files or f.endswith("__init__.py")}


def changed_files(record: VerifiedRecord, ws: Workspace) -> set[str] | None:
    """Source files that changed since the record: ``git diff --name-only`` between the recorded and
    the current revision of a git checkout, else by content digest. None when it cannot tell."""
    source = record.get("source")
    old_rev, new_rev = source.get("revision") if source else None, ws.source.revision
    root = ws.source.root
    if old_rev and new_rev and re.fullmatch(r"[0-9a-f]{40}", old_rev) and (root / ".git").exists():
        try:
            out = subprocess.run(
                ["git", "-C", str(root), "diff", "--name-only", "--relative", old_rev, new_rev, "--"],
                capture_output=True,
                text=True,
                timeout=60,
            )
        except (OSError, subprocess.TimeoutExpired):
            out = None
        if out is not None and out.returncode == 0:
            return {l.strip() for l in out.stdout.splitlines() if l.strip()}
    watched = (record.get("trust") or {}).get("files")
    if not isinstance(watched, dict):
        return None
    now = watched_digests(ws, set(watched))
    return {f for f in set(watched) | set(now) if watched.get(f) != now.get(f)}


def _clean_verdict(record: VerifiedRecord | None) -> Trust | None:
    """The record's trust digests when its commit verified with 0 errors by the code installed now."""
    if record is None:
        return None
    trust = record.get("trust")
    verify = record.get("verify")
    if not trust or (verify.get("errors") if verify else None) != 0 or trust.get("code") != code_digest():
        return None
    return trust


def trusted_pages(record: VerifiedRecord | None, files: dict[str, str], ws: Workspace) -> frozenset[str]:
    """Pages whose last clean per-page verdict still holds: same text, verified by the same code, and
    none of the files it rests on changed. Any change to a package ``__init__.py`` trusts nothing."""
    trust = _clean_verdict(record)
    if record is None or trust is None:
        return frozenset()
    changed = changed_files(record, ws)
    if changed is None or any(f.endswith("__init__.py") for f in changed):
        return frozenset()
    texts = trust.get("texts") or {}
    pages = record.get("pages") or {}
    return frozenset(
        rel
        for rel, text in files.items()
        if texts.get(rel) == _sha(text) and (rel not in pages or pages[rel]["file"] not in changed)
    )


def trusted_without_source(record: VerifiedRecord | None, files: dict[str, str]) -> bool:
    """The part of ``trusted`` that needs no index: a clean verdict, the same wiki, the same code."""
    trust = _clean_verdict(record)
    return trust is not None and trust.get("wiki") == wiki_digest(files)


def trusted(record: VerifiedRecord | None, files: dict[str, str], ws: Workspace) -> bool:
    """The wiki, the source and the verifier are byte for byte what the last commit verified with 0
    errors: its verdict still holds, so nothing needs to be verified again."""
    return (
        record is not None
        and trusted_without_source(record, files)
        and record["trust"].get("source") == source_digest(ws)
    )


def _successor(ws: Workspace, fp: Fingerprint) -> Symbol | None:
    rec = ws.index.records.get(fp["file"])
    if rec is None:
        return None
    same = ws.index.lookup(rec.module, fp["qualname"])
    if not same:
        return None
    start = int(fp["lines"][1:].split("-")[0])
    return min(same, key=lambda s: abs(s.start_line - start))


def drift_pages(record: VerifiedRecord | None, ws: Workspace, same_source: bool) -> list[Drift]:
    """Each recorded page's class; with the very same source every page is unchanged (no fingerprints
    to compute)."""
    if record is None:
        return []
    if same_source:
        return [
            Drift(page=rel, cls="unchanged", what="", lines=fp["lines"]) for rel, fp in sorted(record["pages"].items())
        ]
    return classify(record["pages"], ws)


def classify(old: dict[str, Fingerprint], ws: Workspace) -> list[Drift]:
    out: list[Drift] = []
    for rel, fp in sorted(old.items()):
        sym = _successor(ws, fp)
        if sym is None:
            out.append(Drift(page=rel, cls="gone", what=f"no {fp['qualname']} in {fp['file']}", lines=None))
            continue
        new = fingerprint(ws, sym)
        keys = ("signature", "inputs", "docstring", "body", "outputs", "documented")
        changed = [k for k in keys if k in fp and new.get(k) != fp.get(k)]
        if changed:
            out.append(Drift(page=rel, cls="changed", what=", ".join(changed) + " changed", lines=new["lines"]))
        elif new["lines"] != fp["lines"]:
            out.append(Drift(page=rel, cls="moved", what=f"{fp['lines']} → {new['lines']}", lines=new["lines"]))
        else:
            out.append(Drift(page=rel, cls="unchanged", what="", lines=new["lines"]))
    return out


def restamp(text: str, lines: str, stamp: str) -> str:
    """A moved page with its new Lines bullet and Last Updated stamp; nothing else changes."""
    text = _LINES.sub(lambda m: m.group(1) + lines, text, count=1)
    return re.sub(r"\[\[last_updated::[^\]]*\]\]", f"[[last_updated::{stamp}]]", text, count=1)
