"""The Spark engine as a Dagster resource: the same assets, checks and lineage, built on a Spark session.

Bound to the `warehouse` resource key instead of `Warehouse` (DuckDB) when the settings' engine is `spark`
(`flywheel run --engine spark`, `FLYWHEEL_ENGINE=spark`); nothing else in the asset graph changes. Steps get a
`SparkConnection` (pipelines/warehouse/spark/connection.py), which takes the warehouse layer's DuckDB SQL and runs it
transpiled, so the models, grain checks, assertions and guards are the same text on both engines.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import cast

import dagster as dg
import duckdb
from pydantic import PrivateAttr

from pipelines.orchestration.interrupts import cancel_if_interrupted
from pipelines.orchestration.resources import WarehouseEngine
from pipelines.warehouse.spark.connection import SparkConnection


class SparkWarehouse(WarehouseEngine):
    """A Spark session for the run: local Spark (`master`, `local[2]` by default) writing its tables under
    `warehouse_dir`, or a cluster through Spark Connect (`remote`, `sc://host:15002`).

    The session is opened when the run starts (a missing Java or an unreachable Spark Connect URL fails the run
    there, within seconds, with the reason) and kept for the process: a second run in the same process (the tests,
    a notebook) reuses it instead of starting a JVM again.
    """

    remote: str = ""
    master: str = "local[2]"
    warehouse_dir: str
    shuffle_partitions: int = 2
    driver_memory: str = ""
    table_format: str = "parquet"

    _connection: SparkConnection | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._connection = self.connect()

    def connect(self) -> SparkConnection:
        """The session (opened now, or the process's open one) behind a connection for the warehouse layer."""
        from pipelines.warehouse.spark.session import open_session

        session = open_session(
            self.remote, self.master, Path(self.warehouse_dir), self.shuffle_partitions, self.driver_memory
        )
        return SparkConnection(session, table_format=self.table_format)

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The run's Spark connection. It is typed as DuckDB's because it answers the same calls (execute, fetchall,
        fetchone, df, register) with the same SQL: the warehouse layer does not know which engine it talks to."""
        if self._connection is None:
            self._connection = self.connect()
        yield cast(duckdb.DuckDBPyConnection, self._connection)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        """A run Ctrl-C interrupted is marked canceling, as with DuckDB (see interrupts.py); the session stays open."""
        if context.instance is not None and context.run_id is not None:
            cancel_if_interrupted(context.instance, context.run_id)
