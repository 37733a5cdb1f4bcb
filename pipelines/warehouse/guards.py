"""Guards that keep the world's accidents out of the published numbers: volume and personal data.

**Volume.** Every raw table and every mart is compared with its row count in the last *published* build. A header-only
file from a broken connector sync loads cleanly and builds empty marts that pass every other check; here a table that
is now empty where it had rows, or that lost more than `volume_guard.max_row_drop_share` of them, fails the blocking
check `row_count_did_not_collapse`, so the publish is skipped and BI keeps the last good snapshot, until someone
accepts the drop as real (`flywheel run --accept-shrink TABLE`, or `FLYWHEEL_ACCEPT_SHRINK=a,b`).

The baseline is the manifest of the current publish (`parquet/current.json` in the publish directory): it lists the
row count of every published mart, and the publish step adds the row count of every raw table at publish time. It is
read from the publish directory rather than from the warehouse because the published build is what BI shows and what
the guard protects: a warehouse rebuilt from scratch still compares with it. The manifest is plain JSON replaced
atomically, so reading it takes no lock on the BI snapshot. No manifest yet (the first build), or a table it does not
list, means no baseline: the check passes and says so.

Dagster 1.13's `build_metadata_bounds_checks` compares a metadata value with fixed bounds in a separate, non-blocking
check after the step; a drop relative to the last published build needs the baseline, must block, and for a mart must
be decided before the pending table is swapped in, so the check is computed in the asset's own step instead (anomaly
detection on row counts is Dagster+ only).

**Personal data.** `no_personal_data` scans every text column of a mart's pending table for values shaped like an
e-mail address or a phone number (see pipelines/spec/personal_data.py) and its column names for personal ones, before
the table is published. Free-text columns of the raw contracts (`free_text: true`) are redacted at the raw load already;
this check catches whatever another path lets through.

Nothing here imports Dagster: the checks are wired in pipelines/orchestration/assets.py.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipelines.spec.models import Model
from pipelines.spec.partitions import DayRange
from pipelines.spec.personal_data import is_personal_column, mask, personal_value_sql
from pipelines.spec.project_files import read_definitions
from pipelines.warehouse.connection import qualified, quote, row_count, table_columns
from pipelines.warehouse.publish import RAW_TABLES_KEY, current_manifest
from pipelines.warehouse.shared_definitions import DefinitionsError

VOLUME_CHECK = "row_count_did_not_collapse"
PERSONAL_DATA_CHECK = "no_personal_data"
ACCEPT_SHRINK_ENV = "FLYWHEEL_ACCEPT_SHRINK"
SAMPLES_PER_COLUMN = 3


def accepted_shrinks(values: Iterable[str]) -> frozenset[str]:
    """Table names given to `--accept-shrink` or FLYWHEEL_ACCEPT_SHRINK (comma-separated), as `schema.table`.

    The asset-key spelling (`salesforce/opportunity`) is accepted too.
    """
    names = (name.strip().replace("/", ".") for value in values for name in value.split(","))
    return frozenset(name for name in names if name)


def _definition(path: Path, section: str, key: str) -> object:
    document = read_definitions(path).document
    value = document.get(section, {}).get(key) if isinstance(document.get(section), dict) else None
    if value is None:
        raise DefinitionsError(f"{path}: `{section}.{key}` is missing")
    return value


def max_row_drop_share(definitions_path: Path) -> float:
    """`volume_guard.max_row_drop_share`: the share of its rows a table may lose since the last published build."""
    value = _definition(definitions_path, "volume_guard", "max_row_drop_share")
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise DefinitionsError(
            f"{definitions_path}: `volume_guard.max_row_drop_share` must be a share between 0 and 1, not {value!r}"
        )
    return float(value)


def redacted_label(definitions_path: Path) -> str:
    """`personal_data.redacted_label`: what a raw load writes over a free-text value that looks personal."""
    value = _definition(definitions_path, "personal_data", "redacted_label")
    if not isinstance(value, str) or not value.strip():
        raise DefinitionsError(f"{definitions_path}: `personal_data.redacted_label` must be a non-empty text")
    return value


@dataclass(frozen=True)
class Baseline:
    """Row counts of the last published build: every published table, and every raw table at publish time."""

    publish_id: str
    row_counts: Mapping[str, int]


def read_baseline(publish_dir: Path) -> Baseline | None:
    """The row counts of the current publish, from its manifest; None before the first publish."""
    manifest = current_manifest(publish_dir)
    if manifest is None:
        return None
    counts = {str(name): int(table["rows"]) for name, table in (manifest.get("tables") or {}).items()}
    counts |= {str(name): int(rows) for name, rows in (manifest.get(RAW_TABLES_KEY) or {}).items()}
    return Baseline(publish_id=str(manifest.get("publish_id", "")), row_counts=counts)


@dataclass(frozen=True)
class VolumeResult:
    """A table's row count against the last published build, and whether a drop was accepted for this run."""

    table: str
    current_rows: int
    previous_rows: int | None
    max_drop_share: float
    accepted: bool = False
    baseline_publish_id: str | None = None

    @property
    def drop_share(self) -> float:
        """The share of the published rows lost (0 when the table grew or has no baseline)."""
        if not self.previous_rows:
            return 0.0
        return max(0.0, (self.previous_rows - self.current_rows) / self.previous_rows)

    @property
    def collapsed(self) -> bool:
        """Empty where it had rows, or lost more than the allowed share of them."""
        if not self.previous_rows:
            return False
        return self.current_rows == 0 or self.drop_share > self.max_drop_share

    @property
    def passed(self) -> bool:
        return not self.collapsed or self.accepted

    def summary(self) -> str:
        """One line: what happened to the table's rows and, when it blocks, how to accept the drop."""
        if self.previous_rows is None:
            return f"{self.table}: {self.current_rows} rows; no published build lists it yet, so there is no baseline"
        change = (
            f"{self.table} shrank from {self.previous_rows} to {self.current_rows} rows "
            f"({self.drop_share:.0%} lost; at most {self.max_drop_share:.0%} allowed) since publish "
            f"{self.baseline_publish_id}"
        )
        if not self.collapsed:
            return f"{self.table}: {self.current_rows} rows, {self.previous_rows} at publish {self.baseline_publish_id}"
        if self.accepted:
            return f"{change}; accepted as real for this run (--accept-shrink)"
        return (
            f"{change}: blocked, BI keeps the last good snapshot. If the drop is real, run "
            f"`flywheel run --accept-shrink {self.table}` (or set {ACCEPT_SHRINK_ENV}={self.table})"
        )


def compare_volume(
    table: str,
    current_rows: int,
    baseline: Baseline | None,
    max_drop_share: float,
    accepted: Collection[str] = (),
    upstream: Collection[str] = (),
) -> VolumeResult:
    """Compare a table's rows with the baseline; a drop is accepted when the table or anything it is built from is.

    Accepting a raw table accepts the marts built from it, whose rows drop with it.
    """
    return VolumeResult(
        table=table,
        current_rows=current_rows,
        previous_rows=baseline.row_counts.get(table) if baseline is not None else None,
        max_drop_share=max_drop_share,
        accepted=table in accepted or any(name in accepted for name in upstream),
        baseline_publish_id=baseline.publish_id if baseline is not None else None,
    )


def rows_after_publish(
    connection: duckdb.DuckDBPyConnection, model: Model, pending: str, days: DayRange | None = None
) -> int:
    """The rows the live table will hold once the pending one is published (a partial rebuild replaces some days)."""
    rows = row_count(connection, model.schema, pending)
    if days is None or model.partitioned_by_day is None or not table_columns(connection, model.schema, model.name):
        return rows
    kept = connection.execute(
        f"select count(*) from {qualified(model.schema, model.name)} "
        f"where not ({days.sql(quote(model.partitioned_by_day))})"
    ).fetchone()
    return rows + (int(kept[0]) if kept else 0)


def upstream_tables(models: Sequence[Model]) -> dict[str, frozenset[str]]:
    """Every model's tables, raw and built, it is built from directly or through other models (`schema.table`)."""
    direct = {f"{model.schema}.{model.name}": [str(ref) for ref in model.upstream] for model in models}
    closure: dict[str, frozenset[str]] = {}

    def reach(name: str, seen: frozenset[str]) -> frozenset[str]:
        if name in closure:
            return closure[name]
        found: set[str] = set()
        for parent in direct.get(name, []):
            if parent not in seen:
                found |= {parent, *reach(parent, seen | {name})}
        closure[name] = frozenset(found)
        return closure[name]

    for name in direct:
        reach(name, frozenset())
    return closure


@dataclass(frozen=True)
class PersonalDataResult:
    """Personal-looking values per text column of a table (with masked samples), and personal column names."""

    table: str
    scanned_columns: int
    values_by_column: dict[str, int] = field(default_factory=dict)
    masked_samples: dict[str, list[str]] = field(default_factory=dict)
    personal_columns: list[str] = field(default_factory=list)

    @property
    def value_count(self) -> int:
        return sum(self.values_by_column.values())

    @property
    def passed(self) -> bool:
        return not self.value_count and not self.personal_columns

    def summary(self) -> str:
        """One line naming the table, the columns and masked samples, and what to do."""
        if self.passed:
            return f"{self.table}: no e-mail- or phone-shaped value in {self.scanned_columns} text column(s)"
        found = [
            f"{column} ({count} value(s), e.g. {', '.join(self.masked_samples.get(column, []))})"
            for column, count in self.values_by_column.items()
        ]
        if self.personal_columns:
            found.append(f"personal column(s) {', '.join(self.personal_columns)}")
        return (
            f"{self.table} holds personal data: {'; '.join(found)}. Personal data stops at staging: map the column "
            "through a taxonomy in the model, or mark its raw column `free_text: true` in models/sources.yml"
        )


def scan_personal_data(
    connection: duckdb.DuckDBPyConnection, schema: str, table: str, label: str | None = None
) -> PersonalDataResult:
    """Scan every text column of `schema.table` for e-mail- or phone-shaped values and its columns for personal names.

    `label` names the table in messages (the model, when `table` is its pending table).
    """
    columns = table_columns(connection, schema, table)
    text = [column.name for column in columns if column.type.upper().startswith("VARCHAR")]
    personal_columns = [column.name for column in columns if is_personal_column(column.name)]
    result = PersonalDataResult(
        table=label or f"{schema}.{table}", scanned_columns=len(text), personal_columns=personal_columns
    )
    if not text:
        return result
    target = qualified(schema, table)
    counts = connection.execute(
        "select "
        + ", ".join(f"count(*) filter (where {personal_value_sql(quote(column))})" for column in text)
        + f" from {target}"
    ).fetchone()
    for column, count in zip(text, counts or [], strict=False):
        if not count:
            continue
        samples = connection.execute(
            f"select distinct {quote(column)} from {target} where {personal_value_sql(quote(column))} "
            f"order by 1 limit {SAMPLES_PER_COLUMN}"
        ).fetchall()
        result.values_by_column[column] = int(count)
        result.masked_samples[column] = [mask(str(row[0])) for row in samples]
    return result
