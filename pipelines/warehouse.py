"""DuckDB work with no Dagster in sight: load raw files, build models write-audit-publish, run grain checks.

Models are built into a pending table first, audited, and only then swapped in, so a model that fails its blocking
checks leaves the last good table in place for everything that reads it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.erasure import EMAIL_PATTERN, ErasureList, erasure_list_path, install, matches_sql, uninstall
from pipelines.models import Assertion, Model
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


def _reader(path: Path, rejects: str | None = None) -> tuple[str, str]:
    """The DuckDB table function that reads a raw file, and the parameter to pass it.

    CSV lands as text: staging casts, so a connector's formatting never fails the load itself. With `rejects`,
    malformed CSV lines (too many or too few fields, a broken quote) are kept aside in the temp tables
    `<rejects>_errors` and `<rejects>_scans` instead of failing the read.
    """
    if path.is_dir():
        return "read_parquet(?, union_by_name = true)", str(path / "**" / "*.parquet")
    if path.suffix == ".parquet":
        return "read_parquet(?)", str(path)
    if rejects is None:
        return "read_csv(?, header = true, all_varchar = true)", str(path)
    quote(rejects)
    return (
        f"read_csv(?, header = true, all_varchar = true, store_rejects = true, "
        f"rejects_table = '{rejects}_errors', rejects_scan = '{rejects}_scans')"
    ), str(path)


QUARANTINE_SCHEMA = "quarantine"
QUARANTINE_TABLE = "rejected_rows"
AUDIT_SCHEMA = "audit"
RAW_LOADS_TABLE = "raw_loads"


@dataclass(frozen=True)
class RawLoad:
    """What one raw load did: rows read from the file, rows loaded, rows quarantined (per rule), rows erased.

    Erased rows identify a person on the erasure list and were dropped; redacted rows were kept with their personal
    columns blanked (tables with `on_erasure: redact`), so they count as loaded.
    """

    file_rows: int
    loaded_rows: int
    quarantined_by_rule: dict[str, int]
    erased_rows: int = 0
    redacted_rows: int = 0

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
    for column in ("erased_rows", "redacted_rows"):
        connection.execute(
            f"alter table {qualified(AUDIT_SCHEMA, RAW_LOADS_TABLE)} add column if not exists {quote(column)} "
            "bigint default 0"
        )


def erased_sql(table: SourceTable, active: bool) -> str:
    """SQL: true when a raw row identifies a person on the erasure list (by any of the table's personal keys)."""
    if not active or not table.personal_keys:
        return "false"
    return " or ".join(matches_sql(quote(column), kind) for column, kinds in table.personal_keys for kind in kinds)


def load_raw_table(
    connection: duckdb.DuckDBPyConnection, table: SourceTable, path: Path, erasures: ErasureList | None = None
) -> RawLoad:
    """Load one raw file into `<source>.<table>`, checking its contract, quarantining the rows that break it.

    Extra columns are kept. Missing optional columns are added as typed NULLs so staging can read them. A missing
    required column fails before anything is written. A row that breaks a quarantine rule of the contract (a missing
    key, a value that does not parse as its column's type, a table rule such as a Stripe test-mode row) goes to
    `quarantine.rejected_rows` with the first rule it broke, instead of the raw table; the counts go to
    `audit.raw_loads`. The table, its quarantined rows and its audit row are replaced in one transaction, so a
    re-run leaves no trace of the previous one.

    Before any of that, a row whose `personal_keys` match the erasure list (`erasures`, by default the list at
    `FLYWHEEL_ERASURE_LIST`) is dropped and counted as erased, never quarantined; a malformed CSV line holding an
    erased e-mail is dropped the same way. A table with `on_erasure: redact` keeps such a row with its
    `personal_columns` blanked. The hashes are computed in DuckDB with the key as a bound parameter.
    """
    landing = f"_landing__{table.source}__{table.name}"
    reader, argument = _reader(path, rejects=landing)
    described = connection.execute(f"describe select * from {reader}", [argument]).fetchall()
    present = {row[0].lower() for row in described}
    missing_required = [column for column in table.required_columns if column.lower() not in present]
    if missing_required:
        raise SourceContractError(
            f"{path}: {table.source}.{table.name} misses required column(s) {', '.join(missing_required)}"
        )
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
    bookkeeping = "exclude (_flywheel_rule, _flywheel_erased)"
    try:
        connection.execute(
            f"create or replace temp table {quote(landing)} as "
            f"select *, case {rule_case} end as _flywheel_rule, {erased_sql(table, active)} as _flywheel_erased "
            f"from (select {', '.join([replaced, *added])} from {reader})",
            [argument],
        )
        redacted = 0
        if table.on_erasure == "redact":
            counted = connection.execute(f"select count(*) from {quote(landing)} where _flywheel_erased").fetchone()
            redacted = int(counted[0]) if counted else 0
            blanked = ", ".join(f"{quote(column)} = null" for column in table.personal_columns)
            connection.execute(
                f"update {quote(landing)} set {blanked}, _flywheel_erased = false where _flywheel_erased"
            )
        erased_line = (
            f"exists (select 1 from unnest(regexp_extract_all(csv_line, ?)) as found(address) "
            f"where {matches_sql('found.address', 'email')})"
            if active
            else "? is null"
        )
    except Exception:
        for temporary in (landing, f"{landing}_errors", f"{landing}_scans"):
            connection.execute(f"drop table if exists {quote(temporary)}")
        uninstall(connection)
        raise
    connection.execute("begin transaction")
    try:
        connection.execute(
            f"create or replace table {qualified(table.source, table.name)} as "
            f"select * {bookkeeping} from {quote(landing)} where _flywheel_rule is null and not _flywheel_erased"
        )
        connection.execute(
            f"delete from {qualified(QUARANTINE_SCHEMA, QUARANTINE_TABLE)} where source_table = ?", [source_table]
        )
        for index, rule in enumerate(rules):
            connection.execute(
                f"insert into {qualified(QUARANTINE_SCHEMA, QUARANTINE_TABLE)} "
                f"select ?, ?, {key_text}, ?, ?, to_json(rejected) "
                f"from (select * {bookkeeping} from {quote(landing)} "
                f"where _flywheel_rule = ? and not _flywheel_erased) as rejected",
                [source_table, str(path), rule.name, rule.description, index],
            )
        erased_lines = 0
        if path.suffix == ".csv":
            connection.execute(
                f"insert into {qualified(QUARANTINE_SCHEMA, QUARANTINE_TABLE)} "
                f"select ?, ?, null, 'malformed_csv_line', error_message, "
                f"to_json({{'line': line, 'csv_line': csv_line}}) from {quote(landing + '_errors')} "
                f"where not ({erased_line})",
                [source_table, str(path), EMAIL_PATTERN],
            )
            counted = connection.execute(
                f"select count(*) from {quote(landing + '_errors')} where {erased_line}", [EMAIL_PATTERN]
            ).fetchone()
            erased_lines = int(counted[0]) if counted else 0
        by_rule = dict(
            connection.execute(
                f"select rule, count(*) from {qualified(QUARANTINE_SCHEMA, QUARANTINE_TABLE)} "
                "where source_table = ? group by rule order by rule",
                [source_table],
            ).fetchall()
        )
        landed = connection.execute(
            f"select count(*), count(*) filter (where _flywheel_erased) from {quote(landing)}"
        ).fetchone()
        load = RawLoad(
            file_rows=(int(landed[0]) if landed else 0) + by_rule.get("malformed_csv_line", 0) + erased_lines,
            loaded_rows=row_count(connection, table.source, table.name),
            quarantined_by_rule={str(rule): int(count) for rule, count in by_rule.items()},
            erased_rows=(int(landed[1]) if landed else 0) + erased_lines,
            redacted_rows=redacted,
        )
        connection.execute(
            f"insert or replace into {qualified(AUDIT_SCHEMA, RAW_LOADS_TABLE)} (source_table, source_file, "
            "file_rows, loaded_rows, quarantined_rows, erased_rows, redacted_rows) values (?, ?, ?, ?, ?, ?, ?)",
            [
                source_table,
                str(path),
                load.file_rows,
                load.loaded_rows,
                load.quarantined_rows,
                load.erased_rows,
                load.redacted_rows,
            ],
        )
        connection.execute("commit")
    except Exception:
        connection.execute("rollback")
        raise
    finally:
        for temporary in (landing, f"{landing}_errors", f"{landing}_scans"):
            connection.execute(f"drop table if exists {quote(temporary)}")
        uninstall(connection)
    return load


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


def build_pending(connection: duckdb.DuckDBPyConnection, model: Model) -> str:
    """Build a model into its pending table (same schema); returns the pending table's name."""
    pending = f"{PENDING_PREFIX}{model.name}"
    connection.execute(f"create schema if not exists {quote(model.schema)}")
    connection.execute(f"create or replace table {qualified(model.schema, pending)} as {model.body}")
    return pending


@dataclass(frozen=True)
class AssertionResult:
    """How a cross-model rule fared: the rows that break it, and a few of them as text."""

    name: str
    violation_count: int
    samples: list[str]

    @property
    def passed(self) -> bool:
        return self.violation_count == 0


def _evaluate(connection: duckdb.DuckDBPyConnection, assertion: Assertion) -> AssertionResult:
    violations = connection.execute(f"select * from ({assertion.sql}) as violations limit 1000").fetchall()
    return AssertionResult(
        name=assertion.name,
        violation_count=len(violations),
        samples=[" | ".join(str(value) for value in row) for row in violations[:5]],
    )


def publish_pending(
    connection: duckdb.DuckDBPyConnection, model: Model, pending: str
) -> tuple[bool, list[AssertionResult]]:
    """Swap the audited pending table in for the live one, in one transaction.

    The model's cross-model assertions run inside that transaction, against the new table as it will be seen; if
    one fails, the transaction rolls back, the live table is the last good one again, and the pending one is dropped.
    Returns whether the table was published, and the assertion results.
    """
    connection.execute("begin transaction")
    try:
        connection.execute(f"drop table if exists {qualified(model.schema, model.name)}")
        connection.execute(f"alter table {qualified(model.schema, pending)} rename to {quote(model.name)}")
        results = [_evaluate(connection, assertion) for assertion in model.assertions]
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
