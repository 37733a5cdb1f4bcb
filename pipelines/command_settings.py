"""The settings of one `flywheel` command: the environment's (pipelines/spec/settings.py), then its options on top.

`--engine {duckdb,spark}` chooses the engine the models run on, overriding FLYWHEEL_ENGINE for this command;
`--accept-shrink TABLE` adds to FLYWHEEL_ACCEPT_SHRINK. They sit beside `pipelines/cli.py`, which registers them on
the commands that build (`run`, `refresh`, `backfill`, `forget`) and on those that read the project (`ls`, `show`).
"""

from __future__ import annotations

import argparse
import dataclasses

from pipelines.spec.settings import ENGINES, Settings


def add_engine_option(parser: argparse.ArgumentParser) -> None:
    """Add `--engine` to a command; without it the command runs on FLYWHEEL_ENGINE's engine (DuckDB by default)."""
    parser.add_argument(
        "--engine",
        choices=ENGINES,
        default=None,
        help="the engine the models run on (default: FLYWHEEL_ENGINE, else duckdb); spark runs them on local Spark, "
        "or on a Spark Connect server when FLYWHEEL_SPARK_REMOTE is set (needs pip install 'flywheel[spark]')",
    )


def command_settings(arguments: argparse.Namespace) -> Settings:
    """The settings a command runs with: the environment's, with its options applied; raises SettingsError (a
    ValueError naming the variable and the values allowed) when the environment holds a value Flywheel cannot use."""
    settings = Settings.from_env(engine=getattr(arguments, "engine", None))
    if getattr(arguments, "accept_shrink", None):
        settings = dataclasses.replace(settings, accept_shrink=(*settings.accept_shrink, *arguments.accept_shrink))
    return settings
