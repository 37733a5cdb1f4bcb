/*
name: stg_marketing__ad_spend_days
description: One row per day, ad platform and campaign with the money spent, latest sync kept.
grain: [spend_date, platform, campaign_id]
owner: team:marketing
*/
with

source as (select * from marketing.ad_spend),

latest as (
    select *
    from source
    qualify row_number() over (
        partition by date, platform, campaign_id
        order by cast(_fivetran_synced as timestamp) desc nulls last
    ) = 1
),

final as (
    select
        cast(date as date) as spend_date,                            -- day of the spend
        cast(platform as varchar) as platform,                       -- google_ads, linkedin_ads, meta_ads
        cast(campaign_id as varchar) as campaign_id,                 -- campaign id on the platform
        cast(campaign_name as varchar) as campaign_name,             -- campaign name on the platform
        cast(utm_source as varchar) as utm_source,                   -- UTM source the campaign's links carry
        cast(utm_medium as varchar) as utm_medium,                   -- UTM medium the campaign's links carry
        cast(utm_campaign as varchar) as utm_campaign,               -- UTM campaign the campaign's links carry
        cast(spend as decimal(18, 2)) as spend_amount,               -- money spent that day, in `currency`
        upper(cast(currency as varchar)) as currency,            -- ISO currency of the ad account
        coalesce(cast(impressions as bigint), 0) as impressions_count, -- ad impressions
        coalesce(cast(clicks as bigint), 0) as clicks_count          -- ad clicks
    from latest
)

select * from final
