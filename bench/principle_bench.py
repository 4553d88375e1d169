"""How specific a wiki's Principle pages are: R49 findings, distinct Overviews and Theoretical Bases, and
how many Theoretical Bases tie the computation to the source (cite a file and line) and give it as
maths.

    python bench/principle_bench.py WIKI --source SRC [--repo owner_name] [--json]

Run it on the wiki of an offline run (``python -m agents.run … --runs DIR``), before and after a change.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from pathlib import Path

from agents.verify.rules.boilerplate_rules import names_pattern, normalised
from agents.verify.context import Context
from agents.verify.verifier import verify_wiki
from tools.wiki.load import load_wiki
from tools.index.workspace import open_workspace

_CITES = re.compile(r"\.py, L\d+")  # "(src/peft/tuners/lora/layer.py, L768)"


def measure(wiki_dir: Path, source: str, repo: str | None = None) -> dict:
    wiki = load_wiki(wiki_dir, repo)
    ws = open_workspace(wiki.repo, source)
    report = verify_wiki(wiki, ws)
    r49 = [f for f in report.findings if f.rule == "R49"]
    ctx = Context(wiki, ws)
    pattern = names_pattern(ctx)
    principles = wiki.of_type("Principle")

    def body(page, title, level=2, parent=None):
        sec = page.section(title, level=level, parent=parent) if parent else page.section(title, level=level)
        return sec.text().strip() if sec else ""

    overviews = [body(p, "Overview") for p in principles]
    theories = [body(p, "Theoretical Basis") for p in principles]
    cited = sum(1 for t in theories if _CITES.search(t))
    maths = sum(1 for t in theories if "<math>" in t)
    return {
        "wiki": str(wiki_dir),
        "pages": report.pages,
        "principles": len(principles),
        "errors": len(report.errors),
        "r49": len(r49),
        "r49_by_kind": dict(Counter(_kind(f.message) for f in r49)),
        "distinct_overviews": len(set(overviews)),
        "distinct_overviews_names_aside": len({normalised(o, pattern) for o in overviews}),
        "distinct_theories": len(set(theories)),
        "distinct_theories_names_aside": len({normalised(t, pattern) for t in theories}),
        "theory_cites_source_lines": cited,
        "theory_gives_maths": maths,
    }


def _kind(message: str) -> str:
    if "reads the same" in message:
        return "same text on 3+ pages: " + message.split(" reads", 1)[0].removeprefix("the ")
    if "<math>" in message:
        return "placeholder or wordy maths"
    return "sentence said twice"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("wiki", type=Path, nargs="+")
    ap.add_argument("--source", required=True)
    ap.add_argument("--repo")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rows = [measure(w, args.source, args.repo) for w in args.wiki]
    if args.json:
        print(json.dumps(rows, indent=1))
        return
    for r in rows:
        print(
            f"{r['wiki']}: {r['principles']} Principles, {r['pages']} pages, {r['errors']} errors, R49 {r['r49']} "
            f"{r['r49_by_kind']}; distinct Overviews {r['distinct_overviews']} ({r['distinct_overviews_names_aside']} "
            f"names aside), Theoretical Bases {r['distinct_theories']} ({r['distinct_theories_names_aside']} names "
            f"aside); Theoretical Basis cites source lines: {r['theory_cites_source_lines']}, gives maths: "
            f"{r['theory_gives_maths']}"
        )


if __name__ == "__main__":
    main()
