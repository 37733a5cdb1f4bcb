"""Comparing a Spark build with a DuckDB build of the same input, table by table.

Two builds agree on a table when they have the same columns in the same order, each of a comparable type, and the
same rows: rows are matched on the model's grain, and values compare equal after normalising what differs only in
representation between the engines:

- **Numbers** compare as numbers, within a relative tolerance of 1e-9 (DuckDB and Spark sum and divide in a
  different order and precision: a `DECIMAL(38,6)` on one side may be a `DOUBLE` on the other).
- **Timestamps** compare as UTC wall-clock times: DuckDB's `TIMESTAMP WITH TIME ZONE` comes back time-zone aware,
  Spark's session-time-zone `TIMESTAMP` (UTC in a Flywheel session) naive.
- **Types** compare by kind (`TYPE_KINDS`): integers, decimals and doubles are all numbers (DuckDB's `HUGEINT` sums
  and Spark's `DECIMAL(38,0)` alike); text, dates, timestamps, booleans and lists must be the same kind.

`compare_table` returns what differs, with a few examples, so a failing parity test names the table, the column and
the key.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

RELATIVE_TOLERANCE = 1e-9
ABSOLUTE_TOLERANCE = 1e-9
EXAMPLES = 3
# NaN as compared: equal to another NaN, unlike float('nan'), and never equal to NULL.
NOT_A_NUMBER = "NaN"

# The kind of a DuckDB type name (as `table_columns` reports it on either engine), for comparing column types.
TYPE_KINDS: Mapping[str, str] = {
    "TINYINT": "number",
    "SMALLINT": "number",
    "INTEGER": "number",
    "BIGINT": "number",
    "HUGEINT": "number",
    "UBIGINT": "number",
    "UINTEGER": "number",
    "FLOAT": "number",
    "DOUBLE": "number",
    "DECIMAL": "number",
    "VARCHAR": "text",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamp",
    "NULL": "null",
}


def type_kind(duckdb_type: str) -> str:
    """The kind of a type: `DECIMAL(18,2)` -> number, `VARCHAR[]` -> list of text, a struct as it is."""
    name = duckdb_type.upper().strip()
    if name.endswith("[]"):
        return f"list of {type_kind(name[:-2])}"
    return TYPE_KINDS.get(name.split("(")[0], name)


@dataclass
class TableDifference:
    """What differs between the two builds of one table (nothing, when `agrees`)."""

    table: str
    column_problems: list[str] = field(default_factory=list)
    missing_rows: list[str] = field(default_factory=list)
    extra_rows: list[str] = field(default_factory=list)
    value_problems: list[str] = field(default_factory=list)
    missing_count: int = 0
    extra_count: int = 0
    differing_count: int = 0

    @property
    def agrees(self) -> bool:
        return not (self.column_problems or self.missing_count or self.extra_count or self.differing_count)

    def summary(self) -> str:
        if self.agrees:
            return f"{self.table}: equal"
        parts = [*self.column_problems]
        if self.missing_count:
            parts.append(f"{self.missing_count} row(s) only in DuckDB, e.g. {self.missing_rows}")
        if self.extra_count:
            parts.append(f"{self.extra_count} row(s) only in Spark, e.g. {self.extra_rows}")
        if self.differing_count:
            parts.append(f"{self.differing_count} value(s) differ, e.g. {self.value_problems}")
        return f"{self.table}: " + "; ".join(parts)


def normalised(value: Any) -> Any:
    """A value as both engines' results compare: numbers as floats, timestamps as naive UTC, lists as tuples."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value  # exact: a 64-bit key must not round to its neighbour
    if isinstance(value, float | Decimal):
        number = float(value)
        return NOT_A_NUMBER if math.isnan(number) else number
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, list | tuple):
        return tuple(normalised(item) for item in value)
    if isinstance(value, dict):
        return tuple(sorted((key, normalised(item)) for key, item in value.items()))
    if hasattr(value, "asDict"):  # a Spark struct
        return normalised(value.asDict())
    return value


def values_equal(left: Any, right: Any) -> bool:
    numbers = [isinstance(value, int | float) and not isinstance(value, bool) for value in (left, right)]
    if all(numbers) and isinstance(left, int) and isinstance(right, int):
        return left == right
    if all(numbers):
        return math.isclose(left, right, rel_tol=RELATIVE_TOLERANCE, abs_tol=ABSOLUTE_TOLERANCE)
    if isinstance(left, tuple) and isinstance(right, tuple):
        return len(left) == len(right) and all(values_equal(a, b) for a, b in zip(left, right, strict=True))
    return bool(left == right)


def _key_text(key: Sequence[Any]) -> str:
    return " | ".join("NULL" if part is None else str(part) for part in key)


def compare_table(
    table: str,
    duckdb_columns: Sequence[tuple[str, str]],
    spark_columns: Sequence[tuple[str, str]],
    duckdb_rows: Sequence[Sequence[Any]],
    spark_rows: Sequence[Sequence[Any]],
    grain: Sequence[str],
) -> TableDifference:
    """Compare one table's two builds: columns `(name, DuckDB type name)` in order, then rows matched on `grain`."""
    difference = TableDifference(table)
    names = [name for name, _ in duckdb_columns]
    if names != [name for name, _ in spark_columns]:
        difference.column_problems.append(f"columns differ: {names} vs {[name for name, _ in spark_columns]}")
        return difference
    for (name, left), (_, right) in zip(duckdb_columns, spark_columns, strict=True):
        if type_kind(left) != type_kind(right):
            difference.column_problems.append(f"{name} is {left} in DuckDB, {right} in Spark")
    positions = [names.index(column) for column in grain]
    duckdb_by_key = _by_key(duckdb_rows, positions)
    spark_by_key = _by_key(spark_rows, positions)
    missing = [key for key in duckdb_by_key if key not in spark_by_key]
    extra = [key for key in spark_by_key if key not in duckdb_by_key]
    difference.missing_count, difference.extra_count = len(missing), len(extra)
    difference.missing_rows = [_key_text(key) for key in missing[:EXAMPLES]]
    difference.extra_rows = [_key_text(key) for key in extra[:EXAMPLES]]
    for key, left_row in duckdb_by_key.items():
        right_row = spark_by_key.get(key)
        if right_row is None:
            continue
        for name, left, right in zip(names, left_row, right_row, strict=True):
            if not values_equal(left, right):
                difference.differing_count += 1
                if len(difference.value_problems) < EXAMPLES:
                    difference.value_problems.append(f"{name} at {_key_text(key)}: {left!r} vs {right!r}")
    return difference


def _by_key(rows: Sequence[Sequence[Any]], positions: Sequence[int]) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    """Rows by their grain key; a repeated key (which the grain checks forbid) keeps every copy apart by count."""
    keyed: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    normalised_rows = [tuple(normalised(value) for value in row) for row in rows]
    for values in sorted(normalised_rows, key=lambda values: [(value is None, str(value)) for value in values]):
        key = tuple(values[position] for position in positions)
        while key in keyed:
            key = (*key, "(again)")
        keyed[key] = values
    return keyed


def compare_builds(
    duckdb_connection: Any, spark_connection: Any, tables: Sequence[tuple[str, str, Sequence[str]]]
) -> list[TableDifference]:
    """Compare every `(schema, table, grain)` between a DuckDB build and a Spark build; a table missing from either
    build is a column problem."""
    from pipelines.warehouse.connection import qualified, table_columns

    differences = []
    for schema, table, grain in tables:
        name = f"{schema}.{table}"
        left = [(column.name, column.type) for column in table_columns(duckdb_connection, schema, table)]
        right = [(column.name, column.type) for column in table_columns(spark_connection, schema, table)]
        if not left or not right:
            built = "DuckDB" if left else "Spark" if right else "neither build"
            differences.append(TableDifference(name, column_problems=[f"built by {built} only"]))
            continue
        select = f"select * from {qualified(schema, table)}"
        differences.append(
            compare_table(
                name,
                left,
                right,
                duckdb_connection.execute(select).fetchall(),
                spark_connection.execute(select).fetchall(),
                grain,
            )
        )
    return differences
