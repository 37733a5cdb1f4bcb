"""Check files (`<model>.checks.sql`, see pipelines/spec/models.py) follow the rules of model files.

Each check file sits beside the model it guards, parses (a header per check, one SELECT each), and its SQL follows
the house style the model files follow; no model header holds checks of its own (`assertions:`).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.spec.models import CHECKS_SUFFIX, ModelError, check_files, is_checks_file, load_checks, parse_header
from pipelines.spec.settings import Settings
from tests.contract.sql_style import sql_style_problems

MODELS_DIR = Settings.from_env().models_dir
CHECK_FILES = check_files(MODELS_DIR)


def model_file_of(check_file: Path) -> Path:
    """The model a check file guards: `rpt_x.checks.sql` -> `rpt_x.sql` beside it."""
    return check_file.with_name(check_file.name.removesuffix(CHECKS_SUFFIX) + ".sql")


def check_file_problems(path: Path) -> list[str]:
    """What is wrong with one check file: a missing model, checks that do not parse, SQL out of the house style."""
    problems = [] if model_file_of(path).exists() else [f"no model {model_file_of(path).name} beside it"]
    try:
        checks = load_checks(path)
    except ModelError as error:
        return [*problems, str(error)]
    return problems + sql_style_problems(path.read_text(), [check.sql for check in checks])


def header_assertions(models_dir: Path) -> list[str]:
    """The model files whose header still holds `assertions:` (checks belong in the check file)."""
    found = []
    for path in sorted(models_dir.rglob("*.sql")):
        if not is_checks_file(path) and "assertions" in parse_header(path.read_text(), path):
            found.append(str(path))
    return found


def test_there_are_check_files() -> None:
    assert CHECK_FILES


@pytest.mark.parametrize("path", CHECK_FILES, ids=lambda path: path.name)
def test_check_file_guards_a_model_parses_and_follows_the_style(path: Path) -> None:
    assert check_file_problems(path) == []


def test_no_model_header_holds_checks() -> None:
    assert header_assertions(MODELS_DIR) == []


GOOD = """/*
name: assert_totals_are_positive
severity: error
description: Totals are positive.
*/
select totals.day from marts.rpt_totals as totals where totals.amount <= 0;
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / "marts" / "totals" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_a_good_check_file_has_no_problems(tmp_path: Path) -> None:
    write(tmp_path, "rpt_totals.sql", "select 1")
    assert check_file_problems(write(tmp_path, "rpt_totals.checks.sql", GOOD)) == []


def test_a_check_file_without_its_model_is_reported(tmp_path: Path) -> None:
    assert check_file_problems(write(tmp_path, "rpt_totals.checks.sql", GOOD)) == ["no model rpt_totals.sql beside it"]


def test_a_check_that_does_not_parse_is_reported(tmp_path: Path) -> None:
    write(tmp_path, "rpt_totals.sql", "select 1")
    [problem] = check_file_problems(write(tmp_path, "rpt_totals.checks.sql", GOOD.replace("<= 0", "<= (((")))
    assert "assert_totals_are_positive: the SQL does not parse" in problem


def test_check_sql_out_of_the_house_style_is_reported(tmp_path: Path) -> None:
    write(tmp_path, "rpt_totals.sql", "select 1")
    broken = GOOD.replace("select totals.day", "SELECT t.day").replace("as totals where totals", "as t where t")
    assert check_file_problems(write(tmp_path, "rpt_totals.checks.sql", broken + "\t\n")) == [
        "line 7: tab or trailing whitespace",
        "line 1: keyword SELECT is not lowercase",
        "one-letter alias t: qualify with the full table name",
    ]


def test_a_model_header_holding_assertions_is_reported(tmp_path: Path) -> None:
    header = "/*\nname: rpt_totals\ndescription: d\ngrain: [day]\nowner: team:revops\nassertions: []\n*/\nselect 1\n"
    path = write(tmp_path, "rpt_totals.sql", header)
    write(tmp_path, "rpt_totals.checks.sql", GOOD)
    assert header_assertions(tmp_path) == [str(path)]
