"""Daily partitions: which days a run rebuilds, where a raw row is filed, and how a model reads only those days.

Product events grow by a day at a time, so their raw table and their staging model are partitioned by day: a run
for days D0..D1 replaces exactly those days and leaves the others in place. The day of a raw row is the UTC day it
was received: for a folder of daily files (`events/2026-10-31.parquet`, or `events/2026-10-31/*.parquet`, the way
event-tracking exports land) the day in the file's name; for a single file, the first of the contract's
`partitioned_by_day` columns that parses (e.g. `received_at`, then `timestamp`). A row whose day is before the first
partition, after the last one, or unknown is filed under the nearest partition (the first one when unknown), so no
row is left outside every partition.

Late and re-delivered events. An event re-synced on a later day (a duplicate with a newer `received_at`) lands in a
later partition than its first copy. A partitioned model therefore reads its partitioned upstream tables over the
days it rebuilds plus `product_events.late_arrival_days` days after them (the lookback, from the shared
definitions), so the newer copy wins; and a daily refresh rebuilds the last `late_arrival_days` days again, so a
day that was built before its re-deliveries arrived is corrected. A re-delivery later than the lookback shows as a
duplicate key and fails the grain check: it is never dropped silently.

Models read only the days they need through `restrict_to_days`, which rewrites table references with sqlglot; the
model's SQL stays the plain SQL that also builds every day at once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import sqlglot
from sqlglot import exp

DIALECT = "duckdb"
# The column the raw loader adds to a day-partitioned raw table: the UTC day each row is filed under.
RAW_PARTITION_COLUMN = "_flywheel_partition_day"
_DAY_IN_NAME = re.compile(r"(\d{4}-\d{2}-\d{2})")
# DuckDB regular expression for the day in a file path: the last YYYY-MM-DD in the file name or its folder's name.
DAY_IN_PATH_PATTERN = r"(\d{4}-\d{2}-\d{2})[^/\\]*([/\\][^/\\]*)?$"


class PartitionError(ValueError):
    """A day range or a partitioned layout that cannot be used; the message says which and why."""


@dataclass(frozen=True)
class DayRange:
    """An inclusive range of UTC days."""

    first: date
    last: date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise PartitionError(f"a day range must not end ({self.last}) before it starts ({self.first})")

    @classmethod
    def parse(cls, first: str, last: str) -> DayRange:
        try:
            return cls(date.fromisoformat(first), date.fromisoformat(last))
        except ValueError as error:
            raise PartitionError(f"days must be written YYYY-MM-DD: {error}") from error

    @property
    def day_count(self) -> int:
        return (self.last - self.first).days + 1

    def widened(self, days_after: int) -> DayRange:
        """The range with `days_after` more days at its end (the lookback for late re-deliveries)."""
        return DayRange(self.first, self.last + timedelta(days=days_after))

    def covers(self, other: DayRange) -> bool:
        return self.first <= other.first and other.last <= self.last

    def sql(self, column: str) -> str:
        """SQL: the (quoted) column holds a day inside the range."""
        return f"{column} between date '{self.first.isoformat()}' and date '{self.last.isoformat()}'"

    def __str__(self) -> str:
        return self.first.isoformat() if self.first == self.last else f"{self.first}..{self.last}"


def day_of_path(path: Path) -> date | None:
    """The day a daily file stands for: the last YYYY-MM-DD in its name, else in its folder's name."""
    for part in (path.name, path.parent.name):
        found = _DAY_IN_NAME.findall(part)
        if found:
            try:
                return date.fromisoformat(found[-1])
            except ValueError:
                return None
    return None


def daily_files(folder: Path) -> dict[date, list[Path]]:
    """The data files of a folder of daily files, by day; a data file without a day in its path fails loudly."""
    files = sorted(path for path in folder.rglob("*") if path.is_file() and path.suffix in (".parquet", ".csv"))
    by_day: dict[date, list[Path]] = {}
    for path in files:
        day = day_of_path(path.relative_to(folder))
        if day is None:
            raise PartitionError(
                f"{path}: a file of the daily folder {folder} must carry its day in its name "
                "(YYYY-MM-DD.parquet, or a YYYY-MM-DD/ folder)"
            )
        by_day.setdefault(day, []).append(path)
    kinds = {path.suffix for paths in by_day.values() for path in paths}
    if len(kinds) > 1:
        raise PartitionError(f"{folder}: daily files must all be Parquet or all CSV, found {sorted(kinds)}")
    return by_day


def restrict_to_days(sql: str, tables: Mapping[tuple[str, str], str], days: DayRange) -> str:
    """The query with every read of a partitioned table limited to `days`.

    `tables` maps `(schema, table)` to the column holding its partition day. Each reference becomes a subquery
    under the same alias, so the rest of the query reads as before; CTE names are never mistaken for tables.
    """
    expression = sqlglot.parse_one(sql, dialect=DIALECT)
    targets = {(schema.lower(), name.lower()): column for (schema, name), column in tables.items()}
    cte_names = {cte.alias_or_name.lower() for cte in expression.find_all(exp.CTE)}

    def rewrite(node: exp.Expr) -> exp.Expr:
        if not isinstance(node, exp.Table) or not node.db:
            return node
        if node.name.lower() in cte_names and not node.db:
            return node
        column = targets.get((node.db.lower(), node.name.lower()))
        if column is None:
            return node
        alias = node.alias or node.name
        table = exp.table_(node.name, db=node.db)
        condition = sqlglot.parse_one(days.sql(f'"{column}"'), dialect=DIALECT)
        inner = exp.select("*").from_(table).where(condition)
        return exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier(alias)))

    return expression.transform(rewrite).sql(dialect=DIALECT)


def output_restricted(sql: str, column: str, days: DayRange) -> str:
    """The query's rows whose partition column falls inside `days` (what a partial rebuild writes)."""
    return f"select * from ({sql}) as rebuilt where {days.sql(_quote(column))}"


def _quote(identifier: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", identifier):
        raise PartitionError(f"not a valid column name: {identifier!r}")
    return f'"{identifier}"'
