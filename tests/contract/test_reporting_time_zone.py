"""Every day, week, month and quarter the intermediate models and marts cut a UTC timestamp into is a local one.

Timestamps (`*_at` columns, STYLE.md) are UTC. A model takes a calendar bucket of one (`date_trunc`, a cast to a
date) only after the one conversion every model uses, `cast(<utc> as timestamptz) at time zone
reporting.time_zone`: the local wall-clock time in the zone `definitions.yml` names, which sqlglot writes for Spark
as `from_utc_timestamp`. A literal zone, or a conversion in another spelling, would bypass the definitions file or
transpile to the wrong direction (sqlglot writes every `at time zone` as `from_utc_timestamp`).
"""

from __future__ import annotations

import duckdb
import pytest
import sqlglot
from sqlglot import exp

from pipelines.spec.models import DIALECT, Model, load_models
from pipelines.spec.settings import Settings

BUCKETING_LAYERS = ("intermediate", "marts")
MODELS = [model for model in load_models(Settings.from_env().models_dir) if model.layer in BUCKETING_LAYERS]


def model_id(model: Model) -> str:
    return model.name


def statements(model: Model) -> list[exp.Expr]:
    """The model's query and the queries of the checks in its check file."""
    return [sqlglot.parse_one(sql, dialect=DIALECT) for sql in (model.body, *(a.sql for a in model.assertions))]


def is_reporting_conversion(node: exp.Expr) -> bool:
    """`cast(<utc> as timestamptz) at time zone reporting.time_zone`, the one idiom."""
    zone = node.args.get("zone")
    return (
        isinstance(node, exp.AtTimeZone)
        and isinstance(node.this, exp.Cast)
        and node.this.to.is_type(exp.DataType.Type.TIMESTAMPTZ)
        and isinstance(zone, exp.Column)
        and zone.name == "time_zone"
        and zone.table == "reporting"
    )


def is_converted(column: exp.Column, bucket: exp.Expr) -> bool:
    """Whether the column reaches the bucket through the reporting conversion."""
    node: exp.Expr | None = column.parent
    while node is not None and node is not bucket:
        if is_reporting_conversion(node):
            return True
        node = node.parent
    return False


def utc_buckets(expression: exp.Expr) -> list[str]:
    """The day, week, month or quarter buckets taken of a UTC timestamp column without the conversion."""
    found = []
    for bucket in expression.find_all(exp.DateTrunc, exp.TimestampTrunc, exp.Cast):
        if isinstance(bucket, exp.Cast) and not bucket.to.is_type(exp.DataType.Type.DATE):
            continue
        for column in bucket.this.find_all(exp.Column):
            if column.name.endswith("_at") and not is_converted(column, bucket):
                found.append(bucket.sql(dialect=DIALECT))
    return found


def other_conversions(expression: exp.Expr) -> list[str]:
    """Time zone conversions spelled otherwise than the one idiom (a literal zone, timezone(), a naive cast)."""
    found = [
        node.sql(dialect=DIALECT) for node in expression.find_all(exp.AtTimeZone) if not is_reporting_conversion(node)
    ]
    found += [
        node.sql(dialect=DIALECT)
        for node in expression.find_all(exp.Anonymous)
        if node.name.lower() in ("timezone", "convert_timezone", "from_utc_timestamp", "to_utc_timestamp")
    ]
    return found


@pytest.mark.parametrize("model", MODELS, ids=model_id)
def test_utc_timestamps_are_bucketed_in_the_reporting_time_zone(model: Model) -> None:
    offending = [bucket for expression in statements(model) for bucket in utc_buckets(expression)]
    assert not offending, (
        f"{model.path}: a UTC timestamp is cut into calendar days, weeks, months or quarters of UTC: {offending}; "
        "convert it first: cast(<column> as timestamptz) at time zone reporting.time_zone"
    )


@pytest.mark.parametrize("model", MODELS, ids=model_id)
def test_every_conversion_is_the_one_idiom(model: Model) -> None:
    offending = [found for expression in statements(model) for found in other_conversions(expression)]
    assert not offending, (
        f"{model.path}: time zone conversions other than "
        f"cast(<utc> as timestamptz) at time zone reporting.time_zone: {offending}"
    )


def test_the_guards_see_a_utc_bucket_and_a_literal_zone() -> None:
    utc_month = sqlglot.parse_one(
        "select cast(date_trunc('month', leads.created_at) as date) from leads", dialect=DIALECT
    )
    utc_day = sqlglot.parse_one("select cast(leads.created_at as date) from leads", dialect=DIALECT)
    local = sqlglot.parse_one(
        "select cast(date_trunc('month', cast(leads.created_at as timestamptz) at time zone reporting.time_zone) "
        "as date) from leads cross join reporting",
        dialect=DIALECT,
    )
    literal = sqlglot.parse_one("select leads.created_at at time zone 'America/New_York' from leads", dialect=DIALECT)
    function = sqlglot.parse_one("select timezone('Europe/Berlin', leads.created_at) from leads", dialect=DIALECT)
    assert utc_buckets(utc_month) and utc_buckets(utc_day)
    assert not utc_buckets(local) and not other_conversions(local)
    assert other_conversions(literal) and other_conversions(function)


def test_the_idiom_is_utc_to_local_in_duckdb_and_from_utc_timestamp_in_spark() -> None:
    """2026-04-01 03:30 UTC is 2026-03-31 23:30 in New York (EDT, UTC-4) and 05:30 in Berlin (CEST, UTC+2)."""
    idiom = "cast(events.event_at as timestamptz) at time zone reporting.time_zone"
    sql = f"select {idiom} as local_at from events cross join reporting"
    assert sqlglot.transpile(sql, read=DIALECT, write="spark")[0] == (
        "SELECT FROM_UTC_TIMESTAMP(CAST(events.event_at AS TIMESTAMP), reporting.time_zone) AS local_at "
        "FROM events CROSS JOIN reporting"
    )
    with duckdb.connect() as connection:
        connection.execute("set TimeZone = 'UTC'")
        connection.execute("create table events as select timestamp '2026-04-01 03:30:00' as event_at")
        local = {}
        for zone in ("America/New_York", "Europe/Berlin", "UTC"):
            connection.execute("create or replace table reporting as select ? as time_zone", [zone])
            local[zone] = str(connection.execute(sql).fetchone()[0])  # type: ignore[index]
    assert local == {
        "America/New_York": "2026-03-31 23:30:00",
        "Europe/Berlin": "2026-04-01 05:30:00",
        "UTC": "2026-04-01 03:30:00",
    }
