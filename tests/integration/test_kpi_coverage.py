"""Every KPI of every mart shows a value other than zero somewhere on the demo seeds.

A KPI that is zero (or null) in every row of the demo is a code path nobody has seen run: a count of recycled leads
that is always 0 may be right, or may never count anything. So the demo data must make every edge the KPIs count;
a KPI that cannot be non-zero on it is listed in ZERO_ON_THE_DEMO with the reason.

A KPI column is a numeric mart column named like a measure (`_count`, `_usd`, `_rate`, `_ratio`, `_months`, `_days`,
`_minutes`), or a KPI named in the `kpis:` list of the model's header.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.cli import RunSummary
from pipelines.spec.models import Model, load_models
from pipelines.spec.settings import Settings

KPI_SUFFIXES = ("_count", "_usd", "_rate", "_ratio", "_months", "_days", "_minutes")
NUMERIC_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "FLOAT", "DOUBLE", "DECIMAL")

# (mart, column) -> why the demo seeds cannot make it non-zero. A column that becomes non-zero must leave the list.
# A cohort cell is a month x channel x segment x owner team; on the demo none holds more than 8 opportunities or 7
# sales-qualified leads, below the 10 leads of `minimum_bases.leads`, so these later-stage rates are always null there
# with the reason "base below minimum" (they are published on larger data, and on the hand-worked tests).
BELOW_MINIMUM_BASE = "no demo cohort cell reaches minimum_bases.leads at this stage (null: base below minimum)"
ZERO_ON_THE_DEMO: dict[tuple[str, str], str] = {
    ("rpt_funnel_cohorts_monthly", "opportunity_to_sales_qualified_rate"): BELOW_MINIMUM_BASE,
    ("rpt_funnel_cohorts_monthly", "sales_qualified_to_won_rate"): BELOW_MINIMUM_BASE,
    ("rpt_billing_monthly", "no_rate_event_count"): "the demo's rate feed covers every currency and month it bills in"
    " (test_billing_monthly.py bills in a currency without a rate)",
}


def _columns(connection: duckdb.DuckDBPyConnection, mart: Model) -> dict[str, str]:
    rows = connection.execute(
        "select column_name, data_type from information_schema.columns where table_schema = ? and table_name = ?",
        [mart.schema, mart.name],
    ).fetchall()
    return {str(name): str(kind) for name, kind in rows}


def kpi_columns(mart: Model, columns: dict[str, str]) -> list[str]:
    """The KPI columns of a mart: numeric columns named like a measure, and the KPIs its header lists."""
    numeric = {name for name, kind in columns.items() if kind.upper().startswith(NUMERIC_TYPES)}
    listed = {str(kpi["name"]) for kpi in mart.header.get("kpis") or []}
    return sorted({name for name in numeric if name.endswith(KPI_SUFFIXES)} | listed)


def zero_kpis(connection: duckdb.DuckDBPyConnection, marts: list[Model]) -> dict[tuple[str, str], str]:
    """(mart, column) -> what is wrong, for every KPI column that is zero or null in every row of its mart (or that
    the header lists but the mart does not have as a number)."""
    found: dict[tuple[str, str], str] = {}
    for mart in marts:
        columns = _columns(connection, mart)
        for name in kpi_columns(mart, columns):
            if name not in columns or not columns[name].upper().startswith(NUMERIC_TYPES):
                found[(mart.name, name)] = f"listed under kpis: but not a numeric column ({columns.get(name)})"
                continue
            non_zero, rows = connection.execute(
                f'select count(*) filter (where "{name}" <> 0), count(*) from {mart.schema}."{mart.name}"'
            ).fetchone() or (0, 0)
            if non_zero == 0:
                found[(mart.name, name)] = f"zero or null in all {rows} rows"
    return found


def _marts(settings: Settings) -> list[Model]:
    return [model for model in load_models(settings.models_dir) if model.layer == "marts"]


def test_every_kpi_of_every_mart_is_non_zero_somewhere_on_the_demo(
    demo_build: tuple[Settings, RunSummary],
) -> None:
    settings, summary = demo_build
    assert summary.succeeded, summary.render()
    with duckdb.connect(str(settings.warehouse), read_only=True) as connection:
        found = zero_kpis(connection, _marts(settings))
    unexplained = {key: problem for key, problem in found.items() if key not in ZERO_ON_THE_DEMO}
    assert not unexplained, (
        "KPI columns the demo seeds never make non-zero: make the generator (flywheel_demo/edge_cases.py, "
        f"add_edge_cases) produce the edge they count, or list them in ZERO_ON_THE_DEMO with the reason: {unexplained}"
    )
    stale = sorted(set(ZERO_ON_THE_DEMO) - set(found))
    assert not stale, f"these KPI columns are non-zero on the demo now: remove them from ZERO_ON_THE_DEMO: {stale}"


def _mart(tmp_path: Path, header: str) -> Model:
    path = tmp_path / "marts" / "sales" / "rpt_deals.sql"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"/*\n{header}*/\nselect 1 as deal_count\n")
    return load_models(tmp_path)[0]


def test_zero_kpis_finds_kpi_columns_zero_or_null_in_every_row(tmp_path: Path) -> None:
    header = "name: rpt_deals\ndescription: d\ngrain: [label]\nowner: team:sales\nkpis:\n  - name: nrr\n"
    mart = _mart(tmp_path, header)
    with duckdb.connect() as connection:
        connection.execute("create schema marts")
        connection.execute(
            "create table marts.rpt_deals (label varchar, deal_count integer, won_usd double, win_rate double, "
            "nrr double, seats integer)"
        )
        connection.execute("insert into marts.rpt_deals values ('a', 0, 0.0, null, 0, 0), ('b', 2, 0.0, 0, null, 0)")
        found = zero_kpis(connection, [mart])
    # seats is neither named like a measure nor listed under kpis:, so it is not a KPI; nrr is listed.
    assert found == {
        ("rpt_deals", "won_usd"): "zero or null in all 2 rows",
        ("rpt_deals", "win_rate"): "zero or null in all 2 rows",
        ("rpt_deals", "nrr"): "zero or null in all 2 rows",
    }


def test_zero_kpis_names_a_listed_kpi_that_is_not_a_numeric_column(tmp_path: Path) -> None:
    header = "name: rpt_deals\ndescription: d\ngrain: [label]\nowner: team:sales\nkpis:\n  - name: label\n"
    mart = _mart(tmp_path, header)
    with duckdb.connect() as connection:
        connection.execute("create schema marts")
        connection.execute("create table marts.rpt_deals as select 1 as deal_count, 'x' as label")
        found = zero_kpis(connection, [mart])
    assert found == {("rpt_deals", "label"): "listed under kpis: but not a numeric column (VARCHAR)"}
