/*
name: rpt_mrr_movements_monthly
description: >-
  The MRR bridge per month and segment: MRR at the start of the month (the close of the previous month), the new,
  expansion, contraction, churned and reactivation MRR of the month (the dbt MRR playbook's movements, see
  marts.fct_mrr_customer_months), and MRR at the close of the month, so that starting + new + expansion -
  contraction - churned + reactivation = ending on every row. One row for every month from the first paying month
  to the latest month of the billing data and every segment of the shared definitions (zeros when a segment has
  no customers). A customer stays in the segment of its CRM account in every month.
grain: [mrr_month, segment]
owner: team:revops
kpis:
  - name: starting_mrr_usd
    formula: sum of previous_mrr_usd of the customers in the month (= ending MRR of the previous month)
    numerator: n/a
    denominator: n/a
    grain: month x segment (of the customer's CRM account)
    owner: team:revops
  - name: new_mrr_usd
    formula: sum of the MRR of customers whose first paying month is this month
    numerator: n/a
    denominator: n/a
    grain: month x segment
    owner: team:sales
  - name: expansion_mrr_usd
    formula: sum of the MRR increase of customers paying in this and the previous month
    numerator: n/a
    denominator: n/a
    grain: month x segment
    owner: team:success
  - name: contraction_mrr_usd
    formula: sum of the MRR decrease of customers paying in this and the previous month (positive amount)
    numerator: n/a
    denominator: n/a
    grain: month x segment
    owner: team:success
  - name: churned_mrr_usd
    formula: sum of the previous month's MRR of customers paying then and paying nothing at the close of this month
    numerator: n/a
    denominator: n/a
    grain: month x segment
    owner: team:success
  - name: reactivation_mrr_usd
    formula: sum of the MRR of customers paying again this month after a month paying nothing
    numerator: n/a
    denominator: n/a
    grain: month x segment
    owner: team:success
  - name: ending_mrr_usd
    formula: sum of mrr_usd of the customers at the close of the month
    numerator: n/a
    denominator: n/a
    grain: month x segment
    owner: team:revops
  - name: net_new_mrr_usd
    formula: ending_mrr_usd - starting_mrr_usd (= new + expansion - contraction - churned + reactivation)
    numerator: n/a
    denominator: n/a
    grain: month x segment
    owner: team:revops
  - name: new_customer_count
    formula: count of customers whose first paying month is this month
    numerator: n/a
    denominator: n/a
    grain: month x segment
    owner: team:sales
  - name: churned_customer_count
    formula: count of customers paying at the close of the previous month and paying nothing at the close of this one
    numerator: n/a
    denominator: n/a
    grain: month x segment
    owner: team:success
assertions:
  - name: assert_mrr_movements_add_up
    description: >-
      The month's movements carry the fact table's MRR from one month to the next: for every month and segment, the
      MRR of marts.fct_mrr_customer_months in the previous month + new + expansion - contraction - churned +
      reactivation = its MRR in the month.
    sql: >-
      select report.mrr_month, report.segment, previous_facts.mrr_usd as previous_fact_mrr_usd, report.new_mrr_usd,
          report.expansion_mrr_usd, report.contraction_mrr_usd, report.churned_mrr_usd, report.reactivation_mrr_usd,
          facts.mrr_usd as fact_mrr_usd
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
          - report.contraction_mrr_usd - report.churned_mrr_usd + report.reactivation_mrr_usd
          - coalesce(facts.mrr_usd, 0)
      ) > 0.005
  - name: assert_ending_mrr_matches_fact
    description: >-
      Ending MRR (and customers) per month and segment equal the MRR (and paying customers) of
      marts.fct_mrr_customer_months for that month and segment; MRR in the rollup equals MRR in the fact.
    sql: >-
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
          or report.ending_customer_count <> facts.customer_count
  - name: assert_starting_mrr_is_previous_ending
    description: Each month's starting MRR equals the previous month's ending MRR in the same segment.
    sql: >-
      select this_month.mrr_month, this_month.segment, this_month.starting_mrr_usd,
          previous_month.ending_mrr_usd as previous_ending_mrr_usd
      from marts.rpt_mrr_movements_monthly as this_month
      left join marts.rpt_mrr_movements_monthly as previous_month
          on this_month.segment = previous_month.segment
          and previous_month.mrr_month = this_month.mrr_month - interval 1 month
      where abs(this_month.starting_mrr_usd - coalesce(previous_month.ending_mrr_usd, 0)) > 0.005
*/
with

customer_months as (select * from marts.fct_mrr_customer_months),

segments as (select * from definitions.segments),

-- every month from the first to the latest month of the fact, even one in which nobody pays
months as (
    select cast(unnest(generate_series(min(customer_months.mrr_month), max(customer_months.mrr_month), interval 1 month)) as date)
        as mrr_month
    from customer_months
),

month_segments as (
    select
        months.mrr_month,
        segments.segment
    from months
    cross join segments
),

movements as (
    select
        customer_months.mrr_month,
        customer_months.segment,
        sum(customer_months.previous_mrr_usd) as starting_mrr_usd,
        sum(customer_months.new_mrr_usd) as new_mrr_usd,
        sum(customer_months.expansion_mrr_usd) as expansion_mrr_usd,
        sum(customer_months.contraction_mrr_usd) as contraction_mrr_usd,
        sum(customer_months.churned_mrr_usd) as churned_mrr_usd,
        sum(customer_months.reactivation_mrr_usd) as reactivation_mrr_usd,
        sum(customer_months.mrr_usd) as ending_mrr_usd,
        count(*) filter (where customer_months.is_paying_at_start) as starting_customer_count,
        count(*) filter (where customer_months.movement = 'new') as new_customer_count,
        count(*) filter (where customer_months.movement = 'expansion') as expansion_customer_count,
        count(*) filter (where customer_months.movement = 'contraction') as contraction_customer_count,
        count(*) filter (where customer_months.movement = 'churn') as churned_customer_count,
        count(*) filter (where customer_months.movement = 'reactivation') as reactivated_customer_count,
        count(*) filter (where customer_months.mrr_usd > 0) as ending_customer_count
    from customer_months
    group by customer_months.mrr_month, customer_months.segment
),

final as (
    select
        month_segments.mrr_month,                                                     -- first day of the month
        month_segments.segment,                                                       -- size segment of the customer's CRM account (shared bands; unknown when not tied)
        coalesce(movements.starting_mrr_usd, 0) as starting_mrr_usd,                  -- MRR in USD at the close of the previous month
        coalesce(movements.new_mrr_usd, 0) as new_mrr_usd,                            -- MRR of customers in their first paying month
        coalesce(movements.expansion_mrr_usd, 0) as expansion_mrr_usd,                -- MRR gained by customers paying in both months
        coalesce(movements.contraction_mrr_usd, 0) as contraction_mrr_usd,            -- MRR lost by customers still paying (positive amount)
        coalesce(movements.churned_mrr_usd, 0) as churned_mrr_usd,                    -- previous MRR of customers who stopped paying (positive amount)
        coalesce(movements.reactivation_mrr_usd, 0) as reactivation_mrr_usd,          -- MRR of customers paying again after a churn
        coalesce(movements.ending_mrr_usd, 0) as ending_mrr_usd,                      -- MRR in USD at the close of the month
        coalesce(movements.ending_mrr_usd, 0) - coalesce(movements.starting_mrr_usd, 0) as net_new_mrr_usd, -- ending - starting MRR
        coalesce(movements.starting_customer_count, 0) as starting_customer_count,    -- customers paying at the close of the previous month
        coalesce(movements.new_customer_count, 0) as new_customer_count,              -- customers in their first paying month
        coalesce(movements.expansion_customer_count, 0) as expansion_customer_count,  -- customers whose MRR went up
        coalesce(movements.contraction_customer_count, 0) as contraction_customer_count, -- customers whose MRR went down but stayed above 0
        coalesce(movements.churned_customer_count, 0) as churned_customer_count,      -- customers who stopped paying
        coalesce(movements.reactivated_customer_count, 0) as reactivated_customer_count, -- customers paying again after a churn
        coalesce(movements.ending_customer_count, 0) as ending_customer_count         -- customers paying at the close of the month
    from month_segments
    left join movements
        on month_segments.mrr_month = movements.mrr_month and month_segments.segment = movements.segment
)

select * from final
