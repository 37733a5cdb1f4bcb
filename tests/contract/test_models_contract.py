"""Whole-repository rules every model file must follow (see STYLE.md)."""

from __future__ import annotations

import re

import pytest
import sqlglot
from sqlglot import exp

from pipelines.orchestration.project import build_assets
from pipelines.spec.models import DIALECT, OWNER_TEAMS, Model, load_models
from pipelines.spec.personal_data import is_personal_column
from pipelines.spec.settings import Settings
from pipelines.spec.sources import load_sources
from tests.contract.sql_style import sql_style_problems

SETTINGS = Settings.from_env()
MODELS = load_models(SETTINGS.models_dir)
SOURCES = load_sources(SETTINGS.sources_file)
NAME_PATTERNS = {
    "staging": re.compile(r"^stg_(?P<source>[a-z]+)__[a-z_]+s$"),
    "intermediate": re.compile(r"^int_[a-z_]+s_[a-z_]+$"),
    "marts": re.compile(r"^(dim|fct|rpt)_[a-z_]+$"),
}


def model_id(model: Model) -> str:
    return model.name


@pytest.fixture(params=MODELS, ids=model_id)
def model(request: pytest.FixtureRequest) -> Model:
    return request.param


def test_there_are_models_in_every_layer() -> None:
    assert {model.layer for model in MODELS} == {"staging", "intermediate", "marts"}


def test_name_matches_file_and_layer_convention(model: Model) -> None:
    assert model.name == model.path.stem, f"{model.path}: header name {model.name} differs from the file name"
    assert NAME_PATTERNS[model.layer].match(model.name), f"{model.path}: {model.name} breaks the naming convention"
    if model.layer == "staging":
        match = NAME_PATTERNS["staging"].match(model.name)
        assert match and model.path.parent.name == match.group("source"), "staging models live in their source folder"


def test_header_is_complete(model: Model) -> None:
    assert model.owner in OWNER_TEAMS, f"{model.path}: owner must be one of {OWNER_TEAMS}"
    assert len(model.description) >= 20, f"{model.path}: say what the model is in its description"
    assert model.grain, f"{model.path}: declare the grain"


def test_every_output_column_is_documented(model: Model) -> None:
    assert model.columns, f"{model.path}: the final CTE must list its columns explicitly"
    undocumented = [column.name for column in model.columns if not column.description]
    assert not undocumented, f"{model.path}: add a trailing comment to {undocumented}"


def test_grain_columns_are_output_columns(model: Model) -> None:
    names = {column.name for column in model.columns}
    assert set(model.grain) <= names, f"{model.path}: grain {model.grain} not among the columns"


def test_reads_top_to_bottom_and_ends_with_final(model: Model) -> None:
    assert model.body.rstrip().endswith("select * from final"), f"{model.path}: end with `select * from final`"
    expression = sqlglot.parse_one(model.body, dialect=DIALECT)
    assert any(cte.alias == "final" for cte in expression.find_all(exp.CTE)), f"{model.path}: needs a `final` CTE"


def test_sql_style(model: Model) -> None:
    """Lowercase keywords, no tabs or trailing spaces, no one-letter aliases, no `sql` as a name for the lead stage."""
    problems = sql_style_problems(model.sql, [model.body])
    for column in model.columns:
        if re.search(r"(^|_)sqls?(_|$)", column.name):
            problems.append(f"column {column.name}: the lead stage is `sales_qualified`, never `sql`")
    assert not problems, f"{model.path}: " + "; ".join(problems)


def test_marts_hold_no_personal_data_columns(model: Model) -> None:
    if model.layer == "staging":
        return
    personal = [column.name for column in model.columns if is_personal_column(column.name)]
    assert not personal, f"{model.path}: personal data stops at staging, found {personal}"


def test_every_raw_table_has_exactly_one_staging_model() -> None:
    readers: dict[tuple[str, str], list[str]] = {table.key: [] for table in SOURCES}
    for model in MODELS:
        for ref in model.upstream:
            if ref.key in readers:
                readers[ref.key].append(model.name)
    for key, models in readers.items():
        assert len(models) == 1, f"{'.'.join(key)} is read by {models or 'no model'}: one staging model per table"
        assert models[0].startswith(f"stg_{key[0]}__")


def test_graph_builds_with_allowed_layers_only() -> None:
    """Building the assets validates that every model reads only tables something builds, in layers it may read."""
    assets = build_assets(SETTINGS)
    keys = {key.to_user_string() for asset in assets for key in asset.keys}
    assert {f"{model.schema}/{model.name}" for model in MODELS} <= keys
    assert {f"{table.source}/{table.name}" for table in SOURCES} <= keys
