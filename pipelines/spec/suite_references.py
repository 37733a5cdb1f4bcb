"""Definition references in suites: `{"$definition": "name"}` replaced by its value in the definitions in force.

The spellings a suite file may use are read into `DEFINITION_KEY` when the file loads (see
pipelines/spec/suite_schema.py); everything here works on that one spelling.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from pipelines.spec.definitions_registry import path_of
from pipelines.spec.suite_schema import (
    APPEND_KEY,
    DEFINITION_KEY,
    FIELD_KEY,
    PAIRS_KEY,
    WHERE_KEY,
    Suite,
    SuiteError,
    expectation_label,
)

_MISSING = object()


def resolve_kwargs(suite: Suite, definitions: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The suite's expectations with every `$definition` replaced by its value in the definitions in force.

    The values are copies, so Great Expectations (which normalises kwargs in place) cannot alter the document.
    """
    resolved = []
    for position, expectation in enumerate(suite.expectations, start=1):
        where = f"{suite.path}: suite {suite.name}: expectation {position} {expectation_label(expectation)}"
        resolved.append({**expectation, "kwargs": resolve_value(expectation["kwargs"], definitions, where)})
    return resolved


def resolve_value(value: Any, definitions: Mapping[str, Any], where: str) -> Any:
    """Replace references anywhere inside a kwargs value (nested objects and lists too)."""
    if isinstance(value, list):
        return [resolve_value(item, definitions, where) for item in value]
    if isinstance(value, dict):
        if DEFINITION_KEY in value:
            found = _lookup(definitions, value[DEFINITION_KEY], None, where)
            if WHERE_KEY in value:
                found = _matching_item(found, value[DEFINITION_KEY], value[WHERE_KEY], where)
                if FIELD_KEY in value:
                    found = _field_of(found, value[DEFINITION_KEY], value[FIELD_KEY], where)
            elif FIELD_KEY in value:
                found = _lookup(definitions, value[DEFINITION_KEY], value[FIELD_KEY], where)
            if value.get(PAIRS_KEY) is True:
                found = _pairs(found, value[DEFINITION_KEY], where)
            if APPEND_KEY in value:
                extra = _lookup(definitions, value[APPEND_KEY], None, where)
                if not isinstance(found, list):
                    raise SuiteError(f"{where}: `{APPEND_KEY}` needs definition `{value[DEFINITION_KEY]}` to be a list")
                found = [*found, *(extra if isinstance(extra, list) else [extra])]
            return found
        return {key: resolve_value(item, definitions, where) for key, item in value.items()}
    return value


# a quoted string (kept as written) or `@name`, a definition a row condition compares with
_CONDITION_TOKEN = re.compile(r"""('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")|@([A-Za-z_]\w*)""")


def resolve_condition(condition: str, definitions: Mapping[str, Any], where: str) -> str:
    """A row condition with each `@name` (pandas' spelling of a value from outside the table) replaced by the value of
    that definition written as a literal: `"leads_count < @minimum_bases__leads"` reads `"leads_count < 10"`.

    Quoted strings are left as written, so an `@` inside one is text. The value must be a number, a string, a boolean
    or a list of them, as a literal of the condition can be; a mapping stands for the list of its keys, as `in` reads
    a mapping in Python (`activity_type in @lead_scoring__intent_points`).
    """

    def literal(match: re.Match[str]) -> str:
        if match.group(1) is not None:
            return match.group(1)
        value = _lookup(definitions, match.group(2), None, where)
        value = list(value) if isinstance(value, Mapping) else value
        items = value if isinstance(value, list) else [value]
        if not all(isinstance(item, bool | int | float | str) for item in items):
            raise SuiteError(f"{where}: row condition: definition `{match.group(2)}` is not a literal: {value!r}")
        return repr(value)

    return _CONDITION_TOKEN.sub(literal, condition)


def _lookup(definitions: Mapping[str, Any], name: str, field: str | None, where: str) -> Any:
    """The value of a definition (named by its path with `.` written `__`), or one field of each item of a list, or
    one entry of a mapping; an unknown name says which part is missing."""
    value: Any = definitions
    walked: list[str] = []
    for part in path_of(name).split("."):
        found = value.get(part, _MISSING) if isinstance(value, Mapping) else _MISSING
        if found is _MISSING:
            parent = "__".join(walked) or "the definitions document"
            known = ", ".join(sorted(map(str, value))) if isinstance(value, Mapping) else "nothing (not a mapping)"
            raise SuiteError(f"{where}: unknown definition `{name}`: {parent} has no `{part}` (it has: {known})")
        walked.append(part)
        value = found
    if field is None:
        return copy.deepcopy(value)
    if isinstance(value, Mapping):  # one entry of a mapping: the points of one engagement type, say
        if field not in value:
            known = ", ".join(sorted(map(str, value)))
            raise SuiteError(f"{where}: definition `{name}` has no `{field}` (it has: {known})")
        return copy.deepcopy(value[field])
    if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
        raise SuiteError(
            f"{where}: `{FIELD_KEY}` needs a list of mappings or a mapping, but definition `{name}` is neither"
        )
    lacking = [index for index, item in enumerate(value) if field not in item]
    if lacking:
        raise SuiteError(f"{where}: item(s) {lacking} of definition `{name}` have no field `{field}`")
    return [copy.deepcopy(item[field]) for item in value]


def _matching_item(value: Any, name: str, fields: Mapping[str, Any], where: str) -> Any:
    """The one item of a list of mappings whose fields have the given values."""
    if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
        raise SuiteError(f"{where}: `{WHERE_KEY}` needs a list of mappings, but definition `{name}` is not one")
    matching = [item for item in value if all(item.get(key, _MISSING) == wanted for key, wanted in fields.items())]
    if len(matching) != 1:
        raise SuiteError(f"{where}: {len(matching)} items of definition `{name}` have {dict(fields)}, not one")
    return matching[0]


def _field_of(item: Mapping[str, Any], name: str, field: str, where: str) -> Any:
    if field not in item:
        raise SuiteError(f"{where}: the item {dict(item)} of definition `{name}` has no field `{field}`")
    return copy.deepcopy(item[field])


def _pairs(value: Any, name: str, where: str) -> list[list[Any]]:
    """A mapping as [key, value] pairs, in the order written."""
    if not isinstance(value, Mapping):
        raise SuiteError(f"{where}: `{PAIRS_KEY}` needs a mapping, but definition `{name}` is not one")
    return [[key, item] for key, item in value.items()]


def parameter_name(reference: Mapping[str, Any]) -> str:
    """A GE suite-parameter name for a reference: the definition's name, with its field or appended name after `__`."""
    name = str(reference[DEFINITION_KEY]).lstrip("$")  # `$horizon__as_of_month` -> `horizon__as_of_month`
    if FIELD_KEY in reference:
        name += f"__{reference[FIELD_KEY]}"
    if WHERE_KEY in reference:
        name += "__where__" + "__".join(f"{key}_{value}" for key, value in reference[WHERE_KEY].items())
    if PAIRS_KEY in reference:
        name += "__pairs"
    if APPEND_KEY in reference:
        name += f"__and__{reference[APPEND_KEY]}"
    return re.sub(r"\W", "_", name.replace(".", "__"))


def referenced_definitions(suite: Suite) -> set[str]:
    """The definition names a suite references: in `$definition` and `$append` (at any depth of its kwargs) and as
    `@name` in row conditions. The data horizon's columns (`$horizon__...`) are not definitions and are left out."""
    names: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, dict):
            names.update(str(value[key]) for key in (DEFINITION_KEY, APPEND_KEY) if isinstance(value.get(key), str))
            for item in value.values():
                walk(item)
        elif isinstance(value, str):
            names.update(match.group(2) for match in _CONDITION_TOKEN.finditer(value) if match.group(2))

    for expectation in suite.expectations:
        walk(expectation["kwargs"])
    return {name for name in names if not name.startswith("$")}
