"""What `flywheel preview` shows: the terminal summary and the HTML page of a definition change's effect.

`pipelines/definition_preview.py` gathers a `PreviewReport` (the changed definitions, what was rebuilt, the checks
that would fail, and each mart's changes as pipelines/warehouse/mart_changes.py measured them); this module only
presents it. The page is rendered from `templates/preview/preview.html` (autoescaped, see templating.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.docs.templating import render
from pipelines.spec.definition_readers import DefinitionChange
from pipelines.warehouse.mart_changes import KpiChange, TableChange

PAGE_FILE = "definition_preview.html"
# The cells of one KPI the page lists; the rest are counted.
MAX_CELLS = 120
# The KPIs of one mart the terminal names; the page lists them all.
MAX_TERMINAL_KPIS = 6


@dataclass
class PreviewReport:
    """A definition change's effect, measured in a scratch warehouse."""

    candidate: Path
    current: Path
    changes: list[DefinitionChange]
    selection: str | None = None
    assets_rebuilt: list[str] = field(default_factory=list)
    marts: list[TableChange] = field(default_factory=list)
    marts_not_rebuilt: list[str] = field(default_factory=list)
    # Marts the preview meant to rebuild that kept their last good table (a step or a blocking check failed).
    marts_kept: list[str] = field(default_factory=list)
    checks_failed: list[str] = field(default_factory=list)
    step_errors: dict[str, str] = field(default_factory=dict)
    fresh_build: bool = False
    seconds: float = 0.0

    @property
    def marts_changed(self) -> list[TableChange]:
        return [mart for mart in self.marts if mart.any_change]

    @property
    def marts_unchanged(self) -> list[TableChange]:
        return [mart for mart in self.marts if not mart.any_change]


def value_text(value: Any, limit: int = 160) -> str:
    """A definition's value on one line (JSON), shortened past `limit` characters."""
    text = json.dumps(value, default=str, sort_keys=False)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def number_text(value: float | None) -> str:
    """A KPI value for people: thousands separated, at most four decimals; an empty cell for no value."""
    if value is None:
        return ""
    if float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.4f}".rstrip("0")


def kpi_line(kpi: KpiChange, table: TableChange) -> str:
    """One line on a KPI that moved: its totals when it adds up, and where it moved."""
    where = " / ".join(column for column in (table.month_column, table.segment_column) if column) or "table"
    cells = f"moved in {len(kpi.cells)} {where} cell(s), {sum(cell.rows_changed for cell in kpi.cells)} row(s)"
    if kpi.additive:
        return f"{kpi.name}: total {number_text(kpi.total_before)} -> {number_text(kpi.total_after)}; {cells}"
    return f"{kpi.name}: {cells}"


def render_text(report: PreviewReport, page: Path | None = None) -> str:
    """The terminal summary."""
    lines = [f"Definition preview of {report.candidate} against {report.current} ({report.seconds:.1f} s)"]
    if not report.changes:
        lines.append("  no definition changes: nothing to rebuild, every mart stays as it is")
        return "\n".join(lines + ([f"  page:          {page}"] if page else []))
    lines.append(f"  changed definitions ({len(report.changes)}):")
    lines += [f"    {c.name}: {value_text(c.before, 60)} -> {value_text(c.after, 60)}" for c in report.changes]
    if report.selection is None:
        lines.append("  no asset reads them: nothing to rebuild, every mart stays as it is")
        return "\n".join(lines + ([f"  page:          {page}"] if page else []))
    built = "a fresh build of the current definitions, then " if report.fresh_build else ""
    lines.append(f"  rebuilt in a scratch warehouse ({built}{len(report.assets_rebuilt)} assets): {report.selection}")
    lines.append(f"  checks that would fail: {len(report.checks_failed)}")
    lines += [f"    - {name}" for name in report.checks_failed]
    lines += [f"    - step {step}: {error}" for step, error in sorted(report.step_errors.items())]
    lines += [f"  kept its last good table: {name}" for name in report.marts_kept]
    lines.append(f"  marts changed: {len(report.marts_changed)} of {len(report.marts)} rebuilt")
    for mart in report.marts_changed:
        lines.append(
            f"    {mart.schema}.{mart.name}: {mart.changed} row(s) changed, {mart.added} added, {mart.removed} "
            f"removed (by {', '.join(mart.grain)}; {mart.rows_before} -> {mart.rows_after} rows)"
        )
        moved = [kpi for kpi in mart.kpis if kpi.changed]
        lines += [f"      {kpi_line(kpi, mart)}" for kpi in moved[:MAX_TERMINAL_KPIS]]
        if len(moved) > MAX_TERMINAL_KPIS:
            lines.append(f"      and {len(moved) - MAX_TERMINAL_KPIS} more KPI(s) on the page")
    unchanged = ", ".join(f"{mart.schema}.{mart.name}" for mart in report.marts_unchanged) or "none"
    lines.append(f"  rebuilt, unchanged: {unchanged}")
    lines.append(f"  not rebuilt (they do not read the changed definitions): {len(report.marts_not_rebuilt)} mart(s)")
    if page:
        lines.append(f"  page:          {page}")
    return "\n".join(lines)


def _kpi_rows(kpi: KpiChange) -> list[dict[str, Any]]:
    rows = []
    for cell in kpi.cells[:MAX_CELLS]:
        delta = cell.after - cell.before if cell.before is not None and cell.after is not None else None
        rows.append(
            {
                "month": cell.month,
                "segment": cell.segment,
                "before": number_text(cell.before),
                "after": number_text(cell.after),
                "delta": number_text(delta),
                "rows_changed": cell.rows_changed,
            }
        )
    return rows


def render_html(report: PreviewReport) -> str:
    """The HTML page: changed definitions, failing checks, and every rebuilt mart with its KPIs that moved."""
    marts = [
        {
            "table": mart,
            "kpis": [
                {"kpi": kpi, "rows": _kpi_rows(kpi), "more": max(0, len(kpi.cells) - MAX_CELLS)}
                for kpi in mart.kpis
                if kpi.changed
            ],
            "kpis_unmoved": [kpi.name for kpi in mart.kpis if not kpi.changed],
        }
        for mart in report.marts_changed
    ]
    return render(
        "preview/preview.html",
        report=report,
        changes=[
            {"name": c.name, "path": c.definition.path, "before": value_text(c.before), "after": value_text(c.after)}
            for c in report.changes
        ],
        marts=marts,
        unchanged=[f"{mart.schema}.{mart.name}" for mart in report.marts_unchanged],
        number_text=number_text,
    )
