/*
name: rpt_mrr_movements_monthly
description: >-
  The MRR bridge per month and segment: MRR at the start of the month (the close of the previous month), the new,
  expansion, contraction, churned and reactivation MRR of the month (the dbt MRR playbook's movements, see
  marts.fct_mrr_customer_months), the change caused by exchange rates (fx), and MRR at the close of the month, so
  that starting + new + expansion - contraction - churned + reactivation + fx = ending on every row. Amounts in
  other currencies are converted at their month's rate: starting MRR at the previous month's, everything else at
  this month's; fx is what the rate change did to the MRR of customers paying in both months (their previous
  amount x (rate now - rate before)), kept apart from expansion and contraction, which are at constant currency. One row for every month from the first paying month
  to the latest month of the billing data and every segment of the shared definitions (zeros when a segment has
  no customers). A customer stays in the segment of its CRM account in every month.
grain: [mrr_month, segment]
owner: team:revops
kpis:
  - name: starting_mrr_usd
    formula: sum of previous_mrr_usd of the customers in the month (= ending MRR of the previous month)
    grain: month x segment (of the customer's CRM account)
    owner: team:revops
  - name: new_mrr_usd
    formula: sum of the MRR of customers whose first paying month is this month
    grain: month x segment
    owner: team:sales
  - name: expansion_mrr_usd
    formula: sum of the MRR increase of customers paying in this and the previous month
    grain: month x segment
    owner: team:success
  - name: contraction_mrr_usd
    formula: sum of the MRR decrease of customers paying in this and the previous month (positive amount)
    grain: month x segment
    owner: team:success
  - name: churned_mrr_usd
    formula: sum of the previous month's MRR of customers paying then and paying nothing at the close of this month
    grain: month x segment
    owner: team:success
  - name: reactivation_mrr_usd
    formula: sum of the MRR of customers paying again this month after a month paying nothing
    grain: month x segment
    owner: team:success
  - name: fx_mrr_usd
    formula: >-
      sum over customers paying in this and the previous month and over their currencies of the previous month's
      MRR in the currency x (this month's rate - the previous month's rate); 0 when every amount is in USD
    grain: month x segment
    owner: team:revops
  - name: discount_mrr_usd
    formula: >-
      sum of the discounts (coupons) in force at the close of the month on the customers' subscriptions, in USD;
      taken off MRR as definitions mrr.discounts says (net, the default: all of them, as invoice-based SaaS-metrics
      tools count; forever_only: forever coupons only, as Stripe Billing's own MRR; gross: none)
    grain: month x segment
    owner: team:revops
  - name: ending_mrr_usd
    formula: sum of mrr_usd of the customers at the close of the month
    grain: month x segment
    owner: team:revops
  - name: net_new_mrr_usd
    formula: ending_mrr_usd - starting_mrr_usd (= new + expansion - contraction - churned + reactivation + fx)
    grain: month x segment
    owner: team:revops
  - name: new_customer_count
    formula: count of customers whose first paying month is this month
    grain: month x segment
    owner: team:sales
  - name: churned_customer_count
    formula: count of customers paying at the close of the previous month and paying nothing at the close of this one
    grain: month x segment
    owner: team:success*/
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
        sum(customer_months.fx_mrr_usd) as fx_mrr_usd,
        sum(customer_months.discount_mrr_usd) as discount_mrr_usd,
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
        coalesce(movements.fx_mrr_usd, 0) as fx_mrr_usd,                              -- MRR change caused by exchange rates (customers paying in both months; signed)
        coalesce(movements.ending_mrr_usd, 0) as ending_mrr_usd,                      -- MRR in USD at the close of the month
        coalesce(movements.discount_mrr_usd, 0) as discount_mrr_usd,                  -- discounts in force at the close of the month, in USD (taken off ending MRR when definitions mrr.discounts is net)
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
