"""Reviewing a run: the review commands on a run of the offline pipeline, the decisions the next
run respects, the static HTML site (escaping) and a real headless Chromium."""

from __future__ import annotations

import json
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fixture_repo import fixture_argv
from read_only import run_read_only

from agents.review.cli import main as review
from agents.run import main as run
from agents.verify.verifier import verify_wiki
from tools.wiki.load import load_wiki
from tools.index.build import build_index
from tools.source.resolve import resolve_repo
from tools.index.workspace import Workspace

KEYS = '''"""Key handling."""


def load_key(name: str, strict: bool = False) -> str:
    """Read the key sk-ABCDEFGHIJKLMNOPQRSTUVWX1234 named <script>alert('pwned')</script> from the environment."""
    return name
'''


def _index(tmp_path: Path) -> Path:
    def step(n, principle, impl, api):
        return (
            f"### Step {n}: {principle}\n\n| Attribute | Value |\n|---|---|\n| **Principle** | `acme_minipkg_{principle}` |\n"
            f"| **Implementation** | `acme_minipkg_{impl}` |\n| **API Call** | `{api}` |\n"
            "| **Inputs** | A name |\n| **Outputs** | A value |\n\n"
        )

    path = tmp_path / "wi.md"
    path.write_text(
        "# Workflow Index: acme_minipkg\n\n## Workflow: acme_minipkg_Good\n\n**Description:** Run jobs.\n\n"
        + step(1, "Engine_Setup", "Engine", "Engine(config)")
        + step(2, "Job_Execution", "run_engine", "run_engine(engine, jobs)")
        + "---\n\n## Workflow: acme_minipkg_Keys\n\n**Description:** Load a key.\n\n"
        + step(1, "Key_Loading", "load_key", 'load_key("prod")')
        + step(2, "Job_Execution", "run_engine", "run_engine(engine, jobs)")
    )
    return path


@pytest.fixture
def reviewed_run(fixture_repo, tmp_path, monkeypatch):
    (fixture_repo / "src" / "minipkg" / "keys.py").write_text(KEYS)
    runs = tmp_path / "runs"
    args = [
        *fixture_argv(fixture_repo, _index(tmp_path), runs, tmp_path / "cache"),
        "--quiet",
    ]
    assert run([*args, "--max-repairs", "0"]) == 1  # the docstring's key fails R36: held
    monkeypatch.chdir(tmp_path)
    return runs, args


def _ws(fixture_repo, tmp_path):
    src = resolve_repo("acme_minipkg", str(fixture_repo), tmp_path / "cache")
    return Workspace(src, build_index(src, tmp_path / "cache"))


def test_list_shows_status_findings_and_confidence(reviewed_run, capsys):
    runs, _ = reviewed_run
    assert review(["--runs", str(runs), "list", "--json"]) == 0
    rows = {r["page"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["implementations/acme_minipkg_Engine.md"]["status"] == "committed"
    assert rows["implementations/acme_minipkg_load_key.md"]["status"] == "held"
    assert rows["implementations/acme_minipkg_load_key.md"]["findings"] >= 1
    assert rows["workflows/acme_minipkg_Keys.md"]["status"] == "held"
    assert rows["workflows/acme_minipkg_Good.md"]["status"] == "committed"
    assert rows["implementations/acme_minipkg_run_engine.md"]["confidence"] not in (None, "—")


def test_show_prints_draft_findings_and_source(reviewed_run, capsys):
    runs, _ = reviewed_run
    assert review(["--runs", str(runs), "show", "acme_minipkg_load_key"]) == 0
    out = capsys.readouterr().out
    assert "== implementations/acme_minipkg_load_key.md (held)" in out
    assert "R36 [E]" in out and "line " in out
    assert (
        "== source src/minipkg/keys.py:L4-6" in out and "def load_key(name: str, strict: bool = False) -> str:" in out
    )


def test_diff_against_the_wiki(reviewed_run, capsys):
    runs, _ = reviewed_run
    wiki_page = runs / "acme_minipkg" / "wiki" / "implementations" / "acme_minipkg_Engine.md"
    wiki_page.write_text(wiki_page.read_text().replace("== Overview ==", "== Overview ==\n\nEdited by hand."))
    assert review(["--runs", str(runs), "diff", "implementations/acme_minipkg_Engine.md"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("--- wiki/implementations/acme_minipkg_Engine.md") and "-Edited by hand." in out
    assert review(["--runs", str(runs), "list", "--json"]) == 0
    rows = {r["page"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["implementations/acme_minipkg_Engine.md"]["status"] == "changed"


def test_approve_an_edited_held_page_commits_it_and_a_rerun_keeps_it(reviewed_run, fixture_repo, tmp_path, capsys):
    runs, args = reviewed_run
    run_dir = (runs / "acme_minipkg" / "latest").resolve()
    held = run_dir / "held" / "implementations" / "acme_minipkg_load_key.md"
    assert (
        review(
            [
                "--runs",
                str(runs),
                "approve",
                "implementations/acme_minipkg_load_key.md",
                "principles/acme_minipkg_Key_Loading.md",
            ]
        )
        == 1
    )  # still has the key: refused
    assert "not committed: implementations/acme_minipkg_load_key.md" in capsys.readouterr().out
    text = held.read_text()
    # the reviewer rewrites the sentence that quotes the key (wherever the drafter put it)
    held.write_text(
        "\n".join(
            "`load_key` reads a key from the environment, by name." if "sk-ABCDEF" in line else line
            for line in text.splitlines()
        )
        + "\n"
    )
    assert (
        review(
            [
                "--runs",
                str(runs),
                "approve",
                "implementations/acme_minipkg_load_key.md",
                "principles/acme_minipkg_Key_Loading.md",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "approved and committed: implementations/acme_minipkg_load_key.md" in out
    wiki = runs / "acme_minipkg" / "wiki"
    assert (wiki / "workflows" / "acme_minipkg_Keys.md").is_file()  # its workflow is complete now
    assert verify_wiki(load_wiki(wiki), _ws(fixture_repo, tmp_path)).errors == []
    decisions = [json.loads(l) for l in (run_dir / "decisions.jsonl").read_text().splitlines()]
    assert [d["decision"] for d in decisions] == ["approve", "approve"]
    approved = (wiki / "implementations" / "acme_minipkg_load_key.md").read_text()
    assert run([*args, "--force"]) == 0  # the human-approved page is not overwritten, even forced
    assert (wiki / "implementations" / "acme_minipkg_load_key.md").read_text() == approved


def test_reject_is_respected_by_the_next_run(reviewed_run, capsys):
    runs, args = reviewed_run
    assert (
        review(
            [
                "--runs",
                str(runs),
                "reject",
                "implementations/acme_minipkg_run_engine.md",
                "--reason",
                "documents the wrong overload",
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert run([*args, "--force", "--json"]) == 1
    held = json.loads(capsys.readouterr().out)["held"]
    assert "rejected by the reviewer" in held["implementations/acme_minipkg_run_engine.md"]
    assert "documents the wrong overload" in held["implementations/acme_minipkg_run_engine.md"]


def test_unknown_run_or_page_is_one_line_and_exit_2(reviewed_run, capsys):
    runs, _ = reviewed_run
    assert review(["--runs", str(runs), "list", "20990101T000000000Z"]) == 2
    assert capsys.readouterr().err.startswith("error: no run '20990101T000000000Z'")
    assert review(["--runs", str(runs), "show", "nothing_here"]) == 2
    assert "no page 'nothing_here'" in capsys.readouterr().err
    assert review(["--runs", str(runs / "nowhere"), "list"]) == 2


def test_html_escapes_source_and_links_pages(reviewed_run):
    runs, _ = reviewed_run
    site = runs / "acme_minipkg" / "latest" / "review"
    index = (site / "index.html").read_text()
    assert 'href="pages/acme_minipkg_Engine.html"' in index and "held" in index
    page = (site / "pages" / "acme_minipkg_load_key.html").read_text()
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page
    assert "<script" not in index and "<script" not in page
    workflow = (site / "pages" / "acme_minipkg_Good.html").read_text()
    assert 'href="acme_minipkg_Engine_Setup.html"' in workflow
    assert "Mermaid source" in workflow


HOSTILE_NAME = "acme_minipkg_<script>alert('name')"
HOSTILE_PAGE = f"implementations/{HOSTILE_NAME}.md"
HOSTILE_FINDING = {
    "stage": "draft",
    "rule": "R36",
    "severity": 'E" onmouseover="alert(1)',
    "page": HOSTILE_PAGE,
    "line": 1,
    "message": "<script>alert('finding')</script>",
    "hint": "<img src=x onerror=alert(1)>",
}


def _inject_markup(runs: Path) -> Path:
    """Markup where the run's data can carry it: a page named with a tag whose text quotes a hostile
    docstring, and a finding whose message, hint and severity are markup; then the site is rewritten."""
    run_dir = _latest(runs)
    text = (run_dir / "held" / "implementations" / "acme_minipkg_load_key.md").read_text()
    text += "\n== Notes ==\n\nIts docstring: '''<script>alert('docstring')</script>''' and `<b onclick=alert(1)>`.\n"
    (run_dir / "drafts" / HOSTILE_PAGE).write_text(text)
    with open(run_dir / "findings.jsonl", "a", encoding="utf-8") as fh:
        fh.write(json.dumps(HOSTILE_FINDING) + "\n")
    assert review(["--runs", str(runs), "html"]) == 0
    return run_dir / "review"


class _Dom(HTMLParser):
    """The elements and text of a page as a browser's parser reads them (character references decoded)."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.open: list[str] = []
        self.texts: list[tuple[tuple[str, ...], str]] = []  # (open elements, text)
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in ("br", "meta"):
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.open:
            del self.open[len(self.open) - 1 - self.open[::-1].index(tag) :]

    def handle_data(self, data: str) -> None:
        self.texts.append((tuple(self.open), data))

    def text(self, inside: str = "html") -> str:
        return "".join(d for where, d in self.texts if inside in where)


def test_markup_in_a_page_name_a_docstring_and_a_finding_is_shown_as_text(reviewed_run):
    runs, _ = reviewed_run
    site = _inject_markup(runs)
    pages = {p.name: _Dom(p.read_text(encoding="utf-8")) for p in site.rglob("*.html")}
    assert len(pages) == 10 and f"{HOSTILE_NAME}.html" in pages
    for name, dom in pages.items():  # no element or handler came from the data
        assert [t for t, _ in dom.tags if t in ("script", "img", "b")] == [], name
        assert [a for _, attrs in dom.tags for a in attrs if a.startswith("on")] == [], name
    index = pages["index.html"]
    assert HOSTILE_PAGE in index.text("a")
    assert {"href": f"pages/{HOSTILE_NAME}.html"} in [attrs for t, attrs in index.tags if t == "a"]
    hostile = pages[f"{HOSTILE_NAME}.html"]
    assert hostile.text("title") == HOSTILE_PAGE and hostile.text("header") == "← all pages" + HOSTILE_PAGE
    assert "Its docstring: <script>alert('docstring')</script> and <b onclick=alert(1)>." in hostile.text("article")
    assert "<script>alert('docstring')</script>" in hostile.text("strong")
    finding = hostile.text("aside")
    assert f"R36 line 1: {HOSTILE_FINDING['message']}fix: {HOSTILE_FINDING['hint']}" in finding
    assert ("span", {"class": f"rule {HOSTILE_FINDING['severity']}"}) in hostile.tags  # one attribute value
    docstring = "<script>alert('pwned')</script>"  # the source's own docstring, in the highlighted excerpt
    assert docstring in pages["acme_minipkg_load_key.html"].text("pre")


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def test_review_site_in_headless_chromium(reviewed_run, tmp_path):
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (pip install -e '.[dev]')"
    )
    browser_path = _chromium()
    if browser_path is None:
        pytest.skip("Chromium is not installed (Debian: apt-get install chromium; .ci/run does it)")
    runs, _ = reviewed_run
    index = (_inject_markup(runs) / "index.html").resolve()
    errors: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=browser_path, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1300, "height": 900})
        page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
        page.on("console", lambda m: errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("dialog", lambda d: (errors.append(f"dialog: {d.message}"), d.dismiss()))
        page.goto(index.as_uri())
        listed = page.locator("#pages tbody tr td:first-child").all_inner_texts()
        assert "implementations/acme_minipkg_Engine.md" in listed
        assert "implementations/acme_minipkg_load_key.md" in listed
        page.click("text=implementations/acme_minipkg_Engine.md")
        assert page.url.endswith("/pages/acme_minipkg_Engine.html")
        assert page.locator("h1").first.inner_text() == "implementations/acme_minipkg_Engine.md"
        assert page.locator("text=Implementation: Engine").count() == 1
        page.click("text=Principle:acme_minipkg_Engine_Setup")
        assert page.url.endswith("/pages/acme_minipkg_Engine_Setup.html")
        page.go_back()
        page.go_back()
        assert page.url == index.as_uri()
        page.screenshot(path=str(tmp_path / "review.png"), full_page=True)
        page.get_by_text(HOSTILE_PAGE, exact=True).click()  # markup in the data is text on the page, not elements
        assert page.locator("header h1").inner_text() == HOSTILE_PAGE and page.title() == HOSTILE_PAGE
        assert HOSTILE_FINDING["message"] in page.locator(".finding").inner_text()
        assert "<script>alert('docstring')</script>" in page.locator("article").inner_text()
        assert page.locator("script, img, article b").count() == 0
        page.hover(".finding .rule")  # an onmouseover smuggled in through the severity would open a dialog
        browser.close()
    assert (tmp_path / "review.png").stat().st_size > 10_000
    assert errors == []


POOL = '''"""Closing things."""


class Pool:
    def close(self, force: bool = False) -> None:
        """Close every connection of the pool."""


class Socket:
    def close(self, force: bool = False) -> None:
        """Close the socket."""
'''


def test_a_reviewer_picks_a_candidate_for_a_held_step_and_the_workflow_loses_its_pending_mark(
    fixture_repo, tmp_path, monkeypatch, capsys
):
    (fixture_repo / "src" / "minipkg" / "closing.py").write_text(POOL)
    wi = tmp_path / "wi.md"

    def step(n, principle, impl, api):
        return (
            f"### Step {n}: {principle}\n\n| Attribute | Value |\n|---|---|\n| **Principle** | `acme_minipkg_{principle}` |\n"
            f"| **Implementation** | `acme_minipkg_{impl}` |\n| **API Call** | `{api}` |\n\n"
        )

    wi.write_text(
        "# Workflow Index: acme_minipkg\n\n## Workflow: acme_minipkg_Good\n\n**Description:** Run jobs.\n\n"
        + step(1, "Engine_Setup", "Engine", "Engine(config)")
        + step(2, "Job_Execution", "run_engine", "run_engine(engine, jobs)")
        + step(3, "Closing", "close_it", "handle.close(force=True)")
    )
    runs = tmp_path / "runs"
    assert (
        run(
            [
                *fixture_argv(fixture_repo, wi, runs, tmp_path / "cache"),
                "--quiet",
            ]
        )
        == 1
    )
    wiki = runs / "acme_minipkg" / "wiki"
    assert "''Pending: not yet documented.''" in (wiki / "workflows" / "acme_minipkg_Good.md").read_text()
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    page = "implementations/acme_minipkg_close_it.md"
    assert review(["show", page]) == 0
    shown = capsys.readouterr().out
    assert "== candidates" in shown and "Pool.close  src/minipkg/closing.py:L5-6" in shown
    n = next(int(l.split(".")[0]) for l in shown.splitlines() if "Pool.close " in l)
    assert review(["pick", page, "99"]) == 2
    assert review(["pick", page, str(n)]) == 0
    assert "picked candidate" in capsys.readouterr().out
    text = (wiki / page).read_text()
    assert "* '''File:''' src/minipkg/closing.py" in text and "* '''Lines:''' L5-6" in text
    flow = (wiki / "workflows" / "acme_minipkg_Good.md").read_text()
    assert "Pending" not in flow and "[[step::Principle:acme_minipkg_Closing]]" in flow
    assert verify_wiki(load_wiki(wiki), _ws(fixture_repo, tmp_path)).errors == []


def _latest(runs: Path) -> Path:
    return max((p for p in (runs / "acme_minipkg").iterdir() if p.name[:1].isdigit()), key=lambda p: p.name)


@pytest.mark.parametrize("cmd", ["reject", "html"])
def test_review_writes_into_an_obstructed_run_folder_end_in_one_line_and_exit_2(reviewed_run, capsys, cmd):
    # Real OS errors without chmod, so the test means the same as root (CI) and as a user: the place
    # the command writes to is taken by the wrong kind of file.
    runs, _ = reviewed_run
    run_dir = _latest(runs)
    if cmd == "reject":
        (run_dir / "decisions.jsonl").unlink(missing_ok=True)
        (run_dir / "decisions.jsonl").mkdir()
        argv = ["--runs", str(runs), "reject", "implementations/acme_minipkg_run_engine.md", "--reason", "x"]
    else:
        shutil.rmtree(run_dir / "review", ignore_errors=True)
        (run_dir / "review").write_text("not a folder")
        argv = ["--runs", str(runs), "html"]
    capsys.readouterr()
    assert review(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cannot write ") and err.count("\n") == 1 and "Traceback" not in err


def test_review_of_a_vanished_run_folder_is_one_line_and_exit_2(reviewed_run, capsys):
    runs, _ = reviewed_run
    run_dir = _latest(runs)
    (run_dir / "summary.json").unlink()
    (run_dir / "run.json").unlink()
    capsys.readouterr()
    assert review(["--runs", str(runs), "list", run_dir.name]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1


def test_review_on_a_read_only_run_folder_is_one_line_and_exit_2(reviewed_run):
    runs, _ = reviewed_run
    run_dir = _latest(runs)
    p = run_read_only(
        run_dir,
        "agents.review",
        "--runs",
        str(runs.resolve()),
        "reject",
        "implementations/acme_minipkg_run_engine.md",
        "--reason",
        "x",
    )
    assert p.returncode == 2, p.stderr
    assert p.stderr.startswith("error: cannot write") and p.stderr.count("\n") == 1, p.stderr
