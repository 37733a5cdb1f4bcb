"""Monthly exchange rates worked out by hand from a small rate feed, under each rule of definitions.fx.rate_rule.

The feed (rate = USD per unit of the currency; the reporting currency is USD):
- EUR: 2026-01-01 1.10, 01-15 1.12, 01-30 1.14 (no rate on 01-31), 02-02 1.16 (none on 02-01), 03-01 1.20,
  03-31 1.22, then nothing.
- GBP, written `gbp`: 02-01 1.30, 02-28 1.26.
- USD: 01-01 0.90, which the model ignores (the reporting currency converts at 1).
The last sync is in May 2026, so the months run to 2026-05.

month_start (the first day's rate, else the latest of the month before, else none):
  EUR Jan 1.10 (01-01), Feb 1.14 (02-01 has none: 01-30), Mar 1.20 (03-01), Apr 1.22 (04-01 has none: 03-31),
  May none (no rate on 05-01 nor in April). GBP Feb 1.30 (02-01), Mar 1.26 (02-28), Apr none.
month_average: EUR Jan (1.10 + 1.12 + 1.14) / 3 = 1.12, Feb 1.16, Mar (1.20 + 1.22) / 2 = 1.21; GBP Feb 1.28.
budget (EUR 1.08, GBP 1.27): those rates in every month of the horizon, whatever the feed says.
USD: 1 in every month from the horizon's earliest month (2000-01) to 2026-05: 26 x 12 + 5 = 317 months.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.spec.settings import Settings
from tests.conftest import materialize, settings_for
from tests.fixtures import definitions_with, query, write_raw

SYNCED = "2026-05-20 06:00:00"


def rate(day: str, currency: str, value: float) -> dict[str, object]:
    return {"date": day, "currency": currency, "rate": value, "_fivetran_synced": SYNCED}


RATES = [
    rate("2026-01-01", "EUR", 1.10),
    rate("2026-01-15", "EUR", 1.12),
    rate("2026-01-30", "EUR", 1.14),
    rate("2026-02-02", "EUR", 1.16),
    rate("2026-03-01", "EUR", 1.20),
    rate("2026-03-31", "EUR", 1.22),
    rate("2026-02-01", "gbp", 1.30),
    rate("2026-02-28", "gbp", 1.26),
    rate("2026-01-01", "USD", 0.90),
]
TABLES = {"finance.exchange_rate": RATES}
SELECTION = '+key:"intermediate/int_exchange_rates_monthly"'


def build(tmp_path: Path, rule: str) -> Settings:
    definitions = definitions_with(tmp_path, fx={"rate_rule": rule})
    settings = settings_for(tmp_path, write_raw(tmp_path / "raw", TABLES), definitions_file=definitions)
    result = materialize(settings, SELECTION)
    assert result.success
    assert [check.check_name for check in result.get_asset_check_evaluations() if not check.passed] == []
    return settings


def foreign_rates(settings: Settings) -> dict[tuple[str, str], float]:
    frame = query(
        settings,
        "select currency, strftime(rate_month, '%Y-%m') as month, rate_to_reporting "
        "from intermediate.int_exchange_rates_monthly where currency <> 'USD' and rate_month >= date '2026-01-01'",
    )
    return {(row.currency, row.month): round(row.rate_to_reporting, 6) for row in frame.itertuples()}


@pytest.fixture(scope="module")
def month_start(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return build(tmp_path_factory.mktemp("month_start"), "month_start")


def test_month_start_takes_the_first_days_rate_else_the_last_of_the_month_before(month_start: Settings) -> None:
    assert foreign_rates(month_start) == {
        ("EUR", "2026-01"): 1.10,
        ("EUR", "2026-02"): 1.14,
        ("EUR", "2026-03"): 1.20,
        ("EUR", "2026-04"): 1.22,
        ("GBP", "2026-02"): 1.30,
        ("GBP", "2026-03"): 1.26,
    }


def test_the_reporting_currency_converts_at_one_in_every_month(month_start: Settings) -> None:
    usd = query(
        month_start,
        "select count(*) as months, min(rate_month) as first, max(rate_month) as last, "
        "min(rate_to_reporting) as low, max(rate_to_reporting) as high "
        "from intermediate.int_exchange_rates_monthly where currency = 'USD'",
    ).iloc[0]
    assert (usd.months, str(usd["first"])[:10], str(usd["last"])[:10]) == (317, "2000-01-01", "2026-05-01")
    assert usd.low == usd.high == 1.0


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (
            "month_average",
            {("EUR", "2026-01"): 1.12, ("EUR", "2026-02"): 1.16, ("EUR", "2026-03"): 1.21, ("GBP", "2026-02"): 1.28},
        ),
        (
            "budget",
            {
                **{("EUR", f"2026-{month:02d}"): 1.08 for month in range(1, 6)},
                **{("GBP", f"2026-{month:02d}"): 1.27 for month in range(1, 6)},
            },
        ),
    ],
)
def test_the_other_rules(tmp_path: Path, rule: str, expected: dict[tuple[str, str], float]) -> None:
    assert foreign_rates(build(tmp_path, rule)) == expected
