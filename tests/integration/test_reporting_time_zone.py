"""Months, weeks and quarters in the reporting time zone, worked out by hand for New York and Berlin.

The project's definitions with `reporting.time_zone` set to America/New_York (NY), then to Europe/Berlin. The raw
times below are UTC, as connectors land them. The 2026 clock changes: NY leaves EST (UTC-5) for EDT (UTC-4) on Sun
Mar 8 at 02:00 local (07:00 UTC) and goes back on Sun Nov 1 at 02:00 EDT (06:00 UTC); Berlin leaves CET (UTC+1)
for CEST (UTC+2) on Sun Mar 29 at 02:00 local (01:00 UTC) and goes back on Sun Oct 25 at 03:00 CEST (01:00 UTC).
A week starts on Monday 00:00 local; a month and a quarter start on their first day at 00:00 local.

MRR (a $100 per seat per month price; a month's MRR is read at its last instant, local):
- C1 pays for 1 seat from Jan 15 15:00 and 2 seats from Apr 1 03:30 UTC = Mar 31 23:30 EDT in NY (before NY's
  March closes at Apr 1 03:59:59.999999 UTC: expansion in March, $200) = Apr 1 05:30 CEST in Berlin (after
  Berlin's March closes at Mar 31 21:59:59.999999 UTC: expansion in April). Its last event, the current period
  start May 15 15:00, makes May the latest month.
- C2 pays for 1 seat from Mar 1 04:30 UTC = Feb 28 23:30 EST in NY (new in February) = Mar 1 05:30 CET in Berlin
  (new in March), and ends May 1 02:00 UTC = Apr 30 22:00 EDT in NY (not in force at April's close: churn in
  April, no May row) = May 1 04:00 CEST in Berlin (in force at April's close: churn in May).
- C3 (account A2, which has no opportunity) pays from Mar 10 10:00: March in both zones. Lead L1 (below), converted
  to A2, became an MQL at Apr 1 01:00 UTC. With no sales qualification, an MQL sources the customer when it came
  by the end of the first paying month: NY Mar 31 21:00 is before Apr 1 00:00 EDT (mql); Berlin Apr 1 03:00 CEST is
  after Apr 1 00:00 CEST (other).

Opportunities (account A1, 150 employees), created (UTC) -> local time -> week (Monday) and month:
| id | created UTC     | NY                 | NY week, month | Berlin             | Berlin week, month |
| OA | Mar 09 03:30    | Sun Mar 08 23:30   | 03-02, Mar     | Mon Mar 09 04:30   | 03-09, Mar         |
| OB | Mar 09 04:30    | Mon Mar 09 00:30   | 03-09, Mar     | Mon Mar 09 05:30   | 03-09, Mar         |
| OC | Mar 08 07:30    | Sun Mar 08 03:30 * | 03-02, Mar     | Sun Mar 08 08:30   | 03-02, Mar         |
| OD | Mar 08 06:30    | Sun Mar 08 01:30   | 03-02, Mar     | Sun Mar 08 07:30   | 03-02, Mar         |
| OE | Mar 29 21:30    | Sun Mar 29 17:30   | 03-23, Mar     | Sun Mar 29 23:30   | 03-23, Mar         |
| OF | Mar 29 22:30    | Sun Mar 29 18:30   | 03-23, Mar     | Mon Mar 30 00:30   | 03-30, Mar         |
| OG | Mar 29 01:30    | Sat Mar 28 21:30   | 03-23, Mar     | Sun Mar 29 03:30 * | 03-23, Mar         |
| OH | Mar 29 00:30    | Sat Mar 28 20:30   | 03-23, Mar     | Sun Mar 29 01:30   | 03-23, Mar         |
| OP | Apr 01 03:30    | Tue Mar 31 23:30   | 03-30, Mar     | Wed Apr 01 05:30   | 03-30, Apr         |
| OM | Oct 25 00:30    | Sat Oct 24 20:30   | 10-19, Oct     | Sun Oct 25 02:30 + | 10-19, Oct         |
| ON | Oct 25 01:30    | Sat Oct 24 21:30   | 10-19, Oct     | Sun Oct 25 02:30 + | 10-19, Oct         |
| OO | Oct 25 23:30    | Sun Oct 25 19:30   | 10-19, Oct     | Mon Oct 26 00:30   | 10-26, Oct         |
| OI | Nov 01 05:30    | Sun Nov 01 01:30 + | 10-26, Nov     | Sun Nov 01 06:30   | 10-26, Nov         |
| OJ | Nov 01 06:30    | Sun Nov 01 01:30 + | 10-26, Nov     | Sun Nov 01 07:30   | 10-26, Nov         |
| OK | Nov 02 04:30    | Sun Nov 01 23:30   | 10-26, Nov     | Mon Nov 02 05:30   | 11-02, Nov         |
| OL | Nov 02 05:30    | Mon Nov 02 00:30   | 11-02, Nov     | Mon Nov 02 06:30   | 11-02, Nov         |
| OQ | Mar 20 10:00    | Fri Mar 20 06:00   | 03-16, Mar     | Fri Mar 20 11:00   | 03-16, Mar         |
| OR, OS, OT, OU | Feb 20 10:00 | Fri Feb 20 05:00 | 02-16, Feb | Fri Feb 20 11:00 | 02-16, Feb     |
(* just after the hour the spring change skips; + the hour the autumn change repeats, once in each offset: both
events count, once each.) Per week, NY: 02-16 4, 03-02 3, 03-09 1, 03-16 1, 03-23 4, 03-30 1, 10-19 3, 10-26 3,
11-02 1; Berlin: 02-16 4, 03-02 2, 03-09 2, 03-16 1, 03-23 3, 03-30 2, 10-19 2, 10-26 3, 11-02 2; 21 in all in
both. Per month, NY: Feb 4, Mar 10, Oct 3, Nov 4; Berlin: Feb 4, Mar 9, Apr 1, Oct 3, Nov 4.

Closes (a CRM close date is a date in the reporting time zone; with no stage history it closes at that date's
local midnight):
- OQ moves to Closed Won at Apr 1 03:30 UTC: NY Mar 31 23:30 (quarter 2026-01-01; sales cycle Mar 20 -> Mar 31,
  11 days), Berlin Apr 1 05:30 (quarter 2026-04-01; Mar 20 -> Apr 1, 12 days).
- OR won, close date Mar 31: NY midnight EDT = Mar 31 04:00 UTC; Berlin midnight CEST = Mar 30 22:00 UTC. Quarter
  2026-01-01 in both; created Feb 20: 8 + 31 = 39 days.
- OU lost, close date Mar 8 (NY's spring change day, the change is at 02:00): NY midnight EST = Mar 8 05:00 UTC;
  Berlin midnight CET = Mar 7 23:00 UTC. OS lost, close date Mar 9: NY midnight EDT = Mar 9 04:00 UTC; Berlin
  CET = Mar 8 23:00 UTC. OT lost, close date Oct 26 (the day after Berlin's autumn change): NY EDT = Oct 26 04:00
  UTC; Berlin CET = Oct 25 23:00 UTC.

Leads (the definitions' conversion window is 180 days):
- L1 (fit 20: Software only, so no MQL at creation) is created Mar 20 10:00 and requests a demo (40 points) at
  Apr 1 01:00 UTC: MQL at NY Mar 31 21:00 (month March, week 03-30), Berlin Apr 1 03:00 (April, week 03-30).
- L2 (fit 0) is created Mar 31 22:30 UTC: NY Mar 31 18:30 (March), Berlin Apr 1 00:30 (April). Leads created,
  NY: March 2; Berlin: March 1, April 1.
- A cohort's window ends at its month's end (local midnight) plus 180 days, shown in UTC. April 1 + 180 days =
  Sep 28 (29 + 31 + 30 + 31 + 31 + 28); May 1 + 180 days = Oct 28 (30 + 30 + 31 + 31 + 30 + 28). NY, March
  cohorts (both types): Sep 28 00:00 EDT = Sep 28 04:00 UTC. Berlin, March creation cohort (L1): Sep 28 00:00 CEST
  = Sep 27 22:00 UTC; April cohorts (L1's MQL, L2's creation): Oct 28 00:00 CET = Oct 27 23:00 UTC.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest

from pipelines.spec.settings import Settings
from tests.conftest import materialize, settings_for
from tests.fixtures import query, write_raw
from tests.unit.test_shared_definitions import write_variant

NEW_YORK = "America/New_York"
BERLIN = "Europe/Berlin"

MARTS = [
    "fct_mrr_customer_months",
    "fct_customer_acquisitions",
    "rpt_pipeline_weekly",
    "rpt_funnel_monthly",
    "fct_opportunity_outcomes",
    "fct_speed_to_lead",
    "rpt_funnel_cohorts_monthly",
]
SELECTION = " or ".join([f'+key:"marts/{name}"' for name in MARTS] + ["group:definitions"])


def opportunity(opportunity_id: str, stage: str, close: str, created: str) -> dict:
    return {
        "id": opportunity_id,
        "account_id": "001A1",
        "lead_source": "Paid Search",
        "stage_name": stage,
        "amount": 1000,
        "close_date": close,
        "created_date": created,
        "is_closed": str(stage in ("Closed Won", "Closed Lost")).lower(),
        "is_won": str(stage == "Closed Won").lower(),
    }


def open_opportunity(opportunity_id: str, created: str) -> dict:
    return opportunity(opportunity_id, "Prospecting", "2026-12-31", created)


def lead(lead_id: str, industry: str, created: str) -> dict:
    return {
        "id": lead_id,
        "lead_source": "Paid Search",
        "industry": industry,
        "number_of_employees": 20,
        "country": "Germany",
        "created_date": created,
    }


def subscription(subscription_id: str, customer_id: str, start: str, period_start: str, ended: str | None) -> dict:
    return {
        "id": subscription_id,
        "customer_id": customer_id,
        "status": "canceled" if ended else "active",
        "created": start,
        "start_date": start,
        "current_period_start": period_start,
        "canceled_at": ended,
        "ended_at": ended,
        "livemode": "true",
    }


FOREVER = "9999-12-31 23:59:59"

TABLES = {
    "salesforce.account": [{"id": "001A1", "number_of_employees": 150}, {"id": "001A2", "number_of_employees": 20}],
    "salesforce.opportunity": [
        open_opportunity("006OA", "2026-03-09 03:30:00"),
        open_opportunity("006OB", "2026-03-09 04:30:00"),
        open_opportunity("006OC", "2026-03-08 07:30:00"),
        open_opportunity("006OD", "2026-03-08 06:30:00"),
        open_opportunity("006OE", "2026-03-29 21:30:00"),
        open_opportunity("006OF", "2026-03-29 22:30:00"),
        open_opportunity("006OG", "2026-03-29 01:30:00"),
        open_opportunity("006OH", "2026-03-29 00:30:00"),
        open_opportunity("006OP", "2026-04-01 03:30:00"),
        open_opportunity("006OM", "2026-10-25 00:30:00"),
        open_opportunity("006ON", "2026-10-25 01:30:00"),
        open_opportunity("006OO", "2026-10-25 23:30:00"),
        open_opportunity("006OI", "2026-11-01 05:30:00"),
        open_opportunity("006OJ", "2026-11-01 06:30:00"),
        open_opportunity("006OK", "2026-11-02 04:30:00"),
        open_opportunity("006OL", "2026-11-02 05:30:00"),
        opportunity("006OQ", "Closed Won", "2026-03-31", "2026-03-20 10:00:00"),
        opportunity("006OR", "Closed Won", "2026-03-31", "2026-02-20 10:00:00"),
        opportunity("006OS", "Closed Lost", "2026-03-09", "2026-02-20 10:00:00"),
        opportunity("006OT", "Closed Lost", "2026-10-26", "2026-02-20 10:00:00"),
        opportunity("006OU", "Closed Lost", "2026-03-08", "2026-02-20 10:00:00"),
    ],
    "salesforce.opportunity_history": [
        {"id": "H1", "opportunity_id": "006OQ", "stage_name": "Prospecting", "amount": 1000,
         "close_date": "2026-03-31", "created_date": "2026-03-20 10:00:00"},
        {"id": "H2", "opportunity_id": "006OQ", "stage_name": "Closed Won", "amount": 1000,
         "close_date": "2026-03-31", "created_date": "2026-04-01 03:30:00"},
    ],
    "salesforce.lead": [
        {**lead("00QL1", "Software", "2026-03-20 10:00:00"), "is_converted": "true", "converted_date": "2026-04-02",
         "converted_account_id": "001A2"},
        lead("00QL2", "Retail", "2026-03-31 22:30:00"),
    ],
    "marketing.engagements": [
        {"id": "E1", "lead_id": "00QL1", "activity_type": "demo_request", "occurred_at": "2026-04-01 01:00:00"},
    ],
    "stripe.price": [
        {"id": "price_M", "currency": "usd", "unit_amount": 10000, "type": "recurring",
         "recurring_interval": "month", "recurring_interval_count": 1, "livemode": "true"},
    ],
    "stripe.customer": [
        {"id": "cus_C1", "metadata": "{}", "created": "2026-01-15 15:00:00", "currency": "usd", "livemode": "true"},
        {"id": "cus_C2", "metadata": "{}", "created": "2026-03-01 04:30:00", "currency": "usd", "livemode": "true"},
        {"id": "cus_C3", "metadata": '{"salesforce_account_id": "001A2"}', "created": "2026-03-10 10:00:00",
         "currency": "usd", "livemode": "true"},
    ],
    "stripe.subscription": [
        subscription("sub_C1", "cus_C1", "2026-01-15 15:00:00", "2026-05-15 15:00:00", None),
        subscription("sub_C2", "cus_C2", "2026-03-01 04:30:00", "2026-04-01 04:30:00", "2026-05-01 02:00:00"),
        subscription("sub_C3", "cus_C3", "2026-03-10 10:00:00", "2026-05-10 10:00:00", None),
    ],
    "stripe.subscription_item": [
        {"id": "si_C1", "subscription_id": "sub_C1", "price_id": "price_M", "quantity": 1,
         "created": "2026-01-15 15:00:00", "_fivetran_start": "2026-01-15 15:00:00",
         "_fivetran_end": "2026-04-01 03:30:00", "_fivetran_active": "false"},
        {"id": "si_C1", "subscription_id": "sub_C1", "price_id": "price_M", "quantity": 2,
         "created": "2026-01-15 15:00:00", "_fivetran_start": "2026-04-01 03:30:00",
         "_fivetran_end": FOREVER, "_fivetran_active": "true"},
        {"id": "si_C2", "subscription_id": "sub_C2", "price_id": "price_M", "quantity": 1,
         "created": "2026-03-01 04:30:00"},
        {"id": "si_C3", "subscription_id": "sub_C3", "price_id": "price_M", "quantity": 1,
         "created": "2026-03-10 10:00:00"},
    ],
}  # fmt: skip


@pytest.fixture(scope="module", params=[NEW_YORK, BERLIN])
def built(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Settings]]:
    zone: str = request.param
    tmp_path = tmp_path_factory.mktemp("time_zone")
    definitions = write_variant(tmp_path, {"reporting.time_zone": zone})
    settings = settings_for(tmp_path, write_raw(tmp_path / "raw", TABLES), definitions_file=definitions)
    result = materialize(settings, SELECTION)
    assert result.success
    assert all(check.passed for check in result.get_asset_check_evaluations())
    yield zone, settings


def test_mrr_is_read_at_the_close_of_the_local_month(built: tuple[str, Settings]) -> None:
    zone, settings = built
    rows = query(
        settings,
        "select customer_id, strftime(mrr_month, '%Y-%m') as month, mrr_usd, movement "
        "from marts.fct_mrr_customer_months where customer_id in ('cus_C1', 'cus_C2') order by customer_id, mrr_month",
    )
    expected = {
        NEW_YORK: [
            ("cus_C1", "2026-01", 100.0, "new"),
            ("cus_C1", "2026-02", 100.0, "unchanged"),
            ("cus_C1", "2026-03", 200.0, "expansion"),
            ("cus_C1", "2026-04", 200.0, "unchanged"),
            ("cus_C1", "2026-05", 200.0, "unchanged"),
            ("cus_C2", "2026-02", 100.0, "new"),
            ("cus_C2", "2026-03", 100.0, "unchanged"),
            ("cus_C2", "2026-04", 0.0, "churn"),
        ],
        BERLIN: [
            ("cus_C1", "2026-01", 100.0, "new"),
            ("cus_C1", "2026-02", 100.0, "unchanged"),
            ("cus_C1", "2026-03", 100.0, "unchanged"),
            ("cus_C1", "2026-04", 200.0, "expansion"),
            ("cus_C1", "2026-05", 200.0, "unchanged"),
            ("cus_C2", "2026-03", 100.0, "new"),
            ("cus_C2", "2026-04", 100.0, "unchanged"),
            ("cus_C2", "2026-05", 0.0, "churn"),
        ],
    }
    assert [tuple(row) for row in rows.itertuples(index=False)] == expected[zone]


def test_weeks_start_on_monday_at_local_midnight_and_lose_no_event(built: tuple[str, Settings]) -> None:
    zone, settings = built
    weeks = query(
        settings,
        "select strftime(week_start, '%m-%d') as week, cast(sum(created_deals_count) as integer) as created "
        "from marts.rpt_pipeline_weekly group by week_start having sum(created_deals_count) > 0 order by week_start",
    )
    expected = {
        NEW_YORK: {"02-16": 4, "03-02": 3, "03-09": 1, "03-16": 1, "03-23": 4, "03-30": 1, "10-19": 3, "10-26": 3,
                   "11-02": 1},
        BERLIN: {"02-16": 4, "03-02": 2, "03-09": 2, "03-16": 1, "03-23": 3, "03-30": 2, "10-19": 2, "10-26": 3,
                 "11-02": 2},
    }  # fmt: skip
    assert dict(zip(weeks["week"], weeks["created"], strict=True)) == expected[zone]
    assert sum(expected[zone].values()) == len(TABLES["salesforce.opportunity"])
    weekdays = query(
        settings, "select distinct isodow(week_start) as weekday from intermediate.int_opportunity_weeks_snapshotted"
    )
    assert weekdays["weekday"].tolist() == [1]


def test_events_count_in_the_local_month(built: tuple[str, Settings]) -> None:
    zone, settings = built
    months = query(
        settings,
        "select strftime(funnel_month, '%Y-%m') as month, "
        "cast(sum(opportunities_created_count) as integer) as opportunities, "
        "cast(sum(leads_created_count) as integer) as leads "
        "from marts.rpt_funnel_monthly group by funnel_month "
        "having sum(opportunities_created_count) + sum(leads_created_count) > 0 order by funnel_month",
    )
    expected = {
        # month: (opportunities created, leads created)
        NEW_YORK: {"2026-02": (4, 0), "2026-03": (10, 2), "2026-10": (3, 0), "2026-11": (4, 0)},
        BERLIN: {"2026-02": (4, 0), "2026-03": (9, 1), "2026-04": (1, 1), "2026-10": (3, 0), "2026-11": (4, 0)},
    }
    got = {row.month: (row.opportunities, row.leads) for row in months.itertuples()}
    assert got == expected[zone]


def test_an_mql_counts_in_the_local_month_and_week(built: tuple[str, Settings]) -> None:
    zone, settings = built
    facts = query(
        settings,
        "select lead_id, strftime(mql_at, '%Y-%m-%d %H:%M') as mql_at, strftime(mql_week, '%Y-%m-%d') as mql_week, "
        "strftime(mql_month, '%Y-%m-%d') as mql_month from marts.fct_speed_to_lead",
    )
    assert [tuple(row) for row in facts.itertuples(index=False)] == [
        # the timestamp stays UTC; its week and month are local
        ("00QL1", "2026-04-01 01:00", "2026-03-30", {NEW_YORK: "2026-03-01", BERLIN: "2026-04-01"}[zone])
    ]


def test_quarters_end_at_local_midnight_and_close_dates_are_local_dates(built: tuple[str, Settings]) -> None:
    zone, settings = built
    outcomes = query(
        settings,
        "select opportunity_id, closed_at, strftime(close_quarter, '%Y-%m-%d') as close_quarter, sales_cycle_days "
        "from marts.fct_opportunity_outcomes order by opportunity_id",
    )
    got = {
        row.opportunity_id: (row.closed_at.to_pydatetime(), row.close_quarter, row.sales_cycle_days)
        for row in outcomes.itertuples()
    }
    q1, q2, q4 = "2026-01-01", "2026-04-01", "2026-10-01"
    expected = {
        NEW_YORK: {
            "006OQ": (datetime(2026, 4, 1, 3, 30), q1, 11),
            "006OR": (datetime(2026, 3, 31, 4, 0), q1, 39),
            "006OS": (datetime(2026, 3, 9, 4, 0), q1, 17),
            "006OT": (datetime(2026, 10, 26, 4, 0), q4, 248),
            "006OU": (datetime(2026, 3, 8, 5, 0), q1, 16),
        },
        BERLIN: {
            "006OQ": (datetime(2026, 4, 1, 3, 30), q2, 12),
            "006OR": (datetime(2026, 3, 30, 22, 0), q1, 39),
            "006OS": (datetime(2026, 3, 8, 23, 0), q1, 17),
            "006OT": (datetime(2026, 10, 25, 23, 0), q4, 248),
            "006OU": (datetime(2026, 3, 7, 23, 0), q1, 16),
        },
    }
    assert got == expected[zone]


def test_cohort_windows_end_at_local_midnight_shown_in_utc(built: tuple[str, Settings]) -> None:
    zone, settings = built
    cohorts = query(
        settings,
        "select distinct cohort_type, strftime(cohort_month, '%Y-%m') as month, cohort_window_ends_at "
        "from marts.rpt_funnel_cohorts_monthly order by cohort_type, month",
    )
    got = {(row.cohort_type, row.month): row.cohort_window_ends_at.to_pydatetime() for row in cohorts.itertuples()}
    expected = {
        NEW_YORK: {
            ("created_month", "2026-03"): datetime(2026, 9, 28, 4, 0),
            ("mql_month", "2026-03"): datetime(2026, 9, 28, 4, 0),
        },
        BERLIN: {
            ("created_month", "2026-03"): datetime(2026, 9, 27, 22, 0),
            ("created_month", "2026-04"): datetime(2026, 10, 27, 23, 0),
            ("mql_month", "2026-04"): datetime(2026, 10, 27, 23, 0),
        },
    }
    assert got == expected[zone]


def test_a_qualification_sources_a_customer_by_the_end_of_its_local_month(built: tuple[str, Settings]) -> None:
    zone, settings = built
    acquisitions = query(
        settings,
        "select customer_id, strftime(first_paid_month, '%Y-%m') as month, acquisition_source "
        "from marts.fct_customer_acquisitions where customer_id = 'cus_C3'",
    )
    expected = {NEW_YORK: "mql", BERLIN: "other"}
    assert [tuple(row) for row in acquisitions.itertuples(index=False)] == [("cus_C3", "2026-03", expected[zone])]
