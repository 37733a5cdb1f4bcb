/*
name: stg_salesforce__tasks
description: >-
  One row per call, e-mail or to-do a rep logged in the CRM, latest connector version, soft deletes removed.
  The free-text description may hold personal data: it stops at staging.
grain: [task_id]
owner: team:sales
*/
with

source as (select * from salesforce.task),

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
        cast(id as varchar) as task_id,                               -- CRM task id
        cast(who_id as varchar) as lead_or_contact_id,                -- the lead or contact touched
        cast(what_id as varchar) as related_record_id,                -- opportunity or account the task is about
        cast(account_id as varchar) as account_id,                    -- account of the task
        cast(owner_id as varchar) as owner_user_id,                   -- rep who owns the task
        cast(subject as varchar) as subject,                          -- short subject line
        cast(description as varchar) as description,                  -- free-text notes (may hold personal data)
        cast(type as varchar) as task_type,                           -- Call, Email, ...
        cast(task_subtype as varchar) as task_subtype,                -- Call, Email, Task
        cast(status as varchar) as task_status,                       -- Completed, Not Started, ...
        cast(activity_date as date) as activity_date,                 -- due or activity date
        cast(created_date as timestamp) as created_at,                -- when the task was logged (UTC)
        cast(completed_date_time as timestamp) as completed_at,       -- when the task was completed (UTC)
        coalesce(cast(is_closed as boolean), false) as is_closed      -- done
    from latest
    where
        not coalesce(cast(is_deleted as boolean), false)
        and not coalesce(cast(_fivetran_deleted as boolean), false)
)

select * from final
