"""Parse one Python file with tree-sitter into a FileRecord.

Line ranges follow CPython's ast (the def/class line, decorators excluded, to the
last token of the body, trailing comments excluded), because that is what the
wiki cites and what the verifier checks.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import inspect
import re
from collections.abc import Iterator
from functools import lru_cache
from typing import overload

import tree_sitter_python
from tree_sitter import Language, Node, Parser, Query

from tools import pyast
from tools.index.records import Binding, ClassField, FileRecord, FileStatus, Param, ParamKind, Symbol, SymbolKind

MAX_FILE_BYTES = 4 * 1024 * 1024
_CODING_RE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")
_CONTAINERS = {
    "if_statement",
    "elif_clause",
    "else_clause",
    "try_statement",
    "except_clause",
    "finally_clause",
    "with_statement",
    "block",
    "except_group_clause",
}
_SCOPES = {"function_definition", "class_definition"}
_DEFS = _SCOPES
_DEF_CONTAINERS = {
    "module",
    "block",
    "decorated_definition",
    "function_definition",
    "class_definition",
    "if_statement",
    "elif_clause",
    "else_clause",
    "for_statement",
    "while_statement",
    "try_statement",
    "except_clause",
    "except_group_clause",
    "finally_clause",
    "with_statement",
    "match_statement",
    "case_clause",
    "ERROR",
}


@lru_cache(maxsize=1)
def language() -> Language:
    return Language(tree_sitter_python.language())


@lru_cache(maxsize=1)
def parser() -> Parser:
    return Parser(language())


@lru_cache(maxsize=None)
def query(name: str) -> Query:
    text = importlib.resources.files("tools.queries").joinpath(name).read_text(encoding="utf-8")
    return Query(language(), text)


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def decode_source(data: bytes) -> tuple[str | None, str | None]:
    """Return (text, None) or (None, reason). Honours a PEP 263 coding line."""
    if b"\x00" in data[:8192]:
        return None, "binary file (NUL byte)"
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        for line in data.split(b"\n", 2)[:2]:
            m = _CODING_RE.match(line)
            if m:
                try:
                    return data.decode(m.group(1).decode("ascii")), None
                except (LookupError, UnicodeDecodeError):
                    break
        return None, f"not UTF-8 (byte {exc.start}) and no usable coding declaration"


def skipped(path: str, module: str, is_package: bool, data: bytes, reason: str) -> FileRecord:
    return FileRecord(path, module, is_package, digest(data), data.count(b"\n"), "skipped", reason, (), (), (), None)


def parse_file(path: str, module: str, is_package: bool, data: bytes, max_bytes: int = MAX_FILE_BYTES) -> FileRecord:
    """Parse ``data`` (the bytes of repository file ``path``). Never raises on bad input."""
    if len(data) > max_bytes:
        return skipped(path, module, is_package, data, f"larger than {max_bytes} bytes ({len(data)})")
    text, reason = decode_source(data)
    if text is None:
        return skipped(path, module, is_package, data, reason or "undecodable")
    python_says = None
    if _DEEP.search(data) or _DEEP_BRACKETS.search(data):
        # CPython refuses more than 100 indentation levels (and 200 nested brackets); tree-sitter
        # would take seconds to find symbols that no Python can import. Ask the parser whose verdict counts.
        try:
            pyast.parse(text, path)
        except IndentationError as exc:
            return skipped(path, module, is_package, data, f"Python cannot parse it: {exc.msg} (line {exc.lineno})")
        except SyntaxError as exc:
            python_says = f"Python cannot parse it: {exc.msg} (line {exc.lineno})"
        except (ValueError, RecursionError, MemoryError) as exc:
            python_says = f"Python cannot parse it: {type(exc).__name__}"
    # tree-sitter works on bytes; re-encode so byte offsets match the text we slice.
    src = text.encode("utf-8") if not _is_utf8(data, text) else data
    tree = parser().parse(src)
    root = tree.root_node
    status: FileStatus = "ok"
    why: str | None = None
    if root.has_error:
        status, why = "partial", f"syntax error near line {_first_error_line(root)}"
    elif python_says:  # tree-sitter reads what CPython refuses: keep the symbols, say the file cannot be imported
        status, why = "partial", python_says
    ex = _Extractor(src, path, module, is_package)
    symbols = ex.symbols(root)
    bindings, assignments, all_names = ex.module_level(root)
    return FileRecord(
        path,
        module,
        is_package,
        digest(data),
        data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1),
        status,
        why,
        tuple(symbols),
        tuple(bindings),
        tuple(assignments),
        all_names,
    )


_DEEP = re.compile(rb"^[ \t]{300,}\S", re.M)  # 75+ levels of 4 spaces: close to CPython's limit of 100
_DEEP_BRACKETS = re.compile(rb"[\[({]{150,}")  # close to CPython's limit of 200 nested brackets


def _is_utf8(data: bytes, text: str) -> bool:
    try:
        return data.decode("utf-8") == text
    except UnicodeDecodeError:
        return False


def _first_error_line(root: Node) -> int:
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type == "ERROR" or node.is_missing:
            return node.start_point.row + 1
        if node.has_error:
            stack.extend(reversed(node.children))
    return root.start_point.row + 1


def last_line(node: Node) -> int:
    """1-based last line of ``node`` as ast counts it: trailing comments do not belong to it."""
    while True:
        kids = node.children
        i = len(kids) - 1
        while i >= 0 and kids[i].type == "comment":
            i -= 1
        if i < 0:
            return node.end_point.row + 1
        node = kids[i]


class _Extractor:
    def __init__(self, src: bytes, path: str, module: str, is_package: bool) -> None:
        self.src = src
        self.path = path
        self.module = module
        self.is_package = is_package

    def text(self, node: Node | None) -> str:
        if node is None:
            return ""
        return self.src[node.start_byte : node.end_byte].decode("utf-8", "replace")

    @overload
    def annotation(self, node: Node) -> str: ...
    @overload
    def annotation(self, node: Node | None) -> str | None: ...

    def annotation(self, node: Node | None) -> str | None:
        """An annotation's text without grouping parentheses, as ast's source segment gives it."""
        if node is None:
            return None
        while node.type == "type" and node.named_child_count == 1:
            node = node.named_children[0]
        while node.type == "parenthesized_expression" and node.named_child_count == 1:
            node = node.named_children[0]
        return self.text(node)

    # ---- definitions -------------------------------------------------------------
    def symbols(self, root: Node) -> list[Symbol]:
        # A def/class can only sit in a statement container, so walking those alone finds
        # them all; measured twice as fast as a tree-sitter query over the whole tree.
        out: list[Symbol] = []
        stack = [root]
        while stack:
            node = stack.pop()
            if node.type in _DEFS:
                name_node = node.child_by_field_name("name")
                if name_node is not None:
                    out.append(self._symbol(node, name_node))
            stack.extend(c for c in node.children if c.type in _DEF_CONTAINERS)
        out.sort(key=lambda s: (s.start_line, s.qualname))
        return out

    def _scope_chain(self, node: Node) -> tuple[list[tuple[str, str]], bool]:
        """Enclosing (type, name) pairs, outermost first; and whether inside an ERROR node."""
        chain: list[tuple[str, str]] = []
        in_error = False
        parent = node.parent
        while parent is not None:
            if parent.type in _SCOPES:
                chain.append((parent.type, self.text(parent.child_by_field_name("name"))))
            elif parent.type == "ERROR":
                in_error = True
            parent = parent.parent
        chain.reverse()
        return chain, in_error

    def _symbol(self, node: Node, name_node: Node) -> Symbol:
        name = self.text(name_node)
        chain, _ = self._scope_chain(node)
        parts: list[str] = []
        for scope_type, scope_name in chain:
            parts.append(scope_name)
            if scope_type == "function_definition":
                parts.append("<locals>")
        qualname = ".".join(parts + [name])
        parent = ".".join(parts[:-1] if parts and parts[-1] == "<locals>" else parts) or None
        is_class = node.type == "class_definition"
        in_class = bool(chain) and chain[-1][0] == "class_definition"
        kind: SymbolKind = "class" if is_class else ("method" if in_class else "function")
        decorators: list[str] = []
        decorator_line = None
        wrapper = node.parent
        if wrapper is not None and wrapper.type == "decorated_definition":
            decs = [c for c in wrapper.children if c.type == "decorator"]
            if decs:
                decorator_line = decs[0].start_point.row + 1
            decorators = [self.text(d).lstrip()[1:].strip() for d in decs]
        body = node.child_by_field_name("body")
        colon = None
        for child in node.children:
            if child.type == ":":
                colon = child
            if body is not None and child.id == body.id:
                break
        sig_end = colon.end_byte if colon is not None else (body.start_byte if body else node.end_byte)
        signature = self.src[node.start_byte : sig_end].decode("utf-8", "replace")
        params: tuple[Param, ...] = ()
        returns = None
        bases: tuple[str, ...] = ()
        fields: tuple[ClassField, ...] = ()
        if is_class:
            sup = node.child_by_field_name("superclasses")
            if sup is not None:
                bases = tuple(self.text(c) for c in sup.named_children if c.type not in ("keyword_argument", "comment"))
            if body is not None:
                fields = tuple(self._fields(body))
        else:
            params = tuple(self._params(node.child_by_field_name("parameters")))
            rt = node.child_by_field_name("return_type")
            returns = self.annotation(rt)
        is_async = any(c.type == "async" for c in node.children[:2])
        return Symbol(
            qualname=qualname,
            name=name,
            kind=kind,
            file=self.path,
            module=self.module,
            start_line=node.start_point.row + 1,
            end_line=last_line(node),
            decorator_line=decorator_line,
            signature=signature,
            docstring=self._docstring(body),
            params=params,
            returns=returns,
            bases=bases,
            decorators=tuple(decorators),
            is_async=is_async,
            fields=fields,
            parent=parent,
        )

    def _docstring(self, body: Node | None) -> str | None:
        if body is None:
            return None
        first = next((c for c in body.named_children if c.type != "comment"), None)
        if first is None or first.type != "expression_statement" or first.named_child_count != 1:
            return None
        lit = first.named_children[0]
        if lit.type != "string":
            return None
        return clean_string_literal(self.text(lit))

    def _fields(self, body: Node) -> list[ClassField]:
        out = []
        for stmt in body.named_children:
            if stmt.type != "expression_statement" or stmt.named_child_count != 1:
                continue
            assign = stmt.named_children[0]
            if assign.type != "assignment":
                continue
            left, ann = assign.child_by_field_name("left"), assign.child_by_field_name("type")
            if left is None or ann is None or left.type != "identifier":
                continue
            right = assign.child_by_field_name("right")
            out.append(
                ClassField(
                    self.text(left),
                    self.annotation(ann),
                    self.text(right) if right is not None else None,
                    stmt.start_point.row + 1,
                )
            )
        return out

    def _params(self, params_node: Node | None) -> list[Param]:
        if params_node is None:
            return []
        out: list[Param] = []
        keyword_only = False
        for child in params_node.named_children:
            t = child.type
            if t == "comment":
                continue
            if t == "positional_separator":
                out = [p._replace(kind="positional_only") for p in out]
                continue
            if t == "keyword_separator":
                keyword_only = True
                continue
            plain: ParamKind = "keyword_only" if keyword_only else "positional_or_keyword"
            if t == "identifier":
                out.append(Param(self.text(child), plain, None, None))
            elif t in ("list_splat_pattern", "dictionary_splat_pattern"):
                out.append(Param(self.text(child.named_children[0]), _splat_kind(t), None, None))
                keyword_only = keyword_only or t == "list_splat_pattern"
            elif t == "typed_parameter":
                inner = child.named_children[0]
                ann = self.annotation(child.child_by_field_name("type"))
                if inner.type in ("list_splat_pattern", "dictionary_splat_pattern"):
                    out.append(Param(self.text(inner.named_children[0]), _splat_kind(inner.type), ann, None))
                    keyword_only = keyword_only or inner.type == "list_splat_pattern"
                else:
                    out.append(Param(self.text(inner), plain, ann, None))
            elif t in ("default_parameter", "typed_default_parameter"):
                ann_node = child.child_by_field_name("type")
                out.append(
                    Param(
                        self.text(child.child_by_field_name("name")),
                        plain,
                        self.annotation(ann_node),
                        self.text(child.child_by_field_name("value")),
                    )
                )
        return out

    # ---- module level: imports, assignments, __all__, lazy tables ------------------
    def module_level(self, root: Node) -> tuple[list[Binding], list[str], tuple[str, ...] | None]:
        bindings: list[Binding] = []
        assignments: list[str] = []
        all_names: list[str] | None = None
        for stmt in self._module_statements(root):
            t = stmt.type
            if t == "import_from_statement":
                bindings.extend(self._from_import(stmt))
            elif t == "import_statement":
                bindings.extend(self._import(stmt))
            elif t == "expression_statement" and stmt.named_child_count == 1:
                expr = stmt.named_children[0]
                if expr.type == "assignment":
                    left = expr.child_by_field_name("left")
                    right = expr.child_by_field_name("right")
                    if left is not None and left.type == "identifier":
                        name = self.text(left)
                        assignments.append(name)
                        if name == "__all__" and right is not None:
                            all_names = (all_names or []) + self._strings(right)
                        elif name == "_import_structure" and right is not None:
                            bindings.extend(self._import_table(right))
                    elif left is not None and left.type == "subscript":
                        bindings.extend(self._table_item(left, right))
                elif expr.type == "augmented_assignment":
                    left = expr.child_by_field_name("left")
                    if left is not None and self.text(left) == "__all__":
                        all_names = (all_names or []) + self._strings(expr.child_by_field_name("right"))
                elif expr.type == "call":
                    bindings.extend(self._table_call(expr, all_names))
                    if self._call_target(expr) in ("__all__.extend", "__all__.append"):
                        all_names = (all_names or []) + self._strings(expr.child_by_field_name("arguments"))
        return bindings, sorted(set(assignments)), tuple(all_names) if all_names is not None else None

    def _module_statements(self, root: Node) -> Iterator[Node]:
        stack = list(reversed(root.named_children))
        while stack:
            node = stack.pop()
            if node.type == "if_statement" and self._type_checking_only(node):
                continue
            if node.type in _CONTAINERS:
                stack.extend(reversed(node.named_children))
            else:
                yield node

    def _type_checking_only(self, node: Node) -> bool:
        """``if TYPE_CHECKING:`` with no other branch: what it imports exists for type checkers only
        (``from rich import Console`` fails at run time). With an ``else`` the names are made at run time
        by other means, e.g. transformers' lazy module, and the imports say which."""
        cond = node.child_by_field_name("condition")
        if cond is None or self.text(cond) not in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
            return False
        return not any(c.type in ("else_clause", "elif_clause") for c in node.named_children)

    def _abs_module(self, rel: Node) -> str:
        """Absolute module for the module_name of a from-import (relative or not)."""
        if rel.type != "relative_import":
            return self.text(rel)
        prefix = next((c for c in rel.children if c.type == "import_prefix"), None)
        dots = len(self.text(prefix)) if prefix is not None else 0
        rest = next((c for c in rel.named_children if c.type == "dotted_name"), None)
        base = self.module.split(".") if self.is_package else self.module.split(".")[:-1]
        if dots > 1:
            base = base[: max(0, len(base) - (dots - 1))]
        parts = base + ([self.text(rest)] if rest is not None else [])
        return ".".join(p for p in parts if p)

    def _from_import(self, stmt: Node) -> list[Binding]:
        mod_node = stmt.child_by_field_name("module_name")
        if mod_node is None:
            return []
        module = self._abs_module(mod_node)
        line = stmt.start_point.row + 1
        if any(c.type == "wildcard_import" for c in stmt.children):
            return [Binding("*", module, None, line, False)]
        out = []
        for name_node in stmt.children_by_field_name("name"):
            if name_node.type == "aliased_import":
                attr = self.text(name_node.child_by_field_name("name"))
                alias = self.text(name_node.child_by_field_name("alias"))
            else:
                attr = alias = self.text(name_node)
            out.append(Binding(alias, module, attr, line, False))
        return out

    def _import(self, stmt: Node) -> list[Binding]:
        out = []
        line = stmt.start_point.row + 1
        for name_node in stmt.children_by_field_name("name"):
            if name_node.type == "aliased_import":
                target = self.text(name_node.child_by_field_name("name"))
                out.append(Binding(self.text(name_node.child_by_field_name("alias")), target, None, line, False))
            else:
                target = self.text(name_node)
                out.append(Binding(target.split(".")[0], target.split(".")[0], None, line, False))
        return out

    def _strings(self, node: Node | None) -> list[str]:
        """String literals directly inside a list/tuple/argument list (non-literals are ignored)."""
        if node is None:
            return []
        if node.type == "string":
            return [clean_string_literal(self.text(node), dedent=False)]
        if node.type in ("list", "tuple", "argument_list", "parenthesized_expression"):
            return [clean_string_literal(self.text(c), dedent=False) for c in node.named_children if c.type == "string"]
        return []

    def _lazy(self, key: str, names: list[str], line: int) -> list[Binding]:
        module = f"{self.module}.{key}" if key else self.module
        return [Binding(n, module, n, line, True) for n in names]

    def _import_table(self, right: Node) -> list[Binding]:
        if right.type != "dictionary":
            return []
        out = []
        for pair in right.named_children:
            if pair.type != "pair":
                continue
            key, value = pair.child_by_field_name("key"), pair.child_by_field_name("value")
            if key is not None and key.type == "string":
                out.extend(
                    self._lazy(
                        clean_string_literal(self.text(key), dedent=False),
                        self._strings(value),
                        pair.start_point.row + 1,
                    )
                )
        return out

    def _table_key(self, sub: Node) -> str | None:
        value = sub.child_by_field_name("value")
        key = sub.child_by_field_name("subscript")
        if value is None or key is None or self.text(value) != "_import_structure" or key.type != "string":
            return None
        return clean_string_literal(self.text(key), dedent=False)

    def _table_item(self, left: Node, right: Node | None) -> list[Binding]:
        key = self._table_key(left)
        if key is None:
            return []
        return self._lazy(key, self._strings(right), left.start_point.row + 1)

    def _call_target(self, call: Node) -> str:
        return self.text(call.child_by_field_name("function"))

    def _table_call(self, call: Node, _all: list[str] | None) -> list[Binding]:
        fn = call.child_by_field_name("function")
        if fn is None or fn.type != "attribute":
            return []
        obj, attr = fn.child_by_field_name("object"), self.text(fn.child_by_field_name("attribute"))
        if obj is None or obj.type != "subscript" or attr not in ("extend", "append"):
            return []
        key = self._table_key(obj)
        if key is None:
            return []
        args = call.child_by_field_name("arguments")
        names = self._strings(args)
        if args is not None:
            for arg in args.named_children:
                names.extend(self._strings(arg) if arg.type in ("list", "tuple") else [])
        return self._lazy(key, names, call.start_point.row + 1)


def _splat_kind(node_type: str) -> ParamKind:
    return "var_positional" if node_type == "list_splat_pattern" else "var_keyword"


def clean_string_literal(raw: str, dedent: bool = True) -> str:
    """The text of a string literal without prefix and quotes (escapes left as written)."""
    i = 0
    while i < len(raw) and raw[i] in "rRbBuUfF":
        i += 1
    body = raw[i:]
    for q in ('"""', "'''", '"', "'"):
        if body.startswith(q) and body.endswith(q) and len(body) >= 2 * len(q):
            body = body[len(q) : -len(q)]
            break
    return inspect.cleandoc(body) if dedent else body
