"""Configuration from environment variables, with local defaults that make `make run` work from a fresh clone."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from pipelines.spec.raw_catalog import raw_tables_pattern_problem

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# The engines the models run on: DuckDB (the default, embedded) or Apache Spark (local, or a cluster through Spark
# Connect; see pipelines/warehouse/spark/session.py).
ENGINES = ("duckdb", "spark")
DEFAULT_SPARK_MASTER = "local[2]"


class SettingsError(ValueError):
    """A setting (an environment variable or an option) with a value Flywheel cannot use; the message names both."""


def _path_from_env(variable: str, default: str) -> Path:
    """A path from the environment; relative paths are taken from the project root, whatever the cwd."""
    path = Path(os.environ.get(variable, default))
    return path if path.is_absolute() else PROJECT_ROOT / path


@dataclass(frozen=True)
class Settings:
    """Where Flywheel reads and writes, the engine the models run on, and how much of the machine it may use.

    An unknown engine raises SettingsError at construction, whether it came from the environment or an option."""

    warehouse: Path
    raw_dir: Path
    models_dir: Path
    sources_file: Path
    definitions_file: Path
    expectations_dir: Path
    memory_limit: str
    threads: int
    # Where the BI snapshot is published; None means `published/` beside the warehouse, so a build into a
    # temporary warehouse (as the tests do) also publishes there.
    publish_dir: Path | None = None
    # The erasure list `flywheel forget` appends to and every raw load applies (keyed hashes only; see
    # pipelines/warehouse/erasure.py). It must outlive the warehouse, so it is not kept beside it: point it at durable
    # storage.
    erasure_list: Path = PROJECT_ROOT / "erasures.csv"
    # The first day of the daily partitions of product events (see pipelines/spec/partitions.py); rows received
    # earlier are filed under it. The demo data starts on 2024-11-01.
    first_partition_day: str = "2024-11-01"
    # The as-of time of the data (see pipelines/warehouse/horizon.py); empty: the latest connector sync in the raw
    # files.
    as_of: str = ""
    # Tables (`schema.table`) whose drop in rows since the last published build this run accepts as real, with what
    # is built from them (`flywheel run --accept-shrink TABLE`, or FLYWHEEL_ACCEPT_SHRINK=a,b; see
    # pipelines/warehouse/guards.py).
    accept_shrink: tuple[str, ...] = ()
    # The engine the models run on (FLYWHEEL_ENGINE, or `flywheel run --engine`): one of ENGINES.
    engine: str = "duckdb"
    # A Spark Connect URL (`sc://host:15002`, FLYWHEEL_SPARK_REMOTE) for the Spark engine; empty: Spark runs locally,
    # in this process's JVM, with FLYWHEEL_SPARK_MASTER as its master.
    spark_remote: str = ""
    spark_master: str = DEFAULT_SPARK_MASTER
    # The local Spark driver's memory (FLYWHEEL_SPARK_DRIVER_MEMORY, e.g. `4g`); empty: Spark's default (1g).
    spark_driver_memory: str = ""
    # The table format Spark writes the models in (FLYWHEEL_SPARK_TABLE_FORMAT): `parquet` by default, `delta` or
    # `iceberg` on a cluster that has them.
    spark_table_format: str = "parquet"
    # Where local Spark keeps its tables (FLYWHEEL_SPARK_WAREHOUSE); None means `spark/` beside the warehouse file, so
    # a build into a temporary warehouse keeps its Spark tables there too. Read it through `spark_warehouse`.
    spark_warehouse_dir: Path | None = None
    # Where the Spark engine reads the raw tables in its catalog instead of the files under `raw_dir`
    # (FLYWHEEL_SPARK_RAW_TABLES, e.g. `fivetran_{source}.{table}`; see pipelines/spec/raw_catalog.py); empty: files.
    # Read it through `catalog_raw_tables`, as the DuckDB engine always reads files.
    spark_raw_tables: str = ""

    def __post_init__(self) -> None:
        if not self.spark_table_format.isidentifier():
            raise SettingsError(
                f"FLYWHEEL_SPARK_TABLE_FORMAT={self.spark_table_format!r} is not a table format "
                "(parquet, delta, iceberg)"
            )
        if self.engine not in ENGINES:
            raise SettingsError(
                f"unknown engine {self.engine!r} (FLYWHEEL_ENGINE or --engine): use one of {', '.join(ENGINES)}"
            )
        problem = raw_tables_pattern_problem(self.spark_raw_tables) if self.spark_raw_tables else None
        if problem is not None:
            raise SettingsError(problem)

    @property
    def catalog_raw_tables(self) -> str:
        """The raw tables' catalog pattern this run reads from: the setting on the Spark engine, empty (files)
        on DuckDB, which has no Spark catalog to read."""
        return self.spark_raw_tables if self.engine == "spark" else ""

    @property
    def spark_warehouse(self) -> Path:
        """The folder local Spark writes its tables under (Parquet, one folder per table; see
        pipelines/warehouse/spark/session.py)."""
        return self.spark_warehouse_dir if self.spark_warehouse_dir is not None else self.warehouse.parent / "spark"

    @property
    def published_dir(self) -> Path:
        """The folder BI tools read: the DuckDB snapshot and the Parquet files of the marts."""
        return self.publish_dir if self.publish_dir is not None else self.warehouse.parent / "published"

    @classmethod
    def from_env(cls, engine: str | None = None) -> Settings:
        """The settings the environment gives; `engine` (from `--engine`) replaces FLYWHEEL_ENGINE, even a wrong one."""
        return cls(
            warehouse=_path_from_env("FLYWHEEL_WAREHOUSE", "warehouse/flywheel.duckdb"),
            raw_dir=_path_from_env("FLYWHEEL_RAW_DIR", "seeds"),
            models_dir=_path_from_env("FLYWHEEL_MODELS_DIR", "models"),
            sources_file=_path_from_env("FLYWHEEL_SOURCES_FILE", "models/sources.yml"),
            definitions_file=_path_from_env("FLYWHEEL_DEFINITIONS_FILE", "definitions.yml"),
            expectations_dir=_path_from_env("FLYWHEEL_EXPECTATIONS_DIR", "expectations"),
            memory_limit=os.environ.get("FLYWHEEL_MEMORY_LIMIT", "8GB"),
            threads=int(os.environ.get("FLYWHEEL_THREADS", str(os.cpu_count() or 2))),
            publish_dir=_path_from_env("FLYWHEEL_PUBLISH_DIR", "") if os.environ.get("FLYWHEEL_PUBLISH_DIR") else None,
            erasure_list=_path_from_env("FLYWHEEL_ERASURE_LIST", "erasures.csv"),
            first_partition_day=os.environ.get("FLYWHEEL_FIRST_PARTITION_DAY", "2024-11-01"),
            as_of=os.environ.get("FLYWHEEL_AS_OF", ""),
            accept_shrink=tuple(
                name.strip() for name in os.environ.get("FLYWHEEL_ACCEPT_SHRINK", "").split(",") if name.strip()
            ),
            engine=engine or os.environ.get("FLYWHEEL_ENGINE", "").strip().lower() or "duckdb",
            spark_remote=os.environ.get("FLYWHEEL_SPARK_REMOTE", "").strip(),
            spark_master=os.environ.get("FLYWHEEL_SPARK_MASTER", "").strip() or DEFAULT_SPARK_MASTER,
            spark_driver_memory=os.environ.get("FLYWHEEL_SPARK_DRIVER_MEMORY", "").strip(),
            spark_table_format=os.environ.get("FLYWHEEL_SPARK_TABLE_FORMAT", "").strip().lower() or "parquet",
            spark_warehouse_dir=_path_from_env("FLYWHEEL_SPARK_WAREHOUSE", "")
            if os.environ.get("FLYWHEEL_SPARK_WAREHOUSE")
            else None,
            spark_raw_tables=os.environ.get("FLYWHEEL_SPARK_RAW_TABLES", "").strip(),
        )
