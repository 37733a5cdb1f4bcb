/*
name: assert_every_deal_amount_has_an_exchange_rate
severity: warn
description: >-
  Every deal amount converts into the reporting currency: no opportunity's amount is left out of the totals for
  want of an exchange rate. A warning, not a stop: the marts are built without those amounts, and the failing rows
  give, per currency and month, the opportunities and amount left out (intermediate.int_opportunities_unconverted
  lists each).
*/
select
    unconverted.currency,
    unconverted.rate_month,
    count(*) as unconverted_opportunity_count,
    sum(unconverted.amount) as unconverted_amount,
    min(unconverted.reason) as reason
from intermediate.int_opportunities_unconverted as unconverted
group by unconverted.currency, unconverted.rate_month;
