"""A DuckDB-connection look-alike over a Spark session, so the warehouse layer's SQL runs on Spark unchanged.

The warehouse layer speaks DuckDB SQL to a connection: `execute(sql, parameters)` then `fetchall()`, `fetchone()`
or `df()`. `SparkConnection` answers the same calls on Spark: each statement is transpiled by
`pipelines.spec.spark_sql.to_spark` (sqlglot and the project's rewrite rules), so the grain checks, cross-model
assertions, guards and models are the same text on both engines. What Spark does differently is handled here, in
one place:

- `?` parameters are bound as SQL literals before transpiling (Spark SQL has no positional parameters for DDL).
- `set variable NAME = ...` stores the value, and `getvariable('NAME')` is replaced by it (the horizon quarantine
  rules read the run's bounds this way on DuckDB).
- `create or replace table s.t as select ...` drops, then creates the table in the session's table format (Parquet
  by default): Spark's built-in catalog cannot replace a Parquet table in place. Creating, dropping and renaming
  keep a local table's folder named as the table (pipelines/warehouse/spark/tables.py), so the next process finds
  it.
- `begin transaction`, `commit` and `rollback` do nothing: Spark has no multi-statement transactions. The code that
  relies on a rollback asks `supports_transactions` first and does the Spark way (see build.py's `publish_pending`).
- `register(name, frame)` makes a pandas frame a temporary view, as DuckDB's `register` does.

Table and column names come back as the warehouse layer expects them: `table_columns` lists a table's columns with
DuckDB's type names (`VARCHAR`, `BIGINT`, `DECIMAL(38,6)`, ...), so type-driven code (the personal-data scan,
column lineage) reads both engines alike.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd
import sqlglot
from sqlglot import exp

from pipelines.spec.spark_sql import to_spark
from pipelines.warehouse.spark.tables import create_table_as, drop_table, rename_table

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

_SET_VARIABLE = re.compile(r"^\s*set\s+variable\s+([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.+?)\s*;?\s*$", re.I | re.S)
_NO_OP = re.compile(r"^\s*(begin(\s+transaction)?|commit|rollback|checkpoint|set\s+timezone\b.*)\s*;?\s*$", re.I | re.S)

# Spark's type names (as its catalog reports them) -> DuckDB's, for the code that reads column types.
_DUCKDB_TYPE_OF_SPARK = {
    "string": "VARCHAR",
    "varchar": "VARCHAR",
    "char": "VARCHAR",
    "bigint": "BIGINT",
    "int": "INTEGER",
    "integer": "INTEGER",
    "smallint": "SMALLINT",
    "tinyint": "TINYINT",
    "double": "DOUBLE",
    "float": "FLOAT",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP WITH TIME ZONE",
    "timestamp_ltz": "TIMESTAMP WITH TIME ZONE",
    "timestamp_ntz": "TIMESTAMP",
    "binary": "BLOB",
    "void": "NULL",
}


def duckdb_type_name(spark_type: str) -> str:
    """DuckDB's name for a Spark column type: `string` -> VARCHAR, `decimal(38,6)` -> DECIMAL(38,6),
    `array<string>` -> VARCHAR[]; a struct or map keeps Spark's name, upper-cased."""
    name = spark_type.strip().lower()
    if name in _DUCKDB_TYPE_OF_SPARK:
        return _DUCKDB_TYPE_OF_SPARK[name]
    if name.startswith(("decimal", "varchar(", "char(")):
        return "VARCHAR" if name.startswith(("varchar", "char")) else name.upper()
    if name.startswith("array<") and name.endswith(">"):
        return f"{duckdb_type_name(name[6:-1])}[]"
    return name.upper()


@dataclass(frozen=True)
class SparkColumn:
    """A column as `pipelines.warehouse.connection.table_columns` returns it: its name and DuckDB type name."""

    name: str
    type: str


@dataclass
class SparkResult:
    """The result of one statement: a DataFrame for a query, nothing for a statement that returns no rows."""

    frame: DataFrame | None = None
    _rows: list[tuple[Any, ...]] | None = field(default=None, repr=False)

    def fetchall(self) -> list[tuple[Any, ...]]:
        if self._rows is None:
            self._rows = [tuple(row) for row in self.frame.collect()] if self.frame is not None else []
        return self._rows

    def fetchone(self) -> tuple[Any, ...] | None:
        rows = self.fetchall()
        return rows[0] if rows else None

    def df(self) -> pd.DataFrame:
        return self.frame.toPandas() if self.frame is not None else pd.DataFrame()

    fetchdf = df


class SparkConnection:
    """The warehouse connection of a Spark run: DuckDB SQL in, Spark SQL executed (see the module docstring)."""

    engine = "spark"
    supports_transactions = False

    def __init__(self, session: SparkSession, table_format: str = "parquet") -> None:
        self.session = session
        self.table_format = table_format
        self.variables: dict[str, exp.Expr] = {}

    def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> SparkResult:
        """Run one DuckDB statement on Spark; see the module docstring for what is translated how."""
        if _NO_OP.match(sql):
            return SparkResult()
        variable = _SET_VARIABLE.match(sql)
        if variable:
            self.variables[variable.group(1).lower()] = _bound(variable.group(2), parameters, {})
            return SparkResult()
        statement = _bound(sql, parameters, self.variables)
        if isinstance(statement, exp.Create) and statement.kind == "TABLE" and statement.expression:
            table = statement.this
            create_table_as(
                self.session, table.db, table.name, to_spark(statement.expression.sql("duckdb")), self.table_format
            )
        elif isinstance(statement, exp.Drop) and statement.kind == "TABLE":
            for table in statement.args.get("tables") or [statement.this]:
                drop_table(self.session, table.db, table.name)
        elif isinstance(statement, exp.Alter) and _renamed_to(statement):
            rename_table(self.session, statement.this.db, statement.this.name, _renamed_to(statement))
        else:
            return SparkResult(self.session.sql(to_spark(statement.sql("duckdb"))))
        return SparkResult()

    def register(self, name: str, frame: pd.DataFrame) -> None:
        """A pandas frame as a temporary view, as DuckDB's `register`."""
        self.session.createDataFrame(frame).createOrReplaceTempView(name)

    def unregister(self, name: str) -> None:
        self.session.catalog.dropTempView(name)

    def table_columns(self, schema: str, table: str) -> list[SparkColumn]:
        """The columns of `schema.table` in order, with DuckDB's type names; none when the table does not exist."""
        if not self.session.catalog.tableExists(f"{schema}.{table}"):
            return []
        fields = self.session.table(f"`{schema}`.`{table}`").schema.fields
        return [SparkColumn(name=field.name, type=duckdb_type_name(field.dataType.simpleString())) for field in fields]

    def close(self) -> None:
        """Nothing to close: the session lives for the run (the resource owns it)."""


def _bound(sql: str, parameters: Sequence[Any] | None, variables: dict[str, exp.Expr]) -> exp.Expr:
    """The statement parsed as DuckDB SQL, its `?` parameters bound as literals and `getvariable` calls replaced."""
    statement = sqlglot.parse_one(sql, read="duckdb")
    values = iter(parameters or ())

    def bind(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Placeholder):
            return exp.convert(next(values))
        if isinstance(node, exp.Anonymous) and node.name.lower() == "getvariable" and node.expressions:
            return variables.get(node.expressions[0].name.lower(), exp.null()).copy()
        return node

    return statement.transform(bind)


def _renamed_to(statement: exp.Alter) -> str:
    """The new name of an `alter table ... rename to ...` (empty for any other alteration)."""
    for action in statement.args.get("actions") or []:
        if isinstance(action, exp.AlterRename):
            return str(action.this.name)
    return ""
