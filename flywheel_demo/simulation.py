"""The whole simulation: every table from one seed, in the contract's order."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from flywheel_demo.accounts import account_table, gen_accounts
from flywheel_demo.activities import gen_events, gen_tasks
from flywheel_demo.ad_spend import gen_ad_spend
from flywheel_demo.billing import gen_billing
from flywheel_demo.calendar import DAY, Scale
from flywheel_demo.connector import stale_duplicates
from flywheel_demo.contacts import finish_contacts, gen_contacts
from flywheel_demo.contract import EVENTS, Table, TableKey, output_tables
from flywheel_demo.deals import gen_new_business, merge_deals
from flywheel_demo.edge_cases import add_edge_cases
from flywheel_demo.engagements import gen_engagements
from flywheel_demo.formatting import to_arrow
from flywheel_demo.leads import gen_leads, lead_table
from flywheel_demo.opportunities import build_opportunities
from flywheel_demo.product import EventPlan, event_arrow, gen_product_events, plan_product_events
from flywheel_demo.text import seq_ids, str_objects
from flywheel_demo.users import gen_users

if TYPE_CHECKING:
    import pandas as pd


def simulate(
    scale: Scale, seed: int, on_plan: Callable[[EventPlan], None] | None = None
) -> tuple[dict[TableKey, Table], EventPlan | None]:
    """Run the whole simulation; returns every table as columns of numpy arrays, except the product events of a
    `monthly_events` scale, which come as a plan to draw month by month. `on_plan` gets that plan as soon as billing
    is simulated, so a writer can start on the events while the rest of the simulation runs."""
    root = np.random.default_rng(seed)
    r = root.spawn(17)  # r[16]: the edge cases, so they leave every other draw as it was
    users = gen_users(scale, r[0])
    ads = gen_ad_spend(scale, r[1])
    leads = gen_leads(scale, r[2], users, ads)
    accounts = gen_accounts(scale, r[3], users, leads)
    nb = gen_new_business(r[4], users, leads, accounts)
    billing = gen_billing(scale, r[5], users, leads, accounts, nb)
    plan = plan_product_events(scale, r[14], leads, billing) if scale.monthly_events else None
    if plan is not None and on_plan is not None:
        on_plan(plan)
    contacts, nb_contact = gen_contacts(r[6], leads, accounts, nb, billing)
    nb.deals.contact = nb_contact
    for deals in (billing.expansion, billing.renewal):
        deals.contact = contacts.primary[deals.account]
    opps = build_opportunities(r[7], users, accounts, merge_deals([nb.deals, billing.expansion, billing.renewal]))

    lead_ids = seq_ids("00Q", 100_000 + np.arange(leads.n))
    conv = np.flatnonzero(np.isfinite(leads.converted))
    conv_account = np.full(leads.n, None, dtype=object)
    conv_contact = np.full(leads.n, None, dtype=object)
    conv_opp = np.full(leads.n, None, dtype=object)
    nb_pos = opps.order[: len(nb.deals.created)]
    lead_deal = np.flatnonzero(nb.deals.lead >= 0)
    conv_account[conv] = accounts.ids[accounts.of_lead[conv]]
    conv_contact[nb.deals.lead[lead_deal]] = contacts.ids[nb_contact[lead_deal]]
    conv_opp[nb.deals.lead[lead_deal]] = opps.ids[nb_pos[lead_deal]]

    subs = billing.subscriptions
    s = billing.sub
    with_deal = np.flatnonzero(s["deal"] >= 0)
    subs["metadata"][with_deal] = (
        '{"salesforce_opportunity_id": "' + str_objects(opps.ids[nb_pos[s["deal"][with_deal]]]) + '"}'
    )
    subs, _ = stale_duplicates(r[8], subs, 0.01, eligible=np.isfinite(subs["canceled_at"]) & subs["livemode"])
    n_live = len(billing.subscriptions["id"])
    stale = slice(n_live, None)
    subs["status"][stale] = "active"
    before_cancel = subs["canceled_at"][stale] - r[8].uniform(1, 20, len(subs["status"][stale])) * DAY
    subs["_fivetran_synced"][stale] = np.maximum(before_cancel, subs["created"][stale])
    subs["canceled_at"][stale] = np.nan
    subs["ended_at"][stale] = np.nan
    subs["cancel_at_period_end"][stale] = False
    customers, _ = stale_duplicates(r[8], billing.customers, 0.005)

    has_deal = np.zeros(accounts.n, dtype=bool)
    has_deal[opps.deals.account] = True
    tables: dict[TableKey, Table] = {
        ("salesforce", "user"): users.table,
        ("salesforce", "account"): account_table(r[9], accounts, users, billing, has_deal),
        ("salesforce", "lead"): lead_table(r[10], leads, users, conv_account, conv_contact, conv_opp),
        ("salesforce", "contact"): finish_contacts(r[11], contacts, accounts, users),
        ("salesforce", "opportunity"): opps.table,
        ("salesforce", "opportunity_history"): opps.history,
        ("salesforce", "task"): gen_tasks(r[12], users, leads, lead_ids, opps, contacts.ids, accounts),
        ("salesforce", "event"): gen_events(r[13], users, opps, contacts.ids, accounts),
        ("stripe", "customer"): customers,
        ("stripe", "price"): billing.prices,
        ("stripe", "subscription"): subs,
        ("stripe", "subscription_item"): billing.items,
        ("marketing", "engagements"): gen_engagements(scale, r[15], leads, lead_ids),
        ("marketing", "ad_spend"): ads.table,
    }
    add_edge_cases(r[16], tables, users, (leads.n, len(opps.ids), n_live))
    if plan is not None:
        return tables, plan
    tables[EVENTS] = gen_product_events(scale, r[14], leads, billing)
    return tables, None


def generate_tables(scale: Scale, seed: int) -> dict[TableKey, pa.Table]:
    """Generate every raw table as sorted Arrow tables, in the contract's order (product events all in memory)."""
    tables, plan = simulate(scale, seed)
    out = {key: to_arrow(key, table) for key, table in tables.items()}
    if plan is not None:
        out[EVENTS] = event_arrow(plan.all(), plan.workspaces)
    return {key: out[key] for key in output_tables()}


def generate(scale: Scale, seed: int) -> dict[TableKey, pd.DataFrame]:
    """Generate every raw table for one scale and seed, as pandas DataFrames (pandas is imported by Arrow only
    here: writing files never needs it, and its import costs more than generating the seeds)."""
    return {key: table.to_pandas() for key, table in generate_tables(scale, seed).items()}
