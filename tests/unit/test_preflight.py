"""What is retried and what is not, how a lock holder is named, Ctrl-C inside a query, and the run summary's lines."""

from __future__ import annotations

import dataclasses
import os
import signal
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.cli import RunSummary
from pipelines.orchestration.interrupts import cancel_on_interrupt
from pipelines.orchestration.resources import Warehouse
from pipelines.spec.sources import SourceContractError
from pipelines.warehouse.preflight import is_lock_conflict, lock_holder
from pipelines.warehouse.retries import SETTLE_SECONDS, file_state, transient_reason

LOCK_ERROR = duckdb.IOException(
    'IO Error: Could not set lock on file "/data/flywheel.duckdb": Conflicting lock is held in '
    "/usr/bin/python3.11 (PID 4242). See also https://duckdb.org/docs/current/connect/concurrency"
)


def test_the_lock_holder_is_named_from_duckdbs_message() -> None:
    assert is_lock_conflict(LOCK_ERROR)
    assert lock_holder(LOCK_ERROR) == "/usr/bin/python3.11 (PID 4242)"
    assert not is_lock_conflict(duckdb.IOException('IO Error: Cannot open file "/x": Permission denied'))
    assert lock_holder(duckdb.IOException("IO Error: Could not set lock on file")) == "another process"


def test_only_transient_errors_are_retried(tmp_path: Path) -> None:
    path = tmp_path / "price.csv"
    path.write_text("id\n1\n")
    state = file_state(path)
    read_error = duckdb.InvalidInputException("Invalid Input Error: No magic bytes found at end of file")
    now = state[1] / 1e9

    assert transient_reason(LOCK_ERROR, path, state, now) == "the warehouse is locked by /usr/bin/python3.11 (PID 4242)"
    # A read error on a file written a moment ago: a connector may still be writing it.
    assert "may still be writing it" in str(transient_reason(read_error, path, state, now + 1))
    # The same error on a file untouched for longer than the settle time is not transient.
    assert transient_reason(read_error, path, state, now + SETTLE_SECONDS + 1) is None
    # A file that changed while it was read is.
    path.write_text("id\n1\n2\n")
    assert "changed while it was read" in str(transient_reason(read_error, path, state, now + SETTLE_SECONDS + 1))
    # A missing column or file, or a permission error, never is, however fresh the file.
    fresh = file_state(path)
    missing = SourceContractError(f"{path}: salesforce.lead lacks required column(s) created_date")
    assert transient_reason(missing, path, fresh, now) is None
    assert transient_reason(PermissionError(13, "Permission denied"), path, fresh, now) is None
    assert transient_reason(ValueError("bad erasure list"), path, fresh, now) is None


def test_ctrl_c_inside_a_warehouse_query_stops_the_run_not_just_the_step(tmp_path: Path) -> None:
    """DuckDB turns Ctrl-C during a query into its own error; the resource raises it as the interrupt it was.

    A handler that swallows SIGINT stands for DuckDB's (which catches the interrupt and raises "Query interrupted"),
    so the test does not depend on when DuckDB looks for signals.
    """
    swallowed: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda number, frame: swallowed.append(number))
    try:
        with cancel_on_interrupt() as interruption:
            with (
                pytest.raises(KeyboardInterrupt, match="interrupted during a warehouse query") as raised,
                Warehouse(database=str(tmp_path / "w.duckdb")).get_connection(),
            ):
                os.kill(os.getpid(), signal.SIGINT)
                while not swallowed:
                    time.sleep(0.01)
                raise RuntimeError("Query interrupted")
            assert interruption.received
    finally:
        signal.signal(signal.SIGINT, previous)
    assert isinstance(raised.value.__cause__, RuntimeError)


def test_a_query_error_without_ctrl_c_stays_a_query_error(tmp_path: Path) -> None:
    with (
        cancel_on_interrupt(),
        pytest.raises(duckdb.CatalogException),
        Warehouse(database=str(tmp_path / "w.duckdb")).get_connection() as connection,
    ):
        connection.execute("select * from no_such_table")


def test_a_run_holds_the_warehouse_open_so_its_steps_do_not_write_a_checkpoint_each(tmp_path: Path) -> None:
    # Closing the last connection to a DuckDB file writes a checkpoint (and removes the write-ahead log): a run holds
    # the database open, so a step's work stays in the log until the run ends, and the next step reads it from there.
    database = tmp_path / "warehouse" / "flywheel.duckdb"
    log = database.with_name(database.name + ".wal")
    seen: dict[str, object] = {}

    @dg.asset
    def numbers(warehouse: Warehouse) -> None:
        with warehouse.get_connection() as connection:
            connection.execute("create table numbers as select range as n from range(10)")

    @dg.asset(deps=[numbers])
    def total(warehouse: Warehouse) -> None:
        seen["log_between_steps"] = log.exists()
        with warehouse.get_connection() as connection:
            seen["rows"] = connection.execute("select count(*) from numbers").fetchone()

    assert dg.materialize([numbers, total], resources={"warehouse": Warehouse(database=str(database))}).success
    assert seen == {"log_between_steps": True, "rows": (10,)}
    assert not log.exists()  # written to the file when the run ended
    with duckdb.connect(str(database), read_only=True) as connection:
        assert connection.execute("select sum(n) from numbers").fetchone() == (45,)


def test_the_summary_gives_each_failed_step_its_reason_and_labels_last_good_counts() -> None:
    summary = RunSummary(
        succeeded=False,
        seconds=3.0,
        failed_steps=["staging__stg_salesforce__leads", "salesforce__task"],
        step_errors={
            "staging__stg_salesforce__leads": "staging.stg_salesforce__leads failed blocking check(s) lead_contract",
            "salesforce__task": "SourceContractError: salesforce.task lacks required column(s) id",
        },
        mart_rows={"marts.rpt_funnel_monthly": 12, "marts.fct_lead_funnel": 6},
        last_good_marts={"marts.rpt_funnel_monthly"},
    )
    lines = summary.render().splitlines()
    blocked = "staging.stg_salesforce__leads failed blocking check(s) lead_contract"
    assert lines[0] == "Flywheel build FAILED in 3.0 s"
    assert f"    - staging__stg_salesforce__leads: {blocked}" in lines
    assert "    - salesforce__task: SourceContractError: salesforce.task lacks required column(s) id" in lines
    assert "    marts.rpt_funnel_monthly        12  (last good build)" in lines
    assert "    marts.fct_lead_funnel            6" in lines
    assert RunSummary(succeeded=False, seconds=1.0, canceled=True).render().startswith("Flywheel build canceled")


def test_an_unusable_as_of_time_stops_the_run_before_anything_is_written(tmp_path: Path) -> None:
    """FLYWHEEL_AS_OF that does not parse, or lies before the horizon's earliest date, is a preflight problem."""
    import dataclasses

    from pipelines.spec.settings import PROJECT_ROOT, Settings
    from pipelines.warehouse.preflight import preflight

    base = dataclasses.replace(
        Settings.from_env(), warehouse=tmp_path / "w" / "flywheel.duckdb", raw_dir=PROJECT_ROOT / "seeds"
    )
    assert preflight(dataclasses.replace(base, as_of="2026-10-31")) == []
    assert preflight(dataclasses.replace(base, as_of="yesterday")) == [
        "FLYWHEEL_AS_OF='yesterday' is not a date or timestamp (use 2026-10-31 or 2026-10-31T18:00:00Z)"
    ]
    (problem,) = preflight(dataclasses.replace(base, as_of="1999-12-31"))
    assert "lies before data_horizon.earliest" in problem
    assert not (tmp_path / "w" / "flywheel.duckdb").exists()


def test_a_failed_blocking_check_names_its_asset_and_check_on_the_summary_line() -> None:
    """Dagster's message lists the failed checks below its first line; the summary keeps them on one line."""
    from pipelines.progress import first_line as _first_line

    message = (
        "dagster._core.errors.DagsterAssetCheckFailedError: 1 blocking asset check failed with ERROR severity:\n"
        'salesforce/opportunity: row_count_did_not_collapse\n\nStack Trace:\n  File "x.py", line 1'
    )
    assert _first_line(message).endswith("severity: salesforce/opportunity: row_count_did_not_collapse")
    assert _first_line("Binder Error: no table\nLINE 3: select") == "Binder Error: no table"


def test_a_spark_run_that_cannot_start_says_why_within_seconds(tmp_path: Path) -> None:
    """An unreachable Spark Connect server is a preflight problem, named, found before any JVM starts."""
    from pipelines.spec.settings import Settings
    from pipelines.warehouse.preflight import engine_problems

    settings = dataclasses.replace(
        Settings.from_env(), warehouse=tmp_path / "flywheel.duckdb", engine="spark", spark_remote="sc://127.0.0.1:1"
    )
    started = time.perf_counter()
    problems = engine_problems(settings)
    assert time.perf_counter() - started < 5
    assert len(problems) == 1 and "sc://127.0.0.1:1" in problems[0]
