/*
name: fct_mrr_customer_months
description: >-
  One row per billing customer and month with its monthly recurring revenue (MRR) at the close of the month and the
  MRR movement of the month, with the semantics of dbt Labs' MRR playbook. A customer's MRR for a month is the sum
  of the MRR of the subscription items in force at the month's last instant (at the data's last recorded event for
  the latest month, which is still running). Rows run from the customer's first paying month to the latest month
  in the billing data (the month of its latest recorded event, never the clock); months after a churn in which the
  customer pays nothing and paid nothing the month before are left out, so every row is a paying month or a churn
  month. Currencies: an item's MRR is converted to the reporting currency at its month's rate
  (intermediate.int_exchange_rates_monthly, by definitions.fx.rate_rule); an item whose currency has no rate for the
  month is left out of that month's MRR and listed in intermediate.int_subscription_items_unconverted (a warning check counts
  them), so a missing rate shows there, and in this table as a drop (a contraction or churn) until it is filled.
  For a customer paying in both months, the change is split the way finance teams bridge MRR: expansion or
  contraction is the change in each currency at this month's rate (constant currency), and fx_mrr_usd the rest
  (the previous month's amount x the change of the rate); a customer whose only change is the rate is unchanged.
  New, churned and reactivation MRR are at their own month's rate (churned MRR is the previous month's MRR), with
  no fx. Discounts (intermediate.int_subscription_discounts_applied): the coupons in force on a subscription at the
  month's close take their percent of its list MRR and their monthly amount off, never more than its MRR. Which of
  them MRR is net of is definitions.mrr.discounts: net (the default; as invoice-based SaaS-metrics tools such as
  ChartMogul and Baremetrics count) takes every discount off in the months it applies, so a discount starting
  mid-life is a contraction, one ending an expansion, and a 100%-off subscription carries no MRR (a customer paying
  nothing is not paying: it is new in its first month with MRR > 0, and churns when its MRR falls to 0);
  forever_only (Stripe Billing's own MRR by default) takes off only forever coupons, leaving once and repeating ones
  out of MRR; gross takes none off (list price x seats). discount_mrr_usd always shows every discount in force.
  Movement - new: the first month with MRR > 0; churn: MRR = 0 after a month with MRR > 0 (the row carries
  MRR 0); reactivation: MRR > 0 after a month with MRR = 0, once the customer has paid before; expansion /
  contraction: MRR at constant currency up / down between two paying months; unchanged: neither. The calendar starts at the first
  paying month in the data, so no customer's history starts before it (the playbook's calendar is fixed to start
  in 2018 and would call a customer paying since before then new in its first calendar month). Churn eligibility
  (definitions.churn_eligibility): a customer paying at the start of the month is eligible to churn in it when
  every subscription item it paid for at the close of the previous month may end in this month: items of a
  billing interval marked every_month always may; items of an interval marked term_end_month only in a month
  whole contract terms (12 x interval count months for yearly prices) after the month the subscription's paid
  life began (its term-end month). Intervals not listed may end every month. A customer that churns in a month is
  eligible in it whatever its contract allowed: an annual contract cancelled mid-term is churn, and makes the
  customer eligible in that month (is_contract_end_month tells such an early cancellation apart), so churned
  customers are always a subset of the eligible ones. Months are months of the reporting
  time zone (definitions.reporting).
grain: [customer_id, mrr_month]
owner: team:revops
*/
with

item_periods as (select * from intermediate.int_subscription_items_priced),

rates as (select * from intermediate.int_exchange_rates_monthly),

discounts as (select * from intermediate.int_subscription_discounts_applied),

mrr_discounts as (select * from definitions.mrr_discounts),

subscriptions as (select * from staging.stg_stripe__subscriptions),

customers as (select * from staging.stg_stripe__customers),

accounts as (select * from staging.stg_salesforce__accounts),

segments as (select * from definitions.segments),

churn_eligibility as (select * from definitions.churn_eligibility),

horizon as (select * from definitions.data_horizon),

reporting as (select * from definitions.reporting),

-- the billing data runs to its latest recorded event (a future trial end or period end does not count)
billing_events as (
    select subscriptions.created_at as event_at from subscriptions
    union all
    select subscriptions.started_at from subscriptions
    union all
    select subscriptions.current_period_started_at from subscriptions
    union all
    select subscriptions.canceled_at from subscriptions
    union all
    select subscriptions.ended_at from subscriptions
    union all
    select item_periods.valid_from from item_periods
    union all
    select item_periods.period_ended_at from item_periods
),

-- the latest billing event, never after the run's as-of time: the last month of the calendar
data_as_of as (
    select least(max(billing_events.event_at), min(horizon.as_of_at)) as as_of_at
    from billing_events
    cross join horizon
),

-- months are months of the reporting time zone: the item periods and the data's last event on its clock (local =
-- cast(utc as timestamptz) at time zone reporting.time_zone, the idiom every model uses)
local_item_periods as (
    select
        item_periods.customer_id,
        item_periods.subscription_id,
        item_periods.currency,
        item_periods.mrr_amount,
        item_periods.seat_quantity,
        item_periods.billing_interval,
        item_periods.cycle_months,
        cast(item_periods.period_started_at as timestamptz) at time zone reporting.time_zone as period_started_local,
        cast(item_periods.period_ended_at as timestamptz) at time zone reporting.time_zone as period_ended_local,
        cast(
            date_trunc('month', cast(item_periods.paid_started_at as timestamptz) at time zone reporting.time_zone)
            as date
        ) as paid_started_month
    from item_periods
    cross join reporting
),

local_as_of as (
    select cast(data_as_of.as_of_at as timestamptz) at time zone reporting.time_zone as as_of_local
    from data_as_of
    cross join reporting
),

calendar_bounds as (
    select
        cast(date_trunc('month', min(local_item_periods.period_started_local)) as date) as first_month,
        cast(date_trunc('month', min(local_as_of.as_of_local)) as date) as last_month
    from local_item_periods
    cross join local_as_of
),

calendar as (
    select cast(unnest(generate_series(calendar_bounds.first_month, calendar_bounds.last_month, interval 1 month)) as date)
        as mrr_month
    from calendar_bounds
),

-- the instant each month's MRR is read at, on the reporting time zone's clock: its last microsecond, or the data's
-- last event for the running month
month_closes as (
    select
        calendar.mrr_month,
        least(calendar.mrr_month + interval 1 month - interval 1 microsecond, local_as_of.as_of_local) as closes_local
    from calendar
    cross join local_as_of
),

item_months as (
    select
        month_closes.mrr_month,
        month_closes.closes_local,
        local_item_periods.customer_id,
        local_item_periods.subscription_id,
        local_item_periods.currency,
        local_item_periods.mrr_amount,
        rates.rate_to_reporting,
        local_item_periods.seat_quantity,
        local_item_periods.billing_interval,
        -- whether this item's contract lets it end in the month after this one
        case
            when
                coalesce(churn_eligibility.is_eligible_only_at_term_end, false)
                and local_item_periods.cycle_months >= 1
                then date_diff(
                    'month',
                    local_item_periods.paid_started_month,
                    cast(month_closes.mrr_month + interval 1 month as date)
                ) % cast(local_item_periods.cycle_months as integer) = 0
            else true
        end as may_end_next_month
    from local_item_periods
    inner join month_closes
        on
            local_item_periods.period_started_local <= month_closes.closes_local
            and (
                local_item_periods.period_ended_local is null
                or local_item_periods.period_ended_local > month_closes.closes_local
            )
    -- an item whose currency has no rate for the month is left out (intermediate.int_subscription_items_unconverted lists it)
    inner join rates
        on local_item_periods.currency = rates.currency and month_closes.mrr_month = rates.rate_month
    left join churn_eligibility on local_item_periods.billing_interval = churn_eligibility.billing_interval
),

local_discounts as (
    select
        discounts.subscription_id,
        discounts.percent_off,
        discounts.monthly_amount_off,
        discounts.duration,
        cast(discounts.applies_from as timestamptz) at time zone reporting.time_zone as applies_from_local,
        cast(discounts.applies_until as timestamptz) at time zone reporting.time_zone as applies_until_local
    from discounts
    cross join reporting
),

-- each subscription's MRR at the month's close, in its currency (a subscription bills its items in one currency)
subscription_months as (
    select
        item_months.customer_id,
        item_months.subscription_id,
        item_months.mrr_month,
        item_months.currency,
        min(item_months.closes_local) as closes_local,
        min(item_months.rate_to_reporting) as rate_to_reporting,
        sum(item_months.mrr_amount) as list_amount
    from item_months
    group by item_months.customer_id, item_months.subscription_id, item_months.mrr_month, item_months.currency
),

-- the discounts in force at the month's close: percents of the list MRR plus amounts off, never more than the MRR;
-- all of them (shown beside MRR), and those definitions.mrr.discounts takes off it (net: all; forever_only: the
-- forever coupons, as Stripe Billing's own MRR; gross: none)
subscription_discounts as (
    select
        subscription_months.subscription_id,
        subscription_months.mrr_month,
        cast(
            least(
                subscription_months.list_amount,
                coalesce(sum(subscription_months.list_amount * local_discounts.percent_off / 100), 0)
                + coalesce(sum(local_discounts.monthly_amount_off), 0)
            ) as decimal(18, 4)
        ) as discount_amount,
        cast(
            least(
                subscription_months.list_amount,
                coalesce(
                    sum(subscription_months.list_amount * local_discounts.percent_off / 100) filter (
                        where mrr_discounts.discounts = 'net' or local_discounts.duration = 'forever'
                    ),
                    0
                )
                + coalesce(
                    sum(local_discounts.monthly_amount_off) filter (
                        where mrr_discounts.discounts = 'net' or local_discounts.duration = 'forever'
                    ),
                    0
                )
            ) as decimal(18, 4)
        ) as counted_amount
    from subscription_months
    cross join mrr_discounts
    inner join local_discounts
        on
            subscription_months.subscription_id = local_discounts.subscription_id
            and local_discounts.applies_from_local <= subscription_months.closes_local
            and (
                local_discounts.applies_until_local is null
                or local_discounts.applies_until_local > subscription_months.closes_local
            )
    group by subscription_months.subscription_id, subscription_months.mrr_month, subscription_months.list_amount
),

-- MRR net of the discounts, or list MRR, as definitions.mrr.discounts says
subscription_amounts as (
    select
        subscription_months.*,
        coalesce(subscription_discounts.discount_amount, 0) as discount_amount,
        subscription_months.list_amount
        - case
            when mrr_discounts.discounts = 'gross' then 0 else coalesce(subscription_discounts.counted_amount, 0)
        end as mrr_amount
    from subscription_months
    left join subscription_discounts
        on
            subscription_months.subscription_id = subscription_discounts.subscription_id
            and subscription_months.mrr_month = subscription_discounts.mrr_month
    cross join mrr_discounts
),

customer_currency_months as (
    select
        subscription_amounts.customer_id,
        subscription_amounts.mrr_month,
        subscription_amounts.currency,
        sum(subscription_amounts.mrr_amount) as mrr_amount,
        min(subscription_amounts.rate_to_reporting) as rate_to_reporting
    from subscription_amounts
    group by subscription_amounts.customer_id, subscription_amounts.mrr_month, subscription_amounts.currency
),

customer_month_amounts as (
    select
        subscription_amounts.customer_id,
        subscription_amounts.mrr_month,
        sum(cast(subscription_amounts.mrr_amount * subscription_amounts.rate_to_reporting as decimal(18, 4)))
            as mrr_usd,
        sum(cast(subscription_amounts.discount_amount * subscription_amounts.rate_to_reporting as decimal(18, 4)))
            as discount_mrr_usd
    from subscription_amounts
    group by subscription_amounts.customer_id, subscription_amounts.mrr_month
),

-- the change of a customer's MRR at this month's rates (constant currency): per currency, the change in the
-- currency x this month's rate (the previous month's rate when this month has none for a currency it stopped paying
-- in); what is left of the change in USD is the exchange-rate effect (previous amount x the change of the rate)
constant_currency_changes as (
    select
        coalesce(this_month.customer_id, previous_month.customer_id) as customer_id,
        coalesce(this_month.mrr_month, cast(previous_month.mrr_month + interval 1 month as date)) as mrr_month,
        sum(
            cast(
                (coalesce(this_month.mrr_amount, 0) - coalesce(previous_month.mrr_amount, 0))
                * coalesce(this_month.rate_to_reporting, next_rates.rate_to_reporting, previous_month.rate_to_reporting)
                as decimal(18, 4)
            )
        ) as constant_currency_change_usd
    from customer_currency_months as this_month
    full outer join customer_currency_months as previous_month
        on
            this_month.customer_id = previous_month.customer_id
            and this_month.currency = previous_month.currency
            and previous_month.mrr_month = this_month.mrr_month - interval 1 month
    left join rates as next_rates
        on
            previous_month.currency = next_rates.currency
            and next_rates.rate_month = previous_month.mrr_month + interval 1 month
    group by 1, 2
),

customer_months_paid as (
    select
        item_months.customer_id,
        item_months.mrr_month,
        min(customer_month_amounts.mrr_usd) as mrr_usd,
        min(customer_month_amounts.discount_mrr_usd) as discount_mrr_usd,
        cast(sum(item_months.seat_quantity) as bigint) as seats,
        case
            when count(distinct item_months.billing_interval) = 1 then min(item_months.billing_interval)
            else 'mixed'
        end as billing_interval,
        bool_and(item_months.may_end_next_month) as may_churn_next_month
    from item_months
    inner join customer_month_amounts
        on
            item_months.customer_id = customer_month_amounts.customer_id
            and item_months.mrr_month = customer_month_amounts.mrr_month
    group by item_months.customer_id, item_months.mrr_month
),

customer_first_months as (
    select
        customer_months_paid.customer_id,
        min(customer_months_paid.mrr_month) as first_paid_month
    from customer_months_paid
    where customer_months_paid.mrr_usd > 0
    group by customer_months_paid.customer_id
),

-- every month from the customer's first paying month to the end of the data, paying or not
customer_spine as (
    select
        customer_first_months.customer_id,
        customer_first_months.first_paid_month,
        calendar.mrr_month,
        coalesce(customer_months_paid.mrr_usd, 0) as mrr_usd,
        coalesce(customer_months_paid.discount_mrr_usd, 0) as discount_mrr_usd,
        coalesce(customer_months_paid.seats, 0) as seats,
        customer_months_paid.billing_interval,
        customer_months_paid.may_churn_next_month
    from customer_first_months
    inner join calendar on customer_first_months.first_paid_month <= calendar.mrr_month
    left join customer_months_paid
        on
            customer_first_months.customer_id = customer_months_paid.customer_id
            and calendar.mrr_month = customer_months_paid.mrr_month
),

with_previous as (
    select
        customer_spine.*,
        coalesce(
            lag(customer_spine.mrr_usd) over (partition by customer_spine.customer_id order by customer_spine.mrr_month),
            0
        ) as previous_mrr_usd,
        coalesce(
            lag(customer_spine.seats) over (partition by customer_spine.customer_id order by customer_spine.mrr_month),
            0
        ) as previous_seats,
        lag(customer_spine.billing_interval) over (
            partition by customer_spine.customer_id order by customer_spine.mrr_month
        ) as previous_billing_interval,
        lag(customer_spine.may_churn_next_month) over (
            partition by customer_spine.customer_id order by customer_spine.mrr_month
        ) as previous_may_churn_next_month
    from customer_spine
),

classified as (
    select
        with_previous.*,
        with_previous.mrr_usd - with_previous.previous_mrr_usd as mrr_change_usd,
        coalesce(constant_currency_changes.constant_currency_change_usd, 0) as constant_currency_change_usd,
        case
            when with_previous.mrr_usd > 0 and with_previous.mrr_month = with_previous.first_paid_month then 'new'
            when with_previous.mrr_usd = 0 and with_previous.previous_mrr_usd > 0 then 'churn'
            when with_previous.mrr_usd > 0 and with_previous.previous_mrr_usd = 0 then 'reactivation'
            when coalesce(constant_currency_changes.constant_currency_change_usd, 0) > 0 then 'expansion'
            when coalesce(constant_currency_changes.constant_currency_change_usd, 0) < 0 then 'contraction'
            else 'unchanged'
        end as movement
    from with_previous
    left join constant_currency_changes
        on
            with_previous.customer_id = constant_currency_changes.customer_id
            and with_previous.mrr_month = constant_currency_changes.mrr_month
    where with_previous.mrr_usd > 0 or with_previous.previous_mrr_usd > 0
),

account_segments as (
    select
        accounts.account_id,
        segments.segment
    from accounts
    inner join segments
        on
            accounts.employee_count >= segments.min_employees
            and (segments.max_employees is null or accounts.employee_count <= segments.max_employees)
),

unknown_segment as (
    select segments.segment
    from segments
    where segments.min_employees is null
),

final as (
    select
        classified.customer_id,                                                       -- billing customer id
        classified.mrr_month,                                                         -- first day of the month
        customers.crm_account_id as account_id,                                       -- CRM account (Stripe metadata.salesforce_account_id); null for self-serve customers
        coalesce(account_segments.segment, unknown_segment.segment) as segment,       -- size segment of the CRM account from the shared bands; the unknown segment when not tied to a known account
        classified.first_paid_month,                                                  -- the customer's first month with MRR > 0 (its new month)
        classified.mrr_usd,                                                           -- MRR in USD at the close of the month (0 in a churn month), net of the discounts definitions.mrr.discounts counts
        classified.discount_mrr_usd,                                                  -- discounts in force at the close of the month, in USD (those definitions.mrr.discounts counts are taken off mrr_usd)
        classified.seats,                                                             -- seats (item quantities) billed at the close of the month (0 in a churn month)
        coalesce(classified.billing_interval, classified.previous_billing_interval) as billing_interval, -- month, year or mixed (several intervals); a churn month shows the interval that ended
        classified.previous_mrr_usd,                                                  -- MRR at the close of the previous month (0 when not paying)
        classified.previous_seats,                                                    -- seats at the close of the previous month
        classified.mrr_change_usd,                                                    -- mrr_usd - previous_mrr_usd (the movement + fx_mrr_usd)
        classified.movement,                                                          -- new, expansion, contraction, churn, reactivation or unchanged (see the description)
        case when classified.movement = 'new' then classified.mrr_usd else 0 end as new_mrr_usd, -- MRR of a new customer (0 otherwise)
        case
            when classified.movement = 'expansion' then classified.constant_currency_change_usd else 0
        end as expansion_mrr_usd,                                                     -- MRR gained by a paying customer, at this month's rates (positive; 0 otherwise)
        case
            when classified.movement = 'contraction' then -classified.constant_currency_change_usd else 0
        end as contraction_mrr_usd,                                                   -- MRR lost by a customer still paying, at this month's rates (positive; 0 otherwise)
        case
            when classified.movement = 'churn' then classified.previous_mrr_usd else 0
        end as churned_mrr_usd,                                                       -- MRR lost by a churning customer (positive; 0 otherwise)
        case
            when classified.movement = 'reactivation' then classified.mrr_usd else 0
        end as reactivation_mrr_usd,                                                  -- MRR of a customer paying again after a churn (0 otherwise)
        case
            when classified.movement in ('expansion', 'contraction', 'unchanged')
                then classified.mrr_change_usd - classified.constant_currency_change_usd
            else 0
        end as fx_mrr_usd,                                                            -- change caused by exchange rates for a customer paying in both months: previous amount x (rate now - rate before); 0 for new, churn and reactivation
        classified.previous_mrr_usd > 0 as is_paying_at_start,                        -- paid at the close of the previous month (in the month's retention cohort)
        classified.previous_mrr_usd > 0
        and coalesce(classified.previous_may_churn_next_month, false) as is_contract_end_month, -- paying at the start and every item it paid for may end this month by its contract (definitions.churn_eligibility: monthly any month, annual only in its term-end month)
        classified.previous_mrr_usd > 0
        and (
            coalesce(classified.previous_may_churn_next_month, false) or classified.movement = 'churn'
        ) as is_churn_eligible                                                        -- eligible to churn this month: its contract may end this month, or it churned anyway (an early cancellation counts as churn and makes it eligible)
    from classified
    inner join customers on classified.customer_id = customers.customer_id
    left join account_segments on customers.crm_account_id = account_segments.account_id
    cross join unknown_segment
)

select * from final
