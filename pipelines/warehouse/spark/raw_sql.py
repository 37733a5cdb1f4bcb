"""The Spark SQL a raw load on Spark runs: the quarantine rules, the erasure match and the free-text redaction,
written once for DuckDB (pipelines/spec/sources.py, pipelines/spec/personal_data.py) and transpiled here.

The rule conditions of a contract are DuckDB SQL. Three of their constructs have no Spark spelling sqlglot knows, so
they are rewritten first, in DuckDB terms Spark understands once transpiled: `getvariable('<horizon bound>')` (a
DuckDB variable) becomes the bound as a literal, read from the Spark session's configuration
(`set_horizon_on_spark`); `isfinite(x)` becomes "not NaN and not infinite"; `try_cast(x as json)` becomes Spark's
`try_parse_json(x)`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

import sqlglot
from sqlglot import exp

from pipelines.spec.personal_data import personal_value_sql
from pipelines.spec.sources import HORIZON_EARLIEST, HORIZON_LATEST, HORIZON_LATEST_SCHEDULED, SourceTable

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# The Spark configuration keys holding the data horizon's bounds (ISO text), one per DuckDB variable of the rules.
HORIZON_CONF_PREFIX = "spark.flywheel.horizon."
HORIZON_VARIABLES = (HORIZON_EARLIEST, HORIZON_LATEST, HORIZON_LATEST_SCHEDULED)
# Temporary views the erasure match reads: the keyed hashes of the list, and the HMAC pads of the key (so the key
# never appears in SQL text, which Spark logs and shows in its plans).
ERASURES_VIEW = "_flywheel_erasures"
KEY_VIEW = "_flywheel_erasure_key"


def _spark_sql(sql: str) -> str:
    """DuckDB SQL as Spark SQL."""
    return sqlglot.transpile(sql, read="duckdb", write="spark")[0]


def spark_identifier(name: str) -> str:
    """A Spark identifier in backticks (a backtick inside doubled)."""
    return "`" + name.replace("`", "``") + "`"


def spark_string(text: str) -> str:
    """A Spark string literal, escaped the way Spark's parser reads it back."""
    return exp.Literal.string(text).sql(dialect="spark")


def set_horizon_on_spark(session: SparkSession, bounds: Mapping[str, datetime | None]) -> None:
    """Record (or clear, with None) the data horizon's bounds the quarantine rules read, like DuckDB's variables.

    `bounds` maps the variable names of `pipelines.spec.sources` (HORIZON_EARLIEST...) to naive UTC times.
    """
    for name in HORIZON_VARIABLES:
        value = bounds.get(name)
        if value is None:
            session.conf.unset(HORIZON_CONF_PREFIX + name)
        else:
            session.conf.set(HORIZON_CONF_PREFIX + name, value.isoformat(sep=" "))


def horizon_bounds(session: SparkSession) -> dict[str, str | None]:
    """The horizon bounds recorded on the session; a bound never set is None, and no row breaks its rule."""
    return {name: session.conf.get(HORIZON_CONF_PREFIX + name, None) for name in HORIZON_VARIABLES}


def _rewritten(node: exp.Expression, horizon: Mapping[str, str | None]) -> exp.Expression:
    """One node of a DuckDB rule condition, rewritten to what transpiles to Spark (see the module docstring)."""
    if isinstance(node, exp.Anonymous) and node.name.lower() == "getvariable":
        bound = horizon.get(node.expressions[0].name) if node.expressions else None
        value = exp.Literal.string(bound) if bound is not None else exp.null()
        return exp.cast(value, exp.DataType.build("timestamp"))
    if isinstance(node, exp.Anonymous) and node.name.lower() == "isfinite":
        value = node.expressions[0]
        infinite = exp.cast(exp.Literal.string("Infinity"), exp.DataType.build("double"))
        not_finite = exp.or_(
            exp.func("isnan", value.copy()), exp.EQ(this=exp.Abs(this=value.copy()), expression=infinite)
        )
        return exp.Not(this=exp.Paren(this=not_finite))
    if isinstance(node, exp.TryCast) and node.to.is_type(exp.DataType.Type.JSON):
        return exp.Anonymous(this="try_parse_json", expressions=[node.this.copy()])
    return node


def rule_sql(condition: str, horizon: Mapping[str, str | None]) -> str:
    """A contract's quarantine condition (DuckDB SQL) as Spark SQL, the horizon bounds written as literals."""
    tree = sqlglot.parse_one(condition, read="duckdb").transform(lambda node: _rewritten(node, horizon))
    return _spark_sql(tree.sql(dialect="duckdb"))


def rule_case_sql(table: SourceTable, horizon: Mapping[str, str | None]) -> str:
    """Spark SQL: the index of the first quarantine rule a row breaks, NULL when it breaks none."""
    whens = " ".join(
        f"when coalesce({rule_sql(rule.when, horizon)}, false) then {index}"
        for index, rule in enumerate(table.quarantine_rules)
    )
    return f"case {whens} end"


def hash_spark_sql(column: str, kind: str) -> str:
    """Spark SQL: the keyed hash of a column as `kind`, the same HMAC-SHA256 as `erasure.hash_sql` computes.

    Spark's sha2 returns hex text as DuckDB's sha256 does, and `concat` of binaries is their concatenation.
    """
    value = f"trim(cast({column} as string))"
    if kind == "email":
        value = f"lower({value})"
    inner = f"sha2(concat((select ipad from {KEY_VIEW}), encode(concat('{kind}:', {value}), 'UTF-8')), 256)"
    return f"sha2(concat((select opad from {KEY_VIEW}), unhex({inner})), 256)"


def erased_spark_sql(table: SourceTable, active: bool) -> str:
    """Spark SQL: true when a row identifies a person on the erasure list, as `erasure.erased_sql` decides."""
    if not active or not table.personal_keys:
        return "false"
    return " or ".join(
        f"coalesce(array_contains((select collect_list(key_hash) from {ERASURES_VIEW} where kind = '{kind}'), "
        f"{hash_spark_sql(spark_identifier(column), kind)}), false)"
        for column, kinds in table.personal_keys
        for kind in kinds
    )


def personal_value_spark_sql(column: str) -> str:
    """Spark SQL: true when the text column looks like it holds an e-mail address or a phone number."""
    return _spark_sql(personal_value_sql(f'"{column}"'))


def spark_type(contract_type: str) -> str:
    """The Spark type a contract type lands as when the file lacks the column (JSON is text on Spark)."""
    if contract_type == "json":
        return "STRING"
    return exp.DataType.build(contract_type, dialect="duckdb").sql(dialect="spark")


def duckdb_to_spark(sql: str) -> str:
    """Any other DuckDB expression the load shares with DuckDB's loader (the partition day), as Spark SQL."""
    return _spark_sql(sql)
