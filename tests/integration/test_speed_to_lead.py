"""Speed-to-lead worked through by hand: seven MQLs, their first sales touch, the SLA, and the weekly/monthly rollup.

Definitions in force are the project's (`definitions.yml`): SLA 60 minutes; sales touch task types Call and Email.
Every lead below is in Manufacturing (not an ICP industry), in the United States, with 150 employees (Mid-Market) or
1500 (Enterprise): fit 20 + 10 = 30 < 40 at its creation. One pricing-page visit adds 15: 45 >= 40 with fit >= 20, so
each lead is an MQL at its visit.

Touch rules (see `fct_speed_to_lead`): a closed task of a touch type is timed at its completion, else its creation;
a meeting at its start; on the lead or its converted contact; by a CRM user. Open tasks, meetings not yet started
by the data's latest timestamp, other task types and non-users do not count.

The data's latest timestamp is the open call planned on G, logged 2026-01-31 23:50 (later than every lead,
engagement, task and meeting logged; D's meeting *starts* later, but start times do not count).

Lead  owner (team)  segment     MQL (visit)      first sales touch                                  minutes  SLA
A     U1 (SDR)      Mid-Market  Mon 01-05 10:00  Call 10:30 by U1 (Other 10:05, open Call 10:10 ignored)  30  within
B     U1 (SDR)      Mid-Market  Tue 01-06 09:00  Email 12:00 by U2                                       180  breached
C     U2 (AE)       Mid-Market  Wed 01-07 12:00  none (a Call at 09:00 came before: 1 before the MQL)      -  breached
D     U2 (AE)       Enterprise  Thu 01-08 14:00  none (Call by a non-user; meeting 02-02 not started)     -  breached
E     U1 (SDR)      Mid-Market  Fri 01-09 16:00  meeting 16:45 by U2 on its contact (Call 17:30 later)   45  within
F     U1 (SDR)      Mid-Market  Mon 01-12 09:00  Email closed, no completion time: created 10:00        60  within
G     none          Mid-Market  Sat 01-31 23:30  none, 20 minutes before the data ends                   -  pending
H     U1            outbound: sales-sourced, never an MQL, so not in the fact table (though touched)

F sits exactly on the SLA: 60 <= 60 is within. G is pending: neither within the SLA nor breached, never touched.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime

import pandas as pd
import pytest

from pipelines.spec.settings import Settings
from tests.conftest import materialize, settings_for
from tests.fixtures import NO_MINIMUM_BASES, definitions_with, query, write_raw

U1, U2, NOT_A_USER = "005U1", "005U2", "005ZZ"


def lead(lead_id: str, owner: str | None, employees: int, created: str, source: str = "Paid Search", **extra: object):
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


def visit(engagement_id: str, lead_id: str, at: str) -> dict:
    return {"id": engagement_id, "lead_id": lead_id, "activity_type": "pricing_page_visit", "occurred_at": at}


def task(task_id: str, who: str, owner: str, kind: str, created: str, completed: str | None, closed: bool) -> dict:
    return {
        "id": task_id,
        "who_id": who,
        "owner_id": owner,
        "type": kind,
        "status": "Completed" if closed else "Not Started",
        "created_date": created,
        "completed_date_time": completed,
        "is_closed": "true" if closed else "false",
    }


def meeting(event_id: str, who: str, owner: str, created: str, starts: str) -> dict:
    return {"id": event_id, "who_id": who, "owner_id": owner, "type": "Meeting", "created_date": created,
            "start_date_time": starts}  # fmt: skip


TABLES = {
    "salesforce.user": [
        {"id": U1, "name": "Rep One", "department": "Sales Development"},
        {"id": U2, "name": "Rep Two", "department": "Account Executives"},
    ],
    "salesforce.lead": [
        lead("00QA", U1, 150, "2026-01-05 08:00:00"),
        lead("00QB", U1, 150, "2026-01-06 08:00:00"),
        lead("00QC", U2, 150, "2026-01-07 08:00:00"),
        lead("00QD", U2, 1500, "2026-01-08 08:00:00"),
        lead(
            "00QE", U1, 150, "2026-01-09 08:00:00",
            is_converted="true", converted_date="2026-01-10", converted_contact_id="003E",
        ),
        lead("00QF", U1, 150, "2026-01-12 08:00:00"),
        lead("00QG", None, 150, "2026-01-31 22:00:00"),
        lead("00QH", U1, 150, "2026-01-10 08:00:00", source="Outbound"),
    ],
    "marketing.engagements": [
        visit("E_A", "00QA", "2026-01-05 10:00:00"),
        visit("E_B", "00QB", "2026-01-06 09:00:00"),
        visit("E_C", "00QC", "2026-01-07 12:00:00"),
        visit("E_D", "00QD", "2026-01-08 14:00:00"),
        visit("E_E", "00QE", "2026-01-09 16:00:00"),
        visit("E_F", "00QF", "2026-01-12 09:00:00"),
        visit("E_G", "00QG", "2026-01-31 23:30:00"),
    ],
    "salesforce.task": [
        task("T1", "00QA", U1, "Call", "2026-01-05 10:30:00", "2026-01-05 10:30:00", closed=True),
        task("T2", "00QA", U1, "Other", "2026-01-05 10:05:00", "2026-01-05 10:05:00", closed=True),  # not a touch type
        task("T3", "00QA", U1, "Call", "2026-01-05 10:10:00", None, closed=False),  # planned, not made
        task("T4", "00QB", U2, "Email", "2026-01-06 12:00:00", "2026-01-06 12:00:00", closed=True),
        task("T5", "00QC", U2, "Call", "2026-01-07 09:00:00", "2026-01-07 09:00:00", closed=True),  # before the MQL
        task("T6", "00QD", NOT_A_USER, "Call", "2026-01-08 14:30:00", "2026-01-08 14:30:00", closed=True),
        task("T7", "00QE", U1, "Call", "2026-01-09 17:30:00", "2026-01-09 17:30:00", closed=True),
        task("T8", "00QF", U1, "Email", "2026-01-12 10:00:00", None, closed=True),  # closed, no completion time
        task("T9", "00QG", U1, "Call", "2026-01-31 23:50:00", None, closed=False),  # the data's latest timestamp
        task("T10", "00QH", U1, "Call", "2026-01-10 10:00:00", "2026-01-10 10:00:00", closed=True),
    ],
    "salesforce.event": [
        meeting("V1", "003E", U2, "2026-01-09 16:10:00", "2026-01-09 16:45:00"),  # on E's contact
        meeting("V2", "00QD", U2, "2026-01-08 15:00:00", "2026-02-02 10:00:00"),  # not started by 01-31 23:50
    ],
}  # fmt: skip


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    tmp_path = tmp_path_factory.mktemp("speed_to_lead")
    # A handful of leads: rates are published on any base (minimum bases turned off; see test_alignment_scorecard).
    definitions_file = definitions_with(tmp_path, minimum_bases=NO_MINIMUM_BASES)
    settings = settings_for(tmp_path, write_raw(tmp_path / "raw", TABLES), definitions_file=definitions_file)
    result = materialize(settings, '+key:"marts/rpt_speed_to_lead_periods"')
    assert result.success
    evaluations = result.get_asset_check_evaluations()
    assert not [evaluation.check_name for evaluation in evaluations if not evaluation.passed]
    # the cross-model assertions of both marts ran (and passed) on this data
    assert {evaluation.check_name for evaluation in evaluations if evaluation.passed} >= {
        "assert_one_row_per_mql",
        "assert_period_totals_match_facts",
    }
    yield settings


def none_if_na(value: object) -> object:
    return None if pd.isna(value) else value


def test_fact_rows(built: Settings) -> None:
    facts = query(built, "select * from marts.fct_speed_to_lead order by lead_id").set_index("lead_id")
    columns = [
        "mql_at", "owner_user_id", "owner_team", "segment", "first_touch_at", "first_touch_user_id",
        "first_touch_kind", "minutes_to_first_touch", "touches_before_mql_count",
    ]  # fmt: skip
    rows = {
        lead_id: tuple(none_if_na(value) for value in row)
        for lead_id, row in zip(facts.index, facts[columns].itertuples(index=False), strict=True)
    }
    at, sd, ae, mm = datetime, "Sales Development", "Account Executives", "Mid-Market"
    assert rows == {
        "00QA": (at(2026, 1, 5, 10), U1, sd, mm, at(2026, 1, 5, 10, 30), U1, "task", 30.0, 0),
        "00QB": (at(2026, 1, 6, 9), U1, sd, mm, at(2026, 1, 6, 12), U2, "task", 180.0, 0),
        "00QC": (at(2026, 1, 7, 12), U2, ae, mm, None, None, None, None, 1),
        "00QD": (at(2026, 1, 8, 14), U2, ae, "Enterprise", None, None, None, None, 0),
        "00QE": (at(2026, 1, 9, 16), U1, sd, mm, at(2026, 1, 9, 16, 45), U2, "event", 45.0, 0),
        "00QF": (at(2026, 1, 12, 9), U1, sd, mm, at(2026, 1, 12, 10), U1, "task", 60.0, 0),
        "00QG": (at(2026, 1, 31, 23, 30), None, None, mm, None, None, None, None, 0),
    }  # fmt: skip
    flags = facts[["is_touched", "is_within_sla", "is_sla_breached", "is_never_touched"]].astype(bool)
    assert {lead_id: tuple(row) for lead_id, row in zip(flags.index, flags.itertuples(index=False), strict=True)} == {
        # touched, within SLA, breached, never touched
        "00QA": (True, True, False, False),  # 30 <= 60
        "00QB": (True, False, True, False),  # 180 > 60
        "00QC": (False, False, True, True),  # touched only before its MQL; SLA long run out by 01-31 23:50
        "00QD": (False, False, True, True),  # never touched at all
        "00QE": (True, True, False, False),  # 45 <= 60, by a meeting on its contact
        "00QF": (True, True, False, False),  # exactly 60: within
        "00QG": (False, False, False, True),  # 20 minutes since its MQL when the data ends: not breached yet
    }
    weeks = {lead_id: value.date() for lead_id, value in facts["mql_week"].items()}
    assert weeks == {
        "00QA": date(2026, 1, 5), "00QB": date(2026, 1, 5), "00QC": date(2026, 1, 5), "00QD": date(2026, 1, 5),
        "00QE": date(2026, 1, 5), "00QF": date(2026, 1, 12), "00QG": date(2026, 1, 26),
    }  # fmt: skip
    assert {value.date() for value in facts["mql_month"]} == {date(2026, 1, 1)}
    assert set(facts["channel"]) == {"Paid Search"}
    assert set(facts["data_as_of_at"]) == {datetime(2026, 1, 31, 23, 50)}


def test_period_rollup(built: Settings) -> None:
    report = query(built, "select * from marts.rpt_speed_to_lead_periods order by all")
    measures = [
        "mql_count", "touched_count", "within_sla_count", "sla_breached_count", "never_touched_count",
        "sla_adherence_rate", "median_minutes_to_first_touch", "p90_minutes_to_first_touch",
    ]  # fmt: skip
    rows = {
        (row.period_type, row.period_start.date(), row.owner_user_id, row.owner_team, row.segment): tuple(
            none_if_na(getattr(row, measure)) for measure in measures
        )
        for row in report.itertuples()
    }
    week_1, week_2, week_5, january = date(2026, 1, 5), date(2026, 1, 12), date(2026, 1, 26), date(2026, 1, 1)
    sd, ae, unassigned = "Sales Development", "Account Executives", "Unassigned"
    expected = {
        # A, B, E: minutes [30, 45, 180]; median 45; p90 at position 0.9 * 2 = 1.8: 45 + 0.8 * (180 - 45) = 153
        ("week", week_1, U1, sd, "Mid-Market"): (3, 3, 2, 1, 0, 2 / 3, 45.0, 153.0),
        ("week", week_1, U2, ae, "Mid-Market"): (1, 0, 0, 1, 1, 0.0, None, None),  # C
        ("week", week_1, U2, ae, "Enterprise"): (1, 0, 0, 1, 1, 0.0, None, None),  # D
        ("week", week_2, U1, sd, "Mid-Market"): (1, 1, 1, 0, 0, 1.0, 60.0, 60.0),  # F
        ("week", week_5, unassigned, unassigned, "Mid-Market"): (1, 0, 0, 0, 1, 0.0, None, None),  # G, pending
        # A, B, E, F: minutes [30, 45, 60, 180]; median (45 + 60) / 2 = 52.5; p90 at 0.9 * 3 = 2.7: 60 + 0.7 * 120 = 144
        ("month", january, U1, sd, "Mid-Market"): (4, 4, 3, 1, 0, 0.75, 52.5, 144.0),
        ("month", january, U2, ae, "Mid-Market"): (1, 0, 0, 1, 1, 0.0, None, None),
        ("month", january, U2, ae, "Enterprise"): (1, 0, 0, 1, 1, 0.0, None, None),
        ("month", january, unassigned, unassigned, "Mid-Market"): (1, 0, 0, 0, 1, 0.0, None, None),
    }  # fmt: skip
    assert rows == {key: pytest.approx(values) for key, values in expected.items()}


def test_period_totals_equal_fact_totals(built: Settings) -> None:
    totals = query(
        built,
        "select period_type, sum(mql_count), sum(within_sla_count), sum(never_touched_count), sum(sla_breached_count)"
        " from marts.rpt_speed_to_lead_periods group by period_type order by period_type",
    )
    # 7 MQLs (A-G); within: A, E, F; never touched: C, D, G; breached: B, C, D
    assert [tuple(row) for row in totals.itertuples(index=False)] == [("month", 7, 3, 3, 3), ("week", 7, 3, 3, 3)]
