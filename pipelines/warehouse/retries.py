"""Which errors of a raw load heal on their own, and how long to wait before trying again.

Raw loads retry transient errors only (see `transient_reason`): a warehouse lock held a little too long by another
process, or a file still being written by a connector (it changed during the load, or a read error on a file
modified in the last `SETTLE_SECONDS`). A missing file or column, a permission error or a bad definitions file fails
at once. Model builds never retry: a SQL error or a failed check is not fixed by running again.
"""

from __future__ import annotations

import time
from pathlib import Path

import duckdb

from pipelines.spec.sources import SourceContractError
from pipelines.warehouse.preflight import is_lock_conflict, lock_holder

# A file modified less than this long ago may still be being written by the connector: wait for the next tick.
SETTLE_SECONDS = 30
# Retries of a raw load that failed for a transient reason, 2 s, 4 s, then 8 s apart: long enough for a connector to
# finish writing a file, short enough for Ctrl-C to be honoured within seconds.
RAW_LOAD_RETRIES = 3
RAW_LOAD_RETRY_SECONDS = 2.0


def files_of(path: Path) -> list[Path]:
    """The file itself, or every file of a Parquet folder, in a stable order."""
    if path.is_dir():
        return sorted(child for child in path.rglob("*") if child.is_file())
    return [path]


def file_state(path: Path) -> tuple[int, int]:
    """The total size and newest modification time (ns) of a raw file or Parquet folder; (0, 0) when it is gone."""
    try:
        stats = [file.stat() for file in files_of(path)]
    except OSError:
        return 0, 0
    return sum(stat.st_size for stat in stats), max((stat.st_mtime_ns for stat in stats), default=0)


def raw_load_retry_seconds(retry_number: int) -> float:
    """How long to wait before retry `retry_number + 1` of a raw load: doubling from RAW_LOAD_RETRY_SECONDS."""
    return RAW_LOAD_RETRY_SECONDS * 2**retry_number


def transient_reason(error: BaseException, path: Path, before: tuple[int, int], now: float | None = None) -> str | None:
    """Why a raw load's error may heal on its own (then it is worth a retry), or None when it will not.

    Transient: the warehouse is locked by another process; the file changed while it was read; a DuckDB read error
    on a file modified in the last SETTLE_SECONDS (a connector still writing it). Anything else is not: a missing
    file or column (the contract's error), a permission error, a malformed erasure list, a read error on a file
    that has not changed for a while.
    """
    if is_lock_conflict(error):
        return f"the warehouse is locked by {lock_holder(error)}"
    if isinstance(error, SourceContractError | PermissionError) or not isinstance(error, duckdb.Error):
        return None
    after = file_state(path)
    if after != before:
        return f"{path} changed while it was read (a connector may still be writing it)"
    age = (time.time() if now is None else now) - after[1] / 1e9
    if age < SETTLE_SECONDS:
        return f"{path} was modified {age:.0f} s ago and could not be read (a connector may still be writing it)"
    return None
