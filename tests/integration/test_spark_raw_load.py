"""The raw load on Spark gives what DuckDB's raw load gives on the same files: the same raw rows, the same
quarantined rows with the same rules, and the same counts in the audit.

Each test loads its files with both loaders and compares; Spark statements cost about 0.3 s each, so every table
of a fixture is loaded in one test.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from pipelines.spec.partitions import DayRange
from pipelines.spec.settings import PROJECT_ROOT
from pipelines.spec.sources import (
    HORIZON_EARLIEST,
    HORIZON_LATEST,
    HORIZON_LATEST_SCHEDULED,
    SourceContractError,
    SourceTable,
    load_sources,
)
from pipelines.warehouse.erasure import KEY_ENV, ErasureList, keyed_hash
from pipelines.warehouse.raw_audit import RawLoad
from pipelines.warehouse.raw_files import LoadScope
from pipelines.warehouse.raw_load import load_raw_table
from pipelines.warehouse.spark.raw_load import SparkLoadError, load_raw_table_on_spark
from pipelines.warehouse.spark.raw_sql import set_horizon_on_spark
from tests.fixtures import write_raw
from tests.integration.test_bad_input import TABLES
from tests.spark_fixtures import reset_spark_catalog

SOURCES = {f"{table.source}.{table.name}": table for table in load_sources(PROJECT_ROOT / "models" / "sources.yml")}
KEY = "spark-parity-test-key"
OCTOBER = DayRange.parse("2026-10-01", "2026-10-31")
JANUARY = DayRange.parse("2026-01-01", "2026-01-10")

Load = tuple[SourceTable, Path, LoadScope | None]


@dataclass(frozen=True)
class Landed:
    """What a set of loads left in a warehouse, as comparable text: per table its columns and sorted rows, the
    quarantined rows, and the audit rows."""

    loads: dict[str, RawLoad]
    raw: dict[str, tuple[list[str], list[tuple[str | None, ...]]]]
    quarantine: list[tuple[Any, ...]]
    audit: list[tuple[Any, ...]]
    days: list[tuple[Any, ...]]


def text_rows(rows: list[Any]) -> list[tuple[str | None, ...]]:
    return sorted((tuple(None if value is None else str(value) for value in row) for row in rows), key=str)


# Spark's JSON writes a typed timestamp as 2026-01-05T10:00:01.000, DuckDB's as 2026-01-05 10:00:01.
SPARK_JSON_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(\.0+)?$")


def quarantine_rows(rows: list[Any]) -> list[tuple[Any, ...]]:
    """(table, key, rule, description, the row as a dict); a malformed line's row is its text only, as Spark does
    not give the line number."""
    compared = []
    for source_table, record_key, rule, description, raw_row in rows:
        row = json.loads(raw_row)
        if isinstance(row, dict):
            row = {
                name: SPARK_JSON_TIME.sub(r"\1 \2", value) if isinstance(value, str) else value
                for name, value in row.items()
            }
        if rule == "malformed_csv_line":
            row = row["csv_line"]
        compared.append((source_table, record_key, rule, description, json.dumps(row, sort_keys=True)))
    return sorted(compared, key=str)


QUARANTINE_SQL = (
    "select source_table, record_key, rule, rule_description, cast(raw_row as {text}) "
    "from quarantine.rejected_rows where source_table in ({tables})"
)
AUDIT_SQL = (
    "select source_table, file_rows, loaded_rows, quarantined_rows, erased_rows, redacted_rows, pii_redacted_values "
    "from audit.raw_loads where source_table in ({tables})"
)
DAYS_SQL = (
    "select source_table, cast(partition_day as {text}), file_rows, loaded_rows, quarantined_rows, erased_rows, "
    "redacted_rows from audit.raw_partition_loads where source_table in ({tables})"
)


def names(loads: list[Load]) -> str:
    return ", ".join(f"'{table.source}.{table.name}'" for table, _, _ in loads)


def load_on_duckdb(loads: list[Load], erasures: ErasureList, horizon: dict[str, datetime]) -> Landed:
    results = {}
    with duckdb.connect() as connection:
        for name, bound in horizon.items():
            connection.execute(f"set variable {name} = cast(? as timestamp)", [bound])
        for table, path, scope in loads:
            results[f"{table.source}.{table.name}"] = load_raw_table(connection, table, path, erasures, scope)
        raw = {}
        for key in results:
            cursor = connection.execute(f"select * from {key}")
            raw[key] = ([column[0] for column in cursor.description], text_rows(cursor.fetchall()))
        tables = names(loads)
        days = connection.execute(DAYS_SQL.format(text="varchar", tables=tables)).fetchall()
        return Landed(
            loads=results,
            raw=raw,
            quarantine=quarantine_rows(
                connection.execute(QUARANTINE_SQL.format(text="varchar", tables=tables)).fetchall()
            ),
            audit=sorted(connection.execute(AUDIT_SQL.format(tables=tables)).fetchall()),
            days=sorted(days),
        )


def load_on_spark(session: Any, loads: list[Load], erasures: ErasureList, horizon: dict[str, datetime]) -> Landed:
    set_horizon_on_spark(session, horizon)
    results = {}
    for table, path, scope in loads:
        results[f"{table.source}.{table.name}"] = load_raw_table_on_spark(session, table, path, erasures, scope)
    raw = {}
    for key in results:
        frame = session.table(key)
        raw[key] = (frame.columns, text_rows(frame.collect()))
    tables = names(loads)
    days = session.sql(DAYS_SQL.format(text="string", tables=tables)).collect() if any(s for *_, s in loads) else []
    return Landed(
        loads=results,
        raw=raw,
        quarantine=quarantine_rows(session.sql(QUARANTINE_SQL.format(text="string", tables=tables)).collect()),
        audit=sorted(tuple(row) for row in session.sql(AUDIT_SQL.format(tables=tables)).collect()),
        days=sorted(tuple(row) for row in days),
    )


def assert_same(spark: Landed, duck: Landed) -> None:
    assert spark.loads == duck.loads
    for key, (columns, rows) in duck.raw.items():
        assert spark.raw[key][0] == columns, key
        assert spark.raw[key][1] == rows, key
    assert spark.quarantine == duck.quarantine
    assert spark.audit == duck.audit
    assert spark.days == duck.days


def erasure_list(path: Path, emails: list[str]) -> ErasureList:
    key = KEY.encode()
    return ErasureList(path, {("email", keyed_hash(key, "email", email)): "2026-01-01" for email in emails})


def test_bad_input_lands_on_spark_as_on_duckdb(
    spark_session: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Unparseable values, missing keys, test-mode rows, a suspected rename, malformed lines, erased and redacted
    people, personal free text, day-partitioned events from a single CSV and from daily Parquet files."""
    monkeypatch.setenv(KEY_ENV, KEY)
    tables = {
        **TABLES,
        "salesforce.lead": [
            *TABLES["salesforce.lead"],
            {"id": "L8", "created_date": "2026-01-05 09:00:00", "email": "Gone@Example.com"},
            {"id": "L9", "created_date": "2026-01-05 09:00:00", "utm_campaign_c": "call +1-971-555-0152"},
        ],
        "stripe.customer": [
            *TABLES["stripe.customer"],
            {"id": "cus_gone", "created": "2026-01-01", "livemode": "true", "email": "gone@example.com"},
        ],
    }
    raw_dir = write_raw(tmp_path / "raw", tables)
    task_file = raw_dir / "salesforce" / "task.csv"
    header = task_file.read_text().splitlines()[0]
    fields = header.count(",") + 1
    task_file.write_text(
        f"{header}\n"
        + ",".join(["T1"] * (fields + 1))
        + "\nT2\n"
        + ",".join(["gone@example.com"] * (fields + 2))
        + "\n"
    )
    events = raw_dir / "product" / "daily"
    events.mkdir()
    frame = pd.DataFrame(TABLES["product.events"])
    frame["received_at"] = pd.to_datetime(frame["received_at"]).astype("datetime64[ns]")
    frame.iloc[:2].to_parquet(events / "2026-01-05.parquet")
    frame.iloc[2:].to_parquet(events / "2026-01-06.parquet")
    renamed = SOURCES["stripe.customer"]
    renamed = dataclasses.replace(
        renamed,
        columns=tuple(
            dataclasses.replace(column, renamed_from=("is_delinquent",)) if column.name == "delinquent" else column
            for column in renamed.columns
        ),
    )
    loads: list[Load] = [
        (SOURCES[key], raw_dir / f"{key.replace('.', '/')}.csv", None) for key in ("salesforce.lead", "salesforce.task")
    ]
    loads += [(renamed, raw_dir / "stripe" / "customer.csv", None)]
    loads += [(SOURCES["product.events"], raw_dir / "product" / "events.csv", LoadScope(JANUARY, JANUARY))]
    erasures = erasure_list(tmp_path / "erasures.csv", ["gone@example.com"])
    horizon = {HORIZON_EARLIEST: datetime(2020, 1, 1), HORIZON_LATEST: datetime(2026, 1, 31)}
    duck = load_on_duckdb(loads, erasures, horizon)
    spark = load_on_spark(spark_session, loads, erasures, horizon)
    assert_same(spark, duck)
    assert duck.loads["salesforce.task"].erased_rows == 1
    assert duck.loads["stripe.customer"].redacted_rows == 1
    assert duck.loads["salesforce.lead"].pii_redacted_values == 1
    daily: list[Load] = [(SOURCES["product.events"], events, LoadScope(JANUARY, JANUARY))]
    assert_same(load_on_spark(spark_session, daily, erasures, horizon), load_on_duckdb(daily, erasures, horizon))


def first_value(path: Path, column: str) -> str:
    with path.open(newline="") as handle:
        return next(row[column] for row in csv.DictReader(handle) if row[column])


def test_demo_seeds_land_on_spark_as_on_duckdb(
    spark_session: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Demo CRM users (free text), Stripe customers (test mode, redaction), marketing engagements (erasure) and the
    day-partitioned product events, under a data horizon that quarantines the latest rows."""
    monkeypatch.setenv(KEY_ENV, KEY)
    seeds = PROJECT_ROOT / "seeds"
    loads: list[Load] = [
        (SOURCES["salesforce.user"], seeds / "salesforce" / "user.csv", None),
        (SOURCES["stripe.customer"], seeds / "stripe" / "customer.csv", None),
        (SOURCES["marketing.engagements"], seeds / "marketing" / "engagements.csv", None),
        (SOURCES["product.events"], seeds / "product" / "events.csv", LoadScope(OCTOBER, OCTOBER)),
    ]
    emails = [
        first_value(seeds / "stripe" / "customer.csv", "email"),
        first_value(seeds / "marketing" / "engagements.csv", "email"),
    ]
    erasures = erasure_list(tmp_path / "erasures.csv", emails)
    horizon = {
        HORIZON_EARLIEST: datetime(2024, 1, 1),
        HORIZON_LATEST: datetime(2026, 10, 20),
        HORIZON_LATEST_SCHEDULED: datetime(2027, 1, 1),
    }
    duck = load_on_duckdb(loads, erasures, horizon)
    assert_same(load_on_spark(spark_session, loads, erasures, horizon), duck)
    assert duck.loads["stripe.customer"].redacted_rows and duck.loads["marketing.engagements"].erased_rows
    assert duck.loads["product.events"].quarantined_rows > 0


def test_what_spark_refuses_fails_before_anything_is_written(spark_session: Any, tmp_path: Path) -> None:
    """A missing required column fails with DuckDB's message; a load of only some days needs the DuckDB engine."""
    reset_spark_catalog(spark_session)  # other Spark tests of the session may have loaded the table
    path = tmp_path / "exchange_rate.csv"
    path.write_text("date,currency,fx_rate\n2026-01-01,EUR,1.1\n")
    erasures = ErasureList(tmp_path / "erasures.csv")
    messages = []
    for load in (load_raw_table, load_raw_table_on_spark):
        session = spark_session if load is load_raw_table_on_spark else duckdb.connect()
        with pytest.raises(SourceContractError) as failure:
            load(session, SOURCES["finance.exchange_rate"], path, erasures)
        messages.append(str(failure.value))
    assert messages[0] == messages[1]
    assert "misses required column(s) rate" in messages[0]
    assert not spark_session.catalog.tableExists("finance.exchange_rate")
    partial = LoadScope(DayRange.parse("2026-10-02", "2026-10-02"), OCTOBER)
    with pytest.raises(SparkLoadError, match="every day"):
        load_raw_table_on_spark(spark_session, SOURCES["product.events"], path, erasures, partial)


def test_the_erasure_hash_on_spark_equals_the_python_and_duckdb_hash(
    spark_session: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipelines.warehouse.erasure import hash_sql, install, uninstall
    from pipelines.warehouse.spark.raw_load import _install_erasures
    from pipelines.warehouse.spark.raw_sql import hash_spark_sql

    monkeypatch.setenv(KEY_ENV, KEY)
    erasures = erasure_list(tmp_path / "erasures.csv", ["someone@example.com"])
    value = "  SomeOne@Example.com "
    expected = keyed_hash(KEY.encode(), "email", value)
    _install_erasures(spark_session, erasures)
    (spark,) = spark_session.sql(f"select {hash_spark_sql(repr(value), 'email')}").collect()[0]
    with duckdb.connect() as connection:
        install(connection, erasures)
        (duck,) = connection.execute(f"select {hash_sql(repr(value), 'email')}").fetchone() or ("",)
        uninstall(connection)
    assert spark == duck == expected
