"""Update runs over real releases: one wiki carried through a sequence of versions.

    python bench/update_bench.py [--peft 0.18.1,0.17.1,0.18.0,0.18.1] [--transformers 5.0.0,5.1.0]

Each step is `python -m agents.run` (offline drafter, a fresh process, the shipped WorkflowIndex)
over the wiki the previous step left, then `agents.verify.verifier` on the whole wiki. Per step: pages per
drift class, pairs redrafted, model calls an update with a model would need (one synthesis call per
redrafted pair; moved pages need none), seconds, whole-wiki verify errors (must be 0). A final
no-op step (the last version again) gives the warm no-op time.
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agents.verify.verifier import verify_wiki  # noqa: E402
from tools.wiki.load import load_wiki  # noqa: E402
from tools.source.resolve import default_cache_dir  # noqa: E402
from tools.source.sdist import fetch_sdist  # noqa: E402
from tools.index.workspace import open_workspace  # noqa: E402


def sequence(repo: str, dist: str, versions: list[str], base: Path) -> list[dict]:
    runs = base / repo
    out = []
    for i, version in enumerate([*versions, versions[-1]]):
        source = str(fetch_sdist(f"{dist}=={version}", default_cache_dir()))
        t0 = time.perf_counter()
        p = subprocess.run(
            [
                sys.executable,
                "-m",
                "agents.run",
                "--repo",
                repo,
                "--source",
                source,
                "--runs",
                str(runs),
                "--json",
                "--quiet",
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=dict(os.environ, PYTHONPATH=str(ROOT)),
        )
        secs = round(time.perf_counter() - t0, 2)
        if p.returncode not in (0, 1):
            out.append({"version": version, "exit": p.returncode, "error": p.stderr.strip()[-300:]})
            break
        summary = json.loads((runs / repo / "latest" / "summary.json").read_text())
        drift = summary.get("drift") or {}
        counted = dict(drift.get("counts") or [])
        wiki = Path(summary["wiki"])
        errors = len(verify_wiki(load_wiki(wiki), open_workspace(repo, source)).errors)
        redrafted = summary["pairs_planned"]
        out.append(
            {
                "step": "no-op"
                if i == len(versions)
                else f"{drift.get('from_text')} → {version}"
                if drift.get("from")
                else f"first run {version}",
                "exit": p.returncode,
                "seconds": secs,
                "classes": counted,
                "pairs_skipped": summary.get("skipped_pairs"),
                "pairs_redrafted": redrafted,
                "model_calls_needed": redrafted,
                "restamped": len(drift.get("restamped") or []),
                "held": len(summary["held"]),
                "verify_errors": errors,
            }
        )
    return out


def _git(repo: Path, *args: str) -> None:
    env = dict(
        os.environ,
        GIT_AUTHOR_NAME="bench",
        GIT_AUTHOR_EMAIL="b@b",
        GIT_COMMITTER_NAME="bench",
        GIT_COMMITTER_EMAIL="b@b",
    )
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env)


def git_one_file(repo: str, dist: str, version: str, rel: str, base: Path) -> dict:
    """A git checkout of the release, a first run, then one commit that changes ``rel`` (a comment
    line at its top): how many pages the update re-verifies, and its seconds, against a full check."""
    import shutil

    tree = base / f"{dist}-git"
    shutil.copytree(fetch_sdist(f"{dist}=={version}", default_cache_dir()), tree)
    _git(tree, "init", "-q")
    _git(tree, "add", "-A")
    _git(tree, "commit", "-qm", version)
    runs = base / f"{repo}-git"

    def run() -> tuple[float, dict]:
        t0 = time.perf_counter()
        p = subprocess.run(
            [
                sys.executable,
                "-m",
                "agents.run",
                "--repo",
                repo,
                "--source",
                str(tree),
                "--runs",
                str(runs),
                "--json",
                "--quiet",
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=dict(os.environ, PYTHONPATH=str(ROOT)),
        )
        latest = runs / repo / "latest"
        plan = next(json.loads(l) for l in (latest / "trace.jsonl").read_text().splitlines() if '"plan"' in l)
        return round(time.perf_counter() - t0, 2), {
            "exit": p.returncode,
            "plan_s": plan["seconds"],
            "reverified": plan.get("reverified"),
        }

    run()
    target = tree / rel
    target.write_text("# a change upstream\n" + target.read_text(encoding="utf-8"), encoding="utf-8")
    _git(tree, "commit", "-qam", "one file")
    secs, info = run()
    summary = json.loads((runs / repo / "latest" / "summary.json").read_text())
    pages = len(list(Path(summary["wiki"]).glob("*/*.md")))
    errors = len(verify_wiki(load_wiki(Path(summary["wiki"])), open_workspace(repo, str(tree))).errors)
    return {
        "changed_file": rel,
        "pages": pages,
        **info,
        "seconds": secs,
        "classes": dict((summary.get("drift") or {}).get("counts") or []),
        "verify_errors": errors,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--peft", default="0.18.1,0.17.1,0.18.0,0.18.1")
    ap.add_argument("--transformers", default="5.0.0,5.1.0", help="empty to skip")
    ap.add_argument(
        "--git-file",
        default="src/transformers/modeling_utils.py",
        help="the one file changed in the git case on transformers 5.0.0 (empty to skip)",
    )
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = {"peft": sequence("huggingface_peft", "peft", args.peft.split(","), Path(tmp))}
        if args.transformers:
            out["transformers"] = sequence(
                "huggingface_transformers", "transformers", args.transformers.split(","), Path(tmp)
            )
        if args.git_file:
            out["transformers_git_one_file"] = git_one_file(
                "huggingface_transformers", "transformers", "5.0.0", args.git_file, Path(tmp)
            )
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
