"""Assemble every asset, resource, job and schedule of a Flywheel project from its files."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb

from pipelines.orchestration.assets import definitions_assets, model_asset, raw_asset
from pipelines.orchestration.guard_checks import VolumeGuard
from pipelines.orchestration.operations import operations_for
from pipelines.orchestration.report_asset import report_asset
from pipelines.orchestration.resources import DefinitionsFile, Horizon, SourceFiles, Warehouse, WarehouseEngine
from pipelines.spec.models import ALLOWED_UPSTREAM_LAYERS, RAW_LAYER, Model, ModelError
from pipelines.spec.partitions import RAW_PARTITION_COLUMN, DayRange
from pipelines.spec.project_files import ProjectFiles, load_project_files
from pipelines.spec.settings import Settings
from pipelines.spec.sources import SourceTable
from pipelines.warehouse.accounting import with_row_accounting
from pipelines.warehouse.connection import engine_of
from pipelines.warehouse.guards import upstream_tables
from pipelines.warehouse.publish import KEEP_PUBLISHES, Publication, PublishedTable, publish
from pipelines.warehouse.shared_definitions import late_arrival_days
from pipelines.warehouse.suites import Suite, SuiteError

BUILD_JOB = "build_everything"
PUBLISH_KEY = ("published", "bi_snapshot")
PUBLISH_GROUP = "publish"
# The run tags that make one run cover a range of partitions, as Dagster's documentation spells them for launching a
# single-run backfill. Dagster exports no public name for them; `dg.RunRequest(tags=...).partition_key_range` reads
# them back, which a unit test checks.
ASSET_PARTITION_RANGE_START_TAG = "dagster/asset_partition_range_start"
ASSET_PARTITION_RANGE_END_TAG = "dagster/asset_partition_range_end"


class PublishTarget(dg.ConfigurableResource):
    """Where the read-only BI snapshot (DuckDB file and Parquet files) is published, and how many to keep."""

    path: str
    keep: int = KEEP_PUBLISHES


def validate_graph(models: list[Model], sources: list[SourceTable], definition_tables: set[str]) -> None:
    """Fail fast when a model reads a table nothing builds, or a layer it may not read."""
    raw_keys = {table.key for table in sources}
    model_keys = {(model.schema, model.name) for model in models}
    definition_keys = {("definitions", table) for table in definition_tables}
    for model in models:
        for ref in model.upstream:
            if ref.key in raw_keys:
                layer = RAW_LAYER
            elif ref.key in model_keys or ref.key in definition_keys:
                layer = ref.schema
            else:
                raise ModelError(f"{model.path}: reads {ref}, which no source contract, definition or model builds")
            if layer not in ALLOWED_UPSTREAM_LAYERS[model.layer]:
                raise ModelError(f"{model.path}: a {model.layer} model may not read {layer} table {ref}")


def daily_partitions(settings: Settings) -> dg.DailyPartitionsDefinition:
    """The daily partitions of product events: UTC days from the first partition day through today."""
    return dg.DailyPartitionsDefinition(start_date=settings.first_partition_day, end_offset=1, timezone="UTC")


def partitioned_by_day(models: list[Model], sources: list[SourceTable]) -> dict[tuple[str, str], str]:
    """Every day-partitioned table, raw or model, with the column holding its day; checks each model's header."""
    tables = {table.key: RAW_PARTITION_COLUMN for table in sources if table.partitioned}
    for model in models:
        column = model.partitioned_by_day
        if column is None:
            continue
        if column not in {output.name for output in model.columns}:
            raise ModelError(f"{model.path}: partitioned_by_day names {column}, which the model does not output")
        if not any(ref.key in tables for ref in model.upstream):
            raise ModelError(f"{model.path}: partitioned_by_day needs a day-partitioned upstream table")
        tables[(model.schema, model.name)] = column
    return tables


def refresh_days(settings: Settings, today: date | None = None) -> DayRange:
    """The days a daily refresh rebuilds: today and the `late_arrival_days` before it (clamped to the partitions)."""
    last = today or datetime.now(UTC).date()
    first = max(
        last - timedelta(days=late_arrival_days(settings.definitions_file)),
        date.fromisoformat(settings.first_partition_day),
    )
    return DayRange(min(first, last), last)


def partition_range_tags(days: DayRange) -> dict[str, str]:
    """Run tags that make one run cover a range of daily partitions (every partitioned asset is single-run)."""
    return {
        ASSET_PARTITION_RANGE_START_TAG: days.first.isoformat(),
        ASSET_PARTITION_RANGE_END_TAG: days.last.isoformat(),
    }


def warehouse_engine(settings: Settings) -> WarehouseEngine:
    """The warehouse resource of the settings' engine: embedded DuckDB (the default) or Spark."""
    if settings.engine == "spark":
        from pipelines.orchestration.spark_resource import SparkWarehouse

        return SparkWarehouse(
            remote=settings.spark_remote,
            master=settings.spark_master,
            warehouse_dir=str(settings.spark_warehouse),
            driver_memory=settings.spark_driver_memory,
            table_format=settings.spark_table_format,
        )
    return Warehouse(
        database=str(settings.warehouse),
        connection_config={
            "memory_limit": settings.memory_limit,
            "threads": settings.threads,
            "temp_directory": str(settings.warehouse.parent / ".tmp"),
        },
    )


def resources(settings: Settings) -> dict[str, object]:
    """The resources every asset runs with, configured from the settings."""
    return {
        "warehouse": warehouse_engine(settings),
        "source_files": SourceFiles(
            raw_dir=str(settings.raw_dir),
            erasure_list=str(settings.erasure_list),
            spark_raw_tables=settings.catalog_raw_tables,
        ),
        "definitions_file": DefinitionsFile(path=str(settings.definitions_file)),
        "horizon": Horizon(
            raw_dir=str(settings.raw_dir),
            sources_file=str(settings.sources_file),
            definitions_file=str(settings.definitions_file),
            as_of=settings.as_of,
            spark_raw_tables=settings.catalog_raw_tables,
        ),
        "publish_target": PublishTarget(path=str(settings.published_dir)),
        "volume_guard": VolumeGuard(
            published_dir=str(settings.published_dir), accept_shrink=list(settings.accept_shrink)
        ),
    }


def publish_asset(
    marts: list[Model],
    definition_keys: list[dg.AssetKey],
    raw_tables: Sequence[tuple[str, str]] = (),
    engine: str = "duckdb",
) -> dg.AssetsDefinition:
    """The BI snapshot: every mart and the definitions in force, published atomically under one publish id.

    It depends on every mart, so Dagster runs it only after they all materialized and passed their blocking checks;
    a mart that failed one skips it, and BI keeps reading the last good snapshot. The row counts of `raw_tables` at
    publish time go into the manifest, the baseline of the volume guards (pipelines/warehouse/guards.py).
    """
    tables = [
        PublishedTable(
            schema=model.schema,
            name=model.name,
            description=model.description,
            column_docs={column.name: column.description for column in model.columns},
        )
        for model in sorted(marts, key=lambda model: (model.schema, model.name))
    ]

    @dg.asset(
        key=list(PUBLISH_KEY),
        deps=[dg.AssetKey([table.schema, table.name]) for table in tables] + definition_keys,
        group_name=PUBLISH_GROUP,
        owners=["team:revops"],
        kinds={"duckdb", "parquet", engine},
        description=(
            "The marts and the definitions in force, published for BI tools as a read-only DuckDB snapshot "
            "(replaced atomically, so readers never wait for a refresh nor see half of one) and as Parquet files; "
            "every table carries the same publish_id. See docs/bi.md."
        ),
        tags={"layer": "publish"},
    )
    def bi_snapshot(
        context,  # not annotated: Dagster compares the raw hint, which `from __future__ import annotations` makes text
        warehouse: WarehouseEngine,
        publish_target: PublishTarget,
    ) -> dg.MaterializeResult:
        with warehouse.get_connection() as connection:
            publication = publish_build(connection, tables, Path(publish_target.path), publish_target.keep, raw_tables)
        context.log.info(f"published {publication.publish_id} to {publication.snapshot}")
        mart_rows = {name: rows for name, rows in publication.row_counts.items() if name.startswith("marts.")}
        return dg.MaterializeResult(
            metadata={
                "publish_id": publication.publish_id,
                "published_at": publication.published_at.isoformat(),
                "snapshot": dg.MetadataValue.path(str(publication.snapshot)),
                "parquet_dir": dg.MetadataValue.path(str(publication.parquet_dir)),
                "definitions_version": publication.definitions_version,
                "tables": len(publication.row_counts),
                "dagster/row_count": sum(mart_rows.values()),
                "mart_rows": dg.MetadataValue.md(
                    "\n".join(
                        ["| mart | rows |", "|---|---|"] + [f"| {name} | {rows} |" for name, rows in mart_rows.items()]
                    )
                ),
                "publish_seconds": round(publication.seconds, 3),
            }
        )

    return bi_snapshot


def publish_build(
    connection: duckdb.DuckDBPyConnection,
    tables: Sequence[PublishedTable],
    publish_dir: Path,
    keep: int,
    raw_tables: Sequence[tuple[str, str]],
) -> Publication:
    """Publish from whichever engine built the marts: DuckDB copies them into the snapshot itself; a Spark build
    also versions them in its catalog (pipelines/warehouse/spark/publish.py)."""
    if engine_of(connection) == "duckdb":
        return publish(connection, tables, publish_dir, keep=keep, raw_tables=raw_tables)
    from pipelines.warehouse.spark.publish import publish_spark_build

    return publish_spark_build(connection, tables, publish_dir, keep=keep, raw_tables=raw_tables)  # type: ignore[arg-type]


def build_assets(settings: Settings, files: ProjectFiles | None = None) -> list[dg.AssetsDefinition]:
    """Every asset of the project: raw tables, shared definitions, models, and the BI snapshot of the marts.

    `files` are the project's files as read for this build (pipelines/spec/project_files.py); read now when not given.
    """
    files = files or load_project_files(settings)
    sources, models, suites = files.sources, files.models, files.suites
    definitions = definitions_assets(settings.definitions_file, settings.engine)
    validate_graph(models, sources, {key.path[-1] for key in definitions.keys})
    validate_suites(suites, models)
    suites_by_model: dict[str, list[Suite]] = {}
    for suite in suites:
        suites_by_model.setdefault(suite.model, []).append(suite)
    partitions = daily_partitions(settings)
    partitioned_tables = partitioned_by_day(models, sources)
    built_from = upstream_tables(models)
    return [
        *(raw_asset(table, partitions if table.partitioned else None, settings.engine) for table in sources),
        definitions,
        *(
            model_asset(
                with_row_accounting(model, sources),
                suites_by_model.get(f"{model.schema}.{model.name}", []),
                partitions if model.partitioned_by_day else None,
                partitioned_tables,
                built_from[f"{model.schema}.{model.name}"],
                settings.engine,
            )
            for model in models
        ),
        publish_asset(
            [model for model in models if model.layer == "marts"],
            sorted(definitions.keys),
            [table.key for table in sources],
            settings.engine,
        ),
        report_asset(),
    ]


def validate_suites(suites: list[Suite], models: list[Model]) -> None:
    """Every suite names a model that exists and only columns that model outputs."""
    columns_by_model = {f"{model.schema}.{model.name}": {column.name for column in model.columns} for model in models}
    for suite in suites:
        if suite.model not in columns_by_model:
            raise SuiteError(f"{suite.path}: validates {suite.model}, which no model builds")
        for expectation in suite.expectations:
            kwargs = expectation.get("kwargs", {})
            named = [kwargs[name] for name in ("column", "column_A", "column_B") if name in kwargs]
            unknown = [column for column in named if column not in columns_by_model[suite.model]]
            if unknown:
                raise SuiteError(f"{suite.path}: {suite.model} has no column(s) {', '.join(unknown)}")


def build_definitions(settings: Settings, files: ProjectFiles | None = None) -> dg.Definitions:
    """The Dagster definitions: assets with their checks, the build job, and a daily schedule.

    The project's files are read and validated once (`files`, read now when not given); assets read the definitions
    again at run time through the cache of pipelines/spec/project_files.py, so an edited file is seen on the next run.
    """
    files = files or load_project_files(settings)
    build_job = dg.define_asset_job(
        BUILD_JOB,
        selection=dg.AssetSelection.all(),
        description="Load every raw table, then build every model, in dependency order, in one process.",
    )
    assets = build_assets(settings, files)
    # Freshness checks on the raw assets, the raw files sensor and the run-failure reporter: see operations.py.
    operations = operations_for(
        settings.raw_dir,
        settings.warehouse.parent,
        files.sources,
        assets,
        build_job,
        lambda: partition_range_tags(refresh_days(settings)),
        catalog_raw_tables=settings.catalog_raw_tables,
    )
    return dg.Definitions(
        assets=assets,
        asset_checks=operations.checks,
        sensors=operations.sensors,
        resources=resources(settings),
        jobs=[build_job],
        schedules=[daily_refresh_schedule(settings, build_job)],
        # DuckDB takes one writer at a time, so parallel steps would only queue on its lock; in-process execution
        # also avoids the ~2 s per-step start-up of the multiprocess executor.
        executor=dg.in_process_executor,
    )


def daily_refresh_schedule(settings: Settings, build_job: dg.UnresolvedAssetJobDefinition) -> dg.ScheduleDefinition:
    """Every morning: rebuild everything from the latest connector sync, product events for the refresh days only."""

    @dg.schedule(
        job=build_job,
        cron_schedule="0 6 * * *",
        execution_timezone="UTC",
        name="build_everything_schedule",
        description=(
            "Rebuild the warehouse every morning from the latest connector sync. Product events are rebuilt for "
            "today and the `product_events.late_arrival_days` days before it only; the other days stay as built."
        ),
    )
    def build_everything_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        scheduled = context.scheduled_execution_time
        today = scheduled.astimezone(UTC).date() if scheduled else None
        return dg.RunRequest(tags=partition_range_tags(refresh_days(settings, today)))

    return build_everything_schedule
