"""Property tests: WorkflowIndexes mutated the way real ones come (dropped rows and columns, extra
pipes, odd names, truncation, duplicated steps) never end in a traceback. Parse → plan → locate on
many inputs; the whole offline run on fewer, each committed wiki verified."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fixture_repo import fixture_argv
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agents.nodes.plan import input_rewrites, plan_pairs, with_rewrites
from agents.run import main
from agents.verify.verifier import verify_wiki
from tools.wiki.load import load_wiki
from tools.errors import UsageError
from tools.index.build import build_index
from tools.locate import Locator
from tools.source.resolve import resolve_repo
from tools.wiki.workflow_index import parse_workflow_index
from tools.index.workspace import Workspace

FIXTURE_INDEX = Path(__file__).parent / "fixtures" / "minipkg_WorkflowIndex.md"
ODD = [
    "",
    "N/A (decision point)",
    "Bad-Name",
    "✅ `acme_minipkg_Engine` [→](./x.md)",
    "`a | b`",
    "名前",
    "`def f(x)`",
    "acme-minipkg_Thing",
    "   ",
    "`acme_minipkg_Engine`",
    "**`acme_minipkg_run_engine`**",
    "import minipkg",
]


def _drop_line(lines, k):
    if lines:
        del lines[k % len(lines)]


def _drop_column(lines, k):
    rows = [i for i, l in enumerate(lines) if l.lstrip().startswith("|")]
    if not rows:
        return
    col = 1 + k % 4
    for i in rows:
        cells = lines[i].split("|")
        if len(cells) > col + 1:
            del cells[col]
            lines[i] = "|".join(cells)


def _extra_pipe(lines, k):
    rows = [i for i, l in enumerate(lines) if l.lstrip().startswith("|")]
    if rows:
        i = rows[k % len(rows)]
        j = k % max(1, len(lines[i]))
        lines[i] = lines[i][:j] + "|" + lines[i][j:]


def _odd_name(lines, k):
    rows = [i for i, l in enumerate(lines) if re.match(r"^\| \*\*(Principle|Implementation|API Call)\*\* \|", l)]
    if rows:
        i = rows[k % len(rows)]
        key = lines[i].split("|")[1]
        lines[i] = f"|{key}| {ODD[k % len(ODD)]} |"


def _truncate(lines, k):
    if lines:
        del lines[max(1, k % len(lines)) :]


def _duplicate_step(lines, k):
    heads = [i for i, l in enumerate(lines) if l.startswith("### Step ")]
    if heads:
        a = heads[k % len(heads)]
        b = next((h for h in heads if h > a), len(lines))
        lines[b:b] = lines[a:b]


OPS = [_drop_line, _drop_column, _extra_pipe, _odd_name, _truncate, _duplicate_step]
mutations = st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 10**6)), min_size=1, max_size=4)


def _mutate(ops) -> str:
    lines = FIXTURE_INDEX.read_text().split("\n")
    for op, k in ops:
        op(lines, k)
    return "\n".join(lines)


@pytest.fixture(scope="module")
def fixture_ws(tmp_path_factory):
    from fixture_repo import make_fixture_repo

    base = tmp_path_factory.mktemp("prop")
    repo = make_fixture_repo(base)
    src = resolve_repo("acme_minipkg", str(repo), base / "cache")
    return repo, base / "cache", Workspace(src, build_index(src, base / "cache"))


@settings(
    max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=mutations)
def test_parse_plan_locate_never_raise_anything_but_a_usage_error(fixture_ws, ops):
    _, cache, ws = fixture_ws
    text = _mutate(ops)
    try:
        wi = parse_workflow_index(text, "wi.md")
    except UsageError as exc:
        assert re.match(r"^wi\.md(:\d+)?: ", str(exc)), str(exc)  # a refusal names the file (and line)
        return
    rewritten = with_rewrites(text, wi, input_rewrites(wi))
    wi = parse_workflow_index(rewritten, "wi.md")
    jobs, holds = plan_pairs(wi)
    assert len(jobs) + len(holds) >= 1
    assert all(h["reason"] for h in holds)
    locator = Locator(ws, cache)
    for step in wi.steps:
        loc = locator.locate(step, [e for e in wi.steps if e.workflow == step.workflow and e.number < step.number])
        assert loc.kind in ("internal", "external", "held")
        assert (loc.kind == "held") == (step.problem is not None)


@settings(max_examples=20, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=mutations)
def test_a_whole_offline_run_on_a_mutated_index_exits_cleanly_and_commits_only_what_verifies(
    fixture_ws, tmp_path_factory, capsys, ops
):
    repo, cache, ws = fixture_ws
    tmp = tmp_path_factory.mktemp("run")
    wi = tmp / "wi.md"
    wi.write_text(_mutate(ops))
    code = main(
        [
            *fixture_argv(repo, wi, tmp / "runs", cache),
            "--quiet",
        ]
    )
    err = capsys.readouterr().err
    assert code in (0, 1, 2), err
    assert "Traceback" not in err
    if code == 2:
        assert err.startswith("error: ") and err.count("\n") == 1, err
        return
    wiki = tmp / "runs" / "acme_minipkg" / "wiki"
    if any(wiki.rglob("*.md")):
        assert verify_wiki(load_wiki(wiki), ws).errors == []
