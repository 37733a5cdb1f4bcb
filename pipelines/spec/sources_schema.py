"""The schema of the source contract (`models/sources.yml`): one strict pydantic model per level, and its rules.

Strict as the definitions file is (pipelines/spec/definitions_schema.py): an unknown key (`requried: true`) fails
instead of vanishing, `required: "yes"` is not a yes, a column type or a `dates` kind must be one the raw load knows.
The rules across keys catch a contract whose parts are each valid but do not fit together: `free_text` on a number,
a partition column that is not a date, an old spelling that is another column's name. Every problem of the file is
reported at once, as `file:line: dotted.key: what is wrong` (pipelines/spec/definitions_reader.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

import sqlglot
from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, RootModel, ValidationError
from sqlglot import exp

from pipelines.spec.definitions_reader import (
    DefinitionsError,
    Problem,
    read_document,
    report,
    schema_problems,
)
from pipelines.spec.schema_types import Name, Section

SUPPORTED_TYPES = frozenset({"varchar", "boolean", "integer", "bigint", "double", "date", "timestamp", "json"})
# `decimal(p,s)`: money, cast by staging to a fixed precision (a value beyond it would fail the cast).
DECIMAL_TYPE = re.compile(r"^decimal\((\d{1,2}),\s*(\d{1,2})\)$")
# How date and timestamp columns are checked against the data horizon (see `SourceTable.horizon_rules`).
DATE_KINDS = ("past", "scheduled", "history_end")
DATE_TYPES = frozenset({"date", "timestamp"})
# The kinds of identifier a personal key holds, matched against the erasure list (pipelines/warehouse/erasure.py).
ERASURE_KINDS = ("email", "lead_id", "contact_id")


class SourceContractError(ValueError):
    """A raw file that breaks its contract (a required column is missing, say); the message names file and column."""


def supported_type(column_type: str) -> bool:
    """Whether a contract type is one the raw load can validate: a plain type, or `decimal(p,s)` with s <= p <= 38."""
    match = DECIMAL_TYPE.match(column_type)
    if match:
        precision, scale = int(match.group(1)), int(match.group(2))
        return 0 < precision <= 38 and scale <= precision
    return column_type in SUPPORTED_TYPES


# --- Field types -------------------------------------------------------------------------------------------------


def _column_type(value: str) -> str:
    """The type as the raw load writes it (lower case, no spaces), if the raw load can validate it."""
    normalized = value.replace(" ", "").lower()
    if not supported_type(normalized):
        raise ValueError(
            f"must be one of {', '.join(sorted(SUPPORTED_TYPES))} or decimal(p,s) with s <= p <= 38, not {value!r}"
        )
    return normalized


def _rule_name(value: str) -> str:
    if not value.isidentifier() or not value.islower():
        raise ValueError(f"must be a snake_case name, not {value!r}")
    return value


def _row_condition(value: str) -> str:
    """One boolean SQL condition over the row, and nothing else: no second statement, no subquery."""
    try:
        parsed = sqlglot.parse(f"select 1 where {value}", dialect="duckdb")
    except sqlglot.errors.ParseError as error:
        # The first error's description: the whole message underlines the spot with terminal escape codes.
        reason = error.errors[0].get("description") if error.errors else None
        raise ValueError(f"is not a SQL condition: {reason or 'it does not parse'}") from None
    if len(parsed) != 1 or parsed[0] is None or any(parsed[0].find_all(exp.Subquery, exp.Command)):
        raise ValueError("must be one condition over the row, without subqueries")
    return value


def _as_list(value: Any) -> Any:
    """A single name written alone (`renamed_from: is_live`) is a list of one."""
    return [value] if isinstance(value, str) else value


ColumnType = Annotated[str, AfterValidator(_column_type)]
ErasureKind = Literal["email", "lead_id", "contact_id"]
# One name or a list of them: `partitioned_by_day: received_at` or `partitioned_by_day: [received_at, timestamp]`.
OneOrMoreNames = Annotated[list[Name], Field(min_length=1), BeforeValidator(_as_list)]
OneOrMoreKinds = Annotated[list[ErasureKind], Field(min_length=1), BeforeValidator(_as_list)]


# --- One model per level -----------------------------------------------------------------------------------------


class ColumnSpec(Section):
    """A column Flywheel reads from a raw table."""

    type: ColumnType
    required: bool = False
    description: str = ""
    dates: Literal["past", "scheduled", "history_end"] | None = None
    renamed_from: OneOrMoreNames | None = None
    free_text: bool = False

    def problems(self) -> Iterator[Problem]:
        if self.dates is not None and self.type not in DATE_TYPES:
            yield Problem(("dates",), f"applies to date and timestamp columns only, and this one is {self.type}")
        if self.free_text and self.type != "varchar":
            yield Problem(("free_text",), f"applies to varchar columns only, and this one is {self.type}")


class QuarantineSpec(Section):
    """A table's own reason to keep a raw row out of staging."""

    rule: Annotated[str, AfterValidator(_rule_name)]
    description: Name
    when: Annotated[str, AfterValidator(_row_condition)]


class TableSpec(Section):
    """One raw table as a connector lands it."""

    description: str = ""
    owner: Name | None = None
    primary_key: Annotated[list[Name], Field(min_length=1)]
    columns: Annotated[dict[Name, ColumnSpec], Field(min_length=1)]
    version_order: Annotated[list[Name], Field(min_length=1)] | None = None
    quarantine: list[QuarantineSpec] | None = None
    personal_keys: dict[Name, OneOrMoreKinds] | None = None
    on_erasure: Literal["drop", "redact"] = "drop"
    personal_columns: list[Name] | None = None
    partitioned_by_day: OneOrMoreNames | None = None
    soft_deletes: Literal["dropped", "ended"] = "dropped"

    def problems(self) -> Iterator[Problem]:
        for name, column in self.columns.items():
            for problem in column.problems():
                yield Problem(("columns", name, *problem.path), problem.message)
        yield from self._rename_problems()
        yield from self._erasure_problems()
        for index, name in enumerate(self.partitioned_by_day or ()):
            if self.columns.get(name) is None or self.columns[name].type not in DATE_TYPES:
                yield Problem(
                    ("partitioned_by_day", index),
                    f"names {name!r}, not a timestamp or date column of the contract",
                )

    def _rename_problems(self) -> Iterator[Problem]:
        """An old spelling must be a plain name, and not the name (or old name) of another contract column."""
        seen = {name.lower() for name in self.columns}
        for name, column in self.columns.items():
            for index, old in enumerate(column.renamed_from or ()):
                if not old.isidentifier() or old.lower() in seen:
                    yield Problem(
                        ("columns", name, "renamed_from", index),
                        f"names {old!r}: it must be a plain name used by no other contract column",
                    )
                seen.add(old.lower())

    def _erasure_problems(self) -> Iterator[Problem]:
        for name in self.personal_keys or {}:
            if name not in self.columns:
                yield Problem(("personal_keys", name), "is not a contract column")
        for index, name in enumerate(self.personal_columns or ()):
            if name not in self.columns:
                yield Problem(("personal_columns", index), f"{name!r} is not a contract column")
        if self.on_erasure == "redact" and not self.personal_columns:
            yield Problem(("personal_columns",), "must list the contract columns to blank when on_erasure is redact")


class SourceSpec(Section):
    """A source system: who owns it, and its tables."""

    owner: Name
    description: str = ""
    tables: Annotated[dict[Name, TableSpec], Field(min_length=1)]


class SourcesFile(RootModel[dict[Name, SourceSpec]]):
    """The whole contract: source name -> source."""

    model_config = ConfigDict(strict=True, frozen=True)

    def problems(self) -> Iterator[Problem]:
        for source, spec in self.root.items():
            for table, table_spec in spec.tables.items():
                for problem in table_spec.problems():
                    yield Problem((source, "tables", table, *problem.path), problem.message, problem.line)


def read_contract(path: Path) -> SourcesFile:
    """The validated contract, or a SourceContractError naming the file, the line and the key of every problem."""
    try:
        document, lines = read_document(path, path.read_text())
    except DefinitionsError as error:  # a YAML error, a key written twice
        raise SourceContractError(str(error)) from None
    if not isinstance(document, dict):
        raise SourceContractError(f"{path}: the source contract must be a YAML mapping of sources")
    try:
        contract = SourcesFile.model_validate(document)
    except ValidationError as error:
        raise SourceContractError(report(path, schema_problems(error.errors(), SourcesFile), lines)) from None
    problems = list(contract.problems())
    if problems:
        raise SourceContractError(report(path, problems, lines))
    return contract
