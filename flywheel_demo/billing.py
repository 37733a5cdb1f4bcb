"""Billing: prices, customers, subscriptions, seat history, and the expansion and renewal deals they imply."""

from __future__ import annotations

from dataclasses import dataclass

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
    Scale,
    add_months,
    day_start,
    months_between,
    only_past,
    sample_times,
)
from flywheel_demo.connector import sync_times
from flywheel_demo.contract import Table
from flywheel_demo.deals import Deals, NewBusiness, generic_deals, yearly_seat_price
from flywheel_demo.leads import Leads
from flywheel_demo.sampling import concat, group_offsets, or_null
from flywheel_demo.text import LOWER_ALNUM, companies, join_bytes, object_array, seq_ids, str_objects, tokens
from flywheel_demo.users import Users, pick_owner
from flywheel_demo.vocabularies import (
    ANNUAL_CHURN,
    CONTRACTION_RATE,
    CSM,
    EXPANSION,
    EXPANSION_RATE,
    LEGACY_GROWTH_MONTHLY_CENTS,
    LOSS_W_LATE,
    LOSS_W_RENEWAL,
    MONTHLY_CHURN,
    PLANS,
    PLG,
    RENEWAL,
    SELF_SERVE_CHURN,
)


@dataclass
class Billing:
    """Stripe objects plus the deals that billing implies (expansions, renewals)."""

    prices: Table
    customers: Table
    subscriptions: Table
    items: Table
    expansion: Deals
    renewal: Deals
    account_type: np.ndarray  # per account: 0 prospect, 1 customer, 2 former customer
    account_type_changed: np.ndarray
    account_workspace: np.ndarray  # per account: workspace index or -1
    workspaces: np.ndarray  # workspace tokens
    sub: dict[str, np.ndarray]  # per subscription facts for product usage
    versions: dict[str, np.ndarray]


def _simulate_lifetimes(
    rng: np.random.Generator,
    start: np.ndarray,
    annual: np.ndarray,
    segment: np.ndarray,
    self_serve: np.ndarray,
    trial: np.ndarray,
) -> dict[str, np.ndarray]:
    """When each subscription ends: monthly ones churn every month with a small probability (some involuntarily,
    after failed payments), annual ones only at renewal; a share of self-serve trials never convert."""
    n = len(start)
    billing_anchor = np.where(trial, start + 14 * DAY, start)
    p_month = np.where(self_serve, SELF_SERVE_CHURN, MONTHLY_CHURN[segment])
    periods = np.where(annual, 12 * rng.geometric(ANNUAL_CHURN[segment]), rng.geometric(p_month))
    end_period = add_months(billing_anchor, periods)
    involuntary = ~annual & (rng.random(n) < 0.25)
    trial_drop = trial & (rng.random(n) < 0.35)
    ended = np.where(involuntary, end_period + 21 * DAY, end_period)
    notice = np.where(annual, rng.uniform(5 * DAY, 60 * DAY, n), rng.uniform(1 * DAY, 25 * DAY, n))
    canceled = np.where(involuntary, ended, np.maximum(end_period - notice, billing_anchor + HOUR))
    end_period = np.where(trial_drop, billing_anchor, end_period)
    ended = np.where(trial_drop, billing_anchor, ended)
    canceled = np.where(trial_drop, billing_anchor - rng.uniform(0, 3 * DAY, n), canceled)
    involuntary &= ~trial_drop
    return {
        "billing_anchor": billing_anchor,
        "end_period": end_period,
        "ended": ended,
        "canceled": canceled,
        "involuntary": involuntary,
        "trial_drop": trial_drop,
    }


def _seat_changes(
    rng: np.random.Generator, seats: np.ndarray, segment: np.ndarray, begin: np.ndarray, end: np.ndarray
) -> dict[str, np.ndarray]:
    """Seat expansions and contractions while a subscription is live: one row per change."""
    months = np.maximum(end - begin, 0) / (30.44 * DAY)
    n_up = rng.poisson(EXPANSION_RATE[segment] * months)
    n_down = rng.poisson(CONTRACTION_RATE * months)
    count = np.minimum(n_up + n_down, 12)
    sub, rank = group_offsets(count)
    t = begin[sub] + rng.uniform(0, 1, len(sub)) * (end - begin)[sub]
    up = rng.random(len(sub)) < (n_up / np.maximum(n_up + n_down, 1))[sub]
    order = np.lexsort((t, sub))
    sub, t, up = sub[order], t[order], up[order]
    quantity = seats.astype(np.float64).copy()
    before = np.empty(len(sub))
    after = np.empty(len(sub))
    for j in range(int(count.max()) if len(count) else 0):
        rows = np.flatnonzero(rank == j)
        s = sub[rows]
        current = quantity[s]
        delta = np.where(
            up[rows],
            np.maximum(1, np.round(current * rng.uniform(0.1, 0.4, len(rows)))),
            -np.maximum(1, np.round(current * rng.uniform(0.05, 0.25, len(rows)))),
        )
        new = np.maximum(1, current + delta)
        before[rows], after[rows] = current, new
        quantity[s] = new
    keep = after != before
    return {"sub": sub[keep], "t": t[keep], "before": before[keep], "after": after[keep]}


def quantity_at(versions: dict[str, np.ndarray], n_subs: int, sub: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Seats of subscription `sub` at time t, from the item versions (sorted by subscription, start)."""
    count = np.bincount(versions["sub"], minlength=n_subs)
    first = np.cumsum(count) - count
    out = versions["quantity"][first[sub]].copy()
    for j in range(1, int(count.max()) if len(count) else 1):
        has = j < count[sub]
        idx = np.where(has, first[sub] + j, 0)
        hit = has & (versions["start"][idx] <= t)
        out[hit] = versions["quantity"][idx[hit]]
    return out


def gen_billing(
    scale: Scale, rng: np.random.Generator, users: Users, leads: Leads, accounts: Accounts, nb: NewBusiness
) -> Billing:
    """Stripe: one customer per won account (plus self-serve and test customers), subscriptions starting at the close
    date, churn and reactivation, seat history in Fivetran history mode; and the expansion and renewal deals."""
    d = nb.deals
    won = np.flatnonzero((d.reach == 5) & (d.close <= T1))
    won = won[np.argsort(d.close[won], kind="stable")]
    n_crm = len(won)
    n_self = max(2, round(0.05 * n_crm))
    n_test = max(1, round(0.01 * (n_crm + n_self)))

    # Subscriptions of CRM customers start at the close date, a few minutes after the deal is marked won.
    close = d.close[won]
    end_of_day = day_start(close) + DAY - 1
    crm_start = np.minimum(close + rng.uniform(5 * MINUTE, HOUR, n_crm), np.minimum(end_of_day, T1 - 1))
    self_start = sample_times(rng, n_self, 1.2)
    self_start = np.maximum(self_start, T0 + 20 * DAY)
    self_start[np.argmax(self_start)] = T1 - rng.uniform(1 * DAY, 12 * DAY)  # a fresh sign-up still in trial
    account = np.concatenate([d.account[won], np.full(n_self, -1)])
    start = np.concatenate([crm_start, self_start])
    segment = np.concatenate([accounts.firmo["segment"][d.account[won]], np.zeros(n_self, dtype=np.int64)])
    plan = np.concatenate([nb.plan[won], np.zeros(n_self, dtype=np.int64)])
    annual = np.concatenate([nb.annual[won], np.zeros(n_self, dtype=bool)])
    seats = np.concatenate([nb.seats[won], rng.integers(1, 9, n_self).astype(np.float64)])
    self_serve = np.arange(len(start)) >= n_crm
    customer = np.arange(len(start))
    deal = np.concatenate([won, np.full(n_self, -1)])
    life = _simulate_lifetimes(rng, start, annual, segment, self_serve, self_serve)

    # Some churned customers come back later with a new (usually monthly) subscription.
    back = (life["ended"] <= T1 - 45 * DAY) & ~life["trial_drop"] & (rng.random(len(start)) < 0.15)
    re_start = life["ended"][back] + rng.uniform(30 * DAY, 240 * DAY, int(back.sum()))
    keep = re_start < T1 - DAY
    parents = np.flatnonzero(back)[keep]
    re_start = re_start[keep]
    k = len(parents)
    re_annual = rng.random(k) < 0.1
    re_life = _simulate_lifetimes(rng, re_start, re_annual, segment[parents], self_serve[parents], np.zeros(k, bool))
    account = np.concatenate([account, account[parents]])
    start = np.concatenate([start, re_start])
    segment = np.concatenate([segment, segment[parents]])
    plan = np.concatenate([plan, plan[parents]])
    annual = np.concatenate([annual, re_annual])
    seats = np.concatenate([seats, np.maximum(1, np.round(seats[parents] * rng.uniform(0.5, 1.0, k)))])
    self_serve = np.concatenate([self_serve, self_serve[parents]])
    customer = np.concatenate([customer, customer[parents]])
    deal = np.concatenate([deal, np.full(k, -1)])
    trial = np.concatenate([self_serve[: n_crm + n_self], np.zeros(k, dtype=bool)])
    life = {key: np.concatenate([life[key], re_life[key]]) for key in life}
    n_subs = len(start)

    # Status as of today.
    ended = life["ended"]
    status = np.select(
        [trial & (start + 14 * DAY > T1), ended <= T1, life["involuntary"] & (life["end_period"] <= T1)],
        ["trialing", "canceled", "past_due"],
        "active",
    ).astype(object)
    flaky = (status == "active") & (rng.random(n_subs) < 0.015)
    status[flaky] = "past_due"
    step = np.where(annual, 12, 1)
    anchor = life["billing_anchor"]
    elapsed = months_between(anchor, np.full(n_subs, T1))
    k_now = (elapsed // step) * step
    period_start = add_months(anchor, k_now)
    period_end = add_months(anchor, k_now + step)
    last_start = add_months(life["end_period"], -step)
    canceled_done = status == "canceled"
    period_start = np.where(canceled_done, np.where(life["involuntary"], life["end_period"], last_start), period_start)
    period_end = np.where(
        canceled_done,
        np.where(life["involuntary"], add_months(life["end_period"], step), life["end_period"]),
        period_end,
    )
    in_trial = trial & ((status == "trialing") | life["trial_drop"])
    period_start = np.where(in_trial, start, period_start)
    period_end = np.where(in_trial, start + 14 * DAY, period_end)
    canceled_at = only_past(life["canceled"])
    ended_at = only_past(ended)
    cancel_at_period_end = ~life["involuntary"] & ~life["trial_drop"] & np.isfinite(canceled_at)
    live_until = np.minimum(ended, T1)

    # Seat history (subscription items in history mode).
    paid_from = np.where(trial, start + 14 * DAY, start)
    changes = _seat_changes(rng, seats, segment, paid_from, np.where(life["trial_drop"], paid_from, live_until))
    v_sub = np.concatenate([np.arange(n_subs), changes["sub"]])
    v_start = np.concatenate([start, changes["t"]])
    v_qty = np.concatenate([seats, changes["after"]])
    order = np.lexsort((v_start, v_sub))
    versions = {"sub": v_sub[order], "start": v_start[order], "quantity": v_qty[order]}

    # Prices (current list, one legacy price, test-mode prices).
    price_ids = tokens(rng, 9, "price_", 24)
    product_ids = tokens(rng, 4, "prod_", 14)
    price_plan = np.array([0, 0, 1, 1, 2, 2, 1, 3, 3])
    price_annual = np.array([False, True, False, True, False, True, False, False, True])
    price_cents = np.array([4_000, 40_000, 8_000, 80_000, 15_000, 150_000, LEGACY_GROWTH_MONTHLY_CENTS, 100, 1_000])
    price_created = np.array([T0 - 40 * DAY] * 6 + [PRE_HISTORY, T0 - 60 * DAY, T0 - 60 * DAY]) + 15 * HOUR
    price_active = np.array([True] * 6 + [False, True, True])
    price_live = np.array([True] * 7 + [False, False])
    price_changed = price_created.copy()
    price_changed[6] = PRICE_CHANGE_AT
    plan_names = [*PLANS, "Test Plan"]
    nicknames = object_array(
        [f"{plan_names[p]} {'Annual' if a else 'Monthly'}" for p, a in zip(price_plan, price_annual, strict=True)]
    )
    nicknames[6] = "Growth Monthly (2024)"
    prices: Table = {
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
    sub_price = plan * 2 + annual
    sub_price = np.where((plan == 1) & ~annual & (start < PRICE_CHANGE_AT), 6, sub_price)

    # Customers: one per paying account, self-serve sign-ups without a CRM link, and a few test-mode customers.
    n_customers = n_crm + n_self
    first_start = start[:n_customers]
    cust_account = account[:n_customers]
    self_name, self_domain = companies(rng, n_self)
    c_name = np.concatenate([accounts.name[cust_account[:n_crm]], self_name])
    c_domain = np.concatenate([accounts.domain[cust_account[:n_crm]], self_domain])
    delinquent = np.zeros(n_customers, dtype=bool)
    delinquent[customer[status == "past_due"]] = True
    metadata = np.full(n_customers, "{}", dtype=object)
    metadata[:n_crm] = '{"salesforce_account_id": "' + str_objects(accounts.ids[cust_account[:n_crm]]) + '"}'
    c_created = first_start - rng.uniform(MINUTE, 30 * MINUTE, n_customers)
    c_changed = c_created.copy()
    np.maximum.at(c_changed, customer, np.fmax(np.fmax(start, canceled_at), np.minimum(period_start, T1)))

    t_created = sample_times(rng, n_test, 1.0)
    c_description = or_null(self_serve[:n_customers], object_array(["Self-serve sign-up"] * n_customers))
    customers: Table = {
        "id": tokens(rng, n_customers + n_test, "cus_", 14),
        "name": np.concatenate([c_name, object_array(["Test Customer"] * n_test)]),
        "email": np.concatenate(
            [join_bytes(b"billing@", c_domain), "qa+" + str_objects(seq_ids("", np.arange(n_test), 3)) + "@example.com"]
        ),
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

    # Subscriptions (plus one test-mode subscription per test customer).
    sub_ids = tokens(rng, n_subs + n_test, "sub_", 24)
    sub_meta = np.full(n_subs, "{}", dtype=object)
    sub_changed = np.fmax.reduce([start, canceled_at, ended_at, np.minimum(period_start, T1)])
    t_status = object_array(["active", "canceled"])[rng.integers(0, 2, n_test)]
    t_ended = np.where(t_status == "canceled", t_created + DAY, np.nan)
    t_period = np.maximum(add_months(t_created, months_between(t_created, np.full(n_test, T1))), t_created)
    subscriptions: Table = {
        "id": sub_ids,
        "customer_id": customers["id"][np.concatenate([customer, n_customers + np.arange(n_test)])],
        "status": np.concatenate([status, t_status]),
        "created": np.concatenate([start, t_created]),
        "start_date": np.concatenate([start, t_created]),
        "current_period_start": np.concatenate([period_start, np.where(np.isnan(t_ended), t_period, t_created)]),
        "current_period_end": np.concatenate(
            [period_end, add_months(np.where(np.isnan(t_ended), t_period, t_created), 1)]
        ),
        "cancel_at_period_end": np.concatenate([cancel_at_period_end, np.zeros(n_test, dtype=bool)]),
        "canceled_at": np.concatenate([canceled_at, t_ended]),
        "ended_at": np.concatenate([ended_at, t_ended]),
        "trial_start": np.concatenate([np.where(trial, start, np.nan), np.full(n_test, np.nan)]),
        "trial_end": np.concatenate([np.where(trial, start + 14 * DAY, np.nan), np.full(n_test, np.nan)]),
        "metadata": np.concatenate([sub_meta, object_array(['{"test": "true"}'] * n_test)]),
        "livemode": np.arange(n_subs + n_test) < n_subs,
        "is_deleted": np.zeros(n_subs + n_test, dtype=bool),
        "_fivetran_synced": sync_times(rng, np.concatenate([sub_changed, np.fmax(t_created, t_ended)])),
        "_fivetran_deleted": np.concatenate([np.zeros(n_subs, dtype=bool), rng.random(n_test) < 0.5]),
    }
    # (metadata gets the opportunity id once opportunity ids exist, in simulate)

    # Subscription items: one item per subscription, one row per version.
    item_ids = tokens(rng, n_subs + n_test, "si_", 14)
    v = versions
    nxt = np.concatenate([v["start"][1:], [np.nan]])
    is_last = np.concatenate([v["sub"][1:] != v["sub"][:-1], [True]]) if len(v["sub"]) else np.zeros(0, dtype=bool)
    v_end = np.where(is_last, FAR_FUTURE, nxt)
    items: Table = {
        "id": np.concatenate([item_ids[v["sub"]], item_ids[n_subs:]]),
        "subscription_id": np.concatenate([sub_ids[v["sub"]], sub_ids[n_subs:]]),
        "price_id": np.concatenate([price_ids[sub_price[v["sub"]]], price_ids[np.full(n_test, 7)]]),
        "plan_id": np.full(len(v["sub"]) + n_test, None, dtype=object),
        "quantity": np.concatenate([v["quantity"], np.ones(n_test)]),
        "created": np.concatenate([start[v["sub"]], t_created]),
        "metadata": object_array(["{}"] * (len(v["sub"]) + n_test)),
        "_fivetran_start": np.concatenate([v["start"], t_created]),
        "_fivetran_end": np.concatenate([v_end, np.full(n_test, FAR_FUTURE)]),
        "_fivetran_active": np.concatenate([is_last, np.ones(n_test, dtype=bool)]),
        "_fivetran_synced": sync_times(rng, np.concatenate([np.where(is_last, v["start"], nxt), t_created]), 0.0),
        "_fivetran_deleted": np.zeros(len(v["sub"]) + n_test, dtype=bool),
    }

    # Expansion deals: CRM customers buying seats through their AE (most SMB expansions are self-serve).
    crm_sub = account >= 0
    ch = changes
    up = (ch["after"] > ch["before"]) & crm_sub[ch["sub"]]
    up &= (segment[ch["sub"]] > 0) | (rng.random(len(ch["sub"])) < 0.3)
    e_sub = ch["sub"][up]
    e_close = ch["t"][up] - rng.uniform(0.5 * DAY, 3 * DAY, len(e_sub))
    e_created = np.maximum(e_close - rng.uniform(10 * DAY, 45 * DAY, len(e_sub)), start[e_sub] + DAY)
    e_close = np.maximum(e_close, e_created + DAY)
    e_amount = (ch["after"] - ch["before"])[up] * yearly_seat_price(plan[e_sub], annual[e_sub], ch["t"][up])
    # ... and expansion attempts that were lost or are still open.
    live_mm = np.flatnonzero(crm_sub & (segment > 0) & (live_until - start > 60 * DAY))
    n_lost = min(len(live_mm), round(0.5 * len(e_sub)) + 1) if len(live_mm) else 0
    l_sub = rng.choice(live_mm, size=n_lost) if n_lost else np.empty(0, dtype=np.int64)
    l_window = np.maximum(live_until[l_sub] - start[l_sub] - 30 * DAY, DAY)
    l_created = start[l_sub] + 30 * DAY + rng.uniform(0, 1, n_lost) * l_window
    l_close = l_created + rng.uniform(15 * DAY, 70 * DAY, n_lost)
    l_amount = np.maximum(1, np.round(seats[l_sub] * rng.uniform(0.1, 0.4, n_lost))) * yearly_seat_price(
        plan[l_sub], annual[l_sub], l_created
    )
    x_sub = np.concatenate([e_sub, l_sub])
    x_reach = np.concatenate([np.full(len(e_sub), 5), rng.integers(1, 5, n_lost)])
    x_acc = account[x_sub]
    expansion = generic_deals(
        rng,
        EXPANSION,
        x_acc,
        np.concatenate([e_created, l_created]),
        segment[x_sub],
        x_reach,
        np.concatenate([e_close, l_close]),
        np.concatenate([e_amount, l_amount]),
        accounts.owner[x_acc],
        x_sub,
        LOSS_W_LATE,
        skip_demo=False,
    )

    # Renewal deals: annual CRM subscriptions, opened 90 days before each anniversary, owned by Customer Success.
    r_sub, r_at, r_lost = [], [], []
    for year in (1, 2, 3):
        anniversary = add_months(anchor, 12 * year)
        due = crm_sub & annual & (anniversary - 90 * DAY <= T1) & (ended >= anniversary - HOUR) & ~life["trial_drop"]
        r_sub.append(np.flatnonzero(due))
        r_at.append(anniversary[due])
        r_lost.append(np.abs(ended[due] - anniversary[due]) < HOUR)
    r_sub_a, r_at_a, r_lost_a = concat(r_sub).astype(np.int64), concat(r_at), concat(r_lost).astype(bool)
    r_created = r_at_a - 90 * DAY
    r_close = np.where(
        r_lost_a,
        np.maximum(life["canceled"][r_sub_a] + rng.uniform(0, 3 * DAY, len(r_sub_a)), r_created + 5 * DAY),
        r_at_a - rng.uniform(0, 14 * DAY, len(r_sub_a)),
    )
    r_seats = quantity_at(versions, n_subs, r_sub_a, r_at_a - 15 * DAY)
    r_amount = r_seats * yearly_seat_price(plan[r_sub_a], annual[r_sub_a], r_at_a)
    r_acc = account[r_sub_a]
    r_owner = pick_owner(rng, users, CSM, segment[r_sub_a], r_created)
    renewal = generic_deals(
        rng,
        RENEWAL,
        r_acc,
        r_created,
        segment[r_sub_a],
        np.where(r_lost_a, 4, 5),
        r_close,
        r_amount,
        r_owner,
        r_sub_a,
        LOSS_W_RENEWAL,
        skip_demo=True,
    )

    # Account type and product workspace, consistent with billing.
    live_now = np.isin(status, ["active", "past_due", "trialing"])
    a_type = np.zeros(accounts.n, dtype=np.int64)
    a_changed = accounts.created.copy()
    crm_rows = np.flatnonzero(crm_sub)
    a_type[account[crm_rows]] = np.maximum(a_type[account[crm_rows]], 2)
    a_type[account[crm_rows[live_now[crm_rows]]]] = 1
    np.maximum.at(a_changed, account[crm_rows], np.fmax(start[crm_rows], ended_at[crm_rows]))
    plg_lead = np.where(accounts.lead >= 0, accounts.lead, 0)
    has_plg = (accounts.lead >= 0) & (leads.source[plg_lead] == PLG)
    n_plg = int((leads.source == PLG).sum())
    plg_ws_index = np.cumsum(leads.source == PLG) - 1  # workspace index of each PLG lead
    a_ws = np.where(has_plg, plg_ws_index[plg_lead], -1)
    needs_ws = np.flatnonzero((a_ws < 0) & (a_type > 0))
    a_ws[needs_ws] = n_plg + np.arange(len(needs_ws))
    n_ws = n_plg + len(needs_ws) + n_self
    workspaces = np.empty(n_ws, dtype=object)
    workspaces[:n_plg] = leads.workspace[leads.source == PLG]
    workspaces[n_plg:] = tokens(rng, n_ws - n_plg, "ws_", 12, LOWER_ALNUM)
    sub_ws = np.where(crm_sub, a_ws[np.maximum(account, 0)], n_plg + len(needs_ws) + customer - n_crm)

    sub_facts = {
        "start": start,
        "paid_from": paid_from,
        "live_until": live_until,
        "ended": ended,
        "seats": seats,
        "workspace": sub_ws,
        "trial": trial,
        "trial_drop": life["trial_drop"],
        "deal": deal,
        "first_of_ws": np.zeros(n_subs, dtype=bool),
    }
    first_sub = np.full(n_ws, n_subs)
    np.minimum.at(first_sub, sub_ws, np.arange(n_subs))
    sub_facts["first_of_ws"][first_sub[first_sub < n_subs]] = True
    return Billing(
        prices=prices,
        customers=customers,
        subscriptions=subscriptions,
        items=items,
        expansion=expansion,
        renewal=renewal,
        account_type=a_type,
        account_type_changed=a_changed,
        account_workspace=a_ws,
        workspaces=workspaces,
        sub=sub_facts,
        versions=versions,
    )
