/*
name: assert_new_mrr_closed_matches_customers_with_a_closing_rep
severity: error
description: >-
  New MRR closed and customers closed over every rep equal the new MRR and count, in
  marts.fct_mrr_customer_months, of the customers whose CRM account has a won new-business opportunity; never more than the
  total new MRR. A won first deal with neither an owner nor a user on its recorded win has no closing rep, so
  its customers are in no row and this check fails: every customer won by sales must be credited to a rep.
*/
select report.new_mrr_usd, facts.new_mrr_usd as facts_new_mrr_usd, facts.total_new_mrr_usd,
    report.customer_count, facts.customer_count as facts_customer_count
from (
    select coalesce(sum(new_mrr_closed_usd), 0) as new_mrr_usd, coalesce(sum(customers_closed_count), 0) as customer_count
    from marts.rpt_rep_retained_revenue
) as report
cross join (
    select
        coalesce(sum(new_mrr_usd) filter (where account_id in (
            select opportunities.account_id
            from intermediate.int_opportunities_classified as opportunities
            inner join intermediate.int_opportunities_qualified as qualified
                on opportunities.opportunity_id = qualified.opportunity_id
            where qualified.is_won and qualified.closed_at is not null and opportunities.is_new_business
        )), 0) as new_mrr_usd,
        count(*) filter (where movement = 'new' and account_id in (
            select opportunities.account_id
            from intermediate.int_opportunities_classified as opportunities
            inner join intermediate.int_opportunities_qualified as qualified
                on opportunities.opportunity_id = qualified.opportunity_id
            where qualified.is_won and qualified.closed_at is not null and opportunities.is_new_business
        )) as customer_count,
        coalesce(sum(new_mrr_usd), 0) as total_new_mrr_usd
    from marts.fct_mrr_customer_months
) as facts
where abs(report.new_mrr_usd - facts.new_mrr_usd) > 0.005
    or report.customer_count <> facts.customer_count
    or report.new_mrr_usd > facts.total_new_mrr_usd + 0.005;

/*
name: assert_counts_are_consistent
severity: error
description: >-
  Churned customers never exceed mature customers, mature customers never exceed customers closed, deals never
  exceed customers, and in every row retained MRR = mature new + expansion + reactivation - contraction - churned
  + fx.
*/
select closing_rep_user_id, close_month
from marts.rpt_rep_retained_revenue
where churned_customer_12_month_count > mature_customer_count
    or mature_customer_count > customers_closed_count
    or deals_won_count > customers_closed_count
    or mature_new_mrr_usd > new_mrr_closed_usd + 0.005
    or abs(
        mature_new_mrr_usd + expansion_12_month_mrr_usd + reactivation_12_month_mrr_usd
        - contraction_12_month_mrr_usd - churned_12_month_mrr_usd + fx_12_month_mrr_usd - retained_12_month_mrr_usd
    ) > 0.005;
