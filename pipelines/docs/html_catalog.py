"""The docs catalog: a static HTML site of every model, raw table and definitions table, generated from the files.

`python -m pipelines.docs.html_catalog [--out DIR]` writes `index.html`, `sources.html`, `definitions.html` and one
page per model under `models/`. Everything comes from the model headers and SQL, the source contracts, the
definitions file and its registry (pipelines/spec/definitions_registry.py) and the Great Expectations suites, so the
catalog cannot drift from the code; no warehouse is needed. The pages are plain HTML with inline CSS (no JavaScript,
nothing fetched), readable offline, and the output is deterministic: the same files give the same bytes.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.spec.definitions_registry import Definition, definitions_in, validation
from pipelines.spec.lineage import Schema, column_lineage
from pipelines.spec.models import DEFINITIONS_SCHEMA, LAYERS, Model, load_models
from pipelines.spec.settings import PROJECT_ROOT, Settings
from pipelines.spec.sources import SourceTable, load_sources
from pipelines.warehouse.accounting import ACCOUNTING_CHECK, with_row_accounting
from pipelines.warehouse.shared_definitions import TABLE_DOCS, load_definitions
from pipelines.warehouse.suites import Suite, load_suites

DEFAULT_OUT = PROJECT_ROOT / "docs" / "catalog"
MODEL_PAGES = "models"
GRAIN_UNIQUE = "grain_is_unique"  # the check names pipelines/orchestration/assets.py gives the grain checks
GRAIN_NOT_NULL = "grain_is_not_null"
KPI_FIELDS = ("formula", "numerator", "denominator", "grain", "filters", "owner")

Ref = tuple[str, str]  # (schema, table)
ColumnRef = tuple[str, str, str]  # (schema, table, column)

CSS = """
:root { --ink: #1f2933; --muted: #616e7c; --line: #d9e2ec; --soft: #f5f7fa; --link: #1f5fbf; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; color: var(--ink);
  background: #fff; }
header.top { background: #102a43; color: #fff; padding: 10px 24px; }
header.top a { color: #fff; text-decoration: none; margin-right: 18px; font-weight: 600; }
header.top .brand { font-size: 17px; margin-right: 28px; }
main { max-width: 1180px; margin: 0 auto; padding: 18px 24px 60px; }
h1 { font-size: 26px; margin: 10px 0 4px; word-break: break-word; }
h2 { font-size: 19px; margin: 30px 0 8px; padding-bottom: 4px; border-bottom: 2px solid var(--line); }
h3 { font-size: 16px; margin: 22px 0 6px; }
h1 code, h2 code { font-size: inherit; background: none; padding: 0; }
a { color: var(--link); }
p.lead { font-size: 15.5px; max-width: 95ch; }
.muted { color: var(--muted); }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; }
code { background: var(--soft); padding: 1px 4px; border-radius: 3px; }
pre { background: var(--soft); border: 1px solid var(--line); padding: 10px; overflow-x: auto; white-space: pre-wrap;
  margin: 6px 0; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; }
th, td { border: 1px solid var(--line); padding: 5px 8px; text-align: left; vertical-align: top; }
th { background: var(--soft); font-weight: 600; white-space: nowrap; }
table.facts { width: auto; min-width: 60%; }
table.facts th { width: 150px; }
table.values { width: auto; min-width: 40%; }
table.index td:last-child { width: 48%; }
table.columns td:first-child { white-space: nowrap; }
table.columns td:nth-child(2) { width: 34%; }
td.name { white-space: nowrap; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600;
  margin-right: 4px; background: #e4e7eb; color: #323f4b; white-space: nowrap; }
.layer-raw { background: #fce8d8; color: #8a3c00; }
.layer-definitions { background: #efe3fb; color: #5b2a86; }
.layer-staging { background: #dcecfb; color: #0b4f8a; }
.layer-intermediate { background: #ddf3e4; color: #1d6b3a; }
.layer-marts { background: #fff3c4; color: #7a5b00; }
.blocking { background: #fde2e2; color: #9b1c1c; }
.warn { background: #fff3c4; color: #7a5b00; }
.grain { background: #102a43; color: #fff; }
ul.refs { margin: 4px 0; padding-left: 20px; }
ul.refs li { margin: 1px 0; }
ul.cols { columns: 2; column-gap: 28px; }
.lineage { font-size: 12.5px; line-height: 1.45; }
.lineage .label { color: var(--muted); font-size: 11.5px; text-transform: uppercase; letter-spacing: .04em; }
.lineage a { margin-left: 10px; }
.ref { white-space: nowrap; }
details summary { cursor: pointer; color: var(--link); font-size: 13px; }
nav.toc { background: var(--soft); border: 1px solid var(--line); padding: 8px 12px; margin: 12px 0; font-size: 14px; }
nav.toc a { margin-right: 10px; white-space: nowrap; display: inline-block; }
footer { color: var(--muted); font-size: 12.5px; margin-top: 40px; border-top: 1px solid var(--line);
  padding-top: 8px; }
""".strip()


def esc(value: object) -> str:
    """Text made safe for HTML content and attribute values."""
    return html.escape("" if value is None else str(value), quote=True)


# --- The facts the pages show -----------------------------------------------------------------------------------------


@dataclass
class Catalog:
    """Everything the pages need, read from the project files."""

    models: list[Model]
    sources: list[SourceTable]
    suites: list[Suite]
    definition_tables: dict[str, list[dict[str, Any]]]  # table -> rows (as loaded into the warehouse)
    definition_columns: dict[str, list[tuple[str, str]]]  # table -> [(column, type)]
    project_root: Path
    lineage: dict[Ref, dict[str, list[ColumnRef]]] = field(default_factory=dict)
    lineage_errors: dict[Ref, str] = field(default_factory=dict)

    @property
    def model_keys(self) -> set[Ref]:
        return {(model.schema, model.name) for model in self.models}

    @property
    def source_keys(self) -> set[Ref]:
        return {table.key for table in self.sources}

    def downstream(self, key: Ref) -> list[Model]:
        """Models reading `key` (in their SQL or their assertions), sorted."""
        found = [model for model in self.models if any(ref.key == key for ref in model.upstream)]
        return sorted(found, key=lambda model: (LAYERS.index(model.layer), model.name))

    def suites_for(self, model: Model) -> list[Suite]:
        return [suite for suite in self.suites if suite.model == f"{model.schema}.{model.name}"]


def _dtype(value: object) -> str:
    text = str(value).lower()
    if "bool" in text:
        return "boolean"
    if "int" in text:
        return "bigint"
    if "float" in text:
        return "double"
    return "varchar"


def load_catalog(
    models_dir: Path,
    sources_file: Path,
    definitions_file: Path,
    expectations_dir: Path,
) -> Catalog:
    """Read every file the catalog is generated from, and work out the column lineage of every model."""
    sources = load_sources(sources_file)
    models = [with_row_accounting(model, sources) for model in load_models(models_dir)]
    frames = load_definitions(definitions_file).tables()
    definition_tables = {
        table: [
            {column: (None if _is_missing(value) else value) for column, value in row.items()}
            for row in frame.to_dict(orient="records")
        ]
        for table, frame in frames.items()
    }
    definition_columns = {
        table: [(str(column), _dtype(dtype)) for column, dtype in frame.dtypes.items()]
        for table, frame in frames.items()
    }
    catalog = Catalog(
        models=models,
        sources=sources,
        suites=load_suites(expectations_dir),
        definition_tables=definition_tables,
        definition_columns=definition_columns,
        project_root=models_dir.parent,
    )
    _compute_lineage(catalog)
    return catalog


def _is_missing(value: object) -> bool:
    try:
        return bool(value != value) or value is None or str(value) == "<NA>"  # NaN, pd.NA
    except (TypeError, ValueError):
        return str(value) == "<NA>"


def _upstream_schemas(catalog: Catalog, model: Model) -> Schema:
    """The upstream columns sqlglot needs, as `pipelines/orchestration/assets.py` passes them, but read from the files.

    Models: their documented output columns; raw tables: their contract columns; definitions: the loaded tables.
    """
    models = {(other.schema, other.name): other for other in catalog.models}
    sources = {table.key: table for table in catalog.sources}
    schemas: Schema = {}
    for ref in model.upstream:
        columns: dict[str, str] = {}
        if ref.key in models:
            columns = {column.name: "varchar" for column in models[ref.key].columns}
        elif ref.key in sources:
            columns = {column.name: column.type for column in sources[ref.key].columns}
        elif ref.schema == DEFINITIONS_SCHEMA and ref.name in catalog.definition_columns:
            columns = dict(catalog.definition_columns[ref.name])
        schemas.setdefault(ref.schema, {})[ref.name] = columns
    return schemas


def _compute_lineage(catalog: Catalog) -> None:
    for model in catalog.models:
        key = (model.schema, model.name)
        try:
            catalog.lineage[key] = column_lineage(
                model.body, [column.name for column in model.columns], _upstream_schemas(catalog, model)
            )
        except Exception as error:  # sqlglot raises many kinds; the page says lineage is unavailable and why
            catalog.lineage_errors[key] = f"{type(error).__name__}: {error}".splitlines()[0][:300]


def origins(catalog: Catalog, column: ColumnRef, _seen: frozenset[ColumnRef] = frozenset()) -> list[ColumnRef]:
    """The raw connector and definitions columns an output column is ultimately computed from, sorted."""
    schema, table, name = column
    direct = catalog.lineage.get((schema, table), {}).get(name)
    if (schema, table) not in catalog.model_keys or direct is None:
        return [column]  # a raw or definitions column, or a model column whose lineage is unknown
    found: set[ColumnRef] = set()
    for dep in direct:
        if dep in _seen:
            continue
        found.update(origins(catalog, dep, _seen | {column}))
    return sorted(found)


# --- HTML helpers ----------------------------------------------------------------------------------------------------


def _page(title: str, body: str, depth: int) -> str:
    up = "../" * depth
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)} · Flywheel docs catalog</title>\n<style>\n{CSS}\n</style>\n</head>\n<body>\n"
        '<header class="top">'
        f'<a class="brand" href="{up}index.html">Flywheel docs catalog</a>\n'
        f'<a href="{up}index.html#marts">Marts</a>\n'
        f'<a href="{up}index.html#intermediate">Intermediate</a>\n'
        f'<a href="{up}index.html#staging">Staging</a>\n'
        f'<a href="{up}sources.html">Raw sources</a>\n'
        f'<a href="{up}definitions.html">Definitions</a>'
        "</header>\n<main>\n"
        f"{body}\n"
        "<footer>Generated by <code>python -m pipelines.docs.html_catalog</code> from the model headers and SQL, "
        "<code>models/sources.yml</code>, <code>definitions.yml</code> and <code>expectations/</code>. "
        "Do not edit: regenerate.</footer>\n"
        "</main>\n</body>\n</html>\n"
    )


def _badge(text: str, css: str = "") -> str:
    return f'<span class="badge {esc(css)}">{esc(text)}</span>'


def _model_file(model: Model) -> str:
    return f"{model.schema}.{model.name}.html"


def _href(catalog: Catalog, key: Ref, depth: int) -> str:
    up = "../" * depth
    schema, table = key
    if key in catalog.model_keys:
        return f"{up}{MODEL_PAGES}/{schema}.{table}.html"
    if schema == DEFINITIONS_SCHEMA:
        return f"{up}definitions.html#{schema}.{table}"
    return f"{up}sources.html#{schema}.{table}"


def _layer_of(catalog: Catalog, key: Ref) -> str:
    if key in catalog.model_keys:
        return key[0]
    if key[0] == DEFINITIONS_SCHEMA:
        return "definitions"
    return "raw"


def _ref_link(catalog: Catalog, key: Ref, depth: int) -> str:
    layer = _layer_of(catalog, key)
    return (
        f'<span class="ref">{_badge(layer, f"layer-{layer}")}'
        f'<a href="{esc(_href(catalog, key, depth))}"><code>{esc(key[0])}.{esc(key[1])}</code></a></span>'
    )


def _column_link(catalog: Catalog, column: ColumnRef, depth: int) -> str:
    schema, table, name = column
    href = _href(catalog, (schema, table), depth)
    if (schema, table) in catalog.model_keys:
        href += f"#column-{name}"
    elif (schema, table) in catalog.source_keys:
        href += f".{name}"  # the raw column's row on the sources page
    return f'<a href="{esc(href)}"><code>{esc(schema)}.{esc(table)}.{esc(name)}</code></a>'


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], css: str = "") -> str:
    """An HTML table; the cells are HTML already (escape before)."""
    head = "".join(f"<th>{esc(header)}</th>" for header in headers)
    body = "\n".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    css_attr = f' class="{esc(css)}"' if css else ""
    return f"<table{css_attr}>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>"


def _facts(rows: Iterable[tuple[str, str]]) -> str:
    """A two-column table of labelled facts (values are HTML already)."""
    body = "\n".join(f"<tr><th>{esc(label)}</th><td>{value}</td></tr>" for label, value in rows)
    return f'<table class="facts">\n<tbody>\n{body}\n</tbody>\n</table>'


def _ref_list(catalog: Catalog, keys: Sequence[Ref], depth: int, empty: str) -> str:
    if not keys:
        return f'<p class="muted">{esc(empty)}</p>'
    css = "refs cols" if len(keys) > 6 else "refs"
    return f'<ul class="{css}">' + "".join(f"<li>{_ref_link(catalog, key, depth)}</li>\n" for key in keys) + "</ul>"


def _first_sentence(text: str, limit: int = 200) -> str:
    sentence = re.split(r"(?<=\.)\s", " ".join(text.split()), maxsplit=1)[0]
    return sentence if len(sentence) <= limit else sentence[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + " …"


def _value(value: object) -> str:
    if value is None:
        return '<span class="muted">NULL</span>'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return esc(int(value))
    return esc(value)


# --- Pages -----------------------------------------------------------------------------------------------------------


def _index(catalog: Catalog) -> str:
    parts = [
        "<h1>Flywheel docs catalog</h1>",
        '<p class="lead">Every model of the warehouse with its grain, owner, columns, lineage and checks, generated '
        "from the model files, so it cannot drift from the code. Marts are what BI reads; intermediates apply the "
        "shared definitions; staging cleans the raw connector tables. Also: the "
        '<a href="sources.html">raw source tables</a> and the <a href="definitions.html">definitions tables</a>.</p>',
        f'<p class="muted">{len(catalog.models)} models, {len(catalog.sources)} raw tables, '
        f"{len(catalog.definition_tables)} definitions tables, {len(catalog.suites)} Great Expectations suites.</p>",
    ]
    for layer in reversed(LAYERS):
        models = sorted((m for m in catalog.models if m.layer == layer), key=lambda m: (m.domain, m.name))
        if not models:
            continue
        parts.append(f'<h2 id="{esc(layer)}">{esc(layer.capitalize())} ({len(models)})</h2>')
        rows = [
            [
                f'<a href="{MODEL_PAGES}/{esc(_model_file(model))}"><code>{esc(model.name)}</code></a>',
                esc(model.domain),
                esc(model.owner),
                ", ".join(f"<code>{esc(column)}</code>" for column in model.grain),
                esc(len(model.header.get("kpis") or []) or ""),
                _md_code(_first_sentence(model.description, 170)),
            ]
            for model in models
        ]
        parts.append(_table(["model", "domain", "owner", "grain", "KPIs", "description"], rows, css="index"))
    return _page("Index", "\n".join(parts), depth=0)


def _checks(catalog: Catalog, model: Model) -> list[tuple[str, str, str, str, str]]:
    """(name, kind, severity, description, details HTML) of every check the model's asset runs."""
    grain = ", ".join(model.grain)
    checks = [
        (GRAIN_UNIQUE, "grain", "blocking", f"No two rows share the grain ({grain}).", ""),
        (GRAIN_NOT_NULL, "grain", "blocking", f"No grain column ({grain}) is null.", ""),
    ]
    for assertion in model.assertions:
        kind = "row accounting" if assertion.name == ACCOUNTING_CHECK else "header assertion"
        details = (
            f"<details><summary>SQL returning the offending rows</summary><pre>{esc(assertion.sql)}</pre></details>"
        )
        checks.append((assertion.name, kind, "blocking", assertion.description, details))
    for suite in catalog.suites_for(model):
        rows = []
        for expectation in suite.expectations:
            kwargs = json.dumps(expectation.get("kwargs", {}), sort_keys=True, ensure_ascii=False)
            rows.append(
                [
                    f"<code>{esc(expectation.get('type'))}</code>",
                    esc(expectation.get("description")),
                    f'<span class="mono">{esc(kwargs)}</span>',
                ]
            )
        relative = _relative(catalog, suite.path)
        details = (
            f"<details><summary>{len(suite.expectations)} expectations "
            f"(<code>{esc(relative)}</code>)</summary>{_table(['expectation', 'checks', 'kwargs'], rows)}</details>"
        )
        severity = "blocking" if suite.blocking else "warn"
        checks.append((suite.name, "Great Expectations suite", severity, suite.description, details))
    return checks


def _relative(catalog: Catalog, path: Path) -> str:
    try:
        return path.resolve().relative_to(catalog.project_root.resolve()).as_posix()
    except ValueError:
        return path.name


def _lineage_cell(catalog: Catalog, model: Model, column: str) -> str:
    key = (model.schema, model.name)
    if key in catalog.lineage_errors:
        return '<span class="muted">unknown</span>'
    direct = catalog.lineage.get(key, {}).get(column, [])
    if not direct:
        return '<span class="muted">computed (no upstream column)</span>'
    roots = origins(catalog, (model.schema, model.name, column))
    parts = ['<span class="label">from</span>', *(_column_link(catalog, dep, 1) for dep in direct)]
    if roots != direct:
        parts += ['<span class="label">origin</span>', *(_column_link(catalog, root, 1) for root in roots)]
    return '<div class="lineage">' + "<br>\n".join(parts) + "</div>"


def _model_link(catalog: Catalog, name: str, depth: int) -> str:
    schema, _, table = name.partition(".")
    return f'<a href="{esc(_href(catalog, (schema, table), depth))}"><code>{esc(name)}</code></a>'


def _ancestors(catalog: Catalog, model: Model) -> list[Model]:
    """Every model the model reads, directly or through other models, sorted."""
    by_key = {(other.schema, other.name): other for other in catalog.models}
    found: dict[Ref, Model] = {}
    stack = [ref.key for ref in model.upstream]
    while stack:
        key = stack.pop()
        if key in found or key not in by_key or key == (model.schema, model.name):
            continue
        found[key] = by_key[key]
        stack.extend(ref.key for ref in by_key[key].upstream)
    return sorted(found.values(), key=lambda other: (LAYERS.index(other.layer), other.name))


def _definitions_used(catalog: Catalog, model: Model) -> str:
    key = (model.schema, model.name)
    tables = sorted(ref.name for ref in model.upstream if ref.schema == DEFINITIONS_SCHEMA)
    parts = []
    if tables:
        read_columns: dict[str, set[str]] = {}
        for deps in catalog.lineage.get(key, {}).values():
            for schema, table, column in deps:
                if schema == DEFINITIONS_SCHEMA:
                    read_columns.setdefault(table, set()).add(column)
        rows = []
        for table in tables:
            columns = sorted(read_columns.get(table, set()))
            keys = _definition_rows(table)
            rows.append(
                [
                    _ref_link(catalog, (DEFINITIONS_SCHEMA, table), 1),
                    esc(TABLE_DOCS.get(table, "")),
                    ", ".join(f"<code>{esc(column)}</code>" for column in columns)
                    or '<span class="muted">in joins or filters only</span>',
                    "<br>".join(f"{_md_code(cell)}: {esc(meaning)}" for cell, meaning in keys),
                ]
            )
        parts.append("<h3>Directly</h3>")
        parts.append(_table(["table", "what it holds", "columns feeding outputs", "definitions"], rows))
    else:
        parts.append('<p class="muted">This model reads no <code>definitions.*</code> table directly.</p>')
    via: dict[str, list[str]] = {}
    for ancestor in _ancestors(catalog, model):
        for ref in ancestor.upstream:
            if ref.schema == DEFINITIONS_SCHEMA and ref.name not in tables:
                via.setdefault(ref.name, []).append(f"{ancestor.schema}.{ancestor.name}")
    if via:
        parts.append("<h3>Through the models it reads</h3>")
        rows = [
            [
                _ref_link(catalog, (DEFINITIONS_SCHEMA, table), 1),
                esc(TABLE_DOCS.get(table, "")),
                ", ".join(_model_link(catalog, name, 1) for name in names),
            ]
            for table, names in sorted(via.items())
        ]
        parts.append(_table(["table", "what it holds", "applied in"], rows))
    return "\n".join(parts)


def _md_code(cell: str) -> str:
    """Text as HTML, escaped, with Markdown `code` spans (in descriptions and definition names) as <code>."""
    return re.sub(r"`([^`]+)`", lambda match: f"<code>{match.group(1)}</code>", esc(cell))


def _definition_rows(table: str) -> list[tuple[str, str]]:
    """The definitions a table is loaded from, as (name in a code span, meaning) from the registry."""
    return [(f"`{item.name}`", item.meaning) for item in definitions_in(table)]


def _model_page(catalog: Catalog, model: Model) -> str:
    key = (model.schema, model.name)
    header = model.header
    kpis = header.get("kpis") or []
    parts = [
        f"<h1><code>{esc(model.schema)}.{esc(model.name)}</code></h1>",
        f"<p>{_badge(model.layer, f'layer-{model.layer}')}{_badge(model.domain)}{_badge(model.owner)}</p>",
        f'<p class="lead">{_md_code(model.description)}</p>',
        '<nav class="toc">'
        + "".join(
            f'<a href="#{anchor}">{esc(label)}</a>\n'
            for anchor, label in (
                ("kpis", "KPIs"),
                ("columns", "Columns & lineage"),
                ("dependencies", "Upstream & downstream"),
                ("checks", "Checks"),
                ("definitions", "Definitions"),
                ("sql", "SQL"),
            )
            if anchor != "kpis" or kpis
        )
        + "</nav>",
        _facts(
            [
                ("Grain", "one row per " + ", ".join(f"<code>{esc(column)}</code>" for column in model.grain)),
                ("Owner", esc(model.owner)),
                ("Layer / schema", f"{esc(model.layer)} (DuckDB schema <code>{esc(model.schema)}</code>)"),
                ("Dagster asset", f"<code>{esc(model.schema)}/{esc(model.name)}</code> in group {esc(model.layer)}"),
                ("File", f"<code>{esc(_relative(catalog, model.path))}</code>"),
                ("Code version", f"<code>{esc(model.code_version)}</code>"),
            ]
        ),
    ]
    if kpis:
        parts.append('<h2 id="kpis">KPIs</h2>')
        entries = [kpi for kpi in kpis if isinstance(kpi, Mapping)]
        fields = [name for name in KPI_FIELDS if any(kpi.get(name) not in (None, "") for kpi in entries)]
        rows = [
            [f'<code id="kpi-{esc(kpi.get("name"))}">{esc(kpi.get("name"))}</code>']
            + [esc(kpi.get(name, "")) for name in fields]
            for kpi in entries
        ]
        parts.append(_table(["KPI", *(name.capitalize() for name in fields)], rows))

    parts.append('<h2 id="columns">Columns &amp; lineage</h2>')
    if key in catalog.lineage_errors:
        parts.append(f'<p class="muted">Column lineage unavailable: {esc(catalog.lineage_errors[key])}</p>')
    else:
        parts.append(
            '<p class="muted">"from": the upstream columns the column is computed from; "origin": the raw connector '
            "and definitions columns behind them, followed through every model.</p>"
        )
    grain = set(model.grain)
    rows = [
        [
            f'<code id="column-{esc(column.name)}">{esc(column.name)}</code>'
            + (f" {_badge('grain', 'grain')}" if column.name in grain else ""),
            _md_code(column.description) or '<span class="muted">undocumented</span>',
            _lineage_cell(catalog, model, column.name),
        ]
        for column in model.columns
    ]
    parts.append(_table(["column", "description", "lineage"], rows, css="columns"))

    parts.append('<h2 id="dependencies">Upstream &amp; downstream</h2>')
    parts.append("<h3>Reads (upstream)</h3>")
    upstream = sorted(model.upstream, key=lambda ref: (_layer_order(catalog, ref.key), ref.key))
    parts.append(_ref_list(catalog, [ref.key for ref in upstream], 1, "Nothing."))
    parts.append('<h3 id="downstream">Read by (downstream)</h3>')
    downstream = [(other.schema, other.name) for other in catalog.downstream(key)]
    parts.append(_ref_list(catalog, downstream, 1, "No model reads it (yet)."))

    parts.append('<h2 id="checks">Checks</h2>')
    parts.append(
        '<p class="muted">Dagster asset checks run on every build; a blocking one keeps the last good table in '
        "place and stops everything downstream.</p>"
    )
    parts.append(
        _table(
            ["check", "kind", "severity", "what it guarantees"],
            [
                [
                    f'<code id="check-{esc(name)}">{esc(name)}</code>',
                    esc(kind),
                    _badge(severity, "blocking" if severity == "blocking" else "warn"),
                    esc(description) + details,
                ]
                for name, kind, severity, description, details in _checks(catalog, model)
            ],
        )
    )
    parts.append('<h2 id="definitions">Definitions it reads</h2>')
    parts.append(_definitions_used(catalog, model))
    parts.append('<h2 id="sql">SQL</h2>')
    parts.append(f"<details><summary>Show the model SQL</summary><pre>{esc(model.body)}</pre></details>")
    return _page(f"{model.schema}.{model.name}", "\n".join(parts), depth=1)


def _layer_order(catalog: Catalog, key: Ref) -> int:
    return ("raw", "definitions", *LAYERS).index(_layer_of(catalog, key))


def _sources_page(catalog: Catalog) -> str:
    tables = sorted(catalog.sources, key=lambda table: table.key)
    parts = [
        "<h1>Raw source tables</h1>",
        '<p class="lead">The connector tables as landed, from the contracts in <code>models/sources.yml</code>. A raw '
        "row that breaks a quarantine rule (first match wins) is kept out of staging and written to "
        "<code>quarantine.rejected_rows</code> with the rule; every raw row is staged, quarantined, an older duplicate "
        "version or soft-deleted, and the staging model's <code>assert_every_raw_row_is_accounted_for</code> check "
        "proves it.</p>",
        '<nav class="toc">'
        + "".join(f'<a href="#{esc(t.source)}.{esc(t.name)}">{esc(t.source)}.{esc(t.name)}</a>\n' for t in tables)
        + "</nav>",
    ]
    for table in tables:
        parts.append(
            f'<h2 id="{esc(table.source)}.{esc(table.name)}"><code>{esc(table.source)}.{esc(table.name)}</code></h2>'
        )
        parts.append(f"<p>{_badge('raw', 'layer-raw')}{_badge(table.owner)}</p>")
        parts.append(f"<p>{esc(table.description)}</p>")
        readers = catalog.downstream(table.key)
        facts = [
            ("Primary key", ", ".join(f"<code>{esc(column)}</code>" for column in table.primary_key)),
            ("Latest version by", ", ".join(f"<code>{esc(column)}</code>" for column in table.version_order)),
            (
                "Soft-delete flags",
                ", ".join(f"<code>{esc(column)}</code>" for column in table.soft_delete_columns) or "none",
            ),
            ("Read by", ", ".join(_ref_link(catalog, (m.schema, m.name), 0) for m in readers) or "no model"),
        ]
        parts.append(_facts(facts))
        parts.append("<h3>Columns</h3>")
        parts.append(
            _table(
                ["column", "type", "required", "description"],
                [
                    [
                        f'<code id="{esc(table.source)}.{esc(table.name)}.{esc(column.name)}">'
                        f"{esc(column.name)}</code>",
                        f"<code>{esc(column.type)}</code>",
                        "required" if column.required else "",
                        esc(column.description),
                    ]
                    for column in table.columns
                ],
            )
        )
        parts.append("<h3>Quarantine rules</h3>")
        parts.append(
            _table(
                ["rule", "a row is quarantined when", "condition"],
                [
                    [
                        f"<code>{esc(rule.name)}</code>",
                        esc(rule.description),
                        f'<span class="mono">{esc(rule.when)}</span>',
                    ]
                    for rule in table.quarantine_rules
                ],
            )
        )
    return _page("Raw source tables", "\n".join(parts), depth=0)


def _definitions_page(catalog: Catalog) -> str:
    tables = list(TABLE_DOCS)
    tables += sorted(table for table in catalog.definition_tables if table not in TABLE_DOCS)
    parts = [
        "<h1>Definitions tables</h1>",
        '<p class="lead">The shared business definitions, loaded from <code>definitions.yml</code> into the '
        "<code>definitions</code> schema. Models read these tables instead of typing thresholds, stages or channel "
        "names into SQL; the values below are the ones in force in this checkout.</p>",
        '<nav class="toc">' + "".join(f'<a href="#definitions.{esc(t)}">{esc(t)}</a>\n' for t in tables) + "</nav>",
    ]
    for table in tables:
        rows = catalog.definition_tables.get(table, [])
        columns = [name for name, _ in catalog.definition_columns.get(table, [])]
        parts.append(f'<h2 id="definitions.{esc(table)}"><code>definitions.{esc(table)}</code></h2>')
        parts.append(f"<p>{_badge('definitions', 'layer-definitions')}{_badge('team:revops')}</p>")
        parts.append(f"<p>{esc(TABLE_DOCS.get(table, ''))}</p>")
        if definitions_in(table):
            parts.append(_registry_table(definitions_in(table)))
        readers = catalog.downstream((DEFINITIONS_SCHEMA, table))
        parts.append("<h3>Read by</h3>")
        parts.append(_ref_list(catalog, [(m.schema, m.name) for m in readers], 0, "No model reads it."))
        parts.append(f"<h3>Values in force ({len(rows)} row{'s' if len(rows) != 1 else ''})</h3>")
        if len(rows) == 1 and len(columns) > 3:
            values = [[f"<code>{esc(c)}</code>", _value(rows[0][c])] for c in columns]
            parts.append(_table(["column", "value"], values, css="values"))
        else:
            parts.append(_table(columns, [[_value(row.get(c)) for c in columns] for row in rows], css="values"))
    parts.append('<h2 id="definitions.none">Definitions no model reads</h2>')
    parts.append("<p>Read by the raw load, the publish step or the source-contract suites.</p>")
    parts.append(_registry_table(definitions_in(None)))
    return _page("Definitions tables", "\n".join(parts), depth=0)


def _registry_table(items: Sequence[Definition]) -> str:
    """The registry's entries: the name SQL, suites and docs use, the key of definitions.yml, its validation."""
    rows = [
        [
            f'<code id="definition-{esc(item.name)}">{esc(item.name)}</code>',
            f"<code>{esc(item.path)}</code>",
            ", ".join(f"<code>{esc(column)}</code>" for column in item.columns),
            esc(validation(item.path)),
            esc(item.meaning),
        ]
        for item in items
    ]
    return _table(["definition", "definitions.yml", "columns", "validated by", "meaning"], rows)


# --- Writing ---------------------------------------------------------------------------------------------------------


def render(catalog: Catalog) -> dict[str, str]:
    """Every page of the catalog: relative path -> HTML."""
    pages = {
        "index.html": _index(catalog),
        "sources.html": _sources_page(catalog),
        "definitions.html": _definitions_page(catalog),
    }
    for model in catalog.models:
        pages[f"{MODEL_PAGES}/{_model_file(model)}"] = _model_page(catalog, model)
    return dict(sorted(pages.items()))


def write_catalog(out_dir: Path, pages: Mapping[str, str]) -> list[Path]:
    """Write the pages, removing model pages of models that no longer exist."""
    (out_dir / MODEL_PAGES).mkdir(parents=True, exist_ok=True)
    for stale in sorted((out_dir / MODEL_PAGES).glob("*.html")):
        if f"{MODEL_PAGES}/{stale.name}" not in pages:
            stale.unlink()
    written = []
    for relative, text in pages.items():
        path = out_dir / relative
        path.write_bytes(text.encode("utf-8"))
        written.append(path)
    return written


def generate(
    out_dir: Path,
    models_dir: Path,
    sources_file: Path,
    definitions_file: Path,
    expectations_dir: Path,
) -> list[Path]:
    """Read the project files and write the catalog into `out_dir`; returns the files written."""
    catalog = load_catalog(models_dir, sources_file, definitions_file, expectations_dir)
    return write_catalog(out_dir, render(catalog))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate the static HTML docs catalog of every model.")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default: docs/catalog)")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    written = generate(
        args.out,
        settings.models_dir,
        settings.sources_file,
        settings.definitions_file,
        settings.expectations_dir,
    )
    print(f"docs catalog: {len(written)} pages written to {args.out} (open {args.out / 'index.html'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
