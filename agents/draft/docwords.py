"""What a docstring says, in words a page can use: its prose sentences made page-safe, and the gist of its
first usable sentence as a verb, noun or gerund phrase (``Returns a model object from a model and a
config.`` → "returns a model object from a model and a config").

An Overview must name no library (R34): docstring text is *generalised* for it: a code name becomes its
words (``LoraModel`` → "lora model"), a library word used as a modifier is dropped ("a Peft model" → "a
model"), and a clause that still names the library is cut. Source text is data: it is flattened, stripped
of markup and of sentences that address an agent before it reaches a page.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass

from agents.draft.text import mentions, plain, without_injections
from agents.verify.rules.page_rules import (
    _SECRETS as SECRETS,  # R36's patterns: never copy a credential
)
from tools.index import outline as _outline
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
# first words that cannot be a verb in the third person: prepositions, conjunctions, articles' company
_NOT_LEADING_VERBS = {
    "from",
    "for",
    "in",
    "on",
    "with",
    "by",
    "to",
    "at",
    "of",
    "if",
    "given",
    "using",
    "based",
    "after",
    "before",
    "during",
    "once",
    "only",
    "also",
    "then",
    "internal",
    "private",
}
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
    return plain(without_injections(" ".join(text.split())))


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
        if len(re.findall(r"(?:^|\s)\d+[.)]\s", para)) >= 2:
            continue  # an inline numbered list: its items make no sentences on their own
        text = clean(para)
        if text:
            out.append(text)
    return out


def first_paragraph(doc: str | None) -> str:
    """The docstring's first prose paragraph (its summary)."""
    paras = prose_paragraphs(doc)
    return paras[0] if paras else ""


# a sentence that points at a block the page does not carry ("use the following code")
_POINTS_AWAY = re.compile(r"\b(the following|as follows|below|this example|see example)\b", re.IGNORECASE)
# a note to whoever subclasses the API, not to its user
_FOR_SUBCLASSES = re.compile(
    r"\b(override|overridden|overriding|subclass(es)? (must|should|can)|must be implemented|to be implemented)\b",
    re.IGNORECASE,
)


def sentences(doc: str | None, limit: int = 6) -> list[str]:
    """Whole sentences of the docstring's prose; one that holds a credential is never copied (R36), nor a
    note to subclass authors."""
    out: list[str] = []
    for para in prose_paragraphs(doc):
        for s in split_sentences(para):
            if re.search(r"(^|\s)\d+[.)]$|^\d+[.)]\s", s):
                continue  # a piece of an inline numbered list: without its item it misleads
            if (
                len(s.split()) >= 3
                and not s.endswith(":")
                and not SECRETS.search(s)
                and not _FOR_SUBCLASSES.search(s)
                and not _POINTS_AWAY.search(s)
            ):
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
    return not mentions(text, deny)


def gist(doc: str | None, deny: Deny) -> Gist | None:
    """The verb (or noun) phrase of the first docstring sentence that can be said without library names."""
    for s in sentences(doc, limit=3):
        g = _gist_of(s.rstrip("."), deny)
        if g is not None:
            return g
    return None


def _gist_of(s: str, deny: Deny) -> Gist | None:
    if re.match(
        r"^(note|warning|deprecated|for a given|see|example|todo|e\.g|same|similar|identical|equivalent|like|how|what|why|when|where|which|whether)\b",
        s,
        re.IGNORECASE,
    ):
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
    if first.lower() in _NOT_LEADING_VERBS or (first.lower().endswith("ed") and not first.lower().endswith("eed")):
        return None  # "From a name, resolve …", "Prepared inputs …": no verb leads the sentence
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
