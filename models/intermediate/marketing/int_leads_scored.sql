/*
name: int_leads_scored
description: >-
  One row per CRM lead with its unified lead score under the shared definitions: the fit score from its company
  (ICP industry, size and country), and the first moment its score (fit + behaviour + intent points, decayed with
  the half-life and window in force) reached the MQL threshold while its fit met the minimum, never earlier than
  the lead's creation. The score only rises at an engagement and decays in between, so it is evaluated at the
  lead's creation and at each of its engagements: a lead whose fit alone reaches the threshold is an MQL at its
  creation. Engagements before the creation count (a form fill that created the lead, say): a lead whose score
  reached the threshold before it was created is an MQL at its creation, with the score it reached. The company's
  industry, size and country sit beside the ICP flags they decide, so the ICP suite can state each flag from them,
  and the fit points of each criterion beside the fit score they add up to.
grain: [lead_id]
owner: team:marketing
*/
with

leads as (select * from staging.stg_salesforce__leads),

engagements as (select * from intermediate.int_engagements_scored),

thresholds as (select * from definitions.thresholds),

icp_industries as (select * from definitions.icp_industries),

icp_countries as (select * from definitions.icp_countries),

criteria as (
    select
        leads.lead_id,
        leads.created_at,
        leads.industry,
        leads.employee_count,
        leads.country,
        icp_industries.industry is not null as is_icp_industry,
        coalesce(
            leads.employee_count between thresholds.icp__min_employees and thresholds.icp__max_employees, false
        ) as is_icp_company_size,
        icp_countries.country is not null as is_icp_country,
        case
            when icp_industries.industry is not null then thresholds.lead_scoring__fit_points__industry else 0
        end as industry_fit_points,
        case
            when leads.employee_count between thresholds.icp__min_employees and thresholds.icp__max_employees
                then thresholds.lead_scoring__fit_points__company_size
            else 0
        end as company_size_fit_points,
        case
            when icp_countries.country is not null then thresholds.lead_scoring__fit_points__country else 0
        end as country_fit_points
    from leads
    cross join thresholds
    left join icp_industries on leads.industry = icp_industries.industry
    left join icp_countries on leads.country = icp_countries.country
),

fit as (
    select
        criteria.*,
        criteria.industry_fit_points + criteria.company_size_fit_points + criteria.country_fit_points as fit_score
    from criteria
),

moments as (
    -- the moments the score can first reach the threshold: the lead's creation, and each of its engagements
    select
        fit.lead_id,
        fit.created_at as evaluated_at
    from fit
    union
    select
        fit.lead_id,
        engagements.occurred_at as evaluated_at
    from fit
    inner join engagements on fit.lead_id = engagements.lead_id
),

moment_scores as (
    -- the behaviour + intent score of a lead at each moment: every engagement up to it, decayed, inside the window
    select
        moments.lead_id,
        moments.evaluated_at,
        coalesce(
            sum(
                engagements.points
                * power(
                    0.5,
                    (epoch(moments.evaluated_at) - epoch(engagements.occurred_at))
                    / (thresholds.lead_scoring__half_life_days * 86400)
                )
            ),
            0
        ) as engagement_score
    from moments
    cross join thresholds
    left join engagements
        on
            moments.lead_id = engagements.lead_id
            and engagements.occurred_at <= moments.evaluated_at
            and epoch(moments.evaluated_at) - epoch(engagements.occurred_at) <= thresholds.lead_scoring__window_days * 86400
    group by moments.lead_id, moments.evaluated_at
),

scored as (
    select
        fit.lead_id,
        moment_scores.evaluated_at,
        fit.fit_score + moment_scores.engagement_score as lead_score,
        fit.fit_score >= thresholds.mql__min_fit_score
        and fit.fit_score + moment_scores.engagement_score >= thresholds.mql__score_threshold as is_qualifying
    from fit
    inner join moment_scores on fit.lead_id = moment_scores.lead_id
    cross join thresholds
),

first_qualifying as (
    select
        scored.lead_id,
        min(scored.evaluated_at) as qualified_at,
        arg_min(scored.lead_score, scored.evaluated_at) as score_at_qualification
    from scored
    where scored.is_qualifying
    group by scored.lead_id
),

peak as (
    select
        scored.lead_id,
        max(scored.lead_score) as peak_score
    from scored
    group by scored.lead_id
),

final as (
    select
        fit.lead_id,                                                          -- CRM lead id
        fit.industry,                                                         -- industry of the lead's company
        fit.employee_count,                                                   -- employees of the lead's company
        fit.country,                                                          -- country of the lead's company
        fit.is_icp_industry,                                                  -- industry is in the ICP
        fit.is_icp_company_size,                                              -- employee count is in the ICP range
        fit.is_icp_country,                                                   -- country is in the ICP
        fit.is_icp_industry and fit.is_icp_company_size and fit.is_icp_country as is_icp, -- meets every ICP criterion
        fit.industry_fit_points,                                              -- fit points for the industry (0 outside the ICP)
        fit.company_size_fit_points,                                          -- fit points for the size (0 outside the ICP range)
        fit.country_fit_points,                                               -- fit points for the country (0 outside the ICP)
        fit.fit_score,                                                        -- fit points from the ICP criteria met: the sum of the three
        fit.fit_score >= thresholds.mql__min_fit_score as meets_mql_min_fit,   -- fit score is at least the MQL minimum fit
        peak.peak_score,                                                      -- highest score the lead ever had
        first_qualifying.score_at_qualification as score_at_mql,              -- the score when it first reached the threshold
        case
            when first_qualifying.qualified_at is not null
                then greatest(first_qualifying.qualified_at, fit.created_at)
        end as mql_at                                                         -- when it became an MQL (UTC), never before creation
    from fit
    cross join thresholds
    left join first_qualifying on fit.lead_id = first_qualifying.lead_id
    left join peak on fit.lead_id = peak.lead_id
)

select * from final
