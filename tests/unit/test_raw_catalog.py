"""FLYWHEEL_SPARK_RAW_TABLES: a bad pattern is a settings error; only the Spark engine reads it, and then the raw
files sensor has nothing to watch."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import dagster as dg
import pytest

from pipelines.orchestration.operations import build_raw_files_sensor
from pipelines.orchestration.project import BUILD_JOB
from pipelines.spec.raw_catalog import catalog_table_name
from pipelines.spec.settings import PROJECT_ROOT, Settings, SettingsError
from pipelines.spec.sources import load_sources
from pipelines.warehouse import preflight as preflight_module

LEAD = next(table for table in load_sources(PROJECT_ROOT / "models" / "sources.yml") if table.name == "lead")


@pytest.mark.parametrize(
    ("pattern", "says"),
    [
        ("fivetran_{source}.lead", "must hold {table} in its last part"),
        ("{table}.raw", "must hold {table} in its last part"),
        ("fivetran_{connector}.{table}", "uses {connector}: only {source} and {table}"),
        ("fivetran_{source!r}.{table}", "only {source} and {table}"),
        ("lake.raw.x.{source}_{table}", "one to three dotted parts"),
        ("lake raw.{table}", "one to three dotted parts"),
        ("lake.{table", "is not a table-name pattern"),
        ("{source}.{table}", "names the tables the raw load writes"),
        ("spark_catalog.{source}.{table}", "names the tables the raw load writes"),
    ],
)
def test_a_bad_pattern_is_a_settings_error(pattern: str, says: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLYWHEEL_SPARK_RAW_TABLES", pattern)
    with pytest.raises(SettingsError, match="FLYWHEEL_SPARK_RAW_TABLES") as failure:
        Settings.from_env(engine="spark")
    assert says in str(failure.value)


def test_the_pattern_names_each_contract_table_on_the_spark_engine_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLYWHEEL_SPARK_RAW_TABLES", "lake.raw.{source}_{table}")
    assert catalog_table_name(Settings.from_env().spark_raw_tables, LEAD) == "lake.raw.salesforce_lead"
    assert Settings.from_env(engine="spark").catalog_raw_tables == "lake.raw.{source}_{table}"
    assert Settings.from_env(engine="duckdb").catalog_raw_tables == ""


def test_a_duckdb_run_checks_its_raw_files_and_opens_no_spark_session(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_spark(settings: Settings) -> None:
        raise AssertionError("a DuckDB run opened a Spark session")

    monkeypatch.setattr(preflight_module, "raw_catalog", no_spark)
    settings = dataclasses.replace(
        Settings.from_env(engine="duckdb"),
        raw_dir=tmp_path / "missing",
        warehouse=tmp_path / "flywheel.duckdb",
        spark_raw_tables="fivetran_{source}.{table}",
    )
    problems = preflight_module.preflight(settings)
    assert any("the raw folder does not exist" in problem for problem in problems)


def test_the_raw_files_sensor_skips_when_raw_tables_are_in_the_catalog(tmp_path: Path) -> None:
    sensor = build_raw_files_sensor(
        tmp_path, [LEAD], dg.define_asset_job(BUILD_JOB), catalog_raw_tables="fivetran_{source}.{table}"
    )
    result = sensor.evaluate_tick(dg.build_sensor_context(cursor=None))
    assert not result.run_requests
    assert "read from the Spark catalog" in (result.skip_message or "")
