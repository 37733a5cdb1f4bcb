"""Pandas-syntax row conditions as DuckDB SQL: each translation is run against rows worked out by hand."""

from __future__ import annotations

import duckdb
import pytest

from pipelines.spec.row_conditions import ConditionError, condition_sql

ROWS = """
    select * from (values
        ('a', 1, 5, true, 'Outbound', timestamp '2024-01-02'),
        ('b', 2, null, false, 'Inbound', null),
        ('c', null, 3, null, 'it''s', timestamp '2024-01-01')
    ) as leads(lead_id, score, fit, is_won, channel, mql_at)
"""


def matching(condition: str) -> list[str]:
    sql = condition_sql(condition)
    rows = duckdb.sql(f"select lead_id from ({ROWS}) where coalesce({sql}, false) order by lead_id").fetchall()
    return [row[0] for row in rows]


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("mql_at.notnull()", ["a", "c"]),
        ("mql_at.isna()", ["b"]),
        ("is_won == True", ["a"]),
        ("~is_won", ["b"]),
        ("not is_won", ["b"]),
        ("score > 1 and fit.notnull()", []),
        ("(score >= 2) | (fit < 4)", ["b", "c"]),
        ("fit > score", ["a"]),
        ("fit - score > 3", ["a"]),
        ("1 <= score < 2", ["a"]),
        ("channel in ['Outbound', \"it's\"]", ["a", "c"]),
        ("channel not in ('Outbound',)", ["b", "c"]),
        ("mql_at > '2024-01-01'", ["a"]),
        ("mql_at.isnull() | (mql_at > '2024-01-01')", ["a", "b"]),
    ],
)
def test_conditions_select_the_rows_pandas_would(condition: str, expected: list[str]) -> None:
    assert matching(condition) == expected


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ("is_won ==", "invalid syntax"),
        ("mql_at.dt.year == 2024", "has no SQL equivalent"),
        ("score.between(1, 2)", "only column.notnull"),
        ("channel in other_channel", "`in` needs a list"),
        ("score is None", "has no SQL equivalent"),
    ],
)
def test_conditions_without_sql_equivalent_say_which_part(condition: str, message: str) -> None:
    with pytest.raises(ConditionError, match=message):
        condition_sql(condition)


def test_a_difference_of_two_date_columns_is_a_number_of_days() -> None:
    """`later_date - earlier_date` is written as `date_diff('day', ...)`, which DuckDB and Spark both read as days."""
    sql = condition_sql("billing_started_date - closed_date <= 30")
    assert sql == '(date_diff(\'day\', "closed_date", "billing_started_date") <= 30)'
    rows = duckdb.sql(
        "select deal from (values ('on time', date '2026-01-01', date '2026-01-31'), "
        "('late', date '2026-01-01', date '2026-02-01')) as deals(deal, closed_date, billing_started_date) "
        f"where {sql}"
    ).fetchall()
    assert rows == [("on time",)]
