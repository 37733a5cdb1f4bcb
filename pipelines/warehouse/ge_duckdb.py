"""Great Expectations' SQL datasource on the build's own DuckDB connection.

The build holds the warehouse file's write lock, so Great Expectations cannot open the file itself (a second
`duckdb:///` engine on it fails); it must query through the connection the build already has. Three things stand in
the way, each handled here:

- GE runs each query in `with engine.connect()`, closes that connection, and only then reads the rows. Returning a
  connection to a SQLAlchemy pool rolls it back, and duckdb_engine's rollback (like its begin and commit) acts on
  the DuckDB connection, which throws the pending result away: GE reads an empty result (an IndexError). The
  connection GE gets here ignores begin, commit, rollback and close, so the rows are still there when GE reads them.
- GE's engine is built once per datasource, but each build has its own connection. The engine's only connection (a
  `StaticPool`) is a `_BorrowedConnection`: a stand-in that queries whichever DuckDB connection is lent to it for the
  duration of one validation.
- What GE leaves behind (a half-read result blocks the next query on a DuckDB 2.0 connection) must not reach the
  build. GE is lent a cursor of the build's connection: a second connection to the same open database (it sees the
  pending table, which the build has committed), closed after the validation, so the build's connection is exactly
  as it was.

Table assets drop the schema on DuckDB; query assets keep it, so each validation adds a query asset over the table
and removes it afterwards. Nothing here is imported at Dagster load time: GE's import costs seconds. The process's
one GE context (`ge_context`) also holds the Spark datasource (pipelines/warehouse/spark/suites.py).
"""

from __future__ import annotations

import functools
import itertools
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import duckdb

if TYPE_CHECKING:
    import great_expectations as gx
    from great_expectations.core import ExpectationSuiteValidationResult
    from great_expectations.datasource.fluent import SQLDatasource
    from great_expectations.expectations import Expectation

DATASOURCE = "flywheel_duckdb"
# A connection string only names the dialect: every query goes to the connection lent by `lend`.
_CONNECTION_STRING = "duckdb:///:memory:"

# One GE context and datasource per process (creating them is slow); validations are serialised because the
# borrowed connection and GE's execution engine (which keeps the batch being validated) are shared state.
_LOCK = threading.Lock()
_ASSET_NUMBERS = itertools.count()


class _BorrowedConnection:
    """A DB-API connection for duckdb_engine that queries the DuckDB connection lent to it and never ends it.

    Begin, commit, rollback and close are no-ops: GE only reads, and ending a transaction or closing would discard the
    result GE reads after closing its SQLAlchemy connection. Everything else (execute, fetch*, description) goes to
    the lent connection.
    """

    def __init__(self) -> None:
        self.lent: duckdb.DuckDBPyConnection | None = None

    def begin(self) -> None:
        """GE's reads need no transaction of their own."""

    def commit(self) -> None:
        """Nothing to commit: GE only reads."""

    def rollback(self) -> None:
        """Keep the pending result: GE reads it after returning the connection to the pool."""

    def close(self) -> None:
        """The lender closes its connection, not GE."""

    def __getattr__(self, name: str) -> Any:
        if self.lent is None:
            raise RuntimeError("no DuckDB connection is lent to Great Expectations (validate inside `lend`)")
        return getattr(self.lent, name)


_BORROWED = _BorrowedConnection()


@contextmanager
def lend(connection: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Let GE query the database of `connection` through a cursor of it, closed (with GE's leftovers) on exit."""
    cursor = connection.cursor()
    # Settings such as the time zone belong to each connection: GE sees timestamps the way the build does.
    (zone,) = connection.execute("select current_setting('TimeZone')").fetchone() or ("UTC",)
    cursor.execute(f"set TimeZone = '{zone}'")
    _BORROWED.lent = cursor
    try:
        yield
    finally:
        _BORROWED.lent = None
        cursor.close()


def _creator() -> Any:
    """The engine's one DB-API connection: duckdb_engine's wrapper (which adds cursors) around the borrowed one."""
    from duckdb_engine import ConnectionWrapper

    return ConnectionWrapper(_BORROWED)  # type: ignore[arg-type]


@functools.cache
def ge_context() -> gx.data_context.AbstractDataContext:
    """The process's one ephemeral Great Expectations context, shared by the DuckDB and Spark datasources (creating
    a context is slow)."""
    import great_expectations as gx

    # The type of `context.variables.progress_bars`: Great Expectations exports no public name for it.
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    # Progress bars would write a dozen carriage-return lines per suite into Dagster's captured logs.
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


@functools.cache
def _datasource() -> SQLDatasource:
    """The SQL datasource over the borrowed connection, in the process's one GE context.

    Created on first use, inside `lend` (adding a datasource tests its connection).
    """
    from sqlalchemy.pool import StaticPool

    context = ge_context()
    # `kwargs` go to SQLAlchemy's create_engine; GE's generated signature for add_sql does not list them.
    return context.data_sources.add_sql(  # type: ignore[call-arg]
        DATASOURCE, connection_string=_CONNECTION_STRING, kwargs={"creator": _creator, "poolclass": StaticPool}
    )


def validate_query(
    connection: duckdb.DuckDBPyConnection,
    query: str,
    suite_name: str,
    expectations: Sequence[Expectation],
    parameters: Mapping[str, Any],
    result_format: Mapping[str, Any],
) -> ExpectationSuiteValidationResult:
    """Validate the rows of `query` (run on `connection`'s database) with `expectations`, in one GE validation.

    `parameters` are GE suite parameters: an expectation kwarg `{"$PARAMETER": "name"}` takes `parameters["name"]`.
    The connection is usable as before afterwards, whatever GE did or raised.
    """
    import great_expectations as gx

    with _LOCK, lend(connection):
        datasource = _datasource()
        name = f"query_{next(_ASSET_NUMBERS)}"
        asset = datasource.add_query_asset(name, query=query)
        try:
            batch = asset.add_batch_definition_whole_table("whole_table").get_batch()
            suite = gx.ExpectationSuite(name=suite_name, expectations=list(expectations))
            return batch.validate(suite, expectation_parameters=dict(parameters), result_format=dict(result_format))
        finally:
            datasource.delete_asset(name)


def row_condition_is_true(column: str) -> Any:
    """A GE row condition: the rows where the boolean `column` of the validated query is true.

    Great Expectations 1.x builds conditions from `Column` objects (a string condition is deprecated) but exports no
    public name for `Column`: this is the only place that imports it.
    """
    from great_expectations.expectations.row_conditions import Column

    return Column(column) == True  # noqa: E712 (a GE condition, not a test)
