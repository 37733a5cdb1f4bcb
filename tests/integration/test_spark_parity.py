"""The Spark engine against DuckDB: the demo seeds built by `flywheel run --engine spark`'s code path on local Spark
equal the DuckDB build of the same seeds, model by model, and every check decides the same.

One Spark build is shared by these tests (it costs a few minutes of the test budget); it runs the whole asset graph
through Dagster: raw loads with their quarantine and accounting, the definitions tables, every model with its grain
checks, assertions, guards and Great Expectations suites, and the publish.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest

from pipelines.cli import RunSummary, run_pipeline
from pipelines.spec.project_files import load_project_files
from pipelines.spec.settings import PROJECT_ROOT, Settings
from pipelines.warehouse.spark.parity import compare_builds, compare_table
from tests.conftest import settings_for
from tests.spark_fixtures import reset_spark_catalog

pytest.importorskip("pyspark")

# Quarantine and accounting tables the raw loads write, compared on these columns.
QUARANTINE_COLUMNS = "source_table, record_key, rule"


@pytest.fixture(scope="module")
def duckdb_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, RunSummary]:
    """The demo seeds built on DuckDB, this module's own: sharing the session's demo build would put every test that
    reads it on the Spark tests' xdist worker (tests/conftest.py), and the two workers would end far apart."""
    settings = settings_for(tmp_path_factory.mktemp("duckdb_build"), PROJECT_ROOT / "seeds")
    return settings, run_pipeline(settings, instance=dg.DagsterInstance.ephemeral())


@pytest.fixture(scope="module")
def spark_build(
    duckdb_build: tuple[Settings, RunSummary], spark_session: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Settings, RunSummary]]:
    """The demo seeds built on the test session's local Spark, with its own publish folder; the catalog is emptied
    before and after, for the other Spark tests of the session."""
    reset_spark_catalog(spark_session)
    folder = tmp_path_factory.mktemp("spark_build")
    settings = dataclasses.replace(
        duckdb_build[0],
        engine="spark",
        warehouse=folder / "flywheel.duckdb",
        publish_dir=folder / "published",
        erasure_list=duckdb_build[0].erasure_list,
    )
    yield settings, run_pipeline(settings, instance=dg.DagsterInstance.ephemeral())
    reset_spark_catalog(spark_session)


@pytest.fixture(scope="module")
def spark_connection(spark_build: tuple[Settings, RunSummary], spark_session: object) -> object:
    from pipelines.warehouse.spark.connection import SparkConnection

    return SparkConnection(spark_session)  # type: ignore[arg-type]


def test_the_spark_build_succeeds_with_the_same_checks(
    duckdb_build: tuple[Settings, RunSummary], spark_build: tuple[Settings, RunSummary]
) -> None:
    duckdb_summary, spark_summary = duckdb_build[1], spark_build[1]
    assert spark_summary.succeeded, spark_summary.render()
    assert sorted(spark_summary.assets_built) == sorted(duckdb_summary.assets_built)
    assert sorted(spark_summary.checks_failed) == sorted(duckdb_summary.checks_failed)
    assert sorted(spark_summary.checks_warned) == sorted(duckdb_summary.checks_warned)
    assert sorted(spark_summary.checks_passed) == sorted(duckdb_summary.checks_passed)
    assert spark_summary.mart_rows == duckdb_summary.mart_rows


def test_every_model_equals_the_duckdb_build(
    duckdb_build: tuple[Settings, RunSummary], spark_build: tuple[Settings, RunSummary], spark_connection: object
) -> None:
    models = load_project_files(duckdb_build[0]).models
    with duckdb.connect(str(duckdb_build[0].warehouse), read_only=True) as connection:
        differences = compare_builds(
            connection, spark_connection, [(model.schema, model.name, model.grain) for model in models]
        )
    assert len(differences) == len(models)
    assert [difference.summary() for difference in differences if not difference.agrees] == []


def test_quarantine_and_row_accounting_equal_the_duckdb_build(
    duckdb_build: tuple[Settings, RunSummary], spark_connection: object
) -> None:
    quarantine = (
        f"select {QUARANTINE_COLUMNS}, count(*) as copies from quarantine.rejected_rows group by {QUARANTINE_COLUMNS}"
    )
    accounting = "select source_table, file_rows, loaded_rows, quarantined_rows, erased_rows from audit.raw_loads"
    for sql, grain in ((quarantine, ["source_table", "record_key", "rule"]), (accounting, ["source_table"])):
        with duckdb.connect(str(duckdb_build[0].warehouse), read_only=True) as connection:
            expected = connection.execute(sql)
            columns = [(column[0], "VARCHAR") for column in expected.description or []]
            rows = expected.fetchall()
        found = spark_connection.execute(sql).fetchall()  # type: ignore[attr-defined]
        difference = compare_table(sql.split(" from ")[1].split()[0], columns, columns, rows, found, grain)
        assert difference.agrees, difference.summary()


def test_the_marts_are_published_for_bi_and_in_the_spark_catalog(
    spark_build: tuple[Settings, RunSummary], spark_connection: object
) -> None:
    summary = spark_build[1]
    assert summary.published_snapshot is not None
    snapshot = Path(summary.published_snapshot)
    with duckdb.connect(str(snapshot), read_only=True) as connection:
        published = dict(
            connection.execute(
                "select schema_name || '.' || table_name, estimated_size from duckdb_tables() "
                "where schema_name = 'marts'"
            ).fetchall()
        )
    assert set(published) == set(summary.mart_rows)
    for mart, rows in summary.mart_rows.items():
        name = mart.split(".")[1]
        view = spark_connection.execute(f"select count(*) from published.{name}").fetchone()  # type: ignore[attr-defined]
        assert view == (rows,), mart
