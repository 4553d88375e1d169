"""One redactor for every text that leaves the process: error messages, logs, traces, checkpoints.

It removes the configured API key wherever it appears, ``Authorization`` / ``Bearer`` values, and
the credential patterns of RULES R36 (an endpoint that echoes the key in its error must not put
the key on stderr, in ``checkpoints.sqlite`` or in a cassette).
"""

from __future__ import annotations

import os
import re

_PATTERNS = [
    re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?)(bearer\s+)?[^\s'\",}]+"),
    re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"sk-[A-Za-z0-9_-]{20,}"),
    re.compile(r"hf_[A-Za-z0-9]{30,}"),
    re.compile(r"gh[pousr]_[A-Za-z0-9]{30,}"),
    re.compile(r"AKIA[0-9A-Z]{16}"),
]
KEY_VARIABLES = ("OPENAI_API_KEY", "AZURE_OPENAI_API_KEY", "ANTHROPIC_API_KEY", "HF_TOKEN")


def redact(text: str) -> str:
    for var in KEY_VARIABLES:
        key = os.environ.get(var) or ""
        if len(key) >= 8:
            text = text.replace(key, "[redacted]")
    for rx in _PATTERNS:
        text = rx.sub(lambda m: (m.group(1) if m.re is _PATTERNS[0] else "") + "[redacted]", text)
    return text
