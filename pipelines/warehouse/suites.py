"""Great Expectations suites: load them from JSON, resolve them against the shared definitions, run them in DuckDB.

A suite is one JSON file in `expectations/`, one per definition or contract. It names the model it validates
(`schema.table`), its severity (`error` blocks downstream assets, `warn` only reports) and its expectations, each a
Great Expectations type in snake_case with its kwargs and a sentence saying what it checks. No threshold is typed
into a suite: `{"$definition": "mql.score_threshold"}` (or GE's own spelling, `{"$PARAMETER": "mql.score_threshold"}`)
anywhere in the kwargs (also inside lists) stands for the value at that dotted path of the shared-definitions
document, and `{"$definition": "closed_lost_reasons", "$field": "reason"}` picks one field from each item of a list
of mappings; `"$append": "other.path"` adds the value (or list) at another path, as in a taxonomy plus its catch-all
value. `{"$horizon": "as_of_month"}` stands for a column of this run's data horizon, the one-row warehouse table
`definitions.data_horizon` (horizon.py), read when the suite runs: the as-of time is not in the definitions file.
A reference that is a whole kwarg value reaches GE as one of its suite parameters (`{"$PARAMETER":
"mql__score_threshold"}`, the value given at validation); one nested deeper is resolved in place.

Suites run on DuckDB's SQL engine through Great Expectations' SQL datasource, on the build's own connection (see
ge_duckdb.py): the model's rows never leave DuckDB, only counts and a few failing keys do. Nothing here imports
Dagster, and Great Expectations is imported only inside the functions that validate: its import costs seconds, which
would otherwise be paid by every process that only loads the Dagster definitions.

Row conditions are written in pandas' query syntax, with `"condition_parser": "pandas"` beside them, and run as SQL
(row_conditions.py says what translates)::

    "row_condition": "mql_at.notnull()"                      # the lead became an MQL
    "row_condition": "is_won == True"                        # a boolean; null counts as not true
    "row_condition": "rejected_at.notnull() and score > 10"  # `and`/`or`/`not`, or `&`/`|` with parentheses
    "row_condition": "accepted_at.notnull() & ~is_won"       # `~` negates a boolean column (null stays excluded)
    "row_condition": "channel == 'Outbound'"                 # string literals in single or double quotes
    "row_condition": "stage in ['Demo', 'Proposal']"

Under a row condition, `element_count` counts the rows that meet the condition, not the whole table. On SQL a pair
expectation (`column_A` > `column_B`) cannot judge a row where either value is null: such a row is neither expected
nor unexpected, so say `"ignore_row_if": "either_value_is_missing"` and check the nulls with a not-null expectation.
GE does not implement regex expectations for DuckDB: `expect_column_values_to_match_regex` and
`expect_column_values_to_not_match_regex` are computed with DuckDB's `regexp_matches` in the validated query and
checked by GE as a true/false column (same counts, same sample keys); other regex expectations (`..._regex_list`)
report as broken.

Broken suites versus bad data. Great Expectations reports an exception raised inside an expectation (a column that
does not exist, a row condition that does not translate, a comparison between incompatible types) as an ordinary
failure. `run_suite` tells them apart: such an expectation gets an `error`, and the result is `broken`, so the fix is
sought in the suite, not in the data.
"""

from __future__ import annotations

import copy
import json
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pandas as pd

from pipelines.spec.row_conditions import ConditionError, condition_sql

if TYPE_CHECKING:
    from great_expectations.expectations.expectation import Expectation

SEVERITIES: tuple[str, ...] = ("error", "warn")
BLOCKING_SEVERITY = "error"
DEFINITION_KEY = "$definition"
PARAMETER_KEY = "$PARAMETER"
FIELD_KEY = "$field"
APPEND_KEY = "$append"
HORIZON_KEY = "$horizon"
HORIZON_TABLE = "definitions.data_horizon"
PANDAS_CONDITION_PARSER = "pandas"
SAMPLE_SIZE = 5
KEY_SEPARATOR = " | "

_SUITE_KEYS: tuple[str, ...] = ("name", "model", "severity", "description", "expectations")
_EXPECTATION_KEYS: tuple[str, ...] = ("type", "description", "kwargs")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_MODEL = re.compile(r"^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$")
_COLUMN_KWARGS: tuple[str, ...] = ("column", "column_A", "column_B")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# The key GE carries through from an expectation's meta to its result, to pair results with expectations: GE returns
# results in its own order (expectations that raised first), and unsaved expectations have no id.
_POSITION = "flywheel_position"
_MISSING = object()

# The query column holding an expectation's row condition as true/false, suffixed with its position.
_CONDITION_PREFIX = "_flywheel_condition_"
# The query column holding whether a regex expectation's column matches, suffixed with its position.
_MATCH_PREFIX = "_flywheel_match_"
# Regex expectations GE does not implement for DuckDB, computed in SQL instead: whether the column must match.
_REGEX_TYPES: dict[str, bool] = {
    "expect_column_values_to_match_regex": True,
    "expect_column_values_to_not_match_regex": False,
}


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
    expectations = [_with_definition_references(expectation) for expectation in expectations]
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


def _with_definition_references(value: Any) -> Any:
    """GE's spelling of a reference, `{"$PARAMETER": "dotted.path"}`, read as `{"$definition": "dotted.path"}`, and
    `{"$horizon": "column"}` as `{"$definition": "$horizon.column"}`."""
    if isinstance(value, list):
        return [_with_definition_references(item) for item in value]
    if isinstance(value, dict) and set(value) == {HORIZON_KEY} and isinstance(value[HORIZON_KEY], str):
        return {DEFINITION_KEY: f"{HORIZON_KEY}.{value[HORIZON_KEY]}"}
    if isinstance(value, dict):
        renamed = {DEFINITION_KEY if key == PARAMETER_KEY else key: item for key, item in value.items()}
        if DEFINITION_KEY in renamed:
            return renamed
        return {key: _with_definition_references(item) for key, item in renamed.items()}
    return value


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
            f'{path}: {where}: a `row_condition` needs "condition_parser": "pandas" (pandas query syntax, run as SQL)'
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


def _to_great_expectations(
    suite: Suite, resolved: Sequence[Mapping[str, Any]], positions: Sequence[int] | None = None
) -> list[Expectation]:
    """Build each expectation from its snake_case type; its position in the suite (`positions`, by default 0..n-1)
    rides along in `meta` to find its result."""
    from great_expectations.exceptions import ExpectationNotFoundError
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    built = []
    for position, expectation in zip(positions or range(len(resolved)), resolved, strict=True):
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
    """Validate a frame (rows of the model, e.g. a table changed on purpose in a test) exactly as a build would.

    The frame becomes the suite's model table in a private in-memory DuckDB database and the suite runs there with
    `run_suite_on_table`, the path builds take. The caller's frame is not modified. A suite that refers to the data
    horizon needs it given as `definitions["$horizon"]` (a row of `definitions.data_horizon` as a mapping).
    """
    connection = duckdb.connect()
    try:
        connection.execute("set TimeZone = 'UTC'")
        connection.execute(f"create schema {_quote(suite.schema)}")
        connection.register("flywheel_frame", frame)
        connection.execute(f"create table {_quote(suite.schema)}.{_quote(suite.table)} as select * from flywheel_frame")
        connection.unregister("flywheel_frame")
        return run_suite_on_table(suite, connection, suite.model, definitions, key_columns)
    finally:
        connection.close()


def run_suite_on_table(
    suite: Suite,
    connection: duckdb.DuckDBPyConnection,
    table: str,
    definitions: Mapping[str, Any],
    key_columns: Sequence[str],
) -> SuiteResult:
    """Validate `table` (`schema.table`, the model's table or its pending build) with the suite, in DuckDB.

    Great Expectations' SQL datasource runs on `connection` (see ge_duckdb.py): only the key columns, the columns
    the suite reads and one boolean per row condition are selected. `key_columns` (the model's grain) name the
    failing rows. The connection is usable as before afterwards.
    """
    from pipelines.warehouse import ge_duckdb

    started = time.perf_counter()
    keys = list(key_columns)
    definitions = _with_horizon(suite, connection, definitions)
    available = _columns(connection, table)
    missing = [column for column in keys if column not in available]
    if missing:
        raise SuiteError(f"{suite.path}: suite {suite.name}: {table} has no key column(s) {missing}")
    prepared = [_prepare(suite, position, item, definitions) for position, item in enumerate(suite.expectations)]
    resolved = [
        {**item, "type": ready.type, "kwargs": ready.kwargs}
        for item, ready in zip(suite.expectations, prepared, strict=True)
    ]
    runnable = [position for position, item in enumerate(prepared) if item.error is None]
    expectations = _to_great_expectations(suite, [resolved[position] for position in runnable], runnable)
    parameters = {name: value for item in prepared for name, value in item.parameters.items()}
    result_format: dict[str, Any] = {"result_format": "SUMMARY", "partial_unexpected_count": SAMPLE_SIZE}
    if keys:
        result_format["unexpected_index_column_names"] = keys
    query = _query(table, keys, suite_columns(suite, available), prepared)
    validation = ge_duckdb.validate_query(connection, query, suite.name, expectations, parameters, result_format)
    results = {
        result.expectation_config.meta[_POSITION]: result
        for result in validation.results
        if result.expectation_config is not None and _POSITION in (result.expectation_config.meta or {})
    }
    outcomes = tuple(
        _outcome(expectation, results.get(position), keys, prepared[position].error)
        for position, expectation in enumerate(suite.expectations)
    )
    broken = any(outcome.error is not None for outcome in outcomes)
    return SuiteResult(
        suite=suite,
        success=not broken and all(outcome.success for outcome in outcomes),
        broken=broken,
        outcomes=outcomes,
        seconds=time.perf_counter() - started,
    )


def _with_horizon(
    suite: Suite, connection: duckdb.DuckDBPyConnection, definitions: Mapping[str, Any]
) -> Mapping[str, Any]:
    """The definitions with this run's data horizon under `$horizon`, read from the warehouse when the suite refers
    to it and the caller did not give it."""
    if HORIZON_KEY in definitions or f'"{DEFINITION_KEY}": "{HORIZON_KEY}.' not in json.dumps(suite.expectations):
        return definitions
    schema, name = HORIZON_TABLE.split(".")
    if not _columns(connection, HORIZON_TABLE):
        raise SuiteError(f"{suite.path}: suite {suite.name} refers to the data horizon, but {HORIZON_TABLE} is missing")
    cursor = connection.execute(f"select * from {_quote(schema)}.{_quote(name)}")
    columns = [str(column[0]) for column in cursor.description or []]
    rows = cursor.fetchall()
    if len(rows) != 1:
        raise SuiteError(f"{suite.path}: suite {suite.name}: {HORIZON_TABLE} has {len(rows)} rows, not one")
    return {**definitions, HORIZON_KEY: dict(zip(columns, rows[0], strict=True))}


@dataclass(frozen=True)
class _Prepared:
    """One expectation made ready for the SQL engine: its GE type and kwargs, the suite parameters they use, and the
    columns it adds to the validated query (name -> SQL)."""

    type: str
    kwargs: dict[str, Any]
    parameters: dict[str, Any]
    computed: dict[str, str]
    error: str | None


def _prepare(suite: Suite, position: int, expectation: Mapping[str, Any], definitions: Mapping[str, Any]) -> _Prepared:
    """Definition references become GE suite parameters; a row condition becomes a boolean column of the query.

    A reference that is a whole kwarg value (`"min_value": {"$definition": "mql.score_threshold"}`, or the same with
    `$PARAMETER`) becomes GE's own `{"$PARAMETER": "mql__score_threshold"}`, its value passed at validation; one
    nested inside a list or object (which GE does not substitute) is resolved in place. A row condition that has no
    SQL equivalent makes this expectation broken, not the suite file unreadable. A regex expectation, which GE does
    not implement for DuckDB, becomes a true/false column computed with DuckDB's `regexp_matches` (a search, as GE's
    own regex expectations do) that must be true wherever the column is not null.
    """
    where = f"{suite.path}: suite {suite.name}: expectation {position + 1} {expectation_label(expectation)}"
    kind = str(expectation["type"])
    kwargs: dict[str, Any] = {}
    parameters: dict[str, Any] = {}
    computed: dict[str, str] = {}
    for key, value in expectation["kwargs"].items():
        if isinstance(value, dict) and DEFINITION_KEY in value:
            name = _parameter_name(value)
            parameters[name] = _resolve(value, definitions, where)
            kwargs[key] = {PARAMETER_KEY: name}
        else:
            kwargs[key] = _resolve(value, definitions, where)
    if kind in _REGEX_TYPES and isinstance(kwargs.get("column"), str) and "regex" in kwargs:
        regex = _resolve(expectation["kwargs"]["regex"], definitions, where)
        parameters = {name: value for name, value in parameters.items() if kwargs["regex"] != {PARAMETER_KEY: name}}
        match = f"regexp_matches({_quote(kwargs.pop('column'))}, '{str(regex).replace(chr(39), chr(39) * 2)}')"
        computed[_match_column(position)] = match if _REGEX_TYPES[kind] else f"not {match}"
        del kwargs["regex"]
        kind, kwargs = "expect_column_values_to_be_in_set", {**kwargs, "column": _match_column(position)}
        kwargs["value_set"] = [True]
    condition = kwargs.pop("row_condition", None)
    kwargs.pop("condition_parser", None)
    if condition is None:
        return _Prepared(kind, kwargs, parameters, computed, None)
    try:
        sql = condition_sql(str(condition))
    except ConditionError as error:
        return _Prepared(kind, kwargs, parameters, computed, str(error))
    from great_expectations.expectations.conditions import Column

    kwargs["row_condition"] = Column(_condition_column(position)) == True  # noqa: E712 (a GE condition, not a test)
    computed[_condition_column(position)] = f"coalesce({sql}, false)"
    return _Prepared(kind, kwargs, parameters, computed, None)


def _parameter_name(reference: Mapping[str, Any]) -> str:
    """A GE suite-parameter name for a reference: GE's parser takes identifiers, so dots become `__` (and `$horizon`,
    `horizon`)."""
    name = str(reference[DEFINITION_KEY]).lstrip("$")
    if FIELD_KEY in reference:
        name += f"__{reference[FIELD_KEY]}"
    if APPEND_KEY in reference:
        name += f"__and__{reference[APPEND_KEY]}"
    return re.sub(r"\W", "_", name.replace(".", "__"))


def _condition_column(position: int) -> str:
    return f"{_CONDITION_PREFIX}{position}"


def _match_column(position: int) -> str:
    return f"{_MATCH_PREFIX}{position}"


def _columns(connection: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """The columns of `schema.table`, in table order."""
    schema, name = table.split(".", 1)
    rows = connection.execute(
        "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
        "order by ordinal_position",
        [schema, name],
    ).fetchall()
    return [str(row[0]) for row in rows]


def _query(table: str, keys: list[str], read: list[str], prepared: Sequence[_Prepared]) -> str:
    """The validated rows: the keys, the columns the suite reads, and the columns expectations compute (row
    conditions and regex matches as true/false)."""
    columns = [_quote(column) for column in dict.fromkeys([*keys, *read])]
    columns += [f"{sql} as {_quote(name)}" for item in prepared for name, sql in item.computed.items()]
    schema, name = table.split(".", 1)
    return f"select {', '.join(columns) or '*'} from {_quote(schema)}.{_quote(name)}"


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _outcome(expectation: Mapping[str, Any], result: Any, keys: list[str], error: str | None) -> ExpectationOutcome:
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
