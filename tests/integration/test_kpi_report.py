"""The KPI report on the hand-worked scorecard data of `test_alignment_scorecard`.

The scorecard's months are those of its MRR bridge, which ends with March 2026 (the month the billing data ends
in, so in progress): the report's latest complete month is February 2026. Its scorecard rows, worked by hand in
`test_alignment_scorecard`:

| segment    | starting | new  | net new | ending | NRR   | MQLs | sales-qualified | win rate | SLA  | CAC payback |
| Enterprise | $0       | $300 | $300    | $300   | null  | 1    | 1               | 100%     | null | 0.83        |
| Mid-Market | $600     | $0   | $0      | $600   | 100%  | 0    | 0               | 0%       | null | null        |
| SMB        | $1,600   | $0   | -$1,000 | $600   | 37.5% | 1    | 0               | null     | null | null        |

The company's minimum bases are 1 customer, $400 of MRR and 2 leads (test_alignment_scorecard.MINIMUM_BASES): the
SLA adherence of one MQL (SMB: J, 0 of 1; Enterprise: I, 1 of 1) is null, "base below minimum" on hover. Summed
over segments for the speed-to-lead chart, February has 2 MQLs (J, I), exactly the minimum: 1 / 2 = 50%.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.docs.report import REPORT_FILE, REPORT_KEY, SCORECARD_COLUMNS, SECTIONS, format_value, render_report
from pipelines.spec.settings import Settings

MONTH = date(2026, 2, 1)


@dataclass(frozen=True)
class Built:
    settings: Settings
    html: str
    key_chart_png: bytes
    metadata: dict[str, object]


@pytest.fixture(scope="module")
def built(scorecard_build: tuple[Settings, dg.ExecuteInProcessResult]) -> Iterator[Built]:
    settings, result = scorecard_build
    assert result.success
    # The CRM-billing reconciliation warns on this input (customers outside their CRM segment): not a failure.
    assert not [
        evaluation.check_name
        for evaluation in result.get_asset_check_evaluations()
        if not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR
    ]
    [materialization] = [
        event.event_specific_data.materialization  # type: ignore[union-attr]
        for event in result.get_asset_materialization_events()
        if event.asset_key == dg.AssetKey(list(REPORT_KEY))
    ]
    path = settings.published_dir / REPORT_FILE
    metadata = dict(materialization.metadata)
    chart = metadata["key_chart"]
    assert isinstance(chart, dg.MarkdownMetadataValue)
    png = base64.b64decode(str(chart.md_str).split("data:image/png;base64,")[1].rstrip(")"))
    yield Built(settings, path.read_text(), png, metadata)


class TableParser(HTMLParser):
    """The cells of the scorecard table: {segment: {column: text}}, from each cell's data-segment and data-column."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, dict[str, str]] = {}
        self.in_table = False
        self.cell: tuple[str, str] | None = None
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "table" and attributes.get("id") == "scorecard-table":
            self.in_table = True
        elif self.in_table and tag == "td":
            self.cell, self.text = (str(attributes["data-segment"]), str(attributes["data-column"])), ""

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self.cell is not None:
            segment, column = self.cell
            self.rows.setdefault(segment, {})[column] = self.text
            self.cell = None
        elif tag == "table":
            self.in_table = False


def table_cells(page: str) -> dict[str, dict[str, str]]:
    parser = TableParser()
    parser.feed(page)
    return parser.rows


def section(page: str, anchor: str) -> str:
    match = re.search(rf'<section id="{anchor}">(.*?)</section>', page, flags=re.DOTALL)
    assert match, f"no section {anchor}"
    return match.group(1)


def test_every_section_is_there_with_its_chart(built: Built) -> None:
    assert "<h1>Flywheel KPI report: Feb 2026</h1>" in built.html
    for anchor, _ in SECTIONS:
        body = section(built.html, anchor)
        if anchor == "scorecard":
            assert '<table id="scorecard-table">' in body
        elif anchor == "reconciliation":
            assert '<table id="reconciliation-counts">' in body and '<table id="reconciliation-top">' in body
        else:
            assert body.count("<svg") == 1, anchor
    assert "MRR bridge, Feb 2026, all segments" in section(built.html, "mrr-waterfall")
    assert "marts.rpt_billing_monthly" in section(built.html, "billing")


def test_scorecard_table_is_the_mart_for_the_latest_complete_month(built: Built) -> None:
    cells = table_cells(built.html)
    columns = [column for column, _, _ in SCORECARD_COLUMNS]
    with duckdb.connect(str(built.settings.warehouse), read_only=True) as connection:
        rows = connection.execute(
            f"select segment, {', '.join(columns)} from marts.rpt_alignment_scorecard_monthly where month = ?",
            [MONTH],
        ).fetchall()
    assert set(cells) == {row[0] for row in rows} == {"SMB", "Mid-Market", "Enterprise", "Unknown"}
    kinds = [(column, kind) for column, _, kind in SCORECARD_COLUMNS]
    for segment, *values in rows:
        expected = {column: format_value(value, kind) for (column, kind), value in zip(kinds, values, strict=True)}
        assert cells[segment] == expected, segment
    # and the hand-worked numbers of the docstring
    smb, mid_market, enterprise = cells["SMB"], cells["Mid-Market"], cells["Enterprise"]
    assert (smb["starting_mrr_usd"], smb["net_new_mrr_usd"], smb["ending_mrr_usd"]) == ("$1,600", "-$1,000", "$600")
    assert (smb["nrr"], smb["grr"], smb["mql_count"], smb["sla_adherence_rate"]) == ("37.5%", "37.5%", "1", "\u2013")
    assert (smb["win_rate"], smb["definition_drift_count"]) == ("\u2013", "2")
    assert (mid_market["starting_mrr_usd"], mid_market["nrr"], mid_market["win_rate"]) == ("$600", "100.0%", "0.0%")
    assert (enterprise["new_mrr_usd"], enterprise["win_rate"], enterprise["sla_adherence_rate"]) == (
        "$300",
        "100.0%",
        "\u2013",
    )
    assert enterprise["cac_payback_months"] == "0.83"  # 200 / (300 x 0.8) = 0.8333
    # a null shows its reason on hover
    assert 'title="no new customer from a paid channel in the month"' in built.html
    assert 'data-column="sla_adherence_rate" title="base below minimum"' in built.html


def test_self_contained(built: Built) -> None:
    page = built.html
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", page, flags=re.IGNORECASE)
    assert not re.search(r"url\(\s*['\"]?(?:https?:)?//", page, flags=re.IGNORECASE)
    assert "<script" not in page.lower()
    assert "<link" not in page.lower()
    assert "<img" not in page.lower()
    # every href is an anchor inside the page
    assert {href[0] for href in re.findall(r'href="([^"]*)"', page)} <= {"#"}


def test_same_data_same_bytes(built: Built) -> None:
    # the asset rendered once; render again from the same marts
    with duckdb.connect(str(built.settings.warehouse), read_only=True) as connection:
        again = render_report(connection)
    assert again.html == built.html
    assert again.key_chart_png == built.key_chart_png


def test_metadata_carries_the_key_chart_and_the_path(built: Built) -> None:
    report = built.metadata["report"]
    assert isinstance(report, dg.PathMetadataValue)
    assert Path(report.path) == built.settings.published_dir / REPORT_FILE
    chart = built.metadata["key_chart"]
    assert isinstance(chart, dg.MarkdownMetadataValue)
    assert "](data:image/png;base64,iVBORw0KGgo" in str(chart.md_str)
    assert built.metadata["month"] == dg.TextMetadataValue("2026-02-01")


def test_trend_charts_follow_the_minimum_bases(built: Built) -> None:
    """The report's own sums over segments obey the shared minimums (2 leads, $400 and 1 customer here).

    February 2026: 2 MQLs summed (J untouched, I within the SLA): exactly the minimum, 1 / 2 published; a month
    with a single MQL has no adherence. NRR summed over segments, February 2026: starting $1,600 + $600 = $2,200
    (4 customers), ending $600 + $600 = $1,200 of them: 1,200 / 2,200.
    """
    from pipelines.docs.report import _retention, _speed_to_lead

    with duckdb.connect(str(built.settings.warehouse), read_only=True) as connection:
        speed = {month: (rate, mqls) for month, rate, mqls in _speed_to_lead(connection, MONTH)}
        retention = {month: (nrr, grr) for month, nrr, grr in _retention(connection, MONTH)}
    assert speed[MONTH] == (pytest.approx(0.5), 2)
    assert all((rate is None) == (mqls < 2) for rate, mqls in speed.values())
    assert retention[MONTH][0] == pytest.approx(1200 / 2200)


def test_reconciliation_counts_findings_per_type_and_lists_the_top_ones(built: Built) -> None:
    """The scorecard company's CRM-billing findings (definitions.reconciliation: ARR below $20,000 implies SMB):
    C2 (account of 500 employees, Mid-Market) paying $400 a month, ARR $4,800; C5 (500, Mid-Market) $200, ARR
    $2,400; C6 (2,000, Enterprise) $300, ARR $3,600: three segment mismatches, dated March 2026, their latest paying
    month, so none in February. No deal is won without billing or billed at another amount; every paying customer
    has its CRM account."""
    body = section(built.html, "reconciliation")
    counts = re.findall(r'<tr><th scope="row">(\w+)</th><td>(\d+)</td><td>(\d+)</td></tr>', body)
    assert counts == [
        ("amount_mismatch", "0", "0"),
        ("billing_without_crm", "0", "0"),
        ("segment_mismatch", "0", "3"),
        ("won_without_billing", "0", "0"),
    ]
    top = re.findall(r"<tr><td>(\w+)</td><td>(\w+)</td><td>([^<]+)</td>", body)
    assert top == [
        ("segment_mismatch", "cus_C2", "$4,800"),
        ("segment_mismatch", "cus_C6", "$3,600"),
        ("segment_mismatch", "cus_C5", "$2,400"),
    ]
