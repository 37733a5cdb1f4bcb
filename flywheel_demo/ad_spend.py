"""Marketing ad spend: daily spend, impressions and clicks per platform campaign."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from flywheel_demo.calendar import DAY, HOUR, N_DAYS, T0, T1, Scale, epoch
from flywheel_demo.connector import sync_times
from flywheel_demo.contract import SORT_KEY, Table
from flywheel_demo.text import object_array, seq_ids
from flywheel_demo.vocabularies import CAMPAIGNS, PLATFORM_CPM, PLATFORM_CTR, PLATFORM_WEEKEND


@dataclass
class AdSpend:
    """Daily spend per campaign (dollars) and the ad_spend table."""

    daily: np.ndarray  # (N_DAYS, n_campaigns)
    table: Table


def gen_ad_spend(scale: Scale, rng: np.random.Generator) -> AdSpend:
    """Daily spend, impressions and clicks per platform campaign; budgets scale with the lead volume."""
    factor = scale.n_leads / 7_000
    offset = np.arange(N_DAYS)
    days = T0 + offset * DAY
    weekday = ((days // DAY).astype(np.int64) + 3) % 7
    daily = np.zeros((N_DAYS, len(CAMPAIGNS)))
    for c, (network, _, _, _, _, _, first, last, budget, _) in enumerate(CAMPAIGNS):
        active = (days >= epoch(first)) & (days <= (epoch(last) if last else T1))
        spend = budget * factor * (1.0 + 0.5 * offset / N_DAYS) * rng.lognormal(0.0, 0.15, N_DAYS)
        spend *= np.where(weekday >= 5, PLATFORM_WEEKEND[network], 1.0)
        paused = rng.random(N_DAYS) < 0.02
        daily[:, c] = np.where(active & ~paused, np.round(spend, 2), 0.0)
    day_idx, camp = np.nonzero(daily)
    spend = daily[day_idx, camp]
    platform = object_array([c[0] for c in CAMPAIGNS])[camp]
    cpm = np.array([PLATFORM_CPM[c[0]] for c in CAMPAIGNS])[camp]
    ctr = np.array([PLATFORM_CTR[c[0]] for c in CAMPAIGNS])[camp]
    impressions = np.maximum(np.round(spend / cpm * 1_000 * rng.lognormal(0.0, 0.1, len(spend))), 1).astype(np.int64)
    clicks = rng.binomial(impressions, np.clip(ctr * rng.lognormal(0.0, 0.15, len(spend)), 0, 1))
    date = days[day_idx]
    table: Table = {
        "date": date,
        SORT_KEY: day_idx * len(CAMPAIGNS) + camp,  # campaigns are listed in (platform, campaign_id) order
        "platform": platform,
        "campaign_id": object_array([c[1] for c in CAMPAIGNS])[camp],
        "campaign_name": object_array([c[2] for c in CAMPAIGNS])[camp],
        "utm_source": object_array([c[3] for c in CAMPAIGNS])[camp],
        "utm_medium": object_array([c[4] for c in CAMPAIGNS])[camp],
        "utm_campaign": object_array([c[5] for c in CAMPAIGNS])[camp],
        "spend": spend,
        "currency": object_array(["USD"] * len(spend)),
        "impressions": impressions.astype(np.float64),
        "clicks": clicks.astype(np.float64),
        "_fivetran_synced": sync_times(rng, date + DAY + rng.uniform(0.5 * HOUR, 2.5 * HOUR, len(spend)), 0.0),
    }
    return AdSpend(daily, table)


def marketing_campaign_ids(kind: str, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Salesforce campaign ids and utm_campaign values of the monthly webinars and quarterly events."""
    month = ((t - T0) // (30.44 * DAY)).astype(np.int64)
    date = np.datetime_as_string(t.astype(np.int64).astype("datetime64[s]").astype("datetime64[M]")).astype(object)
    if kind == "webinar":
        return seq_ids("7015e", 1_000 + month), "webinar_" + np.char.replace(date.astype(str), "-", "_").astype(object)
    quarter = month // 3
    return seq_ids("7015e", 2_000 + quarter), "event_" + date.astype(str).astype(object)
