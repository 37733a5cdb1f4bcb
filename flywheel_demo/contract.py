"""The output contract: the raw tables of `models/sources.yml`, their columns in order, the kind each column is
formatted as, and the order rows are written in, read through the project's contract reader.

This is the only module of the generator that imports the reader, so the generator writes exactly the tables and
columns the raw load expects: a column added to the contract must be filled by the simulation, or `to_arrow` refuses
the table (rather than write a column of nulls nobody meant).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from pipelines.spec.sources import SourceTable, load_sources

Table = dict[str, np.ndarray]
TableKey = tuple[str, str]

# The contract the demo data is written to: the project's own, whatever FLYWHEEL_SOURCES_FILE points the pipeline
# at (a team's own contract describes its own tables, which this generator knows nothing of).
SOURCES_FILE = Path(__file__).resolve().parents[1] / "models" / "sources.yml"
EVENTS: TableKey = ("product", "events")  # written as one Parquet file per receipt day (see write_event_days)
SORT_KEY = "_key"  # optional hidden column: a number whose order is the primary-key order of the table

# How a column is formatted (see formatting.to_arrow): text, timestamp or date text, 'true'/'false', numbers.
STR, TS, DATE, BOOL, INT, FLOAT = "str", "ts", "date", "bool", "int", "float"
# A decimal column is written as the simulation computed it: integer values (Stripe's minor units) as integers,
# others (dollar amounts) with two decimals.
DECIMAL = "decimal"
KIND_OF_TYPE = {
    "varchar": STR,
    "json": STR,
    "timestamp": TS,
    "date": DATE,
    "boolean": BOOL,
    "integer": INT,
    "bigint": INT,
    "double": FLOAT,
}
DECIMAL_TYPE = re.compile(r"^decimal\(\d+,\d+\)$")


@dataclass(frozen=True)
class OutputTable:
    """One raw table as the generator writes it."""

    key: TableKey
    columns: tuple[tuple[str, str], ...]  # (name, kind) in the contract's order
    primary_key: tuple[str, ...]
    versions: tuple[str, ...]  # the contract's version order: which copy of a row is the latest

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.columns]

    @property
    def sort_columns(self) -> tuple[str, ...]:
        """Rows are written by primary key, then version order: stale re-synced copies before the current row."""
        return (*self.primary_key, *self.versions)


def kind_of(column_type: str) -> str:
    """The output kind of a contract type (`decimal(p,s)` included)."""
    if DECIMAL_TYPE.match(column_type):
        return DECIMAL
    if column_type not in KIND_OF_TYPE:
        raise ValueError(f"the generator cannot write contract type {column_type!r}: give it a kind in KIND_OF_TYPE")
    return KIND_OF_TYPE[column_type]


def _output_table(table: SourceTable) -> OutputTable:
    """A contract table as the generator writes it."""
    names = [column.name for column in table.columns]
    versions = tuple(column for column in table.version_order if column in names)
    return OutputTable(
        key=table.key,
        columns=tuple((column.name, kind_of(column.type)) for column in table.columns),
        primary_key=table.primary_key,
        versions=versions,
    )


@cache
def output_tables() -> dict[TableKey, OutputTable]:
    """Every raw table of the contract, in the contract's order (read once per process)."""
    return {table.key: _output_table(table) for table in load_sources(SOURCES_FILE)}
