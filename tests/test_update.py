"""``python -m agents.update`` on local git repositories: an upstream library made from the fixture
repository, a wiki repository with a first run committed on main, then an upstream change that only
moves one function down. No network: every source is a local folder."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from agents import update
from agents.run import build_parser as run_parser
from agents.run import main as run_main
from fixture_repo import make_fixture_repo

FIXTURE_INDEX = Path(__file__).parent / "fixtures" / "minipkg_WorkflowIndex.md"
WORKFLOW = Path(__file__).resolve().parents[1] / "examples" / "ci" / "update-wiki.yml"
IMPL = "implementations/acme_minipkg_run_engine.md"


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(cwd), "-c", "user.name=tester", "-c", "user.email=t@example.com", *args],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


@pytest.fixture(autouse=True)
def _no_user_git_config(tmp_path_factory, monkeypatch):
    """The machine's git configuration (identity, signing, hooks) stays out: the update must work
    on a runner that has none."""
    empty = tmp_path_factory.getbasetemp() / "gitconfig-empty"
    empty.touch()
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(empty))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for var in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture(scope="module")
def first_run(tmp_path_factory) -> Path:
    """upstream/ (the library, one commit) and wikirepo/ (its wiki from a first run, committed on main)."""
    base = tmp_path_factory.mktemp("update")
    with pytest.MonkeyPatch.context() as mp:
        empty = base / "gitconfig-empty"
        empty.touch()
        mp.setenv("GIT_CONFIG_GLOBAL", str(empty))
        mp.setenv("GIT_CONFIG_NOSYSTEM", "1")
        upstream = make_fixture_repo(base)
        _git(upstream, "init", "-q", "-b", "main")
        _git(upstream, "add", "-A")
        _git(upstream, "commit", "-q", "-m", "v1")
        wr = base / "wikirepo"
        wr.mkdir()
        _git(wr, "init", "-q", "-b", "main")
        (wr / "README.md").write_text("the wiki of minipkg\n")
        _git(wr, "add", "-A")
        _git(wr, "commit", "-q", "-m", "init")
        assert (
            run_main(
                [
                    "--repo",
                    "acme_minipkg",
                    "--source",
                    str(upstream),
                    "--workflow-index",
                    str(FIXTURE_INDEX),
                    "--wiki",
                    str(wr / "wiki"),
                    "--runs",
                    str(base / "runs"),
                    "--cache-dir",
                    str(base / "cache"),
                    "--quiet",
                ]
            )
            == 0
        )
        _git(wr, "add", "-A")
        _git(wr, "commit", "-q", "-m", "wiki: first run")
    return base


@pytest.fixture
def repos(first_run: Path, tmp_path: Path) -> Path:
    """A private copy of the two repositories (the cache is shared: it is keyed by content)."""
    for name in ("minirepo", "wikirepo"):
        shutil.copytree(first_run / name, tmp_path / name, symlinks=True)
    return tmp_path


def _update(repos: Path, first_run: Path, *extra: str) -> int:
    return update.main(
        [
            "--repo",
            "acme_minipkg",
            "--source",
            str(repos / "minirepo"),
            "--wiki",
            str(repos / "wikirepo" / "wiki"),
            "--runs",
            str(repos / "runs"),
            "--cache-dir",
            str(first_run / "cache"),
            "--workflow-index",
            str(FIXTURE_INDEX),
            "--quiet",
            *extra,
        ]
    )


def _branches(repo: Path) -> list[str]:
    return _git(repo, "for-each-ref", "--format=%(refname:short)", "refs/heads").split()


def _move_run_engine_down(upstream: Path) -> None:
    core = upstream / "src" / "minipkg" / "core.py"
    text = core.read_text()
    assert "\n@traced\ndef run_engine" in text
    core.write_text(
        text.replace("\n@traced\ndef run_engine", "\n# moved down by\n# three lines\n\n@traced\ndef run_engine")
    )
    _git(upstream, "commit", "-q", "-am", "move run_engine down")


def test_a_moved_function_gives_a_branch_that_touches_only_its_page(repos, first_run, capsys):
    _move_run_engine_down(repos / "minirepo")
    wr = repos / "wikirepo"
    main_before = _git(wr, "rev-parse", "main").strip()
    code = _update(repos, first_run)
    out, err = capsys.readouterr()
    assert code == 0, err
    rev = _git(repos / "minirepo", "rev-parse", "HEAD").strip()
    branch = f"wiki-update/{rev[:8]}"
    assert f"branch: {branch}" in out.splitlines()
    assert sorted(_branches(wr)) == sorted(["main", branch])
    # the user's checkout is as it was: on main, main untouched, nothing left in the working tree
    assert _git(wr, "symbolic-ref", "--short", "HEAD").strip() == "main"
    assert _git(wr, "rev-parse", "main").strip() == main_before
    assert _git(wr, "status", "--porcelain").strip() == ""
    assert _git(wr, "rev-parse", f"{branch}^").strip() == main_before  # one commit on top of the base
    changed = set(_git(wr, "diff", "--name-only", "main", branch).split())
    assert f"wiki/{IMPL}" in changed
    assert "wiki/_reports/verified_source.json" in changed
    assert {f for f in changed if not f.startswith("wiki/_reports/")} <= {
        f"wiki/{IMPL}",
        "wiki/_ImplementationIndex.md",
    }
    assert _git(wr, "log", "-1", "--format=%an <%ae>", branch).strip() == "repowiki <repowiki@localhost>"
    body_path = Path(next(l for l in out.splitlines() if l.startswith("pr-body: ")).removeprefix("pr-body: "))
    body = body_path.read_text()
    assert body_path.parent.parent == repos / "runs" / "acme_minipkg"
    assert "## Changes since the last verified source" in body and "## Verification" in body
    assert re.search(r"Verified \(python -m agents\.verify\): 11 pages, 0 errors", body)
    assert f"M {'wiki/' + IMPL}" in body  # the files list

    message = _git(wr, "log", "-1", "--format=%B", branch)
    assert json.loads((body_path.parent / "summary.json").read_text())["drift"]["from"]["revision"]
    old = _git(repos / "minirepo", "rev-parse", "HEAD^").strip()
    assert message.splitlines()[0] == f"wiki: minipkg {old[:8]} → {rev[:8]}: 1 moved, 0 changed, 0 gone"
    assert re.search(rf"^moved +{re.escape(IMPL)} +L80-85 → L83-88$", message, re.MULTILINE), message
    assert out.splitlines()[0] == message.splitlines()[0]
    # a moved page is re-stamped: only its Lines bullet and its Last Updated stamp differ
    diff = _git(wr, "diff", "-U0", "main", branch, "--", f"wiki/{IMPL}").splitlines()
    edits = [l for l in diff if l[:1] in "+-" and not l.startswith(("+++", "---"))]
    assert edits and all("'''Lines:'''" in l or "last_updated::" in l for l in edits), edits


def test_the_branch_starts_from_the_base_and_the_user_is_put_back(repos, first_run, capsys):
    wr = repos / "wikirepo"
    _git(wr, "switch", "-q", "-c", "notes")
    (wr / "README.md").write_text("notes of someone else\n")
    _git(wr, "commit", "-q", "-am", "notes")
    _move_run_engine_down(repos / "minirepo")
    assert _update(repos, first_run, "--base", "main", "--branch", "wiki/next") == 0
    assert "branch: wiki/next" in capsys.readouterr().out
    assert _git(wr, "rev-parse", "wiki/next^").strip() == _git(wr, "rev-parse", "main").strip()
    assert _git(wr, "symbolic-ref", "--short", "HEAD").strip() == "notes"
    assert (wr / "README.md").read_text() == "notes of someone else\n"
    assert "README.md" not in _git(wr, "diff", "--name-only", "main", "wiki/next")


def test_an_update_with_nothing_new_makes_no_branch(repos, first_run, capsys):
    wr = repos / "wikirepo"
    assert _update(repos, first_run) == 0
    out = capsys.readouterr().out
    assert "no change" in out and "branch:" not in out
    assert _branches(wr) == ["main"]
    assert _git(wr, "status", "--porcelain").strip() == ""


def test_a_wiki_failing_its_verifier_after_the_run_is_not_committed(repos, first_run, capsys, monkeypatch):
    _move_run_engine_down(repos / "minirepo")
    monkeypatch.setattr(update, "verify", lambda repo, wiki, run_dir: (1, "Verified: 1 error.", "R23 a finding"))
    assert _update(repos, first_run) == 1
    err = capsys.readouterr().err
    assert "error: the wiki fails its verifier after the run (1 errors; first: R23 a finding)" in err
    assert _branches(repos / "wikirepo") == ["main"]


def _one_error_line(capsys) -> str:
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in captured.err, captured.err
    return lines[0]


def test_a_dirty_wiki_is_refused_before_anything_runs(repos, first_run, capsys):
    page = repos / "wikirepo" / "wiki" / IMPL
    page.write_text(page.read_text() + "\nhand edit\n")
    assert _update(repos, first_run) == 2
    assert "has uncommitted changes (1 files, e.g. wiki/" + IMPL + ")" in _one_error_line(capsys)
    assert not (repos / "runs").exists()  # nothing ran
    (repos / "wikirepo" / "wiki" / "notes.md").write_text("untracked\n")
    _git(repos / "wikirepo", "checkout", "--", "wiki")
    assert _update(repos, first_run) == 2  # an untracked file counts too
    assert "e.g. wiki/notes.md" in _one_error_line(capsys)


def test_bad_checkouts_give_one_line_and_exit_2(repos, first_run, tmp_path, capsys):
    plain = tmp_path / "plain" / "wiki"
    plain.mkdir(parents=True)
    assert update.main(["--repo", "acme_minipkg", "--source", str(repos / "minirepo"), "--wiki", str(plain)]) == 2
    assert "is not inside a git working tree" in _one_error_line(capsys)
    assert _update(repos, first_run, "--base", "nope") == 2
    assert "unknown base branch 'nope'" in _one_error_line(capsys)
    _git(repos / "wikirepo", "branch", "taken")
    assert _update(repos, first_run, "--branch", "taken") == 2
    assert "branch taken already exists" in _one_error_line(capsys)
    assert (
        update.main(
            [
                "--repo",
                "acme_minipkg",
                "--wiki",
                str(repos / "wikirepo" / "wiki"),
                "--runs",
                str(repos / "wikirepo" / "wiki" / "runs"),
            ]
        )
        == 2
    )
    assert "is inside the wiki folder" in _one_error_line(capsys)
    assert not (repos / "runs").exists()


def test_the_first_line_counts_the_drift_classes():
    src = {
        "package": "peft",
        "version": "0.18.1",
        "sha256": "ab",
        "revision": None,
        "origin": "pypi",
        "verified_at": "2026-12-01T12:00:00Z",
    }
    drift = {
        "from": src,
        "to": {**src, "version": "0.18.2"},
        "pages": [{"page": f"implementations/p{i}.md", "class": "moved", "what": "L1-2 → L3-4"} for i in range(3)]
        + [
            {"page": "implementations/c.md", "class": "changed", "what": "body changed"},
            {"page": "implementations/u.md", "class": "unchanged", "what": ""},
        ],
    }
    assert update.first_line(drift, {}, 0) == "wiki: peft 0.18.1 → 0.18.2: 3 moved, 1 changed, 0 gone"
    msg = update.commit_message(drift, {}, 2, {"implementations/c.md": "R24 signature"}, "Verified.")
    lines = msg.splitlines()
    assert lines[0] == "wiki: peft 0.18.1 → 0.18.2: 3 moved, 1 changed, 0 gone, 2 new"
    assert "changed  implementations/c.md  body changed (held)" in lines
    assert not any("u.md" in l for l in lines) and lines[-1] == "Verified."
    git_src = {"package": "minipkg", "version": None, "revision": "0123456789abcdef", "origin": "path"}
    first = {"from": None, "to": git_src, "pages": []}
    assert update.first_line(first, {}, 11) == "wiki: minipkg 01234567: 0 moved, 0 changed, 0 gone, 11 new"
    again = {"from": git_src, "to": git_src, "pages": []}
    assert update.first_line(again, {}, 0) == "wiki: minipkg 01234567 (re-verified): 0 moved, 0 changed, 0 gone"


def test_the_ci_workflow_parses_and_calls_the_update_with_known_options():
    wf = yaml.safe_load(WORKFLOW.read_text())
    on = wf.get("on", wf.get(True))  # YAML 1.1 reads a bare `on` key as true
    assert re.fullmatch(r"[\d*/, -]+", on["schedule"][0]["cron"])
    assert "workflow_dispatch" in on and on["repository_dispatch"]["types"] == ["library-released"]
    steps = [s for job in wf["jobs"].values() for s in job["steps"]]
    assert any(s.get("with", {}).get("python-version") == "3.11" for s in steps)
    runs = [s["run"] for s in steps if "run" in s]
    call = next(r for r in runs if "python -m agents.update" in r)
    known = {o for p in (update.build_parser(), run_parser()) for a in p._actions for o in a.option_strings}
    command = re.search(r"python -m agents\.update((?:[^\n]*\\\n)*[^\n]*)", call).group(1)  # to the line's end
    used = set(re.findall(r"(?<![\w-])--[a-z][a-z-]+", command))
    assert used and used <= known, used - known
    env = {k: v for s in steps for k, v in (s.get("env") or {}).items()}
    assert env["OPENAI_API_KEY"] == "${{ secrets.OPENAI_API_KEY }}" and env["GH_TOKEN"] == "${{ github.token }}"
    assert any("gh pr create" in r and "--body-file" in r for r in runs)


def _files(wiki: Path) -> dict[str, bytes]:
    return {p.relative_to(wiki).as_posix(): p.read_bytes() for p in sorted(wiki.rglob("*")) if p.is_file()}


@pytest.fixture
def ignored_wiki(first_run: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A clone whose .gitignore holds runs/ (as this project's does), with a first run's wiki at the run's
    default place inside it: (the clone, the wiki)."""
    shutil.copytree(first_run / "minirepo", tmp_path / "minirepo", symlinks=True)
    clone = tmp_path / "clone"
    clone.mkdir()
    _git(clone, "init", "-q", "-b", "main")
    (clone / ".gitignore").write_text("runs/\n")
    _git(clone, "add", "-A")
    _git(clone, "commit", "-q", "-m", "init")
    wiki = clone / "runs" / "acme_minipkg" / "wiki"
    shutil.copytree(first_run / "wikirepo" / "wiki", wiki)
    return clone, wiki


def _update_ignored(tmp_path: Path, first_run: Path, wiki: Path) -> int:
    return update.main(
        [
            *["--repo", "acme_minipkg", "--source", str(tmp_path / "minirepo"), "--wiki", str(wiki)],
            *["--runs", str(wiki.parent.parent), "--cache-dir", str(first_run / "cache")],
            *["--workflow-index", str(FIXTURE_INDEX), "--quiet"],
        ]
    )


def test_an_update_of_a_git_ignored_wiki_says_what_it_changed_in_place(ignored_wiki, first_run, tmp_path, capsys):
    clone, wiki = ignored_wiki
    _move_run_engine_down(tmp_path / "minirepo")
    before = _files(wiki)
    assert _update_ignored(tmp_path, first_run, wiki) == 0
    out, err = capsys.readouterr()
    after = _files(wiki)
    assert sorted(k for k in before if before[k] != after.get(k)) == sorted(
        [IMPL, "_ImplementationIndex.md", "_reports/verified_source.json"]
    )
    new, old = (_git(tmp_path / "minirepo", "rev-parse", r).strip()[:8] for r in ("HEAD", "HEAD^"))
    assert out.splitlines() == [
        f"wiki: minipkg {old} → {new}: 1 moved, 0 changed, 0 gone",
        f"no branch made: git ignores {wiki}; the update is written there in place: 1 pages rewritten, 0 new, "
        "0 removed; 2 index and record files updated",
    ]
    assert err == (
        f"note: git ignores the wiki folder {wiki} (in {clone}): the update cannot be committed on a branch and "
        "is written in place\n"
    )
    assert _branches(clone) == ["main"] and _git(clone, "status", "--porcelain") == ""
    assert _update_ignored(tmp_path, first_run, wiki) == 0  # again: nothing left to do, and it says so
    assert capsys.readouterr().out.splitlines()[1] == f"no branch made: git ignores {wiki}; nothing in it changed"


def test_held_pages_exit_1_as_documented_with_each_page_and_reason(ignored_wiki, first_run, tmp_path, capsys):
    _, wiki = ignored_wiki
    core = tmp_path / "minirepo" / "src" / "minipkg" / "core.py"
    core.write_text(core.read_text().split("\n\n@traced\ndef run_engine(")[0] + "\n")
    _git(tmp_path / "minirepo", "commit", "-q", "-am", "run_engine removed")
    assert _update_ignored(tmp_path, first_run, wiki) == 1
    out = capsys.readouterr().out.splitlines()
    held = [l for l in out if l.startswith("held: ")]
    assert held and all(re.fullmatch(r"held: \S+\.md: .+", l) for l in held)
    assert out[-1].startswith(f"{len(held)} pages held (report: ")


def test_a_downgrade_is_named():
    src = {"package": "peft", "version": "0.18.1", "sha256": "ab", "revision": None, "origin": "pypi"}
    drift = {"from": src, "to": {**src, "version": "0.17.1"}, "pages": []}
    assert update.first_line(drift, {}, 0) == "wiki: peft 0.18.1 → 0.17.1 (a downgrade): 0 moved, 0 changed, 0 gone"
    up = {"from": src, "to": {**src, "version": "0.18.10"}, "pages": []}
    assert update.first_line(up, {}, 0) == "wiki: peft 0.18.1 → 0.18.10: 0 moved, 0 changed, 0 gone"
    assert not update.downgrade({"version": None}, {"version": "0.1"})


@pytest.mark.peft
def test_the_readme_users_update_peft_0_18_1_to_0_17_1_on_the_default_wiki_in_a_clone(tmp_path, capsys):
    """As met: the run's default wiki (runs/<repo>/wiki, git-ignored in the clone), updated to an older
    release: the output names the downgrade, says where the changes went and exits as documented."""
    from tools.source.resolve import default_cache_dir
    from tools.source.sdist import fetch_sdist

    for version in ("0.18.1", "0.17.1"):
        fetch_sdist(f"peft=={version}", default_cache_dir())  # cached by the README's test command
    clone = tmp_path / "clone"
    (clone / "runs").mkdir(parents=True)
    (clone / "runs" / ".gitignore").write_text("*\n!.gitignore\n")
    _git(clone, "init", "-q", "-b", "main")
    _git(clone, "add", "-A")
    _git(clone, "commit", "-q", "-m", "init")
    wiki, runs = clone / "runs" / "huggingface_peft" / "wiki", clone / "runs"
    assert (
        run_main(["--repo", "huggingface_peft", "--source", "pypi:peft==0.18.1", "--runs", str(runs), "--quiet"]) == 0
    )
    before = _files(wiki)
    argv = ["--repo", "huggingface_peft", "--source", "pypi:peft==0.17.1", "--wiki", str(wiki), "--runs", str(runs)]
    code = update.main([*argv, "--quiet"])
    out = capsys.readouterr().out.splitlines()
    after = _files(wiki)
    assert re.fullmatch(r"wiki: peft 0\.18\.1 → 0\.17\.1 \(a downgrade\): \d+ moved, \d+ changed, \d+ gone", out[0])
    pages = [k for k in before.keys() | after.keys() if "/" in k and not k.startswith("_reports/")]
    rewritten = sum(1 for k in pages if k in before and k in after and before[k] != after[k])
    removed = sum(1 for k in pages if k not in after)
    added = sum(1 for k in pages if k not in before)
    assert out[1].startswith(
        f"no branch made: git ignores {wiki}; the update is written there in place: {rewritten} pages rewritten, "
        f"{added} new, {removed} removed"
    )
    held = [l for l in out if l.startswith("held: ")]
    assert code == (1 if held else 0)
    assert _branches(clone) == ["main"]
