"""Every KPI model documents its KPIs, and the KPI catalog in docs/ is the one generated from the headers."""

from __future__ import annotations

from pipelines.docs.kpi_catalog import CATALOG_FILE, kpi_catalog, render_readme
from pipelines.spec.models import load_models
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
    assert render_readme(readme, kpi_catalog(MODELS)) == readme, "run `make docs` to regenerate the KPI catalog"
