/*
name: int_leads_lifecycle
description: >-
  One row per CRM lead with every lifecycle stage under the shared definitions: created, MQL (score and fit),
  sales-accepted or rejected (with a reason from the taxonomy), sales-qualified, won or lost, and PQL for product
  sign-ups. Stages follow each other: a stage recorded in the CRM before the stage it must follow (an acceptance
  before the lead was an MQL, say) is not counted, and the lead is flagged, so every team counts the same path.
grain: [lead_id]
owner: team:revops
*/
with

leads as (select * from staging.stg_salesforce__leads),

classified as (select * from intermediate.int_leads_classified),

scored as (select * from intermediate.int_leads_scored),

opportunities as (select * from intermediate.int_opportunities_qualified),

workspaces as (select * from intermediate.int_workspaces_product_qualified),

sales_sourced_channels as (select * from definitions.sales_sourced_channels),

rejection_reasons as (select * from definitions.rejection_reasons),

unspecified_rejection_reason as (
    select rejection_reasons.rejection_reason
    from rejection_reasons
    where rejection_reasons.is_unspecified
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
        coalesce(leads.accepted_at, cast(leads.converted_date as timestamp)) as recorded_accepted_at,
        leads.rejected_at as recorded_rejected_at,
        leads.rejection_reason as recorded_rejection_reason,
        leads.converted_opportunity_id,
        opportunities.sales_qualified_at as recorded_sales_qualified_at,
        opportunities.is_won,
        opportunities.is_lost,
        opportunities.closed_at,
        leads.product_workspace_id,
        workspaces.pql_at
    from leads
    inner join classified on leads.lead_id = classified.lead_id
    inner join scored on leads.lead_id = scored.lead_id
    left join sales_sourced_channels on classified.channel = sales_sourced_channels.channel
    left join opportunities on leads.converted_opportunity_id = opportunities.opportunity_id
    left join workspaces on leads.product_workspace_id = workspaces.workspace_id
),

accepted as (
    select
        recorded.*,
        case
            when recorded.is_sales_sourced and recorded.recorded_accepted_at >= recorded.created_at
                then recorded.recorded_accepted_at
            when recorded.recorded_accepted_at >= recorded.mql_at
                then recorded.recorded_accepted_at
        end as accepted_at
    from recorded
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
        qualified.accepted_at,                                               -- sales accepted it, after its MQL (UTC)
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
        (qualified.recorded_accepted_at is not null and qualified.accepted_at is null)
        or (qualified.recorded_sales_qualified_at is not null and qualified.sales_qualified_at is null)
        as has_stage_out_of_order                                            -- a recorded stage came before its predecessor
    from qualified
    left join rejection_reasons
        on
            qualified.recorded_rejection_reason = rejection_reasons.rejection_reason
            and not rejection_reasons.is_unspecified
    cross join unspecified_rejection_reason
)

select * from final
