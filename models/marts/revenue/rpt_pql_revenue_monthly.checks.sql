/*
name: assert_new_mrr_matches_mrr_facts
severity: error
description: New MRR and new customers over every month and source equal the new MRR and new customers of marts.fct_mrr_customer_months.
*/
select report.new_mrr_usd, facts.new_mrr_usd as facts_new_mrr_usd,
    report.customer_count, facts.customer_count as facts_customer_count
from (
    select coalesce(sum(new_mrr_usd), 0) as new_mrr_usd, coalesce(sum(new_customer_count), 0) as customer_count
    from marts.rpt_pql_revenue_monthly
) as report
cross join (
    select coalesce(sum(new_mrr_usd), 0) as new_mrr_usd, count(*) filter (where movement = 'new') as customer_count
    from marts.fct_mrr_customer_months
) as facts
where abs(report.new_mrr_usd - facts.new_mrr_usd) > 0.005 or report.customer_count <> facts.customer_count;

/*
name: assert_pql_count_matches_workspaces
severity: error
description: PQLs over every month equal the product-qualified workspaces.
*/
select report.pql_count, facts.pql_count as facts_pql_count
from (
    select coalesce(sum(qualified_count), 0) as pql_count from marts.rpt_pql_revenue_monthly where source = 'pql'
) as report
cross join (
    select count(*) as pql_count from intermediate.int_workspaces_product_qualified where pql_at is not null
) as facts
where report.pql_count <> facts.pql_count;

/*
name: assert_funnel_counts_never_grow
severity: error
description: In every cohort, sales-qualified never exceeds qualified and won never exceeds sales-qualified.
*/
select report_month, source, qualified_count, sales_qualified_count, won_count
from marts.rpt_pql_revenue_monthly
where sales_qualified_count > qualified_count or won_count > sales_qualified_count
    or nrr_cohort_customer_count > new_customer_count;
