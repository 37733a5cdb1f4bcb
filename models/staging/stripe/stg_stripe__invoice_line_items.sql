/*
name: stg_stripe__invoice_line_items
description: >-
  One row per live-mode invoice line (test-mode rows are quarantined), latest connector version: a subscription
  item's price times its quantity for a service period, or a one-off invoice item. Amounts are converted from minor
  units (cents) to the currency's major unit; Stripe's zero-decimal currencies are already in major units.
grain: [invoice_line_item_id]
owner: team:success
*/
with

source as (select * from stripe.invoice_line_item),

latest as (
    select
        *,
        case
            when lower(cast(currency as varchar)) in (
                'bif', 'clp', 'djf', 'gnf', 'jpy', 'kmf', 'krw', 'mga', 'pyg', 'rwf', 'ugx', 'vnd', 'vuv', 'xaf',
                'xof', 'xpf'
            ) then 1
            else 100
        end as minor_units_per_unit
    from source
    qualify row_number() over (
        partition by id
        order by cast(_fivetran_synced as timestamp) desc nulls last
    ) = 1
),

final as (
    select
        cast(id as varchar) as invoice_line_item_id,                          -- billing invoice line id
        cast(invoice_id as varchar) as invoice_id,                            -- invoice the line belongs to
        cast(subscription_id as varchar) as subscription_id,                  -- subscription billed; null for a one-off item
        cast(subscription_item_id as varchar) as subscription_item_id,        -- subscription item billed
        cast(coalesce(price_id, plan_id) as varchar) as price_id,             -- price (or legacy plan) billed
        cast(type as varchar) as line_type,                                   -- subscription or invoiceitem
        cast(description as varchar) as line_description,                     -- text printed on the line
        upper(cast(currency as varchar)) as currency,                         -- ISO currency code
        cast(amount as decimal(18, 2)) / minor_units_per_unit as amount,      -- amount of the line, in the currency
        cast(quantity as integer) as quantity,                                -- seats (units) billed
        coalesce(cast(proration as boolean), false) as is_proration,          -- a proration for a mid-period change
        cast(period_start as timestamp) as period_started_at,                 -- start of the service period billed (UTC)
        cast(period_end as timestamp) as period_ended_at                      -- end of the service period billed (UTC)
    from latest
)

select * from final
