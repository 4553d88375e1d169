"""The run's state types and its phase nodes (resolve, index, plan), free of the graph library: the
graph (agents/graph.py) wires them, and a run with nothing to do calls them directly (agents/run.py)."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

from agents.state import RunDrift, RunState, result
from agents.drift import drift_pages, read_record, trusted, trusted_pages, wiki_files
from agents.nodes.plan import already_done, plan_pairs, respected, reviewer_decisions
from agents.runctx import traced, workflow_index, workspace
from agents.verify.verifier import verify_wiki
from tools.wiki.load import load_wiki
from tools.wiki.page import page_path
from tools.source.resolve import resolve_repo


def resolve_node(state: RunState) -> RunState:
    cfg = state["config"]
    with traced(cfg, "resolve") as rec:
        src = resolve_repo(cfg["repo"], cfg["source"], Path(cfg["cache_dir"]) if cfg["cache_dir"] else None)
        rec["outcome"] = f"{src.origin} {src.version or ''}".strip()
        return {
            "source": {
                "root": str(src.root),
                "origin": src.origin,
                "version": src.version,
                "revision": src.revision,
                "url": src.url,
            }
        }


def index_node(state: RunState) -> RunState:
    cfg = state["config"]
    with traced(cfg, "index") as rec:
        stats = vars(workspace(cfg).index.stats)
        rec["outcome"] = f"{stats.get('files')} files"
        return {"index": {k: v for k, v in stats.items() if isinstance(v, (int, float, str)) or v is None}}


# what a move of the definition breaks, and re-stamping the page's Lines mends: location, range, index row
_PLACE_RULES = {"R22", "R23", "R29"}


def plan_node(state: RunState) -> RunState:
    cfg = state["config"]
    with traced(cfg, "plan") as rec:
        wi, _ = workflow_index(cfg)
        jobs, step_holds = plan_pairs(wi)
        skipped: set[str] = set()
        wiki_dir = Path(cfg["wiki"])
        record = read_record(wiki_dir)
        # the last commit's verdict holds when wiki, source and verifier are byte for byte the same
        files = wiki_files(wiki_dir) if record is not None else {}
        same = record is not None and trusted(record, files, workspace(cfg))
        drift: RunDrift = {
            "from": record.get("source") if record else None,
            "trusted": same,
            "pages": drift_pages(record, workspace(cfg), same),
        }
        if not cfg["force"] and (wiki_dir / "principles").is_dir():
            # pages whose files did not change keep their verdict (git diff, else content digests)
            keep = trusted_pages(record, files, workspace(cfg)) if record is not None and not same else frozenset()
            # a page can break where its own file did not change: its walkthrough calls the APIs of the
            # workflow's earlier steps, so every page is verified again against a changed source
            errors = [] if same else verify_wiki(load_wiki(wiki_dir, cfg["repo"]), workspace(cfg)).errors
            failing = {f.page for f in errors}
            rec["reverified"] = None if same else sum(1 for rel in files if "/" in rel and rel not in keep)
            skipped = already_done(jobs, wiki_dir, failing)
            # moved pages are re-stamped at commit (no redraft, no model call) unless something other than their
            # place fails; changed and gone ones are redrafted even where the old page still passes (its prose
            # describes the old docstring or body)
            by_page = {page_path("Implementation", j["implementation"]): j["implementation"] for j in jobs}
            for d in drift["pages"]:
                if d["page"] in by_page:
                    if d["cls"] == "moved":
                        if {f.rule for f in errors if f.page == d["page"]} <= _PLACE_RULES:
                            skipped.add(by_page[d["page"]])
                        else:
                            skipped.discard(by_page[d["page"]])
                    elif d["cls"] in ("changed", "gone"):
                        skipped.discard(by_page[d["page"]])
        # a reviewer's decisions stand: a rejected pair is not redrafted the same way, an approved
        # (perhaps hand-edited) page is not overwritten, even with --force
        rejected, approved = respected(jobs, reviewer_decisions(Path(cfg["run_dir"]).parent), wiki_dir)
        skipped |= approved
        held = [
            result({"job": j, "started": time.time()}, "held", rejected[j["implementation"]], [])
            for j in jobs
            if j["implementation"] in rejected and j["implementation"] not in skipped
        ]
        skipped |= set(rejected)
        rec["outcome"] = (
            f"{len(jobs)} pairs, {len(skipped)} skipped, {len(held)} rejected, {len(step_holds)} steps unusable"
        )
        if drift["pages"]:
            rec["outcome"] += "; drift " + ", ".join(
                f"{n} {c}" for c, n in sorted(Counter(d["cls"] for d in drift["pages"]).items())
            )
        return {"plan": jobs, "skipped": sorted(skipped), "results": held, "step_holds": step_holds, "drift": drift}


def nothing_to_do(state: RunState) -> bool:
    """The plan drafts no pair: every one is already verified in the wiki (or reviewed)."""
    skipped = set(state.get("skipped") or [])
    return all(j["implementation"] in skipped for j in state.get("plan") or [])
