"""Every KPI model documents its KPIs, and the KPI catalog in docs/ is the one generated from the headers."""

from __future__ import annotations

from pathlib import Path

from pipelines.docs.kpi_catalog import CATALOG_FILE, kpi_catalog, render_readme
from pipelines.spec.models import load_model, load_models
from pipelines.spec.settings import PROJECT_ROOT

MODELS = load_models(PROJECT_ROOT / "models")


def test_every_report_model_lists_its_kpis_with_formula_grain_and_owner() -> None:
    for model in MODELS:
        if not model.name.startswith("rpt_"):
            continue
        kpis = model.header.get("kpis")
        assert kpis, f"{model.path}: a rpt_ model lists its KPIs in the header"
        columns = {column.name for column in model.columns}
        for kpi in kpis:
            assert {"name", "formula", "grain", "owner"} <= set(kpi), f"{model.path}: {kpi.get('name')} is incomplete"
            assert kpi["name"] in columns, f"{model.path}: KPI {kpi['name']} is not an output column"


def test_readme_catalog_is_up_to_date() -> None:
    readme = CATALOG_FILE.read_text()
    assert render_readme(readme, kpi_catalog(MODELS)) == readme, "`make markdown-docs` regenerates the KPI catalog"


def test_a_kpi_without_numerator_or_denominator_omits_the_key() -> None:
    """`numerator: n/a` would print as a value in the catalog; a KPI that has none leaves the key out."""
    placeholders = [
        f"{model.path}: {kpi['name']}.{key}"
        for model in MODELS
        for kpi in model.header.get("kpis") or []
        for key in ("numerator", "denominator")
        if key in kpi and str(kpi[key]).strip().lower() in ("n/a", "na", "none", "-", "")
    ]
    assert placeholders == [], "omit the numerator/denominator key of a KPI that has none"


def test_a_missing_numerator_and_denominator_leave_their_cells_empty(tmp_path: Path) -> None:
    path = tmp_path / "marts" / "sales" / "rpt_deals.sql"
    path.parent.mkdir(parents=True)
    kpis = "kpis:\n  - name: deal_count\n    formula: count of deals\n    grain: month\n    owner: team:sales\n"
    path.write_text(f"/*\nname: rpt_deals\ndescription: d\ngrain: [month]\nowner: team:sales\n{kpis}*/\nselect 1\n")
    catalog = kpi_catalog([load_model(path, tmp_path)])
    assert "| `deal_count` | count of deals |  |  | month |  | team:sales |" in catalog
