"""What the I/O Contracts of a wiki tell a reader: the Outputs' first rows and the Inputs rows that say
nothing, before/after comparable.

    python bench/io_contract_bench.py --wiki REPO SOURCE WIKI_DIR [--wiki ...]

For each wiki, over its Implementation pages: first Outputs rows, how many have Type ``—``, how many
only restate that the API returns something (R27's ``restates_return``: "What `X` returns.", "The
call's result."), how many pages add rows for what the call leaves behind; Inputs rows, how many say
nothing or that the parameter is undocumented, and how many of those are false: the source documents
the parameter (``tools.index.param_docs.documented_params``: the docstring as ``help()`` shows it, the
base method's, the class's, the API the docstring refers to, a prose sentence naming it). Prints one
JSON object per wiki; ``false_undocumented_rows`` lists ``page:parameter``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agents.verify.context import Context  # noqa: E402
from agents.verify.rules.content_rules import api_doc_symbol, says_undocumented  # noqa: E402
from agents.verify.rules.fact_rules import restates_return  # noqa: E402
from tools.index.param_docs import documented_params  # noqa: E402
from tools.index.workspace import open_workspace  # noqa: E402
from tools.wiki.load import load_wiki  # noqa: E402
from tools.wiki.page import Page  # noqa: E402


def _api(ctx: Context, page: Page) -> str | None:
    sym = api_doc_symbol(ctx, page) if ctx.wiki.subtype(page) == "API Doc" else None
    return sym.qualname if sym is not None else None


def measure(repo: str, source: str, wiki_dir: Path) -> dict[str, object]:
    ws = open_workspace(repo, source)
    wiki = load_wiki(wiki_dir)
    ctx = Context(wiki, ws)
    counts = {
        "implementation_pages": 0,
        "outputs_first_rows": 0,
        "outputs_type_dash": 0,
        "outputs_restating": 0,
        "pages_with_effect_rows": 0,
        "inputs_rows": 0,
        "undocumented_rows": 0,
        "false_undocumented": 0,
    }
    dash: list[str] = []
    restating: list[str] = []
    false_rows: list[str] = []
    for page in sorted(wiki.of_type("Implementation"), key=lambda p: p.name):
        counts["implementation_pages"] += 1
        out = page.section("Outputs", level=3)
        rows = out.tables()[0].data_rows() if out is not None and out.tables() else []
        if rows and len(rows[0][1]) == 3:
            counts["outputs_first_rows"] += 1
            _, (_, typ, desc) = rows[0]
            if typ.strip() == "—":
                counts["outputs_type_dash"] += 1
                dash.append(page.name)
            api = sym_name if (sym_name := _api(ctx, page)) else page.name.removeprefix(wiki.repo + "_")
            if restates_return(desc, api):
                counts["outputs_restating"] += 1
                restating.append(f"{page.name}: {desc}")
            counts["pages_with_effect_rows"] += len(rows) > 1
        sec = page.section("Inputs", level=3)
        sym = api_doc_symbol(ctx, page) if wiki.subtype(page) == "API Doc" else None
        docs = documented_params(ws, sym) if sym is not None else {}
        for _, cells in sec.tables()[0].data_rows() if sec is not None and sec.tables() else []:
            if len(cells) != 4:
                continue
            counts["inputs_rows"] += 1
            if says_undocumented(cells[3]):
                counts["undocumented_rows"] += 1
                if docs.get(cells[0], "").strip():
                    counts["false_undocumented"] += 1
                    false_rows.append(f"{page.name}:{cells[0]}")
    return {
        "repo": repo,
        "source": source,
        "wiki": str(wiki_dir),
        **counts,
        "type_dash_pages": dash,
        "restating_rows": restating,
        "false_undocumented_rows": false_rows,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--wiki", nargs=3, action="append", default=[], metavar=("REPO", "SOURCE", "WIKI_DIR"))
    args = ap.parse_args()
    print(json.dumps([measure(r, s, Path(w)) for r, s, w in args.wiki], indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
