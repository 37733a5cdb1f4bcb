"""Accounts: one per converted lead plus prospects, and the account table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from flywheel_demo.calendar import DAY, PRE_HISTORY, T0, T1, Scale, sample_times
from flywheel_demo.connector import stale_duplicates, sync_times
from flywheel_demo.contract import SORT_KEY, Table
from flywheel_demo.leads import Leads
from flywheel_demo.sampling import firmographics, lookup_or_null, null_some, pick
from flywheel_demo.text import companies, object_array, seq_ids
from flywheel_demo.users import Users, pick_owner
from flywheel_demo.vocabularies import AE, COUNTRIES, INDUSTRIES

if TYPE_CHECKING:  # billing reads accounts; the account table reads billing's outcome
    from flywheel_demo.billing import Billing


@dataclass
class Accounts:
    """Companies in the CRM: one per converted lead plus prospects targeted by sales."""

    n: int
    ids: np.ndarray
    created: np.ndarray
    name: np.ndarray
    domain: np.ndarray
    firmo: dict[str, np.ndarray]
    source: np.ndarray
    owner: np.ndarray
    lead: np.ndarray  # converting lead, or -1 for prospects
    of_lead: np.ndarray  # per lead: its account, or -1


def gen_accounts(scale: Scale, rng: np.random.Generator, users: Users, leads: Leads) -> Accounts:
    """Accounts created by lead conversion and prospect accounts loaded or created by sales."""
    conv = np.flatnonzero(np.isfinite(leads.converted))
    n_prospects = max(scale.n_accounts - len(conv), 0)
    p_firmo = firmographics(rng, n_prospects, np.log(250.0))
    p_name, p_domain = companies(rng, n_prospects)
    p_created = np.where(
        rng.random(n_prospects) < 0.45,
        rng.uniform(PRE_HISTORY, T0, n_prospects),
        sample_times(rng, n_prospects, 0.5),
    )
    p_source = object_array(["Outbound", "Event", "Partner", None])[pick(rng, [0.6, 0.15, 0.1, 0.15], n_prospects)]

    created = np.concatenate([leads.converted[conv], p_created])
    order = np.argsort(created, kind="stable")
    created = created[order]
    firmo = {k: np.concatenate([leads.firmo[k][conv], p_firmo[k]])[order] for k in p_firmo}
    lead = np.concatenate([conv, np.full(n_prospects, -1)])[order]
    of_lead = np.full(leads.n, -1, dtype=np.int64)
    of_lead[lead[lead >= 0]] = np.flatnonzero(lead >= 0)
    n = len(created)
    owner = pick_owner(rng, users, AE, firmo["segment"], created)
    return Accounts(
        n=n,
        ids=seq_ids("001", 10_000 + np.arange(n)),
        created=created,
        name=np.concatenate([leads.company[conv], p_name])[order],
        domain=np.concatenate([leads.domain[conv], p_domain])[order],
        firmo=firmo,
        source=np.concatenate([leads.raw_source[conv], p_source])[order],
        owner=owner,
        lead=lead,
        of_lead=of_lead,
    )


def account_table(
    rng: np.random.Generator, accounts: Accounts, users: Users, billing: Billing, has_deal: np.ndarray
) -> Table:
    """The account table: firmographics, type and workspace consistent with billing, plus a little mess."""
    n = accounts.n
    f = accounts.firmo
    ws = billing.account_workspace
    changed = np.minimum(billing.account_type_changed, T1)
    table: Table = {
        "id": accounts.ids,
        SORT_KEY: np.arange(n),
        "name": accounts.name,
        "type": object_array(["Prospect", "Customer", "Former Customer"])[billing.account_type],
        "industry": null_some(rng, object_array([i for i, _, _ in INDUSTRIES])[f["industry"]], 0.05),
        "number_of_employees": null_some(rng, f["employees"], 0.05),
        "annual_revenue": null_some(rng, f["revenue"], 0.1),
        "billing_country": null_some(rng, object_array([c for c, _, _ in COUNTRIES])[f["country"]], 0.02),
        "account_source": accounts.source,
        "owner_id": users.ids[accounts.owner],
        "product_workspace_id_c": lookup_or_null(billing.workspaces, ws),
        "created_date": accounts.created,
        "is_deleted": np.zeros(n, dtype=bool),
        "_fivetran_synced": sync_times(rng, np.maximum(changed, np.maximum(accounts.created, T0 - DAY))),
        "_fivetran_deleted": np.zeros(n, dtype=bool),
    }
    junk = np.flatnonzero((accounts.lead < 0) & ~has_deal)
    deleted = rng.choice(junk, size=min(len(junk), round(0.003 * n)), replace=False)
    table["is_deleted"][deleted] = True
    table, _ = stale_duplicates(rng, table, 0.005)
    stale = slice(n, None)  # the stale copies of former customers still say Customer
    table["type"][stale] = np.where(table["type"][stale] == "Former Customer", "Customer", table["type"][stale])
    return table
