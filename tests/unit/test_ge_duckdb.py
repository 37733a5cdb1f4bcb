"""Great Expectations' SQL datasource on a live DuckDB connection: results, broken expectations, the connection after.

Without the borrowed connection GE reads each result after closing its connection, which rolls DuckDB back and
empties the result: these tests fail with an IndexError or empty results.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pytest

from pipelines.warehouse.ge_duckdb import validate_query

SUMMARY: dict[str, Any] = {
    "result_format": "SUMMARY",
    "partial_unexpected_count": 5,
    "unexpected_index_column_names": ["lead_id"],
}


@pytest.fixture
def connection() -> duckdb.DuckDBPyConnection:
    """A warehouse with ten leads L0..L9 scored 0..9; the fit score of L0, L3, L6 and L9 is unknown."""
    connection = duckdb.connect()
    connection.execute("create schema intermediate")
    connection.execute(
        "create table intermediate.leads as select 'L' || i as lead_id, i as score, "
        "case when i % 3 = 0 then null else i end as fit_score from range(10) as numbers(i)"
    )
    return connection


def results(validation: Any) -> dict[str, Any]:
    return {result.expectation_config.kwargs["column"]: result for result in validation.results}


def test_passing_and_failing_expectations_with_a_suite_parameter(connection: duckdb.DuckDBPyConnection) -> None:
    import great_expectations as gx

    expectations = [
        gx.expectations.ExpectColumnValuesToBeBetween(column="score", min_value={"$PARAMETER": "threshold"}),
        gx.expectations.ExpectColumnValuesToNotBeNull(column="lead_id"),
    ]
    validation = validate_query(
        connection, "select * from intermediate.leads", "leads", expectations, {"threshold": 7}, SUMMARY
    )
    by_column = results(validation)
    below = by_column["score"]
    assert (below.success, below.result["unexpected_count"], below.result["element_count"]) == (False, 7, 10)
    assert {row["lead_id"] for row in below.result["partial_unexpected_index_list"]} <= {f"L{i}" for i in range(7)}
    assert by_column["lead_id"].success is True
    # The same suite with another parameter value: the threshold comes from the caller, not the expectation.
    again = validate_query(
        connection, "select * from intermediate.leads", "leads", expectations, {"threshold": 0}, SUMMARY
    )
    assert results(again)["score"].success is True


def test_the_connection_stays_usable_and_unchanged(connection: duckdb.DuckDBPyConnection) -> None:
    import great_expectations as gx

    connection.execute("set TimeZone = 'America/New_York'")
    expectations = [gx.expectations.ExpectColumnValuesToNotBeNull(column="fit_score")]
    validation = validate_query(connection, "select * from intermediate.leads", "fit", expectations, {}, SUMMARY)
    assert results(validation)["fit_score"].result["unexpected_count"] == 4
    assert connection.execute("select count(*) from intermediate.leads").fetchone() == (10,)
    connection.execute("begin transaction")
    connection.execute("insert into intermediate.leads values ('L10', 10, 10)")
    connection.execute("commit")
    assert connection.execute("select current_setting('TimeZone')").fetchone() == ("America/New_York",)


def test_an_expectation_that_raises_is_reported_with_its_exception(connection: duckdb.DuckDBPyConnection) -> None:
    import great_expectations as gx

    expectations = [
        gx.expectations.ExpectColumnValuesToNotBeNull(column="no_such_column"),
        gx.expectations.ExpectColumnValuesToNotBeNull(column="lead_id"),
    ]
    validation = validate_query(connection, "select * from intermediate.leads", "broken", expectations, {}, SUMMARY)
    by_column = results(validation)
    assert by_column["no_such_column"].success is False
    assert "no_such_column" in str(by_column["no_such_column"].exception_info)
    assert by_column["lead_id"].success is True
    assert connection.execute("select count(*) from intermediate.leads").fetchone() == (10,)
