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
from tools.cliargs import OPTIONS_ANYWHERE, command_parser, options_everywhere, sub_command
from tools.errors import ToolError, UsageError
from tools.index.build import build_index
from tools.locate import CONFIDENT, Location, Locator
from tools.source.resolve import resolve_repo
from tools.toolspec import TOOLS, Tool
from tools.wiki.workflow_index import load_workflow_index
from tools.index.workspace import Workspace, guess_repo, open_workspace


def _source_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--source", help="checkout folder, pypi:PACKAGE[==VERSION], or 'latest' (the installed package)")
    p.add_argument(
        "--repo", help="owner_name (e.g. huggingface_peft); picks a registered source when --source is absent"
    )
    p.add_argument("--cache-dir", type=Path, help="cache folder (default: $REPOWIKI_CACHE_DIR or the user cache)")
    p.add_argument("--json", action="store_true", help="print JSON")


EXAMPLES = {
    "": (
        "python -m tools index --source pypi:peft==0.18.1",
        "python -m tools --source pypi:peft==0.18.1 find-symbol PeftModel.merge_and_unload",
        "python -m tools outline src/peft/mapping_func.py --source pypi:peft==0.18.1 --json",
    ),
    "index": (
        "python -m tools index --source pypi:peft==0.18.1",
        "python -m tools index --source path/to/checkout --json",
    ),
    "locate": (
        "python -m tools locate --source pypi:peft==0.18.1 --workflow-index agents/workflow_indexes/huggingface_peft.md",
        "python -m tools locate --workflow-index FILE --json --details",
    ),
    "schemas": ("python -m tools schemas", "python -m tools schemas > schemas.json"),
}


# concrete command lines for the navigation tools (a tool without its own gets two made from its parameters)
TOOL_EXAMPLES = {
    "find_symbol": "find-symbol PeftModel.merge_and_unload",
    "read_symbol": "read-symbol get_peft_model",
    "read_lines": "read-lines src/peft/peft_model.py 190 200",
    "search_text": 'search-text "def merge_and_unload" --glob "*.py"',
    "find_usages": "find-usages get_peft_model",
    "outline": "outline src/peft/mapping_func.py",
    "list_dir": "list-dir src/peft",
}


def _examples(t: Tool) -> tuple[str, ...]:
    call = TOOL_EXAMPLES.get(t.name) or " ".join(
        [t.name.replace("_", "-"), *(p.name.upper() for p in t.params if p.required)]
    )
    return (
        f"python -m tools {call} --source pypi:peft==0.18.1",
        f"python -m tools --source pypi:peft==0.18.1 --json {call}",
    )


def build_parser() -> argparse.ArgumentParser:
    ap = command_parser(
        "python -m tools",
        __doc__.splitlines()[0],
        EXAMPLES[""],
        f"{OPTIONS_ANYWHERE} --source latest (or no --source with --repo) reads the installed package.",
    )
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")
    subs = [
        sub_command(
            sub, "index", "build (or load from the cache) the index and print a one-line summary", EXAMPLES["index"]
        )
    ]
    p = sub_command(sub, "locate", "locate the implementation of every WorkflowIndex step", EXAMPLES["locate"])
    p.add_argument("--workflow-index", required=True, type=Path, help="the _WorkflowIndex.md to read")
    p.add_argument("--details", action="store_true", help="with --json: add reasons and candidates")
    subs.append(p)
    subs[0].add_argument("--workers", type=int, help="parser processes for a cold build (default: CPU count)")
    sub_command(sub, "schemas", "print the OpenAI function schemas of the navigation tools", EXAMPLES["schemas"])
    for t in TOOLS.values():
        name = t.name.replace("_", "-")
        p = sub_command(sub, name, t.description, _examples(t))
        subs.append(p)
        for i, param in enumerate(t.params):
            if param.required:
                p.add_argument(param.name, type=param.type, help=param.description)
                continue
            if i == 0:  # a tool without required parameters takes its first one as typed: list-dir src/peft
                p.add_argument(
                    param.name, nargs="?", default=argparse.SUPPRESS, type=param.type, help=f"or --{param.name}"
                )
            p.add_argument(
                f"--{param.name.replace('_', '-')}",
                dest=param.name,
                default=param.default,
                type=param.type,
                help=param.description,
            )
    options_everywhere(ap, subs, _source_args)
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


def located(loc: Location) -> str:
    """One step's answer in words: where it is, or that it was not found and why; an answer below the
    commit threshold says so (the run holds it)."""
    why = "; ".join(loc.reasons) or "no reason recorded"
    if loc.kind == "held":
        return f"held: {why}"
    if loc.kind == "internal" and loc.qualname is None:
        return f"not found (confidence {loc.confidence:.2f}): {why}"
    what = loc.qualname or f"an API it does not name, of {loc.package or 'another package'}"
    if loc.file:
        where = f" {loc.file}:L{loc.start_line}-{loc.end_line}"
    elif loc.external_location:
        ext = loc.external_location
        where = f" in the installed {loc.package} ({ext['file']}:L{ext['start_line']}-{ext['end_line']})"
    elif loc.qualname:
        where = f" in {loc.package or 'another package'}, not installed here"
    else:
        where = ""
    sure = "" if loc.confident else f", below the commit threshold {CONFIDENT} (held): {why}"
    return f"{loc.kind} {what}{where} confidence={loc.confidence:.2f}{sure}"


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
                print(
                    f"{step.workflow.removeprefix(wi.repo + '_')} #{step.number} {loc.implementation}: {located(loc)}"
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
    except BrokenPipeError:  # `... | head`
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
