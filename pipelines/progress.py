"""The live progress of `flywheel run`, `refresh`, `backfill` and `forget`, and why each failure failed.

A build is one in-process Dagster run, which can take minutes; the display listens to the run's event stream (the
instance calls it with every event as it is stored, see `DagsterInstance.add_event_listener`) and writes one line per
step as it finishes: the asset it built, its time, its checks (passed, failed, warned) and a running count of steps
done out of the steps planned. On a terminal a status line under them shows the step running and a progress bar;
anywhere else (a CI log, a pipe, a file) only the plain lines are written, with no escape codes and no carriage
returns, so the log reads the same as the terminal did.

The closing summary (`RunSummary.render` in pipelines/cli.py) lists every failed step and check with its reason; the
reasons are worked out here, from the same events.
"""

from __future__ import annotations

import argparse
import ast
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol, TextIO

import dagster as dg

from pipelines.orchestration.operations import check_docs_of, failure_report

# Dagster logs a step whose upstream step failed as a plain error message (no event): the step does not run.
NOT_RUN_MESSAGE = "Dependencies for step "
BAR_WIDTH = 24
GREEN, RED, YELLOW, DIM, RESET, CLEAR_LINE = "\x1b[32m", "\x1b[31m", "\x1b[33m", "\x1b[2m", "\x1b[0m", "\r\x1b[K"


@dataclass
class StepProgress:
    """What one step of the run has done so far: when it started, what it built, how its checks came out."""

    step_key: str
    started: float | None = None
    materialized: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    checks_passed: int = 0
    checks_failed: int = 0
    checks_warned: int = 0

    @property
    def label(self) -> str:
        """The asset the step built (or failed to build), else the step's name with what it built or checked: a
        step of several assets (the shared definitions) or of checks only (the raw freshness checks)."""
        if len(self.materialized) == 1:
            return self.materialized[0]
        if self.materialized:
            return f"{self.step_key} ({len(self.materialized)} assets)"
        own = [asset for asset in self.checked if asset.replace("/", "__") == self.step_key]
        if own:
            return own[0]
        if len(self.checked) == 1:
            return f"{self.step_key} (checks of {self.checked[0]})"
        return f"{self.step_key} (checks of {len(self.checked)} assets)" if self.checked else self.step_key

    def record_materialization(self, asset_key: dg.AssetKey) -> None:
        asset = asset_key.to_user_string()
        if asset not in self.materialized:  # a day-partitioned asset materializes once per day
            self.materialized.append(asset)

    def record_check(self, evaluation: dg.AssetCheckEvaluation) -> None:
        asset = evaluation.asset_key.to_user_string()
        if asset not in self.checked:
            self.checked.append(asset)
        if evaluation.passed:
            self.checks_passed += 1
        elif evaluation.severity == dg.AssetCheckSeverity.WARN:
            self.checks_warned += 1
        else:
            self.checks_failed += 1

    def checks_text(self) -> str:
        counts = [(self.checks_passed, "passed"), (self.checks_failed, "failed"), (self.checks_warned, "warned")]
        named = [f"{count} {word}" for count, word in counts if count]
        return f"checks {', '.join(named)}" if named else ""


class ProgressDisplay:
    """Writes a run's progress to `stream` as its events arrive; call `close` when the run has ended.

    `live` (by default: whether the stream is a terminal) adds colours and the status line; without it the output is
    plain lines only. A display never fails a build: if writing fails, it goes quiet.
    """

    def __init__(self, stream: TextIO, live: bool | None = None) -> None:
        self.stream = stream
        self.live = is_terminal(stream) if live is None else live
        self.total: int | None = None
        self.steps: dict[str, StepProgress] = {}
        self.outcomes: dict[str, str] = {}
        self.running: list[str] = []
        self.broken = False

    def __call__(self, entry: dg.EventLogEntry) -> None:
        """The instance's event listener: one stored event of the run."""
        if self.broken:
            return
        try:
            if entry.dagster_event is not None:
                self.on_event(entry.dagster_event, entry.timestamp)
            elif entry.step_key and entry.user_message.startswith(NOT_RUN_MESSAGE):
                self.finish(entry.step_key, "not run", entry.timestamp, "an upstream step failed")
        except Exception:  # a closed pipe or a full disk must not stop the build
            self.broken = True

    def on_event(self, event: dg.DagsterEvent, timestamp: float) -> None:
        """Follow one Dagster event: plan, step start, materialization, check, and the step's end."""
        kind, step_key = event.event_type, event.step_key
        if kind == dg.DagsterEventType.ENGINE_EVENT and self.total is None:
            self.total = planned_step_count(event)
        if step_key is None:
            return
        step = self.steps.setdefault(step_key, StepProgress(step_key))
        if kind == dg.DagsterEventType.STEP_START:
            step.started = timestamp
            self.running.append(step_key)
            self.show_status()
        elif kind == dg.DagsterEventType.ASSET_MATERIALIZATION and event.asset_key is not None:
            step.record_materialization(event.asset_key)
        elif kind == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            step.record_check(event.asset_check_evaluation_data)
        elif kind == dg.DagsterEventType.STEP_UP_FOR_RETRY:
            reason = innermost_message(event.step_retry_data.error) or event.message or ""
            self.write_line(f"{self.count_text()} retry   {step.label}: {first_line(reason)}", YELLOW)
        elif kind == dg.DagsterEventType.STEP_SUCCESS:
            self.finish(step_key, "ok", timestamp)
        elif kind == dg.DagsterEventType.STEP_FAILURE:
            self.finish(step_key, "FAILED", timestamp, step_failure_reason(event))
        elif kind == dg.DagsterEventType.STEP_SKIPPED:
            self.finish(step_key, "skipped", timestamp, "an upstream asset was not materialized")

    def finish(self, step_key: str, outcome: str, timestamp: float, reason: str = "") -> None:
        """Write the line of a step that has ended."""
        step = self.steps.setdefault(step_key, StepProgress(step_key))
        self.outcomes[step_key] = outcome
        self.running = [running for running in self.running if running != step_key]  # a retried step started twice
        seconds = f"{timestamp - step.started:6.1f} s" if step.started is not None else " " * 8
        parts = [f"{self.count_text()} {outcome:<7} {step.label:<48} {seconds}", step.checks_text()]
        line = "  ".join(part for part in parts if part).rstrip()
        clean = outcome == "ok" and not (step.checks_failed or step.checks_warned)
        colour = GREEN if clean else RED if outcome == "FAILED" else YELLOW
        self.write_line(line + (f"\n        {reason}" if reason else ""), colour)
        self.show_status()

    def count_text(self) -> str:
        done = len(self.outcomes)
        if self.total is None:
            return f"[{done}]"
        return f"[{done:>{len(str(self.total))}}/{self.total}]"

    def write_line(self, text: str, colour: str) -> None:
        """A finished line: plain, or coloured with the status line cleared first on a terminal."""
        if self.live:
            self.stream.write(f"{CLEAR_LINE}{colour}{text}{RESET}\n")
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def show_status(self) -> None:
        """On a terminal, the line under the finished steps: a bar, the count and the step running now."""
        if not self.live:
            return
        done = len(self.outcomes)
        filled = round(BAR_WIDTH * done / self.total) if self.total else 0
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        running = self.steps[self.running[-1]].label if self.running else ""
        status = f"[{bar}] {done}/{self.total or '?'}" + (f"  building {running} ..." if running else "")
        self.stream.write(f"{CLEAR_LINE}{DIM}{status}{RESET}")
        self.stream.flush()

    def close(self) -> None:
        """After the run: clear the status line and write the step totals."""
        if self.broken:
            return
        counts: dict[str, int] = {}
        for outcome in self.outcomes.values():
            counts[outcome] = counts.get(outcome, 0) + 1
        totals = ", ".join(f"{count} {outcome.lower()}" for outcome, count in sorted(counts.items()))
        planned = f" of {self.total}" if self.total is not None else ""
        if self.live:
            self.stream.write(CLEAR_LINE)
        self.stream.write(f"steps done: {len(self.outcomes)}{planned} ({totals or 'none'})\n")
        self.stream.flush()


@contextmanager
def following(instance: dg.DagsterInstance, run_id: str, display: ProgressDisplay | None) -> Iterator[None]:
    """Show the run `run_id` on `display` (if any) while the block runs it, and close the display after, however
    the run ended."""
    if display is None:
        yield
        return
    instance.add_event_listener(run_id, display)
    try:
        yield
    finally:
        display.close()


def is_terminal(stream: TextIO) -> bool:
    """Whether the stream shows on a terminal that understands escape codes."""
    return stream.isatty() and os.environ.get("TERM") != "dumb"


def planned_step_count(event: dg.DagsterEvent) -> int | None:
    """The number of steps the in-process executor is about to run, from its `Executing steps` engine event (whose
    metadata lists the step keys); None for any other engine event."""
    data = event.engine_event_data
    listed = data.metadata.get("step_keys") if data is not None else None
    if listed is None or not isinstance(listed.value, str):
        return None
    try:
        keys = ast.literal_eval(listed.value)
    except (ValueError, SyntaxError):
        return None
    return len(keys) if isinstance(keys, list) else None


def add_progress_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-progress",
        action="store_true",
        help="print only the closing summary, not a line per step as it finishes",
    )


def step_failure_reason(event: dg.DagsterEvent) -> str:
    """One line saying why a step failed: a `dg.Failure`'s description, else the innermost error's first line."""
    data = event.step_failure_data
    if data is None:
        return first_line(event.message or "")
    if data.user_failure_data is not None and data.user_failure_data.description:
        return first_line(data.user_failure_data.description)
    if getattr(data.error_source, "value", None) == "INTERRUPT":
        return "interrupted (Ctrl-C)"
    return first_line(innermost_message(data.error) or event.message or "")


class ErrorChain(Protocol):
    """An error as Dagster records it: its message and the error it was raised from."""

    @property
    def message(self) -> str: ...

    @property
    def cause(self) -> ErrorChain | None: ...


def innermost_message(error: ErrorChain | None) -> str:
    """The message of the error at the bottom of a chain (`raise ... from`): the cause, not Dagster's wrapping."""
    while error is not None and error.cause is not None:
        error = error.cause
    return error.message if error is not None else ""


def first_line(text: str) -> str:
    """The first line of a message; a first line that announces a list (ends with `:`) keeps the list on it, so
    `1 blocking asset check failed ...:` names the asset and the check."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return ""
    if lines[0].endswith(":") and len(lines) > 1:
        listed = []
        for line in lines[1:]:
            if line.startswith("Stack Trace") or line.startswith("File "):
                break
            listed.append(line)
        return " ".join([lines[0], "; ".join(listed)]) if listed else lines[0]
    return lines[0]


def check_docs(definitions: dg.Definitions) -> dict[tuple[str, str], str]:
    """The documented description of every check of the project, for checks whose result carries none."""
    checked = [
        definition
        for definition in [*(definitions.assets or []), *(definitions.asset_checks or [])]
        if isinstance(definition, dg.AssetsDefinition | dg.AssetChecksDefinition)
    ]
    return check_docs_of(checked)


def check_names(evaluations: Iterable[dg.AssetCheckEvaluation]) -> tuple[list[str], list[str]]:
    """The checks of a run that passed and those that failed, as `asset:check`, in the order they ran."""
    passed: list[str] = []
    failed: list[str] = []
    for evaluation in evaluations:
        name = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
        (passed if evaluation.passed else failed).append(name)
    return passed, failed


def warned_check_names(evaluations: Iterable[dg.AssetCheckEvaluation]) -> set[str]:
    """The failed checks of severity warn, as `asset:check`: findings to report, not failures of the build."""
    return {
        f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
        for evaluation in evaluations
        if not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.WARN
    }


def check_outcomes(evaluations: Sequence[dg.AssetCheckEvaluation]) -> tuple[list[str], list[str], list[str]]:
    """The checks of a run that passed, failed, and failed with severity warn (warned: reported, not failures)."""
    passed, failed = check_names(evaluations)
    warned = warned_check_names(evaluations)
    return passed, [name for name in failed if name not in warned], [name for name in failed if name in warned]


def check_failure_reasons(
    evaluations: Iterable[dg.AssetCheckEvaluation], docs: Mapping[tuple[str, str], str]
) -> dict[str, str]:
    """Why each failed check failed, by `asset:check`: severity, what it found and its counts, as the run-failure
    report words them (pipelines/orchestration/operations.py)."""
    report = failure_report("", "", datetime.now(UTC), "", {}, evaluations, docs)
    skipped = "[WARN] not evaluated: an earlier blocking check of the asset failed"
    reasons = {name: skipped for name in report.not_evaluated}
    for check in report.failed_checks:
        details = ", ".join(f"{name}={value}" for name, value in check.details.items())
        text = " ".join(part for part in (f"[{check.severity}]", check.description, details and f"({details})") if part)
        reasons[f"{check.asset_key}:{check.check_name}"] = text
    return reasons
