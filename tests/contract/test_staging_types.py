"""The source contract's types are the types staging casts raw columns to, so the raw load validates what staging casts.

A value the raw load accepts must never fail staging's cast (a NaN cast to decimal, malformed JSON): that holds only
while the contract type and the staging cast are the same type. Every staging model is parsed with sqlglot, and every
`cast(<raw column> as <type>)` is compared with the contract.
"""

from __future__ import annotations

import pytest
import sqlglot
from sqlglot import exp

from pipelines.spec.models import Model, load_models
from pipelines.spec.settings import PROJECT_ROOT
from pipelines.spec.sources import SourceTable, load_sources

SOURCES = load_sources(PROJECT_ROOT / "models" / "sources.yml")
STAGING = [model for model in load_models(PROJECT_ROOT / "models") if model.layer == "staging"]


def _type(text: str) -> str:
    return exp.DataType.build(text, dialect="duckdb").sql("duckdb")


def raw_table_of(model: Model) -> SourceTable:
    by_key = {table.key: table for table in SOURCES}
    (table,) = [by_key[ref.key] for ref in model.upstream if ref.key in by_key]
    return table


def cast_mismatches(sql: str, table: SourceTable) -> list[str]:
    """Each `cast(<contract column> as <type>)` in `sql` whose type is not the column's contract type."""
    contract = {column.name.lower(): _type(column.type) for column in table.columns}
    mismatches = []
    for cast in sqlglot.parse_one(sql, dialect="duckdb").find_all(exp.Cast):
        if not isinstance(cast.this, exp.Column):
            continue
        name = cast.this.name.lower()
        cast_type = cast.to.sql("duckdb")
        if name in contract and cast_type != contract[name]:
            mismatches.append(f"{name}: staging casts to {cast_type}, the contract says {contract[name]}")
    return mismatches


@pytest.mark.parametrize("model", STAGING, ids=[model.name for model in STAGING])
def test_staging_casts_raw_columns_to_their_contract_type(model: Model) -> None:
    assert cast_mismatches(model.body, raw_table_of(model)) == [], f"{model.name}: align models/sources.yml"


def test_a_staging_cast_that_drifts_from_the_contract_is_caught() -> None:
    model = next(model for model in STAGING if model.name == "stg_marketing__ad_spend_days")
    drifted = model.body.replace("cast(spend as decimal(18, 2))", "cast(spend as decimal(38, 4))")
    assert drifted != model.body
    assert cast_mismatches(drifted, raw_table_of(model)) == [
        "spend: staging casts to DECIMAL(38, 4), the contract says DECIMAL(18, 2)"
    ]


def test_every_staging_model_reads_one_contract_table() -> None:
    assert STAGING and all(raw_table_of(model) for model in STAGING)
