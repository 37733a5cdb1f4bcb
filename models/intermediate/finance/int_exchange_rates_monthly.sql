/*
name: int_exchange_rates_monthly
description: >-
  One row per currency (upper-case ISO code) and month (rate_month: the first day of a month of the reporting time
  zone) with the rate that converts that month's amounts into the reporting currency (amount x rate_to_reporting),
  chosen by definitions.fx.rate_rule: month_start (the rate dated on the month's first day, else the latest rate
  dated in the month before; none when neither exists), month_average (the mean of the daily rates dated in the
  month) or budget (the fixed rate of fx.budget_rates, in every month). The reporting currency itself has a row with
  rate 1 in every month, whatever the rule, so amounts already in it convert by the same join; rows of the rate feed
  for the reporting currency are ignored. Months run from the data horizon's earliest month to the month of the
  run's as-of time (no rate is made up for a later month). A (currency, month) with no row has no rate: models that
  convert with this table leave such amounts out of their totals in the reporting currency and list them with the
  reason instead of stopping.
grain: [currency, rate_month]
owner: team:revops
*/
with

rates as (select * from staging.stg_finance__exchange_rates),

rate_rule as (select * from definitions.fx_rate_rule),

budget_rates as (select * from definitions.fx_budget_rates),

reporting as (select * from definitions.reporting),

horizon as (select * from definitions.data_horizon),

-- the months rates may be given for: the data horizon's, on the reporting time zone's calendar
horizon_months as (
    select
        cast(
            unnest(
                generate_series(
                    cast(
                        date_trunc('month', cast(horizon.earliest_at as timestamptz) at time zone reporting.time_zone)
                        as date
                    ),
                    cast(
                        date_trunc('month', cast(horizon.as_of_at as timestamptz) at time zone reporting.time_zone)
                        as date
                    ),
                    interval 1 month
                )
            ) as date
        ) as rate_month
    from horizon
    cross join reporting
),

foreign_rates as (
    select rates.*
    from rates
    cross join reporting
    where rates.currency <> reporting.currency
),

-- month_start: a daily rate stands for the month it opens (dated on a first day) and for the month after its own
-- month (the last business day's closing rate); the latest candidate wins, so the first day's rate comes first
month_start_candidates as (
    select
        foreign_rates.currency,
        cast(date_trunc('month', foreign_rates.rate_date) + interval 1 month as date) as rate_month,
        foreign_rates.rate_date,
        foreign_rates.rate_to_reporting
    from foreign_rates
    union all
    select
        foreign_rates.currency,
        foreign_rates.rate_date as rate_month,
        foreign_rates.rate_date,
        foreign_rates.rate_to_reporting
    from foreign_rates
    where foreign_rates.rate_date = cast(date_trunc('month', foreign_rates.rate_date) as date)
),

month_start_rates as (
    select
        month_start_candidates.currency,
        month_start_candidates.rate_month,
        month_start_candidates.rate_to_reporting,
        month_start_candidates.rate_date as rate_dated,
        1 as rate_days_count
    from month_start_candidates
    qualify row_number() over (
        partition by month_start_candidates.currency, month_start_candidates.rate_month
        order by month_start_candidates.rate_date desc
    ) = 1
),

month_average_rates as (
    select
        foreign_rates.currency,
        cast(date_trunc('month', foreign_rates.rate_date) as date) as rate_month,
        avg(foreign_rates.rate_to_reporting) as rate_to_reporting,
        cast(null as date) as rate_dated,
        count(*) as rate_days_count
    from foreign_rates
    group by foreign_rates.currency, cast(date_trunc('month', foreign_rates.rate_date) as date)
),

budget_month_rates as (
    select
        budget_rates.currency,
        horizon_months.rate_month,
        budget_rates.rate_to_reporting,
        cast(null as date) as rate_dated,
        0 as rate_days_count
    from budget_rates
    cross join horizon_months
    cross join reporting
    where budget_rates.currency <> reporting.currency
),

chosen_rates as (
    select month_start_rates.* from month_start_rates
    where (select min(rate_rule.rate_rule) from rate_rule) = 'month_start'
    union all
    select month_average_rates.* from month_average_rates
    where (select min(rate_rule.rate_rule) from rate_rule) = 'month_average'
    union all
    select budget_month_rates.* from budget_month_rates
    where (select min(rate_rule.rate_rule) from rate_rule) = 'budget'
),

reporting_currency_rates as (
    select
        reporting.currency,
        horizon_months.rate_month,
        cast(1 as double) as rate_to_reporting,
        cast(null as date) as rate_dated,
        0 as rate_days_count
    from horizon_months
    cross join reporting
),

all_rates as (
    select
        chosen_rates.currency,
        chosen_rates.rate_month,
        chosen_rates.rate_to_reporting,
        chosen_rates.rate_dated,
        chosen_rates.rate_days_count,
        rate_rule.rate_rule
    from chosen_rates
    inner join horizon_months on chosen_rates.rate_month = horizon_months.rate_month
    cross join rate_rule
    union all
    select
        reporting_currency_rates.currency,
        reporting_currency_rates.rate_month,
        reporting_currency_rates.rate_to_reporting,
        reporting_currency_rates.rate_dated,
        reporting_currency_rates.rate_days_count,
        'reporting_currency' as rate_rule
    from reporting_currency_rates
),

final as (
    select
        all_rates.currency,                                                   -- ISO currency code, upper case
        all_rates.rate_month,                                                 -- first day of the month (reporting time zone)
        cast(all_rates.rate_to_reporting as double) as rate_to_reporting,     -- units of the reporting currency per unit of currency in this month
        all_rates.rate_rule,                                                  -- the rule that chose it (definitions.fx.rate_rule), or reporting_currency (rate 1)
        all_rates.rate_dated,                                                 -- month_start: the day of the daily rate used; null otherwise
        cast(all_rates.rate_days_count as integer) as rate_days_count         -- daily rates behind it: 1 (month_start), the days averaged, 0 (budget, reporting currency)
    from all_rates
)

select * from final
