"""Builds shared by several integration test modules, so each input is built once per session."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest

from pipelines.cli import RunSummary, run_pipeline
from pipelines.spec.settings import Settings
from tests.conftest import materialize, settings_for, shared_build
from tests.fixtures import definitions_with, write_raw

SCORECARD_AND_REPORT = '+key:"marts/rpt_alignment_scorecard_monthly" or +key:"reports/kpi_report" or group:definitions'


@shared_build
def scorecard_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, dg.ExecuteInProcessResult]:
    """The hand-worked scorecard input (test_alignment_scorecard.TABLES), built up to the scorecard and the report."""
    from tests.integration.test_alignment_scorecard import MINIMUM_BASES, TABLES

    tmp_path = tmp_path_factory.mktemp("scorecard_and_report")
    settings = settings_for(
        tmp_path,
        write_raw(tmp_path / "raw", TABLES),
        definitions_file=definitions_with(tmp_path, minimum_bases=MINIMUM_BASES),
        # The billing data runs to C2's period start on 2026-03-05; the latest connector sync column in these files
        # (a product event's received_at, 2026-02-02) would end the data a month early.
        as_of="2026-03-05 10:00:00",
    )
    return settings, materialize(settings, SCORECARD_AND_REPORT)


@dataclass(frozen=True)
class FullBuild:
    """A whole build through `flywheel run`'s code path, and a copy of its warehouse file as that build left it."""

    settings: Settings
    summary: RunSummary
    as_built: Path


@shared_build
def guards_build(tmp_path_factory: pytest.TempPathFactory) -> FullBuild:
    """test_guards.TABLES built whole (which publishes), once per session. test_guards.py then changes its raw files
    and rebuilds it; its personal-data tests and test_reliability.py start from the copy taken before that."""
    from tests.integration.test_guards import TABLES

    tmp_path = tmp_path_factory.mktemp("guards")
    settings = settings_for(tmp_path, write_raw(tmp_path / "raw", TABLES))
    summary = run_pipeline(settings, instance=dg.DagsterInstance.ephemeral())
    as_built = tmp_path / "as_built" / settings.warehouse.name
    as_built.parent.mkdir()
    shutil.copyfile(settings.warehouse, as_built)
    return FullBuild(settings, summary, as_built)
