"""Loaded by the subprocesses of tests/test_run.py's kill-and-resume test (PYTHONPATH=tests/hooks):
each pair starts after REPOWIKI_TEST_PAIR_DELAY seconds, so the test can kill a run half-way. The
product has no such hook; the wrapper is installed before agents.graph imports the node."""

from __future__ import annotations

import functools
import os
import time

_DELAY = float(os.environ.get("REPOWIKI_TEST_PAIR_DELAY") or 0)
if _DELAY:
    import agents.nodes.excavate as _excavate

    _node = _excavate.excavate

    @functools.wraps(_node)
    def _slow(state: dict) -> dict:
        time.sleep(_DELAY)
        return _node(state)

    _excavate.excavate = _slow
