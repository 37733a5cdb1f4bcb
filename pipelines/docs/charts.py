"""The KPI report's charts: matplotlib figures, saved as inline SVG for the page and PNG for the Dagster UI.

Charts are drawn on `matplotlib.figure.Figure` objects directly, never through pyplot, so no GUI backend is ever
chosen and nothing global is left behind: PNG goes through the Agg canvas, SVG through the SVG one. Draw them inside
`matplotlib.rc_context(STYLE)`: the style fixes the SVG ids (a hash salt) and draws text as paths, and `svg` and
`png` leave the dates and URLs out of the files' metadata, so the same data gives the same bytes.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Callable
from datetime import date
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

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


def _figure(width: float, height: float) -> tuple[Figure, Axes]:
    figure = Figure(figsize=(width, height), layout="constrained")
    axes = figure.subplots()
    return figure, axes


def svg(figure: Figure) -> str:
    """The figure as an inline <svg> element: no XML prolog, DOCTYPE or RDF metadata (which hold URLs)."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.DOTALL)
    return text.strip()


def png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80, metadata={"Software": None})
    return buffer.getvalue()


def usd_axis(value: float, _position: int) -> str:
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
        text = usd_axis(value, 0) if total else ("+" if value >= 0 else "\u2212") + usd_axis(abs(value), 0)
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
        axes.set_ylabel(f"MRR (axis starts at {usd_axis(floor, 0)})", color=COLORS["muted"])
    axes.yaxis.set_major_formatter(FuncFormatter(usd_axis))
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
