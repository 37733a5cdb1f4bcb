"""Opening the warehouse and naming its tables: quoted identifiers, connections, columns and row counts.

Every other module of the warehouse layer builds SQL names through `quote` and `qualified`, so no configuration
value reaches SQL as raw text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


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


def engine_of(connection: object) -> str:
    """Which engine a warehouse connection runs on: `duckdb`, or the `engine` a look-alike names (`spark`)."""
    return str(getattr(connection, "engine", "duckdb"))


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    type: str


def table_columns(connection: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[ColumnInfo]:
    """The columns of a warehouse table, in order (none when it does not exist).

    An engine with a catalog of its own answers from it (Spark: pipelines/warehouse/spark/connection.py), with
    DuckDB's type names.
    """
    own_catalog = getattr(connection, "table_columns", None)
    if own_catalog is not None:
        return [ColumnInfo(name=column.name, type=column.type) for column in own_catalog(schema, table)]
    rows = connection.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [schema, table],
    ).fetchall()
    return [ColumnInfo(name=row[0], type=row[1]) for row in rows]


def row_count(connection: duckdb.DuckDBPyConnection, schema: str, table: str) -> int:
    result = connection.execute(f"select count(*) from {qualified(schema, table)}").fetchone()
    return int(result[0]) if result else 0
