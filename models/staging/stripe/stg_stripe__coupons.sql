/*
name: stg_stripe__coupons
description: >-
  One row per live-mode coupon, latest connector version, deleted rows removed (test-mode rows are quarantined).
  The amount off is converted from minor units to the currency's major unit (Stripe's zero-decimal currencies are
  already in major units); a coupon has either a percent off or an amount off.
grain: [coupon_id]
owner: team:success
*/
with

source as (select * from stripe.coupon),

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
        cast(id as varchar) as coupon_id,                                 -- billing coupon id
        cast(name as varchar) as coupon_name,                             -- display name of the coupon
        cast(percent_off as double) as percent_off,                       -- percent taken off (0-100); null for an amount-off coupon
        case
            when lower(cast(currency as varchar)) in (
                'bif', 'clp', 'djf', 'gnf', 'jpy', 'kmf', 'krw', 'mga', 'pyg', 'rwf', 'ugx', 'vnd', 'vuv', 'xaf',
                'xof', 'xpf'
            ) then cast(amount_off as decimal(18, 2))
            else cast(amount_off as decimal(18, 2)) / 100
        end as amount_off,                                                -- amount taken off each invoice, in the coupon's currency; null for a percent-off coupon
        upper(cast(currency as varchar)) as currency,                     -- ISO currency of amount_off
        lower(cast(duration as varchar)) as duration,                     -- once, repeating or forever
        cast(duration_in_months as integer) as duration_in_months,        -- months a repeating coupon lasts
        cast(created as timestamp) as created_at                          -- when the coupon was created (UTC)
    from latest
    where not coalesce(cast(_fivetran_deleted as boolean), false)
)

select * from final
