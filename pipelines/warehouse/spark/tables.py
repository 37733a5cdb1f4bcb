"""Creating, dropping and renaming tables in the Spark catalog so they survive the process that wrote them.

Local Spark keeps its catalog in memory: a later process registers the table folders it finds under the warehouse
folder (`session.register_existing_tables`), as external tables named by their folder. So, on local Spark, a
table's folder must always be the one its name gives (`table_location`), whoever wrote it and whatever it was
renamed from:

- a table is created at its own folder (`location`), replacing files a previous process left there;
- dropping a table removes its folder too (an external table's drop leaves the files, which would come back as the
  table in the next process);
- renaming moves the folder, then registers the table under its new name at the new folder.

On a cluster (Spark Connect), the catalog is the cluster's own and persistent, with managed tables: the same calls
are the plain SQL statements.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from pipelines.warehouse.spark.session import table_location

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


def name_of(schema: str, table: str) -> str:
    return f"`{schema}`.`{table}`"


def local_warehouse(session: SparkSession) -> Path | None:
    """The folder a local session keeps its tables in; None for a cluster's session (Spark Connect), even one whose
    server runs `local[*]`: its folders are on the server, not here."""
    if type(session).__module__.startswith("pyspark.sql.connect"):
        return None
    if not str(session.conf.get("spark.master", "")).startswith("local"):
        return None
    folder = str(session.conf.get("spark.sql.warehouse.dir", "") or "")
    if not folder:
        return None
    return Path(urlparse(folder).path) if folder.startswith("file:") else Path(folder)


def _location_literal(path: Path) -> str:
    return "'" + str(path).replace("\\", "\\\\").replace("'", "\\'") + "'"


def drop_table(session: SparkSession, schema: str, table: str) -> None:
    """Drop `schema.table` if it exists, and, on local Spark, the folder of that name."""
    session.sql(f"drop table if exists {name_of(schema, table)}")
    warehouse = local_warehouse(session)
    if warehouse is not None:
        shutil.rmtree(table_location(warehouse, schema, table), ignore_errors=True)


def create_table_as(session: SparkSession, schema: str, table: str, query: str, table_format: str = "parquet") -> None:
    """Replace `schema.table` with the rows of the Spark SQL `query`, at the table's own folder on local Spark."""
    session.sql(f"create database if not exists `{schema}`")
    drop_table(session, schema, table)
    warehouse = local_warehouse(session)
    location = f" location {_location_literal(table_location(warehouse, schema, table))}" if warehouse else ""
    session.sql(f"create table {name_of(schema, table)} using {table_format}{location} as {query}")


def save_table(session: SparkSession, schema: str, table: str, frame: DataFrame, table_format: str = "parquet") -> None:
    """Replace `schema.table` with the rows of a DataFrame, at the table's own folder on local Spark."""
    session.sql(f"create database if not exists `{schema}`")
    drop_table(session, schema, table)
    writer = frame.write.format(table_format).mode("overwrite")
    warehouse = local_warehouse(session)
    if warehouse is not None:
        writer = writer.option("path", str(table_location(warehouse, schema, table)))
    writer.saveAsTable(f"{schema}.{table}")


def rename_table(session: SparkSession, schema: str, old: str, new: str) -> None:
    """Rename `schema.old` to `schema.new` (which must not exist): on local Spark, its folder moves with it."""
    warehouse = local_warehouse(session)
    if warehouse is None:
        session.sql(f"alter table {name_of(schema, old)} rename to {name_of(schema, new)}")
        return
    if not _is_external(session, schema, old):  # a managed table: Spark moves its folder itself
        session.sql(f"alter table {name_of(schema, old)} rename to {name_of(schema, new)}")
        return
    source, target = table_location(warehouse, schema, old), table_location(warehouse, schema, new)
    table_format = _format_of(session, schema, old)
    session.sql(f"drop table {name_of(schema, old)}")  # the catalog entry only: an external table's files stay
    shutil.rmtree(target, ignore_errors=True)
    source.rename(target)
    session.sql(f"create table {name_of(schema, new)} using {table_format} location {_location_literal(target)}")


def _is_external(session: SparkSession, schema: str, table: str) -> bool:
    rows = session.sql(f"describe table extended {name_of(schema, table)}").collect()
    kinds = [str(row[1]).upper() for row in rows if str(row[0]).strip().lower() == "type"]
    return bool(kinds) and kinds[0] == "EXTERNAL"


def _format_of(session: SparkSession, schema: str, table: str) -> str:
    rows = session.sql(f"describe table extended {name_of(schema, table)}").collect()
    providers = [str(row[1]).lower() for row in rows if str(row[0]).strip().lower() == "provider"]
    return providers[0] if providers else "parquet"
