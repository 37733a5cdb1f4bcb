"""`make bench`: build each data scale with Flywheel and with plain DuckDB, and report honest ratios.

    python -m benchmarks.run --scales small,medium [--large] [--data-root DIR] [--out benchmarks/results.md]

For each scale the raw data is generated (`small` is the committed seeds; `medium`/`large` are generated as Parquet),
then two builds run on the same files, each in its own Python process so its peak memory is its own:

- **Flywheel**: `pipelines.cli.run_pipeline` (the `flywheel run` code path: Dagster in-process job, raw loads with
  quarantine, definitions, every model write-audit-publish with its grain checks, assertions and GE suites, the BI
  publish) into a temporary warehouse on an ephemeral Dagster instance.
- **Plain DuckDB**: one connection that loads the same raw files with the same `load_raw_table`, writes the same
  definitions tables, and runs the same model SQL files in dependency order; no Dagster, no checks, no publish.

Reported: wall time and peak RSS of each build, orchestration overhead (Flywheel / plain, target <= 1.15 at large),
check cost (model check seconds / model build seconds from the RunSummary, target <= 0.5 at large), and how time
grows with rows from one scale to the next. Times exclude interpreter start-up and imports (both builds alike); the
child process wall time, imports included, is reported beside them.
"""

from __future__ import annotations

import argparse
import dataclasses
import graphlib
import itertools
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks.spark import COMPARE_WITH_VARIABLE, render_spark, spark_build
from pipelines.spec.settings import PROJECT_ROOT, Settings

if TYPE_CHECKING:
    from pipelines.cli import RunSummary

SCALE_ORDER = ("tiny", "small", "medium", "large")
OVERHEAD_TARGET = 1.15
CHECK_COST_TARGET = 0.5
REFRESH_TARGET = 0.05
RESULTS_FILE = PROJECT_ROOT / "benchmarks" / "results.md"


# ---------------------------------------------------------------------------------------------------------------------
# The measured work
# ---------------------------------------------------------------------------------------------------------------------
def settings_for(data_dir: Path, work_dir: Path) -> Settings:
    """Project settings reading `data_dir`, building into a warehouse of its own under `work_dir`."""
    return dataclasses.replace(
        Settings.from_env(),
        warehouse=work_dir / "warehouse" / "flywheel.duckdb",
        raw_dir=data_dir,
        publish_dir=work_dir / "published",
    )


def plain_duckdb_build(settings: Settings) -> dict[str, Any]:
    """The baseline: one DuckDB connection, same raw loads, same definitions, same model SQL in dependency order."""
    from pipelines.orchestration.project import daily_partitions
    from pipelines.spec.models import load_models
    from pipelines.spec.partitions import DayRange
    from pipelines.spec.sources import load_sources
    from pipelines.warehouse.connection import connect, qualified, quote
    from pipelines.warehouse.erasure import ErasureList
    from pipelines.warehouse.horizon import HorizonSettings, resolve_horizon, set_horizon_variables, write_data_horizon
    from pipelines.warehouse.raw_files import LoadScope
    from pipelines.warehouse.raw_load import load_raw_table
    from pipelines.warehouse.shared_definitions import load_definitions, write_definitions

    started = time.perf_counter()
    sources = load_sources(settings.sources_file)
    models = {(model.schema, model.name): model for model in load_models(settings.models_dir)}
    order = graphlib.TopologicalSorter(
        {key: [ref.key for ref in model.upstream if ref.key in models] for key, model in models.items()}
    ).static_order()
    raw_rows = 0
    model_seconds: dict[str, float] = {}
    keys = daily_partitions(settings).get_partition_keys()
    every_day = DayRange.parse(keys[0], keys[-1])
    definitions = load_definitions(settings.definitions_file)
    horizon = resolve_horizon(
        HorizonSettings.from_document(definitions.document), settings.raw_dir, sources, settings.as_of
    )
    erasures = ErasureList.read(settings.erasure_list)
    with connect(settings.warehouse, settings.memory_limit, settings.threads) as connection:
        set_horizon_variables(connection, horizon)
        for table in sources:
            scope = LoadScope(days=every_day, bounds=every_day) if table.partitioned else None
            path = table.find_file(settings.raw_dir)
            raw_rows += load_raw_table(connection, table, path, erasures, scope=scope).file_rows
        write_definitions(connection, definitions)
        write_data_horizon(connection, "definitions", horizon)
        loaded = time.perf_counter()
        for key in order:
            model = models[key]
            began = time.perf_counter()
            connection.execute(f"create schema if not exists {quote(model.schema)}")
            connection.execute(f"create or replace table {qualified(model.schema, model.name)} as {model.body}")
            model_seconds[f"{model.schema}.{model.name}"] = time.perf_counter() - began
    done = time.perf_counter()
    return {
        "seconds": done - started,
        "load_seconds": loaded - started,
        "model_seconds": done - loaded,
        "raw_rows": raw_rows,
        "slowest_models": _top(model_seconds),
    }


def flywheel_build(settings: Settings) -> dict[str, Any]:
    """The full Flywheel materialization (`flywheel run`'s code path) on an ephemeral Dagster instance."""
    import dagster as dg

    from pipelines.cli import run_pipeline

    started = time.perf_counter()
    summary = run_pipeline(settings, instance=dg.DagsterInstance.ephemeral())
    measured = summarise_flywheel(summary, time.perf_counter() - started)
    measured.update(incremental_refresh(settings))
    return measured


def incremental_refresh(settings: Settings) -> dict[str, Any]:
    """After the full build: `flywheel refresh` for the newest day of events in the data.

    The refresh rebuilds that day and the `late_arrival_days` days before it (as the daily schedule does), for the
    product events and everything downstream of them; the other assets are not rebuilt.
    """
    import dagster as dg
    import duckdb

    from pipelines.cli import partitioned_raw_keys, run_pipeline
    from pipelines.spec.partitions import DayRange
    from pipelines.warehouse.shared_definitions import late_arrival_days

    with duckdb.connect(str(settings.warehouse), read_only=True) as connection:
        found = connection.execute(
            "select max(partition_day) from audit.raw_partition_loads where loaded_rows > 0"
        ).fetchone()
    newest = found[0] if found and found[0] else None
    if newest is None:
        return {}
    first = max(
        newest - timedelta(days=late_arrival_days(settings.definitions_file)),
        date.fromisoformat(settings.first_partition_day),
    )
    days = DayRange(first, newest)
    started = time.perf_counter()
    summary = run_pipeline(
        settings, instance=dg.DagsterInstance.ephemeral(), days=days, selection=partitioned_raw_keys(settings)
    )
    return {
        "refresh_seconds": time.perf_counter() - started,
        "refresh_days": str(days),
        "refresh_succeeded": summary.succeeded,
        "refresh_assets": len(summary.assets_built),
    }


def summarise_flywheel(summary: RunSummary, seconds: float) -> dict[str, Any]:
    """What the benchmark reports of one Flywheel build: totals, check cost, and where the time went."""
    per_model_build: dict[str, float] = {}
    per_model_check: dict[str, float] = {}
    step_seconds: dict[str, float] = {}
    if summary.result is not None:
        for event in summary.result.get_asset_materialization_events():
            metadata = event.materialization.metadata
            if event.asset_key is not None and "build_seconds" in metadata:
                name = event.asset_key.to_user_string()
                per_model_build[name] = float(metadata["build_seconds"].value)  # type: ignore[arg-type]
                per_model_check[name] = float(metadata["check_seconds"].value)  # type: ignore[arg-type]
        for success in summary.result.get_step_success_events():
            data = success.event_specific_data
            if success.step_key is not None and data is not None:
                step_seconds[success.step_key] = float(getattr(data, "duration_ms", 0.0)) / 1000
    model_steps = sum(step_seconds.get(_step_key(name), 0.0) for name in per_model_build)
    raw_steps = sum(value for key, value in step_seconds.items() if _is_raw_step(key, per_model_build))
    return {
        "seconds": seconds,
        "succeeded": summary.succeeded,
        "assets_built": len(summary.assets_built),
        "checks_passed": len(summary.checks_passed),
        "checks_failed": summary.checks_failed,
        "failed_steps": summary.failed_steps,
        "model_build_seconds": summary.model_build_seconds,
        "model_check_seconds": summary.model_check_seconds,
        "step_seconds_total": sum(step_seconds.values()),
        "model_step_seconds": model_steps,
        "other_step_seconds": sum(step_seconds.values()) - model_steps - raw_steps,
        "raw_step_seconds": raw_steps,
        "slowest_steps": _top(step_seconds),
        "slowest_model_builds": _top(per_model_build),
        "slowest_model_checks": _top(per_model_check),
    }


def _step_key(asset: str) -> str:
    return asset.replace("/", "__")


def _is_raw_step(step_key: str, models: dict[str, float]) -> bool:
    return step_key not in {_step_key(name) for name in models} and step_key.split("__")[0] in {
        "salesforce",
        "stripe",
        "product",
        "marketing",
    }


def _top(seconds: dict[str, float], n: int = 5) -> list[tuple[str, float]]:
    return sorted(seconds.items(), key=lambda item: item[1], reverse=True)[:n]


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    """User + system CPU time of this process so far (all its threads, DuckDB's included)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


PHASES = {"flywheel": flywheel_build, "plain": plain_duckdb_build, "spark": spark_build}


def measure(phase: str, data_dir: Path, work_dir: Path) -> dict[str, Any]:
    """One build in this process: its own measurements plus CPU seconds spent and peak memory."""
    cpu = cpu_seconds()
    measured = PHASES[phase](settings_for(data_dir, work_dir))
    measured["cpu_seconds"] = cpu_seconds() - cpu
    measured["peak_rss_mb"] = peak_rss_mb()
    return measured


def run_phase(phase: str, data_dir: Path, work_dir: Path, isolate: bool = True) -> dict[str, Any]:
    """One build; in a child process of its own (so its peak memory is its own) unless `isolate` is False."""
    if not isolate:
        return measure(phase, data_dir, work_dir)
    command = [sys.executable, "-m", "benchmarks.run", "--phase", phase]
    command += ["--data", str(data_dir), "--work", str(work_dir)]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{phase} build failed ({done.returncode}):\n{done.stderr[-4000:]}")
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    measured["process_seconds"] = wall
    return measured


def generate_data(scale: str, data_root: Path, isolate: bool = True) -> tuple[Path, dict[str, Any]]:
    """The raw files of one scale: the committed seeds for `small`, else generated Parquet (reused if complete)."""
    if scale == "small":
        return PROJECT_ROOT / "seeds", {"source": "committed seeds (CSV)"}
    out = data_root / scale
    marker = out / ".complete"
    if marker.exists():
        return out, {**json.loads(marker.read_text()), "source": f"reused {out}"}
    fmt = "csv" if scale == "tiny" else "parquet"
    started = time.perf_counter()
    if isolate:
        command = [sys.executable, "-m", "flywheel_demo", "--scale", scale, "--out", str(out), "--format", fmt]
        subprocess.run(command, cwd=PROJECT_ROOT, check=True, capture_output=True)
        rows = None
    else:
        from flywheel_demo.calendar import SCALES
        from flywheel_demo.simulation import generate_tables
        from flywheel_demo.writing import write_tables

        tables = generate_tables(SCALES[scale], 42)
        write_tables(tables, out, fmt)
        rows = sum(table.num_rows for table in tables.values())
    info = {"source": f"generated {fmt} in {out}", "generate_seconds": time.perf_counter() - started, "rows": rows}
    marker.write_text(json.dumps(info))
    return out, info


@dataclasses.dataclass
class ScaleResult:
    scale: str
    data: dict[str, Any]
    flywheel: dict[str, Any]
    plain: dict[str, Any]
    # The same build on local Spark (`--spark SCALES`), with its comparison with the DuckDB build.
    spark: dict[str, Any] | None = None

    @property
    def raw_rows(self) -> int:
        return int(self.plain["raw_rows"])

    @property
    def overhead(self) -> float:
        return float(self.flywheel["seconds"]) / float(self.plain["seconds"])

    @property
    def refresh_ratio(self) -> float:
        refresh = self.flywheel.get("refresh_seconds")
        return float(refresh) / float(self.flywheel["seconds"]) if refresh else float("nan")

    @property
    def check_cost(self) -> float:
        build = float(self.flywheel["model_build_seconds"])
        return float(self.flywheel["model_check_seconds"]) / build if build else float("nan")


def run_scale(scale: str, data_root: Path, work_root: Path, isolate: bool = True, spark: bool = False) -> ScaleResult:
    """Generate (or find) one scale's data; time the plain DuckDB, the Flywheel and (`spark`) the Spark builds."""
    data_dir, data = generate_data(scale, data_root, isolate)
    plain = run_phase("plain", data_dir, work_root / scale / "plain", isolate)
    flywheel = run_phase("flywheel", data_dir, work_root / scale / "flywheel", isolate)
    result = ScaleResult(scale=scale, data=data, flywheel=flywheel, plain=plain)
    if spark:
        duckdb_warehouse = settings_for(data_dir, work_root / scale / "flywheel").warehouse
        os.environ[COMPARE_WITH_VARIABLE] = str(duckdb_warehouse)
        result.spark = run_phase("spark", data_dir, work_root / scale / "spark", isolate)
    return result


# ---------------------------------------------------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------------------------------------------------
def machine() -> dict[str, str]:
    import dagster
    import duckdb

    memory = "?"
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": str(os.cpu_count()),
        "memory": memory,
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "dagster": dagster.__version__,
        "platform": platform.platform(),
        "load": " / ".join(f"{value:.1f}" for value in os.getloadavg()),
    }


def _met(value: float, target: float) -> str:
    return "met" if value <= target else "**not met**"


def _cpu(result: ScaleResult) -> str:
    flywheel, plain = result.flywheel.get("cpu_seconds"), result.plain.get("cpu_seconds")
    if flywheel is None or plain is None:
        return "not measured"
    return f"{flywheel:.1f} / {plain:.1f} ({flywheel / plain:.2f})"


def render(results: Sequence[ScaleResult], info: dict[str, str]) -> str:
    """The results as Markdown: one table of measurements, the ratios against their targets, growth, profiles."""
    lines = [
        "## Measurements",
        "",
        f"Machine: {info['cores']} cores, {info['memory']} memory; Python {info['python']}, DuckDB {info['duckdb']}, "
        f"Dagster {info['dagster']}; measured {info['date']}; load average at the end {info['load']} "
        "(1 / 5 / 15 min: other work on the machine inflates wall times; CPU seconds are less affected).",
        "",
        "| scale | raw rows | Flywheel s | plain DuckDB s | overhead (target <= 1.15 at large) | model build s "
        "| model check s | check cost (target <= 0.5 at large) | Flywheel peak RSS MB | plain peak RSS MB | checks "
        "| CPU s Flywheel / plain (ratio) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in results:
        f = r.flywheel
        checks = f"{f['checks_passed']} passed, {len(f['checks_failed'])} failed"
        lines.append(
            f"| {r.scale} | {r.raw_rows:,} | {f['seconds']:.1f} | {r.plain['seconds']:.1f} | {r.overhead:.2f} "
            f"({_met(r.overhead, OVERHEAD_TARGET)}) | {f['model_build_seconds']:.1f} | {f['model_check_seconds']:.1f} "
            f"| {r.check_cost:.2f} ({_met(r.check_cost, CHECK_COST_TARGET)}) | {f['peak_rss_mb']:.0f} "
            f"| {r.plain['peak_rss_mb']:.0f} | {checks} | {_cpu(r)} |"
        )
    lines += [
        "",
        "| scale | incremental refresh s (days rebuilt) | full Flywheel s | refresh / full (target <= 0.05 at large) |",
        "|---|---:|---:|---:|",
    ]
    for r in results:
        f = r.flywheel
        if "refresh_seconds" in f:
            state = "" if f.get("refresh_succeeded", True) else ", **failed**"
            lines.append(
                f"| {r.scale} | {f['refresh_seconds']:.1f} ({f['refresh_days']}, {f['refresh_assets']} assets{state}) "
                f"| {f['seconds']:.1f} | {r.refresh_ratio:.3f} ({_met(r.refresh_ratio, REFRESH_TARGET)}) |"
            )
    lines += ["", "Targets apply at `large`; the other scales are shown met/not met against the same numbers.", ""]
    if len(results) > 1:
        lines += ["### Growth", "", "| from -> to | rows x | Flywheel time x | plain time x |", "|---|---:|---:|---:|"]
        for before, after in itertools.pairwise(results):
            lines.append(
                f"| {before.scale} -> {after.scale} | {after.raw_rows / before.raw_rows:.1f} "
                f"| {after.flywheel['seconds'] / before.flywheel['seconds']:.1f} "
                f"| {after.plain['seconds'] / before.plain['seconds']:.1f} |"
            )
        lines.append("")
    spark_rows = [(r.scale, r.flywheel, r.spark) for r in results if r.spark is not None]
    if spark_rows:
        lines += render_spark(spark_rows)
    lines += ["### Where the time goes", ""]
    for r in results:
        f, p = r.flywheel, r.plain
        lines += [
            f"**{r.scale}** ({r.data.get('source')}"
            + (f", generated in {r.data['generate_seconds']:.1f} s" if "generate_seconds" in r.data else "")
            + ")",
            f"- Flywheel: {f['seconds']:.1f} s in total; Dagster steps {f['step_seconds_total']:.1f} s "
            f"(raw loads {f['raw_step_seconds']:.1f} s, models {f['model_step_seconds']:.1f} s, "
            f"other {f['other_step_seconds']:.1f} s); child process with imports {f.get('process_seconds', 0):.1f} s.",
            f"- Plain DuckDB: {p['seconds']:.1f} s (raw loads + definitions {p['load_seconds']:.1f} s, "
            f"models {p['model_seconds']:.1f} s).",
            "- Slowest Flywheel steps: " + ", ".join(f"{name} {sec:.1f} s" for name, sec in f["slowest_steps"]),
            "- Slowest model checks: " + ", ".join(f"{name} {sec:.1f} s" for name, sec in f["slowest_model_checks"]),
            "- Slowest plain models: " + ", ".join(f"{name} {sec:.1f} s" for name, sec in p["slowest_models"]),
            "",
        ]
    return "\n".join(lines)


START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def write_results(path: Path, text: str) -> None:
    """Put the measurements between the bench markers of `path`, keeping the written analysis around them."""
    block = f"{START}\n{text}\n{END}"
    old = path.read_text() if path.exists() else ""
    if START in old and END in old:
        new = old[: old.index(START)] + block + old[old.index(END) + len(END) :]
    else:
        new = f"# Benchmark results\n\n{block}\n" if not old else f"{old.rstrip()}\n\n{block}\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(new)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="small,medium", help="comma-separated scales (default: small,medium)")
    parser.add_argument("--large", action="store_true", help="also run the large scale (10M leads)")
    parser.add_argument("--data-root", type=Path, help="keep generated data here and reuse it (default: temp dir)")
    parser.add_argument("--out", type=Path, default=RESULTS_FILE, help="Markdown file for the measurements")
    parser.add_argument(
        "--spark", default="", help="comma-separated scales also built on local Spark and compared (e.g. medium)"
    )
    parser.add_argument("--phase", choices=sorted(PHASES), help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.phase:  # child process: one build, its measurements as the last line of stdout
        os.environ.setdefault("DAGSTER_TELEMETRY_DISABLED", "1")
        print(json.dumps(measure(args.phase, args.data, args.work)))
        return 0
    scales = [scale.strip() for scale in args.scales.split(",") if scale.strip()]
    if args.large and "large" not in scales:
        scales.append("large")
    unknown = set(scales) - set(SCALE_ORDER)
    if unknown:
        parser.error(f"unknown scale(s): {', '.join(sorted(unknown))}")
    scales.sort(key=SCALE_ORDER.index)
    results = []
    with tempfile.TemporaryDirectory(prefix="flywheel-bench-") as temp:
        data_root = args.data_root or Path(temp) / "data"
        data_root.mkdir(parents=True, exist_ok=True)
        for scale in scales:
            print(f"[bench] {scale}: generating / building ...", file=sys.stderr, flush=True)
            on_spark = scale in {name.strip() for name in args.spark.split(",")}
            result = run_scale(scale, data_root, Path(temp) / "work", spark=on_spark)
            results.append(result)
            print(
                f"[bench] {scale}: Flywheel {result.flywheel['seconds']:.1f} s, plain {result.plain['seconds']:.1f} s, "
                f"overhead {result.overhead:.2f}, check cost {result.check_cost:.2f}",
                file=sys.stderr,
                flush=True,
            )
    info = machine()
    text = render(results, info)
    write_results(args.out, text)
    raw = args.out.with_suffix(".json")
    raw.write_text(json.dumps({"machine": info, "scales": [dataclasses.asdict(r) for r in results]}, indent=1) + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
