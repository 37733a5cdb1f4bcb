"""Calendar and scales: a fixed "today" so the output never depends on the wall clock."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MINUTE = 60.0
HOUR = 3_600.0
DAY = 86_400.0
START = np.datetime64("2024-11-01T00:00:00", "s")
TODAY = np.datetime64("2026-11-01T00:00:00", "s")  # history runs through 2026-10-31
T0 = float(START.astype(np.int64))
T1 = float(TODAY.astype(np.int64))
N_DAYS = int((T1 - T0) // DAY)
SYNC_END = T1 + 3 * HOUR  # the last connector run finishes a little after midnight
PRE_HISTORY = float(np.datetime64("2023-01-02T00:00:00", "s").astype(np.int64))
DRIFT_AT = float(np.datetime64("2026-03-01T00:00:00", "s").astype(np.int64))  # MQL threshold lowered
PRICE_CHANGE_AT = float(np.datetime64("2025-09-01T00:00:00", "s").astype(np.int64))  # Growth monthly repriced
FAR_FUTURE = float(np.datetime64("9999-12-31T23:59:59", "s").astype(np.int64))


@dataclass(frozen=True)
class Scale:
    """Size knobs of a generated data set; everything else follows from the simulated funnel."""

    name: str
    n_users: int
    n_accounts: int
    n_leads: int
    engagements_per_lead: float  # mean marketing engagements of a lead that never became MQL
    tracked_seat_share: float  # share of paid seats that show up as tracked product users
    events_per_user_month: float  # product events per tracked active user per month
    monthly_events: bool = True  # draw product events month by month (`EventPlan`); False: the seeds' single draw


SCALES: dict[str, Scale] = {
    "tiny": Scale("tiny", n_users=14, n_accounts=110, n_leads=200, engagements_per_lead=0.15,
                  tracked_seat_share=0.02, events_per_user_month=1.0),
    "small": Scale("small", n_users=40, n_accounts=2_900, n_leads=6_800, engagements_per_lead=0.15,
                   tracked_seat_share=0.02, events_per_user_month=1.0, monthly_events=False),
    "medium": Scale("medium", n_users=400, n_accounts=430_000, n_leads=1_000_000, engagements_per_lead=0.15,
                    tracked_seat_share=0.2, events_per_user_month=4.8),
    "large": Scale("large", n_users=2_000, n_accounts=4_300_000, n_leads=10_000_000, engagements_per_lead=0.15,
                   tracked_seat_share=0.2, events_per_user_month=4.8),
}  # fmt: skip


def epoch(day: str) -> float:
    """'YYYY-MM-DD' -> epoch seconds."""
    return float(np.datetime64(day, "s").astype(np.int64))


def day_start(t: np.ndarray) -> np.ndarray:
    """Midnight of the day of each timestamp."""
    return np.floor(t / DAY) * DAY


def add_months(t: np.ndarray, months: np.ndarray | int) -> np.ndarray:
    """Calendar-month arithmetic as in Stripe billing periods (day of month clipped to the month's end)."""
    seconds = np.asarray(t, dtype=np.float64).astype(np.int64).astype("datetime64[s]")
    day = seconds.astype("datetime64[D]")
    month = day.astype("datetime64[M]")
    day_of_month = (day - month.astype("datetime64[D]")).astype(np.int64)
    time_of_day = (seconds - day.astype("datetime64[s]")).astype(np.int64)
    target = month + np.asarray(months, dtype=np.int64).astype("timedelta64[M]")
    first = target.astype("datetime64[D]")
    length = ((target + np.timedelta64(1, "M")).astype("datetime64[D]") - first).astype(np.int64)
    out_day = first.astype(np.int64) + np.minimum(day_of_month, length - 1)
    return (out_day * 86_400 + time_of_day).astype(np.float64)


def months_between(a: np.ndarray, b: float | np.ndarray) -> np.ndarray:
    """Whole calendar months m with add_months(a, m) <= b."""
    month_a = np.asarray(a).astype(np.int64).astype("datetime64[s]").astype("datetime64[M]").astype(np.int64)
    b_arr = np.broadcast_to(np.asarray(b, dtype=np.float64), np.shape(a))
    month_b = b_arr.astype(np.int64).astype("datetime64[s]").astype("datetime64[M]").astype(np.int64)
    diff = month_b - month_a
    return diff - (add_months(a, diff) > b_arr)


def day_weights(growth: float, weekend: float = 0.3) -> np.ndarray:
    """Probability of each history day: growth trend, quiet weekends, a December and August dip."""
    offset = np.arange(N_DAYS)
    days = START.astype("datetime64[D]") + offset
    weekday = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    month = days.astype("datetime64[M]").astype(np.int64) % 12  # January = 0
    w = (1.0 + growth * offset / N_DAYS) * np.where(weekday >= 5, weekend, 1.0)
    w *= np.where(month == 11, 0.8, 1.0) * np.where(month == 7, 0.85, 1.0)
    return w / w.sum()


def draw_time_of_day(rng: np.random.Generator, n: int) -> np.ndarray:
    """Seconds after midnight UTC, mostly North-American business hours."""
    hours = np.where(rng.random(n) < 0.8, rng.normal(17.0, 2.6, n), rng.uniform(0.0, 24.0, n)) % 24.0
    return hours * HOUR


def sample_times(rng: np.random.Generator, n: int, growth: float) -> np.ndarray:
    """Timestamps over the history following `day_weights`."""
    day = rng.choice(N_DAYS, size=n, p=day_weights(growth))
    return T0 + day * DAY + draw_time_of_day(rng, n)


def _happened(t: np.ndarray) -> np.ndarray:
    """True where a timestamp exists and is not in the future."""
    return np.asarray(t) <= T1


def only_past(t: np.ndarray) -> np.ndarray:
    """Null out timestamps after today."""
    return np.where(_happened(t), t, np.nan)


MONTH_STARTS = (
    np.arange(START.astype("datetime64[M]"), TODAY.astype("datetime64[M]") + 1)
    .astype("datetime64[s]")
    .astype(np.int64)
    .astype(np.float64)
)  # calendar months of the history, and the first instant after it
