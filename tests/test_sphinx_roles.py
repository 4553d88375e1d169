"""Sphinx cross-reference roles reach a page as the names the built docs show: ``Returns
:class:`Response` object.`` reads ``Returns Response object.``; field lists are not roles."""

from __future__ import annotations

import pytest

from agents.draft.drafter import plain
from tools.index.docstrings import plain_roles, summary


@pytest.mark.parametrize(
    "text, shown",
    [
        ("Returns :class:`Response` object.", "Returns Response object."),
        (":class:`Request <Request>` sent from this :class:`Session <Session>`.", "Request sent from this Session."),
        ("Calls :meth:`~Session.request` first.", "Calls request first."),
        ("See :py:func:`requests.get`.", "See requests.get."),
        ("Set :attr:`!loader` before.", "Set loader before."),
        ("model (:obj:`nn.Module`): the model", "model (nn.Module): the model"),
        (":param source: Jinja source", ":param source: Jinja source"),
        ("a `code` span and :rtype: here", "a `code` span and :rtype: here"),
    ],
)
def test_a_role_reads_as_its_name(text, shown):
    assert plain_roles(text) == shown


@pytest.mark.peft
def test_a_real_docstring_summary_is_flattened_without_its_roles(peft_ws):
    (cfg,) = [s for s in peft_ws.index.by_name["LNTuningConfig"] if s.kind == "class"]
    raw = summary(cfg.docstring)
    assert ":class:`~peft.tuners.LNTuningModel`" in raw
    assert plain(raw).startswith("This is the configuration class to store the configuration of a LNTuningModel.")


def test_the_installed_jinja2_page_prose_carries_no_role(tmp_path):
    """jinja2 documents with roles (``without using :attr:`loader` ``): a run's pages show the names."""
    import re
    import subprocess
    import sys

    from fixture_repo import FIXTURES

    (tmp_path / "wi.md").write_text((FIXTURES / "jinja_WorkflowIndex.md").read_text())
    env = {"REPOWIKI_CACHE_DIR": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(
        [sys.executable, "-m", "agents.run", "--repo", "pallets_jinja", "--workflow-index", "wi.md", "--quiet"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    pages = list((tmp_path / "runs" / "pallets_jinja" / "wiki").rglob("*.md"))
    assert len(pages) == 8  # 2 + 2 pages, the workflow, _WorkflowIndex.md and two index files
    found = [(p.name, m.group(0)) for p in pages for m in re.finditer(r":[a-z]+:`[^`]*`", p.read_text())]
    assert found == []
    page = tmp_path / "runs" / "pallets_jinja" / "wiki" / "implementations" / "pallets_jinja_Environment_from_string.md"
    assert "Load a template from a source string without using loader." in page.read_text()
