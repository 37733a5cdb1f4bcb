"""A check of severity `warn` is a non-blocking Dagster asset check whose failure is reported as a warning."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import dagster as dg

from pipelines.orchestration.assets import model_asset
from pipelines.orchestration.check_results import assertion_check_result
from pipelines.spec.models import Assertion, load_model
from pipelines.warehouse.audit import AssertionResult
from tests.unit.test_warehouse import model_file


def test_a_warn_check_does_not_block_and_an_error_check_does(tmp_path: Path) -> None:
    model = load_model(model_file(tmp_path), tmp_path / "models")
    warned = Assertion(name="assert_totals_are_recent", description="d", sql="select 1", upstream=(), severity="warn")
    asset = model_asset(dataclasses.replace(model, assertions=(*model.assertions, warned)))
    blocking = {spec.name: spec.blocking for spec in asset.check_specs}
    assert (blocking["assert_totals_match_facts"], blocking["assert_totals_are_recent"]) == (True, False)


def test_a_failing_warn_check_is_a_warning_and_a_failing_error_check_an_error() -> None:
    warned = assertion_check_result(AssertionResult("assert_x", violation_count=2, samples=[], blocking=False))
    failed = assertion_check_result(AssertionResult("assert_y", violation_count=2, samples=[]))
    assert (warned.passed, warned.severity) == (False, dg.AssetCheckSeverity.WARN)
    assert (failed.passed, failed.severity) == (False, dg.AssetCheckSeverity.ERROR)
