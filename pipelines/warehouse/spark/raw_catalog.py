"""Raw tables a connector already landed in the Spark catalog (FLYWHEEL_SPARK_RAW_TABLES, see
pipelines/spec/raw_catalog.py): what the preflight and the data horizon read from them instead of files.

The preflight lists every contract table whose catalog table is missing, by both names, before anything is written.
The horizon takes the latest connector sync (or, without one, the latest past date) of every table, as
`horizon.latest_sync` does over files, in one Spark query.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from pipelines.spec.raw_catalog import catalog_table_name
from pipelines.spec.sources import SourceTable
from pipelines.warehouse.horizon import vouching_columns
from pipelines.warehouse.spark.raw_load import missing_catalog_table
from pipelines.warehouse.spark.raw_sql import spark_identifier, spark_string

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def catalog_table_problems(session: SparkSession, pattern: str, tables: Sequence[SourceTable]) -> list[str]:
    """One line per contract table whose catalog table (named by `pattern`) does not exist."""
    problems = []
    for table in tables:
        name = catalog_table_name(pattern, table)
        if not session.catalog.tableExists(name):
            problems.append(missing_catalog_table(name, table))
    return problems


def _as_timestamp(column: str) -> str:
    """A raw value as a naive UTC timestamp, as `horizon._as_timestamp` reads one (the session runs in UTC): text
    with an offset is converted, a naive one is taken as UTC."""
    return f"cast(try_cast({spark_identifier(column)} as timestamp) as timestamp_ntz)"


def _vouched_sql(name: str, columns: Sequence[str], table: SourceTable, ceiling: str) -> str | None:
    """Spark SQL: the table's latest sync and latest past date no later than the ceiling; None when it has neither."""
    sync, past = vouching_columns(table, set(columns))

    def latest(column: str) -> str:
        return f"max({_as_timestamp(column)}) filter (where {_as_timestamp(column)} <= {ceiling})"

    if not past and sync is None:
        return None
    synced = latest(sync) if sync else "cast(null as timestamp_ntz)"
    dated = [latest(column) for column in past] or ["cast(null as timestamp_ntz)"]
    # Spark's greatest takes two arguments or more.
    dated_sql = f"greatest({', '.join(dated)})" if len(dated) > 1 else dated[0]
    quoted = ".".join(spark_identifier(part) for part in name.split("."))
    return f"select {synced} as synced, {dated_sql} as dated from {quoted}"


def latest_catalog_sync(
    session: SparkSession, pattern: str, tables: Sequence[SourceTable], ceiling: datetime
) -> datetime | None:
    """The latest time the catalog tables vouch for, no later than `ceiling`, as `horizon.latest_sync` computes it
    from files; None when they hold no time at all. A missing table is skipped (its raw load reports it)."""
    limit = f"cast({spark_string(ceiling.isoformat(sep=' '))} as timestamp_ntz)"
    selects = []
    for table in tables:
        name = catalog_table_name(pattern, table)
        if not session.catalog.tableExists(name):
            continue
        sql = _vouched_sql(name, session.table(name).columns, table, limit)
        if sql is not None:
            selects.append(sql)
    if not selects:
        return None
    rows = session.sql(" union all ".join(selects)).collect()
    vouched = [row["synced"] if row["synced"] is not None else row["dated"] for row in rows]
    return max((moment for moment in vouched if moment is not None), default=None)


@dataclass(frozen=True)
class SparkRawCatalog:
    """The raw tables of a run in a Spark session's catalog, as the data horizon reads them (`horizon.RawCatalog`)."""

    session: SparkSession
    pattern: str

    def latest_sync(self, tables: Sequence[SourceTable], ceiling: datetime) -> datetime | None:
        return latest_catalog_sync(self.session, self.pattern, tables, ceiling)
