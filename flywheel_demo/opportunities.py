"""Opportunities and their stage history."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from flywheel_demo.accounts import Accounts
from flywheel_demo.calendar import MINUTE, T1, day_start
from flywheel_demo.connector import stale_duplicates, sync_times
from flywheel_demo.contract import SORT_KEY, Table
from flywheel_demo.deals import Deals
from flywheel_demo.sampling import concat, or_null, pick_rows
from flywheel_demo.text import join_bytes, object_array, seq_ids
from flywheel_demo.users import Users
from flywheel_demo.vocabularies import (
    EXPANSION,
    LOSS_REASONS,
    LOST,
    NEW_BUSINESS,
    OPP_TYPES,
    STAGE_FORECAST,
    STAGE_PROBABILITY,
    STAGES,
    WON,
)


@dataclass
class Opportunities:
    """All deals in id order, their current state and the history rows."""

    deals: Deals
    ids: np.ndarray
    table: Table
    history: Table
    stage_now: np.ndarray
    order: np.ndarray  # position in id order of each merged deal


def build_opportunities(rng: np.random.Generator, users: Users, accounts: Accounts, deals: Deals) -> Opportunities:
    """Current opportunity rows and one history row per stage change, close-date push or reopen (drawing from `rng`
    in this order: history events, history sync times, loss reasons, opportunity sync times, connector mess)."""
    order, position = opportunity_order(deals)
    d = Deals(**{name: getattr(deals, name)[order] for name in Deals.__dataclass_fields__})
    n = len(d.created)
    ids = opportunity_ids(n)
    events = _stage_events(rng, d)
    history = _history_table(rng, d, ids, users, events)
    last_row = np.full(n, -1)
    last_row[events.opp] = np.arange(len(events.opp))  # rows are sorted by time within an opportunity
    table = _opportunity_table(rng, d, ids, users, accounts, events.stage_now, events.time[last_row])
    table = _connector_mess(rng, d, table, history, events, last_row)
    return Opportunities(d, ids, table, history, events.stage_now, position)


def opportunity_order(deals: Deals) -> tuple[np.ndarray, np.ndarray]:
    """Opportunities are numbered in order of creation: the deals in that order, and each deal's position in it.
    Known without drawing anything, so the tables that name opportunities can be built before them."""
    order = np.argsort(deals.created, kind="stable")
    position = np.empty(len(order), dtype=np.int64)
    position[order] = np.arange(len(order))
    return order, position


def opportunity_ids(n: int) -> np.ndarray:
    """The ids of the first `n` opportunities, in order of creation."""
    return seq_ids("006", 30_000 + np.arange(n))


@dataclass
class _StageEvents:
    """The history rows of all opportunities as numbers, sorted by opportunity and time."""

    opp: np.ndarray  # index of the opportunity
    stage: np.ndarray  # index into STAGES
    time: np.ndarray
    stage_now: np.ndarray  # per opportunity: its stage today


def _stage_events(rng: np.random.Generator, d: Deals) -> _StageEvents:
    """Each stage entered so far, the closing row, close-date pushes and a few lost-then-reopened deals."""
    n = len(d.created)
    closed = d.close <= T1
    won = closed & (d.reach == 5)
    lost = closed & (d.reach < 5)
    e = d.entries.copy()
    e[:, 5] = np.where(won, d.close, np.nan)
    e[~np.isfinite(e) | (e > T1)] = np.nan
    e[:, :5][closed[:, None] & (e[:, :5] >= d.close[:, None])] = np.nan
    opp_i, stage_i = np.nonzero(np.isfinite(e))
    h_opp = [opp_i, np.flatnonzero(lost)]
    h_stage = [stage_i, np.full(int(lost.sum()), LOST)]
    h_time = [e[opp_i, stage_i], d.close[lost]]
    stage_now = np.where(won, WON, np.where(lost, LOST, np.nanargmax(np.where(np.isfinite(e), np.arange(6), -1), 1)))
    slip = np.flatnonzero(np.isfinite(d.slip_at) & (d.slip_at <= T1))
    slip_stage = (np.isfinite(e[slip]) & (e[slip] <= d.slip_at[slip, None])).cumsum(axis=1).argmax(axis=1)
    h_opp.append(slip)
    h_stage.append(slip_stage)
    h_time.append(d.slip_at[slip])
    can_reopen = np.flatnonzero(np.isfinite(e[:, 2]) & ~lost & (d.kind == NEW_BUSINESS))
    reopen = rng.choice(can_reopen, size=min(len(can_reopen), round(0.02 * n)), replace=False)
    gap = e[reopen, 2] - e[reopen, 1]
    h_opp += [reopen, reopen]
    h_stage += [np.full(len(reopen), LOST), np.full(len(reopen), 1)]
    h_time += [e[reopen, 1] + 0.3 * gap, e[reopen, 1] + 0.6 * gap]
    h_opp_a = concat(h_opp).astype(np.int64)
    h_stage_a = concat(h_stage).astype(np.int64)
    h_time_a = concat(h_time)
    h_order = np.lexsort((h_time_a, h_opp_a))
    return _StageEvents(h_opp_a[h_order], h_stage_a[h_order], h_time_a[h_order], stage_now)


def _amount_at(d: Deals, opp: np.ndarray, stage: np.ndarray, t: np.ndarray) -> np.ndarray:
    """The early estimate until Proposal, the priced amount from then on (and on the final row of late losses)."""
    final = (d.close[opp] <= T1) & (np.abs(t - d.close[opp]) < 1)
    later = ((stage >= 3) & (stage <= WON)) | ((stage == LOST) & final & (d.reach[opp] >= 3))
    return np.where(later, d.amount[opp], d.amount_early[opp])


def _close_at(d: Deals, opp: np.ndarray, stage: np.ndarray, t: np.ndarray) -> np.ndarray:
    """The actual close date on the closing row, else the expected close date in force at time t."""
    final = ((stage == WON) | (stage == LOST)) & (d.close[opp] <= T1) & (np.abs(t - d.close[opp]) < 1)
    planned = np.where(t >= np.nan_to_num(d.slip_at[opp], nan=np.inf), d.slipped_to[opp], d.expected[opp])
    return day_start(np.where(final, d.close[opp], planned))


def _history_table(rng: np.random.Generator, d: Deals, ids: np.ndarray, users: Users, events: _StageEvents) -> Table:
    """The opportunity_history table: one row per event, its ids in order of creation like Salesforce's."""
    h_opp, h_stage, h_time = events.opp, events.stage, events.time
    n_h = len(h_opp)
    history: Table = {
        "id": seq_ids("0066H", 40_000 + np.arange(n_h)),
        "opportunity_id": ids[h_opp],
        "stage_name": object_array(STAGES)[h_stage],
        "amount": _amount_at(d, h_opp, h_stage, h_time),
        "probability": STAGE_PROBABILITY[h_stage],
        "forecast_category": object_array(STAGE_FORECAST)[h_stage],
        "close_date": _close_at(d, h_opp, h_stage, h_time),
        "created_date": h_time,
        "created_by_id": users.ids[d.owner[h_opp]],
        "is_deleted": np.zeros(n_h, dtype=bool),
        "system_modstamp": h_time,
        "_fivetran_synced": sync_times(rng, h_time),
        "_fivetran_deleted": np.zeros(n_h, dtype=bool),
    }
    rank = np.argsort(np.argsort(h_time, kind="stable"), kind="stable")
    history["id"] = seq_ids("0066H", 40_000 + rank)
    history[SORT_KEY] = rank
    return history


def _opportunity_table(
    rng: np.random.Generator,
    d: Deals,
    ids: np.ndarray,
    users: Users,
    accounts: Accounts,
    stage_now: np.ndarray,
    modstamp: np.ndarray,
) -> Table:
    """The opportunity table as of today: stage, amount and close date in force, a loss reason for lost deals."""
    n = len(d.created)
    closed = d.close <= T1
    loss = object_array(LOSS_REASONS)[pick_rows(rng, d.loss_weights)]
    loss[~(closed & (d.reach < 5))] = None
    account_name = accounts.name[d.account]
    year = np.datetime_as_string(d.close.astype(np.int64).astype("datetime64[s]").astype("datetime64[Y]"))
    name = np.select(
        [d.kind == NEW_BUSINESS, d.kind == EXPANSION],
        [join_bytes(account_name, b" - New Business"), join_bytes(account_name, b" - Expansion")],
        join_bytes(account_name, b" - Renewal ", year.astype("S4")),
    ).astype(object)
    return {
        "id": ids,
        SORT_KEY: np.arange(n),
        "account_id": accounts.ids[d.account],
        "name": name,
        "type": object_array(OPP_TYPES)[d.kind],
        "stage_name": object_array(STAGES)[stage_now],
        "amount": _amount_at(d, np.arange(n), stage_now, np.where(closed, d.close, T1)),
        "probability": STAGE_PROBABILITY[stage_now],
        "forecast_category": object_array(STAGE_FORECAST)[stage_now],
        "close_date": _close_at(d, np.arange(n), stage_now, np.where(closed, d.close, T1)),
        "created_date": d.created,
        "is_closed": closed,
        "is_won": closed & (d.reach == 5),
        "lead_source": d.lead_source,
        "owner_id": users.ids[d.owner],
        "campaign_id": d.campaign_id,
        "loss_reason_c": loss,
        "is_deleted": np.zeros(n, dtype=bool),
        "system_modstamp": modstamp,
        "_fivetran_synced": sync_times(rng, modstamp),
        "_fivetran_deleted": np.zeros(n, dtype=bool),
    }


def _connector_mess(
    rng: np.random.Generator, d: Deals, table: Table, history: Table, events: _StageEvents, last_row: np.ndarray
) -> Table:
    """A couple of deleted junk deals, and stale re-synced copies carrying the stage before the current one."""
    n = len(d.created)
    lost = (d.close <= T1) & (d.reach < 5)
    junk = np.flatnonzero(lost & (d.reach == 0) & (d.lead < 0) & (d.kind == NEW_BUSINESS))
    junk = rng.choice(junk, size=min(len(junk), max(1, round(0.003 * n))), replace=False)
    table["is_deleted"][junk] = True
    has_prev = np.zeros(n, dtype=bool)
    counts = np.bincount(events.opp, minlength=n)
    has_prev[counts >= 2] = True
    table, originals = stale_duplicates(rng, table, 0.01, eligible=has_prev & ~table["is_deleted"])
    prev = last_row[originals] - 1
    stale = slice(n, None)
    table["stage_name"][stale] = history["stage_name"][prev]
    table["amount"][stale] = history["amount"][prev]
    table["probability"][stale] = history["probability"][prev]
    table["forecast_category"][stale] = history["forecast_category"][prev]
    table["close_date"][stale] = history["close_date"][prev]
    table["system_modstamp"][stale] = history["created_date"][prev]
    table["_fivetran_synced"][stale] = np.minimum(
        sync_times(rng, history["created_date"][prev], 0.0), table["_fivetran_synced"][originals] - MINUTE
    )
    prev_stage = events.stage[prev]
    table["is_closed"][stale] = prev_stage >= WON
    table["is_won"][stale] = prev_stage == WON
    table["loss_reason_c"][stale] = or_null(prev_stage == LOST, table["loss_reason_c"][stale])
    return table
