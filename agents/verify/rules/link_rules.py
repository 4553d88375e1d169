"""Rules on links across the whole wiki: R14–R21."""

from __future__ import annotations

import re
from collections import defaultdict

from agents.verify.findings import Finding, finding
from agents.verify.context import Context
from tools.wiki.schema import EDGES
from tools.wiki.page import TYPE_FOLDERS, Page, source_location


def check_links(ctx: Context) -> list[Finding]:
    out: list[Finding] = []
    wiki = ctx.wiki
    for page in wiki.pages.values():
        for link in page.links:
            if link.target_type in TYPE_FOLDERS and wiki.page(link.target_type, link.target) is None:
                out.append(
                    finding("R14", page.path, link.line, f"link target {link.target_type}:{link.target} does not exist")
                )
            if link.edge == "realized_by":
                out.append(finding("R15", page.path, link.line, "realized_by is a legacy alias; use implemented_by"))
                continue
            allowed = EDGES.get((page.type or "", link.edge))
            if allowed is None or link.target_type not in (allowed if isinstance(allowed, tuple) else (allowed,)):
                out.append(
                    finding(
                        "R15",
                        page.path,
                        link.line,
                        f"edge {link.edge} from {page.type} to {link.target_type} is not allowed",
                    )
                )
    out.extend(_one_to_one(ctx))
    for page in wiki.of_type("Workflow"):
        out.extend(_r18(page))
    stepped = {l.target for p in wiki.of_type("Workflow") for l in p.links if l.edge == "step"}
    for page in wiki.of_type("Principle"):
        if page.name not in stepped:
            out.append(finding("R19", page.path, None, "no Workflow page has a step link to this Principle"))
    out.extend(_r20(ctx))
    out.extend(_r21(ctx))
    return out


def _one_to_one(ctx: Context) -> list[Finding]:
    out = []
    wiki = ctx.wiki
    implemented_by: dict[str, list[str]] = {}
    implements: dict[str, list[str]] = {}
    for p in wiki.of_type("Principle"):
        targets = [l.target for l in p.links if l.edge == "implemented_by" and l.target_type == "Implementation"]
        implemented_by[p.name] = targets
        if len(targets) != 1:
            out.append(finding("R16", p.path, None, f"{len(targets)} implemented_by links; exactly one is required"))
    for p in wiki.of_type("Implementation"):
        targets = [l.target for l in p.links if l.edge == "implements" and l.target_type == "Principle"]
        implements[p.name] = targets
        if len(targets) != 1:
            out.append(finding("R17", p.path, None, f"{len(targets)} implements links; exactly one is required"))
    for pname, impls in implemented_by.items():
        principle = wiki.page("Principle", pname)  # the page pname was taken from
        for impl in impls:
            if principle is not None and impl in implements and pname not in implements[impl]:
                out.append(
                    finding(
                        "R17",
                        principle.path,
                        None,
                        f"{pname} is implemented_by {impl}, but {impl} does not implement it",
                    )
                )
    for iname, principles in implements.items():
        implementation = wiki.page("Implementation", iname)  # the page iname was taken from
        for pname in principles:
            if implementation is not None and pname in implemented_by and iname not in implemented_by[pname]:
                out.append(
                    finding(
                        "R17",
                        implementation.path,
                        None,
                        f"{iname} implements {pname}, but {pname} is not implemented_by it",
                    )
                )
    return out


def mermaid_nodes(text: str) -> list[str]:
    ids: list[str] = []
    inside = False
    for line in text.splitlines():
        s = line.strip()
        if s.startswith("{{#mermaid:"):
            inside = True
            s = s[len("{{#mermaid:") :].strip()
            if s.startswith("graph"):
                continue
        if not inside:
            continue
        if s.startswith("}}"):
            break
        if re.match(r"^(style|classDef|class|linkStyle|click|%%)\b", s):
            continue
        s = re.sub(r"\|[^|]*\|", " ", s)  # edge labels
        for m in re.finditer(r"([A-Za-z0-9_]+)\s*(?:\[[^\]]*\]|\([^)]*\)|\{[^}]*\})?", s):
            token = m.group(1)
            if token and token not in ids and not re.fullmatch(r"-+|>", token):
                ids.append(token)
    return ids


def _r18(page: Page) -> list[Finding]:
    out = []
    step_links = [l for l in page.links if l.edge == "step"]
    if len({l.target for l in step_links}) < 2:
        out.append(finding("R18", page.path, None, "fewer than 2 distinct steps"))
    steps = [s for s in page.sections if s.level == 3 and s.parent == "Execution Steps"]
    numbers = []
    heads = []
    for s in steps:
        m = re.match(r"^Step (\d+): \S", s.title)
        numbers.append(int(m.group(1)) if m else None)
        first = next((line for b in s.blocks for line in b.render() if line.strip()), "")
        heads.append((s, first.strip()))
    if numbers != list(range(1, len(steps) + 1)):
        out.append(
            finding(
                "R18",
                page.path,
                steps[0].line if steps else None,
                f"step headings are numbered {numbers}; number them 1..{len(steps)} as '=== Step n: Title ==='",
            )
        )
    related = page.section("Related Pages", level=2)
    rel_links = [l.target for l in step_links if related is not None and l.line > related.line]
    documented = 0
    for s, first in heads:
        if first == PENDING:
            if "[[step::" in s.text():
                out.append(finding("R18", page.path, s.line, f"pending step '{s.title}' carries a step link"))
            continue
        m = re.fullmatch(r"\[\[step::Principle:([^\]]+)\]\]", first)
        if m is None:
            out.append(
                finding(
                    "R18",
                    page.path,
                    s.line,
                    f"first line under '{s.title}' is neither a [[step::Principle:…]] link nor {PENDING}",
                )
            )
            continue
        if documented >= len(rel_links) or rel_links[documented] != m.group(1):
            out.append(
                finding(
                    "R18",
                    page.path,
                    s.line,
                    f"step {documented + 1} links {m.group(1)} but Related Pages lists "
                    f"{rel_links[documented] if documented < len(rel_links) else 'nothing'} at that place",
                )
            )
        documented += 1
    if len(rel_links) != documented:
        out.append(
            finding(
                "R18",
                page.path,
                related.line if related else None,
                f"Related Pages has {len(rel_links)} step links for {documented} documented steps",
            )
        )
    diagram = page.section("Execution Diagram", level=2)
    if diagram is not None:
        nodes = mermaid_nodes(diagram.text())
        if len(nodes) != len(steps):
            out.append(
                finding("R18", page.path, diagram.line, f"the diagram has {len(nodes)} nodes for {len(steps)} steps")
            )
    return out


PENDING = "''Pending: not yet documented.''"


def _r20(ctx: Context) -> list[Finding]:
    out = []
    wiki = ctx.wiki
    for page in wiki.of_type("Environment") + wiki.of_type("Heuristic"):
        back, forward = ("required_by", "requires_env") if page.type == "Environment" else ("used_by", "uses_heuristic")
        for link in page.links:
            if link.edge != back:
                continue
            target = wiki.page(link.target_type, link.target) if link.target_type in TYPE_FOLDERS else None
            if target is None:
                continue
            if not any(l.edge == forward and l.target == page.name for l in target.links):
                out.append(
                    finding(
                        "R20", page.path, link.line, f"{back} {link.target} has no matching {forward} link on that page"
                    )
                )
    return out


def _r21(ctx: Context) -> list[Finding]:
    out = []
    by_place: dict[tuple[str, str], list[Page]] = defaultdict(list)
    for page in ctx.wiki.of_type("Implementation"):
        if ctx.wiki.subtype(page) != "API Doc":
            continue
        loc = source_location(page)
        if "File" in loc and "Lines" in loc:
            by_place[(loc["File"][0], loc["Lines"][0])].append(page)
    repo = ctx.wiki.repo
    for (file, lines), pages in by_place.items():
        if len(pages) < 2:
            continue
        names = sorted(p.name for p in pages)
        # the definition's own name, or the name the pages use for it (a method bound at run time is
        # called by its attribute name): one stem for all; the pages that do not share the stem that
        # most of them share are the findings
        stems = _api_stems(ctx, repo, file, lines) + sorted(names, key=len)

        def fits(n: str, st: str) -> bool:
            return n == st or re.fullmatch(re.escape(st) + r"_[A-Za-z0-9]+(_[A-Za-z0-9]+)*", n) is not None

        best = max(stems, key=lambda st: sum(fits(n, st) for n in names))
        for other in names:
            if not fits(other, best):
                page = next(p for p in pages if p.name == other)
                out.append(
                    finding(
                        "R21",
                        page.path,
                        None,
                        f"documents {file}:{lines} like {', '.join(n for n in names if fits(n, best))} but "
                        f"is not named {best} or {best}_{{context}}",
                    )
                )
    return out


def _api_stems(ctx: Context, repo: str, file: str, lines: str) -> list[str]:
    """``{repo}_{API}`` for the symbol at File/Lines, with ``{API}`` any dotted tail of its qualified
    name (``PeftModel.save_pretrained`` → ``PeftModel_save_pretrained`` or ``save_pretrained``), longest
    first; [] when the source is not at hand."""
    m = re.fullmatch(r"L(\d+)-(\d+)", lines)
    if ctx.ws is None or m is None:
        return []
    start, end = int(m.group(1)), int(m.group(2))
    sym = next((s for s in ctx.ws.index.file_symbols(file) if (s.start_line, s.end_line) == (start, end)), None)
    if sym is None:
        return []
    parts = [p.strip("_") if p.startswith("__") and p.endswith("__") else p for p in sym.qualname.split(".")]
    return [f"{repo}_" + "_".join(parts[i:]) for i in range(len(parts))]
