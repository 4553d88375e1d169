"""The commit node: put verified pages into the wiki, with the workflow pages, the index files and
the WorkflowIndex statuses, only when the whole result passes the verifier.

The candidate wiki (pages on disk + this run's verified drafts + workflow pages + regenerated
indexes) is staged in the run folder and verified as a whole; a new page that fails there is held
and the candidate rebuilt, until it is clean. Then files that differ are written one by one with a
temporary file and a rename, so an interrupted commit leaves every file either old or new. A page
whose only change would be its Last Updated stamp keeps its old text: re-running changes nothing.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Mapping
from pathlib import Path

from agents.draft.drafter import FlowStep, workflow_data
from agents.draft.rewrite import repair_page_text, repair_repeated_sections, source_sentences, workflow_sentences
from agents.verify.context import Context
from tools.index.workspace import Workspace, symbol_at
from tools.wiki.load import Wiki
from tools.atomic import atomic_write
from agents.drift import RECORD, Drift, VerifiedRecord, read_record, record_text, restamp, wiki_files
from tools.wiki.indexes import render_indexes, with_kept_sections, with_statuses, without_workflows
from tools.wiki.render import render_page
from agents.runctx import RunConfig, traced, workflow_index, workspace
from agents.state import CommitSummary, PairResult, RunState
from agents.verify.findings import FindingRecord
from agents.verify.verifier import verify_wiki
from tools.wiki.load import load_wiki, read_pages, same_but_stamp
from tools.wiki.schema import INDEX_FILES
from tools.wiki.page import TYPE_FOLDERS, page_path
from tools.wiki.workflow_index import WorkflowIndex

MAX_ROUNDS = 10  # whole-wiki verifications: holds, stale pages and wording repairs each take one


def _pair_of(rel: str, text: str) -> list[str]:
    """The other page of a Principle/Implementation pair, from its 1:1 link."""
    edge = {"principles": ("implemented_by", "implementations"), "implementations": ("implements", "principles")}
    kind = rel.split("/")[0]
    if kind not in edge:
        return []
    name, folder = edge[kind]
    return [f"{folder}/{m}.md" for m in re.findall(rf"\[\[{name}::\w+:([^\]]+)\]\]", text)]


def _stage(stage: Path, files: dict[str, str]) -> None:
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir(parents=True)
    for rel, text in files.items():
        p = stage / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")


def commit(
    cfg: RunConfig, results: list[PairResult], drift: list[Drift] | None = None, trusted: bool = False
) -> CommitSummary:
    ws = workspace(cfg)
    wi, wi_text = workflow_index(cfg)
    wiki_dir = Path(cfg["wiki"])
    if trusted and not results:
        return _unchanged(wiki_dir, wi, read_record(wiki_dir) or {})
    existing = read_pages(wiki_dir)
    redrafted = {rel for r in results for rel in r["texts"]}
    restamped: list[str] = []
    for d in drift or []:  # moved pages: new Lines and stamp, prose kept
        if d["cls"] == "moved" and d["page"] in existing and d["page"] not in redrafted and d["lines"] is not None:
            existing[d["page"]] = restamp(existing[d["page"]], d["lines"], cfg["updated"])
            restamped.append(d["page"])
    old_record = read_record(wiki_dir)
    old_indexes = {
        f: (wiki_dir / f).read_text(encoding="utf-8", errors="replace")
        for f in INDEX_FILES.values()
        if (wiki_dir / f).is_file()
    }
    old_wi = (
        (wiki_dir / "_WorkflowIndex.md").read_text(encoding="utf-8", errors="replace")
        if (wiki_dir / "_WorkflowIndex.md").is_file()
        else None
    )
    ours: dict[str, str] = {}
    held: dict[str, str] = {}
    held_findings: dict[str, list[FindingRecord]] = {}
    notes: dict[str, str] = {}
    for r in results:
        title = r["steps"][0]["title"]
        notes[r["principle"]] = title
        loc: Mapping[str, object] = r.get("location") or {}
        unverified = loc.get("kind") == "external" and not loc.get("external_location")
        notes[r["implementation"]] = (
            title[:1].lower() + title[1:] + (" (unverified: package not installed)" if unverified else "")
        )
        if r["outcome"] == "verified":
            ours.update(r["texts"])
        else:
            for rel in r["texts"] or [page_path("Implementation", r["implementation"])]:
                held[rel] = r["reason"] or "held"
                held_findings[rel] = [f for f in r["findings"] if f["page"] == rel]
    overviews: dict[str, str] = {}
    held_flows: set[str] = set()
    removed: dict[str, str] = {}  # pages of the wiki that no longer verify and were not redrafted
    stage = Path(cfg["run_dir"]) / "staging"
    attempts: dict[str, int] = {}  # wording repairs per page (R49): two, then the page is held as before
    reworded: dict[str, tuple[str, str]] = {}  # workflow page → (text as drawn, text as repaired)
    for _ in range(MAX_ROUNDS):
        for rel in [r for r in ours if r.startswith("workflows/")]:
            ours.pop(rel)  # regenerated each round from the pages that remain
        candidate = {**{k: v for k, v in existing.items() if k not in removed}, **ours}
        for rel, text in candidate.items():
            if rel.startswith("principles/"):
                m = re.search(r"== Overview ==\n\n(.+)\n", text)
                overviews[Path(rel).stem] = m.group(1) if m else ""
        for wf in wi.workflows:
            rel = f"{TYPE_FOLDERS['Workflow']}/{wf.name}.md"
            documented = [
                s
                for s in wf.steps
                if s.problem is None
                and page_path("Principle", s.principle) in candidate
                and page_path("Implementation", s.implementation) in candidate
            ]
            if len({s.principle for s in documented}) < 2 or wf.name in held_flows:
                # R18: a Workflow page needs two documented steps; its pending steps wait for a later run
                held_flows.add(wf.name)
                pending = [s.title for s in wf.steps if s not in documented]
                held.setdefault(
                    rel,
                    f"{len(documented)} of its {len(wf.steps)} step(s) documented, a Workflow page "
                    f"needs 2 (pending: {', '.join(pending)})",
                )
                continue
            shown = {(s.workflow, s.number) for s in documented}
            drawn = render_page(
                "Workflow",
                workflow_data(
                    ws,
                    wf.name,
                    wf.description,
                    [
                        FlowStep(s.title, s.principle if (s.workflow, s.number) in shown else None, s.inputs, s.outputs)
                        for s in wf.steps
                    ],
                    [wf.name.removeprefix(cfg["repo"] + "_")],
                    cfg["updated"],
                    overviews,
                ),
            )
            # a workflow page is drawn again each round: its wording repair holds while the drawing is the same
            fix = reworded.get(rel)
            candidate[rel] = ours[rel] = fix[1] if fix is not None and fix[0] == drawn else drawn
        done = _documented_steps(wi, candidate)
        gone = {w for w in held_flows if page_path("Workflow", w) not in candidate}
        files = dict(candidate)
        if gone >= {w.name for w in wi.workflows} and not any(r.startswith("workflows/") for r in candidate):
            # nothing to list: the wiki's _WorkflowIndex.md stays as it was (an empty index would not parse)
            if old_wi is not None:
                files["_WorkflowIndex.md"] = old_wi
        else:
            others = {Path(r).stem for r in candidate if r.startswith("workflows/")} - {w.name for w in wi.workflows}
            files["_WorkflowIndex.md"] = with_kept_sections(
                without_workflows(with_statuses(wi_text, wi, done), gone), old_wi, others
            )
        _stage(stage, {**old_indexes, **files})  # the old index files keep the Notes of pages not redrafted
        indexes = render_indexes(load_wiki(stage, cfg["repo"]), notes)
        _stage(stage, {**files, **indexes})
        report = verify_wiki(load_wiki(stage, cfg["repo"]), ws)
        failing = {f.page for f in report.errors} & set(ours)
        # an error on a page this run does not write (R21 on an existing page of the same API, R44 in the
        # WorkflowIndex) is caused by the pages of ours that it names: those are held
        stems = {Path(rel).stem: rel for rel in ours if not rel.startswith("workflows/")}
        for f in report.errors:
            if f.page not in ours:
                failing |= {rel for stem, rel in stems.items() if re.search(rf"\b{re.escape(stem)}\b", f.message)}
        # wording is repaired, not held (R49 as amended): a page whose only errors are R49 gets the repeated
        # sentences rewritten from the source, and the wiki is verified again
        wording = {
            rel
            for rel in failing
            if attempts.get(rel, 0) < 2
            and (own := [f for f in report.errors if f.page == rel])
            and all(f.rule == "R49" for f in own)
        }
        if wording:
            fixed = _repair_wording(ws, load_wiki(stage, cfg["repo"]), wi, ours, results, wording)
            for rel in wording:
                attempts[rel] = attempts.get(rel, 0) + (1 if rel in fixed else 2)
            for rel, text in fixed.items():
                if rel.startswith(TYPE_FOLDERS["Workflow"] + "/"):
                    drawn_first = reworded[rel][0] if rel in reworded else ours[rel]
                    reworded[rel] = (drawn_first, text)
            if fixed:
                ours.update(fixed)
                continue
        if not failing:
            stale = {
                f.page
                for f in report.errors
                if f.page in existing
                and f.page not in ours
                and f.page.split("/")[0] in ("principles", "implementations", "workflows")
            }
            if not stale:
                break
            # the invariant: the wiki verifies whole after every run, so a page that no longer verifies
            # and was not redrafted leaves it (with its pair); its step becomes pending
            for rel in sorted(stale):
                why = "; ".join(f"{f.rule} {f.message}" for f in report.errors if f.page == rel)[:300]
                for page in [rel, *_pair_of(rel, existing[rel])]:
                    if page in existing and page not in removed:
                        removed[page] = why if page == rel else f"its pair page {rel} no longer verifies"
                        if page in held:  # redrafted and held: the draft's reason first
                            held[page] += (
                                f"; the old page no longer verifies ({removed[page]}) and left the wiki, "
                                "its last text is under held/ to edit and approve"
                            )
                        else:
                            held[page] = (
                                f"no longer verifies against this source and was not redrafted "
                                f"({removed[page]}); its last text is under held/ to edit and approve, "
                                "or run with --force"
                            )
                        held_findings.setdefault(page, []).extend(
                            f.as_dict() for f in report.findings if f.page == page
                        )
            continue
        for rel in failing:
            if rel.startswith("workflows/"):
                held_flows.add(Path(rel).stem)
            stem = Path(rel).stem
            mine = [
                f
                for f in report.errors
                if f.page == rel or (f.page not in ours and re.search(rf"\b{re.escape(stem)}\b", f.message))
            ]
            held[rel] = (
                "fails in the whole wiki: "
                + "; ".join(f"{f.rule} {f.message}" + ("" if f.page == rel else f" (on {f.page})") for f in mine)[:300]
            )
            held_findings[rel] = [f.as_dict() for f in report.findings if f.page == rel] + [
                f.as_dict() for f in mine if f.page != rel
            ]
            ours.pop(rel, None)
            # a pair goes together: a Principle without its Implementation (or the reverse) breaks 1:1
            for r in results:
                if rel in r["texts"]:
                    for other in set(r["texts"]) - {rel}:
                        if ours.pop(other, None) is not None:
                            held[other] = f"its pair page {rel} is held"
    else:
        raise RuntimeError(
            f"the candidate wiki still fails after {MAX_ROUNDS} rounds ({sorted(failing)}); nothing was committed"
        )
    for rel in list(ours):
        if rel in existing and same_but_stamp(existing[rel], ours[rel]):
            ours[rel] = existing[rel]
    # index rows and statuses do not depend on the stamps: the last staged ones are final
    final = {**{k: v for k, v in existing.items() if k not in removed}, **ours, **indexes}
    if "_WorkflowIndex.md" in files:
        final["_WorkflowIndex.md"] = files["_WorkflowIndex.md"]
    final[RECORD] = record_text(
        ws,
        final,
        old_record,
        {
            "errors": len(report.errors),
            "warnings": len(report.findings) - len(report.errors),
            "pages": report.pages,
            "per_rule": report.per_rule(),
            "example_names": report.as_dict()["example_names"],
        },
    )
    written: list[str] = []
    unchanged: list[str] = []
    for rel, text in sorted(final.items()):
        path = wiki_dir / rel
        old = path.read_text(encoding="utf-8", errors="replace") if path.is_file() else None
        if old == text:
            if rel in ours:
                unchanged.append(rel)
            continue
        atomic_write(path, text)
        written.append(rel)
    for rel in sorted(removed):
        atomic_write(Path(cfg["run_dir"]) / "held" / rel, existing[rel])  # the last good text, editable
        (wiki_dir / rel).unlink(missing_ok=True)
        written.append(rel)
    shutil.rmtree(stage, ignore_errors=True)
    statuses = {"done": len(done), "open": len(wi.steps) - len(done)}
    rows = _index_rows(final)
    return CommitSummary(
        written=written,
        unchanged=unchanged,
        committed=sorted(ours),
        held=held,
        restamped=sorted(set(restamped) - set(removed)),
        source=json.loads(final[RECORD])["source"],
        held_findings=held_findings,
        index_rows=rows,
        statuses=statuses,
        verify={
            "errors": len(report.errors),
            "warnings": len(report.findings) - len(report.errors),
            "per_rule": report.per_rule(),
            "pages": report.pages,
            "example_names": report.as_dict()["example_names"],
        },
    )


def _repair_wording(
    ws: Workspace, wiki: Wiki, wi: WorkflowIndex, ours: dict[str, str], results: list[PairResult], pages: set[str]
) -> dict[str, str]:
    """Rewritten texts for ``pages`` (ours, failing R49 only): repeated sentences dropped or replaced by
    sentences from the source (for a Workflow page, the WorkflowIndex's words for it), placeholder maths
    and doubled sentences removed."""
    ctx = Context(wiki, ws)
    flows = {page_path("Workflow", w.name): w for w in wi.workflows}
    titles = {(s.workflow, s.number): s.title for s in (wiki.workflow_index.steps if wiki.workflow_index else [])}
    by_page = {rel: r for r in results for rel in r["texts"]}

    def candidates(rel: str, section: str) -> list[str]:
        r = by_page.get(rel)
        if rel in flows:
            return workflow_sentences(
                flows[rel].description, [(s.title, s.inputs, s.outputs) for s in flows[rel].steps]
            )
        if r is None:
            return []
        loc: Mapping[str, object] = r.get("location") or {}
        sym = (
            symbol_at(ws, str(loc.get("file")), str(loc.get("qualname")), int(str(loc.get("start_line"))))
            if loc.get("kind") == "internal" and loc.get("start_line") is not None
            else None
        )
        kind = "Principle" if rel.startswith(TYPE_FOLDERS["Principle"] + "/") else "Implementation"
        deny = ctx.deny_terms(wiki.pages.get(rel))  # with the step's external packages (R34)
        return source_sentences(ws, sym, r["steps"], r["principle"], titles, deny, kind, section)

    mine = {rel: ours[rel] for rel in pages if rel in ours}
    out = repair_repeated_sections(ctx, mine, candidates)
    for rel, text in mine.items():
        fixed = repair_page_text(out.get(rel, text))
        if fixed != text:
            out[rel] = fixed
    return out


def _documented_steps(wi: WorkflowIndex, files: Mapping[str, str]) -> set[tuple[str, int]]:
    """Steps whose Workflow, Principle and Implementation pages are all among ``files``."""
    return {
        (s.workflow, s.number)
        for s in wi.steps
        if s.problem is None
        and page_path("Workflow", s.workflow) in files
        and page_path("Principle", s.principle) in files
        and page_path("Implementation", s.implementation) in files
    }


def _index_rows(files: Mapping[str, str]) -> dict[str, int]:
    return {f: text.count("\n| ") - 1 for f, text in files.items() if f in INDEX_FILES.values()}


def _unchanged(wiki_dir: Path, wi: WorkflowIndex, record: VerifiedRecord) -> CommitSummary:
    """Nothing drafted over a wiki the last commit verified against this very source: nothing to
    write, and that verdict is this run's."""
    files = wiki_files(wiki_dir)
    done = len(_documented_steps(wi, files))
    return CommitSummary(
        written=[],
        unchanged=[],
        committed=[],
        held={},
        held_findings={},
        index_rows=_index_rows(files),
        statuses={"done": done, "open": len(wi.steps) - done},
        verify=record["verify"],
        restamped=[],
        source=record["source"],
    )


def commit_node(state: RunState) -> RunState:
    cfg = state["config"]
    with traced(cfg, "commit") as rec:
        drift = state.get("drift")
        summary = commit(
            cfg, state.get("results") or [], drift.get("pages") if drift else None, bool(drift and drift.get("trusted"))
        )
        rec["outcome"] = f"{len(summary['committed'])} committed, {len(summary['held'])} held"
        return {"commit": summary}
