"""MRR in several currencies and net of discounts, worked out by hand: conversion at each month's rate, the
exchange-rate effect in the MRR bridge, a month with no rate left out and listed instead of stopping the build, and
coupons of every duration taking money off MRR at each month's close.

Rates (USD per unit, fx.rate_rule month_start: the first day's rate, else the latest of the month before):
- EUR, written `eur`: 2026-01-01 1.10, 2026-01-30 1.20, 2026-03-01 1.25, 2026-04-01 1.30. February 1st has no rate,
  so February takes January 30th's 1.20 (a rate change across the month boundary): Jan 1.10, Feb 1.20, Mar 1.25,
  Apr 1.30.
- GBP: 2026-01-01 1.30, 2026-02-02 1.40: Jan 1.30, Feb 1.30 (February 1st has none: January's last), Mar 1.40
  (February's last), Apr none (no rate on April 1st nor in March).
The data runs to 2026-04-03 (U1's current period start). No customer has a CRM account: all in the unknown segment.

- E1 pays in EUR: EUR 100 a seat a month, 2 seats from 2026-01-10, 3 from 2026-03-15.
  Jan 200 x 1.10 = 220 (new). Feb 200 x 1.20 = 240: unchanged, fx = 200 x (1.20 - 1.10) = 20.
  Mar 300 x 1.25 = 375: expansion (300 - 200) x 1.25 = 125, fx = 200 x (1.25 - 1.20) = 10 (125 + 10 = 375 - 240).
  Apr 300 x 1.30 = 390: unchanged, fx = 300 x 0.05 = 15.
- G1 pays in GBP: GBP 100 a month from 2026-01-05. Jan 130 (new), Feb 130 (unchanged, fx 0), Mar 140 (fx 10).
  Apr: no GBP rate, so its 100 GBP are left out (listed with the reason) and G1 shows as churned (140).
- U1 pays USD 100 a month from 2026-01-03: 100 every month, never any fx.

Bridge (unknown segment): Jan 0 + new 450 = 450. Feb 450 + fx 20 = 470. Mar 470 + expansion 125 + fx 20 = 615.
Apr 615 - churned 140 + fx 15 = 490. Monthly NRR leaves fx out: March (470 + 125) / 470.

Discounts (USD, account 001D: SMB; USD 100 a seat a month, or USD 1,200 a seat a year = 100 a month):
- D1, 1 seat from 2026-01-10, 20% off once from 2026-01-10: the first invoice's month only. Jan 80 (new),
  Feb 100 (expansion 20), Mar 100, Apr 100.
- D2, 2 seats from 2026-01-05, 20% off repeating 2 months from 2026-01-05 (no recorded end: until 2026-03-05).
  Jan 160, Feb 160, Mar 200 (expansion 40: the discount ended), Apr 200.
- D3, 3 seats from 2026-01-07, 10% off forever: 270 every month.
- D4, annual, 1 seat from 2026-01-08, USD 25 off each invoice forever: one invoice a year, so 25 / 12 a month:
  100 - 2.0833 = 97.9167 every month.
- D5, 1 seat from 2026-01-09, 100% off forever: no MRR, never a paying customer (no row).
- D6, 4 seats from 2026-01-06 (400), 50% off forever from 2026-02-15, removed 2026-03-20 (Stripe leaves a forever
  discount's end empty: the connector marks the removed discount deleted, synced at 2026-03-20): Jan 400 (new),
  Feb 200 (contraction 200), Mar 400 (expansion 200), Apr 400.
- D7, annual, 1 seat from 2026-01-12, 12% off once: the one annual invoice is spread over its year: 88 every month
  (a monthly plan would be back to 100 in February).
- D8, annual, 1 seat from 2026-01-13, 20% off repeating 2 months: the annual invoice issued 2026-01-13 falls within
  the 2 months, so it is 1,200 - 240; spread over its year: 80 every month (not back to 100 in March).
- D9, 1 seat from 2026-01-14 with a trial to 2026-02-14, 20% off once from 2026-01-14: the once coupon waits for the
  first paid invoice (2026-02-14): Feb 80 (new), Mar 100 (expansion), Apr 100.
- D10, 1 seat from 2026-01-15 on the monthly price, moved to the annual price (100 a month too) on 2026-03-15, 20% off
  once from 2026-01-15: the cycle at the discount's start is a month: Jan 80 (new), Feb 100 (expansion), Mar 100,
  Apr 100 (not 80 for a year, the cycle of the later annual version).
- D11 has two subscriptions from 2026-01-16, 1 seat each: sub_D11 with no discount of its own and sub_D11b with 10%
  off forever, and the customer has 50% off forever (a customer-level discount): it applies to sub_D11 only:
  50 + 90 = 140 every month.
- D3's discount is synced twice, as the subscription's and as the customer's (type customer, same id, its
  subscription set): counted once, 270.
With definitions mrr.discounts gross, MRR is list price x seats: D1 100 every month, D5 100 (a new customer in
January), D6 400 every month; discount_mrr_usd still shows the discounts (D1 20 in January).
With forever_only (Stripe Billing's default), only forever coupons come off: D3 270, D4 97.9167, D5 none, D6 400,
200, 400, 400 and D11 140 as with net; the once and repeating ones leave MRR at list: D1, D2 (200), D7, D8, D9 (from
February) and D10 at list every month (D1 100 new in January, then unchanged); discount_mrr_usd still shows
D1's 20 in January.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pipelines.spec.settings import Settings
from tests.conftest import materialize, settings_for
from tests.fixtures import NO_MINIMUM_BASES, definitions_with, query, write_raw
from tests.integration.test_mrr_and_retention import FOREVER, customer, item, price, subscription

SELECTION = (
    '+key:"marts/rpt_retention_monthly" or +key:"marts/rpt_mrr_movements_monthly" '
    'or +key:"intermediate/int_subscription_items_unconverted" or group:definitions'
)


def rate(day: str, currency: str, value: float) -> dict[str, object]:
    return {"date": day, "currency": currency, "rate": value}


def coupon(coupon_id: str, duration: str, **terms: object) -> dict[str, object]:
    return {"id": coupon_id, "duration": duration, "livemode": "true", "amount_off": None, "percent_off": None, **terms}


def discount(discount_id: str, coupon_id: str, name: str, start: str, **more: object) -> dict[str, object]:
    """A subscription's discount, as the connector's `discount` table has it (type subscription)."""
    return {"id": discount_id, "type": "subscription", "type_id": f"sub_{name}", "coupon_id": coupon_id,
            "customer_id": f"cus_{name}", "subscription_id": f"sub_{name}", "start": start,
            "_fivetran_synced": start, **more}  # fmt: skip


# the discounted customers: price, seats, start
DISCOUNTED = {
    "D1": ("price_USD", 1, "2026-01-10 10:00:00"),
    "D2": ("price_USD", 2, "2026-01-05 10:00:00"),
    "D3": ("price_USD", 3, "2026-01-07 10:00:00"),
    "D4": ("price_USD_Y", 1, "2026-01-08 10:00:00"),
    "D5": ("price_USD", 1, "2026-01-09 10:00:00"),
    "D6": ("price_USD", 4, "2026-01-06 10:00:00"),
    "D7": ("price_USD_Y", 1, "2026-01-12 10:00:00"),
    "D8": ("price_USD_Y", 1, "2026-01-13 10:00:00"),
    "D9": ("price_USD", 1, "2026-01-14 10:00:00"),
    "D11": ("price_USD", 1, "2026-01-16 10:00:00"),
}

TABLES = {
    "finance.exchange_rate": [
        rate("2026-01-01", "eur", 1.10),
        rate("2026-01-30", "eur", 1.20),
        rate("2026-03-01", "eur", 1.25),
        rate("2026-04-01", "eur", 1.30),
        rate("2026-01-01", "GBP", 1.30),
        rate("2026-02-02", "GBP", 1.40),
    ],
    "salesforce.account": [{"id": "001D", "number_of_employees": 50}],
    "stripe.coupon": [
        coupon("co_once20", "once", percent_off=20),
        coupon("co_rep2_20", "repeating", percent_off=20, duration_in_months=2),
        coupon("co_forever10", "forever", percent_off=10),
        coupon("co_amount25", "forever", amount_off=2500, currency="usd"),
        coupon("co_full", "forever", percent_off=100),
        coupon("co_half", "forever", percent_off=50),
        coupon("co_once12", "once", percent_off=12),
    ],
    "stripe.discount": [
        discount("di_D1", "co_once20", "D1", "2026-01-10 10:00:00"),
        discount("di_D2", "co_rep2_20", "D2", "2026-01-05 10:00:00"),
        discount("di_D3", "co_forever10", "D3", "2026-01-07 10:00:00"),
        discount("di_D3", "co_forever10", "D3", "2026-01-07 10:00:00", type="customer", type_id="cus_D3"),
        discount("di_D4", "co_amount25", "D4", "2026-01-08 10:00:00"),
        discount("di_D5", "co_full", "D5", "2026-01-09 10:00:00"),
        discount("di_D6", "co_half", "D6", "2026-02-15 10:00:00", _fivetran_synced="2026-03-20 10:00:00",
                 _fivetran_deleted="true"),
        discount("di_D7", "co_once12", "D7", "2026-01-12 10:00:00"),
        discount("di_D8", "co_rep2_20", "D8", "2026-01-13 10:00:00", end="2026-03-13 10:00:00"),
        discount("di_D9", "co_once20", "D9", "2026-01-14 10:00:00"),
        discount("di_D10", "co_once20", "D10", "2026-01-15 10:00:00"),
        discount("di_D11b", "co_forever10", "D11b", "2026-01-16 10:00:00", customer_id="cus_D11"),
        discount("di_D11", "co_half", "D11", "2026-01-16 10:00:00", type="customer", type_id="cus_D11",
                 subscription_id=None),
    ],
    "stripe.price": [
        price("price_USD_Y", 120000, "year"),
        price("price_EUR", 10000, "month", currency="eur"),
        price("price_GBP", 10000, "month", currency="gbp"),
        price("price_USD", 10000, "month"),
    ],
    "stripe.customer": [
        customer("cus_E1", None, "2026-01-10 09:00:00"),
        customer("cus_G1", None, "2026-01-05 09:00:00"),
        customer("cus_U1", None, "2026-01-03 09:00:00"),
        *(customer(f"cus_{name}", "001D", "2026-01-02 09:00:00") for name in [*DISCOUNTED, "D10"]),
    ],
    "stripe.subscription": [
        subscription("sub_E1", "cus_E1", "active", "2026-01-10 10:00:00", "2026-03-10 10:00:00"),
        subscription("sub_G1", "cus_G1", "active", "2026-01-05 10:00:00", "2026-03-05 10:00:00"),
        subscription("sub_U1", "cus_U1", "active", "2026-01-03 10:00:00", "2026-04-03 10:00:00"),
        *(subscription(f"sub_{name}", f"cus_{name}", "active", start, start)
          for name, (_, _, start) in DISCOUNTED.items() if name != "D9"),
        {**subscription("sub_D9", "cus_D9", "active", "2026-01-14 10:00:00", "2026-03-14 10:00:00"),
         "trial_start": "2026-01-14 10:00:00", "trial_end": "2026-02-14 10:00:00"},
        subscription("sub_D10", "cus_D10", "active", "2026-01-15 10:00:00", "2026-03-15 10:00:00"),
        subscription("sub_D11b", "cus_D11", "active", "2026-01-16 10:00:00", "2026-01-16 10:00:00"),
    ],
    "stripe.subscription_item": [
        item("si_E1", "sub_E1", "price_EUR", 2, "2026-01-10 10:00:00", _fivetran_start="2026-01-10 10:00:00",
             _fivetran_end="2026-03-15 12:00:00", _fivetran_active="false"),
        item("si_E1", "sub_E1", "price_EUR", 3, "2026-01-10 10:00:00", _fivetran_start="2026-03-15 12:00:00",
             _fivetran_end=FOREVER, _fivetran_active="true"),
        item("si_G1", "sub_G1", "price_GBP", 1, "2026-01-05 10:00:00"),
        item("si_U1", "sub_U1", "price_USD", 1, "2026-01-03 10:00:00"),
        *(item(f"si_{name}", f"sub_{name}", price_id, seats, start)
          for name, (price_id, seats, start) in DISCOUNTED.items()),
        item("si_D10", "sub_D10", "price_USD", 1, "2026-01-15 10:00:00", _fivetran_start="2026-01-15 10:00:00",
             _fivetran_end="2026-03-15 10:00:00", _fivetran_active="false"),
        item("si_D10", "sub_D10", "price_USD_Y", 1, "2026-01-15 10:00:00", _fivetran_start="2026-03-15 10:00:00",
             _fivetran_end=FOREVER, _fivetran_active="true"),
        item("si_D11b", "sub_D11b", "price_USD", 1, "2026-01-16 10:00:00"),
    ],
}  # fmt: skip


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, dict[str, bool]]]:
    tmp_path = tmp_path_factory.mktemp("mrr_currencies")
    settings = settings_for(
        tmp_path,
        write_raw(tmp_path / "raw", TABLES),
        definitions_file=definitions_with(tmp_path, minimum_bases=NO_MINIMUM_BASES),
        as_of="2026-04-03 10:00:00",
    )
    result = materialize(settings, SELECTION)
    assert result.success
    checks = {check.check_name: check.passed for check in result.get_asset_check_evaluations()}
    yield settings, checks


def facts(settings: Settings) -> dict[tuple[str, str], tuple[float, str, float]]:
    frame = query(settings, "select * from marts.fct_mrr_customer_months")
    return {
        (row.customer_id, row.mrr_month.strftime("%Y-%m")): (
            round(float(row.mrr_usd), 4),
            row.movement,
            round(float(row.fx_mrr_usd), 4),
        )
        for row in frame.itertuples()
    }


def test_each_month_converts_at_its_rate_and_the_rate_change_is_fx(built: tuple[Settings, dict[str, bool]]) -> None:
    rows = facts(built[0])
    assert {key: value for key, value in rows.items() if key[0] == "cus_E1"} == {
        ("cus_E1", "2026-01"): (220.0, "new", 0.0),
        ("cus_E1", "2026-02"): (240.0, "unchanged", 20.0),
        ("cus_E1", "2026-03"): (375.0, "expansion", 10.0),
        ("cus_E1", "2026-04"): (390.0, "unchanged", 15.0),
    }
    expansion = query(
        built[0],
        "select expansion_mrr_usd from marts.fct_mrr_customer_months "
        "where customer_id = 'cus_E1' and mrr_month = date '2026-03-01'",
    ).iloc[0, 0]
    assert float(expansion) == pytest.approx(125.0)
    assert {key: value for key, value in rows.items() if key[0] == "cus_U1"} == {
        ("cus_U1", f"2026-0{month}"): (100.0, "new" if month == 1 else "unchanged", 0.0) for month in range(1, 5)
    }


def test_a_month_without_a_rate_is_left_out_and_listed(built: tuple[Settings, dict[str, bool]]) -> None:
    settings, checks = built
    rows = facts(settings)
    assert rows[("cus_G1", "2026-03")] == (140.0, "unchanged", 10.0)
    assert rows[("cus_G1", "2026-04")] == (0.0, "churn", 0.0)
    unconverted = query(settings, "select * from intermediate.int_subscription_items_unconverted")
    assert [
        (row.subscription_item_id, row.customer_id, row.currency, row.mrr_month.strftime("%Y-%m"), row.mrr_amount)
        for row in unconverted.itertuples()
    ] == [("si_G1", "cus_G1", "GBP", "2026-04", 100.0)]
    assert unconverted.reason[0] == "no GBP exchange rate for 2026-04 (fx.rate_rule month_start)"
    # the warning fails (it lists the month), every other check passes: the marts are built
    assert checks.pop("assert_every_amount_has_an_exchange_rate") is False
    assert all(checks.values()), [name for name, passed in checks.items() if not passed]


def test_the_bridge_carries_fx_and_adds_up(built: tuple[Settings, dict[str, bool]]) -> None:
    bridge = query(
        built[0],
        "select strftime(mrr_month, '%Y-%m') as month, starting_mrr_usd, new_mrr_usd, expansion_mrr_usd, "
        "churned_mrr_usd, fx_mrr_usd, ending_mrr_usd from marts.rpt_mrr_movements_monthly where segment = 'Unknown' "
        "order by mrr_month",
    )
    rows = [(row[0], *(round(float(value), 4) for value in row[1:])) for row in bridge.itertuples(index=False)]
    assert rows == [
        ("2026-01", 0.0, 450.0, 0.0, 0.0, 0.0, 450.0),
        ("2026-02", 450.0, 0.0, 0.0, 0.0, 20.0, 470.0),
        ("2026-03", 470.0, 0.0, 125.0, 0.0, 20.0, 615.0),
        ("2026-04", 615.0, 0.0, 0.0, 140.0, 15.0, 490.0),
    ]
    nrr = query(
        built[0],
        "select nrr from marts.rpt_retention_monthly where segment = 'Unknown' and mrr_month = date '2026-03-01'",
    ).iloc[0, 0]
    assert nrr == pytest.approx((470 + 125) / 470)


def mrr_by_month(settings: Settings, name: str) -> list[tuple[str, float, str]]:
    frame = query(
        settings,
        f"select strftime(mrr_month, '%Y-%m') as month, mrr_usd, movement from marts.fct_mrr_customer_months "
        f"where customer_id = 'cus_{name}' order by mrr_month",
    )
    return [(row.month, round(float(row.mrr_usd), 4), row.movement) for row in frame.itertuples()]


def test_each_discount_takes_money_off_in_the_months_it_applies(built: tuple[Settings, dict[str, bool]]) -> None:
    settings = built[0]
    assert mrr_by_month(settings, "D1") == [
        ("2026-01", 80.0, "new"), ("2026-02", 100.0, "expansion"), ("2026-03", 100.0, "unchanged"),
        ("2026-04", 100.0, "unchanged"),
    ]  # fmt: skip
    assert mrr_by_month(settings, "D2") == [
        ("2026-01", 160.0, "new"), ("2026-02", 160.0, "unchanged"), ("2026-03", 200.0, "expansion"),
        ("2026-04", 200.0, "unchanged"),
    ]  # fmt: skip
    assert [mrr for _, mrr, _ in mrr_by_month(settings, "D3")] == [270.0] * 4
    assert [mrr for _, mrr, _ in mrr_by_month(settings, "D4")] == [97.9167] * 4
    assert mrr_by_month(settings, "D5") == []
    assert mrr_by_month(settings, "D6") == [
        ("2026-01", 400.0, "new"), ("2026-02", 200.0, "contraction"), ("2026-03", 400.0, "expansion"),
        ("2026-04", 400.0, "unchanged"),
    ]  # fmt: skip
    assert [mrr for _, mrr, _ in mrr_by_month(settings, "D7")] == [88.0] * 4
    discounts = query(
        settings,
        "select customer_id, sum(discount_mrr_usd) as total from marts.fct_mrr_customer_months "
        "where customer_id in ('cus_D1', 'cus_D6') group by customer_id order by customer_id",
    )
    assert [round(float(total), 4) for total in discounts.total] == [20.0, 200.0]


def test_repeating_once_and_customer_discounts_follow_the_billing_cycles(
    built: tuple[Settings, dict[str, bool]],
) -> None:
    settings = built[0]
    assert [mrr for _, mrr, _ in mrr_by_month(settings, "D8")] == [80.0] * 4
    assert mrr_by_month(settings, "D9") == [
        ("2026-02", 80.0, "new"), ("2026-03", 100.0, "expansion"), ("2026-04", 100.0, "unchanged"),
    ]  # fmt: skip
    assert mrr_by_month(settings, "D10") == [
        ("2026-01", 80.0, "new"), ("2026-02", 100.0, "expansion"), ("2026-03", 100.0, "unchanged"),
        ("2026-04", 100.0, "unchanged"),
    ]  # fmt: skip
    assert [mrr for _, mrr, _ in mrr_by_month(settings, "D11")] == [140.0] * 4
    applied = query(
        settings,
        "select discount_id, subscription_id from intermediate.int_subscription_discounts_applied "
        "where discount_id in ('di_D3', 'di_D11', 'di_D11b') order by discount_id",
    )
    assert list(applied.itertuples(index=False, name=None)) == [
        ("di_D11", "sub_D11"), ("di_D11b", "sub_D11b"), ("di_D3", "sub_D3"),
    ]  # fmt: skip


def test_gross_mrr_leaves_the_discounts_beside_it(tmp_path_factory: pytest.TempPathFactory) -> None:
    tmp_path = tmp_path_factory.mktemp("mrr_gross")
    settings = settings_for(
        tmp_path,
        write_raw(tmp_path / "raw", TABLES),
        definitions_file=definitions_with(tmp_path, mrr={"discounts": "gross"}),
        as_of="2026-04-03 10:00:00",
    )
    assert materialize(settings, '+key:"marts/fct_mrr_customer_months"').success
    assert [mrr for _, mrr, _ in mrr_by_month(settings, "D1")] == [100.0] * 4
    assert mrr_by_month(settings, "D5")[0] == ("2026-01", 100.0, "new")
    assert [mrr for _, mrr, _ in mrr_by_month(settings, "D6")] == [400.0] * 4
    january = query(
        settings,
        "select discount_mrr_usd from marts.fct_mrr_customer_months "
        "where customer_id = 'cus_D1' and mrr_month = date '2026-01-01'",
    ).iloc[0, 0]
    assert float(january) == pytest.approx(20.0)


def test_forever_only_mrr_takes_off_forever_coupons_only(tmp_path_factory: pytest.TempPathFactory) -> None:
    tmp_path = tmp_path_factory.mktemp("mrr_forever_only")
    settings = settings_for(
        tmp_path,
        write_raw(tmp_path / "raw", TABLES),
        definitions_file=definitions_with(tmp_path, mrr={"discounts": "forever_only"}),
        as_of="2026-04-03 10:00:00",
    )
    assert materialize(settings, '+key:"marts/fct_mrr_customer_months"').success
    assert mrr_by_month(settings, "D1") == [
        ("2026-01", 100.0, "new"), *((f"2026-0{month}", 100.0, "unchanged") for month in (2, 3, 4)),
    ]  # fmt: skip
    for name, mrr in (("D2", 200.0), ("D3", 270.0), ("D4", 97.9167), ("D7", 100.0), ("D8", 100.0), ("D10", 100.0),
                      ("D11", 140.0)):  # fmt: skip
        assert [value for _, value, _ in mrr_by_month(settings, name)] == [mrr] * 4, name
    assert [value for _, value, _ in mrr_by_month(settings, "D9")] == [100.0] * 3
    assert mrr_by_month(settings, "D5") == []
    assert [value for _, value, _ in mrr_by_month(settings, "D6")] == [400.0, 200.0, 400.0, 400.0]
    january = query(
        settings,
        "select discount_mrr_usd from marts.fct_mrr_customer_months "
        "where customer_id = 'cus_D1' and mrr_month = date '2026-01-01'",
    ).iloc[0, 0]
    assert float(january) == pytest.approx(20.0)
