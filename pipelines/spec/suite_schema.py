"""Suite files: the JSON format of `expectations/*.json`, loaded and checked for shape when the project loads.

A suite names the model it validates (`schema.table`), its severity (`error` blocks downstream assets, `warn` only
reports) and its expectations, each a Great Expectations type in snake_case with its kwargs and a sentence saying what
it checks. pipelines/warehouse/suites.py describes the format in full; this module only reads it, so it needs neither
DuckDB nor Great Expectations.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, Field, ValidationError

from pipelines.spec.definitions_reader import KeyPath, Problem, report, schema_problems
from pipelines.spec.definitions_registry import name_of
from pipelines.spec.schema_types import Section

Severity = Literal["error", "warn"]
SEVERITIES: tuple[str, ...] = get_args(Severity)
BLOCKING_SEVERITY = "error"
DEFINITION_KEY = "$definition"
PARAMETER_KEY = "$PARAMETER"
FIELD_KEY = "$field"
APPEND_KEY = "$append"
# `"$pairs": true`: a mapping as a list of [key, value] pairs (the value set of a column-pair expectation).
PAIRS_KEY = "$pairs"
# `"$where": {"name": "SMB"}`: the one item of a list of mappings whose fields have these values (with `$field`, one
# field of it).
WHERE_KEY = "$where"
# `{"$horizon": "as_of_month"}`: a column of this run's data horizon (a warehouse table), read when the suite runs.
HORIZON_KEY = "$horizon"
PANDAS_CONDITION_PARSER = "pandas"

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_MODEL = re.compile(r"^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$")
_REFERENCE_KEYS = {DEFINITION_KEY, FIELD_KEY, APPEND_KEY, PAIRS_KEY, WHERE_KEY}
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
    """Parse and check one suite file: every problem of its shape, each with the suite and the key path."""
    document = _read_json(path)
    if isinstance(document, dict) and isinstance(document.get("expectations"), list):
        document = {
            **document,
            "expectations": [_with_definition_references(item) for item in document["expectations"]],
        }
    subject = (
        f"suite {document['name']}" if isinstance(document, dict) and isinstance(document.get("name"), str) else None
    )
    try:
        suite = SuiteFile.model_validate(document)
    except ValidationError as error:
        raise SuiteError(report(path, schema_problems(error.errors(), SuiteFile), {}, subject)) from None
    problems = list(suite.problems())
    if problems:
        raise SuiteError(report(path, problems, {}, subject))
    return Suite(
        name=suite.name,
        model=suite.model,
        severity=suite.severity,
        description=suite.description,
        expectations=tuple(document["expectations"]),
        path=path,
    )


def _read_json(path: Path) -> Any:
    """The parsed file; a key written twice is an error (JSON would silently keep the last one)."""

    def refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [key for key, _ in pairs]
        twice = sorted({key for key in keys if keys.count(key) > 1})
        if twice:
            raise SuiteError(f"{path}: the key {twice[0]!r} is written twice in one object: merge the two")
        return dict(pairs)

    try:
        return json.loads(path.read_text(), object_pairs_hook=refuse_duplicates)
    except json.JSONDecodeError as error:
        raise SuiteError(f"{path}: not valid JSON: {error}") from error


def _with_definition_references(value: Any) -> Any:
    """Every spelling of a definition reference read as `{"$definition": "name"}`, the one the code uses.

    GE's own spelling, `{"$PARAMETER": "name"}`, is accepted too. This is the only place that knows the
    spellings: a new one is added here.
    """
    if isinstance(value, list):
        return [_with_definition_references(item) for item in value]
    if isinstance(value, dict) and set(value) == {HORIZON_KEY} and isinstance(value[HORIZON_KEY], str):
        return {DEFINITION_KEY: f"{HORIZON_KEY}__{value[HORIZON_KEY]}"}  # looked up under definitions["$horizon"]
    if isinstance(value, dict):
        renamed = {DEFINITION_KEY if key == PARAMETER_KEY else key: item for key, item in value.items()}
        if DEFINITION_KEY in renamed:
            return renamed
        return {key: _with_definition_references(item) for key, item in renamed.items()}
    return value


# --- The schema ------------------------------------------------------------------------------------------------------


def _snake_case_name(value: str) -> str:
    if not _NAME.match(value):
        raise ValueError(f"must be lower snake_case (it becomes a Dagster check name), not {value!r}")
    return value


def _model_name(value: str) -> str:
    if not _MODEL.match(value):
        raise ValueError(
            f"must be `schema.table` in lower snake_case, such as intermediate.int_leads_lifecycle, not {value!r}"
        )
    return value


def _expectation_type(value: str) -> str:
    # Whether GE knows the type is checked when the suite is built: GE's import is slow.
    if not value.startswith("expect_"):
        raise ValueError(
            f"must be a Great Expectations type such as expect_column_values_to_not_be_null, not {value!r}"
        )
    return value


def _sentence(value: str) -> str:
    if not value.strip():
        raise ValueError("must say in words what is checked")
    return value


class ExpectationEntry(Section):
    """One expectation as written: a GE type, what it checks in words, and its kwargs (definitions referenced)."""

    type: Annotated[str, AfterValidator(_expectation_type)]
    description: Annotated[str, AfterValidator(_sentence)]
    kwargs: dict[str, Any]

    def problems(self) -> Iterator[Problem]:
        if "row_condition" in self.kwargs and self.kwargs.get("condition_parser") != PANDAS_CONDITION_PARSER:
            yield Problem(
                ("kwargs", "condition_parser"),
                f'must be "{PANDAS_CONDITION_PARSER}" beside a row_condition (pandas query syntax, run as SQL)',
            )
        yield from _reference_problems(self.kwargs, ("kwargs",))


class SuiteFile(Section):
    """A whole suite file."""

    name: Annotated[str, AfterValidator(_snake_case_name)]
    model: Annotated[str, AfterValidator(_model_name)]
    severity: Severity
    description: Annotated[str, AfterValidator(_sentence)]
    expectations: Annotated[list[ExpectationEntry], Field(min_length=1)]

    def problems(self) -> Iterator[Problem]:
        for index, expectation in enumerate(self.expectations):
            for problem in expectation.problems():
                yield Problem(("expectations", index, *problem.path), problem.message)


def _reference_problems(value: Any, path: KeyPath) -> Iterator[Problem]:
    """Every `$definition` reference is well formed; whether its path exists needs the definitions, at run time."""
    if isinstance(value, list):
        for index, item in enumerate(value):
            yield from _reference_problems(item, (*path, index))
    elif isinstance(value, dict):
        if DEFINITION_KEY not in value and FIELD_KEY not in value:
            for key, item in value.items():
                yield from _reference_problems(item, (*path, key))
        elif set(value) - _REFERENCE_KEYS or not isinstance(value.get(DEFINITION_KEY), str):
            yield Problem(
                path,
                f'a reference is {{"{DEFINITION_KEY}": "definition_name"}}, optionally with "{WHERE_KEY}", '
                f'"{FIELD_KEY}", "{PAIRS_KEY}" and "{APPEND_KEY}", not {json.dumps(value)}',
            )
        else:
            for key, what in ((APPEND_KEY, "the name of a definition"), (FIELD_KEY, "the name of a field")):
                if key in value and not isinstance(value[key], str):
                    yield Problem((*path, key), f"must be {what}, not {json.dumps(value[key])}")
            if PAIRS_KEY in value and value[PAIRS_KEY] is not True:
                yield Problem((*path, PAIRS_KEY), f"must be true, not {json.dumps(value[PAIRS_KEY])}")
            if WHERE_KEY in value and (not isinstance(value[WHERE_KEY], dict) or not value[WHERE_KEY]):
                found = json.dumps(value[WHERE_KEY])
                yield Problem((*path, WHERE_KEY), f"must map field names to the values to find, not {found}")
            for key in (DEFINITION_KEY, APPEND_KEY):
                if "." in value.get(key, ""):
                    yield Problem(
                        (*path, key),
                        f"`{value[key]}`: a definition is named as in SQL and the docs, its path with `.` written "
                        f"`__`: `{name_of(value[key])}`",
                    )


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
