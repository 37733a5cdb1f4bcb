"""The Spark phase of `make bench`: the same Flywheel build on local Spark, timed beside the DuckDB one, and
compared with it table by table.

The build is `flywheel run --engine spark`'s code path (`run_pipeline` with the settings' engine set to `spark`) on
the same raw files, in a child process of its own like the other phases, so its JVM start, its peak memory (the
Python process only: the JVM is a child of it and reported apart) and its time are its own. After the build, every
model is compared with the DuckDB build of the same scale (pipelines/warehouse/spark/parity.py): the benchmark
reports how many tables are equal, so a fast but wrong engine cannot pass for a good one.
"""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path
from typing import Any

from pipelines.spec.settings import Settings

# The DuckDB warehouse of the same scale, which the Spark build is compared with (set by the parent process).
COMPARE_WITH_VARIABLE = "FLYWHEEL_BENCH_COMPARE_WITH"


def spark_build(settings: Settings) -> dict[str, Any]:
    """One Flywheel build on local Spark, and its comparison with the DuckDB build named by COMPARE_WITH_VARIABLE."""
    import dagster as dg

    from benchmarks.run import summarise_flywheel
    from pipelines.cli import run_pipeline

    settings = dataclasses.replace(settings, engine="spark")
    started = time.perf_counter()
    summary = run_pipeline(settings, instance=dg.DagsterInstance.ephemeral())
    measured = summarise_flywheel(summary, time.perf_counter() - started)
    compare_with = os.environ.get(COMPARE_WITH_VARIABLE)
    if compare_with and summary.succeeded:
        measured["parity"] = compare_with_duckdb(settings, Path(compare_with))
    return measured


def compare_with_duckdb(settings: Settings, duckdb_warehouse: Path) -> dict[str, Any]:
    """How many of the marts equal the DuckDB build's, and what differs in the others (the marts only: staged
    product events alone are millions of rows at `medium`, too many to bring to Python; the parity test in `make
    test` compares every model on the seeds)."""
    import duckdb

    from pipelines.spec.project_files import load_project_files
    from pipelines.warehouse.spark.connection import SparkConnection
    from pipelines.warehouse.spark.parity import compare_builds
    from pipelines.warehouse.spark.session import open_session_for

    models = [model for model in load_project_files(settings).models if model.layer == "marts"]
    started = time.perf_counter()
    with duckdb.connect(str(duckdb_warehouse), read_only=True) as connection:
        differences = compare_builds(
            connection,
            SparkConnection(open_session_for(settings)),
            [(model.schema, model.name, model.grain) for model in models],
        )
    return {
        "tables": len(differences),
        "equal": sum(difference.agrees for difference in differences),
        "differences": [difference.summary() for difference in differences if not difference.agrees],
        "seconds": time.perf_counter() - started,
    }


def render_spark(rows: list[tuple[str, dict[str, Any], dict[str, Any]]]) -> list[str]:
    """The Markdown section of the Spark builds: (scale, the DuckDB Flywheel build, the Spark build) per scale."""
    lines = [
        "### Spark (local) beside DuckDB",
        "",
        "The same Flywheel build (raw loads, every model with its checks and suites, the publish) on local Spark "
        "(`flywheel run --engine spark`, `local[2]`); every mart compared with the DuckDB build of the same files.",
        "",
        "| scale | Flywheel on DuckDB s | Flywheel on Spark s | Spark / DuckDB | model build s (Spark) "
        "| model check s (Spark) | checks on Spark | marts equal to DuckDB's |",
        "|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for scale, duck, spark in rows:
        parity = spark.get("parity")
        equal = f"{parity['equal']} of {parity['tables']}" if parity else "not compared (the build failed)"
        checks = f"{spark['checks_passed']} passed, {len(spark['checks_failed'])} failed"
        lines.append(
            f"| {scale} | {duck['seconds']:.1f} | {spark['seconds']:.1f} | {spark['seconds'] / duck['seconds']:.2f} "
            f"| {spark['model_build_seconds']:.1f} | {spark['model_check_seconds']:.1f} | {checks} | {equal} |"
        )
    for scale, _, spark in rows:
        for difference in (spark.get("parity") or {}).get("differences", [])[:10]:
            lines.append(f"- {scale}: {difference}")
        lines.append(
            f"- {scale}: slowest Spark steps: "
            + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in spark["slowest_steps"])
        )
    return [*lines, ""]
