"""The docs catalog: a static HTML site of every model, raw table and definitions table, generated from the files.

`python -m pipelines.docs.html_catalog [--out DIR]` writes `index.html`, `sources.html`, `definitions.html`,
`lineage.html` (the interactive column-lineage graph) and one page per model under `models/`, with the scripts they
share: `catalog.js` (the search box on every page and the graph), `search-index.js` and `lineage-data.js` (their
data). Everything comes from the model headers and SQL, the source contracts, the definitions file, the Great
Expectations suites and docs/definitions.md, so the catalog cannot drift from the code; no warehouse is needed.
The pages are plain HTML with inline CSS and one small hand-written script (nothing fetched, no library), readable
offline and without the script, and the output is deterministic: the same files give the same bytes.

This module reads the files into a `Catalog` (catalog_facts.py) and writes the pages; catalog_pages.py gathers what
each page shows, and the Jinja2 templates in templates/catalog/ hold the markup.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path

from pipelines.docs import catalog_pages
from pipelines.docs.catalog_facts import Catalog, compute_lineage
from pipelines.docs.catalog_graph import GRAPH_DATA_FILE, GRAPH_DATA_VARIABLE, GRAPH_PAGE, lineage_graph, script
from pipelines.docs.catalog_pages import MODEL_PAGES
from pipelines.docs.catalog_search import SEARCH_INDEX_FILE, SEARCH_INDEX_VARIABLE, search_index
from pipelines.docs.templating import render as render_template
from pipelines.spec.definitions_registry import definitions_in
from pipelines.spec.models import load_models
from pipelines.spec.settings import PROJECT_ROOT, Settings
from pipelines.spec.sources import load_sources
from pipelines.warehouse.accounting import with_row_accounting
from pipelines.warehouse.shared_definitions import load_definitions
from pipelines.warehouse.suites import load_suites

DEFAULT_OUT = PROJECT_ROOT / "docs" / "catalog"
SCRIPT_FILE = "catalog.js"  # the search box and the lineage graph, shipped as written (templates/catalog/catalog.js)


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
    compute_lineage(catalog)
    return catalog


def _is_missing(value: object) -> bool:
    try:
        return bool(value != value) or value is None or str(value) == "<NA>"  # NaN, pd.NA
    except (TypeError, ValueError):
        return str(value) == "<NA>"


def _definition_rows(table: str) -> list[tuple[str, str]]:
    """The definitions a table is loaded from, as (name in a code span, meaning), from the registry."""
    return [(f"`{item.name}`", item.meaning) for item in definitions_in(table)]


# --- Writing ---------------------------------------------------------------------------------------------------------


def render(catalog: Catalog) -> dict[str, str]:
    """Every file of the catalog: relative path -> HTML, or the scripts and data the pages load."""
    keys = {table: _definition_rows(table) for table in catalog_pages.definition_tables(catalog)}
    pages = {
        "index.html": render_template("catalog/index.html", **catalog_pages.index_page(catalog)),
        "sources.html": render_template("catalog/sources.html", **catalog_pages.sources_page(catalog)),
        "definitions.html": render_template(
            "catalog/definitions.html", **catalog_pages.definitions_page(catalog, keys)
        ),
        GRAPH_PAGE: render_template("catalog/lineage.html"),
        GRAPH_DATA_FILE: script(GRAPH_DATA_VARIABLE, lineage_graph(catalog)),
        SEARCH_INDEX_FILE: script(SEARCH_INDEX_VARIABLE, search_index(catalog)),
        SCRIPT_FILE: (resources.files("pipelines.docs") / "templates" / "catalog" / SCRIPT_FILE).read_text("utf-8"),
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
    print(f"docs catalog: {len(written)} files written to {args.out} (open {args.out / 'index.html'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
