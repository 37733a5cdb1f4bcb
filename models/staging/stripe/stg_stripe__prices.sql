/*
name: stg_stripe__prices
description: >-
  One row per live-mode price, latest connector version, deleted prices removed. Amounts are converted from minor
  units (cents) to the currency's major unit; Stripe's zero-decimal currencies are already in major units.
grain: [price_id]
owner: team:success
*/
with

source as (select * from stripe.price),

latest as (
    select *
    from source
    qualify row_number() over (
        partition by id
        order by cast(_fivetran_synced as timestamp) desc nulls last
    ) = 1
),

final as (
    select
        cast(id as varchar) as price_id,                                  -- billing price id
        cast(product_id as varchar) as product_id,                        -- billing product the price belongs to
        cast(nickname as varchar) as price_nickname,                      -- display name of the price
        upper(cast(currency as varchar)) as currency,                     -- ISO currency code
        case
            when lower(cast(currency as varchar)) in (
                'bif', 'clp', 'djf', 'gnf', 'jpy', 'kmf', 'krw', 'mga', 'pyg', 'rwf', 'ugx', 'vnd', 'vuv', 'xaf',
                'xof', 'xpf'
            ) then cast(unit_amount as decimal(18, 2))
            else cast(unit_amount as decimal(18, 2)) / 100
        end as unit_amount,                                               -- price per unit (seat) in the currency
        cast(type as varchar) as price_type,                              -- recurring or one_time
        cast(recurring_interval as varchar) as billing_interval,          -- month or year
        coalesce(cast(recurring_interval_count as integer), 1) as billing_interval_count, -- intervals per cycle
        coalesce(cast(active as boolean), true) as is_active,             -- can still be used for new subscriptions
        cast(created as timestamp) as created_at                          -- when the price was created (UTC)
    from latest
    where
        not coalesce(cast(is_deleted as boolean), false)
        and not coalesce(cast(_fivetran_deleted as boolean), false)
)

select * from final
