"""Smoke test of `make bench` (benchmarks/run.py), so the benchmark code cannot rot.

Nothing here is a timing claim. The Flywheel side reuses the session's `demo_build` (the `flywheel run` code path on
the seeds, shared with the other tests) instead of paying for another full build; the plain DuckDB baseline runs for
real on the same seeds and must build every model with the same row counts.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from benchmarks import run
from pipelines.cli import RunSummary
from pipelines.spec.models import load_models
from pipelines.spec.settings import PROJECT_ROOT, Settings


def _row_counts(warehouse: Path, tables: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return {
            (schema, table): connection.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
            for schema, table in tables
        }


def test_bench_measures_both_builds_on_the_seeds(demo_build: tuple[Settings, RunSummary], tmp_path: Path) -> None:
    settings, summary = demo_build
    flywheel = run.summarise_flywheel(summary, summary.seconds)
    assert flywheel["succeeded"] and flywheel["checks_failed"] == []
    assert flywheel["model_build_seconds"] > 0 and flywheel["checks_passed"] > 0
    assert flywheel["slowest_steps"] and flywheel["raw_step_seconds"] > 0 and flywheel["model_step_seconds"] > 0

    plain = run.measure("plain", PROJECT_ROOT / "seeds", tmp_path / "plain")
    assert plain["raw_rows"] > 0 and plain["seconds"] > 0 and plain["cpu_seconds"] > 0 and plain["peak_rss_mb"] > 0

    # The baseline built every model from the same raw rows as the Flywheel build, row for row.
    models = {(model.schema, model.name) for model in load_models(settings.models_dir)}
    plain_warehouse = tmp_path / "plain" / "warehouse" / "flywheel.duckdb"
    assert _row_counts(plain_warehouse, models) == _row_counts(settings.warehouse, models)

    flywheel["peak_rss_mb"] = run.peak_rss_mb()  # a child process measures these in `make bench`
    flywheel["cpu_seconds"] = plain["cpu_seconds"]
    result = run.ScaleResult(scale="small", data={"source": "seeds"}, flywheel=flywheel, plain=plain)
    assert result.overhead > 0 and result.check_cost >= 0
    out = tmp_path / "results.md"
    out.write_text("# Results\n\nanalysis kept\n\n<!-- bench:start -->\nOLD-BLOCK\n<!-- bench:end -->\n\nmore\n")
    run.write_results(out, run.render([result, result], run.machine()))
    text = out.read_text()
    assert "analysis kept" in text and "more" in text and "OLD-BLOCK" not in text
    assert "| small |" in text and "small -> small" in text


def test_generated_scale_is_reused(tmp_path: Path) -> None:
    data_dir, info = run.generate_data("tiny", tmp_path, isolate=False)
    assert (data_dir / "salesforce" / "lead.csv").exists() and info["rows"] > 0
    again, info = run.generate_data("tiny", tmp_path, isolate=False)
    assert again == data_dir and info["source"].startswith("reused")
