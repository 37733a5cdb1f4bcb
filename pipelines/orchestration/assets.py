"""The Dagster layer: one asset per raw table, one multi-asset for the shared definitions, one asset per model.

Everything an asset needs is read from files (the source contracts, the definitions file, the model headers and
SQL); adding a model means adding a `.sql` file, never Python.
"""

import hashlib
import warnings
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dagster as dg

from pipelines.orchestration.check_results import (
    GRAIN_NOT_NULL,
    GRAIN_UNIQUE,
    assertion_check_result,
    blocking_failure,
    grain_check_results,
    suite_check_result,
)
from pipelines.orchestration.guard_checks import (
    VolumeGuard,
    mart_guard_check_specs,
    volume_check_result,
    volume_check_spec,
)
from pipelines.orchestration.model_steps import (
    build_and_audit,
    materialization_metadata,
    publish_or_discard,
    upstream_schemas,
)
from pipelines.orchestration.resources import DefinitionsFile, Horizon, SourceFiles, WarehouseEngine
from pipelines.spec.models import Model
from pipelines.spec.partitions import DayRange, output_restricted, restrict_to_days
from pipelines.spec.raw_catalog import catalog_table_name
from pipelines.spec.sources import SourceTable
from pipelines.warehouse.connection import engine_of, row_count, table_columns
from pipelines.warehouse.erasure import ErasureList
from pipelines.warehouse.guards import redacted_label
from pipelines.warehouse.horizon import (
    HORIZON_TABLE,
    DataHorizon,
    HorizonSettings,
    horizon_variables,
    set_horizon_variables,
    write_data_horizon,
)
from pipelines.warehouse.retries import RAW_LOAD_RETRIES, file_state, raw_load_retry_seconds, transient_reason
from pipelines.warehouse.shared_definitions import SCHEMA as DEFINITIONS_SCHEMA
from pipelines.warehouse.shared_definitions import TABLE_DOCS, late_arrival_days, load_definitions, write_definitions
from pipelines.warehouse.suites import Suite

if TYPE_CHECKING:
    from pipelines.warehouse.raw_audit import RawLoad
    from pipelines.warehouse.raw_files import LoadScope

# A single-run backfill policy is what lets one run rebuild a range of days; Dagster 1.13 flags the parameter beta.


warnings.filterwarnings("ignore", message=".*backfill_policy.*", category=dg.BetaWarning)


def _sql_block(sql: str) -> dg.MetadataValue:
    return dg.MetadataValue.md(f"```sql\n{sql.strip()}\n```")


def partition_days(context: dg.AssetExecutionContext) -> tuple[DayRange, DayRange] | None:
    """For a run of a day-partitioned asset: the days it rebuilds, and every day there is; None otherwise."""
    if not context.has_partition_key_range:
        return None
    partitions = context.assets_def.partitions_def
    if partitions is None:
        return None
    keys = context.partition_key_range
    bounds = partitions.get_partition_keys(dynamic_partitions_store=context.instance)
    return DayRange.parse(keys.start, keys.end), DayRange.parse(bounds[0], bounds[-1])


def raw_asset(
    table: SourceTable, partitions: dg.PartitionsDefinition | None = None, engine: str = "duckdb"
) -> dg.AssetsDefinition:
    """An asset that loads one connector table from the raw directory into `<source>.<table>`.

    A day-partitioned table (`partitions`) loads the days of the run's partition range only, in one run whatever
    the range (a backfill of a year is one run, not 365).
    """

    @dg.asset(
        key=list(table.key),
        group_name="raw",
        owners=[table.owner],
        kinds={engine, "file"},
        description=table.description or f"{table.source}.{table.name} as the connector lands it.",
        tags={"layer": "raw", "source": table.source},
        metadata={"dagster/column_schema": _contract_schema(table), "primary_key": list(table.primary_key)},
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run() if partitions is not None else None,
        check_specs=[volume_check_spec(table.key)],
    )
    def load(
        context: dg.AssetExecutionContext,
        warehouse: WarehouseEngine,
        source_files: SourceFiles,
        definitions_file: DefinitionsFile,
        volume_guard: VolumeGuard,
        horizon: Horizon,
    ) -> dg.MaterializeResult:
        from pipelines.warehouse.raw_files import LoadScope

        catalog = source_files.spark_raw_tables
        # A raw table in the Spark catalog is named where a file's path is (its load, log and metadata).
        path = Path(catalog_table_name(catalog, table)) if catalog else table.find_file(Path(source_files.raw_dir))
        days = partition_days(context)
        scope = LoadScope(days=days[0], bounds=days[1]) if days is not None else None
        bounds = horizon.resolve(warehouse)
        label = redacted_label(Path(definitions_file.path))
        erasure_list = Path(source_files.erasure_list)
        load, column_count, table_rows = _load_or_retry(
            context, warehouse, table, path, erasure_list, scope, label, bounds, from_catalog=bool(catalog)
        )
        volume = volume_guard.compare(f"{table.source}.{table.name}", table_rows, Path(definitions_file.path))
        _log_load(context, table, path, scope, load)
        if not volume.passed:
            context.log.error(volume.summary())
        return dg.MaterializeResult(
            metadata=_raw_load_metadata(load, path, column_count, bounds),
            check_results=[volume_check_result(volume)],
        )

    return load


def _contract_schema(table: SourceTable) -> dg.TableSchema:
    """The columns a raw table's contract declares, as Dagster shows them."""
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name=column.name,
                type=column.type,
                description=column.description or None,
                constraints=dg.TableColumnConstraints(nullable=not column.required),
            )
            for column in table.columns
        ]
    )


def _load_or_retry(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseEngine,
    table: SourceTable,
    path: Path,
    erasure_list: Path,
    scope: "LoadScope | None",
    label: str,
    bounds: DataHorizon,
    from_catalog: bool = False,
) -> "tuple[RawLoad, int, int]":
    """Load the raw file; returns the load, the table's column count and its rows (a day-partitioned table whole).

    Only what may heal on its own is retried (a lock, a file still being written); a missing column or file, a
    permission error or a bad erasure list fails the step at once. A table read from the Spark catalog
    (`from_catalog`, `path` its catalog name) has no file state: a Spark error is never taken for a file being
    written.
    """
    from pipelines.warehouse.raw_load import load_raw_table

    before = file_state(path) if not from_catalog else (0, 0)
    try:
        with warehouse.get_connection() as connection:
            erasures = ErasureList.read(erasure_list)
            if engine_of(connection) == "spark":
                load = _load_on_spark(connection, table, path, erasures, scope, label, bounds, from_catalog)
            else:
                set_horizon_variables(connection, bounds)
                load = load_raw_table(connection, table, path, erasures, scope, redacted_label=label)
            columns = table_columns(connection, table.source, table.name)
            return load, len(columns), row_count(connection, table.source, table.name)
    except Exception as error:
        reason = transient_reason(error, path, before) if not from_catalog else None
        if reason is None or context.retry_number >= RAW_LOAD_RETRIES:
            raise
        wait = raw_load_retry_seconds(context.retry_number)
        context.log.warning(f"{table.source}.{table.name}: {reason}; retrying in {wait:g} s")
        raise dg.RetryRequested(max_retries=RAW_LOAD_RETRIES, seconds_to_wait=wait) from error


def _load_on_spark(
    connection: Any,
    table: SourceTable,
    path: Path,
    erasures: ErasureList,
    scope: "LoadScope | None",
    label: str,
    bounds: DataHorizon,
    from_catalog: bool = False,
) -> "RawLoad":
    """The raw load on Spark (pipelines/warehouse/spark/raw_load.py): the same contract, quarantine and accounting,
    from a file or (`from_catalog`) from the catalog table `path` names."""
    from pipelines.warehouse.spark.raw_load import load_catalog_table_on_spark, load_raw_table_on_spark
    from pipelines.warehouse.spark.raw_sql import set_horizon_on_spark

    set_horizon_on_spark(connection.session, horizon_variables(bounds))
    if from_catalog:
        return load_catalog_table_on_spark(connection.session, table, str(path), erasures, scope, redacted_label=label)
    return load_raw_table_on_spark(connection.session, table, path, erasures, scope, redacted_label=label)


def _log_load(
    context: dg.AssetExecutionContext, table: SourceTable, path: Path, scope: "LoadScope | None", load: "RawLoad"
) -> None:
    """Log what a raw load kept, and warn of each column the file seems to have renamed."""
    context.log.info(
        f"loaded {load.loaded_rows} of {load.file_rows} rows of {table.source}.{table.name} from {path}"
        f"{f' for {scope.days}' if scope else ''}; {load.quarantined_rows} quarantined; "
        f"{load.pii_redacted_values} personal-looking free-text value(s) redacted"
    )
    for missing, found in load.suspected_renames.items():
        context.log.warning(
            f"{table.source}.{table.name}: {path} has {found}, the contract expects {missing}: a renamed column? "
            f"declare `renamed_from: [{found}]` on {missing} if it means the same"
        )


def _raw_load_metadata(load: "RawLoad", path: Path, column_count: int, bounds: DataHorizon) -> dict[str, Any]:
    """The materialization metadata of a raw load: its counts, the file, and the data horizon it was checked against."""
    return {
        "dagster/row_count": load.loaded_rows,
        "file_rows": load.file_rows,
        "quarantined_rows": load.quarantined_rows,
        "quarantined_by_rule": dg.MetadataValue.json(load.quarantined_by_rule),
        "erased_rows": load.erased_rows,
        "redacted_rows": load.redacted_rows,
        "renamed_columns": dg.MetadataValue.json(load.renamed_columns),
        "suspected_renames": dg.MetadataValue.json(load.suspected_renames),
        "pii_redacted_values": load.pii_redacted_values,
        "source_file": dg.MetadataValue.path(str(path)),
        "column_count": column_count,
        "horizon": f"{bounds.earliest:%Y-%m-%d} .. {bounds.latest:%Y-%m-%d %H:%M} (as of {bounds.as_of}, "
        f"{bounds.as_of_source})",
    }


def definitions_assets(definitions_path: Path, engine: str = "duckdb") -> dg.AssetsDefinition:
    """The shared definitions, written as the small tables models and BI read, and the data horizon of the run."""
    definitions = load_definitions(definitions_path)
    # One code version per table: changing the MQL threshold marks stale only what reads the thresholds.
    table_digests = {
        table: hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest()[:16]
        for table, frame in definitions.tables().items()
    }
    # The horizon's settings, not its as-of time (which moves with every sync), make its code version.
    table_digests[HORIZON_TABLE] = HorizonSettings.from_document(definitions.document).digest()
    specs = [
        dg.AssetSpec(
            key=[DEFINITIONS_SCHEMA, table],
            group_name="definitions",
            owners=["team:revops"],
            kinds={engine, "yaml"},
            description=doc,
            code_version=table_digests[table],
            tags={"layer": "definitions"},
        )
        for table, doc in TABLE_DOCS.items()
    ]

    # Subsettable so a run can select a few models and their definitions; all tables are always rewritten together
    # from the one file, so they never disagree with each other.
    @dg.multi_asset(name="shared_definitions", specs=specs, can_subset=True)
    def load(
        context: dg.AssetExecutionContext,
        warehouse: WarehouseEngine,
        definitions_file: DefinitionsFile,
        horizon: Horizon,
    ) -> Iterable[dg.MaterializeResult]:
        loaded = load_definitions(Path(definitions_file.path))
        bounds = horizon.resolve(warehouse)
        context.log.info(
            f"data horizon: {bounds.earliest} .. {bounds.latest}; as of {bounds.as_of} ({bounds.as_of_source})"
        )
        with warehouse.get_connection() as connection:
            written = write_definitions(connection, loaded)
            written[HORIZON_TABLE] = write_data_horizon(connection, DEFINITIONS_SCHEMA, bounds)
        selected = {key.path[-1] for key in context.selected_asset_keys}
        for table, rows in written.items():
            if table not in selected:
                continue
            yield dg.MaterializeResult(
                asset_key=[DEFINITIONS_SCHEMA, table],
                metadata={"dagster/row_count": rows, "definitions_digest": loaded.digest},
            )

    return load


def _partial_rebuild(
    context: dg.AssetExecutionContext,
    model: Model,
    partitioned_upstream: Mapping[tuple[str, str], str],
    definitions_file: DefinitionsFile,
) -> tuple[DayRange | None, int, str | None]:
    """For a run over some (not all) days of a day-partitioned model: the days, the lookback and the SQL to run."""
    found = partition_days(context)
    if found is None or model.partitioned_by_day is None or found[0].covers(found[1]):
        return None, 0, None
    days = found[0]
    lookback_days = late_arrival_days(Path(definitions_file.path))
    read = restrict_to_days(model.body, partitioned_upstream, days.widened(lookback_days))
    return days, lookback_days, output_restricted(read, model.partitioned_by_day, days)


def model_asset(
    model: Model,
    suites: Sequence[Suite] = (),
    partitions: dg.PartitionsDefinition | None = None,
    partitioned_upstream: Mapping[tuple[str, str], str] | None = None,
    upstream_tables: Collection[str] = (),
    engine: str = "duckdb",
) -> dg.AssetsDefinition:
    """An asset that builds one SQL model write-audit-publish, on `engine` (its kind in the UI).

    The model is built into a pending table, audited (grain checks, then the suites that name it), and swapped in
    only when no blocking check failed; otherwise the checks are recorded, the step fails (the UI keeps showing the
    last good materialization), the last good table stays, and Dagster skips everything downstream.

    A day-partitioned model (`partitions`, with `partitioned_by_day` in its header) rebuilds only the days of the
    run's partition range when the range is not every day: its SQL reads the partitioned tables it depends on
    (`partitioned_upstream`: table -> day column) over those days plus the lookback, its pending table holds those
    days, the checks see those days, and publishing replaces those days of the live table.

    A mart is also guarded (pipelines/warehouse/guards.py): its rows against the last published build, where
    accepting a drop of any of `upstream_tables` (what it is built from) accepts its own; and its text for personal
    data. The steps of a run are in pipelines/orchestration/model_steps.py.
    """
    key = [model.schema, model.name]
    documented = dg.TableSchema(
        columns=[dg.TableColumn(name=column.name, description=column.description) for column in model.columns]
    )

    @dg.asset(
        key=key,
        deps=[list(ref.key) for ref in model.upstream],
        group_name=model.layer,
        owners=[model.owner],
        kinds={engine, "sql"},
        description=model.description,
        code_version=model.code_version,
        tags={"layer": model.layer, "domain": model.domain},
        check_specs=_model_check_specs(model, suites),
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run() if partitions is not None else None,
        metadata={
            "dagster/column_schema": documented,
            "grain": list(model.grain),
            "sql": _sql_block(model.body),
            "model_file": dg.MetadataValue.path(str(model.path)),
        },
    )
    def build(
        context: dg.AssetExecutionContext,
        warehouse: WarehouseEngine,
        definitions_file: DefinitionsFile,
        volume_guard: VolumeGuard,
    ) -> Iterator[dg.AssetCheckResult | dg.MaterializeResult]:
        days, lookback_days, body = _partial_rebuild(context, model, partitioned_upstream or {}, definitions_file)
        if days is not None:
            context.log.info(f"{model.schema}.{model.name}: rebuilding {days} (reading {lookback_days} days more)")
        definitions_path = Path(definitions_file.path)
        with warehouse.get_connection() as connection:
            audit = build_and_audit(
                context, connection, model, body, days, suites, definitions_path, volume_guard, upstream_tables
            )
            published, assertion_results = publish_or_discard(context, connection, model, audit, days, lookback_days)
            upstream = upstream_schemas(connection, model)
            built = table_columns(connection, model.schema, model.name)
            rows = row_count(connection, model.schema, model.name) if built else 0
        check_results = [
            *grain_check_results(audit.grain),
            *audit.guard_results,
            *(assertion_check_result(assertion) for assertion in assertion_results),
            *(suite_check_result(result) for result in audit.suite_results),
        ]
        if not published:
            # The checks are recorded, then the step fails: no materialization is recorded, so the UI keeps showing
            # the last good one (the table still in place), and Dagster skips everything downstream.
            yield from check_results
            raise blocking_failure(model, check_results, rows if built else None)
        metadata = materialization_metadata(model, built, rows, audit, upstream)
        yield dg.MaterializeResult(metadata=metadata, check_results=check_results)

    return build


def _model_check_specs(model: Model, suites: Sequence[Suite]) -> list[dg.AssetCheckSpec]:
    """The checks of a model asset: its grain, its cross-model assertions, its suites, and a mart's guards."""
    key = [model.schema, model.name]
    check_specs = [
        dg.AssetCheckSpec(
            GRAIN_UNIQUE,
            asset=key,
            blocking=True,
            description=f"No two rows share the grain ({', '.join(model.grain)}).",
        ),
        dg.AssetCheckSpec(
            GRAIN_NOT_NULL, asset=key, blocking=True, description=f"No grain column ({', '.join(model.grain)}) is null."
        ),
        *(
            dg.AssetCheckSpec(assertion.name, asset=key, blocking=assertion.blocking, description=assertion.description)
            for assertion in model.assertions
        ),
        *(
            dg.AssetCheckSpec(
                suite.name,
                asset=key,
                blocking=suite.blocking,
                description=suite.description,
                metadata={"suite_file": dg.MetadataValue.path(str(suite.path)), "severity": suite.severity},
            )
            for suite in suites
        ),
    ]
    if model.layer == "marts":
        check_specs += mart_guard_check_specs(key)
    return check_specs
