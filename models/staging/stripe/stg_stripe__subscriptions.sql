/*
name: stg_stripe__subscriptions
description: One row per live-mode subscription, latest connector version, deleted rows removed (test-mode rows are quarantined).
grain: [subscription_id]
owner: team:success
*/
with

source as (select * from stripe.subscription),

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
        cast(id as varchar) as subscription_id,                                   -- billing subscription id
        cast(customer_id as varchar) as customer_id,                              -- billing customer
        cast(status as varchar) as subscription_status,                           -- active, past_due, canceled, trialing, ...
        cast(created as timestamp) as created_at,                                 -- when it was created (UTC)
        cast(start_date as timestamp) as started_at,                              -- when billing started (UTC)
        cast(current_period_start as timestamp) as current_period_started_at,     -- start of the current period (UTC)
        cast(current_period_end as timestamp) as current_period_ends_at,          -- end of the current period (UTC)
        coalesce(cast(cancel_at_period_end as boolean), false) as is_canceling_at_period_end, -- ends at period end
        cast(canceled_at as timestamp) as canceled_at,                            -- when cancellation was requested (UTC)
        cast(ended_at as timestamp) as ended_at,                                  -- when it stopped (UTC)
        cast(trial_start as timestamp) as trial_started_at,                       -- trial start (UTC)
        cast(trial_end as timestamp) as trial_ended_at                            -- trial end (UTC)
    from latest
    where
        not coalesce(cast(is_deleted as boolean), false)
        and not coalesce(cast(_fivetran_deleted as boolean), false)
)

select * from final
