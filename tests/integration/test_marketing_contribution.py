"""Marketing's revenue contribution worked through by hand: nine leads in two channels and two lead months.

Definitions in force are the project's (`definitions.yml`): MQL at a score of 40 with a fit of at least 20; fit
points 20 (ICP industry) + 20 (50-5000 employees) + 10 (ICP country); pricing visit 15, demo request 40, e-mail
click 3, web visit 2; Discovery and the later open or won stages are sales-qualified; the conversion window is 180
days. An ICP lead (Software, 150 employees, United States) has a fit of 50 >= 40, so it is an MQL when it is
created (the score is evaluated at the creation and at each engagement); a non-ICP one (Retail, 20 employees,
Germany) has a fit of 0, which never makes an MQL.

The as-of moment is the latest lead created: G4, 2026-09-30 23:00.

January cohort (its month ends 2026-02-01; + 180 days = 2026-07-31, before the as-of moment: window elapsed)
- P1 Paid Search, ICP. MQL at its creation Jan 5 09:00 (a pricing visit Jan 6 makes 65). Accepted Jan 7, converted
  into O1 ($30,000), which reached Discovery Feb 1 (27 days after the MQL: sales-qualified in the window) and was
  won Mar 15.
- P2 Paid Search, ICP. MQL at its creation Jan 20 09:00; window ends Jul 19 09:00. Accepted Jan 22, converted into
  O2 ($8,000), which reached Discovery only Sep 1 (sales-qualified, but after the window: wasted) and was lost.
- P3 Paid Search, ICP. MQL at its creation Jan 25 08:00; window ends Jul 24 08:00. Never accepted: wasted.
- G1 Organic, non-ICP. A web visit: 2 points, fit 0: no MQL.
- G2 Organic, non-ICP, no engagement: no MQL. Converted into O3 ($5,000, open in Prospecting): pipeline all the same.
September cohort (its month ends 2026-10-01: the window is open whatever the MQLs)
- P4 Paid Search, ICP. MQL at its creation Sep 2 09:00, never accepted: wasted for now, its window is open until
  2027.
- P7 Paid Search, non-ICP, created Sep 10, a duplicate of P1 converted into O1 too: O1 counts once, for P1, the
  earlier-created lead. P7 is no MQL and its conversion is no acceptance (no MQL): not sales-qualified.
- G3 Organic, ICP. MQL at its creation Sep 5 08:00. Accepted Sep 6, converted into O4 ($20,000), Discovery on
  Sep 10: sales-qualified within the window; still open.
- G4 Organic, non-ICP, created Sep 30 23:00 (the as-of moment), no engagement.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime

import pandas as pd
import pytest

from pipelines.spec.settings import Settings
from tests.conftest import materialize, settings_for
from tests.fixtures import NO_MINIMUM_BASES, definitions_with, query, write_raw

ICP = {"industry": "Software", "number_of_employees": 150, "country": "United States"}
NOT_ICP = {"industry": "Retail", "number_of_employees": 20, "country": "Germany"}
AS_OF = datetime(2026, 9, 30, 23, 0)


def lead(lead_id: str, source: str, created: str, firmographics: dict, **extra: object) -> dict:
    return {"id": lead_id, "lead_source": source, "created_date": created, **firmographics, **extra}


def converted(opportunity_id: str, on: str, accepted: str | None = None) -> dict:
    fields = {"is_converted": "true", "converted_date": on, "converted_opportunity_id": opportunity_id}
    return fields | ({"accepted_date_c": accepted} if accepted else {})


def engagement(engagement_id: str, lead_id: str, activity: str, at: str) -> dict:
    return {"id": engagement_id, "lead_id": lead_id, "activity_type": activity, "occurred_at": at}


def opportunity(opportunity_id: str, stage: str, amount: float, created: str, close: str) -> dict:
    closed = stage.startswith("Closed")
    return {
        "id": opportunity_id, "account_id": "001A1", "stage_name": stage, "amount": amount, "created_date": created,
        "close_date": close, "is_closed": str(closed).lower(), "is_won": str(stage == "Closed Won").lower(),
    }  # fmt: skip


def history(history_id: str, opportunity_id: str, stage: str, at: str) -> dict:
    return {"id": history_id, "opportunity_id": opportunity_id, "stage_name": stage, "created_date": at}


TABLES = {
    "salesforce.lead": [
        lead(
            "00QP1", "Paid Search", "2026-01-05 09:00:00", ICP,
            **converted("006O1", "2026-01-10", accepted="2026-01-07 09:00:00"),
        ),
        lead(
            "00QP2", "Paid Search", "2026-01-20 09:00:00", ICP,
            **converted("006O2", "2026-01-25", accepted="2026-01-22 09:00:00"),
        ),
        lead("00QP3", "Paid Search", "2026-01-25 08:00:00", ICP),
        lead("00QG1", "Organic Search", "2026-01-15 08:00:00", NOT_ICP),
        lead("00QG2", "Organic Search", "2026-01-28 08:00:00", NOT_ICP, **converted("006O3", "2026-01-30")),
        lead("00QP4", "Paid Search", "2026-09-02 09:00:00", ICP),
        lead("00QP7", "paid search ", "2026-09-10 09:00:00", NOT_ICP, **converted("006O1", "2026-09-11")),
        lead(
            "00QG3", "Organic Search", "2026-09-05 08:00:00", ICP,
            **converted("006O4", "2026-09-07", accepted="2026-09-06 09:00:00"),
        ),
        lead("00QG4", "SEO", "2026-09-30 23:00:00", NOT_ICP),
    ],
    "marketing.engagements": [
        engagement("E1", "00QP1", "pricing_page_visit", "2026-01-06 10:00:00"),
        engagement("E2", "00QP2", "demo_request", "2026-01-21 10:00:00"),
        engagement("E3", "00QP3", "email_click", "2026-01-25 09:00:00"),
        engagement("E4", "00QG1", "web_visit", "2026-01-16 08:00:00"),
        engagement("E5", "00QP4", "demo_request", "2026-09-03 10:00:00"),
        engagement("E6", "00QG3", "pricing_page_visit", "2026-09-05 12:00:00"),
    ],
    "salesforce.account": [{"id": "001A1", "number_of_employees": 150}],
    "salesforce.opportunity": [
        opportunity("006O1", "Closed Won", 30000, "2026-01-10 12:00:00", "2026-03-15"),
        opportunity("006O2", "Closed Lost", 8000, "2026-01-25 12:00:00", "2026-09-10"),
        opportunity("006O3", "Prospecting", 5000, "2026-01-30 12:00:00", "2026-06-30"),
        opportunity("006O4", "Discovery", 20000, "2026-09-07 12:00:00", "2026-12-31"),
    ],
    "salesforce.opportunity_history": [
        history("H1", "006O1", "Prospecting", "2026-01-10 12:00:00"),
        history("H2", "006O1", "Discovery", "2026-02-01 12:00:00"),
        history("H3", "006O1", "Closed Won", "2026-03-15 12:00:00"),
        history("H4", "006O2", "Prospecting", "2026-01-25 12:00:00"),
        history("H5", "006O2", "Discovery", "2026-09-01 12:00:00"),
        history("H6", "006O2", "Closed Lost", "2026-09-10 12:00:00"),
        history("H7", "006O3", "Prospecting", "2026-01-30 12:00:00"),
        history("H8", "006O4", "Prospecting", "2026-09-07 12:00:00"),
        history("H9", "006O4", "Discovery", "2026-09-10 12:00:00"),
    ],
}  # fmt: skip

MART = "marts.rpt_marketing_contribution_monthly"
ASSERTIONS = {
    "assert_won_amount_matches_converted_won_opportunities",
    "assert_leads_created_match_leads",
    "assert_funnel_counts_never_grow",
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    tmp_path = tmp_path_factory.mktemp("marketing_contribution")
    # A handful of leads: rates are published on any base (minimum bases turned off; see test_lead_disposition).
    definitions_file = definitions_with(tmp_path, minimum_bases=NO_MINIMUM_BASES)
    settings = settings_for(tmp_path, write_raw(tmp_path / "raw", TABLES), definitions_file=definitions_file)
    # The mart and everything upstream of it (with the whole definitions asset, which cannot be split) only:
    # the other marts' rules are their own tests' business.
    result = materialize(settings, f'+key:"{MART.replace(".", "/")}" or group:"definitions"')
    assert result.success
    evaluations = result.get_asset_check_evaluations()
    failed = [(check.asset_key.to_user_string(), check.check_name) for check in evaluations if not check.passed]
    assert not failed
    passed = {check.check_name for check in evaluations if check.passed}
    assert ASSERTIONS.issubset(passed)
    yield settings


def optional(value: object) -> object:
    return None if pd.isna(value) else value


def test_lifecycle_inputs(built: Settings) -> None:
    """The stages the mart counts, as worked out in the module docstring."""
    lifecycle = query(built, "select * from intermediate.int_leads_lifecycle order by lead_id").set_index("lead_id")
    assert lifecycle["channel"].to_dict() == {
        "00QG1": "Organic", "00QG2": "Organic", "00QG3": "Organic", "00QG4": "Organic",
        "00QP1": "Paid Search", "00QP2": "Paid Search", "00QP3": "Paid Search", "00QP4": "Paid Search",
        "00QP7": "Paid Search",
    }  # fmt: skip
    stages = {
        lead_id: (optional(row["mql_at"]), optional(row["sales_qualified_at"])) for lead_id, row in lifecycle.iterrows()
    }
    assert stages == {
        "00QG1": (None, None),
        "00QG2": (None, None),
        "00QG3": (datetime(2026, 9, 5, 8), datetime(2026, 9, 10, 12)),
        "00QG4": (None, None),
        "00QP1": (datetime(2026, 1, 5, 9), datetime(2026, 2, 1, 12)),
        "00QP2": (datetime(2026, 1, 20, 9), datetime(2026, 9, 1, 12)),
        "00QP3": (datetime(2026, 1, 25, 8), None),
        "00QP4": (datetime(2026, 9, 2, 9), None),
        "00QP7": (None, None),
    }


COLUMNS = [
    "leads_created_count",
    "mql_count",
    "sales_qualified_count",
    "wasted_mql_count",
    "wasted_mql_share",
    "wasted_mql_share_null_reason",
    "open_window_mql_count",
    "is_conversion_window_open",
    "pipeline_opportunity_count",
    "pipeline_amount_usd",
    "won_opportunity_count",
    "won_amount_usd",
    "revenue_per_lead_usd",
    "revenue_per_mql_usd",
]

EXPECTED = {
    # P1, P2, P3: all MQLs; P1 and P2 sales-qualified; P2 (Sep 1 is after its Jul 19 window end) and P3 (never)
    # wasted: 2 of 3. Every MQL window ended before Sep 30 and so did the month's (Jul 31): closed.
    # Pipeline O1 $30,000 + O2 $8,000; won O1 $30,000: $30,000 / 3 leads = $10,000 = $30,000 / 3 MQLs.
    (date(2026, 1, 1), "Paid Search"): (3, 3, 2, 2, 2 / 3, None, 0, False, 2, 38000.0, 1, 30000.0, 10000.0, 10000.0),
    # G1, G2: no MQL, so no wasted share and no revenue per MQL; G2's open O3 is pipeline ($5,000), nothing won.
    (date(2026, 1, 1), "Organic"): (2, 0, 0, 0, None, "no MQLs in the cohort", 0, False, 1, 5000.0, 0, 0.0, 0.0, None),
    # P4: MQL Sep 3, not qualified, window open: wasted for now (1 of 1, and open). P7: no MQL; its O1 is P1's.
    (date(2026, 9, 1), "Paid Search"): (2, 1, 0, 1, 1.0, None, 1, True, 0, 0.0, 0, 0.0, 0.0, 0.0),
    # G3: MQL, sales-qualified 5 days later: not wasted (0 of 1); G4 no MQL. Month ends Oct 1: window open.
    # Pipeline O4 $20,000, open: nothing won.
    (date(2026, 9, 1), "Organic"): (2, 1, 1, 0, 0.0, None, 0, True, 1, 20000.0, 0, 0.0, 0.0, 0.0),
}


def test_every_kpi_of_every_row(built: Settings) -> None:
    mart = query(built, f"select * from {MART} order by lead_month, channel")
    rows = {
        (row["lead_month"].date(), row["channel"]): tuple(optional(row[column]) for column in COLUMNS)
        for _, row in mart.iterrows()
    }
    assert rows.keys() == EXPECTED.keys()
    for key, expected in EXPECTED.items():
        assert rows[key] == pytest.approx(expected), key
    assert set(mart["as_of_at"]) == {pd.Timestamp(AS_OF)}


def test_totals_reconcile_with_the_facts(built: Settings) -> None:
    """The assertions' totals, by hand: 9 leads; won O1 ($30,000) counted once though two leads converted into it."""
    totals = query(built, f"select sum(leads_created_count) as leads, sum(won_amount_usd) as won from {MART}")
    assert int(totals.loc[0, "leads"]) == 9
    assert float(totals.loc[0, "won"]) == 30000.0
