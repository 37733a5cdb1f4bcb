/*
name: int_leads_classified
description: >-
  One row per CRM lead with the channel and segment every team reports it under: the channel from the shared
  channel mapping of its raw lead source, the segment from the shared size bands of its company's employees.
grain: [lead_id]
owner: team:revops
*/
with

leads as (select * from staging.stg_salesforce__leads),

channel_mapping as (select * from definitions.channel_mapping),

segments as (select * from definitions.segments),

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

final as (
    select
        leads.lead_id,                                                          -- CRM lead id
        leads.created_at,                                                       -- when the lead was created (UTC)
        leads.lead_source,                                                      -- raw lead source as the CRM records it
        lower(trim(leads.lead_source)) as lead_source_key,                      -- the lead source as the mapping matches it (lowercased, trimmed); null when missing
        coalesce(channel_mapping.channel, default_channel.channel) as channel,  -- channel from the shared mapping
        leads.employee_count,                                                   -- employees of the company (null when unknown)
        coalesce(segments.segment, unknown_segment.segment) as segment,         -- size segment from the shared bands
        leads.lead_status,                                                      -- current CRM lead status
        leads.owner_user_id,                                                    -- lead owner (CRM user)
        leads.is_converted,                                                     -- converted to contact/opportunity
        leads.converted_date,                                                   -- date of conversion
        leads.converted_account_id,                                             -- account the lead converted into
        leads.converted_opportunity_id                                          -- opportunity created at conversion
    from leads
    left join channel_mapping
        on lower(trim(leads.lead_source)) = channel_mapping.lead_source_key
    left join segments
        on
            leads.employee_count >= segments.min_employees
            and (segments.max_employees is null or leads.employee_count <= segments.max_employees)
    cross join default_channel
    cross join unknown_segment
)

select * from final
