"""Operating Flywheel: the raw files sensor, freshness checks, retries, and the run-failure report."""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pandas as pd

from pipelines.orchestration.operations import (
    RAW_FILES_SENSOR,
    RAW_FRESHNESS_HOURS,
    RUN_FAILURE_SENSOR,
    RUN_FAILURES_FILE,
    build_raw_files_sensor,
    failure_report,
)
from pipelines.orchestration.project import BUILD_JOB, build_definitions
from pipelines.spec.settings import PROJECT_ROOT, Settings
from pipelines.spec.sources import SourceTable, load_sources
from tests.conftest import settings_for

SEEDS = PROJECT_ROOT / "seeds"


def _sources() -> list[SourceTable]:
    return load_sources(Settings.from_env().sources_file)


def _two_tables(raw_dir: Path) -> list[SourceTable]:
    """Two contract tables with a file each, written an hour ago (so they have settled)."""
    tables = [table for table in _sources() if table.key in {("salesforce", "lead"), ("stripe", "customer")}]
    for table in tables:
        path = raw_dir / table.source / f"{table.name}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("id\n1\n")
        _age(path)
    assert len(tables) == 2
    return tables


def _age(path: Path, seconds: float = 3600) -> None:
    stamp = datetime.now(UTC).timestamp() - seconds
    os.utime(path, (stamp, stamp))


def _evaluate(sensor: dg.SensorDefinition, cursor: str | None) -> tuple[list[dg.RunRequest], str | None, str | None]:
    context = dg.build_sensor_context(cursor=cursor)
    result = sensor.evaluate_tick(context)
    return list(result.run_requests or []), result.cursor, result.skip_message


def test_the_sensor_requests_one_run_per_change_and_skips_when_nothing_changed(tmp_path: Path) -> None:
    tables = _two_tables(tmp_path)
    sensor = build_raw_files_sensor(tmp_path, tables, dg.define_asset_job(BUILD_JOB))

    first, cursor, _ = _evaluate(sensor, None)
    assert len(first) == 1 and first[0].run_key == cursor

    again, same_cursor, skipped = _evaluate(sensor, cursor)
    assert again == [] and same_cursor == cursor
    assert skipped and "no raw file changed" in skipped

    lead = tmp_path / "salesforce" / "lead.csv"
    lead.write_text("id\n1\n2\n")
    _age(lead, 120)
    changed, new_cursor, _ = _evaluate(sensor, cursor)
    assert len(changed) == 1
    assert changed[0].run_key == new_cursor != cursor
    assert changed[0].tags["flywheel/trigger"] == RAW_FILES_SENSOR


def test_the_sensor_waits_for_a_file_being_written_and_for_missing_tables(tmp_path: Path) -> None:
    tables = _two_tables(tmp_path)
    sensor = build_raw_files_sensor(tmp_path, tables, dg.define_asset_job(BUILD_JOB))
    _, cursor, _ = _evaluate(sensor, None)

    (tmp_path / "stripe" / "customer.csv").write_text("id\n1\n2\n3\n")  # just now: the connector may still write
    requests, kept, skipped = _evaluate(sensor, cursor)
    assert requests == [] and kept == cursor and skipped and "settle" in skipped

    (tmp_path / "stripe" / "customer.csv").unlink()
    requests, kept, skipped = _evaluate(sensor, cursor)
    assert requests == [] and kept == cursor and skipped and "stripe.customer" in skipped


def test_every_raw_asset_has_a_freshness_check_and_no_asset_has_a_blanket_retry_policy() -> None:
    definitions = build_definitions(Settings.from_env())
    graph = definitions.resolve_asset_graph()
    raw_keys = {dg.AssetKey(list(table.key)) for table in _sources()}
    freshness = {key.asset_key for key in graph.asset_check_keys if key.name == "freshness_check"}
    assert freshness == raw_keys
    for checks in definitions.asset_checks or []:
        for spec in checks.check_specs:
            if spec.name == "freshness_check":
                params = spec.metadata["dagster/freshness_params"].value
                assert params["lower_bound_delta_seconds"] == RAW_FRESHNESS_HOURS * 3600

    # No blanket retry policy: a raw load asks for a retry only when its error is transient (see transient_reason),
    # and a model never retries (a SQL error or a failed check is not fixed by running again).
    for assets_def in definitions.assets or []:
        assert isinstance(assets_def, dg.AssetsDefinition)
        assert assets_def.op.retry_policy is None, assets_def.key

    sensors = {sensor.name: sensor for sensor in definitions.sensors or []}
    assert sensors[RAW_FILES_SENSOR].default_status == dg.DefaultSensorStatus.STOPPED
    assert sensors[RUN_FAILURE_SENSOR].default_status == dg.DefaultSensorStatus.RUNNING


def test_the_failure_report_names_the_failing_check_and_step() -> None:
    evaluations = [
        dg.AssetCheckEvaluation(
            asset_key=dg.AssetKey(["staging", "stg_salesforce__leads"]),
            check_name="lead_contract",
            passed=False,
            description="1 of 12 expectations failed:\n- created_date >= 2000-01-01: 1 row",
            metadata={"failed_expectations": 1, "failures": dg.MetadataValue.md("| long table |")},
        ),
        dg.AssetCheckEvaluation(
            asset_key=dg.AssetKey(["staging", "stg_salesforce__leads"]), check_name="grain_is_unique", passed=True
        ),
        dg.AssetCheckEvaluation(
            asset_key=dg.AssetKey(["marts", "rpt_funnel_monthly"]), check_name="grain_is_not_null", passed=False
        ),
        dg.AssetCheckEvaluation(
            asset_key=dg.AssetKey(["staging", "stg_salesforce__leads"]),
            check_name="assert_rollup",
            passed=False,
            severity=dg.AssetCheckSeverity.WARN,
            description="Not evaluated: the model failed an earlier blocking check and was not published.",
            metadata={"evaluated": False},
        ),
    ]
    report = failure_report(
        run_id="abc123",
        job_name="build_everything",
        failed_at=datetime(2026, 11, 23, 6, 4, 5, tzinfo=UTC),
        message="Execution of run for build_everything failed.",
        step_errors={"staging__stg_salesforce__leads": "1 blocking asset check failed with ERROR severity:\nmore"},
        check_evaluations=evaluations,
        check_docs={("marts/rpt_funnel_monthly", "grain_is_not_null"): "No grain column (month) is null."},
    )
    assert [(check.asset_key, check.check_name) for check in report.failed_checks] == [
        ("marts/rpt_funnel_monthly", "grain_is_not_null"),
        ("staging/stg_salesforce__leads", "lead_contract"),
    ]
    # The evaluation's own description, first line only; the documented one when the evaluation has none.
    assert report.failed_checks[1].description == "1 of 12 expectations failed:"
    assert report.failed_checks[1].details == {"failed_expectations": 1}
    assert report.not_evaluated == ["staging/stg_salesforce__leads:assert_rollup"]
    assert report.failed_checks[0].description == "No grain column (month) is null."
    assert report.failed_steps[0].error == "1 blocking asset check failed with ERROR severity:"
    assert report.failed_at == "2026-11-23T06:04:05+00:00"
    text = report.render()
    assert text.splitlines()[0] == (
        "Flywheel run abc123 of build_everything FAILED at 2026-11-23T06:04:05+00:00: "
        "1 failed step(s), 2 failed check(s), 1 not evaluated"
    )
    assert "  check staging/stg_salesforce__leads:lead_contract [ERROR] 1 of 12 expectations failed:" in text
    assert json.loads(report.to_json())["failed_checks"][1]["check_name"] == "lead_contract"


def test_a_failed_run_is_reported_with_its_failing_check(tmp_path: Path) -> None:
    """A lead with a negative employee count fails staging's blocking suite; the reporter names it."""
    raw_dir = tmp_path / "raw"
    shutil.copytree(SEEDS, raw_dir)
    leads = pd.read_csv(raw_dir / "salesforce" / "lead.csv", dtype=str)
    broken = leads.head(1).copy()
    broken["id"] = ["00Qextra000000000"]
    broken["number_of_employees"] = ["-5"]
    pd.concat([leads, broken]).to_csv(raw_dir / "salesforce" / "lead.csv", index=False)
    settings = settings_for(tmp_path, raw_dir)
    definitions = build_definitions(settings)
    selection = dg.AssetSelection.from_string('+key:"staging/stg_salesforce__leads"')

    with dg.instance_for_test() as instance:
        result = definitions.resolve_job_def(BUILD_JOB).execute_in_process(
            instance=instance,
            raise_on_error=False,
            asset_selection=sorted(selection.resolve(definitions.resolve_asset_graph())),
        )
        assert not result.success
        sensor = next(sensor for sensor in definitions.sensors or [] if sensor.name == RUN_FAILURE_SENSOR)
        context = dg.build_run_status_sensor_context(
            sensor_name=RUN_FAILURE_SENSOR,
            dagster_instance=instance,
            dagster_run=result.dagster_run,
            dagster_event=result.get_run_failure_event(),
        ).for_run_failure()
        sensor(context)  # type: ignore[call-arg]

    lines = (settings.warehouse.parent / RUN_FAILURES_FILE).read_text().splitlines()
    assert len(lines) == 1
    report = json.loads(lines[0])
    assert report["run_id"] == result.dagster_run.run_id
    assert [(check["asset_key"], check["check_name"]) for check in report["failed_checks"]] == [
        ("staging/stg_salesforce__leads", "lead_contract")
    ]
    assert report["failed_checks"][0]["description"]
    assert [step["step_key"] for step in report["failed_steps"]] == ["staging__stg_salesforce__leads"]
    assert (
        "staging.stg_salesforce__leads failed blocking check(s) lead_contract: not published"
        in (report["failed_steps"][0]["error"])
    )
    # The step failed: no materialization is recorded for the model, so the UI keeps its last good one.
    assert dg.AssetKey(["staging", "stg_salesforce__leads"]) not in {
        event.asset_key for event in result.get_asset_materialization_events()
    }
    assert report["not_evaluated"] == ["staging/stg_salesforce__leads:assert_every_raw_row_is_accounted_for"]
    # The freshness checks ran right after the loads, and passed.
    freshness = [check for check in result.get_asset_check_evaluations() if check.check_name == "freshness_check"]
    assert freshness and all(check.passed for check in freshness)
