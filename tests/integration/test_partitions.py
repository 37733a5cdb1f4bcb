"""Daily partitions of product events: a few days rebuild on their own and agree with a full rebuild.

The raw events land as a folder of daily CSV files, the way event-tracking exports do. Event e1 is re-delivered
two days after its first copy (a re-sync), e9 is future-dated (quarantined), and one line of day 3 is malformed.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest

from pipelines.spec.partitions import DayRange
from pipelines.spec.settings import Settings
from tests.conftest import materialize, settings_for
from tests.fixtures import query

SELECTION = 'key:"product/events" or key:"staging/stg_product__events"'
HEADER = "id,event,user_id,account_id,timestamp,received_at\n"
DAY_FILES = {
    "2026-11-01": [
        "e1,logged_in,u1,w1,2026-11-01 09:00:00,2026-11-01 09:00:01",
        "e2,signed_up,u2,w1,2026-11-01 10:00:00,2026-11-01 10:00:02",
    ],
    "2026-11-02": [
        "e3,project_created,u1,w1,2026-11-02 08:00:00,2026-11-02 08:00:01",
        "e9,logged_in,u2,w1,2026-11-09 08:00:00,2026-11-02 08:00:01",
    ],
    "2026-11-03": [
        "e1,logged_in,u1,w1,2026-11-01 09:00:00,2026-11-03 07:00:00",
        "e4,report_shared,u2,w1,2026-11-02 23:00:00,2026-11-03 00:30:00",
        "e5,logged_in,u1,w1,2026-11-03 00:00:00,2026-11-03 00:00:01,one field too many",
    ],
}
NEW_DAY = {"2026-11-04": ["e6,logged_in,u1,w1,2026-11-04 09:00:00,2026-11-04 09:00:01"]}
LATE_COPY = {"2026-11-04": [*NEW_DAY["2026-11-04"], "e3,project_created,u1,w1,2026-11-02 08:00:00,2026-11-04 10:00:00"]}


def write_days(raw_dir: Path, days: dict[str, list[str]]) -> None:
    folder = raw_dir / "product" / "events"
    folder.mkdir(parents=True, exist_ok=True)
    for day, lines in days.items():
        (folder / f"{day}.csv").write_text(HEADER + "".join(f"{line}\n" for line in lines))


def staged(settings: Settings) -> pd.DataFrame:
    return query(
        settings,
        "select event_id, cast(received_day as varchar) as received_day from staging.stg_product__events order by 1",
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    root = tmp_path_factory.mktemp("partitions")
    write_days(root / "raw", DAY_FILES)
    settings = settings_for(root, root / "raw", first_partition_day="2026-11-01")
    assert materialize(settings, SELECTION).success
    return settings


def test_a_full_build_files_every_row_under_its_day(project: Settings) -> None:
    # e1's later copy wins; e4 happened on day 2 but was received on day 3, so it belongs to day 3.
    assert staged(project).values.tolist() == [
        ["e1", "2026-11-03"],
        ["e2", "2026-11-01"],
        ["e3", "2026-11-02"],
        ["e4", "2026-11-03"],
    ]
    quarantined = query(
        project,
        "select rule, cast(partition_day as varchar) as day from quarantine.rejected_rows "
        "where source_table = 'product.events' order by rule",
    )
    assert quarantined.values.tolist() == [
        ["malformed_csv_line", "2026-11-03"],
        ["occurs_after_it_was_received", "2026-11-02"],
    ]
    audit = query(
        project,
        "select cast(partition_day as varchar) as day, file_rows, loaded_rows, quarantined_rows "
        "from audit.raw_partition_loads where partition_day <= '2026-11-04' order by 1",
    )
    assert audit.values.tolist() == [
        ["2026-11-01", 2, 2, 0],
        ["2026-11-02", 2, 1, 1],
        ["2026-11-03", 3, 2, 1],
        ["2026-11-04", 0, 0, 0],
    ]


def test_a_new_day_rebuilds_alone_and_matches_a_full_rebuild(project: Settings, tmp_path: Path) -> None:
    settings = dataclasses.replace(project)
    write_days(settings.raw_dir, NEW_DAY)
    before = query(settings, "select * from product.events where _flywheel_partition_day < '2026-11-04' order by id")
    assert materialize(settings, SELECTION, DayRange.parse("2026-11-04", "2026-11-04")).success
    after = query(settings, "select * from product.events where _flywheel_partition_day < '2026-11-04' order by id")
    pd.testing.assert_frame_equal(before, after)  # the other days were left as they were
    assert ["e6", "2026-11-04"] in staged(settings).values.tolist()

    fresh = settings_for(tmp_path, settings.raw_dir, first_partition_day="2026-11-01")
    assert materialize(fresh, SELECTION).success
    pd.testing.assert_frame_equal(staged(settings), staged(fresh))


def test_a_copy_later_than_the_rebuilt_days_fails_loudly_until_its_days_are_rebuilt(project: Settings) -> None:
    write_days(project.raw_dir, LATE_COPY)
    alone = materialize(project, SELECTION, DayRange.parse("2026-11-04", "2026-11-04"))
    failed = {
        evaluation.check_name: evaluation.severity.value
        for evaluation in alone.get_asset_check_evaluations()
        if not evaluation.passed and evaluation.asset_key.path[-1] == "stg_product__events"
    }
    # e3 would be kept under day 2 and day 4; the row accounting is then not evaluated (a warning).
    assert failed == {"grain_is_unique": "ERROR", "assert_every_raw_row_is_accounted_for": "WARN"}
    assert ["e3", "2026-11-02"] in staged(project).values.tolist()  # the last good days stay

    # The refresh window (the new day and the late-arrival days before it) moves e3 to its latest copy.
    assert materialize(project, SELECTION, DayRange.parse("2026-11-01", "2026-11-04")).success
    assert ["e3", "2026-11-04"] in staged(project).values.tolist()
    assert "e3" not in [row[0] for row in staged(project).values.tolist() if row[1] == "2026-11-02"]
