"""Row accounting: every raw row is staged, quarantined, a superseded duplicate, soft-deleted or erased; none vanishes.

Each staging model gets a blocking check, built from the source contract of the raw table it reads:

    rows in the file = staged + quarantined + duplicates (older versions of a key) + soft-deleted (latest version
                       flagged deleted) + erased (rows of a person on the erasure list, dropped at raw load)

The duplicates and soft deletes are counted here from the contract (primary key, version order, delete flags),
independently of the staging SQL, so a staging model that drops rows by any other means (a filter, an inner join)
fails the check. The erased count is the one the raw load recorded in `audit.raw_loads`: erased rows never reach the
warehouse, so there is nothing else to count them from.
"""

from __future__ import annotations

import dataclasses
import functools

from pipelines.spec.models import Assertion, Model, TableRef
from pipelines.spec.partitions import RAW_PARTITION_COLUMN, DayRange
from pipelines.spec.sources import SourceTable
from pipelines.warehouse.connection import qualified, quote
from pipelines.warehouse.raw_audit import (
    AUDIT_SCHEMA,
    QUARANTINE_SCHEMA,
    QUARANTINE_TABLE,
    RAW_LOADS_TABLE,
    RAW_PARTITION_LOADS_TABLE,
)

ACCOUNTING_CHECK = "assert_every_raw_row_is_accounted_for"


def _soft_deleted_sql(table: SourceTable) -> str:
    """Whether a raw row is a soft delete that staging drops: never for a table whose staging keeps deleted rows as
    ended history (`soft_deletes: ended`), since those rows are staged."""
    if table.soft_deletes == "ended":
        return ""
    return " or ".join(f"coalesce(try_cast({quote(c)} as boolean), false)" for c in table.soft_delete_columns)


def accounting_sql(model: Model, table: SourceTable) -> str:
    """SQL returning one row with the counts when the raw rows do not add up, none when they do."""
    types = {column.name: column.type for column in table.columns}
    source_table = f"{table.source}.{table.name}"
    quote(table.source), quote(table.name)  # plain names only: the table name is also written as a literal below
    partition = ", ".join(quote(column) for column in table.primary_key)
    order = ", ".join(
        f"try_cast({quote(column)} as {types.get(column, 'varchar')}) desc nulls last" for column in table.version_order
    )
    deleted = _soft_deleted_sql(table)
    return f"""
with
loads as (
    select coalesce(max(file_rows), -1) as file_rows, coalesce(max(erased_rows), 0) as erased_rows
    from {qualified(AUDIT_SCHEMA, RAW_LOADS_TABLE)}
    where source_table = '{source_table}'
),
versions as (
    select
        row_number() over (partition by {partition} order by {order}) as version_rank,
        {deleted or "false"} as is_soft_deleted
    from {qualified(table.source, table.name)}
),
removed as (
    select
        count(*) filter (where version_rank > 1) as duplicate_rows,
        count(*) filter (where version_rank = 1 and is_soft_deleted) as soft_deleted_rows
    from versions
),
quarantined as (
    select count(*) as quarantined_rows
    from {qualified(QUARANTINE_SCHEMA, QUARANTINE_TABLE)}
    where source_table = '{source_table}'
),
staged as (
    select count(*) as staged_rows from {qualified(model.schema, model.name)}
)
select
    loads.file_rows, staged.staged_rows, quarantined.quarantined_rows, removed.duplicate_rows,
    removed.soft_deleted_rows, loads.erased_rows
from loads
cross join staged
cross join quarantined
cross join removed
where loads.file_rows <> staged.staged_rows + quarantined.quarantined_rows + removed.duplicate_rows
    + removed.soft_deleted_rows + loads.erased_rows
""".strip()


def accounting_sql_for_days(model: Model, table: SourceTable, days: DayRange, lookback_days: int) -> str:
    """The same sum for the days a partial rebuild of a day-partitioned staging model wrote.

    Versions are ranked over the days read (the rebuilt days plus the lookback), as the staging model ranks them,
    but only rows filed under the rebuilt days are counted on either side.
    """
    column = model.partitioned_by_day
    if column is None:
        raise ValueError(f"{model.schema}.{model.name} is not partitioned by day")
    types = {column.name: column.type for column in table.columns}
    source_table = f"{table.source}.{table.name}"
    raw_day = quote(RAW_PARTITION_COLUMN)
    partition = ", ".join(quote(column) for column in table.primary_key)
    order = ", ".join(
        f"try_cast({quote(column)} as {types.get(column, 'varchar')}) desc nulls last" for column in table.version_order
    )
    deleted = _soft_deleted_sql(table)
    read = days.widened(lookback_days)
    return f"""
with
loads as (
    select coalesce(sum(file_rows), 0) as file_rows, coalesce(sum(erased_rows), 0) as erased_rows
    from {qualified(AUDIT_SCHEMA, RAW_PARTITION_LOADS_TABLE)}
    where source_table = '{source_table}' and {days.sql("partition_day")}
),
versions as (
    select
        {raw_day} as partition_day,
        row_number() over (partition by {partition} order by {order}) as version_rank,
        {deleted or "false"} as is_soft_deleted
    from {qualified(table.source, table.name)}
    where {read.sql(raw_day)}
),
removed as (
    select
        count(*) filter (where version_rank > 1) as duplicate_rows,
        count(*) filter (where version_rank = 1 and is_soft_deleted) as soft_deleted_rows
    from versions
    where {days.sql("partition_day")}
),
quarantined as (
    select count(*) as quarantined_rows
    from {qualified(QUARANTINE_SCHEMA, QUARANTINE_TABLE)}
    where source_table = '{source_table}' and {days.sql("partition_day")}
),
staged as (
    select count(*) as staged_rows from {qualified(model.schema, model.name)} where {days.sql(quote(column))}
)
select
    loads.file_rows, staged.staged_rows, quarantined.quarantined_rows, removed.duplicate_rows,
    removed.soft_deleted_rows, loads.erased_rows
from loads
cross join staged
cross join quarantined
cross join removed
where loads.file_rows <> staged.staged_rows + quarantined.quarantined_rows + removed.duplicate_rows
    + removed.soft_deleted_rows + loads.erased_rows
""".strip()


def with_row_accounting(model: Model, sources: list[SourceTable]) -> Model:
    """A staging model with its row-accounting check added (other models are returned as they are)."""
    if model.layer != "staging":
        return model
    by_key = {table.key: table for table in sources}
    raw = [by_key[ref.key] for ref in model.upstream if ref.key in by_key]
    if len(raw) != 1:
        return model
    assertion = Assertion(
        name=ACCOUNTING_CHECK,
        description=(
            f"Every row of the {raw[0].source}.{raw[0].name} file is staged, quarantined, a superseded duplicate, "
            "soft-deleted or erased: file rows = staged + quarantined + duplicates + soft-deleted + erased."
        ),
        sql=accounting_sql(model, raw[0]),
        upstream=(TableRef(schema=raw[0].source, name=raw[0].name),),
        sql_for_days=(functools.partial(accounting_sql_for_days, model, raw[0]) if model.partitioned_by_day else None),
    )
    return dataclasses.replace(model, assertions=(*model.assertions, assertion))
