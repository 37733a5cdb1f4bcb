"""Publish the marts for BI: a read-only DuckDB snapshot swapped in atomically, and Parquet files per version.

DuckDB takes one read-write process or many read-only ones on a file, never both, so a BI tool that keeps the build
warehouse open blocks every refresh, and a refresh breaks its reads. BI reads a separate file instead. Each publish
writes a new snapshot under a temporary name and renames it over the old one (`os.replace`, atomic on one file
system): a reader opens either the old file or the new one, whole, and a reader that has the old one open keeps
reading it. Parquet files go into a new directory per publish, and the `current` pointers (a symlink and a JSON
manifest, each replaced atomically) move only when the directory is complete.

Every table carries the id of the publish that wrote it, so a reader can prove it saw one consistent set.

Layout of the publish directory::

    flywheel_bi.duckdb              the snapshot: marts.*, definitions.*, _flywheel_publish, _flywheel_published_tables
    parquet/<publish_id>/           one directory per publish: marts/<table>.parquet, definitions/<table>.parquet,
                                    manifest.json
    parquet/current -> <publish_id> the latest complete publish (symlink)
    parquet/current.json            the same, as a manifest for readers that do not follow symlinks

The manifest also lists the row count of every raw table at publish time (`raw_tables`): with the marts' counts it is
the baseline the volume guards compare the next build with (see pipelines/warehouse/guards.py).

Nothing here imports Dagster: the asset that calls `publish` lives in `pipelines.orchestration.project`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from pipelines.warehouse.build import PENDING_PREFIX
from pipelines.warehouse.connection import qualified, quote

SNAPSHOT_FILE = "flywheel_bi.duckdb"
PARQUET_DIR = "parquet"
CURRENT_LINK = "current"
CURRENT_MANIFEST = "current.json"
VERSION_MANIFEST = "manifest.json"
METADATA_TABLE = "_flywheel_publish"
TABLES_TABLE = "_flywheel_published_tables"
PUBLISH_ID_COLUMN = "publish_id"
DEFINITIONS_SCHEMA = "definitions"
RAW_TABLES_KEY = "raw_tables"
KEEP_PUBLISHES = 3
# Readers with DuckDB 1.0 or later (BI drivers often bundle an older DuckDB than ours) can open the snapshot.
STORAGE_VERSION = "v1.0.0"
# A temporary snapshot older than this is the leftover of a publish that died; younger ones may be in progress.
STALE_TEMPORARY_SECONDS = 3600

_PUBLISH_ID = re.compile(r"^[0-9]{8}T[0-9]{12}Z-[0-9a-f]{6}$")


class PublishError(RuntimeError):
    """A publish that could not complete; the previous snapshot is still the one readers see."""


@dataclass(frozen=True)
class PublishedTable:
    """A warehouse table to publish, with the documentation BI tools show next to it."""

    schema: str
    name: str
    description: str = ""
    column_docs: Mapping[str, str] = field(default_factory=dict)

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass(frozen=True)
class Publication:
    """What one publish wrote, and where."""

    publish_id: str
    published_at: datetime
    snapshot: Path
    parquet_dir: Path
    row_counts: dict[str, int]
    definitions_version: int | None
    definitions_digest: str | None
    seconds: float
    # Rows of every raw table in the warehouse at publish time (not published; the volume guards' baseline).
    raw_row_counts: dict[str, int] = field(default_factory=dict)

    def manifest(self) -> dict[str, Any]:
        """The JSON manifest of this publish (paths of the Parquet files relative to its directory)."""
        return {
            "publish_id": self.publish_id,
            "published_at": self.published_at.isoformat(),
            "definitions_version": self.definitions_version,
            "definitions_digest": self.definitions_digest,
            "tables": {
                name: {"rows": rows, "parquet": f"{name.replace('.', '/')}.parquet"}
                for name, rows in sorted(self.row_counts.items())
            },
            RAW_TABLES_KEY: dict(sorted(self.raw_row_counts.items())),
        }


def new_publish_id(now: datetime | None = None) -> str:
    """A publish id that sorts by time (UTC, microseconds) and stays unique within the same microsecond."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return f"{moment:%Y%m%dT%H%M%S%f}Z-{uuid.uuid4().hex[:6]}"


def _literal(text: str) -> str:
    """A SQL string literal (DuckDB takes no parameters in DDL such as COMMENT ON or COPY ... TO)."""
    return "'" + text.replace("'", "''") + "'"


def _fsync(path: Path) -> None:
    """Flush a file (or a directory entry) to disk, so a crash right after the rename cannot leave an empty file."""
    flags = os.O_RDONLY | (os.O_DIRECTORY if path.is_dir() and hasattr(os, "O_DIRECTORY") else 0)
    try:
        descriptor = os.open(path, flags)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def atomic_write_text(path: Path, text: str) -> None:
    """Write a file so readers see the old content or the new, never a part: write a sibling, then rename it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        temporary.write_text(text)
        _fsync(temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    _fsync(path.parent)


def replace_symlink(link: Path, target: str) -> None:
    """Point `link` at `target` atomically: make a new symlink beside it, then rename it over the old one."""
    temporary = link.with_name(f".{link.name}.{uuid.uuid4().hex}.tmp")
    try:
        temporary.symlink_to(target)
        os.replace(temporary, link)
    finally:
        temporary.unlink(missing_ok=True)
    _fsync(link.parent)


def current_manifest(publish_dir: Path) -> dict[str, Any] | None:
    """The manifest of the latest complete publish, or None before the first one."""
    path = publish_dir / PARQUET_DIR / CURRENT_MANIFEST
    return json.loads(path.read_text()) if path.exists() else None


def _definitions_version(connection: duckdb.DuckDBPyConnection, catalog: str) -> tuple[int | None, str | None]:
    found = connection.execute(
        "select count(*) from information_schema.tables "
        "where table_catalog = ? and table_schema = ? and table_name = 'definitions_version'",
        [catalog, DEFINITIONS_SCHEMA],
    ).fetchone()
    if not found or not found[0]:
        return None, None
    row = connection.execute(
        f"select version, digest from {quote(catalog)}.{qualified(DEFINITIONS_SCHEMA, 'definitions_version')}"
    ).fetchone()
    return (int(row[0]), str(row[1])) if row else (None, None)


def _definitions_tables(connection: duckdb.DuckDBPyConnection, catalog: str) -> list[PublishedTable]:
    """Every table of the `definitions` schema, so BI can show the definitions the marts were built with."""
    rows = connection.execute(
        "select table_name from information_schema.tables where table_catalog = ? and table_schema = ? "
        "and table_type = 'BASE TABLE' order by table_name",
        [catalog, DEFINITIONS_SCHEMA],
    ).fetchall()
    return [
        PublishedTable(schema=DEFINITIONS_SCHEMA, name=name)
        for (name,) in rows
        if not str(name).startswith(PENDING_PREFIX)
    ]


def _columns(connection: duckdb.DuckDBPyConnection, catalog: str, table: PublishedTable) -> list[str]:
    rows = connection.execute(
        "select column_name from information_schema.columns "
        "where table_catalog = ? and table_schema = ? and table_name = ? order by ordinal_position",
        [catalog, table.schema, table.name],
    ).fetchall()
    return [str(row[0]) for row in rows]


def _copy_table(
    connection: duckdb.DuckDBPyConnection,
    source_catalog: str,
    target_catalog: str,
    table: PublishedTable,
    publish_id: str,
    with_publish_id: bool,
) -> int:
    """Copy one table into the snapshot, documented, optionally stamped with the publish id; returns its rows."""
    columns = _columns(connection, source_catalog, table)
    if not columns:
        raise PublishError(f"{table.qualified_name} does not exist in the warehouse: build it before publishing")
    if with_publish_id and PUBLISH_ID_COLUMN in columns:
        raise PublishError(f"{table.qualified_name} has a column named {PUBLISH_ID_COLUMN}, which publishing adds")
    source = f"{quote(source_catalog)}.{qualified(table.schema, table.name)}"
    target = f"{quote(target_catalog)}.{qualified(table.schema, table.name)}"
    stamp = f", cast({_literal(publish_id)} as varchar) as {quote(PUBLISH_ID_COLUMN)}" if with_publish_id else ""
    connection.execute(f"create table {target} as select *{stamp} from {source}")
    if table.description:
        connection.execute(f"comment on table {target} is {_literal(table.description)}")
    docs = dict(table.column_docs)
    if with_publish_id:
        docs[PUBLISH_ID_COLUMN] = f"the publish that wrote this table (see {METADATA_TABLE})"
    for column, doc in docs.items():
        if doc and (column in columns or column == PUBLISH_ID_COLUMN):
            connection.execute(f"comment on column {target}.{quote(column)} is {_literal(doc)}")
    source_rows = connection.execute(f"select count(*) from {source}").fetchone()
    target_rows = connection.execute(f"select count(*) from {target}").fetchone()
    if source_rows != target_rows or target_rows is None:
        raise PublishError(f"{table.qualified_name}: copied {target_rows} rows of {source_rows}")
    return int(target_rows[0])


def _write_metadata(
    connection: duckdb.DuckDBPyConnection,
    catalog: str,
    publication: Publication,
    mart_names: Sequence[str],
) -> None:
    metadata = f"{quote(catalog)}.main.{quote(METADATA_TABLE)}"
    connection.execute(
        f"create table {metadata} (publish_id varchar not null, published_at timestamptz not null, "
        "definitions_version integer, definitions_digest varchar, mart_count integer not null)"
    )
    connection.execute(
        f"insert into {metadata} values (?, ?, ?, ?, ?)",
        [
            publication.publish_id,
            publication.published_at,
            publication.definitions_version,
            publication.definitions_digest,
            len(mart_names),
        ],
    )
    connection.execute(
        f"comment on table {metadata} is "
        + _literal("The publish this snapshot holds: one row. Every mart's publish_id column equals its publish_id.")
    )
    tables = f"{quote(catalog)}.main.{quote(TABLES_TABLE)}"
    connection.execute(
        f"create table {tables} (table_schema varchar not null, table_name varchar not null, "
        "row_count bigint not null, is_mart boolean not null, publish_id varchar not null)"
    )
    for name, rows in sorted(publication.row_counts.items()):
        schema, table = name.split(".", 1)
        connection.execute(
            f"insert into {tables} values (?, ?, ?, ?, ?)",
            [schema, table, rows, name in mart_names, publication.publish_id],
        )
    connection.execute(
        f"comment on table {tables} is " + _literal("Every table of this snapshot, with its row count at publish.")
    )


def _raw_row_counts(
    connection: duckdb.DuckDBPyConnection, catalog: str, raw_tables: Sequence[tuple[str, str]]
) -> dict[str, int]:
    """Rows of each raw table the warehouse holds (a table never loaded is left out)."""
    counts = {}
    for schema, name in raw_tables:
        found = connection.execute(
            "select count(*) from information_schema.tables where table_catalog = ? and table_schema = ? "
            "and table_name = ?",
            [catalog, schema, name],
        ).fetchone()
        if found and found[0]:
            rows = connection.execute(f"select count(*) from {quote(catalog)}.{qualified(schema, name)}").fetchone()
            counts[f"{schema}.{name}"] = int(rows[0]) if rows else 0
    return counts


def _remove_snapshot_files(path: Path) -> None:
    for leftover in (path, path.with_name(path.name + ".wal")):
        leftover.unlink(missing_ok=True)


@dataclass
class _Staging:
    """Where one publish is written before readers see it, and how far it got (what a failure must undo)."""

    publish_dir: Path
    publish_id: str
    # The name the new snapshot is attached under while it is written.
    alias: str
    attached: bool = False
    # Once a pointer may name the new Parquet directory, a failure leaves the directory for `prune`.
    pointed: bool = False

    @property
    def versions(self) -> Path:
        return self.publish_dir / PARQUET_DIR

    @property
    def version_dir(self) -> Path:
        return self.versions / self.publish_id

    @property
    def snapshot(self) -> Path:
        return self.publish_dir / SNAPSHOT_FILE

    @property
    def temporary(self) -> Path:
        return self.publish_dir / f".{SNAPSHOT_FILE}.{self.publish_id}.tmp"


def publish(
    connection: duckdb.DuckDBPyConnection,
    marts: Sequence[PublishedTable],
    publish_dir: Path,
    *,
    keep: int = KEEP_PUBLISHES,
    now: datetime | None = None,
    raw_tables: Sequence[tuple[str, str]] = (),
    raw_row_counts: Mapping[str, int] | None = None,
) -> Publication:
    """Publish the marts (and the definitions in force) from the warehouse `connection` is open on.

    `raw_tables` are not published; their row counts (`raw_row_counts` from Spark) are the manifest's volume baseline.

    The snapshot and the Parquet directory are complete and verified (row counts) before anything readers see
    moves; if any step fails, the previous publish stays in place and the partial files are removed.
    """
    if keep < 1:
        raise ValueError("keep at least one publish")
    started = time.perf_counter()
    published_at = (now or datetime.now(UTC)).astimezone(UTC)
    publish_id = new_publish_id(published_at)
    publish_dir.mkdir(parents=True, exist_ok=True)
    staging = _Staging(
        publish_dir=publish_dir, publish_id=publish_id, alias=f"flywheel_publish_{uuid.uuid4().hex[:12]}"
    )
    source_row = connection.execute("select current_database()").fetchone()
    source_catalog = str(source_row[0]) if source_row else "memory"
    try:
        raw_counts = (
            _raw_row_counts(connection, source_catalog, raw_tables) if raw_row_counts is None else raw_row_counts
        )
        publication, tables = _write_snapshot(connection, staging, source_catalog, marts, raw_counts, published_at)
        manifest = publication.manifest()
        _write_parquet(connection, staging, tables, manifest)
        _close_snapshot(connection, staging)
        _swap_in(staging, manifest)
    except BaseException:
        _discard(connection, staging)
        raise
    prune(publish_dir, keep=keep)
    return dataclasses.replace(publication, seconds=time.perf_counter() - started)


def _write_snapshot(
    connection: duckdb.DuckDBPyConnection,
    staging: _Staging,
    source_catalog: str,
    marts: Sequence[PublishedTable],
    raw_row_counts: Mapping[str, int],
    published_at: datetime,
) -> tuple[Publication, list[PublishedTable]]:
    """Copy the marts and the definitions in force into the new snapshot, with its metadata tables.

    Returns what was published, and every table copied (the marts, then the definitions tables).
    """
    definitions_version, definitions_digest = _definitions_version(connection, source_catalog)
    tables = [*marts, *_definitions_tables(connection, source_catalog)]
    mart_names = [table.qualified_name for table in marts]
    alias = quote(staging.alias)
    connection.execute(
        f"attach {_literal(str(staging.temporary))} as {alias} (storage_version {_literal(STORAGE_VERSION)})"
    )
    staging.attached = True
    for schema in sorted({table.schema for table in tables}):
        connection.execute(f"create schema {alias}.{quote(schema)}")
    row_counts = {
        table.qualified_name: _copy_table(
            connection,
            source_catalog,
            staging.alias,
            table,
            staging.publish_id,
            with_publish_id=table.qualified_name in mart_names,
        )
        for table in tables
    }
    publication = Publication(
        publish_id=staging.publish_id,
        published_at=published_at,
        snapshot=staging.snapshot,
        parquet_dir=staging.version_dir,
        row_counts=row_counts,
        definitions_version=definitions_version,
        definitions_digest=definitions_digest,
        seconds=0.0,
        raw_row_counts=dict(raw_row_counts),
    )
    _write_metadata(connection, staging.alias, publication, mart_names)
    return publication, tables


def _write_parquet(
    connection: duckdb.DuckDBPyConnection,
    staging: _Staging,
    tables: Sequence[PublishedTable],
    manifest: Mapping[str, Any],
) -> None:
    """Write every copied table as Parquet into the publish's own directory, with its manifest."""
    for table in tables:
        target = staging.version_dir / table.schema / f"{table.name}.parquet"
        target.parent.mkdir(parents=True, exist_ok=True)
        connection.execute(
            f"copy {quote(staging.alias)}.{qualified(table.schema, table.name)} to {_literal(str(target))} "
            "(format parquet)"
        )
    (staging.version_dir / VERSION_MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")


def _close_snapshot(connection: duckdb.DuckDBPyConnection, staging: _Staging) -> None:
    """Checkpoint and detach the new snapshot, and make sure it is one complete file on disk."""
    connection.execute(f"checkpoint {quote(staging.alias)}")
    connection.execute(f"detach {quote(staging.alias)}")
    staging.attached = False
    if staging.temporary.with_name(staging.temporary.name + ".wal").exists():
        raise PublishError(f"{staging.temporary}: a write-ahead log remained after the checkpoint; not publishing it")
    _fsync(staging.temporary)


def _swap_in(staging: _Staging, manifest: Mapping[str, Any]) -> None:
    """The two swaps readers see: each atomic; the snapshot first, then the Parquet pointers."""
    os.replace(staging.temporary, staging.snapshot)
    _fsync(staging.publish_dir)
    staging.pointed = True
    replace_symlink(staging.versions / CURRENT_LINK, staging.publish_id)
    atomic_write_text(staging.versions / CURRENT_MANIFEST, json.dumps(manifest, indent=2) + "\n")


def _discard(connection: duckdb.DuckDBPyConnection, staging: _Staging) -> None:
    """Undo a publish that failed: detach and remove the new snapshot, and its Parquet directory if nothing points at
    it yet."""
    if staging.attached:
        with contextlib.suppress(duckdb.Error):
            connection.execute(f"detach {quote(staging.alias)}")
    _remove_snapshot_files(staging.temporary)
    if not staging.pointed:
        shutil.rmtree(staging.version_dir, ignore_errors=True)


def prune(publish_dir: Path, keep: int = KEEP_PUBLISHES) -> list[str]:
    """Remove all but the `keep` newest Parquet publishes (never the current one), and dead temporary snapshots.

    Keeping a few lets a reader that resolved `current` just before a swap finish reading its version.
    Returns the publish ids removed.
    """
    versions = publish_dir / PARQUET_DIR
    current = current_manifest(publish_dir)
    current_id = current.get("publish_id") if current else None
    ids = (
        sorted(
            (
                path.name
                for path in versions.iterdir()
                if path.is_dir() and not path.is_symlink() and _PUBLISH_ID.match(path.name)
            ),
            reverse=True,
        )
        if versions.exists()
        else []
    )
    removed = [publish_id for publish_id in ids[keep:] if publish_id != current_id]
    for publish_id in removed:
        shutil.rmtree(versions / publish_id, ignore_errors=True)
    cutoff = time.time() - STALE_TEMPORARY_SECONDS
    for leftover in publish_dir.glob(f".{SNAPSHOT_FILE}.*.tmp*"):
        with contextlib.suppress(FileNotFoundError):
            if leftover.stat().st_mtime < cutoff:
                leftover.unlink()
    return removed
