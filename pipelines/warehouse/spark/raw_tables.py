"""Replacing tables in the Spark catalog without transactions: the raw table, the quarantine and the load audit.

Spark writes Parquet tables whole and has no multi-statement transaction, so a table is replaced by writing the new
rows to `<table>__flywheel_new`, dropping the old table and renaming the new one. The quarantine and the audit hold
the rows of every raw table: their new version is the other tables' rows plus this load's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pipelines.warehouse.raw_audit import (
    AUDIT_SCHEMA,
    QUARANTINE_SCHEMA,
    QUARANTINE_TABLE,
    RAW_LOADS_TABLE,
    RAW_PARTITION_LOADS_TABLE,
    RawLoad,
)
from pipelines.warehouse.spark.raw_sql import spark_identifier, spark_string
from pipelines.warehouse.spark.tables import drop_table, rename_table, save_table

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

STAGING_SUFFIX = "__flywheel_new"
# The quarantine's columns, as DuckDB's `_create_bookkeeping` declares them (the row as JSON text).
QUARANTINE_COLUMNS = (
    "source_table string, source_file string, record_key string, rule string, rule_description string, "
    "raw_row string, partition_day date"
)
# The audit tables' columns, as DuckDB's `_create_bookkeeping` declares them.
RAW_LOADS_SCHEMA = (
    "source_table string, source_file string, file_rows bigint, loaded_rows bigint, quarantined_rows bigint, "
    "erased_rows bigint, redacted_rows bigint, pii_redacted_values bigint"
)
RAW_PARTITION_LOADS_SCHEMA = (
    "source_table string, partition_day date, source_file string, file_rows bigint, loaded_rows bigint, "
    "quarantined_rows bigint, erased_rows bigint, redacted_rows bigint"
)


def _name(schema: str, table: str) -> str:
    return f"{spark_identifier(schema)}.{spark_identifier(table)}"


def replace_table(session: SparkSession, schema: str, table: str, frame: DataFrame) -> None:
    """Write `frame` as the Parquet table `<schema>.<table>`: to a staging table first, then swapped in.

    A staging table left by a crashed load is discarded first.
    """
    save_table(session, schema, table + STAGING_SUFFIX, frame)
    drop_table(session, schema, table)
    rename_table(session, schema, table + STAGING_SUFFIX, table)


def _replace_rows_of(session: SparkSession, schema: str, table: str, source_table: str, rows: DataFrame) -> None:
    """Replace the rows of one raw table (`source_table`) in a bookkeeping table shared by every raw table."""
    if session.catalog.tableExists(f"{schema}.{table}"):
        others = session.table(_name(schema, table)).where(f"source_table <> {spark_string(source_table)}")
        rows = others.unionByName(rows)
    # One file: the union's partitions would otherwise add files (and tasks) with every load.
    replace_table(session, schema, table, rows.coalesce(1))


def replace_bookkeeping(
    session: SparkSession,
    source_table: str,
    source_file: str,
    rejected: DataFrame,
    load: RawLoad,
    days: Sequence[tuple[Any, ...]] | None,
) -> None:
    """Replace the table's quarantined rows, its row in `audit.raw_loads` and, for a partitioned table, its days.

    A partitioned table's `audit.raw_loads` row holds the sums over its days, without the free-text count, as
    DuckDB's `_record_days` writes it.
    """
    _replace_rows_of(session, QUARANTINE_SCHEMA, QUARANTINE_TABLE, source_table, rejected)
    audit = load.audit_row(source_table, source_file, None if days is None else 0)
    rows = session.createDataFrame([audit], RAW_LOADS_SCHEMA)
    _replace_rows_of(session, AUDIT_SCHEMA, RAW_LOADS_TABLE, source_table, rows)
    if days is not None:
        by_day = session.createDataFrame(list(days), RAW_PARTITION_LOADS_SCHEMA)
        _replace_rows_of(session, AUDIT_SCHEMA, RAW_PARTITION_LOADS_TABLE, source_table, by_day)
