/*
name: int_subscription_discounts_applied
description: >-
  One row per coupon applied to a subscription that earns MRR, with the window in which it takes money off the
  subscription's MRR and how much. Window, by the coupon's duration - forever: from the discount's start, until its
  recorded end (a discount removed), else for good; repeating: from its start for duration_in_months months (Stripe's
  recorded end when there is one); once: one billing cycle of the subscription's price from its start, so on a
  monthly plan the first invoice's month only (the discount is in force at that month's close and gone at the
  next), and on an annual plan the 12 months the discounted invoice pays for, spread evenly as Stripe's own MRR
  spreads it. Amount: a percent off takes percent_off / 100 of the subscription's MRR; an amount off is taken off
  each invoice, so it is normalised to a month like a price (amount / months in the billing cycle), and counts only
  for a subscription billed in the coupon's currency (Stripe applies an amount-off coupon to invoices in its
  currency only). marts.fct_mrr_customer_months applies the discounts in force at each month's close, never below 0.
grain: [subscription_discount_id]
owner: team:success
*/
with

discounts as (select * from staging.stg_stripe__subscription_discounts),

coupons as (select * from staging.stg_stripe__coupons),

item_periods as (select * from intermediate.int_subscription_items_priced),

-- the billing cycle and currency of each subscription (a Stripe subscription bills its items together, in one
-- currency and one interval)
subscription_cycles as (
    select
        item_periods.subscription_id,
        max(item_periods.cycle_months) as cycle_months,
        min(item_periods.currency) as currency
    from item_periods
    group by item_periods.subscription_id
),

windows as (
    select
        discounts.subscription_discount_id,
        discounts.subscription_id,
        discounts.coupon_id,
        coupons.duration,
        coupons.duration_in_months,
        coupons.percent_off,
        coupons.amount_off,
        coupons.currency as amount_off_currency,
        subscription_cycles.currency as subscription_currency,
        subscription_cycles.cycle_months,
        discounts.started_at,
        case coupons.duration
            when 'forever' then discounts.ends_at
            when 'repeating'
                then coalesce(discounts.ends_at, discounts.started_at + to_months(coupons.duration_in_months))
            when 'once'
                then case
                    when subscription_cycles.cycle_months >= 1
                        then discounts.started_at + to_months(cast(subscription_cycles.cycle_months as integer))
                    else discounts.started_at
                        + to_days(cast(round(subscription_cycles.cycle_months * 365 / 12) as integer))
                end
        end as ends_at
    from discounts
    inner join coupons on discounts.coupon_id = coupons.coupon_id
    inner join subscription_cycles on discounts.subscription_id = subscription_cycles.subscription_id
),

final as (
    select
        windows.subscription_discount_id,                             -- billing discount id
        windows.subscription_id,                                      -- billing subscription discounted
        windows.coupon_id,                                            -- the coupon applied
        windows.duration,                                             -- once, repeating or forever
        windows.duration_in_months,                                   -- months a repeating coupon lasts
        windows.percent_off,                                          -- percent of the MRR taken off (null for an amount-off coupon)
        windows.amount_off,                                           -- amount taken off each invoice, in amount_off_currency (null for a percent-off coupon)
        windows.amount_off_currency,                                  -- ISO currency of amount_off
        case
            when windows.amount_off is not null and windows.amount_off_currency = windows.subscription_currency
                then cast(windows.amount_off / windows.cycle_months as decimal(18, 4))
        end as monthly_amount_off,                                    -- amount off per month (amount / months in the billing cycle), in the subscription's currency; null when the currencies differ
        windows.started_at as applies_from,                           -- when the discount starts taking money off (UTC)
        windows.ends_at as applies_until                              -- when it stops (UTC): see the description; null while it lasts for good
    from windows
)

select * from final
