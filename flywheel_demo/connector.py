"""How a connector lands rows: sync times a little after each change, stale re-synced copies."""

from __future__ import annotations

import numpy as np

from flywheel_demo.calendar import DAY, HOUR, MINUTE, SYNC_END, T1
from flywheel_demo.contract import Table


def sync_times(rng: np.random.Generator, last_change: np.ndarray, late_share: float = 0.005) -> np.ndarray:
    """`_fivetran_synced`: a little after the last change; a few rows land days late; never after the last sync."""
    n = len(last_change)
    last_change = np.minimum(last_change, T1)
    delay = 2 * MINUTE + rng.exponential(40 * MINUTE, n)
    late = rng.random(n) < late_share
    delay[late] += rng.uniform(1.0, 6.0, int(late.sum())) * DAY
    synced = last_change + delay
    over = synced > SYNC_END
    synced[over] = last_change[over] + (SYNC_END - last_change[over]) * rng.uniform(0.3, 1.0, int(over.sum()))
    return synced


def stale_duplicates(
    rng: np.random.Generator, table: Table, share: float, eligible: np.ndarray | None = None
) -> tuple[Table, np.ndarray]:
    """Append older copies of a few rows (same id, earlier `_fivetran_synced`), as re-syncs leave behind.

    Returns the table and the positions of the appended rows' originals, so callers can make the copies stale. The
    columns move from `table` into the returned table (`table` is left empty), so a big table is never held twice.
    """
    n = len(table["id"])
    pool = np.arange(n) if eligible is None else np.flatnonzero(eligible)
    k = min(len(pool), round(share * n))
    if k == 0:
        return table, np.empty(0, dtype=np.int64)
    rows = np.sort(rng.choice(pool, size=k, replace=False))
    created = table.get("created_date", table.get("created"))
    floor = created[rows] if created is not None else None
    out = {}
    for col in list(table):
        values = table.pop(col)
        out[col] = np.concatenate([values, values[rows]])
        del values
    synced = out["_fivetran_synced"]
    if floor is None:
        floor = synced[n:] - 30 * DAY
    back = rng.uniform(1 * HOUR, 20 * DAY, k)
    synced[n:] = np.maximum(synced[n:] - back, floor + (synced[n:] - floor) * 0.25)
    return out, rows
