"""Suite files: the JSON format of `expectations/*.json`, loaded and checked for shape when the project loads.

A suite names the model it validates (`schema.table`), its severity (`error` blocks downstream assets, `warn` only
reports) and its expectations, each a Great Expectations type in snake_case with its kwargs and a sentence saying what
it checks. pipelines/warehouse/suites.py describes the format in full; this module only reads it, so it needs neither
DuckDB nor Great Expectations.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SEVERITIES: tuple[str, ...] = ("error", "warn")
BLOCKING_SEVERITY = "error"
DEFINITION_KEY = "$definition"
PARAMETER_KEY = "$PARAMETER"
FIELD_KEY = "$field"
APPEND_KEY = "$append"
PANDAS_CONDITION_PARSER = "pandas"

_SUITE_KEYS: tuple[str, ...] = ("name", "model", "severity", "description", "expectations")
_EXPECTATION_KEYS: tuple[str, ...] = ("type", "description", "kwargs")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_MODEL = re.compile(r"^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$")
_COLUMN_KWARGS: tuple[str, ...] = ("column", "column_A", "column_B")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class SuiteError(ValueError):
    """An invalid suite file or a suite that cannot be built; the message names the suite and the expectation."""


@dataclass(frozen=True)
class Suite:
    """One suite file: which model it validates, how much a failure matters, and its expectations as written."""

    name: str
    model: str
    severity: str
    description: str
    expectations: tuple[dict[str, Any], ...]
    path: Path

    @property
    def schema(self) -> str:
        """The DuckDB schema of the validated model (its layer), e.g. `intermediate`."""
        return self.model.split(".", 1)[0]

    @property
    def table(self) -> str:
        """The table of the validated model, e.g. `int_leads_lifecycle`."""
        return self.model.split(".", 1)[1]

    @property
    def blocking(self) -> bool:
        """Whether a failure stops downstream assets (severity `error`) rather than only being reported (`warn`)."""
        return self.severity == BLOCKING_SEVERITY


# --- Loading ---------------------------------------------------------------------------------------------------------


def load_suites(directory: Path) -> list[Suite]:
    """Every suite in `directory`, sorted by name, each checked for shape so a typo fails at load, not at run time.

    A missing directory means a project without suites (git does not keep an empty `expectations/`).
    """
    if not directory.is_dir():
        return []
    suites = [_load_suite(path) for path in sorted(directory.glob("*.json"))]
    seen: dict[str, Path] = {}
    for suite in suites:
        if suite.name in seen:
            raise SuiteError(f"{suite.path}: suite name `{suite.name}` is already used by {seen[suite.name]}")
        seen[suite.name] = suite.path
    return sorted(suites, key=lambda suite: suite.name)


def _load_suite(path: Path) -> Suite:
    """Parse and check one suite file."""
    try:
        document = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise SuiteError(f"{path}: not valid JSON: {error}") from error
    if not isinstance(document, dict):
        raise SuiteError(f"{path}: a suite must be a JSON object")
    _check_keys(path, "the suite", document, _SUITE_KEYS)
    name, model, severity, description = (document[key] for key in ("name", "model", "severity", "description"))
    if not isinstance(name, str) or not _NAME.match(name):
        raise SuiteError(f"{path}: `name` must be lower snake_case (it becomes a Dagster check name), got {name!r}")
    if not isinstance(model, str) or not _MODEL.match(model):
        raise SuiteError(f"{path}: suite {name}: `model` must be `schema.table`, got {model!r}")
    if severity not in SEVERITIES:
        raise SuiteError(f"{path}: suite {name}: `severity` must be one of {', '.join(SEVERITIES)}, got {severity!r}")
    if not isinstance(description, str) or not description.strip():
        raise SuiteError(f"{path}: suite {name}: `description` must say what the suite guarantees")
    expectations = document["expectations"]
    if not isinstance(expectations, list) or not expectations:
        raise SuiteError(f"{path}: suite {name}: `expectations` must be a non-empty list")
    expectations = [_with_definition_references(expectation) for expectation in expectations]
    for position, expectation in enumerate(expectations, start=1):
        _check_expectation(path, name, position, expectation)
    return Suite(
        name=name,
        model=model,
        severity=severity,
        description=description,
        expectations=tuple(expectations),
        path=path,
    )


def _with_definition_references(value: Any) -> Any:
    """GE's spelling of a reference, `{"$PARAMETER": "dotted.path"}`, read as `{"$definition": "dotted.path"}`."""
    if isinstance(value, list):
        return [_with_definition_references(item) for item in value]
    if isinstance(value, dict):
        renamed = {DEFINITION_KEY if key == PARAMETER_KEY else key: item for key, item in value.items()}
        if DEFINITION_KEY in renamed:
            return renamed
        return {key: _with_definition_references(item) for key, item in renamed.items()}
    return value


def _check_keys(path: Path, where: str, document: Mapping[str, Any], expected: Sequence[str]) -> None:
    """Missing and unknown keys both fail, so a misspelt key is not silently ignored."""
    missing = [key for key in expected if key not in document]
    unknown = sorted(set(document) - set(expected))
    if missing:
        raise SuiteError(f"{path}: {where} is missing {', '.join(f'`{key}`' for key in missing)}")
    if unknown:
        raise SuiteError(f"{path}: {where} has unknown key(s) {', '.join(f'`{key}`' for key in unknown)}")


def _check_expectation(path: Path, suite_name: str, position: int, expectation: Any) -> None:
    """The shape of one expectation; whether GE knows its type is checked when it is built (GE's import is slow)."""
    where = f"suite {suite_name}: expectation {position}"
    if not isinstance(expectation, dict):
        raise SuiteError(f"{path}: {where} must be an object")
    _check_keys(path, where, expectation, _EXPECTATION_KEYS)
    kind, description, kwargs = expectation["type"], expectation["description"], expectation["kwargs"]
    if not isinstance(kind, str) or not kind.startswith("expect_"):
        raise SuiteError(f"{path}: {where}: `type` must be a Great Expectations type such as expect_..., got {kind!r}")
    where = f"suite {suite_name}: expectation {position} {kind}"
    if not isinstance(description, str) or not description.strip():
        raise SuiteError(f"{path}: {where}: `description` must say in words what it checks")
    if not isinstance(kwargs, dict):
        raise SuiteError(f"{path}: {where}: `kwargs` must be an object")
    if "row_condition" in kwargs and kwargs.get("condition_parser") != PANDAS_CONDITION_PARSER:
        raise SuiteError(
            f'{path}: {where}: a `row_condition` needs "condition_parser": "pandas" (pandas query syntax, run as SQL)'
        )
    _check_references(path, where, kwargs)


def _check_references(path: Path, where: str, value: Any) -> None:
    """Every `$definition` reference is well formed; whether its path exists needs the definitions, at run time."""
    if isinstance(value, list):
        for item in value:
            _check_references(path, where, item)
    elif isinstance(value, dict):
        if DEFINITION_KEY in value or FIELD_KEY in value:
            if set(value) - {DEFINITION_KEY, FIELD_KEY, APPEND_KEY} or not isinstance(value.get(DEFINITION_KEY), str):
                raise SuiteError(
                    f'{path}: {where}: a reference is {{"{DEFINITION_KEY}": "dotted.path"}}, optionally with '
                    f'"{FIELD_KEY}", got {json.dumps(value)}'
                )
            if APPEND_KEY in value and not isinstance(value[APPEND_KEY], str):
                raise SuiteError(f"{path}: {where}: `{APPEND_KEY}` must be a dotted path, got {json.dumps(value)}")
            if FIELD_KEY in value and not isinstance(value[FIELD_KEY], str):
                raise SuiteError(f"{path}: {where}: `{FIELD_KEY}` must name a field, got {json.dumps(value)}")
            return
        for item in value.values():
            _check_references(path, where, item)


def suite_columns(suite: Suite, available: Sequence[str]) -> list[str]:
    """The columns of `available` the suite reads (named in kwargs or in a row condition), in `available` order.

    The model is read into pandas with these columns only: a suite on three columns of a wide staging table would
    otherwise copy every text column (names, e-mails, URLs) into Python, the main cost of checking it. A word of a
    row condition that is also a column name counts as read, so a string literal that happens to equal a column name
    only costs an unneeded column, never a missing one.
    """
    named: set[str] = set()
    for expectation in suite.expectations:
        kwargs = expectation["kwargs"]
        named.update(str(kwargs[key]) for key in _COLUMN_KWARGS if key in kwargs)
        named.update(str(column) for column in kwargs.get("column_list") or [])
        condition = kwargs.get("row_condition")
        if isinstance(condition, str):
            named.update(_WORD.findall(condition))
    return [column for column in available if column in named]


def expectation_label(expectation: Mapping[str, Any]) -> str:
    """A short, stable name for an expectation: its type and the columns it looks at."""
    kwargs = expectation.get("kwargs") or {}
    columns = [str(kwargs[key]) for key in _COLUMN_KWARGS if key in kwargs]
    columns += [str(column) for column in kwargs.get("column_list") or []]
    return f"{expectation['type']}({', '.join(columns)})" if columns else str(expectation["type"])
