"""The KPI report: the alignment scorecard rendered as one self-contained HTML file, charts inline as SVG.

Charts are drawn on `matplotlib.figure.Figure` objects directly, never through pyplot, so no GUI backend is ever
chosen and nothing global is left behind: PNG goes through the Agg canvas, SVG through the SVG one.

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

import html
import io
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

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
    ("definitions", "thresholds"),
)
TREND_MONTHS = 24
CAC_PAYBACK_MONTHS = 12
SVG_HASH_SALT = "flywheel-kpi-report"

COLORS = {
    "ink": "#1f2933",
    "muted": "#7b8794",
    "grid": "#e4e7eb",
    "primary": "#2f6fbd",
    "secondary": "#e07b39",
    "up": "#2e9e5b",
    "down": "#d64545",
    "total": "#52606d",
}
STYLE: Any = {  # matplotlib's rcParams for the charts (typed Any: rc_context types its keys as literals)
    "svg.hashsalt": SVG_HASH_SALT,
    "svg.fonttype": "path",
    "font.family": "DejaVu Sans",
    "font.size": 10,
    "axes.edgecolor": COLORS["muted"],
    "axes.labelcolor": COLORS["ink"],
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": COLORS["grid"],
    "xtick.color": COLORS["ink"],
    "ytick.color": COLORS["ink"],
    "figure.dpi": 100,
}

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


def is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def format_value(value: object, kind: str) -> str:
    """A scorecard cell as the report prints it; a null is an en dash."""
    if is_missing(value):
        return "\u2013"
    number = float(value)  # type: ignore[arg-type]
    if kind == "usd":
        return f"-${-number:,.0f}" if number < 0 else f"${number:,.0f}"
    if kind == "pct":
        return f"{number * 100:.1f}%"
    if kind == "int":
        return f"{int(number):,}"
    return f"{number:,.2f}"


def _rows(connection: duckdb.DuckDBPyConnection, sql: str, parameters: Sequence[object] = ()) -> list[tuple]:
    return connection.execute(sql, list(parameters)).fetchall()


def latest_complete_month(connection: duckdb.DuckDBPyConnection) -> date:
    """The month before the latest month of the scorecard (that one is the month the data ends in)."""
    row = connection.execute(
        "select max(month) - interval 1 month from marts.rpt_alignment_scorecard_monthly"
    ).fetchone()
    if row is None or row[0] is None:
        raise ReportError("marts.rpt_alignment_scorecard_monthly has no month: nothing to report")
    value = row[0]
    return value.date() if hasattr(value, "date") else value


def _add_months(month: date, months: int) -> date:
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _month_label(month: date) -> str:
    return f"{month:%b %Y}"


# ---------------------------------------------------------------------------------------------------------- charts


def _figure(width: float, height: float) -> tuple[Figure, Axes]:
    figure = Figure(figsize=(width, height), layout="constrained")
    axes = figure.subplots()
    return figure, axes


def _svg(figure: Figure) -> str:
    """The figure as an inline <svg> element: no XML prolog, DOCTYPE or RDF metadata (which hold URLs)."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.DOTALL)
    return text.strip()


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80, metadata={"Software": None})
    return buffer.getvalue()


def _usd_axis(value: float, _position: int) -> str:
    if abs(value) >= 1_000_000:
        return f"${value / 1_000_000:.1f}M"
    if abs(value) >= 1_000:
        return f"${value / 1_000:.0f}k"
    return f"${value:.0f}"


def _empty(axes: Axes, message: str) -> None:
    axes.set_axis_off()
    axes.text(0.5, 0.5, message, ha="center", va="center", color=COLORS["muted"], transform=axes.transAxes)


def funnel_chart(stages: list[tuple[str, int]], caption: str) -> Figure:
    figure, axes = _figure(9, 3.2)
    if not stages or stages[0][1] == 0:
        _empty(axes, "no MQL cohort yet")
        return figure
    labels = [label for label, _ in stages][::-1]
    counts = [count for _, count in stages][::-1]
    top = counts[-1]
    bars = axes.barh(labels, counts, color=COLORS["primary"], height=0.6)
    for bar, count in zip(bars, counts, strict=True):
        axes.text(
            bar.get_width() + top * 0.01,
            bar.get_y() + bar.get_height() / 2,
            f"{count:,}  ({count / top:.1%} of MQLs)",
            va="center",
            color=COLORS["ink"],
        )
    axes.set_xlim(0, top * 1.35)
    axes.grid(axis="y", visible=False)
    axes.set_xlabel("leads")
    axes.set_title(caption, loc="left", color=COLORS["ink"])
    return figure


def waterfall_chart(steps: list[tuple[str, float]], title: str) -> Figure:
    """Starting MRR, the movements (signed), ending MRR: floating bars from one total to the next."""
    figure, axes = _figure(9, 3.6)
    labels = [label for label, _ in steps]
    bottoms: list[float] = []
    heights: list[float] = []
    colors: list[str] = []
    running = 0.0
    for index, (_, value) in enumerate(steps):
        if index in (0, len(steps) - 1):
            bottoms.append(0.0)
            heights.append(value)
            colors.append(COLORS["total"])
            running = value
        else:
            bottoms.append(running if value >= 0 else running + value)
            heights.append(abs(value))
            colors.append(COLORS["up"] if value >= 0 else COLORS["down"])
            running += value
    axes.bar(labels, heights, bottom=bottoms, color=colors, width=0.6)
    for index, (_, value) in enumerate(steps):
        total = index in (0, len(steps) - 1)
        text = _usd_axis(value, 0) if total else ("+" if value >= 0 else "\u2212") + _usd_axis(abs(value), 0)
        axes.annotate(
            text,
            (index, bottoms[index] + heights[index]),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            color=COLORS["ink"],
        )
    # the totals dwarf the movements: start the axis below the lowest level the bridge reaches, and say so
    levels = [value for index, value in enumerate(bottoms) if index not in (0, len(steps) - 1)]
    levels += [bottoms[index] + heights[index] for index in range(len(steps))]
    low, high = min(levels), max(levels)
    floor = max(0.0, low - max(high - low, high * 0.02) * 1.5)
    axes.set_ylim(floor, high + (high - floor) * 0.12)
    if floor > 0:
        axes.set_ylabel(f"MRR (axis starts at {_usd_axis(floor, 0)})", color=COLORS["muted"])
    axes.yaxis.set_major_formatter(FuncFormatter(_usd_axis))
    axes.grid(axis="x", visible=False)
    axes.set_title(title, loc="left", color=COLORS["ink"])
    return figure


def line_chart(
    months: list[date],
    series: list[tuple[str, list[float | None], str]],
    title: str,
    percent: bool = True,
    bars: tuple[str, list[int]] | None = None,
) -> Figure:
    figure, axes = _figure(9, 3.4)
    if not months:
        _empty(axes, "no month yet")
        return figure
    positions = list(range(len(months)))
    if bars is not None:
        twin = axes.twinx()
        twin.bar(positions, bars[1], color=COLORS["grid"], width=0.7, label=bars[0], zorder=0)
        twin.set_ylabel(bars[0], color=COLORS["muted"])
        twin.grid(visible=False)
        twin.spines["right"].set_visible(True)
        axes.set_zorder(twin.get_zorder() + 1)
        axes.patch.set_visible(False)
    for label, values, color in series:
        points = [math.nan if value is None else value for value in values]
        axes.plot(positions, points, marker="o", markersize=3, color=color, label=label, linewidth=1.8)
    step = max(1, math.ceil(len(months) / 8))
    axes.set_xticks(positions[::step], [f"{month:%b %y}" for month in months[::step]])
    if percent:
        axes.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    handles, labels = axes.get_legend_handles_labels()
    if bars is not None:
        handles.append(twin.patches[0])
        labels.append(bars[0])
    axes.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.1), frameon=False, ncol=len(labels))
    axes.set_title(title, loc="left", color=COLORS["ink"])
    return figure


def hbar_chart(
    items: list[tuple[str, float, str]],
    title: str,
    value_format: Callable[[float], str],
    axis_label: str,
    unit: str = "",
) -> Figure:
    """Horizontal bars, largest on top, each labelled with its value and a note."""
    figure, axes = _figure(9, max(2.2, 0.55 * len(items) + 1.2))
    if not items:
        _empty(axes, "nothing to show for the period")
        return figure
    labels = [label for label, _, _ in items][::-1]
    values = [value for _, value, _ in items][::-1]
    notes = [note for _, _, note in items][::-1]
    top = max(values) or 1.0
    bars = axes.barh(labels, values, color=COLORS["secondary"], height=0.6)
    for bar, value, note in zip(bars, values, notes, strict=True):
        axes.text(
            bar.get_width() + top * 0.01,
            bar.get_y() + bar.get_height() / 2,
            f"{value_format(value)}{unit}  {note}".rstrip(),
            va="center",
            color=COLORS["ink"],
        )
    axes.set_xlim(0, top * 1.6)
    axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _position: value_format(value)))
    axes.set_xlabel(axis_label)
    axes.grid(axis="y", visible=False)
    axes.set_title(title, loc="left", color=COLORS["ink"])
    return figure


# ------------------------------------------------------------------------------------------------------------ data


def _funnel(connection: duckdb.DuckDBPyConnection) -> tuple[list[tuple[str, int]], str]:
    """MQL cohorts whose conversion window has elapsed (all cohorts, marked provisional, while none has)."""
    mature = _rows(
        connection,
        "select count(*) from marts.rpt_funnel_cohorts_monthly where cohort_type = 'mql_month' and is_cohort_mature",
    )[0][0]
    where = "cohort_type = 'mql_month'" + (" and is_cohort_mature" if mature else "")
    row = _rows(
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
    period = f"MQL cohorts {_month_label(first)} \u2013 {_month_label(last)}"
    return stages, (f"Mature {period}" if mature else f"{period} (provisional: no cohort's window has elapsed)")


def _waterfall(connection: duckdb.DuckDBPyConnection, month: date) -> list[tuple[str, float]]:
    row = _rows(
        connection,
        """
        select coalesce(sum(starting_mrr_usd), 0), coalesce(sum(new_mrr_usd), 0),
               coalesce(sum(expansion_mrr_usd), 0), coalesce(sum(reactivation_mrr_usd), 0),
               coalesce(sum(contraction_mrr_usd), 0), coalesce(sum(churned_mrr_usd), 0),
               coalesce(sum(ending_mrr_usd), 0)
        from marts.rpt_mrr_movements_monthly where mrr_month = ?
        """,
        [month],
    )[0]
    starting, new, expansion, reactivation, contraction, churned, ending = (float(value) for value in row)
    return [
        ("Starting", starting),
        ("New", new),
        ("Expansion", expansion),
        ("Reactivation", reactivation),
        ("Contraction", -contraction),
        ("Churned", -churned),
        ("Ending", ending),
    ]


def _retention(connection: duckdb.DuckDBPyConnection, month: date) -> list[tuple[date, float | None, float | None]]:
    """NRR and GRR of all segments together: the mart's formulas on the summed MRR.

    Null when no MRR was paying at the start, or when the summed base is below the shared minimums (less starting
    MRR than minimum_bases__mrr_usd, or fewer customers than minimum_bases__customers): the mart's "base below minimum".
    """
    return [
        (row[0], row[1], row[2])
        for row in _rows(
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
            [month, _add_months(month, -TREND_MONTHS)],
        )
    ]


def _speed_to_lead(connection: duckdb.DuckDBPyConnection, month: date) -> list[tuple[date, float | None, int]]:
    """Monthly SLA adherence over every owner and segment: within SLA / MQLs (null when fewer MQLs than the
    shared minimum_bases__leads, or none)."""
    return [
        (row[0], row[1], int(row[2]))
        for row in _rows(
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
            [month, _add_months(month, -TREND_MONTHS)],
        )
    ]


def _cac_payback(connection: duckdb.DuckDBPyConnection, month: date) -> list[tuple[str, float, str]]:
    """CAC payback of each paid channel over the twelve months ending with `month`.

    The mart's formula, cac / (arpa x gross margin), on the twelve months' sums: spend / (new MRR x gross margin).
    Channels with no new customer in the twelve months have no payback and are listed in the caption instead.
    """
    return [
        (str(row[0]), float(row[1]), f"({int(row[2])} new customers, ${float(row[3]):,.0f} spend)")
        for row in _rows(
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
            [month, _add_months(month, -CAC_PAYBACK_MONTHS)],
        )
    ]


def _closed_lost(connection: duckdb.DuckDBPyConnection, month: date) -> tuple[date | None, list[tuple]]:
    """The top-3 reasons of the latest quarter that ended by the end of `month`."""
    quarter = _rows(
        connection,
        """
        select max(close_quarter) from marts.rpt_closed_lost_reasons_quarterly
        where close_quarter + interval 3 month <= ? + interval 1 month
        """,
        [month],
    )[0][0]
    if quarter is None:
        return None, []
    rows = _rows(
        connection,
        """
        select loss_reason, lost_amount_usd, lost_deals_count, lost_deals_share, loss_reason_bucket
        from marts.rpt_closed_lost_reasons_quarterly
        where close_quarter = ? and is_top_3 order by loss_reason_rank
        """,
        [quarter],
    )
    return (quarter.date() if hasattr(quarter, "date") else quarter), rows


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

CSS = """
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; color: #1f2933; margin: 24px auto;
       max-width: 1200px; padding: 0 16px; background: #ffffff; }
h1 { font-size: 24px; margin-bottom: 4px; }
h2 { font-size: 18px; margin: 32px 0 4px; border-bottom: 1px solid #e4e7eb; padding-bottom: 4px; }
p.caption, p.subtitle { color: #52606d; font-size: 13px; margin: 4px 0 8px; }
nav a { margin-right: 12px; color: #2f6fbd; text-decoration: none; font-size: 14px; }
figure { margin: 0; }
figure svg { width: 100%; max-width: 960px; height: auto; }
table { border-collapse: collapse; font-size: 13px; width: 100%; }
th, td { border-bottom: 1px solid #e4e7eb; padding: 5px 10px; text-align: right; white-space: nowrap; }
th:first-child { text-align: left; font-weight: 500; }
thead th { background: #f5f7fa; font-weight: 600; }
table#scorecard-table { width: auto; min-width: 60%; }
td.null { color: #9aa5b1; }
.table-wrap { overflow-x: auto; }
"""


def _section(anchor: str, title: str, body: str, caption: str) -> str:
    return (
        f'<section id="{anchor}">\n<h2>{html.escape(title)}</h2>\n'
        f'<p class="caption">{html.escape(caption)}</p>\n{body}\n</section>'
    )


def _chart(svg: str, label: str) -> str:
    return f'<figure role="img" aria-label="{html.escape(label)}">\n{svg}\n</figure>'


def _scorecard_table(columns: list[str], rows: list[tuple]) -> str:
    """One row per KPI, one column per segment: the segments of a KPI side by side."""
    records = [dict(zip(columns, row, strict=True)) for row in rows]
    segments = [str(record["segment"]) for record in records]
    header = "".join(f"<th>{html.escape(segment)}</th>" for segment in segments)
    lines = [
        '<div class="table-wrap"><table id="scorecard-table">',
        f"<thead><tr><th>KPI</th>{header}</tr></thead>",
        "<tbody>",
    ]
    for column, title, kind in SCORECARD_COLUMNS:
        cells = [f'<th scope="row">{html.escape(title)}</th>']
        for segment, record in zip(segments, records, strict=True):
            value = record[column]
            text = html.escape(format_value(value, kind))
            where = f'data-segment="{html.escape(segment)}" data-column="{column}"'
            if is_missing(value):
                reason = record.get(NULL_REASONS.get(column, ""), None)
                tip = f' title="{html.escape(str(reason))}"' if reason else ""
                cells.append(f'<td class="null" {where}{tip}>{text}</td>')
            else:
                cells.append(f"<td {where}>{text}</td>")
        lines.append("<tr>" + "".join(cells) + "</tr>")
    lines += ["</tbody>", "</table></div>"]
    return "\n".join(lines)


def render_report(connection: duckdb.DuckDBPyConnection) -> Report:
    """Render the report from the marts `connection` can read."""
    month = latest_complete_month(connection)
    with matplotlib.rc_context(STYLE):
        columns, scorecard_rows = _scorecard(connection, month)
        stages, funnel_caption = _funnel(connection)
        funnel = funnel_chart(stages, funnel_caption)

        steps = _waterfall(connection, month)
        waterfall_title = f"MRR bridge, {_month_label(month)}, all segments"
        waterfall = waterfall_chart(steps, waterfall_title)

        retention = _retention(connection, month)
        retention_chart = line_chart(
            [row[0] for row in retention],
            [
                ("NRR", [row[1] for row in retention], COLORS["primary"]),
                ("GRR", [row[2] for row in retention], COLORS["secondary"]),
            ],
            "Monthly net and gross revenue retention, all segments",
        )

        speed = _speed_to_lead(connection, month)
        speed_chart = line_chart(
            [row[0] for row in speed],
            [("SLA adherence", [row[1] for row in speed], COLORS["primary"])],
            "Share of MQLs first touched within the SLA, by MQL month",
            bars=("MQLs", [row[2] for row in speed]),
        )

        payback = _cac_payback(connection, month)
        first_payback_month = _add_months(month, 1 - CAC_PAYBACK_MONTHS)
        payback_chart = hbar_chart(
            payback,
            f"CAC payback, {_month_label(first_payback_month)} \u2013 {_month_label(month)}",
            lambda value: f"{value:.1f}",
            "months of gross-margin new MRR to earn back the spend",
            unit=" months",
        )

        quarter, reasons = _closed_lost(connection, month)
        quarter_label = f"Q{(quarter.month - 1) // 3 + 1} {quarter.year}" if quarter else "no complete quarter"
        lost_chart = hbar_chart(
            [
                (str(reason), float(amount), f"({int(deals)} deals, {share:.0%} of the quarter's lost deals)")
                for reason, amount, deals, share, _bucket in reasons
            ],
            f"Top closed-lost reasons by lost amount, {quarter_label}",
            lambda value: _usd_axis(value, 0),
            "lost amount (USD)",
        )

        svgs = {
            "funnel": _svg(funnel),
            "mrr-waterfall": _svg(waterfall),
            "retention": _svg(retention_chart),
            "speed-to-lead": _svg(speed_chart),
            "cac-payback": _svg(payback_chart),
            "closed-lost": _svg(lost_chart),
        }
        key_png = _png(waterfall)

    month_label = _month_label(month)
    sections = [
        _section(
            "scorecard",
            f"Scorecard, {month_label}",
            _scorecard_table(columns, scorecard_rows),
            "marts.rpt_alignment_scorecard_monthly, one column per segment. A dash is a null; hover it for the reason.",
        ),
        _section(
            "funnel",
            "Lead funnel",
            _chart(svgs["funnel"], "funnel"),
            "marts.rpt_funnel_cohorts_monthly: leads of the MQL-month cohorts, each stage reached within the shared "
            "funnel conversion window. Only cohorts whose window has fully elapsed, so the counts are final.",
        ),
        _section(
            "mrr-waterfall",
            f"MRR movements, {month_label}",
            _chart(svgs["mrr-waterfall"], "MRR waterfall"),
            "marts.rpt_mrr_movements_monthly summed over segments: starting MRR, the month's movements, ending MRR.",
        ),
        _section(
            "retention",
            "NRR and GRR",
            _chart(svgs["retention"], "NRR and GRR trend"),
            "marts.rpt_retention_monthly: the mart's formulas on the MRR summed over segments; "
            f"the last {TREND_MONTHS} months. A gap is a month with no MRR at its start, or a base below the "
            "shared minimum bases (definitions.minimum_bases).",
        ),
        _section(
            "speed-to-lead",
            "Speed-to-lead SLA adherence",
            _chart(svgs["speed-to-lead"], "speed-to-lead SLA trend"),
            "marts.rpt_speed_to_lead_periods, month rows summed over owners and segments: MQLs first touched "
            "within the shared SLA / MQLs (line; a gap where the MQLs are fewer than the shared minimum base of "
            "leads); MQLs of the month (bars).",
        ),
        _section(
            "cac-payback",
            "CAC payback by channel",
            _chart(svgs["cac-payback"], "CAC payback by channel"),
            f"marts.rpt_unit_economics_monthly, paid channels over the {CAC_PAYBACK_MONTHS} months to {month_label}: "
            "spend / (new MRR x gross margin), the mart's cac / (arpa x gross margin) on the period's sums. "
            "Paid channels with no new customer in the period have no payback and are not shown.",
        ),
        _section(
            "closed-lost",
            "Closed-lost reasons",
            _chart(svgs["closed-lost"], "closed-lost top reasons"),
            "marts.rpt_closed_lost_reasons_quarterly, the latest complete quarter: the three reasons (is_top_3) "
            "product commits to address next quarter, by lost amount.",
        ),
    ]
    nav = " ".join(f'<a href="#{anchor}">{html.escape(title)}</a>' for anchor, title in SECTIONS)
    page = "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>Flywheel KPI report, {month_label}</title>",
            f"<style>{CSS}</style>",
            "</head>",
            "<body>",
            f"<h1>Flywheel KPI report: {month_label}</h1>",
            '<p class="subtitle">The alignment scorecard of the latest complete month, read from the marts. '
            "Generated by the reports/kpi_report asset; it needs no network.</p>",
            f"<nav>{nav}</nav>",
            *sections,
            "</body>",
            "</html>",
            "",
        ]
    )
    return Report(html=page, month=month, key_chart_png=key_png, key_chart_title=waterfall_title)


def empty_report(reason: str) -> str:
    """The page written when the marts hold no complete month to report on."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Flywheel KPI report</title></head>'
        f"<body><h1>Flywheel KPI report</h1><p>Nothing to report yet: {html.escape(reason)}.</p></body></html>\n"
    )


def write_report(connection: duckdb.DuckDBPyConnection, publish_dir: Path) -> tuple[Report, Path]:
    """Render the report and replace `<publish_dir>/kpi_report.html` atomically."""
    report = render_report(connection)
    path = publish_dir / REPORT_FILE
    atomic_write_text(path, report.html)
    return report, path
