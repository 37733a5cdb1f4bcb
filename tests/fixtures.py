"""Tiny hand-made connector tables for tests whose expected numbers are worked out by hand."""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from pathlib import Path

import duckdb
import pandas as pd
import yaml

from pipelines.spec.settings import PROJECT_ROOT, Settings
from pipelines.spec.sources import load_sources

Rows = Sequence[Mapping[str, object]]


def write_raw(raw_dir: Path, tables: Mapping[str, Rows]) -> Path:
    """Write every contract table under `raw_dir`: the given rows (keyed `source.table`), else just a header.

    Only the columns the rows use plus the required ones are written; the raw layer adds the optional ones as NULL.
    """
    for table in load_sources(PROJECT_ROOT / "models" / "sources.yml"):
        rows = tables.get(f"{table.source}.{table.name}", [])
        columns = list(table.required_columns)
        for row in rows:
            columns += [column for column in row if column not in columns]
        path = raw_dir / table.source / f"{table.name}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            for row in rows:
                writer.writerow({column: "" if value is None else value for column, value in row.items()})
    return raw_dir


def query(settings: Settings, sql: str) -> pd.DataFrame:
    """Run a query on a built warehouse, read-only, as a DataFrame."""
    with duckdb.connect(str(settings.warehouse), read_only=True) as connection:
        return connection.execute(sql).df()


def definitions_with(directory: Path, **sections: Mapping[str, object]) -> Path:
    """A copy of the project's definitions file in `directory`, with the keys of the given sections replaced.

    Hand-worked companies are small: tests whose arithmetic is not about minimum bases turn them off
    (`minimum_bases=NO_MINIMUM_BASES`) so their ratios are published on any base above zero.
    """
    document = yaml.safe_load((PROJECT_ROOT / "definitions.yml").read_text())
    for section, values in sections.items():
        document[section] = {**document[section], **values}
    path = directory / "definitions.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


NO_MINIMUM_BASES: Mapping[str, object] = {"customers": 0, "mrr_usd": 0, "leads": 0}
