"""Source contracts: which raw tables Flywheel reads, their required columns, and where their files are.

The contracts live in `models/sources.yml`. A raw table is loaded from `<raw_dir>/<source>/<table>.csv`,
`<table>.parquet` or a folder `<table>/` of Parquet files, the layouts connectors and exports produce.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

# The contract's schema and its error live in sources_schema.py; `SourceContractError` is imported from here too.
from pipelines.spec.sources_schema import DATE_TYPES, SourceContractError, TableSpec, read_contract

# Types whose values can be NaN or infinite: a NaN passes a cast to double and breaks every sum it enters.
NUMERIC_TYPES = ("double", "decimal")


@dataclass(frozen=True)
class SourceColumn:
    """A column Flywheel reads from a raw table."""

    name: str
    type: str
    required: bool
    description: str
    # How a date or timestamp is checked against the data horizon: `past` (it happened, so it is no later than the
    # as-of time plus the clock skew), `scheduled` (it may lie ahead, up to `data_horizon.max_future_days`) or
    # `history_end` (a history-mode end: 9999-12-31 means still current).
    dates: str = "past"
    # Older spellings of the column (a connector upgrade renamed it): a file with one of them loads it as `name`.
    renamed_from: tuple[str, ...] = ()
    # Text a person types freely (a UTM campaign, say) that reaches the marts: a value shaped like an e-mail address or
    # a phone number is replaced at the raw load by `personal_data.redacted_label` of the definitions.
    free_text: bool = False

    @property
    def numeric(self) -> bool:
        return self.type.split("(")[0] in NUMERIC_TYPES


# The DuckDB variables a raw load sets to the bounds of the data horizon (see pipelines/warehouse/horizon.py). Unset,
# they are
# NULL and no row breaks a horizon rule.
HORIZON_EARLIEST = "flywheel_horizon_earliest"
HORIZON_LATEST = "flywheel_horizon_latest"
HORIZON_LATEST_SCHEDULED = "flywheel_horizon_latest_scheduled"
# A history-mode end at or after this is Fivetran's "still current" (9999-12-31 23:59:59), not a date.
HISTORY_END_CURRENT = "9999-01-01"

# Columns a connector sets to mark a row deleted at the source; the latest version of a row decides.
SOFT_DELETE_COLUMNS: tuple[str, ...] = ("is_deleted", "_fivetran_deleted")
# How versions of a row are ordered when no `version_order` is given: the latest sync wins.
DEFAULT_VERSION_ORDER: tuple[str, ...] = ("_fivetran_synced",)


@dataclass(frozen=True)
class QuarantineRule:
    """A reason to keep a raw row out of staging: a boolean SQL condition over the raw columns (true = quarantine)."""

    name: str
    description: str
    when: str


@dataclass(frozen=True)
class SourceTable:
    """One raw table as a connector lands it."""

    source: str
    name: str
    description: str
    owner: str
    primary_key: tuple[str, ...]
    columns: tuple[SourceColumn, ...]
    version_order: tuple[str, ...] = DEFAULT_VERSION_ORDER
    rules: tuple[QuarantineRule, ...] = ()
    # Erasure: columns identifying a person, each with the kinds of identifier it holds (email, lead_id,
    # contact_id); a row matching the erasure list is dropped, or with `on_erasure: redact` keeps its row with
    # `personal_columns` blanked (see pipelines/warehouse/erasure.py).
    personal_keys: tuple[tuple[str, tuple[str, ...]], ...] = ()
    on_erasure: str = "drop"
    personal_columns: tuple[str, ...] = ()
    # Daily partitions (see pipelines/spec/partitions.py): the timestamp columns, in order of preference, whose UTC day
    # files a row of a single raw file under a partition. Empty: the table is loaded whole on every run.
    partitioned_by_day: tuple[str, ...] = ()
    # What staging does with a row the connector marks deleted: `dropped` (most tables), or `ended` for a table whose
    # rows are periods (a discount removed): staging keeps it as history ending at its last sync.
    soft_deletes: str = "dropped"

    @property
    def partitioned(self) -> bool:
        return bool(self.partitioned_by_day)

    @property
    def key(self) -> tuple[str, str]:
        return (self.source, self.name)

    @property
    def soft_delete_columns(self) -> tuple[str, ...]:
        """The delete flags this table's contract carries."""
        names = {column.name for column in self.columns}
        return tuple(column for column in SOFT_DELETE_COLUMNS if column in names)

    @property
    def quarantine_rules(self) -> tuple[QuarantineRule, ...]:
        """Every rule a raw row must pass, first match wins: a key, then parseable typed values, then the
        table's own rules (the most specific reasons), then the data horizon."""
        required = set(self.required_columns)
        key = [column for column in self.primary_key if column in required] or list(self.primary_key)
        key_missing = " or ".join(f'"{column}" is null' for column in key)
        rules = [
            QuarantineRule(
                name="primary_key_is_null",
                description=f"the primary key ({', '.join(key)}) is missing",
                when=key_missing,
            )
        ]
        for column in self.columns:
            if column.type == "varchar":
                continue
            if column.numeric:
                rules.append(
                    QuarantineRule(
                        name=f"{column.name}_is_not_finite",
                        description=f"{column.name} is NaN or infinite, which no sum or {column.type} can hold",
                        when=f'not isfinite(try_cast("{column.name}" as double))',
                    )
                )
            rules.append(
                QuarantineRule(
                    name=f"{column.name}_is_unparseable",
                    description=f"{column.name} holds a value that does not parse as {column.type}"
                    + (" (or exceeds its precision)" if column.type.startswith("decimal") else ""),
                    when=f'"{column.name}" is not null and try_cast("{column.name}" as {column.type}) is null',
                )
            )
        return (*rules, *self.rules, *self.horizon_rules)

    @property
    def horizon_rules(self) -> tuple[QuarantineRule, ...]:
        """One rule per date or timestamp column: its value lies outside the data horizon of the run.

        The bounds are DuckDB variables the raw load sets (`getvariable`), so the rules are plain text whatever the
        run's as-of time, and a load without a horizon quarantines nothing by them.
        """
        rules = []
        for column in self.columns:
            if column.type not in DATE_TYPES:
                continue
            value = f'try_cast("{column.name}" as timestamp)'
            latest = HORIZON_LATEST_SCHEDULED if column.dates == "scheduled" else HORIZON_LATEST
            too_late = f"{value} > getvariable('{latest}')"
            if column.dates == "history_end":
                too_late = f"({too_late} and {value} < timestamp '{HISTORY_END_CURRENT}')"
            ahead = "the scheduled-date limit" if column.dates == "scheduled" else "the as-of time plus the clock skew"
            rules.append(
                QuarantineRule(
                    name=f"{column.name}_is_outside_horizon",
                    description=(
                        f"{column.name} lies before the data horizon's earliest date or after {ahead} "
                        "(definitions.yml: data_horizon)"
                    ),
                    when=f"{value} < getvariable('{HORIZON_EARLIEST}') or {too_late}",
                )
            )
        return tuple(rules)

    @property
    def sync_column(self) -> str | None:
        """The column recording when the connector synced a row: the latest one across tables is the as-of time."""
        types = {column.name: column.type for column in self.columns}
        if types.get("_fivetran_synced") == "timestamp":
            return "_fivetran_synced"
        first = self.version_order[0] if self.version_order else None
        return first if first is not None and types.get(first) == "timestamp" else None

    @property
    def free_text_columns(self) -> tuple[str, ...]:
        """The columns marked `free_text: true`, redacted at the raw load when a value looks personal."""
        return tuple(column.name for column in self.columns if column.free_text)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns if column.required)

    def renames_in(self, file_columns: Iterable[str]) -> dict[str, str]:
        """Old spellings (`renamed_from`) the file uses for contract columns it lacks: old name -> contract name."""
        present = {name.lower(): name for name in file_columns}
        renames = {}
        for column in self.columns:
            if column.name.lower() in present:
                continue
            old = next((present[name.lower()] for name in column.renamed_from if name.lower() in present), None)
            if old is not None:
                renames[old] = column.name
        return renames

    def suspected_renames(self, file_columns: Iterable[str]) -> dict[str, str]:
        """Contract columns the file lacks, each with the file column that looks like it: missing -> found.

        A connector upgrade that renames a column (`livemode` to `live_mode`) would otherwise load the old column as
        an unknown extra and the contract column as NULL, changing numbers without a word. A file column counts as a
        match when it spells the same name up to case and underscores, or is close to it (difflib ratio >= 0.85),
        and is neither a contract column nor a declared old spelling.
        """
        known = {column.name.lower() for column in self.columns}
        known |= {old.lower() for column in self.columns for old in column.renamed_from}
        names = list(file_columns)
        present = {name.lower() for name in names}
        extras = [name for name in names if name.lower() not in known]
        suspects = {}
        for column in self.columns:
            if column.name.lower() in present or any(old.lower() in present for old in column.renamed_from):
                continue
            found = _close_match(column.name, extras)
            if found is not None:
                suspects[column.name] = found
        return suspects

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


def _squashed(name: str) -> str:
    return name.replace("_", "").lower()


def _close_match(name: str, candidates: list[str]) -> str | None:
    """The candidate spelling `name` up to case and underscores, else the closest by difflib, else None."""
    same = [candidate for candidate in candidates if _squashed(candidate) == _squashed(name)]
    if same:
        return same[0]
    lowered = {candidate.lower(): candidate for candidate in candidates}
    close = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.85)
    return lowered[close[0]] if close else None


def load_sources(path: Path) -> list[SourceTable]:
    """Parse `sources.yml` into source tables; every problem of the file is reported at once (sources_schema.py)."""
    contract = read_contract(path)
    return [
        _source_table(source, name, spec.owner, table)
        for source, spec in contract.root.items()
        for name, table in spec.tables.items()
    ]


def _source_table(source: str, name: str, source_owner: str, spec: TableSpec) -> SourceTable:
    """One validated table of the contract, with the defaults of the keys it leaves out."""
    return SourceTable(
        source=source,
        name=name,
        description=spec.description.strip(),
        owner=spec.owner if spec.owner is not None else source_owner,
        primary_key=tuple(spec.primary_key),
        columns=tuple(
            SourceColumn(
                name=column,
                type=column_spec.type,
                required=column_spec.required,
                description=column_spec.description,
                dates=column_spec.dates or "past",
                renamed_from=tuple(column_spec.renamed_from or ()),
                free_text=column_spec.free_text,
            )
            for column, column_spec in spec.columns.items()
        ),
        version_order=DEFAULT_VERSION_ORDER if spec.version_order is None else tuple(spec.version_order),
        rules=tuple(
            QuarantineRule(name=rule.rule, description=rule.description.strip(), when=rule.when)
            for rule in spec.quarantine or ()
        ),
        personal_keys=tuple((column, tuple(kinds)) for column, kinds in (spec.personal_keys or {}).items()),
        on_erasure=spec.on_erasure,
        personal_columns=tuple(spec.personal_columns or ()),
        partitioned_by_day=tuple(spec.partitioned_by_day or ()),
        soft_deletes=spec.soft_deletes,
    )
