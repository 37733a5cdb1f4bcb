/*
name: stg_stripe__subscription_discounts
description: >-
  One row per coupon applied to a subscription, latest connector version, deleted rows removed: the coupon and when
  the discount started and ends (Stripe sets the end for a repeating coupon only).
grain: [subscription_discount_id]
owner: team:success
*/
with

source as (select * from stripe.subscription_discount),

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
        cast(id as varchar) as subscription_discount_id,                  -- billing discount id
        cast(subscription_id as varchar) as subscription_id,              -- billing subscription discounted
        cast(customer_id as varchar) as customer_id,                      -- billing customer
        cast(coupon_id as varchar) as coupon_id,                          -- the coupon applied
        cast("start" as timestamp) as started_at,                         -- when the discount started (UTC)
        cast("end" as timestamp) as ends_at                               -- when it ends (UTC): a repeating coupon's end; null for once and forever
    from latest
    where not coalesce(cast(_fivetran_deleted as boolean), false)
)

select * from final
