/*
name: assert_mrr_change_is_its_movement_plus_fx
severity: error
description: >-
  Every customer-month's change in MRR is its movement plus the exchange-rate effect: mrr_usd - previous_mrr_usd =
  new + expansion - contraction - churned + reactivation + fx, and only a customer paying in both months has fx.
*/
select customer_id, mrr_month, movement, previous_mrr_usd, mrr_usd, fx_mrr_usd
from marts.fct_mrr_customer_months
where abs(
    mrr_usd - previous_mrr_usd
    - (new_mrr_usd + expansion_mrr_usd - contraction_mrr_usd - churned_mrr_usd + reactivation_mrr_usd + fx_mrr_usd)
) > 0.00005
    or (fx_mrr_usd <> 0 and movement not in ('expansion', 'contraction', 'unchanged'));

/*
name: assert_fx_is_the_rate_change_on_previous_mrr
severity: error
description: >-
  For a customer billed in one currency, paying in this and the previous month, the exchange-rate effect is its
  previous MRR x (this month's rate / the previous month's rate - 1), from intermediate.int_exchange_rates_monthly:
  the previous month's amount in the currency x the change of the rate. Expansion and contraction are the rest, at
  this month's rate. A customer billed in the reporting currency has none.
*/
with
customer_currencies as (
    select customer_id, min(currency) as currency
    from intermediate.int_subscription_items_priced
    group by customer_id
    having count(distinct currency) = 1
)
select
    facts.customer_id, facts.mrr_month, customer_currencies.currency, facts.previous_mrr_usd, facts.fx_mrr_usd,
    this_rate.rate_to_reporting as rate_now, previous_rate.rate_to_reporting as rate_before
from marts.fct_mrr_customer_months as facts
inner join customer_currencies on facts.customer_id = customer_currencies.customer_id
left join intermediate.int_exchange_rates_monthly as this_rate
    on customer_currencies.currency = this_rate.currency and facts.mrr_month = this_rate.rate_month
left join intermediate.int_exchange_rates_monthly as previous_rate
    on customer_currencies.currency = previous_rate.currency
    and previous_rate.rate_month = facts.mrr_month - interval 1 month
where facts.movement in ('expansion', 'contraction', 'unchanged')
    and abs(
        facts.fx_mrr_usd
        - facts.previous_mrr_usd * (this_rate.rate_to_reporting / previous_rate.rate_to_reporting - 1)
    ) > 0.01;

/*
name: assert_discounts_follow_the_coupons
severity: error
description: >-
  A customer-month carries a discount only when a coupon applied to one of the customer's subscriptions
  (intermediate.int_subscription_discounts_applied) is in force during that month, and never more than the MRR it
  is taken from: with definitions mrr.discounts net, MRR is never below 0.
*/
with
windows as (
    select items.customer_id, discounts.applies_from, discounts.applies_until
    from intermediate.int_subscription_discounts_applied as discounts
    inner join (select distinct subscription_id, customer_id from intermediate.int_subscription_items_priced) as items
        on discounts.subscription_id = items.subscription_id
)
select facts.customer_id, facts.mrr_month, facts.mrr_usd, facts.discount_mrr_usd
from marts.fct_mrr_customer_months as facts
where facts.mrr_usd < 0
    or facts.discount_mrr_usd < 0
    or (
        facts.discount_mrr_usd > 0
        and not exists (
            select 1
            from windows
            cross join definitions.reporting as reporting
            where windows.customer_id = facts.customer_id
                and cast(windows.applies_from as timestamptz) at time zone reporting.time_zone
                < facts.mrr_month + interval 1 month
                and (
                    windows.applies_until is null
                    or cast(windows.applies_until as timestamptz) at time zone reporting.time_zone >= facts.mrr_month
                )
        )
    );
