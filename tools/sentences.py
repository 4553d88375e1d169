"""Where one sentence of prose ends and the next begins: the one rule the drafter and the verifier share.

The drafter copies docstring sentences onto a page and the verifier counts and compares the sentences
on it (R33: an Overview is one sentence; R49: no sentence said twice in a paragraph). Both must cut
the text at the same places, or a page the drafter thinks is fine fails verification.

A sentence ends at ``.``, ``!`` or ``?`` (with any closing quotes or brackets right after it) followed
by white space and something that can open a sentence: a capital letter, a back-ticked name
(```model.eval()` returns``), an opening bracket or a quote. A lower-case word or a digit after the
stop does not open one (``e.g. the rank``, ``defaults to 0. 5 is``), and a stop with no white space
after it ends nothing: ``v0.18.1``, ``0.5``, ```obj.method()```. Back-ticks are not paired up (in
docstrings they are unbalanced too often to be trusted), so a code span that holds ``. X`` is cut
like prose. Not a sentence end either, whatever follows:

* the full stop of an abbreviation that never closes a sentence: ``e.g.``, ``i.e.``, ``vs.``, ``cf.``,
  ``et al.``, ``Eq.``, ``Fig.`` … and any dotted run of single letters (``a.k.a.``, ``U.S.``);
* the full stop of an initial, one capital letter, unless the word before it is in lower case (``Aidan N.
  Gomez`` and ``Hu, E. J.`` hold initials, ``the rank R. Then`` ends on a variable).

``etc.`` is an ordinary word: it ends a sentence when the next word opens one, as it mostly does.
White space is kept as written inside a sentence; line breaks are white space like any other, so a
caller that treats a line or a paragraph as a unit splits it first.
"""

from __future__ import annotations

import re

# terminal marks (a run: "?!", "..."), closing quotes and brackets, the gap, and what opens the next one
_BREAK = re.compile(r"[.!?]+[\"')\]]*(\s+)(?=[A-Z`(\[\"'])")
# what may stand right before a word (a word glued to a digit, `_` or a back-tick is code, not a word)
_BEFORE_WORD = frozenset(" \t\n\r\f\v([\"'/-")
# abbreviations that do not end a sentence even before a capital ("e.g. LoRA", "Eq. (3)", "et al. (2021)")
ABBREVIATIONS = frozenset(
    {
        "e.g",
        "eg",
        "i.e",
        "ie",
        "cf",
        "vs",
        "viz",
        "al",
        "approx",
        "incl",
        "resp",
        "eq",
        "eqs",
        "fig",
        "figs",
        "sec",
        "ref",
        "refs",
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
    }
)
_DOTTED = re.compile(r"[A-Za-z](?:\.[A-Za-z])+")
_LAST_WORD = re.compile(r"(\S+)\s+$")


def _no_end(text: str, stop: int) -> bool:
    """Whether the full stop at ``stop`` closes an abbreviation or an initial rather than a sentence."""
    start = stop
    while start > 0 and (text[start - 1].isascii() and text[start - 1].isalpha() or text[start - 1] == "."):
        start -= 1
    word = text[start:stop].strip(".")
    if not word or (start > 0 and text[start - 1] not in _BEFORE_WORD):
        return False
    if word.lower() in ABBREVIATIONS or _DOTTED.fullmatch(word) is not None:
        return True
    return len(word) == 1 and word.isupper() and not _after_lower_word(text, start)


def _after_lower_word(text: str, start: int) -> bool:
    """Whether the word before ``start`` opens with a small letter or a digit: "of rank R." ends a
    sentence on a variable, "Aidan N. Gomez" and "Hu, E. J." hold initials."""
    m = _LAST_WORD.search(text, max(0, start - 80), start)
    return m is not None and (m.group(1)[:1].islower() or m.group(1)[:1].isdigit())


def breaks(text: str) -> list[tuple[int, int]]:
    """The (start, end) of every gap between two sentences of ``text``, in order."""
    out: list[tuple[int, int]] = []
    for m in _BREAK.finditer(text):
        if text[m.start()] == "." and m.group(0)[:2] != ".." and _no_end(text, m.start()):
            continue
        out.append(m.span(1))
    return out


def sentences(text: str) -> list[str]:
    """The sentences of ``text``, each stripped; none when it is blank."""
    out: list[str] = []
    start = 0
    for gap_start, gap_end in breaks(text):
        out.append(text[start:gap_start].strip())
        start = gap_end
    out.append(text[start:].strip())
    return [s for s in out if s]


def first_sentence(text: str) -> str:
    """The first sentence of ``text`` ("" when it is blank)."""
    found = breaks(text)
    return (text[: found[0][0]] if found else text).strip()


def has_several(text: str) -> bool:
    """Whether ``text`` holds more than one sentence (R33's test of an Overview)."""
    return len(sentences(text)) > 1


def terminated(text: str) -> str:
    """``text`` ending with a sentence mark: a full stop is added unless ``.``, ``!`` or ``?`` closes it."""
    return text if not text or text[-1] in ".!?" else text + "."
