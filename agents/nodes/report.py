"""The report node: report.md, findings.jsonl, verdicts.jsonl and summary.json of a run, all from
measured data (the results, the commit summary, the index statistics and trace.jsonl)."""

from __future__ import annotations

import json
import statistics
from collections import Counter, defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from agents.runctx import write_draft
from agents.drift import DriftClass, describe
from agents.report_data import DiscoverySection, DriftSection, HeldRow, PageRow, ReportData, ReportSummary, Timing
from agents.state import CommitSummary, RunDrift, RunState
from tools.wiki.page import page_path
from tools.jsonl import read_jsonl
from agents.runctx import RunConfig, traced, workflow_index, workspace


def _cell(text: object) -> str:
    return " ".join(str(text).split()).replace("|", "/")


def timings(run_dir: Path) -> list[Timing]:
    per: dict[str, list[float]] = defaultdict(list)
    tokens: Counter[str] = Counter()
    calls: Counter[str] = Counter()
    cost: dict[str, float] = defaultdict(float)
    for rec in read_jsonl(run_dir / "trace.jsonl"):
        per[rec["node"]].append(rec.get("seconds", 0.0))
        tokens[rec["node"]] += rec.get("tokens", 0) or 0
        calls[rec["node"]] += rec.get("calls", 0) or 0
        cost[rec["node"]] += rec.get("cost", 0.0) or 0.0
    return [
        {
            "node": n,
            "count": len(v),
            "total": round(sum(v), 3),
            "max": round(max(v), 3),
            "tokens": tokens[n],
            "calls": calls[n],
            "cost": round(cost[n], 6),
        }
        for n, v in per.items()
    ]


def _run_meta(run_dir: Path) -> dict[str, Any]:
    """run.json, decoded (agents.run writes it)."""
    try:
        meta: dict[str, Any] = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return meta


def _since_start(run_dir: Path) -> float | None:
    """Seconds from the run's start (run.json) to now: the wall time so far, resumed pauses included."""
    from datetime import datetime, timezone

    try:
        started = _run_meta(run_dir)["started"]
        return round((datetime.now(timezone.utc) - datetime.fromisoformat(started)).total_seconds(), 3)
    except (OSError, ValueError, KeyError):
        return None


def _drift(drift: RunDrift | None, commit: CommitSummary) -> DriftSection:
    """The update's drift report: every recorded page that is not unchanged, with its class."""
    recorded = drift["pages"] if drift else []
    pages = [d for d in recorded if d["cls"] != "unchanged"]
    order: tuple[DriftClass, ...] = ("moved", "changed", "gone", "unchanged")
    counts = Counter(d["cls"] for d in recorded)
    old = drift["from"] if drift else None
    return {
        "from": old,
        "to": commit.get("source") or {},
        "from_text": describe(old),
        "to_text": describe(commit.get("source")),
        "pages": [{"page": d["page"], "cls": d["cls"], "what": _cell(d["what"])} for d in pages],
        "counts": [(c, counts[c]) for c in order if counts[c]],
        "restamped": commit.get("restamped") or [],
    }


MAX_UNCOVERED_ROWS = 40  # rows of the report's coverage table (discovery.json lists every one)


def _discovery(run_dir: Path) -> DiscoverySection | None:
    """The discover phase's record (agents/nodes/discover.py writes it), for the report."""
    try:
        d = json.loads((run_dir / "discovery.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return None
    uncovered = d.get("uncovered") or []
    return {
        "method": str(d.get("method")),
        "workflows": int(d.get("workflows") or 0),
        "steps": int(d.get("steps") or 0),
        "seconds": float(d.get("seconds") or 0.0),
        "material": dict(d.get("material") or {}),
        "uncovered": [
            {"api": _cell(u["api"]), "uses": int(u["uses"]), "where": _cell(", ".join(u["where"])) or "—"}
            for u in uncovered[:MAX_UNCOVERED_ROWS]
        ],
        "uncovered_total": len(uncovered),
        "cuts": [_cell(c) for c in d.get("cuts") or []],
        "dropped": [_cell(c) for c in d.get("dropped") or []],
        "skips": [_cell(f"{k['file'] or '(all)'}: {k['reason']}") for k in d.get("skips") or []],
    }


def build(state: RunState) -> ReportData:
    cfg: RunConfig = state["config"]
    ws = workspace(cfg)
    wi, _ = workflow_index(cfg)
    results = state.get("results") or []
    commit = state["commit"]
    run_dir = Path(cfg["run_dir"])
    committed = set(commit["committed"])
    pages: list[PageRow] = []
    counts: Counter[str] = Counter()
    for r in results:
        loc = r.get("location")
        if loc is not None and loc.get("kind") == "external":
            where = f"{loc.get('package')} (external{'' if loc.get('external_location') else ', unverified'})"
        elif loc is not None and loc.get("file"):
            where = f"{loc['file']}:L{loc['start_line']}-{loc['end_line']}"
        else:
            where = "—"
        conf = f"{loc['confidence']:.2f}" if loc is not None and "confidence" in loc else "—"
        for rel in r["texts"]:
            if rel not in committed:
                continue
            kind = "Principle" if rel.startswith("principles/") else "Implementation"
            paired = r["implementation"] if kind == "Principle" else r["principle"]
            pages.append(
                {
                    "page": rel,
                    "type": kind,
                    "location": where,
                    "paired": paired,
                    "confidence": conf,
                    "rounds": r["rounds"],
                }
            )
    for rel in committed - set(commit["unchanged"]):  # written by this run; unchanged pages are counted apart
        counts[
            {"principles": "Principle", "implementations": "Implementation", "workflows": "Workflow"}.get(
                rel.split("/")[0], "Other"
            )
        ] += 1
    types: Counter[str] = Counter()
    for r in results:
        if any(rel in committed for rel in r["texts"]):
            loc = r.get("location")
            sub = "Wrapper Doc" if loc is not None and loc.get("kind") == "external" else "API Doc"
            types["Principle"] += 1
            types[f"Implementation ({sub})"] += 1
    types["Workflow"] = counts["Workflow"]
    status_by_wf: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    wiki_dir = Path(cfg["wiki"])
    for s in wi.steps:
        status_by_wf[s.workflow][1] += 1
        if (wiki_dir / "principles" / f"{s.principle}.md").is_file() and (
            wiki_dir / "implementations" / f"{s.implementation}.md"
        ).is_file():
            status_by_wf[s.workflow][0] += 1
    draft_rules = Counter(f["rule"] for r in results for f in r["findings"])
    wiki_rules = commit["verify"]["per_rule"]
    rules = sorted(set(draft_rules) | set(wiki_rules), key=lambda x: int(x[1:]))
    held: list[HeldRow] = [{"page": p, "reason": _cell(why)} for p, why in sorted(commit["held"].items())]
    confs = [loc["confidence"] for loc in (r.get("location") for r in results) if loc]
    ex = commit["verify"]["example_names"]
    trace = timings(run_dir)
    tokens = sum(t["tokens"] for t in trace)
    model = cfg.get("model")
    data: ReportData = {
        "repo": cfg["repo"],
        "run_id": cfg["run_id"],
        "wiki": cfg["wiki"],
        "drafter": cfg["drafter"],
        "source": {
            "origin": ws.source.origin,
            "version": ws.source.version,
            "revision": ws.source.revision,
            "root": str(ws.source.root),
        },
        "workflow_index": wi.path,
        "steps_total": len(wi.steps),
        "pairs_total": len(state.get("plan") or []),
        "pairs_planned": len(results),
        "committed_pairs": sum(
            1 for r in results if r["principle"] and page_path("Principle", r["principle"]) in committed
        ),
        "held_pairs": sum(1 for r in results if page_path("Implementation", r["implementation"]) in commit["held"]),
        "skipped_pairs": len(state.get("skipped") or []),
        "counts": {k: counts[k] for k in ("Principle", "Implementation", "Workflow")},
        "unchanged": len(commit["unchanged"]),
        "held": held,
        "wiki_pairs": sum(1 for p in (wiki_dir / "principles").glob("*.md"))
        if (wiki_dir / "principles").is_dir()
        else 0,
        "one_to_one_findings": wiki_rules.get("R16", 0) + wiki_rules.get("R17", 0),
        "verify": commit["verify"],
        "example_ratio": f"{ex['exist']}/{ex['checked']}" if ex["checked"] else "no example names",
        "seconds": _since_start(run_dir),
        "startup_seconds": _run_meta(run_dir).get("startup_seconds"),
        "usage": {
            "calls": sum(t["calls"] for t in trace),
            "tokens": tokens,
            "cost": "0.00 (offline drafter)"
            if cfg["drafter"] == "offline"
            else f"{sum(t['cost'] for t in trace):.4f} USD"
            + ("" if model and model.get("prices") else " (no price table)"),
        },
        "pages": pages,
        "types": sorted(types.items()),
        "input_notes": _run_meta(Path(cfg["run_dir"])).get("input_notes") or [],
        "step_holds": [
            {
                "step": f"{h['workflow'].removeprefix(cfg['repo'] + '_')} {h['number']}: {_cell(h['title'])}",
                "reason": _cell(h["reason"]),
            }
            for h in state.get("step_holds") or []
        ],
        "coverage": [
            {"name": w.removeprefix(cfg["repo"] + "_"), "done": d, "total": t} for w, (d, t) in status_by_wf.items()
        ],
        "index_rows": sorted(commit["index_rows"].items()),
        "index": state.get("index") or {},
        "apis": len(results),
        "committed": sorted(committed),
        "findings_per_rule": [
            {"rule": r, "drafts": draft_rules.get(r, 0), "wiki": wiki_rules.get(r, 0)} for r in rules
        ],
        "timings": trace,
        "critic": [
            {
                "page": r["implementation"],
                "ratio": r["critic"].get("support_ratio"),
                "unsupported": "; ".join(
                    _cell(c) for c in r["critic"].get("unsure", r["critic"].get("unsupported", []))
                )[:400]
                or "—",
            }
            for r in results
            if r.get("critic") and "error" not in r["critic"]
        ],
        "confidence": {"min": round(min(confs), 3), "median": round(statistics.median(confs), 3)} if confs else None,
        "drift": _drift(state.get("drift"), commit),
        "discovery": _discovery(run_dir),
    }
    return data


def report_node(state: RunState) -> RunState:
    cfg = state["config"]
    with traced(cfg, "report") as rec:
        run_dir = Path(cfg["run_dir"])
        results = state.get("results") or []
        commit = state["commit"]
        with open(run_dir / "findings.jsonl", "w", encoding="utf-8") as fh:
            for r in results:
                for f in r["findings"]:
                    fh.write(json.dumps({"stage": "draft", **f}, ensure_ascii=False) + "\n")
            for page, fs in commit["held_findings"].items():
                for f in fs:
                    fh.write(json.dumps({"stage": "commit", **f}, ensure_ascii=False) + "\n")
        with open(run_dir / "verdicts.jsonl", "w", encoding="utf-8") as fh:
            for r in results:
                loc: Mapping[str, object] = r.get("location") or {}
                fh.write(
                    json.dumps(
                        {
                            "implementation": r["implementation"],
                            "principle": r["principle"],
                            "outcome": "committed"
                            if page_path("Implementation", r["implementation"]) in commit["committed"]
                            or page_path("Implementation", r["implementation"]) in commit["unchanged"]
                            else "held",
                            "reason": commit["held"].get(page_path("Implementation", r["implementation"]))
                            or r["reason"],
                            "rounds": r["rounds"],
                            "confidence": loc.get("confidence"),
                            "steps": r["steps"],
                            "critic": r.get("critic"),
                            "location": {k: loc.get(k) for k in ("kind", "qualname", "file", "start_line", "end_line")},
                            "candidates": loc.get("candidates") or [],
                        },
                        ensure_ascii=False,
                    )
                    + "\n"
                )
        for r in results:  # pages held at commit time join the ones held at verify time
            held = {rel: t for rel, t in r["texts"].items() if rel in commit["held"]}
            if held:
                write_draft(cfg, "held", held)
        data = build(state)
        text = _render(data)
        (run_dir / "report.md").write_text(text, encoding="utf-8")
        (run_dir / "summary.json").write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        from agents.review.site import write_site

        write_site(run_dir)
        rec["outcome"] = "written"
        summary: ReportSummary = {
            "steps_total": data["steps_total"],
            "pairs_total": data["pairs_total"],
            "committed_pairs": data["committed_pairs"],
            "held_pairs": data["held_pairs"],
            "skipped_pairs": data["skipped_pairs"],
            "pairs_planned": data["pairs_planned"],
            "counts": data["counts"],
            "unchanged": data["unchanged"],
            "held": data["held"],
            "verify": data["verify"],
            "coverage": data["coverage"],
            "drift": data["drift"],
        }
        return {"report": summary}


def _render(data: ReportData) -> str:
    from prompts import template_env

    return template_env().get_template("report.md.j2").render(**data)
