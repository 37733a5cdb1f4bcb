"""Loading one raw connector table into the warehouse: contract checked, bad rows quarantined with their rule,
erased rows dropped, free text redacted, and the counts recorded, in one transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from pipelines.spec.partitions import DAY_IN_PATH_PATTERN, RAW_PARTITION_COLUMN, daily_files
from pipelines.spec.personal_data import DEFAULT_REDACTED_LABEL, personal_value_sql
from pipelines.spec.sources import SourceContractError, SourceTable
from pipelines.warehouse.connection import qualified, quote, table_columns
from pipelines.warehouse.erasure import EMAIL_PATTERN, ErasureList, erased_sql, install, matches_sql, uninstall
from pipelines.warehouse.raw_audit import (
    QUARANTINE_SCHEMA,
    QUARANTINE_TABLE,
    RawLoad,
    _create_bookkeeping,
    _malformed_line_day,
    _record_days,
    _record_empty_days,
    _record_load,
    _replace_quarantined_rows,
)
from pipelines.warehouse.raw_files import (
    FILE_COLUMN,
    LoadScope,
    _data_files,
    _files_for,
    file_record_counts,
    raw_reader,
)


def _partition_day_sql(table: SourceTable, scope: LoadScope, daily: bool) -> str:
    """SQL: the day a landed row is filed under, clamped into the partitions that exist."""
    first, last = (f"date '{day.isoformat()}'" for day in (scope.bounds.first, scope.bounds.last))
    if daily:
        day = f"try_cast(regexp_extract({quote(FILE_COLUMN)}, '{DAY_IN_PATH_PATTERN}', 1) as date)"
    else:
        day = (
            "coalesce("
            + ", ".join(f"cast(try_cast({quote(column)} as timestamp) as date)" for column in table.partitioned_by_day)
            + ")"
        )
    return f"least(greatest(coalesce({day}, {first}), {first}), {last})"


def _file_rows_by_day(
    path: Path, scope: LoadScope, records: Mapping[Path, int], landed_by_day: Mapping[date, int], daily: bool
) -> dict[date, int]:
    """Rows of the files filed under each day in scope.

    A daily file's rows all belong to its day. In a single file a row's day is read from the row, so a day gets the
    rows read for it, and the first partition also gets the records that were not read as rows (malformed lines, and
    any a reader lost), as malformed lines are filed there too.
    """
    by_day: dict[date, int] = {}
    if daily:
        for day, files in daily_files(path).items():
            filed = min(max(day, scope.bounds.first), scope.bounds.last)
            by_day[filed] = by_day.get(filed, 0) + sum(records.get(file, 0) for file in files)
    else:
        by_day = dict(landed_by_day)
        unread = sum(records.values()) - sum(landed_by_day.values())
        by_day[scope.bounds.first] = by_day.get(scope.bounds.first, 0) + unread
    return {day: rows for day, rows in by_day.items() if scope.days.first <= day <= scope.days.last}


def _contract_error(path: Path, table: SourceTable, missing: Sequence[str], suspects: Mapping[str, str]) -> str:
    """One line naming the file, the missing required columns and, for each, the file column that looks like it."""
    described = ", ".join(
        f"{column} (the file has {suspects[column]}: renamed? add `renamed_from: [{suspects[column]}]` to the "
        "contract column if it means the same)"
        if column in suspects
        else column
        for column in missing
    )
    return f"{path}: {table.source}.{table.name} misses required column(s) {described}"


def _temporary_tables(landing: str) -> tuple[str, ...]:
    """The temp tables a load creates: the landed rows, DuckDB's rejected CSV fields and scans, malformed lines."""
    return (landing, f"{landing}_errors", f"{landing}_scans", f"{landing}_lines")


# The bookkeeping columns of a landing table, left out of what is written.
_BOOKKEEPING = "exclude (_flywheel_rule, _flywheel_erased, _flywheel_redacted)"


@dataclass(frozen=True)
class _Load:
    """One load of a raw table: the file or folder it reads, the days it replaces, and its temp landing table."""

    table: SourceTable
    path: Path
    scope: LoadScope | None
    # A folder of daily files, of which `files` are read.
    daily: bool
    files: list[Path]

    @property
    def landing(self) -> str:
        return f"_landing__{self.table.source}__{self.table.name}"

    @property
    def source_table(self) -> str:
        return f"{self.table.source}.{self.table.name}"

    @property
    def csv_lines(self) -> bool:
        """Whether the load reads CSV, whose malformed lines are kept aside."""
        return self.path.suffix == ".csv" or bool(self.files and self.files[0].suffix == ".csv")


@dataclass(frozen=True)
class _FileRead:
    """How the file is read: its DuckDB reader (renamed columns read by their contract name) and its columns."""

    reader: str
    argument: str | list[str]
    # Lower-case column name -> DuckDB type, after renames.
    file_types: dict[str, str]
    renames: dict[str, str]
    suspects: dict[str, str]


@dataclass(frozen=True)
class _Landed:
    """What landing found: the rows of each day (a day-partitioned load), and the free-text values redacted."""

    rows_by_day: dict[date, int]
    pii_redacted: int


def load_raw_table(
    connection: duckdb.DuckDBPyConnection,
    table: SourceTable,
    path: Path,
    erasures: ErasureList,
    scope: LoadScope | None = None,
    redacted_label: str = DEFAULT_REDACTED_LABEL,
) -> RawLoad:
    """Load one raw file into `<source>.<table>`, checking its contract, quarantining the rows that break it.

    Extra columns are kept. A column spelled as one of its contract column's `renamed_from` names is read as the
    contract name. Missing optional columns are added as typed NULLs so staging can read them. A missing required
    column fails before anything is written, naming a file column that looks like it. A row that breaks a quarantine
    rule of the contract (a missing key, a value that does not parse as the type staging casts it to, a NaN or
    infinite amount, a table rule such as a Stripe test-mode row) goes to `quarantine.rejected_rows` with the first
    rule it broke, instead of the raw table; a malformed CSV line goes there once, however many fields DuckDB
    reports wrong. The counts go to `audit.raw_loads`, with the file's rows counted from the file itself. The
    table, its quarantined rows and its audit row are replaced in one transaction, so a re-run leaves no trace of
    the previous one.

    Before any of that, a row whose `personal_keys` match the erasure list (`erasures`: the asset passes the one the
    settings name, `FLYWHEEL_ERASURE_LIST`) is dropped and counted as erased, never quarantined; a malformed CSV line
    holding an erased e-mail is dropped the same way. A table with `on_erasure: redact` keeps such a row with its
    `personal_columns` blanked. The hashes are computed in DuckDB with the key as a bound parameter. A value of a
    `free_text` column that looks like an e-mail address or a phone number is replaced by `redacted_label` (the
    asset passes `personal_data.redacted_label` of the definitions).

    A day-partitioned table (`scope`) replaces only the rows, quarantined rows and per-day audit rows of the days in
    `scope.days`; each row carries the day it is filed under in `_flywheel_partition_day`, and `audit.raw_loads`
    holds the sums over every day loaded so far.
    """
    if table.partitioned and scope is None:
        raise ValueError(f"{table.source}.{table.name} is partitioned by day: say which days to load")
    daily = scope is not None and path.is_dir()
    files = _files_for(path, scope) if daily and scope is not None else []
    if daily and not files:
        return _record_empty_days(connection, table, path, scope) if scope is not None else RawLoad(0, 0, {})
    load = _Load(table=table, path=path, scope=scope, daily=daily, files=files)
    read = _read_file(connection, load)
    records = file_record_counts(connection, files or _data_files(path))
    connection.execute(f"create schema if not exists {quote(table.source)}")
    _create_bookkeeping(connection)
    active = install(connection, erasures)
    try:
        landed = _land(connection, load, read, active, redacted_label)
    except Exception:
        _drop_temporary_tables(connection, load.landing)
        raise
    connection.execute("begin transaction")
    try:
        result = _write_and_record(connection, load, read, records, landed, active)
        connection.execute("commit")
    except Exception:
        connection.execute("rollback")
        raise
    finally:
        _drop_temporary_tables(connection, load.landing)
    return result


def _read_file(connection: duckdb.DuckDBPyConnection, load: _Load) -> _FileRead:
    """The reader of the file, its columns read by their contract names; fails if a required column is missing."""
    reader, argument = raw_reader(load.path, rejects=load.landing, files=load.files)
    described = connection.execute(f"describe select * from {reader}", [argument]).fetchall()
    renames = load.table.renames_in(row[0] for row in described)
    suspects = load.table.suspected_renames(row[0] for row in described)
    described = [(renames.get(row[0], row[0]), *row[1:]) for row in described]
    present = {row[0].lower() for row in described}
    missing_required = [column for column in load.table.required_columns if column.lower() not in present]
    if missing_required:
        raise SourceContractError(_contract_error(load.path, load.table, missing_required, suspects))
    if renames:
        renamed = ", ".join(f"{quote(old)} as {quote(new)}" for old, new in renames.items())
        reader = f"(select * rename ({renamed}) from {reader})"
    file_types = {row[0].lower(): row[1] for row in described}
    return _FileRead(reader=reader, argument=argument, file_types=file_types, renames=renames, suspects=suspects)


def _typed_columns_sql(table: SourceTable, read: _FileRead) -> str:
    """The select list that lands a file: its columns, timestamps as UTC text, missing contract columns as NULLs."""
    added = [
        f"cast(null as {column.type}) as {quote(column.name)}"
        for column in table.columns
        if column.name.lower() not in read.file_types
    ]
    # Timestamps written as text: one with a UTC offset is converted to UTC, a naive one is taken as UTC already.
    normalised = [
        f"coalesce(cast(cast(try_cast({quote(column.name)} as timestamptz) as timestamp) as varchar), "
        f"{quote(column.name)}) as {quote(column.name)}"
        for column in table.columns
        if column.type == "timestamp" and read.file_types.get(column.name.lower()) == "VARCHAR"
    ]
    replaced = f"* replace ({', '.join(normalised)})" if normalised else "*"
    return ", ".join([replaced, *added])


def _land(
    connection: duckdb.DuckDBPyConnection, load: _Load, read: _FileRead, active: bool, redacted_label: str
) -> _Landed:
    """Land the file in a temp table: each row with the first rule it breaks, whether it is erased, and its day.

    Then only the days in scope stay, erased rows of a redacting table are blanked, and free text is redacted.
    """
    table, scope = load.table, load.scope
    day_column = quote(RAW_PARTITION_COLUMN)
    if scope is not None:
        partition_day = f", {_partition_day_sql(table, scope, load.daily)} as {day_column}"
        landed_columns = f"* exclude ({quote(FILE_COLUMN)})" if load.daily else "*"
    else:
        partition_day, landed_columns = "", "*"
    rule_case = " ".join(
        f"when coalesce({rule.when}, false) then {index}" for index, rule in enumerate(table.quarantine_rules)
    )
    connection.execute(
        f"create or replace temp table {quote(load.landing)} as "
        f"select {landed_columns}, case {rule_case} end as _flywheel_rule, "
        f"{erased_sql(table, active)} as _flywheel_erased, false as _flywheel_redacted{partition_day} "
        f"from (select {_typed_columns_sql(table, read)} from {read.reader}) as landed",
        [read.argument],
    )
    if load.csv_lines:
        _group_malformed_lines(connection, load.landing)
    rows_by_day = _keep_days_in_scope(connection, load.landing, scope)
    if table.on_erasure == "redact":
        blanked = ", ".join(f"{quote(column)} = null" for column in table.personal_columns)
        connection.execute(
            f"update {quote(load.landing)} set {blanked}, _flywheel_erased = false, _flywheel_redacted = true "
            "where _flywheel_erased"
        )
    return _Landed(rows_by_day, redact_free_text(connection, table, load.landing, redacted_label))


def _keep_days_in_scope(
    connection: duckdb.DuckDBPyConnection, landing: str, scope: LoadScope | None
) -> dict[date, int]:
    """The landed rows of each day, before the rows of days out of `scope` are deleted; empty without a scope.

    Every row of a single file is landed, so each day's rows are known; then only the days in scope stay.
    """
    if scope is None:
        return {}
    day_column = quote(RAW_PARTITION_COLUMN)
    rows_by_day = dict(
        connection.execute(f"select {day_column}, count(*) from {quote(landing)} group by all").fetchall()
    )
    if not scope.full:
        connection.execute(f"delete from {quote(landing)} where not ({scope.days.sql(day_column)})")
    return rows_by_day


def _write_and_record(
    connection: duckdb.DuckDBPyConnection,
    load: _Load,
    read: _FileRead,
    records: Mapping[Path, int],
    landed: _Landed,
    active: bool,
) -> RawLoad:
    """Inside the load's transaction: write the rows, the quarantined rows and the counts to `audit.raw_loads`."""
    table, scope = load.table, load.scope
    _replace_raw_rows(connection, table, load.landing, _BOOKKEEPING, scope)
    _replace_quarantined_rows(connection, table, load.landing, _BOOKKEEPING, scope)
    _quarantine_rule_breakers(connection, load)
    line_day = _malformed_line_day(scope, load.daily, load.landing)
    erased_lines = _quarantine_malformed_lines(connection, load, line_day, active) if load.csv_lines else 0
    file_rows_by_day = (
        _file_rows_by_day(load.path, scope, records, landed.rows_by_day, load.daily) if scope is not None else {}
    )
    file_rows = sum(file_rows_by_day.values()) if scope is not None else sum(records.values())
    result = _counted_load(connection, load, read, landed, erased_lines, file_rows)
    if scope is not None:
        # Erased malformed lines exist only with an erasure list in force.
        line_day_sql = line_day if load.csv_lines and active else None
        _record_days(connection, table, load.path, scope, load.landing, line_day_sql, file_rows_by_day)
    else:
        _record_load(connection, load.source_table, str(load.path), result)
    return result


def _quarantine_rule_breakers(connection: duckdb.DuckDBPyConnection, load: _Load) -> None:
    """Add each landed row that breaks a rule (and is not erased) to the quarantine, with the first rule it broke."""
    table = load.table
    day_column = quote(RAW_PARTITION_COLUMN)
    key_text = " || ' | ' || ".join(
        f"coalesce(cast({quote(column)} as varchar), 'NULL')" for column in table.primary_key
    )
    for index, rule in enumerate(table.quarantine_rules):
        connection.execute(
            f"insert into {qualified(QUARANTINE_SCHEMA, QUARANTINE_TABLE)} by name "
            f"select ? as source_table, ? as source_file, {key_text} as record_key, ? as rule, "
            f"? as rule_description, to_json(rejected) as raw_row"
            f"{f', rejected.{day_column} as partition_day' if load.scope is not None else ''} "
            f"from (select * {_BOOKKEEPING} from {quote(load.landing)} "
            f"where _flywheel_rule = ? and not _flywheel_erased) as rejected",
            [load.source_table, str(load.path), rule.name, rule.description, index],
        )


def _quarantine_malformed_lines(connection: duckdb.DuckDBPyConnection, load: _Load, line_day: str, active: bool) -> int:
    """Add the malformed CSV lines in scope to the quarantine, except those holding an erased e-mail; returns how
    many were erased."""
    erased_line = (
        f"exists (select 1 from unnest(regexp_extract_all(csv_line, ?)) as found(address) "
        f"where {matches_sql('found.address', 'email')})"
        if active
        else "? is null"
    )
    lines_in_scope = f"({line_day}) is not null" if load.scope is not None else "true"
    connection.execute(
        f"insert into {qualified(QUARANTINE_SCHEMA, QUARANTINE_TABLE)} by name "
        f"select ? as source_table, ? as source_file, null as record_key, 'malformed_csv_line' as rule, "
        f"error_message as rule_description, "
        f"to_json({{'line': line, 'csv_line': csv_line}}) as raw_row"
        f"{f', {line_day} as partition_day' if load.scope is not None else ''} "
        f"from {quote(load.landing + '_lines')} as errors where not ({erased_line}) and {lines_in_scope}",
        [load.source_table, str(load.path), EMAIL_PATTERN],
    )
    counted = connection.execute(
        f"select count(*) from {quote(load.landing + '_lines')} as errors where {erased_line} and {lines_in_scope}",
        [EMAIL_PATTERN],
    ).fetchone()
    return int(counted[0]) if counted else 0


def _counted_load(
    connection: duckdb.DuckDBPyConnection,
    load: _Load,
    read: _FileRead,
    landed: _Landed,
    erased_lines: int,
    file_rows: int,
) -> RawLoad:
    """What the load kept, quarantined (per rule, over the days in scope), erased and redacted, of `file_rows`."""
    scope = load.scope
    quarantine_filter = "source_table = ?" + (f" and {scope.days.sql('partition_day')}" if scope else "")
    by_rule = dict(
        connection.execute(
            f"select rule, count(*) from {qualified(QUARANTINE_SCHEMA, QUARANTINE_TABLE)} "
            f"where {quarantine_filter} group by rule order by rule",
            [load.source_table],
        ).fetchall()
    )
    counts = connection.execute(
        f"select count(*), count(*) filter (where _flywheel_erased), "
        f"count(*) filter (where _flywheel_rule is null and not _flywheel_erased), "
        f"count(*) filter (where _flywheel_redacted) from {quote(load.landing)}"
    ).fetchone()
    _, erased_rows, loaded_rows, redacted = (int(value) for value in (counts or (0, 0, 0, 0)))
    return RawLoad(
        file_rows=file_rows,
        loaded_rows=loaded_rows,
        quarantined_by_rule={str(rule): int(count) for rule, count in by_rule.items()},
        erased_rows=erased_rows + erased_lines,
        redacted_rows=redacted,
        renamed_columns=read.renames,
        suspected_renames=read.suspects,
        pii_redacted_values=landed.pii_redacted,
    )


def _drop_temporary_tables(connection: duckdb.DuckDBPyConnection, landing: str) -> None:
    """Drop the load's temp tables and the erasure list it installed."""
    for temporary in _temporary_tables(landing):
        connection.execute(f"drop table if exists {quote(temporary)}")
    uninstall(connection)


def _group_malformed_lines(connection: duckdb.DuckDBPyConnection, landing: str) -> None:
    """One row per malformed CSV line, with its first error, into `<landing>_lines`.

    DuckDB's reject table holds one row per error, so a line missing ten fields has ten; the quarantine and the
    counts want the line once.
    """
    connection.execute(
        f"create or replace temp table {quote(landing + '_lines')} as "
        "select scan_id, file_id, line, arg_min(error_message, coalesce(column_idx, 0)) as error_message, "
        "arg_min(csv_line, coalesce(column_idx, 0)) as csv_line "
        f"from {quote(landing + '_errors')} group by scan_id, file_id, line"
    )


def redact_free_text(connection: duckdb.DuckDBPyConnection, table: SourceTable, landing: str, label: str) -> int:
    """Replace the personal-looking values of the table's free-text columns on the landing table; returns how many.

    A UTM campaign is typed by a person, and sometimes holds an e-mail address or a phone number;
    these columns reach the marts, so the value is replaced at the door by the label BI shows instead.
    """
    redacted = 0
    for column in table.free_text_columns:
        updated = connection.execute(
            f"update {quote(landing)} set {quote(column)} = ? "
            f"where not _flywheel_erased and {personal_value_sql(quote(column))}",
            [label],
        ).fetchone()
        redacted += int(updated[0]) if updated else 0
    return redacted


def _replace_raw_rows(
    connection: duckdb.DuckDBPyConnection, table: SourceTable, landing: str, bookkeeping: str, scope: LoadScope | None
) -> None:
    """Write the landed rows that passed every rule: the whole table, or only the days in scope."""
    target = qualified(table.source, table.name)
    passed = f"select * {bookkeeping} from {quote(landing)} where _flywheel_rule is null and not _flywheel_erased"
    existing = {column.name for column in table_columns(connection, table.source, table.name)}
    if scope is None or scope.full or RAW_PARTITION_COLUMN not in existing:
        connection.execute(f"create or replace table {target} as {passed}")
        return
    landed = [row[0] for row in connection.execute(f"describe {passed}").fetchall()]
    for column in landed:
        if column not in existing:  # a column the connector started sending: add it, older days read NULL
            kind = connection.execute(f"select typeof({quote(column)}) from {quote(landing)} limit 1").fetchone()
            connection.execute(f"alter table {target} add column {quote(column)} {kind[0] if kind else 'varchar'}")
    connection.execute(f"delete from {target} where {scope.days.sql(quote(RAW_PARTITION_COLUMN))}")
    connection.execute(f"insert into {target} by name {passed}")
