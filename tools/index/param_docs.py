"""What the source says about each parameter of an API, and the line an Inputs row makes of it.

``documented_params`` gathers every description the source gives (RULES.md R48): the symbol's
docstring as ``help()`` shows it (with the text docstring decorators add: tools.index.runtime_doc),
then — for a method — the same-named method's in its class's bases; for a class (or its ``__init__``,
or its ``__call__``: calling the object is how the class is used) the class docstring, ``__init__``'s,
and a dataclass field's ``metadata={"help": ...}``, along the MRO; a docstring a class-level function
installs on the method (``C = auto_class_update(C)``); then the API a docstring sends the
reader to for its arguments ("For the description of each arg, see [`X.f`]"); last, a sentence of the
docstring's prose that names the parameter in back-ticks. The drafter writes from it and the verifier
checks against it, so both read one definition of "documented".

``param_description`` turns one such text into a row's Description: the first sentence, in plain
words (docstring markup resolved), without the source's own default clause — the row adds
``Default: `x`.`` from the signature (R26).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from tools.index.docstrings import first_sentence, outside_code, param_entries, prose_text, without_default
from tools.index.facts import is_dataclass
from tools.index.records import Symbol
from tools.index.runtime_doc import installed_docstring, runtime_docstring
from tools.sentences import sentences
from tools.index.workspace import Workspace
from tools import pyast

# Hugging Face cross references: [`~peft.PeftModel`] -> `PeftModel`, [`Trainer`] -> `Trainer`
_XREF = re.compile(r"\[`(~?)([^`\]]+)`\]")
_LINK = re.compile(r"\[([^\]\[]+)\]\((?:https?://|#)[^)\s]*\)")
_ROLE = re.compile(r":(?:py:)?(?:class|obj|func|meth|attr|mod|data|exc|const|ref|term|paramref):`(~?)([^`]+)`")
_RST_CODE = re.compile(r"``([^`]+)``")
_BOLD = re.compile(r"\*\*([^*\s](?:[^*]*[^*\s])?)\*\*")
_ITALIC = re.compile(r"(?<![\w*])\*([^*\s](?:[^*]*[^*\s])?)\*(?![\w*])")
# what a repair asking for bare text removes: every character wiki or Markdown markup is made of
_BARE = re.compile(r"[*`#=<>\[\]{}~^\\|]")
_SHOWS_ONLY_DEFAULT = "Its source description states only the default."


def field_help(value: str | None) -> str | None:
    """The ``help`` text of ``field(..., metadata={"help": ...})`` (or ``metadata=dict(help=...)``)
    given as the field's value source text; literal parts of a concatenation are joined."""
    if not value or "help" not in value:
        return None
    try:
        node = pyast.parse(value.strip(), mode="eval").body
    except SyntaxError:
        return None
    if not (isinstance(node, ast.Call) and ast.unparse(node.func).split(".")[-1] == "field"):
        return None
    meta = next((k.value for k in node.keywords if k.arg == "metadata"), None)
    if isinstance(meta, ast.Dict):
        for key, val in zip(meta.keys, meta.values):
            if isinstance(key, ast.Constant) and key.value == "help":
                return _literal_text(val)
    if isinstance(meta, ast.Call) and ast.unparse(meta.func) == "dict":
        return next((_literal_text(k.value) for k in meta.keywords if k.arg == "help"), None)
    return None


def _literal_text(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) else None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _literal_text(node.left), _literal_text(node.right)
        return left + right if left is not None and right is not None else None
    if isinstance(node, ast.JoinedStr):  # f"...{x}...": the placeholders stay as written
        # the literal parts of an f-string are str constants: str() only tells mypy so
        return "".join(
            str(v.value) if isinstance(v, ast.Constant) else "{" + ast.unparse(v.value) + "}"
            for v in node.values
            if isinstance(v, (ast.Constant, ast.FormattedValue))
        )
    return None


def _method(ws: Workspace, klass: Symbol, name: str) -> Symbol | None:
    return ws.index.definition(klass.module, f"{klass.qualname}.{name}")


def _class_texts(ws: Workspace, cls: Symbol) -> Iterator[dict[str, str]]:
    """Along the MRO: each class's docstring, its own ``__init__``'s, its dataclass field help."""
    for klass in ws.names.mro(cls):
        yield param_entries(runtime_docstring(ws, klass))
        init = _method(ws, klass, "__init__")
        if init is not None:
            yield param_entries(runtime_docstring(ws, init))
        if is_dataclass(klass):
            yield {f.name: h for f in klass.fields if (h := field_help(f.value))}


def _sources(ws: Workspace, sym: Symbol) -> Iterator[dict[str, str]]:
    if sym.kind == "class":
        yield from _class_texts(ws, sym)
        return
    doc = runtime_docstring(ws, sym)
    yield param_entries(doc)
    owner = ws.index.definition(sym.module, sym.parent) if sym.kind == "method" and sym.parent else None
    if owner is not None and owner.kind == "class":
        if sym.name == "__init__":  # a constructor is documented by its class as much as by itself
            yield from _class_texts(ws, owner)
        else:
            for klass in ws.names.mro(owner)[1:]:
                base = _method(ws, klass, sym.name)
                if base is not None:
                    yield param_entries(runtime_docstring(ws, base))
            if sym.name == "__call__":  # `obj(...)`: the class docstring describes what the call takes
                yield from _class_texts(ws, owner)
        for klass in ws.names.mro(owner):  # a docstring installed on the method by a class-level function
            yield param_entries(installed_docstring(ws, klass, sym.name))
    for ref in _argument_references(ws, sym, doc):
        yield param_entries(runtime_docstring(ws, ref))
    yield _prose_mentions(doc, [p.name for p in sym.params])


# "For the description of each arg, see [`PreTrainedModel.from_pretrained`]": where the arguments are documented
_SEE = re.compile(r"\bsee\b|\brefer to\b|\bsame as\b|\bdocumented in\b", re.I)
_ARGUMENTS = re.compile(r"\b(?:arg|args|argument|arguments|param|params|parameters?|kwargs)\b", re.I)
_REFERENCE = re.compile(r"\[`~?([\w.]+)`\]|:(?:py:)?(?:meth|func|class):`~?([\w.]+)`|`([\w.]+\.[\w]+)`")


def _argument_references(ws: Workspace, sym: Symbol, doc: str | None) -> list[Symbol]:
    """The definitions a docstring's prose sends the reader to for the arguments."""
    out: list[Symbol] = []
    for sentence in sentences(prose_text(doc)):
        if not (_SEE.search(sentence) and _ARGUMENTS.search(sentence)):
            continue
        for m in _REFERENCE.finditer(sentence):
            target = _reference(ws, sym.module, next(g for g in m.groups() if g))
            if target is not None and target.kind != "class" and target not in out and target != sym:
                out.append(target)
    return out


def _reference(ws: Workspace, module: str, ref: str) -> Symbol | None:
    """``Class.method`` / ``module.Class.method`` / ``function`` as a docstring writes it: resolved in the
    module, else in its top-level package, else through the one class (or the one module-level function) of the repository so named."""
    for scope in (module, module.split(".")[0]):  # Hugging Face's [`X`] names X as the package exports it
        found = ws.names.resolve_dotted(scope, ref)
        if isinstance(found, Symbol):
            return found
    parts = ref.split(".")
    if len(parts) >= 2:
        classes = [s for s in ws.index.by_name.get(parts[-2], []) if s.kind == "class"]
        if len(classes) == 1:
            return ws.names.member(classes[0], parts[-1])
    functions = [s for s in ws.index.by_name.get(parts[-1], []) if s.kind == "function" and s.parent is None]
    return functions[0] if len(functions) == 1 else None


def _prose_mentions(doc: str | None, names: list[str]) -> dict[str, str]:
    """Parameter → the first sentence of the docstring's prose that names it in back-ticks (`` `x` `` or
    `` `x=...` ``): what a docstring without an entry for it still says."""
    out: dict[str, str] = {}
    said = sentences(prose_text(doc))
    for name in names:
        mention = re.compile(rf"`{re.escape(name)}(?:\s*=[^`]*)?`")
        hit = next((s for s in said if mention.search(s)), None)
        if hit is not None:
            out[name] = hit
    return out


def documented_params(ws: Workspace, sym: Symbol) -> dict[str, str]:
    """Parameter name -> the first full description the source gives it (see the module doc).
    Names are as an Inputs row writes them (``kwargs`` for ``**kwargs``); the text is raw source
    text: the caller sanitises it before it reaches a page."""
    out: dict[str, str] = {}
    for texts in _sources(ws, sym):
        for name, text in texts.items():
            if text.strip():
                out.setdefault(name, text)
    return out


def doc_text(text: str) -> str:
    """Docstring markup resolved to what a reader sees: cross references and roles to the
    back-ticked name, links to their text, emphasis to plain words, on one line."""
    text = _XREF.sub(lambda m: f"`{m.group(2).split('.')[-1] if m.group(1) else m.group(2)}`", text)
    text = _ROLE.sub(lambda m: f"`{m.group(2).split('.')[-1] if m.group(1) else m.group(2)}`", text)
    text = _LINK.sub(r"\1", text)
    text = _RST_CODE.sub(r"`\1`", text)
    # emphasis is prose markup: inside a code span (`*args`, `a*b*c`) the stars are the code
    text = outside_code(text, lambda part: _ITALIC.sub(r"\1", _BOLD.sub(r"\1", part)))
    return " ".join(text.split())


def bare_text(text: str) -> str:
    """``text`` without any character wiki or Markdown markup is made of (a repair's last resort)."""
    return " ".join(_BARE.sub("", text).split())


def param_description(text: str, bare: bool = False) -> str:
    """An Inputs row's Description from a source description: its first sentence in plain words,
    the source's own default clause dropped. ``bare`` (a repair after markup rules failed) also
    removes every markup character. Never empty for a non-empty source text."""
    cleaned = without_default(doc_text(text))
    if bare:
        cleaned = bare_text(cleaned)
    return first_sentence(cleaned) if cleaned.strip() else (_SHOWS_ONLY_DEFAULT if text.strip() else "")
