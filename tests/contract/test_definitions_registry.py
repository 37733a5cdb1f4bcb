"""Every definition is declared once, in the registry, and spelt one way in the file, the warehouse, suites and docs."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml

from pipelines.docs.definitions_doc import DOC_FILE, definitions_table, render_doc
from pipelines.spec.definitions_registry import (
    DEFINITIONS,
    NAME_SEPARATOR,
    TABLE_DOCS,
    THRESHOLDS,
    definition,
    missing_paths,
    name_of,
    path_of,
    schema_field,
    threshold_definitions,
    undeclared_keys,
)
from pipelines.spec.settings import PROJECT_ROOT
from pipelines.warehouse.shared_definitions import load_definitions

DEFINITIONS_FILE = PROJECT_ROOT / "definitions.yml"
DOCUMENT: dict[str, Any] = yaml.safe_load(DEFINITIONS_FILE.read_text())


def test_every_key_of_the_file_is_declared_and_every_declared_key_is_in_the_file() -> None:
    assert undeclared_keys(DOCUMENT) == [], "declare these keys in pipelines/spec/definitions_registry.py"
    assert missing_paths(DOCUMENT) == [], "the registry declares keys definitions.yml does not have"


def test_a_key_the_registry_does_not_list_is_found() -> None:
    extra = {**DOCUMENT, "mql": {**DOCUMENT["mql"], "max_score": 90}, "forecast": {"horizon_days": 30}}
    assert undeclared_keys(extra) == ["mql.max_score", "forecast.horizon_days"]


def test_a_registry_path_the_file_does_not_have_is_found() -> None:
    without = {**DOCUMENT, "mql": {"score_threshold": 40}}
    del without["won_stage"]
    assert missing_paths(without) == ["mql.min_fit_score", "won_stage"]


def test_names_read_back_to_their_paths() -> None:
    def keys(value: Any) -> list[str]:
        if isinstance(value, dict):
            return [str(key) for key in value] + [k for item in value.values() for k in keys(item)]
        if isinstance(value, list):
            return [k for item in value for k in keys(item)]
        return []

    assert not [key for key in keys(DOCUMENT) if NAME_SEPARATOR in key], "a key with `__` breaks the name rule"
    for item in DEFINITIONS:
        assert item.name == item.path.replace(".", "__") and path_of(item.name) == item.path
        assert definition(item.name) is item and definition(item.path) is item
    assert len({item.path for item in DEFINITIONS}) == len(DEFINITIONS), "a definition is declared twice"


def test_every_definition_is_validated_by_a_schema_field_and_lands_in_a_known_table() -> None:
    for item in DEFINITIONS:
        schema_field(item.path)  # raises for a path the schema does not validate
        assert item.meaning.endswith(".") and item.meaning[0].isupper(), item.path
        if item.table is not None:
            assert item.table in TABLE_DOCS, item.path
            assert item.columns, item.path


def test_the_thresholds_table_is_the_registry_s_numeric_definitions_under_their_names() -> None:
    frame = load_definitions(DEFINITIONS_FILE).tables()[THRESHOLDS]
    assert list(frame.columns) == [item.name for item in threshold_definitions()]
    for item in threshold_definitions():
        model, field, info = schema_field(item.path)
        assert info.annotation in (int, float), f"{model.__name__}.{field} is not a number"
        assert item.columns == (item.name,)


def test_every_table_column_the_registry_names_is_loaded() -> None:
    tables = load_definitions(DEFINITIONS_FILE).tables()
    for item in DEFINITIONS:
        if item.table in tables:
            assert set(item.columns) <= set(tables[item.table].columns), item.path


def _references(value: Any) -> list[str]:
    if isinstance(value, list):
        return [name for item in value for name in _references(item)]
    if isinstance(value, dict):
        own = [value[key] for key in ("$definition", "$append", "$PARAMETER") if isinstance(value.get(key), str)]
        return own + [name for item in value.values() for name in _references(item)]
    return []


@pytest.mark.parametrize("suite", sorted((PROJECT_ROOT / "expectations").glob("*.json")), ids=lambda path: path.name)
def test_suites_reference_definitions_by_their_registry_name(suite: Any) -> None:
    for name in _references(json.loads(suite.read_text())):
        assert definition(name).name == name, f"{suite.name}: write `{name_of(name)}`"


def test_models_read_thresholds_by_their_registry_name() -> None:
    names = {item.name for item in threshold_definitions()}
    for path in sorted((PROJECT_ROOT / "models").rglob("*.sql")):  # models and their check files
        for column in re.findall(r"\bthresholds\.(\w+)", path.read_text()):
            assert column in names, f"{path}: thresholds.{column} is not a definition name"


def test_docs_definitions_table_is_up_to_date() -> None:
    text = DOC_FILE.read_text()
    assert render_doc(text, definitions_table()) == text, "run `make markdown-docs` to regenerate docs/definitions.md"
