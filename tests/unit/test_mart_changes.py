"""The comparison `flywheel preview` makes between a mart before and after a rebuild, on hand-made tables."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.warehouse.mart_changes import (
    add_empty_tables,
    compare_table,
    copy_warehouse,
    month_and_segment,
    snapshot_tables,
)

GRAIN = ("month", "segment", "channel")
CREATE = (
    "create schema marts; create table marts.rpt_x "
    "(month date, segment varchar, channel varchar, mql_count integer, win_rate double, note varchar)"
)


def _warehouse(path: Path, rows: list[tuple[object, ...]]) -> Path:
    with duckdb.connect(str(path)) as connection:
        connection.execute(CREATE)
        connection.executemany("insert into marts.rpt_x values (?, ?, ?, ?, ?, ?)", rows)
    return path


BEFORE_ROWS = [
    ("2026-09-01", "SMB", "paid", 10, 0.5, "a"),
    ("2026-09-01", "SMB", "organic", 5, 0.2, "b"),
    ("2026-10-01", "SMB", "paid", 7, 0.1, "c"),
    ("2026-10-01", "Enterprise", "paid", 3, 0.3, "d"),
]


def test_rows_added_removed_and_changed_are_counted_by_grain(tmp_path: Path) -> None:
    before = _warehouse(tmp_path / "before.duckdb", BEFORE_ROWS)
    after = _warehouse(
        tmp_path / "after.duckdb",
        [
            ("2026-09-01", "SMB", "paid", 8, 0.5, "a"),  # changed: mql_count
            ("2026-09-01", "SMB", "organic", 5, 0.2 + 1e-13, "b"),  # a sum in another order: not a change
            ("2026-10-01", "SMB", "paid", 7, 0.1, "c2"),  # changed: a column that is not a KPI
            ("2026-11-01", "SMB", "paid", 1, 1.0, "e"),  # added; Enterprise removed
        ],
    )
    change = compare_table(before, after, "marts", "rpt_x", GRAIN, ["mql_count", "win_rate", "not_a_column"])
    assert (change.rows_before, change.rows_after) == (4, 4)
    assert (change.added, change.removed, change.changed) == (1, 1, 2)
    kpis = {kpi.name: kpi for kpi in change.kpis}
    assert set(kpis) == {"mql_count", "win_rate"}
    mql = kpis["mql_count"]
    assert mql.additive and (mql.total_before, mql.total_after) == (25, 21)
    cells = [(cell.month, cell.segment, cell.before, cell.after, cell.rows_changed) for cell in mql.cells]
    assert cells == [
        ("2026-09-01", "SMB", 15, 13, 1),
        ("2026-10-01", "Enterprise", 3, None, 1),
        ("2026-11-01", "SMB", None, 1, 1),
    ]
    rate = kpis["win_rate"]  # a ratio over a grain finer than month and segment: where it moved, not a sum
    assert not rate.additive and rate.total_before is None
    assert [(cell.month, cell.before, cell.rows_changed) for cell in rate.cells] == [
        ("2026-10-01", None, 1),
        ("2026-11-01", None, 1),
    ]


def test_an_identical_table_has_no_change(tmp_path: Path) -> None:
    before = _warehouse(tmp_path / "before.duckdb", BEFORE_ROWS)
    after = _warehouse(tmp_path / "after.duckdb", BEFORE_ROWS)
    change = compare_table(before, after, "marts", "rpt_x", GRAIN, ["mql_count", "win_rate"])
    assert not change.any_change and not any(kpi.changed for kpi in change.kpis)


def test_month_and_segment_are_found_in_the_grain() -> None:
    assert month_and_segment(("cohort_type", "cohort_month", "channel", "segment")) == ("cohort_month", "segment")
    assert month_and_segment(("customer_id",)) == (None, None)


def test_copies_leave_the_original_file_as_it_was(tmp_path: Path) -> None:
    original = _warehouse(tmp_path / "flywheel.duckdb", BEFORE_ROWS)
    bytes_before = original.read_bytes()
    copy_warehouse(original, tmp_path / "scratch" / "after.duckdb")
    copied = snapshot_tables(original, tmp_path / "scratch" / "before.duckdb", [("marts", "rpt_x"), ("marts", "gone")])
    assert copied == [("marts", "rpt_x")]
    assert original.read_bytes() == bytes_before
    change = compare_table(
        tmp_path / "scratch" / "before.duckdb", tmp_path / "scratch" / "after.duckdb", "marts", "rpt_x", GRAIN, []
    )
    assert change.rows_after == 4 and not change.any_change


def test_a_ratio_in_usd_is_not_summed(tmp_path: Path) -> None:
    """A KPI with a denominator (a cost per lead) is a quotient even when its name ends in `_usd` or `_count`."""
    before = _warehouse(tmp_path / "before.duckdb", BEFORE_ROWS)
    after = _warehouse(tmp_path / "after.duckdb", [(*BEFORE_ROWS[0][:3], 11, *BEFORE_ROWS[0][4:]), *BEFORE_ROWS[1:]])
    (kpi,) = compare_table(before, after, "marts", "rpt_x", GRAIN, ["mql_count"], ratios={"mql_count"}).kpis
    assert not kpi.additive and kpi.total_before is None
    assert [(cell.month, cell.before, cell.rows_changed) for cell in kpi.cells] == [("2026-09-01", None, 1)]


def test_a_table_built_for_the_first_time_has_every_row_added(tmp_path: Path) -> None:
    after = _warehouse(tmp_path / "after.duckdb", BEFORE_ROWS)
    before, empty = tmp_path / "before.duckdb", tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()  # a warehouse without the table yet
    assert snapshot_tables(empty, before, [("marts", "rpt_x")]) == []
    add_empty_tables(before, after, [("marts", "rpt_x")])
    change = compare_table(before, after, "marts", "rpt_x", GRAIN, ["mql_count"])
    assert (change.rows_before, change.added, change.removed, change.changed) == (0, 4, 0, 0)
    assert change.kpis[0].total_after == 25
