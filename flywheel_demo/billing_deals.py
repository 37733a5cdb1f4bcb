"""The opportunities billing implies: expansions (seats bought through an account executive, and attempts that were
lost or are still open) and renewals of annual plans, laid out as deals whose outcome billing already decided."""

from __future__ import annotations

import numpy as np

from flywheel_demo.accounts import Accounts
from flywheel_demo.calendar import DAY, HOUR, T1, add_months
from flywheel_demo.deals import Deals, generic_deals, yearly_seat_price
from flywheel_demo.sampling import concat
from flywheel_demo.subscriptions import SeatHistory, Subscriptions, Today, quantity_at
from flywheel_demo.users import Users, pick_owner
from flywheel_demo.vocabularies import CSM, EXPANSION, LOSS_W_LATE, LOSS_W_RENEWAL, RENEWAL


def expansion_deals(
    rng: np.random.Generator, subs: Subscriptions, today: Today, seats: SeatHistory, accounts: Accounts
) -> Deals:
    """CRM customers buying seats through their AE (most SMB expansions are self-serve), and expansion attempts
    that were lost or are still open."""
    account, segment, start, plan, annual = subs.account, subs.segment, subs.start, subs.plan, subs.annual
    live_until = today.live_until
    crm_sub = subs.crm
    ch = seats.changes
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
    l_amount = np.maximum(1, np.round(subs.seats[l_sub] * rng.uniform(0.1, 0.4, n_lost))) * yearly_seat_price(
        plan[l_sub], annual[l_sub], l_created
    )
    x_sub = np.concatenate([e_sub, l_sub])
    x_reach = np.concatenate([np.full(len(e_sub), 5), rng.integers(1, 5, n_lost)])
    x_acc = account[x_sub]
    return generic_deals(
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


def renewal_deals(rng: np.random.Generator, subs: Subscriptions, seats: SeatHistory, users: Users) -> Deals:
    """Annual CRM subscriptions, opened 90 days before each anniversary, owned by Customer Success: won unless the
    subscription ends at that anniversary."""
    life, segment, plan, annual = subs.life, subs.segment, subs.plan, subs.annual
    anchor, ended = life["billing_anchor"], life["ended"]
    r_sub, r_at, r_lost = [], [], []
    for year in (1, 2, 3):
        anniversary = add_months(anchor, 12 * year)
        due = subs.crm & annual & (anniversary - 90 * DAY <= T1) & (ended >= anniversary - HOUR) & ~life["trial_drop"]
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
    r_seats = quantity_at(seats.versions, subs.n, r_sub_a, r_at_a - 15 * DAY)
    r_amount = r_seats * yearly_seat_price(plan[r_sub_a], annual[r_sub_a], r_at_a)
    r_acc = subs.account[r_sub_a]
    r_owner = pick_owner(rng, users, CSM, segment[r_sub_a], r_created)
    return generic_deals(
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
