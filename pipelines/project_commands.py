"""The commands that read the project without building it: `flywheel ls`, `flywheel show`, `flywheel compile`.

flywheel ls [--select S]      one line per asset the selection matches: key, group (layer), kinds, owner
flywheel show MODEL [--limit N]   the model's SQL as it runs, then the first rows of its table in the warehouse
flywheel compile [--out DIR]  every model's SQL and checks as they run, one file each, under DIR

They sit beside `pipelines/cli.py`, which registers them; each returns its exit code: 0, or 2 for a selection,
model or project file that cannot be used (one line on stderr), or 1 when `show` finds nothing built to preview.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path

from pipelines.command_settings import add_engine_option
from pipelines.orchestration.project import build_definitions
from pipelines.orchestration.selection import SelectionError, asset_lines, resolve_selection
from pipelines.spec.models import Assertion, Model
from pipelines.spec.project_files import load_project_files, read_sources
from pipelines.spec.settings import PROJECT_ROOT, Settings
from pipelines.spec.sources import SourceTable
from pipelines.warehouse.accounting import with_row_accounting
from pipelines.warehouse.preview import PreviewError, preview_rows

COMMANDS = ("ls", "show", "compile")
COMPILED_DIR = PROJECT_ROOT / "target" / "compiled"
DEFAULT_LIMIT = 10
SELECTION_HELP = (
    "Dagster's asset selection syntax: a model name (rpt_x), +rpt_x (with everything upstream), rpt_x+ "
    '(downstream), key:"marts/rpt_x", group:marts, tag:layer=marts, kind:sql, owner:team:sales, combined with '
    "and / or / not"
)


def add_project_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `ls`, `show` and `compile` on the command line's sub-commands."""
    listing = commands.add_parser(
        "ls",
        help="list the assets a selection matches, without building anything",
        description="List every asset (or those --select matches), one line each, sorted by key: the asset key "
        "(schema/table), its group (the layer), its kinds and its owner team. Nothing is built or read from the "
        "warehouse.",
    )
    listing.add_argument("--select", metavar="SELECTION", help=f"the assets to list (default: all); {SELECTION_HELP}")
    add_engine_option(listing)
    showing = commands.add_parser(
        "show",
        help="print a model's SQL as it runs and the first rows of its table",
        description="Print the SQL of MODEL as the build runs it (the model file without its YAML header), then the "
        "first rows of its table in the warehouse, read through a read-only connection (a running build is not "
        "disturbed).",
    )
    showing.add_argument("model", metavar="MODEL", help="the model's name (rpt_x) or schema.name (marts.rpt_x)")
    showing.add_argument(
        "--limit", type=int, default=DEFAULT_LIMIT, metavar="N", help=f"rows to show (default {DEFAULT_LIMIT})"
    )
    add_engine_option(showing)
    compiling = commands.add_parser(
        "compile",
        help="write every model's SQL and checks as they run, one file each",
        description="Write the SQL every model runs (its file without the YAML header) to DIR/<layer>/<domain>/"
        "<model>.sql, and the SQL of its checks (from its .checks.sql file, plus the generated row accounting of "
        "staging models) to <model>.checks.sql beside it, then print the counts. Nothing is built.",
    )
    compiling.add_argument(
        "--out",
        type=Path,
        default=COMPILED_DIR,
        metavar="DIR",
        help=f"where to write (default {COMPILED_DIR.relative_to(PROJECT_ROOT)}/ in the project, ignored by git)",
    )


def run_project_command(settings: Settings, arguments: argparse.Namespace) -> int:
    """Run `ls`, `show` or `compile`; returns the exit code. A project file that cannot be used exits 2."""
    try:
        if arguments.command == "ls":
            return list_assets(settings, arguments.select)
        if arguments.command == "show":
            return show_model(settings, arguments.model, arguments.limit)
        return compile_models(settings, arguments.out)
    except ValueError as error:  # a selection, model or project file the command cannot use
        print(f"flywheel {arguments.command}: {_first_line(str(error))}", file=sys.stderr)
        return 2


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else text


def list_assets(settings: Settings, select: str | None) -> int:
    """`flywheel ls`: print one line per selected asset (every asset without a selection)."""
    definitions = build_definitions(settings, load_project_files(settings))
    if select is None:
        keys = list(definitions.resolve_asset_graph().get_all_asset_keys())
    else:
        keys = resolve_selection(definitions, select)
    for line in asset_lines(definitions, keys):
        print(line)
    return 0


def find_model(models: list[Model], name: str) -> Model:
    """The model a user named: `rpt_x`, `marts.rpt_x` or `marts/rpt_x`; SelectionError naming close names if none."""
    wanted = name.replace("/", ".")
    for model in models:
        if wanted in (model.name, f"{model.schema}.{model.name}"):
            return model
    close = difflib.get_close_matches(wanted.split(".")[-1], [model.name for model in models], n=3)
    hint = f" (did you mean {', '.join(close)}?)" if close else " (see `flywheel ls --select kind:sql`)"
    raise SelectionError(f"no model is named {name}{hint}")


def show_model(settings: Settings, name: str, limit: int) -> int:
    """`flywheel show`: the model's SQL as it runs, then its first `limit` rows in grain order; 1 when it is not
    built yet."""
    if limit < 0:
        raise SelectionError(f"--limit must be 0 or more, not {limit}")
    model = find_model(load_project_files(settings).models, name)
    print(f"-- {model.schema}.{model.name}: {model.path}")
    print(model.body)
    print()
    build = f"flywheel run --select +{model.name}"
    try:
        rows = preview_rows(settings.warehouse, model.schema, model.name, limit, build, order_by=model.grain)
    except PreviewError as error:
        print(f"flywheel show: {error}", file=sys.stderr)
        return 1
    print(f"-- first {len(rows)} row(s) of {model.schema}.{model.name} in {settings.warehouse}")
    print(rows.to_string(index=False) if len(rows.columns) else "(no columns)")
    return 0


def compiled_checks(assertions: tuple[Assertion, ...]) -> str:
    """A check file as it runs: each check's SQL, after a comment naming it, its severity and what it asserts."""
    blocks = [
        f"-- {assertion.name} ({assertion.severity}): {' '.join(assertion.description.split())}\n{assertion.sql};\n"
        for assertion in assertions
    ]
    return "\n".join(blocks)


def compiled_files(models: list[Model], sources: list[SourceTable], models_dir: Path) -> dict[Path, str]:
    """Every file `flywheel compile` writes, by path under the output folder: each model's SQL as it runs, and its
    checks (with the row accounting generated for staging models) when it has any."""
    files: dict[Path, str] = {}
    for model in models:
        relative = model.path.relative_to(models_dir)
        files[relative] = model.body + "\n"
        checked = with_row_accounting(model, sources)
        if checked.assertions:
            files[relative.with_name(relative.stem + ".checks.sql")] = compiled_checks(checked.assertions)
    return files


def compile_models(settings: Settings, out: Path) -> int:
    """`flywheel compile`: write the compiled files under `out` and print how many."""
    models = load_project_files(settings).models
    files = compiled_files(models, read_sources(settings.sources_file), settings.models_dir)
    for relative, text in files.items():
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    checks = len(files) - len(models)
    print(f"compiled {len(models)} models and {checks} check files into {out}")
    return 0
