"""A suite, a grain check and a cross-model assertion give the same result on Spark as on DuckDB.

One small table (seven leads, worked out by hand below) is loaded into both engines from the same SQL text, and a
suite with passing and failing expectations of every kind the project's suites use (not null, null, in set, not in
set, between, unique, compound unique, regex, column pairs, row conditions, `$definition` and `$horizon` references)
is validated on each: the SuiteResults (verdict, per-expectation outcome, counts and sample keys) are equal, but for
the failing keys of compound uniqueness, which Great Expectations looks up on Spark only. Every Spark query costs a
fraction of a second, so the tests are few and share one session.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import duckdb
import pytest
import sqlglot
from sqlglot import exp

from pipelines.spec.models import Assertion
from pipelines.spec.partitions import DayRange
from pipelines.warehouse import audit
from pipelines.warehouse.audit import check_grain, evaluate_assertion, keys_kept_elsewhere
from pipelines.warehouse.connection import ColumnInfo
from pipelines.warehouse.suites import SuiteResult, run_suite_on_table
from tests.unit.test_suites import make_suite

pytest.importorskip("pyspark", reason="pyspark is not installed: the Spark engine's tests need it")

TABLE = "intermediate.int_leads_checked"
GRAIN = ["lead_id", "month"]

# L3 breaks most rules (a score under the threshold though won, an unknown reason, an untrimmed source key, a month
# after the data horizon, 2026-02-01); L4 has no score and an MQL before its creation; the last row repeats L4's id
# in another month, with a source outside the mapping.
LEADS_SQL = """
select lead_id, cast(month as date) as month, score, channel, lead_source_key, rejection_reason,
    cast(created_at as timestamp) as created_at, cast(mql_at as timestamp) as mql_at, is_won, amount_usd
from (values
    ('L1', '2026-01-01', 45, 'Inbound', 'web', null, '2026-01-02 08:00:00', '2026-01-03 09:30:00', true, 100.5),
    ('L2', '2026-02-01', 30, 'Outbound', 'outbound', 'Not ICP', '2026-02-02 00:00:00', null, false, 0.0),
    ('L3', '2026-03-01', 12, 'Inbound', 'Web ', 'Bogus', '2026-03-05 10:00:00', '2026-03-06 10:00:00', true, -5.25),
    ('L4', '2026-01-01', null, 'Outbound', 'outbound', null, '2026-01-10 00:00:00', '2026-01-09 00:00:00', null, 7.0),
    ('L5', '2026-02-01', 60, 'Inbound', null, 'Timing', '2026-02-03 00:00:00', '2026-02-03 00:00:00', false, 12.0),
    ('L6', '2026-01-01', 41, 'Inbound', 'web', null, '2026-01-04 00:00:00', '2026-01-05 00:00:00', true, 1.0),
    ('L4', '2026-02-01', 55, 'Partner', 'partner', null, '2026-02-10 00:00:00', null, false, 3.0)
) as leads(lead_id, month, score, channel, lead_source_key, rejection_reason, created_at, mql_at, is_won, amount_usd)
"""
HORIZON_SQL = "select cast('2026-02-01' as date) as as_of_month, 'FLYWHEEL_AS_OF' as as_of_source"

DEFINITIONS: dict[str, Any] = {
    "version": 1,
    "mql": {"score_threshold": 40},
    "rejection_reasons": ["No Budget", "Not ICP", "Timing"],
    "channels": {"lead_sources": {"web": "Inbound", "outbound": "Outbound"}},
}


def expectation(kind: str, description: str, **kwargs: Any) -> dict[str, Any]:
    return {"type": kind, "description": description, "kwargs": kwargs}


def when(condition: str) -> dict[str, str]:
    return {"row_condition": condition, "condition_parser": "pandas"}


THRESHOLD = {"$definition": "mql__score_threshold"}
EXPECTATIONS: list[dict[str, Any]] = [
    expectation("expect_column_values_to_not_be_null", "every lead has a score", column="score"),
    expectation("expect_column_values_to_be_null", "no unwon lead has an MQL time", column="mql_at", **when("~is_won")),
    expectation(
        "expect_column_values_to_be_in_set",
        "every rejection reason is in the taxonomy",
        column="rejection_reason",
        value_set={"$definition": "rejection_reasons"},
    ),
    expectation("expect_column_values_to_not_be_in_set", "no test channel", column="channel", value_set=["Test"]),
    expectation(
        "expect_column_values_to_be_between",
        "every won lead met the threshold",
        column="score",
        min_value=THRESHOLD,
        **when("is_won == True"),
    ),
    expectation(
        "expect_column_values_to_be_between",
        "scores above the threshold are strictly above it",
        column="score",
        min_value=THRESHOLD,
        strict_min=True,
        **when("score >= @mql__score_threshold"),
    ),
    expectation(
        "expect_column_values_to_be_between",
        "no month after the as-of month",
        column="month",
        max_value={"$horizon": "as_of_month"},
    ),
    expectation("expect_column_values_to_be_unique", "a lead id appears once", column="lead_id"),
    expectation(
        "expect_compound_columns_to_be_unique", "one lead per channel and month", column_list=["channel", "month"]
    ),
    expectation(
        "expect_column_values_to_not_match_regex",
        "source keys are trimmed and lowercased",
        column="lead_source_key",
        regex="^\\s|\\s$|[A-Z]",
    ),
    expectation("expect_column_values_to_match_regex", "ids are L and a digit", column="lead_id", regex="^L\\d$"),
    expectation(
        "expect_column_pair_values_to_be_in_set",
        "every source gets its mapped channel",
        column_A="lead_source_key",
        column_B="channel",
        value_pairs_set={"$definition": "channels__lead_sources", "$pairs": True},
    ),
    expectation(
        "expect_column_pair_values_a_to_be_greater_than_b",
        "an MQL never precedes creation",
        column_A="mql_at",
        column_B="created_at",
        or_equal=True,
        ignore_row_if="either_value_is_missing",
    ),
    expectation(
        "expect_column_pair_values_to_be_equal",
        "an MQL is created on the day it scores",
        column_A="mql_at",
        column_B="created_at",
        ignore_row_if="either_value_is_missing",
        **when("lead_id == 'L5'"),
    ),
]

# What every expectation finds on the rows above, worked out by hand: (success, unexpected count, rows read, sample
# keys). Under a row condition only the rows meeting it are read.
FOUND: dict[str, tuple[bool, int, int, list[str]]] = {
    "every lead has a score": (False, 1, 7, ["L4 | 2026-01-01"]),
    "no unwon lead has an MQL time": (False, 1, 3, ["L5 | 2026-02-01"]),
    "every rejection reason is in the taxonomy": (False, 1, 7, ["L3 | 2026-03-01"]),
    "no test channel": (True, 0, 7, []),
    "every won lead met the threshold": (False, 1, 3, ["L3 | 2026-03-01"]),
    "scores above the threshold are strictly above it": (True, 0, 4, []),
    "no month after the as-of month": (False, 1, 7, ["L3 | 2026-03-01"]),
    "a lead id appears once": (False, 2, 7, ["L4 | 2026-01-01", "L4 | 2026-02-01"]),
    # Great Expectations' SQL engine looks up no keys for compound uniqueness; its Spark engine does (L1 and L6).
    "one lead per channel and month": (False, 2, 7, []),
    "source keys are trimmed and lowercased": (False, 1, 7, ["L3 | 2026-03-01"]),
    "ids are L and a digit": (True, 0, 7, []),
    "every source gets its mapped channel": (False, 3, 7, ["L3 | 2026-03-01", "L4 | 2026-02-01", "L5 | 2026-02-01"]),
    "an MQL never precedes creation": (False, 1, 7, ["L4 | 2026-01-01"]),
    "an MQL is created on the day it scores": (True, 0, 1, []),
}
COMPOUND_KEYS_ON_SPARK = {"one lead per channel and month": ["L1 | 2026-01-01", "L6 | 2026-01-01"]}


def spark_sql(sql: str) -> str:
    return sqlglot.transpile(sql, read="duckdb", write="spark")[0]


@pytest.fixture(scope="module")
def duckdb_warehouse() -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB warehouse with the leads and the data horizon."""
    connection = duckdb.connect()
    connection.execute("set TimeZone = 'UTC'")
    for schema in ("intermediate", "definitions"):
        connection.execute(f"create schema {schema}")
    connection.execute(f"create table {TABLE} as {LEADS_SQL}")
    connection.execute(f"create table definitions.data_horizon as {HORIZON_SQL}")
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def spark(spark_session: Any) -> Any:
    """The shared session with the same tables, written as Parquet like a Spark build writes them."""
    for schema in ("intermediate", "definitions"):
        spark_session.sql(f"create database if not exists {schema}")
    for table, sql in ((TABLE, LEADS_SQL), ("definitions.data_horizon", HORIZON_SQL)):
        spark_session.sql(f"drop table if exists {table}")
        spark_session.sql(f"create table {table} using parquet as {spark_sql(sql)}")
    return spark_session


def found(result: SuiteResult) -> dict[str, tuple[bool, int, int, list[str]]]:
    return {
        outcome.description: (outcome.success, outcome.unexpected_count, outcome.element_count, outcome.sample_keys)
        for outcome in result.outcomes
    }


@pytest.mark.parametrize("driver_rows", [0, 100], ids=["spark_engine", "read_to_the_driver"])
def test_a_suite_gives_the_same_result_on_spark_as_on_duckdb(
    tmp_path: Path, duckdb_warehouse: duckdb.DuckDBPyConnection, spark: Any, driver_rows: int
) -> None:
    """Validated by GE's Spark engine where the rows are, or (a small result) by its pandas engine on the driver."""
    from pipelines.warehouse.spark.suites import run_suite_on_spark

    suite = make_suite(tmp_path, EXPECTATIONS, model=TABLE)
    on_duckdb = run_suite_on_table(suite, duckdb_warehouse, TABLE, DEFINITIONS, GRAIN)
    assert found(on_duckdb) == FOUND
    on_spark = run_suite_on_spark(suite, spark, TABLE, DEFINITIONS, GRAIN, driver_rows=driver_rows)
    assert (on_spark.success, on_spark.broken) == (on_duckdb.success, on_duckdb.broken) == (False, False)
    outcomes = [
        dataclasses.replace(outcome, sample_keys=COMPOUND_KEYS_ON_SPARK.get(outcome.description, outcome.sample_keys))
        for outcome in on_duckdb.outcomes
    ]
    assert list(on_spark.outcomes) == outcomes


# --- Grain checks and cross-model assertions: the same SQL through a DuckDB-connection look-alike on Spark ----------


class _Result:
    def __init__(self, rows: list[tuple[Any, ...]]) -> None:
        self.rows = rows

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self.rows

    def fetchone(self) -> tuple[Any, ...] | None:
        return self.rows[0] if self.rows else None


class StandInConnection:
    """The calls the audit makes of a connection (`execute(sql, parameters)`, then `fetchall`/`fetchone`; a table's
    columns from the engine's catalog), answered on Spark with each statement transpiled and `?` bound as literals."""

    def __init__(self, session: Any) -> None:
        self.session = session

    def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> _Result:
        values = iter(parameters or ())
        statement = sqlglot.parse_one(sql, read="duckdb").transform(
            lambda node: exp.convert(next(values)) if isinstance(node, exp.Placeholder) else node
        )
        return _Result([tuple(row) for row in self.session.sql(spark_sql(statement.sql("duckdb"))).collect()])

    def table_columns(self, schema: str, table: str) -> list[ColumnInfo]:
        if not self.session.catalog.tableExists(f"{schema}.{table}"):
            return []
        return [
            ColumnInfo(field.name, field.dataType.simpleString())
            for field in self.session.table(f"{schema}.{table}").schema
        ]


@pytest.fixture
def spark_connection(spark: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A warehouse connection on Spark: the project's SparkConnection where it exists, else the stand-in above.

    Spark has no information_schema: the audit reads a table's columns from the connection's own catalog."""
    try:
        from pipelines.warehouse.spark.connection import SparkConnection
    except ImportError:
        SparkConnection = StandInConnection
    original = audit.table_columns

    def own_catalog_first(connection: Any, schema: str, table: str) -> list[ColumnInfo]:
        if hasattr(connection, "table_columns"):
            return [ColumnInfo(column.name, column.type) for column in connection.table_columns(schema, table)]
        return original(connection, schema, table)

    monkeypatch.setattr(audit, "table_columns", own_catalog_first)
    return SparkConnection(spark)


# Events as a partial rebuild sees them: the live table and the rebuilt days (pending). E2 and E4 are duplicated (E4
# three times), E6 and a row without an id have a null part; E3 is re-delivered on 2026-01-05 (pending), while the
# live table keeps it on the 1st: under the grain of the events (id and send time) it would be duplicated.
EVENTS_SQL = """
select event_id, cast(event_date as date) as event_date, cast(sent_at as timestamp) as sent_at, amount_usd
from (values
    ('E1', '2026-01-01', '2026-01-01 10:00:00', 1.5),
    ('E2', '2026-01-02', '2026-01-02 10:00:00.25', 2.0),
    ('E2', '2026-01-02', '2026-01-02 10:00:00.25', 2.0),
    ('E4', '2026-01-03', '2026-01-03 00:00:00', 3.0),
    ('E4', '2026-01-03', '2026-01-03 00:00:00', 4.0),
    ('E4', '2026-01-03', '2026-01-03 00:00:00', 5.0),
    (null, '2026-01-04', '2026-01-04 00:00:00', 6.0),
    ('E6', null, '2026-01-04 00:00:00', 7.0),
    ('E3', '2026-01-01', '2026-01-01 09:00:00', -1.0)
) as events(event_id, event_date, sent_at, amount_usd)
"""
PENDING_SQL = """
select event_id, cast(event_date as date) as event_date, cast(sent_at as timestamp) as sent_at, amount_usd
from (values ('E3', '2026-01-05', '2026-01-01 09:00:00', -1.0), ('E7', '2026-01-05', '2026-01-05 08:00:00', 9.0))
    as events(event_id, event_date, sent_at, amount_usd)
"""
EVENT_GRAIN = ("event_id", "event_date", "sent_at")
# Breaking rows of a rule, deliberately not in key order, more than the five samples.
NEGATIVE_OR_SMALL = Assertion(
    name="assert_amounts_are_large",
    description="no event below 5 USD",
    sql="select event_id, amount_usd, event_date from marts.fct_events where amount_usd < 5 or event_id is null",
    upstream=(),
    count_by="event_date",
)


def audit_results(connection: Any) -> tuple[Any, ...]:
    model = SimpleNamespace(schema="marts", name="fct_events", grain=("event_id", "sent_at"))
    return (
        check_grain(connection, "marts", "fct_events", EVENT_GRAIN),
        keys_kept_elsewhere(
            connection, model, "fct_events_pending", "event_date", DayRange.parse("2026-01-05", "2026-01-05")
        ),
        evaluate_assertion(connection, NEGATIVE_OR_SMALL),
    )


def test_grain_checks_and_assertions_give_the_same_result_on_spark_as_on_duckdb(spark_connection: Any) -> None:
    with duckdb.connect() as connection:
        connection.execute("create schema marts")
        connection.execute(f"create table marts.fct_events as {EVENTS_SQL}")
        connection.execute(f"create table marts.fct_events_pending as {PENDING_SQL}")
        on_duckdb = audit_results(connection)
    spark = spark_connection.session
    spark.sql("create database if not exists marts")
    for table, sql in (("marts.fct_events", EVENTS_SQL), ("marts.fct_events_pending", PENDING_SQL)):
        spark.sql(f"drop table if exists {table}")
        spark.sql(f"create table {table} using parquet as {spark_sql(sql)}")

    grain, kept, assertion = on_duckdb
    assert (grain.duplicate_count, grain.null_count) == (2, 2)
    assert grain.duplicate_samples == [
        "E4 | 2026-01-03 | 2026-01-03 00:00:00",
        "E2 | 2026-01-02 | 2026-01-02 10:00:00.25",
    ]
    assert grain.null_samples == ["E6 | NULL | 2026-01-04 00:00:00", "NULL | 2026-01-04 | 2026-01-04 00:00:00"]
    assert kept == (1, ["E3 | 2026-01-01 09:00:00"])
    assert (assertion.violation_count, assertion.counts) == (
        7,
        {"2026-01-01": 2, "2026-01-02": 2, "2026-01-03": 2, "2026-01-04": 1},
    )
    assert assertion.samples == [
        "E1 | 1.5 | 2026-01-01",
        "E2 | 2.0 | 2026-01-02",
        "E2 | 2.0 | 2026-01-02",
        "E3 | -1.0 | 2026-01-01",
        "E4 | 3.0 | 2026-01-03",
    ]
    assert audit_results(spark_connection) == on_duckdb


def test_the_counts_pass_on_spark_lists_no_failing_values_and_the_samples_pass_keeps_its_format() -> None:
    from pipelines.warehouse.spark.suites import _counts_only
    from pipelines.warehouse.suite_run import COUNTS_FORMAT, SAMPLES_FORMAT

    assert _counts_only(COUNTS_FORMAT) == {**COUNTS_FORMAT, "partial_unexpected_count": 0}
    assert _counts_only(SAMPLES_FORMAT) == SAMPLES_FORMAT
