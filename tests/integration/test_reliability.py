"""Re-runs are idempotent and a run killed hard leaves a warehouse that opens, keeps its marts, and rebuilds.

Both tests use the six hand-worked leads (small, so a build takes seconds) through the real `flywheel run`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from pipelines.spec.settings import PROJECT_ROOT
from tests.conftest import TEST_FIRST_PARTITION_DAY
from tests.fixtures import write_raw
from tests.integration.test_hand_worked_leads import TABLES


def mart_checksums(warehouse: Path) -> dict[str, str]:
    """An md5 of every mart's full contents, rows sorted, so equal checksums mean byte-identical tables."""
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        tables = [
            row[0]
            for row in connection.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'marts' and table_name not like '\\_%' escape '\\' order by 1"
            ).fetchall()
        ]
        return {
            table: str(
                connection.execute(
                    f"select md5(coalesce(string_agg(row_text, chr(10) order by row_text), '')) "
                    f'from (select cast(t as varchar) as row_text from marts."{table}" as t)'
                ).fetchone()[0]  # type: ignore[index]
            )
            for table in tables
        }


def run_command(tmp_path: Path, raw_dir: Path) -> tuple[list[str], dict[str, str]]:
    environment = {
        **os.environ,
        "FLYWHEEL_WAREHOUSE": str(tmp_path / "warehouse" / "flywheel.duckdb"),
        "FLYWHEEL_RAW_DIR": str(raw_dir),
        "FLYWHEEL_PUBLISH_DIR": str(tmp_path / "published"),
        "FLYWHEEL_FIRST_PARTITION_DAY": TEST_FIRST_PARTITION_DAY,
    }
    environment.pop("DAGSTER_HOME", None)
    return [sys.executable, "-m", "pipelines.cli", "run"], environment


def flywheel_run(tmp_path: Path, raw_dir: Path) -> float:
    """Run `flywheel run` to completion in a subprocess; returns its wall time."""
    command, environment = run_command(tmp_path, raw_dir)
    started = time.perf_counter()
    completed = subprocess.run(command, env=environment, cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return time.perf_counter() - started


@pytest.fixture(scope="module")
def raw_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_raw(tmp_path_factory.mktemp("reliability") / "raw", TABLES)


def test_reruns_are_idempotent_and_a_run_killed_hard_loses_nothing(tmp_path: Path, raw_dir: Path) -> None:
    warehouse = tmp_path / "warehouse" / "flywheel.duckdb"
    full_run_seconds = flywheel_run(tmp_path, raw_dir)
    first = mart_checksums(warehouse)
    assert first

    # Kill a second run hard while it builds: past the slow start-up, in the middle of the models.
    command, environment = run_command(tmp_path, raw_dir)
    process = subprocess.Popen(command, env=environment, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL)
    time.sleep(full_run_seconds * 0.7)
    killed = process.poll() is None
    process.send_signal(signal.SIGKILL)
    process.wait()

    # The warehouse opens (DuckDB replays its write-ahead log) and holds every mart, whole: the same input built
    # them, so whether a mart is the old build or the new one, its contents are the last complete build's.
    assert mart_checksums(warehouse) == first
    # A rerun on the same input (after the killed one) gives byte-identical marts.
    flywheel_run(tmp_path, raw_dir)
    assert mart_checksums(warehouse) == first, "the same input must give byte-identical marts"
    assert killed, "the run finished before it could be killed"
