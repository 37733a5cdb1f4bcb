"""Counting what a raw load on Spark landed: rows by day, rule, erasure and redaction, and the malformed CSV lines,
as DuckDB's loader counts them (pipelines/warehouse/raw_load.py).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from pipelines.spec.partitions import RAW_PARTITION_COLUMN
from pipelines.warehouse.erasure import EMAIL_PATTERN, ErasureList, keyed_hash
from pipelines.warehouse.raw_load import _Load
from pipelines.warehouse.spark.raw_sql import spark_identifier

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

# The column Spark's CSV reader fills with the text of a malformed line (PERMISSIVE mode).
CORRUPT_COLUMN = "_flywheel_line"


@dataclass
class Tally:
    """What a load landed, counted once from the landing and the malformed lines, per day for a partitioned load."""

    rows_by_day: dict[date, int] = field(default_factory=dict)
    loaded_by_day: dict[date, int] = field(default_factory=dict)
    quarantined_by_day: dict[date, int] = field(default_factory=dict)
    erased_by_day: dict[date, int] = field(default_factory=dict)
    redacted_by_day: dict[date, int] = field(default_factory=dict)
    by_rule: dict[str, int] = field(default_factory=dict)
    pii_redacted: int = 0
    # Malformed CSV lines Spark read (as rows whose corrupt-record column is set).
    malformed: int = 0

    @staticmethod
    def add(counts: dict[date, int], day: date | None, rows: int) -> None:
        counts[_day_key(day)] = counts.get(_day_key(day), 0) + rows


def _day_key(day: date | None) -> date:
    """Rows of a load without days are tallied under one placeholder day."""
    return day if day is not None else date.min


def count_landing(landing: DataFrame, load: _Load) -> Tally:
    """Count the landed rows by day, rule, erasure and redaction, and the malformed lines, in one Spark query."""
    from pyspark.sql import functions as spark_functions

    pii = [name for name in landing.columns if name.startswith("_flywheel_pii_")]
    pii_sum = " + ".join(f"count_if({name})" for name in pii) or "0"
    malformed = f"{spark_identifier(CORRUPT_COLUMN)} is not null" if load.csv_lines else "false"
    rows = (
        landing.groupBy(
            spark_functions.expr(malformed).alias("_flywheel_malformed"),
            RAW_PARTITION_COLUMN,
            "_flywheel_rule",
            "_flywheel_erased",
            "_flywheel_redacted",
        )
        .agg(spark_functions.count("*").alias("rows"), spark_functions.expr(pii_sum).alias("pii"))
        .collect()
    )
    rules = load.table.quarantine_rules
    tally = Tally()
    for row in rows:
        day: date | None = row[RAW_PARTITION_COLUMN]
        count = int(row["rows"])
        if row["_flywheel_malformed"]:
            tally.malformed += count
            continue
        tally.pii_redacted += int(row["pii"])
        tally.add(tally.rows_by_day, day, count)
        if row["_flywheel_erased"]:
            tally.add(tally.erased_by_day, day, count)
        elif row["_flywheel_rule"] is None:
            tally.add(tally.loaded_by_day, day, count)
        else:
            name = rules[int(row["_flywheel_rule"])].name
            tally.by_rule[name] = tally.by_rule.get(name, 0) + count
            tally.add(tally.quarantined_by_day, day, count)
        if row["_flywheel_redacted"]:
            tally.add(tally.redacted_by_day, day, count)
    if load.scope is None:
        tally.rows_by_day = {}
    return tally


def malformed_lines(
    landing: DataFrame, load: _Load, key: bytes | None, erasures: ErasureList, tally: Tally
) -> list[tuple[str, date | None]]:
    """The malformed CSV lines to quarantine (with the day each is filed under); those holding an erased e-mail are
    counted as erased instead, as DuckDB's loader does.

    A line of a single file is filed under the first partition, a line of a daily file under its file's day.
    """
    found = landing.where(f"{spark_identifier(CORRUPT_COLUMN)} is not null").select(
        CORRUPT_COLUMN, RAW_PARTITION_COLUMN
    )
    erased_emails = {digest for kind, digest in erasures.entries if kind == "email"}
    kept: list[tuple[str, date | None]] = []
    for row in found.collect():
        line = str(row[CORRUPT_COLUMN])
        day: date | None = None
        if load.scope is not None:
            day = row[RAW_PARTITION_COLUMN] if load.daily else load.scope.bounds.first
        addresses = re.findall(EMAIL_PATTERN, line)
        if key is not None and any(keyed_hash(key, "email", address) in erased_emails for address in addresses):
            tally.add(tally.erased_by_day, day, 1)
            continue
        kept.append((line, day))
        tally.by_rule["malformed_csv_line"] = tally.by_rule.get("malformed_csv_line", 0) + 1
        tally.add(tally.quarantined_by_day, day, 1)
    return kept


def line_description(line: str, expected: int) -> str:
    """Why a CSV line is malformed: its field count against the header's (Spark gives no message of its own)."""

    fields = len(next(csv.reader([line]), []))
    return f"Expected Number of Columns: {expected} Found: {fields}"
