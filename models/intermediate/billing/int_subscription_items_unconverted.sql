/*
name: int_subscription_items_unconverted
description: >-
  The MRR left out of the totals in the reporting currency because its currency has no exchange rate for the
  month: one row per subscription item version and month it earns MRR in (any part of the month, from the month its
  paying period starts to the month it ends, or the month of the run's as-of time while it still runs) whose
  currency has no row in intermediate.int_exchange_rates_monthly for that month. marts.fct_mrr_customer_months
  leaves those amounts out instead of stopping; the warning check below counts them by currency and month, so the
  rate feed can be completed (or definitions.fx changed) and the marts rebuilt. Empty when every amount converts.
grain: [subscription_item_id, valid_from, mrr_month]
owner: team:revops
*/
with

item_periods as (select * from intermediate.int_subscription_items_priced),

rates as (select * from intermediate.int_exchange_rates_monthly),

rate_rule as (select * from definitions.fx_rate_rule),

reporting as (select * from definitions.reporting),

horizon as (select * from definitions.data_horizon),

-- the months of each item version's paying period, on the reporting time zone's calendar, up to the as-of month
item_month_bounds as (
    select
        item_periods.*,
        cast(
            date_trunc('month', cast(item_periods.period_started_at as timestamptz) at time zone reporting.time_zone)
            as date
        ) as first_month,
        cast(
            date_trunc(
                'month',
                least(
                    coalesce(
                        cast(item_periods.period_ended_at as timestamptz) at time zone reporting.time_zone,
                        cast(horizon.as_of_at as timestamptz) at time zone reporting.time_zone
                    ),
                    cast(horizon.as_of_at as timestamptz) at time zone reporting.time_zone
                )
            ) as date
        ) as last_month
    from item_periods
    cross join reporting
    cross join horizon
),

item_months as (
    select
        item_month_bounds.*,
        cast(
            unnest(generate_series(item_month_bounds.first_month, item_month_bounds.last_month, interval 1 month))
            as date
        ) as mrr_month
    from item_month_bounds
    where item_month_bounds.first_month <= item_month_bounds.last_month
),

final as (
    select
        item_months.subscription_item_id,                             -- billing subscription item id
        item_months.valid_from,                                       -- the item version (as in int_subscription_items_priced)
        item_months.mrr_month,                                        -- first day of the month with no rate (reporting time zone)
        item_months.subscription_id,                                  -- billing subscription
        item_months.customer_id,                                      -- billing customer
        item_months.currency,                                         -- ISO currency of the price
        item_months.mrr_amount,                                       -- the MRR left out, in the currency
        'no ' || item_months.currency || ' exchange rate for ' || strftime(item_months.mrr_month, '%Y-%m')
        || ' (fx.rate_rule ' || rate_rule.rate_rule || ')' as reason  -- why the amount is not in the totals
    from item_months
    cross join rate_rule
    left join rates on item_months.currency = rates.currency and item_months.mrr_month = rates.rate_month
    where rates.rate_month is null
)

select * from final
