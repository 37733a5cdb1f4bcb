"""Dagster face of the guards (pipelines/warehouse/guards.py): the resource with the baseline and the accepted drops,
the
check specs, and the check results with their metadata. Raw and model assets call these next to their other checks.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path

import dagster as dg
import duckdb
import pydantic

from pipelines.spec.models import Model
from pipelines.spec.partitions import DayRange
from pipelines.warehouse.guards import (
    PERSONAL_DATA_CHECK,
    VOLUME_CHECK,
    PersonalDataResult,
    VolumeResult,
    accepted_shrinks,
    compare_volume,
    max_row_drop_share,
    read_baseline,
    rows_after_publish,
    scan_personal_data,
)


class VolumeGuard(dg.ConfigurableResource):
    """Where the row counts of the last published build are read (the publish directory), and the tables whose
    drop this run accepts as real (`flywheel run --accept-shrink TABLE`, FLYWHEEL_ACCEPT_SHRINK; see
    pipelines/warehouse/guards.py)."""

    published_dir: str
    accept_shrink: list[str] = pydantic.Field(default_factory=list)

    def compare(
        self, table: str, current_rows: int, definitions_path: Path, upstream: Collection[str] = ()
    ) -> VolumeResult:
        """Compare a table's rows with the last published build."""
        return compare_volume(
            table,
            current_rows,
            read_baseline(Path(self.published_dir)),
            max_row_drop_share(definitions_path),
            accepted_shrinks(self.accept_shrink),
            upstream,
        )


def volume_check_spec(key: Sequence[str]) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        VOLUME_CHECK,
        asset=list(key),
        blocking=True,
        description=(
            "The table is not empty where the last published build had rows, and lost at most "
            "`volume_guard.max_row_drop_share` of them; accept a real drop with `flywheel run --accept-shrink TABLE`."
        ),
    )


def volume_check_result(result: VolumeResult) -> dg.AssetCheckResult:
    """The volume guard as a check result: previous and current rows, the drop, the threshold, whether accepted."""
    return dg.AssetCheckResult(
        check_name=VOLUME_CHECK,
        passed=result.passed,
        description=result.summary(),
        metadata={
            "previous_rows": result.previous_rows if result.previous_rows is not None else "no published build",
            "current_rows": result.current_rows,
            "drop_share": round(result.drop_share, 4),
            "max_row_drop_share": result.max_drop_share,
            "accepted": result.accepted,
            "baseline_publish_id": result.baseline_publish_id or "none",
        },
    )


def personal_data_check_result(result: PersonalDataResult) -> dg.AssetCheckResult:
    """The personal-data scan as a check result: values per column with masked samples, personal column names."""
    return dg.AssetCheckResult(
        check_name=PERSONAL_DATA_CHECK,
        passed=result.passed,
        description=result.summary(),
        metadata={
            "personal_values": result.value_count,
            "personal_columns": result.personal_columns,
            "scanned_text_columns": result.scanned_columns,
            "values_by_column": dg.MetadataValue.md(
                "\n".join(
                    ["| column | values | masked samples |", "|---|---|---|"]
                    + [
                        f"| {column} | {count} | {', '.join(result.masked_samples.get(column, []))} |"
                        for column, count in result.values_by_column.items()
                    ]
                )
            ),
        },
    )


def mart_guard_check_specs(key: Sequence[str]) -> list[dg.AssetCheckSpec]:
    """The blocking guards every mart carries: its volume, and no personal data."""
    return [
        volume_check_spec(key),
        dg.AssetCheckSpec(
            PERSONAL_DATA_CHECK,
            asset=list(key),
            blocking=True,
            description=(
                "No text value looks like an e-mail address or a phone number, and no column is named like "
                "personal data (email, phone, name...): personal data stops at staging."
            ),
        ),
    ]


def mart_guard_results(
    context: dg.AssetExecutionContext,
    connection: duckdb.DuckDBPyConnection,
    model: Model,
    pending: str,
    days: DayRange | None,
    volume_guard: VolumeGuard,
    definitions_path: Path,
    upstream_tables: Collection[str],
) -> list[dg.AssetCheckResult]:
    """Guard a mart's pending table before it is published: its rows once published, and its text."""
    name = f"{model.schema}.{model.name}"
    volume = volume_guard.compare(
        name, rows_after_publish(connection, model, pending, days), definitions_path, upstream_tables
    )
    personal = scan_personal_data(connection, model.schema, pending, name)
    for guard in (volume, personal):
        if not guard.passed:
            context.log.error(guard.summary())
    return [volume_check_result(volume), personal_data_check_result(personal)]
