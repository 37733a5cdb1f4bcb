"""Erasure survives re-runs: a forgotten person is dropped at every raw load, so no schema holds them afterwards.

The person: lead 00QL1, e-mail erased.person@example.com (written in the CRM as " Erased.Person@Example.COM ", so
the match must ignore case and spaces). Forgotten by e-mail only: the lead id is found through the raw lead and
engagement rows, so the rep's task on 00QL1 (which carries only who_id) goes too. Worked by hand:

    salesforce.lead     3 file rows = L1 + L2 + one malformed line holding the e-mail -> 1 staged (L2), 2 erased
    salesforce.task     2 file rows = T1 (who 00QL1) + T2 (who 00QL2)               -> 1 staged, 1 erased
    marketing.engagements 2 rows    = E1 (the e-mail, lead 00QL1) + E2 (lead 00QL2)   -> 1 staged, 1 erased
    stripe.customer     1 row with the e-mail: a paying organisation, so redacted, not dropped -> 1 staged,
                        0 erased, 1 redacted; its email, name and description are null
    erasure list        2 hashes: the e-mail and lead id 00QL1 (found on L1 and on E1: one entry)
"""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import duckdb
import pytest

from pipelines import cli
from pipelines.spec.settings import Settings
from pipelines.spec.sources import load_sources
from pipelines.warehouse.accounting import ACCOUNTING_CHECK
from pipelines.warehouse.erasure import (
    KEY_ENV,
    ErasureError,
    ErasureList,
    keyed_hash,
    record_request,
    requested_hashes,
)
from pipelines.warehouse.raw_load import load_raw_table
from tests.conftest import materialize, settings_for
from tests.fixtures import write_raw

EMAIL = "erased.person@example.com"
KEY = "test-only-key-not-a-secret"

TABLES = {
    "salesforce.lead": [
        {"id": "00QL1", "email": " Erased.Person@Example.COM ", "phone": "+1 555 0101", "lead_source": "Paid Search",
         "created_date": "2026-01-05 09:00:00"},
        {"id": "00QL2", "email": "kept.person@example.org", "lead_source": "Paid Search",
         "created_date": "2026-01-06 09:00:00"},
    ],
    "salesforce.task": [
        {"id": "T1", "who_id": "00QL1", "type": "Call", "created_date": "2026-01-05 10:00:00"},
        {"id": "T2", "who_id": "00QL2", "type": "Call", "created_date": "2026-01-06 10:00:00"},
    ],
    "marketing.engagements": [
        {"id": "E1", "email": EMAIL, "lead_id": "00QL1", "activity_type": "form_fill",
         "occurred_at": "2026-01-05 08:00:00"},
        {"id": "E2", "email": "kept.person@example.org", "lead_id": "00QL2", "activity_type": "form_fill",
         "occurred_at": "2026-01-06 08:00:00"},
    ],
    "stripe.customer": [
        {"id": "cus_1", "email": EMAIL, "name": "Erased Person", "livemode": "true",
         "created": "2026-01-20 00:00:00", "metadata": '{"salesforce_account_id": "001A1"}'},
    ],
}  # fmt: skip
SELECTION = 'group:raw or group:staging or +key:"marts/fct_lead_funnel" or +key:"marts/fct_speed_to_lead"'


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    raw_dir = write_raw(tmp_path / "raw", TABLES)
    header = b"id,lead_source,status,created_date,is_converted,is_deleted,email,phone\r\n"
    assert (raw_dir / "salesforce" / "lead.csv").read_bytes().startswith(header)
    with (raw_dir / "salesforce" / "lead.csv").open("a", newline="") as handle:  # the writer's CRLF endings
        handle.write(f"00QL9,Paid Search,,2026-01-05 09:00:00,,,{EMAIL},+1 555 0101,one field too many\r\n")
    erasure_list = tmp_path / "config" / "erasures.csv"
    # `flywheel forget` and the build read the list's path from the settings (FLYWHEEL_ERASURE_LIST), and every raw
    # load reads the key from the environment.
    monkeypatch.setenv("FLYWHEEL_ERASURE_LIST", str(erasure_list))
    monkeypatch.setenv(KEY_ENV, KEY)
    monkeypatch.setenv("FLYWHEEL_WAREHOUSE", str(tmp_path / "warehouse" / "flywheel.duckdb"))
    monkeypatch.setenv("FLYWHEEL_RAW_DIR", str(raw_dir))
    return dataclasses.replace(settings_for(tmp_path, raw_dir), erasure_list=erasure_list)


def tables_holding(connection: duckdb.DuckDBPyConnection, needle: str) -> list[str]:
    """Every table of every schema whose rows, as JSON text, contain `needle` (case-insensitive)."""
    tables = connection.execute(
        "select table_schema, table_name from information_schema.tables where table_catalog = current_database()"
    ).fetchall()
    found = []
    for schema, table in tables:
        hits = connection.execute(
            f'select count(*) from "{schema}"."{table}" as r where lower(cast(to_json(r) as varchar)) like ?',
            [f"%{needle.lower()}%"],
        ).fetchone()
        if hits and hits[0]:
            found.append(f"{schema}.{table}")
    return found


def test_forgotten_person_is_in_no_table_and_every_row_is_accounted_for(project: Settings) -> None:
    assert cli.main(["forget", "--email", EMAIL, "--no-run"]) == 0
    result = materialize(project, SELECTION)
    assert result.success
    accounting = [e for e in result.get_asset_check_evaluations() if e.check_name == ACCOUNTING_CHECK]
    assert accounting and all(e.passed for e in accounting)

    with duckdb.connect(str(project.warehouse), read_only=True) as connection:
        # The scan finds the person who was not forgotten, in raw, staging and the marts: it can fail.
        assert {"salesforce.lead", "staging.stg_salesforce__leads", "marketing.engagements"} <= set(
            tables_holding(connection, "Kept.Person@example.org")
        )
        assert {"marts.fct_lead_funnel", "salesforce.task"} <= set(tables_holding(connection, "00QL2"))
        assert tables_holding(connection, EMAIL) == []
        assert tables_holding(connection, "00QL1") == []
        assert tables_holding(connection, "Erased Person") == []
        loads = {
            row[0]: row[1:]
            for row in connection.execute(
                "select source_table, file_rows, loaded_rows, quarantined_rows, erased_rows, redacted_rows "
                "from audit.raw_loads"
            ).fetchall()
        }
        assert loads["salesforce.lead"] == (3, 1, 0, 2, 0)
        assert loads["salesforce.task"] == (2, 1, 0, 1, 0)
        assert loads["marketing.engagements"] == (2, 1, 0, 1, 0)
        assert loads["stripe.customer"] == (1, 1, 0, 0, 1)
        assert connection.execute("select lead_id from staging.stg_salesforce__leads").fetchall() == [("00QL2",)]
        assert connection.execute(
            "select customer_id, email, customer_name, crm_account_id from staging.stg_stripe__customers"
        ).fetchall() == [("cus_1", None, None, "001A1")]
        assert connection.execute("select count(*) from quarantine.rejected_rows").fetchone() == (0,)

    # The list holds keyed hashes only: the e-mail and the lead id found through it, nothing in plain text.
    text = project.erasure_list.read_text()
    assert EMAIL not in text.lower() and "@" not in text and "00QL1" not in text
    entries = ErasureList.read(project.erasure_list).entries
    assert set(entries) == {
        ("email", keyed_hash(KEY.encode(), "email", EMAIL)),
        ("lead_id", keyed_hash(KEY.encode(), "lead_id", "00QL1")),
    }
    with project.erasure_list.open() as handle:
        assert [row["kind"] for row in csv.DictReader(handle)] == ["email", "lead_id"]

    # Asking again adds nothing; the next run (the connector lands the same files) erases the person again.
    assert cli.main(["forget", "--email", EMAIL.upper(), "--no-run"]) == 0
    assert ErasureList.read(project.erasure_list).entries == entries


def test_a_request_goes_to_the_list_the_caller_names_with_the_ids_linked_in_the_raw_files(
    project: Settings, tmp_path: Path
) -> None:
    # The warehouse layer reads the list's path from its caller, never from FLYWHEEL_ERASURE_LIST (the project's).
    given = tmp_path / "elsewhere" / "erasures.csv"
    requested = requested_hashes([f" {EMAIL.upper()} "], [], [])
    recorded = record_request(given, load_sources(project.sources_file), project.raw_dir, requested)
    assert recorded.new_entries == 2
    assert set(ErasureList.read(given).entries) == {
        ("email", keyed_hash(KEY.encode(), "email", EMAIL)),
        ("lead_id", keyed_hash(KEY.encode(), "lead_id", "00QL1")),
    }
    # T1 carries only the lead id, found through the e-mail on E1.
    assert recorded.raw_rows["salesforce.task"] == 1
    assert recorded.raw_rows["marketing.engagements"] == 1
    assert recorded.raw_rows["stripe.customer"] == 1
    assert not project.erasure_list.exists()


def test_forget_without_the_key_fails_clearly_and_records_nothing(
    project: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(KEY_ENV)
    assert cli.main(["forget", "--email", EMAIL, "--no-run"]) == 2
    assert f"{KEY_ENV} is not set" in capsys.readouterr().err
    assert not project.erasure_list.exists()


def test_a_load_with_requests_on_the_list_and_no_key_fails(project: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    # Loading without applying the list would bring the person back, so the load fails before writing anything.
    assert cli.main(["forget", "--lead-id", "00QL1", "--no-run"]) == 0
    monkeypatch.delenv(KEY_ENV)
    lead = next(table for table in load_sources(project.sources_file) if table.key == ("salesforce", "lead"))
    with duckdb.connect() as connection:
        with pytest.raises(ErasureError, match=f"holds 1 erasure request.*{KEY_ENV} is not set"):
            load_raw_table(connection, lead, lead.find_file(project.raw_dir), ErasureList.read(project.erasure_list))
        assert connection.execute(
            "select count(*) from information_schema.tables where table_name = 'lead'"
        ).fetchone() == (0,)
