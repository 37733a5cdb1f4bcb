"""Ten leads worked through by hand: the lead funnel fact and the monthly funnel cohorts.

Definitions in force are the project's (`definitions.yml`): a conversion window of 180 days; Discovery is the
sales-qualified stage; Outbound is sales-sourced. Every marketing lead below has a fit of 30 (Manufacturing, not an
ICP industry; 150 or 60 employees, United States): 30 < 40 at its creation, so it becomes an MQL at the moment of its
one demo request (30 + 40 = 70 >= 40).
Paid Search leads L1-L5 and L8 have 150 employees (Mid-Market) and owner U1 (Sales Development).

Lead by lead (times are UTC, day counts are exact):
- L1 created Jan 5 09:00, MQL Jan 5 10:00, accepted Jan 6 22:00 (1.5 d), opportunity O1 Jan 8 10:00 (1.5 d),
  Discovery Jan 12 10:00 (4 d), won Feb 11 10:00 (30 d; 37 d after the MQL).
- L2 created Jan 10 08:00, MQL Jan 10 10:00, accepted Jan 13 10:00 (3 d), O2 Jan 14 10:00 (1 d), Discovery
  Jan 20 10:00 (6 d), won Aug 1 10:00: 203 days after the MQL, past the 180-day window: not counted as won.
- L3 created Jan 20 08:00, MQL Jan 20 10:00, accepted Jan 25 10:00 (5 d), no opportunity.
- L4 created Jan 22 08:00, MQL Jan 22 10:00, rejected.
- L5 created Jan 25 08:00, the rep recorded acceptance at 09:00, before the MQL at 10:00: out of order, so the
  acceptance is not counted, and neither is anything after it (its opportunity O5 was even won).
- L8 created Jan 28 08:00, MQL Feb 2 08:00 (5 d later: January creation cohort, February MQL cohort), accepted
  Feb 4 08:00 (2 d), no opportunity.
- L6 Referral, 150 employees, owner U2 (Account Executives): created Feb 3 08:00, MQL Feb 3 10:00, rejected.
- L7 Outbound (sales-sourced), 1500 employees (Enterprise), no owner: created Feb 10 08:00, accepted Feb 12
  08:00 (2 d), O7 Feb 12 12:00 (4 h), Discovery Feb 15 12:00 (3 d), won Mar 17 12:00 (30 d; 35 d 4 h after creation).
- L9 Organic Search, 60 employees (SMB), owner U9 who is no CRM user: created Mar 1 08:00, MQL Sep 5 08:00:
  188 days after creation, past the window of its creation cohort.
- L10 Organic Search, 20 employees (SMB), owner U2: created Sep 15 08:00, no engagement: the latest creation in
  the data, the reference for cohort maturity.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest

from pipelines.spec.models import Assertion, load_models
from pipelines.spec.settings import Settings
from tests.conftest import materialize, settings_for
from tests.fixtures import NO_MINIMUM_BASES, definitions_with, query, write_raw

COHORT_MART = "rpt_funnel_cohorts_monthly"
SELECTION = f'+key:"marts/{COHORT_MART}" or group:definitions'  # the definitions asset is one multi-asset


def lead(lead_id: str, source: str, employees: int, created: str, owner: str | None, **extra: object) -> dict:
    return {
        "id": lead_id,
        "lead_source": source,
        "industry": "Manufacturing",
        "number_of_employees": employees,
        "country": "United States",
        "created_date": created,
        "owner_id": owner,
        **extra,
    }


def converted(opportunity_id: str, on: str) -> dict:
    return {
        "is_converted": "true",
        "converted_date": on,
        "converted_opportunity_id": opportunity_id,
        "converted_account_id": "001A1",
    }


def demo(engagement_id: str, lead_id: str, at: str) -> dict:
    return {"id": engagement_id, "lead_id": lead_id, "activity_type": "demo_request", "occurred_at": at}


def won_opportunity(opportunity_id: str, source: str, created: str, closed: str) -> dict:
    return {
        "id": opportunity_id, "account_id": "001A1", "stage_name": "Closed Won", "amount": 10000,
        "created_date": created, "close_date": closed[:10], "is_closed": "true", "is_won": "true",
        "lead_source": source,
    }  # fmt: skip


def history(opportunity_id: str, created: str, discovery: str, won: str) -> list[dict]:
    stages = [("H1", "Prospecting", created), ("H2", "Discovery", discovery), ("H3", "Closed Won", won)]
    return [
        {"id": f"{opportunity_id}{suffix}", "opportunity_id": opportunity_id, "stage_name": stage, "created_date": at}
        for suffix, stage, at in stages
    ]


TABLES = {
    "salesforce.user": [
        {"id": "U1", "department": "Sales Development"},
        {"id": "U2", "department": "Account Executives"},
    ],
    "salesforce.lead": [
        lead("L1", "Paid Search", 150, "2026-01-05 09:00:00", "U1", accepted_date_c="2026-01-06 22:00:00",
             **converted("O1", "2026-01-08")),
        lead("L2", "Paid Search", 150, "2026-01-10 08:00:00", "U1", accepted_date_c="2026-01-13 10:00:00",
             **converted("O2", "2026-01-14")),
        lead("L3", "Paid Search", 150, "2026-01-20 08:00:00", "U1", accepted_date_c="2026-01-25 10:00:00"),
        lead("L4", "Paid Search", 150, "2026-01-22 08:00:00", "U1", rejected_date_c="2026-01-23 10:00:00",
             rejection_reason_c="Timing"),
        lead("L5", "Paid Search", 150, "2026-01-25 08:00:00", "U1", accepted_date_c="2026-01-25 09:00:00",
             **converted("O5", "2026-01-26")),
        lead("L8", "Paid Search", 150, "2026-01-28 08:00:00", "U1", accepted_date_c="2026-02-04 08:00:00"),
        lead("L6", "Referral", 150, "2026-02-03 08:00:00", "U2", rejected_date_c="2026-02-04 08:00:00",
             rejection_reason_c="Not ICP"),
        lead("L7", "Outbound", 1500, "2026-02-10 08:00:00", None, accepted_date_c="2026-02-12 08:00:00",
             **converted("O7", "2026-02-12")),
        lead("L9", "Organic Search", 60, "2026-03-01 08:00:00", "U9"),
        lead("L10", "Organic Search", 20, "2026-09-15 08:00:00", "U2"),
    ],
    "marketing.engagements": [
        demo("E1", "L1", "2026-01-05 10:00:00"),
        demo("E2", "L2", "2026-01-10 10:00:00"),
        demo("E3", "L3", "2026-01-20 10:00:00"),
        demo("E4", "L4", "2026-01-22 10:00:00"),
        demo("E5", "L5", "2026-01-25 10:00:00"),
        demo("E8", "L8", "2026-02-02 08:00:00"),
        demo("E6", "L6", "2026-02-03 10:00:00"),
        demo("E9", "L9", "2026-09-05 08:00:00"),
    ],
    "salesforce.account": [{"id": "001A1", "number_of_employees": 150}],
    "salesforce.opportunity": [
        won_opportunity("O1", "Paid Search", "2026-01-08 10:00:00", "2026-02-11 10:00:00"),
        won_opportunity("O2", "Paid Search", "2026-01-14 10:00:00", "2026-08-01 10:00:00"),
        won_opportunity("O5", "Paid Search", "2026-01-26 10:00:00", "2026-02-20 10:00:00"),
        won_opportunity("O7", "Outbound", "2026-02-12 12:00:00", "2026-03-17 12:00:00"),
    ],
    "salesforce.opportunity_history": [
        *history("O1", "2026-01-08 10:00:00", "2026-01-12 10:00:00", "2026-02-11 10:00:00"),
        *history("O2", "2026-01-14 10:00:00", "2026-01-20 10:00:00", "2026-08-01 10:00:00"),
        *history("O5", "2026-01-26 10:00:00", "2026-01-28 10:00:00", "2026-02-20 10:00:00"),
        *history("O7", "2026-02-12 12:00:00", "2026-02-15 12:00:00", "2026-03-17 12:00:00"),
    ],
}  # fmt: skip

PAID = ("Paid Search", "Mid-Market", "Sales Development")
REFERRAL = ("Referral", "Mid-Market", "Account Executives")
OUTBOUND = ("Outbound", "Enterprise", "Unassigned")
ORGANIC_UNASSIGNED = ("Organic", "SMB", "Unassigned")
ORGANIC_AE = ("Organic", "SMB", "Account Executives")
JAN, FEB, MAR, SEP = date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1), date(2026, 9, 1)
COUNTS = [
    "cohort_lead_count",
    "funnel_entered_count",
    "mql_count",
    "accepted_count",
    "opportunity_count",
    "sales_qualified_count",
    "won_count",
]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, dg.ExecuteInProcessResult]]:
    tmp_path = tmp_path_factory.mktemp("funnel_cohorts")
    # Ten leads: rates are published on any base (minimum bases turned off; see test_alignment_scorecard).
    definitions_file = definitions_with(tmp_path, minimum_bases=NO_MINIMUM_BASES)
    settings = settings_for(tmp_path, write_raw(tmp_path / "raw", TABLES), definitions_file=definitions_file)
    result = materialize(settings, SELECTION)
    assert result.success
    yield settings, result


@pytest.fixture(scope="module")
def cohorts(built: tuple[Settings, dg.ExecuteInProcessResult]) -> pd.DataFrame:
    frame = query(built[0], f"select * from marts.{COHORT_MART}")
    frame["cohort_month"] = [value.date() for value in frame["cohort_month"]]
    return frame.set_index(["cohort_type", "cohort_month", "channel", "segment", "owner_team"]).sort_index()


def value(frame: pd.DataFrame, key: tuple, column: str) -> object:
    found = frame.loc[key, column]
    return None if pd.isna(found) else found


def test_fact_stages_owner_team_and_days(built: tuple[Settings, dg.ExecuteInProcessResult]) -> None:
    fact = query(built[0], "select * from marts.fct_lead_funnel").set_index("lead_id")
    assert sorted(fact.index) == ["L1", "L10", "L2", "L3", "L4", "L5", "L6", "L7", "L8", "L9"]
    assert fact["owner_team"].to_dict() == {
        "L1": "Sales Development", "L2": "Sales Development", "L3": "Sales Development", "L4": "Sales Development",
        "L5": "Sales Development", "L8": "Sales Development", "L6": "Account Executives",
        "L7": "Unassigned",  # no owner
        "L9": "Unassigned",  # an owner that is no CRM user
        "L10": "Account Executives",
    }  # fmt: skip
    l1 = fact.loc["L1"]
    assert l1["opportunity_created_at"] == datetime(2026, 1, 8, 10)
    assert l1["won_at"] == datetime(2026, 2, 11, 10)
    assert l1["days_created_to_mql"] == pytest.approx(1 / 24)
    assert l1["days_mql_to_accepted"] == pytest.approx(1.5)
    assert l1["days_accepted_to_opportunity"] == pytest.approx(1.5)
    assert l1["days_opportunity_to_sales_qualified"] == pytest.approx(4)
    assert l1["days_sales_qualified_to_won"] == pytest.approx(30)
    # L2's win is a fact (Jan 20 10:00 -> Aug 1 10:00 = 193 days); only the cohorts leave it out
    assert fact.loc["L2", "days_sales_qualified_to_won"] == pytest.approx(193)
    # L5: the acceptance came before the MQL, so nothing after the MQL counts, though O5 was won
    l5 = fact.loc["L5"]
    assert bool(l5["has_stage_out_of_order"])
    assert [pd.isna(l5[column]) for column in ("accepted_at", "opportunity_created_at", "won_at")] == [True] * 3
    # L7, sales-sourced: no MQL; it enters the funnel when accepted, two days after creation
    l7 = fact.loc["L7"]
    assert bool(l7["is_sales_sourced"]) and pd.isna(l7["mql_at"])
    assert l7["funnel_entered_at"] == datetime(2026, 2, 12, 8)
    assert l7["days_created_to_funnel_entered"] == pytest.approx(2)
    assert pd.isna(l7["days_mql_to_accepted"])
    assert l7["days_accepted_to_opportunity"] == pytest.approx(4 / 24)
    assert not fact.drop(index="L5")["has_stage_out_of_order"].any()


def test_cohort_rows_and_counts(cohorts: pd.DataFrame) -> None:
    counts = {
        key: tuple(int(count) for count in row) for key, row in zip(cohorts.index, cohorts[COUNTS].values, strict=True)
    }
    assert counts == {
        # MQL in January: L1-L5. Accepted L1, L2, L3 (L5 out of order); opportunity and qualified L1, L2;
        # won L1 only (L2 won 203 days after its MQL, past the window).
        ("mql_month", JAN, *PAID): (5, 5, 5, 3, 2, 2, 1),
        ("mql_month", FEB, *PAID): (1, 1, 1, 1, 0, 0, 0),  # L8
        ("mql_month", FEB, *REFERRAL): (1, 1, 1, 0, 0, 0, 0),  # L6, rejected
        ("mql_month", SEP, *ORGANIC_UNASSIGNED): (1, 1, 1, 0, 0, 0, 0),  # L9
        # created in January: L1-L5 and L8, all MQL within 5 days; accepted L1, L2, L3, L8; won L1 (L2 203 d + 2 h)
        ("created_month", JAN, *PAID): (6, 6, 6, 4, 2, 2, 1),
        ("created_month", FEB, *REFERRAL): (1, 1, 1, 0, 0, 0, 0),  # L6
        # L7 sales-sourced: enters by its acceptance, no MQL; reaches won within the window
        ("created_month", FEB, *OUTBOUND): (1, 1, 0, 1, 1, 1, 1),
        # L9: its MQL came 188 days after creation, past the window: it never entered this cohort's funnel
        ("created_month", MAR, *ORGANIC_UNASSIGNED): (1, 0, 0, 0, 0, 0, 0),
        ("created_month", SEP, *ORGANIC_AE): (1, 0, 0, 0, 0, 0, 0),  # L10
    }


def test_conversion_rates_and_zero_denominators(cohorts: pd.DataFrame) -> None:
    january_mql = ("mql_month", JAN, *PAID)
    assert value(cohorts, january_mql, "cohort_to_funnel_entered_rate") == pytest.approx(1.0)
    assert value(cohorts, january_mql, "funnel_entered_to_accepted_rate") == pytest.approx(3 / 5)
    assert value(cohorts, january_mql, "accepted_to_opportunity_rate") == pytest.approx(2 / 3)
    assert value(cohorts, january_mql, "opportunity_to_sales_qualified_rate") == pytest.approx(1.0)
    assert value(cohorts, january_mql, "sales_qualified_to_won_rate") == pytest.approx(1 / 2)
    assert value(cohorts, january_mql, "cohort_to_won_rate") == pytest.approx(1 / 5)
    january_created = ("created_month", JAN, *PAID)
    assert value(cohorts, january_created, "funnel_entered_to_accepted_rate") == pytest.approx(4 / 6)
    assert value(cohorts, january_created, "accepted_to_opportunity_rate") == pytest.approx(2 / 4)
    assert value(cohorts, january_created, "cohort_to_won_rate") == pytest.approx(1 / 6)
    # L6's cohort: one MQL, nobody accepted: 0 accepted of 1 is 0, but after that every denominator is 0: null
    referral = ("mql_month", FEB, *REFERRAL)
    assert value(cohorts, referral, "funnel_entered_to_accepted_rate") == pytest.approx(0.0)
    for rate in ("accepted_to_opportunity_rate", "opportunity_to_sales_qualified_rate", "sales_qualified_to_won_rate"):
        assert value(cohorts, referral, rate) is None
    assert value(cohorts, referral, "cohort_to_won_rate") == pytest.approx(0.0)
    # L9's creation cohort: nobody entered in the window: no entered-to-accepted rate
    late = ("created_month", MAR, *ORGANIC_UNASSIGNED)
    assert value(cohorts, late, "cohort_to_funnel_entered_rate") == pytest.approx(0.0)
    assert value(cohorts, late, "funnel_entered_to_accepted_rate") is None
    # L7: 1 of 1 at every step
    assert value(cohorts, ("created_month", FEB, *OUTBOUND), "cohort_to_won_rate") == pytest.approx(1.0)


def test_days_between_stages(cohorts: pd.DataFrame) -> None:
    january_mql = ("mql_month", JAN, *PAID)
    # MQL -> accepted: L1 1.5, L2 3, L3 5: median 3; p90 at position 0.9 * 2 = 1.8: 3 + 0.8 * (5 - 3) = 4.6
    assert value(cohorts, january_mql, "median_days_funnel_entered_to_accepted") == pytest.approx(3)
    assert value(cohorts, january_mql, "p90_days_funnel_entered_to_accepted") == pytest.approx(4.6)
    # accepted -> opportunity: L1 1.5, L2 1: median 1.25; opportunity -> qualified: 4, 6: median 5, p90 4 + 0.9 * 2
    assert value(cohorts, january_mql, "median_days_accepted_to_opportunity") == pytest.approx(1.25)
    assert value(cohorts, january_mql, "median_days_opportunity_to_sales_qualified") == pytest.approx(5)
    assert value(cohorts, january_mql, "p90_days_opportunity_to_sales_qualified") == pytest.approx(5.8)
    # qualified -> won and MQL -> won: L1 only (30 and 37 days); L2's late win is not in the window
    assert value(cohorts, january_mql, "median_days_sales_qualified_to_won") == pytest.approx(30)
    assert value(cohorts, january_mql, "median_days_to_won") == pytest.approx(37)
    assert value(cohorts, january_mql, "median_days_to_funnel_entered") == pytest.approx(0)
    january_created = ("created_month", JAN, *PAID)
    # creation -> MQL: 1 h (L1), 2 h (L2, L3, L4, L5), 5 d (L8): median 2 h
    assert value(cohorts, january_created, "median_days_to_funnel_entered") == pytest.approx(2 / 24)
    # entered -> accepted: 1.5 (L1), 2 (L8), 3 (L2), 5 (L3): median 2.5; p90 at 2.7: 3 + 0.7 * (5 - 3) = 4.4
    assert value(cohorts, january_created, "median_days_funnel_entered_to_accepted") == pytest.approx(2.5)
    assert value(cohorts, january_created, "p90_days_funnel_entered_to_accepted") == pytest.approx(4.4)
    assert value(cohorts, january_created, "median_days_to_won") == pytest.approx(37 + 1 / 24)
    outbound = ("created_month", FEB, *OUTBOUND)
    assert value(cohorts, outbound, "median_days_to_funnel_entered") == pytest.approx(2)
    assert value(cohorts, outbound, "median_days_funnel_entered_to_accepted") == pytest.approx(0)
    assert value(cohorts, outbound, "median_days_to_won") == pytest.approx(35 + 4 / 24)
    # nobody accepted in L6's cohort: no days to speak of
    assert value(cohorts, ("mql_month", FEB, *REFERRAL), "median_days_funnel_entered_to_accepted") is None


def test_cohort_maturity_against_the_latest_lead(cohorts: pd.DataFrame) -> None:
    # latest creation: L10, Sep 15 08:00. A month's window closes 180 days after the month ends:
    # January -> Jul 31, February -> Aug 28 (mature); March -> Sep 28, September -> Mar 30 2027 (not yet)
    maturity = {(key[0], key[1]): bool(mature) for key, mature in cohorts["is_cohort_mature"].items()}
    assert maturity == {
        ("created_month", JAN): True,
        ("created_month", FEB): True,
        ("created_month", MAR): False,
        ("created_month", SEP): False,
        ("mql_month", JAN): True,
        ("mql_month", FEB): True,
        ("mql_month", SEP): False,
    }
    assert set(cohorts["data_as_of_at"]) == {pd.Timestamp(2026, 9, 15, 8)}
    assert value(cohorts, ("created_month", MAR, *ORGANIC_UNASSIGNED), "cohort_window_ends_at") == pd.Timestamp(
        2026, 9, 28
    )


def test_cross_model_assertions_pass(built: tuple[Settings, dg.ExecuteInProcessResult]) -> None:
    evaluations = {
        check.check_name: check.passed
        for check in built[1].get_asset_check_evaluations()
        if check.asset_key.to_user_string() == f"marts/{COHORT_MART}"
    }
    assert evaluations["assert_cohort_leads_match_fact"] is True
    assert evaluations["assert_cohort_won_within_fact_won"] is True


def cohort_assertion(name: str) -> Assertion:
    model = next(model for model in load_models(Path(__file__).parents[2] / "models") if model.name == COHORT_MART)
    return next(assertion for assertion in model.assertions if assertion.name == name)


def test_totals_assertion_catches_a_cohort_that_loses_leads(tmp_path: Path) -> None:
    assertion = cohort_assertion("assert_cohort_leads_match_fact")
    with duckdb.connect(str(tmp_path / "scratch.duckdb")) as connection:
        connection.execute("create schema marts")
        connection.execute(
            "create table marts.fct_lead_funnel as select * from (values "
            "('L1', timestamp '2026-01-01', timestamp '2026-01-02'), ('L2', timestamp '2026-01-03', null)"
            ") as funnel(lead_id, created_at, mql_at)"
        )
        connection.execute(
            f"create table marts.{COHORT_MART} as select * from (values "
            "('mql_month', 1), ('created_month', 1)) as cohorts(cohort_type, cohort_lead_count)"
        )
        violations = connection.execute(assertion.sql).fetchall()
    # two leads were created, only one is in a creation cohort; the one MQL is in its MQL cohort
    assert violations == [("created_month", 1, 2)]
