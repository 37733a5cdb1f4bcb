/*
name: assert_mql_follows_the_decayed_lead_score
severity: error
description: >-
  The MQL stated from the staged leads and engagements and the shared lead-scoring definitions, both ways. The
  lead score is recomputed at the lead's creation and at each of its engagements: the fit score plus the points of
  every engagement up to that moment, halved for every half_life_days of its age, counting only engagements at most
  window_days old then. A lead whose fit meets the minimum is an MQL at the first moment that score reaches the
  threshold (at its creation when that moment came before it), with that score; a lead whose score never reaches it
  is no MQL. A score within a millionth of a point of the threshold may go either way (floating-point rounding).
  Each row is a lead that breaks the rule: what is wrong, its MQL moment and score, and the earliest and latest MQL
  moments and the score the recomputation allows.
*/
with

scored_leads as (select * from intermediate.int_leads_scored),

staged_leads as (select * from staging.stg_salesforce__leads),

staged_engagements as (select * from staging.stg_marketing__engagements),

engagement_points as (select * from definitions.engagement_points),

thresholds as (select * from definitions.thresholds),

rounding as (select 1e-6 as tolerance_points),

engagements as (
    -- every engagement of a lead, with the points its activity type earns before decay (none for a type not scored)
    select
        staged_engagements.lead_id,
        staged_engagements.occurred_at,
        coalesce(engagement_points.points, 0) as points
    from staged_engagements
    left join engagement_points on staged_engagements.activity_type = engagement_points.activity_type
),

moments as (
    -- the moments the score is evaluated at: the lead's creation, and each of its engagements
    select
        staged_leads.lead_id,
        staged_leads.created_at as evaluated_at
    from staged_leads
    union
    select
        engagements.lead_id,
        engagements.occurred_at as evaluated_at
    from engagements
),

engagement_ages as (
    -- each engagement of the lead against each moment, with its age in days then (negative: after the moment)
    select
        moments.lead_id,
        moments.evaluated_at,
        engagements.points,
        (epoch(moments.evaluated_at) - epoch(engagements.occurred_at)) / 86400 as age_days
    from moments
    left join engagements on moments.lead_id = engagements.lead_id
),

moment_scores as (
    -- the score at each moment of the leads whose fit meets the minimum: no other lead can qualify
    select
        scored_leads.lead_id,
        engagement_ages.evaluated_at,
        scored_leads.fit_score + coalesce(
            sum(engagement_ages.points * power(0.5, engagement_ages.age_days / thresholds.lead_scoring__half_life_days))
                filter (where engagement_ages.age_days between 0 and thresholds.lead_scoring__window_days),
            0
        ) as lead_score
    from engagement_ages
    inner join scored_leads on engagement_ages.lead_id = scored_leads.lead_id
    cross join thresholds
    where scored_leads.fit_score >= thresholds.mql__min_fit_score
    group by scored_leads.lead_id, engagement_ages.evaluated_at, scored_leads.fit_score
),

reached as (
    -- the first moment the score surely reached the threshold, and the first it may have, given the rounding
    select
        moment_scores.lead_id,
        min(moment_scores.evaluated_at) filter (
            where moment_scores.lead_score >= thresholds.mql__score_threshold - rounding.tolerance_points
        ) as first_maybe_reached_at,
        min(moment_scores.evaluated_at) filter (
            where moment_scores.lead_score >= thresholds.mql__score_threshold + rounding.tolerance_points
        ) as first_surely_reached_at,
        arg_min(moment_scores.lead_score, moment_scores.evaluated_at) filter (
            where moment_scores.lead_score >= thresholds.mql__score_threshold + rounding.tolerance_points
        ) as score_when_surely_reached
    from moment_scores
    cross join thresholds
    cross join rounding
    group by moment_scores.lead_id
),

expected as (
    -- never earlier than the creation: a lead whose score reached the threshold before it is an MQL at its creation
    select
        scored_leads.lead_id,
        scored_leads.mql_at,
        scored_leads.score_at_mql,
        case
            when reached.first_maybe_reached_at is not null
                then greatest(reached.first_maybe_reached_at, staged_leads.created_at)
        end as earliest_mql_at,
        case
            when reached.first_surely_reached_at is not null
                then greatest(reached.first_surely_reached_at, staged_leads.created_at)
        end as latest_mql_at,
        case
            when reached.first_maybe_reached_at = reached.first_surely_reached_at
                then reached.score_when_surely_reached
        end as expected_score_at_mql
    from scored_leads
    inner join staged_leads on scored_leads.lead_id = staged_leads.lead_id
    left join reached on scored_leads.lead_id = reached.lead_id
),

violations as (
    select
        expected.*,
        case
            when expected.mql_at is not null and expected.earliest_mql_at is null
                then 'an MQL whose recomputed score never reached the threshold'
            when expected.mql_at < expected.earliest_mql_at
                then 'an MQL before its recomputed score reached the threshold'
            when expected.mql_at is null and expected.latest_mql_at is not null
                then 'no MQL though its recomputed score reached the threshold'
            when expected.mql_at > expected.latest_mql_at
                then 'an MQL after its recomputed score reached the threshold'
            when abs(expected.score_at_mql - expected.expected_score_at_mql) > rounding.tolerance_points
                then 'an MQL score that differs from the recomputed score'
        end as violation
    from expected
    cross join rounding
)

select
    violations.lead_id,
    violations.violation,
    violations.mql_at,
    violations.score_at_mql,
    violations.earliest_mql_at,
    violations.latest_mql_at,
    violations.expected_score_at_mql
from violations
where violations.violation is not null
order by violations.lead_id
