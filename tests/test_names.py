"""Name resolution: re-exports, star imports, lazy tables, canonical imports, inheritance."""

from __future__ import annotations

from tools.index.names import ModuleRef
from tools.index.records import Symbol


def _at(target):
    assert isinstance(target, Symbol), target
    return (target.file, target.qualname)


def test_reexports_star_imports_and_lazy_tables(ws):
    n = ws.names
    assert _at(n.resolve("minipkg", "Engine")) == ("src/minipkg/core.py", "Engine")
    assert _at(n.resolve("minipkg", "Circle")) == ("src/minipkg/shapes.py", "Circle")  # via `import *`
    assert n.resolve("minipkg", "_Hidden") is None  # not in shapes.__all__
    assert n.resolve("minipkg", "PI") is None  # __all__ limits the star import
    assert _at(n.resolve("minipkg", "LazyThing")) == ("src/minipkg/lazy_mod.py", "LazyThing")
    assert _at(n.resolve("minipkg", "make_tool")) == ("src/minipkg/sub/tools.py", "make_tool")
    assert n.resolve("minipkg", "sub") == ModuleRef("minipkg.sub")
    assert n.resolve("minipkg", "nothing_here") is None


def test_export_map_of_the_package(ws):
    exports = ws.names.exports("minipkg")
    assert sorted(exports) == ["Circle", "Engine", "LazyThing", "make_tool", "run_engine", "sub"]


def test_canonical_import_and_public_modules(ws):
    n = ws.names
    engine = ws.index.definition("minipkg.core", "Engine")
    shutdown = ws.index.definition("minipkg.base", "BaseEngine.shutdown")
    config = ws.index.definition("minipkg.core", "EngineConfig")
    method = ws.index.definition("minipkg.core", "Engine.helper")
    nested = ws.index.definition("minipkg.core", "traced.<locals>.wrapper")
    assert n.canonical_import(engine) == "from minipkg import Engine"
    assert n.canonical_import(method) == "from minipkg import Engine"  # a method imports its class
    assert n.canonical_import(config) == "from minipkg.core import EngineConfig"
    assert n.canonical_import(shutdown) == "from minipkg.base import BaseEngine"
    assert n.canonical_import(nested) is None
    assert n.public_modules(engine) == ["minipkg", "minipkg.core"]


def test_inherited_method_resolves_to_the_base_class(ws):
    n = ws.names
    engine = ws.index.definition("minipkg.core", "Engine")
    assert [c.qualname for c in n.mro(engine)] == ["Engine", "BaseEngine"]
    assert _at(n.member(engine, "shutdown")) == ("src/minipkg/base.py", "BaseEngine.shutdown")
    assert _at(n.member(engine, "scale")) == ("src/minipkg/core.py", "Engine.scale")
    assert n.member(engine, "scale").start_line == 65  # the implementation, not an @overload stub
    assert n.member(engine, "missing") is None
    assert _at(n.resolve_dotted("minipkg", "Engine.shutdown")) == ("src/minipkg/base.py", "BaseEngine.shutdown")


def test_cyclic_or_unresolvable_bases_do_not_loop(tmp_path):
    from tools.index.build import build_index
    from tools.source.resolve import resolve_repo
    from tools.index.workspace import Workspace

    pkg = tmp_path / "cyc" / "cyc"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("from .a import A\nfrom .b import B\n")
    (pkg / "a.py").write_text("from .b import B\nfrom torch import nn\n\nclass A(B, nn.Module):\n    pass\n")
    (pkg / "b.py").write_text("from .a import A\n\nclass B(A):\n    def f(self):\n        pass\n")
    src = resolve_repo("acme_cyc", str(tmp_path / "cyc"), tmp_path / "c")
    w = Workspace(src, build_index(src, tmp_path / "c"))
    a = w.index.definition("cyc.a", "A")
    assert _at(w.names.member(a, "f")) == ("cyc/b.py", "B.f")
    assert w.names.canonical_import(a) == "from cyc import A"
