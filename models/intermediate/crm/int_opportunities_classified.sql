/*
name: int_opportunities_classified
description: >-
  One row per CRM opportunity with the channel, segment and type every team reports it under: the channel from the
  shared channel mapping of the opportunity's raw lead source (and who sourced it by that channel: sales for the shared
  sales-sourced channels, product for the product-sourced ones, marketing for every other channel), the segment from
  the shared size bands of the buying account's employees, the type from the shared opportunity types of its CRM type label (a label not listed, free
  text included, is the other type, so what a rep types never reaches a mart). The amount is converted into the
  reporting currency (amount_usd) at the rate of intermediate.int_exchange_rates_monthly for the month of its close
  date in the reporting time zone (the month of the run's as-of time for a later or missing close date: no rate is
  made up for a later month); an opportunity without a currency (an org with one currency does not sync
  currency_iso_code) is in the reporting currency. An amount whose currency has no rate for that month has no
  amount_usd (missing amounts count 0 in the marts) and is listed with the reason in
  intermediate.int_opportunities_unconverted, as int_subscription_items_unconverted lists MRR.
grain: [opportunity_id]
owner: team:revops
*/
with

opportunities as (select * from staging.stg_salesforce__opportunities),

accounts as (select * from staging.stg_salesforce__accounts),

channel_mapping as (select * from definitions.channel_mapping),

segments as (select * from definitions.segments),

opportunity_types as (select * from definitions.opportunity_types),

sales_sourced_channels as (select * from definitions.sales_sourced_channels),

product_sourced_channels as (select * from definitions.product_sourced_channels),

default_channel as (
    select channel
    from channel_mapping
    where lead_source_key is null
),

unknown_segment as (
    select segment
    from segments
    where min_employees is null
),

other_type as (
    select opportunity_type
    from opportunity_types
    where label_key is null
),

rates as (select * from intermediate.int_exchange_rates_monthly),

reporting as (select * from definitions.reporting),

horizon as (select * from definitions.data_horizon),

as_of as (
    select cast(cast(horizon.as_of_at as timestamptz) at time zone reporting.time_zone as date) as as_of_date
    from horizon
    cross join reporting
),

-- each opportunity's currency and the month whose rate converts its amount: its close month, at the latest the as-of month
priced as (
    select
        opportunities.*,
        coalesce(opportunities.currency, reporting.currency) as amount_currency,
        cast(
            date_trunc('month', least(coalesce(opportunities.close_date, as_of.as_of_date), as_of.as_of_date)) as date
        ) as amount_rate_month
    from opportunities
    cross join reporting
    cross join as_of
),

final as (
    select
        opportunities.opportunity_id,                                           -- CRM opportunity id
        opportunities.account_id,                                               -- account that buys
        coalesce(opportunity_types.opportunity_type, other_type.opportunity_type)
        as opportunity_type,                                                    -- deal type from the shared opportunity types (New Business, Expansion, Renewal; Other when not listed)
        coalesce(opportunity_types.is_new_business, false) as is_new_business,  -- its type is the shared new_business_type (what win rates, sales cycles, CAC and first won deals count)
        opportunities.stage_name,                                               -- current sales stage
        opportunities.created_at,                                               -- when the opportunity was created (UTC)
        opportunities.close_date,                                               -- expected or actual close date
        opportunities.is_closed,                                                -- closed, won or lost
        opportunities.is_won,                                                   -- closed won
        opportunities.amount * rates.rate_to_reporting as amount_usd,           -- contract value in the reporting currency (null without an amount or a rate: see the description)
        opportunities.amount,                                                   -- contract value in its own currency, as the CRM records it
        opportunities.amount_currency,                                          -- ISO currency of amount (the reporting currency when the CRM has none)
        opportunities.amount_rate_month,                                        -- the month whose rate converts it: the close month, at the latest the as-of month (reporting time zone)
        rates.rate_to_reporting as amount_rate_to_reporting,                    -- that rate (1 in the reporting currency; null when the month has none)
        opportunities.owner_user_id,                                            -- opportunity owner (CRM user)
        opportunities.lead_source,                                              -- raw lead source as the CRM records it
        coalesce(channel_mapping.channel, default_channel.channel) as channel,  -- channel from the shared mapping
        case
            when sales_sourced_channels.channel is not null then 'sales'
            when product_sourced_channels.channel is not null then 'product'
            else 'marketing'
        end as pipeline_source,                                                 -- who sourced the deal by its channel: sales (sales-sourced channels), product (product-sourced ones) or marketing
        coalesce(segments.segment, unknown_segment.segment) as segment          -- size segment of the account
    from priced as opportunities
    left join rates
        on opportunities.amount_currency = rates.currency and opportunities.amount_rate_month = rates.rate_month
    left join accounts
        on opportunities.account_id = accounts.account_id
    left join channel_mapping
        on lower(trim(opportunities.lead_source)) = channel_mapping.lead_source_key
    left join opportunity_types
        on lower(trim(opportunities.opportunity_type)) = opportunity_types.label_key
    left join segments
        on
            accounts.employee_count >= segments.min_employees
            and (segments.max_employees is null or accounts.employee_count <= segments.max_employees)
    cross join default_channel
    cross join unknown_segment
    cross join other_type
    left join sales_sourced_channels
        on coalesce(channel_mapping.channel, default_channel.channel) = sales_sourced_channels.channel
    left join product_sourced_channels
        on coalesce(channel_mapping.channel, default_channel.channel) = product_sourced_channels.channel
)

select * from final
