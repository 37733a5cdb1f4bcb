"""Source contracts: quarantine rules are derived from the contract, and a table's own rules are one condition."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.settings import PROJECT_ROOT
from pipelines.sources import SourceContractError, load_sources

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
    with pytest.raises(SourceContractError, match=r"crm\.lead\.quarantine\[0\]"):
        load_sources(contract(tmp_path, when))


def test_the_project_contracts_load() -> None:
    tables = load_sources(PROJECT_ROOT / "models" / "sources.yml")
    test_mode = {table.name for table in tables if any(rule.name == "is_test_mode" for rule in table.rules)}
    assert test_mode == {"customer", "price", "subscription"}
