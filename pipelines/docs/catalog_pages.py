"""What each page of the docs catalog shows, gathered from a `Catalog`; the templates in templates/catalog/ lay it out.

Every function here returns plain data (names, texts, links as `Link`s); none writes markup. Links are relative, so
the catalog reads the same from any folder: `depth` is how many folders below the catalog's root a page lives.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.docs.catalog_facts import Catalog, ColumnRef, Ref, origins
from pipelines.docs.catalog_graph import graph_link, table_graph_link
from pipelines.spec.definitions_registry import Definition, definitions_in, validation
from pipelines.spec.models import DEFINITIONS_SCHEMA, LAYERS, Model
from pipelines.warehouse.accounting import ACCOUNTING_CHECK
from pipelines.warehouse.shared_definitions import TABLE_DOCS

MODEL_PAGES = "models"
GRAIN_UNIQUE = "grain_is_unique"  # the check names pipelines/orchestration/assets.py gives the grain checks
GRAIN_NOT_NULL = "grain_is_not_null"
KPI_FIELDS = ("formula", "numerator", "denominator", "grain", "filters", "owner")
MODEL_SECTIONS = (
    ("kpis", "KPIs"),
    ("columns", "Columns & lineage"),
    ("dependencies", "Upstream & downstream"),
    ("checks", "Checks"),
    ("definitions", "Definitions"),
    ("sql", "SQL"),
)
# (name in a code span, meaning) of the registered definitions a definitions table is loaded from
DefinitionKeys = Mapping[str, list[tuple[str, str]]]


@dataclass(frozen=True)
class Link:
    """A link to a page or an anchor of the catalog; `layer` is set for a link to a table (shown as a badge)."""

    href: str
    label: str
    layer: str = ""


@dataclass(frozen=True)
class Expectation:
    """One expectation of a suite as the model page lists it: its type, what it checks, its kwargs as JSON."""

    type: str
    description: str
    kwargs: str


@dataclass(frozen=True)
class Check:
    """One asset check of a model: an assertion's SQL, or a suite's file and expectations, as its details."""

    name: str
    kind: str
    severity: str  # "blocking" or "warn"
    description: str
    sql: str = ""
    suite_file: str = ""
    expectations: tuple[Expectation, ...] = ()


def model_file(model: Model) -> str:
    return f"{model.schema}.{model.name}.html"


def relative(catalog: Catalog, path: Path) -> str:
    try:
        return path.resolve().relative_to(catalog.project_root.resolve()).as_posix()
    except ValueError:
        return path.name


def layer_of(catalog: Catalog, key: Ref) -> str:
    if key in catalog.model_keys:
        return key[0]
    if key[0] == DEFINITIONS_SCHEMA:
        return "definitions"
    return "raw"


def _href(catalog: Catalog, key: Ref, depth: int) -> str:
    up = "../" * depth
    schema, table = key
    if key in catalog.model_keys:
        return f"{up}{MODEL_PAGES}/{schema}.{table}.html"
    if schema == DEFINITIONS_SCHEMA:
        return f"{up}definitions.html#{schema}.{table}"
    return f"{up}sources.html#{schema}.{table}"


def ref_link(catalog: Catalog, key: Ref, depth: int) -> Link:
    """A link to a model's page, or to a raw or definitions table's section, with the table's layer."""
    return Link(_href(catalog, key, depth), f"{key[0]}.{key[1]}", layer_of(catalog, key))


def _model_link(catalog: Catalog, name: str, depth: int) -> Link:
    schema, _, table = name.partition(".")
    return Link(_href(catalog, (schema, table), depth), name)


def _column_link(catalog: Catalog, column: ColumnRef, depth: int) -> Link:
    schema, table, name = column
    href = _href(catalog, (schema, table), depth)
    if (schema, table) in catalog.model_keys:
        href += f"#column-{name}"
    elif (schema, table) in catalog.source_keys:
        href += f".{name}"  # the raw column's row on the sources page
    return Link(href, f"{schema}.{table}.{name}")


def first_sentence(text: str, limit: int = 200) -> str:
    sentence = re.split(r"(?<=\.)\s", " ".join(text.split()), maxsplit=1)[0]
    return sentence if len(sentence) <= limit else sentence[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + " …"


def value_text(value: object) -> str | None:
    """A definitions value as the page prints it; None for a null (shown as a muted NULL)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _layer_order(catalog: Catalog, key: Ref) -> int:
    return ("raw", "definitions", *LAYERS).index(layer_of(catalog, key))


# --- The index -------------------------------------------------------------------------------------------------------


def index_page(catalog: Catalog) -> dict[str, Any]:
    """The layers, marts first, each with its models sorted by domain and name."""
    layers = []
    for layer in reversed(LAYERS):
        models = sorted((m for m in catalog.models if m.layer == layer), key=lambda m: (m.domain, m.name))
        rows = [
            {
                "href": f"{MODEL_PAGES}/{model_file(model)}",
                "model": model,
                "kpi_count": len(model.header.get("kpis") or []),
                "summary": first_sentence(model.description, 170),
            }
            for model in models
        ]
        if rows:
            layers.append((layer, rows))
    return {"catalog": catalog, "layers": layers}


# --- A model's page --------------------------------------------------------------------------------------------------


def model_page(catalog: Catalog, model: Model, definition_keys: DefinitionKeys) -> dict[str, Any]:
    """Header facts, KPIs, columns with lineage, dependencies, checks and definitions of one model."""
    key = (model.schema, model.name)
    kpis = [kpi for kpi in model.header.get("kpis") or [] if isinstance(kpi, Mapping)]
    has_kpis = bool(model.header.get("kpis"))
    upstream = sorted(model.upstream, key=lambda ref: (_layer_order(catalog, ref.key), ref.key))
    return {
        "model": model,
        "sections": [(anchor, label) for anchor, label in MODEL_SECTIONS if anchor != "kpis" or has_kpis],
        "file": relative(catalog, model.path),
        "has_kpis": has_kpis,
        "kpis": kpis,
        "kpi_fields": [name for name in KPI_FIELDS if any(kpi.get(name) not in (None, "") for kpi in kpis)],
        "lineage_error": catalog.lineage_errors.get(key),
        "columns": [(column, _lineage(catalog, model, column.name)) for column in model.columns],
        "graph_links": {column.name: graph_link((*key, column.name), 1) for column in model.columns},
        "table_graph": table_graph_link(key, 1),
        "upstream": [ref_link(catalog, ref.key, 1) for ref in upstream],
        "downstream": [ref_link(catalog, (other.schema, other.name), 1) for other in catalog.downstream(key)],
        "checks": checks(catalog, model),
        "definitions_direct": _definitions_direct(catalog, model, definition_keys),
        "definitions_via": _definitions_via(catalog, model),
    }


def _lineage(catalog: Catalog, model: Model, column: str) -> tuple[list[Link], list[Link] | None] | None:
    """(from, origin) links of a column: the upstream columns it is computed from, and the raw and definitions
    columns behind them (None when those are the same); None when the model's lineage is unknown."""
    key = (model.schema, model.name)
    if key in catalog.lineage_errors:
        return None
    direct = catalog.lineage.get(key, {}).get(column, [])
    roots = origins(catalog, (model.schema, model.name, column)) if direct else []
    return (
        [_column_link(catalog, dep, 1) for dep in direct],
        None if roots == direct else [_column_link(catalog, root, 1) for root in roots],
    )


def checks(catalog: Catalog, model: Model) -> list[Check]:
    """Every check the model's asset runs: grain checks, check files, row accounting, suites."""
    grain = ", ".join(model.grain)
    found = [
        Check(GRAIN_UNIQUE, "grain", "blocking", f"No two rows share the grain ({grain})."),
        Check(GRAIN_NOT_NULL, "grain", "blocking", f"No grain column ({grain}) is null."),
    ]
    for assertion in model.assertions:
        kind = "row accounting" if assertion.name == ACCOUNTING_CHECK else f"check file ({model.name}.checks.sql)"
        severity = "blocking" if assertion.blocking else "warn"
        found.append(Check(assertion.name, kind, severity, assertion.description, sql=assertion.sql))
    for suite in catalog.suites_for(model):
        expectations = tuple(
            Expectation(
                str(expectation.get("type")),
                str(expectation.get("description") or ""),
                json.dumps(expectation.get("kwargs", {}), sort_keys=True, ensure_ascii=False),
            )
            for expectation in suite.expectations
        )
        severity = "blocking" if suite.blocking else "warn"
        suite_file = relative(catalog, suite.path)
        found.append(
            Check(suite.name, "Great Expectations suite", severity, suite.description, "", suite_file, expectations)
        )
    return found


def _ancestors(catalog: Catalog, model: Model) -> list[Model]:
    """Every model the model reads, directly or through other models, sorted."""
    by_key = {(other.schema, other.name): other for other in catalog.models}
    found: dict[Ref, Model] = {}
    stack = [ref.key for ref in model.upstream]
    while stack:
        key = stack.pop()
        if key in found or key not in by_key or key == (model.schema, model.name):
            continue
        found[key] = by_key[key]
        stack.extend(ref.key for ref in by_key[key].upstream)
    return sorted(found.values(), key=lambda other: (LAYERS.index(other.layer), other.name))


def _definitions_direct(catalog: Catalog, model: Model, definition_keys: DefinitionKeys) -> list[dict[str, Any]]:
    """The definitions tables the model reads itself: what each holds, the columns feeding its outputs, its keys."""
    tables = sorted(ref.name for ref in model.upstream if ref.schema == DEFINITIONS_SCHEMA)
    read_columns: dict[str, set[str]] = {}
    for deps in catalog.lineage.get((model.schema, model.name), {}).values():
        for schema, table, column in deps:
            if schema == DEFINITIONS_SCHEMA:
                read_columns.setdefault(table, set()).add(column)
    return [
        {
            "link": ref_link(catalog, (DEFINITIONS_SCHEMA, table), 1),
            "doc": TABLE_DOCS.get(table, ""),
            "columns": sorted(read_columns.get(table, set())),
            "key_meanings": definition_keys.get(table, []),
        }
        for table in tables
    ]


def _definitions_via(catalog: Catalog, model: Model) -> list[dict[str, Any]]:
    """The definitions tables the model depends on through the models it reads, and where each is applied."""
    direct = {ref.name for ref in model.upstream if ref.schema == DEFINITIONS_SCHEMA}
    via: dict[str, list[str]] = {}
    for ancestor in _ancestors(catalog, model):
        for ref in ancestor.upstream:
            if ref.schema == DEFINITIONS_SCHEMA and ref.name not in direct:
                via.setdefault(ref.name, []).append(f"{ancestor.schema}.{ancestor.name}")
    return [
        {
            "link": ref_link(catalog, (DEFINITIONS_SCHEMA, table), 1),
            "doc": TABLE_DOCS.get(table, ""),
            "applied_in": [_model_link(catalog, name, 1) for name in names],
        }
        for table, names in sorted(via.items())
    ]


# --- The raw sources and the definitions tables ----------------------------------------------------------------------


def sources_page(catalog: Catalog) -> dict[str, Any]:
    """Every raw table, sorted, with the models that read it."""
    tables = sorted(catalog.sources, key=lambda table: table.key)
    readers = {
        table.key: [ref_link(catalog, (m.schema, m.name), 0) for m in catalog.downstream(table.key)] for table in tables
    }
    graphs = {table.key: table_graph_link(table.key, 0) for table in tables}
    return {"tables": tables, "readers": readers, "graphs": graphs}


def definitions_page(catalog: Catalog, definition_keys: DefinitionKeys) -> dict[str, Any]:
    """Every definitions table (those with a description first, in their order), its keys, readers and values."""
    names = list(TABLE_DOCS)
    names += sorted(table for table in catalog.definition_tables if table not in TABLE_DOCS)
    tables = []
    for table in names:
        rows = catalog.definition_tables.get(table, [])
        columns = [name for name, _ in catalog.definition_columns.get(table, [])]
        readers = catalog.downstream((DEFINITIONS_SCHEMA, table))
        tables.append(
            {
                "name": table,
                "doc": TABLE_DOCS.get(table, ""),
                "definitions": [_registry_row(item) for item in definitions_in(table)],
                "readers": [ref_link(catalog, (m.schema, m.name), 0) for m in readers],
                "columns": columns,
                "rows": [[value_text(row.get(column)) for column in columns] for row in rows],
                "transposed": len(rows) == 1 and len(columns) > 3,  # one wide row reads better as column | value
            }
        )
    return {"tables": tables, "unread": [_registry_row(item) for item in definitions_in(None)]}


def _registry_row(item: Definition) -> dict[str, Any]:
    """One registered definition: the name SQL, suites and docs use, its key in definitions.yml, its validation."""
    return {
        "name": item.name,
        "path": item.path,
        "columns": list(item.columns),
        "validation": validation(item.path),
        "meaning": item.meaning,
    }


def definition_tables(catalog: Catalog) -> Sequence[str]:
    """Every definitions table a page may name: those described in TABLE_DOCS and those loaded."""
    return sorted(set(TABLE_DOCS) | set(catalog.definition_tables))
