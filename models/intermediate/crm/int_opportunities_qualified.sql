/*
name: int_opportunities_qualified
description: >-
  One row per CRM opportunity with when it became sales-qualified (first reached the shared sales-qualified stage
  or a later open or won stage, from the stage history; an opportunity created in such a stage counts from its
  creation) and when it closed (the last move into its current closed stage; when no history exists, the start of
  the close date, a date in the reporting time zone).
grain: [opportunity_id]
owner: team:sales
*/
with

opportunities as (select * from staging.stg_salesforce__opportunities),

stage_changes as (select * from staging.stg_salesforce__opportunity_stage_changes),

opportunity_stages as (select * from definitions.opportunity_stages),

reporting as (select * from definitions.reporting),

first_qualified_change as (
    select
        stage_changes.opportunity_id,
        min(stage_changes.changed_at) as qualified_changed_at
    from stage_changes
    inner join opportunity_stages on stage_changes.stage_name = opportunity_stages.stage_name
    where opportunity_stages.is_sales_qualified
    group by stage_changes.opportunity_id
),

last_close_change as (
    select
        stage_changes.opportunity_id,
        stage_changes.stage_name,
        max(stage_changes.changed_at) as closed_changed_at
    from stage_changes
    inner join opportunity_stages on stage_changes.stage_name = opportunity_stages.stage_name
    where opportunity_stages.is_won or opportunity_stages.is_lost
    group by stage_changes.opportunity_id, stage_changes.stage_name
),

-- the UTC time of local midnight starting each close date (a CRM date is a date in the reporting time zone): the
-- midnight minus the zone's UTC offset, read first at a guess (the offset at the midnight taken as UTC) and then at
-- the instant that guess gives, so a change of offset between the two is honoured. The offset is the one idiom of
-- every model (local = cast(utc as timestamptz) at time zone reporting.time_zone, Spark's from_utc_timestamp),
-- inverted. Where clocks jump at midnight (no local midnight that day) the result can be the hour before.
close_date_guesses as (
    select
        opportunities.opportunity_id,
        cast(opportunities.close_date as timestamp) as close_midnight,
        cast(opportunities.close_date as timestamp) - (
            (cast(cast(opportunities.close_date as timestamp) as timestamptz) at time zone reporting.time_zone)
            - cast(opportunities.close_date as timestamp)
        ) as close_midnight_guess_at
    from opportunities
    cross join reporting
    where opportunities.close_date is not null
),

close_date_starts as (
    select
        close_date_guesses.opportunity_id,
        close_date_guesses.close_midnight - (
            (cast(close_date_guesses.close_midnight_guess_at as timestamptz) at time zone reporting.time_zone)
            - close_date_guesses.close_midnight_guess_at
        ) as close_date_starts_at
    from close_date_guesses
    cross join reporting
),

final as (
    select
        opportunities.opportunity_id,                                        -- CRM opportunity id
        opportunities.stage_name,                                            -- current sales stage
        coalesce(current_stage.is_won, false) as is_won,                     -- in the shared won stage
        coalesce(current_stage.is_lost, false) as is_lost,                   -- in the shared lost stage
        coalesce(
            first_qualified_change.qualified_changed_at,
            case when current_stage.is_sales_qualified then opportunities.created_at end
        ) as sales_qualified_at,                                             -- when it became sales-qualified (UTC)
        case
            when current_stage.is_won or current_stage.is_lost
                then coalesce(last_close_change.closed_changed_at, close_date_starts.close_date_starts_at)
        end as closed_at                                                     -- when it was closed won or lost (UTC)
    from opportunities
    left join opportunity_stages as current_stage on opportunities.stage_name = current_stage.stage_name
    left join first_qualified_change on opportunities.opportunity_id = first_qualified_change.opportunity_id
    left join last_close_change
        on
            opportunities.opportunity_id = last_close_change.opportunity_id
            and opportunities.stage_name = last_close_change.stage_name
    left join close_date_starts on opportunities.opportunity_id = close_date_starts.opportunity_id
)

select * from final
