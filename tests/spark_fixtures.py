"""The one local Spark session of a test process, shared by every Spark test (a session starts in 10-30 s).

Tests that use `spark_session` are skipped, with the reason, where pyspark is not installed: DuckDB runs need
nothing of Spark.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


@pytest.fixture(scope="session")
def spark_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparkSession]:
    """A local Spark session on two cores, in UTC, its warehouse (schemas are databases) in a temporary directory."""
    pytest.importorskip("pyspark", reason="pyspark is not installed: the Spark engine's tests need it")
    from pyspark.sql import SparkSession

    warehouse = tmp_path_factory.mktemp("spark_warehouse")
    session = (
        SparkSession.builder.master("local[2]")
        .appName("flywheel-tests")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.warehouse.dir", str(warehouse))
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
