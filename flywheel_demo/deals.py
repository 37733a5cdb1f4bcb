"""Deals: stage paths shared by new business, expansion and renewal opportunities."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from flywheel_demo.accounts import Accounts
from flywheel_demo.calendar import DAY, HOUR, MINUTE, PRICE_CHANGE_AT, T0, T1
from flywheel_demo.leads import Leads
from flywheel_demo.sampling import pick, pick_rows
from flywheel_demo.text import object_array
from flywheel_demo.users import Users, pick_owner
from flywheel_demo.vocabularies import (
    ACV_MEDIAN,
    ACV_RANGE,
    AE,
    ANNUAL_SHARE,
    LEGACY_GROWTH_MONTHLY_CENTS,
    LOSS_W_EARLY,
    LOSS_W_LATE,
    MONTHLY_CENTS,
    NEW_BUSINESS,
    PLAN_BY_SEGMENT,
    RENEWAL,
    STAGE_ADVANCE,
    STAGE_DAYS,
)


@dataclass
class Deals:
    """A batch of opportunities with their full simulated stage path (entries[:, j] = entered stage j, NaN = never;
    column 5 = won). Times after today have not happened yet."""

    kind: np.ndarray
    account: np.ndarray
    created: np.ndarray
    entries: np.ndarray
    reach: np.ndarray  # last open stage reached (0..4) or 5 for won
    close: np.ndarray  # time the deal closes (won or lost), may be after today
    amount_early: np.ndarray
    amount: np.ndarray
    expected: np.ndarray  # expected close when created
    slip_at: np.ndarray
    slipped_to: np.ndarray
    owner: np.ndarray
    lead_source: np.ndarray
    campaign_id: np.ndarray
    loss_weights: np.ndarray  # (n, 7)
    contact: np.ndarray  # primary contact index, filled once contacts exist
    lead: np.ndarray  # converting lead or -1
    subscription: np.ndarray  # the subscription it sold or renewed, or -1


def _paths(
    rng: np.random.Generator, created: np.ndarray, segment: np.ndarray, advance: np.ndarray, speed: float = 1.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stage entries, furthest stage and close time of deals that move through all stages."""
    n = len(created)
    moves = rng.random((n, 5)) < np.clip(advance, 0.0, 0.98)
    reach = np.cumprod(moves, axis=1).sum(axis=1)
    days = STAGE_DAYS[segment] * speed * rng.lognormal(0.0, 0.6, (n, 5))
    entries = created[:, None] + np.concatenate([np.zeros((n, 1)), np.cumsum(days, axis=1)], axis=1) * DAY
    lost_at = entries[np.arange(n), np.minimum(reach, 4)] + days[np.arange(n), np.minimum(reach, 4)] * DAY * (
        rng.uniform(0.3, 1.2, n)
    )
    close = np.where(reach == 5, entries[:, 5], lost_at)
    entries[np.arange(6)[None, :] > reach[:, None]] = np.nan
    return entries, reach, close


def _slips(
    rng: np.random.Generator, created: np.ndarray, expected: np.ndarray, close: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Close-date pushes: deals running past their expected close usually get the date moved once."""
    n = len(created)
    end = np.minimum(close, T1)
    slip = (end > expected + 3 * DAY) & (rng.random(n) < 0.7)
    slip_at = np.clip(expected - rng.uniform(0, 5 * DAY, n), created + HOUR, end - MINUTE)
    slip_at = np.where(slip & (slip_at > created), slip_at, np.nan)
    target = np.where(
        close <= T1, close + rng.uniform(0, 10 * DAY, n), np.maximum(T1 + rng.uniform(7, 60, n) * DAY, close)
    )
    slipped_to = np.where(np.isfinite(slip_at), np.maximum(target, expected + 14 * DAY), expected)
    return slip_at, slipped_to


def yearly_seat_price(plan: np.ndarray, annual: np.ndarray, t: np.ndarray) -> np.ndarray:
    """List price per seat per year in dollars, as Stripe would bill it at time t."""
    monthly = MONTHLY_CENTS[plan].astype(np.float64)
    monthly = np.where((plan == 1) & (t < PRICE_CHANGE_AT), LEGACY_GROWTH_MONTHLY_CENTS, monthly)
    return np.where(annual, MONTHLY_CENTS[plan] * 10.0, monthly * 12.0) / 100.0


@dataclass
class NewBusiness:
    """New-business deals and what was sold when they were won."""

    deals: Deals
    plan: np.ndarray
    annual: np.ndarray
    seats: np.ndarray
    sales_sourced: np.ndarray


def gen_new_business(rng: np.random.Generator, users: Users, leads: Leads, accounts: Accounts) -> NewBusiness:
    """Opportunities from converted leads plus sales-sourced ones on prospect accounts; simulate their stages."""
    conv = np.flatnonzero(np.isfinite(leads.converted))
    n_conv = len(conv)
    prospects = np.flatnonzero((accounts.lead < 0) & (accounts.created < T1 - 10 * DAY))
    n_ss = min(len(prospects), round(0.18 * n_conv) + 1)
    ss_acc = np.sort(rng.choice(prospects, size=n_ss, replace=False))
    lo = np.maximum(accounts.created[ss_acc], T0)
    ss_created = lo + (T1 - lo) * rng.uniform(0, 1, n_ss) ** 0.8

    account = np.concatenate([accounts.of_lead[conv], ss_acc])
    created = np.concatenate([leads.converted[conv], ss_created])
    sales_sourced = np.arange(len(account)) >= n_conv
    n = len(account)
    segment = accounts.firmo["segment"][account]
    fit = np.concatenate([leads.fit[conv], rng.normal(0.9, 0.5, n_ss)])
    advance = np.tile(STAGE_ADVANCE, (n, 1)) * np.array([1.03, 1.0, 0.95])[segment][:, None]
    advance *= (1.0 + 0.06 * np.clip(fit - 0.9, -2, 2))[:, None]
    advance[sales_sourced, 0] = 0.6
    entries, reach, close = _paths(rng, created, segment, advance)

    # What the customer buys decides the amount: plan by segment, billing interval, seats at list price.
    plan = pick_rows(rng, PLAN_BY_SEGMENT[segment])
    annual = rng.random(n) < ANNUAL_SHARE[segment]
    target = np.clip(ACV_MEDIAN[segment] * rng.lognormal(0, 0.4, n), ACV_RANGE[segment, 0], ACV_RANGE[segment, 1])
    seat_price = yearly_seat_price(plan, annual, close)
    seats = np.maximum(2, np.round(target / seat_price))
    amount = seats * seat_price
    amount_early = np.round(amount * rng.lognormal(0.05, 0.3, n), -2)

    planned = np.nansum(STAGE_DAYS[segment], axis=1) * rng.uniform(0.55, 0.95, n) * 1.4 * DAY
    expected = created + planned
    slip_at, slipped_to = _slips(rng, created, expected, close)

    owner = accounts.owner[account].copy()
    gone = users.end[owner] <= created
    owner[gone] = pick_owner(rng, users, AE, segment[gone], created[gone])
    accounts.owner[account] = owner  # the account belongs to whoever works its deal
    lead_source = np.concatenate(
        [leads.raw_source[conv], object_array(["Outbound", "Partner", "Event"])[pick(rng, [0.7, 0.15, 0.15], n_ss)]]
    )
    late = reach >= 2
    loss_w = np.where(late[:, None], np.array(LOSS_W_LATE), np.array(LOSS_W_EARLY))
    deals = Deals(
        kind=np.full(n, NEW_BUSINESS),
        account=account,
        created=created,
        entries=entries,
        reach=reach,
        close=close,
        amount_early=amount_early,
        amount=amount,
        expected=expected,
        slip_at=slip_at,
        slipped_to=slipped_to,
        owner=owner,
        lead_source=lead_source,
        campaign_id=np.concatenate([leads.campaign_id[conv], np.full(n_ss, None, dtype=object)]),
        loss_weights=loss_w,
        contact=np.full(n, -1),
        lead=np.concatenate([conv, np.full(n_ss, -1)]),
        subscription=np.full(n, -1),
    )
    return NewBusiness(deals, plan, annual, seats, sales_sourced)


def generic_deals(
    rng: np.random.Generator,
    kind: int,
    account: np.ndarray,
    created: np.ndarray,
    segment: np.ndarray,
    reach: np.ndarray,
    close: np.ndarray,
    amount: np.ndarray,
    owner: np.ndarray,
    subscription: np.ndarray,
    loss_weights: Sequence[float],
    skip_demo: bool,
) -> Deals:
    """Deals whose outcome is already known (decided by billing): lay out stage entries between created and close."""
    n = len(created)
    share = rng.dirichlet(np.ones(5), n) if n else np.zeros((0, 5))
    if skip_demo:
        share[:, 2] = 0.0
        share /= share.sum(axis=1, keepdims=True)
    span = np.maximum(close - created, HOUR)
    entries = created[:, None] + np.concatenate([np.zeros((n, 1)), np.cumsum(share, axis=1)], axis=1) * span[:, None]
    lost = reach < 5
    entries[lost] = created[lost, None] + (entries[lost] - created[lost, None]) * 0.98  # lost before the last step
    entries[np.arange(6)[None, :] > reach[:, None]] = np.nan
    if skip_demo:
        entries[:, 2] = np.nan
    expected = np.where(kind == RENEWAL, close, created + span * rng.uniform(0.6, 1.0, n))
    slip_at, slipped_to = _slips(rng, created, expected, close)
    return Deals(
        kind=np.full(n, kind),
        account=account,
        created=created,
        entries=entries,
        reach=reach,
        close=close,
        amount_early=np.round(amount * rng.lognormal(0.0, 0.15, n), -2),
        amount=amount,
        expected=expected,
        slip_at=slip_at,
        slipped_to=slipped_to,
        owner=owner,
        lead_source=np.full(n, None, dtype=object),
        campaign_id=np.full(n, None, dtype=object),
        loss_weights=np.tile(np.asarray(loss_weights), (n, 1)),
        contact=np.full(n, -1),
        lead=np.full(n, -1),
        subscription=subscription,
    )


def merge_deals(parts: Sequence[Deals]) -> Deals:
    """One batch of deals from several."""
    fields = Deals.__dataclass_fields__
    return Deals(**{name: np.concatenate([getattr(p, name) for p in parts]) for name in fields})
