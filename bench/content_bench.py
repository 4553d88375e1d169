"""Content figures of offline wikis: examples, parameter docs, boilerplate, Principle theory.

    python bench/content_bench.py [--skip-transformers]

Cases: peft 0.18.1 with the shipped WorkflowIndex and with ../shared/bench/peft's, unsloth
2025.12.6 with ../shared/bench/unsloth's, transformers 5.0.0 with the shipped one. Each is drafted
by the offline pipeline (a fresh process, a temporary run folder) and measured on the committed
wiki: examples total / self-contained (compile, no unbound name: R45) / binding (R46) / with an
unused import (R47); parameters the source documents and how many reached the page (target ≥ 95 %);
rows falsely "undocumented"; R48 / R49 findings; Principle pages whose Theoretical Basis cites the
source lines that compute it or gives maths; pages held for content (R45–R49), named; seconds.
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "bench"
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from example_bench import examples  # noqa: E402
from param_doc_bench import param_doc_coverage  # noqa: E402
from principle_bench import measure as principle_measure  # noqa: E402
from tools.index.workspace import symbol_at  # noqa: E402
from agents.verify.verifier import verify_wiki  # noqa: E402
from tools.wiki.load import load_wiki  # noqa: E402
from tools.examples.check import call_problems, call_target, compile_problem, unbound_names, unused_imports  # noqa: E402
from tools.source.resolve import default_cache_dir  # noqa: E402
from tools.source.sdist import fetch_sdist  # noqa: E402
from tools.index.workspace import open_workspace  # noqa: E402

CONTENT_RULES = ("R45", "R46", "R47", "R48", "R49")


def _examples(wiki: Path, run_dir: Path, ws) -> dict:
    locs = {}
    for line in (run_dir / "verdicts.jsonl").read_text().splitlines():
        v = json.loads(line)
        locs[v["implementation"]] = v.get("location") or {}
    c = {"total": 0, "self_contained": 0, "api_doc": 0, "binding": 0, "unused_imports": 0}
    bad = []
    for page in sorted((wiki / "implementations").glob("*.md")):
        loc = locs.get(page.stem, {})
        sym = (
            symbol_at(ws, loc.get("file"), loc.get("qualname"), loc.get("start_line"))
            if loc.get("kind") == "internal"
            else None
        )
        for code in examples(page.read_text(encoding="utf-8"), f"implementations/{page.name}"):
            c["total"] += 1
            ok = compile_problem(code) is None and not unbound_names(code)
            c["self_contained"] += ok
            c["unused_imports"] += len(unused_imports(code))
            if sym is not None:
                c["api_doc"] += 1
                binds = not call_problems(code, call_target(ws, sym))
                c["binding"] += binds
                ok = ok and binds
            if not ok:
                bad.append(page.stem)
    return {**c, "failing": bad}


def run_offline(
    repo: str, source: str, index: Path | None, runs: str
) -> tuple[subprocess.CompletedProcess[str], float]:
    """An offline run as a user runs it (a fresh process, its own run folder): the process and its seconds."""
    args = [sys.executable, "-m", "agents.run", "--repo", repo, "--source", source, "--runs", runs, "--json", "--quiet"]
    if index is not None:
        args += ["--workflow-index", str(index)]
    t0 = time.perf_counter()
    p = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    return p, round(time.perf_counter() - t0, 1)


def offline_cases(case: Callable[[str, str, str, Path | None], dict], skip_transformers: bool) -> list[dict]:
    """``case`` over the offline cases: peft with the shipped and the ../shared/bench index, unsloth with its
    ../shared/bench index, transformers with the shipped one."""
    cache = default_cache_dir()
    peft = str(fetch_sdist("peft==0.18.1", cache))
    cases = [case("peft (shipped index)", "huggingface_peft", peft, None)]
    if (SHARED / "peft" / "_WorkflowIndex.md").is_file():
        cases.append(case("peft (bench index)", "huggingface_peft", peft, SHARED / "peft" / "_WorkflowIndex.md"))
    if (SHARED / "unsloth" / "_WorkflowIndex.md").is_file():
        unsloth = str(fetch_sdist("unsloth==2025.12.6", cache))
        cases.append(
            case("unsloth (bench index)", "unslothai_unsloth", unsloth, SHARED / "unsloth" / "_WorkflowIndex.md")
        )
    if not skip_transformers:
        tf = str(fetch_sdist("transformers==5.0.0", cache))
        cases.append(case("transformers (shipped index)", "huggingface_transformers", tf, None))
    return cases


def case(name: str, repo: str, source: str, index: Path | None) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        p, secs = run_offline(repo, source, index, tmp)
        if p.returncode not in (0, 1):
            return {"case": name, "exit": p.returncode, "error": p.stderr.strip()[-400:]}
        summary = json.loads(p.stdout)
        wiki, run_dir = Path(summary["wiki"]), Path(summary["run_dir"])
        ws = open_workspace(repo, source)
        report = verify_wiki(load_wiki(wiki), ws)
        per_rule = report.per_rule()
        params = param_doc_coverage(ws, wiki)
        principles = principle_measure(wiki, source, repo)
        held_for_content = sorted(
            page for page, why in summary["held"].items() if any(re.search(rf"\b{r}\b", why) for r in CONTENT_RULES)
        )
        return {
            "case": name,
            "exit": p.returncode,
            "seconds": secs,
            "pairs": f"{summary['pairs_committed']}/{summary['pairs_planned']}",
            "verify_errors": len(report.errors),
            "examples": _examples(wiki, run_dir, ws),
            "parameters": params,
            "R48": per_rule.get("R48", 0),
            "R49": per_rule.get("R49", 0),
            "principles": {
                k: principles[k]
                for k in (
                    "principles",
                    "distinct_overviews",
                    "distinct_theories_names_aside",
                    "theory_cites_source_lines",
                    "theory_gives_maths",
                )
            },
            "held_for_content": held_for_content,
        }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skip-transformers", action="store_true")
    args = ap.parse_args()
    print(json.dumps(offline_cases(case, args.skip_transformers), indent=1))


if __name__ == "__main__":
    main()
