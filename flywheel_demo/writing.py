"""Writing: CSV or Parquet files per table, product events as one Parquet file per day, with progress."""

from __future__ import annotations

import shutil
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from flywheel_demo.calendar import DAY, MONTH_STARTS, Scale
from flywheel_demo.contract import EVENTS, SORT_KEY, Table, TableKey, output_tables
from flywheel_demo.formatting import arrow_blocks, write_csv
from flywheel_demo.product import EventColumns, EventPlan, event_arrow
from flywheel_demo.simulation import simulate

PARQUET_OPTIONS: dict[str, Any] = {"compression": "zstd"}
EVENT_PARQUET_OPTIONS: dict[str, Any] = {  # unique ids, users and times: dictionary pages only cost time there; the
    "compression": "zstd",  # file is the day, so min/max statistics add nothing a reader could skip on
    "use_dictionary": ["event", "account_id"],
    "write_statistics": False,
}

if TYPE_CHECKING:
    import pandas as pd


def _clear(path: Path) -> None:
    """Remove a file or a folder, if there."""
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def _event_days(received: np.ndarray, timestamp: np.ndarray) -> np.ndarray:
    """UTC day number of each event's receipt (of the event itself where received_at is null): its daily file."""
    return np.floor(np.where(np.isnan(received), timestamp, received) / DAY).astype(np.int64)


def _day_name(day: int) -> str:
    """File name of a day's events."""
    return f"{np.datetime64(day, 'D')}.parquet"


def _write_days(table: pa.Table, days: np.ndarray, folder: Path) -> list[Path]:
    """Write rows already sorted by (day, primary key) as one `<YYYY-MM-DD>.parquet` per day."""
    if not len(days):
        return []
    starts = np.flatnonzero(np.r_[True, days[1:] != days[:-1]])
    ends = np.r_[starts[1:], len(days)]
    paths = []
    for start, end in zip(starts, ends, strict=True):
        path = folder / _day_name(int(days[start]))
        pq.write_table(table.slice(int(start), int(end - start)), path, **EVENT_PARQUET_OPTIONS)
        paths.append(path)
    return paths


def write_event_days(table: pa.Table, folder: Path) -> list[Path]:
    """Product events (sorted by primary key) as a folder with one Parquet file per receipt day, as event-tracking
    exports land; rows inside each file stay in primary-key order. The raw loader reads the folder as one table."""
    _clear(folder)
    folder.mkdir(parents=True)
    day_text = pc.coalesce(
        pc.utf8_slice_codeunits(table.column("received_at"), 0, 10),
        pc.utf8_slice_codeunits(table.column("timestamp"), 0, 10),
    )
    days = pc.cast(pc.cast(day_text, pa.date32()), pa.int32()).to_numpy(zero_copy_only=False).astype(np.int64)
    order = np.argsort(days, kind="stable")
    return _write_days(table.take(pa.array(order)), days[order], folder)


def write_planned_event_days(plan: EventPlan, folder: Path, on_rows: Callable[[int], None] | None = None) -> int:
    """Draw and write the product events of a plan one month at a time: the files `write_event_days` would write
    for `event_arrow(plan.all(), ...)`, holding one month (plus the late receipts it passes on) in memory."""
    _clear(folder)
    folder.mkdir(parents=True)
    carry: EventColumns | None = None
    rows = 0
    for m in range(plan.n_months):
        ev = plan.month(m)
        if carry is not None:
            ev = {col: np.concatenate([carry[col], ev[col]]) for col in ev}
        days = _event_days(ev["received_at"], ev["timestamp"])
        order = np.lexsort((ev["received_at"], ev[SORT_KEY], days))
        # Later months' events are never received before their month starts: every earlier day is complete.
        complete = days[order] < (MONTH_STARTS[m + 1] // DAY if m + 1 < plan.n_months else np.inf)
        done, later = order[complete], order[~complete]
        carry = {col: values[later] for col, values in ev.items()}
        _write_days(event_arrow(ev, plan.workspaces, done), days[done], folder)
        rows += len(done)
        if on_rows is not None:
            on_rows(len(done))
    return rows


def write_tables(
    tables: dict[TableKey, pa.Table] | dict[TableKey, pd.DataFrame], out: Path, fmt: str = "csv"
) -> list[Path]:
    """Write `<out>/<source>/<table>.csv` (or `.parquet`; product events as Parquet: `<out>/product/events/` with a
    file per day); returns the written paths."""
    paths = []
    for key, table in tables.items():
        if not isinstance(table, pa.Table):
            table = pa.Table.from_pandas(table, preserve_index=False)
        paths += write_blocks(key, [table], out, fmt)
    return paths


def write_blocks(key: TableKey, blocks: Iterable[pa.Table], out: Path, fmt: str = "csv") -> list[Path]:
    """Write one table given as consecutive blocks of rows (see `formatting.arrow_blocks`), each written before the
    next is asked for: as `<out>/<source>/<table>.csv` or `.parquet` (one row group per block of Parquet's default
    size, so the file is the one `pq.write_table` writes for the whole table), product events as Parquet as a
    folder with a file per day. Returns the written paths."""
    source, name = key
    folder = out / source
    folder.mkdir(parents=True, exist_ok=True)
    _remove_other_forms(folder, key, fmt)
    if key == EVENTS and fmt == "parquet":
        return write_event_days(pa.concat_tables(list(blocks)), folder / name)
    path = folder / f"{name}.{fmt}"
    if fmt == "csv":
        write_csv(blocks, path)
        return [path]
    writer: pq.ParquetWriter | None = None
    try:
        for block in blocks:
            if writer is None:
                writer = pq.ParquetWriter(path, block.schema, **PARQUET_OPTIONS)
            writer.write_table(block)
    finally:
        if writer is not None:
            writer.close()
    return [path]


def _remove_other_forms(folder: Path, key: TableKey, fmt: str) -> None:
    """The raw loader takes `<table>.parquet`, then `.csv`, then a `<table>/` folder: never leave another form of
    the table behind."""
    name = key[1]
    daily = key == EVENTS and fmt == "parquet"
    for other in (folder / f"{name}.csv", folder / f"{name}.parquet", folder / name):
        if other != (folder / name if daily else folder / f"{name}.{fmt}"):
            _clear(other)


class _Progress:
    """A progress bar in rows written: tqdm when it is installed, else a plain counter on stderr. Thread-safe."""

    def __init__(self, total: int, enabled: bool = True) -> None:
        self.total, self.done, self.enabled, self.bar = total, 0, enabled, None
        self.lock = threading.Lock()
        if enabled:
            try:
                from tqdm import tqdm

                self.bar = tqdm(total=total, unit="rows", unit_scale=True, desc="writing", file=sys.stderr)
            except ImportError:
                self.bar = None

    def update(self, rows: int, label: str) -> None:
        with self.lock:
            self.done += rows
            if self.bar is not None:
                self.bar.set_postfix_str(label, refresh=False)
                self.bar.update(rows)
            elif self.enabled:
                print(f"\r{self.done:,} / {self.total:,} rows ({label})", end="", file=sys.stderr, flush=True)

    def grow(self, rows: int) -> None:
        """Add rows to the expected total (known only once the simulation has run)."""
        with self.lock:
            self.total += rows
            if self.bar is not None:
                self.bar.total = self.total
                self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        elif self.enabled:
            print(file=sys.stderr)


def generate_and_write(
    scale: Scale, seed: int, out: Path, fmt: str = "csv", progress: bool = True, workers: int = 1
) -> tuple[dict[TableKey, int], list[Path]]:
    """Simulate, and format and write each table as soon as the simulation hands it on (in `workers` threads).

    Writes the same files as `write_tables(generate_tables(...))`, holding at most `workers` finished tables beside
    the simulation's state: the simulation waits for a writer before it hands on the next table (and for all of
    them around the lead table, the biggest), and a writer formats and writes a table a block of rows at a time,
    emptying it at the end (at `large` the tables do not fit in memory together, nor a big one twice).
    Product events of a `monthly_events` scale written as Parquet are drawn and written month by month in a thread
    of their own, started as soon as the lead table is written: that work is numpy on numbers and Arrow, which release
    the GIL, so it runs beside the rest of the simulation and the formatting of the other tables (which hold the
    GIL: more `workers` help little there, see benchmarks/results.md).
    Returns rows per table and the written paths.

    Size: the writers, the event thread and the simulation's sink are closures over one run's pool, futures and
    progress bar; split apart they would pass all of them around.
    """
    from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

    if progress:
        print(f"simulating {scale.name} (seed {seed}) ...", file=sys.stderr, flush=True)
    monthly = scale.monthly_events and fmt == "parquet"
    bar = _Progress(0, enabled=progress)
    workers = max(1, workers)
    pool = ThreadPoolExecutor(max_workers=max(1, workers - 1 + monthly))
    planned: list[Future[int]] = []
    writing: list[Future[tuple[TableKey, int, list[Path]]]] = []

    def monthly_events(plan: EventPlan) -> int:
        folder = out / EVENTS[0]
        folder.mkdir(parents=True, exist_ok=True)
        _remove_other_forms(folder, EVENTS, fmt)
        return write_planned_event_days(plan, folder / EVENTS[1], lambda rows: bar.update(rows, "product.events"))

    def start_events(plan: EventPlan) -> None:
        bar.grow(plan.expected_rows)
        planned.append(pool.submit(monthly_events, plan))

    def write_one(key: TableKey, table: Table | pa.Table) -> tuple[TableKey, int, list[Path]]:
        rows = 0

        def counted(blocks: Iterable[pa.Table]) -> Iterator[pa.Table]:
            nonlocal rows
            for block in blocks:
                rows += block.num_rows
                bar.update(block.num_rows, f"{key[0]}.{key[1]}")
                yield block

        blocks = [table] if isinstance(table, pa.Table) else arrow_blocks(key, table)
        del table
        written = write_blocks(key, counted(blocks), out, fmt)
        return key, rows, written

    class Writers:
        """The simulation's sink. With one worker the simulation writes each table itself before it goes on (a
        writer thread beside it mostly contends for the GIL: formatting holds it, and so does much of the
        simulation); with more, `workers - 1` threads write while the simulation goes on, and it waits for one of
        them before it hands on the next table."""

        def put(self, key: TableKey, table: Table) -> None:
            bar.grow(len(next(iter(table.values()))))
            if workers == 1:
                written: Future[tuple[TableKey, int, list[Path]]] = Future()
                written.set_result(write_one(key, table))
                writing.append(written)
                return
            self.wait_for(workers - 2)
            writing.append(pool.submit(write_one, key, table))

        def drain(self) -> None:
            self.wait_for(0)

        def wait_for(self, busy: int) -> None:
            """Wait until at most `busy` tables are still being written."""
            while sum(not future.done() for future in writing) > busy:
                wait(writing, return_when=FIRST_COMPLETED)

    sizes: dict[TableKey, int] = {}
    paths: list[Path] = []
    try:
        _, plan = simulate(scale, seed, on_plan=start_events if monthly else None, sink=Writers())
        if plan is not None and not monthly:  # one CSV file sorted by primary key: all events at once
            arrow_events = event_arrow(plan.all(), plan.workspaces)
            bar.grow(arrow_events.num_rows)
            writing.append(pool.submit(write_one, EVENTS, arrow_events))
        for future in writing:
            key, rows, written = future.result()
            sizes[key] = rows
            paths += written
        for drawn in planned:
            sizes[EVENTS] = drawn.result()
            paths += sorted((out / EVENTS[0] / EVENTS[1]).glob("*.parquet"))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        bar.close()
    order = list(output_tables())  # report in the contract's order, whatever order the threads finished in
    return dict(sorted(sizes.items(), key=lambda item: order.index(item[0]) if item[0] in order else 0)), paths
