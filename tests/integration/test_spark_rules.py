"""The rewrite rules of pipelines/spec/spark_sql.py give DuckDB's values on Spark: each query runs on a few literal
rows in DuckDB and, transpiled, on the shared local Spark session (tests/spark_fixtures.py), and the rows agree.

Each query costs Spark a job (0.2-1 s), so the rules share a few queries.
"""

from __future__ import annotations

import datetime
import decimal
import math
from typing import TYPE_CHECKING, Any

import duckdb
import pytest

from pipelines.spec.spark_sql import to_spark

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

QUERIES: dict[str, str] = {
    "to_days and to_months": (
        "select timestamp '2020-01-31 10:00:00' + to_days(3) as in_three_days, "
        "timestamp '2020-01-31 10:00:00' + to_months(1) as in_a_month"
    ),
    "a generator inside a cast": (
        "select cast(unnest(generate_series(timestamp '2020-01-01', timestamp '2020-03-01', interval 1 month)) "
        "as date) as month"
    ),
    "quantile_cont": (
        "select quantile_cont(x, 0.5) as p50, quantile_cont(x, 0.9) filter (where x > 1) as p90 "
        "from (values (1.0), (2.0), (4.0), (10.0)) as t(x)"
    ),
    "epoch keeps fractions": (
        "select (epoch(timestamp '2020-01-01 00:00:00.25') - epoch(timestamp '2019-12-31 23:59:59')) / 60 as minutes"
    ),
    "qualify over select *": (
        "select * from (values (1, 'a', 2), (1, 'b', 1), (2, 'c', 5)) as t(id, name, version) "
        "qualify row_number() over (partition by id order by version desc) = 1"
    ),
    "date_diff counts boundaries": (
        "select date_diff('day', timestamp '2020-01-01 23:00:00', timestamp '2020-01-02 01:00:00') as days, "
        "date_diff('month', timestamp '2020-01-31 10:00:00', timestamp '2020-02-01 00:00:00') as months, "
        "date_diff('year', date '2019-12-31', date '2020-01-01') as years"
    ),
    "utc to reporting time": (
        "select cast(timestamp '2020-07-01 12:00:00' as timestamptz) at time zone 'America/New_York' as summer, "
        "cast(timestamp '2020-01-01 03:00:00' as timestamptz) at time zone 'America/New_York' as winter"
    ),
    "format, a distinct string_agg and regexps": (
        "select format('{:.2f} in {}', 1234.5, 'EUR') as text, "
        "string_agg(distinct c, ', ' order by c) filter (where c <> 'x') as currencies, "
        "string_agg(distinct c, ', ' order by c) filter (where c = 'none') as no_currency, "
        "regexp_replace(min(c), '[EU]', '', 'g') as replaced, "
        "count(*) filter (where regexp_full_match(c, 'E.R')) as full_matches, "
        "count(*) filter (where regexp_full_match(c, 'E')) as partial_matches "
        "from (values ('USD'), ('EUR'), ('EUR'), ('x')) as t(c)"
    ),
    "isfinite and a json cast": (
        "select not isfinite(try_cast(v as double)) as is_not_finite, "
        "json_extract_string(cast(j as json), '$.id') as id "
        "from (values ('1.5', '{\"id\": \"a\"}'), ('NaN', '{}'), ('-inf', '{\"id\": 2}'), (null, null)) as t(v, j)"
    ),
    "division, greatest and least": (
        "select cast(1 as decimal(38, 4)) / cast(3 as decimal(38, 4)) as ratio, 7 / 2 as half, -7 // 2 as floor, "
        "greatest(1, null) as greatest_of, least(null, 2) as least_of"
    ),
}


def comparable(value: Any) -> Any:
    """A value as both engines' Python results can equal it: decimals as floats, timestamps without a zone."""
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, datetime.datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    return value


def rows(result: list[Any]) -> list[tuple[Any, ...]]:
    """The rows as comparable tuples, sorted (neither engine promises an order)."""
    return sorted((tuple(comparable(value) for value in row) for row in result), key=repr)


@pytest.fixture(scope="module")
def duckdb_connection() -> duckdb.DuckDBPyConnection:
    """DuckDB as the warehouse runs it: in UTC."""
    connection = duckdb.connect()
    connection.execute("set TimeZone = 'UTC'")
    return connection


@pytest.mark.parametrize("rule", list(QUERIES))
def test_the_rule_gives_duckdbs_values_on_spark(
    rule: str, spark_session: SparkSession, duckdb_connection: duckdb.DuckDBPyConnection
) -> None:
    sql = QUERIES[rule]
    expected = rows(duckdb_connection.execute(sql).fetchall())
    actual = rows(spark_session.sql(to_spark(sql)).collect())
    if numeric(expected):
        assert flat(actual) == pytest.approx(flat(expected), rel=1e-12)
    else:
        assert actual == expected


def numeric(result: list[tuple[Any, ...]]) -> bool:
    """Whether every value is a number, so doubles may be compared within rounding."""
    return all(isinstance(value, (int, float)) and not isinstance(value, bool) for row in result for value in row)


def flat(result: list[tuple[Any, ...]]) -> list[Any]:
    """The values of every row, in order."""
    return [value for row in result for value in row]
