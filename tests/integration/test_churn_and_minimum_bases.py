"""Honest churn with one denominator, and minimum bases, on a company worked through by hand.

The written definitions (definitions.yml, `churn_eligibility` and `minimum_bases`):
- a customer paying at the start of a month is eligible to churn in it when its contract may end then (monthly: any
  month; annual: the month its 12-month term ends); a customer that churns in a month its contract did not allow
  (an annual contract cancelled mid-term) has churned, and is eligible in that month too; such churn is also
  counted on its own (churned_ineligible_customer_count);
- a ratio whose base is below the minimum of its family is null, reason "base below minimum"; a base exactly at the
  minimum is published. Here the minimums are 3 customers and $300 of MRR.

Prices: $100 per seat per month, or $1,200 per seat per year (= $100 a month). One seat each.
- SMB (accounts of 50 employees): A1 annual from 2025-01-10, cancelled mid-term on 2025-05-20; A2 annual from
  2025-01-12, cancelled mid-term on 2025-05-25; A3 monthly from 2025-01-15, still paying.
- Mid-Market (500 employees): B1 annual from 2025-01-08, ended at its term end on 2026-01-08; B2 monthly from
  2025-01-09, still paying (its last period starts 2026-02-09: the data ends in February 2026).

SMB, May 2025: paying at the start A1, A2, A3 = 3 customers, $300. A3 may end any month; A1 and A2 are mid-term
but churn, so they are eligible in May: eligible = 3, churned = 2, ineligible churn = 2.
honest = 2 / 3 (the old reading, 2 churned / 1 eligible, gave 2.0); naive = 2 / 3.
Bases: 3 customers = the minimum, $300 = the minimum: published. NRR = GRR = (300 - 200) / 300 = 1/3.
SMB, June 2025: only A3 pays at the start: 1 customer < 3, $100 < $300: every monthly rate null, "base below
minimum". SMB, April 2025: 3 customers, $300, nobody churns; A1, A2 mid-term: eligible = 1 < 3: honest rate null
("base below minimum") while the naive rate is 0 / 3 = 0.
Mid-Market, January 2026: B1 churns in its term-end month (eligible by its contract), B2 monthly: eligible = 2,
churned = 1, ineligible churn = 0; 2 customers < 3: the rates are null, "base below minimum".
Trailing 12 months, SMB, January 2026: paying in January 2025 were A1, A2, A3 = 3 customers, $300; now A3 $100:
NRR = 100 / 300 = 1/3 (at both minimums). Mid-Market, January 2026: B1, B2 = 2 customers: null, "base below minimum".
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from pipelines.spec.settings import Settings
from tests.conftest import materialize, settings_for
from tests.fixtures import definitions_with, query, write_raw
from tests.integration.test_mrr_and_retention import SELECTION, customer, item, price, subscription

MINIMUM_BASES = {"customers": 3, "mrr_usd": 300, "leads": 20}


def annual(name: str, start: str, ended: str | None) -> tuple[dict, dict]:
    status = "canceled" if ended else "active"
    return (
        subscription(f"sub_{name}", f"cus_{name}", status, f"{start} 10:00:00", f"{start} 10:00:00", ended=ended),
        item(f"si_{name}", f"sub_{name}", "price_Y", 1, f"{start} 10:00:00"),
    )


def monthly(name: str, start: str, period_start: str) -> tuple[dict, dict]:
    return (
        subscription(f"sub_{name}", f"cus_{name}", "active", f"{start} 10:00:00", f"{period_start} 10:00:00"),
        item(f"si_{name}", f"sub_{name}", "price_M", 1, f"{start} 10:00:00"),
    )


SUBSCRIPTIONS = [
    annual("A1", "2025-01-10", "2025-05-20 10:00:00"),
    annual("A2", "2025-01-12", "2025-05-25 10:00:00"),
    monthly("A3", "2025-01-15", "2026-01-15"),
    annual("B1", "2025-01-08", "2026-01-08 10:00:00"),
    monthly("B2", "2025-01-09", "2026-02-09"),
]

TABLES = {
    "salesforce.account": [
        {"id": f"001{name}", "number_of_employees": 50 if name.startswith("A") else 500}
        for name in ("A1", "A2", "A3", "B1", "B2")
    ],
    "stripe.price": [price("price_M", 10000, "month"), price("price_Y", 120000, "year")],
    "stripe.customer": [
        customer(f"cus_{name}", f"001{name}", "2025-01-05 09:00:00") for name in ("A1", "A2", "A3", "B1", "B2")
    ],
    "stripe.subscription": [pair[0] for pair in SUBSCRIPTIONS],
    "stripe.subscription_item": [pair[1] for pair in SUBSCRIPTIONS],
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    tmp_path = tmp_path_factory.mktemp("churn_hand_worked")
    settings = settings_for(
        tmp_path,
        write_raw(tmp_path / "raw", TABLES),
        definitions_file=definitions_with(tmp_path, minimum_bases=MINIMUM_BASES),
    )
    result = materialize(settings, SELECTION)
    assert result.success
    assert all(check.passed for check in result.get_asset_check_evaluations())
    yield settings


def retention(settings: Settings, segment: str, mrr_month: str) -> pd.Series:
    frame = query(
        settings,
        f"select * from marts.rpt_retention_monthly where segment = '{segment}' and mrr_month = '{mrr_month}-01'",
    )
    assert len(frame) == 1
    return frame.iloc[0]


def test_mid_term_cancellations_are_churn_and_eligible(built: Settings) -> None:
    """SMB, May 2025: eligible = A3 (monthly) + A1, A2 (churned mid-term) = 3; honest = 2 / 3, never 2 / 1."""
    may = retention(built, "SMB", "2025-05")
    assert (may["starting_customer_count"], may["eligible_customer_count"]) == (3, 3)
    assert (may["churned_customer_count"], may["churned_ineligible_customer_count"]) == (2, 2)
    assert may["honest_logo_churn_rate"] == pytest.approx(2 / 3)
    assert may["naive_logo_churn_rate"] == pytest.approx(2 / 3) and may["churn_rate_gap"] == pytest.approx(0)
    facts = query(built, "select * from marts.fct_mrr_customer_months where mrr_month = '2025-05-01'")
    early = facts.set_index("customer_id").loc[["cus_A1", "cus_A2"]]
    assert list(early["movement"]) == ["churn", "churn"]
    assert list(early["is_churn_eligible"]) == [True, True] and list(early["is_contract_end_month"]) == [False, False]


def test_no_churn_rate_exceeds_one(built: Settings) -> None:
    """Churned customers are a subset of the eligible ones in every row, so no honest rate is above 1."""
    rows = query(built, "select * from marts.rpt_retention_monthly")
    assert (rows["churned_customer_count"] <= rows["eligible_customer_count"]).all()
    assert (rows["honest_logo_churn_rate"].dropna() <= 1).all()


def test_annual_contract_ending_at_its_term_end(built: Settings) -> None:
    """Mid-Market, January 2026: B1 churns in its term-end month: eligible by contract, no ineligible churn."""
    january = retention(built, "Mid-Market", "2026-01")
    assert (january["eligible_customer_count"], january["churned_customer_count"]) == (2, 1)
    assert january["churned_ineligible_customer_count"] == 0
    b1 = query(
        built, "select * from marts.fct_mrr_customer_months where customer_id = 'cus_B1' and mrr_month = '2026-01-01'"
    ).iloc[0]
    assert b1["movement"] == "churn" and b1["is_contract_end_month"] and b1["is_churn_eligible"]


def test_a_ratio_exactly_at_its_minimum_base_is_published(built: Settings) -> None:
    """SMB, May 2025: 3 customers and $300 at the start, both exactly the minimum: NRR = GRR = 100 / 300."""
    may = retention(built, "SMB", "2025-05")
    assert may["nrr"] == pytest.approx(1 / 3) and may["grr"] == pytest.approx(1 / 3)
    assert may["revenue_churn_rate"] == pytest.approx(2 / 3)
    assert pd.isna(may["monthly_rates_null_reason"]) and pd.isna(may["honest_churn_rate_null_reason"])
    # Trailing 12 months, SMB, January 2026: A1, A2, A3 paid $300 in January 2025; A3 pays $100 now.
    january = retention(built, "SMB", "2026-01")
    assert january["trailing_12_month_nrr"] == pytest.approx(1 / 3)
    assert pd.isna(january["trailing_12_month_null_reason"])


def test_a_ratio_below_its_minimum_base_is_null_with_the_reason(built: Settings) -> None:
    """Fewer customers (or less MRR) than the minimum: null, "base below minimum"."""
    june = retention(built, "SMB", "2025-06")  # A3 alone: 1 customer, $100
    assert pd.isna(june["nrr"]) and pd.isna(june["grr"]) and pd.isna(june["naive_logo_churn_rate"])
    assert pd.isna(june["seat_churn_rate"]) and pd.isna(june["revenue_churn_rate"])
    assert june["monthly_rates_null_reason"] == "base below minimum"
    april = retention(built, "SMB", "2025-04")  # 3 paying, only A3 eligible (A1, A2 mid-term, not churning)
    assert april["naive_logo_churn_rate"] == 0 and april["eligible_customer_count"] == 1
    assert pd.isna(april["honest_logo_churn_rate"]) and april["honest_churn_rate_null_reason"] == "base below minimum"
    mid_market = retention(built, "Mid-Market", "2026-01")  # B1, B2: 2 customers
    assert pd.isna(mid_market["honest_logo_churn_rate"]) and pd.isna(mid_market["nrr"])
    assert mid_market["monthly_rates_null_reason"] == "base below minimum"
    assert pd.isna(mid_market["trailing_12_month_nrr"])
    assert mid_market["trailing_12_month_null_reason"] == "base below minimum"


def test_the_project_minimums_are_in_the_thresholds_table(built: Settings) -> None:
    thresholds = query(built, "select * from definitions.thresholds").iloc[0]
    assert (thresholds["minimum_bases__customers"], thresholds["minimum_bases__mrr_usd"]) == (3, 300)
    assert Path(built.definitions_file).exists()
