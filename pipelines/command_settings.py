"""The settings of one `flywheel` command: the environment's (pipelines/spec/settings.py), then its options on top.

`--engine {duckdb,spark}` chooses the engine the models run on, overriding FLYWHEEL_ENGINE for this command;
`--accept-shrink TABLE` adds to FLYWHEEL_ACCEPT_SHRINK. They sit beside `pipelines/cli.py`, which registers them on
the commands that build (`run`, `refresh`, `backfill`, `forget`) and on those that read the project (`ls`, `show`).
"""

from __future__ import annotations

import argparse
import dataclasses

from pipelines.spec.settings import ENGINES, Settings, SettingsError


def add_engine_option(parser: argparse.ArgumentParser) -> None:
    """Add `--engine` to a command; without it the command runs on FLYWHEEL_ENGINE's engine (DuckDB by default)."""
    parser.add_argument(
        "--engine",
        choices=ENGINES,
        default=None,
        help="the engine the models run on (default: FLYWHEEL_ENGINE, else duckdb); spark runs them on local Spark, "
        "or on a Spark Connect server when FLYWHEEL_SPARK_REMOTE is set (needs pip install 'flywheel[spark]')",
    )


def command_settings(arguments: argparse.Namespace, parser: argparse.ArgumentParser | None = None) -> Settings:
    """The settings a command runs with: the environment's, with its options applied.

    A value Flywheel cannot use in the environment raises SettingsError (a ValueError naming the variable and the
    values allowed), or, given the command line's `parser`, exits as a wrong option does: the usage, the message and
    exit code 2."""
    try:
        settings = Settings.from_env(engine=getattr(arguments, "engine", None))
    except SettingsError as error:
        if parser is None:
            raise
        parser.error(str(error))
    if getattr(arguments, "accept_shrink", None):
        settings = dataclasses.replace(settings, accept_shrink=(*settings.accept_shrink, *arguments.accept_shrink))
    return settings
