"""`python -m tools` for people: one-line errors with exit code 2, and the stable JSON contracts."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from tools.errors import UsageError
from tools.source.resolve import confine, resolve_repo
from tools.source.sdist import _unpack, parse_requirement

FIXTURES = Path(__file__).parent / "fixtures"


def run_cli(*args: str, cache: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "REPOWIKI_CACHE_DIR": str(cache)}
    return subprocess.run([sys.executable, "-m", "tools", *args], capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.parametrize(
    "args, message",
    [
        (["index", "--repo", "nobody_nothing"], "unknown repo 'nobody_nothing': pass --source PATH"),
        (["index", "--repo", "peft"], "bad repo name 'peft'"),
        (["index", "--source", "/no/such/folder"], "does not exist"),
        (["index", "--source", "pypi:not a name"], "bad package requirement"),
        (["index"], "say which repository"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, args, message):
    proc = run_cli(*args, cache=tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], proc.stderr


def test_tree_without_python_files(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("no code here")
    proc = run_cli("index", "--source", str(tmp_path / "empty"), cache=tmp_path / "c")
    assert proc.returncode == 2 and "no Python files" in proc.stderr


def test_malformed_workflow_index_names_its_line(tmp_path, fixture_repo):
    bad = tmp_path / "wi.md"
    bad.write_text(
        "# Workflow Index: acme_minipkg\n\n## Workflow: acme_minipkg_W\n\n### Step 1: X\n\n"
        "| Attribute | Value |\n|---|---|\n| **Principle** | `P` |\n"
    )
    proc = run_cli(
        "locate", "--source", str(fixture_repo), "--workflow-index", str(bad), "--json", cache=tmp_path / "c"
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        f"error: {bad}:5: step 1 of acme_minipkg_W: it has no Implementation row and its API "
        "Call names no API; nothing in this WorkflowIndex is usable: fix the step rows "
        "(see docs/workflow-index.md)"
    )


def test_index_summary_and_locate_json_contract(tmp_path, fixture_repo):
    cache = tmp_path / "c"
    first = run_cli("index", "--source", str(fixture_repo), cache=cache)
    assert first.returncode == 0 and len(first.stdout.strip().splitlines()) == 1
    assert "parsed 14" in first.stdout and str(cache) in first.stdout
    second = run_cli("index", "--source", str(fixture_repo), "--json", cache=cache)
    stats = json.loads(second.stdout)
    assert stats["parsed"] == 0 and stats["files"] == 15 and stats["repo"] == "local_minipkg"
    loc = run_cli(
        "locate",
        "--source",
        str(fixture_repo),
        "--workflow-index",
        str(FIXTURES / "minipkg_WorkflowIndex.md"),
        "--json",
        cache=cache,
    )
    assert loc.returncode == 0, loc.stderr
    rows = json.loads(loc.stdout)
    assert [r["implementation"] for r in rows] == [
        "acme_minipkg_Engine",
        "acme_minipkg_run_engine",
        "acme_minipkg_Engine_shutdown",
        "acme_minipkg_make_tool",
        "acme_minipkg_JSONDecoder_decode",
    ]
    assert rows[2] == {
        "implementation": "acme_minipkg_Engine_shutdown",
        "kind": "internal",
        "qualname": "BaseEngine.shutdown",
        "file": "src/minipkg/base.py",
        "start_line": 7,
        "end_line": 14,
        "confidence": rows[2]["confidence"],
    }


def test_navigation_subcommands(tmp_path, fixture_repo):
    cache = tmp_path / "c"
    text = run_cli("find-symbol", "Engine.shutdown", "--source", str(fixture_repo), cache=cache)
    assert text.returncode == 0 and "qualname=BaseEngine.shutdown" in text.stdout
    js = run_cli("read-lines", "src/minipkg/base.py", "1", "2", "--source", str(fixture_repo), "--json", cache=cache)
    assert json.loads(js.stdout)["source"] == '1 class BaseEngine:\n2     """Base of all engines."""'
    refused = run_cli("read-lines", "../outside/secret.py", "1", "2", "--source", str(fixture_repo), cache=cache)
    assert refused.returncode == 2 and refused.stderr.startswith("error: path '../outside/secret.py' contains '..'")
    schemas = run_cli("schemas", cache=cache)
    assert {s["function"]["name"] for s in json.loads(schemas.stdout)} >= {"find_symbol", "read_symbol"}


def test_installed_package_maps_to_repository_paths(tmp_path, monkeypatch):
    # jinja2 is installed with the project and registered with a src/ layout
    src = resolve_repo("pallets_jinja", None, tmp_path)
    assert src.origin == "installed" and src.prefix == "src/jinja2" and src.version
    assert confine(src, "src/jinja2/environment.py") == src.root / "environment.py"
    assert src.repo_path(src.root / "environment.py") == "src/jinja2/environment.py"
    from tools.errors import ToolError

    with pytest.raises(ToolError, match="only src/jinja2/ is available"):
        confine(src, "docs/index.rst")


def test_requirement_parsing():
    assert parse_requirement("peft==0.18.1") == ("peft", "0.18.1")
    assert parse_requirement("peft") == ("peft", None)
    with pytest.raises(UsageError, match="pypi:NAME==VERSION"):
        parse_requirement("peft>=1; rm -rf /")


def test_archives_that_escape_are_refused(tmp_path):
    bad_zip = tmp_path / "evil-1.0.zip"
    with zipfile.ZipFile(bad_zip, "w") as zf:
        zf.writestr("../evil.py", "x = 1\n")
    with pytest.raises(UsageError, match="outside its folder"):
        _unpack(bad_zip, tmp_path / "out1")
    bad_tar = tmp_path / "evil-1.0.tar.gz"
    with tarfile.open(bad_tar, "w:gz") as tf:
        data = b"x = 1\n"
        info = tarfile.TarInfo("../evil.py")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    with pytest.raises(UsageError, match="refusing evil-1.0.tar.gz"):
        _unpack(bad_tar, tmp_path / "out2")
    assert not (tmp_path / "evil.py").exists()


def test_pypi_source_is_reused_from_the_cache(peft_root):
    # peft_root came from fetch_sdist; resolving it again must not need the network
    from tools.source.resolve import default_cache_dir

    src = resolve_repo("huggingface_peft", "pypi:peft==0.18.1", default_cache_dir())
    assert src.root == peft_root.resolve() and src.version == "0.18.1" and src.origin == "pypi"
    assert len(src.revision) == 64  # the archive's sha256


def test_the_newest_release_is_asked_once_a_day(tmp_path, monkeypatch, caplog):
    import json as _json
    import time as _time
    from tools.source import sdist

    sources = tmp_path / "sources"
    (sources / "demo-pkg-1.2.3").mkdir(parents=True)
    (sources / "demo-pkg-1.2.3" / ".repowiki-source.json").write_text("{}")
    asked = []

    def no_index(*a, **k):
        asked.append(a)
        raise OSError("the package index was asked")

    monkeypatch.setattr(sdist.subprocess, "run", no_index)
    sdist._remember_latest(sources, "demo_pkg", "1.2.3")
    assert sdist.fetch_sdist("demo_pkg", tmp_path) == sources / "demo-pkg-1.2.3" and asked == []
    assert sdist.fetch_sdist("demo-pkg", tmp_path) == sources / "demo-pkg-1.2.3" and asked == []
    assert sum("newest release" in r.getMessage() for r in caplog.records) <= 1  # said once
    data = _json.loads((sources / ".latest.json").read_text())
    data["demo-pkg"]["at"] = _time.time() - sdist.LATEST_TTL - 1  # a day later: ask again
    (sources / ".latest.json").write_text(_json.dumps(data))
    with pytest.raises(OSError, match="package index was asked"):
        sdist.fetch_sdist("demo_pkg", tmp_path)


@pytest.mark.parametrize("cli", ["agents.run", "agents.verify.verifier", "agents.review.cli", "agents.update"])
def test_another_top_level_agents_package_is_one_line_and_exit_2(cli, monkeypatch, capsys):
    import importlib
    from agents import install_check

    monkeypatch.setattr(install_check, "_claims", lambda: {"agents": ["openai-agents", "repowiki"]})
    main = importlib.import_module(cli).main
    assert main(["--help"]) == 2
    err = capsys.readouterr().err
    assert (
        err.count("\n") == 1
        and "openai-agents also install(s) a top-level 'agents'" in err
        and "its own virtual environment" in err
    )


def test_this_installation_is_not_shadowed():
    from agents.install_check import shadowing_problem

    assert shadowing_problem() is None
