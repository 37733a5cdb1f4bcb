"""DuckDB SQL -> Spark SQL: sqlglot's transpiler plus the project's own rewrite rules, so the same model files run
on Spark (`flywheel run --engine spark`) and give DuckDB's values.

sqlglot turns most DuckDB SQL into Spark SQL as it is. A few constructs transpile to SQL that Spark rejects or
computes differently; each has a rule below, a small function over the DuckDB syntax tree whose docstring says what
Spark lacks and why the rewrite computes the same value. `to_spark` applies every rule, then generates Spark SQL with
`unsupported_level=RAISE`, so a construct neither sqlglot nor a rule can express raises `SparkTranspileError`
naming it, and the lint (tests/contract/test_spark_transpile.py) checks that the output calls only functions Spark
has (`spark_functions.txt`, written by `python -m benchmarks.spark_function_list`).

Statement kinds `to_spark` accepts: queries (`select`, `with ... select`, set operations), boolean conditions (a
quarantine rule's `when`), and the DDL and DML sqlglot transpiles (`create table ... as select`, `insert`, `drop`).
`create or replace table` is transpiled as written, but Spark's session catalog cannot replace a Parquet table:
the caller (pipelines/warehouse/spark/connection.py) drops the table and creates it.

What the Spark session must be for the values to equal DuckDB's: `spark.sql.session.timeZone=UTC` (DuckDB's
connection runs in UTC; `cast(utc as timestamptz) at time zone tz` and `epoch` read timestamps in the session zone)
and ANSI mode as Spark 4 ships it; QUALIFY is left to Spark (the pinned pyspark 4.3 runs it). Known differences
left: `format('{:.2f}', x)` rounds an exact binary tie (2.675, 0.125) half-even in DuckDB (2.67, 0.12) and half-up
in Spark (2.68, 0.13); subtracting two dates gives a number of days in DuckDB and an interval in Spark (no model
does it; `date_diff('day', a, b)` works in both); `list(x)` keeps nulls in DuckDB, Spark's `collect_list` drops them
(no model does it); the types below.

Column types as they come back (`SPARK_TYPE_OF_DUCKDB`, `comparable_type`): Spark has no unsigned or 128-bit
integers, no `varchar(n)` and no JSON type (JSON is text). On the demo seeds 27 of the 903 model columns come back
with another type than the mapping gives, all from arithmetic: a sum of `decimal(18,4)` is `DECIMAL(38,4)` in
DuckDB and `decimal(28,4)` to `decimal(30,4)` in Spark (Spark widens a sum's precision by 10, DuckDB to 38); a sum
of integers, `HUGEINT` in DuckDB, is `bigint` in Spark; a rank (`row_number`, `dense_rank`), `BIGINT` in DuckDB,
is `int` in Spark. Division is a double in both (see `_division_as_double`). `comparable_type` maps both engines'
spellings to one family (integer, decimal, floating, text, boolean, date, timestamp, interval, other), the level at
which a parity test can demand equal types.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import ClassVar

import sqlglot
from sqlglot import exp, transforms
from sqlglot.dialects.spark import Spark
from sqlglot.errors import ErrorLevel, ParseError, SqlglotError, UnsupportedError
from sqlglot.generators.spark import SparkGenerator

# The functions Spark has, one lower-case name a line, from `show functions` on the pinned Spark
# (benchmarks/spark_function_list.py writes it; run it again after a Spark upgrade).
SPARK_FUNCTIONS_FILE = Path(__file__).with_name("spark_functions.txt")

# DuckDB type (as DESCRIBE prints it) -> Spark type (as `typeof` or a DataFrame schema prints it), for plain columns.
SPARK_TYPE_OF_DUCKDB: Mapping[str, str] = {
    "BOOLEAN": "boolean",
    "TINYINT": "tinyint",
    "SMALLINT": "smallint",
    "INTEGER": "int",
    "BIGINT": "bigint",
    "HUGEINT": "decimal(38,0)",
    "UTINYINT": "smallint",
    "USMALLINT": "int",
    "UINTEGER": "bigint",
    "UBIGINT": "decimal(20,0)",
    "FLOAT": "float",
    "DOUBLE": "double",
    "VARCHAR": "string",
    "DATE": "date",
    "TIMESTAMP": "timestamp_ntz",
    "TIMESTAMP WITH TIME ZONE": "timestamp",
    "INTERVAL": "interval",
    "BLOB": "binary",
}

_TYPE_FAMILIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("integer", ("tinyint", "smallint", "int", "integer", "bigint", "hugeint", "long", "short", "byte", "u")),
    ("decimal", ("decimal", "numeric")),
    ("floating", ("double", "float", "real")),
    ("text", ("varchar", "string", "char", "text")),
    ("boolean", ("boolean", "bool")),
    ("timestamp", ("timestamp",)),
    ("date", ("date",)),
    ("interval", ("interval",)),
)


class SparkTranspileError(ValueError):
    """DuckDB SQL that has no Spark form: the message names the construct and the text around it."""


def comparable_type(type_name: str) -> str:
    """The family of a column type, spelled the same for DuckDB's and Spark's names (`HUGEINT` and `bigint` ->
    `integer`; `DECIMAL(18,2)` and `decimal(38,2)` -> `decimal`), so a parity test compares what both engines agree
    on. Integer types are one family because Spark has no unsigned or 128-bit integers."""
    name = type_name.strip().lower()
    for family, prefixes in _TYPE_FAMILIES:
        if name.startswith(prefixes):
            return family
    return "other"


def _function(name: str, *args: exp.Expr) -> exp.Anonymous:
    """A call of a Spark function sqlglot has no expression for."""
    return exp.Anonymous(this=name, expressions=list(args))


def _to_days(node: exp.Expr) -> exp.Expr:
    """`to_days(n)` -> `make_dt_interval(n)`: Spark has no `to_days`; both build an interval of n whole days, which
    added to a timestamp moves it by n x 24 hours in both engines (UTC sessions have no daylight saving)."""
    if isinstance(node, exp.ToDays):
        return _function("make_dt_interval", node.this)
    return node


def _to_months(node: exp.Expr) -> exp.Expr:
    """`to_months(n)` -> `make_ym_interval(0, n)`: Spark has no `to_months`; both add calendar months and clamp to the
    month's last day (Jan 31 + 1 month = Feb 29 in 2020) in both engines."""
    if isinstance(node, exp.Anonymous) and node.name.lower() == "to_months" and len(node.expressions) == 1:
        return _function("make_ym_interval", exp.Literal.number(0), node.expressions[0])
    return node


def _generator_out_of_cast(node: exp.Expr) -> exp.Expr:
    """`cast(unnest(list) as t)` -> `explode(transform(list, x -> cast(x as t)))`: Spark refuses a generator
    (explode) nested inside another expression; casting each element before exploding gives the same rows."""
    if isinstance(node, exp.Cast) and isinstance(node.this, (exp.Explode, exp.Unnest)):
        generator = node.this
        values = generator.this if isinstance(generator, exp.Explode) else generator.expressions[0]
        element = exp.to_identifier("generated_value")
        cast = exp.Cast(this=exp.column(element), to=node.to.copy())
        transformed = exp.Transform(this=values.copy(), expression=exp.Lambda(this=cast, expressions=[element]))
        return exp.Explode(this=transformed)
    return node


def _quantile_cont(node: exp.Expr) -> exp.Expr:
    """`quantile_cont(x, p)` -> `percentile(x, p)`: sqlglot writes a two-argument `percentile_cont` that Spark
    rejects (it only takes the `within group` form); `percentile` interpolates linearly between the closest ranks,
    as `quantile_cont` does, and both skip nulls."""
    if isinstance(node, exp.PercentileCont) and node.expression is not None:
        return _function("percentile", node.this, node.expression)
    return node


def _epoch(node: exp.Expr) -> exp.Expr:
    """`epoch(ts)` -> `unix_micros(cast(ts as timestamp)) / 1e6`: sqlglot writes `unix_timestamp`, which drops the
    fraction of a second and makes later division DECIMAL; DuckDB's `epoch` is the seconds as a double, fraction
    kept. Dividing the microseconds as a double gives the same double."""
    if isinstance(node, exp.TimeToUnix):
        micros = _function("unix_micros", exp.cast(node.this.copy(), exp.DType.TIMESTAMP))
        return exp.Div(this=exp.cast(micros, exp.DType.DOUBLE), expression=exp.Literal.number(1_000_000))
    return node


# The units DuckDB's date_diff counts as boundaries crossed and Spark's date_trunc knows, with Spark's spelling.
_BOUNDARY_UNITS: Mapping[str, str] = {"year": "YEAR", "quarter": "QUARTER", "month": "MONTH", "day": "DAY"}


def _date_diff_boundaries(node: exp.Expr) -> exp.Expr:
    """`date_diff('day', a, b)` -> `timestampdiff(DAY, date_trunc('DAY', a), date_trunc('DAY', b))`: DuckDB counts
    the unit's boundaries crossed (23:00 to 01:00 the next day is 1 day; Jan 31 to Feb 1 is 1 month), Spark's
    `timestampdiff` counts whole units elapsed (0 and 0). Truncating both ends to the unit first makes every
    elapsed unit whole, so Spark counts the boundaries too. A unit outside year, quarter, month and day raises:
    DuckDB counts whole weeks elapsed, not week boundaries, and the other units are not verified on Spark."""
    if not isinstance(node, exp.DateDiff):
        return node
    unit = node.unit.name.lower() if node.unit is not None else "day"
    spark_unit = _BOUNDARY_UNITS.get(unit)
    if spark_unit is None:
        raise SparkTranspileError(f"date_diff('{unit}', ...) has no Spark rewrite: {node.sql('duckdb')}")

    def truncated(value: exp.Expr) -> exp.Expr:
        return _function("date_trunc", exp.Literal.string(spark_unit), value.copy())

    return _function("timestampdiff", exp.var(spark_unit), truncated(node.expression), truncated(node.this))


def _utc_to_local(node: exp.Expr) -> exp.Expr:
    """`cast(utc as timestamptz) at time zone tz` -> `from_utc_timestamp(utc, tz)`: the project's idiom for a UTC
    timestamp's wall-clock time in the reporting time zone. sqlglot keeps the cast to a zoned timestamp, which Spark
    reads in the session zone and then renders in UTC again; `from_utc_timestamp` reads the value as UTC and returns
    the wall-clock time in `tz`, as DuckDB does in a UTC session."""
    if not isinstance(node, exp.AtTimeZone):
        return node
    value = node.this
    if isinstance(value, exp.Cast) and value.to.this in (exp.DType.TIMESTAMPTZ, exp.DType.TIMESTAMPLTZ):
        return _function("from_utc_timestamp", value.this.copy(), node.args["zone"].copy())
    raise SparkTranspileError(f"'at time zone' over a value that is not cast to timestamptz: {node.sql('duckdb')}")


_FORMAT_FIELD = re.compile(r"\{(:\.(?P<digits>\d+)f)?\}")


def _format(node: exp.Expr) -> exp.Expr:
    """`format('{:.2f}', x)` -> `format_string('%.2f', cast(x as double))`: DuckDB's `format` takes Python-style
    fields, Spark's `format_string` printf-style ones, and refuses a decimal for `%f` (DuckDB formats a decimal as
    a double too). Only `{}` and `{:.Nf}` fields are translated; any other field raises."""
    if not isinstance(node, exp.Format):
        return node
    template = node.this
    if not (isinstance(template, exp.Literal) and template.is_string):
        raise SparkTranspileError(f"format() with a template that is not a literal: {node.sql('duckdb')}")
    text = template.name.replace("%", "%%")
    if re.sub(_FORMAT_FIELD, "", text).count("{"):
        raise SparkTranspileError(f"format() field other than {{}} or {{:.Nf}}: {node.sql('duckdb')}")
    fields = list(_FORMAT_FIELD.finditer(text))
    args = [arg.copy() for arg in node.expressions]
    for index, field in enumerate(fields):
        if field.group("digits") is not None and index < len(args):
            args[index] = exp.cast(args[index], exp.DType.DOUBLE)
    spark_text = _FORMAT_FIELD.sub(lambda m: f"%.{m.group('digits')}f" if m.group("digits") else "%s", text)
    return _function("format_string", exp.Literal.string(spark_text), *args)


def _isfinite(node: exp.Expr) -> exp.Expr:
    """`isfinite(x)` -> `not isnan(x) and abs(x) <> double('inf')`: Spark has no `isfinite`; both are null for a
    null x, false for NaN and the infinities, true otherwise."""
    if isinstance(node, exp.Anonymous) and node.name.lower() == "isfinite" and len(node.expressions) == 1:
        value = exp.cast(node.expressions[0].copy(), exp.DType.DOUBLE)
        infinite = exp.cast(exp.Literal.string("Infinity"), exp.DType.DOUBLE)
        finite = exp.and_(
            exp.not_(_function("isnan", value)), exp.NEQ(this=exp.Abs(this=value.copy()), expression=infinite)
        )
        return exp.Paren(this=finite)
    return node


def _getvariable(node: exp.Expr) -> exp.Expr:
    """`getvariable('name')` -> `system.session.name`: DuckDB reads a connection variable by a function, Spark reads a
    session variable (`declare variable name ...`) by its qualified name. An unset variable is null in DuckDB;
    on Spark the caller declares every variable the SQL reads (null when the run has no value)."""
    if isinstance(node, exp.Anonymous) and node.name.lower() == "getvariable" and len(node.expressions) == 1:
        name = node.expressions[0]
        if not (isinstance(name, exp.Literal) and name.is_string):
            raise SparkTranspileError(f"getvariable() of a name that is not a literal: {node.sql('duckdb')}")
        return exp.column(name.name, table="session", db="system")
    return node


def _json_cast(node: exp.Expr) -> exp.Expr:
    """`cast(text as json)` -> `text`: DuckDB's JSON type is text that parsed as JSON, so the cast only validates;
    sqlglot writes `to_json(text)`, which Spark refuses for a string. Spark's JSON functions (`get_json_object`)
    read JSON text as it is."""
    if isinstance(node, exp.Cast) and node.to.this == exp.DType.JSON:
        return node.this.copy()
    return node


def _distinct_string_agg(node: exp.Expr) -> exp.Expr:
    """`string_agg(distinct x, sep order by x)` -> `array_join(array_sort(collect_set(x)), sep)`, null when no value:
    Spark's `listagg(distinct ...) within group` fails in its optimizer when the aggregate has a FILTER. Both skip
    nulls, keep each value once, sort ascending and give null over no value. Only ordering by the aggregated value
    (or no order) is rewritten; a `filter (where ...)` moves onto `collect_set`."""
    aggregate, condition = (node.this, node.expression) if isinstance(node, exp.Filter) else (node, None)
    if not isinstance(aggregate, exp.GroupConcat) or (condition is None and isinstance(node.parent, exp.Filter)):
        return node  # an aggregate under a filter is rewritten with it, from the filter
    ordered = aggregate.this
    order = ordered.expressions if isinstance(ordered, exp.Order) else []
    distinct = ordered.this if isinstance(ordered, exp.Order) else ordered
    if not isinstance(distinct, exp.Distinct) or len(distinct.expressions) != 1:
        return node
    value = distinct.expressions[0]
    if any(key.this != value or key.args.get("desc") for key in order):
        raise SparkTranspileError(f"string_agg(distinct ...) ordered by another expression: {node.sql('duckdb')}")
    values: exp.Expr = _function("collect_set", value.copy())
    if condition is not None:
        values = exp.Filter(this=values, expression=condition.copy())
    values = _function("array_sort", values)
    separator = aggregate.args.get("separator") or exp.Literal.string(",")
    joined = _function("array_join", values, separator.copy())
    empty = exp.EQ(this=_function("size", values.copy()), expression=exp.Literal.number(0))
    return exp.If(this=empty, true=exp.null(), false=joined)


def _division_as_double(node: exp.Expr) -> exp.Expr:
    """`a / b` -> `cast(a as double) / b`: DuckDB divides decimals (and integers) as doubles, Spark keeps decimals
    DECIMAL and rounds the quotient to its scale (0.693933 for 0.6939326371...). Casting the dividend makes Spark
    divide doubles too, as DuckDB does, so the quotient and its type (double) agree."""
    if isinstance(node, exp.Div) and not node.args.get("typed"):
        dividend = node.this
        if isinstance(dividend, exp.Div) or (isinstance(dividend, exp.Cast) and dividend.to.this == exp.DType.DOUBLE):
            return node  # already a double: a quotient (rewritten before its parent) or a cast
        return exp.Div(this=exp.cast(dividend.copy(), exp.DType.DOUBLE), expression=node.expression.copy())
    return node


def _regexp_replace_all(node: exp.Expr) -> exp.Expr:
    """`regexp_replace(s, pattern, by, 'g')` -> `regexp_replace(s, pattern, by)`: Spark always replaces every match,
    DuckDB only with the `g` option. Without it DuckDB replaces the first match only, which Spark cannot express,
    so that (and any other option) raises."""
    if not isinstance(node, exp.RegexpReplace):
        return node
    options = node.args.get("modifiers")
    if not (isinstance(options, exp.Literal) and options.name == "g"):
        raise SparkTranspileError(
            f"regexp_replace without the 'g' option replaces the first match only, Spark replaces all: "
            f"{node.sql('duckdb')}"
        )
    return exp.RegexpReplace(
        this=node.this.copy(), expression=node.expression.copy(), replacement=node.args["replacement"].copy()
    )


def _regexp_full_match(node: exp.Expr) -> exp.Expr:
    """`regexp_full_match(s, p)` -> `s rlike concat('^(?:', p, ')$')`: Spark has no full-match function and `rlike`
    matches anywhere in the text; anchoring the whole pattern in a group makes it match all of the text or nothing,
    as DuckDB's does. Options (a third argument) raise."""
    if not isinstance(node, exp.RegexpFullMatch):
        return node
    if node.args.get("options"):
        raise SparkTranspileError(f"regexp_full_match with options has no Spark rewrite: {node.sql('duckdb')}")
    anchored = exp.func("concat", exp.Literal.string("^(?:"), node.expression.copy(), exp.Literal.string(")$"))
    return exp.RegexpLike(this=node.this.copy(), expression=anchored)


# Every rule, applied to each node of the DuckDB tree, in this order.
RULES: tuple[Callable[[exp.Expr], exp.Expr], ...] = (
    _to_days,
    _to_months,
    _generator_out_of_cast,
    _quantile_cont,
    _epoch,
    _date_diff_boundaries,
    _utc_to_local,
    _format,
    _isfinite,
    _getvariable,
    _json_cast,
    _distinct_string_agg,
    _division_as_double,
    _regexp_replace_all,
    _regexp_full_match,
)

# DuckDB-only syntax sqlglot parses but Spark cannot run, found in the tree before generating: node type -> name.
_DUCKDB_ONLY: Mapping[type[exp.Expr], str] = {exp.Columns: "COLUMNS(...)"} if hasattr(exp, "Columns") else {}


class _QualifyKeepingGenerator(SparkGenerator):
    """Spark as sqlglot writes it, but with QUALIFY kept: Spark 4 runs QUALIFY itself, and sqlglot's rewrite of it
    into a subquery leaks its helper column (`_w`) into `select *`."""

    TRANSFORMS: ClassVar[dict[type[exp.Expr], Callable[..., str]]] = {
        **SparkGenerator.TRANSFORMS,
        exp.Select: transforms.preprocess(
            [transforms.eliminate_distinct_on, transforms.unnest_to_explode, transforms.any_to_exists]
        ),
    }


class SparkDialect(Spark):
    """The Spark dialect with the generator above."""

    Generator = _QualifyKeepingGenerator


def _apply_rules(node: exp.Expr) -> exp.Expr:
    """Every rule on `node` and everything under it, children first (so a rule sees its arguments rewritten, and a
    rewritten node's arguments are rewritten too, which sqlglot's `transform` skips), each rule on what the previous
    one returned. One walk, in place: the tree is `to_spark`'s own parse."""
    for child in list(node.iter_expressions()):
        rewritten = _apply_rules(child)
        if rewritten is not child:
            child.replace(rewritten)
    for rule in RULES:
        node = rule(node)
    return node


def _excerpt(sql: str, limit: int = 160) -> str:
    """The SQL on one line, shortened, to quote in an error message."""
    flat = " ".join(sql.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def _reject_duckdb_only(tree: exp.Expr, sql: str) -> None:
    """Raise for syntax sqlglot parses from DuckDB but writes into Spark as something else or nothing."""
    for star in tree.find_all(exp.Star):
        # `* exclude (...)` is written `* except (...)`, which Spark 4 runs; these two Spark has no form of.
        for modifier in ("replace", "rename"):
            if star.args.get(modifier):
                raise SparkTranspileError(
                    f"'* {modifier.upper()} (...)' is DuckDB-only (list the columns instead): {_excerpt(sql)}"
                )
    for union in tree.find_all(exp.Union):
        if union.args.get("by_name"):
            raise SparkTranspileError(f"'UNION BY NAME' is DuckDB-only: {_excerpt(sql)}")
    for join in tree.find_all(exp.Join):
        if "asof" in (join.text("kind") + join.text("side") + join.text("method")).lower():
            raise SparkTranspileError(f"'ASOF JOIN' is DuckDB-only: {_excerpt(sql)}")
    for node_type, name in _DUCKDB_ONLY.items():
        if tree.find(node_type) is not None:
            raise SparkTranspileError(f"'{name}' is DuckDB-only: {_excerpt(sql)}")


@functools.lru_cache(maxsize=4096)
def _transpiled(sql: str) -> exp.Expr:
    """The DuckDB tree of `sql` with every rule applied, ready to be written as Spark SQL; not to be changed."""
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except ParseError as error:
        description = error.errors[0]["description"] if error.errors else str(error)
        raise SparkTranspileError(f"does not parse as DuckDB SQL ({description}): {_excerpt(sql)}") from error
    if tree is None:
        raise SparkTranspileError("no SQL statement to transpile")
    _reject_duckdb_only(tree, sql)
    return _apply_rules(tree)


@functools.lru_cache(maxsize=4096)
def to_spark(sql: str) -> str:
    """The Spark SQL for one DuckDB statement or condition, with the project's rules applied (see the module
    docstring for the statement kinds). Cached by text: the same model SQL is transpiled on every build."""
    try:
        return _transpiled(sql).sql(dialect=SparkDialect, unsupported_level=ErrorLevel.RAISE)
    except UnsupportedError as error:
        raise SparkTranspileError(f"{error} in: {_excerpt(sql)}") from error
    except SqlglotError as error:
        raise SparkTranspileError(f"cannot be written as Spark SQL ({error}): {_excerpt(sql)}") from error


# Spark's own syntax that sqlglot writes as a function call but `show functions` does not list.
SPARK_SYNTAX_FUNCTIONS: frozenset[str] = frozenset({"cast", "try_cast", "timestampdiff", "timestampadd", "extract"})


def spark_functions() -> frozenset[str]:
    """The names of the functions Spark has (lower case): those vendored in `spark_functions.txt` and its syntax."""
    listed = (line.strip() for line in SPARK_FUNCTIONS_FILE.read_text().splitlines())
    return frozenset(name for name in listed if name) | SPARK_SYNTAX_FUNCTIONS


def called_functions(spark_sql: str) -> set[str]:
    """The names of the functions a Spark statement calls, read back from its Spark syntax tree (lower case)."""
    return _functions_in(sqlglot.parse_one(spark_sql, read=SparkDialect))


def _functions_in(tree: exp.Expr) -> set[str]:
    """The names Spark SQL written from `tree` calls its functions by: a function sqlglot does not know keeps its
    name, one written by its own name gives that, the rest are written out to read the name Spark sees."""
    generator = SparkDialect().generator()
    names: set[str] = set()
    for function in tree.find_all(exp.Func):
        if isinstance(function, exp.Anonymous):
            names.add(function.name.lower())
        elif type(function) not in generator.TRANSFORMS and not hasattr(generator, f"{function.key}_sql"):
            names.add(function.sql_name().lower())  # written by its own name: no need to render it
        else:
            rendered = generator.generate(function)
            head = rendered.split("(", 1)[0].strip() if "(" in rendered else ""
            if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", head):
                names.add(head.lower())
    return names


def spark_problems(sql: str) -> list[str]:
    """Why a DuckDB statement would not run on Spark: its transpile error, or each function the Spark SQL calls that
    Spark lacks (a DuckDB-only function sqlglot passes through by name). Empty: it transpiles to known functions."""
    try:
        to_spark(sql)
    except SparkTranspileError as error:
        return [str(error)]
    missing = sorted(_functions_in(_transpiled(sql)) - spark_functions())
    return [f"calls {name}(), which Spark does not have" for name in missing]
