/*
name: stg_stripe__customers
description: >-
  One row per live-mode billing customer, latest connector version, deleted customers removed (test-mode rows are quarantined), tied
  to its CRM account through metadata.salesforce_account_id. Holds names and e-mails: they stop at staging.
grain: [customer_id]
owner: team:success
*/
with

source as (select * from stripe.customer),

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
        cast(id as varchar) as customer_id,                                       -- billing customer id
        cast(name as varchar) as customer_name,                                   -- billing name (personal data)
        cast(email as varchar) as email,                                          -- billing e-mail (personal data)
        upper(cast(currency as varchar)) as currency,                             -- default currency, ISO code
        coalesce(cast(delinquent as boolean), false) as is_delinquent,            -- has an unpaid invoice
        json_extract_string(cast(metadata as json), '$.salesforce_account_id') as crm_account_id, -- CRM account
        cast(created as timestamp) as created_at                                  -- when the customer was created (UTC)
    from latest
    where
        not coalesce(cast(is_deleted as boolean), false)
        and not coalesce(cast(_fivetran_deleted as boolean), false)
)

select * from final
