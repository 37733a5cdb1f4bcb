/*
name: int_subscription_discounts_applied
description: >-
  One row per discount and subscription that earns MRR, with the window in which the discount takes money off the
  subscription's MRR and how much. Which subscriptions: a subscription's own discount applies to it; a customer's
  discount (no subscription) to each of the customer's subscriptions that has no discount of its own (Stripe applies
  a subscription's discount instead of its customer's); invoice-level discounts are one-offs and take nothing off
  MRR. The window starts at the later of the discount's start and the subscription's paid-life start (a coupon
  added during a trial waits for the first paid invoice), and the billing cycle is that of the item version in force
  then (or the first one after). Window, by the coupon's duration - forever: until its recorded end (a discount
  removed in Stripe ends at its last sync), else for good; repeating: Stripe discounts every invoice issued while
  the coupon is in force, so the window covers every billing cycle of the subscription (counted from its paid-life
  start) that starts before the coupon's end (Stripe's recorded end, else its start + duration_in_months): on a
  monthly plan the months it lasts, on an annual plan the whole year the discounted invoice pays for, spread evenly;
  once: one billing cycle from the window's start, so on a monthly plan the first invoice's month only and on an
  annual plan the 12 months the discounted invoice pays for. Amount: a percent off takes percent_off / 100 of the
  subscription's MRR; an amount off is taken off each invoice, so it is normalised to a month like a price (amount /
  months in the billing cycle), and counts only for a subscription billed in the coupon's currency (Stripe applies
  an amount-off coupon to invoices in its currency only). marts.fct_mrr_customer_months applies the discounts in
  force at each month's close as definitions.mrr.discounts says, never below 0.
grain: [discount_id, subscription_id]
owner: team:success
*/
with

discounts as (select * from staging.stg_stripe__discounts),

coupons as (select * from staging.stg_stripe__coupons),

item_periods as (select * from intermediate.int_subscription_items_priced),

subscriptions as (
    select distinct
        item_periods.subscription_id,
        item_periods.customer_id,
        item_periods.paid_started_at
    from item_periods
),

-- discounts of a subscription (including a subscription's discount the connector synced as a customer's)
own_discounts as (
    select
        discounts.discount_id,
        discounts.subscription_id,
        discounts.coupon_id,
        discounts.started_at,
        discounts.ends_at
    from discounts
    where discounts.subscription_id is not null and coalesce(discounts.discount_type, 'subscription') in ('subscription', 'customer')
),

-- a customer's discount, on each of its subscriptions without a discount of its own
customer_discounts as (
    select
        discounts.discount_id,
        subscriptions.subscription_id,
        discounts.coupon_id,
        discounts.started_at,
        discounts.ends_at
    from discounts
    inner join subscriptions on discounts.customer_id = subscriptions.customer_id
    where
        discounts.subscription_id is null
        and coalesce(discounts.discount_type, 'customer') = 'customer'
        and subscriptions.subscription_id not in (select own_discounts.subscription_id from own_discounts)
),

applied as (
    select
        all_discounts.*,
        greatest(all_discounts.started_at, subscriptions.paid_started_at) as applies_from,
        subscriptions.paid_started_at
    from (select * from own_discounts union all select * from customer_discounts) as all_discounts
    inner join subscriptions on all_discounts.subscription_id = subscriptions.subscription_id
),

-- the billing cycle and currency when the discount starts to apply: the item version in force then, else the first
-- one after it, else the last one before it (a Stripe subscription bills its items together, in one currency and
-- one interval)
cycle_at_start as (
    select
        applied.*,
        item_periods.cycle_months,
        item_periods.currency as subscription_currency
    from applied
    inner join item_periods on applied.subscription_id = item_periods.subscription_id
    qualify row_number() over (
        partition by applied.discount_id, applied.subscription_id
        order by
            case
                when
                    item_periods.period_started_at <= applied.applies_from
                    and (item_periods.period_ended_at is null or item_periods.period_ended_at > applied.applies_from)
                    then 0
                when item_periods.period_started_at > applied.applies_from then 1
                else 2
            end,
            case when item_periods.period_started_at > applied.applies_from then item_periods.period_started_at end,
            item_periods.period_started_at desc,
            item_periods.cycle_months desc
    ) = 1
),

windows as (
    select
        cycle_at_start.*,
        coupons.duration,
        coupons.duration_in_months,
        coupons.percent_off,
        coupons.amount_off,
        coupons.currency as amount_off_currency,
        coalesce(
            cycle_at_start.ends_at, cycle_at_start.started_at + to_months(coalesce(coupons.duration_in_months, 0))
        ) as coupon_ends_at
    from cycle_at_start
    inner join coupons on cycle_at_start.coupon_id = coupons.coupon_id
),

-- a repeating coupon covers the cycles starting before its end: its end moved to the next cycle boundary (counted
-- from the paid-life start) at or after it
repeating_boundaries as (
    select
        windows.discount_id,
        windows.subscription_id,
        windows.paid_started_at + to_months(
            cast(
                greatest(
                    ceil(date_diff('month', windows.paid_started_at, windows.coupon_ends_at) / windows.cycle_months),
                    0
                ) * windows.cycle_months as integer
            )
        ) as boundary_at
    from windows
    where windows.duration = 'repeating' and windows.cycle_months >= 1
),

bounded as (
    select
        windows.*,
        case windows.duration
            when 'forever' then windows.ends_at
            when 'repeating'
                then case
                    when repeating_boundaries.boundary_at is null then windows.coupon_ends_at
                    when repeating_boundaries.boundary_at >= windows.coupon_ends_at then repeating_boundaries.boundary_at
                    else repeating_boundaries.boundary_at + to_months(cast(windows.cycle_months as integer))
                end
            when 'once'
                then case
                    when windows.cycle_months >= 1
                        then windows.applies_from + to_months(cast(windows.cycle_months as integer))
                    else windows.applies_from + to_days(cast(round(windows.cycle_months * 365 / 12) as integer))
                end
        end as applies_until
    from windows
    left join repeating_boundaries
        on
            windows.discount_id = repeating_boundaries.discount_id
            and windows.subscription_id = repeating_boundaries.subscription_id
),

final as (
    select
        bounded.discount_id,                                          -- billing discount id
        bounded.subscription_id,                                      -- billing subscription discounted (its own discount, or its customer's)
        bounded.coupon_id,                                            -- the coupon applied
        bounded.duration,                                             -- once, repeating or forever
        bounded.duration_in_months,                                   -- months a repeating coupon lasts
        bounded.percent_off,                                          -- percent of the MRR taken off (null for an amount-off coupon)
        bounded.amount_off,                                           -- amount taken off each invoice, in amount_off_currency (null for a percent-off coupon)
        bounded.amount_off_currency,                                  -- ISO currency of amount_off
        case
            when bounded.amount_off is not null and bounded.amount_off_currency = bounded.subscription_currency
                then cast(bounded.amount_off / bounded.cycle_months as decimal(18, 4))
        end as monthly_amount_off,                                    -- amount off per month (amount / months in the billing cycle), in the subscription's currency; null when the currencies differ
        bounded.applies_from,                                         -- when the discount starts taking money off (UTC): the later of its start and the paid-life start
        bounded.applies_until                                         -- when it stops (UTC): see the description; null while it lasts for good
    from bounded
)

select * from final
