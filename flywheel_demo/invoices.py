"""Stripe invoices, invoice lines, charges and refunds: what billing the simulated subscriptions looks like.

Every billing cycle of every subscription (monthly or annual, test-mode ones too) gets an invoice at the cycle's
start, in the price's currency, finalized an hour later, with one line for the subscription item's version in force
at list price (seats x the price's unit amount: the invoice's subtotal). The subscription's coupon, when one is in
force at the cycle's start, comes off the total: a percent or an amount off each invoice, on the first invoice only
(duration once), while the discount runs (repeating) or from its start on (forever). The first charge follows the
finalization by minutes; about 4% fail, and most of those are paid by a retry days later (sometimes the next month),
a few are written off as uncollectible after a second failure, and a past-due subscription's latest invoice is still
open. About 1.5% of paid charges are refunded later, in full or in part. Everything after the history's end (the
as-of time) has not happened yet: a retry or write-off due later leaves the invoice open, a later refund is not there.

The tables draw from a stream of their own (`np.random.default_rng([seed, STREAM])`), after every other table is
made, so adding them leaves every other table as it was.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from flywheel_demo.calendar import DAY, HOUR, MINUTE, T1, add_months, months_between
from flywheel_demo.connector import sync_times
from flywheel_demo.contract import Table, TableKey
from flywheel_demo.sampling import group_offsets, or_null
from flywheel_demo.text import object_array, seq_ids, tokens

STREAM = 0x1F  # the invoices' own random stream
FIRST_ATTEMPT_FAILS = 0.04  # share of invoices whose first charge fails
WRITTEN_OFF = 0.15  # of those, the share never paid (a second failure, then uncollectible)
REFUNDED = 0.015  # share of succeeded charges refunded later
FULL_REFUND = 0.4  # of those, the share refunded in full
NEVER_BILLED = ("incomplete", "incomplete_expired", "trialing")
KEY_SPAN = 10**10  # (subscription, time) keys: subscription index x KEY_SPAN + epoch seconds


@dataclass(frozen=True)
class _Cycles:
    """One row per billing cycle: its subscription (row of the subscription table), start, end and rank."""

    sub: np.ndarray
    start: np.ndarray
    end: np.ndarray
    rank: np.ndarray
    is_latest: np.ndarray


def _paid_life(subscriptions: Table, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per subscription, when billing starts (after a trial) and stops (its end; canceled without end: cancellation;
    else never). Subscriptions that never paid start never."""
    start = np.fmax(subscriptions["start_date"][:n], subscriptions["trial_end"][:n])
    end = subscriptions["ended_at"][:n].astype(np.float64)
    canceled = subscriptions["status"][:n] == "canceled"
    end = np.where(np.isnan(end) & canceled, subscriptions["canceled_at"][:n], end)
    end = np.where(np.isnan(end), np.inf, end)
    never = np.isin(subscriptions["status"][:n].astype(str), NEVER_BILLED)
    return np.where(never, np.inf, start), end


def _cycles(subscriptions: Table, n: int, interval_months: np.ndarray) -> _Cycles:
    """Every billing cycle that started before the as-of time (less the hour a draft waits to be finalized)."""
    start, end = _paid_life(subscriptions, n)
    last = np.minimum(end - 1.0, T1 - 2 * HOUR)
    billed = np.isfinite(start) & (last >= start)
    months = np.zeros(n, dtype=np.int64)
    months[billed] = months_between(start[billed], last[billed])
    counts = np.where(billed, months // interval_months + 1, 0)
    sub, rank = group_offsets(counts)
    cycle_start = add_months(start[sub], rank * interval_months[sub])
    cycle_end = add_months(start[sub], (rank + 1) * interval_months[sub])
    return _Cycles(sub, cycle_start, cycle_end, rank, rank == counts[sub] - 1)


def _versions_in_force(subscriptions: Table, n: int, items: Table, cycles: _Cycles) -> np.ndarray:
    """Per cycle, the row of the subscription item table in force at the cycle's start (the first version when the
    cycle starts before it)."""
    sub_order = np.argsort(subscriptions["id"][:n])
    item_sub = sub_order[np.searchsorted(subscriptions["id"][:n], items["subscription_id"], sorter=sub_order)]
    item_key = item_sub.astype(np.int64) * KEY_SPAN + items["_fivetran_start"].astype(np.int64)
    order = np.argsort(item_key, kind="stable")
    sorted_keys = item_key[order]
    cycle_key = cycles.sub.astype(np.int64) * KEY_SPAN + cycles.start.astype(np.int64)
    position = np.searchsorted(sorted_keys, cycle_key, side="right") - 1
    first = np.searchsorted(sorted_keys, cycles.sub.astype(np.int64) * KEY_SPAN, side="left")
    return order[np.maximum(position, first)]


def _price_rows(prices: Table, price_ids: np.ndarray) -> np.ndarray:
    """The row of the price table of each price id."""
    order = np.argsort(prices["id"])
    return order[np.searchsorted(prices["id"], price_ids, sorter=order)]


@dataclass
class _Payments:
    """Per invoice: its charges' outcome and times (NaN: did not happen by the as-of time)."""

    first_at: np.ndarray
    first_fails: np.ndarray
    retry_at: np.ndarray  # the second attempt
    retry_fails: np.ndarray
    uncollectible_at: np.ndarray


def _payments(rng: np.random.Generator, finalized: np.ndarray, past_due_latest: np.ndarray) -> _Payments:
    """First attempts minutes after finalization; failures retried days later, or written off after a second
    failure; a past-due subscription's latest invoice failed and is not paid yet."""
    n = len(finalized)
    first_at = finalized + rng.uniform(MINUTE, 50 * MINUTE, n)
    first_fails = (rng.random(n) < FIRST_ATTEMPT_FAILS) | past_due_latest
    written_off = first_fails & (rng.random(n) < WRITTEN_OFF) & ~past_due_latest
    retry_at = np.where(first_fails & ~past_due_latest, first_at + rng.uniform(2.0, 9.0, n) * DAY, np.nan)
    uncollectible_at = np.where(written_off, first_at + rng.uniform(21.0, 30.0, n) * DAY, np.nan)
    retry_at[retry_at > T1] = np.nan
    uncollectible_at[uncollectible_at > T1] = np.nan
    return _Payments(first_at, first_fails, retry_at, written_off, uncollectible_at)


def gen_invoices(seed: int, tables: dict[TableKey, Table], n: int, prices: Table) -> dict[TableKey, Table]:
    """The invoice, invoice_line_item, charge and refund tables of the first `n` rows of the finished subscription
    table (its stale re-synced copies follow them; an annual plan cancelled mid-term is billed no more), from the
    subscription items' versions and the prices."""
    rng = np.random.default_rng([seed, STREAM])
    subscriptions, items = tables[("stripe", "subscription")], tables[("stripe", "subscription_item")]
    first_item = _price_rows(prices, items["price_id"])
    yearly = prices["recurring_interval"][first_item] == "year"
    interval_of_sub = np.ones(n, dtype=np.int64)
    sub_order = np.argsort(subscriptions["id"][:n])
    item_sub = sub_order[np.searchsorted(subscriptions["id"][:n], items["subscription_id"], sorter=sub_order)]
    interval_of_sub[item_sub[yearly]] = 12
    cycles = _cycles(subscriptions, n, interval_of_sub)
    version = _versions_in_force(subscriptions, n, items, cycles)
    price = _price_rows(prices, items["price_id"][version])
    quantity = items["quantity"][version].astype(np.int64)
    subtotal = quantity * prices["unit_amount"][price].astype(np.int64)
    total = subtotal - _discount_cents(tables, subscriptions, n, cycles, subtotal)
    finalized = cycles.start + HOUR
    past_due = cycles.is_latest & (subscriptions["status"][cycles.sub] == "past_due")
    payments = _payments(rng, finalized, past_due & (total > 0))
    invoice_ids = tokens(rng, len(total), "in_", 24)
    charges = _charge_table(rng, invoice_ids, cycles, subscriptions, total, prices["currency"][price], payments)
    billed = {
        ("stripe", "invoice"): _invoice_table(
            rng, invoice_ids, cycles, subscriptions, (subtotal, total), prices, price, payments
        ),
        ("stripe", "invoice_line_item"): _line_table(
            rng, invoice_ids, cycles, subscriptions, items, version, subtotal, prices, price
        ),
        ("stripe", "charge"): charges,
    }
    billed[("stripe", "refund")] = _refund_table(rng, charges)
    return billed


def _discount_cents(
    tables: dict[TableKey, Table], subscriptions: Table, n: int, cycles: _Cycles, subtotal: np.ndarray
) -> np.ndarray:
    """Per cycle, what the subscription's coupon takes off its invoice (minor units; never more than the subtotal).
    A subscription has at most one discount; it applies to cycles starting from its start until its end, and a
    coupon of duration once only to the first of them."""
    discounts, coupons = tables[("stripe", "subscription_discount")], tables[("stripe", "coupon")]
    sub_order = np.argsort(subscriptions["id"][:n])
    position = np.searchsorted(subscriptions["id"][:n], discounts["subscription_id"], sorter=sub_order)
    sub_of_discount = sub_order[np.minimum(position, n - 1)]
    found = subscriptions["id"][:n][sub_of_discount] == discounts["subscription_id"]
    coupon_order = np.argsort(coupons["id"])
    coupon_of_discount = coupon_order[np.searchsorted(coupons["id"], discounts["coupon_id"], sorter=coupon_order)]
    coupon = np.full(n, -1)
    begins, ends = np.full(n, np.inf), np.full(n, np.inf)
    coupon[sub_of_discount[found]] = coupon_of_discount[found]
    # to the second, as the tables write them: a cycle starts on a whole second, a discount at the subscription's start
    # may not, and must still apply to its first cycle
    begins[sub_of_discount[found]] = np.floor(discounts["start"][found])
    ends[sub_of_discount[found]] = np.where(
        np.isnan(discounts["end"][found]), np.inf, np.floor(discounts["end"][found])
    )
    applies = (coupon[cycles.sub] >= 0) & (cycles.start >= begins[cycles.sub]) & (cycles.start < ends[cycles.sub])
    earlier_applies = np.concatenate([[False], applies[:-1] & (cycles.sub[1:] == cycles.sub[:-1])])
    once = coupons["duration"][np.maximum(coupon[cycles.sub], 0)] == "once"
    applies &= ~(once & earlier_applies)
    which = np.maximum(coupon[cycles.sub], 0)
    percent = np.nan_to_num(coupons["percent_off"][which].astype(float))
    amount_off = np.nan_to_num(coupons["amount_off"][which].astype(float))
    off = np.where(percent > 0, np.round(subtotal * percent / 100), np.minimum(amount_off, subtotal))
    return np.where(applies, off, 0).astype(np.int64)


def _paid_at(total: np.ndarray, payments: _Payments) -> np.ndarray:
    """When each invoice was paid: its first attempt, else its successful retry; NaN while unpaid."""
    paid_at = np.where(
        payments.first_fails, np.where(payments.retry_fails, np.nan, payments.retry_at), payments.first_at
    )
    return np.where(total == 0, payments.first_at, paid_at)


def _invoice_table(
    rng: np.random.Generator,
    invoice_ids: np.ndarray,
    cycles: _Cycles,
    subscriptions: Table,
    amounts: tuple[np.ndarray, np.ndarray],
    prices: Table,
    price: np.ndarray,
    payments: _Payments,
) -> Table:
    """One invoice per cycle: paid, open (a failed charge not yet retried, or retried in vain) or uncollectible.
    `amounts`: the subtotal (list price) and the total (after the coupon) of each."""
    subtotal, total = amounts
    n = len(total)
    paid_at = _paid_at(total, payments)
    paid = ~np.isnan(paid_at)
    uncollectible = ~paid & ~np.isnan(payments.uncollectible_at)
    status = np.where(paid, "paid", np.where(uncollectible, "uncollectible", "open"))
    attempts = np.where(total == 0, 0, 1 + ~np.isnan(payments.retry_at))
    last_change = np.fmax.reduce([cycles.start + HOUR, paid_at, payments.uncollectible_at, payments.retry_at])
    return {
        "id": invoice_ids,
        "customer_id": subscriptions["customer_id"][cycles.sub],
        "subscription_id": subscriptions["id"][cycles.sub],
        "number": seq_ids("INV-", np.arange(n), 12),
        "currency": prices["currency"][price],
        "status": object_array(list(status)),
        "billing_reason": np.where(cycles.rank == 0, "subscription_create", "subscription_cycle").astype(object),
        "subtotal": subtotal,
        "tax": np.zeros(n, dtype=np.int64),
        "total": total,
        "amount_due": total,
        "amount_paid": np.where(paid, total, 0),
        "amount_remaining": np.where(paid, 0, total),
        "attempt_count": attempts,
        "paid": paid,
        "created": cycles.start,
        "due_date": np.full(n, np.nan),
        "period_start": cycles.start,
        "period_end": cycles.end,
        "status_transitions_finalized_at": cycles.start + HOUR,
        "status_transitions_paid_at": paid_at,
        "status_transitions_marked_uncollectible_at": np.where(uncollectible, payments.uncollectible_at, np.nan),
        "status_transitions_voided_at": np.full(n, np.nan),
        "metadata": object_array(["{}"] * n),
        "livemode": subscriptions["livemode"][cycles.sub].astype(bool),
        "is_deleted": np.zeros(n, dtype=bool),
        "_fivetran_synced": sync_times(rng, last_change),
        "_fivetran_deleted": np.zeros(n, dtype=bool),
    }


def _line_table(
    rng: np.random.Generator,
    invoice_ids: np.ndarray,
    cycles: _Cycles,
    subscriptions: Table,
    items: Table,
    version: np.ndarray,
    total: np.ndarray,
    prices: Table,
    price: np.ndarray,
) -> Table:
    """One line per invoice: the subscription item's price times the seats in force at the cycle's start."""
    n = len(total)
    return {
        "id": tokens(rng, n, "il_", 24),
        "invoice_id": invoice_ids,
        "subscription_id": subscriptions["id"][cycles.sub],
        "subscription_item_id": items["id"][version],
        "price_id": prices["id"][price],
        "plan_id": np.full(n, None, dtype=object),
        "type": object_array(["subscription"] * n),
        "description": prices["nickname"][price],
        "amount": total,
        "currency": prices["currency"][price],
        "quantity": items["quantity"][version].astype(np.int64),
        "proration": np.zeros(n, dtype=bool),
        "period_start": cycles.start,
        "period_end": cycles.end,
        "livemode": subscriptions["livemode"][cycles.sub].astype(bool),
        "_fivetran_synced": sync_times(rng, cycles.start + HOUR),
    }


def _charge_table(
    rng: np.random.Generator,
    invoice_ids: np.ndarray,
    cycles: _Cycles,
    subscriptions: Table,
    total: np.ndarray,
    currency: np.ndarray,
    payments: _Payments,
) -> Table:
    """The first attempt of every invoice with something to pay, and the retries made by the as-of time."""
    first = np.flatnonzero(total > 0)
    retry = np.flatnonzero((total > 0) & ~np.isnan(payments.retry_at))
    rows = np.concatenate([first, retry])
    created = np.concatenate([payments.first_at[first], payments.retry_at[retry]])
    failed = np.concatenate([payments.first_fails[first], payments.retry_fails[retry]])
    n = len(rows)
    codes = object_array(["card_declined", "insufficient_funds", "expired_card"])[rng.integers(0, 3, n)]
    return {
        "id": tokens(rng, n, "ch_", 24),
        "customer_id": subscriptions["customer_id"][cycles.sub[rows]],
        "invoice_id": invoice_ids[rows],
        "payment_intent_id": tokens(rng, n, "pi_", 24),
        "amount": total[rows],
        "amount_refunded": np.zeros(n, dtype=np.int64),
        "currency": currency[rows],
        "status": np.where(failed, "failed", "succeeded").astype(object),
        "paid": ~failed,
        "captured": ~failed,
        "refunded": np.zeros(n, dtype=bool),
        "failure_code": or_null(failed, codes),
        "failure_message": or_null(failed, object_array(["Your card was declined."] * n)),
        "created": created,
        "livemode": subscriptions["livemode"][cycles.sub[rows]].astype(bool),
        "_fivetran_synced": sync_times(rng, created),
    }


def _refund_table(rng: np.random.Generator, charges: Table) -> Table:
    """A few succeeded charges refunded days to weeks later, in full or in part; the charges record what was
    refunded (and are synced again then)."""
    succeeded = np.flatnonzero(charges["status"] == "succeeded")
    picked = succeeded[rng.random(len(succeeded)) < REFUNDED]
    created = charges["created"][picked] + (1.0 + rng.exponential(20.0, len(picked))) * DAY
    keep = created <= T1
    picked, created = picked[keep], created[keep]
    n = len(picked)
    full = rng.random(n) < FULL_REFUND
    share = np.where(full, 1.0, rng.uniform(0.2, 0.6, n))
    amount = np.maximum(np.round(charges["amount"][picked] * share), 1).astype(np.int64)
    charges["amount_refunded"][picked] = amount
    charges["refunded"][picked] = full
    charges["_fivetran_synced"][picked] = sync_times(rng, created)
    reasons = object_array(["requested_by_customer", "duplicate", "fraudulent"])
    return {
        "id": tokens(rng, n, "re_", 24),
        "charge_id": charges["id"][picked],
        "payment_intent_id": charges["payment_intent_id"][picked],
        "amount": amount,
        "currency": charges["currency"][picked],
        "status": object_array(["succeeded"] * n),
        "reason": reasons[rng.choice(3, size=n, p=[0.8, 0.15, 0.05])],
        "created": created,
        "_fivetran_synced": sync_times(rng, created),
    }
