"""Great Expectations suites: load them from JSON, resolve them against the shared definitions, run them on a frame.

A suite is one JSON file in `expectations/`, one per definition or contract. It names the model it validates
(`schema.table`), its severity (`error` blocks downstream assets, `warn` only reports) and its expectations, each a
Great Expectations type in snake_case with its kwargs and a sentence saying what it checks. No threshold is typed
into a suite: `{"$definition": "mql.score_threshold"}` anywhere in the kwargs (also inside lists) stands for the value
at that dotted path of the shared-definitions document, and `{"$definition": "closed_lost_reasons", "$field":
"reason"}` picks one field from each item of a list of mappings; `"$append": "other.path"` adds the value (or list)
at another path, as in a taxonomy plus its catch-all value.

Suites run on a pandas DataFrame of the model's table, because Great Expectations 1.24 validates pandas frames well
while its SQL path over DuckDB fails out of the box (see DESIGN.md). Nothing here imports Dagster, and Great
Expectations is imported only inside the functions that validate: its import costs seconds, which would otherwise be
paid by every process that only loads the Dagster definitions.

Row conditions. Great Expectations 1.24 hands a string `row_condition` with `"condition_parser": "pandas"` to
`DataFrame.query`, so the syntax is pandas' query syntax; these are tested to work on pandas 3 frames, including
nullable (`Int64`, `boolean`, `string`) columns and `datetime64[us]` columns with NaT::

    "row_condition": "mql_at.notnull()"                      # the lead became an MQL
    "row_condition": "is_won == True"                        # a nullable boolean; NA counts as not true
    "row_condition": "rejected_at.notnull() and score > 10"  # `and`/`or`/`not`, or `&`/`|` with parentheses
    "row_condition": "accepted_at.notnull() & ~is_won"       # `~` negates a boolean column (NA stays excluded)
    "row_condition": "channel == 'Outbound'"                 # string literals in single or double quotes
    "row_condition": "stage in ['Demo', 'Proposal']"

Every suite must say `"condition_parser": "pandas"` next to a `row_condition` (GE's own `great_expectations` parser
has a different syntax, `col("x") > 1`). GE 1.24 flags string row conditions and `condition_parser` as deprecated
(they become Condition objects in GX 2.0); the warning is harmless while the dependency is pinned below 1.25.
Under a row condition, `element_count` counts the rows that meet the condition, not the whole table.

Broken suites versus bad data. Great Expectations reports an exception raised inside an expectation (a column that
does not exist, a row condition that does not parse, a comparison between incompatible types) as an ordinary
failure. `run_suite` tells them apart: such an expectation gets an `error`, and the result is `broken`, so the fix is
sought in the suite, not in the data.
"""

from __future__ import annotations

import copy
import functools
import json
import numbers
import re
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from great_expectations.core.batch_definition import BatchDefinition
    from great_expectations.expectations.expectation import Expectation

SEVERITIES: tuple[str, ...] = ("error", "warn")
BLOCKING_SEVERITY = "error"
DEFINITION_KEY = "$definition"
FIELD_KEY = "$field"
APPEND_KEY = "$append"
PANDAS_CONDITION_PARSER = "pandas"
SAMPLE_SIZE = 5
KEY_SEPARATOR = " | "

_SUITE_KEYS: tuple[str, ...] = ("name", "model", "severity", "description", "expectations")
_EXPECTATION_KEYS: tuple[str, ...] = ("type", "description", "kwargs")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_MODEL = re.compile(r"^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$")
_COLUMN_KWARGS: tuple[str, ...] = ("column", "column_A", "column_B")
_PAIR_KWARGS: tuple[str, ...] = ("column_A", "column_B")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# The key GE carries through from an expectation's meta to its result, to pair results with expectations: GE returns
# results in its own order (expectations that raised first), and unsaved expectations have no id.
_POSITION = "flywheel_position"
_MISSING = object()

# One Great Expectations context per process: creating contexts and datasources is slow, and validations on it are
# serialised because the datasource's execution engine keeps the batch being validated as shared state.
_VALIDATION_LOCK = threading.Lock()


class SuiteError(ValueError):
    """An invalid suite file or a suite that cannot be built; the message names the suite and the expectation."""


@dataclass(frozen=True)
class Suite:
    """One suite file: which model it validates, how much a failure matters, and its expectations as written."""

    name: str
    model: str
    severity: str
    description: str
    expectations: tuple[dict[str, Any], ...]
    path: Path

    @property
    def schema(self) -> str:
        """The DuckDB schema of the validated model (its layer), e.g. `intermediate`."""
        return self.model.split(".", 1)[0]

    @property
    def table(self) -> str:
        """The table of the validated model, e.g. `int_leads_lifecycle`."""
        return self.model.split(".", 1)[1]

    @property
    def blocking(self) -> bool:
        """Whether a failure stops downstream assets (severity `error`) rather than only being reported (`warn`)."""
        return self.severity == BLOCKING_SEVERITY


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


# --- Loading ---------------------------------------------------------------------------------------------------------


def load_suites(directory: Path) -> list[Suite]:
    """Every suite in `directory`, sorted by name, each checked for shape so a typo fails at load, not at run time.

    A missing directory means a project without suites (git does not keep an empty `expectations/`).
    """
    if not directory.is_dir():
        return []
    suites = [_load_suite(path) for path in sorted(directory.glob("*.json"))]
    seen: dict[str, Path] = {}
    for suite in suites:
        if suite.name in seen:
            raise SuiteError(f"{suite.path}: suite name `{suite.name}` is already used by {seen[suite.name]}")
        seen[suite.name] = suite.path
    return sorted(suites, key=lambda suite: suite.name)


def _load_suite(path: Path) -> Suite:
    """Parse and check one suite file."""
    try:
        document = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise SuiteError(f"{path}: not valid JSON: {error}") from error
    if not isinstance(document, dict):
        raise SuiteError(f"{path}: a suite must be a JSON object")
    _check_keys(path, "the suite", document, _SUITE_KEYS)
    name, model, severity, description = (document[key] for key in ("name", "model", "severity", "description"))
    if not isinstance(name, str) or not _NAME.match(name):
        raise SuiteError(f"{path}: `name` must be lower snake_case (it becomes a Dagster check name), got {name!r}")
    if not isinstance(model, str) or not _MODEL.match(model):
        raise SuiteError(f"{path}: suite {name}: `model` must be `schema.table`, got {model!r}")
    if severity not in SEVERITIES:
        raise SuiteError(f"{path}: suite {name}: `severity` must be one of {', '.join(SEVERITIES)}, got {severity!r}")
    if not isinstance(description, str) or not description.strip():
        raise SuiteError(f"{path}: suite {name}: `description` must say what the suite guarantees")
    expectations = document["expectations"]
    if not isinstance(expectations, list) or not expectations:
        raise SuiteError(f"{path}: suite {name}: `expectations` must be a non-empty list")
    for position, expectation in enumerate(expectations, start=1):
        _check_expectation(path, name, position, expectation)
    return Suite(
        name=name,
        model=model,
        severity=severity,
        description=description,
        expectations=tuple(expectations),
        path=path,
    )


def _check_keys(path: Path, where: str, document: Mapping[str, Any], expected: Sequence[str]) -> None:
    """Missing and unknown keys both fail, so a misspelt key is not silently ignored."""
    missing = [key for key in expected if key not in document]
    unknown = sorted(set(document) - set(expected))
    if missing:
        raise SuiteError(f"{path}: {where} is missing {', '.join(f'`{key}`' for key in missing)}")
    if unknown:
        raise SuiteError(f"{path}: {where} has unknown key(s) {', '.join(f'`{key}`' for key in unknown)}")


def _check_expectation(path: Path, suite_name: str, position: int, expectation: Any) -> None:
    """The shape of one expectation; whether GE knows its type is checked when it is built (GE's import is slow)."""
    where = f"suite {suite_name}: expectation {position}"
    if not isinstance(expectation, dict):
        raise SuiteError(f"{path}: {where} must be an object")
    _check_keys(path, where, expectation, _EXPECTATION_KEYS)
    kind, description, kwargs = expectation["type"], expectation["description"], expectation["kwargs"]
    if not isinstance(kind, str) or not kind.startswith("expect_"):
        raise SuiteError(f"{path}: {where}: `type` must be a Great Expectations type such as expect_..., got {kind!r}")
    where = f"suite {suite_name}: expectation {position} {kind}"
    if not isinstance(description, str) or not description.strip():
        raise SuiteError(f"{path}: {where}: `description` must say in words what it checks")
    if not isinstance(kwargs, dict):
        raise SuiteError(f"{path}: {where}: `kwargs` must be an object")
    if "row_condition" in kwargs and kwargs.get("condition_parser") != PANDAS_CONDITION_PARSER:
        raise SuiteError(
            f'{path}: {where}: a `row_condition` needs "condition_parser": "pandas" (suites run on pandas frames)'
        )
    _check_references(path, where, kwargs)


def _check_references(path: Path, where: str, value: Any) -> None:
    """Every `$definition` reference is well formed; whether its path exists needs the definitions, at run time."""
    if isinstance(value, list):
        for item in value:
            _check_references(path, where, item)
    elif isinstance(value, dict):
        if DEFINITION_KEY in value or FIELD_KEY in value:
            if set(value) - {DEFINITION_KEY, FIELD_KEY, APPEND_KEY} or not isinstance(value.get(DEFINITION_KEY), str):
                raise SuiteError(
                    f'{path}: {where}: a reference is {{"{DEFINITION_KEY}": "dotted.path"}}, optionally with '
                    f'"{FIELD_KEY}", got {json.dumps(value)}'
                )
            if APPEND_KEY in value and not isinstance(value[APPEND_KEY], str):
                raise SuiteError(f"{path}: {where}: `{APPEND_KEY}` must be a dotted path, got {json.dumps(value)}")
            if FIELD_KEY in value and not isinstance(value[FIELD_KEY], str):
                raise SuiteError(f"{path}: {where}: `{FIELD_KEY}` must name a field, got {json.dumps(value)}")
            return
        for item in value.values():
            _check_references(path, where, item)


# --- Resolving definitions -------------------------------------------------------------------------------------------


def resolve_kwargs(suite: Suite, definitions: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The suite's expectations with every `$definition` replaced by its value in the definitions in force.

    The values are copies, so Great Expectations (which normalises kwargs in place) cannot alter the document.
    """
    resolved = []
    for position, expectation in enumerate(suite.expectations, start=1):
        where = f"{suite.path}: suite {suite.name}: expectation {position} {expectation_label(expectation)}"
        resolved.append({**expectation, "kwargs": _resolve(expectation["kwargs"], definitions, where)})
    return resolved


def _resolve(value: Any, definitions: Mapping[str, Any], where: str) -> Any:
    """Replace references anywhere inside a kwargs value (nested objects and lists too)."""
    if isinstance(value, list):
        return [_resolve(item, definitions, where) for item in value]
    if isinstance(value, dict):
        if DEFINITION_KEY in value:
            found = _lookup(definitions, value[DEFINITION_KEY], value.get(FIELD_KEY), where)
            if APPEND_KEY in value:
                extra = _lookup(definitions, value[APPEND_KEY], None, where)
                if not isinstance(found, list):
                    raise SuiteError(f"{where}: `{APPEND_KEY}` needs definition `{value[DEFINITION_KEY]}` to be a list")
                found = [*found, *(extra if isinstance(extra, list) else [extra])]
            return found
        return {key: _resolve(item, definitions, where) for key, item in value.items()}
    return value


def _lookup(definitions: Mapping[str, Any], dotted: str, field: str | None, where: str) -> Any:
    """The value at a dotted path, or one field of each item; an unknown path says which part is missing."""
    value: Any = definitions
    walked: list[str] = []
    for part in dotted.split("."):
        found = value.get(part, _MISSING) if isinstance(value, Mapping) else _MISSING
        if found is _MISSING:
            parent = ".".join(walked) or "the definitions document"
            known = ", ".join(sorted(map(str, value))) if isinstance(value, Mapping) else "nothing (not a mapping)"
            raise SuiteError(f"{where}: unknown definition `{dotted}`: {parent} has no `{part}` (it has: {known})")
        walked.append(part)
        value = found
    if field is None:
        return copy.deepcopy(value)
    if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
        raise SuiteError(f"{where}: `{FIELD_KEY}` needs a list of mappings, but definition `{dotted}` is not one")
    lacking = [index for index, item in enumerate(value) if field not in item]
    if lacking:
        raise SuiteError(f"{where}: item(s) {lacking} of definition `{dotted}` have no field `{field}`")
    return [copy.deepcopy(item[field]) for item in value]


def suite_columns(suite: Suite, available: Sequence[str]) -> list[str]:
    """The columns of `available` the suite reads (named in kwargs or in a row condition), in `available` order.

    The model is read into pandas with these columns only: a suite on three columns of a wide staging table would
    otherwise copy every text column (names, e-mails, URLs) into Python, the main cost of checking it. A word of a
    row condition that is also a column name counts as read, so a string literal that happens to equal a column name
    only costs an unneeded column, never a missing one.
    """
    named: set[str] = set()
    for expectation in suite.expectations:
        kwargs = expectation["kwargs"]
        named.update(str(kwargs[key]) for key in _COLUMN_KWARGS if key in kwargs)
        named.update(str(column) for column in kwargs.get("column_list") or [])
        condition = kwargs.get("row_condition")
        if isinstance(condition, str):
            named.update(_WORD.findall(condition))
    return [column for column in available if column in named]


def expectation_label(expectation: Mapping[str, Any]) -> str:
    """A short, stable name for an expectation: its type and the columns it looks at."""
    kwargs = expectation.get("kwargs") or {}
    columns = [str(kwargs[key]) for key in _COLUMN_KWARGS if key in kwargs]
    columns += [str(column) for column in kwargs.get("column_list") or []]
    return f"{expectation['type']}({', '.join(columns)})" if columns else str(expectation["type"])


# --- Running ---------------------------------------------------------------------------------------------------------


def build_expectations(suite: Suite, definitions: Mapping[str, Any]) -> list[Expectation]:
    """The suite as Great Expectations objects: resolves definitions and fails on unknown types or bad kwargs.

    Public so a contract test can check every suite against the definitions in force without any data.
    """
    return _to_great_expectations(suite, resolve_kwargs(suite, definitions))


def _to_great_expectations(suite: Suite, resolved: Sequence[Mapping[str, Any]]) -> list[Expectation]:
    """Build each expectation from its snake_case type; its position rides along in `meta` to find its result."""
    from great_expectations.exceptions import ExpectationNotFoundError
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    built = []
    for position, expectation in enumerate(resolved):
        where = f"{suite.path}: suite {suite.name}: expectation {position + 1} {expectation_label(expectation)}"
        configuration = ExpectationConfiguration(
            type=expectation["type"], kwargs=dict(expectation["kwargs"]), meta={_POSITION: position}
        )
        try:
            built.append(configuration.to_domain_obj())
        except ExpectationNotFoundError as error:
            raise SuiteError(f"{where}: Great Expectations has no expectation `{expectation['type']}`") from error
        except Exception as error:  # GE raises pydantic errors (and others) for kwargs it cannot accept.
            raise SuiteError(f"{where}: invalid kwargs: {error}") from error
    return built


def run_suite(
    suite: Suite, frame: pd.DataFrame, definitions: Mapping[str, Any], key_columns: Sequence[str]
) -> SuiteResult:
    """Validate `frame` (the model's table) with the suite; `key_columns` (the model's grain) name failing rows.

    Deterministic: the frame is validated in key order, so the sample keys are the first failing keys in that
    order whatever order the rows were read in. The caller's frame is never modified.
    """
    started = time.perf_counter()
    keys = list(key_columns)
    missing = [column for column in keys if column not in frame.columns]
    if missing:
        raise SuiteError(f"{suite.path}: suite {suite.name}: the frame of {suite.model} has no key column(s) {missing}")
    resolved = resolve_kwargs(suite, definitions)
    expectations = _to_great_expectations(suite, resolved)
    prepared = _prepare_frame(frame, keys, _pair_columns(resolved))
    results = _validate(suite.name, prepared, expectations)
    outcomes = tuple(
        _outcome(expectation, results.get(position), prepared, keys) for position, expectation in enumerate(resolved)
    )
    broken = any(outcome.error is not None for outcome in outcomes)
    return SuiteResult(
        suite=suite,
        success=not broken and all(outcome.success for outcome in outcomes),
        broken=broken,
        outcomes=outcomes,
        seconds=time.perf_counter() - started,
    )


def _pair_columns(resolved: Sequence[Mapping[str, Any]]) -> set[str]:
    """The columns compared by column-pair expectations, which need NaN-style missing values (see below)."""
    return {
        str(expectation["kwargs"][key])
        for expectation in resolved
        for key in _PAIR_KWARGS
        if key in expectation["kwargs"]
    }


def _prepare_frame(frame: pd.DataFrame, keys: list[str], pair_columns: set[str]) -> pd.DataFrame:
    """The frame GE validates: sorted by key with a fresh 0..n-1 index, and pair columns comparable when missing.

    Sorting makes the sample keys reproducible: GE reports the first failing rows by position, and DuckDB returns
    rows in no guaranteed order. A frame already sorted by a single key is used as it is (no copy), so a caller can
    `order by` the grain in DuckDB, which is faster.

    Pair columns: GE compares column A with column B row by row, and on pandas' nullable dtypes (`Int64`, `boolean`,
    `string`) a missing value yields pd.NA, on which GE raises "boolean value of NA is ambiguous" unless the
    expectation ignores rows with either value missing. An object column with None compares as False instead, like
    NaN and NaT do, so a missing value counts as an unexpected row rather than breaking the suite.
    """
    prepared = frame
    if keys and not _sorted_by(frame, keys):
        # Drop the index first: it means nothing here, and an index level named like a key column makes the sort fail.
        prepared = frame.reset_index(drop=True).sort_values(keys, kind="stable", na_position="last", ignore_index=True)
    converted = {
        column: prepared[column].astype(object).where(prepared[column].notna(), None)
        for column in sorted(pair_columns)
        if column in prepared.columns and getattr(prepared[column].dtype, "na_value", None) is pd.NA
    }
    return prepared.assign(**converted) if converted else prepared


def _sorted_by(frame: pd.DataFrame, keys: list[str]) -> bool:
    """Whether the frame is already in key order with positions as labels (cheap to check for a single key only)."""
    index = frame.index
    plain_index = isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1
    return plain_index and len(keys) == 1 and bool(frame[keys[0]].is_monotonic_increasing)


def _validate(suite_name: str, frame: pd.DataFrame, expectations: list[Expectation]) -> dict[int, Any]:
    """Validate all expectations in one pass (GE shares metrics between them); results keyed by position."""
    import great_expectations as gx

    result_format = {"result_format": "SUMMARY", "partial_unexpected_count": SAMPLE_SIZE}
    with _VALIDATION_LOCK:
        batch = _batch_definition().get_batch(batch_parameters={"dataframe": frame})
        try:
            validation = batch.validate(
                gx.ExpectationSuite(name=suite_name, expectations=expectations), result_format=result_format
            )
        finally:
            _release(batch)
    return {
        result.expectation_config.meta[_POSITION]: result
        for result in validation.results
        if result.expectation_config is not None and _POSITION in (result.expectation_config.meta or {})
    }


@functools.cache
def _batch_definition() -> BatchDefinition:
    """The one ephemeral context's whole-dataframe batch definition, created on first use and reused after."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    # Progress bars would write a dozen carriage-return lines per suite into Dagster's captured logs.
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    asset = context.data_sources.add_pandas("flywheel").add_dataframe_asset("model")
    return asset.add_batch_definition_whole_dataframe("whole_table")


def _release(batch: Any) -> None:
    """Drop the validated frame from GE's cached execution engine, which would otherwise keep it alive until the next
    validation (gigabytes for a large model)."""
    manager = batch.data.execution_engine.batch_manager
    manager.reset_batch_cache()
    manager.batch_data_cache.clear()


def _outcome(expectation: Mapping[str, Any], result: Any, frame: pd.DataFrame, keys: list[str]) -> ExpectationOutcome:
    """One expectation's result in Flywheel's terms, with GE's exceptions turned into an error."""
    label, description = expectation_label(expectation), str(expectation["description"])
    errors = ["Great Expectations returned no result"] if result is None else _exception_messages(result.exception_info)
    if errors:
        return ExpectationOutcome(label, description, False, 0, 0, [], "; ".join(errors))
    details: Mapping[str, Any] = result.result or {}
    observed = details.get("observed_value")
    return ExpectationOutcome(
        expectation=label,
        description=description,
        success=bool(result.success),
        unexpected_count=int(details.get("unexpected_count") or 0),
        element_count=int(details.get("element_count", len(frame)) or 0),
        sample_keys=_sample_keys(frame, keys, details.get("partial_unexpected_index_list") or []),
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


def _sample_keys(frame: pd.DataFrame, keys: list[str], labels: Sequence[Any]) -> list[str]:
    """The keys of the first failing rows: the key columns joined with " | ", or the row label without keys."""
    if not keys:
        return [str(label) for label in list(labels)[:SAMPLE_SIZE]]
    # With key columns the frame has a 0..n-1 index (see _prepare_frame), so GE's labels are positions.
    positions = sorted(int(label) for label in labels if isinstance(label, numbers.Integral))[:SAMPLE_SIZE]
    rows = frame.loc[positions, keys]
    return [KEY_SEPARATOR.join(_key_text(value) for value in row) for row in rows.itertuples(index=False)]


def _key_text(value: Any) -> str:
    """A key value as text; missing values of any dtype (None, NaN, NaT, pd.NA) read `null`."""
    if value is None or (pd.api.types.is_scalar(value) and bool(pd.isna(value))):
        return "null"
    return str(value)
