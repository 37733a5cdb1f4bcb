"""Checks made before any asset runs, so a build that cannot succeed stops within seconds and writes nothing.

A missing raw folder or file, a warehouse folder that cannot be written, a warehouse locked by another process, or
a definitions file, source contract or suite that does not parse will not heal by retrying: each is reported as one
line naming the file, table or key and what to do, and the run does not start (the warehouse and the published
snapshot stay exactly as they were).
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import yaml

from pipelines.spec.project_files import read_definitions, read_sources, read_suites
from pipelines.spec.settings import Settings
from pipelines.spec.sources import SourceTable
from pipelines.warehouse.horizon import HorizonError, HorizonSettings, resolve_horizon

if TYPE_CHECKING:
    from pipelines.warehouse.spark.raw_catalog import SparkRawCatalog

# DuckDB 2.0: `Could not set lock on file "<path>": Conflicting lock is held in <program> (PID <n>) ...`
_LOCK_CONFLICT = re.compile(r"Could not set lock on file")
_POSITION = re.compile(r"line \d+, column \d+")
_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>.+?) \(PID (?P<pid>\d+)\)")


class PreflightError(Exception):
    """The project cannot be built as it stands; `problems` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def is_lock_conflict(error: BaseException) -> bool:
    """Whether DuckDB refused to open a file because another process holds its lock (which may soon be released)."""
    return isinstance(error, duckdb.IOException) and bool(_LOCK_CONFLICT.search(str(error)))


def lock_holder(error: BaseException) -> str:
    """The program and PID DuckDB names as holding the lock (`/usr/bin/python3 (PID 4242)`), or `another process`."""
    found = _LOCK_HOLDER.search(str(error))
    return f"{found['program']} (PID {found['pid']})" if found else "another process"


def lock_message(database: Path, error: BaseException) -> str:
    """One line saying who holds the warehouse's lock and what to do."""
    return (
        f"{database}: the warehouse is locked by {lock_holder(error)}; stop that process (a Dagster UI run, a "
        "notebook, a BI tool reading the live file) or wait for it to finish, then run again"
    )


def raw_file_problems(raw_dir: Path, tables: list[SourceTable]) -> list[str]:
    """The raw folder exists and holds a file (or Parquet folder) for every contract table."""
    if not raw_dir.is_dir():
        return [
            f"{raw_dir}: the raw folder does not exist; set FLYWHEEL_RAW_DIR to the folder holding the connector "
            "tables (`<source>/<table>.csv` or `.parquet`)"
        ]
    problems = []
    for table in tables:
        try:
            table.find_file(raw_dir)
        except ValueError as error:
            problems.append(str(error))
    return problems


def _writable_folder(folder: Path, what: str, variable: str) -> str | None:
    """None when `folder` exists and a file can be created in it, or can be created; else why not.

    The test creates and removes a temporary file rather than asking `os.access`, which says yes to root even on a
    read-only mount or folder.
    """
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return (
            f"{folder}: the {what} folder cannot be created because {existing} is a file, not a folder; "
            f"set {variable} to a folder you can write"
        )
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as error:
        return (
            f"{folder}: the {what} folder is not writable ({error.strerror or type(error).__name__} in {existing}); "
            f"fix its permissions or set {variable} to a folder you can write"
        )
    return None


def writable_problems(settings: Settings) -> list[str]:
    """The warehouse folder and the publish folder can be written (or created)."""
    checked = (
        _writable_folder(settings.warehouse.parent, "warehouse", "FLYWHEEL_WAREHOUSE"),
        _writable_folder(settings.published_dir, "publish", "FLYWHEEL_PUBLISH_DIR"),
    )
    return [problem for problem in checked if problem is not None]


def lock_problems(database: Path) -> list[str]:
    """No other process holds the warehouse's lock: open it read-write and close it at once.

    A clean DuckDB file is not changed by opening it; when a write-ahead log is left beside it (a run was killed),
    opening read-write would replay it into the file, so the check opens it read-only instead, which still fails
    while a writer holds the lock.
    """
    if not database.exists():
        return []
    read_only = Path(f"{database}.wal").exists()
    try:
        duckdb.connect(str(database), read_only=read_only).close()
    except duckdb.IOException as error:
        if is_lock_conflict(error):
            return [lock_message(database, error)]
        return [f"{database}: the warehouse cannot be opened: {str(error).splitlines()[0]}"]
    return []


def _parse_problem(path: Path, error: Exception) -> str:
    """One line for a file that does not parse, naming the file once, and the line and column when the parser gave
    them on a later line (YAML errors span several lines)."""
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()] or [type(error).__name__]
    text = lines[0]
    where = _POSITION.search("\n".join(lines[1:]))
    if where and not _POSITION.search(text):
        text = f"{text.rstrip(':')} ({where[0]})"
    return text if str(path) in text else f"{path}: {text}"


def project_file_problems(settings: Settings) -> tuple[list[str], list[SourceTable] | None]:
    """The definitions file, the source contracts and the suites parse; returns the problems and the contracts."""
    problems = []
    tables: list[SourceTable] | None = None
    try:
        read_definitions(settings.definitions_file)
    except (ValueError, OSError, yaml.YAMLError) as error:
        problems.append(_parse_problem(settings.definitions_file, error))
    try:
        tables = read_sources(settings.sources_file)
    except (ValueError, OSError, KeyError, TypeError, yaml.YAMLError) as error:
        problems.append(_parse_problem(settings.sources_file, error))
    try:
        read_suites(settings.expectations_dir)
    except (ValueError, OSError, KeyError, TypeError) as error:
        problems.append(_parse_problem(settings.expectations_dir, error))
    return problems, tables


def horizon_problems(
    settings: Settings, tables: list[SourceTable], catalog: SparkRawCatalog | None = None
) -> list[str]:
    """The data horizon can be resolved: FLYWHEEL_AS_OF parses and lies after `data_horizon.earliest`."""
    try:
        document = read_definitions(settings.definitions_file).document
        resolve_horizon(HorizonSettings.from_document(document), settings.raw_dir, tables, settings.as_of, catalog)
    except HorizonError as error:
        return [str(error)]
    return []


def raw_catalog(settings: Settings) -> SparkRawCatalog:
    """The raw tables in the Spark catalog (FLYWHEEL_SPARK_RAW_TABLES), on the session of the settings; opening it
    starts the JVM of local Spark, so only a run that reads its raw tables from the catalog does it here."""
    from pipelines.warehouse.spark.raw_catalog import SparkRawCatalog
    from pipelines.warehouse.spark.session import open_session_for

    return SparkRawCatalog(open_session_for(settings), settings.catalog_raw_tables)


def _raw_problems(settings: Settings, tables: list[SourceTable], with_horizon: bool) -> list[str]:
    """The raw files (or catalog tables) are there and, when `with_horizon`, the horizon resolves from them."""
    catalog = None
    if settings.catalog_raw_tables:
        from pipelines.warehouse.spark.raw_catalog import catalog_table_problems
        from pipelines.warehouse.spark.session import SparkUnavailable

        try:
            catalog = raw_catalog(settings)
        except SparkUnavailable as error:
            return [str(error)]
        problems = catalog_table_problems(catalog.session, catalog.pattern, tables)
    else:
        problems = raw_file_problems(settings.raw_dir, tables)
    if with_horizon and not problems:
        problems += horizon_problems(settings, tables, catalog)
    return problems


def preflight(settings: Settings) -> list[str]:
    """Every reason the build cannot start, one line each; empty when it may start. Reads only, writes nothing.

    Raw tables read from the Spark catalog are checked only once the Spark engine can start."""
    problems, tables = project_file_problems(settings)
    engine = engine_problems(settings)
    if tables is not None and not (settings.catalog_raw_tables and engine):
        problems += _raw_problems(settings, tables, with_horizon=not problems)
    problems += writable_problems(settings)
    problems += engine
    return problems


def engine_problems(settings: Settings) -> list[str]:
    """What stops the settings' engine from starting: DuckDB's file locked by another process; for Spark, pyspark,
    Java (local Spark) or the Spark Connect server (a cluster) missing, found in seconds, before any JVM starts."""
    if settings.engine != "spark":
        return lock_problems(settings.warehouse)
    from pipelines.warehouse.spark.session import (
        SparkUnavailable,
        check_reachable,
        parse_connect_url,
        require_connect_client,
        require_java,
        require_pyspark,
    )

    try:
        require_pyspark()
        if settings.spark_remote:
            require_connect_client()
            check_reachable(settings.spark_remote, *parse_connect_url(settings.spark_remote))
        else:
            require_java()
    except SparkUnavailable as error:
        return [str(error)]
    return []
