"""Product usage events: trials, paying workspaces' usage, and month-by-month plans for big scales."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from flywheel_demo.billing import Billing
from flywheel_demo.calendar import DAY, HOUR, MINUTE, MONTH_STARTS, T0, T1, Scale
from flywheel_demo.contract import EVENTS, SORT_KEY, TS, Table, output_tables
from flywheel_demo.leads import Leads
from flywheel_demo.sampling import concat, group_offsets, pick
from flywheel_demo.subscriptions import quantity_at
from flywheel_demo.text import (
    base62_ids,
    base62_matrix,
    calendar_text,
    digits_matrix,
    fixed_width_text,
    object_array,
    seq_ids,
)
from flywheel_demo.vocabularies import (
    INTEGRATION,
    INVITED,
    LOGGED_IN,
    PLG,
    PRODUCT_EVENTS,
    PROJECT_CREATED,
    REPORT_SHARED,
    SIGNED_UP,
    TRIAL_STARTED,
    USAGE_W,
)

EventColumns = dict[str, np.ndarray]  # product events as numbers: workspace, user, event, timestamp, ...

EVENT_MONTH = 30.44 * DAY  # the usage model's "month" (a subscription's monthly window, not a calendar month)


def _trial_events(rng: np.random.Generator, leads: Leads, billing: Billing) -> EventColumns:
    """Trials of product sign-ups (with activation for a share) and the sign-up of each new paying workspace.

    Its random draws are the first ones of the seeds' product events, in the same order: keep it that way, or the
    committed seeds change."""
    plg = np.flatnonzero(leads.source == PLG)
    n_plg = len(plg)
    signup = leads.created[plg] - rng.uniform(MINUTE, 10 * MINUTE, n_plg)
    act = leads.activated[plg]
    counts = {  # per trial workspace: events of each type during the 14-day trial
        LOGGED_IN: rng.poisson(np.where(act, 2.0, 0.3)),
        PROJECT_CREATED: np.where(act, 1 + rng.poisson(0.5, n_plg), rng.random(n_plg) < 0.2),
        INVITED: np.where(act, rng.poisson(0.8, n_plg), 0),
        INTEGRATION: np.where(act, rng.random(n_plg) < 0.6, 0),
        REPORT_SHARED: np.where(act, rng.poisson(0.5, n_plg), 0),
    }
    ws, user, event, ts = [np.arange(n_plg)] * 2, [np.zeros(n_plg, np.int64)] * 2, [], []
    event += [np.full(n_plg, SIGNED_UP), np.full(n_plg, TRIAL_STARTED)]
    ts += [signup, signup + rng.uniform(20, 300, n_plg)]
    team = 1 + counts[INVITED]
    for kind, count in counts.items():
        parent, _ = group_offsets(np.asarray(count, dtype=np.int64))
        ws.append(parent)
        user.append(rng.integers(0, team[parent]) if kind != INVITED else np.zeros(len(parent), np.int64))
        event.append(np.full(len(parent), kind))
        ts.append(signup[parent] + rng.uniform(5 * MINUTE, 14 * DAY, len(parent)))

    # The first paid subscription of a workspace that did not come from a product sign-up signs up.
    s = billing.sub
    new_ws = s["first_of_ws"] & (s["workspace"] >= n_plg)
    ws.append(s["workspace"][new_ws])
    user.append(np.zeros(int(new_ws.sum()), np.int64))
    event.append(np.full(int(new_ws.sum()), SIGNED_UP))
    ts.append(s["start"][new_ws] - rng.uniform(MINUTE, HOUR, int(new_ws.sum())))
    self_trial = new_ws & s["trial"]  # self-serve sign-ups start a trial right away
    ws.append(s["workspace"][self_trial])
    user.append(np.zeros(int(self_trial.sum()), np.int64))
    event.append(np.full(int(self_trial.sum()), TRIAL_STARTED))
    ts.append(s["start"][self_trial] + rng.uniform(5, 120, int(self_trial.sum())))
    return {
        "ws": concat(ws).astype(np.int64),
        "user": concat(user).astype(np.int64),
        "event": concat(event).astype(np.int64),
        "timestamp": concat(ts),
    }


def _usage_windows(scale: Scale, rng: np.random.Generator, billing: Billing) -> dict[str, np.ndarray]:
    """Monthly usage windows of paying workspaces: tracked users and health (usage fades before churn)."""
    s = billing.sub
    live = np.flatnonzero(~s["trial_drop"])
    months = np.ceil((s["live_until"][live] - s["start"][live]) / EVENT_MONTH).astype(np.int64)
    months = np.maximum(months, 0)
    sub_i, month_i = group_offsets(months)
    sub = live[sub_i]
    m_start = s["start"][sub] + month_i * EVENT_MONTH
    m_end = np.minimum(m_start + EVENT_MONTH, s["live_until"][sub])
    seats = quantity_at(billing.versions, len(s["start"]), sub, m_start)
    util = rng.uniform(0.5, 1.0, len(s["start"]))[sub]
    tracked = np.maximum(1, np.round(seats * scale.tracked_seat_share * util))
    churned = s["ended"][sub] <= T1
    to_end = (s["ended"][sub] - m_start) / EVENT_MONTH
    health = np.where(churned & (to_end < 3), np.clip(to_end / 3, 0.15, 1.0), 1.0)
    return {"sub": sub, "start": m_start, "end": m_end, "tracked": tracked, "health": health}


def _usage_events(
    scale: Scale, rng: np.random.Generator, billing: Billing, w: dict[str, np.ndarray], lo: np.ndarray, hi: np.ndarray
) -> EventColumns:
    """Usage events of the windows `w` between `lo` and `hi`: a Poisson count per window, then users, types, times."""
    n_ev = rng.poisson(w["tracked"] * scale.events_per_user_month * w["health"] * (hi - lo) / EVENT_MONTH)
    parent, _ = group_offsets(n_ev)
    return {
        "ws": billing.sub["workspace"][w["sub"][parent]].astype(np.int64),
        "user": rng.integers(0, w["tracked"][parent].astype(np.int64)),
        "event": pick(rng, USAGE_W, len(parent)),
        "timestamp": lo[parent] + rng.uniform(0, 1, len(parent)) * (hi - lo)[parent],
    }


def _deliveries(rng: np.random.Generator, ev: EventColumns) -> EventColumns:
    """Receipt: seconds after the event, days for a few; events not received by today are not there yet; a few
    deliveries are retried (the same event id arrives twice). Adds received_at and the id's parts and sort key."""
    n = len(ev["timestamp"])
    received = ev["timestamp"] + rng.uniform(0.3, 8.0, n)
    late = rng.random(n) < 0.005
    received[late] += rng.uniform(1 * DAY, 4 * DAY, int(late.sum()))
    keep = received <= T1
    out = {col: values[keep] for col, values in ev.items()}
    out["received_at"] = received[keep]
    n = len(out["received_at"])
    out["millis"] = np.floor(out["timestamp"] * 1_000).astype(np.int64)
    out["noise"] = rng.integers(0, 62**4, n)
    out[SORT_KEY] = (out["millis"] - int(T0) * 1_000) * 62**4 + out["noise"]  # exact in int64, the id's text order
    dup = np.flatnonzero(rng.random(n) < 0.002)
    for col in out:
        out[col] = np.concatenate([out[col], out[col][dup]])
    out["received_at"][n:] = np.minimum(out["received_at"][n:] + rng.uniform(1, 120, len(dup)), T1)
    return out


def gen_product_events(scale: Scale, rng: np.random.Generator, leads: Leads, billing: Billing) -> Table:
    """Trials of product sign-ups (with activation for a share) and paying workspaces' usage, fading before churn,
    all drawn from one generator (the committed seeds; `EventPlan` draws big scales month by month)."""
    trial = _trial_events(rng, leads, billing)
    w = _usage_windows(scale, rng, billing)
    usage = _usage_events(scale, rng, billing, w, w["start"], w["end"])
    ev = _deliveries(rng, {col: np.concatenate([trial[col], usage[col]]) for col in trial})
    return {
        "id": base62_ids("evt_", [(ev["millis"], 7), (ev["noise"], 4)]),  # time-ordered, like ULIDs
        SORT_KEY: ev[SORT_KEY],
        "event": object_array(PRODUCT_EVENTS)[ev["event"]],
        "user_id": seq_ids("usr_", ev["ws"] * 1_000 + np.minimum(ev["user"], 999), 14),
        "account_id": billing.workspaces[ev["ws"]],
        "timestamp": ev["timestamp"],
        "received_at": ev["received_at"],
    }


def _month_of(t: np.ndarray) -> np.ndarray:
    """Calendar month of the history (0 = November 2024) of each timestamp, clipped to the history."""
    return np.clip(np.searchsorted(MONTH_STARTS, t, side="right") - 1, 0, len(MONTH_STARTS) - 2)


@dataclass
class EventPlan:
    """Product events of a big scale, drawn one calendar month at a time so memory stays bounded.

    The usage windows (a subscription's 30.44-day months) are cut at calendar-month boundaries; a Poisson count per
    piece adds up to the same distribution as one count per window, so the dynamics are the seeds' ones. Each month
    has its own generator spawned from the scale's seed: the output does not depend on how it is consumed."""

    scale: Scale
    billing: Billing
    trial: EventColumns  # sorted by calendar month
    trial_bounds: np.ndarray  # trial[trial_bounds[m]:trial_bounds[m + 1]] happen in month m
    pieces: dict[str, np.ndarray]  # usage windows cut at month boundaries, sorted by month
    piece_bounds: np.ndarray
    rngs: list[np.random.Generator]
    workspaces: pa.Array

    @property
    def n_months(self) -> int:
        return len(self.rngs)

    @property
    def expected_rows(self) -> int:
        p = self.pieces
        mean = p["tracked"] * self.scale.events_per_user_month * p["health"] * (p["hi"] - p["lo"]) / EVENT_MONTH
        return int(len(self.trial["timestamp"]) + mean.sum())

    def month(self, m: int) -> EventColumns:
        """The events that happened in calendar month m (a few are received in the next month)."""
        rng = self.rngs[m]
        p = {col: values[self.piece_bounds[m] : self.piece_bounds[m + 1]] for col, values in self.pieces.items()}
        usage = _usage_events(self.scale, rng, self.billing, p, p["lo"], p["hi"])
        trial = {col: values[self.trial_bounds[m] : self.trial_bounds[m + 1]] for col, values in self.trial.items()}
        return _deliveries(rng, {col: np.concatenate([trial[col], usage[col]]) for col in trial})

    def all(self) -> EventColumns:
        """Every month at once (for CSV and in-memory use; the Parquet writer goes month by month)."""
        months = [self.month(m) for m in range(self.n_months)]
        return {col: np.concatenate([part[col] for part in months]) for col in months[0]}


def plan_product_events(scale: Scale, rng: np.random.Generator, leads: Leads, billing: Billing) -> EventPlan:
    """Draw what is small (trials, usage windows) up front; leave the many usage events to `EventPlan.month`."""
    trial = _trial_events(rng, leads, billing)
    w = _usage_windows(scale, rng, billing)
    first = _month_of(w["start"])
    last = len(MONTH_STARTS) - 2
    bounds = MONTH_STARTS.copy()
    bounds[0], bounds[-1] = -np.inf, np.inf  # the first and last months take whatever lies beyond the history
    cuts = []  # a 30.44-day window overlaps at most three calendar months (January 31 -> March 2)
    for k in range(3):
        month = np.minimum(first + k, last)
        lo = np.maximum(w["start"], bounds[month])
        hi = np.minimum(w["end"], bounds[month + 1])
        keep = (first + k <= last) & (hi > lo)
        cuts.append((np.flatnonzero(keep), lo[keep], hi[keep], month[keep]))
    window = np.concatenate([c[0] for c in cuts])
    month_of_piece = np.concatenate([c[3] for c in cuts])
    order = np.argsort(month_of_piece, kind="stable")
    pieces = {col: w[col][window][order] for col in ("sub", "tracked", "health")}
    pieces["lo"] = np.concatenate([c[1] for c in cuts])[order]
    pieces["hi"] = np.concatenate([c[2] for c in cuts])[order]
    n_months = len(MONTH_STARTS) - 1
    trial_month = _month_of(trial["timestamp"])
    trial_order = np.argsort(trial_month, kind="stable")
    return EventPlan(
        scale=scale,
        billing=billing,
        trial={col: values[trial_order] for col, values in trial.items()},
        trial_bounds=np.searchsorted(trial_month[trial_order], np.arange(n_months + 1)),
        pieces=pieces,
        piece_bounds=np.searchsorted(month_of_piece[order], np.arange(n_months + 1)),
        rngs=rng.spawn(n_months),
        workspaces=pa.array(billing.workspaces, type=pa.string()),
    )


def event_arrow(ev: EventColumns, workspaces: pa.Array, order: np.ndarray | None = None) -> pa.Table:
    """Product events as the output table, built as Arrow arrays without Python strings (ids from byte matrices,
    names from the vocabulary, times from `calendar_text`), rows in `order` (default: primary-key order)."""
    if order is None:
        order = np.lexsort((ev["received_at"], ev[SORT_KEY]))
    ws = ev["ws"][order]
    columns = {
        "id": fixed_width_text(base62_matrix("evt_", [(ev["millis"][order], 7), (ev["noise"][order], 4)])),
        "event": pc.take(pa.array(PRODUCT_EVENTS), pa.array(ev["event"][order])),
        "user_id": fixed_width_text(digits_matrix("usr_", ws * 1_000 + np.minimum(ev["user"][order], 999), 14)),
        "account_id": pc.take(workspaces, pa.array(ws)),
        "timestamp": calendar_text(ev["timestamp"][order], TS),
        "received_at": calendar_text(ev["received_at"][order], TS),
    }
    names = output_tables()[EVENTS].names
    return pa.table([columns[name] for name in names], names=names)
