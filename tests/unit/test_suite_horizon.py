"""`{"$horizon": "as_of_month"}`: a suite reads this run's data horizon from the warehouse when it runs.

The as-of time is not in the definitions file (it is the run's FLYWHEEL_AS_OF or latest connector sync), so a mart
suite saying "no month after the as-of month" reads it from `definitions.data_horizon`, the table models read.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from pipelines.warehouse.suites import SuiteError, run_suite, run_suite_on_table
from tests.unit.test_suites import make_suite

NOT_AFTER_THE_AS_OF_MONTH: list[dict[str, Any]] = [
    {
        "type": "expect_column_values_to_be_between",
        "description": "no month after the as-of month",
        "kwargs": {"column": "month", "max_value": {"$horizon": "as_of_month"}},
    }
]
MONTHS = pd.DataFrame({"month": pd.to_datetime(["2026-01-01", "2026-02-01", "2026-03-01"]).astype("datetime64[us]")})


def warehouse(as_of_month: str | None) -> duckdb.DuckDBPyConnection:
    """An in-memory warehouse with the mart `marts.rpt_months` and, unless None, a data horizon at that month."""
    connection = duckdb.connect()
    connection.execute("create schema marts")
    connection.register("months_frame", MONTHS)
    connection.execute("create table marts.rpt_months as select * from months_frame")
    if as_of_month is not None:
        connection.execute("create schema definitions")
        connection.execute(
            "create table definitions.data_horizon as "
            "select cast(? as date) as as_of_month, 'FLYWHEEL_AS_OF' as as_of_source",
            [as_of_month],
        )
    return connection


@pytest.mark.parametrize(("as_of_month", "after"), [("2026-03-01", 0), ("2026-02-01", 1), ("2026-01-01", 2)])
def test_the_as_of_month_is_read_from_the_warehouse_when_the_suite_runs(
    tmp_path: Path, as_of_month: str, after: int
) -> None:
    suite = make_suite(tmp_path, NOT_AFTER_THE_AS_OF_MONTH, model="marts.rpt_months")
    with warehouse(as_of_month) as connection:
        result = run_suite_on_table(suite, connection, "marts.rpt_months", {"version": 1}, ["month"])
    assert not result.broken, result.summary()
    (outcome,) = result.outcomes
    assert (result.success, outcome.unexpected_count) == (after == 0, after)


def test_a_frame_is_validated_against_the_horizon_the_caller_gives(tmp_path: Path) -> None:
    suite = make_suite(tmp_path, NOT_AFTER_THE_AS_OF_MONTH, model="marts.rpt_months")
    result = run_suite(suite, MONTHS, {"$horizon": {"as_of_month": date(2026, 2, 1)}}, ["month"])
    assert [outcome.sample_keys for outcome in result.outcomes] == [["2026-03-01 00:00:00"]]


def test_a_missing_horizon_table_names_it(tmp_path: Path) -> None:
    suite = make_suite(tmp_path, NOT_AFTER_THE_AS_OF_MONTH, model="marts.rpt_months")
    with warehouse(None) as connection, pytest.raises(SuiteError, match=r"definitions\.data_horizon is missing"):
        run_suite_on_table(suite, connection, "marts.rpt_months", {"version": 1}, ["month"])
