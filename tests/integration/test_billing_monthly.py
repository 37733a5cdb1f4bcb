"""Four Stripe customers' invoices, charges and refunds worked through by hand: billed and collected revenue per month.

Prices: Monthly $100 per seat per month (10000 cents); Annual $1,200 per seat per year (120000 cents), i.e. $100 per
seat per month of MRR. Invoices are finalized when created (no finalization time synced, so the invoiced time is
the creation; one invoice carries status_transitions_finalized_at to show that it wins). Exchange rates (rule
month_start, the shared default): EUR 1.10 on 2026-02-01 and 1.20 on 2026-03-01; no GBP rate; USD converts at 1.

- C1 (1 monthly seat from 2026-01-05): invoices of $100 on Jan 5, Feb 5 and Mar 5, each paid by a charge the same
  day; a draft of $100 created Mar 31 (not billed); a one-off invoice of GBP 50 on Mar 12, still open: GBP has no
  rate, so it is left out of March and counted among the events without a rate. A test-mode invoice of $999 on
  Mar 6 with its test-mode charge and a refund of that charge: all left out.
- C2 (2 monthly seats from 2026-01-20, $200): Jan 20 paid the same day; a void invoice of $50 (Jan 25, not billed);
  Feb 20: the charge fails that day ($200), the retry succeeds on Mar 2; Mar 20: still open (no charge yet), due on
  Mar 27, so past due now (the run's as-of time is later). A
  one-off invoice of EUR 100 on Feb 10, paid that day: $110 invoiced and collected in February (1.10).
- C3 (1 annual seat from 2026-01-10): one invoice of $1,200 on Jan 10 (finalized 09:00, created the day before),
  paid Jan 10; $300 of it refunded on Mar 15.
- C4 (1 monthly seat from 2026-02-01, cancelled on 2026-03-05): Feb 1 invoice of $100, its charge fails that day,
  $40 of it is paid on Feb 15 (amount_paid 40, amount_remaining 60), and the rest is written off as uncollectible on
  Mar 5: $60 written off, not the $100 total.

Per month, in USD (invoiced by the invoice's month; collected and failed by the charge's; refunds by the refund's):

| month   | invoiced           | collected  | failed     | refunded | net  | uncollectible | open*  | MRR             |
| 2026-01 | 3: 100+200+1200    | 3: 1500    | 0          | 0        | 1500 | 0             | 0      | 100+200+100     |
| 2026-02 | 4: 100+200+100+110 | 3: 100+110+40 | 2: 200+100 | 0     | 250  | 0             | 0      | 100+200+100+100 |
| 2026-03 | 2: 100+200         | 2: 100+200 | 0          | 1: 300   | 0    | 1: 60         | 1: 200 | 100+200+100     |

(*) open and past due alike: C2's March invoice is the one open invoice, and it is past due.

Collection rate (collected so far on the month's invoices / invoiced): January 1500/1500 = 1; February (100 + 200
collected in March on C2's February invoice + 110 + C4's 40) / 510 = 450/510; March 100/300 = 1/3. March has one event
without a rate (the GBP invoice).
"""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest

from pipelines.spec.settings import PROJECT_ROOT, Settings
from pipelines.warehouse.shared_definitions import load_definitions
from pipelines.warehouse.suites import load_suites, run_suite
from tests.conftest import materialize, settings_for
from tests.fixtures import query, write_raw

SELECTION = '+key:"marts/rpt_billing_monthly" or group:definitions'


def invoice(invoice_id: str, customer: str, cents: int, created: str, status: str, **extra: object) -> dict:
    return {
        "id": invoice_id,
        "customer_id": customer,
        "subscription_id": f"sub_{customer.removeprefix('cus_')}",
        "currency": "usd",
        **extra,
        "status": status,
        "total": cents,
        "amount_paid": cents if status == "paid" else 0,
        "created": created,
        "livemode": extra.pop("livemode", "true"),
        "is_deleted": "false",
    }


def charge(
    charge_id: str,
    invoice_id: str,
    cents: int,
    created: str,
    status: str,
    livemode: str = "true",
    currency: str = "usd",
) -> dict:
    return {
        "id": charge_id,
        "invoice_id": invoice_id,
        "amount": cents,
        "currency": currency,
        "status": status,
        "created": created,
        "livemode": livemode,
    }


def customer(customer_id: str) -> dict:
    account = f"001{customer_id.removeprefix('cus_')}"
    return {"id": customer_id, "metadata": f'{{"salesforce_account_id": "{account}"}}', "created": "2026-01-01",
            "currency": "usd", "livemode": "true"}  # fmt: skip


def subscription(customer_id: str, start: str, period_start: str, ended: str | None = None) -> dict:
    return {"id": f"sub_{customer_id.removeprefix('cus_')}", "customer_id": customer_id,
            "status": "canceled" if ended else "active", "created": start, "start_date": start,
            "current_period_start": period_start, "canceled_at": ended, "ended_at": ended,
            "livemode": "true"}  # fmt: skip


def item(item_id: str, price_id: str, quantity: int, created: str) -> dict:
    subscription_id = item_id.replace("si_", "sub_")
    return {"id": item_id, "subscription_id": subscription_id, "price_id": price_id, "quantity": quantity,
            "created": created}  # fmt: skip


TABLES = {
    "salesforce.account": [{"id": f"001C{n}", "number_of_employees": 50} for n in range(1, 5)],
    "stripe.price": [
        {"id": "price_M", "currency": "usd", "unit_amount": 10000, "type": "recurring", "recurring_interval": "month",
         "livemode": "true"},
        {"id": "price_Y", "currency": "usd", "unit_amount": 120000, "type": "recurring", "recurring_interval": "year",
         "livemode": "true"},
    ],
    "stripe.customer": [customer(f"cus_C{n}") for n in range(1, 5)],
    "stripe.subscription": [
        subscription("cus_C1", "2026-01-05 10:00:00", "2026-03-05 10:00:00"),
        subscription("cus_C2", "2026-01-20 10:00:00", "2026-03-20 10:00:00"),
        subscription("cus_C3", "2026-01-10 10:00:00", "2026-01-10 10:00:00"),
        subscription("cus_C4", "2026-02-01 10:00:00", "2026-02-01 10:00:00", ended="2026-03-05 10:00:00"),
    ],
    "stripe.subscription_item": [
        item("si_C1", "price_M", 1, "2026-01-05 10:00:00"),
        item("si_C2", "price_M", 2, "2026-01-20 10:00:00"),
        item("si_C3", "price_Y", 1, "2026-01-10 10:00:00"),
        item("si_C4", "price_M", 1, "2026-02-01 10:00:00"),
    ],
    "stripe.invoice": [
        invoice("in_C1_01", "cus_C1", 10000, "2026-01-05 10:00:00", "paid"),
        invoice("in_C1_02", "cus_C1", 10000, "2026-02-05 10:00:00", "paid"),
        invoice("in_C1_03", "cus_C1", 10000, "2026-03-05 10:00:00", "paid"),
        invoice("in_C1_04", "cus_C1", 10000, "2026-03-31 10:00:00", "draft"),
        invoice("in_C1_test", "cus_C1", 99900, "2026-03-06 10:00:00", "paid", livemode="false"),
        invoice("in_C2_01", "cus_C2", 20000, "2026-01-20 10:00:00", "paid"),
        invoice("in_C2_eur", "cus_C2", 10000, "2026-02-10 10:00:00", "paid", currency="eur", subscription_id=None),
        invoice("in_C1_gbp", "cus_C1", 5000, "2026-03-12 10:00:00", "open", currency="GBP", subscription_id=None),
        invoice("in_C2_void", "cus_C2", 5000, "2026-01-25 10:00:00", "void",
                status_transitions_voided_at="2026-01-26 10:00:00"),
        invoice("in_C2_02", "cus_C2", 20000, "2026-02-20 10:00:00", "paid", attempt_count=2),
        invoice("in_C2_03", "cus_C2", 20000, "2026-03-20 10:00:00", "open", due_date="2026-03-27 10:00:00"),
        invoice("in_C3_01", "cus_C3", 120000, "2026-01-09 22:00:00", "paid",
                status_transitions_finalized_at="2026-01-10 09:00:00"),
        {**invoice("in_C4_01", "cus_C4", 10000, "2026-02-01 10:00:00", "uncollectible",
                   status_transitions_marked_uncollectible_at="2026-03-05 10:00:00"),
         "amount_paid": 4000, "amount_remaining": 6000},
    ],
    "stripe.charge": [
        charge("ch_C1_01", "in_C1_01", 10000, "2026-01-05 11:00:00", "succeeded"),
        charge("ch_C1_02", "in_C1_02", 10000, "2026-02-05 11:00:00", "succeeded"),
        charge("ch_C1_03", "in_C1_03", 10000, "2026-03-05 11:00:00", "succeeded"),
        charge("ch_C1_test", "in_C1_test", 99900, "2026-03-06 11:00:00", "succeeded", livemode="false"),
        charge("ch_C2_01", "in_C2_01", 20000, "2026-01-20 11:00:00", "succeeded"),
        charge("ch_C2_eur", "in_C2_eur", 10000, "2026-02-10 11:00:00", "succeeded", currency="eur"),
        charge("ch_C2_02a", "in_C2_02", 20000, "2026-02-20 11:00:00", "failed"),
        charge("ch_C2_02b", "in_C2_02", 20000, "2026-03-02 11:00:00", "succeeded"),
        charge("ch_C3_01", "in_C3_01", 120000, "2026-01-10 09:30:00", "succeeded"),
        charge("ch_C4_01", "in_C4_01", 10000, "2026-02-01 11:00:00", "failed"),
        charge("ch_C4_02", "in_C4_01", 4000, "2026-02-15 11:00:00", "succeeded"),
    ],
    "finance.exchange_rate": [
        {"date": "2026-02-01", "currency": "EUR", "rate": 1.10},
        {"date": "2026-03-01", "currency": "eur", "rate": 1.20},
    ],
    "stripe.refund": [
        {"id": "re_C3", "charge_id": "ch_C3_01", "amount": 30000, "currency": "usd", "status": "succeeded",
         "created": "2026-03-15 12:00:00"},
        {"id": "re_test", "charge_id": "ch_C1_test", "amount": 99900, "currency": "usd", "status": "succeeded",
         "created": "2026-03-20 12:00:00"},
    ],
}  # fmt: skip


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    tmp_path = tmp_path_factory.mktemp("billing_hand_worked")
    settings = settings_for(tmp_path, write_raw(tmp_path / "raw", TABLES))
    result = materialize(settings, SELECTION)
    assert result.success
    # the GBP invoice has no rate: the warning fails (it lists March), every other check passes
    failed = {check.check_name for check in result.get_asset_check_evaluations() if not check.passed}
    assert failed == {"assert_every_billing_event_has_an_exchange_rate"}
    yield settings


def months(settings: Settings) -> dict[str, dict[str, object]]:
    frame = query(settings, "select * from marts.rpt_billing_monthly order by billing_month")
    return {
        row["billing_month"].strftime("%Y-%m"): {
            key: (float(value) if isinstance(value, (int, float)) or hasattr(value, "as_tuple") else value)
            for key, value in row.items()
            if key not in ("billing_month",)
        }
        for row in frame.to_dict("records")
    }


def test_invoiced_collected_failed_and_refunded_of_every_month(built: Settings) -> None:
    rows = months(built)
    assert list(rows) == ["2026-01", "2026-02", "2026-03"]
    columns = ("invoiced_count", "invoiced_usd", "collected_charge_count", "collected_usd", "failed_charge_count",
               "failed_charge_usd", "refund_count", "refunded_usd", "net_collected_usd",
               "uncollectible_invoice_count", "uncollectible_usd", "open_invoice_count", "open_usd",
               "past_due_invoice_count", "past_due_usd", "mrr_usd", "no_rate_event_count")  # fmt: skip
    expected = {
        "2026-01": (3, 1500, 3, 1500, 0, 0, 0, 0, 1500, 0, 0, 0, 0, 0, 0, 400, 0),
        "2026-02": (4, 510, 3, 250, 2, 300, 0, 0, 250, 0, 0, 0, 0, 0, 0, 500, 0),
        "2026-03": (2, 300, 2, 300, 0, 0, 1, 300, 0, 1, 60, 1, 200, 1, 200, 400, 1),
    }
    actual = {month: tuple(float(row[column]) for column in columns) for month, row in rows.items()}
    assert actual == {
        month: pytest.approx(tuple(float(value) for value in values)) for month, values in expected.items()
    }
    assert [row["no_rate_currencies"] for row in rows.values()][2] == "GBP"
    assert [pd.isna(row["no_rate_currencies"]) for row in rows.values()] == [True, True, False]


def test_converted_amounts_are_decimals_like_the_mrr_models(built: Settings) -> None:
    """A rate is a double: amounts converted with it are cast back to decimal(18, 4), so sums stay exact."""
    for table in ("marts.rpt_billing_monthly", "intermediate.int_invoices_collected"):
        types = dict(query(built, f"select column_name, column_type from (describe {table})").values.tolist())
        usd = {name: kind for name, kind in types.items() if name.endswith("_usd")}
        assert usd and all(kind.startswith("DECIMAL(") and kind.endswith(",4)") for kind in usd.values()), usd


def test_collection_rate_counts_what_the_months_invoices_collected_later(built: Settings) -> None:
    rows = months(built)
    rates = {month: row["collection_rate"] for month, row in rows.items()}
    assert rates == pytest.approx({"2026-01": 1.0, "2026-02": 450 / 510, "2026-03": 1 / 3})
    assert all(row["collection_rate_null_reason"] is None for row in rows.values())


def test_invoices_carry_first_invoice_refunds_and_billed_flags(built: Settings) -> None:
    frame = query(built, "select * from intermediate.int_invoices_collected order by invoice_id").set_index(
        "invoice_id"
    )
    # Test-mode invoice quarantined; the draft and the void invoice are kept but not billed.
    assert "in_C1_test" not in frame.index
    assert not frame.loc["in_C1_04", "is_billed"] and not frame.loc["in_C2_void", "is_billed"]
    assert sorted(frame.index[frame["is_first_invoice"]]) == ["in_C1_01", "in_C2_01", "in_C3_01", "in_C4_01"]
    c3 = frame.loc["in_C3_01"]
    # Finalized 2026-01-10 09:00 (created the evening before): its finalization time is its invoiced time.
    assert str(c3["invoiced_at"]) == "2026-01-10 09:00:00" and c3["account_id"] == "001C3"
    assert (float(c3["amount_collected"]), float(c3["amount_refunded"]), float(c3["amount_net_collected"])) == (
        1200,
        300,
        900,
    )
    c2 = frame.loc["in_C2_02"]
    assert (c2["failed_charge_count"], float(c2["amount_failed"]), float(c2["amount_collected"])) == (1, 200, 200)
    assert str(c2["collected_at"]) == "2026-03-02 11:00:00" and c2["subscription_id"] == "sub_C2"
    # In the reporting currency at the invoice month's rate: EUR 100 at 1.10; GBP has no rate, and says so.
    assert (frame.loc["in_C2_eur", "currency"], float(frame.loc["in_C2_eur", "total_usd"])) == (
        "EUR",
        pytest.approx(110),
    )
    # Open: C2's March invoice is past its due date; the GBP invoice has neither a failed attempt nor a due date.
    assert sorted(frame.index[frame["is_past_due"]]) == ["in_C2_03"]
    gbp = frame.loc["in_C1_gbp"]
    assert pd.isna(gbp["total_usd"]) and gbp["fx_null_reason"] == "no exchange rate for GBP in its month"


def test_contract_suites_catch_statuses_and_amounts_stripe_does_not_send(built: Settings) -> None:
    """The staged invoices, charges and refunds pass their contract suites; one bad row each fails them."""
    document = load_definitions(PROJECT_ROOT / "definitions.yml").document
    suites = {suite.name: suite for suite in load_suites(PROJECT_ROOT / "expectations")}
    cases = {
        "invoice_contract": ("stg_stripe__invoices", "invoice_id", {"invoice_status": "refunded", "amount_paid": 1e6}),
        "charge_contract": ("stg_stripe__charges", "charge_id", {"charge_status": "disputed", "amount_refunded": 1e6}),
        "refund_contract": ("stg_stripe__refunds", "refund_id", {"refund_status": "reversed", "charge_id": None}),
    }
    for name, (table, key, broken) in cases.items():
        frame = query(built, f"select * from staging.{table} order by {key}")
        assert run_suite(suites[name], frame, document, [key]).success, name
        for column, value in broken.items():
            frame[column] = frame[column].astype(object)
            frame.loc[0, column] = value
        result = run_suite(suites[name], frame, document, [key])
        failed = {outcome.description for outcome in result.outcomes if not outcome.success}
        assert not result.broken and len(failed) == len(broken), (name, failed)
