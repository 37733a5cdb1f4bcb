/*
name: stg_product__events
description: One row per tracked product event, duplicates from re-syncs removed (latest received kept).
grain: [event_id]
owner: team:product
partitioned_by_day: received_day
*/
with

source as (select * from product.events),

latest as (
    select *
    from source
    qualify row_number() over (
        partition by id
        order by cast(received_at as timestamp) desc nulls last
    ) = 1
),

final as (
    select
        cast(id as varchar) as event_id,                      -- event id from the tracking library
        cast(event as varchar) as event_name,                 -- what happened: signed_up, logged_in, ...
        cast(user_id as varchar) as product_user_id,          -- pseudonymous product user id
        cast(account_id as varchar) as workspace_id,          -- product workspace (group) of the user
        cast(timestamp as timestamp) as occurred_at,          -- when it happened on the client (UTC)
        cast(received_at as timestamp) as received_at,        -- when the tracking server received it (UTC)
        cast(_flywheel_partition_day as date) as received_day -- the daily partition it was loaded under (UTC)
    from latest
)

select * from final
