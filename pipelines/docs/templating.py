"""The Jinja2 environment the docs layer renders its HTML with: the templates in `pipelines/docs/templates/`.

The Python modules gather the data (queries, catalog assembly); the templates hold the markup. Autoescaping is on
for every template, so text from model headers, suites or the warehouse can never become markup; the few trusted
fragments (the report's SVG charts) are marked safe where they are made. Undefined names raise instead of
rendering as empty text, so a renamed field fails the render rather than leaving a hole in a page. The templates
ship as package data (pyproject's `[tool.setuptools.package-data]`), so an installed Flywheel renders too.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

_CODE_SPAN = re.compile(r"`([^`]+)`")


def md_code(text: object) -> Markup:
    """Text as HTML, escaped, with Markdown `code` spans (in descriptions and docs/definitions.md cells) as <code>."""
    escaped = str(escape("" if text is None else str(text)))
    return Markup(_CODE_SPAN.sub(lambda match: f"<code>{match.group(1)}</code>", escaped))


def _blank_none(value: object) -> object:
    """A missing value (None) prints as nothing, not as "None"."""
    return "" if value is None else value


@functools.cache
def environment() -> Environment:
    """The one environment of the docs layer (built once: it caches the compiled templates)."""
    env = Environment(
        loader=PackageLoader("pipelines.docs", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_blank_none,
    )
    env.filters["md_code"] = md_code
    return env


def render(template: str, **context: Any) -> str:
    """Render `template` (a path under templates/) with `context`."""
    return environment().get_template(template).render(**context)


def replace_generated_block(text: str, block: str, start: str, end: str, name: str) -> str:
    """`text` (a Markdown document named `name`) with the block between its `start` and `end` markers replaced."""
    before, found_start, rest = text.partition(start)
    _, found_end, after = rest.partition(end)
    if not found_start or not found_end:
        raise ValueError(f"{name} needs the markers {start!r} and {end!r}")
    return f"{before}{start}\n{block}\n{end}{after}"
