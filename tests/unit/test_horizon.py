"""The as-of time of a run: FLYWHEEL_AS_OF, else the latest connector sync no later than the clock, else the clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from pipelines.spec.settings import PROJECT_ROOT
from pipelines.spec.sources import load_sources
from pipelines.warehouse.horizon import (
    AS_OF_FROM_CLOCK,
    AS_OF_FROM_SETTING,
    AS_OF_FROM_SYNC,
    HorizonError,
    HorizonSettings,
    latest_sync,
    parse_as_of,
    resolve_horizon,
)
from tests.fixtures import write_raw

SETTINGS = HorizonSettings(datetime(2000, 1, 1), timedelta(hours=24), timedelta(days=1830))
TABLES = load_sources(PROJECT_ROOT / "models" / "sources.yml")


def test_as_of_parses_a_date_as_its_end_and_a_timestamp_in_utc() -> None:
    assert parse_as_of("2026-02-28") == datetime(2026, 2, 28, 23, 59, 59)
    assert parse_as_of("2026-03-01T02:00:00+02:00") == datetime(2026, 3, 1, 0, 0, 0)
    with pytest.raises(HorizonError, match="FLYWHEEL_AS_OF='last week'"):
        parse_as_of("last week")


def test_the_latest_sync_ignores_syncs_after_the_ceiling(tmp_path: Path) -> None:
    raw = write_raw(
        tmp_path,
        {
            "salesforce.account": [
                {"id": "a1", "_fivetran_synced": "2026-03-05 12:00:00"},
                {"id": "a2", "_fivetran_synced": "2099-01-01 00:00:00"},
            ],
            "product.events": [
                {"id": "e1", "event": "x", "timestamp": "2026-03-01", "received_at": "2026-03-06 01:00:00+02:00"}
            ],
        },
    )
    # The event was received at 2026-03-05 23:00 UTC; the 2099 sync lies after the ceiling.
    assert latest_sync(raw, TABLES, datetime(2026, 12, 1)) == datetime(2026, 3, 5, 23, 0, 0)
    assert latest_sync(raw, TABLES, datetime(2026, 3, 5, 20)) == datetime(2026, 3, 5, 12, 0, 0)


def test_the_as_of_time_comes_from_the_setting_the_sync_or_the_clock(tmp_path: Path) -> None:
    synced = write_raw(tmp_path / "synced", {"salesforce.account": [{"id": "a1", "_fivetran_synced": "2026-03-05"}]})
    assert resolve_horizon(SETTINGS, synced, TABLES).as_of_source == AS_OF_FROM_SYNC
    setting = resolve_horizon(SETTINGS, synced, TABLES, "2026-01-31")
    assert (setting.as_of, setting.as_of_source) == (datetime(2026, 1, 31, 23, 59, 59), AS_OF_FROM_SETTING)
    unsynced = write_raw(tmp_path / "unsynced", {"salesforce.account": [{"id": "a1"}]})
    assert resolve_horizon(SETTINGS, unsynced, TABLES).as_of_source == AS_OF_FROM_CLOCK
    with pytest.raises(HorizonError, match=r"before data_horizon\.earliest"):
        resolve_horizon(SETTINGS, synced, TABLES, "1999-01-01")


def test_a_file_without_sync_times_vouches_for_its_own_past_dates(tmp_path: Path) -> None:
    """An export without connector columns: its latest past date counts; scheduled dates and future typos do not."""
    raw = write_raw(
        tmp_path,
        {
            "salesforce.account": [{"id": "a1", "_fivetran_synced": "2026-01-31 00:00:00"}],
            "stripe.subscription": [
                {"id": "s1", "customer_id": "c1", "status": "active", "created": "2026-02-10 08:00:00",
                 "current_period_end": "2027-02-10 08:00:00", "canceled_at": "2099-01-01 00:00:00"},
            ],
        },
    )  # fmt: skip
    assert latest_sync(raw, TABLES, datetime(2026, 12, 1)) == datetime(2026, 2, 10, 8, 0, 0)
