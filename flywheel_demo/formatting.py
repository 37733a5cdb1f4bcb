"""Formatting: numpy columns to sorted Arrow tables, and Arrow tables to CSV text."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from flywheel_demo.contract import BOOL, DATE, DECIMAL, FLOAT, INT, SORT_KEY, TS, Table, TableKey, output_tables
from flywheel_demo.text import bytes_text, calendar_text

BLOCK_ROWS = 1024 * 1024  # rows formatted at a time: Parquet's default row group, so a block is one row group


def to_arrow(key: TableKey, table: Table) -> pa.Table:
    """Format a table to its output representation and sort it by primary key (stale copies first): the blocks of
    `arrow_blocks` as one Arrow table. `table` is left empty."""
    return pa.concat_tables(list(arrow_blocks(key, table)))


def arrow_blocks(key: TableKey, table: Table, block_rows: int = BLOCK_ROWS) -> Iterator[pa.Table]:
    """The formatted table, sorted by primary key (stale copies first), as consecutive Arrow tables of `block_rows`
    rows: a writer that writes each block before asking for the next never holds the whole table as Arrow (at
    `large` the lead table alone is 4 GB of Arrow text). `table` is left empty once the last block is out.

    Timestamps, dates and booleans become text ('YYYY-MM-DD HH:MM:SS', 'YYYY-MM-DD', 'true'/'false', as connector
    CSV fixtures have them); numbers stay numeric; nulls stay null (written as empty strings in CSV).
    """
    contract = output_tables()[key]
    spec, names = contract.columns, contract.names
    sort_key = table.get(SORT_KEY)
    if set(names) != set(table) - {SORT_KEY}:
        raise ValueError(f"{key}: columns {sorted((set(table) - {SORT_KEY}) ^ set(names))} do not match the contract")
    if sort_key is None:  # small tables with random ids: let Arrow sort the text
        out = pa.table([_arrow_column(table.pop(name), kind) for name, kind in spec], names=names)
        yield out.sort_by([(k, "ascending") for k in contract.sort_columns])
        return
    # Large tables carry a numeric key in primary-key order: sort in numpy before building Arrow arrays, then by the
    # version order (np.lexsort sorts by its last key first). Each block's rows are gathered in numpy (a copy of 8 or
    # 15 bytes a value; a reference for object columns) before they become text.
    order = np.lexsort((*[table[name] for name in reversed(contract.versions)], sort_key))
    for start in range(0, max(len(order), 1), block_rows):
        rows = order[start : start + block_rows]
        yield pa.table([_arrow_column(np.asarray(table[name])[rows], kind) for name, kind in spec], names=names)
    table.clear()


def _arrow_column(values: np.ndarray, kind: str) -> pa.Array:
    """One output column as an Arrow array."""
    if kind in (TS, DATE):
        return calendar_text(values, kind)
    if kind == BOOL:
        return pc.cast(pa.array(np.asarray(values, dtype=bool)), pa.string())
    if kind == FLOAT and values.dtype.kind == "U":  # numbers formatted by the simulation (more than two decimals)
        return pa.array(values.astype(object), type=pa.string())
    if kind == DECIMAL:
        kind = INT if np.asarray(values).dtype.kind in "iu" else FLOAT
    if kind in (INT, FLOAT):
        v = np.asarray(values, dtype=np.float64)
        null = np.isnan(v)
        if kind == INT:
            return pa.array(np.where(null, 0, v).astype(np.int64), mask=null)
        return pa.array(np.round(np.where(null, 0.0, v), 2), mask=null)
    if values.dtype.kind == "S":
        return bytes_text(values)
    return pa.array(values, type=pa.string(), from_pandas=True)


def _csv_text(column: pa.Array) -> pa.Array:
    """A column as CSV field text: floats with two decimals, strings quoted only when they must be (RFC 4180)."""
    if pa.types.is_floating(column.type):
        cents = pc.cast(pc.round(pc.multiply(column, 100.0)), pa.int64())
        magnitude = pc.abs(cents)
        whole = pc.cast(pc.divide(magnitude, 100), pa.string())
        remainder = pc.subtract(magnitude, pc.multiply(pc.divide(magnitude, 100), 100))
        fraction = pc.utf8_lpad(pc.cast(remainder, pa.string()), 2, "0")
        text = pc.binary_join_element_wise(whole, fraction, ".")
        return pc.if_else(pc.less(cents, 0), pc.binary_join_element_wise("-", text, ""), text)
    if not pa.types.is_string(column.type):
        return pc.cast(column, pa.string())
    needs = pc.match_substring_regex(column, r'[",\r\n]')
    if not pc.any(needs).as_py():
        return column
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(column, '"', '""'), '"', "")
    return pc.if_else(needs, quoted, column)


def write_csv(blocks: Iterable[pa.Table], path: Path, chunk_rows: int = 1_000_000) -> None:
    """Write CSV with a header, minimal quoting, empty fields for nulls and '\\n' line ends: the rows of `blocks` (one
    table, or a table's consecutive blocks) in bounded chunks."""
    with path.open("wb") as handle:
        header = False
        for table in blocks:
            if not header:
                handle.write((",".join(table.column_names) + "\n").encode())
                header = True
            for offset in range(0, table.num_rows, chunk_rows):
                handle.write(_csv_lines(table.slice(offset, chunk_rows).combine_chunks()))


def _csv_lines(part: pa.Table) -> memoryview:
    """The CSV lines of a table of one chunk, as bytes."""
    fields = [_csv_text(part.column(i).chunk(0)) for i in range(part.num_columns)]
    line = pc.binary_join_element_wise(*fields, ",", null_handling="replace", null_replacement="")
    lines = pc.binary_join_element_wise(line, "", "\n")
    if isinstance(lines, pa.ChunkedArray):
        lines = lines.combine_chunks()
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)[lines.offset : lines.offset + len(lines) + 1]
    return memoryview(lines.buffers()[2])[int(offsets[0]) : int(offsets[-1])]
