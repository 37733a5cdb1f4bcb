/*
name: rpt_retention_monthly
description: >-
  Revenue, logo and seat retention per month and segment, from marts.fct_mrr_customer_months. The monthly cohort
  is the customers paying at the start of the month (MRR > 0 at the close of the previous month); new and
  reactivated customers are not in it. Monthly NRR = (starting MRR + expansion - contraction - churned) / starting
  MRR, GRR the same without expansion. Trailing-12-month NRR and GRR follow the customers paying 12 months earlier
  (MRR > 0 at the close of that month): their MRR now (0 if gone, whatever came back counts) over their MRR then;
  GRR caps each customer's MRR now at its MRR then. Logo, seat and revenue churn are reported separately, and the
  logo churn rate two ways: naive (churned customers / every customer paying at the start) and honest (churned
  customers / customers eligible to churn in the month under definitions.churn_eligibility: monthly contracts any
  month, annual ones only in their term-end month, and every customer that churned in the month, so an annual
  contract cancelled mid-term counts as churn and as eligible; see the fact). Both rates count every churned
  customer, each a subset of its denominator, so neither exceeds 1; they differ only by their denominators, and
  the gap between them is its own KPI. Churn outside a contract's end month (an early cancellation) is also
  counted on its own (churned_ineligible_customer_count). Every ratio is null when its denominator is 0, or when
  its base is below the shared minimum (definitions.minimum_bases: the monthly cohort's rates need at least
  minimum_bases__customers customers paying at the start and minimum_bases__mrr_usd of starting MRR; the honest rate
  at least minimum_bases__customers eligible customers; the trailing-12-month rates both minimums on the customers
  paying 12 months earlier), with the reason in a *_null_reason column ("base below minimum"). A customer stays
  in the segment of its CRM account. Currencies: the monthly NRR, GRR and revenue churn leave the exchange-rate
  effect out (fx_mrr_usd of the fact): their expansion, contraction and churn are at constant currency against a
  starting MRR at the previous month's rates, so a currency swing is not read as retention; the trailing-12-month
  rates compare MRR now and 12 months earlier, each at its own month's rate, so they include it.
grain: [mrr_month, segment]
owner: team:success
kpis:
  - name: nrr
    formula: (starting MRR + expansion - contraction - churned MRR) / starting MRR, of the customers paying at the start of the month (null when starting MRR is 0 or the base is below definitions.minimum_bases)
    numerator: MRR at the close of the month of the customers paying at the start of the month
    denominator: MRR at the close of the previous month of those customers (starting_mrr_usd)
    grain: month x segment (of the customer's CRM account)
    filters: customers with MRR > 0 at the close of the previous month
    owner: team:success
  - name: grr
    formula: (starting MRR - contraction - churned MRR) / starting MRR (null when starting MRR is 0 or the base is below definitions.minimum_bases)
    numerator: starting MRR minus contraction and churned MRR of the customers paying at the start of the month
    denominator: starting_mrr_usd
    grain: month x segment
    filters: customers with MRR > 0 at the close of the previous month
    owner: team:success
  - name: trailing_12_month_nrr
    formula: MRR now of the customers paying 12 months earlier / their MRR 12 months earlier (null when none paid then or the base is below definitions.minimum_bases)
    numerator: sum of this month's MRR (0 if churned) of the customers with MRR > 0 twelve months earlier
    denominator: sum of those customers' MRR twelve months earlier
    grain: month x segment
    filters: customers with MRR > 0 at the close of the month 12 months earlier
    owner: team:success
  - name: trailing_12_month_grr
    formula: sum of least(MRR now, MRR then) / sum of MRR then, over the customers paying 12 months earlier (null when none paid then or the base is below definitions.minimum_bases)
    numerator: sum over those customers of this month's MRR capped at their MRR twelve months earlier
    denominator: sum of those customers' MRR twelve months earlier
    grain: month x segment
    filters: customers with MRR > 0 at the close of the month 12 months earlier
    owner: team:success
  - name: naive_logo_churn_rate
    formula: churned customers / customers paying at the start of the month (null when none or the base is below definitions.minimum_bases)
    numerator: customers paying at the start of the month and paying nothing at its close (churned_customer_count)
    denominator: customers paying at the start of the month (starting_customer_count)
    grain: month x segment
    owner: team:success
  - name: honest_logo_churn_rate
    formula: churned customers / customers eligible to churn in the month (null when none is eligible or fewer than minimum_bases__customers are); never above 1
    numerator: churned_customer_count (every churned customer; each is eligible in its churn month)
    denominator: customers paying at the start of the month whose contracts may all end in the month, plus those that churned in it before their term end (eligible_customer_count)
    grain: month x segment
    filters: eligibility per definitions.churn_eligibility
    owner: team:success
  - name: churn_rate_gap
    formula: honest_logo_churn_rate - naive_logo_churn_rate (null when either is null)
    grain: month x segment
    owner: team:revops
  - name: seat_churn_rate
    formula: seats lost (churned customers' seats plus seat reductions) / seats at the start of the month, of the customers paying at the start (null when no seats or the base is below definitions.minimum_bases)
    numerator: sum over the cohort of greatest(seats at the start - seats at the close, 0) (lost_seat_count)
    denominator: seats of the customers paying at the start of the month (starting_seat_count)
    grain: month x segment
    filters: customers with MRR > 0 at the close of the previous month
    owner: team:success
  - name: revenue_churn_rate
    formula: (churned MRR + contraction MRR) / starting MRR (gross revenue churn = 1 - GRR; null when starting MRR is 0)
    numerator: churned_mrr_usd + contraction_mrr_usd
    denominator: starting_mrr_usd
    grain: month x segment
    filters: customers with MRR > 0 at the close of the previous month
    owner: team:success
*/
with

customer_months as (select * from marts.fct_mrr_customer_months),

segments as (select * from definitions.segments),

thresholds as (select * from definitions.thresholds),

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

-- the monthly cohort: customers paying at the start of the month
monthly_cohort as (
    select
        customer_months.mrr_month,
        customer_months.segment,
        count(*) as starting_customer_count,
        count(*) filter (where customer_months.is_churn_eligible) as eligible_customer_count,
        count(*) filter (where customer_months.movement = 'churn') as churned_customer_count,
        count(*) filter (
            where customer_months.movement = 'churn' and not customer_months.is_contract_end_month
        ) as churned_ineligible_customer_count,
        sum(customer_months.previous_mrr_usd) as starting_mrr_usd,
        sum(customer_months.expansion_mrr_usd) as expansion_mrr_usd,
        sum(customer_months.contraction_mrr_usd) as contraction_mrr_usd,
        sum(customer_months.churned_mrr_usd) as churned_mrr_usd,
        cast(sum(customer_months.previous_seats) as bigint) as starting_seat_count,
        cast(sum(greatest(customer_months.previous_seats - customer_months.seats, 0)) as bigint) as lost_seat_count,
        cast(sum(customer_months.previous_seats) filter (where customer_months.movement = 'churn') as bigint)
            as churned_seat_count
    from customer_months
    where customer_months.is_paying_at_start
    group by customer_months.mrr_month, customer_months.segment
),

-- the trailing-12-month cohort: customers paying 12 months earlier, and their MRR now
trailing_cohort_customers as (
    select
        cast(cohort_months.mrr_month + interval 12 month as date) as mrr_month,
        cohort_months.segment,
        cohort_months.mrr_usd as mrr_then_usd,
        coalesce(current_months.mrr_usd, 0) as mrr_now_usd
    from customer_months as cohort_months
    left join customer_months as current_months
        on
            cohort_months.customer_id = current_months.customer_id
            and current_months.mrr_month = cast(cohort_months.mrr_month + interval 12 month as date)
    where cohort_months.mrr_usd > 0
),

trailing_cohort as (
    select
        trailing_cohort_customers.mrr_month,
        trailing_cohort_customers.segment,
        count(*) as trailing_12_month_customer_count,
        sum(trailing_cohort_customers.mrr_then_usd) as trailing_12_month_starting_mrr_usd,
        sum(trailing_cohort_customers.mrr_now_usd) as trailing_12_month_retained_mrr_usd,
        sum(least(trailing_cohort_customers.mrr_now_usd, trailing_cohort_customers.mrr_then_usd))
            as trailing_12_month_capped_mrr_usd
    from trailing_cohort_customers
    group by trailing_cohort_customers.mrr_month, trailing_cohort_customers.segment
),

joined as (
    select
        month_segments.mrr_month,
        month_segments.segment,
        coalesce(monthly_cohort.starting_customer_count, 0) as starting_customer_count,
        coalesce(monthly_cohort.eligible_customer_count, 0) as eligible_customer_count,
        coalesce(monthly_cohort.churned_customer_count, 0) as churned_customer_count,
        coalesce(monthly_cohort.churned_ineligible_customer_count, 0) as churned_ineligible_customer_count,
        coalesce(monthly_cohort.starting_mrr_usd, 0) as starting_mrr_usd,
        coalesce(monthly_cohort.expansion_mrr_usd, 0) as expansion_mrr_usd,
        coalesce(monthly_cohort.contraction_mrr_usd, 0) as contraction_mrr_usd,
        coalesce(monthly_cohort.churned_mrr_usd, 0) as churned_mrr_usd,
        coalesce(monthly_cohort.starting_seat_count, 0) as starting_seat_count,
        coalesce(monthly_cohort.lost_seat_count, 0) as lost_seat_count,
        coalesce(monthly_cohort.churned_seat_count, 0) as churned_seat_count,
        coalesce(trailing_cohort.trailing_12_month_customer_count, 0) as trailing_12_month_customer_count,
        coalesce(trailing_cohort.trailing_12_month_starting_mrr_usd, 0) as trailing_12_month_starting_mrr_usd,
        coalesce(trailing_cohort.trailing_12_month_retained_mrr_usd, 0) as trailing_12_month_retained_mrr_usd,
        coalesce(trailing_cohort.trailing_12_month_capped_mrr_usd, 0) as trailing_12_month_capped_mrr_usd
    from month_segments
    left join monthly_cohort
        on month_segments.mrr_month = monthly_cohort.mrr_month and month_segments.segment = monthly_cohort.segment
    left join trailing_cohort
        on month_segments.mrr_month = trailing_cohort.mrr_month and month_segments.segment = trailing_cohort.segment
),

-- whether each ratio's base reaches the shared minimum of its family (definitions.minimum_bases)
bases as (
    select
        joined.*,
        joined.starting_customer_count >= thresholds.minimum_bases__customers
        and joined.starting_mrr_usd >= thresholds.minimum_bases__mrr_usd as is_monthly_base_enough,
        joined.eligible_customer_count >= thresholds.minimum_bases__customers as is_eligible_base_enough,
        joined.trailing_12_month_customer_count >= thresholds.minimum_bases__customers
        and joined.trailing_12_month_starting_mrr_usd >= thresholds.minimum_bases__mrr_usd
            as is_trailing_12_month_base_enough
    from joined
    cross join thresholds
),

rates as (
    select
        bases.*,
        case
            when bases.starting_mrr_usd > 0 and bases.is_monthly_base_enough
                then cast(
                    bases.starting_mrr_usd + bases.expansion_mrr_usd - bases.contraction_mrr_usd - bases.churned_mrr_usd
                    as double
                ) / cast(bases.starting_mrr_usd as double)
        end as nrr,
        case
            when bases.starting_mrr_usd > 0 and bases.is_monthly_base_enough
                then cast(bases.starting_mrr_usd - bases.contraction_mrr_usd - bases.churned_mrr_usd as double)
                / cast(bases.starting_mrr_usd as double)
        end as grr,
        case
            when bases.starting_mrr_usd > 0 and bases.is_monthly_base_enough
                then cast(bases.churned_mrr_usd + bases.contraction_mrr_usd as double)
                / cast(bases.starting_mrr_usd as double)
        end as revenue_churn_rate,
        case
            when bases.starting_seat_count > 0 and bases.is_monthly_base_enough
                then cast(bases.lost_seat_count as double) / bases.starting_seat_count
        end as seat_churn_rate,
        case
            when bases.starting_customer_count > 0 and bases.is_monthly_base_enough
                then cast(bases.churned_customer_count as double) / bases.starting_customer_count
        end as naive_logo_churn_rate,
        case
            when bases.eligible_customer_count > 0 and bases.is_eligible_base_enough
                then cast(bases.churned_customer_count as double) / bases.eligible_customer_count
        end as honest_logo_churn_rate,
        case
            when bases.trailing_12_month_starting_mrr_usd > 0 and bases.is_trailing_12_month_base_enough
                then cast(bases.trailing_12_month_retained_mrr_usd as double)
                / cast(bases.trailing_12_month_starting_mrr_usd as double)
        end as trailing_12_month_nrr,
        case
            when bases.trailing_12_month_starting_mrr_usd > 0 and bases.is_trailing_12_month_base_enough
                then cast(bases.trailing_12_month_capped_mrr_usd as double)
                / cast(bases.trailing_12_month_starting_mrr_usd as double)
        end as trailing_12_month_grr
    from bases
),

final as (
    select
        rates.mrr_month,                                                              -- first day of the month
        rates.segment,                                                                -- size segment of the customer's CRM account (shared bands; unknown when not tied)
        rates.starting_customer_count,                                                -- customers paying at the start of the month (the monthly cohort)
        rates.starting_mrr_usd,                                                       -- the cohort's MRR at the close of the previous month
        rates.expansion_mrr_usd,                                                      -- MRR the cohort gained in the month
        rates.contraction_mrr_usd,                                                    -- MRR the cohort lost while still paying (positive)
        rates.churned_mrr_usd,                                                        -- previous MRR of the cohort's customers who stopped paying (positive)
        rates.nrr,                                                                    -- (starting + expansion - contraction - churned) / starting MRR; null when starting MRR is 0
        rates.grr,                                                                    -- (starting - contraction - churned) / starting MRR; null when starting MRR is 0
        rates.revenue_churn_rate,                                                     -- (churned + contraction MRR) / starting MRR; null when starting MRR is 0
        rates.starting_seat_count,                                                    -- seats of the cohort at the start of the month
        rates.lost_seat_count,                                                        -- seats the cohort lost (churned customers' seats and seat reductions)
        rates.churned_seat_count,                                                     -- seats of the customers who churned
        rates.seat_churn_rate,                                                        -- lost_seat_count / starting_seat_count; null when no seats at the start
        rates.churned_customer_count,                                                 -- customers of the cohort who stopped paying (logo churn)
        rates.eligible_customer_count,                                                -- customers of the cohort eligible to churn this month (definitions.churn_eligibility), every churned customer included
        rates.churned_ineligible_customer_count,                                      -- churned customers whose contract did not allow ending this month (an annual contract cancelled mid-term); also in eligible_customer_count
        rates.naive_logo_churn_rate,                                                  -- churned / starting customers; null when no customer paid at the start
        rates.honest_logo_churn_rate,                                                 -- churned / eligible customers; null when no customer was eligible
        rates.honest_logo_churn_rate - rates.naive_logo_churn_rate as churn_rate_gap, -- honest - naive logo churn rate (how much the naive rate understates churn); null when either is null
        case
            when rates.starting_customer_count = 0 then 'no customer paying at the start of the month'
            when not rates.is_monthly_base_enough then 'base below minimum'
        end as monthly_rates_null_reason,                                             -- why nrr, grr, revenue, seat and naive churn rates are null: no customer, or fewer customers or less starting MRR than definitions.minimum_bases ('base below minimum'); null when they are not
        case
            when rates.eligible_customer_count = 0 then 'no customer eligible to churn this month'
            when not rates.is_eligible_base_enough then 'base below minimum'
        end as honest_churn_rate_null_reason,                                         -- why honest_logo_churn_rate is null: no eligible customer, or fewer than minimum_bases__customers ('base below minimum'); null when it is not (the gap is also null when the naive rate is)
        rates.trailing_12_month_customer_count,                                       -- customers paying at the close of the month 12 months earlier
        rates.trailing_12_month_starting_mrr_usd,                                     -- their MRR 12 months earlier
        rates.trailing_12_month_retained_mrr_usd,                                     -- their MRR now (0 for those gone)
        rates.trailing_12_month_nrr,                                                  -- retained / starting MRR of the 12-month cohort; null when none paid 12 months earlier
        rates.trailing_12_month_grr,                                                  -- sum of least(MRR now, MRR then) / MRR then of the 12-month cohort; null when none paid 12 months earlier
        case
            when rates.trailing_12_month_customer_count = 0 then 'no customer paying 12 months earlier'
            when not rates.is_trailing_12_month_base_enough then 'base below minimum'
        end as trailing_12_month_null_reason                                          -- why the trailing-12-month rates are null: nobody paid 12 months earlier, or fewer customers or less MRR then than definitions.minimum_bases ('base below minimum'); null when they are not
    from rates
)

select * from final
