"""The docs catalog: a static HTML site of every model, raw table and definitions table, generated from the files.

`python -m pipelines.docs.html_catalog [--out DIR]` writes `index.html`, `sources.html`, `definitions.html` and one
page per model under `models/`. Everything comes from the model headers and SQL, the source contracts, the
definitions file, the Great Expectations suites and docs/definitions.md, so the catalog cannot drift from the
code; no warehouse is needed. The pages are plain HTML with inline CSS (no JavaScript, nothing fetched),
readable offline, and the output is deterministic: the same files give the same bytes.

This module reads the files into a `Catalog` (catalog_facts.py) and writes the pages; catalog_pages.py gathers what
each page shows, and the Jinja2 templates in templates/catalog/ hold the markup.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from pipelines.docs import catalog_pages
from pipelines.docs.catalog_facts import Catalog, compute_lineage
from pipelines.docs.catalog_pages import MODEL_PAGES
from pipelines.docs.templating import render as render_template
from pipelines.spec.models import load_models
from pipelines.spec.settings import PROJECT_ROOT, Settings
from pipelines.spec.sources import load_sources
from pipelines.warehouse.accounting import with_row_accounting
from pipelines.warehouse.shared_definitions import load_definitions
from pipelines.warehouse.suites import load_suites

DEFAULT_OUT = PROJECT_ROOT / "docs" / "catalog"

# The explanation of every definitions key, a table in docs/definitions.md.
DEFINITIONS_DOC = PROJECT_ROOT / "docs" / "definitions.md"
# Which keys of definitions.yml each definitions table is loaded from, to show their explanation in docs/definitions.md.
TABLE_KEYS: dict[str, tuple[str, ...]] = {
    "definitions_version": ("version",),
    "thresholds": (
        "mql.score_threshold",
        "mql.min_fit_score",
        "lead_scoring.fit_points",
        "lead_scoring.half_life_days",
        "lead_scoring.window_days",
        "icp.min_employees",
        "icp.max_employees",
        "pql.trial_window_days",
        "pql.min_active_users",
        "pql.min_activation_events",
        "speed_to_lead.sla_minutes",
        "funnel.conversion_window_days",
        "pipeline.stage_aging_days",
        "unit_economics.gross_margin",
        "unit_economics.max_lifetime_months",
        "minimum_bases.customers",
        "minimum_bases.mrr_usd",
        "minimum_bases.leads",
    ),
    "channel_mapping": ("channels.lead_sources", "channels.default"),
    "data_horizon": ("data_horizon.earliest", "data_horizon.clock_skew_hours", "data_horizon.max_future_days"),
    "segments": ("segments.bands", "segments.unknown_segment"),
    "sales_sourced_channels": ("sales_sourced_channels",),
    "product_sourced_channels": ("product_sourced_channels",),
    "icp_industries": ("icp.industries",),
    "icp_countries": ("icp.countries",),
    "engagement_points": ("lead_scoring.behaviour_points", "lead_scoring.intent_points"),
    "rejection_reasons": ("rejection_reasons", "unspecified_rejection_reason"),
    "opportunity_stages": ("opportunity_stages", "sales_qualified_stage", "won_stage", "lost_stage"),
    "pql_trial_start_events": ("pql.trial_start_events",),
    "pql_activation_events": ("pql.activation_events",),
    "sales_touch_types": ("speed_to_lead.touch_task_types",),
    "churn_eligibility": ("churn_eligibility",),
    "closed_lost_reasons": ("closed_lost_reasons", "unspecified_closed_lost_reason"),
    "reporting": ("reporting.currency", "reporting.unassigned_label"),
    "mrr_excluded_statuses": ("mrr.excluded_subscription_statuses",),
    "opportunity_types": (
        "opportunity_types.types",
        "opportunity_types.new_business_type",
        "opportunity_types.other_type",
    ),
}


def _dtype(value: object) -> str:
    text = str(value).lower()
    if "bool" in text:
        return "boolean"
    if "int" in text:
        return "bigint"
    if "float" in text:
        return "double"
    return "varchar"


def _readme_keys(readme: Path) -> list[tuple[tuple[str, ...], str, str]]:
    """The rows of the definitions table of docs/definitions.md: the keys each names, the key cell and what it means."""
    if not readme.is_file():
        return []
    rows: list[tuple[tuple[str, ...], str, str]] = []
    in_table = False
    for line in readme.read_text().splitlines():
        if line.strip() == "| key | what it means |":
            in_table = True
            continue
        if in_table:
            if not line.startswith("|"):
                break
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if len(cells) < 2 or set(cells[0]) <= {"-"}:
                continue
            keys = tuple(re.findall(r"`([^`]+)`", cells[0]))
            rows.append((keys, cells[0], " | ".join(cells[1:])))
    return rows


def load_catalog(
    models_dir: Path,
    sources_file: Path,
    definitions_file: Path,
    expectations_dir: Path,
    readme: Path | None = None,
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
        readme_keys=_readme_keys(readme) if readme is not None else [],
        project_root=models_dir.parent,
    )
    compute_lineage(catalog)
    return catalog


def _is_missing(value: object) -> bool:
    try:
        return bool(value != value) or value is None or str(value) == "<NA>"  # NaN, pd.NA
    except (TypeError, ValueError):
        return str(value) == "<NA>"


def _readme_rows(catalog: Catalog, table: str) -> list[tuple[str, str]]:
    keys = set(TABLE_KEYS.get(table, ()))
    return [(cell, meaning) for row_keys, cell, meaning in catalog.readme_keys if keys & set(row_keys)]


# --- Writing ---------------------------------------------------------------------------------------------------------


def render(catalog: Catalog) -> dict[str, str]:
    """Every page of the catalog: relative path -> HTML."""
    keys = {table: _readme_rows(catalog, table) for table in catalog_pages.definition_tables(catalog)}
    pages = {
        "index.html": render_template("catalog/index.html", **catalog_pages.index_page(catalog)),
        "sources.html": render_template("catalog/sources.html", **catalog_pages.sources_page(catalog)),
        "definitions.html": render_template(
            "catalog/definitions.html", **catalog_pages.definitions_page(catalog, keys)
        ),
    }
    for model in catalog.models:
        context = catalog_pages.model_page(catalog, model, keys)
        pages[f"{MODEL_PAGES}/{catalog_pages.model_file(model)}"] = render_template("catalog/model.html", **context)
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
    readme: Path | None = None,
) -> list[Path]:
    """Read the project files and write the catalog into `out_dir`; returns the files written."""
    catalog = load_catalog(models_dir, sources_file, definitions_file, expectations_dir, readme)
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
        DEFINITIONS_DOC,
    )
    print(f"docs catalog: {len(written)} pages written to {args.out} (open {args.out / 'index.html'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
