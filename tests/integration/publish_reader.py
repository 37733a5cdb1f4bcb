"""A BI reader in its own process: query the published marts in a loop until told to stop, and report what it saw.

Used by tests/integration/test_publish.py while a full refresh runs in the test process. It imports nothing from
Flywheel, as a BI tool would not. Each read opens the snapshot read-only, reads the publish id from the metadata
table and from every mart, and checks they are all equal (and that row counts match the metadata); it does the same
for the Parquet files, once through `current.json` and once through the `current` symlink.

usage: python publish_reader.py PUBLISH_DIR STOP_FILE REPORT_FILE
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from pathlib import Path

import duckdb


def read_snapshot(snapshot: Path) -> str:
    """One read of the DuckDB snapshot; returns the publish id seen, raises AssertionError if it was inconsistent."""
    connection = duckdb.connect(str(snapshot), read_only=True)
    try:
        metadata = connection.execute("select publish_id, mart_count from _flywheel_publish").fetchall()
        assert len(metadata) == 1, f"_flywheel_publish has {len(metadata)} rows"
        publish_id, mart_count = metadata[0]
        tables = connection.execute(
            "select table_schema || '.' || table_name, row_count from _flywheel_published_tables where is_mart"
        ).fetchall()
        counts = dict(tables)
        present = connection.execute(
            "select table_schema || '.' || table_name from information_schema.tables where table_schema = 'marts'"
        ).fetchall()
        assert len(counts) == mart_count, f"{len(counts)} marts listed, _flywheel_publish says {mart_count}"
        assert {row[0] for row in present} == set(counts), f"marts present {present}, listed {sorted(counts)}"
        for name, rows in counts.items():
            schema, table = name.split(".")
            ids, seen_rows = connection.execute(
                f'select list(distinct publish_id), count(*) from "{schema}"."{table}"'
            ).fetchone()
            assert seen_rows == rows, f"{name}: {seen_rows} rows, metadata says {rows}"
            assert seen_rows == 0 or ids == [publish_id], f"{name}: publish ids {ids}, metadata says {publish_id}"
        return str(publish_id)
    finally:
        connection.close()


def read_parquet_version(memory: duckdb.DuckDBPyConnection, version_dir: Path) -> str:
    """One read of a Parquet publish directory; returns its publish id, raises AssertionError if inconsistent."""
    manifest = json.loads((version_dir / "manifest.json").read_text())
    publish_id = manifest["publish_id"]
    assert version_dir.name == publish_id, f"{version_dir} holds publish {publish_id}"
    marts = {name: table for name, table in manifest["tables"].items() if name.startswith("marts.")}
    files = {f"marts.{path.stem}" for path in (version_dir / "marts").glob("*.parquet")}
    assert files == set(marts), f"Parquet files {sorted(files)}, manifest lists {sorted(marts)}"
    for name, table in marts.items():
        ids, rows = memory.execute(
            "select list(distinct publish_id), count(*) from read_parquet(?)", [str(version_dir / table["parquet"])]
        ).fetchone()
        assert rows == table["rows"], f"{name}: {rows} rows in Parquet, manifest says {table['rows']}"
        assert rows == 0 or ids == [publish_id], f"{name}: publish ids {ids} in Parquet, manifest says {publish_id}"
    return str(publish_id)


def main(argv: list[str]) -> int:
    publish_dir, stop_file, report_file = Path(argv[0]), Path(argv[1]), Path(argv[2])
    snapshot = publish_dir / "flywheel_bi.duckdb"
    parquet = publish_dir / "parquet"
    memory = duckdb.connect()
    reads: list[dict[str, object]] = []
    errors: list[str] = []
    while not stop_file.exists():
        started = time.time()
        seen: dict[str, object] = {"at": started}
        try:
            seen["snapshot"] = read_snapshot(snapshot)
            current = json.loads((parquet / "current.json").read_text())["publish_id"]
            seen["parquet_manifest"] = read_parquet_version(memory, parquet / current)
            seen["parquet_symlink"] = read_parquet_version(memory, parquet / os.readlink(parquet / "current"))
        except Exception:
            errors.append(traceback.format_exc(limit=3))
            seen["error"] = True
        seen["seconds"] = time.time() - started
        reads.append(seen)
        time.sleep(0.01)
    report = {"reads": reads, "errors": errors[:20], "error_count": len(errors)}
    report_file.write_text(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
