"""Re-runs are idempotent and a run killed hard leaves a warehouse that opens, keeps its marts, and rebuilds.

The test uses the guards' small input (test_guards.TABLES, so a build takes seconds). The first complete build is the
session's build of it (`guards_build`, through `flywheel run`'s code path), copied; then the real `flywheel run`:
the killed run in its own process, killed once its progress lines show half its steps done, and the rerun after it
in this process.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipelines import cli
from pipelines.spec.settings import PROJECT_ROOT
from tests.conftest import TEST_FIRST_PARTITION_DAY
from tests.fixtures import write_raw
from tests.integration.conftest import FullBuild
from tests.integration.test_guards import TABLES


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


def run_environment(tmp_path: Path, raw_dir: Path) -> dict[str, str]:
    return {
        "FLYWHEEL_WAREHOUSE": str(tmp_path / "warehouse" / "flywheel.duckdb"),
        "FLYWHEEL_RAW_DIR": str(raw_dir),
        "FLYWHEEL_PUBLISH_DIR": str(tmp_path / "published"),
        "FLYWHEEL_FIRST_PARTITION_DAY": TEST_FIRST_PARTITION_DAY,
    }


def flywheel_run(tmp_path: Path, raw_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`flywheel run` to completion, in this process (the interpreter and libraries are loaded already)."""
    for name, value in run_environment(tmp_path, raw_dir).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    assert cli.main(["run"]) == 0


def steps_done(progress_line: str) -> tuple[int, int] | None:
    """`[12/66] ok ...` -> (12, 66): the count a progress line of `flywheel run` starts with."""
    match = re.match(r"\[\s*(\d+)/(\d+)\]", progress_line)
    return (int(match.group(1)), int(match.group(2))) if match else None


def kill_halfway(tmp_path: Path, raw_dir: Path) -> bool:
    """Start `flywheel run` in its own process and kill it hard (SIGKILL) once half its steps are done, as its
    progress lines say: past the slow start-up, in the middle of the models. Returns whether it was still running."""
    environment = {**os.environ, **run_environment(tmp_path, raw_dir)}
    environment.pop("DAGSTER_HOME", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "run"],
        env=environment,
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    for line in process.stdout:
        count = steps_done(line)
        if count is not None and count[0] >= count[1] // 2:
            break
    killed = process.poll() is None
    process.send_signal(signal.SIGKILL)
    process.wait()
    process.stdout.close()
    return killed


@pytest.fixture(scope="module")
def raw_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_raw(tmp_path_factory.mktemp("reliability") / "raw", TABLES)


def test_reruns_are_idempotent_and_a_run_killed_hard_loses_nothing(
    tmp_path: Path, raw_dir: Path, monkeypatch: pytest.MonkeyPatch, guards_build: FullBuild
) -> None:
    warehouse = tmp_path / "warehouse" / "flywheel.duckdb"
    assert guards_build.summary.succeeded
    warehouse.parent.mkdir()
    shutil.copyfile(guards_build.as_built, warehouse)  # the first complete build of the same input
    first = mart_checksums(warehouse)
    assert first

    # Kill a second run hard while it builds.
    killed = kill_halfway(tmp_path, raw_dir)

    # The warehouse opens (DuckDB replays its write-ahead log) and holds every mart, whole: the same input built
    # them, so whether a mart is the old build or the new one, its contents are the last complete build's.
    assert mart_checksums(warehouse) == first
    # A rerun on the same input (after the killed one) gives byte-identical marts.
    flywheel_run(tmp_path, raw_dir, monkeypatch)
    assert mart_checksums(warehouse) == first, "the same input must give byte-identical marts"
    assert killed, "the run finished before it could be killed"
