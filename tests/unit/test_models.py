"""Model files: header parsing, documented columns and upstream tables read by sqlglot."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.spec.models import (
    ModelError,
    TableRef,
    load_model,
    load_models,
    output_columns,
    parse_header,
    parse_sql,
    upstream_tables,
)

MODEL = """/*
name: fct_example
description: One row per example.
grain: [example_id, example_date]
owner: team:sales
*/
with

leads as (select * from staging.stg_salesforce__leads),

accounts as (select * from staging.stg_salesforce__accounts),

counted as (
    select leads.converted_account_id, count(*) as lead_count
    from leads
    group by leads.converted_account_id
),

final as (
    select
        accounts.account_id as example_id,   -- the account
        current_date as example_date,        -- today
        coalesce(
            counted.lead_count, 0
        ) as lead_count                       -- leads converted into the account
    from accounts
    left join counted on accounts.account_id = counted.converted_account_id
    where accounts.account_id in (select account_id from intermediate.int_examples)
)

select * from final
"""


def write_model(tmp_path: Path, text: str, relative: str = "marts/example/fct_example.sql") -> Path:
    path = tmp_path / "models" / relative
    path.parent.mkdir(parents=True)
    path.write_text(text)
    return path


def test_header_is_read_from_first_comment_block(tmp_path: Path) -> None:
    header = parse_header(MODEL, tmp_path / "x.sql")
    assert header["name"] == "fct_example"
    assert header["grain"] == ["example_id", "example_date"]
    assert header["owner"] == "team:sales"


def test_missing_header_keys_are_named(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="grain, owner"):
        parse_header("/*\nname: x\ndescription: y\n*/\nselect 1", tmp_path / "x.sql")


def test_a_file_without_header_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="YAML header"):
        parse_header("select 1", tmp_path / "x.sql")


def test_upstream_tables_skip_cte_names_and_include_subqueries(tmp_path: Path) -> None:
    tables = upstream_tables(parse_sql(MODEL, tmp_path / "x.sql"))
    assert tables == (
        TableRef("intermediate", "int_examples"),
        TableRef("staging", "stg_salesforce__accounts"),
        TableRef("staging", "stg_salesforce__leads"),
    )


def test_output_columns_carry_their_trailing_comments(tmp_path: Path) -> None:
    columns = output_columns(parse_sql(MODEL, tmp_path / "x.sql"))
    assert [(column.name, column.description) for column in columns] == [
        ("example_id", "the account"),
        ("example_date", "today"),
        ("lead_count", "leads converted into the account"),
    ]


def test_undocumented_column_has_empty_description(tmp_path: Path) -> None:
    columns = output_columns(parse_sql("with final as (select 1 as a) select * from final", tmp_path / "x.sql"))
    assert [(column.name, column.description) for column in columns] == [("a", "")]


def test_load_model_takes_layer_and_domain_from_folders(tmp_path: Path) -> None:
    path = write_model(tmp_path, MODEL)
    model = load_model(path, tmp_path / "models")
    assert (model.layer, model.schema, model.domain, model.name) == ("marts", "marts", "example", "fct_example")
    assert model.grain == ("example_id", "example_date")
    assert model.body.startswith("with") and "name: fct_example" not in model.body
    assert len(model.code_version) == 16


def test_code_version_changes_with_the_sql(tmp_path: Path) -> None:
    first = load_model(write_model(tmp_path, MODEL), tmp_path / "models")
    second = load_model(write_model(tmp_path / "b", MODEL.replace("count(*)", "count(1)")), tmp_path / "b" / "models")
    assert first.code_version != second.code_version


def test_model_outside_a_layer_is_rejected(tmp_path: Path) -> None:
    path = write_model(tmp_path, MODEL, "reports/fct_example.sql")
    with pytest.raises(ModelError, match="staging, intermediate, marts"):
        load_model(path, tmp_path / "models")


def test_unparseable_sql_names_the_file(tmp_path: Path) -> None:
    path = write_model(tmp_path, MODEL.replace("select * from final", "select * from final where ((("))
    with pytest.raises(ModelError, match="does not parse") as error:
        load_model(path, tmp_path / "models")
    assert str(path) in str(error.value)


CHECKS = """/*
name: assert_examples_have_accounts
severity: error
description: >-
  Every example is an account
  of the CRM.
*/
select example.example_id
from marts.fct_example as example
left join staging.stg_salesforce__accounts as accounts on example.example_id = accounts.account_id
where accounts.account_id is null;

/*
name: assert_examples_are_recent
severity: warn
description: Examples are dated today.
*/
select example_id from marts.fct_example where example_date <> current_date  -- a dated example
"""


def write_checks(model_path: Path, text: str = CHECKS) -> Path:
    path = model_path.with_name(model_path.stem + ".checks.sql")
    path.write_text(text)
    return path


def test_checks_are_read_from_the_check_file_beside_the_model(tmp_path: Path) -> None:
    path = write_model(tmp_path, MODEL.replace("intermediate.int_examples", "staging.stg_salesforce__accounts"))
    write_checks(path, CHECKS.replace("staging.stg_salesforce__accounts", "intermediate.int_examples"))
    model = load_model(path, tmp_path / "models")
    first, second = model.assertions
    assert (first.name, first.description, first.blocking) == (
        "assert_examples_have_accounts",
        "Every example is an account of the CRM.",
        True,
    )
    assert first.sql.startswith("select example.example_id\nfrom") and first.sql.endswith("is null")
    assert (second.name, second.severity, second.blocking) == ("assert_examples_are_recent", "warn", False)
    assert second.sql.endswith("-- a dated example")
    # the tables a check reads are dependencies of the model; the model's own table is not
    assert TableRef("intermediate", "int_examples") in model.upstream
    assert TableRef("marts", "fct_example") not in model.upstream


def test_check_files_are_not_models(tmp_path: Path) -> None:
    write_checks(write_model(tmp_path, MODEL))
    assert [model.name for model in load_models(tmp_path / "models")] == ["fct_example"]


def test_a_check_file_without_its_model_is_rejected(tmp_path: Path) -> None:
    orphan = write_checks(write_model(tmp_path, MODEL)).rename(tmp_path / "models/marts/example/fct_gone.checks.sql")
    with pytest.raises(ModelError, match="without a model file") as error:
        load_models(tmp_path / "models")
    assert str(orphan) in str(error.value)


def test_checks_in_a_model_header_are_rejected(tmp_path: Path) -> None:
    header = "owner: team:sales\nassertions:\n  - name: assert_x\n    description: d\n    sql: select 1\n"
    path = write_model(tmp_path, MODEL.replace("owner: team:sales\n", header))
    with pytest.raises(ModelError, match=r"fct_example\.checks\.sql beside the model"):
        load_model(path, tmp_path / "models")


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        (CHECKS.replace("severity: warn", "severity: fatal"), "severity must be one of error, warn"),
        (CHECKS.replace("severity: warn\n", ""), "needs exactly the keys name, severity, description"),
        (CHECKS.replace("severity: warn", "severity: warn\nblocking: false"), "needs exactly the keys"),
        (CHECKS.replace("where accounts.account_id is null", "where ((("), "does not parse"),
        (CHECKS.replace("is null;", "is null;\nselect 2;"), "must be one SELECT"),
        (CHECKS.replace("select example_id from", "delete from"), "must be one SELECT"),
        (CHECKS.replace("assert_examples_are_recent", "assert_examples_have_accounts"), "named more than once"),
        ("-- checks\nselect 1;\n" + CHECKS, "starts with the /\\* \\*/ header"),
        (CHECKS.replace("name: assert_examples_are_recent", "name: [unclosed"), "not valid YAML"),
    ],
)
def test_a_broken_check_file_names_the_file_and_the_problem(tmp_path: Path, broken: str, message: str) -> None:
    path = write_model(tmp_path, MODEL)
    checks = write_checks(path, broken)
    with pytest.raises(ModelError, match=message) as error:
        load_model(path, tmp_path / "models")
    assert str(checks) in str(error.value)
