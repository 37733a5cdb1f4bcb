"""`flywheel preview` on the shared demo build: a longer speed-to-lead SLA moves the SLA marts and KPIs only, in a
scratch warehouse, leaving the warehouse and the published BI snapshot byte for byte as they were."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import yaml

from pipelines.cli import RunSummary
from pipelines.definition_preview import preview, write_page
from pipelines.spec.settings import Settings
from pipelines.warehouse.publish import SNAPSHOT_FILE

MRR_MARTS = ("marts.rpt_mrr_movements_monthly", "marts.rpt_retention_monthly", "marts.fct_mrr_customer_months")


def test_a_longer_speed_to_lead_sla_moves_exactly_the_sla_kpis(
    demo_build: tuple[Settings, RunSummary], tmp_path: Path
) -> None:
    settings, _ = demo_build
    document = yaml.safe_load(settings.definitions_file.read_text())
    document["speed_to_lead"]["sla_minutes"] *= 4
    candidate = tmp_path / "candidate.yml"
    candidate.write_text(yaml.safe_dump(document, sort_keys=False))
    snapshot = settings.published_dir / SNAPSHOT_FILE
    warehouse_bytes, snapshot_bytes = settings.warehouse.read_bytes(), snapshot.read_bytes()

    report, summary = preview(settings, candidate, dg.DagsterInstance.ephemeral())

    assert settings.warehouse.read_bytes() == warehouse_bytes
    assert snapshot.read_bytes() == snapshot_bytes
    assert summary is not None and not summary.checks_failed and not summary.failed_steps
    assert [change.name for change in report.changes] == ["speed_to_lead__sla_minutes"]
    assert sorted(report.assets_rebuilt) == [
        "definitions/thresholds",
        "marts/fct_speed_to_lead",
        "marts/rpt_alignment_scorecard_monthly",
        "marts/rpt_speed_to_lead_periods",
    ]
    assert set(MRR_MARTS) | {"marts.rpt_marketing_contribution_monthly"} <= set(report.marts_not_rebuilt)
    changed = {f"{mart.schema}.{mart.name}": mart for mart in report.marts_changed}
    assert set(changed) == {
        "marts.fct_speed_to_lead",
        "marts.rpt_speed_to_lead_periods",
        "marts.rpt_alignment_scorecard_monthly",
    }
    speed = changed["marts.fct_speed_to_lead"]
    assert speed.changed > 0 and speed.added == speed.removed == 0  # the same MQLs, more of them within the SLA
    scorecard = changed["marts.rpt_alignment_scorecard_monthly"]
    assert [kpi.name for kpi in scorecard.kpis if kpi.changed] == ["sla_adherence_rate"]
    adherence = next(kpi for kpi in scorecard.kpis if kpi.name == "sla_adherence_rate")
    assert all(cell.after > cell.before for cell in adherence.cells if None not in (cell.before, cell.after))  # type: ignore[operator]
    page = write_page(report, tmp_path / "out").read_text()
    assert "sla_adherence_rate" in page and "speed_to_lead__sla_minutes" in page
