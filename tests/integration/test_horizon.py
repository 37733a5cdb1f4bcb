"""The data horizon: a date outside it is quarantined with its rule and key, and the marts end at the as-of month.

Worked by hand from definitions.yml (`data_horizon`: earliest 2000-01-01, clock skew 24 hours, scheduled dates up to
1830 days ahead) on the four hand-worked Stripe customers of test_mrr_and_retention, plus faults:

- The latest connector sync in the files is 2026-03-05 12:00:00 (sub_C2's `_fivetran_synced`; the engagements were
  synced at 11:00); a sync typed as 2099-01-01 is later than the clock plus the skew and does not count. The files
  without sync times (the other Stripe tables, ad spend) vouch for their own latest dates, all earlier. So the
  as-of time is 2026-03-05 12:00:00, the
  latest allowed time 2026-03-06 12:00:00, the latest scheduled date 2031-03-09 12:00:00 (2026-03-05 + 1830 days).
- sub_X was cancelled "2099-01-01": quarantined as canceled_at_is_outside_horizon (its 2099 sync is later in the
  column order), and its item, whose subscription is gone, carries no MRR.
- sub_C2's current period ends 2027-03-05: a scheduled date within 1830 days, kept.
- ad spend dated 1900-01-01: quarantined as date_is_outside_horizon; the one of 2026-03-01 is kept.
- engagement e1 at 2026-03-06 08:00 (within the skew) is kept; e2 at 2026-03-08 09:00 is quarantined as
  occurred_at_is_outside_horizon.
- The MRR months run 2025-01 .. 2026-03, as without the faults: the 2099 cancellation does not stretch them.

With FLYWHEEL_AS_OF=2026-02-28 the as-of time is the end of that day, 2026-02-28 23:59:59, and the latest allowed
time 2026-03-01 23:59:59: sub_C2 (current period started 2026-03-05) is quarantined as
current_period_start_is_outside_horizon, and the MRR months end at 2026-02, the as-of month.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest

from pipelines.spec.settings import Settings
from tests.conftest import materialize, settings_for
from tests.fixtures import query, write_raw
from tests.integration.test_mrr_and_retention import SELECTION, TABLES, item, subscription


def _subscriptions() -> list[dict]:
    """The hand-worked subscriptions with sub_C2's sync and scheduled period end, and sub_X cancelled in 2099."""
    rows = [dict(row) for row in TABLES["stripe.subscription"]]
    for row in rows:
        if row["id"] == "sub_C2":
            row.update(_fivetran_synced="2026-03-05 12:00:00", current_period_end="2027-03-05 10:00:00")
    cancelled = subscription("sub_X", "cus_C1", "canceled", "2025-06-01 10:00:00", "2025-06-01 10:00:00")
    cancelled.update(canceled_at="2099-01-01 00:00:00", _fivetran_synced="2099-01-01 00:00:00")
    return [*rows, cancelled]


# The marketing tool's sync; an export without sync times would vouch for its own dates instead (see horizon.py).
SYNCED = {"_fivetran_synced": "2026-03-05 11:00:00"}

FAULTY = {
    **TABLES,
    "stripe.subscription": _subscriptions(),
    "stripe.subscription_item": [
        *TABLES["stripe.subscription_item"],
        item("si_X", "sub_X", "price_M", 9, "2025-06-01"),
    ],
    "marketing.ad_spend": [
        {"date": "1900-01-01", "platform": "google", "campaign_id": "c1", "spend": 10},
        {"date": "2026-03-01", "platform": "google", "campaign_id": "c1", "spend": 20},
    ],
    "marketing.engagements": [
        {"id": "e1", "activity_type": "web_visit", "occurred_at": "2026-03-06 08:00:00", **SYNCED},
        {"id": "e2", "activity_type": "web_visit", "occurred_at": "2026-03-08 09:00:00", **SYNCED},
    ],
}

RAW_MARKETING = ' or key:"marketing/ad_spend" or key:"marketing/engagements"'


def _build(tmp_path: Path, **overrides: object) -> Settings:
    settings = settings_for(tmp_path, write_raw(tmp_path / "raw", FAULTY), **overrides)
    result = materialize(settings, SELECTION + RAW_MARKETING)
    assert result.success
    return settings


@pytest.fixture(scope="module")
def from_sync(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    yield _build(tmp_path_factory.mktemp("horizon_sync"))


@pytest.fixture(scope="module")
def from_setting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    yield _build(tmp_path_factory.mktemp("horizon_setting"), as_of="2026-02-28")


def _quarantined(settings: Settings) -> set[tuple[str, str, str]]:
    rows = query(settings, "select source_table, record_key, rule from quarantine.rejected_rows")
    return {(row.source_table, row.record_key, row.rule) for row in rows.itertuples()}


def test_the_as_of_time_is_the_latest_sync_no_later_than_the_clock(from_sync: Settings) -> None:
    horizon = query(from_sync, "select * from definitions.data_horizon").iloc[0]
    assert horizon.as_of_at == datetime(2026, 3, 5, 12, 0, 0)
    assert horizon.latest_at == datetime(2026, 3, 6, 12, 0, 0)
    assert horizon.latest_scheduled_at == datetime(2031, 3, 9, 12, 0, 0)
    assert horizon.earliest_at == datetime(2000, 1, 1)
    assert horizon.as_of_month.date() == date(2026, 3, 1)
    assert horizon.as_of_source == "latest connector sync"


def test_dates_outside_the_horizon_are_quarantined_with_rule_and_key(from_sync: Settings) -> None:
    assert _quarantined(from_sync) == {
        ("stripe.customer", "cus_C9", "is_test_mode"),
        ("stripe.price", "price_T", "is_test_mode"),
        ("stripe.subscription", "sub_C9", "is_test_mode"),
        ("stripe.subscription", "sub_X", "canceled_at_is_outside_horizon"),
        ("marketing.ad_spend", "1900-01-01 | google | c1", "date_is_outside_horizon"),
        ("marketing.engagements", "e2", "occurred_at_is_outside_horizon"),
    }
    kept = query(from_sync, "select id from marketing.engagements")
    assert list(kept.id) == ["e1"]
    scheduled = query(from_sync, "select current_period_end from stripe.subscription where id = 'sub_C2'")
    assert str(scheduled.current_period_end[0]).startswith("2027-03-05")


def test_a_far_future_date_does_not_stretch_the_month_spine(from_sync: Settings) -> None:
    months = query(
        from_sync, "select min(mrr_month) as first, max(mrr_month) as last from marts.rpt_mrr_movements_monthly"
    )
    assert (months["first"][0].date(), months["last"][0].date()) == (date(2025, 1, 1), date(2026, 3, 1))


def test_flywheel_as_of_sets_the_horizon_and_the_last_month(from_setting: Settings) -> None:
    horizon = query(from_setting, "select * from definitions.data_horizon").iloc[0]
    assert horizon.as_of_at == datetime(2026, 2, 28, 23, 59, 59)
    assert horizon.as_of_source == "FLYWHEEL_AS_OF"
    assert ("stripe.subscription", "sub_C2", "current_period_start_is_outside_horizon") in _quarantined(from_setting)
    months = query(from_setting, "select max(mrr_month) as last from marts.rpt_mrr_movements_monthly")
    assert months["last"][0].date() == date(2026, 2, 1)


def test_a_rebuild_of_the_same_files_gives_the_same_horizon(from_sync: Settings, tmp_path: Path) -> None:
    again = dataclasses.replace(from_sync, warehouse=tmp_path / "again" / "flywheel.duckdb")
    result = materialize(again, "group:definitions")
    assert result.success
    assert query(again, "select * from definitions.data_horizon").equals(
        query(from_sync, "select * from definitions.data_horizon")
    )
