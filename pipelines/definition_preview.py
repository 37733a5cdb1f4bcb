"""`flywheel preview --definitions candidate.yml`: what a change to the shared definitions would move, before it is
published.

The candidate file is validated like `definitions.yml` (a bad one fails at once, naming the file, line and key) and
compared with the definitions in force key by key (pipelines/spec/definition_readers.py). The assets that read a
changed definition, and everything downstream of them, are rebuilt with the candidate in a scratch warehouse: a copy
of the warehouse in a temporary folder (or, when there is none yet, a fresh build of the definitions in force there
first). The BI publish and the KPI report are never part of the selection, and the scratch run writes only under the
temporary folder, so neither the warehouse nor the published snapshot changes. The marts it rebuilt are then
compared with their tables before (pipelines/warehouse/mart_changes.py) and the result is printed and written as an
HTML page (pipelines/docs/definition_preview_page.py), with the checks that would fail.

Exit code 0 when every check passes with the candidate, 1 when some would fail, 2 when the candidate or the project
cannot be used (nothing is built then), 130 when stopped by Ctrl-C.
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import dagster as dg

from pipelines.cli import INTERRUPTED, RunSummary, check_project, run_pipeline
from pipelines.docs.definition_preview_page import PAGE_FILE, PreviewReport, render_html, render_text
from pipelines.docs.report import REPORT_GROUP
from pipelines.orchestration.project import PUBLISH_GROUP
from pipelines.orchestration.selection import SelectionError, resolve_selection
from pipelines.spec.definition_readers import Readers, changed_definitions, readers_of
from pipelines.spec.definitions_reader import DefinitionsError
from pipelines.spec.models import Model
from pipelines.spec.project_files import load_project_files, read_definitions
from pipelines.spec.settings import PROJECT_ROOT, Settings
from pipelines.warehouse.mart_changes import (
    WarehouseCopyError,
    add_empty_tables,
    compare_table,
    copy_warehouse,
    snapshot_tables,
)
from pipelines.warehouse.preflight import PreflightError
from pipelines.warehouse.publish import CURRENT_MANIFEST, PARQUET_DIR
from pipelines.warehouse.shared_definitions import load_definitions

PREVIEW_DIR = PROJECT_ROOT / "target" / "preview"
MARTS = "marts"
# What a preview never builds: the BI publish and the KPI report beside it.
NOT_PREVIEWED = f"not group:{PUBLISH_GROUP} and not group:{REPORT_GROUP}"
DESCRIPTION = (
    "Show what a change to the shared definitions would move before it is published. The candidate file is "
    "validated like definitions.yml and compared with it key by key; the assets that read a changed definition and "
    "everything downstream of them are rebuilt with the candidate in a scratch copy of the warehouse (a fresh build "
    "when there is none), never in the warehouse itself nor in the published BI snapshot. Prints each changed "
    "definition, the checks that would fail, and for each rebuilt mart the rows added, removed and changed by its "
    "grain and its KPIs before and after by month and segment; writes the same as an HTML page. Exit code 0 when "
    "every check passes with the candidate, 1 when some would fail, 2 when the candidate or the project cannot be used."
)


def selection_for(readers: Readers) -> str:
    """The Dagster selection a preview rebuilds: the readers and everything downstream, the definitions tables to
    rewrite with the candidate, never the publish nor the report."""
    terms = [f'key:"{name.replace(".", "/")}"+' for name in sorted(readers.models)]
    terms += [f'key:"definitions/{table}"' for table in sorted(readers.definition_tables)]
    terms += [f"({selection})+" for selection in sorted(readers.python_selections)]
    return f"({' or '.join(terms)}) and {NOT_PREVIEWED}"


def scratch_settings(settings: Settings, scratch: Path, candidate: Path) -> Settings:
    """The settings of a scratch build: warehouse and publish folder under `scratch`, definitions from `candidate`."""
    return dataclasses.replace(
        settings,
        warehouse=scratch / "warehouse" / "flywheel.duckdb",
        publish_dir=scratch / "published",
        definitions_file=candidate,
    )


def _copy_baseline(settings: Settings, scratch: Settings) -> None:
    """The manifest of the current publish, so the scratch build's volume guards compare with the real baseline."""
    manifest = settings.published_dir / PARQUET_DIR / CURRENT_MANIFEST
    if manifest.exists():
        target = scratch.published_dir / PARQUET_DIR / CURRENT_MANIFEST
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(manifest, target)


def _scratch_warehouse(settings: Settings, scratch: Settings, instance: dg.DagsterInstance) -> bool:
    """Put the warehouse as it is into the scratch folder: a copy, or a fresh build of the definitions in force
    when there is no warehouse yet. Returns whether it was built."""
    if settings.warehouse.exists():
        copy_warehouse(settings.warehouse, scratch.warehouse)
        return False
    current = dataclasses.replace(scratch, definitions_file=settings.definitions_file)
    run_pipeline(current, instance=instance, select=f"* and {NOT_PREVIEWED}")
    return True


def preview(
    settings: Settings, candidate: Path, instance: dg.DagsterInstance | None = None
) -> tuple[PreviewReport, RunSummary | None]:
    """Measure what the candidate definitions would change; raises DefinitionsError for an invalid candidate and
    PreflightError or WarehouseCopyError when the project or the warehouse cannot be used."""
    started = time.perf_counter()
    load_definitions(candidate)  # the same validation as the definitions in force, before anything else
    current = read_definitions(settings.definitions_file).document
    changes = changed_definitions(current, read_definitions(candidate).document)
    report = PreviewReport(candidate=candidate, current=settings.definitions_file, changes=changes)
    if not changes:
        report.seconds = time.perf_counter() - started
        return report, None
    files = load_project_files(settings)
    readers = readers_of(changes, files.models, files.suites)
    if readers.empty:  # a definition nothing reads (yet): nothing can move
        report.seconds = time.perf_counter() - started
        return report, None
    report.selection = selection_for(readers)
    instance = instance or dg.DagsterInstance.ephemeral()  # the UI's history records real builds only
    with tempfile.TemporaryDirectory(prefix="flywheel-preview-") as folder:
        scratch = scratch_settings(settings, Path(folder), candidate.resolve())
        _copy_baseline(settings, scratch)
        report.fresh_build = _scratch_warehouse(settings, scratch, instance)
        keys = resolve_selection(check_project(scratch), report.selection)
        selected_marts = [(key.path[0], key.path[-1]) for key in keys if key.path[0] == MARTS]
        before = Path(folder) / "before.duckdb"
        copied = snapshot_tables(scratch.warehouse, before, selected_marts)
        summary = run_pipeline(scratch, instance=instance, select=report.selection)
        first_built = [mart for mart in selected_marts if mart not in copied and "/".join(mart) in summary.assets_built]
        add_empty_tables(before, scratch.warehouse, first_built)
        _fill_report(report, summary, files.models, selected_marts, before, scratch.warehouse)
    report.seconds = time.perf_counter() - started
    return report, summary


def _fill_report(
    report: PreviewReport,
    summary: RunSummary,
    models: Sequence[Model],
    selected_marts: Sequence[tuple[str, str]],
    before: Path,
    after: Path,
) -> None:
    """What the scratch run built and failed, and each mart it rebuilt compared with its table before."""
    report.assets_rebuilt = summary.assets_built
    report.checks_failed = summary.checks_failed
    report.step_errors = summary.step_errors
    built = set(summary.assets_built)
    by_key = {(model.schema, model.name): model for model in models}
    for schema, name in selected_marts:
        if f"{schema}/{name}" not in built:
            report.marts_kept.append(f"{schema}.{name}")
            continue
        model = by_key[(schema, name)]
        kpis = model.header.get("kpis") or []
        ratios = {str(kpi["name"]) for kpi in kpis if kpi.get("denominator")}
        names = [str(kpi["name"]) for kpi in kpis]
        report.marts.append(compare_table(before, after, schema, name, model.grain, names, ratios))
    selected = set(selected_marts)
    report.marts_not_rebuilt = sorted(
        f"{model.schema}.{model.name}"
        for model in models
        if model.layer == MARTS and (model.schema, model.name) not in selected
    )


def write_page(report: PreviewReport, out: Path) -> Path:
    """Write the HTML page of the preview under `out`; returns its path."""
    out.mkdir(parents=True, exist_ok=True)
    page = out / PAGE_FILE
    page.write_text(render_html(report))
    return page


def _parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=DESCRIPTION)
    parser.add_argument(
        "--definitions", type=Path, required=True, metavar="CANDIDATE", help="the candidate definitions file"
    )
    parser.add_argument(
        "--warehouse",
        type=Path,
        metavar="PATH",
        help="the warehouse to start from (default: FLYWHEEL_WAREHOUSE); it is copied, never written",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=PREVIEW_DIR,
        metavar="DIR",
        help=f"where to write {PAGE_FILE} (default {PREVIEW_DIR.relative_to(PROJECT_ROOT)}/ in the project)",
    )
    parser.add_argument(
        "--accept-shrink",
        action="append",
        default=[],
        metavar="TABLE",
        help="as for `flywheel run`: accept a drop in rows of TABLE (schema.table) and of what is built from it, so "
        "the marts downstream of it are rebuilt too (repeatable)",
    )
    return parser


def main(argv: Sequence[str] | None = None, prog: str = "flywheel preview") -> int:
    """`flywheel preview`: returns the exit code (see the module's docstring)."""
    arguments = _parser(prog).parse_args(argv)
    settings = Settings.from_env()
    if arguments.warehouse is not None:
        settings = dataclasses.replace(settings, warehouse=arguments.warehouse.resolve())
    if arguments.accept_shrink:
        settings = dataclasses.replace(settings, accept_shrink=(*settings.accept_shrink, *arguments.accept_shrink))
    try:
        report, summary = preview(settings, arguments.definitions)
    except (DefinitionsError, PreflightError, SelectionError, WarehouseCopyError, FileNotFoundError) as error:
        problems = error.problems if isinstance(error, PreflightError) else str(error).strip().splitlines()
        for problem in problems:
            print(f"flywheel preview: {problem}", file=sys.stderr)
        print("flywheel preview: nothing was built", file=sys.stderr)
        return 2
    print(render_text(report, write_page(report, arguments.out)))
    if summary is not None and summary.canceled:
        return INTERRUPTED
    return 1 if summary is not None and (summary.checks_failed or summary.failed_steps) else 0
