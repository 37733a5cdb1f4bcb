"""Twelve leads worked through by hand: sales accepts, rejects and recycles them; the disposition and reasons marts.

Definitions in force are the project's (`definitions.yml`). Every lead but D10 and D12 is an ICP fit of 50
(Software 20 + 150 employees 20 + United States 10); a pricing-page visit (15) on Jan 3 makes 65 >= 40: MQL on
Jan 3, so sales may accept it from then on. D10 has fit 0 and no engagement: never an MQL, so a CRM acceptance
does not count. D12 is Outbound, sales-sourced: no MQL gate. The rejection taxonomy: No Budget, Not ICP, No
Authority, Competitor, Student or Job Seeker, Duplicate, Bad Contact Data, Timing; else Unspecified.

lead  channel      campaign      accepted    rejected    reason             notes
D01   Paid Search  brand_search  Jan 10      -           -
D02   Paid Search  brand_search  Jan 11      -           -
D03   Paid Search  brand_search  -           Jan 12      No Budget
D04   Paid Search  brand_search  -           Jan 15      (none)             missing -> Unspecified
D05   Paid Search  spring_promo  -           Jan 20      Too Expensive      not in taxonomy -> Unspecified, missing
D06   Paid Search  spring_promo  Feb 3       Jan 25      Timing             recycled: accepted after rejection
D07   Paid Search  spring_promo  Jan 8       Feb 10      Not ICP            accepted first, rejected later: not recycled
D08   Organic      (none)        -           Jan 18      No Budget          campaign null
D09   Organic      (none)        -           Jan 22      Timing             campaign blank
D10   Organic      (none)        (Feb 1)     Jan 5       Not ICP            CRM acceptance without MQL: not counted
D11   Organic      (none)        -           Jan 30      Timing
D12   Outbound     (none)        Jan 20      -           -                  sales-sourced

Minimum base of leads (definitions.minimum_bases.leads) for this company: 2. The acceptance rate needs 2 decisions
and the rejection-without-reason rate 2 rejections in the row, else it is null with the reason "base below
minimum"; exactly 2 is published.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pandas as pd
import pytest

from pipelines.spec.settings import Settings
from tests.conftest import materialize, settings_for
from tests.fixtures import definitions_with, query, write_raw

JANUARY, FEBRUARY = date(2026, 1, 1), date(2026, 2, 1)


def lead(lead_id: str, source: str, campaign: str | None, **extra: object) -> dict:
    """An ICP-fit lead (fit 50) created on Jan 2, unless `extra` says otherwise."""
    return {
        "id": lead_id,
        "lead_source": source,
        "utm_campaign_c": campaign,
        "industry": "Software",
        "number_of_employees": 150,
        "country": "United States",
        "created_date": "2026-01-02 08:00:00",
        **extra,
    }


def pricing_visit(lead_id: str) -> dict:
    """The engagement that makes a fit-50 lead an MQL (50 + 15 = 65 >= 40) on Jan 3."""
    return {
        "id": f"E{lead_id}",
        "lead_id": lead_id,
        "activity_type": "pricing_page_visit",
        "occurred_at": "2026-01-03 09:00:00",
    }


MQL_LEADS = ["D01", "D02", "D03", "D04", "D05", "D06", "D07", "D08", "D09", "D11"]

TABLES = {
    "salesforce.lead": [
        lead("D01", "Paid Search", "brand_search", accepted_date_c="2026-01-10 09:00:00"),
        lead("D02", "Paid Search", "brand_search", accepted_date_c="2026-01-11 09:00:00"),
        lead(
            "D03", "Paid Search", "brand_search", rejected_date_c="2026-01-12 09:00:00",
            rejection_reason_c="No Budget",
        ),
        lead("D04", "Paid Search", "brand_search", rejected_date_c="2026-01-15 09:00:00"),
        lead(
            "D05", "Paid Search", "spring_promo", rejected_date_c="2026-01-20 09:00:00",
            rejection_reason_c="Too Expensive",
        ),
        lead(
            "D06", "Paid Search", "spring_promo", rejected_date_c="2026-01-25 09:00:00", rejection_reason_c="Timing",
            accepted_date_c="2026-02-03 09:00:00",
        ),
        lead(
            "D07", "Paid Search", "spring_promo", accepted_date_c="2026-01-08 09:00:00",
            rejected_date_c="2026-02-10 09:00:00", rejection_reason_c="Not ICP",
        ),
        lead("D08", "Organic Search", None, rejected_date_c="2026-01-18 09:00:00", rejection_reason_c="No Budget"),
        lead("D09", "Organic Search", "   ", rejected_date_c="2026-01-22 09:00:00", rejection_reason_c="Timing"),
        lead(
            "D10", "Organic Search", None, industry="Retail", number_of_employees=20, country="Germany",
            rejected_date_c="2026-01-05 09:00:00", rejection_reason_c="Not ICP", accepted_date_c="2026-02-01 09:00:00",
        ),
        lead("D11", "Organic Search", None, rejected_date_c="2026-01-30 09:00:00", rejection_reason_c="Timing"),
        lead("D12", "Outbound", None, accepted_date_c="2026-01-20 09:00:00"),
    ],
    "marketing.engagements": [pricing_visit(lead_id) for lead_id in MQL_LEADS],
}  # fmt: skip


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    tmp_path = tmp_path_factory.mktemp("lead_disposition")
    definitions_file = definitions_with(tmp_path, minimum_bases={"customers": 0, "mrr_usd": 0, "leads": 2})
    settings = settings_for(tmp_path, write_raw(tmp_path / "raw", TABLES), definitions_file=definitions_file)
    result = materialize(settings, '+key:"marts/rpt_lead_rejection_reasons_monthly"')
    assert result.success
    failed = [
        (check.asset_key.to_user_string(), check.check_name)
        for check in result.get_asset_check_evaluations()
        if not check.passed
    ]
    assert not failed
    yield settings


def optional(value: object) -> object:
    return None if pd.isna(value) else value


def test_lifecycle_inputs(built: Settings) -> None:
    """The lifecycle the marts read: D10's CRM acceptance is not counted; D04 and D05 have no valid reason."""
    lifecycle = query(built, "select * from intermediate.int_leads_lifecycle order by lead_id").set_index("lead_id")
    assert lifecycle["mql_at"].notna().to_dict() == {lead_id: lead_id in MQL_LEADS for lead_id in lifecycle.index}
    assert str(lifecycle.loc["D06", "accepted_at"]) == "2026-02-03 09:00:00"
    assert pd.isna(lifecycle.loc["D10", "accepted_at"])
    rejected = lifecycle[lifecycle["rejected_at"].notna()]
    assert rejected["rejection_reason"].to_dict() == {
        "D03": "No Budget",
        "D04": "Unspecified",
        "D05": "Unspecified",
        "D06": "Timing",
        "D07": "Not ICP",
        "D08": "No Budget",
        "D09": "Timing",
        "D10": "Not ICP",
        "D11": "Timing",
    }
    assert rejected.index[rejected["is_rejection_reason_missing"]].tolist() == ["D04", "D05"]


def test_disposition_mart(built: Settings) -> None:
    disposition = query(built, "select * from marts.rpt_lead_disposition_monthly order by all")
    rows = {
        (row.disposition_month.date(), row.channel, row.campaign): (
            row.leads_accepted_count,
            row.leads_rejected_count,
            optional(row.acceptance_rate),
            row.rejections_without_reason_count,
            optional(row.rejection_without_reason_rate),
            row.leads_recycled_count,
            optional(row.acceptance_rate_null_reason),
            optional(row.rejection_without_reason_null_reason),
        )
        for row in disposition.itertuples()
    }
    below, none_rejected = "base below minimum", "no rejection in the month"
    # (accepted, rejected, acceptance rate, rejections without reason, their share, recycled, the two null reasons)
    assert rows == {
        # D01, D02 accepted; D03 (No Budget), D04 (no reason) rejected: 2 / 4; 1 of 2 without a reason (2 rejections:
        # exactly the minimum)
        (JANUARY, "Paid Search", "brand_search"): (2, 2, 0.5, 1, 0.5, 0, None, None),
        # D07 accepted (rejected later, in February); D05 (not in taxonomy), D06 rejected: 1 / 3; 1 of 2 no reason
        (JANUARY, "Paid Search", "spring_promo"): (1, 2, pytest.approx(1 / 3), 1, 0.5, 0, None, None),
        # D08, D09 (blank campaign), D10, D11 rejected, nothing accepted: 0 / 4; every reason valid
        (JANUARY, "Organic", "(none)"): (0, 4, 0.0, 0, 0.0, 0, None, None),
        # D12 accepted, nothing rejected: 1 / 1 without a minimum, but one decision is below 2; no rejection, so
        # no share of them (null, not 0)
        (JANUARY, "Outbound", "(none)"): (1, 0, None, 0, None, 0, below, none_rejected),
        # D06 accepted after its January rejection: recycled; D07 rejected after its January acceptance: 1 / 2
        # (2 decisions: published); 0 of 1 rejection without a reason: one rejection is below 2
        (FEBRUARY, "Paid Search", "spring_promo"): (1, 1, 0.5, 0, None, 1, None, below),
        # No February row for Organic: D10's CRM acceptance on Feb 1 came without an MQL, so it is no decision.
    }


def test_rejection_reasons_mart(built: Settings) -> None:
    reasons = query(built, "select * from marts.rpt_lead_rejection_reasons_monthly order by all")
    rows = {
        (row.rejection_month.date(), row.channel, row.rejection_reason): (
            row.rejections_count,
            row.rejection_share_rate,
            row.rejection_reason_rank,
            bool(row.is_unspecified_reason),
        )
        for row in reasons.itertuples()
    }
    # (rejections, share of the month and channel's rejections, rank, is the unspecified reason)
    assert rows == {
        # January Paid Search, 4 rejections: Unspecified 2 (D04, D05) first; No Budget (D03) and Timing (D06) tie
        # at 1 and are ranked by name: No Budget 2, Timing 3.
        (JANUARY, "Paid Search", "Unspecified"): (2, 0.5, 1, True),
        (JANUARY, "Paid Search", "No Budget"): (1, 0.25, 2, False),
        (JANUARY, "Paid Search", "Timing"): (1, 0.25, 3, False),
        # January Organic, 4 rejections: Timing 2 (D09, D11); No Budget (D08) before Not ICP (D10) by name.
        (JANUARY, "Organic", "Timing"): (2, 0.5, 1, False),
        (JANUARY, "Organic", "No Budget"): (1, 0.25, 2, False),
        (JANUARY, "Organic", "Not ICP"): (1, 0.25, 3, False),
        # February Paid Search: D07 alone.
        (FEBRUARY, "Paid Search", "Not ICP"): (1, 1.0, 1, False),
    }


def test_rejections_reconcile_across_marts_and_lifecycle(built: Settings) -> None:
    """Nine rejected leads: 8 in January (4 Paid Search + 4 Organic), 1 in February (D07), in both marts."""
    per_month = query(
        built,
        """
        select
            disposition.disposition_month,
            disposition.rejected_count,
            reasons.rejected_count as reasons_rejected_count
        from (
            select disposition_month, sum(leads_rejected_count) as rejected_count
            from marts.rpt_lead_disposition_monthly group by disposition_month
        ) as disposition
        inner join (
            select rejection_month, sum(rejections_count) as rejected_count
            from marts.rpt_lead_rejection_reasons_monthly group by rejection_month
        ) as reasons on disposition.disposition_month = reasons.rejection_month
        order by disposition.disposition_month
        """,
    )
    months = [
        (row.disposition_month.date(), row.rejected_count, row.reasons_rejected_count) for row in per_month.itertuples()
    ]
    assert months == [(JANUARY, 8, 8), (FEBRUARY, 1, 1)]
    rejected_leads = query(
        built, "select count(*) as n from intermediate.int_leads_lifecycle where rejected_at is not null"
    )
    assert rejected_leads["n"].item() == 9
