"""Messy connector input: every raw row is staged or quarantined with its rule, and the accounting proves it.

One build of hand-made leads, opportunities, Stripe rows and product events, each bad in one known way; the test
says for each row where it must end up.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from pipelines.cli import RunSummary, schema_drift
from pipelines.spec.models import load_models
from pipelines.spec.settings import PROJECT_ROOT, Settings
from pipelines.spec.sources import load_sources
from pipelines.warehouse.accounting import ACCOUNTING_CHECK, accounting_sql
from pipelines.warehouse.erasure import ErasureList
from pipelines.warehouse.raw_load import load_raw_table
from tests.conftest import materialize, settings_for
from tests.fixtures import write_raw

LEADS = [
    # L1: two versions from two syncs: the later one wins, the earlier one is a counted duplicate.
    {"id": "L1", "company": "Old", "created_date": "2026-01-05 09:00:00", "_fivetran_synced": "2026-01-06 00:00:00"},
    {"id": "L1", "company": "New", "created_date": "2026-01-05 09:00:00", "_fivetran_synced": "2026-01-07 00:00:00"},
    # L2: a time with a UTC offset: 10:00 at +02:00 is 08:00 UTC.
    {"id": "L2", "created_date": "2026-01-05 10:00:00+02:00"},
    # L3: soft-deleted in the CRM.
    {"id": "L3", "created_date": "2026-01-05 09:00:00", "is_deleted": "true"},
    # No key: quarantined.
    {"id": None, "created_date": "2026-01-05 09:00:00"},
    # L5: a date that does not exist: quarantined.
    {"id": "L5", "created_date": "2026-13-45 09:00:00"},
    # L6: a number of employees that is not a number: quarantined.
    {"id": "L6", "created_date": "2026-01-05 09:00:00", "number_of_employees": "many"},
    # L7: a column no contract knows appears: kept in raw, nothing fails.
    {"id": "L7", "created_date": "2026-01-05 09:00:00", "brand_new_field_c": "surprise"},
]
OPPORTUNITIES = [
    {"id": "O1", "account_id": "A1", "stage_name": "Prospecting", "amount": "1000", "created_date": "2026-01-05"},
    # A negative amount: quarantined.
    {"id": "O2", "account_id": "A1", "stage_name": "Prospecting", "amount": "-5", "created_date": "2026-01-05"},
    # An orphan: its account is missing. Kept (and classified into the unknown segment), not dropped.
    {"id": "O3", "account_id": "A404", "stage_name": "Prospecting", "amount": "10", "created_date": "2026-01-05"},
]
CUSTOMERS = [
    # A connector column close to the contract's `delinquent`: loaded as an extra, reported as a suspected rename.
    {"id": "cus_live", "created": "2026-01-01 00:00:00", "livemode": "true", "is_delinquent": "false"},
    {"id": "cus_test", "created": "2026-01-01 00:00:00", "livemode": "false"},  # test mode: quarantined
]
EVENTS = [
    {"id": "e1", "event": "signed_up", "timestamp": "2026-01-05 10:00:00", "received_at": "2026-01-05 10:00:01"},
    # The client clock says next month: future-dated, quarantined.
    {"id": "e2", "event": "logged_in", "timestamp": "2026-02-05 10:00:00", "received_at": "2026-01-05 10:00:01"},
    # Received twice: the duplicate is counted.
    {"id": "e3", "event": "logged_in", "timestamp": "2026-01-05 11:00:00", "received_at": "2026-01-05 11:00:01"},
    {"id": "e3", "event": "logged_in", "timestamp": "2026-01-05 11:00:00", "received_at": "2026-01-05 11:05:00"},
]
TABLES = {
    "salesforce.lead": LEADS,
    "salesforce.account": [{"id": "A1", "number_of_employees": "150"}],
    "salesforce.opportunity": OPPORTUNITIES,
    "stripe.customer": CUSTOMERS,
    "product.events": EVENTS,
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    tmp_path = tmp_path_factory.mktemp("bad_input")
    raw_dir = write_raw(tmp_path / "raw", TABLES)
    # Two malformed CSV lines in the task file, which is otherwise empty: one field too many, and a line with only
    # its id (DuckDB reports one error per missing field; it is one line all the same).
    task_file = raw_dir / "salesforce" / "task.csv"
    header = task_file.read_text().splitlines()[0]
    task_file.write_text(f"{header}\n" + ",".join(["T1"] * (header.count(",") + 2)) + "\nT2\n")
    settings = settings_for(tmp_path, raw_dir)
    result = materialize(settings, 'group:raw or group:staging or +key:"intermediate/int_opportunities_classified"')
    assert result.success
    yield settings


def rows(settings: Settings, sql: str) -> list[tuple]:
    with duckdb.connect(str(settings.warehouse), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def test_bad_rows_are_quarantined_with_the_rule_they_broke(built: Settings) -> None:
    quarantined = rows(
        built, "select source_table, record_key, rule from quarantine.rejected_rows order by source_table, rule"
    )
    assert quarantined == [
        ("product.events", "e2", "occurs_after_it_was_received"),
        ("salesforce.lead", "L5", "created_date_is_unparseable"),
        ("salesforce.lead", "L6", "number_of_employees_is_unparseable"),
        ("salesforce.lead", "NULL", "primary_key_is_null"),
        ("salesforce.opportunity", "O2", "amount_is_out_of_range"),
        ("salesforce.task", None, "malformed_csv_line"),
        ("salesforce.task", None, "malformed_csv_line"),
        ("stripe.customer", "cus_test", "is_test_mode"),
    ]


def test_every_raw_row_is_accounted_for(built: Settings) -> None:
    # leads: 8 file rows = 3 staged (L1, L2, L7) + 3 quarantined + 1 duplicate (old L1) + 1 soft-deleted (L3)
    assert rows(built, "select count(*) from staging.stg_salesforce__leads") == [(3,)]
    loads = dict(rows(built, "select source_table, file_rows from audit.raw_loads"))
    assert loads["salesforce.lead"] == 8
    assert loads["salesforce.task"] == 2
    # events: 4 file rows = 2 staged (e1, e3) + 1 quarantined (e2) + 1 duplicate (e3 received twice)
    assert rows(built, "select event_id from staging.stg_product__events order by 1") == [("e1",), ("e3",)]
    accounting = load_models(PROJECT_ROOT / "models")
    staging = [model for model in accounting if model.layer == "staging"]
    sources = load_sources(PROJECT_ROOT / "models" / "sources.yml")
    by_key = {table.key: table for table in sources}
    with duckdb.connect(str(built.warehouse), read_only=True) as connection:
        for model in staging:
            table = next(by_key[ref.key] for ref in model.upstream if ref.key in by_key)
            assert connection.execute(accounting_sql(model, table)).fetchall() == [], model.name


def test_the_accounting_check_catches_a_row_that_vanishes(built: Settings, tmp_path: Path) -> None:
    """A staging table missing one row (a filter, an inner join) breaks the equation."""
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(built.warehouse.read_bytes())
    model = next(model for model in load_models(PROJECT_ROOT / "models") if model.name == "stg_salesforce__leads")
    table = next(table for table in load_sources(PROJECT_ROOT / "models" / "sources.yml") if table.name == "lead")
    with duckdb.connect(str(copy)) as connection:
        connection.execute("delete from staging.stg_salesforce__leads where lead_id = 'L7'")
        violations = connection.execute(accounting_sql(model, table)).fetchall()
    # file rows, staged, quarantined, duplicates, soft-deleted, erased
    assert violations == [(8, 2, 3, 1, 1, 0)]


def test_the_accounting_check_runs_on_every_staging_asset(built: Settings) -> None:
    result = materialize(built, "key:staging/*")
    evaluations = result.get_asset_check_evaluations()
    accounted = {e.asset_key.path[-1] for e in evaluations if e.check_name == ACCOUNTING_CHECK and e.passed}
    staging = {model.name for model in load_models(PROJECT_ROOT / "models") if model.layer == "staging"}
    assert accounted == staging


def test_the_latest_version_wins_and_offsets_become_utc(built: Settings) -> None:
    leads = dict(rows(built, "select lead_id, company_name from staging.stg_salesforce__leads"))
    assert leads["L1"] == "New"
    created = dict(rows(built, "select lead_id, created_at from staging.stg_salesforce__leads"))
    assert created["L2"] == datetime(2026, 1, 5, 8, 0)


def test_a_new_column_is_kept_in_raw(built: Settings) -> None:
    assert rows(built, "select brand_new_field_c from salesforce.lead where id = 'L7'") == [("surprise",)]


def test_an_orphan_opportunity_is_kept_not_dropped(built: Settings) -> None:
    orphan = rows(built, "select segment from intermediate.int_opportunities_classified where opportunity_id = 'O3'")
    assert orphan == [("Unknown",)]


def test_reloading_the_same_file_replaces_its_quarantine_rows(tmp_path: Path) -> None:
    table = next(table for table in load_sources(PROJECT_ROOT / "models" / "sources.yml") if table.name == "lead")
    raw_dir = write_raw(tmp_path / "raw", {"salesforce.lead": LEADS})
    erasures = ErasureList(tmp_path / "erasures.csv")
    with duckdb.connect() as connection:
        first = load_raw_table(connection, table, raw_dir / "salesforce" / "lead.csv", erasures)
        second = load_raw_table(connection, table, raw_dir / "salesforce" / "lead.csv", erasures)
        count = connection.execute("select count(*) from quarantine.rejected_rows").fetchone()
    assert first == second
    assert first.file_rows == 8 and first.quarantined_rows == 3
    assert count == (3,)


def test_the_accounting_check_catches_a_tampered_file_count(built: Settings, tmp_path: Path) -> None:
    """The file's rows are recorded from the file: one row more in the record than in the file breaks the sum."""
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(built.warehouse.read_bytes())
    model = next(model for model in load_models(PROJECT_ROOT / "models") if model.name == "stg_salesforce__tasks")
    table = next(table for table in load_sources(PROJECT_ROOT / "models" / "sources.yml") if table.name == "task")
    with duckdb.connect(str(copy)) as connection:
        assert connection.execute(accounting_sql(model, table)).fetchall() == []
        connection.execute(
            "update audit.raw_loads set file_rows = file_rows + 1 where source_table = 'salesforce.task'"
        )
        violations = connection.execute(accounting_sql(model, table)).fetchall()
    # file rows, staged, quarantined (the two malformed lines), duplicates, soft-deleted, erased
    assert violations == [(3, 0, 2, 0, 0, 0)]


def test_a_suspected_rename_reaches_the_asset_metadata_and_the_run_summary(built: Settings) -> None:
    result = materialize(built, 'key:"stripe/customer"')
    (event,) = [event for event in result.get_asset_materialization_events() if event.asset_key is not None]
    metadata = event.materialization.metadata
    assert metadata["suspected_renames"].value == {"delinquent": "is_delinquent"}
    summary = RunSummary(succeeded=True, seconds=0.0, schema_drift=schema_drift(event.asset_key, metadata))
    assert "schema drift:  stripe.customer: file has is_delinquent, contract expects delinquent (renamed_from?)" in (
        summary.render()
    )
