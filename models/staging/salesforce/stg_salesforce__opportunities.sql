/*
name: stg_salesforce__opportunities
description: One row per CRM opportunity (deal) in its current state, latest connector version, soft deletes removed.
grain: [opportunity_id]
owner: team:sales
*/
with

source as (select * from salesforce.opportunity),

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
        cast(id as varchar) as opportunity_id,                        -- CRM opportunity id
        cast(account_id as varchar) as account_id,                    -- account that buys
        cast(name as varchar) as opportunity_name,                    -- deal name
        cast(type as varchar) as opportunity_type,                    -- New Business, Expansion, Renewal
        cast(stage_name as varchar) as stage_name,                    -- current sales stage
        cast(amount as double) as amount,                             -- contract value in the opportunity's currency
        upper(cast(currency_iso_code as varchar)) as currency,        -- ISO currency of the amount (null: the org has one currency, the reporting one)
        cast(probability as double) as probability_percent,           -- win probability the CRM assigns, 0-100
        cast(forecast_category as varchar) as forecast_category,      -- forecast category
        cast(close_date as date) as close_date,                       -- expected or actual close date
        cast(created_date as timestamp) as created_at,                -- when the opportunity was created (UTC)
        coalesce(cast(is_closed as boolean), false) as is_closed,     -- closed, won or lost
        coalesce(cast(is_won as boolean), false) as is_won,           -- closed won
        cast(lead_source as varchar) as lead_source,                  -- raw lead source as the CRM records it
        cast(owner_id as varchar) as owner_user_id,                   -- opportunity owner (CRM user)
        cast(campaign_id as varchar) as campaign_id,                  -- primary campaign
        cast(loss_reason_c as varchar) as loss_reason                 -- closed-lost reason as the rep recorded it
    from latest
    where
        not coalesce(cast(is_deleted as boolean), false)
        and not coalesce(cast(_fivetran_deleted as boolean), false)
)

select * from final
