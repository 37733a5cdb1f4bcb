"""The data behind the docs catalog's lineage graph: every table with its columns, and every column-to-column edge.

`lineage.html` draws, with catalog.js, the neighbourhood of one column or table from this data: its upstream and
downstream columns across assets and how each edge is derived (`direct`, `derived`, `aggregated`, as
`pipelines/spec/lineage.py` classifies them). The data is written beside the pages as a script that sets a global
(`lineage-data.js`), because a page opened from a file may not fetch a JSON file. Everything is sorted, so the same
project files give the same bytes.
"""

from __future__ import annotations

import json
from typing import Any

from pipelines.docs.catalog_facts import Catalog, ColumnRef, Ref
from pipelines.spec.models import DEFINITIONS_SCHEMA

GRAPH_PAGE = "lineage.html"
GRAPH_DATA_FILE = "lineage-data.js"
GRAPH_DATA_VARIABLE = "FLYWHEEL_LINEAGE"


def column_name(column: ColumnRef) -> str:
    """A column's name in the graph data and in the graph page's URL: `schema.table.column`."""
    return ".".join(column)


def graph_link(column: ColumnRef, depth: int) -> str:
    """The link that opens the lineage graph on a column, from a page `depth` folders below the catalog's root."""
    return f"{'../' * depth}{GRAPH_PAGE}#column={column_name(column)}"


def table_graph_link(key: Ref, depth: int) -> str:
    """The link that opens the lineage graph on every column of a table."""
    return f"{'../' * depth}{GRAPH_PAGE}#table={key[0]}.{key[1]}"


def _table(layer: str, href: str, column_anchor: str | None, columns: list[str]) -> dict[str, Any]:
    """One table of the graph: its layer (the colour of its box), its page, and the anchor prefix of its columns
    (None when its page has no anchor per column)."""
    return {"layer": layer, "href": href, "column_anchor": column_anchor, "columns": columns}


def _tables(catalog: Catalog) -> dict[str, dict[str, Any]]:
    """Every model, raw table and definitions table, with the columns its files declare, in their order."""
    tables: dict[str, dict[str, Any]] = {}
    for model in catalog.models:
        page = f"models/{model.schema}.{model.name}.html"
        columns = [column.name for column in model.columns]
        tables[f"{model.schema}.{model.name}"] = _table(model.layer, page, f"{page}#column-", columns)
    for source in catalog.sources:
        name = f"{source.source}.{source.name}"
        columns = [column.name for column in source.columns]
        tables[name] = _table("raw", f"sources.html#{name}", f"sources.html#{name}.", columns)
    for table, typed_columns in catalog.definition_columns.items():
        name = f"{DEFINITIONS_SCHEMA}.{table}"
        columns = [column for column, _ in typed_columns]
        tables[name] = _table("definitions", f"definitions.html#{name}", None, columns)
    return tables


def lineage_edges(catalog: Catalog) -> list[tuple[str, str, str]]:
    """Every (upstream column, output column, how) of every model whose lineage is known, sorted."""
    edges = []
    for (schema, table), lineage in catalog.lineage_kinds.items():
        for column, sources in lineage.items():
            for source, how in sources.items():
                edges.append((column_name(source), column_name((schema, table, column)), how))
    return sorted(edges)


def lineage_graph(catalog: Catalog) -> dict[str, Any]:
    """The graph data: `tables` (name -> layer, page, column anchors, columns) and `edges` ([from, to, how]).

    A column an edge names but no file declares (a column sqlglot found behind a `select *`) is added to its
    table, so every edge ends at a column the graph can draw.
    """
    tables = _tables(catalog)
    edges = lineage_edges(catalog)
    for edge in edges:
        for end in edge[:2]:
            schema, table, column = end.split(".", 2)
            entry = tables.setdefault(f"{schema}.{table}", _table("raw", "", None, []))
            if column not in entry["columns"]:
                entry["columns"].append(column)
    return {"tables": dict(sorted(tables.items())), "edges": [list(edge) for edge in edges]}


def script(variable: str, data: object) -> str:
    """A script setting `window.<variable>` to the data, as JSON with sorted keys (deterministic bytes)."""
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return f"window.{variable} = {text};\n"
