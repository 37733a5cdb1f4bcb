/*
name: stg_salesforce__events
description: >-
  One row per meeting a rep logged in the CRM (discovery calls, demos), latest connector version, soft deletes
  removed. The free-text description may hold personal data: it stops at staging.
grain: [event_id]
owner: team:sales
*/
with

source as (select * from salesforce.event),

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
        cast(id as varchar) as event_id,                              -- CRM event id
        cast(who_id as varchar) as lead_or_contact_id,                -- the lead or contact met
        cast(what_id as varchar) as related_record_id,                -- opportunity or account the meeting is about
        cast(account_id as varchar) as account_id,                    -- account of the meeting
        cast(owner_id as varchar) as owner_user_id,                   -- rep who owns the meeting
        cast(subject as varchar) as subject,                          -- short subject line
        cast(description as varchar) as description,                  -- free-text notes (may hold personal data)
        cast(type as varchar) as event_type,                          -- Meeting, Demo, ...
        cast(start_date_time as timestamp) as starts_at,              -- meeting start (UTC)
        cast(end_date_time as timestamp) as ends_at,                  -- meeting end (UTC)
        cast(duration_in_minutes as integer) as duration_minutes,     -- length of the meeting in minutes
        cast(created_date as timestamp) as created_at                 -- when the meeting was logged (UTC)
    from latest
    where
        not coalesce(cast(is_deleted as boolean), false)
        and not coalesce(cast(_fivetran_deleted as boolean), false)
)

select * from final
