"""The audit of write-audit-publish: a pending table against its grain, and a model's cross-model assertions.

A model is built into a pending table (pipelines/warehouse/build.py); these checks decide whether it is published.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import duckdb

from pipelines.spec.models import Assertion, Model
from pipelines.spec.partitions import DayRange
from pipelines.warehouse.connection import qualified, quote, table_columns


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
    # The check's `count_by` column and how many breaking rows carry each of its values (empty without one).
    count_by: str | None = None
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.violation_count == 0


def evaluate_assertion(
    connection: duckdb.DuckDBPyConnection, assertion: Assertion, days: DayRange | None = None, lookback_days: int = 0
) -> AssertionResult:
    """Run a cross-model assertion (over `days` only, when it can be restricted to them) and collect its breakers.

    The breaking rows are sorted on all their columns before the first 1000 are taken, so the samples are the same
    rows on every engine and in every run (a parallel scan returns rows in no set order).
    """
    sql = assertion.sql_for_days(days, lookback_days) if days and assertion.sql_for_days else assertion.sql
    violations = connection.execute(f"select * from ({sql}) as violations order by all limit 1000").fetchall()
    return AssertionResult(
        name=assertion.name,
        violation_count=len(violations),
        samples=[" | ".join(str(value) for value in row) for row in violations[:5]],
        blocking=assertion.blocking,
        count_by=assertion.count_by,
        counts=count_violations(connection, sql, assertion.count_by) if assertion.count_by else {},
    )


def count_violations(connection: duckdb.DuckDBPyConnection, sql: str, column: str) -> dict[str, int]:
    """How many breaking rows carry each value of a column (all of them, not only the first 1000), by value."""
    rows = connection.execute(
        f"select cast({quote(column)} as varchar), count(*) from ({sql}) as violations group by 1 order by 1"
    ).fetchall()
    return {str(value): int(count) for value, count in rows}
