"""What a call leaves behind, where its code shows it: the files and folders it writes under a path
parameter, and the attributes it sets on the object it is called on.

A write is a call the standard library or a common serialiser makes to put bytes on disk (``open`` in a
writing mode, ``os.makedirs``, ``torch.save``, safetensors' ``save_file``, ``numpy.save``, ``shutil``
copies, ``Path.write_text``/``mkdir``/``touch``) or a callee named like a saver (``save``,
``save_pretrained``, ``to_json_file``, ``write_*``, ``dump``) given a path. A path is a parameter or a
local made from one (``os.path.join``, ``Path``, ``/``, an f-string that starts with it, a conditional
that yields it). The body is read, and shallowly the methods of ``self`` it calls (one level, their
parameters bound to the caller's paths); nothing else is assumed.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Literal, NamedTuple

from tools.index.bodies import (
    FunctionNode,
    dotted,
    function_node,
    local_imports,
    positional_params,
    qualified,
    source_of,
)
from tools.index.constants import string_value
from tools.index.records import Symbol
from tools.index.workspace import Workspace

EffectKind = Literal["file", "folder", "files", "attribute", "entry", "printed"]

# qualified callee → index of the path argument (and its keyword), for writes of one file or folder
_FILE_WRITERS: dict[str, tuple[int, str]] = {
    "torch.save": (1, "f"),
    "safetensors.torch.save_file": (1, "filename"),
    "safetensors.numpy.save_file": (1, "filename"),
    "safetensors.flax.save_file": (1, "filename"),
    "numpy.save": (0, "file"),
    "numpy.savez": (0, "file"),
    "shutil.copy": (1, "dst"),
    "shutil.copy2": (1, "dst"),
    "shutil.copyfile": (1, "dst"),
    "shutil.move": (1, "dst"),
}
_FOLDER_WRITERS: dict[str, tuple[int, str]] = {
    "os.makedirs": (0, "name"),
    "os.mkdir": (0, "path"),
    "shutil.copytree": (1, "dst"),
}
_PATH_MAKERS = {
    "os.path.join",
    "os.path.abspath",
    "os.path.expanduser",
    "os.path.realpath",
    "os.path.normpath",
    "os.fspath",
    "str",
    "pathlib.Path",
    "pathlib.PurePath",
    "Path",
}
_PATH_WORDS = ("dir", "path", "file", "folder", "location", "destination")
_PATH_TYPES = ("str", "Path", "PathLike")
_PATH_METHODS: dict[str, EffectKind] = {"write_text": "file", "write_bytes": "file", "touch": "file", "mkdir": "folder"}


class Effect(NamedTuple):
    kind: EffectKind
    name: str  # the file or folder name, the saver called, the attribute (or the dict of an entry), "stdout"
    under: str | None  # the parameter whose path it is under (files and folders)
    how: str  # the call that writes it, or the assigned value's text for an attribute ("" when not simple)
    via: tuple[str, ...]  # the methods of self it happens in; () for the body itself
    conditional: bool  # under an if, a loop or an exception handler of its body


def _walk(stmts: list[ast.stmt], conditional: bool = False) -> Iterator[tuple[ast.AST, bool]]:
    """Every node the statements run themselves (nested definitions excluded), in source order, with
    whether it runs only under a condition."""
    for stmt in stmts:
        yield from _node(stmt, conditional)


def _node(node: ast.AST, conditional: bool) -> Iterator[tuple[ast.AST, bool]]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
        return
    yield node, conditional
    branchy = isinstance(node, (ast.If, ast.For, ast.AsyncFor, ast.While, ast.Try, ast.IfExp, ast.ExceptHandler))
    for field, value in ast.iter_fields(node):
        inner = conditional or (branchy and field not in ("test", "iter"))
        if isinstance(node, ast.Try) and field == "finalbody":
            inner = conditional
        for child in value if isinstance(value, list) else [value]:
            if isinstance(child, ast.AST):
                yield from _node(child, inner)


class _Reader:
    def __init__(
        self,
        ws: Workspace,
        sym: Symbol,
        fn: FunctionNode,
        paths: dict[str, str],
        via: tuple[str, ...],
        arguments: dict[str, str],
    ):
        self.ws, self.sym, self.fn, self.via = ws, sym, fn, via
        self.arguments = arguments  # the body's names for the documented API's own parameters
        self.local = local_imports(fn)
        self.paths = dict(paths)  # local name → the parameter its path comes from
        self.out: list[Effect] = []
        self.calls: list[tuple[str, ast.Call, bool]] = []  # self.m(...) calls, for the shallow pass

    def name(self, func: ast.expr) -> str | None:
        text = dotted(func)
        return qualified(self.ws, self.sym.module, text, self.local) if text else None

    def path_of(self, node: ast.expr | None) -> str | None:
        """The parameter a path expression is made from, or None."""
        if node is None:
            return None
        if isinstance(node, ast.Name):
            return self.paths.get(node.id)
        if isinstance(node, ast.Call) and node.args and self.name(node.func) in _PATH_MAKERS:
            return self.path_of(node.args[0])
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            return self.path_of(node.left)
        if isinstance(node, ast.IfExp):
            return self.path_of(node.body) or self.path_of(node.orelse)
        if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.FormattedValue):
            return self.path_of(node.values[0].value)
        return None

    def file_name(self, node: ast.expr) -> str | None:
        """The last component of a path expression when the source spells it (a literal or a constant)."""
        last: ast.expr | None = None
        if isinstance(node, ast.Call) and self.name(node.func) == "os.path.join" and len(node.args) > 1:
            last = node.args[-1]
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            last = node.right
        elif isinstance(node, ast.Call) and self.name(node.func) in _PATH_MAKERS and node.args:
            return self.file_name(node.args[0])
        elif isinstance(node, ast.JoinedStr):
            text = string_value(self.ws, self.sym.module, ast.JoinedStr(values=node.values[1:]))
            return text.lstrip("/") if text and text.startswith("/") else None
        elif isinstance(node, ast.Name):  # `filename = os.path.join(out, "README.md")`, then `save(filename)`
            value = self._assigned(node.id)
            return self.file_name(value) if value is not None else None
        if last is None:
            return None
        if isinstance(last, ast.Name) and last.id not in self.paths and self._assigned(last.id) is not None:
            return self.file_name_value(self._assigned(last.id))
        return self.file_name_value(last)

    def file_name_value(self, node: ast.expr | None) -> str | None:
        if node is None:
            return None
        text = string_value(self.ws, self.sym.module, node)
        return text if text and "/" not in text.strip("/") and len(text) <= 80 else None

    def _assigned(self, name: str) -> ast.expr | None:
        values = [
            n.value
            for n in ast.walk(self.fn)
            if isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in n.targets)
        ]
        return values[0] if len(values) == 1 else None

    def arg(self, call: ast.Call, index: int, keyword: str) -> ast.expr | None:
        if len(call.args) > index and not any(isinstance(a, ast.Starred) for a in call.args[: index + 1]):
            return call.args[index]
        return next((k.value for k in call.keywords if k.arg == keyword), None)

    def read(self) -> None:
        for node, cond in _walk(self.fn.body):
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                self.assign(node, cond)
            elif isinstance(node, ast.Call):
                self.call(node, cond)

    def assign(self, node: ast.Assign, cond: bool) -> None:
        target = node.targets[0]
        if isinstance(target, ast.Name):
            source = self.path_of(node.value)
            if source is not None:
                self.paths[target.id] = source
            elif target.id in self.paths and not cond:  # `if out is None: out = ...` keeps it the parameter's path
                del self.paths[target.id]
            return
        if isinstance(target, ast.Subscript):  # self.peft_config[name] = ...: an entry of a public attribute
            table = dotted(target.value)
            if table and table.startswith("self.") and table.count(".") == 1 and not table[5:].startswith("_"):
                self.out.append(Effect("entry", table[5:], None, "", self.via, cond))
            return
        attr = dotted(target)
        if attr is None or not attr.startswith("self.") or attr.count(".") != 1 or attr[5:].startswith("_"):
            return
        value = node.value
        if isinstance(value, ast.Name) and value.id in self.arguments:
            how = f"the `{self.arguments[value.id]}` argument"
        elif isinstance(value, ast.Constant) and len(repr(value.value)) <= 40:
            how = f"`{source_of(self.ws, self.sym.file, value) or repr(value.value)}`"
        else:
            how = ""
        self.out.append(Effect("attribute", attr[5:], None, how, self.via, cond))

    def call(self, node: ast.Call, cond: bool) -> None:
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in _PATH_METHODS:  # Path(...).write_text(...)
            self.write(_PATH_METHODS[func.attr], func.value, f"Path.{func.attr}", cond)
            return
        name = self.name(func)
        if name is None:
            return
        if name == "print" and not any(k.arg == "file" for k in node.keywords):
            self.out.append(Effect("printed", "stdout", None, "print", self.via, cond))
            return
        if name == "open":
            mode = self.arg(node, 1, "mode")
            if isinstance(mode, ast.Constant) and isinstance(mode.value, str) and set(mode.value) & set("wax"):
                self.write("file", self.arg(node, 0, "file"), "open", cond)
            return
        for table, kind in ((_FILE_WRITERS, "file"), (_FOLDER_WRITERS, "folder")):
            if name in table:
                index, keyword = table[name]
                self.write(kind, self.arg(node, index, keyword), name, cond)  # type: ignore[arg-type]
                return
        head, _, method = (dotted(func) or "").partition(".")
        if head == "self" and method and "." not in method:
            self.calls.append((method, node, cond))
            return
        if _saver(name.split(".")[-1]):
            path = next((a for a in [*node.args, *(k.value for k in node.keywords)] if self.path_of(a)), None)
            under = self.path_of(path)
            if path is None or under is None:
                return
            called = dotted(func) or name
            single = self.file_name(path)  # `card.save(os.path.join(d, "README.md"))` writes that one file
            if single is not None:
                self.out.append(Effect("file", single, under, called, self.via, cond))
            else:
                self.out.append(Effect("files", called, under, called, self.via, cond))

    def write(self, kind: EffectKind, path: ast.expr | None, how: str, cond: bool) -> None:
        under = self.path_of(path) if path is not None else None
        if path is None or under is None:
            return
        name = self.file_name(path) if kind == "file" else None
        if kind == "file" and name is None and not (isinstance(path, ast.Name) and path.id == under):
            # a name the code computes: the expression that holds it
            last = self.last_part(path) or source_of(self.ws, self.sym.file, path) or ast.unparse(path)
            name = f"`{' '.join(last.split())}`"
        self.out.append(Effect(kind, name or under, under, how, self.via, cond))

    def last_part(self, node: ast.expr) -> str | None:
        if isinstance(node, ast.Name):
            value = self._assigned(node.id)
            return self.last_part(value) if value is not None else None
        if isinstance(node, ast.Call) and self.name(node.func) == "os.path.join" and len(node.args) > 1:
            return source_of(self.ws, self.sym.file, node.args[-1]) or ast.unparse(node.args[-1])
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            return source_of(self.ws, self.sym.file, node.right) or ast.unparse(node.right)
        return None


def _saver(name: str) -> bool:
    """A callee named like something that writes what it is given (``save_pretrained``, ``write_json``)."""
    return name in ("save", "dump", "to_json_file") or name.startswith(("save_", "write_"))


def _params(sym: Symbol) -> dict[str, str]:
    """The parameters that hold a path: annotated as a string or path, or named as one (``save_directory``,
    ``output_dir``, ``filename``)."""
    out: dict[str, str] = {}
    for p in sym.params:
        words = p.name.lower()
        annotated = p.annotation is not None and any(t in p.annotation for t in _PATH_TYPES)
        if p.name not in ("self", "cls") and (annotated or any(w in words for w in _PATH_WORDS)):
            out[p.name] = p.name
    return out


def effects(ws: Workspace, sym: Symbol) -> list[Effect]:
    """What calling ``sym`` leaves behind (see the module doc), in source order, each once. Constructors
    are left out: setting up the object is what they are for."""
    if sym.kind == "class" or sym.name == "__init__":
        return []
    fn = function_node(ws, sym)
    if fn is None:
        return []
    top = _Reader(ws, sym, fn, _params(sym), (), {p.name: p.name for p in sym.params})
    top.read()
    found = list(top.out)
    owner = ws.index.definition(sym.module, sym.parent) if sym.kind == "method" and sym.parent else None
    if owner is not None and owner.kind == "class":
        done: set[str] = set()
        for method, call, cond in top.calls:
            target = ws.names.member(owner, method)
            callee = function_node(ws, target) if target is not None else None
            if target is None or callee is None or method in done:
                continue
            done.add(method)
            reader = _Reader(ws, target, callee, _bound(top, target, call), (method,), _passed(top, target, call))
            reader.read()
            found += [e._replace(conditional=e.conditional or cond) for e in reader.out]
    out: dict[tuple[str, str, str | None], Effect] = {}
    for e in found:
        key = (e.kind, e.name, e.under)
        seen = out.get(key)
        if seen is None:
            out[key] = e
        else:  # the same write in several places: where all of them are, conditional only if each is
            via = tuple(dict.fromkeys(seen.via + e.via)) if seen.via and e.via else ()
            out[key] = seen._replace(via=via, conditional=seen.conditional and e.conditional)
    return list(out.values())


def _passed(caller: _Reader, callee: Symbol, call: ast.Call) -> dict[str, str]:
    """The callee's parameters that receive one of the API's own arguments unchanged."""
    out: dict[str, str] = {}
    pairs = list(zip(positional_params(callee), call.args)) + [(k.arg, k.value) for k in call.keywords if k.arg]
    for name, arg in pairs:
        if isinstance(arg, ast.Name) and arg.id in caller.arguments:
            out[name] = caller.arguments[arg.id]
    return out


def _bound(caller: _Reader, callee: Symbol, call: ast.Call) -> dict[str, str]:
    """The callee's parameters that receive one of the caller's paths."""
    out: dict[str, str] = {}
    for name, arg in zip(positional_params(callee), call.args):
        if not isinstance(arg, ast.Starred) and (p := caller.path_of(arg)) is not None:
            out[name] = p
    for kw in call.keywords:
        if kw.arg and (p := caller.path_of(kw.value)) is not None:
            out[kw.arg] = p
    return out
