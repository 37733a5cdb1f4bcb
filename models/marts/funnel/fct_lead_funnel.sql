/*
name: fct_lead_funnel
description: >-
  One row per CRM lead with the moment it reached each funnel stage under the shared definitions (created, MQL,
  sales-accepted, opportunity created, sales-qualified, won or lost) and the days between consecutive stages. The
  stages are those of int_leads_lifecycle, so a stage the CRM recorded before the stage it must follow is not
  counted. The opportunity stage is the creation of the opportunity the lead converted into, counted once the lead
  was sales-accepted and not before its acceptance (the same rule as every other stage); sales_qualified_at,
  won_at and lost_at stay as int_leads_lifecycle has them, and rpt_funnel_cohorts_monthly counts a stage only
  when every earlier one counts. Sales-sourced leads skip the MQL gate: they enter the funnel when sales accepts
  them (funnel_entered_at), every other lead at its MQL. A lead sales accepted after its workspace's PQL without
  being an MQL keeps its accepted_at but has not entered this (MQL) funnel: PQLs are followed in
  rpt_pql_revenue_monthly.
  The owner team is the sales team of the lead's current CRM owner; a lead with no owner, an owner that is not a
  known CRM user, or an owner without a team is in the team labelled by the definitions' reporting.unassigned_label. Ids only, no personal data.
grain: [lead_id]
owner: team:revops
*/
with

lifecycle as (select * from intermediate.int_leads_lifecycle),

classified as (select * from intermediate.int_leads_classified),

users as (select * from staging.stg_salesforce__users),

reporting as (select * from definitions.reporting),

opportunities as (select * from intermediate.int_opportunities_classified),

staged as (
    select
        lifecycle.lead_id,
        lifecycle.channel,
        lifecycle.segment,
        coalesce(users.team, reporting.unassigned_label) as owner_team,
        lifecycle.is_sales_sourced,
        lifecycle.created_at,
        lifecycle.mql_at,
        lifecycle.accepted_at,
        case when lifecycle.is_sales_sourced then lifecycle.accepted_at else lifecycle.mql_at end as funnel_entered_at,
        lifecycle.converted_opportunity_id,
        case
            when opportunities.created_at >= lifecycle.accepted_at then opportunities.created_at
        end as opportunity_created_at,
        lifecycle.sales_qualified_at,
        lifecycle.won_at,
        lifecycle.lost_at,
        lifecycle.has_stage_out_of_order
        or (opportunities.opportunity_id is not null and not coalesce(opportunities.created_at >= lifecycle.accepted_at, false))
        as has_stage_out_of_order
    from lifecycle
    inner join classified on lifecycle.lead_id = classified.lead_id
    left join users on classified.owner_user_id = users.user_id
    left join opportunities on lifecycle.converted_opportunity_id = opportunities.opportunity_id
    cross join reporting
),

final as (
    select
        staged.lead_id,                                                      -- CRM lead id
        staged.channel,                                                      -- channel from the shared mapping
        staged.segment,                                                      -- size segment from the shared bands
        staged.owner_team,                                                   -- sales team of the lead's current owner; the definitions' unassigned label when no owner, an unknown owner or an owner without a team
        staged.is_sales_sourced,                                             -- sourced by sales: skips the MQL gate
        staged.created_at,                                                   -- when the lead was created (UTC)
        staged.mql_at,                                                       -- MQL under the shared definition (UTC); never for sales-sourced leads
        staged.accepted_at,                                                  -- sales accepted it, after its MQL or PQL (UTC)
        staged.funnel_entered_at,                                            -- entered the funnel: the MQL, or the acceptance of a sales-sourced lead (UTC)
        staged.converted_opportunity_id,                                     -- opportunity the lead converted into (id only)
        staged.opportunity_created_at,                                       -- the converted opportunity was created, at or after acceptance (UTC); null otherwise
        staged.sales_qualified_at,                                           -- its opportunity reached the sales-qualified stage, after acceptance (UTC)
        staged.won_at,                                                       -- won, after qualifying (UTC)
        staged.lost_at,                                                      -- lost, after qualifying (UTC)
        staged.has_stage_out_of_order,                                       -- a recorded stage came before its predecessor (or the opportunity has no counted acceptance): not counted
        (epoch(staged.mql_at) - epoch(staged.created_at)) / 86400.0 as days_created_to_mql, -- fractional days from creation to MQL; null when either is missing
        (epoch(staged.funnel_entered_at) - epoch(staged.created_at)) / 86400.0
        as days_created_to_funnel_entered,                                   -- fractional days from creation to entering the funnel (to acceptance for sales-sourced leads)
        (epoch(staged.accepted_at) - epoch(staged.mql_at)) / 86400.0 as days_mql_to_accepted, -- fractional days from MQL to acceptance, negative when sales accepted the lead as a PQL before its MQL; null for sales-sourced leads
        (epoch(staged.opportunity_created_at) - epoch(staged.accepted_at)) / 86400.0
        as days_accepted_to_opportunity,                                     -- fractional days from acceptance to the opportunity's creation
        (epoch(staged.sales_qualified_at) - epoch(staged.opportunity_created_at)) / 86400.0
        as days_opportunity_to_sales_qualified,                              -- fractional days from the opportunity's creation to sales-qualified
        (epoch(staged.won_at) - epoch(staged.sales_qualified_at)) / 86400.0 as days_sales_qualified_to_won, -- fractional days from sales-qualified to won
        (epoch(staged.lost_at) - epoch(staged.sales_qualified_at)) / 86400.0 as days_sales_qualified_to_lost -- fractional days from sales-qualified to lost
    from staged
)

select * from final
