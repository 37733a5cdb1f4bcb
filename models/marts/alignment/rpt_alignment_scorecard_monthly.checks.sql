/*
name: assert_scorecard_new_mrr_matches_mrr_movements
severity: error
description: >-
  New MRR (and ending MRR) per month, summed over segments, equal those of marts.rpt_mrr_movements_monthly,
  and the scorecard has every month of it.
*/
select
    coalesce(scorecard.month, movements.mrr_month) as month,
    scorecard.new_mrr_usd,
    movements.new_mrr_usd as movements_new_mrr_usd,
    scorecard.ending_mrr_usd,
    movements.ending_mrr_usd as movements_ending_mrr_usd
from (
    select month, sum(new_mrr_usd) as new_mrr_usd, sum(ending_mrr_usd) as ending_mrr_usd
    from marts.rpt_alignment_scorecard_monthly
    group by month
) as scorecard
full outer join (
    select mrr_month, sum(new_mrr_usd) as new_mrr_usd, sum(ending_mrr_usd) as ending_mrr_usd
    from marts.rpt_mrr_movements_monthly
    group by mrr_month
) as movements
    on scorecard.month = movements.mrr_month
where
    scorecard.month is null
    or movements.mrr_month is null
    or abs(scorecard.new_mrr_usd - movements.new_mrr_usd) > 0.005
    or abs(scorecard.ending_mrr_usd - movements.ending_mrr_usd) > 0.005;

/*
name: assert_scorecard_ending_mrr_matches_fact
severity: error
description: Ending MRR per month, summed over segments, equals the MRR of marts.fct_mrr_customer_months.
*/
select scorecard.month, scorecard.ending_mrr_usd, facts.mrr_usd as fact_mrr_usd
from (
    select month, sum(ending_mrr_usd) as ending_mrr_usd
    from marts.rpt_alignment_scorecard_monthly
    group by month
) as scorecard
left join (
    select mrr_month, sum(mrr_usd) as mrr_usd from marts.fct_mrr_customer_months group by mrr_month
) as facts
    on scorecard.month = facts.mrr_month
where abs(scorecard.ending_mrr_usd - coalesce(facts.mrr_usd, 0)) > 0.005;

/*
name: assert_scorecard_mqls_match_lead_funnel
severity: error
description: >-
  MQLs per month, summed over segments, equal the leads of marts.fct_lead_funnel whose MQL falls in that
  month (for every month of the scorecard).
*/
select scorecard.month, scorecard.mql_count, coalesce(facts.mql_count, 0) as fact_mql_count
from (
    select month, sum(mql_count) as mql_count
    from marts.rpt_alignment_scorecard_monthly
    group by month
) as scorecard
left join (
    select
        cast(
            date_trunc('month', cast(lead_funnel.mql_at as timestamptz) at time zone reporting.time_zone)
            as date
        ) as mql_month,
        count(*) as mql_count
    from marts.fct_lead_funnel as lead_funnel
    cross join definitions.reporting as reporting
    where lead_funnel.mql_at is not null
    group by
        cast(
            date_trunc('month', cast(lead_funnel.mql_at as timestamptz) at time zone reporting.time_zone)
            as date
        )
) as facts
    on scorecard.month = facts.mql_month
where scorecard.mql_count <> coalesce(facts.mql_count, 0);

/*
name: assert_scorecard_drift_matches_drift_mart
severity: error
description: >-
  The definition drift count per month, summed over segments, equals the MQL disagreements (tool only plus
  definition only) of marts.rpt_definition_drift_monthly for that month (for every month of the scorecard).
*/
select scorecard.month, scorecard.definition_drift_count, coalesce(drift.drift_count, 0) as mart_drift_count
from (
    select month, sum(definition_drift_count) as definition_drift_count
    from marts.rpt_alignment_scorecard_monthly
    group by month
) as scorecard
left join (
    select drift_month, sum(crm_only_mql_count + definition_only_mql_count) as drift_count
    from marts.rpt_definition_drift_monthly
    group by drift_month
) as drift
    on scorecard.month = drift.drift_month
where scorecard.definition_drift_count <> coalesce(drift.drift_count, 0);

/*
name: assert_scorecard_pqls_match_pql_revenue
severity: error
description: >-
  PQLs and sales-qualified PQLs per month, summed over segments, equal qualified_count and
  sales_qualified_count of marts.rpt_pql_revenue_monthly (source pql) for that month (for every month of the
  scorecard).
*/
select scorecard.month, scorecard.pql_count, scorecard.pql_sales_qualified_count,
    coalesce(pql_revenue.qualified_count, 0) as mart_pql_count,
    coalesce(pql_revenue.sales_qualified_count, 0) as mart_pql_sales_qualified_count
from (
    select month, sum(pql_count) as pql_count, sum(pql_sales_qualified_count) as pql_sales_qualified_count
    from marts.rpt_alignment_scorecard_monthly
    group by month
) as scorecard
left join (
    select report_month, qualified_count, sales_qualified_count
    from marts.rpt_pql_revenue_monthly
    where source = 'pql'
) as pql_revenue
    on scorecard.month = pql_revenue.report_month
where
    scorecard.pql_count <> coalesce(pql_revenue.qualified_count, 0)
    or scorecard.pql_sales_qualified_count <> coalesce(pql_revenue.sales_qualified_count, 0);
