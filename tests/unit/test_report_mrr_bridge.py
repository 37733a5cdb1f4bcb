"""The KPI report's MRR bridge shows the exchange-rate effect as its own step and says what discounts took off.

One month, two segments: starting 1,000 + new 200 + expansion 50 - contraction 30 - churned 100 + fx 12 = ending
1,132; discounts of 80 in force at the close. A month billed only in USD (fx 0, no discount) keeps the old bridge.
"""

from __future__ import annotations

from datetime import date

import duckdb

from pipelines.docs.report import _discounts, _waterfall, _waterfall_title

MONTH = date(2026, 2, 1)


def bridge_table(fx: float, discounts: float) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    connection.execute("create schema marts")
    connection.execute(
        """
        create table marts.rpt_mrr_movements_monthly as
        select * from (values
            (date '2026-02-01', 'SMB', 600.0, 200.0, 50.0, 0.0, 30.0, 100.0, ? / 2, 732.0, ? / 2),
            (date '2026-02-01', 'Mid-Market', 400.0, 0.0, 0.0, 0.0, 0.0, 0.0, ? / 2, 400.0, ? / 2)
        ) as bridge(mrr_month, segment, starting_mrr_usd, new_mrr_usd, expansion_mrr_usd, reactivation_mrr_usd,
            contraction_mrr_usd, churned_mrr_usd, fx_mrr_usd, ending_mrr_usd, discount_mrr_usd)
        """,
        [fx, discounts, fx, discounts],
    )
    return connection


def test_the_bridge_has_an_fx_step_and_adds_up() -> None:
    with bridge_table(12.0, 80.0) as connection:
        steps = _waterfall(connection, MONTH)
        assert [label for label, _ in steps] == [
            "Starting", "New", "Expansion", "Reactivation", "Contraction", "Churned", "FX", "Ending"
        ]  # fmt: skip
        assert dict(steps)["FX"] == 12.0
        assert sum(value for _, value in steps[:-1]) == 1_132.0 == 1_000 + 200 + 50 - 30 - 100 + 12
        assert _waterfall_title(MONTH, _discounts(connection, MONTH)) == (
            "MRR bridge, Feb 2026, all segments (after $80 of discounts)"
        )


def test_a_bridge_in_usd_only_has_no_fx_step() -> None:
    with bridge_table(0.0, 0.0) as connection:
        assert "FX" not in dict(_waterfall(connection, MONTH))
        assert _waterfall_title(MONTH, _discounts(connection, MONTH)) == "MRR bridge, Feb 2026, all segments"
