/*
name: int_engagements_scored
description: >-
  One row per marketing engagement of a known CRM lead, with the behaviour or intent points the shared lead-scoring
  definition gives it. Engagement types the definitions do not score carry 0 points.
grain: [engagement_id]
owner: team:marketing
*/
with

engagements as (select * from staging.stg_marketing__engagements),

engagement_points as (select * from definitions.engagement_points),

final as (
    select
        engagements.engagement_id,                                          -- engagement id in the marketing tool
        engagements.lead_id,                                                -- CRM lead the engagement belongs to
        engagements.activity_type,                                          -- form_fill, pricing_page_visit, ...
        engagements.occurred_at,                                            -- when it happened (UTC)
        coalesce(engagement_points.score_component, 'unscored') as score_component, -- behaviour, intent or unscored
        coalesce(engagement_points.points, 0) as points                     -- points before decay
    from engagements
    left join engagement_points
        on engagements.activity_type = engagement_points.activity_type
    where engagements.lead_id is not null
)

select * from final
