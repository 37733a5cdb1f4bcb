/*
name: stg_salesforce__contacts
description: >-
  One row per CRM contact (a person at an account), latest connector version, soft-deleted contacts removed.
  Holds names, e-mails and phone numbers: they stop at staging.
grain: [contact_id]
owner: team:sales
*/
with

source as (select * from salesforce.contact),

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
        cast(id as varchar) as contact_id,               -- CRM contact id
        cast(account_id as varchar) as account_id,       -- account the contact works at
        cast(first_name as varchar) as first_name,       -- first name (personal data)
        cast(last_name as varchar) as last_name,         -- last name (personal data)
        cast(email as varchar) as email,                 -- e-mail (personal data)
        cast(phone as varchar) as phone,                 -- phone number (personal data)
        cast(title as varchar) as title,                 -- job title
        cast(lead_source as varchar) as lead_source,     -- raw lead source as the CRM records it
        cast(owner_id as varchar) as owner_user_id,      -- contact owner (CRM user)
        cast(created_date as timestamp) as created_at    -- when the contact was created (UTC)
    from latest
    where
        not coalesce(cast(is_deleted as boolean), false)
        and not coalesce(cast(_fivetran_deleted as boolean), false)
)

select * from final
