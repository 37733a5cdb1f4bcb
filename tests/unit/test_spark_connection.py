"""The Spark connection's statement handling that needs no Spark: what a DuckDB statement is taken as."""

from __future__ import annotations

import datetime as dt

from pipelines.warehouse.spark.connection import _bound, _renamed_to, duckdb_type_name


def test_parameters_are_bound_as_literals_and_variables_replaced() -> None:
    variables = {"horizon_latest": _bound("cast(? as timestamp)", [dt.datetime(2026, 1, 2, 3, 4, 5)], {})}
    statement = _bound("select ? as a, getvariable('horizon_latest') as b where c = ?", ["it's", 3], variables)
    assert statement.sql("duckdb") == (
        "SELECT 'it''s' AS a, CAST(CAST('2026-01-02 03:04:05' AS TIMESTAMP) AS TIMESTAMP) AS b WHERE c = 3"
    )


def test_an_unset_variable_reads_null() -> None:
    assert _bound("select getvariable('nothing')", None, {}).sql("duckdb") == "SELECT NULL"


def test_a_rename_names_its_new_table() -> None:
    assert _renamed_to(_bound('alter table "s"."_pending__t" rename to "t"', None, {})) == "t"  # type: ignore[arg-type]
    assert _renamed_to(_bound('alter table "s"."t" add column "c" integer', None, {})) == ""  # type: ignore[arg-type]


def test_spark_types_read_as_duckdb_type_names() -> None:
    assert [duckdb_type_name(name) for name in ("string", "bigint", "decimal(38,6)", "array<string>", "timestamp")] == [
        "VARCHAR",
        "BIGINT",
        "DECIMAL(38,6)",
        "VARCHAR[]",
        "TIMESTAMP WITH TIME ZONE",
    ]
