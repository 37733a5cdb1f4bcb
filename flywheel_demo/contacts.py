"""Contacts: one per converted lead and sales-sourced deal, more at customer accounts."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from flywheel_demo.accounts import Accounts
from flywheel_demo.billing import Billing
from flywheel_demo.calendar import DAY, T1
from flywheel_demo.connector import stale_duplicates, sync_times
from flywheel_demo.contract import SORT_KEY, Table
from flywheel_demo.deals import NewBusiness
from flywheel_demo.leads import Leads
from flywheel_demo.sampling import draw_names, null_some
from flywheel_demo.text import emails, join_bytes, name_text, object_array, phones, seq_ids
from flywheel_demo.users import Users
from flywheel_demo.vocabularies import CONTACT_TITLES, LEAD_TITLES


@dataclass
class Contacts:
    """Contacts and, per account, the primary contact used on deals."""

    table: Table
    ids: np.ndarray
    primary: np.ndarray  # per account


def gen_contacts(
    rng: np.random.Generator, leads: Leads, accounts: Accounts, nb: NewBusiness, billing: Billing
) -> tuple[Contacts, np.ndarray]:
    """One contact per converted lead, one per sales-sourced deal, more at customer accounts after they buy.

    Returns the contacts and, per new-business deal, its contact index.
    """
    d = nb.deals
    conv = d.lead[d.lead >= 0]
    ss = np.flatnonzero(nb.sales_sourced)
    paying = np.flatnonzero(billing.account_type > 0)
    first_buy = np.full(accounts.n, np.inf)
    crm = billing.sub["deal"] >= 0
    np.minimum.at(first_buy, d.account[billing.sub["deal"][crm]], billing.sub["start"][crm])
    extra_n = rng.poisson(np.array([1.0, 2.0, 3.5])[accounts.firmo["segment"][paying]])
    extra_acc = np.repeat(paying, extra_n)
    extra_created = first_buy[extra_acc] + rng.uniform(1 * DAY, 180 * DAY, len(extra_acc))
    keep = extra_created < T1
    extra_acc, extra_created = extra_acc[keep], extra_created[keep]
    n_ss, n_extra = len(ss), len(extra_acc)

    ss_first, ss_last = draw_names(rng, n_ss + n_extra)
    first_code = np.concatenate([leads.first[conv], ss_first])
    last_code = np.concatenate([leads.last[conv], ss_last])
    first, last = name_text(first_code, last_code)
    account = np.concatenate([d.account[d.lead >= 0], d.account[ss], extra_acc])
    created = np.concatenate([leads.converted[conv], d.created[ss], extra_created])
    title = np.concatenate(
        [
            leads.title[conv],
            object_array([t for t, _, _ in LEAD_TITLES[:13]])[rng.integers(0, 13, n_ss)],
            object_array(CONTACT_TITLES)[rng.integers(0, len(CONTACT_TITLES), n_extra)],
        ]
    )
    source = np.concatenate([leads.raw_source[conv], d.lead_source[ss], np.full(n_extra, None, dtype=object)])
    phone = np.concatenate(
        [null_some(rng, phones(rng, len(conv)), 0.3), null_some(rng, phones(rng, n_ss + n_extra), 0.5)]
    )
    order = np.argsort(created, kind="stable")
    n = len(order)
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    ids_by_row = seq_ids("003", 20_000 + rank)
    table: Table = {
        "id": ids_by_row,
        SORT_KEY: rank,
        "account_id": accounts.ids[account],
        "first_name": first,
        "last_name": last,
        "name": join_bytes(first, b" ", last),
        "email": emails(first_code, last_code, accounts.domain[account]),
        "phone": phone,
        "title": title,
        "lead_source": source,
        "owner_id": np.full(n, None, dtype=object),  # set by finish_contacts once owners are final
        "created_date": created,
        "is_deleted": np.zeros(n, dtype=bool),
        "_fivetran_synced": np.zeros(n),
        "_fivetran_deleted": np.zeros(n, dtype=bool),
    }
    table["_account"] = account
    deal_contact = np.full(len(d.created), -1)
    deal_contact[d.lead >= 0] = np.arange(len(conv))
    deal_contact[ss] = len(conv) + np.arange(n_ss)
    primary = np.full(accounts.n, -1)
    primary[account[: len(conv) + n_ss][::-1]] = np.arange(len(conv) + n_ss)[::-1]
    return Contacts(table, ids_by_row, primary), deal_contact


def finish_contacts(rng: np.random.Generator, contacts: Contacts, accounts: Accounts, users: Users) -> Table:
    """Owners, sync times and connector mess of the contact table."""
    t = dict(contacts.table)
    account = t.pop("_account")
    n = len(t["id"])
    t["owner_id"] = users.ids[accounts.owner[account]]
    t["_fivetran_synced"] = sync_times(rng, t["created_date"])
    referenced = np.zeros(n, dtype=bool)
    referenced[contacts.primary[contacts.primary >= 0]] = True
    extra = np.flatnonzero(~referenced & (t["lead_source"] == None))  # noqa: E711 - elementwise on object array
    deleted = rng.choice(extra, size=min(len(extra), round(0.005 * n)), replace=False)
    t["is_deleted"][deleted] = True
    t["_fivetran_synced"][deleted] = sync_times(rng, np.minimum(t["created_date"][deleted] + 30 * DAY, T1))
    t, _ = stale_duplicates(rng, t, 0.005)
    return t
