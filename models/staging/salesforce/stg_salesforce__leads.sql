/*
name: stg_salesforce__leads
description: >-
  One row per CRM lead, latest connector version, soft-deleted leads removed. Holds names, e-mails and phone
  numbers: they stop at staging.
grain: [lead_id]
owner: team:marketing
*/
with

source as (select * from salesforce.lead),

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
        cast(id as varchar) as lead_id,                                      -- CRM lead id
        cast(first_name as varchar) as first_name,                           -- first name (personal data)
        cast(last_name as varchar) as last_name,                             -- last name (personal data)
        cast(email as varchar) as email,                                     -- e-mail (personal data)
        cast(phone as varchar) as phone,                                     -- phone number (personal data)
        cast(title as varchar) as title,                                     -- job title
        cast(company as varchar) as company_name,                            -- company the lead works for
        cast(industry as varchar) as industry,                               -- industry of the company
        cast(number_of_employees as integer) as employee_count,              -- employees of the company
        cast(annual_revenue as double) as annual_revenue_usd,                -- yearly revenue of the company in USD
        cast(country as varchar) as country,                                 -- country
        cast(lead_source as varchar) as lead_source,                         -- raw lead source as the CRM records it
        cast(status as varchar) as lead_status,                              -- current CRM lead status
        cast(owner_id as varchar) as owner_user_id,                          -- lead owner (CRM user)
        cast(created_date as timestamp) as created_at,                       -- when the lead was created (UTC)
        coalesce(cast(is_converted as boolean), false) as is_converted,      -- converted to contact/opportunity
        cast(converted_date as date) as converted_date,                      -- date of conversion
        cast(converted_account_id as varchar) as converted_account_id,       -- account the lead converted into
        cast(converted_contact_id as varchar) as converted_contact_id,       -- contact the lead converted into
        cast(converted_opportunity_id as varchar) as converted_opportunity_id, -- opportunity created at conversion
        cast(utm_source_c as varchar) as utm_source,                         -- UTM source of the first touch
        cast(utm_medium_c as varchar) as utm_medium,                         -- UTM medium of the first touch
        cast(utm_campaign_c as varchar) as utm_campaign,                     -- UTM campaign of the first touch
        cast(mql_date_c as timestamp) as crm_mql_at,                         -- when the marketing tool flagged MQL (UTC)
        cast(accepted_date_c as timestamp) as accepted_at,                   -- when a rep accepted the lead (UTC)
        cast(rejected_date_c as timestamp) as rejected_at,                   -- when a rep rejected the lead (UTC)
        cast(rejection_reason_c as varchar) as rejection_reason,             -- why the rep rejected the lead
        cast(product_workspace_id_c as varchar) as product_workspace_id      -- product workspace of a sign-up
    from latest
    where
        not coalesce(cast(is_deleted as boolean), false)
        and not coalesce(cast(_fivetran_deleted as boolean), false)
)

select * from final
