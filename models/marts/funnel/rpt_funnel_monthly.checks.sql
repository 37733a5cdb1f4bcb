/*
name: assert_won_amount_matches_won_opportunities
severity: error
description: The amount won over all months equals the amount of the won opportunities with a close date.
*/
select funnel.won_amount_usd, facts.won_amount_usd as facts_won_amount_usd
from (select coalesce(sum(won_amount_usd), 0) as won_amount_usd from marts.rpt_funnel_monthly) as funnel
cross join (
    select coalesce(sum(amount_usd), 0) as won_amount_usd
    from intermediate.int_opportunities_classified
    where is_won and close_date is not null
) as facts
where abs(funnel.won_amount_usd - facts.won_amount_usd) > 0.005;

/*
name: assert_leads_created_match_leads
severity: error
description: Leads created over all months equal the leads in the classified leads table.
*/
select funnel.lead_count, facts.lead_count as facts_lead_count
from (select coalesce(sum(leads_created_count), 0) as lead_count from marts.rpt_funnel_monthly) as funnel
cross join (
    select count(*) as lead_count from intermediate.int_leads_classified where created_at is not null
) as facts
where funnel.lead_count <> facts.lead_count;
