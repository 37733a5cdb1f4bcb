/*
name: assert_segment_spend_matches_staged_ad_spend
severity: error
description: Spend over all rows equals the staged ad spend in the reporting currency.
*/
select report.spend_usd, staged.spend_usd as staged_spend_usd
from (select coalesce(sum(spend_usd), 0) as spend_usd from marts.rpt_unit_economics_segments_monthly) as report
cross join (
    select coalesce(sum(spend_amount), 0) as spend_usd
    from staging.stg_marketing__ad_spend_days
    where currency = (select currency from definitions.reporting)
) as staged
where abs(report.spend_usd - staged.spend_usd) > 0.005;

/*
name: assert_segment_new_customers_match_new_movements
severity: error
description: New customers and new MRR over all rows equal the fact's new movements.
*/
select report.new_customer_count, report.new_mrr_usd, facts.new_customer_count as facts_new_customer_count,
    facts.new_mrr_usd as facts_new_mrr_usd
from (
    select coalesce(sum(new_customer_count), 0) as new_customer_count, coalesce(sum(new_mrr_usd), 0) as new_mrr_usd
    from marts.rpt_unit_economics_segments_monthly
) as report
cross join (
    select count(*) as new_customer_count, coalesce(sum(new_mrr_usd), 0) as new_mrr_usd
    from marts.fct_mrr_customer_months
    where movement = 'new'
) as facts
where report.new_customer_count <> facts.new_customer_count
    or abs(report.new_mrr_usd - facts.new_mrr_usd) > 0.005;
