"""Values of the KPI report: how a cell is printed, the month arithmetic of its trends, and its one way to query."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date

import duckdb

# How many months the report's trend charts show, ending with the report's month.
TREND_MONTHS = 24


def is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def format_value(value: object, kind: str) -> str:
    """A scorecard cell as the report prints it; a null is an en dash."""
    if is_missing(value):
        return "\u2013"
    number = float(value)  # type: ignore[arg-type]
    if kind == "usd":
        return f"-${-number:,.0f}" if number < 0 else f"${number:,.0f}"
    if kind == "pct":
        return f"{number * 100:.1f}%"
    if kind == "int":
        return f"{int(number):,}"
    return f"{number:,.2f}"


def rows(connection: duckdb.DuckDBPyConnection, sql: str, parameters: Sequence[object] = ()) -> list[tuple]:
    return connection.execute(sql, list(parameters)).fetchall()


def add_months(month: date, months: int) -> date:
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_label(month: date) -> str:
    return f"{month:%b %Y}"
