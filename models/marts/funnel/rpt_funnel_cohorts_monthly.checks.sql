/*
name: assert_cohort_leads_match_fact
severity: error
description: >-
  The leads over all cohorts of a type equal the leads in fct_lead_funnel with that starting event: every lead
  with an MQL in exactly one mql_month cohort, every lead with a creation time in exactly one created_month one.
*/
select
    coalesce(cohort_totals.cohort_type, facts.cohort_type) as cohort_type,
    cohort_totals.lead_count,
    facts.lead_count as facts_lead_count
from (
    select cohorts.cohort_type, sum(cohorts.cohort_lead_count) as lead_count
    from marts.rpt_funnel_cohorts_monthly as cohorts
    group by cohorts.cohort_type
) as cohort_totals
full outer join (
    select 'mql_month' as cohort_type, count(*) as lead_count
    from marts.fct_lead_funnel as funnel
    where funnel.mql_at is not null
    union all
    select 'created_month' as cohort_type, count(*) as lead_count
    from marts.fct_lead_funnel as funnel
    where funnel.created_at is not null
) as facts
    on cohort_totals.cohort_type = facts.cohort_type
where coalesce(cohort_totals.lead_count, 0) <> coalesce(facts.lead_count, 0);

/*
name: assert_cohort_won_within_fact_won
severity: error
description: >-
  The won leads over all cohorts of a type are at most the won leads in fct_lead_funnel that can be in such a
  cohort (a lead is counted once per cohort type; the window can only leave some out).
*/
select cohort_totals.cohort_type, cohort_totals.won_count, facts.won_count as facts_won_count
from (
    select cohorts.cohort_type, sum(cohorts.won_count) as won_count
    from marts.rpt_funnel_cohorts_monthly as cohorts
    group by cohorts.cohort_type
) as cohort_totals
inner join (
    select 'mql_month' as cohort_type, count(*) as won_count
    from marts.fct_lead_funnel as funnel
    where funnel.mql_at is not null and funnel.won_at is not null
    union all
    select 'created_month' as cohort_type, count(*) as won_count
    from marts.fct_lead_funnel as funnel
    where funnel.created_at is not null and funnel.won_at is not null
) as facts
    on cohort_totals.cohort_type = facts.cohort_type
where cohort_totals.won_count > facts.won_count;
