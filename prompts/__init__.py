"""The one way templates are loaded: every jinja environment reads the installed `prompts` package
and refuses a missing variable (StrictUndefined), so a template and its data cannot drift apart silently."""

from __future__ import annotations

import importlib.resources
from functools import lru_cache

import jinja2


@lru_cache(maxsize=None)
def template_env(
    subfolder: str = "", keep_trailing_newline: bool = True, autoescape: bool = False
) -> jinja2.Environment:
    folder = importlib.resources.files("prompts")
    if subfolder:
        folder = folder.joinpath(subfolder)
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(folder)),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=keep_trailing_newline,
        # wiki and Markdown text is not HTML (cells are escaped by filters); the review site's is
        autoescape=autoescape,
    )


def html_env() -> jinja2.Environment:
    """The review site's HTML (prompts/site/): every value is escaped unless it is already
    `markupsafe.Markup`, so text from the analysed source or a model can only reach a page as text."""
    return template_env("site", autoescape=True)
