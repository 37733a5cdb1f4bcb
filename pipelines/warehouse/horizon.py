"""The data horizon: which dates a raw row may carry, and the as-of time of a run.

One mistyped date (a cancellation in 2099, ad spend dated 1900) would otherwise stretch every month spine of the
marts by decades. So every date and timestamp column of every contract table is checked at the raw load against the
horizon of the run (see `SourceTable.horizon_rules`), and a row outside it is quarantined with its rule and key:

    earliest                  <= a date <= as-of time + clock skew        (things that happened)
    earliest                  <= a date <= as-of time + max future days   (scheduled dates: `dates: scheduled`)

The as-of time is `FLYWHEEL_AS_OF` when set; else the latest connector sync found in the raw files (the latest
`_fivetran_synced`, or the table's first version column such as a product event's `received_at`), ignoring syncs
later than the clock plus the skew, which are themselves typing errors. A file without sync times (an export rather
than a connector sync) vouches for its own latest past date instead. When no file holds a time at all, it is the
clock. Taken from the data, it makes rebuilding the same files give the same marts on any day. The marts read it
from `definitions.data_horizon`, and their month, week and quarter spines end at its month.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import duckdb
import pandas as pd

from pipelines.spec.sources import (
    HORIZON_EARLIEST,
    HORIZON_LATEST,
    HORIZON_LATEST_SCHEDULED,
    SourceContractError,
    SourceTable,
)
from pipelines.warehouse.connection import qualified, quote
from pipelines.warehouse.raw_files import raw_reader

HORIZON_TABLE = "data_horizon"
AS_OF_FROM_SETTING = "FLYWHEEL_AS_OF"
AS_OF_FROM_SYNC = "latest connector sync"
AS_OF_FROM_CLOCK = "clock (no connector sync time in the raw files)"


class HorizonError(ValueError):
    """A data horizon that cannot be used: an unparseable FLYWHEEL_AS_OF, or one before the earliest date."""


@dataclass(frozen=True)
class HorizonSettings:
    """The `data_horizon` section of the definitions file."""

    earliest: datetime
    clock_skew: timedelta
    max_future: timedelta

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> HorizonSettings:
        section = document.get("data_horizon")
        if not isinstance(section, dict):
            raise HorizonError("definitions: `data_horizon` is missing")
        try:
            earliest = _utc_naive(datetime.fromisoformat(str(section["earliest"])))
            skew = timedelta(hours=float(section["clock_skew_hours"]))
            future = timedelta(days=float(section["max_future_days"]))
        except (KeyError, TypeError, ValueError) as error:
            raise HorizonError(
                f"definitions: `data_horizon` needs earliest, clock_skew_hours, max_future_days ({error})"
            ) from error
        return cls(earliest=earliest, clock_skew=skew, max_future=future)

    def digest(self) -> str:
        """Changes when the settings change (never with the as-of time), for the asset's code version."""
        text = json.dumps([self.earliest.isoformat(), self.clock_skew.total_seconds(), self.max_future.total_seconds()])
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class DataHorizon:
    """The bounds of one run: every date of a raw row lies between `earliest` and `latest` (scheduled ones between
    `earliest` and `latest_scheduled`)."""

    earliest: datetime
    as_of: datetime
    latest: datetime
    latest_scheduled: datetime
    as_of_source: str

    @classmethod
    def around(cls, settings: HorizonSettings, as_of: datetime, source: str) -> DataHorizon:
        if as_of < settings.earliest:
            raise HorizonError(
                f"the as-of time {as_of} ({source}) lies before data_horizon.earliest {settings.earliest}"
            )
        return cls(
            earliest=settings.earliest,
            as_of=as_of,
            latest=as_of + settings.clock_skew,
            latest_scheduled=as_of + settings.max_future,
            as_of_source=source,
        )

    def frame(self) -> pd.DataFrame:
        """The one-row table models read (`definitions.data_horizon`)."""
        return pd.DataFrame(
            [
                {
                    "earliest_at": self.earliest,
                    "as_of_at": self.as_of,
                    "as_of_month": self.as_of.date().replace(day=1),
                    "latest_at": self.latest,
                    "latest_scheduled_at": self.latest_scheduled,
                    "as_of_source": self.as_of_source,
                }
            ]
        )


def _utc_naive(moment: datetime) -> datetime:
    """A timestamp as naive UTC, the way the warehouse stores them (a naive one is taken as UTC already)."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo is not None else moment


def parse_as_of(text: str) -> datetime:
    """`FLYWHEEL_AS_OF`: a date (its end) or a timestamp, with or without a UTC offset."""
    value = text.strip()
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), datetime.max.time()).replace(microsecond=0)
        return _utc_naive(datetime.fromisoformat(value))
    except ValueError as error:
        raise HorizonError(
            f"FLYWHEEL_AS_OF={text!r} is not a date or timestamp (use 2026-10-31 or 2026-10-31T18:00:00Z)"
        ) from error


def _table_reader(path: Path) -> tuple[str, str | list[str]] | None:
    """How to read a raw table's file, or its folder of Parquet or CSV files; None for an empty folder."""
    if not path.is_dir():
        return raw_reader(path)
    files = sorted(str(file) for file in path.rglob("*") if file.suffix in (".parquet", ".csv"))
    if not files:
        return None
    if files[0].endswith(".parquet"):
        return "read_parquet(?, union_by_name = true)", files
    # Days may differ in their columns (a connector adds one); a day without a column reads NULL there.
    return "read_csv(?, header = true, all_varchar = true, union_by_name = true)", files


def _as_timestamp(column: str) -> str:
    """A raw value as a UTC timestamp (text with an offset is converted; a naive one is taken as UTC)."""
    name = quote(column)
    return f"coalesce(cast(try_cast({name} as timestamptz) as timestamp), try_cast({name} as timestamp))"


def vouching_columns(table: SourceTable, present: set[str]) -> tuple[str | None, list[str]]:
    """The columns of a raw table that vouch for a time: its connector sync column, and its past dates (used when
    the sync column is absent), of those `present` in the file or catalog table."""
    past = [
        column.name
        for column in table.columns
        if column.type in ("date", "timestamp") and column.dates == "past" and column.name in present
    ]
    sync = table.sync_column if table.sync_column in present else None
    return sync, past


def latest_sync(raw_dir: Path, tables: Sequence[SourceTable], ceiling: datetime) -> datetime | None:
    """The latest time the raw files vouch for, no later than `ceiling`; None when they hold no time at all.

    A table vouches for its latest connector sync (`SourceTable.sync_column`). A table whose file carries no sync
    time (an export without connector columns) vouches instead for the latest of its own past dates, so a file
    synced earlier than the others never quarantines another file's rows.
    """
    latest: datetime | None = None
    with duckdb.connect() as connection:
        connection.execute("set TimeZone = 'UTC'")
        for table in tables:
            try:
                found_reader = _table_reader(table.find_file(raw_dir))
            except SourceContractError:
                continue  # the raw load itself reports the missing file
            if found_reader is None:
                continue
            reader, argument = found_reader
            try:
                described = connection.execute(f"describe select * from {reader}", [argument]).fetchall()
            except duckdb.Error:
                continue  # a file still being written, or broken: its raw load retries or reports it
            sync, past = vouching_columns(table, {row[0] for row in described})
            if not past and sync is None:
                continue
            synced = f"max({_as_timestamp(sync)}) filter (where {_as_timestamp(sync)} <= $ceiling)" if sync else "null"
            dated = ", ".join(
                f"max({_as_timestamp(name)}) filter (where {_as_timestamp(name)} <= $ceiling)" for name in past
            )
            try:
                row = connection.execute(
                    f"select {synced}, greatest({dated or 'null'}) from {reader.replace('?', '$file', 1)}",
                    {"file": argument, "ceiling": ceiling},
                ).fetchone()
            except duckdb.Error:
                continue
            vouched = (row[0] if row[0] is not None else row[1]) if row else None
            if vouched is not None and (latest is None or vouched > latest):
                latest = vouched
    return latest


def _raw_files_fingerprint(raw_dir: Path) -> tuple[tuple[str, int, int], ...]:
    """Names, sizes and modification times of every raw file: a new sync gives a new as-of time."""
    if not raw_dir.is_dir():
        return ()
    return tuple(
        sorted(
            (str(path.relative_to(raw_dir)), stat.st_size, stat.st_mtime_ns)
            for path in raw_dir.rglob("*")
            if path.is_file()
            for stat in (path.stat(),)
        )
    )


class RawCatalog(Protocol):
    """Raw tables read from a catalog instead of files (pipelines/warehouse/spark/raw_catalog.py)."""

    def latest_sync(self, tables: Sequence[SourceTable], ceiling: datetime) -> datetime | None:
        """What `latest_sync` computes from files, computed from the catalog's tables."""
        ...


def resolve_horizon(
    settings: HorizonSettings,
    raw_dir: Path,
    tables: Sequence[SourceTable],
    as_of_text: str = "",
    catalog: RawCatalog | None = None,
) -> DataHorizon:
    """The horizon of a run; computed once per process for the same raw files, so every asset of a run agrees.

    With a `catalog`, the connector syncs are read from its tables instead of the files under `raw_dir`, every time
    (a catalog table has no cheap fingerprint): the caller keeps the horizon for the run (`Horizon` does).
    """
    if catalog is not None:
        return _resolve(settings, as_of_text, lambda ceiling: catalog.latest_sync(tables, ceiling))
    return _resolve_cached(settings, raw_dir, tuple(tables), as_of_text, _raw_files_fingerprint(raw_dir))


@functools.lru_cache(maxsize=8)
def _resolve_cached(
    settings: HorizonSettings,
    raw_dir: Path,
    tables: tuple[SourceTable, ...],
    as_of_text: str,
    fingerprint: tuple[tuple[str, int, int], ...],
) -> DataHorizon:
    del fingerprint  # part of the cache key only
    return _resolve(settings, as_of_text, lambda ceiling: latest_sync(raw_dir, tables, ceiling))


def _resolve(settings: HorizonSettings, as_of_text: str, latest: Callable[[datetime], datetime | None]) -> DataHorizon:
    """The horizon from FLYWHEEL_AS_OF, else from the latest sync `latest` finds under a ceiling, else the clock."""
    if as_of_text.strip():
        return DataHorizon.around(settings, parse_as_of(as_of_text), AS_OF_FROM_SETTING)
    clock = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    synced = latest(clock + settings.clock_skew)
    if synced is not None:
        return DataHorizon.around(settings, synced, AS_OF_FROM_SYNC)
    return DataHorizon.around(settings, clock, AS_OF_FROM_CLOCK)


def horizon_variables(horizon: DataHorizon | None) -> dict[str, datetime | None]:
    """The bounds the horizon quarantine rules read (`getvariable` names), None for each without a horizon."""
    return {
        HORIZON_EARLIEST: horizon.earliest if horizon else None,
        HORIZON_LATEST: horizon.latest if horizon else None,
        HORIZON_LATEST_SCHEDULED: horizon.latest_scheduled if horizon else None,
    }


def set_horizon_variables(connection: duckdb.DuckDBPyConnection, horizon: DataHorizon | None) -> None:
    """Set (or clear, with None) the DuckDB variables the horizon quarantine rules read."""
    for name, value in horizon_variables(horizon).items():
        connection.execute(f"set variable {name} = cast(? as timestamp)", [value])


def write_data_horizon(connection: duckdb.DuckDBPyConnection, schema: str, horizon: DataHorizon) -> int:
    """Replace `<schema>.data_horizon` with the horizon of this run; returns the rows written (one)."""
    frame = horizon.frame()
    connection.execute(f"create schema if not exists {quote(schema)}")
    connection.register("data_horizon_frame", frame)
    try:
        connection.execute(
            f"create or replace table {qualified(schema, HORIZON_TABLE)} as select earliest_at, as_of_at, "
            "cast(as_of_month as date) as as_of_month, latest_at, latest_scheduled_at, as_of_source "
            "from data_horizon_frame"
        )
    finally:
        connection.unregister("data_horizon_frame")
    return len(frame)
