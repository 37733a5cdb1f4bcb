/*
name: assert_monthly_rates_follow_the_rate_rule
severity: error
description: >-
  Every month of the data horizon has the rate definitions.fx.rate_rule gives it, stated from the staged daily rates
  and the definitions, in both directions: no month that has a rate under the rule is missing, none that has no
  rate appears, and each rate is the rule's (month_start: the latest daily rate dated from the first day of the
  month before to the month's first day; month_average: the mean of the month's daily rates; budget: the budget
  rate). The reporting currency has rate 1 in every month.
*/
with
months as (
    select cast(unnest(generate_series(
        cast(date_trunc('month', cast(horizon.earliest_at as timestamptz) at time zone reporting.time_zone) as date),
        cast(date_trunc('month', cast(horizon.as_of_at as timestamptz) at time zone reporting.time_zone) as date),
        interval 1 month
    )) as date) as rate_month
    from definitions.data_horizon as horizon
    cross join definitions.reporting as reporting
),
rule as (select min(rate_rule) as rate_rule from definitions.fx_rate_rule),
foreign_rates as (
    select rates.currency, rates.rate_date, rates.rate_to_reporting
    from staging.stg_finance__exchange_rates as rates
    where rates.currency <> (select min(currency) from definitions.reporting)
),
expected as (
    select (select min(currency) from definitions.reporting) as currency, months.rate_month, 1.0 as rate
    from months
    union all
    select foreign_rates.currency, months.rate_month, max_by(foreign_rates.rate_to_reporting, foreign_rates.rate_date)
    from months
    inner join foreign_rates
        on foreign_rates.rate_date between months.rate_month - interval 1 month and months.rate_month
    where (select rule.rate_rule from rule) = 'month_start'
    group by foreign_rates.currency, months.rate_month
    union all
    select foreign_rates.currency, months.rate_month, avg(foreign_rates.rate_to_reporting)
    from months
    inner join foreign_rates
        on foreign_rates.rate_date >= months.rate_month and foreign_rates.rate_date < months.rate_month + interval 1 month
    where (select rule.rate_rule from rule) = 'month_average'
    group by foreign_rates.currency, months.rate_month
    union all
    select budget.currency, months.rate_month, budget.rate_to_reporting
    from months
    cross join definitions.fx_budget_rates as budget
    where (select rule.rate_rule from rule) = 'budget' and budget.currency <> (select min(currency) from definitions.reporting)
)
select
    coalesce(expected.currency, model.currency) as currency,
    coalesce(expected.rate_month, model.rate_month) as rate_month,
    expected.rate as expected_rate,
    model.rate_to_reporting as model_rate
from expected
full outer join intermediate.int_exchange_rates_monthly as model
    on expected.currency = model.currency and expected.rate_month = model.rate_month
where expected.rate is null or model.rate_to_reporting is null or abs(expected.rate - model.rate_to_reporting) > 1e-9;
