"""How much of the source's parameter documentation reaches the Inputs tables of a wiki.

    python bench/param_doc_bench.py --case REPO SOURCE [--case REPO SOURCE ...]
    python bench/param_doc_bench.py --wiki REPO SOURCE WIKI_DIR [--wiki ...]

``--case`` drafts a fresh wiki with the offline pipeline (``python -m agents.run``, shipped
WorkflowIndex, temporary run folder); ``--wiki`` measures one already written (e.g. by an older
checkout, for a before/after). For each wiki: Inputs rows on API Doc pages, rows whose parameter
the source documents (``tools.index.param_docs.documented_params``), how many of those say something
(``reached``; target ≥ 95 %) and how many say it in the source's words (``from_source``), rows
saying "undocumented", rows stating their default twice, and the verifier's R48 / R26 counts.
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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools.index.docstrings import states_default  # noqa: E402
from tools.index.param_docs import documented_params, param_description  # noqa: E402
from agents.verify.rules.content_rules import api_doc_symbol, row_text, says_undocumented  # noqa: E402
from agents.verify.context import Context  # noqa: E402
from agents.verify.verifier import verify_wiki  # noqa: E402
from tools.wiki.load import load_wiki  # noqa: E402
from tools.index.workspace import Workspace, open_workspace  # noqa: E402

_WORD = re.compile(r"[a-z0-9]+")


def _overlap(page_text: str, source_text: str) -> float:
    """Share of the row's words that the source description (as a row would render it) holds."""
    words = _WORD.findall(page_text.lower())
    source = set(_WORD.findall(source_text.lower())) | set(_WORD.findall(param_description(source_text).lower()))
    return sum(w in source for w in words) / len(words) if words else 0.0


def param_doc_coverage(ws: Workspace, wiki_dir: Path) -> dict:
    """Counts over the API Doc pages of ``wiki_dir`` (see the module doc); ``missing`` lists
    ``page:parameter`` for documented parameters whose row says nothing."""
    wiki = load_wiki(Path(wiki_dir))
    ctx = Context(wiki, ws)
    counts = {
        "pages": 0,
        "rows": 0,
        "documented_in_source": 0,
        "reached": 0,
        "from_source": 0,
        "undocumented_rows": 0,
        "default_twice": 0,
    }
    missing: list[str] = []
    for page in sorted(wiki.of_type("Implementation"), key=lambda p: p.name):
        sec = page.section("Inputs", level=3)
        sym = api_doc_symbol(ctx, page) if wiki.subtype(page) == "API Doc" else None
        if sym is None or sec is None or not sec.tables():
            continue
        counts["pages"] += 1
        docs = documented_params(ws, sym)
        for _, cells in sec.tables()[0].data_rows():
            if len(cells) != 4:
                continue
            name, desc = cells[0], cells[3]
            counts["rows"] += 1
            silent = says_undocumented(desc)
            counts["undocumented_rows"] += silent
            counts["default_twice"] += states_default(row_text(desc))
            source = docs.get(name, "").strip()
            if not source:
                continue
            counts["documented_in_source"] += 1
            if silent:
                missing.append(f"{page.name}:{name}")
                continue
            counts["reached"] += 1
            counts["from_source"] += _overlap(row_text(desc), source) >= 0.6
    d = counts["documented_in_source"]
    return {**counts, "reached_share": round(counts["reached"] / d, 4) if d else None, "missing": missing}


def measure(repo: str, source: str, wiki_dir: Path) -> dict:
    ws = open_workspace(repo, source)
    report = verify_wiki(load_wiki(wiki_dir), ws)
    per_rule = report.per_rule()
    return {
        "repo": repo,
        "source": source,
        **param_doc_coverage(ws, wiki_dir),
        "verify_errors": len(report.errors),
        "R48": per_rule.get("R48", 0),
        "R26": per_rule.get("R26", 0),
    }


def draft_and_measure(repo: str, source: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        p = subprocess.run(
            [
                sys.executable,
                "-m",
                "agents.run",
                "--repo",
                repo,
                "--source",
                source,
                "--runs",
                tmp,
                "--json",
                "--quiet",
            ],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
        )
        if p.returncode not in (0, 1):
            return {"repo": repo, "source": source, "exit": p.returncode, "error": p.stderr.strip()[-300:]}
        summary = json.loads(p.stdout)
        return {
            **measure(repo, source, Path(summary["wiki"])),
            "exit": p.returncode,
            "pairs_committed": summary["pairs_committed"],
            "pairs_planned": summary["pairs_planned"],
        }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--case", nargs=2, action="append", default=[], metavar=("REPO", "SOURCE"))
    ap.add_argument("--wiki", nargs=3, action="append", default=[], metavar=("REPO", "SOURCE", "WIKI_DIR"))
    args = ap.parse_args()
    out = [draft_and_measure(r, s) for r, s in args.case] + [measure(r, s, Path(w)) for r, s, w in args.wiki]
    print(json.dumps(out, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
