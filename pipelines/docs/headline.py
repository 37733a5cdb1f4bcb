"""The README's headline numbers, read from the marts, so the README says what a build of the demo data shows.

`python -m pipelines.docs.headline [--warehouse PATH]` rewrites the block between the markers in README.md from a
built warehouse (`make run` first); a test rebuilds the block from the test suite's build of the seeds and fails when
the README is out of date.

Each headline is one query on a mart (a few on a fact) and a sentence. The month is the KPI report's month (the
latest complete month, `report.latest_complete_month`), so the README and the report speak of the same month.
Where a line sums a mart over segments or months it re-applies the mart's own formula to the summed numerator and
denominator, as the KPI report does, and the sentence says which months it covers.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
from jinja2 import Environment, StrictUndefined
from markupsafe import Markup

from pipelines.docs.report import latest_complete_month
from pipelines.docs.templating import render, replace_generated_block
from pipelines.spec.settings import PROJECT_ROOT, Settings

README_FILE = PROJECT_ROOT / "README.md"
START = "<!-- headline:start (generated from the demo build's marts by `make markdown-docs`; do not edit) -->"
END = "<!-- headline:end -->"


@dataclass(frozen=True)
class Headline:
    """One line of the table: a query returning one row of named values, and the sentence that shows them.

    The query may use `$month` (the report's month, a date) and `$year_start` (eleven months before it).
    """

    area: str
    mart: str
    sql: str
    sentence: str


HEADLINES: tuple[Headline, ...] = (
    Headline(
        "Revenue",
        "rpt_mrr_movements_monthly",
        """select sum(ending_mrr_usd) as mrr, sum(ending_customer_count) as customers, sum(new_mrr_usd) as new_mrr
        from marts.rpt_mrr_movements_monthly where mrr_month = $month""",
        "MRR {{ mrr|usd }} (about {{ (mrr * 12)|usd }} ARR) from {{ customers|count }} paying customers in"
        " {{ month_label }}; {{ new_mrr|usd }} new MRR that month",
    ),
    Headline(
        "Discounts, FX",
        "rpt_mrr_movements_monthly",
        """select sum(movements.discount_mrr_usd) as discounts, sum(movements.fx_mrr_usd) as fx,
            (select count(distinct months.customer_id) filter (where items.currency <> reporting.currency)
                / count(distinct months.customer_id)
            from marts.fct_mrr_customer_months as months
            inner join intermediate.int_subscription_items_priced as items on months.customer_id = items.customer_id
            cross join definitions.reporting as reporting
            where months.mrr_month = $month and months.mrr_usd > 0) as foreign_share
        from marts.rpt_mrr_movements_monthly as movements where movements.mrr_month = $month""",
        "{{ month_label }} MRR is net of {{ discounts|usd }} of coupons; {{ foreign_share|pct }} of paying customers"
        " are billed in another currency, and exchange rates moved MRR by {{ fx|usd }}",
    ),
    Headline(
        "Billing",
        "rpt_billing_monthly",
        """select invoiced_usd as invoiced, net_collected_usd as collected, collection_rate as rate,
            failed_charge_count as failed, refunded_usd as refunded
        from marts.rpt_billing_monthly where billing_month = $month""",
        "{{ month_label }}: {{ invoiced|usd }} invoiced, {{ rate|pct }} of it collected; {{ failed|count }} failed"
        " payments; {{ collected|usd }} net collected after {{ refunded|usd }} of refunds",
    ),
    Headline(
        "Retention",
        "rpt_retention_monthly",
        """select sum(starting_mrr_usd + expansion_mrr_usd - contraction_mrr_usd - churned_mrr_usd)
                / sum(starting_mrr_usd) as nrr,
            sum(starting_mrr_usd - contraction_mrr_usd - churned_mrr_usd) / sum(starting_mrr_usd) as grr,
            sum(trailing_12_month_retained_mrr_usd) filter (where mrr_month = $month)
                / sum(trailing_12_month_starting_mrr_usd) filter (where mrr_month = $month) as trailing_nrr
        from marts.rpt_retention_monthly where mrr_month between $year_start and $month""",
        "{{ year_label }}: monthly NRR {{ nrr|pct }}, GRR {{ grr|pct }}; trailing-12-month NRR {{ trailing_nrr|pct }}"
        " in {{ month_label }}",
    ),
    Headline(
        "Honest churn",
        "rpt_retention_monthly",
        """select sum(churned_customer_count) / sum(starting_customer_count) as naive,
            sum(churned_customer_count) / sum(eligible_customer_count) as honest,
            sum(churned_ineligible_customer_count) as mid_term
        from marts.rpt_retention_monthly where mrr_month between $year_start and $month""",
        "{{ year_label }}: monthly logo churn {{ naive|pct }} naive (all customers) against {{ honest|pct }} honest"
        " (customers whose contract let them churn, plus the {{ mid_term|count }} annual customers who cancelled"
        " mid-term)",
    ),
    Headline(
        "Reconciliation",
        "fct_crm_billing_findings",
        """select count(*) as findings,
            count(*) filter (where finding_type = 'won_without_billing') as unbilled,
            count(*) filter (where finding_type = 'billing_without_crm') as without_crm,
            count(*) filter (where finding_type = 'amount_mismatch') as amounts,
            count(*) filter (where finding_type = 'segment_mismatch') as segments
        from marts.fct_crm_billing_findings""",
        "{{ findings|count }} CRM-billing findings for RevOps: {{ unbilled|count }} won deals never billed,"
        " {{ without_crm|count }} paying customers without a CRM account, {{ amounts|count }} amount and"
        " {{ segments|count }} segment mismatches",
    ),
    Headline(
        "Funnel",
        "rpt_funnel_cohorts_monthly",
        """select sum(funnel_entered_count) as mqls, sum(accepted_count) / sum(funnel_entered_count) as accepted,
            sum(won_count) / sum(funnel_entered_count) as won,
            any_value(thresholds.funnel__conversion_window_days) as window_days
        from marts.rpt_funnel_cohorts_monthly cross join definitions.thresholds
        where cohort_type = 'mql_month' and is_cohort_mature""",
        "mature MQL cohorts: {{ mqls|count }} MQLs, {{ accepted|pct }} accepted, {{ won|pct }} won within"
        " {{ window_days|count }} days",
    ),
    Headline(
        "Definition drift",
        "rpt_definition_drift_monthly",
        """select sum(definition_mql_count) as shared, sum(crm_mql_count) as crm
        from marts.rpt_definition_drift_monthly""",
        "{{ shared|count }} MQLs under the shared definition (fit alone can qualify a lead at its creation) against"
        " {{ crm|count }} flagged by the marketing tool",
    ),
    Headline(
        "Speed-to-lead",
        "fct_speed_to_lead",
        """select count(*) as mqls, avg(is_within_sla::int) as within_sla, count(*) filter (where is_never_touched)
                as never_touched, median(minutes_to_first_touch) / 60 as median_hours,
            any_value(thresholds.speed_to_lead__sla_minutes) as sla_minutes
        from marts.fct_speed_to_lead cross join definitions.thresholds""",
        "{{ within_sla|pct }} of {{ mqls|count }} MQLs touched within the {{ sla_minutes|count }}-minute SLA;"
        " {{ never_touched|count }} never touched; median first touch {{ median_hours|number }} hours",
    ),
    Headline(
        "Disposition",
        "rpt_lead_disposition_monthly",
        """select sum(leads_accepted_count) / sum(leads_accepted_count + leads_rejected_count) as accepted,
            sum(rejections_without_reason_count) / sum(leads_rejected_count) as without_reason
        from marts.rpt_lead_disposition_monthly""",
        "{{ accepted|pct }} of sales decisions are acceptances; {{ without_reason|pct }} of rejections carry no"
        " valid reason",
    ),
    Headline(
        "Win rate",
        "fct_opportunity_outcomes",
        """select count(*) filter (where is_won and is_new_business) as won,
            count(*) filter (where is_lost and is_new_business) as lost,
            sum(amount_usd) filter (where is_won and is_new_business)
                / sum(amount_usd) filter (where (is_won or is_lost) and is_new_business) as by_amount,
            median(sales_cycle_days) filter (where is_won and is_new_business) as cycle_days,
            count(*) filter (where is_won) / count(*) filter (where is_won or is_lost) as every_type
        from marts.fct_opportunity_outcomes""",
        "new business: {{ (won / (won + lost))|pct }} by count, {{ by_amount|pct }} by amount ({{ won|count }} won,"
        " {{ lost|count }} lost), median sales cycle {{ cycle_days|number }} days; over every deal type"
        " {{ every_type|pct }}",
    ),
    Headline(
        "Closed-lost",
        "rpt_closed_lost_reasons_quarterly",
        """select any_value(close_quarter) as quarter,
            list({'reason': loss_reason, 'amount': lost_amount_usd} order by loss_reason_rank) as reasons
        from marts.rpt_closed_lost_reasons_quarterly
        where is_top_3 and close_quarter = (
            select max(close_quarter) from marts.rpt_closed_lost_reasons_quarterly
            where close_quarter + interval 3 month <= $month + interval 1 month
        )""",
        "top 3 reasons of {{ quarter|quarter }}: {{ reasons|reasons }}",
    ),
    Headline(
        "Pipeline",
        "rpt_pipeline_weekly",
        """select sum(open_deals_count) as deals, sum(open_pipeline_usd) as amount,
            sum(open_deals_count) filter (where opportunity_type = 'New Business') as new_deals,
            sum(open_pipeline_usd) filter (where opportunity_type = 'New Business') as new_amount
        from marts.rpt_pipeline_weekly
        where week_start = (select max(week_start) from marts.rpt_pipeline_weekly)""",
        "{{ deals|count }} open deals worth {{ amount|usd }} in the last week ({{ new_deals|count }} new business,"
        " {{ new_amount|usd }})",
    ),
    Headline(
        "Marketing",
        "rpt_marketing_contribution_monthly",
        """select sum(wasted_mql_count) / sum(mql_count) as wasted, sum(won_amount_usd) as won_amount
        from marts.rpt_marketing_contribution_monthly where not is_conversion_window_open""",
        "{{ wasted|pct }} of MQLs in cohorts old enough never reach sales-qualified (wasted MQLs);"
        " {{ won_amount|usd }} won from those cohorts",
    ),
    Headline(
        "Unit economics",
        "rpt_unit_economics_segments_monthly",
        """select sum(spend_usd) as spend,
            arg_max(segment, new_customer_count) filter (where month = $month) as segment,
            arg_max(cac_payback_months, new_customer_count) filter (where month = $month) as payback,
            arg_max(ltv_to_cac_ratio, new_customer_count) filter (where month = $month) as ltv_to_cac
        from marts.rpt_unit_economics_segments_monthly""",
        "{{ spend|usd }} ad spend over the data; {{ month_label }} {{ segment }} (the segment with most new"
        " customers) CAC payback {{ payback|number }} months, LTV:CAC {{ ltv_to_cac|number }}",
    ),
)


def _usd(value: Any) -> str:
    amount = float(value)
    if abs(amount) >= 1_000_000:
        return f"${amount / 1_000_000:.2f}M"
    if abs(amount) >= 1_000:
        return f"${amount / 1_000:.1f}k"
    return f"${amount:,.0f}"


def _pct(value: Any) -> str:
    return "n/a" if value is None else f"{float(value):.1%}"


def _number(value: Any) -> str:
    return "n/a" if value is None else f"{float(value):,.1f}"


def _count(value: Any) -> str:
    return f"{int(value):,}"


def _quarter(value: date) -> str:
    return f"Q{(value.month - 1) // 3 + 1} {value.year}"


def _reasons(value: list[dict[str, Any]]) -> str:
    """The top reasons as `Price ($0.90M), No Decision ($0.73M), ...`."""
    return ", ".join(f"{item['reason']} ({_usd(item['amount'])})" for item in value)


FILTERS = {"usd": _usd, "pct": _pct, "number": _number, "count": _count, "quarter": _quarter, "reasons": _reasons}


def _year_start(month: date) -> date:
    """The first of the twelve months that end with `month`."""
    index = month.year * 12 + month.month - 1 - 11
    return date(index // 12, index % 12 + 1, 1)


def _values(connection: duckdb.DuckDBPyConnection, headline: Headline, month: date) -> dict[str, Any]:
    parameters = {"month": month, "year_start": _year_start(month)}
    used = {name: value for name, value in parameters.items() if f"${name}" in headline.sql}
    result = connection.execute(headline.sql, used)
    names = [column[0] for column in result.description]
    row = result.fetchone()
    if row is None:
        raise ValueError(f"marts.{headline.mart} gave no row for its headline")
    return dict(zip(names, row, strict=True))


def headline_rows(connection: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str]]:
    """(area, sentence, mart) of each headline, for the report's month."""
    month = latest_complete_month(connection)
    sentences = Environment(undefined=StrictUndefined, autoescape=False)
    sentences.filters.update(FILTERS)
    labels = {"month_label": f"{month:%B %Y}", "year_label": f"{_year_start(month):%b %Y} to {month:%b %Y}"}
    return [
        (
            headline.area,
            Markup(sentences.from_string(headline.sentence).render(**labels, **_values(connection, headline, month))),
            headline.mart,
        )
        for headline in HEADLINES
    ]


def headline_block(connection: duckdb.DuckDBPyConnection) -> str:
    """The Markdown table of the headline numbers."""
    return render("readme/headline.md.j2", rows=headline_rows(connection)).rstrip("\n")


def render_readme(readme: str, block: str) -> str:
    return replace_generated_block(readme, block, START, END, "README.md")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.docs.headline", description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, help="the built warehouse (default: the configured one)")
    args = parser.parse_args(argv)
    warehouse = args.warehouse or Settings.from_env().warehouse
    if not Path(warehouse).exists():
        print(f"no warehouse at {warehouse}: run `make run` first", file=sys.stderr)
        return 1
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        block = headline_block(connection)
    README_FILE.write_text(render_readme(README_FILE.read_text(), block))
    print(f"wrote the headline numbers of {warehouse} to {README_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
