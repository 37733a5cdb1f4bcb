"""The atomic pieces of publishing: the snapshot swap, the Parquet pointers, failure handling and pruning."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from pipelines.warehouse.publish import (
    CURRENT_LINK,
    CURRENT_MANIFEST,
    METADATA_TABLE,
    PARQUET_DIR,
    SNAPSHOT_FILE,
    PublishedTable,
    PublishError,
    atomic_write_text,
    current_manifest,
    new_publish_id,
    prune,
    publish,
    replace_symlink,
)

MARTS = [
    PublishedTable("marts", "rpt_a", "Mart A.", {"a_id": "the key of A", "amount_usd": "an amount"}),
    PublishedTable("marts", "fct_b"),
]


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A small build warehouse: two marts (one empty), the definitions, and a pending table never to publish."""
    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    connection.execute("create schema marts")
    connection.execute("create schema definitions")
    connection.execute("create table marts.rpt_a as select range as a_id, range * 1.5 as amount_usd from range(3)")
    connection.execute("create table marts.fct_b (b_id integer)")
    connection.execute("create table definitions.definitions_version as select 7 as version, 'abc' as digest")
    connection.execute("create table definitions.thresholds as select 65 as mql__score_threshold")
    connection.execute("create table definitions._pending__thresholds as select 1 as x")
    yield connection
    connection.close()


def read_publish_id(snapshot: Path) -> str:
    """The publish id of the snapshot file as a new process sees it (this process caches open DuckDB files)."""
    code = (
        "import duckdb, sys; "
        "print(duckdb.connect(sys.argv[1], read_only=True).execute('select publish_id from _flywheel_publish')"
        ".fetchone()[0])"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code, str(snapshot)], capture_output=True, text=True, check=True, timeout=60
    )
    return completed.stdout.strip()


def test_publish_writes_one_publish_id_into_every_mart_the_metadata_and_the_parquet(
    warehouse: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    publish_dir = tmp_path / "published"
    publication = publish(warehouse, MARTS, publish_dir)
    assert publication.row_counts == {
        "marts.rpt_a": 3,
        "marts.fct_b": 0,
        "definitions.definitions_version": 1,
        "definitions.thresholds": 1,
    }
    assert publication.definitions_version == 7
    with duckdb.connect(str(publish_dir / SNAPSHOT_FILE), read_only=True) as snapshot:
        assert snapshot.execute(
            f"select publish_id, definitions_version, mart_count from {METADATA_TABLE}"
        ).fetchall() == [(publication.publish_id, 7, 2)]
        assert snapshot.execute("select distinct publish_id from marts.rpt_a").fetchall() == [(publication.publish_id,)]
        assert snapshot.execute("select a_id, amount_usd from marts.rpt_a order by a_id").fetchall() == [
            (0, 0.0),
            (1, 1.5),
            (2, 3.0),
        ]
        assert [row[0] for row in snapshot.execute("describe marts.fct_b").fetchall()] == ["b_id", "publish_id"]
        # Definitions are copied as they are: no publish_id column, no pending tables.
        assert snapshot.execute("select * from definitions.thresholds").fetchall() == [(65,)]
        definition_tables = snapshot.execute(
            "select table_name from information_schema.tables where table_schema = 'definitions' order by 1"
        ).fetchall()
        assert definition_tables == [("definitions_version",), ("thresholds",)]
        comments = dict(
            snapshot.execute("select column_name, comment from duckdb_columns() where table_name = 'rpt_a'").fetchall()
        )
        assert comments["a_id"] == "the key of A"
        assert snapshot.execute("select comment from duckdb_tables() where table_name = 'rpt_a'").fetchone() == (
            "Mart A.",
        )
    manifest = current_manifest(publish_dir)
    assert manifest is not None and manifest["publish_id"] == publication.publish_id
    assert os.readlink(publish_dir / PARQUET_DIR / CURRENT_LINK) == publication.publish_id
    parquet = publish_dir / PARQUET_DIR / CURRENT_LINK / manifest["tables"]["marts.rpt_a"]["parquet"]
    assert duckdb.sql(f"select distinct publish_id from read_parquet('{parquet}')").fetchall() == [
        (publication.publish_id,)
    ]
    assert sorted(path.name for path in publish_dir.iterdir()) == [SNAPSHOT_FILE, PARQUET_DIR]


def test_a_reader_keeps_the_snapshot_it_opened_and_the_next_reader_gets_the_new_one(
    warehouse: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    publish_dir = tmp_path / "published"
    first = publish(warehouse, MARTS, publish_dir)
    reader = duckdb.connect(str(publish_dir / SNAPSHOT_FILE), read_only=True)
    try:
        warehouse.execute("insert into marts.fct_b values (1)")
        second = publish(warehouse, MARTS, publish_dir)  # not blocked by the open reader
        assert reader.execute(f"select publish_id from {METADATA_TABLE}").fetchone() == (first.publish_id,)
        assert reader.execute("select count(*) from marts.fct_b").fetchone() == (0,)
        assert read_publish_id(publish_dir / SNAPSHOT_FILE) == second.publish_id
    finally:
        reader.close()
    assert second.publish_id > first.publish_id


def test_a_failed_publish_keeps_the_previous_one_and_leaves_nothing_behind(
    warehouse: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    publish_dir = tmp_path / "published"
    first = publish(warehouse, MARTS, publish_dir)
    before = sorted(path.relative_to(publish_dir) for path in publish_dir.rglob("*"))
    with pytest.raises(PublishError, match=r"marts\.rpt_missing does not exist"):
        publish(warehouse, [*MARTS, PublishedTable("marts", "rpt_missing")], publish_dir)
    assert sorted(path.relative_to(publish_dir) for path in publish_dir.rglob("*")) == before
    assert read_publish_id(publish_dir / SNAPSHOT_FILE) == first.publish_id
    # The warehouse connection is usable afterwards (the temporary snapshot was detached).
    assert warehouse.execute("select count(*) from duckdb_databases() where not internal").fetchone() == (1,)


def test_a_mart_with_its_own_publish_id_column_is_refused(warehouse: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    warehouse.execute("create table marts.rpt_c as select 1 as publish_id")
    with pytest.raises(PublishError, match="publish_id"):
        publish(warehouse, [PublishedTable("marts", "rpt_c")], tmp_path / "published")
    assert not (tmp_path / "published" / SNAPSHOT_FILE).exists()


def test_old_publishes_are_pruned_to_the_newest_few(warehouse: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    publish_dir = tmp_path / "published"
    ids = [publish(warehouse, MARTS, publish_dir, keep=2).publish_id for _ in range(4)]
    versions = sorted(path.name for path in (publish_dir / PARQUET_DIR).iterdir() if not path.is_symlink())
    assert versions == sorted([*ids[-2:], CURRENT_MANIFEST])
    assert current_manifest(publish_dir) == json.loads(
        (publish_dir / PARQUET_DIR / ids[-1] / "manifest.json").read_text()
    )


def test_prune_removes_dead_temporary_snapshots_but_not_fresh_ones(tmp_path: Path) -> None:
    dead = tmp_path / f".{SNAPSHOT_FILE}.20200101T000000000000Z-aaaaaa.tmp"
    fresh = tmp_path / f".{SNAPSHOT_FILE}.20200101T000000000000Z-bbbbbb.tmp"
    dead.write_text("x")
    fresh.write_text("x")
    two_hours_ago = time.time() - 7200
    os.utime(dead, (two_hours_ago, two_hours_ago))
    prune(tmp_path)
    assert not dead.exists()
    assert fresh.exists()


def test_atomic_write_text_replaces_the_whole_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "pointer.json"
    atomic_write_text(target, "old")
    atomic_write_text(target, "new")
    assert target.read_text() == "new"
    assert [path.name for path in tmp_path.iterdir()] == ["pointer.json"]


def test_replace_symlink_swaps_the_target_in_one_rename(tmp_path: Path) -> None:
    (tmp_path / "v1").mkdir()
    (tmp_path / "v2").mkdir()
    link = tmp_path / "current"
    replace_symlink(link, "v1")
    inode_before = os.lstat(link).st_ino
    replace_symlink(link, "v2")
    assert os.readlink(link) == "v2"
    assert os.lstat(link).st_ino != inode_before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["current", "v1", "v2"]


def test_publish_ids_sort_by_time() -> None:
    moment = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    earlier = new_publish_id(moment)
    later = new_publish_id(moment + timedelta(microseconds=1))
    assert earlier.startswith("20261123T120000000000Z-")
    assert earlier < later
    assert new_publish_id(moment) != earlier
