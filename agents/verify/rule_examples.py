"""Hand-written failing/passing pairs for the rules no mutation of agents/verify/mutate.py plants.

Each pair is a few edits of the fixture wiki (tests/fixtures/wiki, which verifies clean): ``setup``
turns the fixture into the passing form when the fixture has nothing the rule could catch (no
Heuristic, no Pattern Doc), ``fault`` turns the passing form into the failing one. docs/rules.md
shows the diff between the two and the finding the verifier gives (agents/verify/rule_docs.py);
tests/test_docs.py checks that the passing form has no finding under the rule and the failing form
has one. An edit names text that must occur exactly once in its file, so a fixture that drifts
breaks the example loudly instead of silently editing nothing.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

ChangeKind = Literal["edit", "add", "remove", "rename", "copy"]


@dataclass(frozen=True)
class Change:
    kind: ChangeKind
    path: str  # relative to the wiki root
    before: str = ""  # edit: the text replaced (exactly one occurrence)
    after: str = ""  # edit: its replacement; add: the new file's text
    to: str = ""  # rename, copy: the new path


def edit(path: str, before: str, after: str) -> Change:
    return Change("edit", path, before=before, after=after)


def add(path: str, text: str) -> Change:
    return Change("add", path, after=text)


def remove(path: str) -> Change:
    return Change("remove", path)


def rename(path: str, to: str) -> Change:
    return Change("rename", path, to=to)


def copy(path: str, to: str) -> Change:
    return Change("copy", path, to=to)


@dataclass(frozen=True)
class RuleExample:
    rule: str
    what: str  # what the failing form does, one line
    fault: tuple[Change, ...]
    setup: tuple[Change, ...] = ()


def apply(root: Path, changes: tuple[Change, ...]) -> None:
    for c in changes:
        path = root / c.path
        if c.kind == "edit":
            text = path.read_text(encoding="utf-8")
            if text.count(c.before) != 1:
                raise ValueError(
                    f"{c.path}: the text to edit occurs {text.count(c.before)} times, not once: {c.before!r}"
                )
            path.write_text(text.replace(c.before, c.after), encoding="utf-8")
        elif c.kind == "add":
            if path.exists():
                raise ValueError(f"{c.path} exists already")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(c.after, encoding="utf-8")
        elif c.kind == "remove":
            path.unlink()
        elif c.kind == "rename":
            path.rename(root / c.to)
        else:
            shutil.copyfile(path, root / c.to)


ENGINE = "implementations/acme_minipkg_Engine.md"
WRAPPER = "implementations/acme_minipkg_JSONDecoder_decode.md"
WORKFLOW = "workflows/acme_minipkg_Run_Jobs.md"
HEURISTIC = "heuristics/acme_minipkg_Small_Batches.md"
PATTERN = "implementations/acme_minipkg_Job_Callback.md"

_METADATA = """{| class="wikitable" style="float:right; margin-left:1em; width:300px;"
|-
! Knowledge Sources
|
* [[source::Repo|acme/minipkg|https://github.com/acme/minipkg]]
|-
! Domains
| [[domain::Job_Scheduling]]
|-
! Last Updated
| [[last_updated::2026-11-20 09:00 GMT]]
|}
"""

_HEURISTIC_PAGE = f"""# Heuristic: Small_Batches

{_METADATA}
== Overview ==

Keeping each batch of jobs small so that a failed job costs little.

=== Description ===

A short batch finishes sooner, and a retry repeats less work.

=== Usage ===

Apply it when jobs fail now and then.

== The Insight (Rule of Thumb) ==

* '''Action:''' Split the jobs into batches.
* '''Value:''' Eight jobs per batch.
* '''Trade-off:''' More batches, more start-up cost.

== Reasoning ==

The cost of a failure grows with the size of its batch.

== Related Pages ==

* [[used_by::Implementation:acme_minipkg_Engine]]
"""

_CONSTRAINTS = "=== Constraints ===\n\n* It must return quickly: the engine waits for it.\n\n"

_PATTERN_PAGE = f"""# Implementation: Job_Callback

{_METADATA}
== Overview ==

Concrete tool for reacting to each finished job provided by minipkg.

=== Description ===

A function the user writes; it is called with the name and the result of every job.

=== Usage ===

Write one when results must be stored as soon as they exist.

== Interface Specification ==

=== Required Signature ===

<syntaxhighlight lang="python">
def on_result(job: str, result: str) -> None: ...
</syntaxhighlight>

{_CONSTRAINTS}== I/O Contract ==

=== Inputs ===

{{| class="wikitable"
|-
! Name !! Type !! Required !! Description
|-
| job || str || Yes || The job's name.
|-
| result || str || Yes || What the job produced.
|}}

=== Outputs ===

{{| class="wikitable"
|-
! Name !! Type !! Description
|-
| none || None || Nothing.
|}}

== Usage Examples ==

=== Print each result ===

<syntaxhighlight lang="python">
def on_result(job: str, result: str) -> None:
    print(job, result)
</syntaxhighlight>

== Related Pages ==

=== Implements Principle ===

* [[implements::Principle:acme_minipkg_Job_Execution]]
"""

EXAMPLES: tuple[RuleExample, ...] = (
    RuleExample(
        "R1",
        "a page file named with a hyphen",
        (rename("principles/acme_minipkg_Engine_Setup.md", "principles/acme_minipkg_Engine-Setup.md"),),
    ),
    RuleExample("R2", "a notes file at the wiki root", (add("TODO.md", "* check the examples\n"),)),
    RuleExample(
        "R3",
        "the title keeps the repo prefix",
        (edit(ENGINE, "# Implementation: Engine\n", "# Implementation: acme_minipkg_Engine\n"),),
    ),
    RuleExample(
        "R5",
        "a heading without the blank line after it",
        (edit(ENGINE, "=== Description ===\n\n`Engine`", "=== Description ===\n`Engine`"),),
    ),
    RuleExample(
        "R7",
        "a code block in a language other than python or bash",
        (
            edit(
                ENGINE,
                '<syntaxhighlight lang="python">\nfrom minipkg import Engine\n\n',
                '<syntaxhighlight lang="py">\nfrom minipkg import Engine\n\n',
            ),
        ),
    ),
    RuleExample("R9", "a metadata row renamed", (edit(ENGINE, "! Domains\n", "! Tags\n"),)),
    RuleExample(
        "R10",
        "a knowledge source of an unknown kind",
        (edit(ENGINE, "[[source::Repo|acme/minipkg|", "[[source::Code|acme/minipkg|"),),
    ),
    RuleExample(
        "R12", "a domain tag with a space", (edit(ENGINE, "[[domain::Job_Scheduling]]", "[[domain::Job Scheduling]]"),)
    ),
    RuleExample(
        "R18",
        "the steps numbered 1, 2, 4, 4, 5",
        (edit(WORKFLOW, "=== Step 3: Run the jobs ===", "=== Step 4: Run the jobs ==="),),
    ),
    RuleExample(
        "R19",
        "the only step through a Principle shown as pending",
        (
            edit(
                WORKFLOW,
                "[[step::Principle:acme_minipkg_Result_Decoding]]\n\nTurning",
                "''Pending: not yet documented.''\n\nTurning",
            ),
            edit(WORKFLOW, "* [[step::Principle:acme_minipkg_Result_Decoding]]\n", ""),
        ),
    ),
    RuleExample(
        "R20",
        "a Heuristic's used_by backlink to a page that does not use it",
        (
            edit(
                HEURISTIC,
                "* [[used_by::Implementation:acme_minipkg_Engine]]",
                "* [[used_by::Implementation:acme_minipkg_run_engine]]",
            ),
        ),
        setup=(
            add(HEURISTIC, _HEURISTIC_PAGE),
            edit(
                ENGINE,
                "* [[implements::Principle:acme_minipkg_Engine_Setup]]\n",
                "* [[implements::Principle:acme_minipkg_Engine_Setup]]\n\n=== Uses Heuristic ===\n\n"
                "* [[uses_heuristic::Heuristic:acme_minipkg_Small_Batches]]\n",
            ),
        ),
    ),
    RuleExample(
        "R21",
        "a second page on the same API under an unrelated name",
        (rename("implementations/acme_minipkg_Engine_verbose.md", "implementations/acme_minipkg_Runner.md"),),
        setup=(copy(ENGINE, "implementations/acme_minipkg_Engine_verbose.md"),),
    ),
    RuleExample("R22", "Lines written without the L", (edit(ENGINE, "* '''Lines:''' L28-76", "* '''Lines:''' 28-76"),)),
    RuleExample(
        "R27",
        "the Outputs description only says that the method returns something",
        (
            edit(
                "implementations/acme_minipkg_Engine_shutdown.md",
                "| was_running || bool || True when the engine was running.",
                "| was_running || bool || What `BaseEngine.shutdown` returns.",
            ),
        ),
    ),
    RuleExample(
        "R30",
        "a Wrapper Doc that cites a File",
        (
            edit(
                WRAPPER,
                "* '''Library:''' [https://docs.python.org/3/library/json.html json]\n",
                "* '''Library:''' [https://docs.python.org/3/library/json.html json]\n* '''File:''' json/decoder.py\n",
            ),
        ),
    ),
    RuleExample(
        "R31",
        "a Pattern Doc without Constraints",
        (edit(PATTERN, _CONSTRAINTS, ""),),
        setup=(add(PATTERN, _PATTERN_PAGE),),
    ),
    RuleExample(
        "R32",
        "a code block on a Workflow page",
        (
            edit(
                WORKFLOW,
                "collecting one result per job.\n",
                'collecting one result per job.\n\n<syntaxhighlight lang="python">\n'
                "results = run_engine(engine, jobs)\n</syntaxhighlight>\n",
            ),
        ),
    ),
    RuleExample(
        "R33",
        "a second sentence in the Overview",
        (edit(ENGINE, "provided by minipkg.\n", "provided by minipkg. It keeps the settings and the run state.\n"),),
    ),
    RuleExample("R37", "an index file deleted", (remove("_PrincipleIndex.md"),)),
    RuleExample(
        "R40",
        "a connection token without the repo prefix",
        (edit("_PrincipleIndex.md", "✅Impl:acme_minipkg_Engine, ✅Workflow", "✅Impl:Engine, ✅Workflow"),),
    ),
    RuleExample(
        "R41",
        "Notes that do not start with the sub-type",
        (edit("_ImplementationIndex.md", "| API Doc - creating a job runner |", "| creating a job runner |"),),
    ),
    RuleExample(
        "R42",
        "a WorkflowIndex without its title line",
        (edit("_WorkflowIndex.md", "# Workflow Index: acme_minipkg\n", "# Workflows of acme_minipkg\n"),),
    ),
    RuleExample(
        "R51",
        "an Evidence span whose lines call none of the workflow's APIs (the imports above the calls)",
        (
            edit(
                "_WorkflowIndex.md",
                "**Evidence:** `examples/demo.py` L3-5\n",
                "**Evidence:** `examples/demo.py` L1-2\n",
            ),
        ),
        setup=(
            edit(
                "_WorkflowIndex.md",
                "**Description:** Run a batch of jobs on a configured engine.\n",
                "**Description:** Run a batch of jobs on a configured engine.\n**Evidence:** `examples/demo.py` L3-5\n",
            ),
        ),
    ),
    RuleExample(
        "R43",
        "one Implementation given for two steps' Principles",
        (
            edit(
                "_WorkflowIndex.md",
                "| **Implementation** | `acme_minipkg_Engine_shutdown` |",
                "| **Implementation** | `acme_minipkg_Engine` |",
            ),
        ),
    ),
)
