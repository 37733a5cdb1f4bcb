"""DuckDB work with no Dagster in sight: load raw files, build models write-audit-publish, run grain checks.

Models are built into a pending table first, audited, and only then swapped in, so a model that fails its blocking
checks leaves the last good table in place for everything that reads it.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

from pipelines.erasure import EMAIL_PATTERN, ErasureList, erasure_list_path, install, matches_sql, uninstall
from pipelines.models import Assertion, Model
from pipelines.partitions import DAY_IN_PATH_PATTERN, RAW_PARTITION_COLUMN, DayRange, daily_files
from pipelines.personal_data import DEFAULT_REDACTED_LABEL, personal_value_sql
from pipelines.sources import SourceContractError, SourceTable

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
PENDING_PREFIX = "_pending__"


def quote(identifier: str) -> str:
    """Quote an identifier after checking it is a plain name, so no configuration value reaches SQL as raw text."""
    if not _IDENTIFIER.match(identifier):
        raise ValueError(f"not a valid identifier: {identifier!r}")
    return f'"{identifier}"'


def qualified(schema: str, table: str) -> str:
    return f"{quote(schema)}.{quote(table)}"


@contextmanager
def connect(path: Path, memory_limit: str = "8GB", threads: int = 2) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse read-write with the memory limit and a spill directory beside the file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    config: dict[str, str | bool | int | float | list[str]] = {
        "memory_limit": memory_limit,
        "threads": threads,
        "temp_directory": str(path.parent / ".tmp"),
    }
    connection = duckdb.connect(str(path), config=config)
    connection.execute("set TimeZone = 'UTC'")
    try:
        yield connection
    finally:
        connection.close()


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    type: str


def table_columns(connection: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[ColumnInfo]:
    """The columns of a warehouse table, in order."""
    rows = connection.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [schema, table],
    ).fetchall()
    return [ColumnInfo(name=row[0], type=row[1]) for row in rows]


def row_count(connection: duckdb.DuckDBPyConnection, schema: str, table: str) -> int:
    result = connection.execute(f"select count(*) from {qualified(schema, table)}").fetchone()
    return int(result[0]) if result else 0


FILE_COLUMN = "_flywheel_file"


def _reader(path: Path, rejects: str | None = None, files: Sequence[Path] = ()) -> tuple[str, str | list[str]]:
    """The DuckDB table function that reads a raw file, and the parameter to pass it.

    CSV lands as text: staging casts, so a connector's formatting never fails the load itself. With `rejects`,
    malformed CSV lines (too many or too few fields, a broken quote) are kept aside in the temp tables
    `<rejects>_errors` and `<rejects>_scans` instead of failing the read. With `files` (some files of a folder of
    daily files), only those are read, and each row carries its file's path in `_flywheel_file`.
    """
    if files:
        listed = [str(file) for file in files]
        if files[0].suffix == ".parquet":
            return f"read_parquet(?, union_by_name = true, filename = '{FILE_COLUMN}')", listed
        path = files[0]
        argument: str | list[str] = listed
        csv_options = f"header = true, all_varchar = true, filename = '{FILE_COLUMN}'"
    elif path.is_dir():
        return "read_parquet(?, union_by_name = true)", str(path / "**" / "*.parquet")
    elif path.suffix == ".parquet":
        return "read_parquet(?)", str(path)
    else:
        argument = str(path)
        csv_options = "header = true, all_varchar = true"
    if rejects is None:
        return f"read_csv(?, {csv_options})", argument
    quote(rejects)
    return (
        f"read_csv(?, {csv_options}, store_rejects = true, "
        f"rejects_table = '{rejects}_errors', rejects_scan = '{rejects}_scans')"
    ), argument


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


def erased_sql(table: SourceTable, active: bool) -> str:
    """SQL: true when a raw row identifies a person on the erasure list (by any of the table's personal keys)."""
    if not active or not table.personal_keys:
        return "false"
    return " or ".join(matches_sql(quote(column), kind) for column, kinds in table.personal_keys for kind in kinds)


@dataclass(frozen=True)
class LoadScope:
    """Which days a load of a day-partitioned raw table replaces, out of every partition there is.

    Rows whose day falls outside `bounds` (or is unknown) are filed under the nearest partition (the first when
    unknown), so every row of the files belongs to exactly one partition (see pipelines/partitions.py).
    """

    days: DayRange
    bounds: DayRange

    @property
    def full(self) -> bool:
        """Whether the load covers every partition (and so replaces the whole table)."""
        return self.days.covers(self.bounds)


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


def _files_for(path: Path, scope: LoadScope) -> list[Path]:
    """The daily files a load of `scope.days` reads; days outside the bounds count as the nearest bound."""
    chosen = []
    for day, files in sorted(daily_files(path).items()):
        filed = min(max(day, scope.bounds.first), scope.bounds.last)
        if scope.days.first <= filed <= scope.days.last:
            chosen += files
    return chosen


def csv_record_count(path: Path) -> int:
    """Data records in a CSV file (header and blank lines excluded), counted by a reader that rejects no line.

    Python's csv reader keeps quoted newlines inside their record and never drops a short or long line, so the count
    does not depend on how DuckDB parsed (or rejected) the file: the row accounting compares the two.
    """
    csv.field_size_limit(2**31 - 1)  # a broken quote can make one field hold the rest of the file
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as handle:
        records = sum(1 for record in csv.reader(handle) if record)
    return max(records - 1, 0)


def file_record_counts(connection: duckdb.DuckDBPyConnection, files: Sequence[Path]) -> dict[Path, int]:
    """Rows in each raw file, read from the file itself: Parquet from its metadata, CSV by counting its records."""
    counts = {file: csv_record_count(file) for file in files if file.suffix != ".parquet"}
    parquet = [str(file) for file in files if file.suffix == ".parquet"]
    if parquet:
        rows = connection.execute(
            "select file_name, sum(num_rows) from parquet_file_metadata(?) group by file_name", [parquet]
        ).fetchall()
        counts.update({Path(name): int(count) for name, count in rows})
    return counts


def _data_files(path: Path) -> list[Path]:
    """The files a load of `path` reads: the file, or every Parquet file of the folder."""
    return sorted(path.rglob("*.parquet")) if path.is_dir() else [path]


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


def load_raw_table(
    connection: duckdb.DuckDBPyConnection,
    table: SourceTable,
    path: Path,
    erasures: ErasureList | None = None,
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

    Before any of that, a row whose `personal_keys` match the erasure list (`erasures`, by default the list at
    `FLYWHEEL_ERASURE_LIST`) is dropped and counted as erased, never quarantined; a malformed CSV line holding an
    erased e-mail is dropped the same way. A table with `on_erasure: redact` keeps such a row with its
    `personal_columns` blanked. The hashes are computed in DuckDB with the key as a bound parameter. A value of a
    `free_text` column that looks like an e-mail address or a phone number is replaced by `redacted_label` (the
    asset passes `personal_data.redacted_label` of the definitions).

    A day-partitioned table (`scope`) replaces only the rows, quarantined rows and per-day audit rows of the days in
    `scope.days`; each row carries the day it is filed under in `_flywheel_partition_day`, and `audit.raw_loads`
    holds the sums over every day loaded so far.
    """
    if table.partitioned and scope is None:
        raise ValueError(f"{table.source}.{table.name} is partitioned by day: say which days to load")
    landing = f"_landing__{table.source}__{table.name}"
    daily = scope is not None and path.is_dir()
    files = _files_for(path, scope) if daily and scope is not None else []
    if daily and not files:
        return _record_empty_days(connection, table, path, scope) if scope is not None else RawLoad(0, 0, {})
    reader, argument = _reader(path, rejects=landing, files=files)
    described = connection.execute(f"describe select * from {reader}", [argument]).fetchall()
    renames = table.renames_in(row[0] for row in described)
    suspects = table.suspected_renames(row[0] for row in described)
    described = [(renames.get(row[0], row[0]), *row[1:]) for row in described]
    present = {row[0].lower() for row in described}
    missing_required = [column for column in table.required_columns if column.lower() not in present]
    if missing_required:
        raise SourceContractError(_contract_error(path, table, missing_required, suspects))
    if renames:
        renamed = ", ".join(f"{quote(old)} as {quote(new)}" for old, new in renames.items())
        reader = f"(select * rename ({renamed}) from {reader})"
    records = file_record_counts(connection, files or _data_files(path))
    added = [
        f"cast(null as {column.type}) as {quote(column.name)}"
        for column in table.columns
        if column.name.lower() not in present
    ]
    # Timestamps written as text: one with a UTC offset is converted to UTC, a naive one is taken as UTC already.
    file_types = {row[0].lower(): row[1] for row in described}
    normalised = [
        f"coalesce(cast(cast(try_cast({quote(column.name)} as timestamptz) as timestamp) as varchar), "
        f"{quote(column.name)}) as {quote(column.name)}"
        for column in table.columns
        if column.type == "timestamp" and file_types.get(column.name.lower()) == "VARCHAR"
    ]
    replaced = f"* replace ({', '.join(normalised)})" if normalised else "*"
    rules = table.quarantine_rules
    rule_case = " ".join(f"when coalesce({rule.when}, false) then {index}" for index, rule in enumerate(rules))
    key_text = " || ' | ' || ".join(
        f"coalesce(cast({quote(column)} as varchar), 'NULL')" for column in table.primary_key
    )
    source_table = f"{table.source}.{table.name}"
    connection.execute(f"create schema if not exists {quote(table.source)}")
    _create_bookkeeping(connection)
    active = install(connection, erasures if erasures is not None else ErasureList.read(erasure_list_path()))
    bookkeeping = "exclude (_flywheel_rule, _flywheel_erased, _flywheel_redacted)"
    day_column = quote(RAW_PARTITION_COLUMN)
    if scope is not None:
        partition_day = f", {_partition_day_sql(table, scope, daily)} as {day_column}"
        landed_columns = f"* exclude ({quote(FILE_COLUMN)})" if daily else "*"
    else:
        partition_day, landed_columns = "", "*"
    csv_lines = path.suffix == ".csv" or bool(files and files[0].suffix == ".csv")
    landed_by_day: dict[date, int] = {}
    try:
        connection.execute(
            f"create or replace temp table {quote(landing)} as "
            f"select {landed_columns}, case {rule_case} end as _flywheel_rule, "
            f"{erased_sql(table, active)} as _flywheel_erased, false as _flywheel_redacted{partition_day} "
            f"from (select {', '.join([replaced, *added])} from {reader}) as landed",
            [argument],
        )
        if csv_lines:
            _group_malformed_lines(connection, landing)
        if scope is not None:
            # Every row of a single file is landed, so each day's rows are known; then only the days in scope stay.
            landed_by_day = dict(
                connection.execute(f"select {day_column}, count(*) from {quote(landing)} group by all").fetchall()
            )
            if not scope.full:
                connection.execute(f"delete from {quote(landing)} where not ({scope.days.sql(day_column)})")
        if table.on_erasure == "redact":
            blanked = ", ".join(f"{quote(column)} = null" for column in table.personal_columns)
            connection.execute(
                f"update {quote(landing)} set {blanked}, _flywheel_erased = false, _flywheel_redacted = true "
                "where _flywheel_erased"
            )
        pii_redacted = redact_free_text(connection, table, landing, redacted_label)
        erased_line = (
            f"exists (select 1 from unnest(regexp_extract_all(csv_line, ?)) as found(address) "
            f"where {matches_sql('found.address', 'email')})"
            if active
            else "? is null"
        )
    except Exception:
        for temporary in _temporary_tables(landing):
            connection.execute(f"drop table if exists {quote(temporary)}")
        uninstall(connection)
        raise
    connection.execute("begin transaction")
    try:
        _replace_raw_rows(connection, table, landing, bookkeeping, scope)
        _replace_quarantined_rows(connection, table, landing, bookkeeping, scope)
        for index, rule in enumerate(rules):
            connection.execute(
                f"insert into {qualified(QUARANTINE_SCHEMA, QUARANTINE_TABLE)} by name "
                f"select ? as source_table, ? as source_file, {key_text} as record_key, ? as rule, "
                f"? as rule_description, to_json(rejected) as raw_row"
                f"{f', rejected.{day_column} as partition_day' if scope is not None else ''} "
                f"from (select * {bookkeeping} from {quote(landing)} "
                f"where _flywheel_rule = ? and not _flywheel_erased) as rejected",
                [source_table, str(path), rule.name, rule.description, index],
            )
        line_day = _malformed_line_day(scope, daily, landing)
        lines_in_scope = f"({line_day}) is not null" if scope is not None else "true"
        erased_lines = 0
        if csv_lines:
            connection.execute(
                f"insert into {qualified(QUARANTINE_SCHEMA, QUARANTINE_TABLE)} by name "
                f"select ? as source_table, ? as source_file, null as record_key, 'malformed_csv_line' as rule, "
                f"error_message as rule_description, "
                f"to_json({{'line': line, 'csv_line': csv_line}}) as raw_row"
                f"{f', {line_day} as partition_day' if scope is not None else ''} "
                f"from {quote(landing + '_lines')} as errors where not ({erased_line}) and {lines_in_scope}",
                [source_table, str(path), EMAIL_PATTERN],
            )
            counted = connection.execute(
                f"select count(*) from {quote(landing + '_lines')} as errors where {erased_line} and {lines_in_scope}",
                [EMAIL_PATTERN],
            ).fetchone()
            erased_lines = int(counted[0]) if counted else 0
        quarantine_filter = "source_table = ?" + (f" and {scope.days.sql('partition_day')}" if scope else "")
        by_rule = dict(
            connection.execute(
                f"select rule, count(*) from {qualified(QUARANTINE_SCHEMA, QUARANTINE_TABLE)} "
                f"where {quarantine_filter} group by rule order by rule",
                [source_table],
            ).fetchall()
        )
        landed = connection.execute(
            f"select count(*), count(*) filter (where _flywheel_erased), "
            f"count(*) filter (where _flywheel_rule is null and not _flywheel_erased), "
            f"count(*) filter (where _flywheel_redacted) from {quote(landing)}"
        ).fetchone()
        _, erased_rows, loaded_rows, redacted = (int(value) for value in (landed or (0, 0, 0, 0)))
        file_rows_by_day = _file_rows_by_day(path, scope, records, landed_by_day, daily) if scope is not None else {}
        load = RawLoad(
            file_rows=sum(file_rows_by_day.values()) if scope is not None else sum(records.values()),
            loaded_rows=loaded_rows,
            quarantined_by_rule={str(rule): int(count) for rule, count in by_rule.items()},
            erased_rows=erased_rows + erased_lines,
            redacted_rows=redacted,
            renamed_columns=renames,
            suspected_renames=suspects,
            pii_redacted_values=pii_redacted,
        )
        if scope is not None:
            # Erased malformed lines exist only with an erasure list in force.
            line_day_sql = line_day if csv_lines and active else None
            _record_days(connection, table, path, scope, landing, line_day_sql, file_rows_by_day)
        else:
            _record_load(connection, source_table, str(path), load)
        connection.execute("commit")
    except Exception:
        connection.execute("rollback")
        raise
    finally:
        for temporary in _temporary_tables(landing):
            connection.execute(f"drop table if exists {quote(temporary)}")
        uninstall(connection)
    return load


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
        [
            source_table,
            source_file,
            load.file_rows,
            load.loaded_rows,
            load.quarantined_rows,
            load.erased_rows,
            load.redacted_rows,
            load.pii_redacted_values,
        ],
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


@dataclass(frozen=True)
class GrainResult:
    """How a table fares against its grain: duplicated keys and keys with a null part, with samples."""

    duplicate_count: int
    null_count: int
    duplicate_samples: list[str]
    null_samples: list[str]


def check_grain(connection: duckdb.DuckDBPyConnection, schema: str, table: str, grain: Sequence[str]) -> GrainResult:
    """Count grain keys that repeat and rows whose grain has a null part."""
    target = qualified(schema, table)
    keys = ", ".join(quote(column) for column in grain)
    key_text = " || ' | ' || ".join(f"coalesce(cast({quote(column)} as varchar), 'NULL')" for column in grain)
    any_null = " or ".join(f"{quote(column)} is null" for column in grain)
    duplicates = connection.execute(
        f"select {key_text} as key_text, count(*) as copies from {target} group by {keys} having count(*) > 1 "
        f"order by copies desc, key_text"
    ).fetchall()
    nulls = connection.execute(
        f"select {key_text} as key_text from {target} where {any_null} order by key_text"
    ).fetchall()
    return GrainResult(
        duplicate_count=len(duplicates),
        null_count=len(nulls),
        duplicate_samples=[row[0] for row in duplicates[:5]],
        null_samples=[row[0] for row in nulls[:5]],
    )


def build_pending(connection: duckdb.DuckDBPyConnection, model: Model, body: str | None = None) -> str:
    """Build a model (or `body`, its SQL restricted to some days) into its pending table; returns the table's name."""
    pending = f"{PENDING_PREFIX}{model.name}"
    connection.execute(f"create schema if not exists {quote(model.schema)}")
    connection.execute(f"create or replace table {qualified(model.schema, pending)} as {body or model.body}")
    return pending


def keys_kept_elsewhere(
    connection: duckdb.DuckDBPyConnection, model: Model, pending: str, column: str, days: DayRange
) -> tuple[int, list[str]]:
    """Grain keys of a partial rebuild that the live table also holds under a day outside the rebuilt days.

    Such a key would be duplicated once the days are swapped in (an event re-delivered later than the lookback).
    """
    if not table_columns(connection, model.schema, model.name):
        return 0, []
    keys = ", ".join(quote(key) for key in model.grain)
    key_text = " || ' | ' || ".join(f"coalesce(cast({quote(key)} as varchar), 'NULL')" for key in model.grain)
    rows = connection.execute(
        f"select {key_text} from (select {keys} from {qualified(model.schema, pending)} intersect "
        f"select {keys} from {qualified(model.schema, model.name)} where not ({days.sql(quote(column))})) "
        "order by 1"
    ).fetchall()
    return len(rows), [row[0] for row in rows[:5]]


@dataclass(frozen=True)
class AssertionResult:
    """How a cross-model rule fared: the rows that break it, and a few of them as text."""

    name: str
    violation_count: int
    samples: list[str]

    @property
    def passed(self) -> bool:
        return self.violation_count == 0


def _evaluate(
    connection: duckdb.DuckDBPyConnection, assertion: Assertion, days: DayRange | None = None, lookback_days: int = 0
) -> AssertionResult:
    sql = assertion.sql_for_days(days, lookback_days) if days and assertion.sql_for_days else assertion.sql
    violations = connection.execute(f"select * from ({sql}) as violations limit 1000").fetchall()
    return AssertionResult(
        name=assertion.name,
        violation_count=len(violations),
        samples=[" | ".join(str(value) for value in row) for row in violations[:5]],
    )


def publish_pending(
    connection: duckdb.DuckDBPyConnection,
    model: Model,
    pending: str,
    days: DayRange | None = None,
    lookback_days: int = 0,
) -> tuple[bool, list[AssertionResult]]:
    """Swap the audited pending table in for the live one, in one transaction.

    The model's cross-model assertions run inside that transaction, against the new table as it will be seen; if
    one fails, the transaction rolls back, the live table is the last good one again, and the pending one is dropped.
    With `days` (a partial rebuild of a day-partitioned model), only those days of the live table are replaced, and
    assertions that can check just those days do. Returns whether the table was published, and the assertion
    results.
    """
    target = qualified(model.schema, model.name)
    partial = (
        days is not None
        and model.partitioned_by_day is not None
        and bool(table_columns(connection, model.schema, model.name))
    )
    connection.execute("begin transaction")
    try:
        if partial and days is not None and model.partitioned_by_day is not None:
            connection.execute(f"delete from {target} where {days.sql(quote(model.partitioned_by_day))}")
            connection.execute(f"insert into {target} by name select * from {qualified(model.schema, pending)}")
            connection.execute(f"drop table {qualified(model.schema, pending)}")
        else:
            connection.execute(f"drop table if exists {target}")
            connection.execute(f"alter table {qualified(model.schema, pending)} rename to {quote(model.name)}")
        results = [
            _evaluate(connection, assertion, days if partial else None, lookback_days) for assertion in model.assertions
        ]
        if all(result.passed for result in results):
            connection.execute("commit")
            return True, results
        connection.execute("rollback")
    except Exception:
        connection.execute("rollback")
        raise
    discard_pending(connection, model, pending)
    return False, results


def discard_pending(connection: duckdb.DuckDBPyConnection, model: Model, pending: str) -> None:
    connection.execute(f"drop table if exists {qualified(model.schema, pending)}")
