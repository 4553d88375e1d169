"""The few errors a person can act on. Each message is one line naming the problem and the fix."""

from __future__ import annotations


class UsageError(Exception):
    """Unusable input (unknown repo, missing path, malformed file): exit code 2."""

    exit_code = 2


class ToolError(Exception):
    """A navigation tool was called with arguments it cannot serve (path outside the root,
    unknown symbol, bad regex). Agents see the message and may retry; people see one line."""


class ExternalFault(Exception):
    """Something outside the run failed (the model endpoint unreachable or refusing the key): the run
    stops, everything finished is kept, and ``--resume`` continues once it is fixed. Exit code 3."""

    exit_code = 3
