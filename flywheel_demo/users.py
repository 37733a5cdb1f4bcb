"""CRM users: reps and managers by department and segment, and who owns a record at a given time."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from flywheel_demo.calendar import DAY, HOUR, PRE_HISTORY, T0, T1, Scale
from flywheel_demo.connector import sync_times
from flywheel_demo.contract import SORT_KEY, Table
from flywheel_demo.sampling import draw_names, lookup_or_null, pick
from flywheel_demo.text import emails, join_bytes, name_text, object_array, seq_ids
from flywheel_demo.vocabularies import AE, CSM, DEPARTMENTS, SDR, SEGMENTS


@dataclass
class Users:
    """CRM users (reps and managers) and what the owner-picking needs to know about them."""

    table: Table
    ids: np.ndarray
    dept: np.ndarray
    division: np.ndarray
    start: np.ndarray
    end: np.ndarray
    is_manager: np.ndarray
    fallback: dict[tuple[int, int], int]


def gen_users(scale: Scale, rng: np.random.Generator) -> Users:
    """Sales development reps, account executives and CSMs by segment, their managers and a couple of leavers."""
    reps = max(scale.n_users - 6, 8)
    n_sdr, n_cs = max(3, round(0.34 * reps)), max(2, round(0.2 * reps))
    n_ae = max(3, reps - n_sdr - n_cs)
    dept = np.array([AE, SDR, AE, AE, AE, CSM] + [SDR] * n_sdr + [AE] * n_ae + [CSM] * n_cs)
    ae_division = np.concatenate([[0, 1, 2], pick(rng, [0.4, 0.35, 0.25], n_ae - 3)])
    division = np.concatenate([[2, 1, 0, 1, 2, 2], np.arange(n_sdr) % 3, ae_division, np.arange(n_cs) % 3])
    n = len(dept)
    is_manager = np.arange(n) < 6
    manager = np.full(n, -1)
    manager[1:6] = 0
    manager[6 : 6 + n_sdr] = 1
    manager[6 + n_sdr : 6 + n_sdr + n_ae] = 2 + ae_division
    manager[6 + n_sdr + n_ae :] = 5

    senior = rng.random(n) < 0.3
    titles = np.empty(n, dtype=object)
    titles[:6] = [
        "VP of Sales",
        "Sales Development Manager",
        "Sales Manager, SMB",
        "Sales Manager, Mid-Market",
        "Director of Enterprise Sales",
        "Director of Customer Success",
    ]
    rep_titles = {
        SDR: ["Sales Development Representative"] * 3,
        AE: ["Account Executive, SMB", "Account Executive, Mid-Market", "Enterprise Account Executive"],
        CSM: ["Customer Success Manager"] * 3,
    }
    for i in range(6, n):
        title = rep_titles[int(dept[i])][int(division[i])]
        titles[i] = ("Senior " + title) if senior[i] and not title.startswith("Enterprise") else title

    start = np.where(
        rng.random(n) < 0.78,
        rng.uniform(PRE_HISTORY, T0 - 7 * DAY, n),
        T0 + rng.uniform(0.05, 0.6, n) * (T1 - T0),
    )
    start[:6] = rng.uniform(PRE_HISTORY - 120 * DAY, PRE_HISTORY, 6)
    start = np.floor(start / DAY) * DAY + rng.uniform(14 * HOUR, 22 * HOUR, n)
    end = np.full(n, np.inf)
    leavers = rng.choice(np.arange(6, n), size=max(1, round(0.05 * (n - 6))), replace=False)
    lo = np.maximum(start[leavers], T0) + 90 * DAY
    end[leavers] = lo + rng.uniform(0.0, 1.0, len(leavers)) * np.maximum(T1 - 60 * DAY - lo, DAY)

    first_code, last_code = draw_names(rng, n)
    first, last = name_text(first_code, last_code)
    rank = np.argsort(np.argsort(start, kind="stable"), kind="stable")
    ids = seq_ids("005", 5_000 + rank)
    active = ~np.isfinite(end)
    last_change = np.where(active, start, end)
    table: Table = {
        "id": ids,
        SORT_KEY: rank,
        "name": join_bytes(first, b" ", last),
        "first_name": first,
        "last_name": last,
        "email": emails(first_code, last_code, b"example.com"),
        "title": titles,
        "department": object_array(DEPARTMENTS)[dept],
        "division": object_array(SEGMENTS)[division],
        "manager_id": lookup_or_null(ids, manager),
        "is_active": active,
        "created_date": start,
        "_fivetran_synced": sync_times(rng, last_change),
        "_fivetran_deleted": np.zeros(n, dtype=bool),
    }
    fallback = {(SDR, d): 1 for d in range(3)} | {(AE, d): 2 + d for d in range(3)} | {(CSM, d): 5 for d in range(3)}
    return Users(table, ids, dept, division, start, end, is_manager, fallback)


def pick_owner(rng: np.random.Generator, users: Users, dept: int, division: np.ndarray, t: np.ndarray) -> np.ndarray:
    """A rep of the department covering each record's segment, employed at time t (else the team's manager)."""
    t = np.maximum(t, T0)
    out = np.empty(len(t), dtype=np.int64)
    for d in range(3):
        rows = np.flatnonzero(division == d)
        pool = np.flatnonzero((users.dept == dept) & (users.division == d) & ~users.is_manager)
        choice = np.full(len(rows), users.fallback[(dept, d)])
        todo = np.arange(len(rows))
        for _ in range(6 if len(pool) else 0):
            cand = pool[rng.integers(0, len(pool), len(todo))]
            ok = (users.start[cand] <= t[rows[todo]]) & (t[rows[todo]] < users.end[cand])
            choice[todo[ok]] = cand[ok]
            todo = todo[~ok]
            if len(todo) == 0:
                break
        out[rows] = choice
    return out
