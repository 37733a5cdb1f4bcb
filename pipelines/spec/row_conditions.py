"""Suite row conditions, written in pandas' query syntax, as DuckDB SQL.

Suites say which rows an expectation looks at with a pandas-style `row_condition` (`mql_at.notnull()`,
`is_won == True`, `pql_at.isnull() | (pql_at > accepted_at)`). Great Expectations' SQL engine only accepts its own
conditions, which compare one column with a literal, so a condition comparing two columns or negating one cannot be
handed to it. Instead each condition becomes a SQL boolean computed in the validated query, and the expectation looks
at the rows where it is true. A row where the condition is unknown (a comparison with a null) is left out, as pandas
leaves out a row where it is NaN or NA.

Supported: column names; string, number and boolean literals and lists of them; `== != < <= > >=` (chained too),
`in`/`not in` a list; `and`/`or`/`not` and `&`/`|`/`~`; `+ - * /`; `.notnull()`, `.notna()`, `.isnull()`, `.isna()`.
Anything else raises `ConditionError` naming the part that has no SQL equivalent.
"""

from __future__ import annotations

import ast

_COMPARISONS: dict[type[ast.cmpop], str] = {
    ast.Eq: "=",
    ast.NotEq: "<>",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.In: "in",
    ast.NotIn: "not in",
}
_ARITHMETIC: dict[type[ast.operator], str] = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
_NULL_TESTS: dict[str, str] = {"notnull": "is not null", "notna": "is not null", "isnull": "is null", "isna": "is null"}


class ConditionError(ValueError):
    """A row condition that does not parse or has no SQL equivalent; the message says which part."""


def condition_sql(condition: str) -> str:
    """The SQL boolean expression of a pandas-syntax row condition."""
    try:
        tree = ast.parse(condition.strip(), mode="eval")
    except SyntaxError as error:
        raise ConditionError(f"row condition {condition!r} is not valid: invalid syntax ({error.msg})") from error
    try:
        return _sql(tree.body)
    except ConditionError as error:
        raise ConditionError(f"row condition {condition!r}: {error}") from error


def _is_date_difference(node: ast.expr) -> bool:
    """Whether the node subtracts one `<event>_date` column from another (the house naming of date columns).

    Such a difference is a number of days, written `date_diff('day', earlier, later)`: DuckDB's `date - date` gives
    the same integer, but Spark's gives an interval that does not compare with a number, so a condition such as
    `billing_started_date - closed_date <= 30` must say what it means to run on both engines.
    """
    return (
        isinstance(node, ast.BinOp)
        and isinstance(node.op, ast.Sub)
        and all(isinstance(side, ast.Name) and side.id.endswith("_date") for side in (node.left, node.right))
    )


def _sql(node: ast.expr) -> str:
    """One node of the condition as SQL, parenthesised wherever precedence could differ."""
    if isinstance(node, ast.BoolOp):
        joiner = " and " if isinstance(node.op, ast.And) else " or "
        return "(" + joiner.join(_sql(value) for value in node.values) + ")"
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitAnd | ast.BitOr):
        joiner = " and " if isinstance(node.op, ast.BitAnd) else " or "
        return f"({_sql(node.left)}{joiner}{_sql(node.right)})"
    if _is_date_difference(node):
        assert isinstance(node, ast.BinOp)
        return f"date_diff('day', {_sql(node.right)}, {_sql(node.left)})"
    if isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
        return f"({_sql(node.left)} {_ARITHMETIC[type(node.op)]} {_sql(node.right)})"
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Invert | ast.Not):
        return f"(not {_sql(node.operand)})"
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return f"(-{_sql(node.operand)})"
    if isinstance(node, ast.Compare):
        return _comparison(node)
    if isinstance(node, ast.Call):
        return _null_test(node)
    if isinstance(node, ast.Name):
        return '"' + node.id.replace('"', '""') + '"'
    if isinstance(node, ast.Constant):
        return _literal(node.value)
    if isinstance(node, ast.List | ast.Tuple):
        return "(" + ", ".join(_sql(item) for item in node.elts) + ")"
    raise ConditionError(f"`{ast.unparse(node)}` has no SQL equivalent")


def _comparison(node: ast.Compare) -> str:
    """`a < b <= c` as `(a < b and b <= c)`, as Python and pandas read it."""
    parts = []
    left = node.left
    for operator, right in zip(node.ops, node.comparators, strict=True):
        if type(operator) not in _COMPARISONS:
            raise ConditionError(f"the comparison `{ast.unparse(node)}` has no SQL equivalent")
        if isinstance(operator, ast.In | ast.NotIn) and not isinstance(right, ast.List | ast.Tuple):
            raise ConditionError(f"`{ast.unparse(node)}`: `in` needs a list of values")
        parts.append(f"{_sql(left)} {_COMPARISONS[type(operator)]} {_sql(right)}")
        left = right
    return "(" + " and ".join(parts) + ")"


def _null_test(node: ast.Call) -> str:
    """`column.notnull()` and its spellings."""
    function = node.func
    if (
        isinstance(function, ast.Attribute)
        and function.attr in _NULL_TESTS
        and isinstance(function.value, ast.Name)
        and not node.args
        and not node.keywords
    ):
        return f"({_sql(function.value)} {_NULL_TESTS[function.attr]})"
    raise ConditionError(f"`{ast.unparse(node)}` has no SQL equivalent (only column.notnull()/isnull() calls)")


def _literal(value: object) -> str:
    """A Python literal as SQL; strings quoted with single quotes doubled."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise ConditionError(f"the literal {value!r} has no SQL equivalent")
