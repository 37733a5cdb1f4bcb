"""Dagster asset check results of a model build: grain checks, cross-model assertions, suites, and the step failure
that keeps the last good table when a blocking check fails.
"""

from collections.abc import Sequence

import dagster as dg

from pipelines.spec.models import Model
from pipelines.warehouse.audit import (
    AssertionResult,
    GrainResult,
)
from pipelines.warehouse.suites import SAMPLE_SIZE, SuiteResult

# A single-run backfill policy is what lets one run rebuild a range of days; Dagster 1.13 flags the parameter beta.


GRAIN_UNIQUE = "grain_is_unique"


GRAIN_NOT_NULL = "grain_is_not_null"


def suite_check_result(result: SuiteResult) -> dg.AssetCheckResult:
    """A suite's outcome as a Dagster check result: which expectations failed (in words), on how many rows, which keys.

    The failing-row count and a sample of failing keys are also plain metadata values, so the Dagster UI shows them
    beside the check without opening the table.
    """
    failing = [outcome for outcome in result.outcomes if not outcome.success]
    return dg.AssetCheckResult(
        check_name=result.suite.name,
        passed=result.success,
        severity=dg.AssetCheckSeverity.ERROR if result.suite.blocking else dg.AssetCheckSeverity.WARN,
        description=result.summary() if not result.success else result.suite.description,
        metadata={
            "expectations": len(result.outcomes),
            "failed_expectations": len(failing),
            "broken_suite": result.broken,
            "check_seconds": round(result.seconds, 3),
            "failing_rows": sum(outcome.unexpected_count for outcome in failing),
            "sample_failing_keys": [key for outcome in failing for key in outcome.sample_keys][:SAMPLE_SIZE],
            "failures": dg.MetadataValue.md(
                "\n".join(
                    ["| expectation | failing rows | sample keys |", "|---|---|---|"]
                    + [
                        f"| {outcome.description} | {outcome.unexpected_count} of {outcome.element_count} | "
                        f"{', '.join(outcome.sample_keys) or outcome.error or ''} |"
                        for outcome in failing
                    ]
                )
            ),
        },
    )


def assertion_check_result(assertion: AssertionResult) -> dg.AssetCheckResult:
    """A cross-model rule as a check result; one not evaluated (an earlier blocking check failed) is a warning."""
    if assertion.violation_count < 0:
        return dg.AssetCheckResult(
            check_name=assertion.name,
            passed=False,
            severity=dg.AssetCheckSeverity.WARN,
            description="Not evaluated: the model failed an earlier blocking check and was not published.",
            metadata={"evaluated": False},
        )
    return dg.AssetCheckResult(
        check_name=assertion.name,
        passed=assertion.passed,
        severity=dg.AssetCheckSeverity.ERROR if assertion.blocking else dg.AssetCheckSeverity.WARN,
        metadata={
            "evaluated": True,
            "violating_rows": assertion.violation_count,
            "samples": assertion.samples,
            **_violation_counts(assertion),
        },
    )


def _violation_counts(assertion: AssertionResult) -> dict[str, dg.MetadataValue]:
    """The breaking rows per value of the check's `count_by` column, one metadata value each, so the Dagster UI shows
    them beside the check (`violating_rows_by_finding_type`: {"amount_mismatch": 3, ...}); none without `count_by`."""
    if assertion.count_by is None:
        return {}
    return {f"violating_rows_by_{assertion.count_by}": dg.MetadataValue.json(assertion.counts)}


def grain_check_results(grain: GrainResult) -> list[dg.AssetCheckResult]:
    return [
        dg.AssetCheckResult(
            check_name=GRAIN_UNIQUE,
            passed=grain.duplicate_count == 0,
            metadata={"duplicated_keys": grain.duplicate_count, "sample_keys": grain.duplicate_samples},
        ),
        dg.AssetCheckResult(
            check_name=GRAIN_NOT_NULL,
            passed=grain.null_count == 0,
            metadata={"null_keys": grain.null_count, "sample_keys": grain.null_samples},
        ),
    ]


def blocking_failure(model: Model, check_results: Sequence[dg.AssetCheckResult], live_rows: int | None) -> dg.Failure:
    """The step failure of a model that failed a blocking check: which checks, and what BI reads meanwhile."""
    failed = [
        str(result.check_name)
        for result in check_results
        if not result.passed and result.severity == dg.AssetCheckSeverity.ERROR
    ]
    kept = f"the last good table ({live_rows} rows) stays in place" if live_rows is not None else "no table yet"
    return dg.Failure(
        description=f"{model.schema}.{model.name} failed blocking check(s) {', '.join(failed)}: not published, {kept}",
        metadata={"failed_checks": failed, "last_good_rows": live_rows if live_rows is not None else -1},
    )
