"""DuckDB work with no Dagster in sight: connections, names, and building models write-audit-publish.

Models are built into a pending table first, audited, and only then swapped in, so a model that fails its blocking
checks leaves the last good table in place for everything that reads it. Loading raw files is in
pipelines/warehouse/raw_load.py, with its file readers (raw_files.py) and its bookkeeping (raw_audit.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.spec.models import Assertion, Model
from pipelines.spec.partitions import DayRange

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
    # Whether a failure rolls the publish back (severity `error`) rather than only being reported (`warn`).
    blocking: bool = True

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
        blocking=assertion.blocking,
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
    a blocking one (severity `error`) fails, the transaction rolls back, the live table is the last good one again,
    and the pending one is dropped.
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
        if all(result.passed for result in results if result.blocking):
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
