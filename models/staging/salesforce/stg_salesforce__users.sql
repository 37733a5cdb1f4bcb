/*
name: stg_salesforce__users
description: >-
  One row per CRM user (sales development reps, account executives, customer success managers), latest
  connector version, deleted users removed. Holds rep names and e-mails: they stop at staging.
grain: [user_id]
owner: team:revops
*/
with

source as (select * from salesforce.user),

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
        cast(id as varchar) as user_id,                          -- CRM user id
        cast(name as varchar) as user_name,                      -- full name of the rep (personal data)
        cast(email as varchar) as email,                         -- work e-mail of the rep (personal data)
        cast(title as varchar) as title,                         -- job title
        cast(department as varchar) as team,                     -- sales team: Sales Development, Account Executives, Customer Success
        cast(division as varchar) as covered_segment,            -- segment the rep covers
        cast(manager_id as varchar) as manager_user_id,          -- the rep's manager
        coalesce(cast(is_active as boolean), true) as is_active, -- whether the user can still log in
        cast(created_date as timestamp) as created_at            -- when the user was created (UTC)
    from latest
    where not coalesce(cast(_fivetran_deleted as boolean), false)
)

select * from final
