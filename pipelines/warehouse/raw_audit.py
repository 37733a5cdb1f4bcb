"""The bookkeeping of raw loads: the quarantine table and the audit of every load (whole tables and days), so every
raw row is accounted for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

from pipelines.spec.partitions import DAY_IN_PATH_PATTERN, RAW_PARTITION_COLUMN
from pipelines.spec.sources import SourceTable
from pipelines.warehouse.connection import qualified, quote, table_columns
from pipelines.warehouse.erasure import EMAIL_PATTERN, matches_sql
from pipelines.warehouse.raw_files import LoadScope

QUARANTINE_SCHEMA = "quarantine"


QUARANTINE_TABLE = "rejected_rows"


AUDIT_SCHEMA = "audit"


RAW_LOADS_TABLE = "raw_loads"


RAW_PARTITION_LOADS_TABLE = "raw_partition_loads"


@dataclass(frozen=True)
class RawLoad:
    """What one raw load did: rows in the file, rows loaded, rows quarantined (per rule), rows erased.

    `file_rows` is counted from the file itself (Parquet metadata, CSV records), not from what was loaded, so the
    row accounting can notice a row that went nowhere. Erased rows identify a person on the erasure list and were
    dropped; redacted rows were kept with their personal columns blanked (tables with `on_erasure: redact`), so they
    count as loaded. `renamed_columns` are old spellings read as their contract name (`renamed_from`, old -> new);
    `suspected_renames` are contract columns the file lacks next to the file column that looks like them (missing ->
    found), a likely rename to confirm with `renamed_from`.
    Personal-looking values of free-text columns were replaced by the redacted label (`pii_redacted_values`,
    counted per value); their rows count as loaded.
    """

    file_rows: int
    loaded_rows: int
    quarantined_by_rule: dict[str, int]
    erased_rows: int = 0
    redacted_rows: int = 0
    renamed_columns: dict[str, str] = field(default_factory=dict)
    suspected_renames: dict[str, str] = field(default_factory=dict)
    pii_redacted_values: int = 0

    @property
    def quarantined_rows(self) -> int:
        return sum(self.quarantined_by_rule.values())

    def audit_row(
        self, source_table: str, source_file: str, pii_redacted_values: int | None = None
    ) -> tuple[str | int, ...]:
        """The load's row of `audit.raw_loads`, in its column order (`pii_redacted_values` replaces the load's own)."""
        pii = self.pii_redacted_values if pii_redacted_values is None else pii_redacted_values
        return (
            source_table,
            source_file,
            self.file_rows,
            self.loaded_rows,
            self.quarantined_rows,
            self.erased_rows,
            self.redacted_rows,
            pii,
        )


def _create_bookkeeping(connection: duckdb.DuckDBPyConnection) -> None:
    """The quarantine table (rows kept out of staging, with the rule they broke) and the raw-load audit table."""
    connection.execute(f"create schema if not exists {quote(QUARANTINE_SCHEMA)}")
    connection.execute(
        f"create table if not exists {qualified(QUARANTINE_SCHEMA, QUARANTINE_TABLE)} ("
        "source_table varchar not null, source_file varchar not null, record_key varchar, "
        "rule varchar not null, rule_description varchar not null, raw_row json not null)"
    )
    connection.execute(f"create schema if not exists {quote(AUDIT_SCHEMA)}")
    connection.execute(
        f"create table if not exists {qualified(AUDIT_SCHEMA, RAW_LOADS_TABLE)} ("
        "source_table varchar primary key, source_file varchar not null, file_rows bigint not null, "
        "loaded_rows bigint not null, quarantined_rows bigint not null, erased_rows bigint not null default 0, "
        "redacted_rows bigint not null default 0)"
    )
    # A warehouse built before erasure existed gets the columns on its next load.
    for column in ("erased_rows", "redacted_rows", "pii_redacted_values"):
        connection.execute(
            f"alter table {qualified(AUDIT_SCHEMA, RAW_LOADS_TABLE)} add column if not exists {quote(column)} "
            "bigint default 0"
        )
    # Day-partitioned tables: the day each quarantined row was filed under, and the counts of every day loaded.
    connection.execute(
        f"alter table {qualified(QUARANTINE_SCHEMA, QUARANTINE_TABLE)} add column if not exists partition_day date"
    )
    connection.execute(
        f"create table if not exists {qualified(AUDIT_SCHEMA, RAW_PARTITION_LOADS_TABLE)} ("
        "source_table varchar not null, partition_day date not null, source_file varchar not null, "
        "file_rows bigint not null, loaded_rows bigint not null, quarantined_rows bigint not null, "
        "erased_rows bigint not null, redacted_rows bigint not null, primary key (source_table, partition_day))"
    )


def _replace_quarantined_rows(
    connection: duckdb.DuckDBPyConnection, table: SourceTable, landing: str, bookkeeping: str, scope: LoadScope | None
) -> None:
    """Forget the quarantined rows of the previous load of the same table (or of the same days)."""
    days = "" if scope is None or scope.full else f" and {scope.days.sql('partition_day')}"
    connection.execute(
        f"delete from {qualified(QUARANTINE_SCHEMA, QUARANTINE_TABLE)} where source_table = ?{days}",
        [f"{table.source}.{table.name}"],
    )


def _malformed_line_day(scope: LoadScope | None, daily: bool, landing: str) -> str:
    """SQL over `errors` (the malformed CSV lines): the day a line is filed under, NULL when outside the scope.

    A line of a daily file goes by its file's day; a line of a single file has no readable day and goes under the
    first partition, so it is recorded by the load that covers that day.
    """
    if scope is None:
        return "null"
    first, last = (f"date '{day.isoformat()}'" for day in (scope.bounds.first, scope.bounds.last))
    if daily:
        day = (
            f"(select try_cast(regexp_extract(scans.file_path, '{DAY_IN_PATH_PATTERN}', 1) as date) "
            f"from {quote(landing + '_scans')} as scans where scans.scan_id = errors.scan_id "
            "and scans.file_id = errors.file_id)"
        )
        filed = f"least(greatest(coalesce({day}, {first}), {first}), {last})"
    else:
        filed = first
    return f"case when {scope.days.sql(filed)} then {filed} end"


def _record_load(connection: duckdb.DuckDBPyConnection, source_table: str, source_file: str, load: RawLoad) -> None:
    connection.execute(
        f"insert or replace into {qualified(AUDIT_SCHEMA, RAW_LOADS_TABLE)} (source_table, source_file, "
        "file_rows, loaded_rows, quarantined_rows, erased_rows, redacted_rows, pii_redacted_values) "
        "values (?, ?, ?, ?, ?, ?, ?, ?)",
        list(load.audit_row(source_table, source_file)),
    )


def _record_days(
    connection: duckdb.DuckDBPyConnection,
    table: SourceTable,
    path: Path,
    scope: LoadScope,
    landing: str | None,
    line_day: str | None,
    file_rows_by_day: Mapping[date, int],
) -> None:
    """Replace the per-day audit rows of the days in scope (a day with no rows gets zeros), then the table's sums.

    A day's file rows are the rows of the files filed under it (`file_rows_by_day`), counted from the files.
    """
    source_table = f"{table.source}.{table.name}"
    audit = qualified(AUDIT_SCHEMA, RAW_PARTITION_LOADS_TABLE)
    day = quote(RAW_PARTITION_COLUMN)
    landed = (
        f"select {day} as partition_day, count(*) as landed_rows, "
        "count(*) filter (where _flywheel_erased) as erased_rows, "
        "count(*) filter (where _flywheel_rule is null and not _flywheel_erased) as loaded_rows, "
        f"count(*) filter (where _flywheel_redacted) as redacted_rows from {quote(landing)} group by all"
        if landing is not None
        else "select null::date as partition_day, 0 as landed_rows, 0 as erased_rows, 0 as loaded_rows, "
        "0 as redacted_rows where false"
    )
    erased_lines = (
        f"select {line_day} as partition_day, count(*) as erased_lines from {quote((landing or '') + '_lines')} "
        f"as errors where ({line_day}) is not null and exists (select 1 from unnest(regexp_extract_all(csv_line, "
        f"'{EMAIL_PATTERN}')) as found(address) where {matches_sql('found.address', 'email')}) group by all"
        if line_day is not None and landing is not None
        else "select null::date as partition_day, 0 as erased_lines where false"
    )
    connection.execute(
        f"delete from {audit} where source_table = ? and {scope.days.sql('partition_day')}", [source_table]
    )
    connection.execute(
        f"""
        insert into {audit}
        with
        days as (
            select cast(range as date) as partition_day
            from range(date '{scope.days.first}', date '{scope.days.last}' + interval 1 day, interval 1 day)
        ),
        file_rows as (select unnest(?::date[]) as partition_day, unnest(?::bigint[]) as file_rows),
        landed as ({landed}),
        erased_lines as ({erased_lines}),
        quarantined as (
            select partition_day, count(*) as quarantined_rows
            from {qualified(QUARANTINE_SCHEMA, QUARANTINE_TABLE)}
            where source_table = ? and {scope.days.sql("partition_day")}
            group by all
        )
        select
            ?, days.partition_day, ?,
            coalesce(file_rows.file_rows, 0),
            coalesce(landed.loaded_rows, 0),
            coalesce(quarantined.quarantined_rows, 0),
            coalesce(landed.erased_rows, 0) + coalesce(erased_lines.erased_lines, 0),
            coalesce(landed.redacted_rows, 0)
        from days
        left join file_rows on days.partition_day = file_rows.partition_day
        left join landed on days.partition_day = landed.partition_day
        left join erased_lines on days.partition_day = erased_lines.partition_day
        left join quarantined on days.partition_day = quarantined.partition_day
        """,
        [list(file_rows_by_day), list(file_rows_by_day.values()), source_table, source_table, str(path)],
    )
    totals = connection.execute(
        f"select coalesce(sum(file_rows), 0), coalesce(sum(loaded_rows), 0), coalesce(sum(quarantined_rows), 0), "
        f"coalesce(sum(erased_rows), 0), coalesce(sum(redacted_rows), 0) from {audit} where source_table = ?",
        [source_table],
    ).fetchone()
    file_rows, loaded, quarantined, erased, redacted = (int(value) for value in (totals or (0, 0, 0, 0, 0)))
    _record_load(
        connection,
        source_table,
        str(path),
        RawLoad(file_rows, loaded, {"all rules": quarantined} if quarantined else {}, erased, redacted),
    )


def _record_empty_days(
    connection: duckdb.DuckDBPyConnection, table: SourceTable, path: Path, scope: LoadScope
) -> RawLoad:
    """Days of a daily folder with no file: their rows, quarantined rows and audit rows become empty."""
    connection.execute(f"create schema if not exists {quote(table.source)}")
    _create_bookkeeping(connection)
    target = qualified(table.source, table.name)
    existing = {column.name for column in table_columns(connection, table.source, table.name)}
    connection.execute("begin transaction")
    try:
        if RAW_PARTITION_COLUMN in existing:
            connection.execute(f"delete from {target} where {scope.days.sql(quote(RAW_PARTITION_COLUMN))}")
        _replace_quarantined_rows(connection, table, "", "", scope)
        _record_days(connection, table, path, scope, None, None, {})
        connection.execute("commit")
    except Exception:
        connection.execute("rollback")
        raise
    return RawLoad(file_rows=0, loaded_rows=0, quarantined_by_rule={})
