"""Operating Flywheel: a sensor for new raw files, freshness checks on the raw tables, and run-failure reports.

- `raw_files_sensor` starts the build job when a contract table's file under the raw directory changes. Its cursor
  is a digest of the files' names, sizes and modification times, and the digest is also the run key, so one change
  starts exactly one run. It is STOPPED by default: the daily schedule is the default trigger (and is STOPPED too
  until someone turns it on), and a sensor that launched a full build every time `dagster dev` starts on a fresh
  DAGSTER_HOME would surprise. Turn it on where connectors land files on their own timetable. When the Spark engine
  reads the raw tables from its catalog (FLYWHEEL_SPARK_RAW_TABLES) there are no files to watch: the sensor skips,
  saying so, and the schedule (or the connector's own trigger) starts the builds.
- Every raw asset has a last-update freshness check: the raw tables are expected to be reloaded at least every
  `RAW_FRESHNESS_HOURS` (26 h: the daily 06:00 run plus two hours of slack for a slow connector sync or a retry).
  The checks run in the build job right after the loads, and a sensor (RUNNING by default: it only reads the event
  log and launches check-only runs) re-evaluates them when they may have gone stale, so a schedule switched off or
  a connector that stopped landing files shows up as overdue raw assets in the UI.
- `run_failure_reporter` (RUNNING by default: it launches nothing) writes a concise report of every failed run, naming
  the failed steps and the failed checks (asset, check name, description), to the sensor log and as one JSON line to
  `<warehouse folder>/run_failures.jsonl`, for an on-call to tail or a webhook to forward.
- Raw loads retry transient errors only: see pipelines/warehouse/retries.py.
"""

from __future__ import annotations

import hashlib
import json
import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg

from pipelines.spec.sources import SourceTable
from pipelines.warehouse.retries import SETTLE_SECONDS, files_of

RAW_FILES_SENSOR = "raw_files_sensor"
RUN_FAILURE_SENSOR = "run_failure_reporter"
FRESHNESS_SENSOR = "raw_freshness_sensor"
RAW_FRESHNESS_HOURS = 26
RUN_FAILURES_FILE = "run_failures.jsonl"


@dataclass(frozen=True)
class RawFileState:
    """What the sensor knows of one contract table's file: where it is, how big, when last written."""

    table: str
    path: str | None
    size: int
    mtime_ns: int


def raw_file_states(raw_dir: Path, tables: Iterable[SourceTable]) -> list[RawFileState]:
    """The name, size and modification time of each contract table's file (a missing file has path None)."""
    states = []
    for table in sorted(tables, key=lambda table: table.key):
        name = f"{table.source}.{table.name}"
        try:
            path = table.find_file(raw_dir)
        except Exception:  # the contract's own error: no file yet
            states.append(RawFileState(table=name, path=None, size=0, mtime_ns=0))
            continue
        files = files_of(path)
        stats = [file.stat() for file in files]
        states.append(
            RawFileState(
                table=name,
                path=str(path.relative_to(raw_dir)),
                size=sum(stat.st_size for stat in stats),
                mtime_ns=max((stat.st_mtime_ns for stat in stats), default=0),
            )
        )
    return states


def raw_files_digest(states: Sequence[RawFileState]) -> str:
    """A digest that changes whenever a file is added, removed, resized or rewritten."""
    text = "\n".join(f"{state.table}\t{state.path}\t{state.size}\t{state.mtime_ns}" for state in states)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def build_raw_files_sensor(
    raw_dir: Path,
    tables: Sequence[SourceTable],
    job: dg.UnresolvedAssetJobDefinition | dg.JobDefinition,
    settle_seconds: float = SETTLE_SECONDS,
    default_status: dg.DefaultSensorStatus = dg.DefaultSensorStatus.STOPPED,
    run_tags: Callable[[], dict[str, str]] = dict,
    catalog_raw_tables: str = "",
) -> dg.SensorDefinition:
    """A sensor that requests one build run per new state of the raw files; see the module docstring.

    `run_tags` adds tags to each run request, such as the range of daily partitions a refresh rebuilds. With
    `catalog_raw_tables` (the raw tables are read from the Spark catalog) it always skips.
    """

    @dg.sensor(
        name=RAW_FILES_SENSOR,
        job=job,
        minimum_interval_seconds=60,
        default_status=default_status,
        description=(
            f"Starts {job.name} when a source contract table's file under {raw_dir} is added, replaced or changed "
            "(cursor and run key: a digest of the files' names, sizes and modification times). Waits while a file "
            f"was modified in the last {settle_seconds:g} s or a table has no file yet."
        ),
    )
    def raw_files_sensor(context: dg.SensorEvaluationContext) -> dg.RunRequest | dg.SkipReason:
        if catalog_raw_tables:
            return dg.SkipReason(
                f"the raw tables are read from the Spark catalog ({catalog_raw_tables}, FLYWHEEL_SPARK_RAW_TABLES), "
                "not from files: this sensor has nothing to watch; start builds with the schedule"
            )
        states = raw_file_states(raw_dir, tables)
        digest = raw_files_digest(states)
        if digest == context.cursor:
            return dg.SkipReason(f"no raw file changed since the last run request (digest {digest})")
        missing = [state.table for state in states if state.path is None]
        if missing:
            return dg.SkipReason(f"waiting for the connector: no file yet for {', '.join(missing)}")
        newest = max(state.mtime_ns for state in states) / 1e9
        if time.time() - newest < settle_seconds:
            return dg.SkipReason(f"a raw file changed less than {settle_seconds:g} s ago: waiting for it to settle")
        context.update_cursor(digest)
        return dg.RunRequest(
            run_key=digest,
            tags={"flywheel/trigger": RAW_FILES_SENSOR, "flywheel/raw_digest": digest, **run_tags()},
        )

    return raw_files_sensor


def raw_freshness_checks(raw_keys: Sequence[dg.AssetKey]) -> Sequence[dg.AssetChecksDefinition]:
    """One last-update freshness check per raw asset: reloaded within the last RAW_FRESHNESS_HOURS hours."""
    # Dagster 1.13 marks these "superseded" by FreshnessPolicy, which is still in preview and needs
    # `freshness: enabled` in dagster.yaml; the checks work on any instance and show in the asset's Checks tab.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.SupersessionWarning)
        return dg.build_last_update_freshness_checks(
            assets=list(raw_keys), lower_bound_delta=timedelta(hours=RAW_FRESHNESS_HOURS)
        )


# ------------------------------------------------------------------------------------------------ failure reports


@dataclass(frozen=True)
class FailedStep:
    step_key: str
    error: str


@dataclass(frozen=True)
class FailedCheck:
    asset_key: str
    check_name: str
    severity: str
    description: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FailureReport:
    """What an on-call needs first: which run, which steps, which checks, and why."""

    run_id: str
    job_name: str
    failed_at: str
    message: str
    failed_steps: list[FailedStep]
    failed_checks: list[FailedCheck]
    # Checks skipped because an earlier blocking check of the same asset failed: `asset:check`.
    not_evaluated: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, default=str)

    def render(self) -> str:
        """A few lines for a log or a chat message."""
        lines = [
            f"Flywheel run {self.run_id} of {self.job_name} FAILED at {self.failed_at}: "
            f"{len(self.failed_steps)} failed step(s), {len(self.failed_checks)} failed check(s)"
            + (f", {len(self.not_evaluated)} not evaluated" if self.not_evaluated else "")
        ]
        lines += [f"  step  {step.step_key}: {step.error}" for step in self.failed_steps]
        for check in self.failed_checks:
            details = ", ".join(f"{name}={value}" for name, value in check.details.items())
            lines.append(
                f"  check {check.asset_key}:{check.check_name} [{check.severity}] {check.description}"
                + (f" ({details})" if details else "")
            )
        if not self.failed_steps and not self.failed_checks:
            lines.append(f"  {self.message}")
        return "\n".join(lines)


def _first_line(text: str, limit: int = 300) -> str:
    line = next((line.strip() for line in text.strip().splitlines() if line.strip()), "")
    return line if len(line) <= limit else line[: limit - 3] + "..."


def failure_report(
    run_id: str,
    job_name: str,
    failed_at: datetime,
    message: str,
    step_errors: Mapping[str, str],
    check_evaluations: Iterable[dg.AssetCheckEvaluation],
    check_docs: Mapping[tuple[str, str], str] | None = None,
) -> FailureReport:
    """The report of one failed run, from its step errors and check evaluations (a pure function).

    Only failed checks are reported (a check skipped because an earlier blocking check failed is listed as not
    evaluated); a check's description is the evaluation's own (what the suite found) or, when the evaluation has
    none, the check's documented description from `check_docs`.
    """
    docs = check_docs or {}
    checks = []
    not_evaluated = []
    for evaluation in check_evaluations:
        if evaluation.passed:
            continue
        asset = evaluation.asset_key.to_user_string()
        evaluated = evaluation.metadata.get("evaluated")
        if evaluated is not None and evaluated.value is False:
            not_evaluated.append(f"{asset}:{evaluation.check_name}")
            continue
        # The counts (violating rows, duplicated keys, failed expectations): short, and what an on-call asks first.
        details = {
            name: value.value
            for name, value in evaluation.metadata.items()
            if isinstance(value.value, int) and not isinstance(value.value, bool)
        }
        checks.append(
            FailedCheck(
                asset_key=asset,
                check_name=evaluation.check_name,
                severity=evaluation.severity.value,
                description=_first_line(evaluation.description or docs.get((asset, evaluation.check_name), "")),
                details=details,
            )
        )
    checks.sort(key=lambda check: (check.severity != "ERROR", check.asset_key, check.check_name))
    return FailureReport(
        run_id=run_id,
        job_name=job_name,
        failed_at=failed_at.astimezone(UTC).isoformat(timespec="seconds"),
        message=_first_line(message),
        failed_steps=[
            FailedStep(step_key=step, error=_first_line(error)) for step, error in sorted(step_errors.items())
        ],
        failed_checks=checks,
        not_evaluated=sorted(not_evaluated),
    )


def append_report(report: FailureReport, path: Path) -> None:
    """Append the report as one JSON line (the file and its folder are created on first use)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as file:
        file.write(report.to_json() + "\n")


def check_docs_of(assets: Iterable[dg.AssetsDefinition | dg.AssetChecksDefinition]) -> dict[tuple[str, str], str]:
    """The documented description of every check, by (asset key, check name)."""
    return {
        (spec.asset_key.to_user_string(), spec.name): spec.description or ""
        for definition in assets
        for spec in definition.check_specs
    }


def build_run_failure_sensor(
    report_file: Path,
    check_docs: Mapping[tuple[str, str], str],
    default_status: dg.DefaultSensorStatus = dg.DefaultSensorStatus.RUNNING,
) -> dg.SensorDefinition:
    """A run-failure sensor that logs the report of every failed run and appends it to `report_file`."""

    @dg.run_failure_sensor(
        name=RUN_FAILURE_SENSOR,
        default_status=default_status,
        description=(
            f"Reports every failed run of this code location: failed steps and failed checks (asset, check, "
            f"description), to the sensor log and as one JSON line in {report_file}."
        ),
    )
    def run_failure_reporter(context: dg.RunFailureSensorContext) -> None:
        run = context.dagster_run
        step_errors = {}
        for event in context.get_step_failure_events():
            data = event.step_failure_data
            if data and data.user_failure_data and data.user_failure_data.description:
                # A model that failed a blocking check (`dg.Failure`): its description names the checks.
                step_errors[event.step_key or "?"] = data.user_failure_data.description
            else:
                step_errors[event.step_key or "?"] = data.error.message if data and data.error else event.message or ""
        evaluations = [
            entry.dagster_event.asset_check_evaluation_data
            for entry in context.instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
            if entry.dagster_event is not None
        ]
        report = failure_report(
            run_id=run.run_id,
            job_name=run.job_name,
            failed_at=datetime.now(UTC),
            message=context.failure_event.message or "",
            step_errors=step_errors,
            check_evaluations=evaluations,
            check_docs=check_docs,
        )
        context.log.error(report.render())
        append_report(report, report_file)

    return run_failure_reporter


# ------------------------------------------------------------------------------------------------ assembly


@dataclass(frozen=True)
class Operations:
    """The operating definitions of a project: freshness checks and sensors."""

    checks: list[dg.AssetChecksDefinition]
    sensors: list[dg.SensorDefinition]


def operations_for(
    raw_dir: Path,
    warehouse_dir: Path,
    sources: Sequence[SourceTable],
    assets: Iterable[dg.AssetsDefinition],
    build_job: dg.UnresolvedAssetJobDefinition,
    run_tags: Callable[[], dict[str, str]] = dict,
    catalog_raw_tables: str = "",
) -> Operations:
    """Freshness checks on every raw asset, their sensor, the raw files sensor and the run-failure reporter."""
    checks = list(raw_freshness_checks([dg.AssetKey(list(table.key)) for table in sources]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.SupersessionWarning)
        freshness_sensor = dg.build_sensor_for_freshness_checks(
            freshness_checks=checks,
            name=FRESHNESS_SENSOR,
            minimum_interval_seconds=600,
            default_status=dg.DefaultSensorStatus.RUNNING,
        )
    return Operations(
        checks=checks,
        sensors=[
            build_raw_files_sensor(
                raw_dir, sources, build_job, run_tags=run_tags, catalog_raw_tables=catalog_raw_tables
            ),
            freshness_sensor,
            build_run_failure_sensor(warehouse_dir / RUN_FAILURES_FILE, check_docs_of([*assets, *checks])),
        ],
    )
