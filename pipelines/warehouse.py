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


def _reader(path: Path) -> tuple[str, str]:
    """The DuckDB table function that reads a raw file, and the parameter to pass it."""
    if path.is_dir():
        return "read_parquet(?, union_by_name = true)", str(path / "**" / "*.parquet")
    if path.suffix == ".parquet":
        return "read_parquet(?)", str(path)
    # CSV lands as text: staging casts, so a connector's formatting never fails the load itself.
    return "read_csv(?, header = true, all_varchar = true)", str(path)


def load_raw_table(connection: duckdb.DuckDBPyConnection, table: SourceTable, path: Path) -> int:
    """Load one raw file into `<source>.<table>`, checking its contract; returns the number of rows loaded.

    Extra columns are kept. Missing optional columns are added as typed NULLs so staging can read them. A missing
    required column fails before anything is written.
    """
    reader, argument = _reader(path)
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
    select_list = ", ".join(["*", *added])
    connection.execute(f"create schema if not exists {quote(table.source)}")
    connection.execute(
        f"create or replace table {qualified(table.source, table.name)} as select {select_list} from {reader}",
        [argument],
    )
    return row_count(connection, table.source, table.name)


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
