/*
name: stg_salesforce__opportunity_stage_changes
description: >-
  One row per recorded change of an opportunity's stage, amount or close date (Salesforce OpportunityHistory),
  latest connector version, soft deletes removed.
grain: [opportunity_history_id]
owner: team:sales
*/
with

source as (select * from salesforce.opportunity_history),

latest as (
    select *
    from source
    qualify row_number() over (
        partition by id
        order by cast(_fivetran_synced as timestamp) desc nulls last, cast(system_modstamp as timestamp) desc nulls last
    ) = 1
),

final as (
    select
        cast(id as varchar) as opportunity_history_id,            -- CRM history row id
        cast(opportunity_id as varchar) as opportunity_id,        -- the opportunity that changed
        cast(stage_name as varchar) as stage_name,                -- stage after the change
        cast(amount as double) as amount,                         -- amount after the change, in the opportunity's currency
        cast(probability as double) as probability_percent,       -- win probability after the change, 0-100
        cast(forecast_category as varchar) as forecast_category,  -- forecast category after the change
        cast(close_date as date) as close_date,                   -- expected close date after the change
        cast(created_date as timestamp) as changed_at,            -- when the change happened (UTC)
        cast(created_by_id as varchar) as changed_by_user_id      -- CRM user who made the change
    from latest
    where
        not coalesce(cast(is_deleted as boolean), false)
        and not coalesce(cast(_fivetran_deleted as boolean), false)
)

select * from final
