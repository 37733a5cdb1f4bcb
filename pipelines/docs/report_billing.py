"""The billing sections of the KPI report: billed and collected money beside MRR, and where the CRM and billing
disagree. Queries only: report.py renders them; no KPI is recomputed, the marts' numbers are shown as they are."""

from __future__ import annotations

from datetime import date

import duckdb

from pipelines.docs.report_values import TREND_MONTHS, add_months, format_value, rows

# The findings the reconciliation section lists: the ones with the most money at stake.
TOP_FINDINGS = 5


def billing_trend(connection: duckdb.DuckDBPyConnection, month: date) -> list[tuple[date, float, float, float, int]]:
    """Per month of the trend: invoiced, net collected and MRR (USD), and the failed payment attempts, as the billing
    mart has them (no KPI recomputed)."""
    return [
        (row[0], float(row[1]), float(row[2]), float(row[3]), int(row[4]))
        for row in rows(
            connection,
            """
            select billing_month, invoiced_usd, net_collected_usd, mrr_usd, failed_charge_count
            from marts.rpt_billing_monthly
            where billing_month <= ? and billing_month > ?
            order by billing_month
            """,
            [month, add_months(month, -TREND_MONTHS)],
        )
    ]


def reconciliation_findings(connection: duckdb.DuckDBPyConnection, month: date) -> tuple[list[tuple], list[tuple]]:
    """Findings per type (in `month`, and all of them: a finding stays open until its source is fixed, and a segment
    finding is dated by the running month), and the TOP_FINDINGS with the most money at stake (the billed ARR, else
    the CRM amount), newest first among equals."""
    counts = rows(
        connection,
        """
        select finding_type, sum(finding_count) filter (where finding_month = ?), sum(finding_count)
        from marts.rpt_crm_billing_reconciliation_monthly
        group by finding_type order by finding_type
        """,
        [month],
    )
    top = rows(
        connection,
        """
        select finding_type, coalesce(opportunity_id, customer_id), finding_detail,
               coalesce(billing_arr_usd, crm_amount_usd)
        from marts.fct_crm_billing_findings
        order by coalesce(billing_arr_usd, crm_amount_usd) desc nulls last, finding_month desc, finding_id
        limit ?
        """,
        [TOP_FINDINGS],
    )
    return [(kind, int(in_month or 0), int(total or 0)) for kind, in_month, total in counts], [
        (kind, record, detail, format_value(at_stake, "usd")) for kind, record, detail, at_stake in top
    ]
