"""The comparison of a Spark build with a DuckDB build (pipelines/warehouse/spark/parity.py), on hand-made rows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pipelines.warehouse.spark.parity import compare_table

COLUMNS = [("id", "BIGINT"), ("amount_usd", "DECIMAL(38,4)"), ("at", "TIMESTAMP WITH TIME ZONE")]
SPARK_COLUMNS = [("id", "BIGINT"), ("amount_usd", "DOUBLE"), ("at", "TIMESTAMP")]


def test_equal_builds_agree_across_representations() -> None:
    duckdb_rows = [(1, Decimal("10.1000"), dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC)), (2, None, None)]
    spark_rows = [(2, None, None), (1, 10.1 + 1e-12, dt.datetime(2026, 1, 1, 12))]
    difference = compare_table("marts.t", COLUMNS, SPARK_COLUMNS, duckdb_rows, spark_rows, ["id"])
    assert difference.agrees, difference.summary()


def test_what_differs_is_named() -> None:
    big = 2**62
    duckdb_rows = [(big, Decimal("1"), None), (2, float("nan"), None), (3, Decimal("1"), None)]
    spark_rows = [(big + 1, 1.0, None), (2, None, None), (4, 1.0, None)]
    difference = compare_table("marts.t", COLUMNS, SPARK_COLUMNS, duckdb_rows, spark_rows, ["id"])
    assert (difference.missing_count, difference.extra_count, difference.differing_count) == (2, 2, 1)
    assert difference.value_problems == ["amount_usd at 2: 'NaN' vs None"]


def test_a_column_of_another_kind_is_a_problem() -> None:
    difference = compare_table("marts.t", [("id", "BIGINT")], [("id", "VARCHAR")], [], [], ["id"])
    assert difference.column_problems == ["id is BIGINT in DuckDB, VARCHAR in Spark"]
