"""Loading one raw connector table into the Spark catalog, with the same contract, quarantine, erasure and row
accounting as DuckDB's loader (pipelines/warehouse/raw_load.py, the specification this module follows).

The rules, the partition day and the redaction are the DuckDB loader's SQL, transpiled (raw_sql.py); the pure
helpers of raw_load.py, raw_files.py and raw_audit.py (the contract error, the files of a load, the rows of each
day) are imported, so both engines file, count and describe a row the same way.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from pipelines.spec.partitions import RAW_PARTITION_COLUMN
from pipelines.spec.personal_data import DEFAULT_REDACTED_LABEL
from pipelines.spec.sources import SourceContractError, SourceTable
from pipelines.warehouse.erasure import ErasureError, ErasureList, _pads, hash_key
from pipelines.warehouse.raw_audit import RawLoad
from pipelines.warehouse.raw_files import FILE_COLUMN, LoadScope, _data_files, _files_for, file_record_counts
from pipelines.warehouse.raw_load import _contract_error, _file_rows_by_day, _Load, _partition_day_sql
from pipelines.warehouse.spark.raw_counts import (
    CORRUPT_COLUMN,
    Tally,
    count_landing,
    line_description,
    malformed_lines,
)
from pipelines.warehouse.spark.raw_sql import (
    ERASURES_VIEW,
    KEY_VIEW,
    duckdb_to_spark,
    erased_spark_sql,
    horizon_bounds,
    personal_value_spark_sql,
    rule_case_sql,
    spark_identifier,
    spark_string,
    spark_type,
)
from pipelines.warehouse.spark.raw_tables import QUARANTINE_COLUMNS, replace_bookkeeping, replace_table

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

# The Spark setting that reads nanosecond Parquet timestamps (which Spark rejects) as their count of nanoseconds.
NANOS_AS_LONG = "spark.sql.legacy.parquet.nanosAsLong"
_UTC_ZONES = {"UTC", "Etc/UTC", "GMT", "Z", "+00:00"}


class SparkLoadError(ValueError):
    """A raw load the Spark engine cannot do as asked (a partial day scope, a session not in UTC)."""


@dataclass(frozen=True)
class _SparkRead:
    """The file as Spark reads it: a temp view with contract names, its columns, and which of them are text."""

    view: str
    columns: list[str]
    text_columns: set[str]
    renames: dict[str, str]
    suspects: dict[str, str]


def load_raw_table_on_spark(
    session: SparkSession,
    table: SourceTable,
    path: Path,
    erasures: ErasureList,
    scope: LoadScope | None = None,
    redacted_label: str = DEFAULT_REDACTED_LABEL,
) -> RawLoad:
    """Load one raw file into the Spark table `<source>.<table>` (Parquet), as DuckDB's `load_raw_table` does.

    The same rows pass, are quarantined (`quarantine.rejected_rows`, with the same key, rule and description) or
    erased, with the same counts in `audit.raw_loads` (and `audit.raw_partition_loads` for a day-partitioned table).
    CSV is read as text with DuckDB's quoting (`"` quotes, `""` escapes one, quoted newlines kept); a malformed line
    (too many or too few fields) is quarantined once as `malformed_csv_line`, but Spark does not say its line number,
    so `raw_row` holds `{"line": null, "csv_line": ...}` and the description counts the fields. Nanosecond Parquet
    timestamps land truncated to microseconds (Spark holds no finer time). The horizon rules read the bounds set with
    `raw_sql.set_horizon_on_spark`; the session must run in UTC, as timestamps are normalised to UTC text.

    Spark has no transactions: each table (the raw table, the quarantine, the audit) is written whole to
    `<table>__flywheel_new`, then the old one is dropped and the new one renamed. A crash between the drop and the
    rename leaves the table missing; a crash between two tables leaves the raw table of this load beside the
    quarantine or audit rows of the previous one (the row accounting shows it). Re-running the load repairs both:
    it discards a left-over `__flywheel_new` and writes every table again.

    A day-partitioned table is loaded whole: the Spark engine runs full builds, so a `scope` of only some days fails
    with `SparkLoadError` before anything is read.
    """
    _check_scope(table, scope)
    _require_utc(session)
    daily = scope is not None and path.is_dir()
    files = _files_for(path, scope) if daily and scope is not None else []
    if daily and not files:
        raise SparkLoadError(f"{path}: no daily file to load for {table.source}.{table.name}")
    load = _Load(table=table, path=path, scope=scope, daily=daily, files=files)
    data_files = files or _data_files(path)
    with duckdb.connect() as counter:
        records = file_record_counts(counter, data_files)
    return _load(session, load, lambda: (_read_file(session, load, data_files), records), erasures, redacted_label)


def load_catalog_table_on_spark(
    session: SparkSession,
    table: SourceTable,
    catalog_name: str,
    erasures: ErasureList,
    scope: LoadScope | None = None,
    redacted_label: str = DEFAULT_REDACTED_LABEL,
) -> RawLoad:
    """Load one raw table a connector already landed in the Spark catalog (`catalog_name`, named by
    FLYWHEEL_SPARK_RAW_TABLES) into `<source>.<table>`, as `load_raw_table_on_spark` loads a Parquet file.

    The same contract path: renamed columns, the missing-column error, quarantine rules, erasure, redaction and row
    accounting; the catalog name stands where a file's path stands (the error, the quarantine's and the audit's
    `source_file`). The table's rows are its "file rows". A missing table fails with SourceContractError naming it.
    """
    _check_scope(table, scope)
    _require_utc(session)
    if not session.catalog.tableExists(catalog_name):
        raise SourceContractError(missing_catalog_table(catalog_name, table))
    load = _Load(table=table, path=Path(catalog_name), scope=scope, daily=False, files=[])

    def read() -> tuple[_SparkRead, Mapping[Path, int]]:
        frame = session.table(catalog_name)
        return _contract_read(load, frame), {load.path: frame.count()}

    return _load(session, load, read, erasures, redacted_label)


def missing_catalog_table(catalog_name: str, table: SourceTable) -> str:
    """One line naming a catalog table that is not there and the contract table it stands for."""
    return (
        f"{catalog_name}: no such table in the Spark catalog for {table.source}.{table.name} "
        f"(FLYWHEEL_SPARK_RAW_TABLES names it); check the connector's destination or the pattern"
    )


def _check_scope(table: SourceTable, scope: LoadScope | None) -> None:
    """A day-partitioned table is loaded with a scope, and whole: the Spark engine runs full builds."""
    if table.partitioned and scope is None:
        raise ValueError(f"{table.source}.{table.name} is partitioned by day: say which days to load")
    if scope is not None and not scope.full:
        raise SparkLoadError(
            f"{table.source}.{table.name}: the Spark engine loads every day of a partitioned table (a full "
            f"build); to load {scope.days} alone, run the DuckDB engine"
        )


def _load(
    session: SparkSession,
    load: _Load,
    read_source: Callable[[], tuple[_SparkRead, Mapping[Path, int]]],
    erasures: ErasureList,
    redacted_label: str,
) -> RawLoad:
    """Read the source (a file or a catalog table) as a temp view, land it and write the tables of the load."""
    table = load.table
    nanos_as_long = session.conf.get(NANOS_AS_LONG, None)
    try:
        read, records = read_source()
        key = _install_erasures(session, erasures)
        landing, columns = _land(session, load, read, key is not None, redacted_label)
        landing.cache()
        try:
            return _write_and_record(session, load, read, records, landing, columns, key, erasures)
        finally:
            landing.unpersist()
    finally:
        for view in (_read_view(table), ERASURES_VIEW, KEY_VIEW):
            session.catalog.dropTempView(view)
        if nanos_as_long is None:
            session.conf.unset(NANOS_AS_LONG)
        else:
            session.conf.set(NANOS_AS_LONG, nanos_as_long)


def _read_view(table: SourceTable) -> str:
    """The temp view a load reads its file through."""
    return f"_flywheel_read__{table.source}__{table.name}"


def _require_utc(session: SparkSession) -> None:
    """Timestamps are normalised to UTC text through the session's time zone, so it must be UTC."""
    zone = session.conf.get("spark.sql.session.timeZone", None)
    if zone not in _UTC_ZONES:
        raise SparkLoadError(f"the Spark session's time zone is {zone}: set spark.sql.session.timeZone=UTC")


def _csv_header(path: Path) -> list[str]:
    """The column names of a CSV file's header, read the way DuckDB reads it."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return next(csv.reader(handle), [])


def _nanosecond_columns(files: Sequence[Path]) -> list[str]:
    """The Parquet columns holding nanosecond timestamps, which Spark refuses to read as timestamps."""
    with duckdb.connect() as connection:
        rows = connection.execute(
            "select distinct name from parquet_schema(?) where logical_type like '%NANOS=NanoSeconds%'",
            [[str(file) for file in files]],
        ).fetchall()
    return [str(row[0]) for row in rows]


def _read_file(session: SparkSession, load: _Load, files: Sequence[Path]) -> _SparkRead:
    """Read the file(s) as a temp view, columns by their contract names; fails if a required column is missing."""
    from pyspark.sql import functions as spark_functions
    from pyspark.sql.types import StringType, StructField, StructType

    paths = [str(file) for file in files]
    if load.csv_lines:
        header = _csv_header(files[0])
        schema = StructType([StructField(name, StringType()) for name in [*header, CORRUPT_COLUMN]])
        frame = session.read.csv(
            paths,
            schema=schema,
            header=True,
            quote='"',
            escape='"',
            multiLine=True,
            mode="PERMISSIVE",
            columnNameOfCorruptRecord=CORRUPT_COLUMN,
        )
    else:
        nanos = _nanosecond_columns(files)
        session.conf.set(NANOS_AS_LONG, str(bool(nanos)).lower())
        frame = session.read.option("mergeSchema", "true").parquet(*paths)
        frame = frame.withColumns(
            {
                name: spark_functions.expr(
                    f"cast(timestamp_micros({spark_identifier(name)} div 1000) as timestamp_ntz)"
                )
                for name in nanos
            }
        )
    if load.daily:
        frame = frame.withColumn(FILE_COLUMN, spark_functions.col("_metadata.file_path"))
    return _contract_read(load, frame)


def _contract_read(load: _Load, frame: DataFrame) -> _SparkRead:
    """The source's rows as a temp view, columns by their contract names; fails if a required column is missing."""
    from pyspark.sql.types import StringType

    file_columns = [name for name in frame.columns if name not in (CORRUPT_COLUMN, FILE_COLUMN)]
    renames = load.table.renames_in(file_columns)
    suspects = load.table.suspected_renames(file_columns)
    columns = [renames.get(name, name) for name in file_columns]
    present = {name.lower() for name in columns}
    missing_required = [column for column in load.table.required_columns if column.lower() not in present]
    if missing_required:
        raise SourceContractError(_contract_error(load.path, load.table, missing_required, suspects))
    frame = frame.withColumnsRenamed(renames)
    text = {field.name.lower() for field in frame.schema.fields if isinstance(field.dataType, StringType)}
    view = _read_view(load.table)
    frame.createOrReplaceTempView(view)
    return _SparkRead(view=view, columns=columns, text_columns=text, renames=renames, suspects=suspects)


def _typed_columns(table: SourceTable, read: _SparkRead) -> tuple[list[str], list[str]]:
    """The select list that lands a file, as DuckDB's `_typed_columns_sql` writes it, and the landed column names.

    Timestamps read as text are converted to UTC text (a naive one is UTC already); missing contract columns are
    typed NULLs.
    """
    types = {column.name.lower(): column.type for column in table.columns}
    selected = []
    for name in read.columns:
        quoted = spark_identifier(name)
        if types.get(name.lower()) == "timestamp" and name.lower() in read.text_columns:
            selected.append(
                f"coalesce(cast(cast(try_cast({quoted} as timestamp) as timestamp_ntz) as string), {quoted}) "
                f"as {quoted}"
            )
        else:
            selected.append(quoted)
    present = {name.lower() for name in read.columns}
    added = [column for column in table.columns if column.name.lower() not in present]
    selected += [f"cast(null as {spark_type(column.type)}) as {spark_identifier(column.name)}" for column in added]
    return selected, [*read.columns, *(column.name for column in added)]


def _land(
    session: SparkSession, load: _Load, read: _SparkRead, active: bool, redacted_label: str
) -> tuple[DataFrame, list[str]]:
    """The landing: every row with the first rule it breaks, whether it is erased, its day, and its redactions.

    Returns the landing and the columns a landed row is written with (the partition day last). Erased rows of a
    redacting table come out blanked and marked redacted; personal-looking free text comes out as the label, each
    replacement flagged in `_flywheel_pii_<n>` to be counted.
    """
    table, scope = load.table, load.scope
    selected, columns = _typed_columns(table, read)
    bookkeeping = [spark_identifier(CORRUPT_COLUMN)] if load.csv_lines else []
    bookkeeping += [spark_identifier(FILE_COLUMN)] if load.daily else []
    day = "cast(null as date)"
    if scope is not None:
        day = duckdb_to_spark(_partition_day_sql(table, scope, load.daily))
        columns = [*columns, RAW_PARTITION_COLUMN]
    typed = f"select {', '.join([*selected, *bookkeeping])} from {read.view}"
    ruled = (
        f"select *, {rule_case_sql(table, horizon_bounds(session))} as _flywheel_rule, "
        f"{erased_spark_sql(table, active)} as _flywheel_erased, {day} as {RAW_PARTITION_COLUMN} "
        f"from ({typed}) as landed"
    )
    # Without a scope the (NULL) day is carried through the landing, not written.
    carried = columns if scope is not None else [*columns, RAW_PARTITION_COLUMN]
    personal = {name.lower() for name in table.personal_columns} if table.on_erasure == "redact" else set()
    blanked = [
        f"case when _flywheel_erased then null else {spark_identifier(name)} end as {spark_identifier(name)}"
        if name.lower() in personal
        else spark_identifier(name)
        for name in carried
    ]
    erased = "false" if personal else "_flywheel_erased"
    redacted = f"select {', '.join(blanked)}, _flywheel_rule, {erased} as _flywheel_erased, " + (
        "_flywheel_erased as _flywheel_redacted" if personal else "false as _flywheel_redacted"
    )
    redacted += f"{''.join(', ' + column for column in bookkeeping)} from ({ruled}) as ruled"
    free_text = {name.lower() for name in table.free_text_columns}
    flags = {
        name: f"(not _flywheel_erased and {personal_value_spark_sql(name)})"
        for name in columns
        if name.lower() in free_text
    }
    label = spark_string(redacted_label)
    final = [
        f"case when {flags[name]} then {label} else {spark_identifier(name)} end as {spark_identifier(name)}"
        if name in flags
        else spark_identifier(name)
        for name in carried
    ]
    pii = [f"{flag} as _flywheel_pii_{index}" for index, flag in enumerate(flags.values())]
    landing = session.sql(
        f"select {', '.join([*final, '_flywheel_rule', '_flywheel_erased', '_flywheel_redacted', *pii])}"
        f"{''.join(', ' + column for column in bookkeeping)} from ({redacted}) as redacted"
    )
    return landing, columns


def _write_and_record(
    session: SparkSession,
    load: _Load,
    read: _SparkRead,
    records: Mapping[Path, int],
    landing: DataFrame,
    columns: list[str],
    key: bytes | None,
    erasures: ErasureList,
) -> RawLoad:
    """Count the landing, then replace the raw table, the table's quarantined rows and its audit rows."""
    tally = count_landing(landing, load)
    lines = malformed_lines(landing, load, key, erasures, tally) if tally.malformed else []
    where_loaded = "_flywheel_rule is null and not _flywheel_erased"
    if load.csv_lines:
        where_loaded += f" and {spark_identifier(CORRUPT_COLUMN)} is null"
    replace_table(session, load.table.source, load.table.name, landing.where(where_loaded).select(*columns))
    rejected = _rejected_rows(session, load, read, landing, columns, lines)
    scope = load.scope
    file_rows_by_day = (
        _file_rows_by_day(load.path, scope, records, tally.rows_by_day, load.daily) if scope is not None else {}
    )
    file_rows = sum(file_rows_by_day.values()) if scope is not None else sum(records.values())
    result = RawLoad(
        file_rows=file_rows,
        loaded_rows=sum(tally.loaded_by_day.values()),
        quarantined_by_rule=dict(sorted(tally.by_rule.items())),
        erased_rows=sum(tally.erased_by_day.values()),
        redacted_rows=sum(tally.redacted_by_day.values()),
        renamed_columns=read.renames,
        suspected_renames=read.suspects,
        pii_redacted_values=tally.pii_redacted,
    )
    days = _day_rows(load, tally, file_rows_by_day) if scope is not None else None
    replace_bookkeeping(session, load.source_table, str(load.path), rejected, result, days)
    return result


def _rejected_rows(
    session: SparkSession,
    load: _Load,
    read: _SparkRead,
    landing: DataFrame,
    columns: list[str],
    lines: list[tuple[str, date | None]],
) -> DataFrame:
    """The quarantine rows of this load: each rule breaker with its first rule, then each malformed line."""
    table = load.table
    rules = table.quarantine_rules
    key_text = ", ' | ', ".join(
        f"coalesce(cast({spark_identifier(column)} as string), 'NULL')" for column in table.primary_key
    )
    names = ", ".join(spark_string(rule.name) for rule in rules)
    descriptions = ", ".join(spark_string(rule.description) for rule in rules)
    row = ", ".join(spark_identifier(column) for column in columns)
    corrupt = f" and {spark_identifier(CORRUPT_COLUMN)} is null" if load.csv_lines else ""
    breakers = landing.where(f"_flywheel_rule is not null and not _flywheel_erased{corrupt}").selectExpr(
        f"{spark_string(load.source_table)} as source_table",
        f"{spark_string(str(load.path))} as source_file",
        f"concat({key_text}) as record_key",
        f"element_at(array({names}), _flywheel_rule + 1) as rule",
        f"element_at(array({descriptions}), _flywheel_rule + 1) as rule_description",
        f"to_json(struct({row}), map('ignoreNullFields', 'false')) as raw_row",
        f"cast({RAW_PARTITION_COLUMN} as date) as partition_day",
    )
    if not lines:
        return breakers
    malformed: list[tuple[Any, ...]] = [
        (
            load.source_table,
            str(load.path),
            None,
            "malformed_csv_line",
            line_description(line, len(read.columns)),
            json.dumps({"line": None, "csv_line": line}),
            day,
        )
        for line, day in lines
    ]
    return breakers.unionByName(session.createDataFrame(malformed, QUARANTINE_COLUMNS))


def _day_rows(load: _Load, tally: Tally, file_rows_by_day: Mapping[date, int]) -> list[tuple[Any, ...]]:
    """The per-day audit rows of a partitioned load: every day in scope, zeros where nothing was filed."""
    assert load.scope is not None
    days = [load.scope.days.first + timedelta(days=offset) for offset in range(load.scope.days.day_count)]
    return [
        (
            load.source_table,
            day,
            str(load.path),
            file_rows_by_day.get(day, 0),
            tally.loaded_by_day.get(day, 0),
            tally.quarantined_by_day.get(day, 0),
            tally.erased_by_day.get(day, 0),
            tally.redacted_by_day.get(day, 0),
        )
        for day in days
    ]


def _install_erasures(session: SparkSession, erasures: ErasureList) -> bytes | None:
    """Temp views of the erasure list and the key's HMAC pads; returns the key, or None when the list is empty.

    With requests on the list and no key, this fails, as DuckDB's loader does: loading without applying the
    erasures would bring the people back.
    """
    if not erasures.entries:
        return None
    try:
        key = hash_key()
    except ErasureError as error:
        raise ErasureError(f"{erasures.path} holds {len(erasures)} erasure request(s) but {error}") from error
    inner, outer = _pads(key)
    session.createDataFrame([(bytearray(inner), bytearray(outer))], "ipad binary, opad binary").createOrReplaceTempView(
        KEY_VIEW
    )
    pairs = [list(pair) for pair in erasures.entries]
    session.createDataFrame(pairs, "kind string, key_hash string").createOrReplaceTempView(ERASURES_VIEW)
    return key
