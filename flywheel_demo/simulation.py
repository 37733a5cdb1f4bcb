"""The whole simulation: every table from one seed, in the contract's order."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

import numpy as np
import pyarrow as pa

from flywheel_demo.accounts import Accounts, account_table, gen_accounts
from flywheel_demo.activities import gen_events, gen_tasks
from flywheel_demo.ad_spend import gen_ad_spend
from flywheel_demo.billing import Billing, gen_billing
from flywheel_demo.billing_realism import bill_realistically
from flywheel_demo.calendar import DAY, Scale
from flywheel_demo.connector import stale_duplicates
from flywheel_demo.contacts import finish_contacts, gen_contacts
from flywheel_demo.contract import EVENTS, Table, TableKey, output_tables
from flywheel_demo.crm_links import break_crm_links
from flywheel_demo.deal_amounts import price_deals_as_billed
from flywheel_demo.deals import NewBusiness, gen_new_business, merge_deals
from flywheel_demo.edge_cases import add_edge_cases, lead_edge_cases
from flywheel_demo.engagements import gen_engagements
from flywheel_demo.formatting import to_arrow
from flywheel_demo.invoices import gen_invoices
from flywheel_demo.leads import Leads, gen_leads, lead_table
from flywheel_demo.opportunities import build_opportunities, opportunity_ids, opportunity_order
from flywheel_demo.product import EventPlan, event_arrow, gen_product_events, plan_product_events
from flywheel_demo.text import seq_ids, str_objects
from flywheel_demo.users import gen_users

if TYPE_CHECKING:
    import pandas as pd


class TableSink(Protocol):
    """Where the simulation hands each table on as soon as it is final (a writer that empties it as it writes)."""

    def put(self, key: TableKey, table: Table) -> None:
        """Take a finished table (and empty it when done with it: see formatting.arrow_blocks)."""

    def drain(self) -> None:
        """Return once every table put so far is written: the simulation waits so before and after its biggest
        table, so that it never shares memory with another."""


def simulate(
    scale: Scale,
    seed: int,
    on_plan: Callable[[EventPlan], None] | None = None,
    sink: TableSink | None = None,
) -> tuple[dict[TableKey, Table], EventPlan | None]:
    """Run the whole simulation; returns every table as columns of numpy arrays, except the product events of a
    `monthly_events` scale, which come as a plan to draw month by month. `on_plan` gets that plan as soon as the
    lead table is out, so a writer can draw the events while the rest of the simulation runs. A `sink` gets each
    table as soon as it is final, instead of the returned dict, so that a writer never holds more than the
    simulation's state and a table or two: at `large` (10M leads) all tables at once do not fit in memory.

    Every table draws from a generator of its own, and the edge cases from theirs in a fixed order, so handing the
    tables on early (or building one before another) changes no byte."""
    tables: dict[TableKey, Table] = {}

    def emit(key: TableKey, table: Table) -> None:
        if sink is None:
            tables[key] = table
        else:
            sink.put(key, table)

    r = np.random.default_rng(seed).spawn(17)  # r[16]: the edge cases, so they leave every other draw as it was
    users = gen_users(scale, r[0])
    ads = gen_ad_spend(scale, r[1])
    leads = gen_leads(scale, r[2], users, ads)
    accounts = gen_accounts(scale, r[3], users, leads)
    nb = gen_new_business(r[4], users, leads, accounts)
    billing = gen_billing(scale, r[5], users, leads, accounts, nb)
    contacts, nb_contact = gen_contacts(r[6], leads, accounts, nb, billing)
    nb.deals.contact = nb_contact
    for deals in (billing.expansion, billing.renewal):
        deals.contact = contacts.primary[deals.account]
    deals = merge_deals([nb.deals, billing.expansion, billing.renewal])
    nb_opportunity_ids = opportunity_ids(len(deals.created))[opportunity_order(deals)[1][: len(nb.deals.created)]]
    n_live = len(billing.subscriptions["id"])
    subs, customers = _stripe_tables(r[8], billing, nb_opportunity_ids)
    has_deal = np.zeros(accounts.n, dtype=bool)
    has_deal[deals.account] = True
    emit(("salesforce", "user"), users.table)
    emit(("salesforce", "account"), account_table(r[9], accounts, users, billing, has_deal))
    emit(("salesforce", "contact"), finish_contacts(r[11], contacts, accounts, users))
    lead_ids = seq_ids("00Q", 100_000 + np.arange(leads.n))
    emit(("marketing", "engagements"), gen_engagements(scale, r[15], leads, lead_ids))

    # The lead table takes the leads' profile arrays over, and changes a few of the arrays it shares (a deleted
    # duplicate's rejection): the tasks, built after it, see those changes, as they always have.
    if sink is not None:
        sink.drain()
    converted_ids = _converted_ids(leads, accounts, nb, contacts.ids[nb_contact], nb_opportunity_ids)
    leads_table = lead_table(r[10], leads, users, *converted_ids)
    del converted_ids
    emit(("salesforce", "lead"), lead_edge_cases(r[16], leads_table, leads.n))
    del leads_table
    if sink is not None:
        sink.drain()

    plan = plan_product_events(scale, r[14], leads, billing) if scale.monthly_events else None
    if plan is not None and on_plan is not None:
        on_plan(plan)
    opps = build_opportunities(r[7], users, accounts, deals)
    edged: dict[TableKey, Table] = {
        ("salesforce", "opportunity"): opps.table,
        ("salesforce", "opportunity_history"): opps.history,
        ("stripe", "subscription"): subs,
        ("stripe", "subscription_item"): billing.items,
        ("marketing", "ad_spend"): ads.table,
        **bill_realistically(seed, billing.prices, customers, subs, billing.items),  # changes prices, customers, items
    }
    add_edge_cases(r[16], price_deals_as_billed(edged, customers, billing.prices), users, (len(opps.ids), n_live))
    edged |= gen_invoices(seed, edged, n_live, billing.prices)  # billing as the edge cases left it
    for key in list(edged):
        emit(key, edged.pop(key))
    emit(("stripe", "customer"), break_crm_links(seed, customers))
    emit(("stripe", "price"), billing.prices)
    emit(("salesforce", "task"), gen_tasks(r[12], users, leads, lead_ids, opps, contacts.ids, accounts))
    emit(("salesforce", "event"), gen_events(r[13], users, opps, contacts.ids, accounts))
    if plan is None:
        emit(EVENTS, gen_product_events(scale, r[14], leads, billing))
    return tables, plan


def _converted_ids(
    leads: Leads, accounts: Accounts, nb: NewBusiness, nb_contact_ids: np.ndarray, nb_opportunity_ids: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per lead, the account, contact and opportunity it was converted into (None where it was not)."""
    conv = np.flatnonzero(np.isfinite(leads.converted))
    conv_account = np.full(leads.n, None, dtype=object)
    conv_contact = np.full(leads.n, None, dtype=object)
    conv_opp = np.full(leads.n, None, dtype=object)
    lead_deal = np.flatnonzero(nb.deals.lead >= 0)
    conv_account[conv] = accounts.ids[accounts.of_lead[conv]]
    conv_contact[nb.deals.lead[lead_deal]] = nb_contact_ids[lead_deal]
    conv_opp[nb.deals.lead[lead_deal]] = nb_opportunity_ids[lead_deal]
    return conv_account, conv_contact, conv_opp


def _stripe_tables(rng: np.random.Generator, billing: Billing, nb_opportunity_ids: np.ndarray) -> tuple[Table, Table]:
    """Subscriptions (with the CRM opportunity in their metadata) and customers, each with stale re-synced copies:
    a subscription's stale copy is still active, from before its cancellation."""
    subs = billing.subscriptions
    s = billing.sub
    with_deal = np.flatnonzero(s["deal"] >= 0)
    subs["metadata"][with_deal] = (
        '{"salesforce_opportunity_id": "' + str_objects(nb_opportunity_ids[s["deal"][with_deal]]) + '"}'
    )
    n_live = len(subs["id"])
    subs, _ = stale_duplicates(rng, subs, 0.01, eligible=np.isfinite(subs["canceled_at"]) & subs["livemode"])
    stale = slice(n_live, None)
    subs["status"][stale] = "active"
    before_cancel = subs["canceled_at"][stale] - rng.uniform(1, 20, len(subs["status"][stale])) * DAY
    subs["_fivetran_synced"][stale] = np.maximum(before_cancel, subs["created"][stale])
    subs["canceled_at"][stale] = np.nan
    subs["ended_at"][stale] = np.nan
    subs["cancel_at_period_end"][stale] = False
    customers, _ = stale_duplicates(rng, billing.customers, 0.005)
    return subs, customers


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
