"""Activities: tasks (calls, e-mails) and events (meetings)."""

from __future__ import annotations

import numpy as np

from flywheel_demo.accounts import Accounts
from flywheel_demo.calendar import DAY, HOUR, MINUTE, T1, day_start
from flywheel_demo.connector import stale_duplicates, sync_times
from flywheel_demo.contract import SORT_KEY, Table
from flywheel_demo.leads import Leads
from flywheel_demo.opportunities import Opportunities
from flywheel_demo.sampling import concat, group_offsets, lookup_or_null, null_some
from flywheel_demo.text import object_array, seq_ids
from flywheel_demo.users import Users
from flywheel_demo.vocabularies import (
    CALL_NOTES,
    CALL_SUBJECTS,
    EMAIL_NOTES,
    EMAIL_SUBJECTS,
    EXPANSION,
    NEW_BUSINESS,
    OUTBOUND,
    RENEWAL,
)


def gen_tasks(
    rng: np.random.Generator,
    users: Users,
    leads: Leads,
    lead_ids: np.ndarray,
    opps: Opportunities,
    contact_ids: np.ndarray,
    accounts: Accounts,
) -> Table:
    """Calls and e-mails: the first touch of a lead, follow-ups and sequences, and deal follow-ups."""
    # Lead touches.
    touched = np.flatnonzero(np.isfinite(leads.touch))
    outbound = leads.source[touched] == OUTBOUND
    n_follow = np.where(outbound, 1 + rng.poisson(0.4, len(touched)), rng.poisson(0.2, len(touched)))
    parent, rank = group_offsets(n_follow)
    follow_lead = touched[parent]
    gap_days = (rank + rng.uniform(0.3, 1.0, len(parent))) * rng.uniform(1, 4, len(parent))
    follow_t = leads.touch[follow_lead] + gap_days * DAY
    stop = np.fmin(np.fmin(leads.accepted, leads.rejected), leads.converted)[follow_lead]
    ok = (follow_t <= T1) & ~(follow_t > stop)
    l_lead = np.concatenate([touched, follow_lead[ok]])
    l_time = np.concatenate([leads.touch[touched], follow_t[ok]])
    l_email = np.concatenate([rng.random(len(touched)) < np.where(outbound, 0.7, 0.4), rng.random(int(ok.sum())) < 0.6])
    # Deal follow-ups by the deal owner, and one open next step on every open deal.
    d = opps.deals
    end = np.minimum(np.where(d.close <= T1, d.close, T1), T1)
    n_task = rng.poisson(0.15 + 0.2 * np.minimum(d.reach, 4))
    o_parent, _ = group_offsets(n_task)
    o_time = d.created[o_parent] + rng.uniform(0, 1, len(o_parent)) * (end - d.created)[o_parent]
    open_deal = np.flatnonzero(d.close > T1)
    o_parent = np.concatenate([o_parent, open_deal])
    o_time = np.concatenate([o_time, np.maximum(T1 - rng.uniform(0, 10 * DAY, len(open_deal)), d.created[open_deal])])
    o_open = np.arange(len(o_parent)) >= len(o_parent) - len(open_deal)
    o_email = rng.random(len(o_parent)) < 0.55

    n_l, n_o = len(l_lead), len(o_parent)
    created = np.concatenate([l_time, o_time])
    email = np.concatenate([l_email, o_email])
    is_open = np.concatenate([np.zeros(n_l, dtype=bool), o_open])
    n = n_l + n_o
    subject = np.where(
        email, object_array(EMAIL_SUBJECTS)[rng.integers(0, 3, n)], object_array(CALL_SUBJECTS)[rng.integers(0, 3, n)]
    )
    note = np.where(
        email,
        object_array(EMAIL_NOTES)[rng.integers(0, len(EMAIL_NOTES), n)],
        object_array(CALL_NOTES)[rng.integers(0, len(CALL_NOTES), n)],
    )
    completed = np.where(is_open, np.nan, created + np.where(email, 0.0, rng.uniform(MINUTE, 10 * MINUTE, n)))
    activity = np.where(is_open, day_start(T1 + rng.uniform(1, 14, n) * DAY), day_start(created))
    kind = np.where(email, "Email", "Call").astype(object)
    contact = d.contact[o_parent]
    order = np.argsort(created, kind="stable")
    rank_ = np.empty(n, dtype=np.int64)
    rank_[order] = np.arange(n)
    table: Table = {
        "id": seq_ids("00T", 50_000 + rank_),
        SORT_KEY: rank_,
        "who_id": np.concatenate([lead_ids[l_lead], lookup_or_null(contact_ids, contact)]),
        "what_id": np.concatenate([np.full(n_l, None, dtype=object), opps.ids[o_parent]]),
        "account_id": np.concatenate([np.full(n_l, None, dtype=object), accounts.ids[d.account[o_parent]]]),
        "owner_id": users.ids[np.concatenate([leads.owner[l_lead], d.owner[o_parent]])],
        "subject": subject,
        "description": null_some(rng, note, 0.55),
        "type": kind,
        "task_subtype": kind.copy(),
        "status": np.where(is_open, "Not Started", "Completed").astype(object),
        "activity_date": activity,
        "created_date": created,
        "completed_date_time": completed,
        "is_closed": ~is_open,
        "is_deleted": rng.random(n) < 0.004,
        "_fivetran_synced": sync_times(rng, np.fmax(created, completed)),
        "_fivetran_deleted": np.zeros(n, dtype=bool),
    }
    table, _ = stale_duplicates(rng, table, 0.003)
    return table


MEETINGS = {  # (deal kind, stage) -> subject, minutes
    (NEW_BUSINESS, 1): ("Discovery call", 30), (NEW_BUSINESS, 2): ("Product demo", 60),
    (NEW_BUSINESS, 3): ("Proposal review", 45), (EXPANSION, 1): ("Expansion discovery", 30),
    (EXPANSION, 2): ("Feature demo", 45), (RENEWAL, 1): ("Renewal kickoff", 30), (RENEWAL, 3): ("Renewal review", 45),
}  # fmt: skip


def gen_events(
    rng: np.random.Generator, users: Users, opps: Opportunities, contact_ids: np.ndarray, accounts: Accounts
) -> Table:
    """Meetings (discovery, demo, proposal) held when a deal enters those stages; upcoming ones included."""
    d = opps.deals
    parts = []
    for (kind, stage), (title, length) in MEETINGS.items():
        rows = np.flatnonzero((d.kind == kind) & np.isfinite(d.entries[:, stage]))
        if stage == 3 and kind == NEW_BUSINESS:
            rows = rows[accounts.firmo["segment"][d.account[rows]] == 2]
        slot = rng.integers(0, 16, len(rows)) * 30 * MINUTE  # half-hour slots, 14:00-22:00 UTC
        start = day_start(d.entries[rows, stage]) + 14 * HOUR + slot
        start = np.maximum(start, np.ceil(d.created[rows] / (30 * MINUTE)) * 30 * MINUTE)
        created = np.maximum(start - rng.uniform(1 * DAY, 6 * DAY, len(rows)), d.created[rows])
        keep = (created <= T1) & ~(start > d.close[rows])
        parts.append((rows[keep], start[keep], created[keep], title, length))
    opp = concat([p[0] for p in parts]).astype(np.int64)
    start = concat([p[1] for p in parts])
    created = concat([p[2] for p in parts])
    subject = concat([object_array([p[3]] * len(p[0])) for p in parts])
    minutes = concat([np.full(len(p[0]), p[4], dtype=np.float64) for p in parts])
    n = len(opp)
    order = np.argsort(created, kind="stable")
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    contact = d.contact[opp]
    notes = object_array(["Agenda: goals, current process, timeline.", "Bring solutions engineer.", None, None, None])
    table: Table = {
        "id": seq_ids("00U", 60_000 + rank),
        SORT_KEY: rank,
        "who_id": lookup_or_null(contact_ids, contact),
        "what_id": opps.ids[opp],
        "account_id": accounts.ids[d.account[opp]],
        "owner_id": users.ids[d.owner[opp]],
        "subject": subject,
        "description": notes[rng.integers(0, len(notes), n)],
        "type": object_array(["Meeting"] * n),
        "start_date_time": start,
        "end_date_time": start + minutes * MINUTE,
        "duration_in_minutes": minutes,
        "created_date": created,
        "is_deleted": rng.random(n) < 0.003,
        "_fivetran_synced": sync_times(rng, created),
        "_fivetran_deleted": np.zeros(n, dtype=bool),
    }
    return table
