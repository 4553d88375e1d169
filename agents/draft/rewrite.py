"""R49 repairs: wording is rewritten, never a reason to hold a page whose facts verify (RULES R49 as amended).

Two kinds of finding are repaired on the text of a drafted page:

* wiki-level: a section (Overview, Description, Usage, Theoretical Basis) whose text, names set aside, three
  or more pages share. On each of our pages involved, the sentences of that section that three or more
  pages share are dropped and the first sentence the source gives for this page that no other page's same
  section holds takes their place (an Overview, one sentence, is replaced whole);
* page-level: the same sentence twice in one paragraph (the second goes) and a ``<math>`` that is a
  placeholder or mostly words (the span goes, with the sentence around it when nothing else is left).

The replacement sentences come from the source through ``sentences_for`` (docstrings of the API, its class,
its module and the definitions its work is handed to, its parameters' documentation, the WorkflowIndex's
words for the step), so a repaired page still says only what the source says.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable

from agents.draft import docwords as dw
from agents.draft import principle_prose as prose
from agents.draft import theory
from agents.draft.docwords import Deny
from agents.draft.drafter import concept_context
from agents.draft.text import lower_first, plain
from agents.state import StepInfo
from agents.verify.context import Context
from agents.verify.rules.boilerplate_rules import (
    MIN_PAGES,
    boilerplate_groups,
    math_problem,
    names_pattern,
    normalised,
    repeated_sentence,
    section_of,
)
from tools.index.param_docs import documented_params
from tools.index.records import Symbol
from tools.index.workspace import Workspace
from tools.sentences import sentences, terminated

# (page path, section title) → sentences from the source that may stand in that section, best first
Candidates = Callable[[str, str], list[str]]
_HEADING = re.compile(r"^(={2,4}) (.+?) \1\s*$")
_LIST = re.compile(r"^\s*[*#:;]")
_MATH = re.compile(r"<math>(.*?)</math>", re.DOTALL)


# --- text surgery ------------------------------------------------------------------------------------


def _body_span(lines: list[str], title: str) -> tuple[int, int] | None:
    """Line indexes [start, end) of the text under the heading ``title``, up to the next heading."""
    for i, line in enumerate(lines):
        m = _HEADING.match(line)
        if m and m.group(2) == title:
            j = i + 1
            while j < len(lines) and not _HEADING.match(lines[j]):
                j += 1
            return i + 1, j
    return None


def section_body(text: str, title: str) -> str | None:
    lines = text.split("\n")
    span = _body_span(lines, title)
    return "\n".join(lines[span[0] : span[1]]).strip("\n") if span else None


def replace_section(text: str, title: str, body: str) -> str:
    """``text`` with the text under ``title`` replaced by ``body`` (one blank line before and after)."""
    lines = text.split("\n")
    span = _body_span(lines, title)
    if span is None:
        return text
    return "\n".join(lines[: span[0]] + ["", *body.strip("\n").split("\n"), ""] + lines[span[1] :])


def _paragraphs(body: str) -> list[str]:
    return [p for p in re.split(r"\n\s*\n", body.strip("\n")) if p.strip()]


# --- wiki-level: a section text on three or more pages ------------------------------------------------


def repair_repeated_sections(ctx: Context, ours: dict[str, str], candidates: Candidates) -> dict[str, str]:
    """New texts for our pages whose R49-repeated sections were rewritten (pages it could not help are
    left out)."""
    pattern = names_pattern(ctx)

    def key(sentence: str) -> str:
        return normalised(sentence, pattern)

    # which pages hold each sentence of each section, names set aside
    holders: dict[tuple[str, str], set[str]] = defaultdict(set)
    for page in ctx.wiki.pages.values():
        for title in ("Overview", "Description", "Usage", "Theoretical Basis"):
            sec = section_of(page, title)
            if sec is not None:
                for s in _sentences_of(sec.text()):
                    holders[(title, key(s))].add(page.path)
    changed: dict[str, str] = {}
    for title, _text, hits in boilerplate_groups(ctx):
        for page, _line in hits:
            if page.path not in ours:
                continue
            text = changed.get(page.path, ours[page.path])
            body = section_body(text, title)
            if body is None:
                continue
            new = _rewritten(title, body, page.path, holders, key, candidates)
            if new is None:
                continue
            for s in _sentences_of(new):
                holders[(title, key(s))].add(page.path)
            changed[page.path] = replace_section(text, title, new)
    return changed


def _sentences_of(body: str) -> list[str]:
    out: list[str] = []
    for para in _paragraphs(body):
        if _LIST.match(para):
            out.extend(line.strip() for line in para.split("\n") if line.strip())
        else:
            out.extend(sentences(" ".join(para.split())))
    return out


def _rewritten(
    title: str,
    body: str,
    path: str,
    holders: dict[tuple[str, str], set[str]],
    key: Callable[[str], str],
    candidates: Candidates,
) -> str | None:
    def shared(sentence: str) -> bool:
        return len(holders[(title, key(sentence))] - {path}) >= MIN_PAGES - 1

    def free(sentence: str) -> bool:
        return not (holders[(title, key(sentence))] - {path})

    fresh = [c for c in dict.fromkeys(candidates(path, title)) if c.strip() and free(c)]
    if title == "Overview":
        return fresh[0] if fresh else None
    paras: list[str] = []
    for para in _paragraphs(body):
        if _LIST.match(para):
            kept_lines = [ln for ln in para.split("\n") if not shared(ln.strip())]
            if kept_lines:
                paras.append("\n".join(kept_lines))
            continue
        kept = [s for s in sentences(" ".join(para.split())) if not shared(s)]
        if kept:
            paras.append(" ".join(kept))
    own = set(_sentences_of("\n\n".join(paras)))
    extra = [c for c in fresh if c not in own][: 1 if paras else 2]
    if not paras and not extra:
        return None
    if extra:
        paras.append(" ".join(extra))
    new = "\n\n".join(paras)
    return new if new.strip() != body.strip() else None


# --- page-level: a sentence twice in a paragraph, placeholder maths ----------------------------------


def repair_page_text(text: str) -> str:
    """The page with a repeated sentence dropped from each paragraph and placeholder or wordy ``<math>``
    removed (the page's own formulas decide whether a lone letter is fine, as in R49)."""
    has_formula = any(math_problem(t, True) is None and len(t.split()) > 1 for t in _MATH.findall(text))
    out: list[str] = []
    in_code = False
    for line in text.split("\n"):
        if line.startswith("<syntaxhighlight"):
            in_code = True
        if in_code or _HEADING.match(line) or line.startswith(("{|", "|", "!", "[[")):
            out.append(line)
            if line.startswith("</syntaxhighlight>") or line.endswith("</syntaxhighlight>"):
                in_code = False
            continue
        line = _MATH.sub(lambda m: "" if math_problem(m.group(1), has_formula) else m.group(0), line)
        if repeated_sentence(line):
            seen: set[str] = set()
            kept = []
            for s in sentences(line):
                k = " ".join(s.lower().split()).strip(" .!?;:")
                if k in seen and len(k.split()) >= 3:
                    continue
                seen.add(k)
                kept.append(s)
            line = " ".join(kept)
        out.append(line)
    return "\n".join(out)


# --- sentences from the source for one page ------------------------------------------------------------


def source_sentences(
    ws: Workspace,
    sym: Symbol | None,
    steps: list[StepInfo],
    principle: str,
    titles: dict[tuple[str, int], str],
    deny: Deny,
    kind: str,
    section: str,
) -> list[str]:
    """What the source can say in ``section`` of a page of ``kind`` (Principle / Implementation) for the
    step's API ``sym`` (None: another package's, known only by the WorkflowIndex): Overviews as the
    drafter's alternatives, other sections as docstring, parameter and step sentences."""
    repo = ws.source.repo
    said = [prose.step_words(repo, s, titles) for s in steps] if steps else []
    api = (
        prose.api_facts(ws, sym, steps[0].get("api_call") if steps else None, concept_context(principle, repo))
        if sym is not None
        else None
    )
    if section == "Overview" and said:
        if kind == "Principle":
            concept = prose.concept(principle.removeprefix(repo + "_"), deny)
            return prose.overview_options(concept, api, said, deny, False, False)[1:]
        return prose.implementation_overview_options(ws.package, api, said[0], (set(), set()))[1:]
    out: list[str] = []
    if api is not None:
        docs: list[str | None] = [api.sym.docstring, api.owner.docstring if api.owner else None]
        docs += [link.symbol.docstring for link in api.chain[1:]] + [api.module_doc]
        out += [x for d in docs for x in dw.sentences(d, limit=8)]
        for name, doc in list(documented_params(ws, api.sym).items())[:6]:
            first = dw.sentences(doc, limit=1)
            if first:
                out.append(f"`{name}`: {first[0]}")
        if section == "Theoretical Basis" and api.chain:
            out.append(theory.what_is_computed(api.chain, deny, said[0].outputs if said else ""))
    for s in said:
        if s.inputs and s.outputs:
            out.append(terminated(f"In {s.workflow}, {lower_first(s.title)} takes {s.inputs} and gives {s.outputs}"))
        elif s.outputs:
            out.append(terminated(f"In {s.workflow}, {lower_first(s.title)} gives {s.outputs}"))
    # last: where the step stands, which differs even between steps of one API that the source says
    # nothing more about
    for s in said:
        total = max((n for (w, n) in titles if w == s.key), default=s.number)
        out.append(terminated(f"The {s.workflow} workflow reaches it at step {s.number} of {total}"))
    return [plain(x) for x in dict.fromkeys(out) if x]


def workflow_sentences(description: str | None, steps: list[tuple[str, str | None, str | None]]) -> list[str]:
    """What a Workflow page can say instead of a repeated sentence: its description's sentences, then what
    each step takes and gives (``steps``: title, inputs, outputs), in the WorkflowIndex's words."""
    out = sentences(plain(description))
    for title, takes, gives in steps:
        t, g = lower_first(plain(takes)).rstrip("."), lower_first(plain(gives)).rstrip(".")
        if t and g:
            out.append(terminated(f"{plain(title)} takes {t} and gives {g}"))
        elif g:
            out.append(terminated(f"{plain(title)} gives {g}"))
    return out
