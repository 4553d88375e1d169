"""How self-contained the Usage Examples of a run's Implementation pages are.

    python bench/example_bench.py RUN_DIR --repo huggingface_peft --source ~/.cache/repowiki/sources/peft-0.18.1

RUN_DIR is a run folder (``runs/<repo>/latest``); the pages are read from its drafts/ (what the
drafter wrote, committed or not), the documented symbols from its verdicts.jsonl. For every python
block under ``== Usage Examples ==`` it counts: compiles at module level (R45), loads no name it does
not bind (R45), every call of the documented symbol binds to its signature (R46, API Doc pages), no
unused import (R47), with the verifier's own checks (tools.examples.check).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tools.index.workspace import symbol_at
from tools.examples.check import (
    call_problems,
    call_target,
    compile_problem,
    unbound_names,
    unused_imports,
)
from tools.index.build import build_index
from tools.source.resolve import resolve_repo
from tools.wiki.page import parse_page
from tools.index.workspace import Workspace


def examples(page_text: str, path: str) -> list[str]:
    page = parse_page(page_text, path)
    out = []
    for s in page.sections:
        if s.parent == "Usage Examples" or s.title == "Usage Examples":
            out += ["\n".join(b.code) for b in s.code() if b.lang == "python"]
    return out


def measure(run_dir: Path, ws: Workspace) -> dict:
    locs = {}
    for line in (run_dir / "verdicts.jsonl").read_text().splitlines():
        v = json.loads(line)
        locs[v["implementation"]] = v.get("location") or {}
    counts = {
        "pages": 0,
        "examples": 0,
        "compile": 0,
        "no_unbound": 0,
        "api_doc_examples": 0,
        "binding": 0,
        "no_unused_import": 0,
    }
    bad: list[str] = []
    for page in sorted((run_dir / "drafts" / "implementations").glob("*.md")):
        loc = locs.get(page.stem, {})
        sym = (
            symbol_at(ws, loc.get("file"), loc.get("qualname"), loc.get("start_line"))
            if loc.get("kind") == "internal"
            else None
        )
        counts["pages"] += 1
        for i, code in enumerate(examples(page.read_text(encoding="utf-8"), f"implementations/{page.name}")):
            counts["examples"] += 1
            problems = []
            if compile_problem(code) is not None:
                problems.append("compile")
            else:
                counts["compile"] += 1
                names = [n for _, n in unbound_names(code)]
                counts["no_unbound"] += not names
                if names:
                    problems.append("unbound " + ",".join(names))
                unused = [n for _, n in unused_imports(code)]
                counts["no_unused_import"] += not unused
                if unused:
                    problems.append("unused " + ",".join(unused))
                if sym is not None:
                    counts["api_doc_examples"] += 1
                    ok = not call_problems(code, call_target(ws, sym))
                    counts["binding"] += ok
                    if not ok:
                        problems.append("binding")
            if problems:
                bad.append(f"{page.stem} #{i + 1}: {'; '.join(problems)}")
    return {"counts": counts, "problems": bad}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run_dir", type=Path)
    ap.add_argument("--repo", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    src = resolve_repo(args.repo, str(Path(args.source).expanduser()))
    out = measure(args.run_dir, Workspace(src, build_index(src)))
    if args.json:
        print(json.dumps(out, indent=1))
        return
    c = out["counts"]
    print(f"{args.repo}: {c['pages']} pages, {c['examples']} examples")
    print(
        f"  compile {c['compile']}/{c['examples']}  no unbound names {c['no_unbound']}/{c['examples']}  "
        f"no unused import {c['no_unused_import']}/{c['examples']}  "
        f"binding {c['binding']}/{c['api_doc_examples']} (API Doc examples)"
    )
    for p in out["problems"]:
        print("  -", p)


if __name__ == "__main__":
    main()
