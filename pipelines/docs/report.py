"""The KPI report: the alignment scorecard rendered as one self-contained HTML file, charts inline as SVG.

This module gathers the data (queries on the marts) and renders the page from templates/report/ (Jinja2,
autoescaped); charts.py draws the charts.

The report reads only marts (and the gross margin in force); it recomputes no KPI a mart defines, except where a
chart needs a coarser grain than the mart's (all segments together, or a channel over twelve months): then it
re-applies the mart's own formula to the summed numerator and denominator, as the captions say.

"Latest complete month": the scorecard's months end with the latest month of the billing data, which is in
progress; the report's month is the one before it. Trends end with that month too; the latest complete quarter
is the latest quarter that ends by then.

The HTML needs no network and no JavaScript, and the same data gives the same bytes (fixed SVG ids, no dates in
the SVG or PNG metadata, no build time in the page), so a re-render that changed nothing changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import matplotlib
from markupsafe import Markup
from matplotlib.figure import Figure

from pipelines.docs import charts
from pipelines.docs.charts import COLORS, STYLE
from pipelines.docs.report_billing import billing_trend, reconciliation_findings
from pipelines.docs.report_values import TREND_MONTHS, add_months, format_value, is_missing, month_label, rows
from pipelines.docs.templating import render as render_template
from pipelines.warehouse.publish import atomic_write_text

REPORT_KEY = ("reports", "kpi_report")
REPORT_GROUP = "reports"
REPORT_FILE = "kpi_report.html"
# The tables the report reads: the asset depends on them.
REPORT_TABLES = (
    ("marts", "rpt_alignment_scorecard_monthly"),
    ("marts", "rpt_funnel_cohorts_monthly"),
    ("marts", "rpt_mrr_movements_monthly"),
    ("marts", "rpt_retention_monthly"),
    ("marts", "rpt_speed_to_lead_periods"),
    ("marts", "rpt_unit_economics_monthly"),
    ("marts", "rpt_closed_lost_reasons_quarterly"),
    ("marts", "rpt_crm_billing_reconciliation_monthly"),
    ("marts", "fct_crm_billing_findings"),
    ("marts", "rpt_billing_monthly"),
    ("definitions", "thresholds"),
)
CAC_PAYBACK_MONTHS = 12
# (column, header, format) of the scorecard table, in the mart's order
SCORECARD_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("starting_mrr_usd", "Starting MRR", "usd"),
    ("new_mrr_usd", "New MRR", "usd"),
    ("net_new_mrr_usd", "Net new MRR", "usd"),
    ("ending_mrr_usd", "Ending MRR", "usd"),
    ("net_revenue_growth_rate", "Net revenue growth", "pct"),
    ("nrr", "NRR", "pct"),
    ("grr", "GRR", "pct"),
    ("mql_count", "MQLs", "int"),
    ("sales_qualified_count", "Sales-qualified", "int"),
    ("win_rate", "Win rate", "pct"),
    ("sla_adherence_rate", "SLA adherence", "pct"),
    ("cac_payback_months", "CAC payback (months)", "num"),
    ("ltv_to_cac_ratio", "LTV:CAC", "num"),
    ("pql_count", "PQLs", "int"),
    ("pql_conversion_rate", "PQL conversion", "pct"),
    ("definition_drift_count", "Definition drift", "int"),
)
# the *_null_reason column that explains a null, shown as the cell's tooltip
NULL_REASONS = {
    "net_revenue_growth_rate": "net_revenue_growth_null_reason",
    "nrr": "retention_null_reason",
    "grr": "retention_null_reason",
    "win_rate": "win_rate_null_reason",
    "sla_adherence_rate": "sla_adherence_null_reason",
    "cac_payback_months": "cac_payback_null_reason",
    "ltv_to_cac_ratio": "ltv_to_cac_ratio_null_reason",
    "pql_conversion_rate": "pql_conversion_null_reason",
}
SECTIONS = (
    ("scorecard", "Scorecard"),
    ("funnel", "Lead funnel"),
    ("mrr-waterfall", "MRR movements"),
    ("retention", "NRR and GRR"),
    ("speed-to-lead", "Speed-to-lead SLA"),
    ("cac-payback", "CAC payback by channel"),
    ("closed-lost", "Closed-lost reasons"),
    ("reconciliation", "CRM-billing reconciliation"),
    ("billing", "Billed and collected"),
)


class ReportError(RuntimeError):
    """The marts hold nothing the report can be about (no complete month)."""


@dataclass(frozen=True)
class Report:
    """The rendered report and the chart shown in the Dagster UI."""

    html: str
    month: date
    key_chart_png: bytes
    key_chart_title: str


def latest_complete_month(connection: duckdb.DuckDBPyConnection) -> date:
    """The month before the latest month of the scorecard (that one is the month the data ends in)."""
    row = connection.execute(
        "select max(month) - interval 1 month from marts.rpt_alignment_scorecard_monthly"
    ).fetchone()
    if row is None or row[0] is None:
        raise ReportError("marts.rpt_alignment_scorecard_monthly has no month: nothing to report")
    value = row[0]
    return value.date() if hasattr(value, "date") else value


# ------------------------------------------------------------------------------------------------------------ data


def _funnel(connection: duckdb.DuckDBPyConnection) -> tuple[list[tuple[str, int]], str]:
    """MQL cohorts whose conversion window has elapsed (all cohorts, marked provisional, while none has)."""
    mature = rows(
        connection,
        "select count(*) from marts.rpt_funnel_cohorts_monthly where cohort_type = 'mql_month' and is_cohort_mature",
    )[0][0]
    where = "cohort_type = 'mql_month'" + (" and is_cohort_mature" if mature else "")
    row = rows(
        connection,
        f"""
        select min(cohort_month), max(cohort_month), coalesce(sum(funnel_entered_count), 0),
               coalesce(sum(accepted_count), 0), coalesce(sum(sales_qualified_count), 0), coalesce(sum(won_count), 0)
        from marts.rpt_funnel_cohorts_monthly where {where}
        """,
    )[0]
    first, last, mqls, accepted, qualified, won = row
    stages = [("MQL", int(mqls)), ("Accepted", int(accepted)), ("Sales-qualified", int(qualified)), ("Won", int(won))]
    if first is None:
        return stages, "No MQL cohort yet"
    period = f"MQL cohorts {month_label(first)} \u2013 {month_label(last)}"
    return stages, (f"Mature {period}" if mature else f"{period} (provisional: no cohort's window has elapsed)")


def _waterfall(connection: duckdb.DuckDBPyConnection, month: date) -> list[tuple[str, float]]:
    row = rows(
        connection,
        """
        select coalesce(sum(starting_mrr_usd), 0), coalesce(sum(new_mrr_usd), 0),
               coalesce(sum(expansion_mrr_usd), 0), coalesce(sum(reactivation_mrr_usd), 0),
               coalesce(sum(contraction_mrr_usd), 0), coalesce(sum(churned_mrr_usd), 0),
               coalesce(sum(fx_mrr_usd), 0), coalesce(sum(ending_mrr_usd), 0)
        from marts.rpt_mrr_movements_monthly where mrr_month = ?
        """,
        [month],
    )[0]
    starting, new, expansion, reactivation, contraction, churned, fx, ending = (float(value) for value in row)
    # the exchange-rate effect is its own step, shown only when some MRR is billed in another currency
    fx_steps = [("FX", fx)] if fx else []
    return [
        ("Starting", starting),
        ("New", new),
        ("Expansion", expansion),
        ("Reactivation", reactivation),
        ("Contraction", -contraction),
        ("Churned", -churned),
        *fx_steps,
        ("Ending", ending),
    ]


def _retention(connection: duckdb.DuckDBPyConnection, month: date) -> list[tuple[date, float | None, float | None]]:
    """NRR and GRR of all segments together: the mart's formulas on the summed MRR.

    Null when no MRR was paying at the start, or when the summed base is below the shared minimums (less starting
    MRR than minimum_bases__mrr_usd, or fewer customers than minimum_bases__customers): the mart's "base below minimum".
    """
    return [
        (row[0], row[1], row[2])
        for row in rows(
            connection,
            """
            with months as (
                select mrr_month, sum(starting_mrr_usd) as starting, sum(expansion_mrr_usd) as expansion,
                       sum(contraction_mrr_usd) as contraction, sum(churned_mrr_usd) as churned,
                       sum(starting_customer_count) as customers
                from marts.rpt_retention_monthly
                where mrr_month <= ? and mrr_month > ?
                group by mrr_month
            ), bases as (
                select months.*,
                       months.starting >= thresholds.minimum_bases__mrr_usd
                       and months.customers >= thresholds.minimum_bases__customers as is_base_enough
                from months cross join definitions.thresholds as thresholds
            )
            select mrr_month,
                   case when is_base_enough
                       then (starting + expansion - contraction - churned) / nullif(starting, 0) end,
                   case when is_base_enough then (starting - contraction - churned) / nullif(starting, 0) end
            from bases order by mrr_month
            """,
            [month, add_months(month, -TREND_MONTHS)],
        )
    ]


def _speed_to_lead(connection: duckdb.DuckDBPyConnection, month: date) -> list[tuple[date, float | None, int]]:
    """Monthly SLA adherence over every owner and segment: within SLA / MQLs (null when fewer MQLs than the
    shared minimum_bases__leads, or none)."""
    return [
        (row[0], row[1], int(row[2]))
        for row in rows(
            connection,
            """
            select cast(periods.period_start as date),
                   case when sum(periods.mql_count) >= any_value(thresholds.minimum_bases__leads)
                       then sum(periods.within_sla_count) / nullif(sum(periods.mql_count), 0) end,
                   sum(periods.mql_count)
            from marts.rpt_speed_to_lead_periods as periods
            cross join definitions.thresholds as thresholds
            where periods.period_type = 'month' and periods.period_start <= ? and periods.period_start > ?
            group by cast(periods.period_start as date) order by 1
            """,
            [month, add_months(month, -TREND_MONTHS)],
        )
    ]


def _cac_payback(connection: duckdb.DuckDBPyConnection, month: date) -> list[tuple[str, float, str]]:
    """CAC payback of each paid channel over the twelve months ending with `month`.

    The mart's formula, cac / (arpa x gross margin), on the twelve months' sums: spend / (new MRR x gross margin).
    Channels with no new customer in the twelve months have no payback and are listed in the caption instead.
    """
    return [
        (str(row[0]), float(row[1]), f"({int(row[2])} new customers, ${float(row[3]):,.0f} spend)")
        for row in rows(
            connection,
            """
            with channels as (
                select channel, sum(spend_usd) as spend_usd, sum(new_customer_count) as new_customer_count,
                       sum(new_mrr_usd) as new_mrr_usd
                from marts.rpt_unit_economics_monthly
                where is_paid_channel and month <= ? and month > ?
                group by channel
            )
            select
                channel,
                spend_usd / nullif(new_mrr_usd * thresholds.unit_economics__gross_margin, 0),
                new_customer_count,
                spend_usd
            from channels cross join definitions.thresholds as thresholds
            where new_customer_count > 0 and new_mrr_usd * thresholds.unit_economics__gross_margin > 0
            order by 2 desc, channel
            """,
            [month, add_months(month, -CAC_PAYBACK_MONTHS)],
        )
    ]


def _closed_lost(connection: duckdb.DuckDBPyConnection, month: date) -> tuple[date | None, list[tuple]]:
    """The top-3 reasons of the latest quarter that ended by the end of `month`."""
    quarter = rows(
        connection,
        """
        select max(close_quarter) from marts.rpt_closed_lost_reasons_quarterly
        where close_quarter + interval 3 month <= ? + interval 1 month
        """,
        [month],
    )[0][0]
    if quarter is None:
        return None, []
    reasons = rows(
        connection,
        """
        select loss_reason, lost_amount_usd, lost_deals_count, lost_deals_share, loss_reason_bucket
        from marts.rpt_closed_lost_reasons_quarterly
        where close_quarter = ? and is_top_3 order by loss_reason_rank
        """,
        [quarter],
    )
    return (quarter.date() if hasattr(quarter, "date") else quarter), reasons


def _scorecard(connection: duckdb.DuckDBPyConnection, month: date) -> tuple[list[str], list[tuple]]:
    columns = ["segment", *(column for column, _, _ in SCORECARD_COLUMNS), *sorted(set(NULL_REASONS.values()))]
    cursor = connection.execute(
        f"""
        select {", ".join(columns)} from marts.rpt_alignment_scorecard_monthly
        where month = ? order by segment
        """,
        [month],
    )
    return columns, cursor.fetchall()


# ------------------------------------------------------------------------------------------------------------ html


@dataclass(frozen=True)
class Cell:
    """One scorecard cell: where it is (segment, mart column), its text, and for a null the reason shown on hover."""

    segment: str
    column: str
    text: str
    is_null: bool
    reason: str


def _scorecard_table(columns: list[str], rows: list[tuple]) -> tuple[list[str], list[tuple[str, list[Cell]]]]:
    """The segments, and one row per KPI (its title and a cell per segment): the segments of a KPI side by side."""
    records = [dict(zip(columns, row, strict=True)) for row in rows]
    segments = [str(record["segment"]) for record in records]
    table = []
    for column, title, kind in SCORECARD_COLUMNS:
        cells = []
        for segment, record in zip(segments, records, strict=True):
            value = record[column]
            reason = record.get(NULL_REASONS.get(column, ""), None) if is_missing(value) else None
            cells.append(Cell(segment, column, format_value(value, kind), is_missing(value), str(reason or "")))
        table.append((title, cells))
    return segments, table


def _figures(connection: duckdb.DuckDBPyConnection, month: date) -> dict[str, Figure]:
    """The chart of every section but the scorecard, by section anchor (draw inside the charts' rc_context)."""
    stages, funnel_caption = _funnel(connection)
    retention = _retention(connection, month)
    speed = _speed_to_lead(connection, month)
    first_payback_month = add_months(month, 1 - CAC_PAYBACK_MONTHS)
    quarter, reasons = _closed_lost(connection, month)
    billing = billing_trend(connection, month)
    quarter_label = f"Q{(quarter.month - 1) // 3 + 1} {quarter.year}" if quarter else "no complete quarter"
    return {
        "funnel": charts.funnel_chart(stages, funnel_caption),
        "mrr-waterfall": charts.waterfall_chart(
            _waterfall(connection, month), _waterfall_title(month, _discounts(connection, month))
        ),
        "retention": charts.line_chart(
            [row[0] for row in retention],
            [
                ("NRR", [row[1] for row in retention], COLORS["primary"]),
                ("GRR", [row[2] for row in retention], COLORS["secondary"]),
            ],
            "Monthly net and gross revenue retention, all segments",
        ),
        "speed-to-lead": charts.line_chart(
            [row[0] for row in speed],
            [("SLA adherence", [row[1] for row in speed], COLORS["primary"])],
            "Share of MQLs first touched within the SLA, by MQL month",
            bars=("MQLs", [row[2] for row in speed]),
        ),
        "cac-payback": charts.hbar_chart(
            _cac_payback(connection, month),
            f"CAC payback, {month_label(first_payback_month)} \u2013 {month_label(month)}",
            lambda value: f"{value:.1f}",
            "months of gross-margin new MRR to earn back the spend",
            unit=" months",
        ),
        "closed-lost": charts.hbar_chart(
            [
                (str(reason), float(amount), f"({int(deals)} deals, {share:.0%} of the quarter's lost deals)")
                for reason, amount, deals, share, _bucket in reasons
            ],
            f"Top closed-lost reasons by lost amount, {quarter_label}",
            lambda value: charts.usd_axis(value, 0),
            "lost amount (USD)",
        ),
        "billing": charts.line_chart(
            [row[0] for row in billing],
            [
                ("Invoiced", [row[1] for row in billing], COLORS["primary"]),
                ("Net collected", [row[2] for row in billing], COLORS["secondary"]),
                ("MRR", [row[3] for row in billing], COLORS["muted"]),
            ],
            "Invoiced, net collected and MRR (USD), with failed payment attempts",
            percent=False,
            bars=("Failed charges", [row[4] for row in billing]),
        ),
    }


def _discounts(connection: duckdb.DuckDBPyConnection, month: date) -> float:
    """The discounts in force at the month's close, all segments (MRR is net of them by default)."""
    sql = "select coalesce(sum(discount_mrr_usd), 0) from marts.rpt_mrr_movements_monthly where mrr_month = ?"
    return float(rows(connection, sql, [month])[0][0])


def _waterfall_title(month: date, discounts: float = 0.0) -> str:
    title = f"MRR bridge, {month_label(month)}, all segments"
    return f"{title} (after {charts.usd_axis(discounts, 0)} of discounts)" if discounts else title


def render_report(connection: duckdb.DuckDBPyConnection) -> Report:
    """Render the report from the marts `connection` can read."""
    month = latest_complete_month(connection)
    with matplotlib.rc_context(STYLE):
        columns, scorecard_rows = _scorecard(connection, month)
        figures = _figures(connection, month)
        # matplotlib's own SVG of a chart drawn from numbers and labels it escapes itself: markup to insert as is
        svgs = {anchor: Markup(charts.svg(figure)) for anchor, figure in figures.items()}
        key_png = charts.png(figures["mrr-waterfall"])
    segments, scorecard = _scorecard_table(columns, scorecard_rows)
    finding_counts, top_findings = reconciliation_findings(connection, month)
    page = render_template(
        "report/report.html",
        month_label=month_label(month),
        sections=SECTIONS,
        svgs=svgs,
        segments=segments,
        scorecard=scorecard,
        trend_months=TREND_MONTHS,
        cac_payback_months=CAC_PAYBACK_MONTHS,
        finding_counts=finding_counts,
        top_findings=top_findings,
    )
    return Report(
        html=page,
        month=month,
        key_chart_png=key_png,
        key_chart_title=_waterfall_title(month, _discounts(connection, month)),
    )


def empty_report(reason: str) -> str:
    """The page written when the marts hold no complete month to report on."""
    return render_template("report/empty.html", reason=reason)


def write_report(connection: duckdb.DuckDBPyConnection, publish_dir: Path) -> tuple[Report, Path]:
    """Render the report and replace `<publish_dir>/kpi_report.html` atomically."""
    report = render_report(connection)
    path = publish_dir / REPORT_FILE
    atomic_write_text(path, report.html)
    return report, path
