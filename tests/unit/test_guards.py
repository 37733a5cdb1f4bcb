"""The guards' logic on tiny inputs: personal-data patterns, the mart scan, the volume comparison, the baseline."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from pipelines import cli
from pipelines.cli import RunSummary
from pipelines.orchestration.guard_checks import VolumeGuard
from pipelines.orchestration.project import resources
from pipelines.spec.models import load_models
from pipelines.spec.personal_data import email_like_sql, is_personal_column, mask, phone_like_sql
from pipelines.spec.settings import PROJECT_ROOT, Settings
from pipelines.spec.sources import SourceContractError, load_sources
from pipelines.warehouse.guards import (
    Baseline,
    accepted_shrinks,
    compare_volume,
    max_row_drop_share,
    read_baseline,
    redacted_label,
    scan_personal_data,
    upstream_tables,
)
from pipelines.warehouse.shared_definitions import DefinitionsError, load_definitions

PERSONAL = [
    ("jane.doe@example.com", "email"),
    ("spring promo jane@x.io", "email"),
    ("+1-971-555-0152", "phone"),
    ("+44 20 7946 0958", "phone"),
    ("+15551234567", "phone"),
    ("555-010-1234", "phone"),
    ("(555) 010-1234", "phone"),
    ("call me on +1 555 0101", "phone"),
]
NOT_PERSONAL = [
    "006000000030000",  # a 15-character CRM id, digits only
    "0065e00000AbCdE",  # a 15-character CRM id
    "0065e00000AbCdEfGH",  # an 18-character CRM id
    "001000000010943000",  # an 18-character id, digits only
    "cus_1234567890",
    "si_08T7stKCu0At3n",
    "2026-01-05",
    "2026-01-05 10:00:00",
    "2026-01-05 10:00:00+02:00",
    "2026-01-05T10:00:00+0200",
    "2026-01-05 10:00:00.123456",
    "1234567.89",
    "-1234567.89",
    "+1234.56",
    "1,234,567.89",
    "webinar_2024_11",
    "New Business",
    "Existing Business - Renewal",
]


def _shape(value: str) -> tuple[bool, bool]:
    with duckdb.connect() as connection:
        row = connection.execute(
            f"select {email_like_sql('value')}, {phone_like_sql('value')} from (select ? as value)", [value]
        ).fetchone()
    assert row is not None
    return bool(row[0]), bool(row[1])


@pytest.mark.parametrize(("value", "kind"), PERSONAL)
def test_emails_and_phone_numbers_are_recognised(value: str, kind: str) -> None:
    email, phone = _shape(value)
    assert (email, phone) == (kind == "email", kind == "phone")


@pytest.mark.parametrize("value", NOT_PERSONAL)
def test_record_ids_dates_and_amounts_are_not_phone_numbers(value: str) -> None:
    assert _shape(value) == (False, False)


def test_personal_column_names() -> None:
    assert all(map(is_personal_column, ["email", "lead_email", "phone", "first_name", "last_name", "name"]))
    assert not any(map(is_personal_column, ["stage_name", "event_name", "campaign", "owner_user_id", "segment"]))


def test_mask_hides_all_but_the_shape() -> None:
    assert mask("jane.doe@example.com") == "j***.***@*******.*om"
    assert mask("+1-971-555-0152") == "+1-***-***-**52"
    assert mask("abc") == "***"


def _table(rows: list[tuple[object, ...]], columns: str) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    connection.execute("create schema marts")
    connection.execute(f"create table marts.pending ({columns})")
    for row in rows:
        connection.execute(f"insert into marts.pending values ({', '.join('?' for _ in row)})", list(row))
    return connection


def test_a_mart_that_leaks_an_email_fails_the_scan_with_masked_samples() -> None:
    connection = _table(
        [("006000000030000", "brand_search", 3), ("0065e00000AbCdEfGH", "jane.doe@example.com", 1)],
        "opportunity_id varchar, campaign varchar, lead_count integer",
    )
    result = scan_personal_data(connection, "marts", "pending", "marts.rpt_demo")
    assert not result.passed
    assert result.values_by_column == {"campaign": 1}
    assert result.masked_samples == {"campaign": ["j***.***@*******.*om"]}
    assert "jane" not in result.summary() and "marts.rpt_demo" in result.summary()
    assert result.scanned_columns == 2


def test_record_ids_and_dates_pass_the_scan_but_a_personal_column_name_fails_it() -> None:
    clean = _table(
        [("006000000030000", "2026-01-05 10:00:00", "New Business")],
        "opportunity_id varchar, closed_at varchar, opportunity_type varchar",
    )
    assert scan_personal_data(clean, "marts", "pending").passed
    named = _table([("Sales",)], "first_name varchar")
    result = scan_personal_data(named, "marts", "pending")
    assert not result.passed and result.personal_columns == ["first_name"]


BASELINE = Baseline(publish_id="p1", row_counts={"salesforce.opportunity": 100, "marts.fct_x": 10})


@pytest.mark.parametrize(
    ("current", "passed"),
    [(100, True), (150, True), (51, True), (50, True), (49, False), (1, False), (0, False)],
    ids=["same", "grew", "lost-49%", "lost-50%-the-share", "lost-51%", "lost-99%", "empty"],
)
def test_a_drop_beyond_the_share_or_to_empty_fails(current: int, passed: bool) -> None:
    result = compare_volume("salesforce.opportunity", current, BASELINE, 0.5)
    assert result.passed is passed
    if not passed:
        assert f"from 100 to {current} rows" in result.summary()
        assert "flywheel run --accept-shrink salesforce.opportunity" in result.summary()


def test_an_empty_table_fails_even_with_a_share_of_one() -> None:
    assert compare_volume("marts.fct_x", 1, BASELINE, 1.0).passed
    assert not compare_volume("marts.fct_x", 0, BASELINE, 1.0).passed


def test_no_baseline_passes_and_says_so() -> None:
    first_build = compare_volume("salesforce.opportunity", 0, None, 0.5)
    new_table = compare_volume("salesforce.task", 0, BASELINE, 0.5)
    assert first_build.passed and new_table.passed
    assert "no baseline" in first_build.summary()
    empty_before = compare_volume("marts.fct_y", 0, Baseline("p1", {"marts.fct_y": 0}), 0.5)
    assert empty_before.passed


def test_an_accepted_drop_passes_for_the_table_and_what_is_built_from_it() -> None:
    accepted = accepted_shrinks(["salesforce/opportunity", " marts.fct_z, "])
    assert accepted == {"salesforce.opportunity", "marts.fct_z"}
    raw = compare_volume("salesforce.opportunity", 0, BASELINE, 0.5, accepted)
    mart = compare_volume("marts.fct_x", 0, BASELINE, 0.5, accepted, upstream={"salesforce.opportunity"})
    other = compare_volume("marts.fct_x", 0, BASELINE, 0.5, accepted, upstream={"salesforce.lead"})
    assert raw.passed and raw.accepted and raw.collapsed
    assert mart.passed and "accepted" in mart.summary()
    assert not other.passed


def test_the_baseline_is_read_from_the_current_manifest(tmp_path: Path) -> None:
    assert read_baseline(tmp_path) is None
    manifest = tmp_path / "parquet" / "current.json"
    manifest.parent.mkdir()
    manifest.write_text(
        json.dumps(
            {
                "publish_id": "p9",
                "tables": {"marts.fct_x": {"rows": 7, "parquet": "marts/fct_x.parquet"}},
                "raw_tables": {"salesforce.opportunity": 12},
            }
        )
    )
    assert read_baseline(tmp_path) == Baseline("p9", {"marts.fct_x": 7, "salesforce.opportunity": 12})


def test_upstream_tables_reach_the_raw_tables_through_every_layer() -> None:
    closure = upstream_tables(load_models(PROJECT_ROOT / "models"))
    assert {"salesforce.opportunity", "staging.stg_salesforce__opportunities"} <= closure[
        "marts.fct_opportunity_outcomes"
    ]
    assert "salesforce.opportunity" not in closure["staging.stg_salesforce__leads"]


def test_the_guards_read_their_definitions(tmp_path: Path) -> None:
    definitions = PROJECT_ROOT / "definitions.yml"
    assert max_row_drop_share(definitions) == 0.5
    assert redacted_label(definitions) == "(redacted)"
    broken = tmp_path / "definitions.yml"
    broken.write_text(definitions.read_text().replace("max_row_drop_share: 0.5", "max_row_drop_share: 5"))
    with pytest.raises(DefinitionsError, match=r"volume_guard\.max_row_drop_share"):
        max_row_drop_share(broken)


def test_free_text_is_a_contract_attribute_of_text_columns(tmp_path: Path) -> None:
    tables = {table.key: table for table in load_sources(PROJECT_ROOT / "models" / "sources.yml")}
    assert "utm_campaign_c" in tables[("salesforce", "lead")].free_text_columns
    path = tmp_path / "sources.yml"
    path.write_text(
        "crm:\n  owner: team:sales\n  tables:\n    lead:\n      primary_key: [id]\n      columns:\n"
        "        id: {type: varchar, required: true}\n        employees: {type: integer, free_text: true}\n"
    )
    with pytest.raises(
        SourceContractError, match=r"crm\.tables\.lead\.columns\.employees\.free_text: applies to varchar columns only"
    ):
        load_sources(path)


def test_opportunity_types_are_a_definitions_table_keyed_by_label() -> None:
    table = load_definitions(PROJECT_ROOT / "definitions.yml").tables()["opportunity_types"]
    mapped = dict(zip(table["label_key"], table["opportunity_type"], strict=True))
    assert mapped["new logo"] == "New Business" and mapped["upsell"] == "Expansion"
    assert mapped["existing business - renewal"] == "Renewal"
    assert table.loc[table["label_key"].isna(), "opportunity_type"].tolist() == ["Other"]
    assert set(table.loc[table["is_new_business"], "opportunity_type"]) == {"New Business"}
    assert table["label_key"].dropna().is_unique


def test_accept_shrink_comes_from_the_environment_and_the_command_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLYWHEEL_ACCEPT_SHRINK", "salesforce.opportunity, stripe.subscription_item")
    settings = Settings.from_env()
    assert settings.accept_shrink == ("salesforce.opportunity", "stripe.subscription_item")
    guard = resources(settings)["volume_guard"]
    assert isinstance(guard, VolumeGuard) and guard.accept_shrink == list(settings.accept_shrink)
    seen: list[Settings] = []

    def run(settings: Settings, **_: object) -> RunSummary:
        seen.append(settings)
        return RunSummary(succeeded=True, seconds=0.0)

    monkeypatch.setattr(cli, "run_pipeline", run)
    assert cli.main(["run", "--accept-shrink", "marts.fct_opportunity_outcomes"]) == 0
    assert seen[0].accept_shrink == (
        "salesforce.opportunity",
        "stripe.subscription_item",
        "marts.fct_opportunity_outcomes",
    )
