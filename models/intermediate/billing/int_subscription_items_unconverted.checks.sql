/*
name: assert_every_amount_has_an_exchange_rate
severity: warn
description: >-
  Every month's MRR converts into the reporting currency: no amount is left out of the totals for want of an
  exchange rate. A warning, not a stop: the marts are built without those amounts, and the failing rows give, per
  currency and month, the items, customers and amount left out (intermediate.int_subscription_items_unconverted lists each).
*/
select
    unconverted.currency,
    unconverted.mrr_month,
    count(*) as unconverted_item_count,
    count(distinct unconverted.customer_id) as unconverted_customer_count,
    sum(unconverted.mrr_amount) as unconverted_mrr_amount,
    min(unconverted.reason) as reason
from intermediate.int_subscription_items_unconverted as unconverted
group by unconverted.currency, unconverted.mrr_month;
