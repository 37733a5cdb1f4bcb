"""Errors that cannot heal stop a build at once, with one clear line, and leave the warehouse and BI untouched.

Preflight problems (missing raw folder or file, an unwritable warehouse folder, a warehouse locked by another
process, a bad definitions file) end `flywheel run` with exit code 2 before any asset runs; a missing column fails
its raw load without a retry; a failed blocking check is a failed step; Ctrl-C cancels a run within seconds.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.cli import INTERRUPTED, main, step_failure_reason
from pipelines.orchestration import resources
from pipelines.orchestration.resources import Warehouse
from pipelines.spec.settings import PROJECT_ROOT, Settings
from pipelines.warehouse import retries
from pipelines.warehouse.preflight import preflight
from pipelines.warehouse.publish import SNAPSHOT_FILE
from tests.conftest import TEST_FIRST_PARTITION_DAY, materialize, settings_for
from tests.fixtures import query, write_raw
from tests.integration.test_hand_worked_leads import TABLES


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_warehouse(settings: Settings) -> None:
    """A small warehouse and a published snapshot, standing for the last good build."""
    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(settings.warehouse)) as connection:
        connection.execute("create schema marts; create table marts.rpt_a as select 1 as month_count")
    settings.published_dir.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(settings.published_dir / SNAPSHOT_FILE)) as connection:
        connection.execute("create schema marts; create table marts.rpt_a as select 1 as month_count")


def environment_of(settings: Settings) -> dict[str, str]:
    return {
        "FLYWHEEL_WAREHOUSE": str(settings.warehouse),
        "FLYWHEEL_RAW_DIR": str(settings.raw_dir),
        "FLYWHEEL_DEFINITIONS_FILE": str(settings.definitions_file),
        "FLYWHEEL_ERASURE_LIST": str(settings.erasure_list),
        "FLYWHEEL_FIRST_PARTITION_DAY": TEST_FIRST_PARTITION_DAY,
    }


def flywheel_run(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str]:
    """`flywheel run` in process on `settings`; returns its exit code and what it printed on stderr."""
    for name, value in environment_of(settings).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.delenv("FLYWHEEL_PUBLISH_DIR", raising=False)
    code = main(["run"])
    return code, capsys.readouterr().err


@pytest.fixture
def project(tmp_path: Path) -> Settings:
    """Tiny raw files, a warehouse and a published snapshot (cheap: no build)."""
    settings = settings_for(tmp_path, write_raw(tmp_path / "raw", TABLES))
    make_warehouse(settings)
    return settings


def assert_untouched(settings: Settings, before: tuple[str, str]) -> None:
    assert (sha256(settings.warehouse), sha256(settings.published_dir / SNAPSHOT_FILE)) == before


def fingerprint(settings: Settings) -> tuple[str, str]:
    return sha256(settings.warehouse), sha256(settings.published_dir / SNAPSHOT_FILE)


def test_a_missing_raw_folder_stops_the_run_before_anything_is_written(
    project: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    before = fingerprint(project)
    missing = project.raw_dir.parent / "no_such_raw"
    code, err = flywheel_run(dataclasses.replace(project, raw_dir=missing), monkeypatch, capsys)
    assert code == 2
    problems = [line for line in err.splitlines() if line.startswith("flywheel run: ")]
    assert problems[0] == (
        f"flywheel run: {missing}: the raw folder does not exist; set FLYWHEEL_RAW_DIR to the folder holding the "
        "connector tables (`<source>/<table>.csv` or `.parquet`)"
    )
    assert "Traceback" not in err
    assert_untouched(project, before)


def test_a_missing_table_file_names_the_table(
    project: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    before = fingerprint(project)
    (project.raw_dir / "stripe" / "price.csv").unlink()
    code, err = flywheel_run(project, monkeypatch, capsys)
    assert code == 2
    assert "no file for stripe.price" in err and str(project.raw_dir / "stripe" / "price") in err
    assert_untouched(project, before)


def test_a_warehouse_folder_that_cannot_be_created_is_reported(project: Settings) -> None:
    """Tests run as root, where a read-only folder still accepts writes: a path under a regular file cannot."""
    blocker = project.warehouse.parent.parent / "not_a_folder"
    blocker.write_text("a file where a folder should be")
    problems = preflight(dataclasses.replace(project, warehouse=blocker / "wh" / "flywheel.duckdb"))
    assert problems == [
        f"{blocker / 'wh'}: the warehouse folder cannot be created because {blocker} is a file, not a folder; "
        "set FLYWHEEL_WAREHOUSE to a folder you can write",
        f"{blocker / 'wh' / 'published'}: the publish folder cannot be created because {blocker} is a file, not a "
        "folder; set FLYWHEEL_PUBLISH_DIR to a folder you can write",
    ]


def test_a_read_only_warehouse_folder_is_reported(project: Settings) -> None:
    folder = project.warehouse.parent
    folder.chmod(0o555)
    try:
        probe = folder / "probe"
        try:
            probe.write_text("")
        except PermissionError:
            pass
        else:
            probe.unlink()
            pytest.skip("running as root: a read-only folder still accepts writes (see the test above)")
        problems = preflight(project)
    finally:
        folder.chmod(0o755)
    assert problems[0].startswith(f"{folder}: the warehouse folder is not writable (Permission denied")


@pytest.fixture
def lock_holder(project: Settings) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the warehouse open read-write (as a notebook or a Dagster UI run would)."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('locked', flush=True); time.sleep(120)",
            str(project.warehouse),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "locked"
    yield process
    process.kill()
    process.wait()


def test_a_warehouse_locked_by_another_process_names_it(
    project: Settings,
    lock_holder: subprocess.Popen[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = fingerprint(project)
    code, err = flywheel_run(project, monkeypatch, capsys)
    assert code == 2
    assert f"flywheel run: {project.warehouse}: the warehouse is locked by " in err
    assert f"(PID {lock_holder.pid})" in err
    assert_untouched(project, before)


def test_the_warehouse_resource_retries_only_a_lock_and_briefly(
    project: Settings, lock_holder: subprocess.Popen[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []
    monkeypatch.setattr(resources.time, "sleep", waits.append)
    with (
        pytest.raises(duckdb.IOException, match="Could not set lock"),
        Warehouse(database=str(project.warehouse)).get_connection(),
    ):
        pass
    assert waits == list(resources.LOCK_WAITS) and sum(waits) < 10

    waits.clear()
    blocker = project.warehouse.parent / "a_file"
    blocker.write_text("")
    with pytest.raises(OSError), Warehouse(database=str(blocker / "flywheel.duckdb")).get_connection():
        pass
    assert waits == []  # not a lock: no retry at all


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("lead_scoring: [unclosed\n", "not valid YAML: while parsing a flow sequence (line 1, column 15)"),
        # The first section the definitions loader finds missing, with the line it looked at.
        ("version: 1\n", "channels: missing"),
    ],
    ids=["not-yaml", "missing-key"],
)
def test_a_bad_definitions_file_names_the_file_and_key(
    project: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    text: str,
    message: str,
) -> None:
    before = fingerprint(project)
    broken = tmp_path / "definitions.yml"
    broken.write_text(text)
    code, err = flywheel_run(dataclasses.replace(project, definitions_file=broken), monkeypatch, capsys)
    assert code == 2
    assert err.splitlines()[0].startswith(f"flywheel run: {broken}: {message}")
    assert len([line for line in err.splitlines() if str(broken) in line]) == 1
    assert_untouched(project, before)


def _events(result: dg.ExecuteInProcessResult, step: str, kind: dg.DagsterEventType) -> list[dg.DagsterEvent]:
    return [event for event in result.all_events if event.step_key == step and event.event_type == kind]


def test_a_missing_required_column_fails_at_once_without_retry(tmp_path: Path) -> None:
    raw_dir = write_raw(tmp_path / "raw", TABLES)
    lead_file = raw_dir / "salesforce" / "lead.csv"
    lines = lead_file.read_text().splitlines()
    header = lines[0].split(",")
    column = header.index("created_date")
    lead_file.write_text(
        "\n".join(",".join(cell for i, cell in enumerate(line.split(",")) if i != column) for line in lines) + "\n"
    )
    result = materialize(settings_for(tmp_path, raw_dir), 'key:"salesforce/lead"')
    assert not result.success
    step = "salesforce__lead"
    assert len(_events(result, step, dg.DagsterEventType.STEP_START)) == 1
    assert _events(result, step, dg.DagsterEventType.STEP_UP_FOR_RETRY) == []
    [failure] = result.get_step_failure_events()
    assert failure.step_failure_data is not None
    # The run summary's reason for the step: the contract's own one-line message.
    assert step_failure_reason(failure).endswith(
        f"SourceContractError: {lead_file}: salesforce.lead misses required column(s) created_date"
    )


def test_a_file_still_being_written_is_retried_and_an_old_broken_one_is_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw_dir = write_raw(tmp_path / "raw", TABLES)
    (raw_dir / "stripe" / "price.csv").unlink()
    half_written = raw_dir / "stripe" / "price.parquet"
    half_written.write_bytes(b"PAR1 not yet a whole Parquet file")
    monkeypatch.setattr(retries, "RAW_LOAD_RETRY_SECONDS", 0.01)
    settings = settings_for(tmp_path, raw_dir)
    step = "stripe__price"

    fresh = materialize(settings, 'key:"stripe/price"')
    assert not fresh.success
    assert len(_events(fresh, step, dg.DagsterEventType.STEP_UP_FOR_RETRY)) == retries.RAW_LOAD_RETRIES

    old = time.time() - 3600
    os.utime(half_written, (old, old))
    stale = materialize(settings, 'key:"stripe/price"')
    assert not stale.success
    assert _events(stale, step, dg.DagsterEventType.STEP_UP_FOR_RETRY) == []


BLOCKING_SELECTION = '+key:"intermediate/int_leads_scored"'


def test_a_failed_blocking_check_is_a_failed_step_and_keeps_the_last_good_table(tmp_path: Path) -> None:
    raw_dir = write_raw(tmp_path / "raw", TABLES)
    settings = settings_for(tmp_path, raw_dir)
    assert materialize(settings, BLOCKING_SELECTION).success
    before = query(settings, "select lead_id from staging.stg_salesforce__leads order by 1")["lead_id"].tolist()

    # A negative employee count parses (the raw load keeps it) and breaks staging's blocking lead_contract suite.
    leads = [
        *TABLES["salesforce.lead"],
        {**TABLES["salesforce.lead"][0], "id": "00QL7", "number_of_employees": "-5"},
    ]
    write_raw(raw_dir, {**TABLES, "salesforce.lead": leads})
    result = materialize(settings, BLOCKING_SELECTION)

    assert not result.success
    step = "staging__stg_salesforce__leads"
    [failure] = [event for event in result.get_step_failure_events() if event.step_key == step]
    assert failure.step_failure_data is not None and failure.step_failure_data.user_failure_data is not None
    assert failure.step_failure_data.user_failure_data.description == (
        "staging.stg_salesforce__leads failed blocking check(s) lead_contract: not published, the last good table "
        "(6 rows) stays in place"
    )
    assert step_failure_reason(failure) == failure.step_failure_data.user_failure_data.description
    built = {event.asset_key.to_user_string() for event in result.get_asset_materialization_events()}
    assert "staging/stg_salesforce__leads" not in built
    assert "intermediate/int_leads_scored" not in built  # downstream skipped
    evaluations = {
        evaluation.check_name: evaluation
        for evaluation in result.get_asset_check_evaluations()
        if evaluation.asset_key.to_user_string() == "staging/stg_salesforce__leads"
    }
    assert evaluations["lead_contract"].passed is False
    assert evaluations["lead_contract"].metadata["failed_expectations"].value == 1
    assert evaluations["grain_is_unique"].passed is True
    assert query(settings, "select lead_id from staging.stg_salesforce__leads order by 1")["lead_id"].tolist() == before


# A memory file system, where there is one: Dagster commits each event of a run to its SQLite storage with a disk sync,
# and a demo run records about 500 planned events before its first step: about 20 s more on a disk than in memory.
MEMORY_FILE_SYSTEM = Path("/dev/shm")


@pytest.fixture
def dagster_home(tmp_path: Path) -> Iterator[Path]:
    """A DAGSTER_HOME for a run with a persistent instance (so the test can read the run's status afterwards)."""
    home = Path(tempfile.mkdtemp(dir=MEMORY_FILE_SYSTEM)) if MEMORY_FILE_SYSTEM.is_dir() else tmp_path / "dagster_home"
    home.mkdir(exist_ok=True)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    yield home
    shutil.rmtree(home, ignore_errors=True)


def test_ctrl_c_cancels_a_run_within_seconds(tmp_path: Path, dagster_home: Path) -> None:
    """SIGINT to a real `flywheel run` on the demo seeds, once its steps have started: canceled, not failed."""
    home = dagster_home
    environment = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "FLYWHEEL_WAREHOUSE": str(tmp_path / "warehouse" / "flywheel.duckdb"),
        "FLYWHEEL_RAW_DIR": str(PROJECT_ROOT / "seeds"),
        "FLYWHEEL_ERASURE_LIST": str(tmp_path / "erasures.csv"),
        "FLYWHEEL_FIRST_PARTITION_DAY": TEST_FIRST_PARTITION_DAY,
        "FLYWHEEL_LOG_LEVEL": "DEBUG",
    }
    environment.pop("FLYWHEEL_PUBLISH_DIR", None)
    stderr_file = tmp_path / "stderr.txt"
    with stderr_file.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "pipelines.cli", "run"],
            env=environment,
            cwd=PROJECT_ROOT,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
        deadline = time.monotonic() + 120
        while "STEP_START" not in stderr_file.read_text() and time.monotonic() < deadline:
            assert process.poll() is None, stderr_file.read_text()[-2000:]
            time.sleep(0.2)
        time.sleep(1)
        assert process.poll() is None, "the run ended before it could be interrupted"
        interrupted = time.monotonic()
        process.send_signal(signal.SIGINT)
        stdout, _ = process.communicate(timeout=60)
        stopped = time.monotonic() - interrupted
    err = stderr_file.read_text()
    assert stopped < 10, f"took {stopped:.1f} s to stop"
    assert process.returncode == INTERRUPTED, stdout + err[-3000:]
    assert "Flywheel build canceled" in stdout
    assert "flywheel run: canceled" in err
    instance = dg.DagsterInstance.from_config(str(home))
    [run] = instance.get_runs()
    assert run.status == dg.DagsterRunStatus.CANCELED
