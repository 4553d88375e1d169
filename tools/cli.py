"""``python -m tools``: the index, the locator and every navigation tool, for people.

Navigation sub-commands are generated from the tool definitions (tools/toolspec.py), so the
CLI and the model's function schemas cannot drift apart.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Mapping
from pathlib import Path

from tools import navigate  # noqa: F401  (registers the tools)
from tools.errors import ToolError, UsageError
from tools.index.build import build_index
from tools.locate import Locator
from tools.source.resolve import resolve_repo
from tools.toolspec import TOOLS, Tool
from tools.wiki.workflow_index import load_workflow_index
from tools.index.workspace import Workspace, guess_repo, open_workspace


def _source_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--source", help="checkout folder, or pypi:PACKAGE[==VERSION]")
    p.add_argument(
        "--repo", help="owner_name (e.g. huggingface_peft); picks a registered source when --source is absent"
    )
    p.add_argument("--cache-dir", type=Path, help="cache folder (default: $REPOWIKI_CACHE_DIR or the user cache)")
    p.add_argument("--json", action="store_true", help="print JSON")


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m tools", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("index", help="build (or load from the cache) the index and print a one-line summary")
    _source_args(p)
    p.add_argument("--workers", type=int, help="parser processes for a cold build (default: CPU count)")
    p = sub.add_parser("locate", help="locate the implementation of every WorkflowIndex step")
    _source_args(p)
    p.add_argument("--workflow-index", required=True, type=Path, help="the _WorkflowIndex.md to read")
    p.add_argument("--details", action="store_true", help="with --json: add reasons and candidates")
    p = sub.add_parser("schemas", help="print the OpenAI function schemas of the navigation tools")
    for t in TOOLS.values():
        p = sub.add_parser(t.name.replace("_", "-"), help=t.description)
        _source_args(p)
        for param in t.params:
            if param.required:
                p.add_argument(param.name, type=param.type, help=param.description)
            else:
                p.add_argument(
                    f"--{param.name.replace('_', '-')}",
                    dest=param.name,
                    default=param.default,
                    type=param.type,
                    help=param.description,
                )
    return ap


def _text(result: Mapping[str, object]) -> str:
    """A readable rendering of a tool result for a terminal."""
    out: list[str] = []
    for key, value in result.items():
        if value in (None, [], False) or key == "truncated":
            continue
        if key == "source" and isinstance(value, str):
            out.append(value)
        elif isinstance(value, list):
            for item in value:
                out.append(
                    "  "
                    + (
                        " ".join(f"{k}={v}" for k, v in item.items() if v is not None)
                        if isinstance(item, dict)
                        else str(item)
                    )
                )
        else:
            out.append(f"{key}: {value}")
    return "\n".join(out)


def _workspace(args: argparse.Namespace) -> Workspace:
    if not args.source and not args.repo:
        raise UsageError("say which repository: --source PATH, --source pypi:PACKAGE==VERSION, or --repo owner_name")
    return open_workspace(args.repo, args.source, args.cache_dir)


def run(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "schemas":
        print(json.dumps([t.schema() for t in TOOLS.values()], indent=2))
        return 0
    if args.command == "index":
        if not args.source and not args.repo:
            raise UsageError(
                "say which repository: --source PATH, --source pypi:PACKAGE==VERSION, or --repo owner_name"
            )
        src = resolve_repo(args.repo or guess_repo(args.source), args.source, args.cache_dir)
        idx = build_index(src, args.cache_dir, workers=args.workers)
        if args.json:
            print(json.dumps({"repo": src.repo, "root": str(src.root), **vars(idx.stats)}))
        else:
            print(idx.stats.summary())
        return 0
    if args.command == "locate":
        wi = load_workflow_index(args.workflow_index)
        if not args.source and not args.repo:
            args.repo = wi.repo
        ws = _workspace(args)
        locator = Locator(ws, args.cache_dir)
        locs = [locator.locate(step, wf.steps[:i]) for wf in wi.workflows for i, step in enumerate(wf.steps)]
        if args.json:
            print(json.dumps([loc.details() if args.details else loc.contract() for loc in locs], indent=1))
        else:
            for step, loc in zip(wi.steps, locs):
                if loc.kind == "held":
                    print(f"{step.workflow.removeprefix(wi.repo + '_')} #{step.number}: held: {loc.reasons[0]}")
                    continue
                where = (
                    f"{loc.file}:L{loc.start_line}-{loc.end_line}" if loc.file else (loc.package or "?") + " (external)"
                )
                print(
                    f"{step.workflow.removeprefix(wi.repo + '_')} #{step.number} {loc.implementation}: "
                    f"{loc.kind} {loc.qualname} {where} confidence={loc.confidence:.2f}"
                )
        return 0
    tool: Tool = TOOLS[args.command.replace("-", "_")]
    ws = _workspace(args)
    result = tool.call(ws, {p.name: getattr(args, p.name) for p in tool.params})
    print(json.dumps(result, indent=1) if args.json else _text(result))
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)
    try:
        return run(argv)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except ToolError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
