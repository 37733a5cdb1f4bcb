"""Column-level lineage with sqlglot: which upstream table columns feed each output column of a model.

sqlglot needs the schemas of the upstream tables, or columns behind `select *` and joins resolve to placeholders
silently, so the caller passes the schemas read from the warehouse.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp
from sqlglot.lineage import lineage
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import build_scope

from pipelines.spec.models import DIALECT

# {schema: {table: {column: type}}}, the shape sqlglot takes.
Schema = dict[str, dict[str, dict[str, str]]]
ColumnLineage = dict[str, list[tuple[str, str, str]]]


def column_lineage(sql: str, output_columns: list[str], schema: Schema) -> ColumnLineage:
    """For each output column, the sorted `(schema, table, column)` upstream columns it is computed from.

    A column computed from no column (a literal, `count(*)`) maps to an empty list.
    """
    expression = qualify(sqlglot.parse_one(sql, dialect=DIALECT), schema=dict(schema), dialect=DIALECT)
    scope = build_scope(expression)
    # Every column in one pass over one copy of the query (asking per column copies the query each time).
    nodes = lineage(None, expression, schema=schema, dialect=DIALECT, scope=scope, trim_selects=False, copy=False)
    assert isinstance(nodes, dict)
    result: ColumnLineage = {}
    for column in output_columns:
        sources: set[tuple[str, str, str]] = set()
        for step in nodes[column].walk():
            if isinstance(step.expression, exp.Table):
                table = step.expression
                sources.add((table.db, table.name, exp.to_column(step.name).name))
        result[column] = sorted(sources)
    return result
