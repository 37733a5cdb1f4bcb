"""Running a suite on Spark: the same expectations, query text and two passes as on DuckDB, validated by Great
Expectations' Spark datasource.

The engine-neutral part lives in pipelines/warehouse/suite_run.py (`validate_suite`): the expectations prepared for
SQL (definition references as suite parameters, row conditions, regex and column-pair set checks as true/false
columns), one query over the model's table, the counts pass and the samples pass for what failed. Here that query
(DuckDB SQL) is transpiled to Spark SQL and its DataFrame is the batch GE validates, so only counts and a few
failing keys leave Spark, and a SuiteResult equals the one DuckDB gives on the same rows. A small result (up to
DRIVER_ROWS rows) is read once and validated by GE's pandas engine instead: the same expectations and results, at a
fraction of the Spark jobs.

Great Expectations and pyspark are imported only inside the functions that validate: DuckDB runs need neither.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import threading
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from pipelines.spec.spark_sql import to_spark
from pipelines.spec.suite_schema import Suite
from pipelines.warehouse.ge_duckdb import ge_context
from pipelines.warehouse.suite_results import SuiteResult
from pipelines.warehouse.suite_run import COUNTS_FORMAT, HORIZON_TABLE, validate_suite, with_horizon

if TYPE_CHECKING:
    from great_expectations.core import ExpectationSuiteValidationResult
    from great_expectations.datasource.fluent import PandasDatasource, SparkDatasource
    from great_expectations.expectations import Expectation
    from pyspark.sql import DataFrame, SparkSession

DATASOURCE = "flywheel_spark"
DRIVER_DATASOURCE = "flywheel_spark_driver"

# GE's Spark execution engine keeps the batch being validated: validations are serialised, as on DuckDB.
_LOCK = threading.Lock()
_ASSET_NUMBERS = itertools.count()


# A suite's query result up to this many rows is validated by GE's pandas engine on the driver, after one Spark job
# that reads it (through Arrow); a larger one by GE's Spark engine, where it is. GE's Spark engine runs several Spark
# jobs per expectation (0.5-0.7 s each on local Spark, whatever the rows), so for the small tables most models are,
# reading the rows once is cheaper by an order of magnitude; for large ones, moving the rows would cost more.
DRIVER_ROWS = 200_000


def run_suite_on_spark(
    suite: Suite,
    session: SparkSession,
    table: str,
    definitions: Mapping[str, Any],
    grain: Sequence[str],
    driver_rows: int = DRIVER_ROWS,
) -> SuiteResult:
    """Validate `table` (`schema.table` in the Spark catalog) with the suite, as `run_suite_on_table` does in DuckDB.

    `grain` (the model's key columns) names the failing rows. A suite that refers to the data horizon reads it from
    the Spark table `definitions.data_horizon` unless `definitions` already hold it under `$horizon`.
    """
    started = time.perf_counter()
    definitions = with_horizon(suite, definitions, lambda: _horizon_rows(session))
    available = session.table(table).columns

    def validate(
        query: str, expectations: Sequence[Expectation], parameters: Mapping[str, Any], result_format: Mapping[str, Any]
    ) -> ExpectationSuiteValidationResult:
        frame = session.sql(to_spark(query))
        rows = frame.limit(driver_rows + 1).toPandas() if driver_rows > 0 else None
        if rows is not None and len(rows) <= driver_rows:
            dates = [field.name for field in frame.schema.fields if field.dataType.typeName() == "date"]
            return validate_frame(_comparable_dates(rows, dates), suite.name, expectations, parameters, result_format)
        # Cached for the validation: GE reads the rows once per metric, and each read would scan the table again.
        frame = frame.cache()
        try:
            return validate_frame(frame, suite.name, expectations, parameters, _counts_only(result_format))
        finally:
            frame.unpersist()

    return validate_suite(suite, table, available, definitions, grain, validate, started)


class SqlDate(dt.date):
    """A date that compares with a timestamp as SQL does, as midnight of its day (Python's dates refuse to).

    A suite compares date columns with the data horizon's timestamps (`{"$horizon": "as_of_at"}`), which DuckDB and
    Spark SQL do; on the driver, GE's pandas engine compares the Python values. Its text is the date's.
    """

    def _pair(self, other: object) -> tuple[Any, Any]:
        if isinstance(other, dt.datetime):
            return dt.datetime(self.year, self.month, self.day, tzinfo=other.tzinfo), other
        return dt.date(self.year, self.month, self.day), other

    def __lt__(self, other: object) -> bool:
        left, right = self._pair(other)
        return bool(left < right)

    def __le__(self, other: object) -> bool:
        left, right = self._pair(other)
        return bool(left <= right)

    def __gt__(self, other: object) -> bool:
        left, right = self._pair(other)
        return bool(left > right)

    def __ge__(self, other: object) -> bool:
        left, right = self._pair(other)
        return bool(left >= right)

    __hash__ = dt.date.__hash__


def _comparable_dates(rows: pd.DataFrame, date_columns: Sequence[str]) -> pd.DataFrame:
    """The rows with every value of the date columns a SqlDate (see there); other columns as read."""
    for column in date_columns:
        rows[column] = rows[column].map(
            lambda value: SqlDate(value.year, value.month, value.day) if isinstance(value, dt.date) else value
        )
    return rows


def _counts_only(result_format: Mapping[str, Any]) -> Mapping[str, Any]:
    """The counts pass without the failing values GE lists beside the counts, which a SuiteResult does not use: on
    Spark each list is a job of its own (a third of a suite's jobs, a sixth of its time). The samples pass, which
    reads the failing rows' keys, is unchanged."""
    if result_format.get("result_format") != COUNTS_FORMAT["result_format"]:
        return result_format
    return {**result_format, "partial_unexpected_count": 0}


def _horizon_rows(session: SparkSession) -> list[dict[str, Any]] | None:
    """The rows of the data-horizon table in Spark as mappings, or None when it is missing."""
    if not session.catalog.tableExists(HORIZON_TABLE):
        return None
    # Timestamps read as UTC wall-clock times (`timestamp_ntz`): collecting Spark's session-zone timestamps would turn
    # them into the driver machine's local time.
    frame = session.table(HORIZON_TABLE)
    columns = [
        f"cast(`{field.name}` as timestamp_ntz) as `{field.name}`"
        if field.dataType.typeName() == "timestamp"
        else f"`{field.name}`"
        for field in frame.schema.fields
    ]
    return [row.asDict() for row in frame.selectExpr(*columns).collect()]


@functools.cache
def _datasource() -> SparkDatasource:
    """The Spark datasource in the process's one GE context (created on first use)."""
    return ge_context().data_sources.add_spark(DATASOURCE)


@functools.cache
def _driver_datasource() -> PandasDatasource:
    """The pandas datasource for the query results small enough to validate on the driver (see DRIVER_ROWS)."""
    return ge_context().data_sources.add_pandas(DRIVER_DATASOURCE)


def validate_frame(
    frame: DataFrame | pd.DataFrame,
    suite_name: str,
    expectations: Sequence[Expectation],
    parameters: Mapping[str, Any],
    result_format: Mapping[str, Any],
) -> ExpectationSuiteValidationResult:
    """Validate the rows of a Spark DataFrame (or of a pandas one read from Spark) with `expectations`, in one GE
    validation.

    `parameters` are GE suite parameters: an expectation kwarg `{"$PARAMETER": "name"}` takes `parameters["name"]`.
    Each validation adds a dataframe asset and removes it afterwards, so the datasource holds nothing between runs.
    """
    import great_expectations as gx

    with _LOCK:
        datasource: Any = _driver_datasource() if isinstance(frame, pd.DataFrame) else _datasource()
        name = f"frame_{next(_ASSET_NUMBERS)}"
        asset = datasource.add_dataframe_asset(name)
        try:
            batch = asset.add_batch_definition_whole_dataframe("whole_frame").get_batch(
                batch_parameters={"dataframe": frame}
            )
            suite = gx.ExpectationSuite(name=suite_name, expectations=list(expectations))
            return batch.validate(suite, expectation_parameters=dict(parameters), result_format=dict(result_format))
        finally:
            datasource.delete_asset(name)
