"""Billing as it really is: part of the book billed in euros, and coupons on a share of new subscriptions.

Coupons follow how a subscription was sold. Promotions limited in time (WELCOME20 for three months, LAUNCH25 on the
first invoice) and the FOUNDERS gift go to self-serve subscriptions only (no CRM deal in their metadata): a sales rep
does not sell at a promotion. Negotiated permanent discounts (PARTNER10, SAVE50) may go to sales-led subscriptions
too, and then the deal's CRM amount is the discounted annual value (see deal_amounts.price_deals_as_billed), so the
CRM and billing agree on what was sold.

Everything here draws from a stream of its own (`np.random.default_rng([seed, STREAM])`) and only rewrites what it
must (the currency of the customers billed in euros, the price their items point at, the euro prices added to the
price table), so every other table, and every other draw of the simulation, stays as it was.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from flywheel_demo.calendar import DAY, HOUR, T1, add_months
from flywheel_demo.contract import Table, TableKey
from flywheel_demo.exchange_rates import STARTING_RATES, gen_exchange_rates
from flywheel_demo.text import object_array, tokens

STREAM = 0xF2
EURO_SHARE = 0.12  # of the live customers, billed in euros at euro list prices
SELF_SERVE_SHARE = 0.4  # of the live self-serve subscriptions, with a promotion from their start
SALES_LED_SHARE = 0.08  # of the live sales-led subscriptions, with a negotiated discount from their start
MID_LIFE_SHARE = 0.02  # of the live subscriptions, given a coupon months after they began (a contraction)
DEAL_PREFIX = '{"salesforce_opportunity_id": "'  # the metadata of a subscription sold through a CRM deal


@dataclass(frozen=True)
class Coupon:
    coupon_id: str
    name: str
    duration: str
    percent_off: float | None = None
    amount_off_cents: int | None = None
    duration_in_months: int | None = None


COUPONS = (
    Coupon("WELCOME20", "Welcome: 20% off for 3 months", "repeating", percent_off=20.0, duration_in_months=3),
    Coupon("PARTNER10", "Partner: 10% off forever", "forever", percent_off=10.0),
    Coupon("LAUNCH25", "Launch: 25% off the first invoice", "once", percent_off=25.0),
    Coupon("SAVE50", "USD 50 off every invoice", "forever", amount_off_cents=5_000),
    Coupon("FOUNDERS", "Founders: free forever", "forever", percent_off=100.0),
)
WELCOME, PARTNER, LAUNCH, SAVE50, FOUNDERS = range(len(COUPONS))
# Promotions (limited in time, or a gift) go to self-serve subscriptions, negotiated permanent discounts to sales-led
# ones (their deal amount is the discounted value). Each kind is handed out in turn, so even the small demo holds
# every coupon: a once and a repeating promotion, a 100%-off gift, a percent and an amount off forever.
PROMOTION_TURNS = np.array([WELCOME, LAUNCH, WELCOME, FOUNDERS, WELCOME, LAUNCH])
NEGOTIATED_TURNS = np.array([PARTNER, PARTNER, SAVE50])


def bill_realistically(
    seed: int, prices: Table, customers: Table, subscriptions: Table, items: Table
) -> dict[TableKey, Table]:
    """Bill a share of the customers in euros (changing `prices`, `customers` and `items` in place) and give coupons
    to a share of the subscriptions; returns the coupon, discount and exchange-rate tables."""
    rng = np.random.default_rng([seed, STREAM])
    euro_customers = _bill_in_euros(rng, prices, customers, subscriptions, items)
    return {
        ("stripe", "coupon"): _coupon_table(),
        ("stripe", "discount"): _as_connector_discounts(_discounts(rng, subscriptions, euro_customers)),
        ("finance", "exchange_rate"): gen_exchange_rates(seed),
    }


def _bill_in_euros(
    rng: np.random.Generator, prices: Table, customers: Table, subscriptions: Table, items: Table
) -> np.ndarray:
    """A euro twin of every live price (the USD amount at the opening rate, rounded to whole euros), the chosen live
    customers' currency set to eur, and their items moved to the euro twins. Returns the chosen customer ids."""
    live_prices = np.flatnonzero(prices["livemode"])
    twin_ids = tokens(rng, len(live_prices), "price_", 24)
    usd_cents = np.asarray(prices["unit_amount"], dtype=float)[live_prices]
    # an annual price is 10 months of the monthly one: round the month's price, so the euro plans keep that ratio
    months = np.where(prices["recurring_interval"][live_prices] == "year", 10, 1)
    twin_cents = (np.round(usd_cents / months / STARTING_RATES["EUR"], -2) * months).astype(np.int64)
    for column, values in prices.items():
        addition = values[live_prices].copy()
        if column == "id":
            addition = twin_ids
        elif column == "unit_amount":
            addition = twin_cents
        elif column == "currency":
            addition = object_array(["eur"] * len(live_prices))
        elif column == "nickname":
            addition = object_array([f"{name} (EUR)" for name in values[live_prices]])
        prices[column] = np.concatenate([values, addition])
    live_ids = np.unique(customers["id"][customers["livemode"]])
    chosen = np.sort(live_ids[rng.random(len(live_ids)) < EURO_SHARE])
    customers["currency"] = np.where(np.isin(customers["id"], chosen), "eur", customers["currency"]).astype(object)
    euro_subscriptions = subscriptions["id"][np.isin(subscriptions["customer_id"], chosen)]
    twin_of = dict(zip(prices["id"][live_prices], twin_ids, strict=True))
    moved = np.isin(items["subscription_id"], euro_subscriptions)
    items["price_id"] = items["price_id"].copy()
    items["price_id"][moved] = object_array([twin_of.get(price, price) for price in items["price_id"][moved]])
    return chosen


def _coupon_table() -> Table:
    n = len(COUPONS)
    created = np.full(n, float(np.datetime64("2023-01-02T09:00:00", "s").astype(np.int64)))
    return {
        "id": object_array([coupon.coupon_id for coupon in COUPONS]),
        "amount_off": np.array([np.nan if c.amount_off_cents is None else c.amount_off_cents for c in COUPONS]),
        "currency": object_array([None if c.amount_off_cents is None else "usd" for c in COUPONS]),
        "duration": object_array([coupon.duration for coupon in COUPONS]),
        "duration_in_months": np.array(
            [np.nan if c.duration_in_months is None else c.duration_in_months for c in COUPONS]
        ),
        "percent_off": np.array([np.nan if c.percent_off is None else c.percent_off for c in COUPONS]),
        "name": object_array([coupon.name for coupon in COUPONS]),
        "created": created,
        "valid": np.ones(n, dtype=bool),
        "livemode": np.ones(n, dtype=bool),
        "_fivetran_synced": created + HOUR,
        "_fivetran_deleted": np.zeros(n, dtype=bool),
    }


def _as_connector_discounts(discounts: Table) -> Table:
    """The subscriptions' discounts in the connector's one `discount` table: each row names the object it belongs to
    (`type` subscription, `type_id` its id) and no invoice."""
    n = len(discounts["id"])
    belongs_to = {"type": object_array(["subscription"] * n), "type_id": discounts["subscription_id"]}
    return {**discounts, **belongs_to, "invoice_id": object_array([None] * n)}


def _discounts(rng: np.random.Generator, subscriptions: Table, euro_customers: np.ndarray) -> Table:
    """Coupons from their start on a share of the live subscriptions: promotions on self-serve ones, negotiated
    discounts on sales-led ones (SAVE50, in USD, only on USD customers), each kind in turn; and a 10%-forever partner
    coupon on a few others months after they began."""
    first = np.unique(subscriptions["id"], return_index=True)[1]  # one row per subscription (stale copies dropped)
    live = first[subscriptions["livemode"][first]]
    start = np.asarray(subscriptions["start_date"], dtype=float)[live]
    draw = rng.random(len(live))
    sales_led = np.array([str(value).startswith(DEAL_PREFIX) for value in subscriptions["metadata"][live]], dtype=bool)
    share = np.where(sales_led, SALES_LED_SHARE, SELF_SERVE_SHARE)
    at_start = draw < share
    turn = np.cumsum(at_start & ~sales_led) - 1, np.cumsum(at_start & sales_led) - 1
    coupon = np.where(
        sales_led, NEGOTIATED_TURNS[turn[1] % len(NEGOTIATED_TURNS)], PROMOTION_TURNS[turn[0] % len(PROMOTION_TURNS)]
    )
    in_euros = np.isin(subscriptions["customer_id"][live], euro_customers)
    coupon[(coupon == SAVE50) & in_euros] = PARTNER  # the amount off is in USD
    mid_life_start = add_months(start, rng.integers(4, 10, len(live)))
    mid_life = (draw >= share) & (draw < share + MID_LIFE_SHARE) & (mid_life_start < T1 - DAY)
    coupon[mid_life] = PARTNER
    chosen = at_start | mid_life
    begins = np.where(mid_life, mid_life_start, start)[chosen]
    coupon = coupon[chosen]
    months = np.array([c.duration_in_months or 0 for c in COUPONS])[coupon]
    ends = np.where(months > 0, add_months(begins, months), np.nan)
    n = int(chosen.sum())
    return {
        "id": tokens(rng, n, "di_", 24),
        "coupon_id": object_array([COUPONS[index].coupon_id for index in coupon]),
        "customer_id": subscriptions["customer_id"][live][chosen],
        "subscription_id": subscriptions["id"][live][chosen],
        "start": begins,
        "end": ends,
        "_fivetran_synced": np.minimum(begins + 2 * HOUR, T1),
        "_fivetran_deleted": np.zeros(n, dtype=bool),
    }
