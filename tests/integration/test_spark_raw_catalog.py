"""Raw tables a connector already landed in the Spark catalog (FLYWHEEL_SPARK_RAW_TABLES) land as their files do:
the same raw rows, quarantine and audit counts, the catalog name standing where the file's path stands; the data
horizon reads the same latest sync from them; a missing catalog table stops the preflight, named.

Spark statements cost about 0.3 s each: the tables are written and loaded once, in one test.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from pipelines.orchestration.assets import raw_asset
from pipelines.orchestration.project import resources
from pipelines.spec.raw_catalog import catalog_table_name
from pipelines.spec.settings import PROJECT_ROOT, Settings
from pipelines.spec.sources import HORIZON_EARLIEST, HORIZON_LATEST, SourceContractError
from pipelines.warehouse import preflight as preflight_module
from pipelines.warehouse.erasure import KEY_ENV, ErasureList
from pipelines.warehouse.horizon import latest_sync
from pipelines.warehouse.raw_files import LoadScope
from pipelines.warehouse.spark.raw_catalog import SparkRawCatalog, latest_catalog_sync
from pipelines.warehouse.spark.raw_load import load_catalog_table_on_spark
from pipelines.warehouse.spark.raw_sql import set_horizon_on_spark
from pipelines.warehouse.spark.tables import save_table
from tests.conftest import settings_for
from tests.fixtures import write_raw
from tests.integration.test_bad_input import TABLES
from tests.integration.test_spark_raw_load import (
    AUDIT_SQL,
    JANUARY,
    KEY,
    QUARANTINE_SQL,
    SOURCES,
    Landed,
    Load,
    erasure_list,
    load_on_spark,
    names,
    quarantine_rows,
    text_rows,
)

PATTERN = "fivetran_{source}.{table}"


def land_as_catalog_tables(session: Any, loads: list[Load], pattern: str) -> None:
    """Write each raw CSV file as the catalog table the pattern names, every column text, as a connector would."""
    for table, path, _ in loads:
        frame = session.read.csv(str(path), header=True, quote='"', escape='"', multiLine=True)
        schema, name = catalog_table_name(pattern, table).split(".")
        save_table(session, schema, name, frame)


def load_from_catalog(
    session: Any, loads: list[Load], erasures: ErasureList, horizon: dict[str, datetime], pattern: str
) -> Landed:
    set_horizon_on_spark(session, horizon)
    results = {}
    for table, _, scope in loads:
        name = catalog_table_name(pattern, table)
        results[f"{table.source}.{table.name}"] = load_catalog_table_on_spark(session, table, name, erasures, scope)
    raw = {}
    for key in results:
        frame = session.table(key)
        raw[key] = (frame.columns, text_rows(frame.collect()))
    tables = names(loads)
    return Landed(
        loads=results,
        raw=raw,
        quarantine=quarantine_rows(session.sql(QUARANTINE_SQL.format(text="string", tables=tables)).collect()),
        audit=sorted(tuple(row) for row in session.sql(AUDIT_SQL.format(tables=tables)).collect()),
        days=[],
    )


def test_catalog_tables_land_as_their_files_do(
    spark_session: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stripe customers (a rename, test mode, an erased person redacted) and day-partitioned product events (a
    future-dated event quarantined)."""
    monkeypatch.setenv(KEY_ENV, KEY)
    customers = [
        *TABLES["stripe.customer"],
        {"id": "cus_gone", "created": "2026-01-01", "livemode": "true", "email": "gone@example.com"},
    ]
    raw_dir = write_raw(tmp_path / "raw", {**TABLES, "stripe.customer": customers})
    customer = SOURCES["stripe.customer"]
    renamed = dataclasses.replace(
        customer,
        columns=tuple(
            dataclasses.replace(column, renamed_from=("is_delinquent",)) if column.name == "delinquent" else column
            for column in customer.columns
        ),
    )
    loads: list[Load] = [
        (renamed, raw_dir / "stripe" / "customer.csv", None),
        (SOURCES["product.events"], raw_dir / "product" / "events.csv", LoadScope(JANUARY, JANUARY)),
    ]
    erasures = erasure_list(tmp_path / "erasures.csv", ["gone@example.com"])
    horizon = {HORIZON_EARLIEST: datetime(2020, 1, 1), HORIZON_LATEST: datetime(2026, 1, 31)}
    from_files = load_on_spark(spark_session, loads, erasures, horizon)
    land_as_catalog_tables(spark_session, loads, PATTERN)
    from_catalog = load_from_catalog(spark_session, loads, erasures, horizon, PATTERN)

    assert from_catalog.loads == from_files.loads
    assert from_catalog.raw == from_files.raw
    assert from_catalog.quarantine == from_files.quarantine
    assert from_catalog.audit == from_files.audit
    assert from_files.loads["stripe.customer"].redacted_rows == 1
    assert from_files.loads["stripe.customer"].renamed_columns == {"is_delinquent": "delinquent"}
    assert from_files.loads["product.events"].quarantined_rows == 1
    files = spark_session.sql("select distinct source_file from audit.raw_loads where source_table = 'stripe.customer'")
    assert [row[0] for row in files.collect()] == ["fivetran_stripe.customer"]

    tables = [table for table, _, _ in loads]
    ceiling = datetime(2026, 12, 1)
    synced = latest_catalog_sync(spark_session, PATTERN, tables, ceiling)
    assert synced is not None
    assert synced == latest_sync(raw_dir, tables, ceiling)
    early = datetime(2026, 1, 6, 12)
    assert latest_catalog_sync(spark_session, PATTERN, tables, early) == latest_sync(raw_dir, tables, early)

    exchange_rate = SOURCES["finance.exchange_rate"]
    with pytest.raises(SourceContractError, match=r"fivetran_finance\.exchange_rate: no such table"):
        load_catalog_table_on_spark(spark_session, exchange_rate, "fivetran_finance.exchange_rate", erasures)


def test_the_preflight_names_every_missing_catalog_table(
    spark_session: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No catalog table under the pattern: each contract table is listed by both names; the raw folder is not read."""
    pattern = "nowhere_{source}.{table}"
    settings = Settings(
        warehouse=tmp_path / "warehouse" / "flywheel.duckdb",
        raw_dir=tmp_path / "no_raw_files",
        models_dir=PROJECT_ROOT / "models",
        sources_file=PROJECT_ROOT / "models" / "sources.yml",
        definitions_file=PROJECT_ROOT / "definitions.yml",
        expectations_dir=PROJECT_ROOT / "expectations",
        memory_limit="1GB",
        threads=1,
        engine="spark",
        spark_raw_tables=pattern,
    )
    monkeypatch.setattr(preflight_module, "raw_catalog", lambda _: SparkRawCatalog(spark_session, pattern))
    problems = preflight_module.preflight(settings)
    assert (
        "nowhere_salesforce.lead: no such table in the Spark catalog for salesforce.lead "
        "(FLYWHEEL_SPARK_RAW_TABLES names it); check the connector's destination or the pattern"
    ) in problems
    missing = [problem for problem in problems if "no such table in the Spark catalog" in problem]
    assert len(missing) == len(SOURCES)
    assert not [problem for problem in problems if "no_raw_files" in problem]


def test_the_raw_asset_loads_its_catalog_table_under_the_horizon_of_its_syncs(
    spark_session: Any, tmp_path: Path
) -> None:
    """The Dagster raw asset on the Spark engine reads the catalog table (no raw file exists) and checks it against
    the as-of time of the catalog tables' latest connector sync."""
    synced = "2026-01-03 06:00:00"
    rows = [("2026-01-02", "EUR", "1.1", synced), ("2026-01-02", "GBP", "-1", synced)]
    frame = spark_session.createDataFrame(rows, "date string, currency string, rate string, _fivetran_synced string")
    save_table(spark_session, "lake_finance", "exchange_rate", frame)
    settings = settings_for(
        tmp_path,
        tmp_path / "no_raw_files",
        engine="spark",
        spark_raw_tables="lake_{source}.{table}",
        spark_warehouse_dir=tmp_path / "spark",
    )
    table = SOURCES["finance.exchange_rate"]
    result = dg.materialize([raw_asset(table, engine="spark")], resources=resources(settings))
    assert result.success
    (materialization,) = result.asset_materializations_for_node(result.all_node_events[0].node_name)
    metadata = {name: value.value for name, value in materialization.metadata.items()}
    assert metadata["source_file"] == "lake_finance.exchange_rate"
    assert (metadata["file_rows"], metadata["dagster/row_count"], metadata["quarantined_rows"]) == (2, 1, 1)
    assert f"as of {synced}, latest connector sync" in str(metadata["horizon"])
