"""A check of severity `warn` is a non-blocking Dagster asset check whose failure is reported as a warning."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import dagster as dg
import duckdb

from pipelines.orchestration.assets import model_asset
from pipelines.orchestration.check_results import assertion_check_result
from pipelines.progress import warned_check_names
from pipelines.spec.models import Assertion, load_model
from pipelines.spec.settings import PROJECT_ROOT
from pipelines.warehouse.audit import AssertionResult, evaluate_assertion
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


FINDINGS_MODEL = PROJECT_ROOT / "models" / "marts" / "alignment" / "fct_crm_billing_findings.sql"


def findings_warning(rows: list[tuple[str, str, str]]) -> dg.AssetCheckResult:
    """The reconciliation's warn check, as the project's check file writes it, run on a findings table of `rows`."""
    model = load_model(FINDINGS_MODEL, PROJECT_ROOT / "models")
    (check,) = [assertion for assertion in model.assertions if assertion.name == "assert_crm_and_billing_agree"]
    with duckdb.connect() as connection:
        connection.execute("create schema marts")
        connection.execute(
            "create table marts.fct_crm_billing_findings "
            "(finding_id varchar, finding_type varchar, finding_detail varchar)"
        )
        for row in rows:
            connection.execute("insert into marts.fct_crm_billing_findings values (?, ?, ?)", row)
        return assertion_check_result(evaluate_assertion(connection, check))


def test_the_reconciliation_warning_counts_findings_per_type_and_passes_when_there_are_none() -> None:
    warned = findings_warning(
        [("amount_mismatch:O1", "amount_mismatch", "d"), ("segment_mismatch:C1", "segment_mismatch", "d"),
         ("amount_mismatch:O2", "amount_mismatch", "d")]
    )  # fmt: skip
    assert (warned.passed, warned.severity) == (False, dg.AssetCheckSeverity.WARN)
    assert warned.metadata["violating_rows_by_finding_type"] == dg.MetadataValue.json(
        {"amount_mismatch": 2, "segment_mismatch": 1}
    )
    clean = findings_warning([])
    assert clean.passed and clean.metadata["violating_rows_by_finding_type"] == dg.MetadataValue.json({})


def test_a_check_without_count_by_has_no_counts_and_count_by_is_read_from_the_check_header(tmp_path: Path) -> None:
    plain = assertion_check_result(AssertionResult("assert_x", violation_count=2, samples=[], blocking=False))
    assert not any(name.startswith("violating_rows_by_") for name in plain.metadata)
    path = model_file(tmp_path)
    path.with_name(path.stem + ".checks.sql").write_text(
        "/*\nname: assert_kinds\nseverity: warn\ncount_by: kind\ndescription: d\n*/\nselect 'a' as kind\n"
    )
    (check,) = [item for item in load_model(path, tmp_path / "models").assertions if item.name == "assert_kinds"]
    assert (check.count_by, check.blocking) == ("kind", False)


def test_a_failed_warn_check_is_reported_as_a_warning_not_a_failure_of_the_build() -> None:
    key = dg.AssetKey(["marts", "fct_x"])
    evaluations = [
        dg.AssetCheckEvaluation(key, "assert_warned", passed=False, severity=dg.AssetCheckSeverity.WARN),
        dg.AssetCheckEvaluation(key, "assert_failed", passed=False, severity=dg.AssetCheckSeverity.ERROR),
        dg.AssetCheckEvaluation(key, "assert_fine", passed=True, severity=dg.AssetCheckSeverity.WARN),
    ]
    assert warned_check_names(evaluations) == {"marts/fct_x:assert_warned"}
