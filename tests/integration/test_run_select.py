"""`flywheel run --select` builds exactly the selected assets and their checks; `--fail-fast` stops at the first
failed step. Both on the six hand-worked leads (tests/integration/test_hand_worked_leads.py), a few assets only."""

from __future__ import annotations

import csv
from pathlib import Path

import dagster as dg

from pipelines import cli
from tests.conftest import settings_for
from tests.fixtures import query, write_raw
from tests.integration.test_hand_worked_leads import TABLES


def test_select_builds_exactly_the_selection_and_its_checks(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, write_raw(tmp_path / "raw", TABLES))
    summary = cli.run_pipeline(settings, instance=dg.DagsterInstance.ephemeral(), select="+stg_salesforce__leads")
    assert summary.succeeded
    assert sorted(summary.assets_built) == ["salesforce/lead", "staging/stg_salesforce__leads"]
    tables = query(settings, "select table_schema || '.' || table_name as name from information_schema.tables")
    built = set(tables["name"]) - {name for name in tables["name"] if name.startswith(("audit.", "quarantine."))}
    assert built == {"salesforce.lead", "staging.stg_salesforce__leads"}
    checks = {name.split(":")[1] for name in summary.checks_passed}
    assert {"grain_is_unique", "assert_every_raw_row_is_accounted_for"} <= checks
    assert {name.split(":")[0] for name in summary.checks_passed} == set(summary.assets_built)


def without_column(path: Path, column: str) -> None:
    """Rewrite a raw CSV file without one of its columns: its raw load fails, and does not retry."""
    with path.open() as handle:
        rows = list(csv.DictReader(handle))
    fields = [name for name in rows[0] if name != column]
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def steps_started_after_a_failure(result: dg.ExecuteInProcessResult) -> list[str]:
    """The steps that started after the first step failed, in order."""
    started: list[str] = []
    failed = False
    for event in result.all_events:
        if event.event_type == dg.DagsterEventType.STEP_FAILURE:
            failed = True
        elif failed and event.event_type == dg.DagsterEventType.STEP_START:
            started.append(event.step_key or "?")
    return started


def test_fail_fast_stops_at_the_first_failed_step(tmp_path: Path) -> None:
    raw = write_raw(tmp_path / "raw", TABLES)
    without_column(raw / "salesforce" / "lead.csv", "is_deleted")
    settings = settings_for(tmp_path, raw)
    selection = "salesforce/lead or account or opportunity or contact"
    carried_on = cli.run_pipeline(settings, instance=dg.DagsterInstance.ephemeral(), select=selection)
    assert carried_on.failed_steps == ["salesforce__lead"] and carried_on.result is not None
    assert steps_started_after_a_failure(carried_on.result), "the loads after the failed one ran"
    stopped = cli.run_pipeline(settings, instance=dg.DagsterInstance.ephemeral(), select=selection, fail_fast=True)
    assert stopped.failed_steps == ["salesforce__lead"] and stopped.result is not None
    assert "is_deleted" in stopped.step_errors["salesforce__lead"]
    assert steps_started_after_a_failure(stopped.result) == []
    assert len(stopped.assets_built) < len(carried_on.assets_built) and not stopped.succeeded
    assert stopped.result.dagster_run.status == dg.DagsterRunStatus.FAILURE
