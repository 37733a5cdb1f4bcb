/*
name: fct_speed_to_lead
description: >-
  One row per MQL (a lead with an MQL under the shared definition) with its first sales touch and whether it met
  the speed-to-lead SLA. A sales touch is a completed CRM task of a type in the shared sales touch types (call,
  e-mail), timed at its completion (at its creation when the connector has no completion time), or a CRM meeting,
  timed at its start, on the lead or on the contact it converted into, by a CRM user. An open task (a call planned,
  not made) and a meeting that has not started by the data's latest timestamp are not touches. The first touch is
  the earliest at or after the MQL; touches before the MQL are counted apart and never meet the SLA. A lead never
  touched is breached once the SLA has run out before the latest timestamp in the data (the latest lead, marketing
  engagement, task or meeting logged), not the wall clock, so a rebuild of the same data gives the same table.
grain: [lead_id]
owner: team:sales*/
with

lifecycle as (select * from intermediate.int_leads_lifecycle),

leads as (select * from staging.stg_salesforce__leads),

users as (select * from staging.stg_salesforce__users),

tasks as (select * from staging.stg_salesforce__tasks),

events as (select * from staging.stg_salesforce__events),

engagements as (select * from staging.stg_marketing__engagements),

sales_touch_types as (select * from definitions.sales_touch_types),

thresholds as (select * from definitions.thresholds),

horizon as (select * from definitions.data_horizon),

reporting as (select * from definitions.reporting),

mql_leads as (
    select
        lifecycle.lead_id,
        lifecycle.mql_at,
        lifecycle.channel,
        lifecycle.segment,
        leads.owner_user_id,
        leads.converted_contact_id
    from lifecycle
    inner join leads on lifecycle.lead_id = leads.lead_id
    where lifecycle.mql_at is not null
),

latest_timestamps as (
    -- meeting start times are left out: meetings are booked ahead, so a start can lie in the future
    select max(leads.created_at) as latest_at from leads
    union all
    select max(engagements.occurred_at) as latest_at from engagements
    union all
    select max(tasks.created_at) as latest_at from tasks
    union all
    select max(tasks.completed_at) as latest_at from tasks
    union all
    select max(events.created_at) as latest_at from events
),

data_as_of as (
    -- never after the run's as-of time
    select least(max(latest_timestamps.latest_at), min(horizon.as_of_at)) as data_as_of_at
    from latest_timestamps
    cross join horizon
),

lead_keys as (
    -- a lead is touched under its own id, and under its contact's id once converted
    select
        mql_leads.lead_id,
        mql_leads.lead_id as lead_or_contact_id
    from mql_leads

    union

    select
        mql_leads.lead_id,
        mql_leads.converted_contact_id as lead_or_contact_id
    from mql_leads
    where mql_leads.converted_contact_id is not null
),

touches as (
    select
        tasks.task_id as touch_id,
        'task' as touch_kind,
        tasks.task_type as touch_task_type,
        tasks.lead_or_contact_id,
        tasks.owner_user_id as touch_user_id,
        coalesce(tasks.completed_at, tasks.created_at) as touched_at
    from tasks
    inner join sales_touch_types on tasks.task_type = sales_touch_types.task_type
    inner join users on tasks.owner_user_id = users.user_id
    where tasks.is_closed or tasks.completed_at is not null

    union all

    select
        events.event_id as touch_id,
        'event' as touch_kind,
        cast(null as varchar) as touch_task_type,
        events.lead_or_contact_id,
        events.owner_user_id as touch_user_id,
        events.starts_at as touched_at
    from events
    inner join users on events.owner_user_id = users.user_id
    where events.starts_at is not null
),

lead_touches as (
    select
        lead_keys.lead_id,
        mql_leads.mql_at,
        touches.touch_id,
        touches.touch_kind,
        touches.touch_task_type,
        touches.touch_user_id,
        touches.touched_at
    from lead_keys
    inner join mql_leads on lead_keys.lead_id = mql_leads.lead_id
    inner join touches on lead_keys.lead_or_contact_id = touches.lead_or_contact_id
    cross join data_as_of
    where touches.touched_at <= data_as_of.data_as_of_at
),

first_touches as (
    select
        lead_touches.lead_id,
        lead_touches.touched_at as first_touch_at,
        lead_touches.touch_user_id as first_touch_user_id,
        lead_touches.touch_kind as first_touch_kind,
        lead_touches.touch_task_type as first_touch_task_type
    from lead_touches
    where lead_touches.touched_at >= lead_touches.mql_at
    qualify row_number() over (
        partition by lead_touches.lead_id
        order by lead_touches.touched_at, lead_touches.touch_kind, lead_touches.touch_id
    ) = 1
),

touches_before_mql as (
    select
        lead_touches.lead_id,
        count(*) as touches_before_mql_count
    from lead_touches
    where lead_touches.touched_at < lead_touches.mql_at
    group by lead_touches.lead_id
),

measured as (
    select
        mql_leads.lead_id,
        mql_leads.mql_at,
        mql_leads.channel,
        mql_leads.segment,
        mql_leads.owner_user_id,
        owners.team as owner_team,
        first_touches.first_touch_at,
        first_touches.first_touch_user_id,
        first_touches.first_touch_kind,
        first_touches.first_touch_task_type,
        (epoch(first_touches.first_touch_at) - epoch(mql_leads.mql_at)) / 60.0 as minutes_to_first_touch,
        coalesce(touches_before_mql.touches_before_mql_count, 0) as touches_before_mql_count,
        (epoch(data_as_of.data_as_of_at) - epoch(mql_leads.mql_at)) / 60.0 as minutes_since_mql,
        thresholds.speed_to_lead__sla_minutes,
        data_as_of.data_as_of_at
    from mql_leads
    left join users as owners on mql_leads.owner_user_id = owners.user_id
    left join first_touches on mql_leads.lead_id = first_touches.lead_id
    left join touches_before_mql on mql_leads.lead_id = touches_before_mql.lead_id
    cross join data_as_of
    cross join thresholds
),

final as (
    select
        measured.lead_id,                                                    -- CRM lead id
        measured.mql_at,                                                     -- MQL under the shared definition (UTC)
        cast(
            date_trunc('week', cast(measured.mql_at as timestamptz) at time zone reporting.time_zone) as date
        ) as mql_week,                                                       -- Monday of the MQL's week (reporting time zone)
        cast(
            date_trunc('month', cast(measured.mql_at as timestamptz) at time zone reporting.time_zone) as date
        ) as mql_month,                                                      -- first day of the MQL's month (reporting time zone)
        measured.channel,                                                    -- channel from the shared mapping
        measured.segment,                                                    -- size segment from the shared bands
        measured.owner_user_id,                                              -- lead owner: the rep accountable for the SLA (null when unowned)
        measured.owner_team,                                                 -- team of the lead owner (null when unowned or not a CRM user)
        measured.first_touch_at,                                             -- first sales touch at or after the MQL (UTC); null when none yet
        measured.first_touch_user_id,                                        -- CRM user who made the first touch (may differ from the owner)
        measured.first_touch_kind,                                           -- task (call or e-mail) or event (meeting)
        measured.first_touch_task_type,                                      -- CRM task type of the first touch when a task (one of the shared touch types); null for a meeting
        measured.minutes_to_first_touch,                                     -- minutes from MQL to first touch; null when never touched
        measured.touches_before_mql_count,                                   -- sales touches before the MQL (they never count as the first touch)
        measured.first_touch_at is not null as is_touched,                   -- touched at or after the MQL
        coalesce(
            measured.minutes_to_first_touch <= measured.speed_to_lead__sla_minutes, false
        ) as is_within_sla,                                                  -- first touch within the SLA minutes of the MQL
        coalesce(
            measured.minutes_to_first_touch > measured.speed_to_lead__sla_minutes,
            measured.minutes_since_mql > measured.speed_to_lead__sla_minutes
        ) as is_sla_breached,                                                -- touched late, or untouched after the SLA ran out by data_as_of_at
        measured.first_touch_at is null as is_never_touched,                 -- no sales touch at or after the MQL by data_as_of_at
        measured.data_as_of_at                                               -- latest timestamp in the data: "now" for an untouched lead (UTC)
    from measured
    cross join reporting
)

select * from final
