"""The workflow's own code up to a step: the first example of a step's Implementation page.

Each step contributes its API Call as the WorkflowIndex writes it; the result of one call is kept
under the name a later call uses for it (``model = AutoModelForCausalLM.from_pretrained(...)`` because
step 3 calls ``get_peft_model(model, peft_config)``), a later call that names the same object
differently is rewritten to the earlier name, and the names nothing earlier produces take the literal
the library's own usages pass at that argument (``model_id = "facebook/opt-125m"``), else an honest
placeholder. The result must be self-contained and its call of the documented API must bind
(R45/R46), or there is no walkthrough.
"""

from __future__ import annotations

import ast
import builtins
import re
from collections.abc import Collection, Mapping, Sequence
from typing import NamedTuple

from tools import pyast
from tools.examples.slicing import Callee, calls_bind, free_names, order_imports, self_contained, snake

# the short forms code uses for a thing's name: ``args`` for a TrainingArguments, ``cfg`` for a config
_SHORT = {
    "args": "arguments",
    "cfg": "config",
    "conf": "config",
    "ds": "dataset",
    "tok": "tokenizer",
    "opt": "optimizer",
}
_STOP = {"a", "an", "the", "of", "with", "and", "or", "to", "for", "in", "on", "its", "new", "one", "from", "by"}
# names that hold a value the reader types (a hub id, a path), never an object an earlier step made
_VALUE_SUFFIXES = ("id", "ids", "name", "path", "dir", "file", "url", "text", "prompt", "str")


class WalkStep(NamedTuple):
    call: str  # the step's API Call, as the WorkflowIndex writes it
    imports: Mapping[str, str] = {}  # bound name -> import line, for the names the call may use
    returns: bool = True  # the call gives a value the workflow keeps
    types: tuple[str, ...] = ()  # class names of its result, best first
    outputs: str = ""  # the index's words for what it gives
    values: Mapping[int | str, str] = {}  # argument slot -> literal the library passes there
    docs: Mapping[str, str] = {}  # free name -> what it is (for a placeholder's comment)
    inputs: str = ""  # the index's words for what the step takes
    known: bool = False  # its definition is in the index (then the index's Outputs words are not needed)


class Walk(NamedTuple):
    code: str
    steps: int  # how many steps, counted back from the documented one, the code covers
    placeholders: tuple[str, ...]  # names the reader supplies
    variables: dict[str, int]  # name -> index of the step whose result it holds


def tokens(text: str) -> set[str]:
    """Lower-case words of a name or phrase: ``peft_config`` / ``PeftConfig`` -> {peft, config}."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", text)
    return {_SHORT.get(w, w) for w in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if w and w not in _STOP}


def head_word(name: str) -> str:
    words = [w for w in re.split(r"_+", re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()) if w]
    last = words[-1] if words else name.lower()
    return _SHORT.get(last, last)


def _parse(call: str) -> ast.Module | None:
    text = call.strip().strip("`").strip()
    for cand in (text, text.split(" or ")[0].strip()):
        try:
            tree = pyast.parse(cand)
            compile(cand, "<call>", "exec")
        except (SyntaxError, ValueError):
            continue
        if tree.body:
            return tree
    return None


def argument_slot(tree: ast.Module, name: str) -> int | str | None:
    """The argument slot (position or keyword) where ``name`` is passed as itself to the step's call."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for i, a in enumerate(node.args):
                if isinstance(a, ast.Name) and a.id == name:
                    return i
            for k in node.keywords:
                if k.arg and isinstance(k.value, ast.Name) and k.value.id == name:
                    return k.arg
    return None


def _renamed(text: str, tree: ast.Module, names: Mapping[str, str]) -> str:
    """``text`` with the given names replaced where they occur as names, as written (quotes and
    spacing kept)."""
    lines = text.splitlines()
    spots = sorted(
        (
            (n.lineno, n.col_offset, n.end_col_offset or n.col_offset, names[n.id])
            for n in ast.walk(tree)
            if isinstance(n, ast.Name) and n.id in names
        ),
        reverse=True,
    )
    for line, start, end, new in spots:
        row = lines[line - 1]
        lines[line - 1] = row[:start] + new + row[end:]
    return "\n".join(lines)


WIDTH = 100


def wrapped(text: str) -> str:
    """A one-line call statement longer than WIDTH, one argument per line (what a person would write)."""
    if "\n" in text or len(text) <= WIDTH:
        return text
    try:
        tree = pyast.parse(text)
    except (SyntaxError, ValueError):
        return text
    stmt = tree.body[0] if len(tree.body) == 1 else None
    call = stmt.value if isinstance(stmt, (ast.Assign, ast.Expr)) else None
    if not isinstance(call, ast.Call) or call.end_col_offset != len(text):
        return text
    parts = [ast.get_source_segment(text, a) for a in [*call.args, *call.keywords]]
    if not parts or any(p is None for p in parts):
        return text
    head = text[: call.func.end_col_offset]
    return head + "(\n" + "".join(f"    {p},\n" for p in parts) + ")"


def _arguments(call: str) -> list[str]:
    tree = _parse(call)
    last = tree.body[-1] if tree is not None else None
    if not (isinstance(last, ast.Expr) and isinstance(last.value, ast.Call)):
        return []
    c = last.value
    return [a.id for a in [*c.args, *(k.value for k in c.keywords)] if isinstance(a, ast.Name)]


def _method_call(call: str) -> str | None:
    """The receiver of a method call on an object (``peft_model`` of ``peft_model.f(...)``)."""
    tree = _parse(call)
    last = tree.body[-1] if tree is not None else None
    if (
        isinstance(last, ast.Expr)
        and isinstance(last.value, ast.Call)
        and isinstance(last.value.func, ast.Attribute)
        and isinstance(last.value.func.value, ast.Name)
        and last.value.func.value.id[:1].islower()
    ):
        return last.value.func.value.id
    return None


def _what(name: str, slot: int | str | None, step: WalkStep, tree: ast.Module) -> str:
    """A placeholder's comment: the parameter's doc, else the index's words when they can only mean this
    name (the receiver, or the step's one argument), else the keyword it is passed as."""
    doc = " ".join((step.docs.get(name) or "").split())
    if doc:
        return doc[:70]
    last = tree.body[-1]
    call = last.value if isinstance(last, (ast.Expr, ast.Assign)) else None
    receiver = (
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and isinstance(call.func.value, ast.Name)
        and call.func.value.id == name
    )
    args = len(call.args) + len(call.keywords) if isinstance(call, ast.Call) else 0
    if step.inputs and (receiver or args == 1):
        return " ".join(step.inputs.split())[:70]
    if isinstance(slot, str):
        return f"the {slot.replace('_', ' ')}"
    return "supplied by the reader"


def is_value_name(name: str) -> bool:
    return head_word(name) in _VALUE_SUFFIXES


def holds(step: WalkStep) -> set[str]:
    """Words for what the step's result is: its classes (PeftModel -> peft, model)."""
    return set().union(set(), *(tokens(t) for t in step.types))


def walkthrough(steps: Sequence[WalkStep], callee: Callee | None = None) -> Walk | None:
    """Steps 1..k (the last is the documented one) as one program; None when the last step's call is
    not Python, or the result is not self-contained or does not bind the documented call."""
    trees = [_parse(s.call) for s in steps]
    if not steps or trees[-1] is None:
        return None
    frees = [free_names(ast.unparse(t)) if t is not None else [] for t in trees]
    bound: dict[str, tuple[int, set[str]]] = {}  # variable -> (step, what it holds)
    imports: list[str] = []
    body: list[str] = []
    placeholders: list[str] = []
    defined: set[str] = set()
    for i, (step, tree) in enumerate(zip(steps, trees)):
        if tree is None:
            continue
        rename: dict[str, str] = {}
        for n in frees[i]:
            if not is_value_name(n) and n not in step.imports and n not in defined and n[:1].islower():
                # the object the name means: the newest result of its kind (``model`` after a PeftModel
                # was made from the base model means the PeftModel)
                newest = [v for v, (_, what) in sorted(bound.items(), key=lambda kv: -kv[1][0]) if head_word(n) in what]
                if newest and newest[0] != n and (n not in bound or bound[newest[0]][0] > bound[n][0]):
                    rename[n] = newest[0]
                    continue
            if n in bound or n in defined or hasattr(builtins, n):
                continue
            if n in step.imports:
                imports.append(step.imports[n])
                defined.add(n)
                continue
            slot = argument_slot(tree, n)
            value = step.values.get(slot) if slot is not None else None
            if value is not None:
                body.append(f"{n} = {value}")
            else:
                body.append(f"{n} = ...  # {_what(n, slot, step, tree)}")
                placeholders.append(n)
            defined.add(n)
        text = step.call.strip().strip("`").strip()
        if _parse(text) is None:  # the first of two alternatives ("a(...) or b(...)")
            text = ast.unparse(tree)
        if rename:
            text = _renamed(text, tree, rename)
            tree = pyast.parse(text)
        last = tree.body[-1]
        var: str | None = None
        if isinstance(last, ast.Assign) and len(last.targets) == 1 and isinstance(last.targets[0], ast.Name):
            var = last.targets[0].id
        elif isinstance(last, ast.Expr) and isinstance(last.value, ast.Call) and step.returns:
            var = _result_name(
                steps, frees, i, callee if i == len(steps) - 1 else None, set(bound) | defined, set(bound)
            )
            if var is not None:
                text = f"{var} = {text}"
        if var is not None:
            bound[var] = (i, holds(step) | tokens(var))
        body.append(wrapped(text))
    code = "\n\n".join(p for p in ("\n".join(order_imports(list(dict.fromkeys(imports)))), "\n".join(body)) if p)
    if not self_contained(code) or (callee is not None and not calls_bind(code, callee)):
        return None
    return Walk(code, len(steps), tuple(placeholders), {v: i for v, (i, _) in bound.items()})


def _result_name(
    steps: Sequence[WalkStep],
    frees: list[list[str]],
    i: int,
    callee: Callee | None,
    bound_before: Collection[str],
    results: Collection[str],
) -> str | None:
    """The name a later step uses for this step's result, else one made from its type; None for an
    earlier step's method call whose result no later step uses (``model.load_adapter(...)``)."""
    what = holds(steps[i])
    seen: set[str] = set()
    for j in range(i + 1, len(steps)):
        for n in frees[j]:
            if n in steps[j].imports or is_value_name(n) or n in seen or n in bound_before:
                continue
            # the nearest step that makes such a thing is the one the name means
            nearer = any(head_word(n) in holds(steps[m]) and steps[m].returns for m in range(i + 1, j))
            if head_word(n) in what and not nearer:
                return n
        seen.update(frees[j])
    # an object the step takes as an argument and gives back changed keeps its name:
    # model = prepare_model_for_kbit_training(model, ...) ("A model ready for training")
    # (with a known class a fresh name says what the result is: peft_model = PeftModel.from_pretrained(model))
    for n in _arguments(steps[i].call) if not what else []:
        if n in results and not is_value_name(n) and head_word(n) in tokens(steps[i].outputs):
            return n
    recv = _method_call(steps[i].call)
    if recv and not steps[i].known and head_word(recv) in tokens(steps[i].outputs):
        return recv  # dataset = dataset.map(...) ("A tokenized dataset"): another package's call, by its words
    if i < len(steps) - 1 and recv:
        return None
    if steps[i].types:
        return snake(steps[i].types[0].split(".")[-1])
    tree = _parse(steps[i].call)
    last = tree.body[-1] if tree is not None else None
    if isinstance(last, ast.Expr) and isinstance(last.value, ast.Call) and isinstance(last.value.func, ast.Name):
        if last.value.func.id[:1].isupper():  # a class called by name: LoraConfig(...) -> lora_config
            return snake(last.value.func.id)
    if callee is not None and callee.result:
        return callee.result
    return "result"
