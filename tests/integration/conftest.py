"""Builds shared by several integration test modules, so each input is built once per session."""

from __future__ import annotations

import dagster as dg
import pytest

from pipelines.settings import Settings
from tests.conftest import materialize, settings_for
from tests.fixtures import write_raw

SCORECARD_AND_REPORT = '+key:"marts/rpt_alignment_scorecard_monthly" or +key:"reports/kpi_report" or group:definitions'


@pytest.fixture(scope="session")
def scorecard_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, dg.ExecuteInProcessResult]:
    """The hand-worked scorecard input (test_alignment_scorecard.TABLES), built up to the scorecard and the report."""
    from tests.integration.test_alignment_scorecard import TABLES

    tmp_path = tmp_path_factory.mktemp("scorecard_and_report")
    settings = settings_for(tmp_path, write_raw(tmp_path / "raw", TABLES))
    return settings, materialize(settings, SCORECARD_AND_REPORT)
