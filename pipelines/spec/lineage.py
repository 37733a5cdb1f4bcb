"""Column-level lineage with sqlglot: which upstream table columns feed each output column of a model, and how.

sqlglot needs the schemas of the upstream tables, or columns behind `select *` and joins resolve to placeholders
silently, so the caller passes the schemas read from the warehouse.

How a column feeds an output column is read from the expressions along the way (each CTE or subquery the column
passes through is one step): `direct` when every step only selects it (maybe renamed or cast), `aggregated` when a
step puts it under an aggregate or window function (`sum`, `count(*) filter (where ...)`, `row_number() over
(partition by ...)`), `derived` otherwise (arithmetic, `case`, any other function). The strongest step wins: a sum
of a derived column is aggregated, a renamed sum is aggregated too.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

import sqlglot
from sqlglot import exp
from sqlglot.lineage import Node, lineage
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import build_scope, find_all_in_scope

from pipelines.spec.models import DIALECT

# {schema: {table: {column: type}}}, the shape sqlglot takes.
Schema = dict[str, dict[str, dict[str, str]]]
ColumnRef = tuple[str, str, str]  # (schema, table, column)
ColumnLineage = dict[str, list[ColumnRef]]
How = Literal["direct", "derived", "aggregated"]
# output column -> {upstream column: how it feeds the output column}
ClassifiedLineage = dict[str, dict[ColumnRef, How]]

_STRENGTH: dict[How, int] = {"direct": 0, "derived": 1, "aggregated": 2}
# Expressions under which a column is aggregated: `filter (where ...)` and `within group (order by ...)` wrap one.
_AGGREGATING = (exp.AggFunc, exp.Window, exp.Filter, exp.WithinGroup)


def column_lineage(sql: str, output_columns: list[str], schema: Schema) -> ColumnLineage:
    """For each output column, the sorted `(schema, table, column)` upstream columns it is computed from.

    A column computed from no column (a literal, `count(*)`) maps to an empty list.
    """
    return {column: sorted(sources) for column, sources in classified_lineage(sql, output_columns, schema).items()}


def classified_lineage(sql: str, output_columns: list[str], schema: Schema) -> ClassifiedLineage:
    """For each output column, its upstream columns and how each feeds it (see the module docstring).

    A column computed from no column (a literal, `count(*)`) maps to an empty dict.
    """
    expression = qualify(sqlglot.parse_one(sql, dialect=DIALECT), schema=dict(schema), dialect=DIALECT)
    scope = build_scope(expression)
    # Every column in one pass over one copy of the query (asking per column copies the query each time).
    nodes = lineage(None, expression, schema=schema, dialect=DIALECT, scope=scope, trim_selects=False, copy=False)
    assert isinstance(nodes, dict)
    memo: dict[int, dict[ColumnRef, How]] = {}
    return {column: dict(_sources(nodes[column], memo, frozenset())) for column in output_columns}


def _sources(node: Node, memo: dict[int, dict[ColumnRef, How]], path: frozenset[int]) -> dict[ColumnRef, How]:
    """The upstream table columns under a lineage node and how each reaches it; shared nodes are worked out once."""
    if id(node) in memo:
        return memo[id(node)]
    if isinstance(node.expression, exp.Table):
        table = node.expression
        return {(table.db, table.name, exp.to_column(node.name).name): "direct"}
    found: dict[ColumnRef, How] = {}
    for downstream in node.downstream:
        if id(downstream) in path:  # a recursive CTE reads itself
            continue
        step = _step_kind(node, downstream)
        for source, how in _sources(downstream, memo, path | {id(node)}).items():
            found[source] = _strongest(found.get(source, "direct"), _strongest(step, how))
    memo[id(node)] = found
    return found


def _strongest(first: How, second: How) -> How:
    return first if _STRENGTH[first] >= _STRENGTH[second] else second


def _step_kind(node: Node, downstream: Node) -> How:
    """How the projection of `node` uses the column `downstream` stands for.

    A union passes its branches' columns through; the branches judge their own projections.
    """
    if isinstance(node.source, exp.SetOperation):
        return "direct"
    references = list(find_all_in_scope(node.expression, exp.Column))
    matching = [column for column in references if _leads_to(column, downstream)] or references
    kinds: list[How] = [_reference_kind(node.expression, column) for column in matching]
    if not kinds:
        return "derived"  # a scalar subquery: its own projection says whether it aggregates
    return max(kinds, key=_STRENGTH.__getitem__)


def _leads_to(column: exp.Column, downstream: Node) -> bool:
    """Whether lineage went from this column reference to `downstream`: a node is named `table.column`, but a branch
    of a union read from a CTE is named by its position, the position of the column among the union's columns."""
    union = downstream.source.parent if isinstance(downstream.source, exp.Select) else None
    while isinstance(union, exp.SetOperation) and isinstance(union.parent, exp.SetOperation):
        union = union.parent
    if isinstance(union, exp.SetOperation) and downstream.name.isdigit():
        return column.name == union.named_selects[int(downstream.name)]
    return downstream.name in (column.sql(dialect=DIALECT, comments=False), f"{column.table}.{column.name}")


def _reference_kind(select: exp.Expr, column: exp.Column) -> How:
    if any(isinstance(ancestor, _AGGREGATING) for ancestor in _ancestors(column, select)):
        return "aggregated"
    return "direct" if _unwrapped(select) is column else "derived"


def _ancestors(node: exp.Expr, root: exp.Expr) -> Iterator[exp.Expr]:
    """The expressions from `node`'s parent up to `root`, included."""
    parent = node.parent
    while parent is not None:
        yield parent
        if parent is root:
            return
        parent = parent.parent


def _unwrapped(select: exp.Expr) -> exp.Expr:
    """The projection without its alias, casts and parentheses: a bare column when it only passes one through."""
    inner = select
    while isinstance(inner, exp.Alias | exp.Cast | exp.Paren):  # exp.TryCast is a Cast
        inner = inner.this
    return inner
