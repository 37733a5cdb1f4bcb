"""Deal amounts as the deal was sold: in the customer's billing currency, net of a negotiated discount.

A multi-currency Salesforce org records each opportunity in its own currency (`currency_iso_code`). The deals of the
accounts billed in euros are written in euros, at the euro list prices (the USD amount at the opening rate, rounded
to whole euros, as the euro prices were made: see billing_realism), on the opportunity and on its history; every
other deal is in USD. A sales-led subscription that began with a negotiated permanent discount (PARTNER10, SAVE50)
was sold at the discounted annual value, so its new-business deal carries that value: the list amount less the
percent off, or less the amount off times the invoices of a year (12 monthly, 1 annual). Applied after the coupons
are drawn; no random draw, so every other table stays as it was.
"""

from __future__ import annotations

import json

import numpy as np

from flywheel_demo.billing_realism import DEAL_PREFIX
from flywheel_demo.contract import Table, TableKey
from flywheel_demo.exchange_rates import STARTING_RATES
from flywheel_demo.text import object_array

OPPORTUNITY: TableKey = ("salesforce", "opportunity")
HISTORY: TableKey = ("salesforce", "opportunity_history")


def price_deals_as_billed(tables: dict[TableKey, Table], customers: Table, prices: Table) -> dict[TableKey, Table]:
    """Write the discounted value on the deals sold with a negotiated discount, then the euro deals in euros, and
    the currency of every opportunity row (changing the opportunity and history tables of `tables` in place);
    returns `tables`."""
    opportunity, history = tables[OPPORTUNITY], tables[HISTORY]
    percent_off, amount_off = _negotiated_discounts(tables, prices)
    for table, key in ((opportunity, "id"), (history, "opportunity_id")):
        ids = table[key]
        amount = np.asarray(table["amount"], dtype=float)
        share = np.array([percent_off.get(value, 0.0) for value in ids])
        off = np.array([amount_off.get(value, 0.0) for value in ids])
        table["amount"] = np.round(amount * (1 - share / 100) - off, 2)
    euro_accounts = _euro_accounts(customers)
    in_euros = np.isin(opportunity["account_id"], euro_accounts)
    euro_ids = np.unique(opportunity["id"][in_euros])
    for table, key in ((opportunity, "id"), (history, "opportunity_id")):
        moved = np.isin(table[key], euro_ids)
        table["amount"] = np.where(moved, np.round(table["amount"] / STARTING_RATES["EUR"]), table["amount"])
    opportunity["currency_iso_code"] = object_array(["EUR" if euro else "USD" for euro in in_euros])
    return tables


def _euro_accounts(customers: Table) -> np.ndarray:
    """The CRM accounts of the customers billed in euros, spelled as the opportunity table holds its ids (bytes)."""
    linked = [
        json.loads(str(metadata)).get("salesforce_account_id")
        for metadata, currency in zip(customers["metadata"], customers["currency"], strict=True)
        if currency == "eur" and str(metadata).startswith("{")
    ]
    return np.array([account.encode() for account in linked if account], dtype=object)  # ids are bytes here


def _negotiated_discounts(
    tables: dict[TableKey, Table], prices: Table
) -> tuple[dict[bytes, float], dict[bytes, float]]:
    """Per new-business opportunity whose subscription began with a coupon: the percent off, and the amount off a
    year in dollars (the coupon's amount off times the invoices of a year)."""
    subscriptions, items = tables[("stripe", "subscription")], tables[("stripe", "subscription_item")]
    discounts, coupons = tables[("stripe", "discount")], tables[("stripe", "coupon")]
    opportunity_of: dict[bytes, bytes] = {}  # the ids of these tables are bytes
    start_of: dict[bytes, float] = {}
    for sub_id, metadata, start in zip(
        subscriptions["id"], subscriptions["metadata"], subscriptions["start_date"], strict=True
    ):
        if str(metadata).startswith(DEAL_PREFIX):
            opportunity_of[sub_id] = json.loads(str(metadata))["salesforce_opportunity_id"].encode()
            start_of[sub_id] = float(start)
    interval_of_price = dict(zip(prices["id"], prices["recurring_interval"], strict=True))
    yearly_invoices = {
        sub_id: 1 if interval_of_price.get(price_id) == "year" else 12
        for sub_id, price_id in zip(items["subscription_id"], items["price_id"], strict=True)
    }
    coupon_at = {coupon_id: index for index, coupon_id in enumerate(coupons["id"])}
    percent_off: dict[bytes, float] = {}
    amount_off: dict[bytes, float] = {}
    for sub_id, coupon_id, start in zip(
        discounts["subscription_id"], discounts["coupon_id"], discounts["start"], strict=True
    ):
        if sub_id not in opportunity_of or float(start) != start_of[sub_id]:
            continue  # self-serve, or a coupon given months after the sale
        coupon = coupon_at[coupon_id]
        percent_off[opportunity_of[sub_id]] = float(np.nan_to_num(coupons["percent_off"][coupon]))
        yearly = float(np.nan_to_num(coupons["amount_off"][coupon])) / 100 * yearly_invoices.get(sub_id, 12)
        amount_off[opportunity_of[sub_id]] = yearly
    return percent_off, amount_off
