/*
name: stg_stripe__subscription_items
description: >-
  One row per version of a subscription item (a price times a quantity of seats). With connector history mode
  each seat change is its own version, valid from `valid_from` until `valid_to`; without it, one current version
  per item, valid since its creation. Latest sync of each version kept, deleted rows removed.
grain: [subscription_item_id, valid_from]
owner: team:success
*/
with

source as (select * from stripe.subscription_item),

versions as (
    select
        *,
        coalesce(cast(_fivetran_start as timestamp), cast(created as timestamp)) as version_started_at
    from source
),

latest as (
    select *
    from versions
    qualify row_number() over (
        partition by id, version_started_at
        order by cast(_fivetran_synced as timestamp) desc nulls last
    ) = 1
),

final as (
    select
        cast(id as varchar) as subscription_item_id,                          -- billing subscription item id
        cast(subscription_id as varchar) as subscription_id,                  -- subscription the item belongs to
        cast(coalesce(price_id, plan_id) as varchar) as price_id,             -- price (or legacy plan) billed
        coalesce(cast(quantity as integer), 1) as seat_quantity,              -- seats billed in this version
        cast(created as timestamp) as created_at,                             -- when the item was created (UTC)
        version_started_at as valid_from,                                     -- when this version became current (UTC)
        case
            when cast(_fivetran_end as timestamp) < timestamp '9999-01-01' then cast(_fivetran_end as timestamp)
        end as valid_to,                                                      -- when it stopped being current; null if current
        coalesce(cast(_fivetran_active as boolean), true) as is_current_version -- the version in force now
    from latest
    where not coalesce(cast(_fivetran_deleted as boolean), false)
)

select * from final
