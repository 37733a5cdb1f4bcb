"""Publishing a Spark build: a new version of the marts in the Spark catalog, and the same BI snapshot as DuckDB's.

Two things are published, in this order:

1. **In the Spark catalog**, every mart is copied to `published.<mart>__<publish_id>` and the view
   `published.<mart>` is then pointed at it. Tools that read the cluster read the views: each switches to the new
   version in one catalog operation, and a failed publish leaves the previous views. The last `keep` versions stay.
   (Local Spark's catalog lives in memory: a later process finds the versioned tables, not the views, until the
   next publish makes them again; a cluster's catalog keeps both.)
2. **The BI snapshot** (a read-only DuckDB file and Parquet files, pipelines/warehouse/publish.py): the marts and the
   definitions tables are small (aggregates, a few thousand rows), so they come to the driver as Arrow and are
   published by the same code as a DuckDB build, with the raw tables' row counts taken on Spark. BI tools, the KPI
   report and the volume guards read it whatever engine built it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb

from pipelines.spec.settings import Settings
from pipelines.warehouse.connection import qualified, quote
from pipelines.warehouse.publish import KEEP_PUBLISHES, Publication, PublishedTable, new_publish_id, publish
from pipelines.warehouse.shared_definitions import SCHEMA as DEFINITIONS_SCHEMA
from pipelines.warehouse.spark.connection import SparkConnection
from pipelines.warehouse.spark.tables import create_table_as, drop_table

PUBLISHED_SCHEMA = "published"


def publish_spark_build(
    connection: SparkConnection,
    marts: Sequence[PublishedTable],
    publish_dir: Path,
    *,
    keep: int = KEEP_PUBLISHES,
    raw_tables: Sequence[tuple[str, str]] = (),
) -> Publication:
    """Publish the marts of a Spark build (see the module docstring); returns the BI snapshot's publication."""
    bridge = duckdb.connect()
    try:
        for schema, table in [(mart.schema, mart.name) for mart in marts] + _definitions_tables(connection):
            _copy_to_duckdb(connection, bridge, schema, table)
        raw_counts = {
            f"{schema}.{table}": int(connection.session.table(f"`{schema}`.`{table}`").count())
            for schema, table in raw_tables
            if connection.session.catalog.tableExists(f"{schema}.{table}")
        }
        publication = publish(bridge, marts, publish_dir, keep=keep, raw_row_counts=raw_counts)
    finally:
        bridge.close()
    swap_catalog_views(connection, marts, publication.publish_id, keep)
    return publication


def _definitions_tables(connection: SparkConnection) -> list[tuple[str, str]]:
    rows = connection.session.sql(f"show tables in `{DEFINITIONS_SCHEMA}`").collect()
    return [(DEFINITIONS_SCHEMA, str(row["tableName"])) for row in rows if not row["isTemporary"]]


def _copy_to_duckdb(connection: SparkConnection, bridge: duckdb.DuckDBPyConnection, schema: str, table: str) -> None:
    """One Spark table into the in-memory DuckDB the snapshot is published from, through Arrow."""
    frame = connection.session.table(f"`{schema}`.`{table}`").toArrow()
    bridge.execute(f"create schema if not exists {quote(schema)}")
    bridge.register("spark_table", frame)
    try:
        bridge.execute(f"create table {qualified(schema, table)} as select * from spark_table")
    finally:
        bridge.unregister("spark_table")


def swap_catalog_views(
    connection: SparkConnection, marts: Sequence[PublishedTable], publish_id: str | None = None, keep: int = 1
) -> str:
    """Copy each mart to `published.<mart>__<id>`, point the view `published.<mart>` at it, and drop the versions
    beyond the last `keep`; returns the version id."""
    version = (publish_id or new_publish_id()).replace("-", "_").replace(":", "_").lower()
    session = connection.session
    session.sql(f"create database if not exists `{PUBLISHED_SCHEMA}`")
    for mart in marts:
        query = f"select * from {_spark(mart)}"
        create_table_as(session, PUBLISHED_SCHEMA, f"{mart.name}__{version}", query, connection.table_format)
    for mart in marts:
        session.sql(
            f"create or replace view `{PUBLISHED_SCHEMA}`.`{mart.name}` as "
            f"select * from `{PUBLISHED_SCHEMA}`.`{mart.name}__{version}`"
        )
    _drop_old_versions(connection, marts, keep)
    return version


def _spark(mart: PublishedTable) -> str:
    return f"`{mart.schema}`.`{mart.name}`"


def _drop_old_versions(connection: SparkConnection, marts: Sequence[PublishedTable], keep: int) -> None:
    """Drop each mart's published versions but the newest `keep` (ids sort by time)."""
    rows = connection.session.sql(f"show tables in `{PUBLISHED_SCHEMA}`").collect()
    names = sorted(str(row["tableName"]) for row in rows if not row["isTemporary"])
    for mart in marts:
        versions = [name for name in names if name.startswith(f"{mart.name.lower()}__")]
        for old in versions[: max(len(versions) - keep, 0)]:
            drop_table(connection.session, PUBLISHED_SCHEMA, old)


def spark_mart_row_counts(settings: Settings) -> dict[str, int]:
    """Rows in every mart table of a Spark build (pending and set-aside tables left out), by `marts.<name>`."""
    from pipelines.warehouse.spark.session import open_session_for

    session = open_session_for(settings)
    if not session.catalog.databaseExists("marts"):
        return {}
    names = sorted(
        str(row["tableName"])
        for row in session.sql("show tables in `marts`").collect()
        if not row["isTemporary"] and not str(row["tableName"]).startswith("_")
    )
    return {f"marts.{name}": int(session.table(f"`marts`.`{name}`").count()) for name in names}
