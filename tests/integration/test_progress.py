"""`flywheel run` shows a line per step as it finishes and closes with every failure and its reason.

One small run for the module (a lead load and its staging model, where a negative employee count fails the blocking
`lead_contract` suite), through `flywheel run` with its output captured (not a terminal); its events are kept and
replayed into a terminal display.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import redirect_stdout
from typing import Any, ClassVar, TextIO

import dagster as dg
import pytest

from pipelines import cli
from pipelines.progress import ProgressDisplay, is_terminal
from pipelines.spec.settings import Settings
from tests.conftest import settings_for
from tests.fixtures import write_raw
from tests.integration.test_fail_fast import environment_of
from tests.integration.test_hand_worked_leads import TABLES

SELECTION = "+stg_salesforce__leads"
ESCAPE_CODES = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class RecordingDisplay(ProgressDisplay):
    """The display `flywheel run` makes, keeping every event it was given for the terminal replay."""

    entries: ClassVar[list[dg.EventLogEntry]] = []

    def __call__(self, entry: dg.EventLogEntry) -> None:
        RecordingDisplay.entries.append(entry)
        super().__call__(entry)


@pytest.fixture(scope="module")
def failed_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, str, list[dg.EventLogEntry]]]:
    """`flywheel run --select +stg_salesforce__leads` on leads one of which breaks the staging contract."""
    tmp_path = tmp_path_factory.mktemp("progress")
    leads = [
        *TABLES["salesforce.lead"],
        {**TABLES["salesforce.lead"][0], "id": "00QL7", "number_of_employees": "-5"},
    ]
    settings: Settings = settings_for(tmp_path, write_raw(tmp_path / "raw", {**TABLES, "salesforce.lead": leads}))
    output = io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        for name, value in environment_of(settings).items():
            patch.setenv(name, value)
        patch.delenv("DAGSTER_HOME", raising=False)
        patch.delenv("FLYWHEEL_PUBLISH_DIR", raising=False)
        patch.setattr(cli, "ProgressDisplay", RecordingDisplay)
        RecordingDisplay.entries = []
        with redirect_stdout(output):
            code = cli.main(["run", "--select", SELECTION])
    yield code, output.getvalue(), RecordingDisplay.entries


def test_off_a_terminal_each_finished_step_is_one_plain_line(failed_run: tuple[int, str, Any]) -> None:
    code, output, _ = failed_run
    assert code == 1
    assert "\x1b" not in output and "\r" not in output
    lines = output.splitlines()
    [load] = [line for line in lines if " salesforce/lead " in line]
    assert re.match(r"\[[123]/3\] ok +salesforce/lead +\d+\.\d s  checks 1 passed$", load), load
    [model] = [line for line in lines if " staging/stg_salesforce__leads " in line]
    assert re.match(r"\[[123]/3\] FAILED +staging/stg_salesforce__leads .* checks 2 passed, 1 failed, 1 warned", model)
    assert lines[lines.index(model) + 1].strip() == (
        "staging.stg_salesforce__leads failed blocking check(s) lead_contract: not published, no table yet"
    )
    assert "steps done: 3 of 3 (1 failed, 2 ok)" in lines
    # The step lines come first, then the closing summary.
    assert (
        lines.index(model)
        < lines.index("steps done: 3 of 3 (1 failed, 2 ok)")
        < lines.index(next(line for line in lines if line.startswith("Flywheel build FAILED")))
    )


def test_the_closing_summary_gives_every_failure_its_reason(failed_run: tuple[int, str, Any]) -> None:
    _, output, _ = failed_run
    summary = output[output.index("Flywheel build FAILED") :]
    # The blocking contract check failed; the accounting check (severity warn) was not evaluated: reported apart.
    assert "  checks failed: 1" in summary and "  checks warned: 1" in summary
    assert (
        "    - staging/stg_salesforce__leads:lead_contract: [ERROR] employee counts are not negative "
        "[expect_column_values_to_be_between(employee_count)]: 1 of 7 rows unexpected; sample keys: 00QL7"
    ) in summary
    assert "failing_rows=1" in summary
    assert (
        "    - staging/stg_salesforce__leads:assert_every_raw_row_is_accounted_for: [WARN] not evaluated: an earlier "
        "blocking check of the asset failed"
    ) in summary
    assert (
        "    - staging__stg_salesforce__leads: staging.stg_salesforce__leads failed blocking check(s) lead_contract"
    ) in summary


def test_on_a_terminal_a_status_line_and_colours_follow_the_run(failed_run: tuple[int, str, Any]) -> None:
    _, plain, entries = failed_run
    terminal = io.StringIO()
    display = ProgressDisplay(terminal, live=True)
    for entry in entries:
        display(entry)
    display.close()
    shown = terminal.getvalue()
    assert "\r\x1b[K" in shown and "\x1b[31m" in shown  # the status line is redrawn; the failed step is red
    assert re.search(r"\[#+\.*\] 1/3  building ", ESCAPE_CODES.sub("", shown))
    # What stays on the screen (every status line cleared) is the plain output, line for line.
    screen = [ESCAPE_CODES.sub("", line.split("\r")[-1]) for line in shown.split("\n")]
    assert [line for line in screen if line] == plain.splitlines()[: len([line for line in screen if line])]


def test_no_progress_leaves_only_the_summary(monkeypatch: pytest.MonkeyPatch) -> None:
    displays: list[object] = []

    def fake_run(settings: Settings, **options: object) -> cli.RunSummary:
        displays.append(options["progress"])
        return cli.RunSummary(succeeded=True, seconds=0.0)

    monkeypatch.setattr(cli, "run_pipeline", fake_run)
    assert cli.main(["run", "--no-progress"]) == 0
    assert cli.main(["run"]) == 0
    assert displays[0] is None and isinstance(displays[1], ProgressDisplay)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class ClosedPipe(io.StringIO):
    def write(self, text: str) -> int:
        raise BrokenPipeError("the reader went away")


def test_a_terminal_is_told_from_a_pipe_and_a_broken_stream_never_fails_the_run(
    failed_run: tuple[int, str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TERM", raising=False)
    streams: list[TextIO] = [Terminal(), io.StringIO()]
    assert [is_terminal(stream) for stream in streams] == [True, False]
    assert ProgressDisplay(Terminal()).live and not ProgressDisplay(io.StringIO()).live
    monkeypatch.setenv("TERM", "dumb")
    assert not ProgressDisplay(Terminal()).live

    broken = ProgressDisplay(ClosedPipe(), live=False)
    for entry in failed_run[2]:
        broken(entry)  # no exception reaches Dagster
    broken.close()
    assert broken.broken


def test_a_step_whose_upstream_failed_is_a_not_run_line_with_the_reason(failed_run: tuple[int, str, Any]) -> None:
    """Dagster says so in a log message, not an event: the display still counts the step as done (here a fourth
    step after the three the run planned)."""
    output = io.StringIO()
    display = ProgressDisplay(output, live=False)
    for entry in failed_run[2]:
        display(entry)
    display(
        dg.EventLogEntry(
            error_info=None,
            level="ERROR",
            user_message="Dependencies for step intermediate__int_leads_scored failed: "
            "['staging__stg_salesforce__leads']. Not executing.",
            run_id=failed_run[2][0].run_id,
            timestamp=failed_run[2][-1].timestamp,
            step_key="intermediate__int_leads_scored",
        )
    )
    display.close()
    lines = output.getvalue().splitlines()
    assert lines[-3:] == [
        "[4/3] not run intermediate__int_leads_scored",
        "        an upstream step failed",
        "steps done: 4 of 3 (1 failed, 1 not run, 2 ok)",
    ]
