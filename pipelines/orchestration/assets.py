"""The Dagster layer: one asset per raw table, one multi-asset for the shared definitions, one asset per model.

Everything an asset needs is read from files (the source contracts, the definitions file, the model headers and
SQL); adding a model means adding a `.sql` file, never Python.
"""

import dataclasses
import hashlib
import time
import warnings
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb

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
    mart_guard_results,
    volume_check_result,
    volume_check_spec,
)
from pipelines.orchestration.operations import RAW_LOAD_RETRIES, file_state, raw_load_retry_seconds, transient_reason
from pipelines.orchestration.resources import DefinitionsFile, Horizon, SourceFiles, Warehouse
from pipelines.spec.lineage import Schema, column_lineage
from pipelines.spec.models import Model
from pipelines.spec.partitions import DayRange, output_restricted, restrict_to_days
from pipelines.spec.sources import SourceTable
from pipelines.warehouse.audit import AssertionResult, check_grain, keys_kept_elsewhere
from pipelines.warehouse.build import build_pending, discard_pending, publish_pending
from pipelines.warehouse.connection import row_count, table_columns
from pipelines.warehouse.erasure import ErasureList
from pipelines.warehouse.guards import redacted_label
from pipelines.warehouse.horizon import (
    HORIZON_TABLE,
    HorizonSettings,
    set_horizon_variables,
    write_data_horizon,
)
from pipelines.warehouse.shared_definitions import SCHEMA as DEFINITIONS_SCHEMA
from pipelines.warehouse.shared_definitions import TABLE_DOCS, late_arrival_days, load_definitions, write_definitions
from pipelines.warehouse.suites import Suite, SuiteResult, run_suite_on_table

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


def raw_asset(table: SourceTable, partitions: dg.PartitionsDefinition | None = None) -> dg.AssetsDefinition:
    """An asset that loads one connector table from the raw directory into `<source>.<table>`.

    A day-partitioned table (`partitions`) loads the days of the run's partition range only, in one run whatever
    the range (a backfill of a year is one run, not 365).
    """
    contract_schema = dg.TableSchema(
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

    @dg.asset(
        key=list(table.key),
        group_name="raw",
        owners=[table.owner],
        kinds={"duckdb", "file"},
        description=table.description or f"{table.source}.{table.name} as the connector lands it.",
        tags={"layer": "raw", "source": table.source},
        metadata={"dagster/column_schema": contract_schema, "primary_key": list(table.primary_key)},
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run() if partitions is not None else None,
        check_specs=[volume_check_spec(table.key)],
    )
    def load(
        context: dg.AssetExecutionContext,
        duckdb: Warehouse,
        source_files: SourceFiles,
        definitions_file: DefinitionsFile,
        volume_guard: VolumeGuard,
        horizon: Horizon,
    ) -> dg.MaterializeResult:
        from pipelines.warehouse.raw_files import LoadScope
        from pipelines.warehouse.raw_load import load_raw_table

        path = table.find_file(Path(source_files.raw_dir))
        days = partition_days(context)
        scope = LoadScope(days=days[0], bounds=days[1]) if days is not None else None
        bounds = horizon.resolve()
        label = redacted_label(Path(definitions_file.path))
        before = file_state(path)
        try:
            with duckdb.get_connection() as connection:
                set_horizon_variables(connection, bounds)
                erasures = ErasureList.read(Path(source_files.erasure_list))
                load = load_raw_table(connection, table, path, erasures, scope, redacted_label=label)
                columns = table_columns(connection, table.source, table.name)
                # A day-partitioned table is compared whole, after the load of its days.
                table_rows = row_count(connection, table.source, table.name)
        except Exception as error:
            # Only what may heal on its own is retried (a lock, a file still being written); a missing column or
            # file, a permission error or a bad erasure list fails the step at once.
            reason = transient_reason(error, path, before)
            if reason is None or context.retry_number >= RAW_LOAD_RETRIES:
                raise
            wait = raw_load_retry_seconds(context.retry_number)
            context.log.warning(f"{table.source}.{table.name}: {reason}; retrying in {wait:g} s")
            raise dg.RetryRequested(max_retries=RAW_LOAD_RETRIES, seconds_to_wait=wait) from error
        volume = volume_guard.compare(f"{table.source}.{table.name}", table_rows, Path(definitions_file.path))
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
        if not volume.passed:
            context.log.error(volume.summary())
        return dg.MaterializeResult(
            metadata={
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
                "column_count": len(columns),
                "horizon": f"{bounds.earliest:%Y-%m-%d} .. {bounds.latest:%Y-%m-%d %H:%M} (as of {bounds.as_of}, "
                f"{bounds.as_of_source})",
            },
            check_results=[volume_check_result(volume)],
        )

    return load


def definitions_assets(definitions_path: Path) -> dg.AssetsDefinition:
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
            kinds={"duckdb", "yaml"},
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
        context: dg.AssetExecutionContext, duckdb: Warehouse, definitions_file: DefinitionsFile, horizon: Horizon
    ) -> Iterable[dg.MaterializeResult]:
        loaded = load_definitions(Path(definitions_file.path))
        bounds = horizon.resolve()
        context.log.info(
            f"data horizon: {bounds.earliest} .. {bounds.latest}; as of {bounds.as_of} ({bounds.as_of_source})"
        )
        with duckdb.get_connection() as connection:
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


def _lineage_metadata(model: Model, columns: Sequence[str], upstream_schemas: Schema) -> dg.TableColumnLineage:
    lineage = column_lineage(model.body, list(columns), upstream_schemas)
    return dg.TableColumnLineage(
        deps_by_column={
            column: [dg.TableColumnDep(asset_key=[schema, table], column_name=name) for schema, table, name in deps]
            for column, deps in lineage.items()
            if deps
        }
    )


def _run_suites(
    connection: duckdb.DuckDBPyConnection, model: Model, pending: str, suites: Sequence[Suite], definitions_path: Path
) -> list[SuiteResult]:
    """Validate the pending table with every suite of the model, against the definitions in force."""
    if not suites:
        return []
    document = load_definitions(definitions_path).document
    table = f"{model.schema}.{pending}"
    return [run_suite_on_table(suite, connection, table, document, model.grain) for suite in suites]


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
) -> dg.AssetsDefinition:
    """An asset that builds one SQL model write-audit-publish.

    The model is built into a pending table, audited (grain checks, then the Great Expectations suites that name
    it), and swapped in only when no blocking check failed; otherwise the checks are recorded, the step fails (so no
    materialization is recorded and the UI keeps showing the last good one), the last good table stays, and Dagster
    skips everything downstream.

    A day-partitioned model (`partitions`, with `partitioned_by_day` in its header) rebuilds only the days of the
    run's partition range when the range is not every day: its SQL reads the partitioned tables it depends on
    (`partitioned_upstream`: table -> day column) over those days plus the lookback, its pending table holds those
    days, the checks see those days, and publishing replaces those days of the live table.

    A mart is also guarded (pipelines/warehouse/guards.py): its rows against the last published build, where accepting
    a drop
    of any of `upstream_tables` (what it is built from) accepts its own; and its text for personal data.
    """
    key = [model.schema, model.name]
    documented = dg.TableSchema(
        columns=[dg.TableColumn(name=column.name, description=column.description) for column in model.columns]
    )
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
            dg.AssetCheckSpec(assertion.name, asset=key, blocking=True, description=assertion.description)
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
    guarded = model.layer == "marts"
    if guarded:
        check_specs += mart_guard_check_specs(key)

    @dg.asset(
        key=key,
        deps=[list(ref.key) for ref in model.upstream],
        group_name=model.layer,
        owners=[model.owner],
        kinds={"duckdb", "sql"},
        description=model.description,
        code_version=model.code_version,
        tags={"layer": model.layer, "domain": model.domain},
        check_specs=check_specs,
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
        duckdb: Warehouse,
        definitions_file: DefinitionsFile,
        volume_guard: VolumeGuard,
    ) -> Iterator[dg.AssetCheckResult | dg.MaterializeResult]:
        days, lookback_days, body = _partial_rebuild(context, model, partitioned_upstream or {}, definitions_file)
        if days is not None:
            context.log.info(f"{model.schema}.{model.name}: rebuilding {days} (reading {lookback_days} days more)")
        with duckdb.get_connection() as connection:
            started = time.perf_counter()
            pending = build_pending(connection, model, body)
            build_seconds = time.perf_counter() - started
            grain = check_grain(connection, model.schema, pending, model.grain)
            if days is not None and model.partitioned_by_day is not None:
                count, samples = keys_kept_elsewhere(connection, model, pending, model.partitioned_by_day, days)
                grain = dataclasses.replace(
                    grain,
                    duplicate_count=grain.duplicate_count + count,
                    duplicate_samples=[*grain.duplicate_samples, *samples][:5],
                )
            guard_results: list[dg.AssetCheckResult] = []
            if guarded:
                definitions_path = Path(definitions_file.path)
                guard_results = mart_guard_results(
                    context, connection, model, pending, days, volume_guard, definitions_path, upstream_tables
                )
            suite_results = _run_suites(connection, model, pending, suites, Path(definitions_file.path))
            check_seconds = time.perf_counter() - started - build_seconds
            blocking_failures = [result for result in suite_results if result.suite.blocking and not result.success]
            for result in suite_results:
                if not result.success:
                    log = context.log.error if result.suite.blocking else context.log.warning
                    log(f"{model.schema}.{model.name}: suite {result.suite.name} failed\n{result.summary()}")
            failed_guards = [result.check_name for result in guard_results if not result.passed]
            audited = (
                grain.duplicate_count == 0 and grain.null_count == 0 and not blocking_failures and not failed_guards
            )
            assertion_results: list[AssertionResult] = []
            if audited:
                published, assertion_results = publish_pending(connection, model, pending, days, lookback_days)
                for assertion in assertion_results:
                    if not assertion.passed:
                        context.log.error(
                            f"{model.schema}.{model.name}: {assertion.name} broken by {assertion.violation_count} "
                            f"row(s), e.g. {assertion.samples}; the last good table stays in place."
                        )
            else:
                published = False
                assertion_results = [
                    AssertionResult(name=assertion.name, violation_count=-1, samples=[])
                    for assertion in model.assertions
                ]
                discard_pending(connection, model, pending)
                context.log.error(
                    f"{model.schema}.{model.name} failed blocking checks and was not published "
                    f"({grain.duplicate_count} duplicated keys, e.g. {grain.duplicate_samples}; "
                    f"{grain.null_count} null keys, e.g. {grain.null_samples}; "
                    f"failed suites: {[result.suite.name for result in blocking_failures]}; "
                    f"failed guards: {failed_guards}); "
                    "the last good table stays in place."
                )
            upstream_schemas: Schema = {ref.schema: {} for ref in model.upstream}
            for ref in model.upstream:
                upstream_schemas[ref.schema][ref.name] = {
                    column.name: column.type for column in table_columns(connection, ref.schema, ref.name)
                }
            built = table_columns(connection, model.schema, model.name)
            rows = row_count(connection, model.schema, model.name) if built else 0
        check_results = [
            *grain_check_results(grain),
            *guard_results,
            *(assertion_check_result(assertion) for assertion in assertion_results),
            *(suite_check_result(result) for result in suite_results),
        ]
        if not published:
            # The checks are recorded, then the step fails: no materialization is recorded, so the UI keeps showing
            # the last good one (the table still in place), and Dagster skips everything downstream.
            yield from check_results
            raise blocking_failure(model, check_results, rows if built else None)
        descriptions = {column.name: column.description for column in model.columns}
        metadata: dict[str, Any] = {
            "dagster/row_count": rows,
            "build_seconds": round(build_seconds, 3),
            "check_seconds": round(check_seconds, 3),
            "dagster/column_schema": dg.TableSchema(
                columns=[
                    dg.TableColumn(name=column.name, type=column.type, description=descriptions.get(column.name))
                    for column in built
                ]
            ),
        }
        if built:
            metadata["dagster/column_lineage"] = _lineage_metadata(
                model, [column.name for column in built], upstream_schemas
            )
        yield dg.MaterializeResult(metadata=metadata, check_results=check_results)

    return build
