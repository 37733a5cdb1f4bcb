/*
name: assert_new_mrr_matches_mrr_facts
severity: error
description: The new MRR of the customers equals the new MRR of marts.fct_mrr_customer_months (one row per new customer).
*/
select acquisitions.new_mrr_usd, facts.new_mrr_usd as facts_new_mrr_usd,
    acquisitions.customer_count, facts.customer_count as facts_customer_count
from (
    select coalesce(sum(new_mrr_usd), 0) as new_mrr_usd, count(*) as customer_count
    from marts.fct_customer_acquisitions
) as acquisitions
cross join (
    select coalesce(sum(new_mrr_usd), 0) as new_mrr_usd, count(*) filter (where movement = 'new') as customer_count
    from marts.fct_mrr_customer_months
) as facts
where abs(acquisitions.new_mrr_usd - facts.new_mrr_usd) > 0.005
    or acquisitions.customer_count <> facts.customer_count;

/*
name: assert_12_month_bridge_adds_up
severity: error
description: >-
  In a complete 12-month window, MRR 12 months on = new + expansion + reactivation - contraction - churned + fx
  MRR.
*/
select customer_id, new_mrr_usd, mrr_12_month_usd
from marts.fct_customer_acquisitions
where is_12_month_window_complete
    and abs(
        new_mrr_usd + expansion_12_month_mrr_usd + reactivation_12_month_mrr_usd
        - contraction_12_month_mrr_usd - churned_12_month_mrr_usd + fx_12_month_mrr_usd - mrr_12_month_usd
    ) > 0.005;
