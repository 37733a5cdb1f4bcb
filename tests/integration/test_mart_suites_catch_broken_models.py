"""Every mart suite fails on a mart that deviates from its own header, and the failure blocks the step.

The marts' cases of test_suites_catch_broken_models.py, in their own module: the same inputs, the same good build of
each input (one per session, shared by both modules) and the same assertions. Each case breaks its mart in several
places in one rebuild (`Mutation.also`), each caught by the expectation it names.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

import tests.integration.test_suites_catch_broken_models as shared
from tests.integration.test_suites_catch_broken_models import Case, GoodBuild, Mutation

good_build = shared.good_build  # the good builds of the definition suites' module, shared with its cases

LEAD_FUNNEL = Case(
    suite="lead_funnel_mart",
    model="marts/fct_lead_funnel",
    downstream=None,
    raw="leads",
    mutations=(
        # The sales-sourced leads (L6, H) get an MQL at their creation; LA's opportunity, created before LA was
        # accepted, counts (a negative number of days from acceptance); segments lowercased.
        Mutation(
            "sales-sourced leads given an MQL",
            "        staged.mql_at,",
            "        coalesce(staged.mql_at, staged.created_at) as mql_at,",
            catches="a sales-sourced lead has no MQL",
            also=(
                Mutation(
                    "opportunity counted before acceptance",
                    "when opportunities.created_at >= lifecycle.accepted_at then opportunities.created_at",
                    "when true then opportunities.created_at",
                    catches="the days from acceptance to the opportunity's creation are not negative",
                ),
                Mutation(
                    "segment lowercased",
                    "        staged.segment,",
                    "        lower(staged.segment) as segment,",
                    catches="every segment is one of the shared size bands or the unknown segment",
                ),
            ),
        ),
    ),
)

# In the leads build (LEAD_DEFINITIONS of the shared module) the minimum base is 2 leads.
DEFINITION_DRIFT = Case(
    suite="definition_drift_mart",
    model="marts/rpt_definition_drift_monthly",
    downstream=None,
    raw="leads",
    mutations=(
        # Organic in January (one lead an MQL to the tool only) publishes an agreement rate below the minimum; the
        # tool-only count takes every lead the definition does not call an MQL; months a year late.
        Mutation(
            "agreement published below the minimum",
            ">= greatest(min(thresholds.minimum_bases__leads), 1)",
            ">= 1",
            catches="mql_agreement_rate is null when mql_agreement_null_reason gives a reason",
            also=(
                Mutation(
                    "tool-only count not limited to the tool's MQLs",
                    "(where flagged.is_crm_mql and not flagged.is_definition_mql) as crm_only_mql_count",
                    "(where flagged.is_crm_mql or not flagged.is_definition_mql) as crm_only_mql_count",
                    catches="MQLs of the tool only are among the tool's MQLs",
                ),
                Mutation(
                    "months a year late",
                    ") as date) as drift_month,",
                    ") as date) + interval 1 year as drift_month,",
                    catches="no month starts after the as-of month",
                ),
            ),
        ),
    ),
)

LEAD_DISPOSITION = Case(
    suite="lead_disposition_mart",
    model="marts/rpt_lead_disposition_monthly",
    downstream=None,
    raw="leads",
    mutations=(
        # Organic in January (one rejection) publishes an acceptance rate below the minimum, and its rejection rate
        # is withheld without a reason; months a year late.
        Mutation(
            "acceptance rate published below the minimum",
            ">= greatest(thresholds.minimum_bases__leads, 1)\n                then counted.leads_accepted_count",
            ">= 1\n                then counted.leads_accepted_count",
            catches="acceptance_rate is null when acceptance_rate_null_reason gives a reason",
            also=(
                Mutation(
                    "no reason below the minimum",
                    "when counted.leads_rejected_count < thresholds.minimum_bases__leads then 'base below minimum'",
                    "when counted.leads_rejected_count < 0 then 'base below minimum'",
                    catches="rejection_without_reason_rate is published when rejection_without_reason_null_reason",
                ),
                Mutation(
                    "months a year late",
                    "        counted.disposition_month,",
                    "        cast(counted.disposition_month + interval 1 year as date) as disposition_month,",
                    catches="no month starts after the as-of month",
                ),
            ),
        ),
    ),
)

LEAD_REJECTION_REASONS = Case(
    suite="lead_rejection_reasons_mart",
    model="marts/rpt_lead_rejection_reasons_monthly",
    downstream=None,
    raw="leads",
    mutations=(
        # L2's rejection without a reason (the unspecified one) is not flagged unspecified; shares in percent; ranks
        # from 0.
        Mutation(
            "unspecified flag flipped",
            "coalesce(rejection_reasons.is_unspecified, false) as is_unspecified_reason",
            "coalesce(not rejection_reasons.is_unspecified, false) as is_unspecified_reason",
            catches="a reason not flagged unspecified is not the shared unspecified reason",
            also=(
                Mutation(
                    "share in percent",
                    "counted.rejections_count / nullif(",
                    "100 * counted.rejections_count / nullif(",
                    catches="the share of the month and channel's rejections is between 0 and 1",
                ),
                Mutation(
                    "ranks from 0",
                    ") as rejection_reason_rank",
                    ") - 1 as rejection_reason_rank",
                    catches="ranks start at 1",
                ),
            ),
        ),
    ),
)

MARKETING_CONTRIBUTION = Case(
    suite="marketing_contribution_mart",
    model="marts/rpt_marketing_contribution_monthly",
    downstream=None,
    raw="leads",
    mutations=(
        # Organic cohorts (one MQL) publish a wasted share below the minimum; Paid Search in January counts its
        # sales-qualified MQL among the open windows (9 of 8 wasted); revenue per MQL negated; months a year late.
        Mutation(
            "wasted share published below the minimum",
            "when cohorts.mql_count >= greatest(thresholds.minimum_bases__leads, 1)",
            "when cohorts.mql_count >= 1",
            catches="wasted_mql_share is null when wasted_mql_share_null_reason gives a reason",
            also=(
                Mutation(
                    "open windows counted among every MQL",
                    "where lead_outcomes.is_wasted_mql and lead_outcomes.mql_window_ends_at > as_of.as_of_at",
                    "where lead_outcomes.mql_window_ends_at > as_of.as_of_at",
                    catches="wasted MQLs with an open window are among the wasted MQLs",
                ),
                Mutation(
                    "revenue per MQL negated",
                    "cohorts.won_amount_usd / nullif(cohorts.mql_count, 0) as revenue_per_mql_usd",
                    "-cohorts.won_amount_usd / nullif(cohorts.mql_count, 0) as revenue_per_mql_usd",
                    catches="revenue per MQL is not negative",
                ),
                Mutation(
                    "months a year late",
                    "        cohorts.lead_month,",
                    "        cast(cohorts.lead_month + interval 1 year as date) as lead_month,",
                    catches="no month starts after the as-of month",
                ),
            ),
        ),
    ),
)

SPEED_TO_LEAD_PERIODS = Case(
    suite="speed_to_lead_periods_mart",
    model="marts/rpt_speed_to_lead_periods",
    downstream=None,
    raw="leads",
    mutations=(
        # Rows of one MQL publish an adherence rate below the minimum; the 10th percentile passes for the 90th;
        # untouched MQLs count as within the SLA; periods a year late.
        Mutation(
            "adherence published below the minimum",
            "when count(*) >= min(thresholds.minimum_bases__leads)",
            "when count(*) >= 1",
            catches="sla_adherence_rate is null when sla_adherence_null_reason gives a reason",
            also=(
                Mutation(
                    "10th percentile for the 90th",
                    "quantile_cont(assigned.minutes_to_first_touch, 0.9)",
                    "quantile_cont(assigned.minutes_to_first_touch, 0.1)",
                    catches="the 90th percentile minutes to first touch are at least the median",
                ),
                Mutation(
                    "untouched MQLs within the SLA",
                    "count(*) filter (where assigned.is_within_sla) as within_sla_count",
                    "count(*) filter (where assigned.is_within_sla or assigned.is_never_touched) as within_sla_count",
                    catches="MQLs within the SLA are among the touched MQLs",
                ),
                Mutation(
                    "periods a year late",
                    "        periods.period_start,",
                    "        periods.period_start + interval 1 year as period_start,",
                    catches="no period starts after the as-of time",
                ),
            ),
        ),
    ),
)

CLOSED_LOST_REASONS = Case(
    suite="closed_lost_reasons_mart",
    model="marts/rpt_closed_lost_reasons_quarterly",
    downstream=None,
    raw="opportunities",
    mutations=(
        # The unspecified reason is ranked; lost amounts negated; the quarter's total is its smallest reason's count;
        # buckets lowercased.
        Mutation(
            "unspecified reason ranked",
            "when not by_reason.is_unspecified\n                then row_number()",
            "when true\n                then row_number()",
            catches="the unspecified reason is never ranked",
            also=(
                Mutation(
                    "lost amount negated",
                    "sum(lost.amount_usd) as lost_amount_usd",
                    "-sum(lost.amount_usd) as lost_amount_usd",
                    catches="the lost amount is not negative",
                ),
                Mutation(
                    "quarter total from its smallest reason",
                    "sum(by_reason.lost_deals_count) over (partition by by_reason.close_quarter)",
                    "min(by_reason.lost_deals_count) over (partition by by_reason.close_quarter)",
                    catches="a reason's lost deals are among the quarter's lost deals",
                ),
                Mutation(
                    "bucket lowercased",
                    "        lost.loss_reason_bucket,\n",
                    "        lower(lost.loss_reason_bucket) as loss_reason_bucket,\n",
                    catches="every bucket is a bucket of the shared closed-lost taxonomy",
                ),
            ),
        ),
    ),
)

PIPELINE_WEEKLY = Case(
    suite="pipeline_weekly_mart",
    model="marts/rpt_pipeline_weekly",
    downstream=None,
    raw="opportunities",
    mutations=(
        # A deal created already won counts as open in its creation week; closed deals count as aging; deal types
        # in capitals; weeks a week late (past the as-of time in the last one).
        Mutation(
            "deals of their creation week open",
            "count(*) filter (where deal_weeks.is_open) as open_deals_count",
            "count(*) filter (where deal_weeks.is_open or deal_weeks.is_created_week) as open_deals_count",
            catches="no deal in the shared won or lost stage is open",
            also=(
                Mutation(
                    "closed deals aging",
                    "count(*) filter (where deal_weeks.is_aging) as aging_deals_count",
                    "count(*) filter (where deal_weeks.is_aging or not deal_weeks.is_open) as aging_deals_count",
                    catches="aging deals are among the open deals",
                ),
                Mutation(
                    "deal types in capitals",
                    "        sourced_opportunities.opportunity_type,\n",
                    "        upper(sourced_opportunities.opportunity_type) as opportunity_type,\n",
                    catches="every deal type is one of the shared opportunity types",
                ),
                Mutation(
                    "weeks a week late",
                    "        opportunity_weeks.week_start,",
                    "        opportunity_weeks.week_start + interval 7 day as week_start,",
                    catches="no week starts after the as-of time",
                ),
            ),
        ),
    ),
)

# The unit-economics build: every deal owned by 005R1, no 12-month window complete, the data ending in March 2026.
CUSTOMER_ACQUISITIONS = Case(
    suite="customer_acquisitions_mart",
    model="marts/fct_customer_acquisitions",
    downstream="marts/rpt_rep_retained_revenue",
    raw="unit_economics",
    mutations=(
        # MRR 12 months on is filled in young windows; A1's latest win (the expansion O5) closes it; first paying
        # months a year late; segments lowercased.
        Mutation(
            "MRR 12 months on filled before the window is complete",
            "then window_movements.mrr_12_month_usd",
            "then window_movements.mrr_12_month_usd else 0",
            catches="mrr_12_month_usd is null until the 12-month window is complete",
            also=(
                Mutation(
                    "every deal type closes an account",
                    "        and opportunities.is_new_business\n",
                    "",
                    catches="a closing deal is of the shared new-business type",
                ),
                Mutation(
                    "the latest win closes the account",
                    "order by won_opportunities.closed_at, won_opportunities.opportunity_id",
                    "order by won_opportunities.closed_at desc, won_opportunities.opportunity_id",
                    catches="a closing deal is of the shared new-business type",
                ),
                Mutation(
                    "first paying months a year late",
                    "        sourced.first_paid_month,",
                    "        cast(sourced.first_paid_month + interval 1 year as date) as first_paid_month,",
                    catches="no first paying month starts after the as-of month",
                ),
                Mutation(
                    "segment lowercased",
                    "        sourced.segment,",
                    "        lower(sourced.segment) as segment,",
                    catches="every segment is one of the shared size bands or the unknown segment",
                ),
            ),
        ),
    ),
)

REP_RETAINED_REVENUE = Case(
    suite="rep_retained_revenue_mart",
    model="marts/rpt_rep_retained_revenue",
    downstream=None,
    raw="unit_economics",
    mutations=(
        # An NRR that cannot be computed reads 0; a deal fewer counted than were credited to the owner; close months
        # two months late (April from February, past the as-of month).
        Mutation(
            "missing NRR read as 0",
            "then rep_months.retained_12_month_mrr_usd / rep_months.mature_new_mrr_usd\n",
            "then rep_months.retained_12_month_mrr_usd / rep_months.mature_new_mrr_usd\n            else 0\n",
            catches="nrr_12_month is null when nrr_12_month_null_reason gives a reason",
            also=(
                Mutation(
                    "deals won off by one",
                    "count(distinct acquisitions.closing_opportunity_id) as deals_won_count",
                    "count(distinct acquisitions.closing_opportunity_id) - 1 as deals_won_count",
                    catches="deals credited to the current owner are among the rep's deals",
                ),
                Mutation(
                    "close months two months late",
                    "as date)\n            as close_month,",
                    "as date) + interval 2 month\n            as close_month,",
                    catches="no month starts after the as-of month",
                ),
            ),
        ),
    ),
)

PQL_REVENUE = Case(
    suite="pql_revenue_mart",
    model="marts/rpt_pql_revenue_monthly",
    downstream=None,
    raw="unit_economics",
    mutations=(
        # Source other gets a qualified count; the qualified-to-won rate inverted (5 MQLs over 4 wins in January);
        # cohorts without a sales-qualified lead give no reason; the month spine runs two months past its last event.
        Mutation(
            "funnel columns for source other",
            "case when sources.source <> 'other' then coalesce(qualification_cohorts.qualified_count, 0) end",
            "coalesce(qualification_cohorts.qualified_count, 0)",
            catches="source other has no funnel columns",
            also=(
                Mutation(
                    "qualified-to-won rate inverted",
                    "then joined.won_count / joined.qualified_count",
                    "then joined.qualified_count / joined.won_count",
                    catches="the qualified-to-won rate is between 0 and 1",
                ),
                Mutation(
                    "no reason without a sales-qualified lead",
                    "when joined.sales_qualified_count = 0 then 'none sales-qualified'",
                    "when joined.sales_qualified_count < 0 then 'none sales-qualified'",
                    catches="sales_qualified_to_won_rate is published when sales_qualified_to_won_null_reason is empty",
                ),
                Mutation(
                    "month spine past the horizon",
                    "least(max(event_months.cohort_month), min(horizon_month.as_of_month)) as last_month",
                    "cast(max(event_months.cohort_month) + interval 2 month as date) as last_month",
                    catches="no month starts after the as-of month",
                ),
            ),
        ),
    ),
)

UNIT_ECONOMICS_SEGMENTS = Case(
    suite="unit_economics_segments_mart",
    model="marts/rpt_unit_economics_segments_monthly",
    downstream="marts/rpt_alignment_scorecard_monthly",
    raw="unit_economics",
    mutations=(
        # Every segment's spend counts as unallocated; months without an MQL give no reason for their missing cost
        # per MQL; the lifetime doubled past the cap; the churn rate fourfold (SMB in February: 4/13 x 4).
        Mutation(
            "all spend unallocated",
            "coalesce(sum(channel_economics.spend_usd) filter (where channel_economics.is_spend_unallocated), 0)",
            "coalesce(sum(channel_economics.spend_usd), 0)",
            catches="spend is unallocated only in the unknown segment",
            also=(
                Mutation(
                    "no reason without an MQL",
                    "case when economics.mql_count = 0 then 'no MQL in the month' end",
                    "case when economics.mql_count < 0 then 'no MQL in the month' end",
                    catches="cost_per_mql_usd is published when cost_per_mql_null_reason is empty",
                ),
                Mutation(
                    "lifetime doubled",
                    "max(channel_economics.expected_lifetime_months) as expected_lifetime_months",
                    "2 * max(channel_economics.expected_lifetime_months) as expected_lifetime_months",
                    catches="no expected lifetime is longer than the shared lifetime cap",
                ),
                Mutation(
                    "churn rate fourfold",
                    "max(channel_economics.revenue_churn_rate) as revenue_churn_rate",
                    "4 * max(channel_economics.revenue_churn_rate) as revenue_churn_rate",
                    catches="the revenue churn rate is between 0 and 1",
                ),
            ),
        ),
    ),
)

ALIGNMENT_SCORECARD = Case(
    suite="alignment_scorecard_mart",
    model="marts/rpt_alignment_scorecard_monthly",
    downstream=None,
    raw="unit_economics",
    mutations=(
        # Months with one closed deal say none closed; SLA adherence inverted (SMB in January: 3 MQLs / (0 + 1));
        # growth counts the starting MRR as lost (SMB in February: -700 / 500); the month spine a month late.
        Mutation(
            "one closed deal called none",
            "when joined.won_deals_count + joined.lost_deals_count = 0 then 'no deal closed in the month'",
            "when joined.won_deals_count + joined.lost_deals_count <= 1 then 'no deal closed in the month'",
            catches="win_rate is null when win_rate_null_reason gives a reason",
            also=(
                Mutation(
                    "SLA adherence inverted",
                    "then cast(joined.within_sla_count as double) / joined.mql_count",
                    "then cast(joined.mql_count as double) / (joined.within_sla_count + 1)",
                    catches="SLA adherence is between 0 and 1",
                ),
                Mutation(
                    "starting MRR counted as lost",
                    "then cast(joined.net_new_mrr_usd as double) / cast(joined.starting_mrr_usd as double)",
                    "then cast(joined.net_new_mrr_usd - joined.starting_mrr_usd as double)"
                    " / cast(joined.starting_mrr_usd as double)",
                    catches="net revenue growth is at least -1",
                ),
                Mutation(
                    "month spine a month late",
                    "select distinct mrr_movements.mrr_month as month",
                    "select distinct cast(mrr_movements.mrr_month + interval 1 month as date) as month",
                    catches="no month starts after the as-of month",
                ),
            ),
        ),
    ),
)

# The unit-economics company's deals and customers: three won deals billed at another amount than the CRM's, two
# customers whose CRM segment is not the one their ARR implies. A finding type capitalised, the billing segment
# lowercased, the billed ARR and the annualised first invoice read from the CRM amount (no longer apart), the segment
# months a year late.
CRM_BILLING_FINDINGS = Case(
    suite="crm_billing_findings_mart",
    model="marts/fct_crm_billing_findings",
    downstream="marts/rpt_crm_billing_reconciliation_monthly",
    raw="unit_economics",
    mutations=(
        Mutation(
            "finding type capitalised",
            "'segment_mismatch' as finding_type,",
            "'SEGMENT_MISMATCH' as finding_type,",
            catches="every finding is of one of the four finding types",
            also=(
                Mutation(
                    "billing segment lowercased",
                    "arr_bands.segment as billing_segment,",
                    "lower(arr_bands.segment) as billing_segment,",
                    catches="a billing segment is one of the shared size bands",
                ),
                Mutation(
                    "billed ARR and first invoice read from the CRM",
                    "cast(12 * compared_deals.first_mrr_usd as decimal(18, 4)) as billing_arr_usd,\n"
                    "        cast(compared_deals.invoice_arr_usd as decimal(18, 4)) as invoice_arr_usd,",
                    "cast(compared_deals.amount_usd as decimal(18, 4)) as billing_arr_usd,\n"
                    "        cast(compared_deals.amount_usd as decimal(18, 4)) as invoice_arr_usd,",
                    catches="an amount mismatch is more than reconciliation__amount_tolerance_share of the amount",
                ),
                Mutation(
                    "segment months a year late",
                    "latest_segments.mrr_month as finding_month,",
                    "cast(latest_segments.mrr_month + interval 1 year as date) as finding_month,",
                    catches="no month starts after the as-of month",
                ),
            ),
        ),
    ),
)

CRM_BILLING_RECONCILIATION = Case(
    suite="crm_billing_reconciliation_mart",
    model="marts/rpt_crm_billing_reconciliation_monthly",
    downstream=None,
    raw="unit_economics",
    mutations=(
        # Counts negated; a finding type misspelled; the month spine a year past the as-of month.
        Mutation(
            "counts negated",
            "coalesce(counted.finding_count, 0) as finding_count",
            "coalesce(-counted.finding_count, 0) as finding_count",
            catches="finding counts are not negative",
            also=(
                Mutation(
                    "finding type misspelled",
                    "('segment_mismatch')",
                    "('Segment_Mismatch')",
                    catches="every row is of one of the four finding types",
                ),
                Mutation(
                    "spine a year late",
                    "min(as_of.as_of_month) as last_month",
                    "cast(min(as_of.as_of_month) + interval 1 year as date) as last_month",
                    catches="no month starts after the as-of month",
                ),
            ),
        ),
    ),
)

# The hand-worked billing months (test_billing_monthly.py) in the billing build, with its rate feed (month_start:
# EUR 1.14 in February, GBP 1.26 in March): the collection rate inverted (February: 514 / 414); a reason given on
# months of up to $400 invoiced while the rate is still published (March: 300 + 50 x 1.26 = 363); refunds added to
# what was collected (March: 300 + 300); the calendar runs a year past the data.
BILLING_MONTHLY = Case(
    suite="billing_mart",
    model="marts/rpt_billing_monthly",
    downstream=None,
    raw="billing",
    mutations=(
        Mutation(
            "collection rate inverted",
            "then month_totals.invoiced_collected_usd / month_totals.invoiced_usd",
            "then month_totals.invoiced_usd / month_totals.invoiced_collected_usd",
            catches="the collection rate is between 0 and 1",
            also=(
                Mutation(
                    "a reason on small months",
                    "when coalesce(month_totals.invoiced_usd, 0) = 0 then 'nothing invoiced'",
                    "when coalesce(month_totals.invoiced_usd, 0) <= 400 then 'nothing invoiced'",
                    catches="collection_rate is null when collection_rate_null_reason gives a reason",
                ),
                Mutation(
                    "refunds added to collections",
                    "        - coalesce(month_totals.refunded_usd, 0) as net_collected_usd,",
                    "        + coalesce(month_totals.refunded_usd, 0) as net_collected_usd,",
                    catches="net collected is at most collected",
                ),
                Mutation(
                    "calendar a year past the data",
                    "least(max(month_totals.billing_month), min(as_of.as_of_month)) as last_month",
                    "cast(max(month_totals.billing_month) + interval 1 year as date) as last_month",
                    catches="no month starts after the as-of month",
                ),
            ),
        ),
    ),
)

CASES = (
    LEAD_FUNNEL,
    DEFINITION_DRIFT,
    LEAD_DISPOSITION,
    LEAD_REJECTION_REASONS,
    MARKETING_CONTRIBUTION,
    SPEED_TO_LEAD_PERIODS,
    CLOSED_LOST_REASONS,
    PIPELINE_WEEKLY,
    CUSTOMER_ACQUISITIONS,
    REP_RETAINED_REVENUE,
    PQL_REVENUE,
    UNIT_ECONOMICS_SEGMENTS,
    ALIGNMENT_SCORECARD,
    CRM_BILLING_FINDINGS,
    CRM_BILLING_RECONCILIATION,
    BILLING_MONTHLY,
)


@pytest.mark.parametrize("case", shared.case_params(CASES))
def test_each_mart_suite_fails_on_broken_variants_of_its_mart(
    good_build: Callable[[str], GoodBuild], case: Case
) -> None:
    shared.assert_each_variant_fails_its_suite(good_build(case.raw), case)
