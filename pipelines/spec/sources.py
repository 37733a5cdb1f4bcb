"""Source contracts: which raw tables Flywheel reads, their required columns, and where their files are.

The contracts live in `models/sources.yml`. A raw table is loaded from `<raw_dir>/<source>/<table>.csv`,
`<table>.parquet` or a folder `<table>/` of Parquet files, the layouts connectors and exports produce.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import sqlglot
import yaml
from sqlglot import exp

SUPPORTED_TYPES = frozenset({"varchar", "boolean", "integer", "bigint", "double", "date", "timestamp", "json"})
# `decimal(p,s)`: money, cast by staging to a fixed precision (a value beyond it would fail the cast).
DECIMAL_TYPE = re.compile(r"^decimal\((\d{1,2}),\s*(\d{1,2})\)$")
# Types whose values can be NaN or infinite: a NaN passes a cast to double and breaks every sum it enters.
NUMERIC_TYPES = ("double", "decimal")


def supported_type(column_type: str) -> bool:
    """Whether a contract type is one the raw load can validate: a plain type, or `decimal(p,s)` with s <= p <= 38."""
    match = DECIMAL_TYPE.match(column_type)
    if match:
        precision, scale = int(match.group(1)), int(match.group(2))
        return 0 < precision <= 38 and scale <= precision
    return column_type in SUPPORTED_TYPES


class SourceContractError(ValueError):
    """A raw file that breaks its contract (a required column is missing, say); the message names file and column."""


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


# How date and timestamp columns are checked against the data horizon (see `horizon_rules`).
DATE_KINDS = ("past", "scheduled", "history_end")
DATE_TYPES = frozenset({"date", "timestamp"})
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


def _parse_rule(path: Path, where: str, item: object) -> QuarantineRule:
    """A table's own quarantine rule, checked to be one boolean condition and nothing else."""
    if not isinstance(item, dict) or not {"rule", "description", "when"} <= set(item):
        raise SourceContractError(f"{path}: {where} needs a rule, a description and when")
    name, condition = str(item["rule"]), str(item["when"])
    if not name.isidentifier() or not name.islower():
        raise SourceContractError(f"{path}: {where}: rule {name!r} must be a snake_case name")
    try:
        parsed = sqlglot.parse(f"select 1 where {condition}", dialect="duckdb")
    except sqlglot.errors.ParseError as error:
        raise SourceContractError(f"{path}: {where}: `when` is not a SQL condition: {error}") from error
    if len(parsed) != 1 or parsed[0] is None or any(parsed[0].find_all(exp.Subquery, exp.Command)):
        raise SourceContractError(f"{path}: {where}: `when` must be one condition over the row, without subqueries")
    return QuarantineRule(name=name, description=str(item["description"]).strip(), when=condition)


ERASURE_KINDS = ("email", "lead_id", "contact_id")


def _parse_erasure(
    path: Path, where: str, spec: dict, columns: set[str]
) -> tuple[tuple[tuple[str, tuple[str, ...]], ...], str, tuple[str, ...]]:
    """A table's `personal_keys` (column: kind or [kinds]), `on_erasure` and `personal_columns`, checked."""
    keys = []
    for column, kinds in (spec.get("personal_keys") or {}).items():
        kinds = (kinds,) if isinstance(kinds, str) else tuple(kinds)
        if column not in columns:
            raise SourceContractError(f"{path}: {where}.personal_keys names {column!r}, not a contract column")
        unknown = [kind for kind in kinds if kind not in ERASURE_KINDS]
        if unknown or not kinds:
            raise SourceContractError(
                f"{path}: {where}.personal_keys.{column}: kinds must be among {', '.join(ERASURE_KINDS)}"
            )
        keys.append((column, kinds))
    action = str(spec.get("on_erasure", "drop"))
    if action not in ("drop", "redact"):
        raise SourceContractError(f"{path}: {where}.on_erasure must be drop or redact, not {action!r}")
    personal = tuple(spec.get("personal_columns") or ())
    if action == "redact" and (not personal or not set(personal) <= columns):
        raise SourceContractError(f"{path}: {where}: on_erasure redact needs personal_columns from the contract")
    return tuple(keys), action, personal


def load_sources(path: Path) -> list[SourceTable]:
    """Parse `sources.yml` into source tables, failing fast on a malformed entry."""
    document = yaml.safe_load(path.read_text())
    tables: list[SourceTable] = []
    for source, spec in document.items():
        for table, table_spec in spec["tables"].items():
            columns = []
            for column, column_spec in table_spec["columns"].items():
                column_type = str(column_spec["type"]).replace(" ", "").lower()
                if not supported_type(column_type):
                    raise SourceContractError(
                        f"{path}: {source}.{table}.{column} has unknown type {column_spec['type']} "
                        f"(use one of {', '.join(sorted(SUPPORTED_TYPES))} or decimal(p,s))"
                    )
                renamed_from = column_spec.get("renamed_from") or ()
                dates = str(column_spec.get("dates", "past"))
                if dates not in DATE_KINDS or ("dates" in column_spec and column_type not in DATE_TYPES):
                    raise SourceContractError(
                        f"{path}: {source}.{table}.{column}: `dates` must be one of {', '.join(DATE_KINDS)}, "
                        "on a date or timestamp column"
                    )
                columns.append(
                    SourceColumn(
                        name=column,
                        type=column_type,
                        required=bool(column_spec.get("required", False)),
                        description=str(column_spec.get("description", "")),
                        dates=dates,
                        renamed_from=(renamed_from,) if isinstance(renamed_from, str) else tuple(renamed_from),
                        free_text=_parse_free_text(path, f"{source}.{table}.{column}", column_spec, column_type),
                    )
                )
            _check_renames(path, f"{source}.{table}", columns)
            personal_keys, on_erasure, personal_columns = _parse_erasure(
                path, f"{source}.{table}", table_spec, {column.name for column in columns}
            )
            tables.append(
                SourceTable(
                    source=source,
                    name=table,
                    description=str(table_spec.get("description", "")).strip(),
                    owner=str(table_spec.get("owner", spec["owner"])),
                    primary_key=tuple(table_spec["primary_key"]),
                    columns=tuple(columns),
                    version_order=tuple(table_spec.get("version_order", DEFAULT_VERSION_ORDER)),
                    rules=tuple(
                        _parse_rule(path, f"{source}.{table}.quarantine[{index}]", item)
                        for index, item in enumerate(table_spec.get("quarantine") or [])
                    ),
                    personal_keys=personal_keys,
                    on_erasure=on_erasure,
                    personal_columns=personal_columns,
                    partitioned_by_day=_parse_partition_days(
                        path, f"{source}.{table}", table_spec, {c.name: c.type for c in columns}
                    ),
                )
            )
    return tables


def _check_renames(path: Path, where: str, columns: list[SourceColumn]) -> None:
    """An old spelling must be a plain name, and not the name (or old name) of another contract column."""
    seen = {column.name.lower() for column in columns}
    for column in columns:
        for old in column.renamed_from:
            if not old.isidentifier() or old.lower() in seen:
                raise SourceContractError(
                    f"{path}: {where}.{column.name}.renamed_from names {old!r}: it must be a plain name used by no "
                    "other contract column"
                )
            seen.add(old.lower())


def _parse_free_text(path: Path, where: str, spec: dict, column_type: str) -> bool:
    """`free_text: true` marks a text column whose personal-looking values are redacted at the raw load."""
    value = spec.get("free_text", False)
    if not isinstance(value, bool):
        raise SourceContractError(f"{path}: {where}.free_text must be true or false, not {value!r}")
    if value and column_type != "varchar":
        raise SourceContractError(f"{path}: {where}.free_text applies to varchar columns only, not {column_type}")
    return value


def _parse_partition_days(path: Path, where: str, spec: dict, types: dict[str, str]) -> tuple[str, ...]:
    """`partitioned_by_day`: one timestamp column or a list of them, tried in order."""
    value = spec.get("partitioned_by_day") or ()
    columns = (value,) if isinstance(value, str) else tuple(value)
    for column in columns:
        if types.get(column) not in ("timestamp", "date"):
            raise SourceContractError(
                f"{path}: {where}.partitioned_by_day names {column!r}, not a timestamp or date column of the contract"
            )
    return columns
