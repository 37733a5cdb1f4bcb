"""Model files: header parsing, documented columns and upstream tables read by sqlglot."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.spec.models import (
    ModelError,
    TableRef,
    load_model,
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
