"""Where each contract table lives in the Spark catalog when a connector (Fivetran, Airbyte) already lands the raw
tables in a lakehouse: `FLYWHEEL_SPARK_RAW_TABLES`, a table-name pattern such as `fivetran_{source}.{table}` or
`lake.raw.{source}_{table}`, read by the Spark engine instead of the files under FLYWHEEL_RAW_DIR.

The pattern is checked when the settings are read, so a typo stops the run before any Spark session starts.
"""

from __future__ import annotations

import re
import string

from pipelines.spec.sources import SourceTable

RAW_TABLES_VARIABLE = "FLYWHEEL_SPARK_RAW_TABLES"
PLACEHOLDERS = ("source", "table")
# A Spark table name once the placeholders are filled: one to three dotted parts (catalog, database, table) of
# letters, digits and underscores.
_TABLE_NAME = re.compile(r"^\w+(\.\w+){0,2}$")


def raw_tables_pattern_problem(pattern: str) -> str | None:
    """Why `pattern` cannot name the raw tables (None when it can): it must hold `{table}` in its last part, no
    other placeholder, and give a Spark table name of one to three dotted parts."""
    try:
        fields = [(field, spec, conversion) for _, field, spec, conversion in string.Formatter().parse(pattern)]
    except ValueError as error:
        return f"{RAW_TABLES_VARIABLE}={pattern!r} is not a table-name pattern ({error})"
    named = [field for field, _, _ in fields if field is not None]
    unknown = sorted({field for field in named if field not in PLACEHOLDERS})
    if unknown or any(spec or conversion for field, spec, conversion in fields if field is not None):
        return (
            f"{RAW_TABLES_VARIABLE}={pattern!r} uses {', '.join('{' + name + '}' for name in unknown) or 'a format'}: "
            "only {source} and {table} may be used, as in fivetran_{source}.{table}"
        )
    if "table" not in named or "{table}" not in pattern.rsplit(".", 1)[-1]:
        return (
            f"{RAW_TABLES_VARIABLE}={pattern!r} must hold {{table}} in its last part (the table name), as in "
            "fivetran_{source}.{table} or lake.raw.{source}_{table}"
        )
    if pattern.format(source="source", table="table").split(".")[-2:] == ["source", "table"]:
        return (
            f"{RAW_TABLES_VARIABLE}={pattern!r} names the tables the raw load writes (`<source>.<table>`): reading "
            "them would replace the connector's tables with their staged copy; use another schema, as in "
            "fivetran_{source}.{table}"
        )
    if not _TABLE_NAME.match(pattern.format(source="source", table="table")):
        return (
            f"{RAW_TABLES_VARIABLE}={pattern!r} does not give a Spark table name: use one to three dotted parts of "
            "letters, digits and underscores"
        )
    return None


def catalog_table_name(pattern: str, table: SourceTable) -> str:
    """The Spark catalog name of a contract table under the pattern (`fivetran_salesforce.lead`)."""
    return pattern.format(source=table.source, table=table.name)
