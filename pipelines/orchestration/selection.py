"""Asset selections as `flywheel run --select` and `flywheel ls --select` take them: Dagster's selection syntax.

The string is Dagster's own (what the UI's search box and `dagster asset materialize --select` read): `key:"marts/
rpt_x"`, `+` before or after for what is upstream or downstream (`2+` for two levels), `group:marts`,
`tag:layer=marts`, `kind:sql`, `owner:"team:sales"`, combined with `and`, `or`, `not` and parentheses. Two
shorthands dbt users expect are added before Dagster parses it: a bare model or table name (`rpt_x`, `+rpt_x`,
`rpt_x+`) or key (`marts/rpt_x`) stands for `key:"marts/rpt_x"`, and `owner:team:sales` needs no quotes. A
selection that does not parse, names a model that does not exist or matches no asset is a SelectionError with one
line naming it, raised before anything runs.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable

import dagster as dg

# Words of Dagster's selection grammar that a bare name must not be mistaken for.
_GRAMMAR_WORDS = frozenset({"and", "or", "not", "sinks", "roots"})
# A bare name or `schema/name`: not a value after `key:` or `tag:x=`, not in quotes, not a wildcard or a function call.
_BARE_NAME = re.compile(r"(?<![\w:=\"/*.-])([A-Za-z_]\w*(?:/[A-Za-z_]\w*)?)(?![\w:\"/*(.-])")
_UNQUOTED_OWNER = re.compile(r"owner:(team:[\w-]+)")
_KIND_TAG = "dagster/kind/"


class SelectionError(ValueError):
    """A selection that cannot be used: the message is one line naming the selection and what is wrong."""


def _keys_by_name(keys: Iterable[dg.AssetKey]) -> dict[str, list[dg.AssetKey]]:
    """Every asset key under its table name and under itself (`marts/rpt_x` under `rpt_x` and `marts/rpt_x`)."""
    by_name: dict[str, list[dg.AssetKey]] = {}
    for key in keys:
        by_name.setdefault(key.path[-1], []).append(key)
        by_name.setdefault(key.to_user_string(), []).append(key)
    return by_name


def expand_shorthand(selection: str, keys: Iterable[dg.AssetKey]) -> str:
    """The selection in Dagster's syntax: bare names replaced by `key:"schema/name"`, owners quoted."""
    by_name = _keys_by_name(keys)

    def key_of(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in _GRAMMAR_WORDS:
            return name
        found = by_name.get(name, [])
        if not found:
            raise SelectionError(f"selection {selection!r}: no model or table is named {name}")
        if len(found) > 1:
            spelled = " or ".join(f'key:"{key.to_user_string()}"' for key in sorted(found))
            raise SelectionError(f"selection {selection!r}: {name} is ambiguous, write {spelled}")
        return f'key:"{found[0].to_user_string()}"'

    return _BARE_NAME.sub(key_of, _UNQUOTED_OWNER.sub(r'owner:"\1"', selection))


def resolve_selection(definitions: dg.Definitions, selection: str) -> list[dg.AssetKey]:
    """The asset keys a selection matches in the project, sorted; SelectionError when it is wrong or matches none."""
    graph = definitions.resolve_asset_graph()
    text = selection.strip()
    if not text:
        raise SelectionError(f"selection {selection!r}: an empty selection matches nothing")
    expanded = expand_shorthand(text, graph.get_all_asset_keys())
    try:
        with warnings.catch_warnings():  # `group:` and `tag:` pass a beta parameter inside Dagster's own parser
            warnings.simplefilter("ignore", dg.BetaWarning)
            keys = dg.AssetSelection.from_string(expanded).resolve(graph)
    except Exception as error:  # Dagster raises several types (invalid string, unknown key): all mean the same here
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise SelectionError(f"selection {selection!r} is not valid: {reason}") from error
    if not keys:
        raise SelectionError(f"selection {selection!r} matches no asset (see `flywheel ls` for every asset)")
    return sorted(keys)


def kinds_of(tags: dict[str, str]) -> list[str]:
    """The kinds of an asset (`duckdb`, `sql`), which Dagster stores as `dagster/kind/<kind>` tags."""
    return sorted(tag[len(_KIND_TAG) :] for tag in tags if tag.startswith(_KIND_TAG))


def asset_lines(definitions: dg.Definitions, keys: Iterable[dg.AssetKey]) -> list[str]:
    """One aligned line per asset, sorted by key: key, group (the layer), kinds, owners."""
    graph = definitions.resolve_asset_graph()
    rows = []
    for key in sorted(keys):
        node = graph.get(key)
        rows.append(
            (
                key.to_user_string(),
                node.group_name,
                ",".join(kinds_of(dict(node.tags))),
                ",".join(node.owners),
            )
        )
    widths = [max((len(row[column]) for row in rows), default=0) for column in range(3)]
    return [
        "  ".join(value.ljust(width) for value, width in zip(row[:3], widths, strict=True)) + "  " + row[3]
        for row in rows
    ]
