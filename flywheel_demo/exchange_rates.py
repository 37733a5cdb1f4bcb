"""Finance exchange rates: a daily rate of each billing currency into USD, business days only.

The rates draw from a stream of their own (`np.random.default_rng([seed, STREAM])`), so adding them leaves every
other table's draws as they were. Rates are published on weekdays only, so a month whose first day falls on a
weekend has no rate that day: the `month_start` rule then takes the month before's last rate (see definitions.yml).
"""

from __future__ import annotations

import numpy as np

from flywheel_demo.calendar import DAY, HOUR, T1, epoch
from flywheel_demo.contract import Table
from flywheel_demo.text import object_array

STREAM = 0xF1  # the rates' own random stream, beside the simulation's
# USD per unit of each currency at the start of the history, and the daily volatility of its log rate
STARTING_RATES = {"EUR": 1.08, "GBP": 1.27}
# the feed starts a month before the first subscription of the history (2023-01), so every month billed has a rate
FIRST_DAY = epoch("2022-12-01")
DAILY_VOLATILITY = 0.004


def gen_exchange_rates(seed: int) -> Table:
    """One row per weekday and currency: a random walk of the log rate, rounded to six decimals as feeds publish it.
    Each day's rate is synced that evening, before the last connector run, so the data's as-of time is unchanged."""
    rng = np.random.default_rng([seed, STREAM])
    days = FIRST_DAY + np.arange(int((T1 - FIRST_DAY) // DAY)) * DAY
    weekday = ((days // DAY).astype(np.int64) + 3) % 7  # 0 = Monday (1970-01-01 was a Thursday)
    business_days = days[weekday < 5]
    dates, currencies, rates = [], [], []
    for currency, start in STARTING_RATES.items():
        walk = np.cumsum(rng.normal(0.0, DAILY_VOLATILITY, len(business_days)))
        dates.append(business_days)
        currencies.append(np.full(len(business_days), currency, dtype=object))
        rates.append(np.round(start * np.exp(walk), 6))
    date = np.concatenate(dates)
    return {
        "date": date,
        "currency": object_array(list(np.concatenate(currencies))),
        "rate": np.char.mod("%.6f", np.concatenate(rates)),  # as text: the writer rounds numbers to two decimals
        "_fivetran_synced": date + 18 * HOUR,
    }
