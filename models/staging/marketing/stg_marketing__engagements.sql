/*
name: stg_marketing__engagements
description: >-
  One row per marketing engagement (form fill, e-mail click, web or pricing-page visit, demo request, webinar),
  latest sync kept. Holds e-mail addresses: they stop at staging.
grain: [engagement_id]
owner: team:marketing
*/
with

source as (select * from marketing.engagements),

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
        cast(id as varchar) as engagement_id,             -- engagement id in the marketing tool
        cast(activity_type as varchar) as activity_type,  -- form_fill, email_click, web_visit, pricing_page_visit, ...
        cast(occurred_at as timestamp) as occurred_at,    -- when it happened (UTC)
        cast(email as varchar) as email,                  -- e-mail of the person (personal data)
        cast(lead_id as varchar) as lead_id,              -- CRM lead the marketing tool synced the person to
        cast(campaign_id as varchar) as campaign_id,      -- campaign the engagement belongs to
        cast(utm_source as varchar) as utm_source,        -- UTM source
        cast(utm_medium as varchar) as utm_medium,        -- UTM medium
        cast(utm_campaign as varchar) as utm_campaign,    -- UTM campaign
        cast(page_url as varchar) as page_url             -- page visited or form filled
    from latest
)

select * from final
