"""Source contracts: which raw tables Flywheel reads, their required columns, and where their files are.

The contracts live in `models/sources.yml`. A raw table is loaded from `<raw_dir>/<source>/<table>.csv`,
`<table>.parquet` or a folder `<table>/` of Parquet files, the layouts connectors and exports produce.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

SUPPORTED_TYPES = frozenset({"varchar", "boolean", "integer", "bigint", "double", "date", "timestamp"})


class SourceContractError(ValueError):
    """A raw file that breaks its contract (a required column is missing, say); the message names file and column."""


@dataclass(frozen=True)
class SourceColumn:
    """A column Flywheel reads from a raw table."""

    name: str
    type: str
    required: bool
    description: str


@dataclass(frozen=True)
class SourceTable:
    """One raw table as a connector lands it."""

    source: str
    name: str
    description: str
    owner: str
    primary_key: tuple[str, ...]
    columns: tuple[SourceColumn, ...]

    @property
    def key(self) -> tuple[str, str]:
        return (self.source, self.name)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns if column.required)

    def find_file(self, raw_dir: Path) -> Path:
        """The file (or Parquet folder) holding this table under `raw_dir`."""
        base = raw_dir / self.source
        for candidate in (base / f"{self.name}.parquet", base / f"{self.name}.csv", base / self.name):
            if candidate.exists():
                return candidate
        raise SourceContractError(
            f"no file for {self.source}.{self.name}: looked for {base / self.name}.csv, .parquet or a folder of "
            f"Parquet files (set FLYWHEEL_RAW_DIR to the folder holding your connector tables)"
        )


def load_sources(path: Path) -> list[SourceTable]:
    """Parse `sources.yml` into source tables, failing fast on a malformed entry."""
    document = yaml.safe_load(path.read_text())
    tables: list[SourceTable] = []
    for source, spec in document.items():
        for table, table_spec in spec["tables"].items():
            columns = []
            for column, column_spec in table_spec["columns"].items():
                column_type = column_spec["type"]
                if column_type not in SUPPORTED_TYPES:
                    raise SourceContractError(f"{path}: {source}.{table}.{column} has unknown type {column_type}")
                columns.append(
                    SourceColumn(
                        name=column,
                        type=column_type,
                        required=bool(column_spec.get("required", False)),
                        description=str(column_spec.get("description", "")),
                    )
                )
            tables.append(
                SourceTable(
                    source=source,
                    name=table,
                    description=str(table_spec.get("description", "")).strip(),
                    owner=str(table_spec.get("owner", spec["owner"])),
                    primary_key=tuple(table_spec["primary_key"]),
                    columns=tuple(columns),
                )
            )
    return tables
