/*
name: assert_mrr_movements_add_up
severity: error
description: >-
  The month's movements carry the fact table's MRR from one month to the next: for every month and segment, the
  MRR of marts.fct_mrr_customer_months in the previous month + new + expansion - contraction - churned +
  reactivation + fx = its MRR in the month.
*/
select report.mrr_month, report.segment, previous_facts.mrr_usd as previous_fact_mrr_usd, report.new_mrr_usd,
    report.expansion_mrr_usd, report.contraction_mrr_usd, report.churned_mrr_usd, report.reactivation_mrr_usd,
    report.fx_mrr_usd, facts.mrr_usd as fact_mrr_usd
from marts.rpt_mrr_movements_monthly as report
left join (
    select mrr_month, segment, sum(mrr_usd) as mrr_usd from marts.fct_mrr_customer_months group by all
) as facts
    on report.mrr_month = facts.mrr_month and report.segment = facts.segment
left join (
    select mrr_month, segment, sum(mrr_usd) as mrr_usd from marts.fct_mrr_customer_months group by all
) as previous_facts
    on previous_facts.mrr_month = report.mrr_month - interval 1 month and report.segment = previous_facts.segment
where abs(
    coalesce(previous_facts.mrr_usd, 0) + report.new_mrr_usd + report.expansion_mrr_usd
    - report.contraction_mrr_usd - report.churned_mrr_usd + report.reactivation_mrr_usd + report.fx_mrr_usd
    - coalesce(facts.mrr_usd, 0)
) > 0.005;

/*
name: assert_ending_mrr_matches_fact
severity: error
description: >-
  Ending MRR (and customers) per month and segment equal the MRR (and paying customers) of
  marts.fct_mrr_customer_months for that month and segment; MRR in the rollup equals MRR in the fact.
*/
select
    coalesce(report.mrr_month, facts.mrr_month) as mrr_month,
    coalesce(report.segment, facts.segment) as segment,
    report.ending_mrr_usd,
    facts.mrr_usd as fact_mrr_usd,
    report.ending_customer_count,
    facts.customer_count as fact_customer_count
from (select * from marts.rpt_mrr_movements_monthly where ending_mrr_usd <> 0 or ending_customer_count <> 0)
    as report
full outer join (
    select mrr_month, segment, sum(mrr_usd) as mrr_usd, count(*) filter (where mrr_usd > 0) as customer_count
    from marts.fct_mrr_customer_months
    group by mrr_month, segment
    having sum(mrr_usd) <> 0
) as facts
    on report.mrr_month = facts.mrr_month and report.segment = facts.segment
where
    report.mrr_month is null
    or facts.mrr_month is null
    or abs(report.ending_mrr_usd - facts.mrr_usd) > 0.005
    or report.ending_customer_count <> facts.customer_count;

/*
name: assert_starting_mrr_is_previous_ending
severity: error
description: Each month's starting MRR equals the previous month's ending MRR in the same segment.
*/
select this_month.mrr_month, this_month.segment, this_month.starting_mrr_usd,
    previous_month.ending_mrr_usd as previous_ending_mrr_usd
from marts.rpt_mrr_movements_monthly as this_month
left join marts.rpt_mrr_movements_monthly as previous_month
    on this_month.segment = previous_month.segment
    and previous_month.mrr_month = this_month.mrr_month - interval 1 month
where abs(this_month.starting_mrr_usd - coalesce(previous_month.ending_mrr_usd, 0)) > 0.005;
