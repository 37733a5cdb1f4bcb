"""Erasure (right to be forgotten) that survives re-runs: a list of keyed hashes applied at every raw load.

The connector lands the same raw files on every sync, so deleting a person's rows from the warehouse once is not
enough. `flywheel forget` records the person in the erasure list instead: one row per identifier, as a keyed hash
(HMAC-SHA256 with the key from `FLYWHEEL_PII_HASH_KEY`, never committed), so the list itself holds no e-mail. Every
raw load computes the same hash inside DuckDB (the key reaches SQL only as a bound parameter) over the columns a
table declares in `models/sources.yml` under `personal_keys`, and drops the rows that match before anything is
written (`erased_rows` in `audit.raw_loads`), or, for a table declaring `on_erasure: redact` (a Stripe customer is a
paying organisation, not a person), blanks its `personal_columns` and keeps the row.

The list's path comes from the settings (`FLYWHEEL_ERASURE_LIST`), passed in by the caller; this module reads only
the key from the environment.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import hmac
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines.spec.sources import SourceContractError, SourceTable
from pipelines.warehouse.connection import quote
from pipelines.warehouse.raw_files import raw_reader

KEY_ENV = "FLYWHEEL_PII_HASH_KEY"
# What a hash can identify. A hash is taken over "<kind>:<normalised value>", so an id never matches an e-mail.
KINDS = ("email", "lead_id", "contact_id")
FIELDS = ("kind", "key_hash", "requested_on")
# Temporary tables a load reads the erasure list and the key from; both are dropped after the load.
ERASURES_TABLE = "_flywheel_erasures"
KEY_TABLE = "_flywheel_erasure_key"
EMAIL_PATTERN = r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]+"


class ErasureError(RuntimeError):
    """An erasure that cannot be applied or recorded (no key, a malformed list); the message says what to do."""


def normalise(kind: str, value: str) -> str:
    """E-mails compare case- and space-insensitively; ids compare as written, without surrounding spaces."""
    if kind not in KINDS:
        raise ValueError(f"unknown erasure kind {kind!r}; expected one of {', '.join(KINDS)}")
    return value.strip().lower() if kind == "email" else value.strip()


def hash_key() -> bytes:
    """The keyed-hash key from the environment, or a clear error when it is unset."""
    key = os.environ.get(KEY_ENV, "")
    if not key:
        raise ErasureError(
            f"{KEY_ENV} is not set: erasure requests are stored and matched as keyed hashes, so the key is needed. "
            f"Set {KEY_ENV} to the deployment's secret (the same value on every run; never commit it)."
        )
    return key.encode()


def keyed_hash(key: bytes, kind: str, value: str) -> str:
    """HMAC-SHA256 of "<kind>:<normalised value>", as lowercase hex."""
    return hmac.new(key, f"{kind}:{normalise(kind, value)}".encode(), hashlib.sha256).hexdigest()


def _pads(key: bytes) -> tuple[bytes, bytes]:
    """HMAC's inner and outer padded keys (RFC 2104), so DuckDB's sha256 can compute the same HMAC."""
    block = 64
    if len(key) > block:
        key = hashlib.sha256(key).digest()
    key = key.ljust(block, b"\0")
    return bytes(byte ^ 0x36 for byte in key), bytes(byte ^ 0x5C for byte in key)


def hash_sql(expression: str, kind: str) -> str:
    """SQL for the keyed hash of `expression` (a quoted column) as `kind`; reads the key from the temp key table."""
    if kind not in KINDS:
        raise ValueError(f"unknown erasure kind {kind!r}")
    value = f"lower(trim(cast({expression} as varchar)))" if kind == "email" else f"trim(cast({expression} as varchar))"
    return (
        f"sha256((select opad from {KEY_TABLE}) || unhex(sha256((select ipad from {KEY_TABLE}) || "
        f"encode('{kind}:' || {value}))))"
    )


def matches_sql(expression: str, kind: str) -> str:
    """SQL: true when `expression`, hashed as `kind`, is on the erasure list."""
    return (
        f"coalesce({hash_sql(expression, kind)} in "
        f"(select key_hash from {ERASURES_TABLE} where kind = '{kind}'), false)"
    )


@dataclass(frozen=True)
class ErasureList:
    """The erasure requests recorded at `path`: (kind, keyed hash) pairs, and the date each was first requested."""

    path: Path
    entries: dict[tuple[str, str], str] = field(default_factory=dict)

    @classmethod
    def read(cls, path: Path) -> ErasureList:
        if not path.exists():
            return cls(path=path)
        entries: dict[tuple[str, str], str] = {}
        with path.open(newline="") as handle:
            reader = csv.DictReader(handle)
            if reader.fieldnames is None or not set(FIELDS) <= set(reader.fieldnames):
                raise ErasureError(f"{path}: an erasure list needs the columns {', '.join(FIELDS)}")
            for line, row in enumerate(reader, start=2):
                kind, digest = row["kind"].strip(), row["key_hash"].strip().lower()
                if kind not in KINDS or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
                    raise ErasureError(f"{path}:{line}: not a (kind, HMAC-SHA256 hex) pair: {kind!r}")
                entries.setdefault((kind, digest), row["requested_on"].strip())
        return cls(path=path, entries=entries)

    def __len__(self) -> int:
        return len(self.entries)

    def with_hashes(self, hashes: Iterable[tuple[str, str]], requested_on: str | None = None) -> ErasureList:
        day = requested_on or datetime.now(UTC).date().isoformat()
        entries = dict(self.entries)
        for pair in hashes:
            entries.setdefault(pair, day)
        return ErasureList(path=self.path, entries=entries)

    def write(self) -> None:
        """Write the list atomically (a temporary file renamed over it), sorted, so a crash never truncates it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(f".{self.path.name}.tmp")
        with temporary.open("w", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(FIELDS)
            for (kind, digest), day in sorted(self.entries.items(), key=lambda item: (item[1], item[0])):
                writer.writerow([kind, digest, day])
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(self.path)


def install(connection: duckdb.DuckDBPyConnection, erasures: ErasureList) -> bool:
    """Create the temp tables the match SQL reads; returns False (nothing to match) when the list is empty.

    The key goes in as a bound parameter, never as SQL text. With requests on the list and no key, this fails:
    loading without applying the erasures would bring the people back.
    """
    connection.execute(f"create or replace temp table {ERASURES_TABLE} (kind varchar, key_hash varchar)")
    connection.execute(f"create or replace temp table {KEY_TABLE} (ipad blob, opad blob)")
    if not erasures.entries:
        return False
    try:
        key = hash_key()
    except ErasureError as error:
        raise ErasureError(f"{erasures.path} holds {len(erasures)} erasure request(s) but {error}") from error
    inner, outer = _pads(key)
    connection.execute(f"insert into {KEY_TABLE} values (?, ?)", [inner, outer])
    connection.executemany(f"insert into {ERASURES_TABLE} values (?, ?)", [list(pair) for pair in erasures.entries])
    return True


def uninstall(connection: duckdb.DuckDBPyConnection) -> None:
    for table in (ERASURES_TABLE, KEY_TABLE):
        connection.execute(f"drop table if exists {table}")


def erased_sql(table: SourceTable, active: bool) -> str:
    """SQL: true when a raw row identifies a person on the erasure list (by any of the table's personal keys)."""
    if not active or not table.personal_keys:
        return "false"
    return " or ".join(matches_sql(quote(column), kind) for column, kinds in table.personal_keys for kind in kinds)


def requested_hashes(
    emails: Sequence[str], lead_ids: Sequence[str], contact_ids: Sequence[str]
) -> set[tuple[str, str]]:
    """The (kind, keyed hash) pairs of an erasure request; blank values are ignored, and an empty request fails."""
    key = hash_key()
    requested = {
        (kind, keyed_hash(key, kind, value))
        for kind, values in zip(KINDS, (emails, lead_ids, contact_ids), strict=True)
        for value in values
        if value.strip()
    }
    if not requested:
        raise ErasureError("nothing to forget: give --email, --lead-id or --contact-id")
    return requested


@dataclass(frozen=True)
class RecordedRequest:
    """What recording an erasure request did: entries new to the list, and the raw rows naming the person today."""

    new_entries: int
    raw_rows: Mapping[str, int]


def record_request(
    erasure_list: Path, tables: Sequence[SourceTable], raw_dir: Path, requested: set[tuple[str, str]]
) -> RecordedRequest:
    """Add the requested hashes, and the ids linked to them in the raw files, to the erasure list at `erasure_list`."""
    hashes, matched = linked_identifiers(erasure_list, tables, raw_dir, requested)
    before = ErasureList.read(erasure_list)
    after = before.with_hashes(sorted(hashes))
    after.write()
    return RecordedRequest(new_entries=len(after) - len(before), raw_rows=matched)


def linked_identifiers(
    erasure_list: Path, tables: Sequence[SourceTable], raw_dir: Path, requested: set[tuple[str, str]]
) -> tuple[set[tuple[str, str]], dict[str, int]]:
    """The requested hashes plus the ids linked to them in the raw files, and the raw rows matching, per table.

    Erasing by e-mail must also erase the person's lead and contact ids, or their tasks and meetings (which carry
    only `who_id`) would stay. Every raw table with `personal_keys` is read; a matching row adds the hash of each of
    its single-kind id columns (a lead's id and converted contact, an engagement's lead), until nothing new appears.
    """
    files = _personal_raw_files(tables, raw_dir)
    hashes = set(requested)
    matched: dict[str, int] = {}
    with duckdb.connect() as connection:
        for _ in range(5):
            install(connection, ErasureList(path=erasure_list, entries=dict.fromkeys(hashes, "")))
            found: set[tuple[str, str]] = set()
            for table, path in files:
                match = _match_raw_file(connection, table, path)
                if match is None:
                    continue
                matched[f"{table.source}.{table.name}"], linked = match
                found |= linked
            uninstall(connection)
            if found <= hashes:
                break
            hashes |= found
    return hashes, matched


def _personal_raw_files(tables: Sequence[SourceTable], raw_dir: Path) -> list[tuple[SourceTable, Path]]:
    """The raw file of every table that declares `personal_keys` and has one."""
    files = []
    for table in tables:
        if not table.personal_keys:
            continue
        try:
            files.append((table, table.find_file(raw_dir)))
        except SourceContractError:
            continue
    return files


def _match_raw_file(
    connection: duckdb.DuckDBPyConnection, table: SourceTable, path: Path
) -> tuple[int, set[tuple[str, str]]] | None:
    """The rows of a raw file matching the installed list, and the hashes of the single-kind ids on those rows.

    None when the file has none of the table's personal key columns.
    """
    reader, argument = raw_reader(path)
    present = {row[0] for row in connection.execute(f"describe select * from {reader}", [argument]).fetchall()}
    keys = [(column, kinds) for column, kinds in table.personal_keys if column in present]
    if not keys:
        return None
    condition = erased_sql(dataclasses.replace(table, personal_keys=tuple(keys)), True)
    counted = connection.execute(f"select count(*) from {reader} where {condition}", [argument]).fetchone()
    found: set[tuple[str, str]] = set()
    for column, kinds in keys:
        if len(kinds) != 1 or kinds[0] == "email":
            continue
        rows = connection.execute(
            f"select distinct {hash_sql(quote(column), kinds[0])} from {reader} "
            f"where ({condition}) and nullif(trim(cast({quote(column)} as varchar)), '') is not null",
            [argument],
        ).fetchall()
        found |= {(kinds[0], row[0]) for row in rows}
    return (int(counted[0]) if counted else 0), found
