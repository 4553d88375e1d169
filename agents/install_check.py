"""Our top-level packages (`agents`, `tools`, `prompts`) have generic names that other distributions
also use (OpenAI's Agents SDK installs a top-level `agents`). When one of them is imported from
somewhere else, the CLIs stop with one line instead of failing later in a confusing way."""

from __future__ import annotations

import functools
import importlib.metadata
import sys
from pathlib import Path

OURS = ("agents", "tools", "prompts")
_ROOT = Path(__file__).resolve().parents[1]


@functools.cache
def _claims() -> dict[str, list[str]]:
    try:
        return dict(importlib.metadata.packages_distributions())
    except Exception:  # noqa: BLE001 (broken metadata of some other package must not stop a run)
        return {}


def shadowing_problem() -> str | None:
    """A one-line explanation when a top-level package of ours resolves outside this project, or
    another installed distribution claims one of the names; None when all is well."""
    for name in OURS:
        mod = sys.modules.get(name)
        where = Path(getattr(mod, "__file__", "") or "").resolve() if mod is not None else None
        if where is not None and where.parent.parent != _ROOT:
            return (
                f"the package '{name}' is imported from {where.parent}, not from this project ({_ROOT}); "
                "install repowiki into its own virtual environment"
            )
    claims = _claims()
    for name in OURS:
        others = sorted({d for d in claims.get(name, []) if d.lower() != "repowiki"})
        if others:
            return (
                f"{', '.join(others)} also install(s) a top-level '{name}' package, which shadows or is "
                "shadowed by repowiki's; install repowiki into its own virtual environment"
            )
    return None


def refused_for_shadowing() -> bool:
    """Say the shadowing problem in one line on stderr; True when a CLI must stop (exit 2)."""
    problem = shadowing_problem()
    if problem:
        print(f"error: {problem}", file=sys.stderr)
    return problem is not None
