"""Write-audit-publish in DuckDB: grain checks, and cross-model assertions that roll a publish back."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines.models import ModelError, load_model
from pipelines.warehouse import build_pending, check_grain, publish_pending, quote

MODEL = """/*
name: rpt_totals
description: Totals per day, which must add up to the facts.
grain: [day]
owner: team:revops
assertions:
  - name: assert_totals_match_facts
    description: The totals add up to the facts.
    sql: >-
      select totals.amount, facts.amount
      from (select sum(amount) as amount from marts.rpt_totals) as totals
      cross join (select sum(amount) as amount from staging.facts) as facts
      where totals.amount <> facts.amount
*/
with

facts as (select * from staging.facts),

final as (
    select
        facts.day,                       -- the day
        sum(facts.amount) {scale} as amount  -- amount of the day
    from facts
    group by facts.day
)

select * from final
"""


def model_file(tmp_path: Path, scale: str = "") -> Path:
    path = tmp_path / "models" / "marts" / "totals" / "rpt_totals.sql"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(MODEL.replace("{scale}", scale))
    return path


@pytest.fixture
def connection() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    connection.execute("create schema staging")
    connection.execute("create table staging.facts as select * from (values (1, 10), (1, 5), (2, 7)) as t(day, amount)")
    return connection


def test_assertion_upstream_tables_become_dependencies(tmp_path: Path) -> None:
    model = load_model(model_file(tmp_path), tmp_path / "models")
    assert [str(ref) for ref in model.upstream] == ["staging.facts"]
    assert [assertion.name for assertion in model.assertions] == ["assert_totals_match_facts"]


def test_publish_commits_when_assertions_hold(tmp_path: Path, connection: duckdb.DuckDBPyConnection) -> None:
    model = load_model(model_file(tmp_path), tmp_path / "models")
    pending = build_pending(connection, model)
    assert check_grain(connection, "marts", pending, model.grain).duplicate_count == 0
    published, results = publish_pending(connection, model, pending)
    assert published and [result.passed for result in results] == [True]
    assert connection.execute("select day, amount from marts.rpt_totals order by day").fetchall() == [(1, 15), (2, 7)]


def test_a_broken_assertion_rolls_back_to_the_last_good_table(
    tmp_path: Path, connection: duckdb.DuckDBPyConnection
) -> None:
    good = load_model(model_file(tmp_path), tmp_path / "models")
    publish_pending(connection, good, build_pending(connection, good))
    broken = load_model(model_file(tmp_path / "broken", "* 2"), tmp_path / "broken" / "models")

    published, results = publish_pending(connection, broken, build_pending(connection, broken))

    assert not published
    assert results[0].violation_count == 1 and results[0].samples == ["44 | 22"]
    assert connection.execute("select day, amount from marts.rpt_totals order by day").fetchall() == [(1, 15), (2, 7)]
    tables = connection.execute("select table_name from information_schema.tables where table_schema = 'marts'")
    assert tables.fetchall() == [("rpt_totals",)]


def test_assertions_must_be_named_for_their_condition(tmp_path: Path) -> None:
    path = model_file(tmp_path)
    path.write_text(path.read_text().replace("assert_totals_match_facts", "totals-check"))
    with pytest.raises(ModelError, match="assert_<condition>"):
        load_model(path, tmp_path / "models")


def test_identifiers_are_validated_before_reaching_sql() -> None:
    with pytest.raises(ValueError, match="not a valid identifier"):
        quote('leads"; drop table staging.facts; --')
