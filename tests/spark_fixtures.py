"""The one local Spark session every Spark test of a test process shares (a JVM takes 10-30 s to start).

Tests that need Spark take the `spark_session` fixture (registered in tests/conftest.py); without pyspark they are
skipped, with the reason. The session is opened the way `flywheel run --engine spark` opens it
(pipelines/warehouse/spark/session.py), on two cores and two shuffle partitions, with its tables in a temporary
folder.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


@pytest.fixture(scope="session")
def spark_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparkSession]:
    """A local Spark session (`local[2]`, no web UI), stopped when the test process ends."""
    pytest.importorskip("pyspark", reason="the Spark engine's tests need pyspark: pip install 'flywheel[spark]'")
    from pipelines.warehouse.spark.session import open_session

    session = open_session("", "local[2]", tmp_path_factory.mktemp("spark_warehouse"), shuffle_partitions=2)
    yield session
    session.stop()


def reset_spark_catalog(session: SparkSession) -> None:
    """Drop every database of the shared session and its folders, so a test that builds a whole warehouse on Spark
    leaves nothing behind for the next test (an external table's drop keeps its files, which would block a new table
    of the same name)."""
    import shutil

    from pipelines.warehouse.spark.tables import local_warehouse

    for database in session.catalog.listDatabases():
        if database.name != "default":
            session.sql(f"drop database `{database.name}` cascade")
    warehouse = local_warehouse(session)
    if warehouse is not None:
        for folder in warehouse.glob("*.db"):
            shutil.rmtree(folder, ignore_errors=True)
