"""The facts the docs catalog's pages show: the `Catalog` read from the project files and its column lineage.

`html_catalog.load_catalog` fills a `Catalog` from the files; `catalog_pages` turns it into what each page shows.
The lineage is worked out here, from the files alone (no warehouse): sqlglot needs the upstream columns, which the
model headers, the source contracts and the loaded definitions tables give.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.spec.lineage import ClassifiedLineage, Schema, classified_lineage
from pipelines.spec.models import DEFINITIONS_SCHEMA, LAYERS, Model
from pipelines.spec.sources import SourceTable
from pipelines.warehouse.suites import Suite

Ref = tuple[str, str]  # (schema, table)
ColumnRef = tuple[str, str, str]  # (schema, table, column)


@dataclass
class Catalog:
    """Everything the pages need, read from the project files."""

    models: list[Model]
    sources: list[SourceTable]
    suites: list[Suite]
    definition_tables: dict[str, list[dict[str, Any]]]  # table -> rows (as loaded into the warehouse)
    definition_columns: dict[str, list[tuple[str, str]]]  # table -> [(column, type)]
    project_root: Path
    lineage: dict[Ref, dict[str, list[ColumnRef]]] = field(default_factory=dict)
    # the same lineage with how each upstream column feeds the output column (direct, derived, aggregated)
    lineage_kinds: dict[Ref, ClassifiedLineage] = field(default_factory=dict)
    lineage_errors: dict[Ref, str] = field(default_factory=dict)

    @property
    def model_keys(self) -> set[Ref]:
        return {(model.schema, model.name) for model in self.models}

    @property
    def source_keys(self) -> set[Ref]:
        return {table.key for table in self.sources}

    def downstream(self, key: Ref) -> list[Model]:
        """Models reading `key` (in their SQL or their assertions), sorted."""
        found = [model for model in self.models if any(ref.key == key for ref in model.upstream)]
        return sorted(found, key=lambda model: (LAYERS.index(model.layer), model.name))

    def suites_for(self, model: Model) -> list[Suite]:
        return [suite for suite in self.suites if suite.model == f"{model.schema}.{model.name}"]


def _upstream_schemas(catalog: Catalog, model: Model) -> Schema:
    """The upstream columns sqlglot needs, as `pipelines/orchestration/assets.py` passes them, but read from the files.

    Models: their documented output columns; raw tables: their contract columns; definitions: the loaded tables.
    """
    models = {(other.schema, other.name): other for other in catalog.models}
    sources = {table.key: table for table in catalog.sources}
    schemas: Schema = {}
    for ref in model.upstream:
        columns: dict[str, str] = {}
        if ref.key in models:
            columns = {column.name: "varchar" for column in models[ref.key].columns}
        elif ref.key in sources:
            columns = {column.name: column.type for column in sources[ref.key].columns}
        elif ref.schema == DEFINITIONS_SCHEMA and ref.name in catalog.definition_columns:
            columns = dict(catalog.definition_columns[ref.name])
        schemas.setdefault(ref.schema, {})[ref.name] = columns
    return schemas


def compute_lineage(catalog: Catalog) -> None:
    """Fill `catalog.lineage` and `catalog.lineage_kinds`, or `catalog.lineage_errors` for a model sqlglot cannot
    follow."""
    for model in catalog.models:
        key = (model.schema, model.name)
        try:
            kinds = classified_lineage(
                model.body, [column.name for column in model.columns], _upstream_schemas(catalog, model)
            )
            catalog.lineage_kinds[key] = kinds
            catalog.lineage[key] = {column: sorted(sources) for column, sources in kinds.items()}
        except Exception as error:  # sqlglot raises many kinds; the page says lineage is unavailable and why
            catalog.lineage_errors[key] = f"{type(error).__name__}: {error}".splitlines()[0][:300]


def origins(catalog: Catalog, column: ColumnRef, _seen: frozenset[ColumnRef] = frozenset()) -> list[ColumnRef]:
    """The raw connector and definitions columns an output column is ultimately computed from, sorted."""
    schema, table, name = column
    direct = catalog.lineage.get((schema, table), {}).get(name)
    if (schema, table) not in catalog.model_keys or direct is None:
        return [column]  # a raw or definitions column, or a model column whose lineage is unknown
    found: set[ColumnRef] = set()
    for dep in direct:
        if dep in _seen:
            continue
        found.update(origins(catalog, dep, _seen | {column}))
    return sorted(found)
