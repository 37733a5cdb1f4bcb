/*
name: stg_finance__exchange_rates
description: >-
  One row per day and currency with the exchange rate into the reporting currency, latest sync kept. Currency codes
  are upper-cased (feeds write `eur` or `EUR`); a file holding the same day in both spellings is two rates for one
  key, and fails the grain check rather than picking one.
grain: [rate_date, currency]
owner: team:revops
*/
with

source as (select * from finance.exchange_rate),

latest as (
    select *
    from source
    qualify row_number() over (
        partition by date, currency
        order by cast(_fivetran_synced as timestamp) desc nulls last
    ) = 1
),

final as (
    select
        cast(date as date) as rate_date,                              -- day the rate applies to (a date of the reporting time zone)
        upper(trim(cast(currency as varchar))) as currency,           -- ISO currency code, upper case
        cast(rate as double) as rate_to_reporting                     -- units of the reporting currency per one unit of currency
    from latest
)

select * from final
