"""The steps of a model asset's run, write-audit-publish: build the pending table and audit it, publish it or discard
it, and describe what was materialized. The asset itself (pipelines/orchestration/assets.py) only calls them in order.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb

from pipelines.orchestration.guard_checks import VolumeGuard, mart_guard_results
from pipelines.spec.lineage import ClassifiedLineage, Schema, classified_lineage
from pipelines.spec.models import Model
from pipelines.spec.partitions import DayRange
from pipelines.spec.project_files import read_definitions
from pipelines.warehouse.audit import AssertionResult, GrainResult, check_grain, keys_kept_elsewhere
from pipelines.warehouse.build import build_pending, discard_pending, publish_pending
from pipelines.warehouse.connection import ColumnInfo, engine_of, table_columns
from pipelines.warehouse.suites import Suite, SuiteResult, run_suite_on_table


@dataclass(frozen=True)
class ModelAudit:
    """What auditing a model's pending table found, and how long the build and the checks took."""

    pending: str
    grain: GrainResult
    guard_results: list[dg.AssetCheckResult]
    suite_results: list[SuiteResult]
    build_seconds: float
    check_seconds: float

    @property
    def blocking_failures(self) -> list[SuiteResult]:
        return [result for result in self.suite_results if result.suite.blocking and not result.success]

    @property
    def failed_guards(self) -> list[str | None]:
        return [result.check_name for result in self.guard_results if not result.passed]

    @property
    def passed(self) -> bool:
        """Whether no blocking check failed, so the pending table may be published."""
        return (
            self.grain.duplicate_count == 0
            and self.grain.null_count == 0
            and not self.blocking_failures
            and not self.failed_guards
        )


def run_suites(
    connection: duckdb.DuckDBPyConnection, model: Model, pending: str, suites: Sequence[Suite], definitions_path: Path
) -> list[SuiteResult]:
    """Validate the pending table with every suite of the model, against the definitions in force."""
    if not suites:
        return []
    document = read_definitions(definitions_path).document
    table = f"{model.schema}.{pending}"
    if engine_of(connection) == "spark":
        from pipelines.warehouse.spark.suites import run_suite_on_spark

        session = connection.session  # type: ignore[attr-defined]
        return [run_suite_on_spark(suite, session, table, document, model.grain) for suite in suites]
    return [run_suite_on_table(suite, connection, table, document, model.grain) for suite in suites]


def build_and_audit(
    context: dg.AssetExecutionContext,
    connection: duckdb.DuckDBPyConnection,
    model: Model,
    body: str | None,
    days: DayRange | None,
    suites: Sequence[Suite],
    definitions_path: Path,
    volume_guard: VolumeGuard,
    upstream_tables: Collection[str],
) -> ModelAudit:
    """Build the model (or `body`, its SQL over `days`) into its pending table, then run its grain checks, a mart's
    guards and its suites against it; failed suites are logged."""
    started = time.perf_counter()
    pending = build_pending(connection, model, body)
    build_seconds = time.perf_counter() - started
    grain = grain_of(connection, model, pending, days)
    guard_results: list[dg.AssetCheckResult] = []
    if model.layer == "marts":
        guard_results = mart_guard_results(
            context, connection, model, pending, days, volume_guard, definitions_path, upstream_tables
        )
    suite_results = run_suites(connection, model, pending, suites, definitions_path)
    check_seconds = time.perf_counter() - started - build_seconds
    for result in suite_results:
        if not result.success:
            log = context.log.error if result.suite.blocking else context.log.warning
            log(f"{model.schema}.{model.name}: suite {result.suite.name} failed\n{result.summary()}")
    return ModelAudit(pending, grain, guard_results, suite_results, build_seconds, check_seconds)


def grain_of(connection: duckdb.DuckDBPyConnection, model: Model, pending: str, days: DayRange | None) -> GrainResult:
    """The pending table against its grain; a partial rebuild also counts the keys the live table holds on other
    days as duplicates."""
    grain = check_grain(connection, model.schema, pending, model.grain)
    if days is not None and model.partitioned_by_day is not None:
        count, samples = keys_kept_elsewhere(connection, model, pending, model.partitioned_by_day, days)
        grain = dataclasses.replace(
            grain,
            duplicate_count=grain.duplicate_count + count,
            duplicate_samples=[*grain.duplicate_samples, *samples][:5],
        )
    return grain


def publish_or_discard(
    context: dg.AssetExecutionContext,
    connection: duckdb.DuckDBPyConnection,
    model: Model,
    audit: ModelAudit,
    days: DayRange | None,
    lookback_days: int,
) -> tuple[bool, list[AssertionResult]]:
    """Publish an audited pending table (its assertions decide, inside the swap), or discard one that failed a
    blocking check; returns whether it was published, and the assertion results (-1 violations: not run)."""
    name = f"{model.schema}.{model.name}"
    if audit.passed:
        published, assertion_results = publish_pending(connection, model, audit.pending, days, lookback_days)
        for assertion in assertion_results:
            if not assertion.passed:
                kept = "the last good table stays in place" if assertion.blocking else "a warning only"
                log = context.log.error if assertion.blocking else context.log.warning
                log(
                    f"{name}: {assertion.name} broken by {assertion.violation_count} "
                    f"row(s), e.g. {assertion.samples}; {kept}."
                )
        return published, assertion_results
    not_run = [
        AssertionResult(name=assertion.name, violation_count=-1, samples=[], blocking=assertion.blocking)
        for assertion in model.assertions
    ]
    discard_pending(connection, model, audit.pending)
    grain = audit.grain
    context.log.error(
        f"{name} failed blocking checks and was not published "
        f"({grain.duplicate_count} duplicated keys, e.g. {grain.duplicate_samples}; "
        f"{grain.null_count} null keys, e.g. {grain.null_samples}; "
        f"failed suites: {[result.suite.name for result in audit.blocking_failures]}; "
        f"failed guards: {audit.failed_guards}); "
        "the last good table stays in place."
    )
    return False, not_run


def upstream_schemas(connection: duckdb.DuckDBPyConnection, model: Model) -> Schema:
    """The columns and types of every table the model reads, as column lineage needs them."""
    schemas: Schema = {ref.schema: {} for ref in model.upstream}
    for ref in model.upstream:
        schemas[ref.schema][ref.name] = {
            column.name: column.type for column in table_columns(connection, ref.schema, ref.name)
        }
    return schemas


# The most rows the lineage table shows: a wide model's table stays readable and its metadata small.
LINEAGE_TABLE_ROWS = 400
LINEAGE_TABLE_KEY = "column_lineage_table"


# A schema as a hashable key, in the schemas' own order (`select *` expands in column order).
FrozenSchema = tuple[tuple[str, tuple[tuple[str, tuple[tuple[str, str], ...]], ...]], ...]


def lineage_metadata(model: Model, columns: Sequence[str], upstream: Schema) -> dict[str, Any]:
    """The column lineage of a model from one pass of sqlglot over its SQL, twice: as `dagster/column_lineage`
    (drawn by Dagster+ only) and as a Markdown table, which the open-source UI shows too."""
    frozen = tuple(
        (schema, tuple((table, tuple(columns.items())) for table, columns in tables.items()))
        for schema, tables in upstream.items()
    )
    lineage = known_lineage(model.body, tuple(columns), frozen)
    return {
        "dagster/column_lineage": dg.TableColumnLineage(
            deps_by_column={
                column: [
                    dg.TableColumnDep(asset_key=[schema, table], column_name=name)
                    for schema, table, name in sorted(deps)
                ]
                for column, deps in lineage.items()
                if deps
            }
        ),
        LINEAGE_TABLE_KEY: dg.MetadataValue.md(lineage_table(lineage)),
    }


@functools.lru_cache(maxsize=512)
def known_lineage(sql: str, columns: tuple[str, ...], upstream: FrozenSchema) -> ClassifiedLineage:
    """The lineage of `sql` over `upstream`, worked out once per process: a long-lived process (`dagster dev`, a
    refresh after a build, a test session) builds the same SQL over the same upstream columns again and again, and
    sqlglot's pass costs about 0.2 s a model. The result is shared between callers: read it, never change it."""
    schema = {name: {table: dict(columns) for table, columns in tables} for name, tables in upstream}
    return classified_lineage(sql, list(columns), schema)


def lineage_table(lineage: ClassifiedLineage, max_rows: int = LINEAGE_TABLE_ROWS) -> str:
    """One Markdown row per output column and upstream column, in output column order; a column computed from no
    column says so. Past `max_rows` rows, a last line says how many more there are."""
    rows: list[str] = []
    for column, sources in lineage.items():
        if not sources:
            rows.append(f"| {column} | none | no upstream column (a literal, `count(*)`) |")
        rows += [f"| {column} | {'.'.join(source)} | {how} |" for source, how in sorted(sources.items())]
    lines = [
        "direct: passed through, maybe renamed or cast; derived: an expression over it; "
        "aggregated: under an aggregate or window function.",
        "",
        "| column | upstream (asset.column) | how |",
        "|---|---|---|",
        *rows[:max_rows],
    ]
    if len(rows) > max_rows:
        lines += ["", f"... {len(rows) - max_rows} more rows"]
    return "\n".join(lines)


def materialization_metadata(
    model: Model, built: Sequence[ColumnInfo], rows: int, audit: ModelAudit, upstream: Schema
) -> dict[str, Any]:
    """The metadata of a published model: rows, timings, the columns as built, and their lineage."""
    descriptions = {column.name: column.description for column in model.columns}
    metadata: dict[str, Any] = {
        "dagster/row_count": rows,
        "build_seconds": round(audit.build_seconds, 3),
        "check_seconds": round(audit.check_seconds, 3),
        "dagster/column_schema": dg.TableSchema(
            columns=[
                dg.TableColumn(name=column.name, type=column.type, description=descriptions.get(column.name))
                for column in built
            ]
        ),
    }
    if built:
        metadata.update(lineage_metadata(model, [column.name for column in built], upstream))
    return metadata
