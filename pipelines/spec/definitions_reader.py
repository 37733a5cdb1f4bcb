"""Reading the definitions file: a YAML loader that keeps the line of every key, and problems as one-line messages.

A definitions file that parses is not yet one the models can count with: a second `mql:` block silently replaces
the first, and `.nan` makes every comparison false (zero MQLs). The loader here rejects both, and remembers where
every key is, so every problem, whether found here, by the schema (pipelines/spec/definitions_schema.py) or by its
rules,
is reported as `file:line: dotted.key: what is wrong`.

The source contract (pipelines/spec/sources_schema.py) and the suite files (pipelines/spec/suite_schema.py) are read
and reported the same way; a suite's problems also name the suite (`file: suite name: dotted.key: what is wrong`).
"""

from __future__ import annotations

import difflib
import inspect
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, get_args, get_origin

import yaml
from pydantic import BaseModel, RootModel
from pydantic_core import ErrorDetails

KeyPath = tuple[Any, ...]
"""Where a value sits in the document: mapping keys and list indexes, outermost first."""

MERGE_TAG = "tag:yaml.org,2002:merge"
FLOAT_TAG = "tag:yaml.org,2002:float"


class DefinitionsError(ValueError):
    """An invalid definitions file; each line of the message names the file, the line and the key that is wrong."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the file, at a key path; `line` when it is not the line of the key itself."""

    path: KeyPath
    message: str
    line: int | None = None


class DefinitionsLoader(yaml.SafeLoader):
    """A safe YAML loader that records the line of every key and list item, and collects duplicate keys and NaNs.

    PyYAML keeps the last of two equal keys and reads `.nan` and `.inf` as numbers; in a definitions file both are
    mistakes that change the numbers silently, so they become problems naming the key and its line.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.lines: dict[KeyPath, int] = {}
        self.problems: list[Problem] = []

    def construct_document(self, node: yaml.Node) -> Any:
        self._inspect(node, (), frozenset())
        return super().construct_document(node)

    def _inspect(self, node: yaml.Node, path: KeyPath, ancestors: frozenset[int]) -> None:
        if id(node) in ancestors:  # a recursive alias: its content was inspected where the anchor is
            return
        ancestors = ancestors | {id(node)}
        if isinstance(node, yaml.MappingNode):
            first_lines: dict[Any, int] = {}
            for key_node, value_node in node.value:
                if key_node.tag == MERGE_TAG:  # `<<: *anchor`: explicit keys may override merged ones
                    self._inspect(value_node, path, ancestors)
                    continue
                key, line = self._key(key_node), key_node.start_mark.line + 1
                if key in first_lines:
                    self.problems.append(
                        Problem(
                            (*path, key),
                            f"duplicate key (first at line {first_lines[key]}); YAML would silently keep only the "
                            "last one: merge the two into one",
                            line=line,
                        )
                    )
                    continue
                first_lines[key] = line
                self.lines.setdefault((*path, key), line)
                self._inspect(value_node, (*path, key), ancestors)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self.lines.setdefault((*path, index), item.start_mark.line + 1)
                self._inspect(item, (*path, index), ancestors)
        elif (
            isinstance(node, yaml.ScalarNode)
            and node.tag == FLOAT_TAG
            and not math.isfinite(self.construct_yaml_float(node))
        ):
            self.problems.append(
                Problem(path, f"must be a finite number, not {node.value}", line=node.start_mark.line + 1)
            )

    def _key(self, node: yaml.Node) -> Any:
        """The key as the constructed document will hold it (a scalar), or a placeholder for a complex key."""
        if isinstance(node, yaml.ScalarNode):
            return self.construct_object(node)
        return f"<complex key at line {node.start_mark.line + 1}>"


def read_document(path: Path, text: str) -> tuple[Any, dict[KeyPath, int]]:
    """The parsed document and the line of every key path, or a DefinitionsError listing the YAML-level problems."""
    loader = DefinitionsLoader(text)
    try:
        document = loader.get_single_data()
    except yaml.YAMLError as error:
        raise DefinitionsError(f"{path}: not valid YAML: {error}") from error
    finally:
        loader.dispose()
    if loader.problems:
        raise DefinitionsError(report(path, loader.problems, loader.lines))
    return document, loader.lines


def report(path: Path, problems: Iterable[Problem], lines: dict[KeyPath, int], subject: str | None = None) -> str:
    """One line per problem, `file:line: dotted.key: message`, in the order of the file.

    `subject` names what the file holds when the key path alone does not (`suite mql_definitions`): it follows the
    file and line. A file read without lines (JSON) gives `file: dotted.key: message`.
    """
    located = [
        (problem.line or _line_of(problem.path, lines), _dotted(problem.path), problem.message) for problem in problems
    ]
    about = f" {subject}:" if subject else ""
    return "\n".join(
        f"{path}:{line}:{about} {key}: {message}" if line else f"{path}:{about} {key}: {message}"
        for line, key, message in sorted(located, key=lambda item: (item[0], item[1]))
    )


def _line_of(path: KeyPath, lines: dict[KeyPath, int]) -> int:
    """The line of the key, else of its closest parent present in the file (a missing key); 0 when there is none."""
    for length in range(len(path), 0, -1):
        if path[:length] in lines:
            return lines[path[:length]]
    return 0


def _dotted(path: KeyPath) -> str:
    """`mql.score_threshold`, `segments.bands[1].name`: a key path as the file's comments and the README write it."""
    text = "".join(
        f"[{part}]" if isinstance(part, int) and not isinstance(part, bool) else f".{_key_text(part)}" for part in path
    )
    return text.removeprefix(".") or "(the whole file)"


def _key_text(key: Any) -> str:
    if isinstance(key, bool):
        return str(key).lower()
    return "null" if key is None else str(key)


def schema_problems(errors: list[ErrorDetails], schema: type[BaseModel]) -> list[Problem]:
    """Pydantic's errors as problems in the file's words; a missing key that an unknown key misspells is left out."""
    problems = [_schema_problem(error, schema) for error in errors]
    suggested = {
        (*error["loc"][:-1], suggestion)
        for error in errors
        if error["type"] == "extra_forbidden"
        for suggestion in _suggestions(tuple(error["loc"]), schema)
    }
    return [
        problem
        for problem, error in zip(problems, errors, strict=True)
        if not (error["type"] == "missing" and tuple(error["loc"]) in suggested)
    ]


def _schema_problem(error: ErrorDetails, schema: type[BaseModel]) -> Problem:
    path: KeyPath = tuple(error["loc"])
    kind, value, context = error["type"], error.get("input"), error.get("ctx", {})
    if path and path[-1] == "[key]":  # pydantic names the key by its position; the file has the key itself
        return Problem((*path[:-2], value), f"the key must be text (put it in quotes), not {_shown(value)}")
    if kind == "duplicate_item":
        return Problem((*path, context["index"]), error["msg"])
    if kind == "extra_forbidden":
        suggestions = _suggestions(path, schema)
        allowed = ", ".join(_allowed(path, schema))
        hint = f"did you mean {suggestions[0]}?" if suggestions else f"expected one of: {allowed}"
        return Problem(path, f"unknown key ({hint})")
    messages = {
        "missing": "missing",
        "int_type": f"must be a whole number, not {_shown(value)}",
        "float_type": f"must be a number, not {_shown(value)}",
        "string_type": f"must be text, not {_shown(value)}",
        "bool_type": f"must be true or false, not {_shown(value)}",
        "list_type": f"must be a list, not {_shown(value)}",
        "dict_type": f"must be a mapping of keys to values, not {_shown(value)}",
        "model_type": f"must be a mapping of keys to values, not {_shown(value)}",
        "finite_number": f"must be a finite number, not {_shown(value)}",
        "greater_than": f"must be > {_shown(context.get('gt'))}, not {_shown(value)}",
        "greater_than_equal": f"must be >= {_shown(context.get('ge'))}, not {_shown(value)}",
        "less_than_equal": f"must be <= {_shown(context.get('le'))}, not {_shown(value)}",
        "too_short": "must not be empty",
        "literal_error": f"must be one of {context.get('expected')}, not {_shown(value)}",
        "value_error": error["msg"].removeprefix("Value error, "),
    }
    return Problem(path, messages.get(kind, error["msg"]))


def _shown(value: Any) -> str:
    """A value as the YAML author wrote it, with a hint when its type is what is wrong."""
    if isinstance(value, bool):
        return f"{str(value).lower()} (a yes/no value)"
    if value is None:
        return "an empty value"
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return f"the text {value!r}"
        return f"the text {value!r} (remove the quotes)"
    if isinstance(value, datetime | date):
        return f"the unquoted date {value} (put it in quotes)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def _suggestions(path: KeyPath, schema: type[BaseModel]) -> list[str]:
    return difflib.get_close_matches(str(path[-1]), _allowed(path, schema), n=1)


def _allowed(path: KeyPath, schema: type[BaseModel]) -> list[str]:
    """The keys the section holding `path` accepts."""
    annotation: Any = schema
    for part in path[:-1]:
        annotation = _annotation_at(annotation, part)
        if annotation is None:
            return []
    model = _section_in(annotation)
    return list(model.model_fields) if model else []


def _annotation_at(annotation: Any, part: Any) -> Any:
    """The type of the value at key (or index) `part` inside a value of type `annotation`, or None if unknown.

    Sections give their fields' types; a mapping of names to sections (a source's tables, say) its value type; a list
    of sections its item type; `Annotated` types and unions the first of their arguments that has the part.
    """
    if get_origin(annotation) is None and inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        fields = annotation.model_fields
        if issubclass(annotation, RootModel):  # its keys are the keys of the mapping it holds
            return _annotation_at(fields["root"].annotation, part)
        return fields[part].annotation if isinstance(part, str) and part in fields else None
    origin, arguments = get_origin(annotation), get_args(annotation)
    if origin in (dict, Mapping) and len(arguments) == 2 and not isinstance(part, int):
        return arguments[1]
    if origin in (list, tuple, Sequence) and arguments and isinstance(part, int):
        return arguments[0]
    for argument in arguments:
        found = _annotation_at(argument, part)
        if found is not None:
            return found
    return None


def _section_in(annotation: Any) -> type[BaseModel] | None:
    """The section model an annotation holds, directly or as the item of a list."""
    if get_origin(annotation) is None and inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        return annotation
    for argument in get_args(annotation):
        found = _section_in(argument)
        if found is not None:
            return found
    return None
