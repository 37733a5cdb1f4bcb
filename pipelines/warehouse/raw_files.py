"""Reading raw connector files: the DuckDB reader of a CSV, Parquet file or folder, the days a load reads, and
record counts taken from the files themselves (independently of what a load keeps).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.spec.partitions import DayRange, daily_files
from pipelines.warehouse.connection import quote

FILE_COLUMN = "_flywheel_file"


def raw_reader(path: Path, rejects: str | None = None, files: Sequence[Path] = ()) -> tuple[str, str | list[str]]:
    """The DuckDB table function that reads a raw file, and the parameter to pass it.

    CSV lands as text: staging casts, so a connector's formatting never fails the load itself. With `rejects`,
    malformed CSV lines (too many or too few fields, a broken quote) are kept aside in the temp tables
    `<rejects>_errors` and `<rejects>_scans` instead of failing the read. With `files` (some files of a folder of
    daily files), only those are read, and each row carries its file's path in `_flywheel_file`.
    """
    if files:
        listed = [str(file) for file in files]
        if files[0].suffix == ".parquet":
            return f"read_parquet(?, union_by_name = true, filename = '{FILE_COLUMN}')", listed
        path = files[0]
        argument: str | list[str] = listed
        csv_options = f"header = true, all_varchar = true, filename = '{FILE_COLUMN}'"
    elif path.is_dir():
        return "read_parquet(?, union_by_name = true)", str(path / "**" / "*.parquet")
    elif path.suffix == ".parquet":
        return "read_parquet(?)", str(path)
    else:
        argument = str(path)
        csv_options = "header = true, all_varchar = true"
    if rejects is None:
        return f"read_csv(?, {csv_options})", argument
    quote(rejects)
    return (
        f"read_csv(?, {csv_options}, store_rejects = true, "
        f"rejects_table = '{rejects}_errors', rejects_scan = '{rejects}_scans')"
    ), argument


@dataclass(frozen=True)
class LoadScope:
    """Which days a load of a day-partitioned raw table replaces, out of every partition there is.

    Rows whose day falls outside `bounds` (or is unknown) are filed under the nearest partition (the first when
    unknown), so every row of the files belongs to exactly one partition (see pipelines/spec/partitions.py).
    """

    days: DayRange
    bounds: DayRange

    @property
    def full(self) -> bool:
        """Whether the load covers every partition (and so replaces the whole table)."""
        return self.days.covers(self.bounds)


def _files_for(path: Path, scope: LoadScope) -> list[Path]:
    """The daily files a load of `scope.days` reads; days outside the bounds count as the nearest bound."""
    chosen = []
    for day, files in sorted(daily_files(path).items()):
        filed = min(max(day, scope.bounds.first), scope.bounds.last)
        if scope.days.first <= filed <= scope.days.last:
            chosen += files
    return chosen


def csv_record_count(path: Path) -> int:
    """Data records in a CSV file (header and blank lines excluded), counted by a reader that rejects no line.

    Python's csv reader keeps quoted newlines inside their record and never drops a short or long line, so the count
    does not depend on how DuckDB parsed (or rejected) the file: the row accounting compares the two.
    """
    csv.field_size_limit(2**31 - 1)  # a broken quote can make one field hold the rest of the file
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as handle:
        records = sum(1 for record in csv.reader(handle) if record)
    return max(records - 1, 0)


def file_record_counts(connection: duckdb.DuckDBPyConnection, files: Sequence[Path]) -> dict[Path, int]:
    """Rows in each raw file, read from the file itself: Parquet from its metadata, CSV by counting its records."""
    counts = {file: csv_record_count(file) for file in files if file.suffix != ".parquet"}
    parquet = [str(file) for file in files if file.suffix == ".parquet"]
    if parquet:
        rows = connection.execute(
            "select file_name, sum(num_rows) from parquet_file_metadata(?) group by file_name", [parquet]
        ).fetchall()
        counts.update({Path(name): int(count) for name, count in rows})
    return counts


def _data_files(path: Path) -> list[Path]:
    """The files a load of `path` reads: the file, or every Parquet file of the folder."""
    return sorted(path.rglob("*.parquet")) if path.is_dir() else [path]
