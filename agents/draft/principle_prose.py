"""The offline drafter's prose for a Principle page and for the prose lines of its Implementation page.

Everything comes from what is known about the step: the docstrings of its API (function, owning class,
module) and of the definitions its work is handed to (tools.index.callees), the computation found along that
chain (tools.index.outline, written up by agents.draft.theory), and the WorkflowIndex step's own words
(title, inputs, outputs, neighbouring steps, the call). Every sentence carries something specific to its API
or concept: a docstring's words, the step's words, a code name with its file and lines. No sentence is a
fixed phrase with the page's name filled in (R49); when little is known the page says little.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from agents.draft import docwords as dw
from agents.draft import theory
from agents.draft.docwords import Deny
from agents.draft.text import lower_first, mentions, plain, words as spaced
from agents.state import StepInfo
from tools import pyast
from tools.index.callees import Link, callee_chain
from tools.index.outline import Core, core, words as code_words
from tools.index.param_docs import documented_params
from tools.index.records import Symbol
from tools.index.source_ast import module_docstring
from tools.index.workspace import Workspace
from tools.sentences import has_several, terminated

_WHEN = re.compile(
    r"\b(use (this|it)|useful|used (to|for|when)|when you|if you|should be used|allows? (you|the user)|"
    r"in order to|so that|you can|recommended)\b",
    re.IGNORECASE,
)


# --- the step's own words ----------------------------------------------------------------------------


def call_arguments(api_call: str | None) -> list[str]:
    """The names a call passes: positional variables, then keyword names (`f(model, r=8)` → model, r)."""
    try:
        node = pyast.parse((api_call or "").strip().strip("`"), mode="eval").body
    except SyntaxError:
        return []
    while isinstance(node, ast.Attribute) and isinstance(node.value, ast.Call):
        node = node.value  # Trainer(...).train(): the constructor's arguments
    if not isinstance(node, ast.Call):
        return []
    names = [a.id for a in node.args if isinstance(a, ast.Name)]
    names += [k.arg for k in node.keywords if k.arg]
    return list(dict.fromkeys(n for n in names if n.isidentifier()))


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
        workflow=spaced(wf.removeprefix(repo + "_")),
        number=step["number"],
        title=plain(step["title"]),
        before=titles.get((wf, step["number"] - 1)),
        after=titles.get((wf, step["number"] + 1)),
        inputs=lower_first(plain(step.get("inputs"))).rstrip("."),
        outputs=lower_first(plain(step.get("outputs"))).rstrip("."),
        arguments=tuple(call_arguments(step.get("api_call"))),
    )


def _list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1] if items else ""


# --- what is known about the API -----------------------------------------------------------------------


@dataclass(frozen=True)
class Api:
    """What the drafter knows about the step's API: the symbol, its class and module, the chain of
    definitions its work is handed to, and the computation found along it."""

    ws: Workspace
    sym: Symbol
    owner: Symbol | None  # the class of a method
    module_doc: str | None
    chain: tuple[Link, ...]
    core: Core
    naming: theory.Naming  # how the page names this code: another package's by module-qualified name

    @property
    def work(self) -> Symbol | None:
        """The definition the work is handed to, when it is not the API itself."""
        return self.chain[-1].symbol if len(self.chain) > 1 else None


def api_facts(
    ws: Workspace, sym: Symbol, api_call: str | None, context: Iterable[str] = (), external: bool = False
) -> Api:
    """``context``: the step's concept words (its Principle's name), which a callee's name may share;
    ``external``: ``sym`` belongs to another package than the repository's."""
    owner = ws.index.definition(sym.module, sym.parent) if sym.kind == "method" and sym.parent else None
    chain = callee_chain(ws, sym, api_call, tuple(context))
    return Api(ws, sym, owner, module_docstring(ws, sym.file), chain, core(ws, chain), theory.Naming(external))


def api_context(implementation_short: str, sym: Symbol) -> str | None:
    """The context tag, in words, of an Implementation named ``{API}_{context}``: a page of an API that
    another Principle also uses (WIKI_FORMAT §2); None for the plain ``{API}`` page."""
    for stem in sorted({sym.qualname.replace(".", "_"), sym.name}, key=len, reverse=True):
        if implementation_short.startswith(stem + "_"):
            return code_words(implementation_short[len(stem) + 1 :]) or None
    return None


def neutral(text: str) -> str:
    """Code-looking words (``PreTrainedModel``, ``adapter_config``) as plain words, for an Overview (R34)."""
    return re.sub(
        r"\b(?:[A-Z][a-z]+[A-Z][a-z][A-Za-z0-9]*|[A-Za-z][a-z0-9]*_[A-Za-z0-9_]+)\b(?!\.\w)",
        lambda m: code_words(m.group(0)),
        text,
    )


def concept(short: str, deny: Deny) -> str:
    text = " ".join(w for w in lower_first(spaced(short)).split() if not mentions(w, deny))
    return text or "this step"


def _docs(api: Api) -> list[str | None]:
    """The docstrings that speak for the step, nearest first: the API's (a constructor's class's), then
    those of the definitions its work is handed to."""
    own = [api.sym.docstring]
    if api.sym.name == "__init__" and api.owner is not None:
        own.append(api.owner.docstring)
    return own + [link.symbol.docstring for link in api.chain[1:]]


def _loop_words(api: Api, deny: Deny) -> str | None:
    """ "repeats training step, optimizer step and lr scheduler step for each epoch and inputs"."""
    loop = api.core.loop
    if loop is None:
        return None
    ops = [code_words(op.replace(".", "_"), deny) for op in loop.ops[:4]]
    ops = [o for o in dict.fromkeys(ops) if o]
    levels = [code_words(lv, deny) for lv in loop.levels]
    if len(ops) < 2:
        return None
    return f"repeats {_list(ops)}" + (f" for each {_list([lv for lv in levels if lv])}" if any(levels) else "")


# --- the Principle page --------------------------------------------------------------------------------


def principle_overview(
    concept_words: str, api: Api | None, steps: list[StepWords], deny: Deny, shared: bool, plain_only: bool
) -> str:
    """One sentence, no library name: the concept and what it does, from the docstrings of the API and
    of where its work happens, else from the loop that does it, else from the step's own words."""
    return overview_options(concept_words, api, steps, deny, shared, plain_only)[0]


def overview_options(
    concept_words: str, api: Api | None, steps: list[StepWords], deny: Deny, shared: bool, plain_only: bool
) -> list[str]:
    """Every Overview the sources allow, best first (an R49 repair takes the next one)."""
    head = concept_words[:1].upper() + concept_words[1:]
    s = steps[0]
    tail = ""
    if shared and s.arguments:
        args = [code_words(a, deny) for a in s.arguments[:4]]
        tail = f", here set through {_list([a for a in args if a])}" if any(args) else ""
    s = replace(s, inputs=neutral(s.inputs), outputs=neutral(s.outputs))
    docs = [] if plain_only or api is None else _docs(api)
    own = 2 if api is not None and api.sym.name == "__init__" else 1  # the API's docstrings, then its callees'
    gists = [g for d in docs if (g := dw.gist(d, deny)) is not None]
    own_gists = [g for d in docs[:own] if (g := dw.gist(d, deny)) is not None]
    options = [f"{head} {g.verb}{tail}." for g in own_gists if g.verb]
    loop = None if plain_only or api is None else _loop_words(api, deny)
    if loop:  # the loop that does the work says more than a callee's docstring
        options.append(f"{head} {loop}{tail}.")
    options += [f"{head} {g.verb}{tail}." for g in gists if g.verb]
    options += [f"{head} means {g.ing}{tail}." for g in gists if g.ing]
    options += [f"{head} is handled by {g.noun}{tail}." for g in gists if g.noun]
    if s.inputs and s.outputs:
        options.append(f"{head} turns {s.inputs} into {s.outputs}{tail}.")
    if s.outputs:
        options.append(f"{head} yields {s.outputs}{tail}.")
    if s.inputs:
        options.append(f"{head} acts on {s.inputs}{tail}.")
    if s.arguments:
        options.append(f"{head} is configured through {_list([code_words(a, deny) or a for a in s.arguments[:4]])}.")
    options.append(f"{head} is the {lower_first(s.title)} stage of the {s.workflow} workflow.")
    good = [o for o in dict.fromkeys(options) if not mentions(o, deny) and not has_several(o)]
    return good or [f"{head}."]


def _described(api: Api, step: StepWords | None = None) -> list[str]:
    """The docstring sentences the Principle's Description quotes (the Usage does not repeat them): those
    after the summary, which the Implementation page gives; the summary itself only when the step's own
    words cannot say what the concept turns into what (an API that serves two Principles reads alike
    otherwise)."""
    doc = api.sym.docstring
    if not dw.sentences(doc, limit=1) and api.sym.name == "__init__" and api.owner is not None:
        doc = api.owner.docstring
    every = dw.sentences(doc, limit=6)
    summary = set(dw.sentences(dw.first_paragraph(doc), limit=6))
    beyond = [x for x in every if x not in summary]
    if beyond or (step is not None and step.outputs):
        return beyond[:3]
    return every[:3]


def principle_description(api: Api | None, steps: list[StepWords]) -> str:
    """What the concept is: the API's docstring beyond the summary its Implementation page quotes, else what
    the step turns into what (the WorkflowIndex's words); where the work is done and what that definition's
    docstring says; for a class, what else it holds; without any of these, its class or module doc."""
    s = steps[0]
    step_sentence = (
        terminated(f"{s.title} takes {s.inputs} and gives {s.outputs}")
        if s.inputs and s.outputs
        else terminated(f"{s.title} gives {s.outputs}")
        if s.outputs
        else ""
    )
    paras: list[str] = []
    if api is not None:
        own = _described(api, s)
        built = api.sym.kind == "class" or api.sym.name == "__init__"
        settings = _settings(api, s.arguments, "other") if built and len(own) < 2 else ""
        if settings:
            own = []  # a class with a one-line docstring (its Implementation page quotes it) is told by what it holds
        if own:
            paras.append(" ".join(own))
        elif step_sentence:
            paras.append(step_sentence)
        elif not dw.sentences(api.sym.docstring, 1) and api.owner is not None:
            if cls := dw.sentences(api.owner.docstring, limit=2):
                paras.append(f"`{api.naming.name(api.owner)}`: " + " ".join(cls))
        work = api.work
        if work is not None:
            said = [x for x in dw.sentences(work.docstring, limit=2) if x not in own]
            if said:
                nm = api.naming
                paras.append(
                    f"The work is done in `{nm.name(work)}` ({nm.place(work, work.start_line, work.end_line)}): "
                    + " ".join(said)
                )
        if settings:
            paras.append(settings)
        if not paras and (mod := dw.sentences(api.module_doc, limit=2)):
            paras.append(f"`{api.sym.module}`: " + " ".join(mod))  # a module path is its own qualified name
        if not paras and (summary := dw.sentences(api.sym.docstring, limit=3)):
            paras.append(" ".join(summary))
    if not paras:
        paras.append(step_sentence or terminated(f"{s.title} is step {s.number} of the {s.workflow} workflow"))
    return "\n\n".join(p for p in paras if p)


def _advice(api: Api, said: set[str], limit: int = 2) -> list[str]:
    """Sentences of the docstrings that say when or why to use it."""
    out = [x for d in _docs(api) for x in dw.sentences(d, limit=8) if _WHEN.search(x) and x not in said]
    return list(dict.fromkeys(out))[:limit]


def _placement(s: StepWords) -> str:
    """Where the step sits and what it turns into what, in the WorkflowIndex's words."""
    around = (
        f"It follows {lower_first(s.before)} and precedes {lower_first(s.after)}"
        if s.before and s.after
        else f"It follows {lower_first(s.before)} and ends the {s.workflow} workflow"
        if s.before
        else f"It opens the {s.workflow} workflow, before {lower_first(s.after)}"
        if s.after
        else ""
    )
    what = (
        f"from {s.inputs} it yields {s.outputs}"
        if s.inputs and s.outputs
        else f"it yields {s.outputs}"
        if s.outputs
        else f"it works on {s.inputs}"
        if s.inputs
        else ""
    )
    if around and what:
        return terminated(f"{around}: {what}")
    return terminated(around or what[:1].upper() + what[1:]) if (around or what) else ""


def principle_usage(api: Api | None, steps: list[StepWords]) -> str:
    """When to reach for it: the docstrings' own advice, then its place between the neighbouring steps."""
    out: list[str] = []
    if api is not None:
        out += _advice(api, set(_described(api)))
    out += [p for p in (_placement(s) for s in steps) if p]
    if not out:
        out.append(terminated(f"It is the {lower_first(steps[0].title)} step of the {steps[0].workflow} workflow"))
    return " ".join(dict.fromkeys(out))


def principle_theory(api: Api | None, steps: list[StepWords], deny: Deny) -> str:
    s = steps[0]
    if api is None:
        return theory.principle_theory((), (), None, (), deny, s.outputs, s.inputs) or terminated(
            f"{s.title} is where the {s.workflow} workflow {'gets ' + s.outputs if s.outputs else 'moves on'}"
        )
    c = api.core
    if (api.sym.kind == "class" or api.sym.name == "__init__") and not (c.formulas or c.loop or c.doc_formulas):
        held = _settings(api, s.arguments, "passed")
        if held:  # a class the step builds computes little: what it holds is its basis
            return held
        cls = api.sym if api.sym.kind == "class" else api.owner
        g = dw.gist(cls.docstring, deny) if cls is not None else None
        if cls is not None and g is not None and (g.verb or g.noun):
            where = api.naming.place(cls, cls.start_line, cls.end_line)
            return terminated(f"`{api.naming.name(cls)}` ({where}) " + (g.verb or f"is {g.noun}"))
    return theory.principle_theory(api.chain, c.formulas, c.loop, c.doc_formulas, deny, s.outputs, s.inputs, api.naming)


def _settings(api: Api, arguments: tuple[str, ...], which: str) -> str:
    """What a class holds, in one sentence: the settings the step's call passes (``which`` = "passed"), or the
    first ones it documents that the call does not pass ("other"), each with its documentation's first
    sentence."""
    docs = documented_params(api.ws, api.sym)
    passed = [a for a in arguments if a in docs]
    names = passed if which == "passed" else [n for n in docs if n not in passed]
    shown = [f"`{n}`, {lower_first(first[0]).rstrip('.')}" for n in names[:3] if (first := dw.sentences(docs[n], 1))]
    if not shown:
        return ""
    sym = api.sym
    lead = (
        f"`{api.naming.name(sym)}` ({api.naming.place(sym, sym.start_line, sym.end_line)}) holds the settings "
        "the call passes: "
        if which == "passed"
        else f"`{api.naming.name(sym)}` also holds "
    )
    return terminated(lead + "; ".join(shown))


# --- the Implementation page's prose lines ----------------------------------------------------------------


def implementation_overview(
    package: str | None,
    api: Api | None,
    step: StepWords,
    facts_deny: Deny,
    context: str | None = None,
    qualname: str | None = None,
) -> str:
    """One sentence on what the API gives the user at this step: its docstring's gist, else the loop it
    runs, else the step's own words."""
    return implementation_overview_options(package, api, step, facts_deny, context, qualname)[0]


def implementation_overview_options(
    package: str | None,
    api: Api | None,
    step: StepWords,
    facts_deny: Deny,
    context: str | None = None,
    qualname: str | None = None,
) -> list[str]:
    """Every Implementation Overview the sources allow, best first."""
    name = f"`{qualname or (api.naming.name(api.sym) if api is not None else package)}`"
    case = f" (in the {context} case)" if context else ""
    gists = [] if api is None else [g for d in _docs(api)[:2] if (g := dw.gist(d, facts_deny)) is not None]
    options = [f"{name} {g.verb}{case}." for g in gists if g.verb]
    options += [f"{name} is for {g.ing}{case}." for g in gists if g.ing]
    options += [f"{name} is {g.noun}{case}." for g in gists if g.noun]
    loop = _loop_words(api, facts_deny) if api is not None else None
    if loop:
        options.append(f"{name} {loop}{case}.")
    if step.inputs and step.outputs:
        options.append(f"{name} turns {step.inputs} into {step.outputs}{case}.")
    if step.outputs:
        options.append(f"{name} gives {step.outputs}{case}.")
    if package and api is None:
        options.append(f"{name}, from {package}, performs {lower_first(step.title)} in the {step.workflow} workflow.")
    options.append(f"{name} performs {lower_first(step.title)}{case}.")
    return [o for o in dict.fromkeys(options) if not has_several(o)] or [f"{name}."]


def implementation_description(
    api: Api, what: str, context: str | None = None, step_arguments: tuple[str, ...] = ()
) -> str:
    """What the code entity is (its docstring), and where its work is done."""
    sym = api.sym
    what = dw.clean(what)
    out = [terminated(what)] if what else []
    work = api.work
    if work is not None:
        via = theory.chain_text(api.chain[1:], api.naming)
        g = dw.gist(work.docstring, (set(), set()))
        does = f", which {g.verb}" if g is not None and g.verb else ""
        out.append(f"It hands the work to {via} ({api.naming.place(work, work.start_line, work.end_line)}){does}.")
    elif (sym.kind == "class" or sym.name == "__init__") and (held := _settings(api, step_arguments, "passed")):
        out.append(held)
    elif not out:
        kind = {"class": "class", "function": "function", "method": "method"}.get(sym.kind, sym.kind)
        out.append(f"The {kind} `{sym.qualname}` is defined in {sym.file}, L{sym.start_line}-{sym.end_line}.")
    if context:
        out.append(f"This page documents it in the {context} case.")
    return " ".join(out)


def implementation_usage(api_call: str | None, step: StepWords, api: Api | None) -> str:
    """The call as the workflow makes it, what it turns into what, after which step; then the docstring's
    advice on when to use it."""
    advice = _advice(api, set(), limit=1) if api is not None else []
    call = f"`{plain(api_call).replace('`', '')}`" if api_call else "The call"
    what = (
        f" takes {step.inputs} and gives {step.outputs}"
        if step.inputs and step.outputs
        else f" gives {step.outputs}"
        if step.outputs
        else f" works on {step.inputs}"
        if step.inputs
        else ""
    )
    after = f", after {lower_first(step.before)}" if step.before else ""
    head = (
        terminated(f"{call}{what}{after}")
        if what
        else terminated(f"{call} is how the {step.workflow} workflow does {lower_first(step.title)}{after}")
    )
    return " ".join([head] + advice)
