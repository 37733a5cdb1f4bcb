/*
name: int_workspaces_product_qualified
description: >-
  One row per product workspace that started a trial, with its usage inside the shared trial window and when it
  became product-qualified (PQL): the moment, inside the window, when both the minimum number of distinct active
  users and the minimum number of activation events were reached.
grain: [workspace_id]
owner: team:product
*/
with

events as (select * from staging.stg_product__events),

thresholds as (select * from definitions.thresholds),

trial_start_events as (select * from definitions.pql_trial_start_events),

activation_events as (select * from definitions.pql_activation_events),

trials as (
    select
        events.workspace_id,
        min(events.occurred_at) as trial_started_at,
        arg_min(events.event_name, events.occurred_at) as trial_start_event_name
    from events
    inner join trial_start_events on events.event_name = trial_start_events.event_name
    where events.workspace_id is not null
    group by events.workspace_id
),

trial_windows as (
    select
        trials.workspace_id,
        trials.trial_started_at,
        trials.trial_start_event_name,
        trials.trial_started_at + to_days(cast(thresholds.pql__trial_window_days as integer)) as trial_ends_at
    from trials
    cross join thresholds
),

events_in_trial as (
    select
        events.workspace_id,
        events.event_id,
        events.event_name,
        events.product_user_id,
        events.occurred_at
    from events
    inner join trial_windows
        on
            events.workspace_id = trial_windows.workspace_id
            and events.occurred_at >= trial_windows.trial_started_at
            and events.occurred_at < trial_windows.trial_ends_at
),

users_first_active as (
    select
        events_in_trial.workspace_id,
        events_in_trial.product_user_id,
        min(events_in_trial.occurred_at) as first_active_at
    from events_in_trial
    where events_in_trial.product_user_id is not null
    group by events_in_trial.workspace_id, events_in_trial.product_user_id
),

users_ranked as (
    select
        users_first_active.workspace_id,
        users_first_active.first_active_at,
        row_number() over (
            partition by users_first_active.workspace_id
            order by users_first_active.first_active_at, users_first_active.product_user_id
        ) as user_rank
    from users_first_active
),

activations_ranked as (
    select
        events_in_trial.workspace_id,
        events_in_trial.event_name,
        events_in_trial.occurred_at,
        row_number() over (
            partition by events_in_trial.workspace_id
            order by events_in_trial.occurred_at, events_in_trial.event_id
        ) as activation_rank
    from events_in_trial
    inner join activation_events on events_in_trial.event_name = activation_events.event_name
),

usage_counts as (
    select
        trial_windows.workspace_id,
        count(distinct events_in_trial.product_user_id) as active_user_count,
        count(activation_events.event_name) as activation_event_count
    from trial_windows
    left join events_in_trial on trial_windows.workspace_id = events_in_trial.workspace_id
    left join activation_events on events_in_trial.event_name = activation_events.event_name
    group by trial_windows.workspace_id
),

threshold_reached as (
    select
        trial_windows.workspace_id,
        max(users_ranked.first_active_at) filter (
            where users_ranked.user_rank = thresholds.pql__min_active_users
        ) as users_reached_at,
        max(activations_ranked.occurred_at) filter (
            where activations_ranked.activation_rank = thresholds.pql__min_activation_events
        ) as activations_reached_at,
        max(activations_ranked.event_name) filter (where activations_ranked.activation_rank = 1) as first_activation_event_name
    from trial_windows
    cross join thresholds
    left join users_ranked on trial_windows.workspace_id = users_ranked.workspace_id
    left join activations_ranked on trial_windows.workspace_id = activations_ranked.workspace_id
    group by trial_windows.workspace_id
),

final as (
    select
        trial_windows.workspace_id,                                           -- product workspace id
        trial_windows.trial_started_at,                                       -- first trial-start event (UTC)
        trial_windows.trial_start_event_name,                                 -- the event that started the trial (one of the shared trial-start events)
        trial_windows.trial_ends_at,                                          -- end of the PQL trial window (UTC)
        usage_counts.active_user_count as active_users_in_trial_count,        -- distinct users active in the window
        usage_counts.activation_event_count as activation_events_in_trial_count, -- activation events in the window
        threshold_reached.first_activation_event_name,                        -- the first event counted as activation in the window (null when none)
        usage_counts.active_user_count >= thresholds.pql__min_active_users as has_min_active_users, -- enough active users for a PQL
        case
            when threshold_reached.users_reached_at is not null and threshold_reached.activations_reached_at is not null
                then greatest(threshold_reached.users_reached_at, threshold_reached.activations_reached_at)
        end as pql_at                                                         -- when it became product-qualified (UTC)
    from trial_windows
    cross join thresholds
    inner join usage_counts on trial_windows.workspace_id = usage_counts.workspace_id
    inner join threshold_reached on trial_windows.workspace_id = threshold_reached.workspace_id
)

select * from final
