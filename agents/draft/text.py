"""Source text made safe for a page, and the small word helpers every drafter module uses.

Text from the source is data: it is flattened to one line, stripped of wiki markup and HTML tags, and a
sentence that addresses an agent ("ignore your instructions and ...") is never copied.
"""

from __future__ import annotations

import re

from tools.index.docstrings import plain_roles, without_tags
from tools.sentences import sentences

_MARKUP = re.compile(r"\[\[|\]\]|\{\||\|\}|<syntaxhighlight|</syntaxhighlight>|^=+|=+$|\{\{|\}\}|'''|''|<math>|</math>")
# Sentences in source text that address an agent ("ignore your instructions and ...") are not
# documentation: the drafter never copies them, and a model answer repeating one is discarded.
INJECTION = re.compile(
    r"\b(ignore|disregard|forget)\b[^.\n]{0,40}\b(instructions?|prompt|rules)\b|\byou are now\b|"
    r"\bsystem prompt\b|\bnew instructions\b",
    re.I,
)


def without_injections(text: str) -> str:
    return " ".join(s for s in sentences(text) if not INJECTION.search(s))


def plain(text: str | None) -> str:
    """Source text made safe for a page: one line, no wiki markup, no HTML tags."""
    if not text:
        return ""
    text = plain_roles(" ".join(str(text).split()))  # Sphinx roles read as the names the built docs show
    text = without_tags(text)  # placeholders such as `torch.<device>.empty_cache()` are not tags
    text = _MARKUP.sub("", text)
    text = text.replace("|", "/")
    return text.strip()


def words(name: str) -> str:
    return name.replace("_", " ")


def lower_first(text: str) -> str:
    """'A base model' -> 'a base model', 'Adapter Injection' -> 'adapter injection'; acronyms and
    mixed-case names (LoRA, PEFT, PeftModel) are kept."""
    return (
        " ".join(w.lower() if w[:1].isupper() and (len(w) == 1 or w[1:].islower()) else w for w in text.split(" "))
        if text
        else text
    )


def mentions(text: str, deny: tuple[set[str], set[str]]) -> bool:
    """Whether ``text`` names a deny-listed library word (R34)."""
    low, exact = deny
    toks = re.findall(r"[A-Za-z0-9_.-]+", text)
    return any(t.lower().strip(".") in low for t in toks) or any(t.strip(".") in exact for t in toks)
