/*
name: int_leads_lifecycle
description: >-
  One row per CRM lead with every lifecycle stage under the shared definitions: created, MQL (score and fit),
  sales-accepted or rejected (with a reason from the taxonomy), sales-qualified, won or lost, and PQL for product
  sign-ups. Stages follow each other: a stage recorded in the CRM before the stage it must follow (an acceptance
  before the lead was an MQL, say) is not counted, and the lead is flagged, so every team counts the same path.
  Sales may accept a lead from the moment it became an MQL or its product workspace a PQL, whichever came first
  (from its creation when it is sales-sourced). A conversion recorded only as a date (no acceptance time) is an
  acceptance when that date, a date in the reporting time zone, is on or after the date there of that moment: the
  lead is accepted at the start of the conversion date (in UTC), or at that moment when it is later the same day.
  Beside each stage, what the CRM recorded for it (the acceptance time, the conversion date and the UTC times its
  day starts and ends, the first move of the converted opportunity into a sales-qualified stage and its move into
  the won stage, from the stage history): the inputs the lifecycle suite states each stage from.
grain: [lead_id]
owner: team:revops
*/
with

leads as (select * from staging.stg_salesforce__leads),

classified as (select * from intermediate.int_leads_classified),

scored as (select * from intermediate.int_leads_scored),

opportunities as (select * from intermediate.int_opportunities_qualified),

workspaces as (select * from intermediate.int_workspaces_product_qualified),

crm_opportunities as (select * from staging.stg_salesforce__opportunities),

stage_changes as (select * from staging.stg_salesforce__opportunity_stage_changes),

opportunity_stages as (select * from definitions.opportunity_stages),

sales_sourced_channels as (select * from definitions.sales_sourced_channels),

reporting as (select * from definitions.reporting),

rejection_reasons as (select * from definitions.rejection_reasons),

unspecified_rejection_reason as (
    select rejection_reasons.rejection_reason
    from rejection_reasons
    where rejection_reasons.is_unspecified
),

-- the stage history as the CRM recorded it: the first move into a sales-qualified stage (the shared stage or a later
-- open or won one; an opportunity created in one counts from its creation) and the last move into the won stage of
-- an opportunity that is won now
stage_history as (
    select
        stage_changes.opportunity_id,
        min(stage_changes.changed_at) filter (where opportunity_stages.is_sales_qualified) as qualified_changed_at,
        max(stage_changes.changed_at) filter (where opportunity_stages.is_won) as won_changed_at
    from stage_changes
    inner join opportunity_stages on stage_changes.stage_name = opportunity_stages.stage_name
    group by stage_changes.opportunity_id
),

stages_reached as (
    select
        crm_opportunities.opportunity_id,
        coalesce(
            stage_history.qualified_changed_at,
            case when current_stage.is_sales_qualified then crm_opportunities.created_at end
        ) as qualified_stage_reached_at,
        case when current_stage.is_won then stage_history.won_changed_at end as won_stage_reached_at
    from crm_opportunities
    left join opportunity_stages as current_stage on crm_opportunities.stage_name = current_stage.stage_name
    left join stage_history on crm_opportunities.opportunity_id = stage_history.opportunity_id
),

recorded as (
    select
        leads.lead_id,
        leads.created_at,
        leads.crm_mql_at,
        classified.channel,
        classified.segment,
        sales_sourced_channels.channel is not null as is_sales_sourced,
        scored.fit_score,
        scored.is_icp,
        -- sales-sourced leads skip the MQL gate: they are never counted as MQLs
        case when sales_sourced_channels.channel is null then scored.score_at_mql end as score_at_mql,
        case when sales_sourced_channels.channel is null then scored.mql_at end as mql_at,
        leads.accepted_at as recorded_accepted_at,
        leads.converted_date,
        leads.rejected_at as recorded_rejected_at,
        leads.rejection_reason as recorded_rejection_reason,
        leads.converted_opportunity_id,
        opportunities.sales_qualified_at as recorded_sales_qualified_at,
        opportunities.is_won,
        opportunities.is_lost,
        opportunities.closed_at,
        leads.product_workspace_id,
        workspaces.pql_at,
        stages_reached.qualified_stage_reached_at,
        stages_reached.won_stage_reached_at
    from leads
    inner join classified on leads.lead_id = classified.lead_id
    inner join scored on leads.lead_id = scored.lead_id
    left join sales_sourced_channels on classified.channel = sales_sourced_channels.channel
    left join opportunities on leads.converted_opportunity_id = opportunities.opportunity_id
    left join workspaces on leads.product_workspace_id = workspaces.workspace_id
    left join stages_reached on leads.converted_opportunity_id = stages_reached.opportunity_id
),

acceptable as (
    -- the first moment sales may accept the lead: its creation when sales-sourced, else its MQL or its workspace's
    -- PQL, whichever came first
    select
        recorded.*,
        case
            when recorded.is_sales_sourced then recorded.created_at
            when recorded.pql_at is null then recorded.mql_at
            when recorded.mql_at is null then recorded.pql_at
            else least(recorded.mql_at, recorded.pql_at)
        end as acceptable_at
    from recorded
),

-- the start of the conversion date in the reporting time zone, in UTC: local midnight less the zone's offset, read
-- first at a guess and then at that guess (exact across daylight-saving changes; see int_opportunities_qualified)
conversion_date_guesses as (
    select
        acceptable.*,
        cast(acceptable.converted_date as timestamp) - (
            (cast(cast(acceptable.converted_date as timestamp) as timestamptz) at time zone reporting.time_zone)
            - cast(acceptable.converted_date as timestamp)
        ) as conversion_midnight_guess_at,
        cast(acceptable.converted_date + 1 as timestamp) - (
            (cast(cast(acceptable.converted_date + 1 as timestamp) as timestamptz) at time zone reporting.time_zone)
            - cast(acceptable.converted_date + 1 as timestamp)
        ) as next_midnight_guess_at,
        cast(cast(acceptable.acceptable_at as timestamptz) at time zone reporting.time_zone as date) as acceptable_date
    from acceptable
    cross join reporting
),

conversion_date_starts as (
    select
        conversion_date_guesses.*,
        cast(conversion_date_guesses.converted_date as timestamp) - (
            (cast(conversion_date_guesses.conversion_midnight_guess_at as timestamptz) at time zone reporting.time_zone)
            - conversion_date_guesses.conversion_midnight_guess_at
        ) as conversion_date_starts_at,
        cast(conversion_date_guesses.converted_date + 1 as timestamp) - (
            (cast(conversion_date_guesses.next_midnight_guess_at as timestamptz) at time zone reporting.time_zone)
            - conversion_date_guesses.next_midnight_guess_at
        ) as conversion_date_ends_at
    from conversion_date_guesses
    cross join reporting
),

accepted as (
    select
        conversion_date_starts.*,
        case
            when conversion_date_starts.recorded_accepted_at >= conversion_date_starts.acceptable_at
                then conversion_date_starts.recorded_accepted_at
            when conversion_date_starts.recorded_accepted_at is not null then null
            -- a conversion date is a date in the reporting time zone: it accepts the lead on or after the local date
            -- of the acceptable moment, at the start of that date in UTC but never before the acceptable moment
            when conversion_date_starts.converted_date >= conversion_date_starts.acceptable_date
                then greatest(conversion_date_starts.acceptable_at, conversion_date_starts.conversion_date_starts_at)
        end as accepted_at
    from conversion_date_starts
),

qualified as (
    select
        accepted.*,
        case
            when accepted.recorded_sales_qualified_at >= accepted.accepted_at
                then accepted.recorded_sales_qualified_at
        end as sales_qualified_at
    from accepted
),

final as (
    select
        qualified.lead_id,                                                   -- CRM lead id
        qualified.channel,                                                   -- channel from the shared mapping
        qualified.segment,                                                   -- size segment from the shared bands
        qualified.is_sales_sourced,                                          -- sourced by sales: skips the MQL gate
        qualified.is_icp,                                                    -- company meets every ICP criterion
        qualified.fit_score,                                                 -- fit points from the ICP criteria met
        qualified.score_at_mql,                                              -- lead score when it became an MQL
        qualified.created_at,                                                -- when the lead was created (UTC)
        qualified.mql_at,                                                    -- MQL under the shared definition (UTC); never for sales-sourced leads
        qualified.crm_mql_at,                                                -- MQL as the marketing tool flagged it (UTC)
        qualified.accepted_at,                                               -- sales accepted it, at or after its MQL or PQL (UTC)
        qualified.recorded_rejected_at as rejected_at,                       -- sales rejected it (UTC)
        case
            when qualified.recorded_rejected_at is null then null
            when rejection_reasons.rejection_reason is not null then rejection_reasons.rejection_reason
            else unspecified_rejection_reason.rejection_reason
        end as rejection_reason,                                             -- rejection reason from the taxonomy
        qualified.recorded_rejected_at is not null
        and rejection_reasons.rejection_reason is null as is_rejection_reason_missing, -- rejected without a valid reason
        qualified.converted_opportunity_id,                                  -- opportunity created at conversion
        qualified.sales_qualified_at,                                        -- became sales-qualified, after acceptance (UTC)
        case
            when qualified.closed_at >= qualified.sales_qualified_at and qualified.is_won then qualified.closed_at
        end as won_at,                                                       -- won, after qualifying (UTC)
        case
            when qualified.closed_at >= qualified.sales_qualified_at and qualified.is_lost then qualified.closed_at
        end as lost_at,                                                      -- lost, after qualifying (UTC)
        qualified.product_workspace_id,                                      -- product workspace of a sign-up
        qualified.pql_at,                                                    -- workspace became product-qualified (UTC)
        (
            (qualified.recorded_accepted_at is not null or qualified.converted_date is not null)
            and qualified.accepted_at is null
        )
        or (qualified.recorded_sales_qualified_at is not null and qualified.sales_qualified_at is null)
        as has_stage_out_of_order,                                           -- a recorded stage came before its predecessor
        qualified.recorded_accepted_at,                                      -- acceptance as the rep recorded it (UTC)
        qualified.converted_date,                                            -- conversion date as recorded (a date in the reporting time zone)
        qualified.conversion_date_starts_at,                                 -- when the conversion date starts there (UTC)
        qualified.conversion_date_ends_at,                                   -- when the conversion date ends there (UTC)
        qualified.qualified_stage_reached_at,                                -- opportunity first in a sales-qualified stage, from its stage history (UTC)
        qualified.won_stage_reached_at                                       -- won opportunity's last move into the won stage, from its stage history (UTC)
    from qualified
    left join rejection_reasons
        on
            qualified.recorded_rejection_reason = rejection_reasons.rejection_reason
            and not rejection_reasons.is_unspecified
    cross join unspecified_rejection_reason
)

select * from final
