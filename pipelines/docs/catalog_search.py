"""The docs catalog's search index: every model, table, column, KPI and definition, with the page that shows it.

The search box on every page (catalog.js) ranks these entries in the browser, offline; the index is written beside
the pages as a script that sets a global (`search-index.js`), like the lineage graph's data. Links are relative to
the catalog's root; the script prefixes them with the way up from the page it runs on. A column entry also links
the lineage graph opened on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pipelines.docs.catalog_facts import Catalog
from pipelines.docs.catalog_graph import graph_link, table_graph_link
from pipelines.docs.catalog_pages import first_sentence, model_file
from pipelines.spec.definitions_registry import DEFINITIONS, TABLE_DOCS
from pipelines.spec.models import DEFINITIONS_SCHEMA

SEARCH_INDEX_FILE = "search-index.js"
SEARCH_INDEX_VARIABLE = "FLYWHEEL_SEARCH"
# The order of the kinds when two entries rank the same.
KINDS = ("model", "kpi", "definition", "table", "column")


def _entry(kind: str, name: str, text: str, href: str, graph: str = "") -> dict[str, str]:
    """One search entry: what it is, its name (searched first), a short text (searched too), where it is shown,
    and the lineage graph opened on it (tables and columns)."""
    entry = {"kind": kind, "name": name, "text": first_sentence(text, 160), "href": href}
    if graph:
        entry["graph"] = graph
    return entry


def _model_entries(catalog: Catalog) -> list[dict[str, str]]:
    """Each model, its columns and its KPIs."""
    entries = []
    for model in catalog.models:
        page = f"models/{model_file(model)}"
        key = (model.schema, model.name)
        name = f"{model.schema}.{model.name}"
        entries.append(_entry("model", name, model.description, page, table_graph_link(key, 0)))
        for column in model.columns:
            href, graph = f"{page}#column-{column.name}", graph_link((*key, column.name), 0)
            entries.append(_entry("column", f"{name}.{column.name}", column.description, href, graph))
        for kpi in model.header.get("kpis") or []:
            if isinstance(kpi, Mapping) and kpi.get("name"):
                text = f"{name}: {kpi.get('formula') or ''}"
                entries.append(_entry("kpi", str(kpi["name"]), text, f"{page}#kpi-{kpi['name']}"))
    return entries


def _source_entries(catalog: Catalog) -> list[dict[str, str]]:
    """Each raw table and its columns."""
    entries = []
    for table in catalog.sources:
        name = f"{table.source}.{table.name}"
        graph = table_graph_link(table.key, 0)
        entries.append(_entry("table", name, f"raw: {table.description}", f"sources.html#{name}", graph))
        for column in table.columns:
            href = f"sources.html#{name}.{column.name}"
            graph = graph_link((*table.key, column.name), 0)
            entries.append(_entry("column", f"{name}.{column.name}", column.description, href, graph))
    return entries


def _definition_entries(catalog: Catalog) -> list[dict[str, str]]:
    """Each registered definition (found by its name or its key of definitions.yml), and each definitions table
    with its columns."""
    entries = [
        _entry("definition", item.name, f"{item.path}: {item.meaning}", f"definitions.html#definition-{item.name}")
        for item in DEFINITIONS
    ]
    for table, columns in catalog.definition_columns.items():
        name = f"{DEFINITIONS_SCHEMA}.{table}"
        href = f"definitions.html#{name}"
        doc = TABLE_DOCS.get(table, "")
        graph = table_graph_link((DEFINITIONS_SCHEMA, table), 0)
        entries.append(_entry("table", name, f"definitions: {doc}", href, graph))
        for column, _ in columns:
            graph = graph_link((DEFINITIONS_SCHEMA, table, column), 0)
            entries.append(_entry("column", f"{name}.{column}", doc, href, graph))
    return entries


def search_index(catalog: Catalog) -> list[dict[str, Any]]:
    """Every entry the search box finds, sorted by kind and name (deterministic bytes)."""
    entries = _model_entries(catalog) + _source_entries(catalog) + _definition_entries(catalog)
    return sorted(entries, key=lambda entry: (KINDS.index(entry["kind"]), entry["name"], entry["href"]))
