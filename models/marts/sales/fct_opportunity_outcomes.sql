/*
name: fct_opportunity_outcomes
description: >-
  One row per closed opportunity (its current stage is the shared won or lost stage), with its outcome, when it
  closed, the quarter it counts in, its segment, channel and type, the closed-lost reason from the shared taxonomy
  and its bucket, and the sales cycle from creation to close. Every opportunity type is here, each with its type
  and whether it is new business (definitions.opportunity_types): marts that report a win rate or a sales cycle
  either keep the type in their grain or count new business only, and say which. A deal that was closed and later reopened counts by
  its current state (a deal lost, reopened and then won is won) and closed_at is its last close; was_reopened flags
  it. The rep's loss reason is matched to the taxonomy ignoring case and surrounding spaces; a lost deal whose
  reason is empty or not in the taxonomy counts under the unspecified reason and is flagged.
grain: [opportunity_id]
owner: team:sales
*/
with

classified as (select * from intermediate.int_opportunities_classified),

qualified as (select * from intermediate.int_opportunities_qualified),

opportunities as (select * from staging.stg_salesforce__opportunities),

stage_changes as (select * from staging.stg_salesforce__opportunity_stage_changes),

opportunity_stages as (select * from definitions.opportunity_stages),

closed_lost_reasons as (select * from definitions.closed_lost_reasons),

reporting as (select * from definitions.reporting),

unspecified_loss_reason as (
    select
        closed_lost_reasons.loss_reason,
        closed_lost_reasons.loss_reason_bucket
    from closed_lost_reasons
    where closed_lost_reasons.is_unspecified
),

-- every recorded stage change whose stage is in the shared taxonomy, marked closed (won or lost) or open
stage_moves as (
    select
        stage_changes.opportunity_id,
        stage_changes.changed_at,
        opportunity_stages.is_won or opportunity_stages.is_lost as is_closed_stage
    from stage_changes
    inner join opportunity_stages on stage_changes.stage_name = opportunity_stages.stage_name
    where stage_changes.changed_at is not null
),

-- reopened: a move into an open stage strictly after a move into a closed stage
reopened as (
    select distinct open_moves.opportunity_id
    from stage_moves as open_moves
    inner join stage_moves as closed_moves
        on
            open_moves.opportunity_id = closed_moves.opportunity_id
            and closed_moves.is_closed_stage
            and open_moves.changed_at > closed_moves.changed_at
    where not open_moves.is_closed_stage
),

closed as (
    select
        classified.opportunity_id,
        classified.account_id,
        classified.owner_user_id,
        classified.opportunity_type,
        classified.is_new_business,
        classified.channel,
        classified.segment,
        classified.amount_usd,
        classified.created_at,
        qualified.closed_at,
        -- the calendar days of creation and close in the reporting time zone
        cast(cast(classified.created_at as timestamptz) at time zone reporting.time_zone as date) as created_date,
        cast(cast(qualified.closed_at as timestamptz) at time zone reporting.time_zone as date) as closed_date,
        qualified.is_won,
        qualified.is_lost,
        opportunities.loss_reason as recorded_loss_reason
    from classified
    inner join qualified on classified.opportunity_id = qualified.opportunity_id
    left join opportunities on classified.opportunity_id = opportunities.opportunity_id
    cross join reporting
    where qualified.is_won or qualified.is_lost
),

final as (
    select
        closed.opportunity_id,                                                   -- CRM opportunity id
        closed.account_id,                                                       -- account that buys
        closed.owner_user_id,                                                    -- opportunity owner (CRM user id)
        closed.opportunity_type,                                                 -- deal type from the shared opportunity types; Other when not listed
        closed.is_new_business,                                                  -- of the shared new_business_type: the deals new-business win rates and sales cycles count
        closed.segment,                                                          -- size segment of the account
        closed.channel,                                                          -- channel from the shared mapping
        closed.created_at,                                                       -- when the opportunity was created (UTC)
        closed.closed_at,                                                        -- last move into its current closed stage (UTC); the close date when no history; null when neither
        cast(date_trunc('quarter', closed.closed_date) as date) as close_quarter, -- first day of the quarter of closed_at (reporting time zone); null when closed_at is
        closed.is_won,                                                           -- in the shared won stage now
        closed.is_lost,                                                          -- in the shared lost stage now
        closed.amount_usd,                                                       -- contract value in USD
        case
            when not closed.is_lost then null
            when closed_lost_reasons.loss_reason is not null then closed_lost_reasons.loss_reason
            else unspecified_loss_reason.loss_reason
        end as loss_reason,                                                      -- lost deals: reason from the shared taxonomy (empty or unknown: the unspecified reason); null when won
        case
            when not closed.is_lost then null
            when closed_lost_reasons.loss_reason is not null then closed_lost_reasons.loss_reason_bucket
            else unspecified_loss_reason.loss_reason_bucket
        end as loss_reason_bucket,                                               -- lost deals: bucket of the team that owns the reason; null when won
        closed.is_lost and closed_lost_reasons.loss_reason is null as is_loss_reason_missing, -- lost with an empty or unknown reason
        case
            when closed.closed_date >= closed.created_date
                then date_diff('day', closed.created_date, closed.closed_date)
        end as sales_cycle_days,                                                 -- calendar days from the created date to the close date; null when either is missing or the close precedes creation
        reopened.opportunity_id is not null as was_reopened                      -- the history shows a closed stage followed by a later move back to an open stage
    from closed
    left join closed_lost_reasons
        on
            lower(trim(closed.recorded_loss_reason)) = lower(closed_lost_reasons.loss_reason)
            and not closed_lost_reasons.is_unspecified
    left join reopened on closed.opportunity_id = reopened.opportunity_id
    cross join unspecified_loss_reason
)

select * from final
