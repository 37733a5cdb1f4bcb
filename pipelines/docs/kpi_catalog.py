"""The KPI catalog (docs/kpi_catalog.md), generated from the `kpis` lists in the model headers so it cannot drift.

`python -m pipelines.docs.kpi_catalog` rewrites the block between the markers in docs/kpi_catalog.md; a test fails
when that
file is out of date.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pipelines.docs.templating import replace_generated_block
from pipelines.spec.models import Model, load_models
from pipelines.spec.settings import PROJECT_ROOT

# The KPI catalog lives in docs/, linked from the README.
CATALOG_FILE = PROJECT_ROOT / "docs" / "kpi_catalog.md"
START = "<!-- kpi-catalog:start (generated from model headers by `make markdown-docs`; do not edit) -->"
END = "<!-- kpi-catalog:end -->"
FIELDS = ("formula", "numerator", "denominator", "grain", "filters", "owner")


def _cell(value: object) -> str:
    return " ".join(str(value).split()).replace("|", "\\|") if value is not None else ""


def kpi_catalog(models: list[Model]) -> str:
    """A Markdown table per KPI model: each KPI with its formula, numerator, denominator, grain and owner."""
    sections = []
    for model in models:
        kpis = model.header.get("kpis") or []
        if not kpis:
            continue
        rows = [
            f"### `{model.schema}.{model.name}`",
            "",
            _cell(model.description),
            "",
            "| KPI | " + " | ".join(field.capitalize() for field in FIELDS) + " |",
            "|---" * (len(FIELDS) + 1) + "|",
        ]
        for kpi in kpis:
            cells = [f"`{kpi['name']}`", *(_cell(kpi.get(field)) for field in FIELDS)]
            rows.append("| " + " | ".join(cells) + " |")
        sections.append("\n".join(rows))
    return "\n\n".join(sections)


def render_readme(readme: str, catalog: str) -> str:
    """The KPI catalog document with its catalog block replaced."""
    return replace_generated_block(readme, catalog, START, END, CATALOG_FILE.name)


def main() -> int:
    readme_path = CATALOG_FILE
    catalog = kpi_catalog(load_models(PROJECT_ROOT / "models"))
    readme_path.write_text(render_readme(readme_path.read_text(), catalog))
    print(f"KPI catalog written to {Path(readme_path).name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
