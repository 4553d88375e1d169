"""What a reader meets on the pages: do the examples walk the workflow, does the theory explain, is the
prose specific? Prints one JSON object.

    python bench/reader_bench.py [--skip-transformers]          # offline runs of every case below
    python bench/reader_bench.py --wiki DIR [--name NAME]       # an existing wiki (e.g. a replayed model run)

Cases, each drafted by the offline pipeline in a fresh process and a temporary run folder: peft 0.18.1
and transformers 5.0.0 with the shipped WorkflowIndexes, and every ../shared/bench folder's
WorkflowIndex on its source. Per case, on the committed wiki:

* placeholder_first — Implementation pages whose first example starts (after its imports) with a bare
  placeholder `x = ...` (target ≤ 10 %);
* walks_workflow — steps after the first of each workflow whose Implementation page's first example
  calls the API of every earlier documented step of that workflow (target ≥ 80 %); a page shared by
  several workflows counts as walking when it walks any of them;
* narrated_theory — Theoretical Basis sections that narrate statements: a numbered list of three or
  more items most of which start with a statement verb ("Call", "If", "For each", "Return", …) or a
  sentence about the outline itself (target 0);
* repeated_skeletons — share of prose sentences (Overview, Description, Usage, Theoretical Basis, the
  Workflow pages' step text) whose skeleton — code, numbers, identifiers and the page's own name words
  masked — occurs on three or more pages (target ≤ 3 %), with the most repeated skeletons;
* what_x_returns — Outputs rows whose description only restates that the API returns something;
* undocumented_rows — Inputs rows that call the parameter undocumented, and of those the ones whose
  name has a docstring entry (`name (`, `name:`, `:param name:`) in a string of the defining file
  (false_undocumented: an upper bound of what the reader counted as wrong);
* pairs committed / planned, verify errors, seconds.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "bench"
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from content_bench import offline_cases, run_offline  # noqa: E402
from agents.verify.verifier import verify_wiki  # noqa: E402
from tools.index.workspace import open_workspace  # noqa: E402
from tools.sentences import sentences  # noqa: E402
from tools.wiki.load import load_wiki  # noqa: E402
from tools.wiki.page import Page, parse_page  # noqa: E402
from tools.wiki.workflow_index import WorkflowIndex, load_workflow_index  # noqa: E402

PROSE = ("Overview", "Description", "Usage", "Theoretical Basis")
_VERBS = re.compile(
    r"^(call|calls|if|for each|for|while|return|returns|compute|computes|otherwise|else|set|sets|raise|raises|"
    r"go on|try|with|assign|yield|loop|check|store|append|build|create|update)\b",
    re.I,
)
_META = re.compile(r"\boutline of\b|\bstatements? (is|are) left out\b|\bbranch(es)?\b.*\bloops?\b", re.I)
_RETURNS_ONLY = re.compile(r"^\s*(what|the value) `?[\w.]+`? returns\.?\s*$|^\s*the call's result\.?\s*$", re.I)


def _prose(page: Page, title: str) -> str:
    sec = page.section(title)
    if sec is None:
        return ""
    return "\n".join(line for b in sec.blocks if b.kind in ("text",) for line in b.lines)


def _first_example(page: Page) -> str | None:
    sec = page.section("Usage Examples", level=2)
    if sec is None:
        return None
    seen = False
    for s in page.sections:
        if s is sec:
            seen = True
            continue
        if seen and s.level == 2:
            break
        if seen:
            for b in s.code():
                if b.lang == "python":
                    return "\n".join(b.code)
    return None


def placeholder_first(code: str) -> bool:
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return False
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        return isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and node.value.value is Ellipsis
    return False


def _called(code: str) -> set[tuple[str | None, str]]:
    """(receiver name or None, called name) of every call in the code."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return set()
    out: set[tuple[str | None, str]] = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Call):
            f = n.func
            if isinstance(f, ast.Name):
                out.add((None, f.id))
            elif isinstance(f, ast.Attribute):
                out.add((f.value.id if isinstance(f.value, ast.Name) else None, f.attr))
    return out


def _api_of(call: str | None) -> tuple[str | None, str] | None:
    """The called name of a WorkflowIndex API Call, with its receiver when that is a class name."""
    text = (call or "").strip().strip("`").split(" or ")[0].strip()
    m = re.match(r"^(?:([A-Za-z_][\w.]*)\.)?([A-Za-z_]\w*)\s*\(", text)
    if not m:
        return None
    recv = m.group(1).split(".")[-1] if m.group(1) else None
    return (recv if recv and recv[:1].isupper() else None, m.group(2))


def _calls_api(calls: set[tuple[str | None, str]], api: tuple[str | None, str]) -> bool:
    recv, name = api
    return any(n == name and (recv is None or r == recv) for r, n in calls)


def narrates(theory: str) -> bool:
    if _META.search(theory):
        return True
    items = [re.sub(r"^#+\*?\s*", "", ln).strip() for ln in theory.splitlines() if re.match(r"^#+\*?\s", ln)]
    if len(items) < 3:
        return False
    return sum(bool(_VERBS.match(i)) for i in items) * 2 > len(items)


def skeleton(sentence: str, names: set[str]) -> str:
    s = re.sub(r"`[^`]*`|<math>.*?</math>|\[\[[^\]]*\]\]", " C ", sentence)
    s = re.sub(r"\b\w*(_\w+|[a-z][A-Z]\w*|\d\w*)\b", " X ", s)
    s = re.sub(r"\b\d+(\.\d+)?\b", " N ", s)
    low = s.lower()
    for w in sorted(names, key=len, reverse=True):
        low = re.sub(rf"\b{re.escape(w)}\b", " X ", low)
    return " ".join(re.sub(r"(\s*X\s*)+", " X ", low).split())


def _name_words(page: Page, repo: str) -> set[str]:
    stem = page.name.removeprefix(repo + "_")
    words = {w.lower() for w in re.split(r"[_\W]+", stem) if len(w) > 2}
    return words


def measure_wiki(wiki_dir: Path, repo: str, source: str | None, index: WorkflowIndex | None) -> dict:
    pages: dict[str, Page] = {}
    for folder in ("implementations", "principles", "workflows"):
        for p in sorted((wiki_dir / folder).glob("*.md")):
            pages[p.stem] = parse_page(p.read_text(encoding="utf-8"), f"{folder}/{p.name}")
    impls = {k: v for k, v in pages.items() if v.folder == "implementations"}

    # examples
    firsts = {k: _first_example(p) for k, p in impls.items()}
    placeholder = sorted(k for k, c in firsts.items() if c is not None and placeholder_first(c))
    walks: dict[str, bool] = {}
    if index is None and (wiki_dir / "_WorkflowIndex.md").is_file():
        index = load_workflow_index(wiki_dir / "_WorkflowIndex.md")
    if index is not None:
        for w in index.workflows:
            done = [s for s in w.steps if s.implementation in impls]
            for k, s in enumerate(done[1:], 1):
                code = firsts.get(s.implementation) or ""
                calls = _called(code)
                apis = [a for a in (_api_of(e.api_call) for e in done[:k]) if a is not None]
                ok = bool(apis) and all(_calls_api(calls, a) for a in apis)
                walks[s.implementation] = walks.get(s.implementation, False) or ok

    # theory
    theories = {k: _prose(p, "Theoretical Basis") for k, p in pages.items() if p.folder == "principles"}
    narrated = sorted(k for k, t in theories.items() if narrates(t))

    # repeated skeletons
    where: dict[str, set[str]] = defaultdict(set)
    all_sk: list[str] = []
    for k, p in pages.items():
        names = _name_words(p, repo)
        titles = PROSE + (("Execution Steps",) if p.folder == "workflows" else ())
        text = (
            "\n".join(_prose(p, t) for t in titles)
            + "\n"
            + "\n".join(
                ln
                for s in p.sections
                if s.parent == "Execution Steps"
                for b in s.blocks
                if b.kind == "text"
                for ln in b.lines
                if not ln.startswith("[[")
            )
        )
        for para in text.split("\n"):
            para = para.strip().lstrip("#*: ").strip()
            if not para or para.startswith("[["):
                continue
            for s in sentences(para):
                sk = skeleton(s, names)
                if len(sk.split()) < 4:
                    continue
                where[sk].add(k)
                all_sk.append(sk)
    repeated = [sk for sk in all_sk if len(where[sk]) >= 3]
    top = Counter({sk: len(where[sk]) for sk in set(repeated)}).most_common(8)

    # outputs and inputs
    returns_only, undocumented, false_undoc = [], 0, []
    src = Path(source) if source else None
    for k, p in impls.items():
        sec = p.section("Outputs", level=3)
        for t in sec.tables() if sec else []:
            for _, row in t.data_rows():
                if len(row) >= 3 and (_RETURNS_ONLY.match(row[-1]) or not row[-1].strip()):
                    returns_only.append(k)
        sec = p.section("Inputs", level=3)
        file = next((ln.split("'''File:'''")[1].strip() for ln in p.lines if "'''File:'''" in ln), None)
        text = ""
        if src is not None and file and (src / file).is_file():
            text = (src / file).read_text(encoding="utf-8", errors="replace")
        for t in sec.tables() if sec else []:
            for _, row in t.data_rows():
                if len(row) >= 4 and "undocumented" in row[-1].lower():
                    undocumented += 1
                    n = re.escape(row[0].strip())
                    if text and re.search(rf"^\s*({n}\s*\(|{n}\s*:|:param {n}:)", text, re.M):
                        false_undoc.append(f"{k}:{row[0].strip()}")
    n_impl = len(impls)
    n_walk = len(walks)
    return {
        "implementations": n_impl,
        "principles": len(theories),
        "placeholder_first": len(placeholder),
        "placeholder_first_pct": round(100 * len(placeholder) / n_impl, 1) if n_impl else None,
        "placeholder_first_pages": placeholder,
        "walks_workflow": sum(walks.values()),
        "steps_after_first": n_walk,
        "walks_workflow_pct": round(100 * sum(walks.values()) / n_walk, 1) if n_walk else None,
        "narrated_theory": len(narrated),
        "narrated_theory_pages": narrated,
        "prose_sentences": len(all_sk),
        "repeated_skeletons": len(repeated),
        "repeated_skeletons_pct": round(100 * len(repeated) / len(all_sk), 1) if all_sk else None,
        "top_repeated": [{"pages": n, "skeleton": sk} for sk, n in top],
        "what_x_returns": len(returns_only),
        "undocumented_rows": undocumented,
        "false_undocumented": len(false_undoc),
        "false_undocumented_rows": false_undoc[:12],
    }


def case(name: str, repo: str, source: str, index: Path | None) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        p, secs = run_offline(repo, source, index, tmp)
        if p.returncode not in (0, 1):
            return {"case": name, "exit": p.returncode, "error": p.stderr.strip()[-400:]}
        summary = json.loads(p.stdout)
        wiki = Path(summary["wiki"])
        report = verify_wiki(load_wiki(wiki), open_workspace(repo, source))
        wi = load_workflow_index(index) if index is not None else None
        return {
            "case": name,
            "exit": p.returncode,
            "seconds": secs,
            "pairs": f"{summary['pairs_committed']}/{summary['pairs_planned']}",
            "verify_errors": len(report.errors),
            **measure_wiki(wiki, repo, source, wi),
        }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skip-transformers", action="store_true")
    ap.add_argument("--wiki", type=Path, help="measure this wiki instead of running the cases")
    ap.add_argument("--name", default=None)
    ap.add_argument("--source", default=None, help="the wiki's source (for false_undocumented)")
    args = ap.parse_args()
    if args.wiki:
        wiki = load_wiki(args.wiki)
        out = {"case": args.name or str(args.wiki), **measure_wiki(args.wiki, wiki.repo, args.source, None)}
        print(json.dumps(out, indent=1))
        return
    print(json.dumps(offline_cases(case, args.skip_transformers), indent=1))


if __name__ == "__main__":
    main()
