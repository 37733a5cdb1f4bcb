/*
name: assert_won_amount_matches_converted_won_opportunities
severity: error
description: >-
  The amount won over all rows equals the amount of the won opportunities that leads with a creation time
  converted into (each opportunity once).
*/
select contribution.won_amount_usd, facts.won_amount_usd as facts_won_amount_usd
from (
    select coalesce(sum(won_amount_usd), 0) as won_amount_usd from marts.rpt_marketing_contribution_monthly
) as contribution
cross join (
    select coalesce(sum(opportunities.amount_usd), 0) as won_amount_usd
    from intermediate.int_opportunities_classified as opportunities
    where
        opportunities.is_won
        and opportunities.opportunity_id in (
            select lifecycle.converted_opportunity_id
            from intermediate.int_leads_lifecycle as lifecycle
            where lifecycle.created_at is not null
        )
) as facts
where abs(contribution.won_amount_usd - facts.won_amount_usd) > 0.005;

/*
name: assert_leads_created_match_leads
severity: error
description: Leads over all rows equal the leads in the lifecycle table with a creation time.
*/
select contribution.lead_count, facts.lead_count as facts_lead_count
from (
    select coalesce(sum(leads_created_count), 0) as lead_count from marts.rpt_marketing_contribution_monthly
) as contribution
cross join (
    select count(*) as lead_count from intermediate.int_leads_lifecycle where created_at is not null
) as facts
where contribution.lead_count <> facts.lead_count;

/*
name: assert_funnel_counts_never_grow
severity: error
description: >-
  In every row MQLs, sales-qualified leads and converted opportunities are at most the leads, wasted MQLs at
  most the MQLs, and won opportunities at most the converted ones.
*/
select lead_month, channel
from marts.rpt_marketing_contribution_monthly
where
    mql_count > leads_created_count
    or sales_qualified_count > leads_created_count
    or pipeline_opportunity_count > leads_created_count
    or wasted_mql_count > mql_count
    or won_opportunity_count > pipeline_opportunity_count;
