"""The model door: the only module that talks to a language model.

Any OpenAI-compatible endpoint (hosted, llama.cpp, vLLM, Ollama) through the openai SDK, whose
own retry policy is used: rate limits, timeouts, connection errors and 5xx are retried with
backoff, a 400 never. On top: a per-call timeout, a concurrency limit, usage and cost accounting
per call / step / run, budgets that stop the run cleanly, a content-keyed disk cache of responses,
tool calls read natively or from a fenced JSON object in plain text (weak local models answer so),
and JSON answers re-asked with the parse error shown, a bounded number of times.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypedDict
from tools import pyast
from tools.atomic import atomic_write

if TYPE_CHECKING:
    import httpx2

log = logging.getLogger(__name__)


class BudgetExceeded(RuntimeError):
    """The run's --max-cost or --max-tokens is spent: no further call is made."""


class ModelOutputError(RuntimeError):
    """The model's answer stayed unusable after the allowed attempts."""


class ModelRecord(TypedDict):
    """ModelSettings as plain JSON, in the run's configuration (which never holds the API key)."""

    model: str
    base_url: str | None
    timeout: float
    max_retries: int
    concurrency: int
    temperature: float
    max_output_tokens: int
    prices: dict[str, list[float]]
    max_cost: float | None
    max_tokens: int | None
    cache_dir: str | None


class ModelOverrides(TypedDict, total=False):
    """The settings a resumed run may change (--base-url, --model, --timeout, --retries)."""

    model: str
    base_url: str | None
    timeout: float
    max_retries: int


class Message(TypedDict):
    """One chat message as the endpoint receives it."""

    role: Literal["system", "user", "assistant"]
    content: str


@dataclass
class ModelSettings:
    model: str
    base_url: str | None = None  # None: OPENAI_BASE_URL or the SDK's default
    timeout: float = 180.0
    max_retries: int = 3
    concurrency: int = 2
    temperature: float = 0.0
    max_output_tokens: int = 700  # a tool call or a critic's verdict; a synthesis answer asks for more
    prices: dict[str, list[float]] = field(default_factory=dict)  # model -> [prompt, completion] USD per 1M tokens
    max_cost: float | None = None
    max_tokens: int | None = None
    cache_dir: str | None = None  # None: no response cache (recording and replaying bypass it)

    def as_dict(self) -> ModelRecord:
        return ModelRecord(
            model=self.model,
            base_url=self.base_url,
            timeout=self.timeout,
            max_retries=self.max_retries,
            concurrency=self.concurrency,
            temperature=self.temperature,
            max_output_tokens=self.max_output_tokens,
            prices=copy.deepcopy(self.prices),
            max_cost=self.max_cost,
            max_tokens=self.max_tokens,
            cache_dir=self.cache_dir,
        )


@dataclass
class Usage:
    calls: int = 0
    cached_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def add(self, other: "Usage") -> None:
        self.calls += other.calls
        self.cached_calls += other.cached_calls
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.cost += other.cost


@dataclass
class ToolCall:
    name: str
    arguments: dict[str, object]


class _ToolCallRecord(TypedDict):
    name: str
    arguments: dict[str, object]


class _CachedReply(TypedDict):
    """A response as the disk cache holds it."""

    content: str
    tool_calls: list[_ToolCallRecord]


@dataclass
class Reply:
    content: str
    tool_calls: list[ToolCall]
    usage: Usage
    cached: bool = False


# --- tolerant parsing --------------------------------------------------------------------------

_FENCE = re.compile(r"```(?:json|JSON)?\s*\n(.*?)```", re.S)


_TRAILING_COMMA = re.compile(r",\s*([}\]])")


def _loads(text: str) -> object:
    """JSON as small models write it: raw newlines inside strings, trailing commas, Python literals."""
    try:
        return json.loads(text, strict=False)
    except ValueError:
        pass
    try:
        return json.loads(_TRAILING_COMMA.sub(r"\1", text), strict=False)
    except ValueError:
        pass
    try:
        return pyast.literal_eval(text.strip())
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        raise ValueError("not JSON") from None


def json_objects(text: str) -> list[object]:
    """Every JSON object found in a text: fenced blocks first, then bare objects."""
    found: list[object] = []
    for m in _FENCE.finditer(text or ""):
        try:
            found.append(_loads(m.group(1)))
        except ValueError:
            pass
    if found:
        return found
    dec = json.JSONDecoder(strict=False)
    i = 0
    while text and (i := text.find("{", i)) != -1:
        try:
            obj, end = dec.raw_decode(text, i)
            found.append(obj)
            i = end
        except ValueError:
            j = text.rfind("}")
            if j > i:
                try:
                    found.append(_loads(text[i : j + 1]))
                    break
                except ValueError:
                    pass
            i += 1
    return found


def parse_tool_calls(message: object, known: set[str]) -> list[ToolCall]:
    """Native tool calls, else tool calls written as JSON in the text."""
    out: list[ToolCall] = []
    for tc in getattr(message, "tool_calls", None) or []:
        try:
            args = json.loads(tc.function.arguments or "{}")
        except ValueError:
            args = {"_unparsable": tc.function.arguments}
        out.append(ToolCall(tc.function.name, args if isinstance(args, dict) else {"_value": args}))
    if out:
        return out
    for obj in json_objects(getattr(message, "content", None) or ""):
        if not isinstance(obj, dict):
            continue
        fn = obj.get("function") if isinstance(obj.get("function"), dict) else None
        name = obj.get("name") or obj.get("tool") or (fn or {}).get("name")
        args = obj.get("arguments", obj.get("args", obj.get("parameters", (fn or {}).get("arguments", {}))))
        if isinstance(args, str):
            try:
                args = json.loads(args)
            except ValueError:
                args = {}
        if isinstance(name, str) and name in known and isinstance(args, dict):
            out.append(ToolCall(name, args))
    return out


# A string field ends only at a quote followed by `,`, `}` or `]`: a model's unescaped inner quote
# ("the "base" model") would otherwise cut the value short, a wrong value rather than a missing one
# (measured on 415 corrupted answers: 8 wrong values with the first-quote reading, 0 with this one).
_STRING_FIELD = re.compile(r'"(\w+)"\s*:\s*"((?:[^"\\]|\\.|"(?!\s*[,}\]]))*)"(?=\s*[,}\]])', re.S)


def salvage(text: str) -> dict[str, object]:
    """The string fields of a broken JSON answer (a stray fence or quote spoils json.loads but not
    the fields before it), plus any nested object that parses on its own."""
    out: dict[str, object] = {}
    for m in _STRING_FIELD.finditer(text or ""):
        try:
            out.setdefault(m.group(1), json.loads(f'"{m.group(2)}"', strict=False))
        except ValueError:
            out.setdefault(m.group(1), m.group(2))
    for m in re.finditer(r'"(\w+)"\s*:\s*\{', text or ""):
        try:
            obj, _ = json.JSONDecoder(strict=False).raw_decode(text, m.end() - 1)
            out.setdefault(m.group(1), obj)
        except ValueError:
            pass
    return out


# --- the door ----------------------------------------------------------------------------------


class LLM:
    def __init__(self, settings: ModelSettings, http_client: httpx2.Client | None = None) -> None:
        from openai import OpenAI  # imported here: offline runs never load the SDK

        self.settings = settings
        self.client = OpenAI(
            base_url=settings.base_url or os.environ.get("OPENAI_BASE_URL") or None,
            api_key=os.environ.get("OPENAI_API_KEY") or "not-needed",
            timeout=settings.timeout,
            max_retries=settings.max_retries,
            http_client=http_client,
        )
        self._gate = threading.Semaphore(max(1, settings.concurrency))
        self._lock = threading.Lock()
        self.total = Usage()  # the run's spend, for the budgets; a node adds up its own calls' usage

    # accounting
    def _price(self, prompt: int, completion: int) -> float:
        p = self.settings.prices.get(self.settings.model)
        return (prompt * p[0] + completion * p[1]) / 1e6 if p else 0.0

    def _check_budget(self) -> None:
        s, t = self.settings, self.total
        if s.max_tokens is not None and t.tokens >= s.max_tokens:
            raise BudgetExceeded(f"token budget reached ({t.tokens} of {s.max_tokens})")
        if s.max_cost is not None and t.cost >= s.max_cost:
            raise BudgetExceeded(f"cost budget reached (${t.cost:.4f} of ${s.max_cost:.4f})")

    def _account(self, u: Usage) -> None:
        with self._lock:
            self.total.add(u)

    # cache
    def _key(self, payload: Mapping[str, object]) -> str:
        # the endpoint is part of the key: two servers with one model name give two answers
        endpoint = self.settings.base_url or os.environ.get("OPENAI_BASE_URL") or "default"
        return hashlib.sha256(
            json.dumps({"endpoint": endpoint, **payload}, sort_keys=True, ensure_ascii=False).encode()
        ).hexdigest()

    def _cache_get(self, key: str) -> _CachedReply | None:
        if not self.settings.cache_dir:
            return None
        path = Path(self.settings.cache_dir) / "llm" / f"{key}.json"
        try:
            hit: _CachedReply = json.loads(path.read_text(encoding="utf-8"))  # written by _cache_put
        except (OSError, ValueError):
            return None
        return hit

    def _cache_put(self, key: str, value: _CachedReply) -> None:
        if not self.settings.cache_dir:
            return
        path = Path(self.settings.cache_dir) / "llm" / f"{key}.json"
        try:
            atomic_write(path, json.dumps(value))
        except OSError as exc:
            log.warning("cannot cache a model response (%s)", exc)

    def complete(
        self,
        messages: Sequence[Message],
        *,
        step: str,
        tools: Sequence[Mapping[str, object]] | None = None,
        max_tokens: int | None = None,
    ) -> Reply:
        s = self.settings
        # the keyword arguments of the SDK's create(), values of several types: the request body as
        # sent, and the cache key
        payload: dict[str, Any] = {
            "model": s.model,
            "messages": messages,
            "temperature": s.temperature,
            "max_tokens": max_tokens or s.max_output_tokens,
        }
        if tools:
            payload["tools"] = tools
        # JSON is asked for in the prompt and read tolerantly, not forced with response_format: some
        # local servers reject it, and grammar-constrained sampling stalled llama.cpp for minutes here.
        key = self._key(payload)
        hit = self._cache_get(key)
        known = {_function_name(t) for t in tools or []}
        if hit is not None:
            self._account(Usage(cached_calls=1))
            return Reply(hit["content"], [ToolCall(**t) for t in hit["tool_calls"]], Usage(cached_calls=1), cached=True)
        with self._lock:
            self._check_budget()
        import openai

        problem: str | None = None
        for attempt in range(s.max_retries + 1):
            try:
                with self._gate:
                    resp = self.client.chat.completions.create(**payload)
            except openai.APIConnectionError as exc:
                from tools.errors import ExternalFault, UsageError
                from tools.redact import redact

                if _replay_miss(exc):
                    raise UsageError(
                        "the replay asked for a model exchange the cassette does not hold; "
                        "re-record the cassette (--record)"
                    ) from None
                raise ExternalFault(
                    redact(
                        f"the model endpoint did not answer after {s.max_retries} retries "
                        f"({exc}); check --base-url, then --resume latest"
                    )
                ) from None
            except openai.APIStatusError as exc:
                from tools.errors import ExternalFault
                from tools.redact import redact

                raise ExternalFault(
                    redact(
                        f"the model endpoint refused the call: HTTP {exc.status_code} "
                        f"{str(exc.message)[:200]}; check --model and the key, then "
                        "--resume latest"
                    )
                ) from None
            except (ValueError, TypeError, openai.APIResponseValidationError) as exc:
                # a 200 whose body is not a chat completion (not JSON, wrong shape): a fault of the
                # endpoint, retried like a 5xx
                problem = f"the endpoint's answer is not a chat completion ({type(exc).__name__})"
                resp = None
            else:
                problem = _malformed(resp)
            if problem is None:
                break
            log.warning("model call for %s, attempt %s/%s: %s", step, attempt + 1, s.max_retries + 1, problem)
            if attempt < s.max_retries:
                time.sleep(min(8.0, 0.5 * 2**attempt))
        else:
            raise ModelOutputError(f"{problem} after {s.max_retries + 1} attempt(s)")
        msg = resp.choices[0].message
        pt = getattr(resp.usage, "prompt_tokens", 0) or 0
        ct = getattr(resp.usage, "completion_tokens", 0) or 0
        u = Usage(calls=1, prompt_tokens=pt, completion_tokens=ct, cost=self._price(pt, ct))
        self._account(u)
        calls = parse_tool_calls(msg, known) if tools else []
        reply = Reply(msg.content or "", calls, u)
        self._cache_put(
            key, {"content": reply.content, "tool_calls": [{"name": c.name, "arguments": c.arguments} for c in calls]}
        )
        return reply

    def complete_json(
        self,
        messages: Sequence[Message],
        *,
        step: str,
        validate: Callable[[dict[str, object]], list[str]],
        attempts: int = 3,
        used: Usage | None = None,
        max_tokens: int | None = None,
    ) -> dict[str, object]:
        """A JSON object that passes ``validate`` (which returns problems); the model sees each
        problem and answers again, at most ``attempts`` times. Every call's usage is added to
        ``used`` (the caller's own meter: per-step counters are shared between threads)."""
        convo = list(messages)
        problems: list[str] = []
        for _ in range(attempts):
            reply = self.complete(convo, step=step, max_tokens=max_tokens)
            if used is not None:
                used.add(reply.usage)
            candidates = [o for o in json_objects(reply.content) if isinstance(o, dict)] + [salvage(reply.content)]
            problems = ["no JSON object in the answer"]
            for obj in candidates:
                if not obj:
                    continue
                found = validate(obj)
                if not found:
                    return obj
                problems = found if problems == ["no JSON object in the answer"] else problems
            convo = convo + [
                Message(role="assistant", content=reply.content),
                Message(
                    role="user",
                    content="That answer cannot be used: "
                    + "; ".join(problems)[:800]
                    + ". Answer again with one JSON object only, following the schema.",
                ),
            ]
        raise ModelOutputError("; ".join(problems)[:300])


def _function_name(tool: Mapping[str, object]) -> str:
    """The name of an OpenAI ``tools=[...]`` entry."""
    function = tool["function"]
    name = function.get("name") if isinstance(function, Mapping) else None
    if not isinstance(name, str):
        raise TypeError(f"not a function tool: {tool!r}")
    return name


def _malformed(resp: object) -> str | None:
    """What is wrong with a parsed response that an SDK accepted, or None."""
    choices = getattr(resp, "choices", None)
    if not isinstance(choices, list) or not choices:
        return "the endpoint's answer has no choices"
    msg = getattr(choices[0], "message", None)
    if msg is None:
        return "the endpoint's answer has no message"
    content = getattr(msg, "content", None)
    if content is not None and not isinstance(content, str):
        return "the endpoint's message content is not text"
    return None


def _replay_miss(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if type(seen).__name__ == "CannotOverwriteExistingCassetteException":
            return True
        seen = seen.__cause__ or seen.__context__
    return False


_instances: dict[str, LLM] = {}
_instances_lock = threading.Lock()
_transport: httpx2.BaseTransport | None = None
_overrides: ModelOverrides = {}


def set_overrides(values: ModelOverrides) -> None:
    """Settings a resumed run changes (--base-url, --model, --timeout, --retries): applied to every
    LLM the door makes from now on, whatever the checkpointed configuration says."""
    global _overrides
    with _instances_lock:
        _overrides = values.copy()
        _instances.clear()


def use_transport(transport: httpx2.BaseTransport | None) -> None:
    """The seam for tests: every LLM the door makes from now on sends its requests through this
    httpx transport (``None``: the network again). Instances made before are forgotten."""
    global _transport
    with _instances_lock:
        _transport = transport
        _instances.clear()


def door(settings: ModelRecord | None) -> LLM | None:
    """The process's LLM for these settings (None offline)."""
    if not settings:
        return None
    settings = {**settings, **_overrides}
    key = json.dumps(settings, sort_keys=True)
    with _instances_lock:
        if key not in _instances:
            client = None
            if _transport is not None:
                import httpx2  # the openai SDK's HTTP client

                client = httpx2.Client(transport=_transport)
            _instances[key] = LLM(ModelSettings(**settings), http_client=client)
        return _instances[key]
