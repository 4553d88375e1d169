"""Record and replay whole runs' model exchanges with vcrpy: matched on method, URI and body (so
parallel steps replay in any order), credentials filtered out, and a replay that misses a recorded
exchange fails loudly."""
from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path

from tools.errors import UsageError

FILTERED_HEADERS = ["authorization", "api-key", "x-api-key", "openai-organization", "openai-project", "cookie",
                    "set-cookie"]


def _config(path: Path, mode: str):
    import vcr
    return vcr.VCR(record_mode=mode, match_on=["method", "uri", "body"], filter_headers=FILTERED_HEADERS,
                   decode_compressed_response=True).use_cassette(str(path))


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
    try:
        with _config(replay, "none"):
            yield
    except CannotOverwriteExistingCassetteException as exc:
        raise UsageError(f"the replay asked for a model exchange that {replay} does not hold "
                         f"({str(exc).splitlines()[0][:200]}); re-record it") from None


def recorded_endpoint(path: Path) -> tuple[str | None, str | None]:
    """(model, base URL) of the first exchange in a cassette."""
    import yaml
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    for inter in data.get("interactions", []):
        req = inter.get("request", {})
        uri = req.get("uri", "")
        if "/chat/completions" in uri:
            body = req.get("body")
            body = body.get("string") if isinstance(body, dict) else body
            try:
                model = json.loads(body).get("model")
            except (TypeError, ValueError):
                model = None
            return model, uri.rsplit("/chat/completions", 1)[0]
    raise UsageError(f"{path} holds no chat completion exchange; record one with --record")
