/*
name: int_opportunities_unconverted
description: >-
  The deal amounts left out of the totals in the reporting currency because their currency has no exchange rate
  for the month that converts them (intermediate.int_opportunities_classified: the close month, at the latest the
  month of the run's as-of time): one row per such opportunity with an amount. Those opportunities have no
  amount_usd, so the marts count them 0 instead of stopping; the warning check below counts them by currency and
  month, so the rate feed can be completed (or definitions.fx changed) and the marts rebuilt. Empty when every
  amount converts.
grain: [opportunity_id]
owner: team:revops
*/
with

classified as (select * from intermediate.int_opportunities_classified),

rate_rule as (select * from definitions.fx_rate_rule),

final as (
    select
        classified.opportunity_id,                                    -- CRM opportunity id
        classified.account_id,                                        -- account that buys
        classified.amount_currency as currency,                       -- ISO currency of the amount
        classified.amount_rate_month as rate_month,                   -- first day of the month with no rate (reporting time zone)
        classified.amount,                                            -- the amount left out, in the currency
        'no ' || classified.amount_currency || ' exchange rate for ' || strftime(classified.amount_rate_month, '%Y-%m')
        || ' (fx.rate_rule ' || rate_rule.rate_rule || ')' as reason  -- why the amount is not in the totals
    from classified
    cross join rate_rule
    where classified.amount is not null and classified.amount_rate_to_reporting is null
)

select * from final
