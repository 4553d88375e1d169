"""Read what a docstring says: its summary paragraph, per-parameter descriptions and the return.

Understands the Google style (``Args:`` / ``name (type): text``), the Hugging Face variant
(``name (`type`, *optional*, defaults to ...):`` on one line, the text indented below), NumPy
sections (``Parameters`` underlined, ``name : type`` over the text) and Sphinx fields
(``:param name:`` / ``:param type name:``). The text is data: callers sanitise it before it reaches a page.
"""

from __future__ import annotations

import inspect
import re
import textwrap
from collections.abc import Callable
from typing import NamedTuple

from tools.sentences import first_sentence as _first_sentence, sentences

_PARAM_HEADERS = {
    "args",
    "arguments",
    "parameters",
    "params",
    "keyword args",
    "keyword arguments",
    "kwargs",
    "other parameters",
    "other arguments",
    "keyword parameters",
    "attributes",
}
_RETURN_HEADERS = {"returns", "return", "yields"}
# headers that end a parameter section even when written at its entries' indent
_SECTION_NAMES = (
    _PARAM_HEADERS
    | _RETURN_HEADERS
    | {
        "raises",
        "yield",
        "examples",
        "example",
        "note",
        "notes",
        "see also",
        "warning",
        "warnings",
        "references",
        "todo",
        "return type",
        "usage",
    }
)
_HEADER = re.compile(r"^\s*([A-Za-z][A-Za-z ]*?)\s*:?\s*$")
_GOOGLE_HEADER = re.compile(r"([A-Za-z][A-Za-z ]*?)\s*:")
_WORDS = re.compile(r"[A-Za-z][A-Za-z ]*")
_UNDERLINE = re.compile(r"-{3,}|={3,}")
# `name`, `**kwargs`, `\*\*kwargs`, `` `name` ``, `a, b`: the names an entry line starts with
_NAME = r"(?:\\?\*){0,2}`?[A-Za-z_]\w*`?"
_ENTRY_NAMES = re.compile(rf"^({_NAME}(?:\s*,\s*{_NAME})*)")
# `name (type): text`, `name: text`, or the Hugging Face `name (`type`, *optional*)` with the text below
_ENTRY = re.compile(r"^(\*{0,2}[A-Za-z_]\w*)\s*(?:(\(.*\))\s*:?|:)\s*(.*)$")
# where an unbalanced or wrapped type ends: `...)`:` or `...`:`
_TYPE_END = re.compile(r"[)`]\s*:(?=\s|$)")
_SPHINX = re.compile(
    r"^:(?:param|parameter|arg|argument|key|keyword)\s+(?:(?P<type>[^:]+?)\s+)?"
    r"(?P<name>(?:\\?\*){0,2}\w+)\s*:(?!:)\s*(?P<text>.*)$"
)
# what states a default: "defaults to", "will default to", "default:", "default=", "Default is",
# "(default 8)", "the default value is"; not "by default", which usually says what happens
DEFAULT_CLAUSE = re.compile(
    r"\bdefaults?\s+(?:to|is|=|:)|\bdefault\s*[:=]|\bdefault\s+value\s+(?:is|of)\b|"
    r"\(\s*default\b",
    re.I,
)
# a parenthesised aside, one level of nesting allowed: "(default: `f(x)`)", "(defaults to 8)", "(default)"
_PARENS = re.compile(r"\s*\((?:[^()]|\([^()]*\))*\)")
# the separator before a trailing default clause: "The rank, defaults to 8."
_CLAUSE_SEP = re.compile(
    r"\s*(?:[,;:]|\s[-\u2013\u2014]{1,2})\s*(?:and\s+|which\s+|it\s+|this\s+|will\s+|if\s+\w+\s+)*"
    r"(?:\w+\s+){0,3}$",
    re.I,
)
_CONDITION = re.compile(r"^(?:if|when|unless|in case|otherwise)\b", re.I)
_SPHINX_FIELD = re.compile(r"^:\w+(?:\s+[^:]+)?:")
_MAX = 240


# a Sphinx cross-reference role: :class:`Response`, :py:meth:`~Session.request`, :func:`get <requests.get>`
_ROLE = re.compile(r":(?:[A-Za-z][\w-]*:)?[A-Za-z][\w-]*:`(?P<body>[^`\n]+)`")
_TITLED = re.compile(r"^(?P<title>.*?)\s*<[^<>]+>$")


def _role_text(m: re.Match[str]) -> str:
    body = m.group("body").strip()
    titled = _TITLED.match(body)
    if titled and titled.group("title"):
        return titled.group("title")  # the text Sphinx shows: the explicit title
    body = body.lstrip("!")  # "!" only stops Sphinx making a link
    return body.rsplit(".", 1)[-1] if body.startswith("~") else body  # "~a.b.C" shows as "C"


def plain_roles(text: str) -> str:
    """Sphinx roles rendered as the names a reader sees in the built docs: ``Returns :class:`Response`
    object.`` → ``Returns Response object.``; ``:meth:`~Session.request` `` → ``request``; an explicit
    title wins (``:class:`Request <Request>` `` → ``Request``). Field lists (``:param x:``) are not roles
    and stay."""
    return _ROLE.sub(lambda m: _role_text(m).lstrip("~"), text)


_CODE_SPAN = re.compile(r"`[^`\n]*`")
# what docstrings use as HTML: a closing tag, a tag with attributes or self-closing, or an element name
# of HTML or of the documentation builders (Hugging Face's <Tip>, <hfoptions>); anything else in angle
# brackets is a placeholder the reader must see (`torch.<device>.empty_cache()`, model.<variant>.bin)
_HTML_NAMES = (
    "a abbr b blockquote br caption center code dd del details div dl dt em figcaption figure font h1 h2 h3 h4 "
    "h5 h6 hr i img ins kbd li ol p pre q s samp small span strike strong sub summary sup table tbody td tfoot "
    "th thead tr tt u ul var video source iframe tip hfoption hfoptions youtube add_code_sample_docstrings"
)
_TAG = re.compile(
    r"</[A-Za-z][\w:-]*\s*>|<[A-Za-z][\w:-]*(?:\s+[^<>]*?)?/>|<[A-Za-z][\w:-]*\s+[^<>]*=[^<>]*>|"
    rf"<(?:{'|'.join(_HTML_NAMES.split())})>",
    re.I,
)


def outside_code(text: str, change: Callable[[str], str]) -> str:
    """``change`` applied to the text between back-tick code spans; the spans are kept as written."""
    out: list[str] = []
    last = 0
    for m in _CODE_SPAN.finditer(text):
        out.append(change(text[last : m.start()]))
        out.append(m.group(0))
        last = m.end()
    out.append(change(text[last:]))
    return "".join(out)


def without_tags(text: str) -> str:
    """HTML tags removed outside code spans; angle-bracket placeholders (``<device>``) kept."""
    return outside_code(text, lambda part: _TAG.sub("", part))


def summary(doc: str | None) -> str:
    """The first paragraph, on one line."""
    if not doc:
        return ""
    para = inspect.cleandoc(doc).split("\n\n", 1)[0]
    return " ".join(para.split())


def first_sentence(text: str) -> str:
    """The first sentence (tools.sentences) on one line, cut at a word past _MAX characters."""
    first = _first_sentence(" ".join(text.split()))
    return first if len(first) <= _MAX else first[:_MAX].rsplit(" ", 1)[0] + " …"


def _sections(doc: str) -> dict[str, list[str]]:
    lines = inspect.cleandoc(doc).splitlines()
    out: dict[str, list[str]] = {}
    current = None
    i = 0
    while i < len(lines):
        line = lines[i]
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        m = _HEADER.match(line)
        if m and not line.startswith((" ", "\t")):
            name = m.group(1).strip().lower()
            if line.rstrip().endswith(":") or re.fullmatch(r"-{3,}", nxt.strip()):
                current = name
                out.setdefault(current, [])
                if re.fullmatch(r"-{3,}", nxt.strip()):
                    i += 1
                i += 1
                continue
        if current is not None:
            if line.strip() and not line.startswith((" ", "\t")) and not _ENTRY.match(line):
                current = None
            else:
                out[current].append(line)
        i += 1
    return out


def prose_text(doc: str | None) -> str:
    """The docstring's prose: what comes before its first section (``Args:``, ``Returns``, a Sphinx
    field), on one line."""
    if not doc:
        return ""
    lines = inspect.cleandoc(doc).expandtabs().splitlines()
    kept: list[str] = []
    for i, line in enumerate(lines):
        header = _header(lines, i)
        if header is not None and (header[1] or header[0] in _SECTION_NAMES) or _SPHINX_FIELD.match(line.strip()):
            break
        kept.append(line)
    return " ".join(" ".join(kept).split())


def param_docs(doc: str | None) -> dict[str, str]:
    """name -> first sentence of its description."""
    out = {k: first_sentence(v) for k, v in param_entries(doc).items()}
    return {k: v for k, v in out.items() if v}


def param_entries(doc: str | None) -> dict[str, str]:
    """name -> the full text the docstring gives the parameter (the first entry wins; stars and
    escapes dropped from the name, so ``**kwargs`` is ``kwargs``). Paragraph breaks and the
    relative indentation of lists are kept; nothing is cleaned: the text is data."""
    if not doc:
        return {}
    lines = inspect.cleandoc(doc).expandtabs().splitlines()
    out: dict[str, str] = {}
    i = 0
    while i < len(lines):
        s = lines[i].strip()
        header = _header(lines, i)
        if header is not None and header[0] in _PARAM_HEADERS:
            i = _read_section(lines, i + (2 if header[1] else 1), _indent(lines[i]), header[1], out)
            continue
        m = _SPHINX.match(s)
        if m:
            i = _read_sphinx(lines, i, m, out)
            continue
        i += 1
    return out


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _header(lines: list[str], i: int) -> tuple[str, bool] | None:
    """(section name, underlined) when line i opens a Google (``Args:``) or NumPy (``Parameters``
    over dashes) section."""
    s = lines[i].strip()
    nxt = lines[i + 1].strip() if i + 1 < len(lines) else ""
    if _UNDERLINE.fullmatch(nxt) and _WORDS.fullmatch(s):
        return s.lower(), True
    m = _GOOGLE_HEADER.fullmatch(s)
    return (m.group(1).strip().lower(), False) if m else None


def _names_of(text: str) -> list[str]:
    return [n.replace("\\", "").lstrip("*").strip("`") for n in re.split(r"\s*,\s*", text)]


def _closing_paren(text: str) -> int:
    depth = 0
    for k, ch in enumerate(text):
        depth += ch == "("
        depth -= ch == ")"
        if depth == 0:
            return k
    return -1


def _entry(s: str, numpy: bool) -> tuple[list[str], str, int] | None:
    """(names, text on the entry's own line, parentheses its type leaves open) when ``s`` starts a
    parameter entry. Real types are often unbalanced (``(`int)`:``) or wrapped onto the next line."""
    m = _ENTRY_NAMES.match(s)
    if m is None:
        return None
    names = _names_of(m.group(1))
    rest = s[m.end() :].lstrip()
    if numpy and (not rest or rest.startswith(":") and not rest.startswith("::")):
        return names, "", 0  # `name : type`: the type line; the text is below it
    if rest.startswith("("):
        end = _closing_paren(rest)
        if end < 0:
            close = _TYPE_END.search(rest)
            return (names, rest[close.end() :].strip(), 0) if close else (names, "", _depth(rest))
        after = rest[end + 1 :].lstrip(" `")  # `(`dict`)`:` : a stray back-tick after the type
        if after.startswith(":"):
            return names, after[1:].strip(), 0
        if not after or after.endswith(":"):  # the text below; `(`int`) of shape [n]:` is still the type
            return names, "", 0
        shape = re.match(r"[^:]*:\s", after)  # `(`int`) of shape [n]: text`
        return (names, after[shape.end() :].strip(), 0) if shape else None
    if rest.startswith(":") and not rest.startswith("::"):
        return names, rest[1:].strip(), 0
    return None


def _depth(text: str) -> int:
    return text.count("(") - text.count(")")


def _store(out: dict[str, str], names: list[str], first: str, body: list[str]) -> None:
    while body and not body[-1].strip():
        body.pop()
    cont = textwrap.dedent("\n".join(body)).strip("\n")
    text = "\n".join(t for t in (first, cont) if t).strip()
    if text:
        for name in names:
            if name:
                out.setdefault(name, text)


def _read_section(lines: list[str], start: int, header_indent: int, numpy: bool, out: dict[str, str]) -> int:
    """Read the entries of one parameter section into ``out``; the index of the line after it."""
    j = start
    while j < len(lines) and not lines[j].strip():
        j += 1
    if j >= len(lines):
        return j
    base = _indent(lines[j])
    if base < header_indent or (base == header_indent and not numpy and _entry(lines[j].strip(), False) is None):
        return j
    names: list[str] | None = None
    first, open_parens, body = "", 0, []
    while j < len(lines):
        line = lines[j]
        s = line.strip()
        if not s:
            body.append("")
            j += 1
            continue
        ind = _indent(line)
        if ind < base or (ind == base and _is_section(lines, j)):
            break
        close = _TYPE_END.search(s) if names is not None and open_parens > 0 and not body else None
        if close and -_depth(s[: close.start() + 1]) >= open_parens:
            first, open_parens = s[close.end() :].strip(), 0  # the end of a type wrapped onto this line
        elif ind == base:
            e = _entry(s, numpy)
            if e is not None:
                if names is not None:
                    _store(out, names, first, body)
                names, first, open_parens, body = e[0], e[1], e[2], []
            elif names is not None and (body[-1].strip() if body else first):
                body.append(line)  # a wrapped line written at the entry's own indent
            else:
                break
        elif names is not None:
            body.append(line)
            open_parens = 0
        j += 1
    if names is not None:
        _store(out, names, first, body)
    return j


def _is_section(lines: list[str], j: int) -> bool:
    # `kwargs:` alone at the entries' indent is an entry for **kwargs, not a new section
    header = _header(lines, j)
    return header is not None and (header[1] or header[0] in _SECTION_NAMES - {"args", "kwargs", "params"})


def _read_sphinx(lines: list[str], i: int, m: re.Match[str], out: dict[str, str]) -> int:
    """``:param name: text`` and the lines indented under it."""
    ind = _indent(lines[i])
    j, body = i + 1, []
    while j < len(lines):
        line = lines[j]
        if line.strip() and (_indent(line) <= ind or line.strip().startswith(":")):
            break
        body.append(line)
        j += 1
    _store(out, _names_of(m.group("name")), m.group("text").strip(), body)
    return j


def states_default(text: str) -> bool:
    """Whether ``text`` says what a parameter defaults to ("defaults to `x`", "Default: x",
    "(default 8)", "Default is x", "the default value is x")."""
    return DEFAULT_CLAUSE.search(text) is not None


def without_default(text: str) -> str:
    """``text`` without the sentences or clauses that state a default: a page row adds its own
    ``Default: `x`.`` from the signature (R26), which is the truth when the prose has gone stale.
    A parenthesised clause is dropped, a trailing ``, defaults to x`` is cut, a sentence that is
    only about the default is dropped whole."""
    out = []
    for sentence in sentences(" ".join(text.split())):
        if not states_default(sentence):
            out.append(sentence)
            continue
        sentence = _PARENS.sub(lambda m: "" if states_default(m.group(0)) else m.group(0), sentence)
        m = DEFAULT_CLAUSE.search(sentence)
        if m is None:
            out.append(sentence)
            continue
        head = sentence[: m.start()]
        cut = _CLAUSE_SEP.search(head)
        kept = head[: cut.start()].strip() if cut else ""
        if len(kept.split()) >= 2 and not _CONDITION.match(kept):
            out.append(kept.rstrip(" ,;:") + ".")
    return " ".join(out)


class ReturnsEntry(NamedTuple):
    """What a docstring's Returns section says: the type it names (None when it names none) and its text."""

    type: str | None
    text: str


# what a Returns section's leading type may be made of: `code`, [`refs`], dotted names, brackets, "or", "of"
_TYPE_CHARS = r"[\w.\[\](),|~`'\"]"
_RETURN_TYPE = re.compile(
    rf"^((?:{_TYPE_CHARS}+)(?:\s+(?:or|of)\s+{_TYPE_CHARS}+|\s*,\s*{_TYPE_CHARS}+)*)\s*:\s+(.*)$", re.S
)
_RTYPE = re.compile(r"^:rtype:\s*(.+)$", re.M)
_SPHINX_RETURNS = re.compile(r"^:returns?:\s*(.+?)(?=^:\w|\Z)", re.M | re.S)
_XREF_NAME = re.compile(r"\[`~?([^`\]]+)`\]")
_PLAIN_TYPE = re.compile(r"[A-Za-z_][\w.]*(?:[\[(][\w., \[\]()|]*[\])])?")


def _type_name(text: str) -> str | None:
    """A Returns section's type written the way annotations are: [`~a.B`] → B, `x.Y` → x.Y, "A or B" →
    ``A | B``; None when it is not made of type names (a sentence that happens to hold a colon)."""
    text = _XREF_NAME.sub(lambda m: m.group(1).split(".")[-1] if "~" in m.group(0) else m.group(1), text)
    parts = [p.strip().strip("`").strip() for p in re.split(r"\s+or\s+", text)]
    if not parts or not all(_PLAIN_TYPE.fullmatch(p) for p in parts):
        return None
    if len(parts) == 1 and not re.search(r"[`\[]", text) and not _PLAIN_TYPE.fullmatch(text.strip()):
        return None
    return " | ".join(parts)


def returns_entry(doc: str | None) -> ReturnsEntry:
    """The Returns section (Google ``Returns:``, NumPy ``Returns`` over dashes, Sphinx ``:returns:`` /
    ``:rtype:``) as (type, text); the text is raw source text on one line."""
    if not doc:
        return ReturnsEntry(None, "")
    for name, body in _sections(doc).items():
        if name not in _RETURN_HEADERS:
            continue
        lines = [l for l in body if l.strip()]
        if not lines:
            break
        first = lines[0].strip()
        numpy = re.fullmatch(r"(?:(\w+)\s*:\s*)?([\w.\[\], |]+)", first)
        if numpy and len(lines) > 1 and _indent(lines[1]) > _indent(lines[0]):  # `name : type` over its text
            return ReturnsEntry(_type_name(numpy.group(2)), " ".join(l.strip() for l in lines[1:]))
        text = " ".join(l.strip() for l in lines)
        m = _RETURN_TYPE.match(text)
        if m:
            typ = _type_name(m.group(1))
            if typ is not None:
                return ReturnsEntry(typ, m.group(2).strip())
        return ReturnsEntry(None, text)
    cleaned = inspect.cleandoc(doc)
    rtype = _RTYPE.search(cleaned)
    said = _SPHINX_RETURNS.search(cleaned)
    if rtype or said:
        return ReturnsEntry(
            _type_name(rtype.group(1).strip()) if rtype else None, " ".join(said.group(1).split()) if said else ""
        )
    return ReturnsEntry(None, "")


def returns_doc(doc: str | None) -> str:
    """The first sentence of what the Returns section says (its leading type left out)."""
    text = returns_entry(doc).text
    return first_sentence(text) if text else ""
