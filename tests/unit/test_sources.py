"""Source contracts: quarantine rules are derived from the contract, and a table's own rules are one condition."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from pipelines.spec.settings import PROJECT_ROOT
from pipelines.spec.sources import SourceContractError, SourceTable, load_sources

CONTRACT = """
crm:
  owner: team:sales
  tables:
    lead:
      primary_key: [id]
      quarantine:
        - rule: is_spam
          description: marked as spam
          when: {when}
      columns:
        id: {{type: varchar, required: true}}
        employees: {{type: integer}}
        created_date: {{type: timestamp}}
"""


def contract(tmp_path: Path, when: str) -> Path:
    path = tmp_path / "sources.yml"
    path.write_text(CONTRACT.format(when=when))
    return path


def test_rules_come_from_the_key_the_types_and_the_table(tmp_path: Path) -> None:
    (table,) = load_sources(contract(tmp_path, "spam_flag = 'true'"))
    assert [rule.name for rule in table.quarantine_rules] == [
        "primary_key_is_null",
        "employees_is_unparseable",
        "created_date_is_unparseable",
        "is_spam",
        "created_date_is_outside_horizon",
    ]


@pytest.mark.parametrize(
    "when",
    [
        '"x = 1; drop table salesforce.lead"',
        '"id in (select id from salesforce.lead)"',
        '"x = "',
    ],
)
def test_a_rule_that_is_more_than_one_condition_is_refused(tmp_path: Path, when: str) -> None:
    with pytest.raises(SourceContractError, match=r"sources\.yml:10: crm\.tables\.lead\.quarantine\[0\]\.when: "):
        load_sources(contract(tmp_path, when))


def test_the_project_contracts_load() -> None:
    tables = load_sources(PROJECT_ROOT / "models" / "sources.yml")
    test_mode = {table.name for table in tables if any(rule.name == "is_test_mode" for rule in table.rules)}
    assert test_mode == {"customer", "price", "subscription", "coupon", "invoice", "invoice_line_item", "charge"}
    # A test-mode rule reads livemode: a file without it would let test-mode rows through as live.
    assert all("livemode" in table.required_columns for table in tables if table.name in test_mode)
    # Stripe discounts come in the connector's one `discount` table (SUBSCRIPTION_DISCOUNT is deprecated), whose
    # deleted rows are removed discounts that staging keeps as ended periods.
    names = {table.name for table in tables}
    assert "discount" in names and "subscription_discount" not in names
    assert {table.name for table in tables if table.soft_deletes == "ended"} == {"discount"}


TYPED = """
billing:
  owner: team:success
  tables:
    customer:
      primary_key: [id]
      columns:
        id: {type: varchar, required: true}
        spend: {type: "decimal(18, 2)"}
        ratio: {type: double}
        metadata: {type: json}
        livemode: {type: boolean, required: true, renamed_from: [is_live]}
        delinquent: {type: boolean}
"""


def typed_contract(tmp_path: Path, text: str = TYPED) -> SourceTable:
    path = tmp_path / "sources.yml"
    path.write_text(text)
    (table,) = load_sources(path)
    return table


def test_amounts_are_checked_finite_before_they_are_parsed(tmp_path: Path) -> None:
    table = typed_contract(tmp_path)
    assert [rule.name for rule in table.quarantine_rules] == [
        "primary_key_is_null",
        "spend_is_not_finite",
        "spend_is_unparseable",
        "ratio_is_not_finite",
        "ratio_is_unparseable",
        "metadata_is_unparseable",
        "livemode_is_unparseable",
        "delinquent_is_unparseable",
    ]
    spend = next(column for column in table.columns if column.name == "spend")
    assert spend.type == "decimal(18,2)"


@pytest.mark.parametrize("column_type", ["money", "decimal(40,2)", "decimal(4,6)", "decimal"])
def test_an_unknown_type_is_refused(tmp_path: Path, column_type: str) -> None:
    with pytest.raises(SourceContractError, match=r"billing\.tables\.customer\.columns\.spend\.type: must be one of"):
        typed_contract(tmp_path, TYPED.replace('"decimal(18, 2)"', f'"{column_type}"'))


def test_an_old_spelling_is_read_as_the_contract_name(tmp_path: Path) -> None:
    table = typed_contract(tmp_path)
    assert table.renames_in(["id", "IS_LIVE", "spend"]) == {"IS_LIVE": "livemode"}
    assert table.renames_in(["id", "livemode", "is_live"]) == {}  # the new spelling wins


def test_an_old_spelling_that_is_another_column_is_refused(tmp_path: Path) -> None:
    with pytest.raises(
        SourceContractError,
        match=r"billing\.tables\.customer\.columns\.livemode\.renamed_from\[0\]: names 'delinquent'",
    ):
        typed_contract(tmp_path, TYPED.replace("renamed_from: [is_live]", "renamed_from: [delinquent]"))


def test_a_file_column_close_to_a_missing_one_is_suspected(tmp_path: Path) -> None:
    table = typed_contract(tmp_path)
    assert table.suspected_renames(["id", "live_mode", "Delinquint", "notes"]) == {
        "livemode": "live_mode",
        "delinquent": "Delinquint",
    }
    # A declared old spelling is a rename, not a suspect; unrelated extra columns are never suspects.
    assert table.suspected_renames(["id", "is_live", "delinquent", "meta", "spent"]) == {}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        # A typo'd key, at each level of the contract.
        (
            ("type: varchar, required: true", "type: varchar, requried: true"),
            "8: billing.tables.customer.columns.id.requried: unknown key (did you mean required?)",
        ),
        (
            ("primary_key: [id]", "primary_key: [id]\n      descripton: the customer"),
            "7: billing.tables.customer.descripton: unknown key (did you mean description?)",
        ),
        (
            ("owner: team:success", "owner: team:success\n  tabels: {}"),
            "4: billing.tabels: unknown key (did you mean tables?)",
        ),
        # A wrong type.
        (
            ("required: true, renamed_from", 'required: "yes", renamed_from'),
            "12: billing.tables.customer.columns.livemode.required: must be true or false, not the text 'yes'",
        ),
        (
            ("primary_key: [id]", "primary_key: id"),
            "6: billing.tables.customer.primary_key: must be a list, not the text 'id'",
        ),
        (
            ("ratio: {type: double}", "ratio: {type: double, description: 0.5}"),
            "10: billing.tables.customer.columns.ratio.description: must be text, not 0.5",
        ),
        (
            ("delinquent: {type: boolean}", "on: {type: boolean}"),
            "13: billing.tables.customer.columns.true: the key "
            "must be text (put it in quotes), not true (a yes/no value)",
        ),
        # A missing key.
        (
            ('spend: {type: "decimal(18, 2)"}', "spend: {required: true}"),
            "9: billing.tables.customer.columns.spend.type: missing",
        ),
        (("  owner: team:success\n", ""), "2: billing.owner: missing"),
        (("      primary_key: [id]\n", ""), "5: billing.tables.customer.primary_key: missing"),
    ],
)
def test_a_broken_contract_names_the_file_the_line_and_the_key(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    old, new = change
    assert old in TYPED
    path = tmp_path / "sources.yml"
    path.write_text(TYPED.replace(old, new, 1))
    with pytest.raises(SourceContractError) as raised:
        load_sources(path)
    assert str(raised.value) == f"{path}:{message}"


def test_every_problem_of_the_contract_is_reported_one_per_line(tmp_path: Path) -> None:
    path = tmp_path / "sources.yml"
    path.write_text(
        TYPED.replace("ratio: {type: double}", "ratio: {type: double, free_text: true, dates: past}").replace(
            "metadata: {type: json}", "metadata: {type: jsonb}"
        )
    )
    with pytest.raises(SourceContractError) as raised:
        load_sources(path)
    assert str(raised.value).splitlines() == [
        f"{path}:11: billing.tables.customer.columns.metadata.type: must be one of bigint, boolean, date, double, "
        "integer, json, timestamp, varchar or decimal(p,s) with s <= p <= 38, not 'jsonb'",
    ]
    path.write_text(TYPED.replace("ratio: {type: double}", "ratio: {type: double, free_text: true, dates: past}"))
    with pytest.raises(SourceContractError) as raised:
        load_sources(path)
    assert str(raised.value).splitlines() == [
        f"{path}:10: billing.tables.customer.columns.ratio.dates: applies to date and timestamp columns only, and "
        "this one is double",
        f"{path}:10: billing.tables.customer.columns.ratio.free_text: applies to varchar columns only, and this one "
        "is double",
    ]


def test_a_key_written_twice_in_the_contract_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "sources.yml"
    path.write_text(TYPED.replace("ratio: {type: double}", "ratio: {type: double}\n        ratio: {type: varchar}"))
    with pytest.raises(
        SourceContractError,
        match=r"sources\.yml:11: billing\.tables\.customer\.columns\.ratio: "
        r"duplicate key \(first at line 10\)",
    ):
        load_sources(path)


def test_horizon_rules_bound_past_scheduled_and_history_end_dates() -> None:
    """Each date column gets a horizon rule whose upper bound follows its `dates` kind."""
    import duckdb

    from pipelines.warehouse.horizon import DataHorizon, HorizonSettings, set_horizon_variables

    tables = {table.key: table for table in load_sources(PROJECT_ROOT / "models" / "sources.yml")}
    rules = {rule.name: rule.when for rule in tables[("stripe", "subscription_item")].horizon_rules}
    settings = HorizonSettings(datetime(2000, 1, 1), timedelta(hours=24), timedelta(days=1830))
    horizon = DataHorizon.around(settings, datetime(2026, 3, 5, 12), "test")
    with duckdb.connect() as connection:
        set_horizon_variables(connection, horizon)

        def breaks(rule: str, value: str) -> bool:
            found = connection.execute(
                f"select coalesce({rules[rule]}, false) from (select ? as {rule.split('_is_')[0]})", [value]
            )
            return bool(found.fetchone()[0])  # type: ignore[index]

        assert breaks("created_is_outside_horizon", "1999-12-31 23:59:59")
        assert not breaks("created_is_outside_horizon", "2000-01-01 00:00:00")
        assert not breaks("created_is_outside_horizon", "2026-03-06 12:00:00")  # exactly as-of + skew
        assert breaks("created_is_outside_horizon", "2026-03-06 12:00:01")
        assert not breaks("_fivetran_end_is_outside_horizon", "9999-12-31 23:59:59")  # still current
        assert breaks("_fivetran_end_is_outside_horizon", "2099-01-01 00:00:00")
    scheduled = {rule.name: rule.when for rule in tables[("stripe", "subscription")].horizon_rules}
    assert "flywheel_horizon_latest_scheduled" in scheduled["current_period_end_is_outside_horizon"]
    assert "flywheel_horizon_latest_scheduled" not in scheduled["canceled_at_is_outside_horizon"]
