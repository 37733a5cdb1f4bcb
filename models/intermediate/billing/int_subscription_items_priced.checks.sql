/*
name: assert_prices_are_in_usd
severity: error
description: >-
  Every price that earns MRR is in USD; no exchange-rate table exists to convert other currencies, so a plan
  priced in another currency stops the MRR models with the offending items listed instead of mixing currencies.
*/
select subscription_item_id, subscription_id, price_id, currency
from intermediate.int_subscription_items_priced
where mrr_usd is null;
