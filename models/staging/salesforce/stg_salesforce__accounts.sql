/*
name: stg_salesforce__accounts
description: One row per CRM account (company), latest connector version, soft-deleted accounts removed.
grain: [account_id]
owner: team:sales
*/
with

source as (select * from salesforce.account),

latest as (
    select *
    from source
    qualify row_number() over (
        partition by id
        order by cast(_fivetran_synced as timestamp) desc nulls last
    ) = 1
),

final as (
    select
        cast(id as varchar) as account_id,                           -- CRM account id
        cast(name as varchar) as account_name,                       -- company name
        cast(type as varchar) as account_type,                       -- Prospect, Customer, Former Customer
        cast(industry as varchar) as industry,                       -- industry
        cast(number_of_employees as integer) as employee_count,      -- number of employees
        cast(annual_revenue as double) as annual_revenue_usd,        -- yearly revenue of the company in USD
        cast(billing_country as varchar) as billing_country,         -- billing country
        cast(account_source as varchar) as account_source,           -- how the account was first sourced
        cast(owner_id as varchar) as owner_user_id,                  -- account owner (CRM user)
        cast(product_workspace_id_c as varchar) as product_workspace_id, -- product workspace of the account
        cast(created_date as timestamp) as created_at                -- when the account was created (UTC)
    from latest
    where
        not coalesce(cast(is_deleted as boolean), false)
        and not coalesce(cast(_fivetran_deleted as boolean), false)
)

select * from final
