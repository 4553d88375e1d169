"""The one command-line grammar of every CLI (``python -m agents.run / agents.verify / agents.review /
agents.update / tools``): a parser whose ``--help`` ends with example command lines, and options that
are accepted before and after a sub-command alike.

argparse reads an option only where it was declared: one declared on the main parser is refused after
the sub-command (``review list --repo X``: "unrecognized arguments"). Declaring it on both parsers
fixes that, but then the sub-command's default would overwrite a value typed before it; so on
sub-command parsers the shared options default to ``SUPPRESS`` (no attribute unless typed), and the
main parser's default stands.
"""

from __future__ import annotations

import argparse
import textwrap
from collections.abc import Callable, Iterable, Sequence

WIDTH = 100  # the notes' width; the examples keep their lines whole
OptionAdder = Callable[[argparse.ArgumentParser], None]


def epilog(examples: Sequence[str], *notes: str) -> str:
    """``examples:`` with one command line per line, then the notes, each its own paragraph."""
    lines = ["examples:", *(f"  {e}" for e in examples)]
    for note in notes:
        lines += ["", textwrap.fill(note, WIDTH, break_on_hyphens=False, break_long_words=False)]
    return "\n".join(lines)


def command_parser(prog: str, description: str, examples: Sequence[str], *notes: str) -> argparse.ArgumentParser:
    """A parser whose help keeps the examples' lines as written (argparse rewraps text otherwise)."""
    return argparse.ArgumentParser(
        prog=prog,
        description=description,
        epilog=epilog(examples, *notes),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,  # --base is not --base-url: a prefix is never taken for a whole option
    )


def sub_command(
    subs: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    help_text: str,
    examples: Sequence[str],
    *notes: str,
) -> argparse.ArgumentParser:
    return subs.add_parser(
        name,
        help=help_text,
        description=help_text,
        epilog=epilog(examples, *notes),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )


def options_everywhere(
    main: argparse.ArgumentParser, subs: Iterable[argparse.ArgumentParser], add: OptionAdder
) -> None:
    """``add`` declares options; they are declared on the main parser (with their defaults) and on every
    sub-command parser (defaulting to SUPPRESS), so ``cmd --repo X list`` and ``cmd list --repo X`` mean
    the same."""
    add(main)
    for sub in subs:
        before = len(sub._actions)
        add(sub)
        for action in sub._actions[before:]:
            action.default = argparse.SUPPRESS


OPTIONS_ANYWHERE = "Options may be given before or after the sub-command."
