"""Read model files: the YAML header, the documented output columns, the upstream tables and the model's checks.

One `.sql` file under `models/` is one model, one DuckDB table and one Dagster asset. Everything Flywheel knows
about a model comes from its file: the header says what it is, the comments on the `final` CTE document the columns,
and sqlglot reads the dependencies from the SQL itself. Nothing here imports Dagster.

Rules that span models live in a check file beside the model, `<model>.checks.sql` (`rpt_x.sql` ->
`rpt_x.checks.sql`), like SQLMesh audits: plain SQL that SQL tools and the contract tests read like any model. It
holds one or more checks, each a `/* */` block at the start of a line with a YAML mapping, followed by one SELECT
that returns the rows breaking the rule (none: the rule holds), ended by `;`. The header has exactly `name` (the
Dagster asset check, `assert_<condition>`, unique in the file), `severity` (`error`: a failure keeps the last good
table and blocks downstream assets; `warn`: a failure is only reported) and `description`:

    /*
    name: assert_totals_match_facts
    severity: error
    description: >-
      The totals add up to the facts.
    */
    select totals.amount, facts.amount
    from ...
    where totals.amount <> facts.amount;

Inside a check, comment with `--`: a block comment at the start of a line begins the next check. The tables a check
reads become dependencies of the model, like the tables its SQL reads. Model headers hold no checks: an
`assertions:` key there is an error that names the check file to move them to.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlglot
import yaml
from sqlglot import exp
from sqlglot.optimizer.scope import traverse_scope

if TYPE_CHECKING:
    from pipelines.spec.partitions import DayRange

DIALECT = "duckdb"

# The layers a model can live in, in build order; the folder under models/ names the layer and the DuckDB schema.
LAYERS: tuple[str, ...] = ("staging", "intermediate", "marts")

# Which schemas each layer may read: staging reads the raw connector schemas only, later layers read earlier ones.
RAW_LAYER = "raw"
DEFINITIONS_SCHEMA = "definitions"
ALLOWED_UPSTREAM_LAYERS: dict[str, tuple[str, ...]] = {
    "staging": (RAW_LAYER,),
    "intermediate": ("staging", "intermediate", DEFINITIONS_SCHEMA),
    "marts": ("staging", "intermediate", "marts", DEFINITIONS_SCHEMA),
}

OWNER_TEAMS: tuple[str, ...] = ("team:marketing", "team:sales", "team:product", "team:success", "team:revops")
REQUIRED_HEADER_KEYS: tuple[str, ...] = ("name", "description", "grain", "owner")

_HEADER = re.compile(r"\A\s*/\*(?P<body>.*?)\*/", re.DOTALL)

# A model's checks live beside it in `<model>.checks.sql`; each check starts with a `/* */` block at a line start.
CHECKS_SUFFIX = ".checks.sql"
_CHECK_HEADER = re.compile(r"^/\*(?P<body>.*?)\*/", re.DOTALL | re.MULTILINE)
CHECK_KEYS: tuple[str, ...] = ("name", "severity", "description")
# Optional: a column of the breaking rows whose values the check's result counts (`count_by: finding_type`), so a
# warning that lists many kinds of rows shows how many of each kind without opening the table.
CHECK_OPTIONAL_KEYS: tuple[str, ...] = ("count_by",)
BLOCKING_SEVERITY = "error"
CHECK_SEVERITIES: tuple[str, ...] = (BLOCKING_SEVERITY, "warn")


class ModelError(ValueError):
    """A model file that cannot be used: the message names the file and what is wrong."""


@dataclass(frozen=True)
class Column:
    """One output column of a model, with the comment that documents it."""

    name: str
    description: str


@dataclass(frozen=True)
class TableRef:
    """A table a model reads, as `schema.table`."""

    schema: str
    name: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.schema, self.name)

    def __str__(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass(frozen=True)
class Assertion:
    """A rule that spans models, from the model's check file: SQL that returns the rows breaking it (none = holds)."""

    name: str
    description: str
    sql: str
    upstream: tuple[TableRef, ...]
    # `error`: a failure rolls the publish back and blocks downstream assets; `warn`: a failure is only reported.
    severity: str = BLOCKING_SEVERITY
    # A column of the breaking rows whose values the result counts (None: only the total).
    count_by: str | None = None
    # For a day-partitioned model: the SQL that checks only the days a partial rebuild wrote, given those days and
    # the lookback (see pipelines/spec/partitions.py). None: `sql` is evaluated as it is.
    sql_for_days: Callable[[DayRange, int], str] | None = field(default=None, compare=False, repr=False)

    @property
    def blocking(self) -> bool:
        """Whether a failure keeps the last good table and stops downstream assets, rather than only reporting."""
        return self.severity == BLOCKING_SEVERITY


@dataclass(frozen=True)
class Model:
    """A parsed model file."""

    path: Path
    layer: str
    name: str
    description: str
    grain: tuple[str, ...]
    owner: str
    sql: str
    columns: tuple[Column, ...]
    upstream: tuple[TableRef, ...]
    header: dict[str, Any] = field(default_factory=dict)
    assertions: tuple[Assertion, ...] = ()

    @property
    def schema(self) -> str:
        """The DuckDB schema the model is built in: the name of its layer."""
        return self.layer

    @property
    def domain(self) -> str:
        """The business domain, from the folder under the layer (`marts/funnel/...` -> `funnel`)."""
        parts = self.path.parent.name
        return parts if parts != self.layer else self.layer

    @property
    def partitioned_by_day(self) -> str | None:
        """The output column holding the day a row belongs to, for a model rebuilt a day range at a time."""
        column = self.header.get("partitioned_by_day")
        return str(column) if column else None

    @property
    def code_version(self) -> str:
        """A digest of the SQL, stable across processes, so Dagster can tell when a model changed."""
        return hashlib.sha256(self.sql.encode()).hexdigest()[:16]

    @property
    def body(self) -> str:
        """The SQL without its header, ready to run."""
        return _HEADER.sub("", self.sql, count=1).strip().rstrip(";")


def parse_header(sql: str, path: Path) -> dict[str, Any]:
    """Read the YAML header from the first `/* */` block of a model file."""
    match = _HEADER.match(sql)
    if match is None:
        raise ModelError(f"{path}: a model must start with a /* */ block holding its YAML header")
    try:
        header = yaml.safe_load(match.group("body"))
    except yaml.YAMLError as error:
        raise ModelError(f"{path}: the header is not valid YAML: {error}") from error
    if not isinstance(header, dict):
        raise ModelError(f"{path}: the header must be a YAML mapping")
    missing = [key for key in REQUIRED_HEADER_KEYS if key not in header]
    if missing:
        raise ModelError(f"{path}: the header misses {', '.join(missing)}")
    return header


def parse_sql(sql: str, path: Path) -> exp.Expr:
    """Parse a model's SQL with sqlglot in the DuckDB dialect."""
    try:
        expression = sqlglot.parse_one(_HEADER.sub("", sql, count=1), dialect=DIALECT)
    except sqlglot.errors.ParseError as error:
        raise ModelError(f"{path}: the SQL does not parse: {error}") from error
    if expression is None:
        raise ModelError(f"{path}: the file holds no SQL statement")
    return expression


def upstream_tables(expression: exp.Expr) -> tuple[TableRef, ...]:
    """The real tables a query reads, found by walking its scopes (CTE names are not tables)."""
    found: set[TableRef] = set()
    for scope in traverse_scope(expression):
        for source in scope.sources.values():
            if isinstance(source, exp.Table):
                found.add(TableRef(schema=source.db, name=source.name))
    return tuple(sorted(found, key=lambda ref: ref.key))


def output_columns(expression: exp.Expr) -> tuple[Column, ...]:
    """The columns of the `final` CTE (or of the outer select) with their trailing comments."""
    select = expression
    for cte in expression.find_all(exp.CTE):
        if cte.alias == "final":
            select = cte.this
    if not isinstance(select, exp.Select):
        return ()
    columns = []
    for projection in select.expressions:
        if isinstance(projection, exp.Star):
            continue
        comment = " ".join(text.strip() for text in (projection.comments or [])).strip()
        columns.append(Column(name=projection.alias_or_name, description=comment))
    return tuple(columns)


def checks_path(model_path: Path) -> Path:
    """The check file of a model: `rpt_x.sql` -> `rpt_x.checks.sql`, beside it."""
    return model_path.with_name(model_path.stem + CHECKS_SUFFIX)


def is_checks_file(path: Path) -> bool:
    """Whether a `.sql` file under `models/` holds checks rather than a model."""
    return path.name.endswith(CHECKS_SUFFIX)


def split_checks(text: str, path: Path) -> list[tuple[dict[str, Any], str]]:
    """The (header, SQL) of each check in a check file's text, in file order; the SQL without its closing `;`."""
    headers = list(_CHECK_HEADER.finditer(text))
    if not headers or text[: headers[0].start()].strip():
        raise ModelError(f"{path}: a check file starts with the /* */ header of its first check")
    checks = []
    for index, match in enumerate(headers):
        end = headers[index + 1].start() if index + 1 < len(headers) else len(text)
        try:
            header = yaml.safe_load(match.group("body"))
        except yaml.YAMLError as error:
            raise ModelError(f"{path}: check header {index + 1} is not valid YAML: {error}") from error
        if not isinstance(header, dict):
            raise ModelError(f"{path}: check header {index + 1} must be a YAML mapping")
        checks.append((header, text[match.end() : end].strip().rstrip(";").strip()))
    return checks


def parse_check(header: dict[str, Any], sql: str, path: Path) -> Assertion:
    """One check of a check file: its header validated, its SQL parsed as a single query."""
    name = str(header.get("name"))
    if not set(CHECK_KEYS) <= set(header) <= set(CHECK_KEYS + CHECK_OPTIONAL_KEYS):
        raise ModelError(
            f"{path}: check {name} needs exactly the keys {', '.join(CHECK_KEYS)} (optionally "
            f"{', '.join(CHECK_OPTIONAL_KEYS)}), has {sorted(header)}"
        )
    if not re.fullmatch(r"assert_[a-z0-9_]+", name):
        raise ModelError(f"{path}: check {name} must be named assert_<condition> in snake_case")
    if header["severity"] not in CHECK_SEVERITIES:
        raise ModelError(f"{path}: check {name}: severity must be one of {', '.join(CHECK_SEVERITIES)}")
    try:
        statements = [statement for statement in sqlglot.parse(sql, dialect=DIALECT) if statement is not None]
    except sqlglot.errors.ParseError as error:
        raise ModelError(f"{path}: check {name}: the SQL does not parse: {error}") from error
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        raise ModelError(f"{path}: check {name} must be one SELECT returning the rows that break it")
    return Assertion(
        name=name,
        description=str(header["description"]).strip(),
        sql=sql,
        upstream=upstream_tables(statements[0]),
        severity=str(header["severity"]),
        count_by=str(header["count_by"]) if "count_by" in header else None,
    )


def load_checks(path: Path) -> tuple[Assertion, ...]:
    """The checks of a check file (none when the model has no check file)."""
    if not path.exists():
        return ()
    checks = [parse_check(header, sql, path) for header, sql in split_checks(path.read_text(), path)]
    names = [check.name for check in checks]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise ModelError(f"{path}: checks named more than once: {', '.join(duplicated)}")
    return tuple(checks)


def load_model(path: Path, models_dir: Path) -> Model:
    """Parse one model file."""
    sql = path.read_text()
    relative = path.relative_to(models_dir)
    layer = relative.parts[0]
    if layer not in LAYERS:
        raise ModelError(f"{path}: models live under one of {', '.join(LAYERS)}/, not {layer}/")
    header = parse_header(sql, path)
    expression = parse_sql(sql, path)
    grain = header["grain"]
    if isinstance(grain, str):
        grain = [grain]
    name = str(header["name"])
    if "assertions" in header:
        raise ModelError(f"{path}: checks live in {checks_path(path).name} beside the model, not under assertions:")
    assertions = load_checks(checks_path(path))
    upstream = set(upstream_tables(expression))
    for assertion in assertions:
        upstream |= {ref for ref in assertion.upstream if ref.key != (layer, name)}
    return Model(
        path=path,
        layer=layer,
        name=name,
        description=str(header["description"]).strip(),
        grain=tuple(str(column) for column in grain),
        owner=str(header["owner"]),
        sql=sql,
        columns=output_columns(expression),
        upstream=tuple(sorted(upstream, key=lambda ref: ref.key)),
        header=header,
        assertions=assertions,
    )


def check_files(models_dir: Path) -> list[Path]:
    """Every check file under the layer folders of `models_dir`, sorted."""
    return [path for layer in LAYERS for path in sorted((models_dir / layer).rglob("*" + CHECKS_SUFFIX))]


def load_models(models_dir: Path, load: Callable[[Path, Path], Model] = load_model) -> list[Model]:
    """Every model under `models_dir`, in a stable order (by layer, then path), each read by `load`.

    A check file whose model does not exist is an error: its checks would otherwise never run.
    """
    paths = [
        path for layer in LAYERS for path in sorted((models_dir / layer).rglob("*.sql")) if not is_checks_file(path)
    ]
    orphans = [
        str(path)
        for path in check_files(models_dir)
        if path.with_name(path.name[: -len(CHECKS_SUFFIX)] + ".sql") not in paths
    ]
    if orphans:
        raise ModelError(f"check files without a model file beside them: {', '.join(orphans)}")
    return [load(path, models_dir) for path in paths]
