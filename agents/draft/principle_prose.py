"""The offline drafter's prose for a Principle page and for the prose lines of its Implementation page.

Everything comes from what is known about the step: the docstrings of its API (function, owning class,
module), the outline of the body it runs (tools.index.outline), and the WorkflowIndex step's own words
(title, inputs, outputs, neighbouring steps, the call). No sentence is a template filled with the page's
name: R49 rejects text that, names set aside, is the same on three pages. When little is known the page
says little.

The Overview must name no library (R34): docstring text is *generalised* for it: a code name becomes its
words (``LoraModel`` → "lora model"), a library word used as a modifier is dropped ("a Peft model" → "a
model"), and a clause that still names the library is cut.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, replace

from agents.draft import drafter as _draft
from agents.state import StepInfo
from agents.verify.rules.page_rules import (
    _SECRETS as SECRETS,  # R36's patterns: never copy a credential
)
from tools.index import outline as _outline
from tools.index.facts import expected_inputs
from tools.index.outline import Outline, render_outline
from tools.index.records import Symbol
from tools.index.workspace import Workspace
from tools.sentences import has_several, sentences as split_sentences, terminated

Deny = tuple[set[str], set[str]]
_HF_LINK = re.compile(r"\[`~?([\w.]+)`\]")
_TICKS = re.compile(r"``?([^`\n]+?)``?")
_EMPHASIS = re.compile(r"\*\*([^*\n]+)\*\*|(?<![\w*])\*([^*\n]+)\*(?![\w*])")
_SECTION = re.compile(
    r"^\s*(args|arguments|parameters|params|returns?|yields|raises|examples?|example usage|notes?|"
    r"attributes|kwargs|keyword arguments|other parameters|see also|warning|references?|"
    r"usage|tip)\s*:?\s*$",
    re.IGNORECASE,
)
_WHEN = re.compile(
    r"\b(use (this|it)|useful|used (to|for|when)|when you|if you|should be used|allows? (you|the user)|"
    r"in order to|so that|you can|recommended)\b",
    re.IGNORECASE,
)
_NOUN_HEADS = {
    "manager",
    "class",
    "method",
    "function",
    "collator",
    "utility",
    "helper",
    "wrapper",
    "object",
    "decorator",
    "mixin",
    "point",
    "factory",
    "container",
    "dataclass",
    "context",
    "base",
    "interface",
    "entry",
    "module",
    "mapping",
}
_BASE_VERBS = {
    "prepare",
    "return",
    "link",
    "load",
    "save",
    "convert",
    "apply",
    "create",
    "build",
    "set",
    "add",
    "remove",
    "update",
    "check",
    "validate",
    "compute",
    "run",
    "merge",
    "call",
    "pass",
    "store",
    "write",
    "read",
    "register",
    "initialize",
    "initialise",
    "reformat",
    "instantiate",
    "tokenize",
    "pad",
    "move",
    "cast",
    "replace",
    "raise",
    "wrap",
    "freeze",
    "push",
    "upload",
    "download",
    "resolve",
    "select",
}
_MAX_GIST = 190
# first words that open a noun phrase, not a verb ("Main training entry point.")
_NOT_VERBS = {
    "main",
    "base",
    "utility",
    "helper",
    "abstract",
    "default",
    "simple",
    "generic",
    "internal",
    "wrapper",
    "class",
    "function",
    "method",
    "mixin",
    "common",
    "core",
    "new",
    "custom",
    "special",
    "the",
    "a",
    "an",
}


@dataclass(frozen=True)
class Gist:
    """What a docstring's first usable sentence says the API does."""

    verb: str | None  # third-person verb phrase: "returns a model object from a model and a config"
    noun: str | None  # or a noun phrase: "a simple but feature-complete training and eval loop"
    ing: str | None = None  # or a gerund phrase: "setting model attributes before weights loading"

    def clause(self) -> str:
        return (
            f"is the step that {self.verb}"
            if self.verb
            else f"is the step of {self.ing}"
            if self.ing
            else f"is carried out by {self.noun}"
        )

    def gerund(self) -> str:
        if self.ing:
            return self.ing
        if not self.verb:
            return f"working with {self.noun}"
        first, _, rest = self.verb.partition(" ")
        adverb = ""
        if first.endswith("ly") and rest:
            adverb, (first, _, rest) = first + " ", rest.partition(" ")
        rest = re.sub(
            r"\b(and|or|then)\s+(\w+)\b",
            lambda m: (
                f"{m.group(1)} {gerund(base_form(m.group(2)))}"
                if base_form(m.group(2)) in _BASE_VERBS and m.group(2).endswith("s")
                else m.group(0)
            ),
            rest,
        )
        return f"{adverb}{gerund(base_form(first))} {rest}".strip()


# --- verbs ---------------------------------------------------------------------------------------


def base_form(verb: str) -> str:
    """returns → return, applies → apply, passes → pass; a base form is returned unchanged."""
    v = verb.lower()
    if v.endswith("ies") and len(v) > 4:
        return v[:-3] + "y"
    if re.search(r"(ss|sh|ch|x|z|o)es$", v):
        return v[:-2]
    if v.endswith("s") and not v.endswith("ss"):
        return v[:-1]
    return v


def third_person(verb: str) -> str:
    v = verb.lower()
    if re.search(r"(s|sh|ch|x|z|o)$", v):
        return v + "es"
    if re.search(r"[^aeiou]y$", v):
        return v[:-1] + "ies"
    return v + "s"


def gerund(verb: str) -> str:
    v = verb.lower()
    if v.endswith("ie"):
        return v[:-2] + "ying"
    if v.endswith("e") and not v.endswith(("ee", "ye", "oe")) and len(v) > 2:
        return v[:-1] + "ing"
    if re.fullmatch(r"[^aeiou]*[aeiou][^aeiouwxy]", v):
        return v + v[-1] + "ing"  # set → setting, pad → padding
    return v + "ing"


# --- docstring text --------------------------------------------------------------------------------


def clean(text: str | None) -> str:
    """Docstring prose made page-safe: doc-links and emphasis unwrapped, one line, no wiki markup."""
    if not text:
        return ""
    text = " ".join(text.split())  # emphasis may span a line break
    text = _HF_LINK.sub(lambda m: f"`{m.group(1).split('.')[-1] if '~' in m.group(0) else m.group(1)}`", text)
    text = _EMPHASIS.sub(lambda m: m.group(1) or m.group(2), text)
    text = re.sub(r"[^\w\s.,;:!?()'\"`/<>=+\-*%&#\[\]{}|~^@$\\]", "", text)  # emoji and other symbols
    return _draft.plain(_draft.without_injections(" ".join(text.split())))


def prose_paragraphs(doc: str | None) -> list[str]:
    """The docstring's prose: paragraphs before its first section (Args:, Example:, …) or code."""
    if not doc:
        return []
    out: list[str] = []
    for para in inspect.cleandoc(doc).split("\n\n"):
        lines = para.splitlines()
        if not lines or _SECTION.match(lines[0]) or lines[0].lstrip().startswith((">>>", "```", "..", "-", "*", "|")):
            if out or (lines and _SECTION.match(lines[0])):
                break
            continue
        if re.match(r"^\s*[-=]{3,}\s*$", lines[1] if len(lines) > 1 else ""):
            break  # a NumPy section header
        text = clean(para)
        if text:
            out.append(text)
    return out


def sentences(doc: str | None, limit: int = 6) -> list[str]:
    """Whole sentences of the docstring's prose; one that holds a credential is never copied (R36)."""
    out: list[str] = []
    for para in prose_paragraphs(doc):
        for s in split_sentences(para):
            if len(s.split()) >= 3 and not s.endswith(":") and not SECRETS.search(s):
                out.append(terminated(s))
            if len(out) >= limit:
                return out
    return out


def generalise(text: str, deny: Deny) -> str | None:
    """``text`` with code names turned into words and library words dropped; None when a clause cannot be
    rid of a library name (only the clauses before it are kept)."""
    low, exact = deny
    text = _TICKS.sub(lambda m: _outline.words(m.group(1).split(".")[-1].strip("()"), deny) or "\0", text)
    kept: list[str] = []
    for clause in re.split(r"(?<=,)\s+", text):
        toks = clause.split(" ")
        out: list[str] = []
        bad = "\0" in clause
        for i, tok in enumerate(toks):
            core = tok.strip(".,;:!?()\"'")
            if core in exact:
                tok = tok.replace(core, _outline.words(core, deny)) if _outline.words(core, deny) else ""
            elif core.lower() in low:
                nxt = toks[i + 1].strip(".,;:!?()\"'") if i + 1 < len(toks) else ""
                if nxt and nxt[:1].isalpha() and core == tok:
                    continue  # "a Peft model": the modifier goes
                bad = True
                break
            if tok:
                out.append(tok)
        if bad:
            break
        kept.append(" ".join(out))
    result = " ".join(kept).strip().rstrip(",;:")
    return result or None


def _words_ok(text: str, deny: Deny) -> bool:
    return not _draft._mentions(text, deny)


def gist(doc: str | None, deny: Deny) -> Gist | None:
    """The verb (or noun) phrase of the first docstring sentence that can be said without library names."""
    for s in sentences(doc, limit=3):
        g = _gist_of(s.rstrip("."), deny)
        if g is not None:
            return g
    return None


def _gist_of(s: str, deny: Deny) -> Gist | None:
    if re.match(r"^(note|warning|deprecated|for a given|see|example|todo|e\.g)\b", s, re.IGNORECASE):
        return None
    lead = re.match(r"^This (method|function|class|property|classmethod|decorator|utility|helper|call)\s+", s)
    s = s[lead.end() :] if lead else s
    m = re.match(r"^This is (an? |the )(.+)$", s)
    if m:
        return _phrase(None, m.group(1) + m.group(2), deny)
    m = re.match(r"^((?:[A-Za-z][\w-]*\s){0,3}[A-Za-z][\w-]*)\s+(that|which|to)\s+(?:will\s+)?(.+)$", s)
    if m and set(m.group(1).lower().split()) & _NOUN_HEADS:
        first, _, rest = m.group(3).partition(" ")
        if first.lower() in ("is", "are", "can", "may"):
            return None
        adverb = ""
        if first.endswith("ly") and rest:
            adverb, (first, _, rest) = first + " ", rest.partition(" ")
        return _phrase(
            f"{adverb}{third_person(base_form(first)) if m.group(2) == 'to' or not first.endswith('s') else first}"
            f" {_coordinate(rest)}",
            None,
            deny,
        )
    m = re.match(r"^([A-Za-z][\w-]*(?:\s[A-Za-z][\w-]*){0,2})\s+(is|are)\s+(an?|the)\s+(.+)$", s)
    if m:
        return _phrase(None, f"{m.group(3)} {m.group(4)}", deny)
    m = re.match(r"^([A-Za-z][\w-]*(?:\s[A-Za-z][\w-]*)?)\s+will\s+(\w+)\s+(.+)$", s)
    if m:
        return _phrase(f"{third_person(m.group(2))} {_coordinate(m.group(3))}", None, deny)
    first, _, rest = s.partition(" ")
    modal = False
    if first.lower() in ("will", "can", "may", "should", "must", "shall") and rest:
        first, _, rest = rest.partition(" ")  # "Will save the model": the modal goes
        modal = True  # and, like a lead, lets a lower-case verb through
    if (
        not re.fullmatch(r"[A-Za-z]+(?:-[A-Za-z]+)*", first)
        or not rest
        or (first[:1].islower() and not (lead or modal))
    ):
        return None
    if first.lower().endswith("ing") and len(first) > 5:
        return _phrase(None, None, deny, ing=f"{first.lower()} {rest}")
    if rest.split(" ", 1)[0].lower() in ("is", "are", "was", "has", "can", "of", "for"):
        return None  # a noun phrase subject ("Trainer is", "Utility for")
    if first.lower() in _NOT_VERBS:
        return _phrase(None, f"the {first.lower()} {rest}" if first.lower() not in ("the", "a", "an") else s, deny)
    verb = first.lower() if first.lower().endswith("s") and not first.lower().endswith("ss") else third_person(first)
    if not first.lower().endswith("s"):
        rest = _coordinate(rest)
    return _phrase(f"{verb} {rest}", None, deny)


def _coordinate(rest: str) -> str:
    """'tokenize and prepare …' reads 'tokenizes and prepares …' once the first verb is conjugated."""
    return re.sub(
        r"\b(and|or|then)\s+(\w+)\b",
        lambda m: f"{m.group(1)} {third_person(m.group(2)) if m.group(2).lower() in _BASE_VERBS else m.group(2)}",
        rest,
    )


def _phrase(verb: str | None, noun: str | None, deny: Deny, ing: str | None = None) -> Gist | None:
    text = generalise(verb or noun or ing or "", deny)
    if not text or len(text.split()) < 2 or not _words_ok(text, deny):
        return None
    if len(text) > _MAX_GIST:
        text = text[:_MAX_GIST].rsplit(",", 1)[0] if "," in text[:_MAX_GIST] else text[:_MAX_GIST].rsplit(" ", 1)[0]
    text = text.rstrip(" ,;:.")
    if has_several(text):
        return None  # R33: one sentence
    text = text[:1].lower() + text[1:]
    if verb is not None:
        return Gist(text, None)
    return Gist(None, None, text) if ing is not None else Gist(None, text)


# --- the step's own words ----------------------------------------------------------------------------


@dataclass(frozen=True)
class StepWords:
    key: str  # the workflow's page name
    workflow: str  # the workflow in words, without the repository prefix
    number: int
    title: str
    before: str | None  # title of the previous step
    after: str | None  # title of the next step
    inputs: str
    outputs: str
    arguments: tuple[str, ...]  # names the API call passes


def step_words(repo: str, step: StepInfo, titles: dict[tuple[str, int], str]) -> StepWords:
    wf = step["workflow"]
    return StepWords(
        key=wf,
        workflow=_draft.words(wf.removeprefix(repo + "_")),
        number=step["number"],
        title=_draft.plain(step["title"]),
        before=titles.get((wf, step["number"] - 1)),
        after=titles.get((wf, step["number"] + 1)),
        inputs=_draft._lower_first(_draft.plain(step.get("inputs"))),
        outputs=_draft._lower_first(_draft.plain(step.get("outputs"))),
        arguments=tuple(_draft.call_arguments(step.get("api_call"))),
    )


def _list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1] if items else ""


# --- the Principle page --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Api:
    """What the drafter knows about the step's API: the symbol, its workspace, and its outline."""

    ws: Workspace
    sym: Symbol
    outline: Outline | None
    owner: Symbol | None  # the class of a method
    module_doc: str | None


def api_facts(ws: Workspace, sym: Symbol, deny: Deny, api_call: str | None) -> Api:
    owner = ws.index.definition(sym.module, sym.parent) if sym.kind == "method" and sym.parent else None
    return Api(
        ws, sym, _outline.outline_symbol(ws, sym, deny, api_call), owner, _outline.module_docstring(ws, sym.file)
    )


def api_context(implementation_short: str, sym: Symbol) -> str | None:
    """The context tag, in words, of an Implementation named ``{API}_{context}``: a page of an API that
    another Principle also uses (WIKI_FORMAT §2); None for the plain ``{API}`` page."""
    for stem in sorted({sym.qualname.replace(".", "_"), sym.name}, key=len, reverse=True):
        if implementation_short.startswith(stem + "_"):
            return _outline.words(implementation_short[len(stem) + 1 :]) or None
    return None


def neutral(text: str) -> str:
    """Code-looking words (``PreTrainedModel``, ``adapter_config``) as plain words, for an Overview (R34)."""
    return re.sub(
        r"\b(?:[A-Z][a-z]+[A-Z][a-z][A-Za-z0-9]*|[A-Za-z][a-z0-9]*_[A-Za-z0-9_]+)\b(?!\.\w)",
        lambda m: _outline.words(m.group(0)),
        text,
    )


def concept(short: str, deny: Deny) -> str:
    text = " ".join(w for w in _draft._lower_first(_draft.words(short)).split() if not _draft._mentions(w, deny))
    return text or "this step"


def principle_overview(
    concept_words: str, api: Api | None, steps: list[StepWords], deny: Deny, shared: bool, plain_only: bool
) -> str:
    """One sentence, no library name: the concept and what its API does (or what the step turns into what)."""
    head = concept_words[:1].upper() + concept_words[1:]
    s = steps[0]
    g = (
        None
        if plain_only or api is None
        else gist(api.sym.docstring, deny)
        or (gist(api.owner.docstring, deny) if api.owner is not None and api.sym.name == "__init__" else None)
    )
    tail = ""
    if shared and s.arguments:
        args = [_outline.words(a, deny) for a in s.arguments[:4]]
        tail = f", here set through {_list([a for a in args if a])}" if any(args) else ""
    s = replace(s, inputs=neutral(s.inputs), outputs=neutral(s.outputs))
    options = []
    if g is not None:
        options.append(f"{head} {g.clause()}{tail}.")
    if s.inputs and s.outputs:
        options.append(f"{head} turns {s.inputs.rstrip('.')} into {s.outputs.rstrip('.')}{tail}.")
    if s.outputs:
        options.append(f"{head} produces {s.outputs.rstrip('.')}{tail}.")
    if s.inputs:
        options.append(f"{head} works on {s.inputs.rstrip('.')}{tail}.")
    if s.arguments:
        options.append(f"{head} is given {_list([_outline.words(a, deny) or a for a in s.arguments[:4]])}.")
    options.append(f"{head} is step {s.number} of the {s.workflow} workflow.")
    for o in options:
        if _words_ok(o, deny) and not has_several(o):
            return o
    return f"{head}."


def _described(api: Api) -> list[str]:
    """The docstring sentences the Description quotes (the Usage does not repeat them)."""
    own = sentences(api.sym.docstring, limit=3)
    if not own and api.sym.name == "__init__" and api.owner is not None:
        own = sentences(api.owner.docstring, limit=3)
    return own


def principle_description(api: Api | None, steps: list[StepWords], goals: dict[str, str]) -> str:
    """What the source says the step is, then where it sits in the workflows."""
    paras: list[str] = []
    if api is not None:
        own = _described(api)
        if own:
            paras.append(" ".join(own))
        if api.owner is not None and api.sym.name != "__init__":
            cls = sentences(api.owner.docstring, limit=1)
            if cls:
                paras.append(f"It is part of `{api.owner.name}`: {cls[0]}")
        if not paras:
            mod = sentences(api.module_doc, limit=1)
            if mod:
                paras.append(f"Its module, `{api.sym.module}`, is about this: {mod[0]}")
        settings = _settings(api, steps)
        if settings:
            paras.append(settings)
    placement = []
    for s in steps:
        goal = goals.get(s.key, "").rstrip(".")
        placement.append(
            f"It is step {s.number}, {_draft._lower_first(s.title)}, of the {s.workflow} workflow"
            + (f", whose goal is to {_draft._lower_first(goal)}." if goal else ".")
        )
    paras.append(" ".join(placement))
    return "\n\n".join(p for p in paras if p)


def _settings(api: Api, steps: list[StepWords]) -> str:
    """How many parameters (a class: settings) the API takes, and which of them the workflow passes."""
    try:
        names = [r.name for r in expected_inputs(api.ws, api.sym)]
    except (OSError, ValueError, SyntaxError):
        return ""
    if not names:
        return ""
    noun = "settings" if api.sym.kind == "class" else "parameters"
    passed = [a for s in steps for a in s.arguments if a in names]
    passed = list(dict.fromkeys(passed))
    count = f"{len(names)} {noun}" if len(names) != 1 else ("one setting" if noun == "settings" else "one parameter")
    if passed:
        return f"Of its {count}, the workflow passes {_list([f'`{a}`' for a in passed[:6]])}."
    return (
        f"It takes {count}, among them {_list([f'`{a}`' for a in names[:3]])}."
        if len(names) > 1
        else f"It takes {count}, `{names[0]}`."
    )


def principle_usage(api: Api | None, steps: list[StepWords]) -> str:
    """When to reach for it: the docstring's own advice, then its place between the neighbouring steps."""
    out: list[str] = []
    if api is not None:
        # the API's own advice only: a class docstring's advice is about the class, not this step
        docs = [api.sym.docstring] if api.sym.name != "__init__" or api.owner is None else [api.owner.docstring]
        said = set(_described(api))
        advice = [s for d in docs for s in sentences(d, limit=8) if _WHEN.search(s) and s not in said]
        if advice:
            out.append(" ".join(dict.fromkeys(advice[:2])))
    for s in steps:
        where = (
            f"after {_draft._lower_first(s.before)} and before {_draft._lower_first(s.after)}"
            if s.before and s.after
            else f"after {_draft._lower_first(s.before)}, as its last step"
            if s.before
            else f"first, before {_draft._lower_first(s.after)}"
            if s.after
            else "on its own"
        )
        what = (
            f": it takes {s.inputs.rstrip('.')} and gives {s.outputs.rstrip('.')}"
            if s.inputs and s.outputs
            else f": it gives {s.outputs.rstrip('.')}"
            if s.outputs
            else ""
        )
        out.append(f"In the {s.workflow} workflow it comes {where}{what}.")
    return " ".join(out)


_SUBJECT = {
    "function": "function",
    "method": "method",
    "constructor": "constructor",
    "post-init check": "post-initialisation check",
    "call method": "call method",
}


def principle_theory(api: Api | None, steps: list[StepWords], deny: Deny) -> str:
    """The algorithm the implementation runs, outlined from its body, and any maths its docstrings state.
    Without a body to read it says only what the workflow states."""
    if api is None or api.outline is None:
        s = steps[0]
        known = (
            f"takes {s.inputs.rstrip('.')} and gives {s.outputs.rstrip('.')}"
            if s.inputs and s.outputs
            else f"gives {s.outputs.rstrip('.')}"
            if s.outputs
            else ""
        )
        if known and _words_ok(known, deny):
            return f"No source body was available to outline; the workflow states only that the step {known}."
        return "No source body was available to outline, and the workflow states nothing more about the algorithm."
    o = api.outline
    parts: list[str] = []
    subject = _SUBJECT.get(o.subject, o.subject)
    first = steps[0]
    where = f"step {first.number} of the {first.workflow} workflow"
    if o.abstract:
        parts.append(
            f"The {subject} behind {where} is abstract here: its body only raises NotImplementedError, "
            f"so every concrete subclass supplies its own algorithm."
        )
    elif o.steps:
        via = ""
        if o.delegate:
            owner = "'s ".join(w for w in (_outline.words(p, deny) for p in o.delegate.split(".")) if w)
            via = f", which hands the work to {owner or 'another definition'}"
        cut = f"; {o.omitted} minor statement{' is' if o.omitted == 1 else 's are'} left out" if o.omitted else ""
        parts.append(f"Outline of the {o.lines}-line {subject} body behind {where}{via}{cut}:")
        parts.append(render_outline(o))
    else:
        parts.append(
            f"The {o.lines}-line {subject} body behind {where} does nothing the outline can name "
            f"beyond plain assignments."
        )
    if o.formulas:
        parts.append("Its documentation states: " + "; ".join(f"<math>{_tex(f)}</math>" for f in o.formulas) + ".")
    return "\n\n".join(parts)


def _tex(formula: str) -> str:
    return re.sub(r"\[\[|\]\]|\{\||\|\}|</?math>", "", formula)


# --- the Implementation page's prose lines ----------------------------------------------------------------


def implementation_overview(
    package: str | None, api: Api | None, step: StepWords, facts_deny: Deny, context: str | None = None
) -> str:
    g = gist(api.sym.docstring, facts_deny) if api is not None else None
    if g is None and api is not None and api.owner is not None and api.sym.name == "__init__":
        g = gist(api.owner.docstring, facts_deny)
    goal = g.gerund() if g is not None else _draft._lower_first(step.title)
    extra = ""
    if g is None and api is not None and api.outline is not None and api.outline.helpers:
        extra = f", whose body calls {_list([_outline.words(h) for h in api.outline.helpers[:3]])}"
    elif g is None and step.arguments:
        extra = f", given {_list([_outline.words(a) or a for a in step.arguments[:4]])}"
    case = f" in the {context} case" if context else ""
    return f"Concrete tool for {goal}{case}, provided by {package}{extra}."


def implementation_description(api: Api, what: str, context: str | None = None) -> str:
    """What the code entity is, what its documentation says, and what its body visibly does (with its size,
    so that two entities documented by the same template sentence still read differently)."""
    sym = api.sym
    kind = {"class": "class", "function": "function", "method": "method"}.get(sym.kind, sym.kind)
    what = clean(what)
    out = [terminated(what)] if what else []
    o = api.outline
    where = f"The {kind} `{sym.qualname}` in `{sym.module}`"
    if o is None:
        params = [p.name for p in sym.params if p.name not in ("self", "cls")]
        out.append(
            f"{where} takes {len(params)} parameter{'s' * (len(params) != 1)}."
            if params
            else f"{where} takes no parameters."
        )
        return " ".join(out)
    body = f"its {o.lines}-line {_SUBJECT.get(o.subject, o.subject)}"
    if sym.kind == "class":
        body += f" `{o.qualname.split('.')[-1]}`"
    facts = []
    if o.abstract:
        facts.append("only raises `NotImplementedError`: subclasses override it")
    if o.delegate:
        facts.append(f"hands its work to `{o.delegate}`")
    helpers = [h for h in o.helpers if h != sym.name][:4]
    if helpers and not o.abstract:
        facts.append("calls " + _list([f"`{h}`" for h in helpers]))
    if o.branches or o.loops:
        facts.append(f"has {o.branches} branch{'es' * (o.branches != 1)} and {o.loops} loop{'s' * (o.loops != 1)}")
    if o.raises and not o.abstract:
        facts.append("raises " + _list([f"`{r}`" for r in o.raises[:3]]) + " when a check fails")
    out.append(f"{where}: {body} {_list(facts)}." if facts else f"{where}: {body} holds plain assignments only.")
    if context:
        out.append(f"This page documents it in the {context} case.")
    return " ".join(out)


def implementation_usage(api_call: str | None, step: StepWords, api: Api | None) -> str:
    advice = []
    if api is not None:
        advice = [s for s in sentences(api.sym.docstring, limit=8) if _WHEN.search(s)][:1]
    call = f", as in `{_draft.plain(api_call).replace('`', '')}`" if api_call else ""
    given = (f", given {step.inputs.rstrip('.')}" if step.inputs else "") + (
        f", to obtain {step.outputs.rstrip('.')}" if step.outputs else ""
    )
    head = f"Call it at step {step.number} of the {step.workflow} workflow{given}{call}."
    return " ".join([head] + advice)
