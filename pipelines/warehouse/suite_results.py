"""What a suite run found: one outcome per expectation, and the suite's verdict, in Flywheel's terms."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pipelines.spec.suite_schema import Suite, expectation_label

SAMPLE_SIZE = 5
KEY_SEPARATOR = " | "


@dataclass(frozen=True)
class ExpectationOutcome:
    """What one expectation found: how many rows broke it, which keys, or the error that kept it from running."""

    expectation: str
    description: str
    success: bool
    unexpected_count: int
    element_count: int
    sample_keys: list[str]
    error: str | None
    # For expectations on a whole column or table (a mean, a row count) that have no failing rows: what GE observed.
    observed_value: str | None = None


@dataclass(frozen=True)
class SuiteResult:
    """A suite's verdict on one frame. `broken` means an expectation raised: the suite, not the data, needs fixing."""

    suite: Suite
    success: bool
    broken: bool
    outcomes: tuple[ExpectationOutcome, ...]
    seconds: float

    def summary(self) -> str:
        """One line per failing expectation, in suite order, for logs and check descriptions."""
        failing = [outcome for outcome in self.outcomes if not outcome.success]
        if not failing:
            return f"{self.suite.name}: all {len(self.outcomes)} expectations passed on {self.suite.model}"
        return "\n".join(_summary_line(outcome) for outcome in failing)


def _summary_line(outcome: ExpectationOutcome) -> str:
    """A failing expectation in words: what it checks, how many rows broke it and which, or why it could not run."""
    head = f"{outcome.description} [{outcome.expectation}]"
    if outcome.error is not None:
        return f"BROKEN SUITE: {head} could not be evaluated: {outcome.error}"
    if outcome.unexpected_count == 0 and outcome.observed_value is not None:
        return f"{head}: observed {outcome.observed_value}"
    keys = ", ".join(outcome.sample_keys) or "none"
    return f"{head}: {outcome.unexpected_count} of {outcome.element_count} rows unexpected; sample keys: {keys}"


def outcome_of(expectation: Mapping[str, Any], result: Any, keys: list[str], error: str | None) -> ExpectationOutcome:
    """One expectation's result in Flywheel's terms, with GE's exceptions turned into an error."""
    label, description = expectation_label(expectation), str(expectation["description"])
    if error is not None:
        errors = [error]
    else:
        errors = (
            ["Great Expectations returned no result"] if result is None else _exception_messages(result.exception_info)
        )
    if errors:
        return ExpectationOutcome(label, description, False, 0, 0, [], "; ".join(errors))
    details: Mapping[str, Any] = result.result or {}
    observed = details.get("observed_value")
    return ExpectationOutcome(
        expectation=label,
        description=description,
        success=bool(result.success),
        unexpected_count=int(details.get("unexpected_count") or 0),
        element_count=int(details.get("element_count") or 0),
        sample_keys=_sample_keys(keys, details.get("partial_unexpected_index_list") or []),
        error=None,
        observed_value=None if observed is None else str(observed),
    )


def _exception_messages(info: Any) -> list[str]:
    """The messages of exceptions GE caught, whichever of its two shapes it used.

    GE 1.24 reports `{"raised_exception": bool, "exception_message": ...}` when it caught an exception itself, and
    `{"<metric id>": {"raised_exception": True, ...}, ...}` when computing a metric failed (e.g. a missing column).
    """
    if not isinstance(info, Mapping):
        return []
    if "raised_exception" in info:
        return [str(info.get("exception_message") or "an exception was raised")] if info["raised_exception"] else []
    messages = [message for value in info.values() for message in _exception_messages(value)]
    return list(dict.fromkeys(messages))


def _sample_keys(keys: list[str], rows: Sequence[Any]) -> list[str]:
    """Failing rows' keys, sorted: the key columns joined with " | " (GE returns up to SAMPLE_SIZE rows as dicts).

    On a small table these are the first failing rows as stored; on a large one DuckDB scans in parallel, so which
    failing rows make the sample may vary from run to run (the count does not).
    """
    samples = [
        KEY_SEPARATOR.join(_key_text(row.get(key)) for key in keys) for row in rows if isinstance(row, Mapping) and keys
    ]
    return sorted(samples)[:SAMPLE_SIZE]


def _key_text(value: Any) -> str:
    """A key value as text; a missing value reads `null`."""
    return "null" if value is None else str(value)
