"""Running a suite on DuckDB: its expectations built as Great Expectations objects and validated in one query.

Great Expectations' SQL datasource runs on the build's own connection (see ge_duckdb.py). Great Expectations is
imported only inside the functions that validate: its import costs seconds. The engine-neutral part (expectations
prepared for SQL, the query text, the two passes, results paired with expectations: `validate_suite`, `with_horizon`)
is shared with the Spark engine (pipelines/warehouse/spark/suites.py), which runs the same query text on Spark.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import duckdb
import pandas as pd

from pipelines.spec.row_conditions import ConditionError, condition_sql
from pipelines.spec.suite_references import parameter_name, resolve_condition, resolve_kwargs, resolve_value
from pipelines.spec.suite_schema import (
    DEFINITION_KEY,
    HORIZON_KEY,
    PARAMETER_KEY,
    Suite,
    SuiteError,
    expectation_label,
    suite_columns,
)
from pipelines.warehouse.suite_results import SAMPLE_SIZE, SuiteResult, outcome_of

if TYPE_CHECKING:
    from great_expectations.expectations import Expectation

# The key GE carries through from an expectation's meta to its result, to pair results with expectations: GE returns
# results in its own order (expectations that raised first), and unsaved expectations have no id.
_POSITION = "flywheel_position"

# A suite is validated in two passes. The first counts, for every expectation, the rows it reads and the rows that
# break it (GE's BASIC format); almost every expectation passes, and this pass costs about two thirds of one that also
# looks up the keys of failing rows. Only the expectations that failed are validated again, with the keys of a sample
# of their failing rows (SUMMARY with index columns): the same results as one SUMMARY pass, for a third less GE work.
COUNTS_FORMAT: Mapping[str, Any] = {"result_format": "BASIC", "partial_unexpected_count": SAMPLE_SIZE}
SAMPLES_FORMAT: Mapping[str, Any] = {"result_format": "SUMMARY", "partial_unexpected_count": SAMPLE_SIZE}

# The query column holding an expectation's row condition as true/false, suffixed with its position.
_CONDITION_PREFIX = "_flywheel_condition_"
# The query column holding whether a regex expectation's column matches, suffixed with its position.
_MATCH_PREFIX = "_flywheel_match_"
# The one-row table of this run's data horizon, which `{"$horizon": ...}` references read.
HORIZON_TABLE = "definitions.data_horizon"
# Regex expectations GE does not implement for DuckDB, computed in SQL instead: whether the column must match.
# GE's SQL column-pair set check ignores a row condition when it counts the unexpected rows: computed in SQL instead.
_PAIR_IN_SET = "expect_column_pair_values_to_be_in_set"
_REGEX_TYPES: dict[str, bool] = {
    "expect_column_values_to_match_regex": True,
    "expect_column_values_to_not_match_regex": False,
}


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
    classes = _expectation_classes()
    built = []
    for position, expectation in zip(positions or range(len(resolved)), resolved, strict=True):
        where = f"{suite.path}: suite {suite.name}: expectation {position + 1} {expectation_label(expectation)}"
        expectation_class = classes.get(str(expectation["type"]))
        if expectation_class is None:
            raise SuiteError(f"{where}: Great Expectations has no expectation `{expectation['type']}`")
        try:
            built.append(expectation_class(**dict(expectation["kwargs"]), meta={_POSITION: position}))
        except Exception as error:  # GE raises pydantic errors (and others) for kwargs it cannot accept.
            raise SuiteError(f"{where}: invalid kwargs: {error}") from error
    return built


@functools.cache
def _expectation_classes() -> dict[str, type[Expectation]]:
    """Great Expectations' own expectations by their snake_case type, from its public `gx.expectations` namespace."""
    import great_expectations as gx

    return {
        value.expectation_type: value
        for value in vars(gx.expectations).values()
        if isinstance(value, type) and issubclass(value, gx.expectations.Expectation) and value.expectation_type
    }


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
    failing rows, looked up for the failing expectations only (COUNTS_FORMAT). The connection is usable as before
    afterwards.
    """
    from pipelines.warehouse import ge_duckdb

    started = time.perf_counter()
    definitions = _with_horizon(suite, connection, definitions)

    def validate(
        query: str, expectations: Sequence[Expectation], parameters: Mapping[str, Any], result_format: Mapping[str, Any]
    ) -> Any:
        return ge_duckdb.validate_query(connection, query, suite.name, expectations, parameters, result_format)

    return validate_suite(suite, table, _columns(connection, table), definitions, key_columns, validate, started)


# How an engine validates the rows of a query (DuckDB SQL over one table, see `_query`) with Great Expectations:
# (query, expectations, suite parameters, result format) -> GE's validation result.
QueryValidator = Callable[[str, Sequence["Expectation"], Mapping[str, Any], Mapping[str, Any]], Any]


def validate_suite(
    suite: Suite,
    table: str,
    available: Sequence[str],
    definitions: Mapping[str, Any],
    key_columns: Sequence[str],
    validate_query: QueryValidator,
    started: float,
) -> SuiteResult:
    """Validate `table` (whose columns are `available`) with the suite through an engine's `validate_query`.

    The part every engine shares: expectations prepared for SQL, one query text, two passes (counts for all, keys of
    failing rows for the failing ones), results paired with the suite's expectations. `definitions` already hold the
    data horizon when the suite refers to it; `started` is when the caller began (`time.perf_counter()`).
    """
    keys = list(key_columns)
    missing = [column for column in keys if column not in available]
    if missing:
        raise SuiteError(f"{suite.path}: suite {suite.name}: {table} has no key column(s) {missing}")
    prepared = [_prepare(suite, position, item, definitions) for position, item in enumerate(suite.expectations)]
    resolved = [
        {**item, "type": ready.type, "kwargs": ready.kwargs}
        for item, ready in zip(suite.expectations, prepared, strict=True)
    ]
    runnable = [position for position, item in enumerate(prepared) if item.error is None]
    parameters = {name: value for item in prepared for name, value in item.parameters.items()}
    query = _query(table, keys, suite_columns(suite, list(available)), prepared)

    def validate(positions: list[int], result_format: dict[str, Any]) -> dict[int, Any]:
        expectations = _to_great_expectations(suite, [resolved[position] for position in positions], positions)
        return _results_by_position(validate_query(query, expectations, parameters, result_format))

    results = validate(runnable, dict(COUNTS_FORMAT))
    failing = [position for position in runnable if not getattr(results.get(position), "success", False)]
    if failing and keys:
        results.update(validate(failing, {**SAMPLES_FORMAT, "unexpected_index_column_names": keys}))
    outcomes = tuple(
        outcome_of(expectation, results.get(position), keys, prepared[position].error)
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


def _results_by_position(validation: Any) -> dict[int, Any]:
    """GE's results keyed by the position in the suite each expectation carries in its meta."""
    return {
        result.expectation_config.meta[_POSITION]: result
        for result in validation.results
        if result.expectation_config is not None and _POSITION in (result.expectation_config.meta or {})
    }


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

    A reference that is a whole kwarg value (`"min_value": {"$definition": "mql__score_threshold"}`, or the same with
    `$PARAMETER`) becomes GE's own `{"$PARAMETER": "mql__score_threshold"}`, its value passed at validation; one
    nested inside a list or object (which GE does not substitute) is resolved in place, and so is an `@name` in a
    row condition. A row condition that has no
    SQL equivalent makes this expectation broken, not the suite file unreadable. A regex expectation, which GE does
    not implement for DuckDB, becomes a true/false column computed with DuckDB's `regexp_matches` (a search, as GE's
    own regex expectations do) that must be true wherever the column is not null; so does a column-pair set check.
    """
    where = f"{suite.path}: suite {suite.name}: expectation {position + 1} {expectation_label(expectation)}"
    kind = str(expectation["type"])
    kwargs: dict[str, Any] = {}
    parameters: dict[str, Any] = {}
    computed: dict[str, str] = {}
    for key, value in expectation["kwargs"].items():
        if isinstance(value, dict) and DEFINITION_KEY in value:
            name = parameter_name(value)
            parameters[name] = resolve_value(value, definitions, where)
            kwargs[key] = {PARAMETER_KEY: name}
        else:
            kwargs[key] = resolve_value(value, definitions, where)
    if kind in _REGEX_TYPES and isinstance(kwargs.get("column"), str) and "regex" in kwargs:
        regex = resolve_value(expectation["kwargs"]["regex"], definitions, where)
        parameters = {name: value for name, value in parameters.items() if kwargs["regex"] != {PARAMETER_KEY: name}}
        match = f"regexp_matches({_quote(kwargs.pop('column'))}, '{str(regex).replace(chr(39), chr(39) * 2)}')"
        computed[_match_column(position)] = match if _REGEX_TYPES[kind] else f"not {match}"
        del kwargs["regex"]
        kind, kwargs = "expect_column_values_to_be_in_set", {**kwargs, "column": _match_column(position)}
        kwargs["value_set"] = [True]
    if kind == _PAIR_IN_SET and {"column_A", "column_B", "value_pairs_set"} <= set(kwargs):
        pairs = resolve_value(expectation["kwargs"]["value_pairs_set"], definitions, where)
        parameters = {
            name: value for name, value in parameters.items() if kwargs["value_pairs_set"] != {PARAMETER_KEY: name}
        }
        computed[_match_column(position)] = _pair_in_set(kwargs, pairs)
        kind, kwargs = "expect_column_values_to_be_in_set", {**kwargs, "column": _match_column(position)}
        kwargs["value_set"] = [True]
    condition = kwargs.pop("row_condition", None)
    kwargs.pop("condition_parser", None)
    if condition is None:
        return _Prepared(kind, kwargs, parameters, computed, None)
    try:
        sql = condition_sql(resolve_condition(str(condition), definitions, where))
    except (ConditionError, SuiteError) as error:
        return _Prepared(kind, kwargs, parameters, computed, str(error))
    from pipelines.warehouse.ge_duckdb import row_condition_is_true

    kwargs["row_condition"] = row_condition_is_true(_condition_column(position))
    computed[_condition_column(position)] = f"coalesce({sql}, false)"
    return _Prepared(kind, kwargs, parameters, computed, None)


def _pair_in_set(kwargs: dict[str, Any], pairs: Sequence[Sequence[Any]]) -> str:
    """Whether a row's (column_A, column_B) is one of `pairs`, as SQL (null for a row `ignore_row_if` leaves out, so
    the in-set check skips it); the pair kwargs are taken out of `kwargs`."""
    first, second = _quote(kwargs.pop("column_A")), _quote(kwargs.pop("column_B"))
    ignored = {
        "both_values_are_missing": f"{first} is null and {second} is null",
        "either_value_is_missing": f"{first} is null or {second} is null",
        "neither": "false",
    }[str(kwargs.pop("ignore_row_if", "both_values_are_missing"))]
    del kwargs["value_pairs_set"]
    matches = [
        f"({first} is not distinct from {_sql_literal(a)} and {second} is not distinct from {_sql_literal(b)})"
        for a, b in pairs
    ]
    return f"case when {ignored} then null else {' or '.join(matches) or 'false'} end"


def _sql_literal(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _condition_column(position: int) -> str:
    return f"{_CONDITION_PREFIX}{position}"


def _match_column(position: int) -> str:
    return f"{_MATCH_PREFIX}{position}"


def _with_horizon(
    suite: Suite, connection: duckdb.DuckDBPyConnection, definitions: Mapping[str, Any]
) -> Mapping[str, Any]:
    """The definitions with this run's data horizon under `$horizon`, read from the warehouse when the suite refers
    to it and the caller did not give it."""
    return with_horizon(suite, definitions, lambda: _horizon_rows(connection))


def with_horizon(
    suite: Suite, definitions: Mapping[str, Any], read_rows: Callable[[], list[dict[str, Any]] | None]
) -> Mapping[str, Any]:
    """The definitions with the data horizon under `$horizon` when the suite refers to it and the caller did not
    give it; `read_rows` reads the rows of HORIZON_TABLE on the suite's engine (None when the table is missing)."""
    if HORIZON_KEY in definitions or not _refers_to_horizon(suite.expectations):
        return definitions
    rows = read_rows()
    if rows is None:
        raise SuiteError(f"{suite.path}: suite {suite.name} refers to the data horizon, but {HORIZON_TABLE} is missing")
    if len(rows) != 1:
        raise SuiteError(f"{suite.path}: suite {suite.name}: {HORIZON_TABLE} has {len(rows)} rows, not one")
    return {**definitions, HORIZON_KEY: rows[0]}


def _horizon_rows(connection: duckdb.DuckDBPyConnection) -> list[dict[str, Any]] | None:
    """The rows of HORIZON_TABLE in DuckDB as mappings, or None when it is missing."""
    if not _columns(connection, HORIZON_TABLE):
        return None
    schema, name = HORIZON_TABLE.split(".")
    cursor = connection.execute(f"select * from {_quote(schema)}.{_quote(name)}")
    columns = [str(column[0]) for column in cursor.description or []]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def _refers_to_horizon(value: Any) -> bool:
    """Whether a reference anywhere inside `value` reads the data horizon (`{"$horizon": ...}` as loaded)."""
    if isinstance(value, list | tuple):
        return any(_refers_to_horizon(item) for item in value)
    if isinstance(value, dict):
        if str(value.get(DEFINITION_KEY, "")).startswith(f"{HORIZON_KEY}__"):
            return True
        return any(_refers_to_horizon(item) for item in value.values())
    return False


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
