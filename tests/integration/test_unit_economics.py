"""Unit economics worked out by hand: spend by channel and segment, CAC, cost per MQL / sales-qualified lead, ARPA,
CAC payback, LTV and LTV:CAC, in marts.rpt_unit_economics_monthly and marts.rpt_unit_economics_segments_monthly.

Definitions in force are the project's (`definitions.yml`): unit_economics__gross_margin 0.8,
unit_economics__max_lifetime_months 60; MQL at a lead score of 40 with a fit of at least 20. Every lead below but
L8 has fit 50 (Software, 50-5000 employees, United States) and one pricing-page visit (15 points): 65, an MQL at the
visit. Segments: SMB 1-99 employees, Mid-Market
100-999, Enterprise 1000+.

Ad spend (all USD), channel from the campaign's UTM source + medium, else its source, else the default:
- google / cpc ('google cpc' -> Paid Search): Jan 5 $1,000 + Jan 20 $500 = $1,500; Feb 3 $1,200; Mar 2 $800.
- linkedin / paid_social ('linkedin paid_social' unmapped, 'linkedin' -> Paid Social): Jan 10 $900; Feb 14 $600.
- bing / cpc (unmapped both ways -> Unattributed): Mar 9 $100.
Total $5,100.

Leads (channel from the lead source; MQL month; sales-qualified when the converted opportunity reaches Discovery):
- L1 Paid Search, Mid-Market (150): MQL Jan 4; converted into O1 (account A1); Discovery Jan 10 -> sales-qualified Jan.
- L2 Paid Search, SMB (60): MQL Jan 7; never converted.
- L3 Paid Search, SMB (60): MQL Jan 9; converted into O2 (account A2); Discovery Feb 2 -> sales-qualified Feb.
- L4 Paid Search, SMB (60): MQL Feb 5.
- L5 Paid Social, Enterprise (2000): MQL Jan 11; converted into O3 (account A3); sales-qualified Jan 20.
- L6 Paid Social, Mid-Market (150): MQL Feb 15.
- L7 Organic Search -> Organic, SMB (60): MQL Jan 15; converted into O4 (account A4); sales-qualified Jan 20.
- L8 Referral: fit 0, never an MQL; converted (Oct 2025) into account A5, which has no opportunity.

Spend spread over segments by the channel's MQL mix in the month:
- Jan Paid Search $1,500: MQLs L1 (MM), L2, L3 (SMB) -> Mid-Market 1/3 = $500, SMB 2/3 = $1,000.
- Jan Paid Social $900: L5 (Enterprise) -> Enterprise $900.
- Feb Paid Search $1,200: L4 (SMB) -> SMB $1,200.   Feb Paid Social $600: L6 (MM) -> Mid-Market $600.
- Mar Paid Search $800 and Unattributed $100: no MQL in March -> the unknown segment, unallocated.

Stripe customers (Growth Monthly $100 per seat per month; Growth Annual $1,200 per seat per year = $100 a month):
- C5 (A5, SMB): 4 monthly seats from 2025-11-10 ($400), ended 2026-02-05: new Nov 2025, churn Feb 2026.
  Channel: A5 has no won opportunity -> its converted lead L8 -> Referral.
- C1 (A1, Mid-Market): 5 monthly seats from 2026-01-26 ($500): new Jan. First won opportunity O1 (Paid Search; the
  later Partner expansion O5 does not count) -> Paid Search.
- C4 (A4, SMB): 1 monthly seat from 2026-01-29 ($100): new Jan. O4 (Organic Search) -> Organic.
- C2 (A2, SMB): 2 monthly seats from 2026-02-21 ($200): new Feb. O2 has no lead source -> L3's channel, Paid Search.
- C3 (A3, Enterprise): 10 annual seats from 2026-02-11 ($1,000): new Feb. O3 (Paid Social) -> Paid Social.
New customers 5, new MRR $2,200. March has no new customer.

Monthly revenue churn rate of a segment, pooled over the 12 months ending with the month (from the retention mart:
sum of churned + contraction MRR / sum of starting MRR):
- SMB starting MRR: Nov 0, Dec 400 (C5), Jan 400 (C5; C4 is new), Feb 500 (C5 + C4; C5 churns $400), Mar 300.
  Nov: no starting MRR -> null. Dec: 0/400 = 0. Jan: 0/800 = 0 -> lifetime capped at 60.
  Feb: 400 / (400 + 400 + 500) = 4/13 -> lifetime 13/4 = 3.25 months. Mar: 400/1600 = 0.25 -> 4 months.
- Mid-Market: Jan 0 (C1 new) -> null; Feb 0/500 = 0 -> 60. Enterprise: Feb 0 (C3 new) -> null; Mar 0/1000 = 0.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from pipelines.spec.settings import Settings
from tests.conftest import copy_of_build, materialize, settings_for
from tests.fixtures import query, write_raw

SELECTION = '+key:"marts/rpt_unit_economics_segments_monthly" or group:definitions'

NO_NEW_CUSTOMER = "no new customer in the month"
NO_PAID_NEW_CUSTOMER = "no new customer from a paid channel in the month"
NO_CHURN_BASE = "no MRR at the start of any month of the trailing 12 months"


def lead(lead_id: str, source: str, employees: int, created: str, **extra: object) -> dict:
    return {
        "id": lead_id,
        "lead_source": source,
        "industry": "Software",
        "number_of_employees": employees,
        "country": "United States",
        "created_date": created,
        **extra,
    }


def converted(accepted: str, opportunity_id: str, account_id: str) -> dict:
    return {
        "accepted_date_c": accepted,
        "is_converted": "true",
        "converted_date": accepted[:10],
        "converted_opportunity_id": opportunity_id,
        "converted_account_id": account_id,
    }


def visit(engagement_id: str, lead_id: str, at: str) -> dict:
    return {"id": engagement_id, "lead_id": lead_id, "activity_type": "pricing_page_visit", "occurred_at": at}


def won(opportunity_id: str, account_id: str, source: str | None, created: str, closed: str, kind: str) -> dict:
    return {
        "id": opportunity_id, "account_id": account_id, "type": kind, "stage_name": "Closed Won", "amount": 6000,
        "created_date": created, "close_date": closed, "is_closed": "true", "is_won": "true", "lead_source": source,
    }  # fmt: skip


def history(opportunity_id: str, created: str, discovery: str, closed: str) -> list[dict]:
    return [
        {"id": f"{opportunity_id}-1", "opportunity_id": opportunity_id, "stage_name": "Prospecting",
         "created_date": created},
        {"id": f"{opportunity_id}-2", "opportunity_id": opportunity_id, "stage_name": "Discovery",
         "created_date": discovery},
        {"id": f"{opportunity_id}-3", "opportunity_id": opportunity_id, "stage_name": "Closed Won",
         "created_date": f"{closed} 15:00:00"},
    ]  # fmt: skip


def spend(day: str, platform: str, campaign: str, source: str, medium: str, amount: float) -> dict:
    return {
        "date": day, "platform": platform, "campaign_id": campaign, "utm_source": source, "utm_medium": medium,
        "spend": amount, "currency": "USD",
    }  # fmt: skip


def customer(customer_id: str, account_id: str, created: str) -> dict:
    metadata = f'{{"salesforce_account_id": "{account_id}"}}'
    return {"id": customer_id, "metadata": metadata, "created": created, "currency": "usd", "livemode": "true"}


def subscription(
    subscription_id: str, customer_id: str, status: str, start: str, period_start: str, ended: str | None = None
) -> dict:
    return {
        "id": subscription_id, "customer_id": customer_id, "status": status, "created": start, "start_date": start,
        "current_period_start": period_start, "canceled_at": ended, "ended_at": ended, "livemode": "true",
    }  # fmt: skip


def item(item_id: str, subscription_id: str, price_id: str, quantity: int, created: str) -> dict:
    return {"id": item_id, "subscription_id": subscription_id, "price_id": price_id, "quantity": quantity,
            "created": created}  # fmt: skip


def price(price_id: str, cents: int, interval: str) -> dict:
    return {"id": price_id, "currency": "usd", "unit_amount": cents, "type": "recurring",
            "recurring_interval": interval, "recurring_interval_count": 1, "livemode": "true"}  # fmt: skip


TABLES = {
    "marketing.ad_spend": [
        spend("2026-01-05", "google_ads", "G1", "google", "cpc", 1000),
        spend("2026-01-20", "google_ads", "G1", "google", "cpc", 500),
        spend("2026-02-03", "google_ads", "G1", "google", "cpc", 1200),
        spend("2026-03-02", "google_ads", "G1", "google", "cpc", 800),
        spend("2026-01-10", "linkedin_ads", "LI1", "linkedin", "paid_social", 900),
        spend("2026-02-14", "linkedin_ads", "LI1", "linkedin", "paid_social", 600),
        spend("2026-03-09", "bing_ads", "B1", "bing", "cpc", 100),
    ],
    "salesforce.lead": [
        lead("00QL1", "Paid Search", 150, "2026-01-03 08:00:00", **converted("2026-01-05 09:00:00", "006O1", "001A1")),
        lead("00QL2", "Paid Search", 60, "2026-01-06 08:00:00"),
        lead("00QL3", "Paid Search", 60, "2026-01-08 08:00:00", **converted("2026-01-12 09:00:00", "006O2", "001A2")),
        lead("00QL4", "Paid Search", 60, "2026-02-04 08:00:00"),
        lead("00QL5", "Paid Social", 2000, "2026-01-10 08:00:00", **converted("2026-01-12 09:00:00", "006O3", "001A3")),
        lead("00QL6", "Paid Social", 150, "2026-02-14 08:00:00"),
        lead("00QL7", "Organic Search", 60, "2026-01-14 08:00:00",
             **converted("2026-01-16 09:00:00", "006O4", "001A4")),
        # L8: fit 0 (Retail, 20 employees, Germany): never an MQL; converted into A5 without an opportunity.
        {"id": "00QL8", "lead_source": "Referral", "industry": "Retail", "number_of_employees": 20,
         "country": "Germany", "created_date": "2025-10-01 08:00:00", "is_converted": "true",
         "converted_date": "2025-10-20", "converted_account_id": "001A5"},
    ],
    "marketing.engagements": [
        visit("E1", "00QL1", "2026-01-04 10:00:00"),
        visit("E2", "00QL2", "2026-01-07 10:00:00"),
        visit("E3", "00QL3", "2026-01-09 10:00:00"),
        visit("E4", "00QL4", "2026-02-05 10:00:00"),
        visit("E5", "00QL5", "2026-01-11 10:00:00"),
        visit("E6", "00QL6", "2026-02-15 10:00:00"),
        visit("E7", "00QL7", "2026-01-15 10:00:00"),
    ],
    "salesforce.account": [
        {"id": "001A1", "number_of_employees": 150},
        {"id": "001A2", "number_of_employees": 60},
        {"id": "001A3", "number_of_employees": 2000},
        {"id": "001A4", "number_of_employees": 60},
        {"id": "001A5", "number_of_employees": 60},
    ],
    "salesforce.opportunity": [
        won("006O1", "001A1", "Paid Search", "2026-01-05 12:00:00", "2026-01-25", "New Business"),
        won("006O2", "001A2", None, "2026-01-12 12:00:00", "2026-02-20", "New Business"),
        won("006O3", "001A3", "Paid Social", "2026-01-12 12:00:00", "2026-02-10", "New Business"),
        won("006O4", "001A4", "Organic Search", "2026-01-16 12:00:00", "2026-01-28", "New Business"),
        # A1's later expansion deal, from a partner: not the account's first win, so C1 stays Paid Search.
        won("006O5", "001A1", "Partner", "2026-02-15 12:00:00", "2026-03-01", "Expansion"),
    ],
    "salesforce.opportunity_history": [
        *history("006O1", "2026-01-05 12:00:00", "2026-01-10 12:00:00", "2026-01-25"),
        *history("006O2", "2026-01-12 12:00:00", "2026-02-02 12:00:00", "2026-02-20"),
        *history("006O3", "2026-01-12 12:00:00", "2026-01-20 12:00:00", "2026-02-10"),
        *history("006O4", "2026-01-16 12:00:00", "2026-01-20 12:00:00", "2026-01-28"),
    ],
    "stripe.price": [price("price_M", 10000, "month"), price("price_Y", 120000, "year")],
    "stripe.customer": [
        customer("cus_C1", "001A1", "2026-01-26 09:00:00"),
        customer("cus_C2", "001A2", "2026-02-21 09:00:00"),
        customer("cus_C3", "001A3", "2026-02-11 09:00:00"),
        customer("cus_C4", "001A4", "2026-01-29 09:00:00"),
        customer("cus_C5", "001A5", "2025-11-10 09:00:00"),
    ],
    "stripe.subscription": [
        # C1's period start on 2026-03-26 is the data's last event: March is the latest month.
        subscription("sub_C1", "cus_C1", "active", "2026-01-26 10:00:00", "2026-03-26 10:00:00"),
        subscription("sub_C2", "cus_C2", "active", "2026-02-21 10:00:00", "2026-03-21 10:00:00"),
        subscription("sub_C3", "cus_C3", "active", "2026-02-11 10:00:00", "2026-02-11 10:00:00"),
        subscription("sub_C4", "cus_C4", "active", "2026-01-29 10:00:00", "2026-02-28 10:00:00"),
        subscription(
            "sub_C5", "cus_C5", "canceled", "2025-11-10 10:00:00", "2026-01-10 10:00:00", ended="2026-02-05 10:00:00"
        ),
    ],
    "stripe.subscription_item": [
        item("si_C1", "sub_C1", "price_M", 5, "2026-01-26 10:00:00"),
        item("si_C2", "sub_C2", "price_M", 2, "2026-02-21 10:00:00"),
        item("si_C3", "sub_C3", "price_Y", 10, "2026-02-11 10:00:00"),
        item("si_C4", "sub_C4", "price_M", 1, "2026-01-29 10:00:00"),
        item("si_C5", "sub_C5", "price_M", 4, "2025-11-10 10:00:00"),
    ],
}  # fmt: skip


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    tmp_path = tmp_path_factory.mktemp("unit_economics")
    settings = settings_for(tmp_path, write_raw(tmp_path / "raw", TABLES))
    result = materialize(settings, SELECTION)
    assert result.success
    assert all(check.passed for check in result.get_asset_check_evaluations())
    yield settings


@pytest.fixture(scope="module")
def channel_rows(built: Settings) -> pd.DataFrame:
    frame = query(built, "select * from marts.rpt_unit_economics_monthly")
    frame["month"] = frame["month"].map(lambda value: value.strftime("%Y-%m"))
    return frame.set_index(["month", "channel", "segment"])


@pytest.fixture(scope="module")
def segment_rows(built: Settings) -> pd.DataFrame:
    frame = query(built, "select * from marts.rpt_unit_economics_segments_monthly")
    frame["month"] = frame["month"].map(lambda value: value.strftime("%Y-%m"))
    return frame.set_index(["month", "segment"])


def values(row: pd.Series, columns: list[str]) -> dict:
    """The row's columns as plain Python values, NaN/NA as None."""
    return {column: None if pd.isna(row[column]) else row[column] for column in columns}


def test_rows_and_totals(channel_rows: pd.DataFrame, segment_rows: pd.DataFrame) -> None:
    # Nov 2025 (C5 is new) to Mar 2026: 5 months x 9 channels of the mapping x 4 segments; 5 x 4 segment rows.
    assert len(channel_rows) == 5 * 9 * 4
    assert len(segment_rows) == 5 * 4
    for frame in (channel_rows, segment_rows):
        assert float(frame["spend_usd"].sum()) == pytest.approx(5100)
        assert int(frame["new_customer_count"].sum()) == 5
        assert float(frame["new_mrr_usd"].sum()) == pytest.approx(2200)
        assert int(frame["mql_count"].sum()) == 7  # L1-L7
        assert int(frame["sales_qualified_count"].sum()) == 4  # L1, L3, L5, L7
    paid = channel_rows.reset_index().groupby("channel")["is_paid_channel"].first()
    assert sorted(paid[paid].index) == ["Paid Search", "Paid Social", "Unattributed"]


def test_spend_by_channel_and_segment(channel_rows: pd.DataFrame) -> None:
    spent = channel_rows[channel_rows["spend_usd"] > 0]
    assert {key: float(value) for key, value in spent["spend_usd"].items()} == pytest.approx(
        {
            ("2026-01", "Paid Search", "Mid-Market"): 500,  # 1,500 x 1/3 (L1)
            ("2026-01", "Paid Search", "SMB"): 1000,  # 1,500 x 2/3 (L2, L3)
            ("2026-01", "Paid Social", "Enterprise"): 900,  # L5
            ("2026-02", "Paid Search", "SMB"): 1200,  # L4
            ("2026-02", "Paid Social", "Mid-Market"): 600,  # L6
            ("2026-03", "Paid Search", "Unknown"): 800,  # no MQL in March
            ("2026-03", "Unattributed", "Unknown"): 100,  # bing / cpc: no mapping
        }
    )
    unallocated = channel_rows.index[channel_rows["is_spend_unallocated"]]
    assert sorted(unallocated) == [("2026-03", "Paid Search", "Unknown"), ("2026-03", "Unattributed", "Unknown")]


def test_new_customers_by_channel(channel_rows: pd.DataFrame) -> None:
    new = channel_rows[channel_rows["new_customer_count"] > 0]
    assert {key: (int(row.new_customer_count), float(row.new_mrr_usd)) for key, row in new.iterrows()} == {
        ("2025-11", "Referral", "SMB"): (1, 400),  # C5: no won opportunity, its converted lead L8
        ("2026-01", "Paid Search", "Mid-Market"): (1, 500),  # C1: first won opportunity O1, not the expansion O5
        ("2026-01", "Organic", "SMB"): (1, 100),  # C4
        ("2026-02", "Paid Search", "SMB"): (1, 200),  # C2: O2 has no lead source -> L3's channel
        ("2026-02", "Paid Social", "Enterprise"): (1, 1000),  # C3
    }


KPIS = [
    "spend_usd", "new_customer_count", "mql_count", "sales_qualified_count", "cac_usd", "cost_per_mql_usd",
    "cost_per_sales_qualified_lead_usd", "arpa_usd", "cac_payback_months", "revenue_churn_rate",
    "expected_lifetime_months", "ltv_usd", "ltv_to_cac_ratio",
]  # fmt: skip
REASONS = [
    "cac_null_reason", "cost_per_mql_null_reason", "cost_per_sales_qualified_lead_null_reason",
    "cac_payback_null_reason", "ltv_null_reason", "ltv_to_cac_ratio_null_reason",
]  # fmt: skip


def test_paid_customer_with_churn_history(channel_rows: pd.DataFrame) -> None:
    row = channel_rows.loc[("2026-02", "Paid Search", "SMB")]
    assert values(row, KPIS) == pytest.approx(
        {
            "spend_usd": 1200,
            "new_customer_count": 1,  # C2
            "mql_count": 1,  # L4
            "sales_qualified_count": 1,  # L3 (Discovery on Feb 2)
            "cac_usd": 1200,  # 1,200 / 1
            "cost_per_mql_usd": 1200,  # 1,200 / 1
            "cost_per_sales_qualified_lead_usd": 1200,  # 1,200 / 1
            "arpa_usd": 200,  # 200 / 1
            "cac_payback_months": 7.5,  # 1,200 / (200 x 0.8) = 1,200 / 160
            "revenue_churn_rate": 4 / 13,  # 400 / 1,300
            "expected_lifetime_months": 3.25,  # 13 / 4 (under the cap of 60)
            "ltv_usd": 520,  # 200 x 0.8 x 3.25
            "ltv_to_cac_ratio": 520 / 1200,  # 0.4333
        }
    )
    assert values(row, REASONS) == dict.fromkeys(REASONS)


def test_paid_customer_without_churn_history(channel_rows: pd.DataFrame) -> None:
    row = channel_rows.loc[("2026-01", "Paid Search", "Mid-Market")]
    assert values(row, KPIS) == pytest.approx(
        {
            "spend_usd": 500, "new_customer_count": 1, "mql_count": 1, "sales_qualified_count": 1,
            "cac_usd": 500, "cost_per_mql_usd": 500, "cost_per_sales_qualified_lead_usd": 500,
            "arpa_usd": 500,
            "cac_payback_months": 1.25,  # 500 / (500 x 0.8)
            # Mid-Market had no MRR at the start of any month up to January (C1 is new in January)
            "revenue_churn_rate": None, "expected_lifetime_months": None, "ltv_usd": None, "ltv_to_cac_ratio": None,
        }
    )  # fmt: skip
    assert values(row, ["ltv_null_reason", "ltv_to_cac_ratio_null_reason", "cac_null_reason"]) == {
        "ltv_null_reason": NO_CHURN_BASE,
        "ltv_to_cac_ratio_null_reason": NO_CHURN_BASE,
        "cac_null_reason": None,
    }


def test_organic_customer_has_capped_lifetime_and_no_cac_ratio(channel_rows: pd.DataFrame) -> None:
    row = channel_rows.loc[("2026-01", "Organic", "SMB")]
    assert values(row, KPIS) == pytest.approx(
        {
            "spend_usd": 0, "new_customer_count": 1, "mql_count": 1, "sales_qualified_count": 1,
            "cac_usd": 0, "cost_per_mql_usd": 0, "cost_per_sales_qualified_lead_usd": 0,
            "arpa_usd": 100, "cac_payback_months": 0,
            "revenue_churn_rate": 0,  # 0 / (0 + 400 + 400): SMB has not churned yet
            "expected_lifetime_months": 60,  # capped
            "ltv_usd": 4800,  # 100 x 0.8 x 60
            "ltv_to_cac_ratio": None,  # CAC is 0
        }
    )  # fmt: skip
    assert row["ltv_to_cac_ratio_null_reason"] == "no spend: CAC is 0"


def test_spend_without_new_customer(channel_rows: pd.DataFrame) -> None:
    # January, Paid Search, SMB: $1,000 bought MQLs L2 and L3 but no customer: CAC null with its reason.
    row = channel_rows.loc[("2026-01", "Paid Search", "SMB")]
    assert values(row, KPIS) == pytest.approx(
        {
            "spend_usd": 1000, "new_customer_count": 0, "mql_count": 2, "sales_qualified_count": 0,
            "cac_usd": None, "cost_per_mql_usd": 500, "cost_per_sales_qualified_lead_usd": None,
            "arpa_usd": None, "cac_payback_months": None,
            "revenue_churn_rate": 0, "expected_lifetime_months": 60,
            "ltv_usd": None, "ltv_to_cac_ratio": None,
        }
    )  # fmt: skip
    assert values(row, REASONS) == {
        "cac_null_reason": NO_NEW_CUSTOMER,
        "cost_per_mql_null_reason": None,
        "cost_per_sales_qualified_lead_null_reason": "no sales-qualified lead in the month",
        "cac_payback_null_reason": NO_NEW_CUSTOMER,
        "ltv_null_reason": NO_NEW_CUSTOMER,
        "ltv_to_cac_ratio_null_reason": NO_NEW_CUSTOMER,
    }
    # March: no new customer anywhere; Paid Search's $800 had no MQL to follow, so it sits in the unknown segment.
    march = channel_rows.loc[("2026-03", "Paid Search", "Unknown")]
    assert values(
        march, ["spend_usd", "cac_usd", "cost_per_mql_usd", "cac_null_reason", "cost_per_mql_null_reason"]
    ) == {
        "spend_usd": 800,
        "cac_usd": None,
        "cost_per_mql_usd": None,
        "cac_null_reason": NO_NEW_CUSTOMER,
        "cost_per_mql_null_reason": "no MQL in the month",
    }


SEGMENT_KPIS = [
    "spend_usd", "unallocated_spend_usd", "new_customer_count", "paid_new_customer_count", "mql_count",
    "sales_qualified_count", "cac_usd", "blended_cac_usd", "cost_per_mql_usd", "cost_per_sales_qualified_lead_usd",
    "arpa_usd", "cac_payback_months", "ltv_usd", "ltv_to_cac_ratio",
]  # fmt: skip


def test_segment_rollup(segment_rows: pd.DataFrame) -> None:
    got = {key: values(segment_rows.loc[key], SEGMENT_KPIS) for key in segment_rows.index}
    # SMB, January: $1,000 of Paid Search; the one new customer (C4) is organic: no paid CAC, blended $1,000.
    assert got[("2026-01", "SMB")] == pytest.approx(
        {
            "spend_usd": 1000, "unallocated_spend_usd": 0, "new_customer_count": 1, "paid_new_customer_count": 0,
            "mql_count": 3,  # L2, L3, L7
            "sales_qualified_count": 1,  # L7
            "cac_usd": None, "blended_cac_usd": 1000,
            "cost_per_mql_usd": 1000 / 3, "cost_per_sales_qualified_lead_usd": 1000,
            "arpa_usd": None, "cac_payback_months": None, "ltv_usd": None, "ltv_to_cac_ratio": None,
        }
    )  # fmt: skip
    assert segment_rows.loc[("2026-01", "SMB"), "cac_null_reason"] == NO_PAID_NEW_CUSTOMER
    # SMB, February: C2 from Paid Search: the same numbers as its channel row.
    assert got[("2026-02", "SMB")] == pytest.approx(
        {
            "spend_usd": 1200, "unallocated_spend_usd": 0, "new_customer_count": 1, "paid_new_customer_count": 1,
            "mql_count": 1, "sales_qualified_count": 1,
            "cac_usd": 1200, "blended_cac_usd": 1200, "cost_per_mql_usd": 1200,
            "cost_per_sales_qualified_lead_usd": 1200,
            "arpa_usd": 200, "cac_payback_months": 7.5, "ltv_usd": 520, "ltv_to_cac_ratio": 520 / 1200,
        }
    )  # fmt: skip
    # Mid-Market, January: $500 for C1 (Paid Search).
    assert got[("2026-01", "Mid-Market")] == pytest.approx(
        {
            "spend_usd": 500, "unallocated_spend_usd": 0, "new_customer_count": 1, "paid_new_customer_count": 1,
            "mql_count": 1, "sales_qualified_count": 1,
            "cac_usd": 500, "blended_cac_usd": 500, "cost_per_mql_usd": 500, "cost_per_sales_qualified_lead_usd": 500,
            "arpa_usd": 500, "cac_payback_months": 1.25, "ltv_usd": None, "ltv_to_cac_ratio": None,
        }
    )  # fmt: skip
    # Enterprise, February: C3 came from Paid Social, whose February spend followed its Mid-Market MQL (L6):
    # paid CAC 0, payback 0; no Enterprise MRR at any start yet, so no LTV.
    assert got[("2026-02", "Enterprise")] == pytest.approx(
        {
            "spend_usd": 0, "unallocated_spend_usd": 0, "new_customer_count": 1, "paid_new_customer_count": 1,
            "mql_count": 0, "sales_qualified_count": 0,
            "cac_usd": 0, "blended_cac_usd": 0, "cost_per_mql_usd": None, "cost_per_sales_qualified_lead_usd": None,
            "arpa_usd": 1000, "cac_payback_months": 0, "ltv_usd": None, "ltv_to_cac_ratio": None,
        }
    )  # fmt: skip
    # Unknown, March: $900 without MQLs and no new customer: CAC null with its reason.
    march = segment_rows.loc[("2026-03", "Unknown")]
    assert values(
        march, ["spend_usd", "unallocated_spend_usd", "new_customer_count", "cac_usd", "blended_cac_usd"]
    ) == {
        "spend_usd": 900,
        "unallocated_spend_usd": 900,
        "new_customer_count": 0,
        "cac_usd": None,
        "blended_cac_usd": None,
    }
    assert (march["cac_null_reason"], march["blended_cac_null_reason"]) == (NO_PAID_NEW_CUSTOMER, NO_NEW_CUSTOMER)
    # November 2025: C5 (Referral) is new, no spend: blended CAC 0, no paid CAC.
    assert (got[("2025-11", "SMB")]["blended_cac_usd"], got[("2025-11", "SMB")]["cac_usd"]) == (0, None)


def test_month_column_is_a_date(built: Settings) -> None:
    months = query(built, "select distinct month from marts.rpt_unit_economics_segments_monthly order by month")
    assert [value.date() if hasattr(value, "date") else value for value in months["month"]] == [
        date(2025, 11, 1), date(2025, 12, 1), date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1),
    ]  # fmt: skip


def test_ad_spend_in_another_currency_stops_the_mart(built: Settings, tmp_path: Path) -> None:
    """A EUR campaign is not converted (there is no exchange-rate table): the blocking check fails and names it.

    The module's build, copied, with its ad spend replaced: the spend is loaded and staged again and the mart rebuilt.
    """
    settings = copy_of_build(built, tmp_path)
    euro = spend("2026-01-07", "linkedin_ads", "LI9", "linkedin", "paid_social", 300) | {"currency": "eur"}
    dollars = spend("2026-01-05", "google_ads", "G1", "google", "cpc", 1000)
    write_raw(settings.raw_dir, {**TABLES, "marketing.ad_spend": [dollars, euro]})
    result = materialize(settings, 'key:"marketing/ad_spend"+ and +key:"marts/rpt_unit_economics_monthly"')
    evaluations = {
        evaluation.check_name: evaluation
        for evaluation in result.get_asset_check_evaluations()
        if evaluation.asset_key.path[-1] == "rpt_unit_economics_monthly"
    }
    currency_check = evaluations["assert_ad_spend_is_in_reporting_currency"]
    assert not currency_check.passed
    assert "LI9" in str(currency_check.metadata)
    # The USD spend alone is in the mart's spend, so the totals check against the USD staged spend still passes.
    assert evaluations["assert_spend_matches_staged_ad_spend"].passed
