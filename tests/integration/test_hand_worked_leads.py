"""Six leads worked through by hand: the lead score with decay, the lifecycle, the funnel and the drift marts.

Definitions in force are the project's (`definitions.yml`): MQL at a score of 40 with a fit of at least 20; fit
points 20 (ICP industry) + 20 (50-5000 employees) + 10 (ICP country); pricing visit 15, demo request 40, form fill
10, web visit 2, e-mail click 3; points halve every 30 days. The score is evaluated at the lead's creation and at
each engagement from then on, so a lead whose fit alone reaches 40 is an MQL when it is created.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime

import pandas as pd
import pytest

from pipelines.spec.settings import Settings
from tests.conftest import materialize, settings_for
from tests.fixtures import NO_MINIMUM_BASES, definitions_with, query, write_raw


def lead(lead_id: str, source: str, industry: str, employees: int, country: str, created: str, **extra: object) -> dict:
    return {
        "id": lead_id,
        "lead_source": source,
        "industry": industry,
        "number_of_employees": employees,
        "country": country,
        "created_date": created,
        **extra,
    }


def engagement(engagement_id: str, lead_id: str, activity: str, at: str) -> dict:
    return {"id": engagement_id, "lead_id": lead_id, "activity_type": activity, "occurred_at": at}


TABLES = {
    "salesforce.lead": [
        # L1: fit 50 >= 40 on its own: MQL at its creation, with a score of 50 (its engagements come the day after).
        # Accepted, converted, won.
        lead(
            "00QL1", "Paid Search", "Software", 150, "United States", "2026-01-05 09:00:00",
            mql_date_c="2026-01-06 10:30:00", accepted_date_c="2026-01-07 09:00:00", is_converted="true",
            converted_date="2026-01-20", converted_opportunity_id="006O1", converted_account_id="001A1",
        ),
        # L2: fit 0 (not ICP in anything): a demo request makes 40, but the fit minimum is 20: never an MQL, though
        # the marketing tool flagged it. Rejected with no reason.
        lead(
            "00QL2", "Organic Search", "Retail", 20, "Germany", "2026-01-10 08:00:00",
            mql_date_c="2026-01-20 08:00:00", rejected_date_c="2026-01-21 08:00:00",
        ),
        # L3: fit 50 >= 40 on its own: MQL at its creation (score 50). The marketing tool never flagged it.
        lead("00QL3", "Referral", "Software", 100, "United States", "2026-01-12 08:00:00"),
        # L4: fit 20 (industry only). Jan 1: 2 + 10 -> 32. Sixty days later both have decayed to a quarter (3): a
        # pricing visit makes 38, still short; the demo request an hour later makes 78: MQL on March 2.
        lead("00QL4", "Organic Search", "Software", 10, "Germany", "2026-01-01 00:00:00"),
        # L5: fit 30 (size and country); the pricing visit at 10:00 makes 45: MQL then, but the rep recorded
        # acceptance at 09:00: out of order.
        lead(
            "00QL5", "Paid Search", "Retail", 150, "United States", "2026-01-08 08:00:00",
            accepted_date_c="2026-01-08 09:00:00",
        ),
        # L6: outbound, sales-sourced (fit 30: size and country): no MQL gate, accepted when the rep says so.
        lead(
            "00QL6", "Outbound", "Manufacturing", 1500, "United States", "2026-01-15 08:00:00",
            accepted_date_c="2026-01-16 08:00:00",
        ),
    ],
    "marketing.engagements": [
        engagement("E1", "00QL1", "pricing_page_visit", "2026-01-06 10:00:00"),
        engagement("E2", "00QL1", "demo_request", "2026-01-06 11:00:00"),
        engagement("E3", "00QL2", "demo_request", "2026-01-19 08:00:00"),
        engagement("E4", "00QL3", "email_click", "2026-01-12 09:00:00"),
        engagement("E5", "00QL4", "web_visit", "2026-01-01 00:00:00"),
        engagement("E6", "00QL4", "form_fill", "2026-01-01 00:01:00"),
        engagement("E7", "00QL4", "pricing_page_visit", "2026-03-02 00:01:00"),
        engagement("E8", "00QL4", "demo_request", "2026-03-02 01:01:00"),
        engagement("E9", "00QL5", "pricing_page_visit", "2026-01-08 10:00:00"),
    ],
    "salesforce.account": [{"id": "001A1", "number_of_employees": 150}],
    "salesforce.opportunity": [
        {
            "id": "006O1", "account_id": "001A1", "stage_name": "Closed Won", "amount": 12000,
            "created_date": "2026-01-20 12:00:00", "close_date": "2026-02-10", "is_closed": "true", "is_won": "true",
            "lead_source": "Paid Search",
        }
    ],
    "salesforce.opportunity_history": [
        {"id": "H1", "opportunity_id": "006O1", "stage_name": "Prospecting", "created_date": "2026-01-20 12:00:00"},
        {"id": "H2", "opportunity_id": "006O1", "stage_name": "Discovery", "created_date": "2026-01-25 12:00:00"},
        {"id": "H3", "opportunity_id": "006O1", "stage_name": "Closed Won", "created_date": "2026-02-10 15:00:00"},
    ],
}  # fmt: skip


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    tmp_path = tmp_path_factory.mktemp("hand_worked")
    # A handful of leads: rates are published on any base (minimum bases turned off; see test_alignment_scorecard).
    definitions_file = definitions_with(tmp_path, minimum_bases=NO_MINIMUM_BASES)
    settings = settings_for(tmp_path, write_raw(tmp_path / "raw", TABLES), definitions_file=definitions_file)
    result = materialize(settings, '+key:"marts/rpt_funnel_monthly" or +key:"marts/rpt_definition_drift_monthly"')
    assert result.success
    yield settings


def test_lead_score_and_mql_moment(built: Settings) -> None:
    scored = query(built, "select * from intermediate.int_leads_scored order by lead_id").set_index("lead_id")
    assert scored["fit_score"].to_dict() == {
        "00QL1": 50,
        "00QL2": 0,
        "00QL3": 50,
        "00QL4": 20,
        "00QL5": 30,
        "00QL6": 30,
    }
    assert scored.loc["00QL1", "score_at_mql"] == pytest.approx(50)
    assert scored.loc["00QL3", "score_at_mql"] == pytest.approx(50)
    assert scored.loc["00QL5", "score_at_mql"] == pytest.approx(45)
    # 20 + 2 * 0.5^((60d + 1h + 1min) / 30d) + 10 * 0.5^((60d + 1h) / 30d) + 15 * 0.5^(1h / 30d) + 40
    assert scored.loc["00QL4", "score_at_mql"] == pytest.approx(77.98, abs=0.01)
    assert scored.loc["00QL4", "mql_at"] == datetime(2026, 3, 2, 1, 1)
    assert pd.isna(scored.loc["00QL2", "mql_at"])


def row(mql: str | None, accepted: str | None, qualified: str | None, won: str | None, rejected: str | None) -> dict:
    return {
        "mql_at": mql,
        "accepted_at": accepted,
        "sales_qualified_at": qualified,
        "won_at": won,
        "rejected_at": rejected,
    }


def test_lifecycle_stages(built: Settings) -> None:
    lifecycle = query(built, "select * from intermediate.int_leads_lifecycle order by lead_id").set_index("lead_id")
    stages = ["mql_at", "accepted_at", "sales_qualified_at", "won_at", "rejected_at"]
    as_text = {
        lead_id: {stage: None if pd.isna(value) else str(value) for stage, value in row.items()}
        for lead_id, row in lifecycle[stages].to_dict("index").items()
    }
    assert as_text == {
        "00QL1": {
            "mql_at": "2026-01-05 09:00:00",
            "accepted_at": "2026-01-07 09:00:00",
            "sales_qualified_at": "2026-01-25 12:00:00",
            "won_at": "2026-02-10 15:00:00",
            "rejected_at": None,
        },
        "00QL2": row(None, None, None, None, "2026-01-21 08:00:00"),
        "00QL3": row("2026-01-12 08:00:00", None, None, None, None),
        "00QL4": row("2026-03-02 01:01:00", None, None, None, None),
        "00QL5": row("2026-01-08 10:00:00", None, None, None, None),
        "00QL6": row(None, "2026-01-16 08:00:00", None, None, None),
    }  # fmt: skip
    assert lifecycle.loc["00QL2", "rejection_reason"] == "Unspecified"
    assert bool(lifecycle.loc["00QL2", "is_rejection_reason_missing"])
    assert lifecycle["has_stage_out_of_order"].to_dict() == {
        "00QL1": False, "00QL2": False, "00QL3": False, "00QL4": False, "00QL5": True, "00QL6": False
    }  # fmt: skip
    assert lifecycle["channel"].to_dict()["00QL6"] == "Outbound" and bool(lifecycle.loc["00QL6", "is_sales_sourced"])


def test_definition_drift_mart(built: Settings) -> None:
    drift = query(built, "select * from marts.rpt_definition_drift_monthly order by drift_month, channel")
    rows = {
        (row.drift_month, row.channel): (
            row.crm_mql_count,
            row.definition_mql_count,
            row.crm_only_mql_count,
            row.definition_only_mql_count,
            None if pd.isna(row.mql_agreement_rate) else row.mql_agreement_rate,
            row.stage_out_of_order_count,
        )
        for row in drift.itertuples()
    }
    january, march = date(2026, 1, 1), date(2026, 3, 1)
    assert {(month.date(), channel): values for (month, channel), values in rows.items()} == {
        (january, "Organic"): (1, 0, 1, 0, 0.0, 0),  # L2: the tool's MQL only
        (january, "Outbound"): (0, 0, 0, 0, None, 0),  # L6: nobody calls it MQL: no rate, not 0
        (january, "Paid Search"): (1, 2, 0, 1, 0.5, 1),  # L1 both, L5 the definition only, and out of order
        (january, "Referral"): (0, 1, 0, 1, 0.0, 0),  # L3: the definition only
        (march, "Organic"): (0, 1, 0, 1, 0.0, 0),  # L4 counts in the month of its MQL
    }


def test_funnel_mart(built: Settings) -> None:
    funnel = query(built, "select * from marts.rpt_funnel_monthly order by all")
    measures = [
        "leads_created_count",
        "leads_converted_count",
        "opportunities_created_count",
        "opportunities_won_count",
    ]
    rows = {
        (row["funnel_month"].date(), row["channel"], row["segment"]): (
            *(int(row[m]) for m in measures),
            float(row["won_amount_usd"]),
        )
        for _, row in funnel.iterrows()
    }
    assert rows == {
        (date(2026, 1, 1), "Organic", "SMB"): (2, 0, 0, 0, 0.0),  # L2 (20 employees), L4 (10)
        (date(2026, 1, 1), "Outbound", "Enterprise"): (1, 0, 0, 0, 0.0),  # L6
        (date(2026, 1, 1), "Paid Search", "Mid-Market"): (2, 1, 1, 0, 0.0),  # L1, L5; L1 converted; O1 created
        (date(2026, 1, 1), "Referral", "Mid-Market"): (1, 0, 0, 0, 0.0),  # L3
        (date(2026, 2, 1), "Paid Search", "Mid-Market"): (0, 0, 0, 1, 12000.0),  # O1 won Feb 10
    }
