"""Edge cases: the rare records where the shared definitions are decided at their edges. They are drawn from a
random stream of their own and applied to the finished tables, so the rest of the data (and the story it tells)
stays what it was; each edge touches a few per cent of its rows at most."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from flywheel_demo.calendar import DAY, FAR_FUTURE, HOUR, MINUTE, START, T0, T1, TODAY, add_months
from flywheel_demo.connector import sync_times
from flywheel_demo.contract import SORT_KEY, Table, TableKey
from flywheel_demo.sampling import draw_names
from flywheel_demo.text import companies, emails, join_bytes, name_text, phones, seq_ids
from flywheel_demo.users import Users, pick_owner
from flywheel_demo.vocabularies import AE, CAMPAIGNS, INDUSTRIES, NEW_BUSINESS, OPP_TYPES, STAGES, WON

ICP_INDUSTRIES = [name for name, _, fit in INDUSTRIES if fit]
ICP_EMPLOYEES = (50, 5_000)  # definitions.yml icp.min_employees .. icp.max_employees
MARKETING_SOURCES = ["Organic Search", "Event", "Referral", "Webinar", "Partner"]  # inbound, no ad campaign
SHARED_OPPORTUNITY_SHARE = 0.03  # of converted ICP leads: a colleague is converted into the same opportunity
RECYCLED_SHARE = 0.03  # of rejected MQLs: accepted again later
REASSIGNED_SHARE = 0.03  # of won new-business deals: owner changed after the win
WIN_WITHOUT_USER_SHARE = 0.02  # of won new-business deals: the win was written by an integration, without a user
MID_TERM_CANCEL_SHARE = 0.05  # of live annual subscriptions in their first 9 months of term: cancelled mid-term
PRE_LAUNCH_DAYS = 5  # Brand Search ran this many days before the CRM went live: spend with no lead to allocate it to


def _like(column: np.ndarray, values: Sequence[object] | np.ndarray) -> np.ndarray:
    """`values` in the representation of `column` (fixed-width bytes stay bytes, objects stay objects)."""
    values = np.asarray(values)
    if column.dtype.kind == "S":
        return values.astype(bytes) if values.dtype.kind == "U" else values
    if column.dtype == object:
        return values.astype(object)
    return values.astype(column.dtype)


def _append_rows(table: Table, template: np.ndarray, overrides: dict[str, Sequence[object] | np.ndarray]) -> Table:
    """The table plus copies of its rows `template`, with the columns in `overrides` replaced. The columns move from
    `table` into the result (`table` is left empty), so the lead table is never held twice."""
    out: Table = {}
    for name in list(table):
        column = table.pop(name)
        added = _like(column, overrides[name]) if name in overrides else column[template]
        out[name] = np.concatenate([column, added])
        del column
    return out


def _share(rng: np.random.Generator, pool: np.ndarray, share: float, minimum: int = 1) -> np.ndarray:
    """A sorted random sample of `pool`: `share` of it, at least `minimum` rows when the pool has them."""
    k = min(len(pool), max(minimum, round(share * len(pool))))
    return np.sort(rng.choice(pool, size=k, replace=False)) if k else np.empty(0, dtype=np.int64)


def _is_in(values: np.ndarray, labels: Sequence[str]) -> np.ndarray:
    """Element-wise membership of an object column of text (None never matches: numpy compares object arrays
    label by label, without sorting them)."""
    return np.isin(np.asarray(values, dtype=object), labels)


def _is_missing(values: np.ndarray) -> np.ndarray:
    """Element-wise None of an object column of text (the simulation leaves text empty as None, never as NaN)."""
    return np.asarray(values, dtype=object) == None  # noqa: E711 - element-wise on an object array


def _fit_only(table: Table, rows: np.ndarray) -> np.ndarray:
    """Rows whose recorded firmographics alone make an ICP fit of 40: an ICP industry and an ICP company size."""
    employees = np.asarray(table["number_of_employees"][rows], dtype=np.float64)
    icp_size = (employees >= ICP_EMPLOYEES[0]) & (employees <= ICP_EMPLOYEES[1])
    return icp_size & _is_in(table["industry"][rows], ICP_INDUSTRIES)


def _new_people(rng: np.random.Generator, domains: np.ndarray) -> dict[str, np.ndarray]:
    """Names, e-mail addresses and phone numbers of new people at the given e-mail domains."""
    first_code, last_code = draw_names(rng, len(domains))
    first, last = name_text(first_code, last_code)
    return {
        "first_name": first,
        "last_name": last,
        "name": join_bytes(first, b" ", last),
        "email": emails(first_code, last_code, domains),
        "phone": phones(rng, len(domains)),
    }


def _original_leads(table: Table, n_leads: int) -> np.ndarray:
    """Positions of the leads' current rows (not the stale re-synced copies), live in the CRM."""
    rows = np.arange(n_leads)
    return rows[~table["is_deleted"][rows] & ~table["_fivetran_deleted"][rows]]


def _shared_opportunity_leads(rng: np.random.Generator, table: Table, n_leads: int, next_id: int) -> Table:
    """Colleagues of converted ICP leads, created on the day of that conversion and converted the same day into the
    same account, contact and opportunity, with no acceptance date recorded (a rep converting a lead records none).
    Their fit alone reaches the MQL threshold and they have no engagement: an MQL at creation, accepted by the
    conversion on the MQL's day, and several leads converted into one opportunity."""
    rows = _original_leads(table, n_leads)
    rows = rows[table["is_converted"][rows] & np.isfinite(table["converted_date"][rows])]
    rows = rows[_is_in(table["lead_source"][rows], MARKETING_SOURCES) & _fit_only(table, rows)]
    template = _share(rng, rows, SHARED_OPPORTUNITY_SHARE)
    k = len(template)
    day = table["converted_date"][template]
    created = np.minimum(day + rng.uniform(7 * HOUR, 15 * HOUR, k), T1 - HOUR)
    domains = np.array([bytes(email).split(b"@")[-1] for email in table["email"][template]], dtype=bytes)
    changed = created + rng.uniform(HOUR, 8 * HOUR, k)
    changed = np.minimum(np.maximum(changed, day + 16 * HOUR), day + DAY - MINUTE)
    overrides: dict[str, Sequence[object] | np.ndarray] = {
        "id": seq_ids("00Q", next_id + np.arange(k)),
        SORT_KEY: next_id + np.arange(k),
        **_new_people(rng, domains),
        "status": ["Converted"] * k,
        "created_date": created,
        "mql_date_c": created + rng.uniform(2 * MINUTE, 15 * MINUTE, k),
        "accepted_date_c": np.full(k, np.nan),
        "rejected_date_c": np.full(k, np.nan),
        "rejection_reason_c": [None] * k,
        "system_modstamp": changed,
        "_fivetran_synced": sync_times(rng, changed, 0.0),
    }
    return _append_rows(table, template, overrides)


def _month_end_leads(rng: np.random.Generator, table: Table, n_leads: int, next_id: int) -> Table:
    """Two new ICP leads at every month boundary of the history: one created at about 23:30 UTC on the last day of
    the month, one at about 00:30 UTC on the first day of the next. Their month depends on the reporting time zone,
    and their fit alone reaches the MQL threshold (they have no engagement); nobody has worked them yet."""
    months = np.arange(START.astype("datetime64[M]") + 1, TODAY.astype("datetime64[M]") + 1)
    boundary = months.astype("datetime64[s]").astype(np.int64).astype(np.float64)
    offset = rng.uniform(25 * MINUTE, 35 * MINUTE, (2, len(boundary)))
    created = np.sort(np.concatenate([boundary - offset[0], boundary + offset[1]]))
    created = created[created < T1]
    k = len(created)
    rows = _original_leads(table, n_leads)
    rows = rows[~table["is_converted"][rows] & _is_in(table["lead_source"][rows], MARKETING_SOURCES)]
    rows = rows[_is_missing(table["utm_campaign_c"][rows]) & _is_missing(table["product_workspace_id_c"][rows])]
    if len(rows) == 0:
        return table
    template = rng.choice(rows, size=k)
    company, domains = companies(rng, k)
    employees = np.round(np.exp(rng.uniform(np.log(ICP_EMPLOYEES[0]), np.log(ICP_EMPLOYEES[1]), k)))
    nothing = np.full(k, np.nan)
    overrides: dict[str, Sequence[object] | np.ndarray] = {
        "id": seq_ids("00Q", next_id + np.arange(k)),
        SORT_KEY: next_id + np.arange(k),
        **_new_people(rng, domains),
        "company": company,
        "industry": np.array(ICP_INDUSTRIES, dtype=object)[rng.integers(0, len(ICP_INDUSTRIES), k)],
        "number_of_employees": employees,
        "annual_revenue": np.round(employees * np.exp(rng.normal(np.log(150_000.0), 0.5, k)), -3),
        "status": ["Open - Not Contacted"] * k,
        "is_converted": np.zeros(k, dtype=bool),
        "converted_date": nothing,
        "converted_account_id": [None] * k,
        "converted_contact_id": [None] * k,
        "converted_opportunity_id": [None] * k,
        "created_date": created,
        "mql_date_c": nothing,
        "accepted_date_c": nothing,
        "rejected_date_c": nothing,
        "rejection_reason_c": [None] * k,
        "system_modstamp": created,
        "_fivetran_synced": sync_times(rng, created, 0.0),
    }
    return _append_rows(table, template, overrides)


def _recycle_rejected_leads(rng: np.random.Generator, table: Table, n_leads: int) -> None:
    """A few rejected MQLs are accepted again weeks later (recycled); the rejection stays on the record."""
    rows = _original_leads(table, n_leads)
    rejected = table["rejected_date_c"][rows]
    rows = rows[
        np.isfinite(rejected)
        & (rejected < T1 - 60 * DAY)
        & np.isfinite(table["mql_date_c"][rows])
        & np.isnan(table["accepted_date_c"][rows])
        & ~table["is_converted"][rows]
    ]
    rows = _share(rng, rows, RECYCLED_SHARE)
    accepted = table["rejected_date_c"][rows] + rng.uniform(14 * DAY, 60 * DAY, len(rows))
    table["accepted_date_c"][rows] = accepted
    table["status"][rows] = "Working - Contacted"
    table["system_modstamp"][rows] = np.maximum(table["system_modstamp"][rows], accepted)
    table["_fivetran_synced"][rows] = np.maximum(table["_fivetran_synced"][rows], sync_times(rng, accepted, 0.0))


def _won_new_business(opportunities: Table, n_opportunities: int) -> np.ndarray:
    """Positions of the current rows of won new-business opportunities."""
    rows = np.arange(n_opportunities)
    won = opportunities["is_won"][rows] & ~opportunities["is_deleted"][rows]
    return rows[won & (opportunities["type"][rows] == OPP_TYPES[NEW_BUSINESS])]


def _reassign_won_deals(rng: np.random.Generator, opportunities: Table, users: Users, n_opportunities: int) -> None:
    """A few won deals change owner weeks after the win (the account moves to another rep): the stage history still
    names the rep who won them, the opportunity names the new owner."""
    won = _won_new_business(opportunities, n_opportunities)
    won = won[opportunities["system_modstamp"][won] < T1 - 30 * DAY]
    rows = _share(rng, won, REASSIGNED_SHARE)
    by_id = np.argsort(users.ids)
    owner = by_id[np.searchsorted(users.ids, opportunities["owner_id"][rows], sorter=by_id)]
    moved = np.minimum(opportunities["system_modstamp"][rows] + rng.uniform(14 * DAY, 120 * DAY, len(rows)), T1 - DAY)
    new_owner = pick_owner(rng, users, AE, users.division[owner], moved)
    changed = new_owner != owner
    rows, new_owner, moved = rows[changed], new_owner[changed], moved[changed]
    opportunities["owner_id"][rows] = users.ids[new_owner]
    opportunities["system_modstamp"][rows] = moved
    opportunities["_fivetran_synced"][rows] = sync_times(rng, moved, 0.0)


def _wins_without_a_user(rng: np.random.Generator, opportunities: Table, history: Table, n_opportunities: int) -> None:
    """A few wins were written by an integration (a signed quote closing the deal), so the stage-history row of the
    win names no user: who closed the deal falls back to its owner."""
    rows = _share(rng, _won_new_business(opportunities, n_opportunities), WIN_WITHOUT_USER_SHARE)
    win_rows = np.isin(history["opportunity_id"], opportunities["id"][rows])
    win_rows &= history["stage_name"] == STAGES[WON]
    history["created_by_id"] = history["created_by_id"].astype(object)
    history["created_by_id"][win_rows] = None


def _cancel_annual_plans_mid_term(rng: np.random.Generator, subscriptions: Table, items: Table, n_subs: int) -> None:
    """A few annual subscriptions are cancelled and end months before their term ends (a customer that goes out of
    business, a refund negotiated by sales). The term has no renewal deal yet: it started less than 9 months ago."""
    rows = np.arange(n_subs)
    term = subscriptions["current_period_end"][rows] - subscriptions["current_period_start"][rows]
    rows = rows[
        (subscriptions["status"][rows] == "active")
        & subscriptions["livemode"][rows]
        & (term > 300 * DAY)
        & (subscriptions["current_period_start"][rows] >= add_months(np.array([T1]), -9)[0])
        & (subscriptions["current_period_start"][rows] <= T1 - 60 * DAY)
    ]
    rows = _share(rng, rows, MID_TERM_CANCEL_SHARE, minimum=2)
    period_start = subscriptions["current_period_start"][rows]
    ended = period_start + 30 * DAY + rng.uniform(0, 1, len(rows)) * (T1 - 7 * DAY - period_start - 30 * DAY)
    subscriptions["status"][rows] = "canceled"
    subscriptions["canceled_at"][rows] = ended
    subscriptions["ended_at"][rows] = ended
    subscriptions["cancel_at_period_end"][rows] = False
    subscriptions["_fivetran_synced"][rows] = sync_times(rng, ended, 0.0)
    # The seat history stops at the cancellation: later versions never happened, the one in force stays current.
    order = np.argsort(subscriptions["id"][rows])
    cancelled_ids, cancelled_at = subscriptions["id"][rows][order], ended[order]
    position = np.minimum(np.searchsorted(cancelled_ids, items["subscription_id"]), max(len(rows) - 1, 0))
    hit = cancelled_ids[position] == items["subscription_id"] if len(rows) else np.zeros(len(items["id"]), bool)
    end_of = np.where(hit, cancelled_at[position] if len(rows) else np.inf, np.inf)
    keep = items["_fivetran_start"] <= end_of
    for name in items:
        items[name] = items[name][keep]
    item_ends = np.isfinite(end_of[keep])
    last = np.concatenate([items["id"][1:] != items["id"][:-1], [True]]) if len(items["id"]) else item_ends
    items["_fivetran_end"][item_ends & last] = FAR_FUTURE
    items["_fivetran_active"][item_ends & last] = True


def _pre_launch_spend(rng: np.random.Generator, ad_spend: Table) -> Table:
    """Brand Search ran for a few days before the CRM went live: ad spend in a month in which no lead (so no MQL of
    its channel) exists, which no segment can be allocated."""
    campaign = 0
    template = np.flatnonzero(ad_spend["campaign_id"] == CAMPAIGNS[campaign][1])[:PRE_LAUNCH_DAYS]
    k = len(template)
    date = T0 - DAY * np.arange(k, 0, -1)
    spend = np.round(ad_spend["spend"][template] * rng.uniform(0.6, 0.9, k), 2)
    scale_down = spend / ad_spend["spend"][template]
    overrides: dict[str, Sequence[object] | np.ndarray] = {
        "date": date,
        SORT_KEY: -np.arange(k, 0, -1) * len(CAMPAIGNS) + campaign,
        "spend": spend,
        "impressions": np.maximum(np.round(ad_spend["impressions"][template] * scale_down), 1),
        "clicks": np.round(ad_spend["clicks"][template] * scale_down),
        "_fivetran_synced": date + DAY + rng.uniform(0.5 * HOUR, 2.5 * HOUR, k),
    }
    return _append_rows(ad_spend, template, overrides)


def lead_edge_cases(rng: np.random.Generator, leads: Table, n_leads: int) -> Table:
    """The lead table with its edge cases (see the module docstring): the first draws of the edge cases' generator,
    then `add_edge_cases`. `n_leads` is the number of leads before their stale re-synced copies (the rows an edge
    may change)."""
    _recycle_rejected_leads(rng, leads, n_leads)
    added = len(leads["id"])
    leads = _shared_opportunity_leads(rng, leads, n_leads, 100_000 + n_leads)
    next_id = 100_000 + n_leads + len(leads["id"]) - added
    return _month_end_leads(rng, leads, n_leads, next_id)


def add_edge_cases(
    rng: np.random.Generator,
    tables: dict[TableKey, Table],
    users: Users,
    counts: tuple[int, int],
) -> None:
    """Apply the other edge cases to the finished opportunity, stage history, subscription, subscription item and ad
    spend tables, drawing from the edge cases' generator after `lead_edge_cases`. `counts` are the numbers of
    opportunities and subscriptions before their stale re-synced copies (the rows an edge may change)."""
    n_opportunities, n_subs = counts
    opp_key, sub_key = ("salesforce", "opportunity"), ("stripe", "subscription")
    _reassign_won_deals(rng, tables[opp_key], users, n_opportunities)
    _wins_without_a_user(rng, tables[opp_key], tables[("salesforce", "opportunity_history")], n_opportunities)
    _cancel_annual_plans_mid_term(rng, tables[sub_key], tables[("stripe", "subscription_item")], n_subs)
    tables[("marketing", "ad_spend")] = _pre_launch_spend(rng, tables[("marketing", "ad_spend")])
