"""The Dagster asset that writes the KPI report (pipelines/docs/report.py renders it) beside the BI snapshot."""

from __future__ import annotations

import base64
from pathlib import Path

import dagster as dg

from pipelines.docs.report import (
    REPORT_FILE,
    REPORT_GROUP,
    REPORT_KEY,
    REPORT_TABLES,
    ReportError,
    empty_report,
    write_report,
)
from pipelines.warehouse.publish import atomic_write_text


def report_asset() -> dg.AssetsDefinition:
    """The Dagster asset writing the report next to the BI snapshot (resources `warehouse` and `publish_target`)."""

    @dg.asset(
        key=list(REPORT_KEY),
        deps=[dg.AssetKey([schema, name]) for schema, name in REPORT_TABLES],
        group_name=REPORT_GROUP,
        owners=["team:revops"],
        kinds={"html", "duckdb"},
        description=(
            "The alignment scorecard of the latest complete month as a self-contained HTML report (scorecard "
            "table, funnel, MRR waterfall, NRR/GRR, speed-to-lead SLA, CAC payback by channel, closed-lost "
            f"reasons), written to {REPORT_FILE} in the publish directory; viewable offline."
        ),
        tags={"layer": "report"},
        required_resource_keys={"warehouse", "publish_target"},
    )
    def kpi_report(
        context,
    ) -> dg.MaterializeResult:  # not annotated: see publish_asset in pipelines.orchestration.project
        with context.resources.warehouse.get_connection() as connection:
            try:
                report, path = write_report(connection, Path(context.resources.publish_target.path))
            except ReportError as error:
                # No billing month yet (a CRM-only warehouse, say): say so in the report rather than fail the run.
                path = Path(context.resources.publish_target.path) / REPORT_FILE
                atomic_write_text(path, empty_report(str(error)))
                context.log.warning(f"the KPI report has nothing to show: {error}")
                return dg.MaterializeResult(
                    metadata={"report": dg.MetadataValue.path(str(path)), "nothing_to_report": str(error)}
                )
        context.log.info(f"wrote the KPI report for {report.month:%Y-%m} to {path}")
        image = base64.b64encode(report.key_chart_png).decode("ascii")
        return dg.MaterializeResult(
            metadata={
                "report": dg.MetadataValue.path(str(path)),
                "month": report.month.isoformat(),
                "key_chart": dg.MetadataValue.md(
                    f"**{report.key_chart_title}**\n\n![{report.key_chart_title}](data:image/png;base64,{image})"
                ),
                "bytes": len(report.html.encode()),
            }
        )

    return kpi_report
