"""Subscriptions as the simulation sees them: who subscribes when, how long each lasts, where each stands today and
its seat history. The Stripe tables (stripe_tables.py) and the deals billing implies (billing_deals.py) are read
from these."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from flywheel_demo.accounts import Accounts
from flywheel_demo.calendar import (
    DAY,
    HOUR,
    MINUTE,
    T0,
    T1,
    add_months,
    day_start,
    months_between,
    only_past,
    sample_times,
)
from flywheel_demo.deals import NewBusiness
from flywheel_demo.sampling import group_offsets
from flywheel_demo.vocabularies import ANNUAL_CHURN, CONTRACTION_RATE, EXPANSION_RATE, MONTHLY_CHURN, SELF_SERVE_CHURN


@dataclass
class Subscriptions:
    """Every subscription, in order: one per won new-business deal (by close date), one per self-serve sign-up, then
    the reactivations of churned customers. Times are epoch seconds."""

    n_crm: int  # subscriptions of CRM customers come first ...
    n_self: int  # ... then self-serve sign-ups, each with a Stripe customer of its own
    account: np.ndarray  # CRM account, or -1 for a self-serve sign-up
    customer: np.ndarray  # index of its Stripe customer
    deal: np.ndarray  # the new-business deal that sold it, or -1
    start: np.ndarray
    segment: np.ndarray
    plan: np.ndarray  # index into PLANS
    annual: np.ndarray
    seats: np.ndarray  # seats bought at the start
    self_serve: np.ndarray
    trial: np.ndarray  # started with a 14-day trial
    life: dict[str, np.ndarray]  # see _simulate_lifetimes

    @property
    def n(self) -> int:
        return len(self.start)

    @property
    def crm(self) -> np.ndarray:
        """Subscriptions of CRM accounts (not self-serve)."""
        return self.account >= 0


@dataclass
class Today:
    """Where each subscription stands at the end of the history, as Stripe reports it."""

    status: np.ndarray  # active, past_due, trialing or canceled
    period_start: np.ndarray
    period_end: np.ndarray
    canceled_at: np.ndarray  # NaN: not (yet) cancelled
    ended_at: np.ndarray  # NaN: not (yet) ended
    cancel_at_period_end: np.ndarray
    live_until: np.ndarray  # its end, or today


@dataclass
class SeatHistory:
    """Seats over time: the changes, and the subscription-item versions they make (Fivetran history mode)."""

    paid_from: np.ndarray  # per subscription: the start of paid use (after its trial)
    changes: dict[str, np.ndarray]  # sub, t, before, after: one entry per change
    versions: dict[str, np.ndarray]  # sub, start, quantity: sorted by subscription, then start


def first_subscriptions(rng: np.random.Generator, accounts: Accounts, nb: NewBusiness) -> Subscriptions:
    """Subscriptions of CRM customers, starting a few minutes after their deal is marked won, and of self-serve
    sign-ups (the last one still in its trial), with their lifetimes."""
    d = nb.deals
    won = np.flatnonzero((d.reach == 5) & (d.close <= T1))
    won = won[np.argsort(d.close[won], kind="stable")]
    n_crm = len(won)
    n_self = max(2, round(0.05 * n_crm))
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
    return Subscriptions(
        n_crm, n_self, account, customer, deal, start, segment, plan, annual, seats, self_serve, self_serve, life
    )


def add_reactivations(rng: np.random.Generator, subs: Subscriptions) -> Subscriptions:
    """Some churned customers come back later with a new (usually monthly) subscription, without a trial."""
    life, segment, self_serve = subs.life, subs.segment, subs.self_serve
    back = (life["ended"] <= T1 - 45 * DAY) & ~life["trial_drop"] & (rng.random(subs.n) < 0.15)
    re_start = life["ended"][back] + rng.uniform(30 * DAY, 240 * DAY, int(back.sum()))
    keep = re_start < T1 - DAY
    parents = np.flatnonzero(back)[keep]
    re_start = re_start[keep]
    k = len(parents)
    re_annual = rng.random(k) < 0.1
    re_life = _simulate_lifetimes(rng, re_start, re_annual, segment[parents], self_serve[parents], np.zeros(k, bool))
    seats = np.concatenate([subs.seats, np.maximum(1, np.round(subs.seats[parents] * rng.uniform(0.5, 1.0, k)))])
    return Subscriptions(
        n_crm=subs.n_crm,
        n_self=subs.n_self,
        account=np.concatenate([subs.account, subs.account[parents]]),
        customer=np.concatenate([subs.customer, subs.customer[parents]]),
        deal=np.concatenate([subs.deal, np.full(k, -1)]),
        start=np.concatenate([subs.start, re_start]),
        segment=np.concatenate([segment, segment[parents]]),
        plan=np.concatenate([subs.plan, subs.plan[parents]]),
        annual=np.concatenate([subs.annual, re_annual]),
        seats=seats,
        self_serve=np.concatenate([self_serve, self_serve[parents]]),
        trial=np.concatenate([subs.trial, np.zeros(k, dtype=bool)]),
        life={key: np.concatenate([life[key], re_life[key]]) for key in life},
    )


def as_of_today(rng: np.random.Generator, subs: Subscriptions) -> Today:
    """Status and current billing period as of today; a few active subscriptions are past due for a while."""
    life, trial, start, annual = subs.life, subs.trial, subs.start, subs.annual
    ended = life["ended"]
    status = np.select(
        [trial & (start + 14 * DAY > T1), ended <= T1, life["involuntary"] & (life["end_period"] <= T1)],
        ["trialing", "canceled", "past_due"],
        "active",
    ).astype(object)
    flaky = (status == "active") & (rng.random(subs.n) < 0.015)
    status[flaky] = "past_due"
    step = np.where(annual, 12, 1)
    anchor = life["billing_anchor"]
    elapsed = months_between(anchor, np.full(subs.n, T1))
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
    cancel_at_period_end = ~life["involuntary"] & ~life["trial_drop"] & np.isfinite(canceled_at)
    return Today(
        status=status,
        period_start=period_start,
        period_end=period_end,
        canceled_at=canceled_at,
        ended_at=only_past(ended),
        cancel_at_period_end=cancel_at_period_end,
        live_until=np.minimum(ended, T1),
    )


def seat_history(rng: np.random.Generator, subs: Subscriptions, today: Today) -> SeatHistory:
    """Seat changes while each subscription is paid for, and the item versions they make."""
    start, life = subs.start, subs.life
    paid_from = np.where(subs.trial, start + 14 * DAY, start)
    changes = _seat_changes(
        rng, subs.seats, subs.segment, paid_from, np.where(life["trial_drop"], paid_from, today.live_until)
    )
    v_sub = np.concatenate([np.arange(subs.n), changes["sub"]])
    v_start = np.concatenate([start, changes["t"]])
    v_qty = np.concatenate([subs.seats, changes["after"]])
    order = np.lexsort((v_start, v_sub))
    versions = {"sub": v_sub[order], "start": v_start[order], "quantity": v_qty[order]}
    return SeatHistory(paid_from, changes, versions)


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
