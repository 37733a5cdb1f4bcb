"""The first rows of a warehouse table, read through a read-only connection (`flywheel show`).

Read-only, so a preview never takes the writer's lock from a build, and never creates a warehouse file that is not
there yet. What stops a preview (no warehouse yet, the table not built yet, a build holding the file) is a
PreviewError with one line that says what to do.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb
import pandas as pd

from pipelines.warehouse.connection import qualified, quote


class PreviewError(ValueError):
    """A table that cannot be previewed: the message is one line, naming the command that builds it."""


def preview_rows(
    warehouse: Path, schema: str, table: str, limit: int, build_command: str, order_by: Sequence[str] = ()
) -> pd.DataFrame:
    """The first `limit` rows of `schema.table` in `order_by` order (the model's grain, so the same table always
    previews the same rows); PreviewError naming `build_command` when it is not built yet."""
    if not warehouse.exists():
        raise PreviewError(f"no warehouse at {warehouse} yet: run `{build_command}` to build {schema}.{table}")
    try:
        connection = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error as error:
        first_line = str(error).strip().splitlines()[0]
        raise PreviewError(f"cannot open {warehouse} read-only: {first_line}") from error
    with connection:
        found = connection.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchone()
        if not found or not found[0]:
            raise PreviewError(f"{schema}.{table} is not in {warehouse} yet: run `{build_command}` to build it")
        present = {row[0] for row in connection.execute(f"describe {qualified(schema, table)}").fetchall()}
        keys = [quote(column) for column in order_by if column in present]  # a table older than its model's grain
        order = f" order by {', '.join(keys)}" if keys else ""
        return connection.execute(f"select * from {qualified(schema, table)}{order} limit ?", [limit]).df()
