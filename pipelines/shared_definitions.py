"""The shared definitions file: load it, validate it, and write it into the warehouse as small tables.

Models read the definitions as tables (`definitions.channel_mapping`, `definitions.segments`, ...), so their SQL
stays plain, sqlglot sees the dependency, and BI can read the definitions in force.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import yaml

from pipelines.warehouse import qualified, quote

SCHEMA = "definitions"


class DefinitionsError(ValueError):
    """An invalid definitions file; the message names the key that is wrong."""


@dataclass(frozen=True)
class SegmentBand:
    name: str
    min_employees: int
    max_employees: int | None


@dataclass(frozen=True)
class SharedDefinitions:
    """The parsed definitions file."""

    version: int
    digest: str
    default_channel: str
    channels: dict[str, str]
    unknown_segment: str
    segments: tuple[SegmentBand, ...]

    def tables(self) -> dict[str, pd.DataFrame]:
        """The definitions as the warehouse tables models read."""
        return {
            "channel_mapping": pd.DataFrame(
                [{"lead_source_key": key, "channel": value} for key, value in sorted(self.channels.items())]
                + [{"lead_source_key": None, "channel": self.default_channel}],
                columns=["lead_source_key", "channel"],
            ),
            "segments": pd.DataFrame(
                [
                    {"segment": band.name, "min_employees": band.min_employees, "max_employees": band.max_employees}
                    for band in self.segments
                ]
                + [{"segment": self.unknown_segment, "min_employees": None, "max_employees": None}],
                columns=["segment", "min_employees", "max_employees"],
            ).astype({"min_employees": "Int64", "max_employees": "Int64"}),
            "definitions_version": pd.DataFrame([{"version": self.version, "digest": self.digest}]),
        }


def _require(document: dict[str, Any], key: str, kind: type) -> Any:
    """Read a key of the expected type, or fail naming the key."""
    parts = key.split(".")
    value: Any = document
    for part in parts:
        if not isinstance(value, dict) or part not in value:
            raise DefinitionsError(f"definitions: `{key}` is missing")
        value = value[part]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise DefinitionsError(f"definitions: `{key}` must be a {kind.__name__}, not {value!r}")
    return value


def _segment_bands(document: dict[str, Any]) -> tuple[SegmentBand, ...]:
    bands = []
    for index, band in enumerate(_require(document, "segments.bands", list)):
        key = f"segments.bands[{index}]"
        if not isinstance(band, dict):
            raise DefinitionsError(f"definitions: `{key}` must be a mapping")
        name, low, high = band.get("name"), band.get("min_employees"), band.get("max_employees")
        if not isinstance(name, str) or not name:
            raise DefinitionsError(f"definitions: `{key}.name` must be a non-empty string")
        if not isinstance(low, int) or low < 0:
            raise DefinitionsError(f"definitions: `{key}.min_employees` must be a whole number >= 0")
        if high is not None and (not isinstance(high, int) or high < low):
            raise DefinitionsError(f"definitions: `{key}.max_employees` must be empty or >= min_employees")
        bands.append(SegmentBand(name=name, min_employees=low, max_employees=high))
    ordered = sorted(bands, key=lambda band: band.min_employees)
    for lower, upper in itertools.pairwise(ordered):
        if lower.max_employees is None or lower.max_employees >= upper.min_employees:
            raise DefinitionsError(f"definitions: `segments.bands` {lower.name} and {upper.name} overlap")
    return tuple(bands)


def load_definitions(path: Path) -> SharedDefinitions:
    """Parse and validate the definitions file, failing fast with the name of the offending key."""
    text = path.read_text()
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise DefinitionsError(f"{path}: not valid YAML: {error}") from error
    if not isinstance(document, dict):
        raise DefinitionsError(f"{path}: the definitions file must be a YAML mapping")
    lead_sources = _require(document, "channels.lead_sources", dict)
    channels = {}
    for raw_source, channel in lead_sources.items():
        if not isinstance(channel, str) or not channel:
            raise DefinitionsError(f"definitions: `channels.lead_sources.{raw_source}` must name a channel")
        channels[str(raw_source).strip().lower()] = channel
    return SharedDefinitions(
        version=_require(document, "version", int),
        digest=hashlib.sha256(text.encode()).hexdigest()[:16],
        default_channel=_require(document, "channels.default", str),
        channels=channels,
        unknown_segment=_require(document, "segments.unknown_segment", str),
        segments=_segment_bands(document),
    )


def write_definitions(connection: duckdb.DuckDBPyConnection, definitions: SharedDefinitions) -> dict[str, int]:
    """Replace the definitions tables in one transaction; returns rows written per table."""
    written = {}
    connection.execute(f"create schema if not exists {quote(SCHEMA)}")
    connection.execute("begin transaction")
    try:
        for table, frame in definitions.tables().items():
            connection.register("definitions_frame", frame)
            connection.execute(f"create or replace table {qualified(SCHEMA, table)} as select * from definitions_frame")
            connection.unregister("definitions_frame")
            written[table] = len(frame)
        connection.execute("commit")
    except Exception:
        connection.execute("rollback")
        raise
    return written
