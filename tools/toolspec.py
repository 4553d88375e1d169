"""Define a navigation tool once; derive its OpenAI function schema and its CLI from that.

A tool is a plain function ``fn(ws, **args) -> dict``. The ``@tool`` decorator reads the
parameters from the signature, takes one description per parameter, and refuses at
import time a definition whose descriptions and parameters disagree.
"""

from __future__ import annotations

import inspect
import re
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from tools.errors import ToolError

if TYPE_CHECKING:
    from tools.index.workspace import Workspace

# A tool's result is a JSON object for the model (each tool declares its own TypedDict).
ToolResult = Mapping[str, object]
ToolFn = TypeVar("ToolFn", bound=Callable[..., ToolResult])

_JSON_TYPES = {str: "string", int: "integer", bool: "boolean", float: "number"}
MAX_STRING = 2000  # characters in one string argument
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True)
class ToolParam:
    name: str
    type: type
    description: str
    required: bool
    default: str | int | bool | float | None


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    fn: Callable[..., ToolResult]
    params: tuple[ToolParam, ...]

    def schema(self) -> dict[str, object]:
        """The OpenAI ``tools=[...]`` entry for this tool."""
        props = {
            p.name: {
                "type": _JSON_TYPES[p.type],
                "description": p.description,
                **({"maxLength": MAX_STRING} if p.type is str else {}),
            }
            for p in self.params
        }
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": {
                    "type": "object",
                    "properties": props,
                    "required": [p.name for p in self.params if p.required],
                    "additionalProperties": False,
                },
            },
        }

    def call(self, ws: Workspace, args: Mapping[str, object]) -> ToolResult:
        """Validate ``args`` (as a model sends them) and run the tool."""
        if not isinstance(args, dict):
            raise ToolError(f"{self.name}: arguments must be a JSON object")
        known = {p.name: p for p in self.params}
        extra = sorted(set(args) - set(known))
        if extra:
            raise ToolError(f"{self.name}: unknown argument(s) {', '.join(extra)}; expected {', '.join(known)}")
        clean: dict[str, object] = {}
        for p in self.params:
            if p.name not in args or args[p.name] is None:
                if p.required:
                    raise ToolError(f"{self.name}: missing required argument {p.name!r}")
                continue
            value = args[p.name]
            if p.type is int and isinstance(value, str) and value.strip().lstrip("-").isdigit():
                value = int(value)  # weak models quote numbers
            if not isinstance(value, p.type) or (p.type is int and isinstance(value, bool)):
                raise ToolError(f"{self.name}: argument {p.name!r} must be {_JSON_TYPES[p.type]}")
            if isinstance(value, str):
                if len(value) > MAX_STRING:
                    raise ToolError(
                        f"{self.name}: argument {p.name!r} is {len(value)} characters; at most {MAX_STRING}"
                    )
                if _CONTROL.search(value):
                    raise ToolError(
                        f"{self.name}: argument {p.name!r} holds a control character (NUL or similar); send plain text"
                    )
            clean[p.name] = value
        return self.fn(ws, **clean)


TOOLS: dict[str, Tool] = {}


def tool(description: str, **param_docs: str) -> Callable[[ToolFn], ToolFn]:
    def register(fn: ToolFn) -> ToolFn:
        sig = inspect.signature(fn)
        hints = typing.get_type_hints(fn)
        names = list(sig.parameters)[1:]  # the first parameter is the workspace
        if set(names) != set(param_docs):
            raise TypeError(f"tool {fn.__name__}: described {sorted(param_docs)} but has parameters {sorted(names)}")
        params = []
        for name in names:
            base, optional = _unwrap(hints[name])
            if base not in _JSON_TYPES:
                raise TypeError(f"tool {fn.__name__}: parameter {name} has unsupported type {hints[name]}")
            default = sig.parameters[name].default
            required = default is inspect.Parameter.empty
            if required and optional:
                raise TypeError(f"tool {fn.__name__}: optional parameter {name} needs a default")
            params.append(ToolParam(name, base, param_docs[name], required, None if required else default))
        if fn.__name__ in TOOLS:
            raise TypeError(f"tool {fn.__name__} defined twice")
        TOOLS[fn.__name__] = Tool(fn.__name__, description, fn, tuple(params))
        return fn

    return register


def _unwrap(tp: Any) -> tuple[type, bool]:
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return tp, False
