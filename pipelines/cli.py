"""`flywheel`: the command line of the project.

flywheel run        materialize every asset (or --select SELECTION) into the warehouse and print a summary
flywheel ls         list the assets a selection matches
flywheel show       print a model's SQL and its first rows
flywheel compile    write every model's SQL and checks as they run
flywheel refresh    rebuild the latest days of product events (and the late-arrival window) and what reads them
flywheel backfill   rebuild product events for the days --from .. --to, and everything downstream of them
flywheel generate   write the deterministic demo data (see `flywheel generate --help`)
flywheel forget     erase one person (by e-mail, lead id or contact id) now and on every later run
flywheel preview    what a candidate definitions file would change, built in a scratch warehouse

`ls`, `show` and `compile` build nothing; they live in pipelines/project_commands.py.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import dagster as dg
import duckdb

from pipelines.command_settings import add_engine_option, command_settings
from pipelines.docs.report import REPORT_FILE
from pipelines.orchestration.interrupts import cancel_on_interrupt
from pipelines.orchestration.project import (
    BUILD_JOB,
    build_definitions,
    daily_partitions,
    partition_range_tags,
    refresh_days,
)
from pipelines.orchestration.selection import SelectionError, resolve_selection
from pipelines.progress import (
    ProgressDisplay,
    add_progress_option,
    check_docs,
    check_failure_reasons,
    check_outcomes,
    first_line,
    following,
)
from pipelines.progress import step_failure_reason as step_failure_reason
from pipelines.project_commands import COMMANDS as PROJECT_COMMANDS
from pipelines.project_commands import SELECTION_HELP, add_project_commands, run_project_command
from pipelines.spec.partitions import DayRange, PartitionError
from pipelines.spec.project_files import load_project_files, read_sources
from pipelines.spec.settings import Settings
from pipelines.warehouse.erasure import ErasureError, record_request, requested_hashes
from pipelines.warehouse.preflight import PreflightError, preflight
from pipelines.warehouse.publish import SNAPSHOT_FILE, prune

# The exit code of a command stopped by Ctrl-C, as shells report a process ended by SIGINT (128 + 2).
INTERRUPTED = 130


@dataclass
class RunSummary:
    """What a build did: assets built, checks passed or failed, steps that failed, rows per mart."""

    succeeded: bool
    seconds: float
    assets_built: list[str] = field(default_factory=list)
    checks_passed: list[str] = field(default_factory=list)
    checks_failed: list[str] = field(default_factory=list)
    # Failed checks of severity warn: reported, but they neither block nor fail the build.
    checks_warned: list[str] = field(default_factory=list)
    # Why each failed check failed (severity, what it found, its counts), by `asset:check`.
    check_reasons: dict[str, str] = field(default_factory=dict)
    failed_steps: list[str] = field(default_factory=list)
    # Why each failed step failed: the first line of its error.
    step_errors: dict[str, str] = field(default_factory=dict)
    mart_rows: dict[str, int] = field(default_factory=dict)
    # Marts this run did not materialize (failed, skipped or not selected): their rows are the last good build's.
    last_good_marts: set[str] = field(default_factory=set)
    # Stopped by Ctrl-C (SIGINT): the run is marked canceled.
    canceled: bool = False
    model_build_seconds: float = 0.0
    model_check_seconds: float = 0.0
    publish_id: str | None = None
    published_snapshot: str | None = None
    schema_drift: list[str] = field(default_factory=list)
    result: dg.ExecuteInProcessResult | None = field(default=None, repr=False)

    def render(self) -> str:
        outcome = "canceled" if self.canceled else "succeeded" if self.succeeded else "FAILED"
        lines = [
            f"Flywheel build {outcome} in {self.seconds:.1f} s",
            f"  assets built:  {len(self.assets_built)}",
            f"  checks passed: {len(self.checks_passed)}",
            f"  checks failed: {len(self.checks_failed)}",
        ]
        lines += [
            f"    - {name}: {self.check_reasons[name]}" if name in self.check_reasons else f"    - {name}"
            for name in self.checks_failed
        ]
        if self.checks_warned:
            lines.append(f"  checks warned: {len(self.checks_warned)}")
            lines += [f"    - {name}: {self.check_reasons.get(name, '[WARN]')}" for name in self.checks_warned]
        lines += [f"  schema drift:  {drift}" for drift in self.schema_drift]
        if self.model_build_seconds:
            ratio = self.model_check_seconds / self.model_build_seconds
            lines.append(
                f"  model build:   {self.model_build_seconds:.1f} s; checks on them: {self.model_check_seconds:.1f} s "
                f"(check / build = {ratio:.2f})"
            )
        if self.failed_steps:
            lines.append(f"  failed steps:  {len(self.failed_steps)}")
            lines += [
                f"    - {name}: {self.step_errors[name]}" if self.step_errors.get(name) else f"    - {name}"
                for name in self.failed_steps
            ]
        if self.mart_rows:
            lines.append("  rows per mart:")
            width = max(len(name) for name in self.mart_rows)
            lines += [
                f"    {name:<{width}}  {rows:>8}" + ("  (last good build)" if name in self.last_good_marts else "")
                for name, rows in sorted(self.mart_rows.items())
            ]
        return "\n".join(lines)


def _instance() -> dg.DagsterInstance:
    """The persistent instance under DAGSTER_HOME (so the UI shows the run), else a throwaway one."""
    return dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()


def mart_row_counts(settings: Settings) -> dict[str, int]:
    """Rows in every mart table, read from the warehouse after the build (on Spark, from its catalog)."""
    if settings.engine == "spark":
        from pipelines.warehouse.spark.publish import spark_mart_row_counts

        return spark_mart_row_counts(settings)
    with duckdb.connect(str(settings.warehouse), read_only=True) as connection:
        tables = connection.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' "
            "and table_name not like '\\_pending\\_\\_%' escape '\\' order by table_name"
        ).fetchall()
        counts = {}
        for (table,) in tables:
            result = connection.execute(f'select count(*) from marts."{table}"').fetchone()
            counts[f"marts.{table}"] = int(result[0]) if result else 0
    return counts


def published_line(summary: RunSummary, settings: Settings) -> str:
    """Where BI reads the marts, and whether this run refreshed them."""
    if summary.published_snapshot:
        return f"{summary.published_snapshot} (publish {summary.publish_id}; BI connects here, see docs/bi.md)"
    snapshot = settings.published_dir / SNAPSHOT_FILE
    if snapshot.exists():
        return f"not refreshed by this run; BI still reads the last good snapshot {snapshot}"
    if summary.canceled:
        return "nothing published (the run was canceled)"
    return "nothing published (the marts did not pass their checks)"


def partitioned_raw_keys(settings: Settings) -> list[str]:
    """The day-partitioned raw tables, as asset selection strings (`product/events`)."""
    return [f"{table.source}/{table.name}" for table in read_sources(settings.sources_file) if table.partitioned]


def schema_drift(asset_key: dg.AssetKey, metadata: Mapping[str, dg.MetadataValue]) -> list[str]:
    """The columns a raw load suspected renamed (its `suspected_renames` metadata), one line each."""
    suspects = metadata["suspected_renames"].value if "suspected_renames" in metadata else {}
    table = ".".join(asset_key.path)
    pairs = sorted(suspects.items()) if isinstance(suspects, Mapping) else []
    return [f"{table}: file has {found}, contract expects {missing} (renamed_from?)" for missing, found in pairs]


def refresh_selection(settings: Settings) -> list[str]:
    """What a refresh or backfill rebuilds (with everything downstream): the day-partitioned raw tables, and the data
    horizon, since new days move the as-of time the marts end at."""
    return [*partitioned_raw_keys(settings), "definitions/data_horizon"]


def check_project(settings: Settings) -> dg.Definitions:
    """The project's definitions, after the preflight checks; raises PreflightError, before anything is written."""
    problems = preflight(settings)
    if problems:
        raise PreflightError(problems)
    try:
        return build_definitions(settings, load_project_files(settings))
    except ValueError as error:  # a model, suite, contract or definitions file the build cannot use
        raise PreflightError([first_line(str(error))]) from error


def run_pipeline(
    settings: Settings,
    instance: dg.DagsterInstance | None = None,
    days: DayRange | None = None,
    selection: Sequence[str] | None = None,
    select: str | None = None,
    fail_fast: bool = False,
    progress: ProgressDisplay | None = None,
) -> RunSummary:
    """Materialize every asset (or the `selection` and everything downstream of it, or exactly the assets a
    `select` string matches, see pipelines/orchestration/selection.py) in one in-process run.

    Day-partitioned assets (product events) are rebuilt for `days`, by default every day there is. The preflight
    checks run first: a project that cannot build raises PreflightError, and a `select` that matches nothing raises
    SelectionError, before anything is written. Ctrl-C stops the run within seconds and marks it canceled (see
    pipelines/orchestration/interrupts.py). `fail_fast` stops the run at the first failed step, leaving the steps
    after it unrun. `progress` is called with every event of the run as it happens (see pipelines/progress.py).
    """
    started = time.perf_counter()
    definitions = check_project(settings)
    job = definitions.resolve_job_def(BUILD_JOB)
    if days is None:
        keys = daily_partitions(settings).get_partition_keys()
        days = DayRange.parse(keys[0], keys[-1])
    asset_selection = None
    if selection:
        asset_selection = list(
            dg.AssetSelection.from_coercible(list(selection)).downstream().resolve(definitions.resolve_asset_graph())
        )
    if select is not None:
        asset_selection = resolve_selection(definitions, select)
    log_level = os.environ.get("FLYWHEEL_LOG_LEVEL", "WARNING")
    instance = instance or _instance()
    run_id = str(uuid.uuid4())
    with cancel_on_interrupt() as interruption, following(instance, run_id, progress):
        try:
            result = job.execute_in_process(
                instance=instance,
                # Raising the first step's error ends the run there: Dagster's in-process way to fail fast.
                raise_on_error=fail_fast,
                run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
                tags=partition_range_tags(days),
                asset_selection=asset_selection,
                run_id=run_id,
            )
        except Exception:
            if not fail_fast:
                raise
            result = recorded_result(instance, run_id, job)
    run = instance.get_run_by_id(run_id)
    summary = RunSummary(succeeded=result.success, seconds=0.0, result=result)
    summary.canceled = interruption.received or (run is not None and run.status == dg.DagsterRunStatus.CANCELED)
    for event in result.get_asset_materialization_events():
        # A day-partitioned asset materializes once per day rebuilt, with the same metadata: count it once.
        if event.asset_key is None or event.asset_key.to_user_string() in summary.assets_built:
            continue
        summary.assets_built.append(event.asset_key.to_user_string())
        metadata = event.materialization.metadata
        if "publish_id" in metadata and "snapshot" in metadata:
            summary.publish_id = str(metadata["publish_id"].value)
            summary.published_snapshot = str(metadata["snapshot"].value)
        summary.schema_drift += schema_drift(event.asset_key, metadata)
        if "build_seconds" in metadata and "check_seconds" in metadata:
            summary.model_build_seconds += float(metadata["build_seconds"].value)  # type: ignore[arg-type]
            summary.model_check_seconds += float(metadata["check_seconds"].value)  # type: ignore[arg-type]
    summary.checks_passed, summary.checks_failed, summary.checks_warned = check_outcomes(
        list(result.get_asset_check_evaluations())
    )
    summary.check_reasons = check_failure_reasons(result.get_asset_check_evaluations(), check_docs(definitions))
    failures = result.get_step_failure_events()
    summary.failed_steps = [event.step_key or "?" for event in failures]
    summary.step_errors = {event.step_key or "?": step_failure_reason(event) for event in failures}
    summary.succeeded = result.success and not summary.checks_failed and not summary.canceled
    if settings.warehouse.exists() or settings.engine == "spark":
        summary.mart_rows = mart_row_counts(settings)
        fresh = {name.replace("/", ".") for name in summary.assets_built}
        summary.last_good_marts = set(summary.mart_rows) - fresh
    summary.seconds = time.perf_counter() - started
    return summary


def recorded_result(instance: dg.DagsterInstance, run_id: str, job: dg.JobDefinition) -> dg.ExecuteInProcessResult:
    """The result of a run that stopped by raising its first error, read back from the events the instance kept."""
    run = instance.get_run_by_id(run_id)
    if run is None:
        raise RuntimeError(f"run {run_id} stopped before Dagster recorded it")
    events = [entry.dagster_event for entry in instance.all_logs(run_id) if entry.dagster_event is not None]
    return dg.ExecuteInProcessResult(events, run, None, job)


def forget(settings: Settings, emails: Sequence[str], lead_ids: Sequence[str], contact_ids: Sequence[str]) -> int:
    """Record an erasure request (keyed hashes only) in the erasure list; returns the number of new entries."""
    requested = requested_hashes(emails, lead_ids, contact_ids)
    recorded = record_request(settings.erasure_list, read_sources(settings.sources_file), settings.raw_dir, requested)
    rows = ", ".join(f"{table} {count}" for table, count in sorted(recorded.raw_rows.items()) if count) or "none"
    print(f"Recorded {recorded.new_entries} new identifier hash(es) in {settings.erasure_list}")
    print(f"  raw rows identifying the person today: {rows}")
    return recorded.new_entries


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    arguments, rest = parser.parse_known_args(argv)
    if arguments.command == "generate":
        from flywheel_demo.cli import main as generate

        return generate(rest, prog="flywheel generate")
    if arguments.command == "preview":
        from pipelines.definition_preview import main as preview

        return preview(rest, prog="flywheel preview")
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    settings = command_settings(arguments, parser)
    if arguments.command in PROJECT_COMMANDS:
        return run_project_command(settings, arguments)
    if arguments.command == "forget":
        stopped = _record_erasure(settings, arguments)
        if stopped is not None:
            return stopped
    days, selection = None, None
    if arguments.command in ("backfill", "refresh"):
        try:
            days = (
                DayRange.parse(arguments.first, arguments.last)
                if arguments.command == "backfill"
                else refresh_days(settings)
            )
        except PartitionError as error:
            print(f"flywheel {arguments.command}: {error}", file=sys.stderr)
            return 2
        selection = refresh_selection(settings)
        print(f"rebuilding product events for {days} and everything downstream of them")
    return _build(
        settings,
        arguments.command,
        days,
        selection,
        select=getattr(arguments, "select", None),
        fail_fast=getattr(arguments, "fail_fast", False),
        progress=None if arguments.no_progress else ProgressDisplay(sys.stdout),
    )


def _parser() -> argparse.ArgumentParser:
    """The command line: one sub-command per operation (see the module's docstring)."""
    parser = argparse.ArgumentParser(prog="flywheel", description="Flywheel: the shared revenue data model.")
    commands = parser.add_subparsers(dest="command", required=True)
    _add_run_command(commands)
    _add_backfill_command(commands)
    refreshing = commands.add_parser(
        "refresh",
        help="rebuild today's product events and the late-arrival days before it, and everything downstream",
        description="Load and stage the product events of today and of the `product_events.late_arrival_days` "
        "days before it (UTC), and rebuild every asset downstream of them; the other days stay as they were built.",
    )
    add_progress_option(refreshing)
    add_engine_option(refreshing)
    commands.add_parser("generate", help="write deterministic demo data", add_help=False)
    commands.add_parser(
        "preview",
        help="show what a candidate definitions file would change, built in a scratch warehouse",
        add_help=False,
    )
    _add_forget_command(commands)
    add_project_commands(commands)
    return parser


def _add_run_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    running = commands.add_parser(
        "run",
        help="materialize every asset (or a selection) into the warehouse and print a summary",
        description="Load the raw files, build every model write-audit-publish with its checks, publish the BI "
        "snapshot and print a summary. Exit code 0 when everything built and passed, 1 when a step or check failed, "
        "2 when the project cannot build or the selection matches nothing (nothing is written then).",
    )
    running.add_argument(
        "--select",
        metavar="SELECTION",
        help=f"build exactly these assets and their checks (see `flywheel ls --select`); {SELECTION_HELP}",
    )
    running.add_argument(
        "--fail-fast",
        action="store_true",
        help="stop at the first failed step (a load, a model or a blocking check): the steps after it are not run",
    )
    add_progress_option(running)
    add_engine_option(running)
    running.add_argument(
        "--accept-shrink",
        action="append",
        default=[],
        metavar="TABLE",
        help="accept a real drop in rows of TABLE (schema.table) and of what is built from it since the last "
        "publish (repeatable; also FLYWHEEL_ACCEPT_SHRINK=a,b)",
    )


def _add_backfill_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    backfilling = commands.add_parser(
        "backfill",
        help="rebuild product events for some days, and everything downstream of them",
        description=(
            "Load and stage the product events of the days FROM..TO (inclusive, UTC) and rebuild every asset "
            "downstream of them; other days stay as they were built. The same as a backfill of those partitions "
            "in the Dagster UI."
        ),
    )
    backfilling.add_argument("--from", dest="first", required=True, help="first day, YYYY-MM-DD")
    backfilling.add_argument("--to", dest="last", required=True, help="last day, YYYY-MM-DD")
    add_progress_option(backfilling)
    add_engine_option(backfilling)


def _add_forget_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    forgetting = commands.add_parser(
        "forget",
        help="erase a person: record the request (as keyed hashes) and rebuild so they are gone on return",
        description=(
            "Record an erasure request in the erasure list (FLYWHEEL_ERASURE_LIST) as HMAC-SHA256 hashes keyed "
            "with FLYWHEEL_PII_HASH_KEY, then rebuild: every raw load drops the person's rows from now on, and "
            "the old Parquet publishes are pruned."
        ),
    )
    forgetting.add_argument("--email", action="append", default=[], help="the person's e-mail (repeatable)")
    forgetting.add_argument("--lead-id", action="append", default=[], help="a CRM lead id (repeatable)")
    forgetting.add_argument("--contact-id", action="append", default=[], help="a CRM contact id (repeatable)")
    forgetting.add_argument(
        "--no-run", action="store_true", help="only record the request; the next `make run` applies it"
    )
    add_progress_option(forgetting)
    add_engine_option(forgetting)


def _record_erasure(settings: Settings, arguments: argparse.Namespace) -> int | None:
    """`flywheel forget`, before its build: record the request; returns the exit code if the command stops here."""
    try:
        forget(settings, arguments.email, arguments.lead_id, arguments.contact_id)
    except ErasureError as error:
        print(f"flywheel forget: {error}", file=sys.stderr)
        return 2
    if arguments.no_run:
        print("  not applied yet: the next `make run` (or `flywheel run`) removes the person everywhere")
        return 0
    return None


def _build(
    settings: Settings,
    command: str,
    days: DayRange | None,
    selection: Sequence[str] | None,
    select: str | None = None,
    fail_fast: bool = False,
    progress: ProgressDisplay | None = None,
) -> int:
    """Run the build of a command, showing its `progress`, and print its summary; returns the exit code."""
    try:
        summary = run_pipeline(
            settings, days=days, selection=selection, select=select, fail_fast=fail_fast, progress=progress
        )
    except SelectionError as error:
        print(f"flywheel {command}: {error}; nothing was built", file=sys.stderr)
        return 2
    except PreflightError as error:
        for problem in error.problems:
            print(f"flywheel {command}: {problem}", file=sys.stderr)
        print(f"flywheel {command}: nothing was built or written; fix the above, then run again", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"flywheel {command}: canceled before the run started; nothing was built", file=sys.stderr)
        return INTERRUPTED
    print(summary.render())
    print(f"  warehouse:     {settings.spark_warehouse if settings.engine == 'spark' else settings.warehouse}")
    print(f"  published:     {published_line(summary, settings)}")
    report = settings.published_dir / REPORT_FILE
    if report.exists():
        print(f"  KPI report:    {report}")
    if summary.canceled:
        print(
            f"flywheel {command}: canceled; what finished is kept, the marts it did not rebuild are the last good "
            "build",
            file=sys.stderr,
        )
        return INTERRUPTED
    if command == "forget":
        return _finish_erasure(settings, summary)
    return 0 if summary.succeeded else 1


def _finish_erasure(settings: Settings, summary: RunSummary) -> int:
    """After the build of `flywheel forget`: prune the older publishes, which may still name the person."""
    if not summary.succeeded:
        print(
            "  the erasure is recorded but the build did not fully succeed: the last good marts and publishes "
            "may still hold the person's ids until a build succeeds",
            file=sys.stderr,
        )
        return 1
    removed = prune(settings.published_dir, keep=1)
    print(f"  erased: raw, staging and everything downstream rebuilt; older publishes pruned: {len(removed)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
