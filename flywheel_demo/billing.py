"""Billing: the simulated subscriptions (subscriptions.py), the Stripe tables written from them (stripe_tables.py),
the expansion and renewal deals they imply (billing_deals.py), and account types and product workspaces consistent
with them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from flywheel_demo.accounts import Accounts
from flywheel_demo.billing_deals import expansion_deals, renewal_deals
from flywheel_demo.calendar import Scale
from flywheel_demo.contract import Table
from flywheel_demo.deals import Deals, NewBusiness
from flywheel_demo.leads import Leads
from flywheel_demo.stripe_tables import customer_table, item_table, price_table, subscription_table
from flywheel_demo.subscriptions import (
    SeatHistory,
    Subscriptions,
    Today,
    add_reactivations,
    as_of_today,
    first_subscriptions,
    seat_history,
)
from flywheel_demo.text import LOWER_ALNUM, tokens
from flywheel_demo.users import Users
from flywheel_demo.vocabularies import PLG


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


@dataclass
class _Workspaces:
    """Account types and product workspaces, consistent with billing."""

    account_type: np.ndarray  # per account: 0 prospect, 1 customer, 2 former customer
    account_type_changed: np.ndarray
    account_workspace: np.ndarray  # per account: workspace index or -1
    tokens: np.ndarray  # per workspace: its id
    of_subscription: np.ndarray  # per subscription: its workspace index


def gen_billing(
    scale: Scale, rng: np.random.Generator, users: Users, leads: Leads, accounts: Accounts, nb: NewBusiness
) -> Billing:
    """Stripe: one customer per won account (plus self-serve and test customers), subscriptions starting at the close
    date, churn and reactivation, seat history in Fivetran history mode; and the expansion and renewal deals.

    Each step draws from `rng` in turn, so the order of the steps is the order of the draws: changing it changes
    every billing object after it (and the committed seeds)."""
    subs = add_reactivations(rng, first_subscriptions(rng, accounts, nb))
    n_test = max(1, round(0.01 * (subs.n_crm + subs.n_self)))
    today = as_of_today(rng, subs)
    seats = seat_history(rng, subs, today)
    prices = price_table(rng)
    customers, test_created = customer_table(rng, subs, today, accounts, n_test)
    subscriptions = subscription_table(rng, subs, today, customers, test_created)
    items = item_table(rng, subs, seats, subscriptions, prices, test_created)
    expansion = expansion_deals(rng, subs, today, seats, accounts)
    renewal = renewal_deals(rng, subs, seats, users)
    workspaces = _workspaces(rng, subs, today, accounts, leads)
    return Billing(
        prices=prices,
        customers=customers,
        subscriptions=subscriptions,
        items=items,
        expansion=expansion,
        renewal=renewal,
        account_type=workspaces.account_type,
        account_type_changed=workspaces.account_type_changed,
        account_workspace=workspaces.account_workspace,
        workspaces=workspaces.tokens,
        sub=_usage_facts(subs, today, seats, workspaces),
        versions=seats.versions,
    )


def _workspaces(
    rng: np.random.Generator, subs: Subscriptions, today: Today, accounts: Accounts, leads: Leads
) -> _Workspaces:
    """Each account's type (prospect, customer, former customer) and product workspace: a product sign-up keeps
    the workspace it signed up with, other paying accounts and self-serve customers get one of their own."""
    account, start, customer, n_crm = subs.account, subs.start, subs.customer, subs.n_crm
    crm_sub = subs.crm
    live_now = np.isin(today.status, ["active", "past_due", "trialing"])
    a_type = np.zeros(accounts.n, dtype=np.int64)
    a_changed = accounts.created.copy()
    crm_rows = np.flatnonzero(crm_sub)
    a_type[account[crm_rows]] = np.maximum(a_type[account[crm_rows]], 2)
    a_type[account[crm_rows[live_now[crm_rows]]]] = 1
    np.maximum.at(a_changed, account[crm_rows], np.fmax(start[crm_rows], today.ended_at[crm_rows]))
    plg_lead = np.where(accounts.lead >= 0, accounts.lead, 0)
    has_plg = (accounts.lead >= 0) & (leads.source[plg_lead] == PLG)
    n_plg = int((leads.source == PLG).sum())
    plg_ws_index = np.cumsum(leads.source == PLG) - 1  # workspace index of each PLG lead
    a_ws = np.where(has_plg, plg_ws_index[plg_lead], -1)
    needs_ws = np.flatnonzero((a_ws < 0) & (a_type > 0))
    a_ws[needs_ws] = n_plg + np.arange(len(needs_ws))
    n_ws = n_plg + len(needs_ws) + subs.n_self
    workspaces = np.empty(n_ws, dtype=object)
    workspaces[:n_plg] = leads.workspace[leads.source == PLG]
    workspaces[n_plg:] = tokens(rng, n_ws - n_plg, "ws_", 12, LOWER_ALNUM)
    sub_ws = np.where(crm_sub, a_ws[np.maximum(account, 0)], n_plg + len(needs_ws) + customer - n_crm)
    return _Workspaces(a_type, a_changed, a_ws, workspaces, sub_ws)


def _usage_facts(
    subs: Subscriptions, today: Today, seats: SeatHistory, workspaces: _Workspaces
) -> dict[str, np.ndarray]:
    """What product usage needs to know of each subscription, and which is the first of its workspace."""
    n_subs, sub_ws = subs.n, workspaces.of_subscription
    sub_facts = {
        "start": subs.start,
        "paid_from": seats.paid_from,
        "live_until": today.live_until,
        "ended": subs.life["ended"],
        "seats": subs.seats,
        "workspace": sub_ws,
        "trial": subs.trial,
        "trial_drop": subs.life["trial_drop"],
        "deal": subs.deal,
        "first_of_ws": np.zeros(n_subs, dtype=bool),
    }
    first_sub = np.full(len(workspaces.tokens), n_subs)
    np.minimum.at(first_sub, sub_ws, np.arange(n_subs))
    sub_facts["first_of_ws"][first_sub[first_sub < n_subs]] = True
    return sub_facts
