/*
name: int_subscription_items_priced
description: >-
  One row per version of a live-mode Stripe subscription item with the period in which it earned recurring revenue
  and its monthly recurring revenue (MRR): seats (quantity) x the price's unit amount, normalised to one month
  (a yearly price / 12, a price billed every N intervals / N; weekly x 52 / 12, daily x 365 / 12). The paying period
  is the version's validity cut to the subscription's paid life: from the later of the subscription start and its
  trial end, to the earlier of the version's end and the subscription's end (its canceled_at when a canceled
  subscription has no ended_at). The first version of an item counts from the item's creation even when connector
  history mode only began recording later, so a customer paying before the sync started is not seen as new when
  the sync began. Test-mode rows are gone already (staging drops livemode = false subscriptions, prices and
  customers; items inherit it through their subscription). Subscriptions that never became paying (incomplete,
  incomplete_expired) and one-time prices earn no MRR and are left out, as are versions whose paying period is
  empty. Discounts: mrr_amount is list price x seats; marts.fct_mrr_customer_months takes the discounts off
  (intermediate.int_subscription_discounts_applied, as definitions.mrr.discounts says). Currency:
  mrr_amount is in the price's currency; marts.fct_mrr_customer_months converts it month by month with
  intermediate.int_exchange_rates_monthly (a price in a currency with no rate for a month is listed in
  intermediate.int_subscription_items_unconverted). The customer's CRM account is
  metadata.salesforce_account_id of the Stripe customer.
grain: [subscription_item_id, valid_from]
owner: team:success*/
with

subscription_items as (select * from staging.stg_stripe__subscription_items),

subscriptions as (select * from staging.stg_stripe__subscriptions),

prices as (select * from staging.stg_stripe__prices),

customers as (select * from staging.stg_stripe__customers),

excluded_statuses as (select * from definitions.mrr_excluded_statuses),

-- the paid life of each subscription: trials earn nothing, and a canceled one without ended_at ends when canceled
subscriptions_paid as (
    select
        subscriptions.subscription_id,
        subscriptions.customer_id,
        subscriptions.subscription_status,
        greatest(
            coalesce(subscriptions.started_at, subscriptions.created_at),
            coalesce(subscriptions.trial_ended_at, subscriptions.started_at, subscriptions.created_at)
        ) as paid_started_at,
        coalesce(
            subscriptions.ended_at,
            case when subscriptions.subscription_status = 'canceled' then subscriptions.canceled_at end
        ) as paid_ended_at
    from subscriptions
    where subscriptions.subscription_status not in (select excluded_statuses.subscription_status from excluded_statuses)
),

-- the first recorded version of an item stands for the item since its creation (history mode starts late)
item_versions as (
    select
        subscription_items.*,
        case
            when
                row_number() over (
                    partition by subscription_items.subscription_item_id order by subscription_items.valid_from
                ) = 1
                then least(subscription_items.valid_from, coalesce(subscription_items.created_at, subscription_items.valid_from))
            else subscription_items.valid_from
        end as version_started_at
    from subscription_items
),

-- months in one billing cycle of each price (for the monthly normalisation and the contract term)
prices_normalised as (
    select
        prices.*,
        case prices.billing_interval
            when 'month' then 1.0
            when 'year' then 12.0
            when 'week' then 12.0 / 52
            when 'day' then 12.0 / 365
        end * prices.billing_interval_count as cycle_months
    from prices
    where prices.billing_interval is not null and coalesce(prices.price_type, 'recurring') = 'recurring'
),

priced as (
    select
        item_versions.subscription_item_id,
        item_versions.valid_from,
        item_versions.subscription_id,
        subscriptions_paid.customer_id,
        customers.crm_account_id,
        subscriptions_paid.subscription_status,
        item_versions.price_id,
        prices_normalised.currency,
        prices_normalised.billing_interval,
        prices_normalised.billing_interval_count,
        prices_normalised.cycle_months,
        item_versions.seat_quantity,
        prices_normalised.unit_amount,
        cast(prices_normalised.unit_amount * item_versions.seat_quantity / prices_normalised.cycle_months as decimal(18, 4))
            as mrr_amount,
        subscriptions_paid.paid_started_at,
        greatest(item_versions.version_started_at, subscriptions_paid.paid_started_at) as period_started_at,
        case
            when item_versions.valid_to is null then subscriptions_paid.paid_ended_at
            when subscriptions_paid.paid_ended_at is null then item_versions.valid_to
            else least(item_versions.valid_to, subscriptions_paid.paid_ended_at)
        end as period_ended_at
    from item_versions
    inner join subscriptions_paid on item_versions.subscription_id = subscriptions_paid.subscription_id
    inner join prices_normalised on item_versions.price_id = prices_normalised.price_id
    inner join customers on subscriptions_paid.customer_id = customers.customer_id
),

final as (
    select
        priced.subscription_item_id,                                  -- billing subscription item id
        priced.valid_from,                                            -- when this version became current (UTC), as staged
        priced.subscription_id,                                       -- billing subscription the item belongs to
        priced.customer_id,                                           -- billing customer
        priced.crm_account_id,                                        -- CRM account of the customer (metadata.salesforce_account_id); null for self-serve
        priced.subscription_status,                                   -- current status of the subscription
        priced.price_id,                                              -- price billed
        priced.currency,                                              -- ISO currency of the price
        priced.billing_interval,                                      -- month, year, week or day
        priced.billing_interval_count,                                -- intervals per billing cycle
        priced.cycle_months,                                          -- months in one billing cycle (the contract term): 1 monthly, 12 yearly
        priced.seat_quantity,                                         -- seats billed in this version
        priced.unit_amount,                                           -- price per seat per billing cycle, in the currency
        priced.mrr_amount,                                            -- seats x unit amount / cycle months, in the currency
        priced.paid_started_at,                                       -- when the subscription's paid life began (start, or trial end) (UTC); anchors the contract term
        priced.period_started_at,                                     -- when this version began earning MRR (UTC)
        priced.period_ended_at                                        -- when it stopped earning MRR (UTC); null while it still does
    from priced
    where priced.period_ended_at is null or priced.period_ended_at > priced.period_started_at
)

select * from final
