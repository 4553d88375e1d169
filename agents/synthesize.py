"""The synthesize node: write the two pages of a pair. Offline, with the extractive drafter;
facts always come from the index, never from prose."""
from __future__ import annotations

from agents.draft import implementation_data, principle_data
from agents.excavate import locator, symbol_at
from agents.pages import render_page
from agents.rules.context import Context
from agents.runctx import RunConfig, traced, workflow_index, workspace
from agents.wiki import Wiki
from tools.wikipage import TYPE_FOLDERS


def domains_of(cfg: RunConfig, job: dict) -> list[str]:
    return sorted({s["workflow"].removeprefix(cfg["repo"] + "_") for s in job["steps"]})


def external_facts(cfg: RunConfig, loc: dict) -> dict:
    ws = workspace(cfg)
    package = loc.get("package") or ""
    out = {"package": package, "qualname": loc.get("qualname"), "repo_url": ws.source.url.rstrip("/"),
           "repo_label": ws.source.url.rstrip("/").split("://", 1)[-1].split("/", 1)[-1]}
    ext = loc.get("external_location")
    xws = locator(cfg).external_workspace(package) if ext and package else None
    if xws is not None:
        sym = symbol_at(xws, ext["file"], ext["qualname"], ext["start_line"])
        if sym is not None:
            out.update(ws=xws, symbol=sym, version=ext.get("version"), qualname=f"{package}.{sym.qualname}")
    return out


def draft_pair(cfg: RunConfig, job: dict, loc: dict, usage: dict | None, repairs: dict) -> dict[str, str]:
    ws = workspace(cfg)
    wi, _ = workflow_index(cfg)
    descriptions = {w.name: w.description or "" for w in wi.workflows}
    domains = domains_of(cfg, job)
    ctx = Context(Wiki(ws.source.root, cfg["repo"]), ws)
    pname, iname = job["principle"], job["implementation"]
    low, exact = ctx.deny_terms(None)
    keys = {(s["workflow"], s["number"]) for s in job["steps"]}
    low |= {d.lower() for s in wi.steps if (s.workflow, s.number) in keys for d in s.external_deps}
    p_data = principle_data(ws, pname, iname, job["steps"], domains, cfg["updated"], (low, exact),
                            repairs, descriptions)
    step = job["steps"][0]
    if loc["kind"] == "external":
        i_data = implementation_data(ws, None, iname, pname, step, domains, cfg["updated"], None, repairs,
                                     external=external_facts(cfg, loc))
        i_data.pop("verified")
    else:
        sym = symbol_at(ws, loc["file"], loc["qualname"], loc["start_line"])
        i_data = implementation_data(ws, sym, iname, pname, step, domains, cfg["updated"], usage, repairs)
    return {f"{TYPE_FOLDERS['Principle']}/{pname}.md": render_page("Principle", p_data),
            f"{TYPE_FOLDERS['Implementation']}/{iname}.md": render_page("Implementation", i_data)}


def synthesize(state: dict) -> dict:
    cfg, job = state["config"], state["job"]
    with traced(cfg, "synthesize", job["implementation"]) as rec:
        texts = draft_pair(cfg, job, state["location"], state.get("usage"), state.get("repairs") or {})
        rec["outcome"] = f"drafted round {state.get('rounds', 0)}"
        return {"texts": texts}
