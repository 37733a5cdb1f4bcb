"""Which shared definitions a candidate file changes, and which assets read each of them.

RevOps previews a change to `definitions.yml` before publishing it (`flywheel preview`, see
pipelines/definition_preview.py). Rebuilding only what a change can move needs two answers, both read from the
project's files here:

- the definitions that differ, compared key by key through the registry (pipelines/spec/definitions_registry.py), so
  each change has the one name SQL, suites and docs use;
- the models reading each one: a model whose SQL or cross-model checks name a threshold column
  (`thresholds.mql__score_threshold`) or read the definitions table a listed definition is loaded into
  (`definitions.channel_mapping`), a model validated by a suite that references it (`{"$definition": ...}` or
  `@name` in a row condition), and the assets of the Python steps that read a definition themselves
  (`PYTHON_READERS`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pipelines.spec.definitions_registry import DEFINITIONS, THRESHOLDS, Definition, path_of, value_at
from pipelines.spec.models import DEFINITIONS_SCHEMA, Model
from pipelines.spec.suite_references import referenced_definitions
from pipelines.spec.suite_schema import Suite

# Definitions read by Python steps rather than by a model's SQL, with the Dagster selection of the assets whose run
# reads them (by path prefix). Everything downstream of those assets is rebuilt with them.
PYTHON_READERS: Mapping[str, str] = {
    # The raw loads redact personal data in free text with this label.
    "personal_data.redacted_label": "group:raw",
    # The raw loads quarantine rows dated outside the data horizon.
    "data_horizon": "group:raw",
    # The volume guards of raw tables and marts compare row counts with this share.
    "volume_guard.max_row_drop_share": "group:raw",
}


@dataclass(frozen=True)
class DefinitionChange:
    """One definition whose value differs between the definitions in force and a candidate file."""

    definition: Definition
    before: Any
    after: Any

    @property
    def name(self) -> str:
        return self.definition.name


def changed_definitions(current: Mapping[str, Any], candidate: Mapping[str, Any]) -> list[DefinitionChange]:
    """The definitions whose values differ, in the order of definitions.yml (both documents validated)."""
    changes = []
    for item in DEFINITIONS:
        before, after = value_at(dict(current), item.path), value_at(dict(candidate), item.path)
        if before != after:
            changes.append(DefinitionChange(item, before, after))
    return changes


def _names_column(sql: str, column: str) -> bool:
    return re.search(rf"\b{re.escape(column)}\b", sql) is not None


def model_reads(model: Model, item: Definition) -> bool:
    """Whether the model's SQL or its checks read the definition: the threshold's own column of
    `definitions.thresholds`, or any column of the definitions table a listed definition is loaded into."""
    if item.table is None:
        return False
    if not any(ref.key == (DEFINITIONS_SCHEMA, item.table) for ref in model.upstream):
        return False
    if item.table != THRESHOLDS:
        return True
    texts = [model.body, *(assertion.sql for assertion in model.assertions)]
    return any(_names_column(text, column) for text in texts for column in item.columns)


def _same_or_nested(path: str, other: str) -> bool:
    """Whether two dotted paths name the same value or one holds the other (`mql` holds `mql.score_threshold`)."""
    return path == other or path.startswith(f"{other}.") or other.startswith(f"{path}.")


def suite_reads(suite: Suite, item: Definition) -> bool:
    """Whether the suite references the definition, a part of it, or a section holding it."""
    return any(_same_or_nested(path_of(name), item.path) for name in referenced_definitions(suite))


@dataclass(frozen=True)
class Readers:
    """What reads a set of changed definitions: model tables (`schema.name`), the definitions tables to rewrite,
    and the Dagster selections of Python steps."""

    models: frozenset[str]
    definition_tables: frozenset[str]
    python_selections: frozenset[str]

    @property
    def empty(self) -> bool:
        return not (self.models or self.definition_tables or self.python_selections)


def readers_of(changes: Iterable[DefinitionChange], models: Sequence[Model], suites: Sequence[Suite]) -> Readers:
    """The models, definitions tables and Python steps that read any of the changed definitions."""
    found: set[str] = set()
    tables: set[str] = set()
    selections: set[str] = set()
    for change in changes:
        item = change.definition
        if item.table is not None:
            tables.add(item.table)
        found.update(f"{model.schema}.{model.name}" for model in models if model_reads(model, item))
        found.update(suite.model for suite in suites if suite_reads(suite, item))
        selections.update(
            selection for prefix, selection in PYTHON_READERS.items() if _same_or_nested(item.path, prefix)
        )
    return Readers(frozenset(found), frozenset(tables), frozenset(selections))
