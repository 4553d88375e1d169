"""Names for discovered steps and workflows, without a model: a Principle is named as a concept
(the action as a noun, and what it acts on), with the library's own name left out; the
Implementation is the API's dotted path (WIKI_FORMAT §2); a workflow takes the heading it was
taught under when that heading says something, else the concept its last step reaches.

Names depend on the APIs only (never on line numbers), so the same source gives the same names.
"""

from __future__ import annotations

import re

from tools.source.naming import NAME_RE, api_page_name

# the action of a verb, as a noun (the first word of an API name)
ACTIONS = {
    "add": "Addition",
    "apply": "Application",
    "build": "Building",
    "call": "Invocation",
    "close": "Closing",
    "compile": "Compilation",
    "compute": "Computation",
    "configure": "Configuration",
    "connect": "Connection",
    "convert": "Conversion",
    "create": "Creation",
    "decode": "Decoding",
    "delete": "Deletion",
    "disable": "Disabling",
    "download": "Download",
    "dump": "Serialization",
    "enable": "Enabling",
    "encode": "Encoding",
    "evaluate": "Evaluation",
    "export": "Export",
    "fit": "Fitting",
    "format": "Formatting",
    "generate": "Generation",
    "get": "Retrieval",
    "hotswap": "Hotswapping",
    "init": "Initialization",
    "initialize": "Initialization",
    "inject": "Injection",
    "invoke": "Invocation",
    "iter": "Iteration",
    "load": "Loading",
    "make": "Construction",
    "merge": "Merging",
    "mount": "Mounting",
    "open": "Opening",
    "parse": "Parsing",
    "predict": "Prediction",
    "prepare": "Preparation",
    "print": "Report",
    "process": "Processing",
    "push": "Publishing",
    "raise": "Check",
    "read": "Reading",
    "register": "Registration",
    "remove": "Removal",
    "render": "Rendering",
    "replace": "Replacement",
    "request": "Request",
    "reset": "Reset",
    "resize": "Resizing",
    "rescale": "Rescaling",
    "route": "Routing",
    "run": "Execution",
    "save": "Saving",
    "scale": "Scaling",
    "send": "Sending",
    "serve": "Serving",
    "set": "Selection",
    "setup": "Setup",
    "shutdown": "Shutdown",
    "start": "Start",
    "stop": "Stop",
    "swap": "Swapping",
    "test": "Testing",
    "to": "Conversion",
    "tokenize": "Tokenization",
    "train": "Training",
    "transform": "Transformation",
    "unload": "Unloading",
    "unmerge": "Unmerging",
    "update": "Update",
    "upload": "Upload",
    "use": "Use",
    "validate": "Validation",
    "write": "Writing",
}
# what an HTTP-like verb does to its object
_VERB_OBJECT = {"get": "Request", "post": "Request", "put": "Request", "patch": "Request", "head": "Request"}
_FILLERS = {
    "and",
    "or",
    "for",
    "from",
    "to",
    "of",
    "the",
    "with",
    "by",
    "in",
    "on",
    "a",
    "an",
    "as",
    "pretrained",
    "all",
}
_CONFIG_WORDS = {"config", "configuration", "settings", "options", "arguments", "args", "params", "parameters"}
_GENERIC_TITLES = {
    "",
    "quickstart",
    "quick start",
    "quick tour",
    "quicktour",
    "usage",
    "basic usage",
    "example",
    "examples",
    "example usage",
    "getting started",
    "get started",
    "installation",
    "install",
    "introduction",
    "overview",
    "tutorial",
    "readme",
    "api",
    "reference",
    "notes",
    "note",
}


def words(identifier: str) -> list[str]:
    """``get_peft_model`` → get, peft, model; ``LoraConfig`` → Lora, Config; ``HTTPAdapter`` → HTTP, Adapter."""
    out: list[str] = []
    for part in identifier.split("_"):
        out += re.findall(r"[A-Z]+(?=[A-Z][a-z]|\d|\b)|[A-Z]?[a-z]+|[A-Z]+|\d+", part)
    return [w for w in out if w]


def _title(ws: list[str]) -> list[str]:
    return [w if w.isupper() and len(w) > 1 else w[:1].upper() + w[1:].lower() for w in ws]


def concept(api: str, library_words: set[str]) -> str:
    """A Principle name for an API: ``PeftModel.save_pretrained`` → ``Model_Saving``,
    ``LoraConfig`` → ``Lora_Configuration``, ``requests.get`` → ``Request_Sending``…"""
    parts = api.split(".")
    name = parts[-1].strip("_") or parts[-1]
    owner = parts[-2] if len(parts) >= 2 and parts[-2][:1].isupper() else None
    own = [w for w in words(name) if w.lower() not in library_words]
    owner_words = [w for w in (words(owner) if owner else []) if w.lower() not in library_words]
    if name[:1].isupper():  # a class: building it, or configuring when it is a config
        if own and own[-1].lower() in _CONFIG_WORDS:
            body = own[:-1] or owner_words or ["Setting"]
            return _join(_title(body) + ["Configuration"])
        return _join(_title(own or words(name)) + ["Setup"])
    ws = words(name)
    verb = ws[0].lower() if ws else ""
    if verb == "from" and owner is not None:  # Class.from_pretrained, Class.from_file: building it from saved state
        obj = owner_words or words(owner)
        return _join(_title(obj[-2:]) + ["Loading"])
    if verb in _VERB_OBJECT and len(ws) == 1:
        return _join([_VERB_OBJECT[verb], "Sending" if verb != "get" else "Retrieval"])
    rest = [w for w in ws[1:] if w.lower() not in _FILLERS and w.lower() not in library_words]
    if verb in ACTIONS:
        action = [ACTIONS[verb]]
        # a second verb joined by "and" (merge_and_unload): both actions
        extra = [ACTIONS[w.lower()] for w in ws[1:] if w.lower() in ACTIONS and w.lower() not in ("to",)]
        obj = [w for w in rest if w.lower() not in ACTIONS] or owner_words[-2:]
        return _join(_title(obj[:3]) + action + extra[:1])
    # no known verb: the API's words as a noun phrase
    return _join(_title([w for w in ws if w.lower() not in _FILLERS][:4] or ws) + ["Step"])


def _join(ws: list[str]) -> str:
    name = "_".join(w for w in ws if w)
    name = re.sub(r"[^A-Za-z0-9_]", "", name)
    name = re.sub(r"_+", "_", name).strip("_")
    if not name or not NAME_RE.match(name):
        return "Step"
    return name if name[:1].isupper() or name[:1].isdigit() else name[:1].upper() + name[1:]


def implementation(api: str) -> str | None:
    """The Implementation name: the API's dotted path without its module, ``.`` → ``_`` (§2)."""
    dotted = api.split(":", 1)[1] if ":" in api else ".".join(p for p in api.split(".")[1:])
    return api_page_name(dotted)


def workflow_name(title: str, last_concept: str) -> str:
    """A heading that says something (not "Quickstart" or "Usage"), else the concept the workflow
    reaches, as a workflow name."""
    t = re.sub(r"[`*_:]+", " ", title).strip()
    if t.lower() not in _GENERIC_TITLES and 1 <= len(t.split()) <= 6 and not re.search(r"[()\[\]=]", t):
        name = _join(_title(re.findall(r"[A-Za-z0-9]+", t)))
        if name != "Step":
            return name
    return last_concept


def step_title(principle: str) -> str:
    return principle.replace("_", " ")
