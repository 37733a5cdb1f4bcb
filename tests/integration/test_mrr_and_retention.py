"""Four Stripe customers worked through by hand: MRR per customer-month, the MRR bridge, NRR/GRR and churn rates.

Prices: Growth Monthly $100 per seat per month (10000 cents); Growth Annual $1,200 per seat per year (120000 cents),
i.e. $100 per seat per month once normalised (/ 12). A month's MRR is read at its close (the items in force at its
last instant); the latest month, 2026-03, is read at the data's last event (C2's period start, 2026-03-05 10:00).

- C1 (account A1, 50 employees: SMB): monthly, 2 seats from 2025-01-10 ($200), 3 seats from 2025-03-15 ($300), and
  a second, overlapping monthly subscription of 1 seat from 2025-05-20: $400 from May on.
- C2 (account A2, 500 employees: Mid-Market): monthly, 5 seats from 2025-01-05 ($500); down to 4 seats on 2025-04-10
  ($400). Its item's history-mode rows only start on 2025-02-01 (when the sync began): the first version still
  counts from the item's creation, so C2 is new in January, not February.
- C3 (account A3, 60 employees: SMB): annual, 10 seats from 2025-02-14 ($12,000 a year = $1,000 a month),
  cancelled at the end of its first term: ended 2026-02-14, churn in February 2026, its term-end month, the only
  month it may churn in.
- C4 (account A4, 20 employees: SMB): monthly, 1 seat from 2025-01-20 ($100), ended 2025-06-10 (churn in June);
  back with 2 seats on 2025-09-03 ($200: reactivation in September).
- C9 is a test-mode customer (livemode false): dropped in staging, it never shows up.

MRR at the close of each month (SMB = C1 + C3 + C4; Mid-Market = C2):

| month   | C1  | C2  | C3    | C4  | SMB   | Mid-Market |
| 2025-01 | 200 | 500 | -     | 100 | 300   | 500 |
| 2025-02 | 200 | 500 | 1000  | 100 | 1300  | 500 |
| 2025-03 | 300 | 500 | 1000  | 100 | 1400  | 500 |
| 2025-04 | 300 | 400 | 1000  | 100 | 1400  | 400 |
| 2025-05 | 400 | 400 | 1000  | 100 | 1500  | 400 |
| 2025-06 | 400 | 400 | 1000  | 0   | 1400  | 400 |
| 2025-07 | 400 | 400 | 1000  | -   | 1400  | 400 |  (C4 has no row in July and August)
| 2025-09 | 400 | 400 | 1000  | 200 | 1600  | 400 |
| 2026-01 | 400 | 400 | 1000  | 200 | 1600  | 400 |
| 2026-02 | 400 | 400 | 0     | 200 | 600   | 400 |
| 2026-03 | 400 | 400 | -     | 200 | 600   | 400 |
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipelines.spec.models import load_models
from pipelines.spec.settings import PROJECT_ROOT, Settings
from tests.conftest import materialize, settings_for
from tests.fixtures import NO_MINIMUM_BASES, definitions_with, query, write_raw

SELECTION = '+key:"marts/rpt_retention_monthly" or +key:"marts/rpt_mrr_movements_monthly" or group:definitions'


def customer(customer_id: str, account_id: str | None, created: str, livemode: str = "true") -> dict:
    metadata = f'{{"salesforce_account_id": "{account_id}"}}' if account_id else "{}"
    return {"id": customer_id, "metadata": metadata, "created": created, "currency": "usd", "livemode": livemode}


def subscription(
    subscription_id: str,
    customer_id: str,
    status: str,
    start: str,
    period_start: str,
    ended: str | None = None,
    livemode: str = "true",
) -> dict:
    return {
        "id": subscription_id,
        "customer_id": customer_id,
        "status": status,
        "created": start,
        "start_date": start,
        "current_period_start": period_start,
        "canceled_at": ended,
        "ended_at": ended,
        "livemode": livemode,
    }


def item(item_id: str, subscription_id: str, price_id: str, quantity: int, created: str, **history: object) -> dict:
    return {
        "id": item_id,
        "subscription_id": subscription_id,
        "price_id": price_id,
        "quantity": quantity,
        "created": created,
        **history,
    }


def price(price_id: str, cents: int, interval: str, currency: str = "usd", livemode: str = "true") -> dict:
    return {
        "id": price_id,
        "currency": currency,
        "unit_amount": cents,
        "type": "recurring",
        "recurring_interval": interval,
        "recurring_interval_count": 1,
        "livemode": livemode,
    }


FOREVER = "9999-12-31 23:59:59"

TABLES = {
    "salesforce.account": [
        {"id": "001A1", "number_of_employees": 50},
        {"id": "001A2", "number_of_employees": 500},
        {"id": "001A3", "number_of_employees": 60},
        {"id": "001A4", "number_of_employees": 20},
    ],
    "stripe.price": [
        price("price_M", 10000, "month"),
        price("price_Y", 120000, "year"),
        price("price_T", 100, "month", livemode="false"),
    ],
    "stripe.customer": [
        customer("cus_C1", "001A1", "2025-01-10 09:00:00"),
        customer("cus_C2", "001A2", "2025-01-05 09:00:00"),
        customer("cus_C3", "001A3", "2025-02-14 09:00:00"),
        customer("cus_C4", "001A4", "2025-01-20 09:00:00"),
        customer("cus_C9", None, "2025-01-02 09:00:00", livemode="false"),
    ],
    "stripe.subscription": [
        subscription("sub_C1a", "cus_C1", "active", "2025-01-10 10:00:00", "2026-02-10 10:00:00"),
        subscription("sub_C1b", "cus_C1", "active", "2025-05-20 10:00:00", "2026-02-20 10:00:00"),
        subscription("sub_C2", "cus_C2", "active", "2025-01-05 10:00:00", "2026-03-05 10:00:00"),
        subscription(
            "sub_C3", "cus_C3", "canceled", "2025-02-14 10:00:00", "2025-02-14 10:00:00", ended="2026-02-14 10:00:00"
        ),
        subscription(
            "sub_C4a", "cus_C4", "canceled", "2025-01-20 10:00:00", "2025-05-20 10:00:00", ended="2025-06-10 10:00:00"
        ),
        subscription("sub_C4b", "cus_C4", "active", "2025-09-03 10:00:00", "2026-02-03 10:00:00"),
        subscription("sub_C9", "cus_C9", "active", "2025-01-02 10:00:00", "2026-03-02 10:00:00", livemode="false"),
    ],
    "stripe.subscription_item": [
        # C1: history mode, 2 seats then 3 from 2025-03-15.
        item("si_C1a", "sub_C1a", "price_M", 2, "2025-01-10 10:00:00", _fivetran_start="2025-01-10 10:00:00",
             _fivetran_end="2025-03-15 12:00:00", _fivetran_active="false"),
        item("si_C1a", "sub_C1a", "price_M", 3, "2025-01-10 10:00:00", _fivetran_start="2025-03-15 12:00:00",
             _fivetran_end=FOREVER, _fivetran_active="true"),
        item("si_C1b", "sub_C1b", "price_M", 1, "2025-05-20 10:00:00"),
        # C2: history recorded from 2025-02-01 only (the item exists since 2025-01-05); 5 seats, 4 from 2025-04-10.
        item("si_C2", "sub_C2", "price_M", 5, "2025-01-05 10:00:00", _fivetran_start="2025-02-01 00:00:00",
             _fivetran_end="2025-04-10 08:00:00", _fivetran_active="false"),
        item("si_C2", "sub_C2", "price_M", 4, "2025-01-05 10:00:00", _fivetran_start="2025-04-10 08:00:00",
             _fivetran_end=FOREVER, _fivetran_active="true"),
        item("si_C3", "sub_C3", "price_Y", 10, "2025-02-14 10:00:00"),
        item("si_C4a", "sub_C4a", "price_M", 1, "2025-01-20 10:00:00"),
        item("si_C4b", "sub_C4b", "price_M", 2, "2025-09-03 10:00:00"),
        item("si_C9", "sub_C9", "price_T", 7, "2025-01-02 10:00:00"),
    ],
}  # fmt: skip


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    tmp_path = tmp_path_factory.mktemp("mrr_hand_worked")
    # A four-customer company: every ratio is worked out on its own small base (minimum bases turned off).
    settings = settings_for(
        tmp_path,
        write_raw(tmp_path / "raw", TABLES),
        definitions_file=definitions_with(tmp_path, minimum_bases=NO_MINIMUM_BASES),
    )
    result = materialize(settings, SELECTION)
    assert result.success
    assert all(check.passed for check in result.get_asset_check_evaluations())
    yield settings


def month(text: str) -> date:
    return date.fromisoformat(f"{text}-01")


def month_range(first: str, last: str) -> list[str]:
    """Every month from `first` to `last` (YYYY-MM), inclusive."""
    out, day = [], month(first)
    while day <= month(last):
        out.append(day.strftime("%Y-%m"))
        day = add_month(day)
    return out


def test_mrr_and_movement_of_every_customer_month(built: Settings) -> None:
    facts = query(built, "select * from marts.fct_mrr_customer_months order by customer_id, mrr_month")
    rows = {
        (row.customer_id, row.mrr_month.strftime("%Y-%m")): (float(row.mrr_usd), row.movement)
        for row in facts.itertuples()
    }
    # C1: new at $200, +$100 on the third seat in March, +$100 with the second subscription in May, then flat.
    c1 = {"2025-01": (200, "new"), "2025-02": (200, "unchanged"), "2025-03": (300, "expansion"),
          "2025-04": (300, "unchanged"), "2025-05": (400, "expansion")}  # fmt: skip
    c1 |= dict.fromkeys(month_range("2025-06", "2026-03"), (400, "unchanged"))
    # C2: new in January (history back-dated to the item's creation), down one seat in April.
    c2 = {"2025-01": (500, "new"), "2025-02": (500, "unchanged"), "2025-03": (500, "unchanged"),
          "2025-04": (400, "contraction")}  # fmt: skip
    c2 |= dict.fromkeys(month_range("2025-05", "2026-03"), (400, "unchanged"))
    # C3: $1,000 from February 2025 to January 2026, churn row (MRR 0) in February 2026, nothing after.
    c3 = {"2025-02": (1000, "new")} | dict.fromkeys(month_range("2025-03", "2026-01"), (1000, "unchanged"))
    c3 |= {"2026-02": (0, "churn")}
    # C4: $100 January to May, churn in June, no rows in July and August, reactivation at $200 in September.
    c4 = {"2025-01": (100, "new")} | dict.fromkeys(month_range("2025-02", "2025-05"), (100, "unchanged"))
    c4 |= {"2025-06": (0, "churn"), "2025-09": (200, "reactivation")}
    c4 |= dict.fromkeys(month_range("2025-10", "2026-03"), (200, "unchanged"))
    expected = {
        (customer_id, key): (float(mrr), movement)
        for customer_id, months in (("cus_C1", c1), ("cus_C2", c2), ("cus_C3", c3), ("cus_C4", c4))
        for key, (mrr, movement) in months.items()
    }
    assert len(expected) == 15 + 15 + 13 + 13
    assert rows == expected


def test_fact_columns_of_a_few_rows(built: Settings) -> None:
    facts = query(built, "select * from marts.fct_mrr_customer_months").set_index(["customer_id", "mrr_month"])
    c1_may = facts.loc[("cus_C1", pd.Timestamp(month("2025-05")))]
    assert (c1_may["account_id"], c1_may["segment"], c1_may["billing_interval"]) == ("001A1", "SMB", "month")
    # 3 seats on the first subscription + 1 on the second; $300 -> $400.
    assert (c1_may["seats"], c1_may["previous_seats"]) == (4, 3)
    assert float(c1_may["previous_mrr_usd"]) == 300 and float(c1_may["mrr_change_usd"]) == 100
    assert float(c1_may["expansion_mrr_usd"]) == 100 and float(c1_may["new_mrr_usd"]) == 0
    c2_april = facts.loc[("cus_C2", pd.Timestamp(month("2025-04")))]
    assert c2_april["segment"] == "Mid-Market" and float(c2_april["contraction_mrr_usd"]) == 100
    # C3 churns in February 2026: its row carries MRR 0, 0 seats, the ended interval and $1,000 churned.
    c3_churn = facts.loc[("cus_C3", pd.Timestamp(month("2026-02")))]
    assert (float(c3_churn["mrr_usd"]), c3_churn["seats"], c3_churn["billing_interval"]) == (0, 0, "year")
    assert float(c3_churn["churned_mrr_usd"]) == 1000 and float(c3_churn["mrr_change_usd"]) == -1000
    assert facts.loc[("cus_C4", pd.Timestamp(month("2025-09"))), "reactivation_mrr_usd"] == 200
    assert set(facts.reset_index()["customer_id"]) == {"cus_C1", "cus_C2", "cus_C3", "cus_C4"}  # no test-mode C9


def test_annual_contract_is_eligible_to_churn_only_in_its_term_end_month(built: Settings) -> None:
    facts = query(built, "select * from marts.fct_mrr_customer_months")
    eligible = facts.groupby("customer_id").apply(
        lambda rows: sorted(m.strftime("%Y-%m") for m in rows.loc[rows["is_churn_eligible"], "mrr_month"]),
        include_groups=False,
    )
    # C3 began paying in February 2025: a 12-month term, so only February 2026 (when it did churn).
    assert eligible["cus_C3"] == ["2026-02"]
    # Monthly customers: every month they paid at the start of (not their new month; not C4's reactivation).
    assert len(eligible["cus_C1"]) == 14  # February 2025 .. March 2026
    assert "2025-06" in eligible["cus_C4"] and "2025-09" not in eligible["cus_C4"]
    assert len(eligible["cus_C4"]) == 5 + 6  # Feb-Jun 2025, Oct 2025-Mar 2026


def bridge(settings: Settings, segment: str, mrr_month: str) -> dict:
    frame = query(
        settings,
        f"select * from marts.rpt_mrr_movements_monthly where segment = '{segment}' and mrr_month = '{mrr_month}-01'",
    )
    assert len(frame) == 1
    return {key: float(value) for key, value in frame.iloc[0].drop(["mrr_month", "segment"]).items()}


def test_mrr_bridge(built: Settings) -> None:
    zero = {"new_customer_count": 0.0, "expansion_customer_count": 0.0, "contraction_customer_count": 0.0,
            "churned_customer_count": 0.0, "reactivated_customer_count": 0.0, "new_mrr_usd": 0.0,
            "expansion_mrr_usd": 0.0, "contraction_mrr_usd": 0.0, "churned_mrr_usd": 0.0,
            "reactivation_mrr_usd": 0.0, "fx_mrr_usd": 0.0, "discount_mrr_usd": 0.0}  # fmt: skip
    # SMB, January 2025: C1 ($200) and C4 ($100) new.
    assert bridge(built, "SMB", "2025-01") == zero | {
        "starting_mrr_usd": 0, "new_mrr_usd": 300, "ending_mrr_usd": 300, "net_new_mrr_usd": 300,
        "starting_customer_count": 0, "new_customer_count": 2, "ending_customer_count": 2,
    }  # fmt: skip
    # SMB, June 2025: C4 churns $100: 1,500 -> 1,400.
    assert bridge(built, "SMB", "2025-06") == zero | {
        "starting_mrr_usd": 1500, "churned_mrr_usd": 100, "ending_mrr_usd": 1400, "net_new_mrr_usd": -100,
        "starting_customer_count": 3, "churned_customer_count": 1, "ending_customer_count": 2,
    }  # fmt: skip
    # SMB, September 2025: C4 comes back at $200: 1,400 -> 1,600.
    assert bridge(built, "SMB", "2025-09") == zero | {
        "starting_mrr_usd": 1400, "reactivation_mrr_usd": 200, "ending_mrr_usd": 1600, "net_new_mrr_usd": 200,
        "starting_customer_count": 2, "reactivated_customer_count": 1, "ending_customer_count": 3,
    }  # fmt: skip
    # SMB, February 2026: C3's annual contract ends: 1,600 -> 600.
    assert bridge(built, "SMB", "2026-02") == zero | {
        "starting_mrr_usd": 1600, "churned_mrr_usd": 1000, "ending_mrr_usd": 600, "net_new_mrr_usd": -1000,
        "starting_customer_count": 3, "churned_customer_count": 1, "ending_customer_count": 2,
    }  # fmt: skip
    # Mid-Market, April 2025: C2 drops a seat: 500 -> 400.
    assert bridge(built, "Mid-Market", "2025-04") == zero | {
        "starting_mrr_usd": 500, "contraction_mrr_usd": 100, "ending_mrr_usd": 400, "net_new_mrr_usd": -100,
        "starting_customer_count": 1, "contraction_customer_count": 1, "ending_customer_count": 1,
    }  # fmt: skip
    # Enterprise has no customer: a row of zeros every month, 15 months (2025-01 .. 2026-03) x 4 segments.
    assert bridge(built, "Enterprise", "2025-05") == zero | {
        "starting_mrr_usd": 0, "ending_mrr_usd": 0, "net_new_mrr_usd": 0, "starting_customer_count": 0,
        "ending_customer_count": 0,
    }  # fmt: skip
    totals = query(
        built,
        "select mrr_month, count(*) as row_count, sum(ending_mrr_usd) as mrr "
        "from marts.rpt_mrr_movements_monthly group by mrr_month order by mrr_month",
    )
    assert len(totals) == 15 and set(totals["row_count"]) == {4}
    assert [float(value) for value in totals["mrr"]] == [
        800,
        1800,
        1900,
        1800,
        1900,
        1800,
        1800,
        1800,
        2000,
        2000,
        2000,
        2000,
        2000,
        1000,
        1000,
    ]


def retention(settings: Settings, segment: str, mrr_month: str) -> pd.Series:
    frame = query(
        settings,
        f"select * from marts.rpt_retention_monthly where segment = '{segment}' and mrr_month = '{mrr_month}-01'",
    )
    assert len(frame) == 1
    return frame.iloc[0]


def test_bridge_assertion_catches_movements_that_do_not_move_the_fact_mrr(tmp_path: Path) -> None:
    """A bridge that adds up on its own rows but not over the fact table below it fails `assert_mrr_movements_add_up`.

    February's bridge starts at 100, expands by 50 and ends at 150: consistent within the row, yet the fact table
    says the segment went from 100 to 120 (its expansion is 20), so the bridge misstates the month.
    """
    [model] = [model for model in load_models(PROJECT_ROOT / "models") if model.name == "rpt_mrr_movements_monthly"]
    [assertion] = [assertion for assertion in model.assertions if assertion.name == "assert_mrr_movements_add_up"]
    with duckdb.connect(str(tmp_path / "scratch.duckdb")) as connection:
        connection.execute("create schema marts")
        connection.execute(
            """
            create table marts.fct_mrr_customer_months as
            select * from (values
                ('cus_1', date '2026-01-01', 'SMB', 100.0), ('cus_1', date '2026-02-01', 'SMB', 120.0)
            ) as facts(customer_id, mrr_month, segment, mrr_usd);
            create table marts.rpt_mrr_movements_monthly as
            select * from (values
                (date '2026-01-01', 'SMB', 0.0, 100.0, 0.0, 0.0, 0.0, 0.0, 0.0, 100.0),
                (date '2026-02-01', 'SMB', 100.0, 0.0, 50.0, 0.0, 0.0, 0.0, 0.0, 150.0)
            ) as report(mrr_month, segment, starting_mrr_usd, new_mrr_usd, expansion_mrr_usd, contraction_mrr_usd,
                churned_mrr_usd, reactivation_mrr_usd, fx_mrr_usd, ending_mrr_usd)
            """
        )
        violations = connection.execute(assertion.sql).fetchall()
    assert [(row[0], row[1]) for row in violations] == [(date(2026, 2, 1), "SMB")]


def test_monthly_nrr_grr_and_churn_rates(built: Settings) -> None:
    # SMB, March 2025: cohort C1 ($200), C3 ($1,000), C4 ($100) = $1,300; C1 +$100.
    # NRR = 1,400 / 1,300 = 1.076923; GRR = 1,300 / 1,300 = 1. C3 is mid-term: eligible C1, C4 = 2.
    march = retention(built, "SMB", "2025-03")
    assert (march["starting_customer_count"], march["eligible_customer_count"]) == (3, 2)
    assert march["nrr"] == pytest.approx(1400 / 1300) and march["grr"] == pytest.approx(1.0)
    assert march["naive_logo_churn_rate"] == 0 and march["honest_logo_churn_rate"] == 0
    # SMB, June 2025: cohort C1 ($400, 4 seats), C3 ($1,000, 10 seats), C4 ($100, 1 seat); C4 churns.
    # NRR = GRR = (1,500 - 100) / 1,500 = 0.933333; revenue churn 100 / 1,500 = 0.066667;
    # seats lost 1 of 15 = 0.066667; naive churn 1 / 3 = 0.333333; honest 1 / 2 (C3 cannot churn mid-term) = 0.5;
    # gap 0.5 - 0.333333 = 0.166667.
    june = retention(built, "SMB", "2025-06")
    assert june["nrr"] == pytest.approx(1400 / 1500) and june["grr"] == pytest.approx(1400 / 1500)
    assert june["revenue_churn_rate"] == pytest.approx(100 / 1500)
    assert (june["starting_seat_count"], june["lost_seat_count"], june["churned_seat_count"]) == (15, 1, 1)
    assert june["seat_churn_rate"] == pytest.approx(1 / 15)
    assert (june["churned_customer_count"], june["eligible_customer_count"]) == (1, 2)
    assert june["naive_logo_churn_rate"] == pytest.approx(1 / 3)
    assert june["honest_logo_churn_rate"] == pytest.approx(0.5)
    assert june["churn_rate_gap"] == pytest.approx(0.5 - 1 / 3)
    # SMB, September 2025: C4's reactivation is not in the cohort (C1 $400, C3 $1,000): NRR = GRR = 1.
    september = retention(built, "SMB", "2025-09")
    assert september["starting_mrr_usd"] == 1400 and september["nrr"] == pytest.approx(1.0)
    # SMB, February 2026: cohort C1 $400 (4 seats), C3 $1,000 (10), C4 $200 (2); C3 churns in its term-end month.
    # NRR = GRR = 600 / 1,600 = 0.375; seats lost 10 / 16 = 0.625; every customer eligible: naive = honest = 1/3.
    february = retention(built, "SMB", "2026-02")
    assert february["nrr"] == pytest.approx(0.375) and february["grr"] == pytest.approx(0.375)
    assert february["seat_churn_rate"] == pytest.approx(10 / 16)
    assert february["eligible_customer_count"] == 3 and february["churned_ineligible_customer_count"] == 0
    assert february["naive_logo_churn_rate"] == pytest.approx(1 / 3)
    assert february["honest_logo_churn_rate"] == pytest.approx(1 / 3) and february["churn_rate_gap"] == 0
    # Mid-Market, April 2025: C2 $500 -> $400 and 5 -> 4 seats: NRR = GRR = 0.8, seat churn 0.2, no logo churn.
    april = retention(built, "Mid-Market", "2025-04")
    assert april["nrr"] == pytest.approx(0.8) and april["grr"] == pytest.approx(0.8)
    assert april["seat_churn_rate"] == pytest.approx(0.2) and april["revenue_churn_rate"] == pytest.approx(0.2)
    assert april["naive_logo_churn_rate"] == 0 and april["honest_logo_churn_rate"] == 0
    # SMB, January 2026: C3 is one month short of its term end: eligible C1 and C4 only.
    assert retention(built, "SMB", "2026-01")["eligible_customer_count"] == 2
    # Nobody pays at the start of January 2025: every monthly rate is null, with the reason.
    first = retention(built, "SMB", "2025-01")
    assert pd.isna(first["nrr"]) and pd.isna(first["grr"]) and pd.isna(first["naive_logo_churn_rate"])
    assert pd.isna(first["honest_logo_churn_rate"]) and pd.isna(first["churn_rate_gap"])
    assert first["monthly_rates_null_reason"] == "no customer paying at the start of the month"
    assert first["honest_churn_rate_null_reason"] == "no customer eligible to churn this month"


def test_trailing_twelve_month_nrr_and_grr(built: Settings) -> None:
    # SMB, January 2026: paying in January 2025 were C1 ($200) and C4 ($100) = $300; now $400 + $200 = $600.
    # NRR = 600 / 300 = 2; GRR caps each at its MRR then: (200 + 100) / 300 = 1.
    january = retention(built, "SMB", "2026-01")
    assert january["trailing_12_month_customer_count"] == 2
    assert january["trailing_12_month_nrr"] == pytest.approx(2.0)
    assert january["trailing_12_month_grr"] == pytest.approx(1.0)
    # SMB, February 2026: February 2025 cohort C1 $200, C3 $1,000, C4 $100 = $1,300; now 400 + 0 + 200 = 600.
    # NRR = 600 / 1,300 = 0.461538; GRR = (200 + 0 + 100) / 1,300 = 0.230769.
    february = retention(built, "SMB", "2026-02")
    assert february["trailing_12_month_nrr"] == pytest.approx(600 / 1300)
    assert february["trailing_12_month_grr"] == pytest.approx(300 / 1300)
    # SMB, March 2026: March 2025 cohort C1 $300, C3 $1,000, C4 $100 = $1,400; now 400 + 0 + 200 = 600.
    # NRR = 600 / 1,400 = 0.428571; GRR = (300 + 0 + 100) / 1,400 = 0.285714.
    march = retention(built, "SMB", "2026-03")
    assert march["trailing_12_month_nrr"] == pytest.approx(600 / 1400)
    assert march["trailing_12_month_grr"] == pytest.approx(400 / 1400)
    # Mid-Market, March 2026: C2 $500 then, $400 now: 0.8 both ways.
    mid_market = retention(built, "Mid-Market", "2026-03")
    assert mid_market["trailing_12_month_nrr"] == pytest.approx(0.8)
    assert mid_market["trailing_12_month_grr"] == pytest.approx(0.8)
    # December 2025: nobody paid in December 2024: null, with the reason.
    december = retention(built, "SMB", "2025-12")
    assert pd.isna(december["trailing_12_month_nrr"]) and pd.isna(december["trailing_12_month_grr"])
    assert december["trailing_12_month_null_reason"] == "no customer paying 12 months earlier"


# ---------------------------------------------------------------------------------------------------------------------
# The public dbt MRR playbook input, converted to Stripe objects, against the playbook semantics computed in Python.
# ---------------------------------------------------------------------------------------------------------------------


def playbook_tables(periods: list[dict[str, str]]) -> dict[str, list[dict]]:
    """One Stripe subscription (with one item of one seat) per playbook period, one monthly price per amount.

    A period's `end_date` is exclusive, so the subscription ends (is cancelled) at that midnight; no CRM account.
    """
    amounts = sorted({int(period["monthly_amount"]) for period in periods})
    first_start: dict[str, str] = {}
    for period in periods:
        customer_id = period["customer_id"]
        first_start[customer_id] = min(first_start.get(customer_id, period["start_date"]), period["start_date"])
    return {
        "stripe.price": [price(f"price_{amount}", amount * 100, "month") for amount in amounts],
        "stripe.customer": [
            customer(f"cus_{customer_id}", None, f"{start} 00:00:00") for customer_id, start in first_start.items()
        ],
        "stripe.subscription": [
            subscription(
                f"sub_{period['subscription_id']}",
                f"cus_{period['customer_id']}",
                "canceled",
                f"{period['start_date']} 00:00:00",
                f"{period['start_date']} 00:00:00",
                ended=f"{period['end_date']} 00:00:00",
            )
            for period in periods
        ],
        "stripe.subscription_item": [
            item(
                f"si_{period['subscription_id']}",
                f"sub_{period['subscription_id']}",
                f"price_{int(period['monthly_amount'])}",
                1,
                f"{period['start_date']} 00:00:00",
            )
            for period in periods
        ],
    }


def add_month(day: date, months: int = 1) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def playbook_movements(periods: list[dict[str, str]]) -> dict[tuple[str, date], tuple[float, float, str]]:
    """The playbook's semantics in plain Python: (customer, month) -> (MRR, previous MRR, movement).

    A month's MRR is the sum of the periods with start_date <= month < end_date. Months run from the first month
    in the data to the month of the latest end_date; a month is kept when the customer pays or paid the month
    before. First paying month: new; 0 after paying: churn; paying after 0 (paid before): reactivation; otherwise
    upgrade (expansion), downgrade (contraction) or no change (unchanged).
    """
    mrr: dict[str, dict[date, float]] = defaultdict(lambda: defaultdict(float))
    for period in periods:
        day, end = date.fromisoformat(period["start_date"]), date.fromisoformat(period["end_date"])
        while day < end:
            mrr[f"cus_{period['customer_id']}"][day] += float(period["monthly_amount"])
            day = add_month(day)
    last = max(date.fromisoformat(period["end_date"]) for period in periods)
    out = {}
    for customer_id, months in mrr.items():
        day, previous, has_paid = min(day for day, amount in months.items() if amount > 0), 0.0, False
        while day <= last:
            current = months.get(day, 0.0)
            if current > 0 and not has_paid:
                movement = "new"
            elif current == 0 and previous > 0:
                movement = "churn"
            elif current > 0 and previous == 0:
                movement = "reactivation"
            elif current != previous:
                movement = "expansion" if current > previous else "contraction"
            else:
                movement = "unchanged"
            if current > 0 or previous > 0:
                out[(customer_id, day)] = (current, previous, movement)
            has_paid |= current > 0
            previous = current
            day = add_month(day)
    return out


def test_mrr_playbook_reference_input(reference_dir: Path, tmp_path: Path) -> None:
    with (reference_dir / "mrr_playbook" / "subscription_periods.csv").open() as handle:
        periods = list(csv.DictReader(handle))
    settings = settings_for(tmp_path, write_raw(tmp_path / "raw", playbook_tables(periods)))
    result = materialize(settings, SELECTION)
    assert result.success
    assert all(check.passed for check in result.get_asset_check_evaluations())

    facts = query(settings, "select * from marts.fct_mrr_customer_months")
    actual = {
        (row.customer_id, row.mrr_month.date()): (float(row.mrr_usd), float(row.previous_mrr_usd), row.movement)
        for row in facts.itertuples()
    }
    expected = playbook_movements(periods)
    assert actual == expected
    # Spot checks read off the CSV: customer 1 pays $50 Nov 2018 - Jan 2019, churns in February, is back in April.
    assert expected[("cus_1", date(2018, 11, 1))] == (50.0, 0.0, "new")
    assert expected[("cus_1", date(2019, 2, 1))] == (0.0, 50.0, "churn")
    assert expected[("cus_1", date(2019, 4, 1))] == (50.0, 0.0, "reactivation")
    assert expected[("cus_1", date(2019, 6, 1))] == (75.0, 50.0, "expansion")
    # Customers 2-4 paid only in 2017, before the playbook's own calendar (from 2018): still new, then churned.
    assert expected[("cus_2", date(2017, 9, 1))] == (25.0, 0.0, "new")
    assert expected[("cus_2", date(2017, 11, 1))] == (0.0, 25.0, "churn")

    # The bridge is consistent: 55 customers, every one new once, start + movements = end, no MRR left at the end.
    bridge_rows = query(settings, "select * from marts.rpt_mrr_movements_monthly where segment = 'Unknown'")
    assert len(facts["customer_id"].unique()) == 55
    assert int(bridge_rows["new_customer_count"].sum()) == 55
    movements = (
        bridge_rows["starting_mrr_usd"] + bridge_rows["new_mrr_usd"] + bridge_rows["expansion_mrr_usd"]
        - bridge_rows["contraction_mrr_usd"] - bridge_rows["churned_mrr_usd"] + bridge_rows["reactivation_mrr_usd"]
    )  # fmt: skip
    assert (movements.astype(float) - bridge_rows["ending_mrr_usd"].astype(float)).abs().max() < 0.005
    by_month = {row.mrr_month.date(): float(row.ending_mrr_usd) for row in bridge_rows.itertuples()}
    expected_by_month: dict[date, float] = defaultdict(float)
    for (_, day), (current, _, _) in expected.items():
        expected_by_month[day] += current
    assert {day: value for day, value in by_month.items() if value} == {
        day: value for day, value in expected_by_month.items() if value
    }
    assert by_month[max(by_month)] == 0  # February 2020: the last periods ended on 2020-02-01
