"""Day ranges, daily file layouts and the SQL rewrite that makes a model read only some days."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipelines.spec.partitions import (
    DayRange,
    PartitionError,
    daily_files,
    day_of_path,
    output_restricted,
    restrict_to_days,
)

DAYS = DayRange.parse("2026-01-02", "2026-01-03")


def test_day_ranges_are_inclusive_and_refuse_to_run_backwards() -> None:
    assert DAYS.day_count == 2
    assert DAYS.widened(3) == DayRange.parse("2026-01-02", "2026-01-06")
    assert DayRange.parse("2026-01-01", "2026-01-31").covers(DAYS)
    assert not DAYS.covers(DayRange.parse("2026-01-01", "2026-01-03"))
    with pytest.raises(PartitionError, match="before it starts"):
        DayRange.parse("2026-01-03", "2026-01-02")
    with pytest.raises(PartitionError, match="YYYY-MM-DD"):
        DayRange.parse("2026-1-3", "tomorrow")


def test_a_daily_file_takes_its_day_from_its_name_or_its_folder() -> None:
    assert day_of_path(Path("2026-10-31.parquet")) == date(2026, 10, 31)
    assert day_of_path(Path("events_2026-10-31.csv")) == date(2026, 10, 31)
    assert day_of_path(Path("2026-10-31/part-0.parquet")) == date(2026, 10, 31)
    assert day_of_path(Path("part-0.parquet")) is None


def test_a_daily_folder_lists_files_by_day_and_rejects_a_file_without_one(tmp_path: Path) -> None:
    (tmp_path / "2026-01-02").mkdir()
    for name in ("2026-01-01.csv", "2026-01-02/a.csv", "2026-01-02/b.csv"):
        (tmp_path / name).write_text("id\n1\n")
    assert {day: [path.name for path in paths] for day, paths in daily_files(tmp_path).items()} == {
        date(2026, 1, 1): ["2026-01-01.csv"],
        date(2026, 1, 2): ["a.csv", "b.csv"],
    }
    (tmp_path / "latest.csv").write_text("id\n1\n")
    with pytest.raises(PartitionError, match=r"latest\.csv.*must carry its day"):
        daily_files(tmp_path)


def test_only_the_partitioned_tables_are_read_over_the_days_and_ctes_are_left_alone() -> None:
    connection = duckdb.connect()
    connection.execute("create schema raw; create schema staging")
    connection.execute(
        "create table raw.events as select * from (values (1, date '2026-01-01'), (2, date '2026-01-02'), "
        "(3, date '2026-01-03'), (4, date '2026-01-04')) as t(id, day)"
    )
    connection.execute("create table staging.accounts as select * from (values (1), (2), (3), (4)) as t(id)")
    # A CTE named like the partitioned table must stay the CTE; the real table is read through its alias.
    sql = (
        "with events as (select e.id, e.day from raw.events as e inner join staging.accounts using (id)) "
        "select events.id, events.day from events order by id"
    )
    rewritten = restrict_to_days(sql, {("raw", "events"): "day"}, DAYS)
    assert [row[0] for row in connection.execute(rewritten).fetchall()] == [2, 3]
    assert [row[0] for row in connection.execute(restrict_to_days(sql, {}, DAYS)).fetchall()] == [1, 2, 3, 4]
    restricted = output_restricted(restrict_to_days(sql, {("raw", "events"): "day"}, DAYS.widened(1)), "day", DAYS)
    assert [row[0] for row in connection.execute(restricted).fetchall()] == [2, 3]
