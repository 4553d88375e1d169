"""tools.examples.check (R45, R46, R47) case by case, and the rules through the verifier."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.verify.verifier import verify_pages
from tools.examples.check import CallTarget, call_problems, call_target, compile_problem, unbound_names, unused_imports
from tools.index.records import Param
from tools.index.workspace import Workspace

WIKI = Path(__file__).parent / "fixtures" / "wiki"


# --- R45: compile_problem ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "code, line",
    [
        ("x = 1\nreturn x\n", 2),
        ("yield 1\n", 1),
        ("import asyncio\nawait asyncio.sleep(0)\n", 2),
        ("for i in range(2):\n    pass\nbreak\n", 3),
        ("def f(a, a):\n    pass\n", 1),
    ],
)
def test_compile_problem_finds_what_the_compiler_rejects(code: str, line: int):
    problem = compile_problem(code)
    assert problem is not None and problem[0] == line and problem[1]


@pytest.mark.parametrize(
    "code",
    [
        "def f():\n    return 1\n",
        "def g():\n    yield 1\n",
        "async def h():\n    await h()\n",
        "print('fine')\n",
    ],
)
def test_compile_problem_accepts_valid_blocks(code: str):
    assert compile_problem(code) is None


# --- R45: unbound_names ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code, expected",
    [
        ("print(model)\n", [(1, "model")]),
        ("import torch\nout = model(torch.ones(2))\nprint(out, model)\n", [(2, "model")]),  # once, at first use
        ("total += 1\n", [(1, "total")]),  # an augmented assignment needs the name bound before
        ("y = [x for x in range(3)]\nprint(x2)\n", [(2, "x2")]),
        ("print(f'{result}')\n", [(1, "result")]),  # f-string fields are loads
        ("def f(a):\n    return a + b\n", [(2, "b")]),
        ("class C:\n    size: Missing = 3\n", [(2, "Missing")]),  # class-body annotations are evaluated
        ("cfg.x = 1\n", [(1, "cfg")]),  # an attribute store loads its object
    ],
)
def test_unbound_names_true_positives(code: str, expected: list):
    assert unbound_names(code) == expected


@pytest.mark.parametrize(
    "code",
    [
        "squares = [n * n for n in range(4)]\nprint({k: v for k, v in zip('ab', squares)})\n",
        "if (n := len('abc')) > 2:\n    print(n)\n",
        "def outer(a, *rest, key=None, **extra):\n    def inner(b, /, c):\n        return a + b + c\n"
        "    return inner(1, 2), rest, key, extra\n",
        "class Config:\n    size = 3\n    def double(self):\n        return self.size * 2\n\nprint(Config().double())\n",
        "try:\n    import missing_mod\nexcept ImportError as e:\n    print(e)\n",
        "import contextlib\nwith contextlib.nullcontext((1, 2)) as (a, b):\n    print(a, b)\n",
        "from os.path import *\nprint(join('a', 'b'), anything_else)\n",  # a star import may bind anything
        "counter = 0\ndef bump():\n    global counter\n    counter += 1\nbump()\n",
        "double = lambda v: v * 2\nprint(double(2))\n",
        "name = 'x'\nprint(f'{name!r:>10}')\n",
        "print(__name__, __file__, len([]), Exception)\n",
        "import os.path\nprint(os.path.sep)\n",
        "for i, (a, b) in enumerate([(1, 2)]):\n    print(i, a, b)\n",
        "match [1, 2]:\n    case [first, *others]:\n        print(first, others)\n    case {'k': v, **rest}:\n        print(v, rest)\n",
        "print(late)\nlate = 1\n",  # bound somewhere in the block: kept simple
        "x = 1\ndel x\n",
        "from __future__ import annotations\ndef f(a: NotImported) -> AlsoNot:\n    return a\n",
        "def f():\n    local: NeverEvaluated = 1\n    return local\n",
        "def f():\n    print(later_global)\nlater_global = 2\n",
    ],
)
def test_unbound_names_true_negatives(code: str):
    assert unbound_names(code) == []


def test_unbound_names_of_an_unparsable_block_is_left_to_r8():
    assert unbound_names("def broken(:\n") == []


# --- R47: unused_imports -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "code, expected",
    [
        ("import os\nprint(1)\n", [(1, "os")]),
        ("import numpy as np\nimport os\nprint(os.sep)\n", [(1, "np")]),
        ("from a import b, c\nprint(c)\n", [(1, "b")]),
        ("from a import helper\n__all__ = ['helper']\n", [(1, "helper")]),  # a string is not a use
        ("import a.b.c\n", [(1, "a")]),
    ],
)
def test_unused_imports_true_positives(code: str, expected: list):
    assert unused_imports(code) == expected


@pytest.mark.parametrize(
    "code",
    [
        "import numpy as np\nprint(np.zeros(2))\n",  # attribute use
        "import os.path\nprint(os.path.join('a'))\n",
        "from __future__ import annotations\nx = 1\n",
        "from os.path import *\n",
        "from typing import Any\ndef f(a: Any):\n    return a\n",  # an annotation uses it
        "import json\ndef dump(v):\n    return json.dumps(v)\n",
        "import itertools\nprint(f'{itertools.count}')\n",
    ],
)
def test_unused_imports_true_negatives(code: str):
    assert unused_imports(code) == []


# --- R46: call_problems ------------------------------------------------------------------------


def _p(name: str, kind: str = "positional_or_keyword", default: str | None = None) -> Param:
    return Param(name, kind, None, default)


FUNC = CallTarget(
    "build", False, (_p("model"), _p("config"), _p("name", default="'default'"), _p("fast", "keyword_only", "False"))
)
POSONLY = CallTarget("scale", False, (_p("x", "positional_only"), _p("factor", default="2")))
KWARGS = CallTarget("load", False, (_p("path"), _p("kwargs", "var_keyword")))
VARARGS = CallTarget("join", False, (_p("parts", "var_positional"), _p("sep", "keyword_only", "','")))
METHOD = CallTarget(
    "save",
    True,
    (_p("directory"), _p("safe", default="True")),
    self_param=_p("self"),
    receivers=frozenset({"Model", "SubModel"}),
    factories=frozenset({"load_model"}),
)


@pytest.mark.parametrize(
    "target, code, bad_lines",
    [
        (FUNC, "from lib import build\nbuild(m, c, wrong=1)\n", [2]),  # unknown keyword
        (FUNC, "from lib import build\nbuild(m)\n", [2]),  # required argument missing
        (FUNC, "from lib import build\nbuild(m, c, 'n', True)\n", [2]),  # fast is keyword-only
        (FUNC, "from lib import build as b\nb(m, c, unknown=1)\n", [2]),  # through an `as` alias
        (POSONLY, "from lib import scale\nscale(x=2)\n", [2]),  # positional-only given by keyword
        (VARARGS, "from lib import join\njoin('a', 'b', joiner='-')\n", [2]),
        (METHOD, "model = ...  # a loaded model\nmodel.save('out', unsafe=True)\n", [2]),  # the reader's object
        (METHOD, "model.save('out', True, 3)\n", [1]),  # a receiver the block never binds
        (
            METHOD,
            "from lib import Model\nModel.save(obj)\n",
            [2],
        ),  # through the class: self explicit, directory missing
        (METHOD, "from lib import Model as M\nM.save(obj, 'out', True, 1)\n", [2]),  # the class under an alias
        (METHOD, "from lib import load_model\nm = load_model()\nm.save(bogus=1)\n", [3]),  # built by a factory
        (METHOD, "from lib import Model\nm = Model.from_config(c)\nm.save()\n", [3]),  # built by a class method
        (METHOD, "from lib import SubModel\nSubModel(1).save('a', 'b', 'c')\n", [2]),  # a subclass instance
        (FUNC, "from lib import build\nbuild(m, c)\nbuild(m, c, bogus=2)\n", [3]),
    ],
)
def test_call_problems_true_positives(target: CallTarget, code: str, bad_lines: list[int]):
    problems = call_problems(code, target)
    assert [line for line, _ in problems] == bad_lines
    assert all(target.name in message for _, message in problems)


@pytest.mark.parametrize(
    "target, code",
    [
        (FUNC, "from lib import build\nbuild(m, c)\nbuild(m, config=c, name='x', fast=True)\n"),  # defaults
        (FUNC, "from lib import build\nbuild(*args)\nbuild(m, **options)\n"),  # unpacking: not judged
        (KWARGS, "from lib import load\nload('p', anything=1, other=2)\n"),  # **kwargs takes unknown keywords
        (VARARGS, "from lib import join\njoin('a', 'b', 'c', sep='-')\n"),
        (POSONLY, "from lib import scale\nscale(3, factor=4)\nscale(3, 4)\n"),
        (METHOD, "model = ...  # a model\nmodel.save('out')\nmodel.save(directory='out', safe=False)\n"),
        (METHOD, "from lib import Model\nModel.save(model, 'out')\n"),  # self passed explicitly
        (METHOD, "from lib import Other\nOther.save(model)\n"),  # another class's method of the same name
        (METHOD, "from transformers import AutoModel\nbase = AutoModel.from_pretrained('x')\nbase.save(1, 2, 3, 4)\n"),
        (METHOD, "tok = Tokenizer()\ntok.save()\nfor m in models:\n    m.save(1, 2, 3, 4)\n"),  # other origins
        (METHOD, "m = ...  # a model\nm.inner.save()\n"),  # an attribute of the object: another object
        (
            METHOD,
            "from lib import load_model\nm = load_model()\nm = m.merged()\nm.save()\n",
        ),  # rebound to something else
        (FUNC, "other.build(1, 2, 3, 4, 5, x=1)\n"),  # an attribute call is not the function
        (FUNC, "def build(*anything):\n    pass\nbuild(1, 2, 3, 4, 5)\n"),  # the block's own build
        (METHOD, "save('only a method call counts')\n"),
        (CallTarget("X", False, (), known=False), "X(1, 2, z=3)\n"),  # nothing known: nothing judged
    ],
)
def test_call_problems_true_negatives(target: CallTarget, code: str):
    assert call_problems(code, target) == []


def test_call_problems_takes_extra_aliases():
    assert [l for l, _ in call_problems("make = lib.build\nmake(1)\n", FUNC, {"make"})] == []  # rebound: not judged
    assert [l for l, _ in call_problems("make(1)\n", FUNC, {"make"})] == [1]


# --- call_target on the fixture package --------------------------------------------------------


def _sym(ws: Workspace, module: str, qualname: str):
    sym = ws.index.definition(module, qualname)
    assert sym is not None, qualname
    return sym


def test_call_target_of_function_class_dataclass_and_methods(ws: Workspace):
    run = call_target(ws, _sym(ws, "minipkg.core", "run_engine"))
    assert (run.name, run.is_method, [p.name for p in run.params]) == (
        "run_engine",
        False,
        ["engine", "jobs", "retries"],
    )
    engine = call_target(ws, _sym(ws, "minipkg.core", "Engine"))
    assert (engine.name, engine.is_method) == ("Engine", False)
    assert [(p.name, p.kind) for p in engine.params] == [
        ("config", "positional_or_keyword"),
        ("verbose", "keyword_only"),
    ]
    ctor = call_target(ws, _sym(ws, "minipkg.core", "Engine.__init__"))  # a constructor page: called as Engine(...)
    assert (ctor.name, ctor.is_method, ctor.params) == ("Engine", False, engine.params)
    cfg = call_target(ws, _sym(ws, "minipkg.core", "EngineConfig"))
    assert [(p.name, p.default) for p in cfg.params] == [
        ("name", None),
        ("workers", "2"),
        ("tags", "field(default_factory=list)"),
        ("ratio", "0.5"),
    ]
    shutdown = call_target(ws, _sym(ws, "minipkg.base", "BaseEngine.shutdown"))
    assert (shutdown.name, shutdown.is_method, [p.name for p in shutdown.params]) == ("shutdown", True, ["force"])
    assert shutdown.self_param is not None and shutdown.self_param.name == "self"
    assert shutdown.receivers == {"BaseEngine", "Engine"}  # the class and its subclasses
    helper = call_target(ws, _sym(ws, "minipkg.core", "Engine.helper"))  # a staticmethod keeps its first parameter
    assert [p.name for p in helper.params] == ["x", "y", "rest", "z", "opts"] and helper.self_param is None
    assert not call_target(ws, _sym(ws, "minipkg.core", "Engine.name")).known  # a property is not called
    plain = call_target(ws, _sym(ws, "minipkg.core", "Engine.Nested"))  # no __init__ anywhere: object's
    assert plain.known and plain.params == ()


def test_call_target_binds_like_python_on_the_fixture(ws: Workspace):
    engine = call_target(ws, _sym(ws, "minipkg.core", "Engine"))
    code = "from minipkg import Engine\nEngine(verbose=True)\nEngine(None, True)\nEngine(workers=2)\n"
    assert [l for l, _ in call_problems(code, engine)] == [3, 4]
    cfg = call_target(ws, _sym(ws, "minipkg.core", "EngineConfig"))
    code = "from minipkg.core import EngineConfig\nEngineConfig('a', 3, [], 0.1)\nEngineConfig(workers=3)\n"
    assert [l for l, _ in call_problems(code, cfg)] == [3]


@pytest.mark.peft
def test_call_target_of_an_inherited_dataclass_and_an_enum(peft_ws: Workspace):
    lora = call_target(peft_ws, _sym(peft_ws, "peft.tuners.lora.config", "LoraConfig"))
    names = [p.name for p in lora.params]
    assert lora.known and {"r", "lora_alpha", "target_modules", "task_type", "base_model_name_or_path"} <= set(names)
    assert call_problems("from peft import LoraConfig\nLoraConfig(r=8, lora_alpha=16, bogus=1)\n", lora)[0][0] == 2
    assert not call_target(peft_ws, _sym(peft_ws, "peft.utils.peft_types", "TaskType")).known  # an Enum


# --- through the verifier ----------------------------------------------------------------------


def _with_example(page: str, code: str) -> str:
    text = (WIKI / "implementations" / page).read_text(encoding="utf-8")
    start = text.index('<syntaxhighlight lang="python">', text.index("== Usage Examples =="))
    body = start + len('<syntaxhighlight lang="python">\n')
    end = text.index("</syntaxhighlight>", body)
    return text[:body] + code + text[end:]


def _example_findings(ws: Workspace, page: str, code: str) -> list[tuple[str, int]]:
    text = _with_example(page, code)
    findings = verify_pages({f"implementations/{page}": text}, "acme_minipkg", ws)
    block = text.splitlines().index(
        '<syntaxhighlight lang="python">', text[: text.index("== Usage Examples ==")].count("\n")
    )
    return [(f.rule, f.line - (block + 1)) for f in findings if f.rule in ("R45", "R46", "R47")]


def test_example_rules_run_through_verify_pages(ws: Workspace):
    code = (
        "import os\nfrom minipkg import Engine\n\nengine = Engine(verbose=True, speed=2)\n"
        "print(engine.name, tokenizer)\n"
    )
    assert _example_findings(ws, "acme_minipkg_Engine.md", code) == [("R47", 1), ("R46", 4), ("R45", 5)]
    honest = "from minipkg import Engine\n\nengine = Engine(verbose=True)\nprint(engine.name)\n"
    assert _example_findings(ws, "acme_minipkg_Engine.md", honest) == []


def test_method_calls_are_checked_on_a_method_page_and_return_is_r45(ws: Workspace):
    code = "engine = ...  # a started engine\nprint(engine.shutdown(True, False))\nreturn engine\n"
    assert _example_findings(ws, "acme_minipkg_Engine_shutdown.md", code) == [("R46", 2), ("R45", 3)]


def test_wrapper_doc_examples_get_r45_but_not_r46(ws: Workspace):
    code = "from json import JSONDecoder\n\nprint(JSONDecoder().decode('[]', 1, 2, 3), decoded)\n"
    assert _example_findings(ws, "acme_minipkg_JSONDecoder_decode.md", code) == [("R45", 3)]
