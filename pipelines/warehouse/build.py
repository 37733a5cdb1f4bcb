"""Building models write-audit-publish: a pending table built, then published or discarded.

Models are built into a pending table first, audited (pipelines/warehouse/audit.py), and only then swapped in, so a
model that fails its blocking checks leaves the last good table in place for everything that reads it. Connections
and table names are in pipelines/warehouse/connection.py. Loading raw files is in pipelines/warehouse/raw_load.py,
with its file readers (raw_files.py) and its bookkeeping (raw_audit.py).
"""

from __future__ import annotations

import duckdb

from pipelines.spec.models import Model
from pipelines.spec.partitions import DayRange
from pipelines.warehouse.audit import AssertionResult, evaluate_assertion
from pipelines.warehouse.connection import qualified, quote, table_columns

PENDING_PREFIX = "_pending__"
# The live table's name while a publish without transactions checks its replacement.
PREVIOUS_PREFIX = "_previous__"


def build_pending(connection: duckdb.DuckDBPyConnection, model: Model, body: str | None = None) -> str:
    """Build a model (or `body`, its SQL restricted to some days) into its pending table; returns the table's name."""
    pending = f"{PENDING_PREFIX}{model.name}"
    connection.execute(f"create schema if not exists {quote(model.schema)}")
    connection.execute(f"create or replace table {qualified(model.schema, pending)} as {body or model.body}")
    return pending


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
    if not getattr(connection, "supports_transactions", True):
        if days is not None:
            raise ValueError(f"{model.schema}.{model.name}: this engine rebuilds whole tables only, not some days")
        return _publish_by_renames(connection, model, pending)
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
            evaluate_assertion(connection, assertion, days if partial else None, lookback_days)
            for assertion in model.assertions
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


def _publish_by_renames(
    connection: duckdb.DuckDBPyConnection, model: Model, pending: str
) -> tuple[bool, list[AssertionResult]]:
    """Publish on an engine without transactions (Spark): the live table steps aside as `_previous__<name>` while
    the pending one takes its name; the assertions run against it, and a blocking failure, or an error, puts the
    previous one back.

    Readers see the new table or the previous one, never a half-written one. A crash between the renames leaves the
    last good table as `_previous__<name>` with no live table: the next publish of the model puts it back first.
    """
    name, previous_name = model.name, f"{PREVIOUS_PREFIX}{model.name}"
    target, previous = qualified(model.schema, name), qualified(model.schema, previous_name)
    had_previous = bool(table_columns(connection, model.schema, previous_name))
    if had_previous and not table_columns(connection, model.schema, name):  # left by a crash: the last good table
        connection.execute(f"alter table {previous} rename to {quote(name)}")
    connection.execute(f"drop table if exists {previous}")
    had_live = bool(table_columns(connection, model.schema, name))
    if had_live:
        connection.execute(f"alter table {target} rename to {quote(previous_name)}")
    try:
        connection.execute(f"alter table {qualified(model.schema, pending)} rename to {quote(name)}")
        results = [evaluate_assertion(connection, assertion) for assertion in model.assertions]
    except Exception:
        _put_back(connection, model, had_live)
        raise
    if all(result.passed for result in results if result.blocking):
        connection.execute(f"drop table if exists {previous}")
        return True, results
    _put_back(connection, model, had_live)
    return False, results


def _put_back(connection: duckdb.DuckDBPyConnection, model: Model, had_live: bool) -> None:
    """The live table set aside by `_publish_by_renames` back under its name, the rejected one dropped."""
    connection.execute(f"drop table if exists {qualified(model.schema, model.name)}")
    if had_live:
        previous = qualified(model.schema, f"{PREVIOUS_PREFIX}{model.name}")
        connection.execute(f"alter table {previous} rename to {quote(model.name)}")


def discard_pending(connection: duckdb.DuckDBPyConnection, model: Model, pending: str) -> None:
    connection.execute(f"drop table if exists {qualified(model.schema, pending)}")
