/*
name: int_opportunity_weeks_snapshotted
description: >-
  One row per CRM opportunity per week (weeks start on Monday), from the week it was created to the week it closed
  (its last move into its current won or lost stage, as in int_opportunities_qualified) or, while it is open, the
  latest week in the data. The latest week is the one holding the latest creation or recorded change of any
  opportunity (never today), so a build over the same data gives the same rows. Each row carries the stage, amount
  and close date in force at the end of the week, replayed from the stage-change history (the last recorded change
  up to the week's end; values a change leaves empty, and weeks before any recorded change, fall back to the
  opportunity's current values). Amounts are in the reporting currency, every change of an opportunity converted at
  the rate its current amount is (intermediate.int_opportunities_classified). An opportunity's last row carries its current values: the CRM record is the truth
  as of the data, the history only fills the weeks before. Also: how long the deal had sat in that stage at the end
  of the week (at the latest data moment in the latest week), and whether its close date was pushed later during
  the week (slipped), and whether an open deal had sat in its stage longer than the shared
  pipeline__stage_aging_days (aging). A deal lost and later reopened has rows in its lost weeks (not open) and open
  rows after.
grain: [opportunity_id, week_start]
owner: team:sales
*/
with

opportunities as (select * from staging.stg_salesforce__opportunities),

stage_changes as (select * from staging.stg_salesforce__opportunity_stage_changes),

classified as (select * from intermediate.int_opportunities_classified),

qualified as (select * from intermediate.int_opportunities_qualified),

opportunity_stages as (select * from definitions.opportunity_stages),

horizon as (select * from definitions.data_horizon),

reporting as (select * from definitions.reporting),

thresholds as (select * from definitions.thresholds),

-- the opportunities with a creation time: a week row needs the week it starts from
created_opportunities as (
    select
        opportunities.opportunity_id,
        opportunities.created_at,
        cast(
            date_trunc('week', cast(opportunities.created_at as timestamptz) at time zone reporting.time_zone) as date
        ) as created_week_start,
        opportunities.stage_name,
        classified.amount_usd,
        classified.amount_rate_to_reporting,
        opportunities.close_date
    from opportunities
    cross join reporting
    inner join classified on opportunities.opportunity_id = classified.opportunity_id
    where opportunities.created_at is not null
),

-- recorded changes of those opportunities in order (ties on the time broken by the history id); a change recorded
-- before the opportunity's creation week counts in its creation week
changes as (
    select
        stage_changes.opportunity_id,
        stage_changes.opportunity_history_id,
        stage_changes.stage_name,
        stage_changes.amount * created_opportunities.amount_rate_to_reporting as amount_usd,
        stage_changes.close_date,
        stage_changes.changed_at,
        greatest(
            cast(
                date_trunc('week', cast(stage_changes.changed_at as timestamptz) at time zone reporting.time_zone)
                as date
            ),
            created_opportunities.created_week_start
        ) as change_week_start,
        lag(stage_changes.stage_name) over (
            partition by stage_changes.opportunity_id
            order by stage_changes.changed_at, stage_changes.opportunity_history_id
        ) as previous_stage_name,
        row_number() over (
            partition by stage_changes.opportunity_id
            order by stage_changes.changed_at, stage_changes.opportunity_history_id
        ) as change_number
    from stage_changes
    inner join created_opportunities on stage_changes.opportunity_id = created_opportunities.opportunity_id
    cross join reporting
    where stage_changes.changed_at is not null
),

-- when the stage of each change was entered: the first change of an unbroken run of changes in that stage (a change
-- of amount or close date alone does not restart the clock)
changes_with_stage_entry as (
    select
        changes.opportunity_id,
        changes.opportunity_history_id,
        changes.stage_name,
        changes.amount_usd,
        changes.close_date,
        changes.changed_at,
        changes.change_week_start,
        changes.change_number,
        max(case when changes.previous_stage_name is distinct from changes.stage_name then changes.changed_at end)
            over (
                partition by changes.opportunity_id
                order by changes.changed_at, changes.opportunity_history_id
                rows between unbounded preceding and current row
            ) as stage_entered_at
    from changes
),

-- the state at the end of each week with a recorded change: that week's last change
weekly_last_changes as (
    select
        changes_with_stage_entry.opportunity_id,
        changes_with_stage_entry.change_week_start,
        changes_with_stage_entry.stage_name,
        changes_with_stage_entry.amount_usd,
        changes_with_stage_entry.close_date,
        changes_with_stage_entry.stage_entered_at
    from changes_with_stage_entry
    qualify row_number() over (
        partition by changes_with_stage_entry.opportunity_id, changes_with_stage_entry.change_week_start
        order by changes_with_stage_entry.changed_at desc, changes_with_stage_entry.opportunity_history_id desc
    ) = 1
),

-- the close date an opportunity was created with, when its first recorded change falls in its creation week
opening_close_dates as (
    select
        changes.opportunity_id,
        changes.close_date as opening_close_date
    from changes
    inner join created_opportunities
        on
            changes.opportunity_id = created_opportunities.opportunity_id
            and changes.change_week_start = created_opportunities.created_week_start
    where changes.change_number = 1
),

-- the latest moment in the data: the latest creation or recorded change, never after the run's as-of time
data_latest as (
    select least(max(data_events.event_at), min(horizon.as_of_at)) as as_of_at
    from (
        select created_opportunities.created_at as event_at from created_opportunities
        union all
        select changes.changed_at as event_at from changes
    ) as data_events
    cross join horizon
),

-- its week and date in the reporting time zone
data_as_of as (
    select
        cast(date_trunc('week', cast(data_latest.as_of_at as timestamptz) at time zone reporting.time_zone) as date)
            as latest_week_start,
        cast(cast(data_latest.as_of_at as timestamptz) at time zone reporting.time_zone as date) as as_of_date
    from data_latest
    cross join reporting
),

-- every Monday from the first creation week to the latest week
calendar as (
    select cast(unnest(generate_series(
        min(created_opportunities.created_week_start), max(data_as_of.latest_week_start), interval 7 day
    )) as date) as week_start
    from created_opportunities
    cross join data_as_of
),

-- the last week of each opportunity: the week it closed (never before its creation week, never after the latest
-- week; its creation week when the close time is unknown), else the latest week
opportunity_spans as (
    select
        created_opportunities.opportunity_id,
        created_opportunities.created_week_start,
        case
            when current_stage.is_won or current_stage.is_lost
                then greatest(
                    created_opportunities.created_week_start,
                    least(
                        coalesce(
                            cast(
                                date_trunc(
                                    'week', cast(qualified.closed_at as timestamptz) at time zone reporting.time_zone
                                ) as date
                            ),
                            data_as_of.latest_week_start
                        ),
                        data_as_of.latest_week_start
                    )
                )
            else data_as_of.latest_week_start
        end as last_week_start
    from created_opportunities
    left join qualified on created_opportunities.opportunity_id = qualified.opportunity_id
    left join opportunity_stages as current_stage on created_opportunities.stage_name = current_stage.stage_name
    cross join data_as_of
    cross join reporting
),

opportunity_weeks as (
    select
        opportunity_spans.opportunity_id,
        calendar.week_start,
        opportunity_spans.created_week_start,
        opportunity_spans.last_week_start,
        weekly_last_changes.change_week_start as own_change_week_start
    from opportunity_spans
    inner join calendar
        on calendar.week_start between opportunity_spans.created_week_start and opportunity_spans.last_week_start
    left join weekly_last_changes
        on
            opportunity_spans.opportunity_id = weekly_last_changes.opportunity_id
            and calendar.week_start = weekly_last_changes.change_week_start
),

-- the week of the last recorded change up to the end of each week
weeks_with_change_in_force as (
    select
        opportunity_weeks.opportunity_id,
        opportunity_weeks.week_start,
        opportunity_weeks.created_week_start,
        opportunity_weeks.last_week_start,
        max(opportunity_weeks.own_change_week_start) over (
            partition by opportunity_weeks.opportunity_id
            order by opportunity_weeks.week_start
            rows between unbounded preceding and current row
        ) as change_week_in_force
    from opportunity_weeks
),

-- the state in force at the end of each week: the opportunity's current values in its last week, else the last
-- recorded change, value by value falling back to the current values
weekly_states as (
    select
        weeks_with_change_in_force.opportunity_id,
        weeks_with_change_in_force.week_start,
        weeks_with_change_in_force.created_week_start,
        weeks_with_change_in_force.week_start = weeks_with_change_in_force.last_week_start as is_last_week,
        weekly_last_changes.change_week_start is not null as has_change_in_force,
        weekly_last_changes.stage_name as change_stage_name,
        weekly_last_changes.stage_entered_at as change_stage_entered_at,
        created_opportunities.created_at,
        case
            when weeks_with_change_in_force.week_start = weeks_with_change_in_force.last_week_start
                then created_opportunities.stage_name
            else coalesce(weekly_last_changes.stage_name, created_opportunities.stage_name)
        end as stage_name,
        case
            when weeks_with_change_in_force.week_start = weeks_with_change_in_force.last_week_start
                then created_opportunities.amount_usd
            else coalesce(weekly_last_changes.amount_usd, created_opportunities.amount_usd)
        end as amount_usd,
        case
            when weeks_with_change_in_force.week_start = weeks_with_change_in_force.last_week_start
                then created_opportunities.close_date
            else coalesce(weekly_last_changes.close_date, created_opportunities.close_date)
        end as close_date
    from weeks_with_change_in_force
    inner join created_opportunities
        on weeks_with_change_in_force.opportunity_id = created_opportunities.opportunity_id
    left join weekly_last_changes
        on
            weeks_with_change_in_force.opportunity_id = weekly_last_changes.opportunity_id
            and weeks_with_change_in_force.change_week_in_force = weekly_last_changes.change_week_start
),

weekly_states_compared as (
    select
        weekly_states.opportunity_id,
        weekly_states.week_start,
        weekly_states.created_week_start,
        weekly_states.is_last_week,
        weekly_states.stage_name,
        weekly_states.amount_usd,
        weekly_states.close_date,
        case
            when weekly_states.is_last_week then 'current'
            when weekly_states.has_change_in_force then 'history'
            else 'current'
        end as state_source,
        case
            when weekly_states.has_change_in_force and weekly_states.stage_name = weekly_states.change_stage_name
                then weekly_states.change_stage_entered_at
            when not weekly_states.has_change_in_force then weekly_states.created_at
        end as stage_entered_at,
        coalesce(
            lag(weekly_states.close_date) over (
                partition by weekly_states.opportunity_id
                order by weekly_states.week_start
            ),
            opening_close_dates.opening_close_date
        ) as close_date_at_week_start
    from weekly_states
    left join opening_close_dates on weekly_states.opportunity_id = opening_close_dates.opportunity_id
),

final as (
    select
        weekly_states_compared.opportunity_id,                                  -- CRM opportunity id
        weekly_states_compared.week_start,                                      -- Monday the week starts on
        weekly_states_compared.week_start = weekly_states_compared.created_week_start as is_created_week, -- created this week
        weekly_states_compared.is_last_week,                                    -- its last row: closed this week, or the latest week
        weekly_states_compared.state_source,                                    -- history (replayed change) or current (CRM record now)
        weekly_states_compared.stage_name,                                      -- stage in force at the end of the week
        not coalesce(
            in_force_stage.is_won or in_force_stage.is_lost, false
        ) as is_open,                                                           -- stage neither the shared won nor lost stage
        coalesce(in_force_stage.is_won, false) as is_won,                       -- in the shared won stage at week end
        coalesce(in_force_stage.is_lost, false) as is_lost,                     -- in the shared lost stage at week end
        weekly_states_compared.amount_usd,                                      -- amount in force at the end of the week, in USD
        weekly_states_compared.close_date,                                      -- expected close date in force at the end of the week
        weekly_states_compared.close_date_at_week_start,                        -- close date in force when the week began (as created, in its first week); null when unknown
        coalesce(
            weekly_states_compared.close_date > weekly_states_compared.close_date_at_week_start, false
        ) as is_slipped,                                                        -- close date pushed later during the week
        weekly_states_compared.stage_entered_at,                                -- when it entered the stage in force (UTC); null when the history does not say
        date_diff(
            'day',
            cast(cast(weekly_states_compared.stage_entered_at as timestamptz) at time zone reporting.time_zone as date),
            least(weekly_states_compared.week_start + 6, data_as_of.as_of_date)
        ) as days_in_stage,                                                     -- whole days in that stage at week end (at the latest data date in the latest week); null when unknown
        coalesce(
            not coalesce(in_force_stage.is_won or in_force_stage.is_lost, false)
            and date_diff(
                'day',
                cast(cast(weekly_states_compared.stage_entered_at as timestamptz) at time zone reporting.time_zone as date),
                least(weekly_states_compared.week_start + 6, data_as_of.as_of_date)
            ) > thresholds.pipeline__stage_aging_days,
            false
        ) as is_aging                                                           -- open at week end and in its stage longer than pipeline__stage_aging_days (not when days_in_stage is unknown)
    from weekly_states_compared
    left join opportunity_stages as in_force_stage on weekly_states_compared.stage_name = in_force_stage.stage_name
    cross join data_as_of
    cross join reporting
    cross join thresholds
)

select * from final
