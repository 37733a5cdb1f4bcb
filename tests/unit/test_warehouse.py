"""Write-audit-publish in DuckDB: grain checks, and cross-model assertions that roll a publish back."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from pipelines.spec.models import ModelError, load_model, load_models
from pipelines.spec.partitions import DayRange
from pipelines.spec.settings import PROJECT_ROOT
from pipelines.spec.sources import SourceContractError, load_sources
from pipelines.warehouse import raw_load
from pipelines.warehouse.accounting import accounting_sql
from pipelines.warehouse.audit import check_grain
from pipelines.warehouse.build import build_pending, publish_pending
from pipelines.warehouse.connection import quote
from pipelines.warehouse.erasure import ErasureList
from pipelines.warehouse.raw_audit import RawLoad
from pipelines.warehouse.raw_files import LoadScope
from pipelines.warehouse.raw_load import load_raw_table
from tests.fixtures import write_raw

MODEL = """/*
name: rpt_totals
description: Totals per day, which must add up to the facts.
grain: [day]
owner: team:revops
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

CHECKS = """/*
name: assert_totals_match_facts
severity: {severity}
description: The totals add up to the facts.
*/
select totals.amount, facts.amount
from (select sum(amount) as amount from marts.rpt_totals) as totals
cross join (select sum(amount) as amount from staging.facts) as facts
where totals.amount <> facts.amount;
"""


def model_file(tmp_path: Path, scale: str = "", severity: str = "error") -> Path:
    path = tmp_path / "models" / "marts" / "totals" / "rpt_totals.sql"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(MODEL.replace("{scale}", scale))
    path.with_name("rpt_totals.checks.sql").write_text(CHECKS.replace("{severity}", severity))
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


def test_a_failing_warn_check_is_reported_and_the_table_published(
    tmp_path: Path, connection: duckdb.DuckDBPyConnection
) -> None:
    warned = load_model(model_file(tmp_path, "* 2", severity="warn"), tmp_path / "models")
    assert [assertion.blocking for assertion in warned.assertions] == [False]

    published, results = publish_pending(connection, warned, build_pending(connection, warned))

    assert published
    assert [(result.passed, result.blocking, result.samples) for result in results] == [(False, False, ["44 | 22"])]
    assert connection.execute("select day, amount from marts.rpt_totals order by day").fetchall() == [(1, 30), (2, 14)]


def test_assertions_must_be_named_for_their_condition(tmp_path: Path) -> None:
    checks = model_file(tmp_path).with_name("rpt_totals.checks.sql")
    checks.write_text(checks.read_text().replace("assert_totals_match_facts", "totals-check"))
    with pytest.raises(ModelError, match="assert_<condition>"):
        load_model(checks.with_name("rpt_totals.sql"), tmp_path / "models")


def test_identifiers_are_validated_before_reaching_sql() -> None:
    with pytest.raises(ValueError, match="not a valid identifier"):
        quote('leads"; drop table staging.facts; --')


# Raw loads: values are checked against the types staging casts to, file rows are counted from the files, and a
# renamed connector column is read by its old spelling or reported.

SOURCES = {f"{table.source}.{table.name}": table for table in load_sources(PROJECT_ROOT / "models" / "sources.yml")}
STAGING = {model.name: model for model in load_models(PROJECT_ROOT / "models") if model.layer == "staging"}


def load_rows(
    connection: duckdb.DuckDBPyConnection, tmp_path: Path, key: str, rows: list[dict[str, object]]
) -> RawLoad:
    raw_dir = write_raw(tmp_path / "raw", {key: rows})
    table = SOURCES[key]
    return load_raw_table(
        connection, table, raw_dir / table.source / f"{table.name}.csv", ErasureList(tmp_path / "erasures.csv")
    )


def stage(connection: duckdb.DuckDBPyConnection, name: str) -> list[tuple]:
    """Build a staging model from the raw tables loaded so far, as the pipeline would."""
    connection.execute("create schema if not exists staging")
    connection.execute(f"create or replace table staging.{name} as {STAGING[name].body}")
    return connection.execute(f"select * from staging.{name} order by all").fetchall()


def quarantined(connection: duckdb.DuckDBPyConnection) -> list[tuple]:
    return connection.execute("select record_key, rule from quarantine.rejected_rows order by all").fetchall()


def spend(day: str, amount: str) -> dict[str, object]:
    return {"date": day, "platform": "google_ads", "campaign_id": "c1", "spend": amount, "currency": "usd"}


def test_amounts_that_staging_cannot_cast_are_quarantined_not_crashing_staging(tmp_path: Path) -> None:
    rows = [
        spend("2026-01-01", "12.50"),
        spend("2026-01-02", "NaN"),
        spend("2026-01-03", "-inf"),
        spend("2026-01-04", "1e17"),  # beyond decimal(18,2)
        spend("2026-01-05", "-3"),
    ]
    with duckdb.connect() as connection:
        load = load_rows(connection, tmp_path, "marketing.ad_spend", rows)
        assert quarantined(connection) == [
            ("2026-01-02 | google_ads | c1", "spend_is_not_finite"),
            ("2026-01-03 | google_ads | c1", "spend_is_not_finite"),
            ("2026-01-04 | google_ads | c1", "spend_is_unparseable"),
            ("2026-01-05 | google_ads | c1", "spend_is_negative"),
        ]
        assert [row[7] for row in stage(connection, "stg_marketing__ad_spend_days")] == [Decimal("12.50")]
    assert (load.file_rows, load.loaded_rows, load.quarantined_rows) == (5, 1, 4)


def test_a_nan_in_a_typed_parquet_column_is_quarantined(tmp_path: Path) -> None:
    path = tmp_path / "ad_spend.parquet"
    with duckdb.connect() as connection:
        connection.execute(
            "copy (select day as date, 'google_ads' as platform, 'c1' as campaign_id, spend, 'usd' as currency "
            "from (values (date '2026-01-01', 4.5::double), (date '2026-01-02', 'NaN'::double)) as t(day, spend)) "
            f"to '{path}'"
        )
        load = load_raw_table(connection, SOURCES["marketing.ad_spend"], path, ErasureList(tmp_path / "erasures.csv"))
        assert quarantined(connection) == [("2026-01-02 | google_ads | c1", "spend_is_not_finite")]
        assert len(stage(connection, "stg_marketing__ad_spend_days")) == 1
    assert (load.file_rows, load.loaded_rows) == (2, 1)


def test_malformed_json_metadata_is_quarantined_with_its_key(tmp_path: Path) -> None:
    rows = [
        {"id": "cus_1", "created": "2026-01-01 00:00:00", "metadata": '{"salesforce_account_id": "001A"}'},
        {"id": "cus_2", "created": "2026-01-01 00:00:00", "metadata": '{"salesforce_account_id": '},
    ]
    with duckdb.connect() as connection:
        load_rows(connection, tmp_path, "stripe.customer", rows)
        assert quarantined(connection) == [("cus_2", "metadata_is_unparseable")]
        assert [(row[0], row[5]) for row in stage(connection, "stg_stripe__customers")] == [("cus_1", "001A")]


TASK_HEADER = "id,created_date,is_deleted,type,description\n"


def test_a_short_line_is_one_quarantined_row_and_every_row_is_accounted_for(tmp_path: Path) -> None:
    path = tmp_path / "task.csv"
    # A quoted newline stays inside its record; the short line misses four fields, one record all the same.
    path.write_text(
        f'{TASK_HEADER}T1,2026-01-05 09:00:00,false,Call,"two\nlines"\nT2\nT3,2026-01-05 10:00:00,,Email,\n'
    )
    with duckdb.connect() as connection:
        load = load_raw_table(connection, SOURCES["salesforce.task"], path, ErasureList(tmp_path / "erasures.csv"))
        malformed = connection.execute("select rule, raw_row->>'csv_line' from quarantine.rejected_rows").fetchall()
        assert malformed == [("malformed_csv_line", "T2")]
        stage(connection, "stg_salesforce__tasks")
        assert (
            connection.execute(accounting_sql(STAGING["stg_salesforce__tasks"], SOURCES["salesforce.task"])).fetchall()
            == []
        )
    assert (load.file_rows, load.loaded_rows, load.quarantined_by_rule) == (3, 2, {"malformed_csv_line": 1})


def test_a_row_lost_between_the_file_and_the_raw_table_fails_the_accounting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file's rows are counted from the file, so a reader that drops a row cannot hide it."""
    path = tmp_path / "task.csv"
    path.write_text(f"{TASK_HEADER}T1,2026-01-05 09:00:00,false,Call,\nT2,2026-01-05 10:00:00,false,Email,\n")
    reader = raw_load.raw_reader

    def losing_reader(*args: object, **kwargs: object) -> tuple[str, str | list[str]]:
        function, argument = reader(*args, **kwargs)  # type: ignore[arg-type]
        return f"(select * from {function} where id <> 'T2')", argument

    monkeypatch.setattr(raw_load, "raw_reader", losing_reader)
    with duckdb.connect() as connection:
        load = load_raw_table(connection, SOURCES["salesforce.task"], path, ErasureList(tmp_path / "erasures.csv"))
        stage(connection, "stg_salesforce__tasks")
        violations = connection.execute(
            accounting_sql(STAGING["stg_salesforce__tasks"], SOURCES["salesforce.task"])
        ).fetchall()
    assert (load.file_rows, load.loaded_rows) == (2, 1)
    # file rows, staged, quarantined, duplicates, soft-deleted, erased
    assert violations == [(2, 1, 0, 0, 0, 0)]


EVENTS_HEADER = "id,event,user_id,account_id,timestamp,received_at\n"
NOVEMBER = DayRange.parse("2026-11-01", "2026-11-02")


def test_per_day_file_rows_of_daily_files_come_from_the_files(tmp_path: Path) -> None:
    folder = tmp_path / "events"
    folder.mkdir()
    (folder / "2026-11-01.csv").write_text(f"{EVENTS_HEADER}e1,a,u,w,2026-11-01 09:00:00,2026-11-01 09:00:01\n")
    (folder / "2026-11-02.csv").write_text(
        f"{EVENTS_HEADER}e2,a,u,w,2026-11-02 09:00:00,2026-11-02 09:00:01\ne3,a,u,w\n"
    )
    with duckdb.connect() as connection:
        load = load_raw_table(
            connection,
            SOURCES["product.events"],
            folder,
            ErasureList(tmp_path / "erasures.csv"),
            LoadScope(NOVEMBER, NOVEMBER),
        )
        days = connection.execute(
            "select cast(partition_day as varchar), file_rows, loaded_rows, quarantined_rows "
            "from audit.raw_partition_loads order by 1"
        ).fetchall()
    assert days == [("2026-11-01", 1, 1, 0), ("2026-11-02", 2, 1, 1)]
    assert load.file_rows == 3


def test_partial_loads_of_a_single_file_add_up_to_its_records(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text(
        f"{EVENTS_HEADER}e1,a,u,w,2026-11-01 09:00:00,2026-11-01 09:00:01\n"
        "e2,a,u,w,2026-11-01 10:00:00,2026-11-01 10:00:01\ne3,a,u,w,2026-11-02 09:00:00,2026-11-02 09:00:01\n"
        "e4,a,u\n"
    )
    table, erasures = SOURCES["product.events"], ErasureList(tmp_path / "erasures.csv")
    with duckdb.connect() as connection:
        second = load_raw_table(
            connection, table, path, erasures, LoadScope(DayRange.parse("2026-11-02", "2026-11-02"), NOVEMBER)
        )
        first = load_raw_table(
            connection, table, path, erasures, LoadScope(DayRange.parse("2026-11-01", "2026-11-01"), NOVEMBER)
        )
        total = connection.execute("select file_rows from audit.raw_loads").fetchone()
    # The malformed line is filed under the first day, with the rows read for it.
    assert (second.file_rows, first.file_rows, total) == (1, 3, (4,))


CUSTOMER_HEADER = "id,created,currency,is_deleted,{livemode},delinquent_flag\n"
CUSTOMERS = "cus_live,2026-01-01 00:00:00,usd,false,true,\ncus_test,2026-01-01 00:00:00,usd,false,false,\n"


def test_a_renamed_required_column_fails_naming_the_close_match(tmp_path: Path) -> None:
    path = tmp_path / "customer.csv"
    path.write_text(CUSTOMER_HEADER.format(livemode="live_mode") + CUSTOMERS)
    with duckdb.connect() as connection, pytest.raises(SourceContractError) as failure:
        load_raw_table(connection, SOURCES["stripe.customer"], path, ErasureList(tmp_path / "erasures.csv"))
    message = str(failure.value)
    assert "misses required column(s) livemode (the file has live_mode" in message
    assert "renamed_from: [live_mode]" in message and "\n" not in message


def test_an_old_spelling_in_renamed_from_loads_as_the_contract_column(tmp_path: Path) -> None:
    path = tmp_path / "customer.csv"
    path.write_text(CUSTOMER_HEADER.format(livemode="live_mode") + CUSTOMERS)
    contract = SOURCES["stripe.customer"]
    columns = tuple(
        dataclasses.replace(column, renamed_from=("live_mode",)) if column.name == "livemode" else column
        for column in contract.columns
    )
    with duckdb.connect() as connection:
        load = load_raw_table(
            connection, dataclasses.replace(contract, columns=columns), path, ErasureList(tmp_path / "erasures.csv")
        )
        assert quarantined(connection) == [("cus_test", "is_test_mode")]
        assert connection.execute("select id, livemode from stripe.customer").fetchall() == [("cus_live", "true")]
    assert load.renamed_columns == {"live_mode": "livemode"}


def test_an_optional_column_that_looks_renamed_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "customer.csv"
    path.write_text(CUSTOMER_HEADER.format(livemode="livemode").replace("delinquent_flag", "is_delinquent") + CUSTOMERS)
    with duckdb.connect() as connection:
        load = load_raw_table(connection, SOURCES["stripe.customer"], path, ErasureList(tmp_path / "erasures.csv"))
    assert load.suspected_renames == {"delinquent": "is_delinquent"}
    assert load.loaded_rows == 1


def test_an_empty_livemode_counts_as_live(tmp_path: Path) -> None:
    """Required guards against a column that disappears; a blank keeps staging's meaning (live unless false)."""
    path = tmp_path / "customer.csv"
    path.write_text(CUSTOMER_HEADER.format(livemode="livemode") + "cus_blank,2026-01-01 00:00:00,usd,,,\n")
    with duckdb.connect() as connection:
        load = load_raw_table(connection, SOURCES["stripe.customer"], path, ErasureList(tmp_path / "erasures.csv"))
        assert [row[0] for row in stage(connection, "stg_stripe__customers")] == ["cus_blank"]
    assert (load.loaded_rows, load.quarantined_rows) == (1, 0)
