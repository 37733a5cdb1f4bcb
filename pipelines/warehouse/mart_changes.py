"""What a rebuild changed in a table: rows added, removed and changed by its grain, and each KPI by month and segment.

`flywheel preview` (pipelines/definition_preview.py) rebuilds marts with candidate definitions in a scratch copy of
the warehouse; this module compares the tables before and after in DuckDB, with both files attached read-only: a
grain key in one table only is a row added or removed, a key in both whose values differ is a row changed (`EXCEPT`
on whole rows, then on keys), and each KPI column is compared through a full outer join on the grain, summed by
month and segment where it adds up (counts and amounts) or read as it is where the grain is month and segment
alone. Doubles are compared rounded to `DECIMALS` places, so the last bits of a sum taken in another order do not
count as a change.

The scratch copy itself is made here too (`copy_warehouse`, `snapshot_tables`): a copy of a warehouse file taken
while a read-only connection holds it, so no build writes it meanwhile, and the original is never opened for writing.
"""

from __future__ import annotations

import shutil
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipelines.warehouse.connection import qualified, quote

DECIMALS = 9
BEFORE = "before_db"
AFTER = "after_db"
# Column name endings (the naming conventions) whose values add up across rows: counts and amounts.
ADDITIVE_SUFFIXES = ("_count", "_usd")
_FLOATING = ("DOUBLE", "FLOAT", "REAL")


class WarehouseCopyError(RuntimeError):
    """The warehouse cannot be copied (another process is writing it): one line saying so."""


def copy_warehouse(source: Path, target: Path) -> None:
    """Copy a warehouse file (and its write-ahead log, if any) while a read-only connection holds it.

    DuckDB lets many readers or one writer open a file: holding a reader means no build changes it mid-copy, and a
    build running now makes the copy fail at once rather than copy half of a write.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        reader = duckdb.connect(str(source), read_only=True)
    except duckdb.Error as error:
        first_line = str(error).strip().splitlines()[0]
        raise WarehouseCopyError(f"cannot open {source} read-only to copy it: {first_line}") from error
    with reader:
        shutil.copyfile(source, target)
        wal = source.with_name(source.name + ".wal")
        if wal.exists():
            shutil.copyfile(wal, target.with_name(target.name + ".wal"))


def snapshot_tables(source: Path, target: Path, tables: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """Copy `tables` (those that exist) from the warehouse `source` into a new file `target`; returns those copied.

    Taken before a rebuild, it keeps the tables as they were, so only what the rebuild may change is copied twice.
    """
    copied = []
    with duckdb.connect(str(target)) as connection:
        connection.execute(f"attach {_literal(source)} as {BEFORE} (read_only)")
        present = set(_tables(connection, BEFORE))
        for schema, table in tables:
            if (schema, table) not in present:
                continue
            connection.execute(f"create schema if not exists {quote(schema)}")
            connection.execute(
                f"create table {qualified(schema, table)} as select * from {BEFORE}.{qualified(schema, table)}"
            )
            copied.append((schema, table))
        connection.execute(f"detach {BEFORE}")
    return copied


def add_empty_tables(target: Path, source: Path, tables: Sequence[tuple[str, str]]) -> None:
    """Add to `target` an empty table shaped like each of `tables` in `source`: what a table built for the first
    time is compared with, so all its rows count as added."""
    with duckdb.connect(str(target)) as connection:
        connection.execute(f"attach {_literal(source)} as {AFTER} (read_only)")
        for schema, table in tables:
            connection.execute(f"create schema if not exists {quote(schema)}")
            connection.execute(
                f"create table {qualified(schema, table)} as select * from {AFTER}.{qualified(schema, table)} limit 0"
            )
        connection.execute(f"detach {AFTER}")


@dataclass(frozen=True)
class KpiCell:
    """A KPI in one month and segment (either may be None when the table has no such column) that moved.

    `before` and `after` are the sums of an additive KPI, or the value itself where the grain is month and segment;
    None where neither applies, or no row was there. `rows_changed` counts the rows of the grain whose value moved.
    """

    month: str | None
    segment: str | None
    before: float | None
    after: float | None
    rows_changed: int


@dataclass(frozen=True)
class KpiChange:
    """A KPI column of a table: its totals (additive KPIs only) and the months and segments where it moved."""

    name: str
    additive: bool
    total_before: float | None
    total_after: float | None
    cells: list[KpiCell] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.cells)


@dataclass(frozen=True)
class TableChange:
    """What a rebuild changed in one table."""

    schema: str
    name: str
    grain: tuple[str, ...]
    rows_before: int
    rows_after: int
    added: int
    removed: int
    changed: int
    month_column: str | None
    segment_column: str | None
    kpis: list[KpiChange] = field(default_factory=list)

    @property
    def any_change(self) -> bool:
        return bool(self.added or self.removed or self.changed)


def month_and_segment(grain: Sequence[str]) -> tuple[str | None, str | None]:
    """The grain's month column (`month` or `<event>_month`) and its `segment` column, each None when absent."""
    month = next((column for column in grain if column == "month" or column.endswith("_month")), None)
    return month, ("segment" if "segment" in grain else None)


def compare_table(
    before: Path,
    after: Path,
    schema: str,
    table: str,
    grain: Sequence[str],
    kpis: Sequence[str],
    ratios: Collection[str] = (),
) -> TableChange:
    """Compare `schema.table` in the warehouse files `before` and `after` (both opened read-only).

    A KPI adds up across rows when its name says it is a count or an amount (`_count`, `_usd`) and it is not one of
    `ratios` (a cost per lead is in USD, yet a quotient).
    """
    with duckdb.connect() as connection:
        connection.execute(f"attach {_literal(before)} as {BEFORE} (read_only)")
        connection.execute(f"attach {_literal(after)} as {AFTER} (read_only)")
        types = _column_types(connection, AFTER, schema, table)
        month, segment = month_and_segment(grain)
        counts = _row_changes(connection, qualified(schema, table), list(grain), types)
        kpi_changes = [
            _kpi_change(
                connection,
                qualified(schema, table),
                list(grain),
                (kpi, types[kpi], kpi.endswith(ADDITIVE_SUFFIXES) and kpi not in ratios),
                (month, segment),
            )
            for kpi in kpis
            if kpi in types
        ]
    return TableChange(schema, table, tuple(grain), *counts, month, segment, kpi_changes)


def _comparable(column: str, type_name: str, alias: str | None = None) -> str:
    """A column as compared: doubles rounded to DECIMALS places."""
    source = f"{alias}.{quote(column)}" if alias else quote(column)
    if type_name.upper() in _FLOATING:
        return f"round({source}, {DECIMALS})"
    return source


def _row_changes(
    connection: duckdb.DuckDBPyConnection, table: str, grain: list[str], types: dict[str, str]
) -> tuple[int, int, int, int, int]:
    """Rows before, rows after, and the grain keys added, removed and changed (a key in both, other values moved)."""
    columns = ", ".join(f"{_comparable(column, kind)} as {quote(column)}" for column, kind in types.items())
    keys = ", ".join(quote(column) for column in grain)
    sql = f"""
        with
        before_rows as (select {columns} from {BEFORE}.{table}),
        after_rows as (select {columns} from {AFTER}.{table}),
        before_keys as (select {keys} from before_rows),
        after_keys as (select {keys} from after_rows),
        moved as (select {keys} from (select * from after_rows except select * from before_rows))
        select
            (select count(*) from before_rows),
            (select count(*) from after_rows),
            (select count(*) from (select * from after_keys except select * from before_keys)),
            (select count(*) from (select * from before_keys except select * from after_keys)),
            (select count(*) from (select * from moved intersect select * from before_keys))
    """
    found = connection.execute(sql).fetchone()
    assert found is not None  # an aggregate query always returns its one row
    return int(found[0]), int(found[1]), int(found[2]), int(found[3]), int(found[4])


def _kpi_change(
    connection: duckdb.DuckDBPyConnection,
    table: str,
    grain: list[str],
    column: tuple[str, str, bool],
    dimensions: tuple[str | None, str | None],
) -> KpiChange:
    """One KPI (name, type, whether it adds up) before and after: by the table's month and segment columns (those
    it has), and in total when it adds up."""
    kpi, type_name, additive = column
    dims = [column for column in dimensions if column is not None]
    exact = set(grain) <= set(dims)  # one row per month and segment: the values themselves can be shown
    join = " and ".join(f"before_table.{quote(c)} is not distinct from after_table.{quote(c)}" for c in grain)
    keys = ", ".join(f"coalesce(after_table.{quote(c)}, before_table.{quote(c)}) as {quote(c)}" for c in grain)
    aggregate = "sum" if additive else "max" if exact else None
    values = (
        f"{aggregate}(before_value)::double, {aggregate}(after_value)::double"
        if aggregate
        else "null::double, null::double"
    )
    cells_select = [f"{quote(c)}::varchar" if c in dims else "null" for c in dimensions]
    sql = f"""
        with joined as (
            select
                {keys},
                before_table.{quote(kpi)} as before_value,
                after_table.{quote(kpi)} as after_value,
                {_comparable(kpi, type_name, "before_table")} is distinct from
                    {_comparable(kpi, type_name, "after_table")} as moved
            from {BEFORE}.{table} as before_table
            full outer join {AFTER}.{table} as after_table on {join}
        )
        select {", ".join(cells_select)}, {values}, count(*) filter (where moved)
        from joined
        {"group by " + ", ".join(quote(c) for c in dims) if dims else ""}
        having count(*) filter (where moved) > 0
        order by {", ".join(quote(c) for c in dims) if dims else "1"}
    """
    cells = [KpiCell(row[0], row[1], row[2], row[3], int(row[4])) for row in connection.execute(sql).fetchall()]
    total_before, total_after = None, None
    if additive:
        totals = connection.execute(
            f"select (select sum({quote(kpi)})::double from {BEFORE}.{table}), "
            f"(select sum({quote(kpi)})::double from {AFTER}.{table})"
        ).fetchone()
        total_before, total_after = (totals[0], totals[1]) if totals else (None, None)
    return KpiChange(kpi, additive, total_before, total_after, cells)


def _column_types(connection: duckdb.DuckDBPyConnection, catalog: str, schema: str, table: str) -> dict[str, str]:
    rows = connection.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_catalog = ? and table_schema = ? and table_name = ? order by ordinal_position",
        [catalog, schema, table],
    ).fetchall()
    return {str(name): str(kind) for name, kind in rows}


def _tables(connection: duckdb.DuckDBPyConnection, catalog: str) -> list[tuple[str, str]]:
    rows = connection.execute(
        "select table_schema, table_name from information_schema.tables where table_catalog = ?", [catalog]
    ).fetchall()
    return [(str(schema), str(name)) for schema, name in rows]


def _literal(path: Path) -> str:
    """A file path as a SQL string literal."""
    return "'" + str(path).replace("'", "''") + "'"
