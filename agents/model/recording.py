"""Record and replay whole runs' model exchanges with vcrpy: matched on method, URI and body (so
parallel steps replay in any order), credentials filtered out, and a replay that misses a recorded
exchange fails loudly.

Cassettes are YAML with every JSON body stored as YAML data (``body: {json: …}``) and every
multi-line string as a literal block, so a re-recording diffs line by line: a changed prompt line
shows as that line. vcrpy's body matcher compares JSON bodies parsed, so the compact JSON given back
on replay matches the SDK's request whatever its spacing."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tools.errors import UsageError

FILTERED_HEADERS = [
    "authorization",
    "api-key",
    "x-api-key",
    "openai-organization",
    "openai-project",
    "cookie",
    "set-cookie",
]


SERIALIZER = "readable_yaml"
Cassette = dict[str, Any]  # a decoded YAML document whose shape vcrpy owns


def _to_data(body: object) -> object:
    """A JSON body as data (``{"json": …}``); anything else as it was."""
    if isinstance(body, str) and body[:1] in "{[":
        try:
            return {"json": json.loads(body)}
        except ValueError:
            pass
    return body


def _to_text(body: object) -> object:
    if isinstance(body, dict) and set(body) == {"json"}:
        return json.dumps(body["json"], ensure_ascii=False, separators=(",", ":"))
    return body


class ReadableYaml:
    """vcrpy serializer: JSON bodies as YAML data, multi-line strings as literal blocks. Cassettes
    whose bodies are plain strings (the older form) load unchanged."""

    @staticmethod
    def serialize(data: Cassette) -> str:
        import yaml

        dumper: Any = type("Dumper", (yaml.SafeDumper,), {})  # a fresh class: the representer stays ours

        def text(d: Any, s: str) -> Any:
            return d.represent_scalar("tag:yaml.org,2002:str", s, style="|" if "\n" in s else None)

        dumper.add_representer(str, text)
        out: Cassette = {**data, "interactions": []}
        for inter in data["interactions"]:
            req, resp = dict(inter["request"]), dict(inter["response"])
            req["body"] = _to_data(req.get("body"))
            if isinstance(resp.get("body"), dict) and "string" in resp["body"]:
                resp["body"] = _to_data(resp["body"]["string"])
            resp["headers"] = {k: v for k, v in (resp.get("headers") or {}).items() if k.lower() != "content-length"}
            out["interactions"].append({"request": req, "response": resp})
        return str(yaml.dump(out, Dumper=dumper, allow_unicode=True, sort_keys=False, width=120))

    @staticmethod
    def deserialize(text: str) -> Cassette:
        import yaml

        data: Cassette = yaml.safe_load(text) or {}
        for inter in data.get("interactions", []):
            inter["request"]["body"] = _to_text(inter["request"].get("body"))
            body = inter["response"].get("body")
            if not (isinstance(body, dict) and "string" in body):
                inter["response"]["body"] = {"string": _to_text(body)}
        return data


def _config(path: Path, mode: str) -> contextlib.AbstractContextManager[Any]:
    import vcr

    v = vcr.VCR(
        record_mode=mode,
        match_on=["method", "uri", "body"],
        filter_headers=FILTERED_HEADERS,
        decode_compressed_response=True,
        serializer=SERIALIZER,
    )
    v.register_serializer(SERIALIZER, ReadableYaml())
    manager: contextlib.AbstractContextManager[Any] = v.use_cassette(str(path))
    return manager


@contextlib.contextmanager
def cassette(record: Path | None, replay: Path | None) -> Iterator[None]:
    if record is None and replay is None:
        yield
        return
    if record is not None and replay is not None:
        raise UsageError("--record and --replay exclude each other")
    if record is not None:
        record.parent.mkdir(parents=True, exist_ok=True)
        if record.exists():
            record.unlink()  # a recording is always a whole run
        with _config(record, "all"):
            yield
        return
    from vcr.errors import CannotOverwriteExistingCassetteException

    assert replay is not None
    try:
        with _config(replay, "none"):
            yield
    except CannotOverwriteExistingCassetteException as exc:
        raise UsageError(
            f"the replay asked for a model exchange that {replay} does not hold "
            f"({str(exc).splitlines()[0][:200]}); re-record it"
        ) from None


def recorded_endpoint(path: Path) -> tuple[str | None, str | None]:
    """(model, base URL) of the first exchange in a cassette."""
    data = ReadableYaml.deserialize(path.read_text(encoding="utf-8"))
    for inter in data.get("interactions", []):
        req = inter.get("request", {})
        uri = req.get("uri", "")
        if "/chat/completions" in uri:
            body = req.get("body")
            body = body.get("string") if isinstance(body, dict) else body
            try:
                model = json.loads(str(body)).get("model")
            except (TypeError, ValueError):
                model = None
            return model, uri.rsplit("/chat/completions", 1)[0]
    raise UsageError(f"{path} holds no chat completion exchange; record one with --record")
