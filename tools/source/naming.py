"""Names of the wiki (WIKI_FORMAT §2): the repo prefix and page names, and how names written by
others map onto them."""

from __future__ import annotations

import re

NAME_RE = re.compile(r"^[A-Za-z0-9]+(_[A-Za-z0-9]+)*$")
REPO_RE = re.compile(r"^[A-Za-z0-9]+(_[A-Za-z0-9]+)+$")


def normalize_repo(value: str) -> str:
    """``owner_name`` by §2: every character outside ``[A-Za-z0-9_]`` becomes ``_``, runs of ``_``
    collapse to one, case kept (``vllm-project_vllm`` → ``vllm_project_vllm``)."""
    return re.sub(r"_+", "_", re.sub(r"[^A-Za-z0-9_]", "_", value.strip())).strip("_")


def api_page_name(api: str) -> str | None:
    """The ``{API}`` part of a page name for a dotted API path: ``.`` → ``_``, the underscores of
    dunders dropped (``MLP.__init__`` → ``MLP_init``); None when that is not a valid name."""
    parts = [p.strip("_") if p.startswith("__") and p.endswith("__") else p for p in api.split(".")]
    name = "_".join(p for p in parts if p)
    return name if NAME_RE.match(name) else None
