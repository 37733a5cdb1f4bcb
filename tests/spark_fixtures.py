"""The one local Spark session the Spark tests of a test process share (starting one takes 10-30 s)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def spark_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A local Spark session (`local[2]`, two shuffle partitions, no UI, UTC), its warehouse in a temp folder.

    Skipped, saying why, when pyspark is not installed: DuckDB, the default engine, needs nothing of Spark.
    """
    pytest.importorskip("pyspark", reason="pyspark is not installed; the Spark engine's tests need it")
    from pyspark.sql import SparkSession

    warehouse = tmp_path_factory.mktemp("spark_warehouse")
    session = (
        SparkSession.builder.master("local[2]")
        .appName("flywheel-tests")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.warehouse.dir", str(warehouse))
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
