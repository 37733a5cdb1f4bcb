"""The edges of the MQL and sales-accepted definitions, worked through by hand from `definitions.yml`.

Definitions in force (the project's file): fit points 20 (industry Software) + 20 (50-5000 employees) + 10 (country
United States); MQL when fit + decayed engagement points >= 40 with fit >= 20, evaluated at the lead's creation and at
each engagement (those before the creation included), never earlier than the creation; demo request 40, pricing visit
15, form fill 10; points halve every 30 days. Sales may accept a lead from its MQL or its workspace's PQL, whichever
came first (from its creation when it is sales-sourced, Outbound); a conversion recorded only as a date is a date in
reporting.time_zone (UTC here, America/New_York in the variant): it accepts the lead when it is on or after that
moment's local date, at the later of that moment and the start of the conversion date. PQL: >= 2 active users and >= 2
activation events within 14 days of the trial start.

MQL moments (fit = industry + size + country):
- F1 Software, 150, US: fit 50 >= 40 at creation, no engagement: MQL at its creation 2026-01-05 09:00, score 50.
- F2 Software, 150, Germany: fit 40 == 40 (equal counts): MQL at its creation 2026-01-06 09:00, score 40.
- F3 Software, 10, Germany: fit 20 == the minimum (counts). Creation: 20 < 40. Form fill Jan 11 08:00: 30 < 40.
  Pricing visit Jan 11 09:00: 20 + 10 * 0.5^(1h / 720h) + 15 = 44.990: MQL at 2026-01-11 09:00.
- F4 Retail, 10, US: fit 10; a demo request makes 50 >= 40, but fit 10 < 20: never an MQL.
- F5 fit 20, created Feb 1 00:00 with a pricing visit at that moment: 35. Form fill Mar 3 00:00 (30 days later):
  20 + 15 * 0.5 + 10 = 37.5 < 40 (45 without the decay). Pricing visit Apr 2 00:00 (60 and 30 days after the
  earlier two): 20 + 15 * 0.25 + 10 * 0.5 + 15 = 43.75: MQL at 2026-04-02 00:00.
- F6 Retail, 150, US: fit 30, created Jan 20 00:00 by a form fill logged a minute earlier (Jan 19 23:59): 30 + 10 =
  40 at the form fill, before the lead existed: MQL at its creation 2026-01-20 00:00 (never before it), score 40.
  (At the creation itself the form fill has decayed for a minute, to 39.9998: evaluating only from the creation on
  would lose the lead that the form fill created.)

Acceptance:
- A1 fit 50, created and MQL 2026-02-03 15:00; converted 2026-02-03 (no acceptance time): the MQL's date, so
  accepted at max(15:00, 00:00) = 2026-02-03 15:00; its opportunity reaches Discovery Feb 10 12:00 (sales-qualified)
  and is won Mar 1 15:00. Not out of order.
- A2 like A1, converted 2026-02-05: accepted at the start of that date, 2026-02-05 00:00.
- A3 fit 20, created Feb 1 08:00, demo request Feb 3 10:00: MQL Feb 3 10:00 (60). Converted 2026-02-02, the day
  before: not accepted, out of order.
- A4 Outbound (sales-sourced), created Feb 4 14:00, converted 2026-02-04: accepted at max(14:00, 00:00) = 14:00.
- N1 fit 20, created Mar 1 12:00 UTC, demo request 2026-03-02 03:00 UTC: MQL then (= Mar 1 22:00 in New York, EST,
  UTC-5). Converted 2026-03-01. In UTC that date is before the MQL's (Mar 2): not accepted, out of order. In New
  York it is the MQL's local date: accepted at max(Mar 2 03:00, Mar 1 00:00 EST = Mar 1 05:00 UTC) = Mar 2 03:00.
- N2 like N1, converted 2026-03-02. UTC: accepted at max(Mar 2 03:00, Mar 2 00:00) = 03:00. New York: the date is
  after the MQL's local date (Mar 1), accepted at its start, Mar 2 00:00 EST = 2026-03-02 05:00 UTC.

PQL-only leads (Product Sign-up, fit 0: Retail, 10 employees, Germany; never an MQL):
- Workspaces WP1, WP2: trial_started by U1 Feb 1 09:00, project_created by U1 Feb 2 09:00, report_shared by U2
  Feb 3 09:00 (second user, second activation event): PQL at 2026-02-03 09:00. WP3: the same events all by U1 (one
  user): never a PQL.
- P1 (WP1), acceptance recorded Feb 4 09:00, after its PQL: accepted then.
- P2 (WP2), converted 2026-02-03 (the PQL's date), no acceptance time: accepted at max(Feb 3 09:00, 00:00) = 09:00.
- P3 (WP3), acceptance recorded Feb 4 09:00, but neither an MQL nor a PQL: not accepted, out of order.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import yaml

from pipelines.spec.settings import PROJECT_ROOT, Settings
from pipelines.warehouse.shared_definitions import load_definitions
from pipelines.warehouse.suites import load_suites, run_suite
from tests.conftest import materialize, settings_for
from tests.fixtures import query, write_raw

SELECTION = '+key:"intermediate/int_leads_lifecycle"'
AS_OF = "2026-04-30"  # after the last engagement, so no row lies beyond the data horizon

FIT_50 = {"industry": "Software", "number_of_employees": 150, "country": "United States"}
FIT_40 = {"industry": "Software", "number_of_employees": 150, "country": "Germany"}
FIT_30 = {"industry": "Retail", "number_of_employees": 150, "country": "United States"}
FIT_20 = {"industry": "Software", "number_of_employees": 10, "country": "Germany"}
FIT_10 = {"industry": "Retail", "number_of_employees": 10, "country": "United States"}
FIT_0 = {"industry": "Retail", "number_of_employees": 10, "country": "Germany"}


def lead(lead_id: str, source: str, fit: dict, created: str, **extra: object) -> dict:
    return {"id": lead_id, "lead_source": source, "created_date": created, **fit, **extra}


def engagement(engagement_id: str, lead_id: str, activity: str, at: str) -> dict:
    return {"id": engagement_id, "lead_id": lead_id, "activity_type": activity, "occurred_at": at}


def event(event_id: str, name: str, user: str, workspace: str, at: str) -> dict:
    return {"id": event_id, "event": name, "user_id": user, "account_id": workspace, "timestamp": at, "received_at": at}


def trial(workspace: str, second_user: str) -> list[dict]:
    """A trial from Feb 1 09:00 with two activation events, the second by `second_user`."""
    return [
        event(f"{workspace}-1", "trial_started", "U1", workspace, "2026-02-01 09:00:00"),
        event(f"{workspace}-2", "project_created", "U1", workspace, "2026-02-02 09:00:00"),
        event(f"{workspace}-3", "report_shared", second_user, workspace, "2026-02-03 09:00:00"),
    ]


def converted(date: str, opportunity: str | None = None) -> dict:
    """A conversion recorded only as a date, as Salesforce records `ConvertedDate`, without an acceptance time."""
    return {"is_converted": "true", "converted_date": date, "converted_opportunity_id": opportunity}


TABLES = {
    "salesforce.lead": [
        lead("00QF1", "Paid Search", FIT_50, "2026-01-05 09:00:00"),
        lead("00QF2", "Paid Search", FIT_40, "2026-01-06 09:00:00"),
        lead("00QF3", "Paid Search", FIT_20, "2026-01-10 08:00:00"),
        lead("00QF4", "Paid Search", FIT_10, "2026-01-12 07:00:00"),
        lead("00QF5", "Paid Search", FIT_20, "2026-02-01 00:00:00"),
        lead("00QF6", "Paid Search", FIT_30, "2026-01-20 00:00:00"),
        lead("00QA1", "Paid Search", FIT_50, "2026-02-03 15:00:00", **converted("2026-02-03", "006A1"),
             converted_account_id="001A1"),
        lead("00QA2", "Paid Search", FIT_50, "2026-02-03 15:00:00", **converted("2026-02-05")),
        lead("00QA3", "Paid Search", FIT_20, "2026-02-01 08:00:00", **converted("2026-02-02")),
        lead("00QA4", "Outbound", FIT_0, "2026-02-04 14:00:00", **converted("2026-02-04")),
        lead("00QN1", "Paid Search", FIT_20, "2026-03-01 12:00:00", **converted("2026-03-01")),
        lead("00QN2", "Paid Search", FIT_20, "2026-03-01 12:00:00", **converted("2026-03-02")),
        lead("00QP1", "Product Sign-up", FIT_0, "2026-02-01 09:30:00", product_workspace_id_c="WP1",
             accepted_date_c="2026-02-04 09:00:00"),
        lead("00QP2", "Product Sign-up", FIT_0, "2026-02-01 09:30:00", product_workspace_id_c="WP2",
             **converted("2026-02-03")),
        lead("00QP3", "Product Sign-up", FIT_0, "2026-02-01 09:30:00", product_workspace_id_c="WP3",
             accepted_date_c="2026-02-04 09:00:00"),
    ],
    "marketing.engagements": [
        engagement("E1", "00QF3", "form_fill", "2026-01-11 08:00:00"),
        engagement("E2", "00QF3", "pricing_page_visit", "2026-01-11 09:00:00"),
        engagement("E3", "00QF4", "demo_request", "2026-01-12 08:00:00"),
        engagement("E4", "00QF5", "pricing_page_visit", "2026-02-01 00:00:00"),
        engagement("E5", "00QF5", "form_fill", "2026-03-03 00:00:00"),
        engagement("E6", "00QF5", "pricing_page_visit", "2026-04-02 00:00:00"),
        engagement("E7", "00QF6", "form_fill", "2026-01-19 23:59:00"),
        engagement("E8", "00QA3", "demo_request", "2026-02-03 10:00:00"),
        engagement("E9", "00QN1", "demo_request", "2026-03-02 03:00:00"),
        engagement("E10", "00QN2", "demo_request", "2026-03-02 03:00:00"),
    ],
    "product.events": [*trial("WP1", "U2"), *trial("WP2", "U2"), *trial("WP3", "U1")],
    "salesforce.account": [{"id": "001A1", "number_of_employees": 150}],
    "salesforce.opportunity": [
        {
            "id": "006A1", "account_id": "001A1", "stage_name": "Closed Won", "amount": 12000,
            "created_date": "2026-02-03 16:00:00", "close_date": "2026-03-01", "is_closed": "true", "is_won": "true",
            "lead_source": "Paid Search",
        }
    ],
    "salesforce.opportunity_history": [
        {"id": "H1", "opportunity_id": "006A1", "stage_name": "Prospecting", "created_date": "2026-02-03 16:00:00"},
        {"id": "H2", "opportunity_id": "006A1", "stage_name": "Discovery", "created_date": "2026-02-10 12:00:00"},
        {"id": "H3", "opportunity_id": "006A1", "stage_name": "Closed Won", "created_date": "2026-03-01 15:00:00"},
    ],
}  # fmt: skip


def new_york_definitions(directory: Path) -> Path:
    """The project's definitions file with the reporting time zone set to America/New_York."""
    document = yaml.safe_load((PROJECT_ROOT / "definitions.yml").read_text())
    document["reporting"]["time_zone"] = "America/New_York"
    path = directory / "definitions.yml"
    path.write_text(yaml.safe_dump(document))
    return path


def build(directory: Path, **overrides: object) -> Settings:
    settings = settings_for(directory, write_raw(directory / "raw", TABLES), as_of=AS_OF, **overrides)
    assert materialize(settings, SELECTION).success
    return settings


@pytest.fixture(scope="module")
def in_utc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    yield build(tmp_path_factory.mktemp("mql_edges_utc"))


@pytest.fixture(scope="module")
def in_new_york(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    directory = tmp_path_factory.mktemp("mql_edges_new_york")
    yield build(directory, definitions_file=new_york_definitions(directory))


def as_text(value: object) -> str | None:
    return None if pd.isna(value) else str(value)  # type: ignore[arg-type]


def lifecycle(settings: Settings) -> pd.DataFrame:
    return query(settings, "select * from intermediate.int_leads_lifecycle order by lead_id").set_index("lead_id")


def test_mql_at_creation_and_at_each_engagement(in_utc: Settings) -> None:
    scored = query(in_utc, "select * from intermediate.int_leads_scored order by lead_id").set_index("lead_id")
    mql_leads = ["00QF1", "00QF2", "00QF3", "00QF4", "00QF5", "00QF6"]
    assert {lead_id: as_text(scored.loc[lead_id, "mql_at"]) for lead_id in mql_leads} == {
        "00QF1": "2026-01-05 09:00:00",
        "00QF2": "2026-01-06 09:00:00",
        "00QF3": "2026-01-11 09:00:00",
        "00QF4": None,
        "00QF5": "2026-04-02 00:00:00",
        "00QF6": "2026-01-20 00:00:00",
    }
    assert scored.loc[mql_leads, "fit_score"].to_dict() == {
        "00QF1": 50, "00QF2": 40, "00QF3": 20, "00QF4": 10, "00QF5": 20, "00QF6": 30
    }  # fmt: skip
    assert scored.loc["00QF1", "score_at_mql"] == pytest.approx(50)
    assert scored.loc["00QF2", "score_at_mql"] == pytest.approx(40)
    assert scored.loc["00QF3", "score_at_mql"] == pytest.approx(20 + 10 * 0.5 ** (1 / 720) + 15)
    assert scored.loc["00QF5", "score_at_mql"] == pytest.approx(43.75)
    assert scored.loc["00QF6", "score_at_mql"] == pytest.approx(40)
    # F4 peaked at 50 on its demo request: the fit minimum, not the score, keeps it out.
    assert scored.loc["00QF4", "peak_score"] == pytest.approx(50)


STAGES = ["mql_at", "accepted_at", "sales_qualified_at", "won_at", "has_stage_out_of_order"]


def stages(frame: pd.DataFrame, lead_ids: list[str]) -> dict[str, tuple[str | None, ...]]:
    return {
        lead_id: (*(as_text(frame.loc[lead_id, stage]) for stage in STAGES[:-1]), bool(frame.loc[lead_id, STAGES[-1]]))
        for lead_id in lead_ids
    }


def test_a_conversion_date_accepts_on_or_after_the_qualifying_date(in_utc: Settings) -> None:
    frame = lifecycle(in_utc)
    leads = ["00QA1", "00QA2", "00QA3", "00QA4", "00QN1", "00QN2"]
    assert stages(frame, leads) == {
        "00QA1": ("2026-02-03 15:00:00", "2026-02-03 15:00:00", "2026-02-10 12:00:00", "2026-03-01 15:00:00", False),
        "00QA2": ("2026-02-03 15:00:00", "2026-02-05 00:00:00", None, None, False),
        "00QA3": ("2026-02-03 10:00:00", None, None, None, True),
        "00QA4": (None, "2026-02-04 14:00:00", None, None, False),
        "00QN1": ("2026-03-02 03:00:00", None, None, None, True),
        "00QN2": ("2026-03-02 03:00:00", "2026-03-02 03:00:00", None, None, False),
    }


def test_a_conversion_date_is_a_date_in_the_reporting_time_zone(in_new_york: Settings) -> None:
    frame = lifecycle(in_new_york)
    assert stages(frame, ["00QN1", "00QN2", "00QA1", "00QA3"]) == {
        "00QN1": ("2026-03-02 03:00:00", "2026-03-02 03:00:00", None, None, False),
        "00QN2": ("2026-03-02 03:00:00", "2026-03-02 05:00:00", None, None, False),
        # Feb 3 15:00 UTC is 10:00 in New York, the same date: A1 is accepted at its MQL, as in UTC.
        "00QA1": ("2026-02-03 15:00:00", "2026-02-03 15:00:00", "2026-02-10 12:00:00", "2026-03-01 15:00:00", False),
        # Feb 3 10:00 UTC is 05:00 in New York: the conversion on Feb 2 is still the day before.
        "00QA3": ("2026-02-03 10:00:00", None, None, None, True),
    }


def test_a_pql_lead_may_be_accepted_after_its_pql(in_utc: Settings) -> None:
    frame = lifecycle(in_utc)
    assert {lead_id: as_text(frame.loc[lead_id, "pql_at"]) for lead_id in ["00QP1", "00QP2", "00QP3"]} == {
        "00QP1": "2026-02-03 09:00:00",
        "00QP2": "2026-02-03 09:00:00",
        "00QP3": None,
    }
    assert stages(frame, ["00QP1", "00QP2", "00QP3"]) == {
        "00QP1": (None, "2026-02-04 09:00:00", None, None, False),
        "00QP2": (None, "2026-02-03 09:00:00", None, None, False),
        "00QP3": (None, None, None, None, True),
    }


def test_the_lifecycle_suite_rejects_an_acceptance_before_any_mql_or_pql(in_utc: Settings) -> None:
    """The suite passed on this build (its checks ran in it); moving P1's PQL after its acceptance must fail it."""
    suite = {suite.name: suite for suite in load_suites(PROJECT_ROOT / "expectations")}["lead_lifecycle_definitions"]
    document = load_definitions(PROJECT_ROOT / "definitions.yml").document
    frame = lifecycle(in_utc).reset_index()
    assert run_suite(suite, frame, document, ["lead_id"]).success

    late_pql = frame.copy()
    p1 = late_pql.index[late_pql["lead_id"] == "00QP1"][0]
    late_pql.loc[p1, "pql_at"] = pd.Timestamp("2026-02-05 09:00:00")
    result = run_suite(suite, late_pql, document, ["lead_id"])
    assert not result.broken, result.summary()
    assert {outcome.description: outcome.sample_keys for outcome in result.outcomes if not outcome.success} == {
        "every accepted lead that is not sales-sourced was an MQL or a PQL first": ["00QP1"],
        # stated from the recorded acceptance too: recorded before the PQL, it cannot accept the lead
        "a recorded acceptance before the lead's MQL and PQL (its creation when sales-sourced) does not accept it": [
            "00QP1"
        ],
        "no lead is accepted before its MQL and PQL (its creation when sales-sourced)": ["00QP1"],
    }
