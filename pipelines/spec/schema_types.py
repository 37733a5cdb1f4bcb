"""Strict value types shared by the three schemas of the project's files: the definitions file
(definitions_schema.py), the source contracts (sources_schema.py) and the suites (suite_schema.py).

`Section` is the base of every block: no unknown keys, no type coercion, no NaN or infinity. The types say what a
value may be (a non-blank name, a list naming nothing twice, a share within 0..1, a date written YYYY-MM-DD, an ISO
currency code, an IANA time zone) and word their errors for the person editing the file.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Iterator
from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from pipelines.spec.definitions_reader import Problem

# --- Value types -------------------------------------------------------------------------------------------------


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


def _distinct(values: list[str]) -> list[str]:
    """A list that names a thing twice is a typo or a merge gone wrong: point at the second one."""
    first_index: dict[str, int] = {}
    for index, value in enumerate(values):
        if value in first_index:
            raise PydanticCustomError(
                "duplicate_item",
                "lists {item} twice (first as item {first})",
                {"item": repr(value), "first": first_index[value], "index": index},
            )
        first_index[value] = index
    return values


def _timestamp_text(value: str) -> str:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f'must be a timestamp such as "2000-01-01 00:00:00", not {value!r}') from None
    return value


def _date_text(value: str) -> str:
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError(value)
        date.fromisoformat(value)
    except ValueError:
        raise ValueError(f'must be a date written YYYY-MM-DD, such as "2000-01-01", not {value!r}') from None
    return value


def _currency_code(value: str) -> str:
    # Staging upper-cases the currency of every billing row before comparing it with this code.
    if not re.fullmatch(r"[A-Z]{3}", value):
        raise ValueError(f"must be a three-letter ISO currency code in capitals, such as USD, not {value!r}")
    return value


def _time_zone(value: str) -> str:
    # DuckDB converts with the same IANA database; an unknown name would fail every model that reads it.
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"must be an IANA time zone name such as UTC or America/New_York, not {value!r}") from error
    return value


Name = Annotated[str, AfterValidator(_not_blank)]
Names = Annotated[list[Name], Field(min_length=1), AfterValidator(_distinct)]
# Numbers are strict floats: an int or a float, never a bool, a string or a non-finite number.
NonNegative = Annotated[float, Field(ge=0)]
Positive = Annotated[float, Field(gt=0)]
AtLeastOne = Annotated[float, Field(ge=1)]
Share = Annotated[float, Field(ge=0, le=1)]
WholeNonNegative = Annotated[int, Field(ge=0)]
WholeAtLeastOne = Annotated[int, Field(ge=1)]
TimestampText = Annotated[str, AfterValidator(_timestamp_text)]
DateText = Annotated[str, AfterValidator(_date_text)]
CurrencyCode = Annotated[str, AfterValidator(_currency_code)]
TimeZoneName = Annotated[str, AfterValidator(_time_zone)]


class Section(BaseModel):
    """A block of the definitions file: no unknown keys, no type coercion, no NaN or infinity."""

    model_config = ConfigDict(strict=True, extra="forbid", allow_inf_nan=False, frozen=True)

    def problems(self) -> Iterator[Problem]:
        """Rules across the keys of this section, with paths relative to it."""
        return iter(())
