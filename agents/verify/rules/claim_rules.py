"""R50: prose names only APIs that exist.

A page's prose (Overview, Description, Usage, Theoretical Basis outside ``<math>`` and code, the
Inputs/Outputs descriptions) may mention code, back-ticked or not. Every token that looks like an
API — a dotted name (``peft.magic_merge_all``, ``PeftModel.turbo_quantize``), a call (``merge_all(``),
a snake_case word (``merge_all_adapters``) — must be found: in the words of the source tree (its
names, docstrings, comments, strings), in another package the repository imports (not checkable
here, so accepted), in Python's builtins and standard library, or in the page itself (its code
blocks, the wiki's page names) and its WorkflowIndex step. A token found nowhere is an invented API,
the worst thing a page can say. Bare CamelCase words are not checked: prose is full of product names
(PyTorch, HuggingFace) that look the same.
"""

from __future__ import annotations

import builtins
import re
import sys
from collections.abc import Set

from agents.verify.findings import Finding, finding
from agents.verify.context import Context, _per_source
from tools.index.workspace import Workspace
from tools.wiki.page import Page

PROSE_SECTIONS = ("Overview", "Description", "Usage", "Theoretical Basis", "Inputs", "Outputs", "Constraints")
_SKIP = re.compile(
    r"<syntaxhighlight[^>]*>.*?</syntaxhighlight>|<math>.*?</math>|\[\[[^\]]*\]\]|"
    r"\[https?://[^\]]*\]|https?://\S+",
    re.S,
)
_DOTTED = re.compile(r"(?<![\w./-])([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)(\s*\()?")
_CALL = re.compile(r"(?<![\w.])([A-Za-z_]\w*)\(")
_SNAKE = re.compile(r"(?<![\w./-])([a-z][a-z0-9]*(?:_[a-z0-9]+)+)(?![\w-])")
# a symbol of a formula written in prose ("where x_i is an input", "f_θ(x)"): one letter with a short
# subscript, which no API is named like
_SYMBOL = re.compile(r"[A-Za-z\u0370-\u03ff]_[A-Za-z0-9\u0370-\u03ff]{1,3}")
_FILE_EXT = {
    "py",
    "json",
    "md",
    "txt",
    "yaml",
    "yml",
    "bin",
    "safetensors",
    "pt",
    "pth",
    "gguf",
    "csv",
    "ipynb",
    "toml",
    "cfg",
    "html",
    "js",
    "ts",
    "sh",
    "onnx",
    "h5",
    "ckpt",
    "zip",
    "gz",
    "tar",
    "model",
}
_ABBREV = {"e.g", "i.e", "etc", "vs", "cf", "a.k.a", "et.al"}


def _known(ws: Workspace) -> set[str]:
    """Every word of the source tree's Python files: names it defines or binds, its parameters and
    fields, and the words of its docstrings, comments and string literals (option values such as
    ``dare_ties_svd``, attribute names such as ``name_or_path``). An API a page invents is in none of
    them; a real one nearly always is."""

    def build() -> set[str]:
        from tools.source.resolve import iter_python_files

        raw: set[bytes] = set()
        word = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*")  # on bytes: a third faster than decoding first
        for physical, _ in iter_python_files(ws.source):
            try:
                raw.update(word.findall(physical.read_bytes()))
            except OSError:
                continue
        return {w.decode() for w in raw} | set(ws.names.packages)

    return _per_source(ws, "claim_words", build)


def _external_roots(ws: Workspace) -> set[str]:
    def build() -> set[str]:
        own = set(ws.names.packages)
        roots = set(sys.stdlib_module_names)
        for rec in ws.index.records.values():
            for b in rec.bindings:
                top = (b.module or "").split(".")[0]
                if top and top not in own and not (b.module or "").startswith("."):
                    roots.add(top)
                    roots.add(b.name)  # `from torch import nn`: nn.Linear is torch's
        return roots

    return _per_source(ws, "claim_external_roots", build)


def _prose(page: Page) -> list[tuple[int, str]]:
    """(line, text) of the prose the rule reads."""
    out: list[tuple[int, str]] = []
    for sec in page.sections:
        if sec.title not in PROSE_SECTIONS:
            continue
        for b in sec.blocks:
            if b.kind == "code":
                continue
            lines = b.render()
            for j, line in enumerate(lines):
                if line.startswith("!") or line.startswith("{|") or line.startswith("|}") or line.startswith("|-"):
                    continue
                if line.startswith("|"):
                    line = line.split("||")[-1]  # a table row: only its Description is prose (Name, Type are facts)
                out.append((b.line + j, line))
    return out


def _page_words(ctx: Context, page: Page) -> set[str]:
    """Words the page and its WorkflowIndex step give themselves (names of pages, the step's cells)."""
    words = set(re.findall(r"\w+", page.name)) | {ctx.wiki.repo} | set(ctx.wiki.repo.split("_"))
    words.update(p.name for p in ctx.wiki.pages.values())
    wi = ctx.wiki.workflow_index
    if wi is not None:
        for step in wi.steps:
            if page.name in (step.principle, step.implementation):
                for cell in (step.api_call, step.key_parameters, step.inputs, step.outputs, step.title):
                    words.update(re.findall(r"\w+", cell or ""))
    for block in page.blocks:
        if block.kind == "code":  # the page's own signature, import and examples define names too
            words.update(re.findall(r"\w+", "\n".join(block.render())))
    return words


def invented(ctx: Context, text: str, own: Set[str] = frozenset(), wrapper: bool = False) -> list[tuple[str, str]]:
    """(token, why) for every API-looking token of ``text`` found nowhere (see the module doc)."""
    if ctx.ws is None:
        return []
    known = _known(ctx.ws)
    external = _external_roots(ctx.ws)
    builtin = set(dir(builtins))
    out: list[tuple[str, str]] = []
    text = _SKIP.sub(" ", text).replace("`", " ")
    for m in _DOTTED.finditer(text):
        token = m.group(1)
        parts = token.split(".")
        if token.lower() in _ABBREV or parts[-1].lower() in _FILE_EXT or any(p.isdigit() for p in parts):
            continue
        if parts[0] in external or parts[0] in builtin:
            continue  # another package's API: not checkable here
        missing = [p for p in parts if p not in known and p not in own]
        if missing:
            out.append((token, f"names {'.'.join(missing)}, which appears nowhere in the source"))
    for m in _CALL.finditer(text):
        name = m.group(1)
        if _SYMBOL.fullmatch(name):
            continue
        if not (name in builtin or name in known or name in own or name in external or name[:1].isupper()):
            out.append((f"{name}(...)", "calls a name that appears nowhere in the source"))
    if not wrapper:
        for m in _SNAKE.finditer(text):
            word = m.group(1)
            if _SYMBOL.fullmatch(word):
                continue
            if not (word in known or word in own or word in external or word in builtin):
                out.append((word, "appears nowhere in the source"))
    return out


def check_claims(ctx: Context, page: Page) -> list[Finding]:
    if ctx.ws is None:
        return []
    own = _page_words(ctx, page)
    # a Wrapper Doc's prose is about another package's API, whose words this source need not hold
    wrapper = page.type == "Implementation" and ctx.wiki.subtype(page) in ("Wrapper Doc", "External Tool Doc")
    out: list[Finding] = []
    seen: set[str] = set()
    for line, raw in _prose(page):
        for token, why in invented(ctx, raw, own, wrapper):
            if token not in seen:
                seen.add(token)
                out.append(finding("R50", page.path, line, f"{token!r} {why}"))
    return out
