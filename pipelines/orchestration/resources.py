"""The Dagster resources of a Flywheel run: the warehouse connection, where raw files and the definitions file are,
and the data horizon of the run.
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource
from pydantic import PrivateAttr

from pipelines.orchestration.interrupts import cancel_if_interrupted, interrupted
from pipelines.spec.project_files import read_definitions, read_sources
from pipelines.warehouse.horizon import (
    DataHorizon,
    HorizonSettings,
    resolve_horizon,
)
from pipelines.warehouse.preflight import is_lock_conflict

# A single-run backfill policy is what lets one run rebuild a range of days; Dagster 1.13 flags the parameter beta.


# Seconds between attempts to open a warehouse another process has locked: about 4 s in all, then the error.
LOCK_WAITS = (0.25, 0.5, 1.0, 2.0)


class WarehouseEngine(dg.ConfigurableResource):
    """The warehouse a run builds in, whichever engine holds it: `get_connection()` gives a connection that takes the
    warehouse layer's SQL (DuckDB's dialect) for the length of a step.

    Every asset asks for the `warehouse` resource by this type, so a deployment switches engine by configuration:
    `Warehouse` (embedded DuckDB, the default) or `SparkWarehouse` (pipelines/orchestration/spark_resource.py).
    """

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        raise NotImplementedError("a warehouse engine says how to connect")
        yield  # pragma: no cover - makes this a generator, as the engines' own are


class Warehouse(DuckDBResource, WarehouseEngine):
    """dagster-duckdb's resource, creating the warehouse folder first and always closing the connection.

    The stock resource retries every I/O error for about 100 s (meant for lock waits), so a missing or read-only
    folder looked like a hang; this one retries only a lock held by another process, for a few seconds, and raises
    anything else at once. It also closes the connection when an asset raises (the stock one leaks it, keeping the
    file locked for the rest of the run).

    During a run it holds the database open (`setup_for_execution`), so each step's connection joins the open
    database instead of opening the file, and closing it does not write a checkpoint: about 25 ms a step less, and
    the data the last step wrote is still in memory for the next. DuckDB writes the checkpoint when the run ends
    (`teardown_after_execution`); until then committed work is in its write-ahead log, replayed if the process dies.
    The file stays locked for the whole run, not only while a step runs: readers use the published snapshot.
    """

    _held: duckdb.DuckDBPyConnection | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Open the warehouse for the run; if it cannot be opened now, steps open it themselves (and say why not)."""
        if self.database == ":memory:":
            return
        Path(self.database).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._held = duckdb.connect(self.database, read_only=False, config=self._config())
        except duckdb.Error:
            self._held = None

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        if self.database != ":memory:":
            Path(self.database).parent.mkdir(parents=True, exist_ok=True)
        connection = self._connect()
        try:
            # Timestamps with a time zone become UTC wall-clock times whatever the machine's zone.
            connection.execute("set TimeZone = 'UTC'")
            yield connection
        except Exception as error:
            if interrupted():  # DuckDB turned Ctrl-C into a query error: stop the run, not just this step
                raise KeyboardInterrupt(f"interrupted during a warehouse query ({error})") from error
            raise
        finally:
            connection.close()

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        """After the run's steps, in the main thread: a run Ctrl-C interrupted is marked canceling (see interrupts.py).

        Every step uses this resource, so its teardown is the last code of the project to run before Dagster
        decides whether an interrupted run ended as CANCELED or as FAILURE. Then the database held for the run is
        closed, which writes its checkpoint.
        """
        try:
            if context.instance is not None and context.run_id is not None:
                cancel_if_interrupted(context.instance, context.run_id)
        finally:
            held, self._held = self._held, None
            if held is not None:
                held.close()

    def _config(self) -> dict[str, Any]:
        return {"custom_user_agent": "dagster", **self.connection_config}

    def _connect(self) -> duckdb.DuckDBPyConnection:
        """Open the warehouse read-write, waiting a few seconds (LOCK_WAITS) for a lock another process holds."""
        config = self._config()
        for wait in (*LOCK_WAITS, None):
            try:
                return duckdb.connect(self.database, read_only=False, config=config)
            except duckdb.IOException as error:
                if wait is None or not is_lock_conflict(error):
                    raise
                time.sleep(wait)
        raise AssertionError("unreachable: the last attempt returns or raises")


class SourceFiles(dg.ConfigurableResource):
    """Where the connector tables (CSV or Parquet) are read from (`<raw_dir>/<source>/<table>.csv`), and the erasure
    list every load applies (the settings' `erasure_list`)."""

    raw_dir: str
    erasure_list: str
    # FLYWHEEL_SPARK_RAW_TABLES on the Spark engine: the raw tables are read from the Spark catalog under this
    # pattern (pipelines/spec/raw_catalog.py) instead of from files; empty: files.
    spark_raw_tables: str = ""


class DefinitionsFile(dg.ConfigurableResource):
    """The shared definitions file the `definitions` schema is loaded from."""

    path: str


class Horizon(dg.ConfigurableResource):
    """The data horizon of a run (see pipelines/warehouse/horizon.py): the bounds every raw date is checked against,
    and the
    as-of time the marts end at. `as_of` is FLYWHEEL_AS_OF; empty means the latest connector sync in the raw files."""

    raw_dir: str
    sources_file: str
    definitions_file: str
    as_of: str = ""
    # As SourceFiles.spark_raw_tables: the connector syncs are read from the Spark catalog's tables.
    spark_raw_tables: str = ""

    _catalog_horizon: DataHorizon | None = PrivateAttr(default=None)

    def resolve(self, warehouse: WarehouseEngine | None = None) -> DataHorizon:
        """The horizon; from catalog tables (read once per run through the `warehouse`'s Spark session) when the
        raw tables are in the Spark catalog."""
        if self.spark_raw_tables and warehouse is not None:
            return self._resolve_from_catalog(warehouse)
        document = read_definitions(Path(self.definitions_file)).document
        return resolve_horizon(
            HorizonSettings.from_document(document),
            Path(self.raw_dir),
            read_sources(Path(self.sources_file)),
            self.as_of,
        )

    def _resolve_from_catalog(self, warehouse: WarehouseEngine) -> DataHorizon:
        from pipelines.warehouse.spark.raw_catalog import SparkRawCatalog

        if self._catalog_horizon is None:
            document = read_definitions(Path(self.definitions_file)).document
            with warehouse.get_connection() as connection:
                catalog = SparkRawCatalog(cast(Any, connection).session, self.spark_raw_tables)
                self._catalog_horizon = resolve_horizon(
                    HorizonSettings.from_document(document),
                    Path(self.raw_dir),
                    read_sources(Path(self.sources_file)),
                    self.as_of,
                    catalog,
                )
        return self._catalog_horizon
