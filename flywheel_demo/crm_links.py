"""Broken links between billing and the CRM: billing customers whose CRM account link was never set or was typed
wrong, so RevOps' reconciliation (marts.fct_crm_billing_findings) has something to find. Drawn from a random stream
of their own and applied to the finished customer table, so every other table and row stays what it was.

A cleared link makes a paying customer look self-serve (billing without CRM, once its MRR reaches the shared
self-serve line) and leaves its account's won deal without billing; a mistyped link names an account the CRM does
not have. Deals billed at another amount than the CRM's and customers outside their CRM segment already occur in
the simulation (price changes between the quote and the start, accounts that grew or shrank), so none are added.
"""

from __future__ import annotations

import numpy as np

from flywheel_demo.contract import Table

STREAM = 0x5EC0  # the constant of this module's random stream: np.random.default_rng([seed, STREAM])
UNLINKED_SHARE = 0.02  # of CRM-linked customers: the account link was never set in billing
MISTYPED_SHARE = 0.01  # of CRM-linked customers: the account id was typed with one character wrong
LINK_PREFIX = '{"salesforce_account_id": "'


def break_crm_links(seed: int, customers: Table) -> Table:
    """Clear the CRM link of UNLINKED_SHARE of the live CRM-linked customers and mistype it on MISTYPED_SHARE (at
    least one of each), on every connector copy of those customers."""
    rng = np.random.default_rng([seed, STREAM])
    metadata = customers["metadata"]
    linked = np.array([str(value).startswith(LINK_PREFIX) for value in metadata]) & customers["livemode"].astype(bool)
    ids = np.unique(customers["id"][linked])
    if len(ids) < 2:
        return customers
    n_unlinked = max(1, round(UNLINKED_SHARE * len(ids)))
    n_mistyped = max(1, round(MISTYPED_SHARE * len(ids)))
    chosen = rng.choice(ids, size=min(len(ids), n_unlinked + n_mistyped), replace=False)
    unlinked = np.isin(customers["id"], chosen[:n_unlinked])
    mistyped = np.isin(customers["id"], chosen[n_unlinked:])
    metadata = metadata.copy()
    metadata[unlinked] = "{}"
    metadata[mistyped] = np.array([_mistyped(str(value)) for value in metadata[mistyped]], dtype=object)
    customers["metadata"] = metadata
    return customers


def _mistyped(link: str) -> str:
    """The link with a typo in the account id: its fourth character (a zero of every demo account id) made a one,
    which names no account of the CRM (the demo's ids count up from 001000000010000)."""
    account_id = link[len(LINK_PREFIX) : -2]
    return f"{LINK_PREFIX}{account_id[:3]}1{account_id[4:]}" + '"}'
