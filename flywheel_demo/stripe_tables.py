"""The Stripe tables as the connector lands them: prices, customers, subscriptions and subscription items (in
history mode), built from the simulated subscriptions, plus a few test-mode objects."""

from __future__ import annotations

import numpy as np

from flywheel_demo.accounts import Accounts
from flywheel_demo.calendar import (
    DAY,
    FAR_FUTURE,
    HOUR,
    MINUTE,
    PRE_HISTORY,
    PRICE_CHANGE_AT,
    T0,
    T1,
    add_months,
    months_between,
    sample_times,
)
from flywheel_demo.connector import sync_times
from flywheel_demo.contract import Table
from flywheel_demo.sampling import or_null
from flywheel_demo.subscriptions import SeatHistory, Subscriptions, Today
from flywheel_demo.text import companies, join_bytes, object_array, seq_ids, str_objects, tokens
from flywheel_demo.vocabularies import LEGACY_GROWTH_MONTHLY_CENTS, PLANS

LEGACY_PRICE, TEST_MONTHLY_PRICE = 6, 7  # rows of the price table: Growth monthly before PRICE_CHANGE_AT, a test price


def price_table(rng: np.random.Generator) -> Table:
    """The current list prices (monthly and annual per plan), one legacy price and two test-mode prices."""
    price_ids = tokens(rng, 9, "price_", 24)
    product_ids = tokens(rng, 4, "prod_", 14)
    price_plan = np.array([0, 0, 1, 1, 2, 2, 1, 3, 3])
    price_annual = np.array([False, True, False, True, False, True, False, False, True])
    price_cents = np.array([4_000, 40_000, 8_000, 80_000, 15_000, 150_000, LEGACY_GROWTH_MONTHLY_CENTS, 100, 1_000])
    price_created = np.array([T0 - 40 * DAY] * 6 + [PRE_HISTORY, T0 - 60 * DAY, T0 - 60 * DAY]) + 15 * HOUR
    price_active = np.array([True] * 6 + [False, True, True])
    price_live = np.array([True] * 7 + [False, False])
    price_changed = price_created.copy()
    price_changed[LEGACY_PRICE] = PRICE_CHANGE_AT
    plan_names = [*PLANS, "Test Plan"]
    nicknames = object_array(
        [f"{plan_names[p]} {'Annual' if a else 'Monthly'}" for p, a in zip(price_plan, price_annual, strict=True)]
    )
    nicknames[LEGACY_PRICE] = "Growth Monthly (2024)"
    return {
        "id": price_ids,
        "product_id": product_ids[price_plan],
        "nickname": nicknames,
        "currency": object_array(["usd"] * 9),
        "unit_amount": price_cents,
        "type": object_array(["recurring"] * 9),
        "recurring_interval": object_array(["year" if a else "month" for a in price_annual]),
        "recurring_interval_count": np.ones(9),
        "active": price_active,
        "created": price_created,
        "livemode": price_live,
        "is_deleted": np.zeros(9, dtype=bool),
        "_fivetran_synced": sync_times(rng, price_changed, 0.0),
        "_fivetran_deleted": np.zeros(9, dtype=bool),
    }


def subscription_prices(subs: Subscriptions) -> np.ndarray:
    """The row of the price table each subscription is billed at."""
    plan, annual = subs.plan, subs.annual
    sub_price = plan * 2 + annual
    return np.where((plan == 1) & ~annual & (subs.start < PRICE_CHANGE_AT), LEGACY_PRICE, sub_price)


def customer_table(
    rng: np.random.Generator, subs: Subscriptions, today: Today, accounts: Accounts, n_test: int
) -> tuple[Table, np.ndarray]:
    """One customer per paying account, self-serve sign-ups without a CRM link, and `n_test` test-mode customers.
    Returns the table and the creation times of the test-mode customers (their subscriptions start then)."""
    n_crm, n_self, start, customer = subs.n_crm, subs.n_self, subs.start, subs.customer
    n_customers = n_crm + n_self
    first_start = start[:n_customers]
    cust_account = subs.account[:n_customers]
    self_name, self_domain = companies(rng, n_self)
    c_name = np.concatenate([accounts.name[cust_account[:n_crm]], self_name])
    c_domain = np.concatenate([accounts.domain[cust_account[:n_crm]], self_domain])
    delinquent = np.zeros(n_customers, dtype=bool)
    delinquent[customer[today.status == "past_due"]] = True
    metadata = np.full(n_customers, "{}", dtype=object)
    metadata[:n_crm] = '{"salesforce_account_id": "' + str_objects(accounts.ids[cust_account[:n_crm]]) + '"}'
    c_created = first_start - rng.uniform(MINUTE, 30 * MINUTE, n_customers)
    c_changed = c_created.copy()
    changed = np.fmax(np.fmax(start, today.canceled_at), np.minimum(today.period_start, T1))
    np.maximum.at(c_changed, customer, changed)

    t_created = sample_times(rng, n_test, 1.0)
    c_description = or_null(subs.self_serve[:n_customers], object_array(["Self-serve sign-up"] * n_customers))
    test_emails = "qa+" + str_objects(seq_ids("", np.arange(n_test), 3)) + "@example.com"
    customers: Table = {
        "id": tokens(rng, n_customers + n_test, "cus_", 14),
        "name": np.concatenate([c_name, object_array(["Test Customer"] * n_test)]),
        "email": np.concatenate([join_bytes(b"billing@", c_domain), test_emails]),
        "description": np.concatenate([c_description, object_array(["QA test"] * n_test)]),
        "currency": object_array(["usd"] * (n_customers + n_test)),
        "delinquent": np.concatenate([delinquent, np.zeros(n_test, dtype=bool)]),
        "metadata": np.concatenate([metadata, object_array(['{"test": "true"}'] * n_test)]),
        "created": np.concatenate([c_created, t_created]),
        "livemode": np.arange(n_customers + n_test) < n_customers,
        "is_deleted": np.concatenate([np.zeros(n_customers, dtype=bool), rng.random(n_test) < 0.5]),
        "_fivetran_synced": sync_times(rng, np.concatenate([c_changed, t_created + DAY])),
        "_fivetran_deleted": np.zeros(n_customers + n_test, dtype=bool),
    }
    return customers, t_created


def subscription_table(
    rng: np.random.Generator, subs: Subscriptions, today: Today, customers: Table, t_created: np.ndarray
) -> Table:
    """The subscriptions, plus one test-mode subscription per test customer. Metadata gets the opportunity id once
    opportunity ids exist (in simulation.simulate)."""
    n_subs, n_test, start = subs.n, len(t_created), subs.start
    n_customers = subs.n_crm + subs.n_self
    sub_ids = tokens(rng, n_subs + n_test, "sub_", 24)
    sub_meta = np.full(n_subs, "{}", dtype=object)
    sub_changed = np.fmax.reduce([start, today.canceled_at, today.ended_at, np.minimum(today.period_start, T1)])
    t_status = object_array(["active", "canceled"])[rng.integers(0, 2, n_test)]
    t_ended = np.where(t_status == "canceled", t_created + DAY, np.nan)
    t_period = np.maximum(add_months(t_created, months_between(t_created, np.full(n_test, T1))), t_created)
    t_period_start = np.where(np.isnan(t_ended), t_period, t_created)
    return {
        "id": sub_ids,
        "customer_id": customers["id"][np.concatenate([subs.customer, n_customers + np.arange(n_test)])],
        "status": np.concatenate([today.status, t_status]),
        "created": np.concatenate([start, t_created]),
        "start_date": np.concatenate([start, t_created]),
        "current_period_start": np.concatenate([today.period_start, t_period_start]),
        "current_period_end": np.concatenate([today.period_end, add_months(t_period_start, 1)]),
        "cancel_at_period_end": np.concatenate([today.cancel_at_period_end, np.zeros(n_test, dtype=bool)]),
        "canceled_at": np.concatenate([today.canceled_at, t_ended]),
        "ended_at": np.concatenate([today.ended_at, t_ended]),
        "trial_start": np.concatenate([np.where(subs.trial, start, np.nan), np.full(n_test, np.nan)]),
        "trial_end": np.concatenate([np.where(subs.trial, start + 14 * DAY, np.nan), np.full(n_test, np.nan)]),
        "metadata": np.concatenate([sub_meta, object_array(['{"test": "true"}'] * n_test)]),
        "livemode": np.arange(n_subs + n_test) < n_subs,
        "is_deleted": np.zeros(n_subs + n_test, dtype=bool),
        "_fivetran_synced": sync_times(rng, np.concatenate([sub_changed, np.fmax(t_created, t_ended)])),
        "_fivetran_deleted": np.concatenate([np.zeros(n_subs, dtype=bool), rng.random(n_test) < 0.5]),
    }


def item_table(
    rng: np.random.Generator,
    subs: Subscriptions,
    seats: SeatHistory,
    subscriptions: Table,
    prices: Table,
    t_created: np.ndarray,
) -> Table:
    """Subscription items in Fivetran history mode: one item per subscription, one row per version of its seats
    (test-mode subscriptions have one version each)."""
    n_subs, n_test = subs.n, len(t_created)
    sub_ids, price_ids = subscriptions["id"], prices["id"]
    sub_price = subscription_prices(subs)
    item_ids = tokens(rng, n_subs + n_test, "si_", 14)
    v = seats.versions
    nxt = np.concatenate([v["start"][1:], [np.nan]])
    is_last = np.concatenate([v["sub"][1:] != v["sub"][:-1], [True]]) if len(v["sub"]) else np.zeros(0, dtype=bool)
    v_end = np.where(is_last, FAR_FUTURE, nxt)
    return {
        "id": np.concatenate([item_ids[v["sub"]], item_ids[n_subs:]]),
        "subscription_id": np.concatenate([sub_ids[v["sub"]], sub_ids[n_subs:]]),
        "price_id": np.concatenate([price_ids[sub_price[v["sub"]]], price_ids[np.full(n_test, TEST_MONTHLY_PRICE)]]),
        "plan_id": np.full(len(v["sub"]) + n_test, None, dtype=object),
        "quantity": np.concatenate([v["quantity"], np.ones(n_test)]),
        "created": np.concatenate([subs.start[v["sub"]], t_created]),
        "metadata": object_array(["{}"] * (len(v["sub"]) + n_test)),
        "_fivetran_start": np.concatenate([v["start"], t_created]),
        "_fivetran_end": np.concatenate([v_end, np.full(n_test, FAR_FUTURE)]),
        "_fivetran_active": np.concatenate([is_last, np.ones(n_test, dtype=bool)]),
        "_fivetran_synced": sync_times(rng, np.concatenate([np.where(is_last, v["start"], nxt), t_created]), 0.0),
        "_fivetran_deleted": np.zeros(len(v["sub"]) + n_test, dtype=bool),
    }
