"""The index on the fixture repository: golden symbol table, facts per symbol, skips, cache."""

from __future__ import annotations

import ast
import json
import logging
import os
from pathlib import Path

import pytest

from tools.errors import UsageError
from tools.index.build import build_index, module_names
from tools.source.resolve import resolve_repo

EXPECTED = json.loads((Path(__file__).parent / "fixtures" / "minirepo.expected.json").read_text())


def _table(index) -> dict:
    return {
        path: {
            "module": rec.module,
            "status": rec.status,
            "reason": rec.reason,
            "symbols": [
                f"{s.kind} {s.qualname} L{s.start_line}-{s.end_line}"
                + (f" @L{s.decorator_line}" if s.decorator_line else "")
                for s in rec.symbols
            ],
        }
        for path, rec in sorted(index.records.items())
    }


def test_golden_symbol_table(ws):
    assert _table(ws.index) == EXPECTED


def _ast_table(text: str) -> list[tuple[str, int, int]]:
    out = []

    def walk(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                q = prefix + child.name
                out.append((q, child.lineno, child.end_lineno))
                walk(child, q + ("." if isinstance(child, ast.ClassDef) else ".<locals>."))
            else:
                walk(child, prefix)

    walk(ast.parse(text), "")
    return sorted(out)


def test_every_parseable_fixture_file_agrees_with_ast(ws):
    checked = 0
    for path, rec in ws.index.records.items():
        if rec.status != "ok" or path.endswith("cookie.py"):
            continue
        text = ws.source.physical(path).read_text(encoding="utf-8")
        assert sorted((s.qualname, s.start_line, s.end_line) for s in rec.symbols) == _ast_table(text), path
        checked += 1
    assert checked >= 8


def _sym(ws, qualname, nth=0):
    return [s for s in ws.index.symbols if s.qualname == qualname][nth]


def test_multiline_signature_is_exact_text(ws):
    init = _sym(ws, "Engine.__init__")
    assert init.signature == (
        "def __init__(\n        self,\n        config: EngineConfig | None = None,\n        *,\n"
        "        verbose: bool = False,\n    ) -> None:"
    )
    assert [(p.name, p.kind, p.annotation, p.default) for p in init.params] == [
        ("self", "positional_or_keyword", None, None),
        ("config", "positional_or_keyword", "EngineConfig | None", "None"),
        ("verbose", "keyword_only", "bool", "False"),
    ]
    assert init.returns == "None"


def test_parameter_kinds_defaults_and_annotations(ws):
    helper = _sym(ws, "Engine.helper")
    assert [(p.name, p.kind, p.annotation, p.default) for p in helper.params] == [
        ("x", "positional_only", None, None),
        ("y", "positional_or_keyword", None, "1"),
        ("rest", "var_positional", "int", None),
        ("z", "keyword_only", "str", '"a|b"'),
        ("opts", "var_keyword", "Any", None),
    ]
    assert helper.returns == "dict[str, int | None]"
    assert helper.decorators == ("traced", "staticmethod")
    assert helper.decorator_line == 48 and helper.start_line == 50


def test_async_property_overload_and_docstrings(ws):
    assert _sym(ws, "Engine.run_async").is_async
    assert not _sym(ws, "Engine.scale").is_async
    assert _sym(ws, "Engine.name").decorators == ("property",)
    assert _sym(ws, "Engine.name", 1).decorators == ("name.setter",)
    real = ws.index.definition("minipkg.core", "Engine.scale")
    assert (real.start_line, real.decorators) == (65, ())  # @overload stubs are skipped
    assert _sym(ws, "BaseEngine.shutdown").docstring == "Stop the engine.\n\nReturns True when it was running."


def test_class_facts_bases_and_dataclass_fields(ws):
    engine = _sym(ws, "Engine")
    assert engine.bases == ("BaseEngine",) and engine.signature == "class Engine(BaseEngine):"
    cfg = _sym(ws, "EngineConfig")
    assert cfg.decorators == ("dataclass",)
    assert [(f.name, f.annotation, f.value) for f in cfg.fields] == [
        ("name", "str", None),
        ("workers", "int", "2"),
        ("tags", "list[str]", "field(default_factory=list)"),
        ("ratio", "float", 'field(default=0.5, metadata={"help": "a ratio"})'),
    ]


def test_module_level_exports_are_recorded(ws):
    rec = ws.index.modules["minipkg"]
    assert rec.all_names == ("Engine", "run_engine", "Circle", "LazyThing", "make_tool", "sub")
    lazy = sorted((b.name, b.module) for b in rec.bindings if b.lazy)
    assert lazy == [("LazyThing", "minipkg.lazy_mod"), ("make_tool", "minipkg.sub.tools")]
    assert ("*", "minipkg.shapes") in [(b.name, b.module) for b in rec.bindings]
    assert ws.index.modules["minipkg.shapes"].assignments == ("PI", "__all__")


def test_bad_files_are_recorded_not_fatal(ws):
    stats = ws.index.stats
    assert stats.skipped == 4 and stats.partial == 1
    # the symlinked folder is not followed, so the outside secret is never indexed
    assert not any("secret" in s.qualname for s in ws.index.symbols)


def test_module_names_follow_init_files():
    paths = [
        "src/pkg/__init__.py",
        "src/pkg/a.py",
        "src/pkg/sub/__init__.py",
        "src/pkg/sub/b.py",
        "src/pkg/nopkg/c.py",
        "setup.py",
        "examples/run.py",
    ]
    assert module_names(paths) == {
        "src/pkg/__init__.py": ("pkg", True),
        "src/pkg/a.py": ("pkg.a", False),
        "src/pkg/sub/__init__.py": ("pkg.sub", True),
        "src/pkg/sub/b.py": ("pkg.sub.b", False),
        "src/pkg/nopkg/c.py": ("pkg.nopkg.c", False),  # a namespace portion inside a package (flask's sansio/)
        "setup.py": ("setup", False),
        "examples/run.py": ("run", False),
    }


def test_cache_reparses_only_changed_files(fixture_repo, cache_dir):
    src = resolve_repo("acme_minipkg", str(fixture_repo), cache_dir)
    cold = build_index(src, cache_dir)
    # every file but the symlink out of the root, which is never read
    assert cold.stats.parsed == cold.stats.files - 1 and cold.stats.cache
    warm = build_index(src, cache_dir)
    assert warm.stats.parsed == 0 and warm.stats.reused == warm.stats.files - 1
    core = fixture_repo / "src" / "minipkg" / "core.py"
    core.write_text(core.read_text() + "\n\ndef added():\n    pass\n")
    third = build_index(src, cache_dir)
    assert third.stats.parsed == 1 and third.stats.reused == third.stats.files - 2
    assert any(s.qualname == "added" for s in third.symbols)
    assert _table(third) != _table(cold)


def test_unwritable_or_corrupt_cache_falls_back(fixture_repo, tmp_path, caplog):
    src = resolve_repo("acme_minipkg", str(fixture_repo), tmp_path)
    blocker = tmp_path / "not_a_dir"
    blocker.write_text("a file where the cache folder should be")
    with caplog.at_level(logging.WARNING):
        idx = build_index(src, blocker)
    assert idx.stats.cache is None and idx.stats.symbols > 0
    assert "memory only" in idx.stats.summary()
    good = tmp_path / "cache"
    first = build_index(src, good)
    Path(first.stats.cache).write_bytes(b"garbage")
    again = build_index(src, good)
    assert again.stats.parsed == again.stats.files - 1 and _table(again) == _table(first)


def test_cache_inside_the_source_is_refused(fixture_repo):
    src = resolve_repo("acme_minipkg", str(fixture_repo), fixture_repo / ".cache")
    with pytest.raises(UsageError, match="inside the analysed source"):
        build_index(src, fixture_repo / ".cache")


def test_process_pool_gives_the_same_index(fixture_repo, tmp_path):
    # enough files to cross the pool threshold
    extra = fixture_repo / "src" / "minipkg" / "many"
    extra.mkdir()
    for i in range(80):
        (extra / f"m{i}.py").write_text(f"class C{i}:\n    def f(self, a={i}):\n        return a\n")
    src = resolve_repo("acme_minipkg", str(fixture_repo), tmp_path)
    serial = build_index(src, tmp_path / "a", workers=1)
    pooled = build_index(src, tmp_path / "b", workers=2)
    assert _table(serial) == _table(pooled)
    assert os.cpu_count() is not None


@pytest.mark.parametrize("depth", [99, 101, 1000])
def test_deep_nesting_keeps_what_python_sees_and_says_why_otherwise(depth):
    from tools.index.pyparse import parse_file

    src = "".join("    " * i + f"def f{i}():\n" for i in range(depth)) + "    " * depth + "pass\n"
    rec = parse_file("deep.py", "deep", False, src.encode())
    if depth < 100:
        assert rec.status == "ok" and len(rec.symbols) == depth
    else:  # CPython itself refuses more than 100 levels: nothing it could import is lost
        assert rec.status == "skipped" and "too many levels of indentation" in rec.reason


def test_a_dataclass_with_its_own_init_is_documented_by_that_init(fixture_repo, tmp_path):
    # RULES' canonical signature: a hand-written __init__ replaces the generated one (fields are not parameters)
    from tools.index.facts import canonical_signature, expected_inputs
    from tools.index.workspace import Workspace

    (fixture_repo / "src" / "minipkg" / "own_init.py").write_text(
        "from dataclasses import dataclass\n\n\n@dataclass\nclass Quant:\n    method: str = 'bnb'\n\n"
        "    def __init__(self, load_in_4bit=False, **kwargs):\n        self.method = 'bnb'\n\n\n"
        "@dataclass\nclass Plain:\n    rank: int = 8\n"
    )
    src = resolve_repo("acme_minipkg", str(fixture_repo), tmp_path)
    ws = Workspace(src, build_index(src, tmp_path / "c"))
    quant = ws.index.definition("minipkg.own_init", "Quant")
    plain = ws.index.definition("minipkg.own_init", "Plain")
    assert canonical_signature(ws, quant).splitlines() == [
        "@dataclass",
        "class Quant:",
        "    def __init__(self, load_in_4bit=False, **kwargs):",
    ]
    assert [(r.name, r.required, r.default) for r in expected_inputs(ws, quant)] == [
        ("load_in_4bit", False, "False"),
        ("kwargs", False, None),
    ]
    assert canonical_signature(ws, plain).splitlines() == ["@dataclass", "class Plain:", "    rank: int = 8"]
    assert [r.name for r in expected_inputs(ws, plain)] == ["rank"]


def test_brackets_python_refuses_keep_their_symbols_and_say_so():
    from tools.index.pyparse import parse_file

    src = "x = " + "[" * 2000 + "]" * 2000 + "\n\ndef kept():\n    return x\n"
    rec = parse_file("deep.py", "deep", False, src.encode())
    assert [s.name for s in rec.symbols] == ["kept"]
    assert rec.status == "partial" and "too many nested parentheses" in rec.reason


def test_atomic_writes_leave_no_temporary_file_and_replace_whole(tmp_path):
    from tools.atomic import atomic_write

    target = tmp_path / "sub" / "page.md"
    atomic_write(target, "old")
    atomic_write(target, "new ✓")
    assert target.read_text(encoding="utf-8") == "new ✓"
    assert [p.name for p in target.parent.iterdir()] == ["page.md"]
