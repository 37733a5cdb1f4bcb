/*
name: rpt_marketing_contribution_monthly
description: >-
  What each month's leads went on to produce, by first-touch channel (a cohort view: every count and amount sits in
  the month the lead was created, however late it happened): leads, MQLs, sales-qualified leads, MQLs that never
  reached sales-qualified within the shared conversion window ("wasted" MQLs), the pipeline the leads converted into
  and the revenue won from it, per lead and per MQL. The first touch is the lead's CRM lead source mapped to a
  channel by the shared channel mapping (the channel of `int_leads_lifecycle`), not the lead's UTM fields: the
  mapping is the one definition every team reports channels by, and the UTM fields are missing for the offline
  sources (outbound, events, referrals, about half the leads) and have no shared mapping. An opportunity converted
  from several leads counts once, for the earliest-created of them. Young cohorts are still producing: their rows
  are marked, and the as-of moment is the latest lead created in the data (not the clock), so a rebuild of the same
  data gives the same table. Ad spend and CAC are in another mart.
grain: [lead_month, channel]
owner: team:marketing
kpis:
  - name: leads_created_count
    formula: count of leads whose created_at falls in the month
    grain: lead month x channel (first touch)
    owner: team:marketing
  - name: mql_count
    formula: count of the cohort's leads that became MQLs under the shared definition (at any time)
    grain: lead month x channel (first touch)
    owner: team:marketing
  - name: sales_qualified_count
    formula: count of the cohort's leads that became sales-qualified under the shared definition (at any time)
    grain: lead month x channel (first touch)
    owner: team:sales
  - name: wasted_mql_count
    formula: >-
      count of the cohort's MQLs not sales-qualified within funnel__conversion_window_days of their MQL (an MQL whose
      window is still open and that has not qualified yet counts, provisionally)
    grain: lead month x channel (first touch)
    owner: team:revops
  - name: wasted_mql_share
    formula: wasted_mql_count / mql_count (null when the cohort has no MQLs, or fewer than minimum_bases__leads)
    numerator: count of the cohort's MQLs not sales-qualified within the conversion window of their MQL
    denominator: count of the cohort's MQLs
    grain: lead month x channel (first touch)
    filters: provisional while is_conversion_window_open
    owner: team:revops
  - name: pipeline_opportunity_count
    formula: count of the opportunities the cohort's leads converted into
    grain: lead month x channel (first touch)
    owner: team:marketing
  - name: pipeline_amount_usd
    formula: sum of amount_usd of the opportunities the cohort's leads converted into (0 when none)
    grain: lead month x channel (first touch)
    owner: team:marketing
  - name: won_opportunity_count
    formula: count of the opportunities the cohort's leads converted into that are won
    grain: lead month x channel (first touch)
    owner: team:sales
  - name: won_amount_usd
    formula: sum of amount_usd of the won opportunities the cohort's leads converted into (0 when none)
    grain: lead month x channel (first touch)
    owner: team:sales
  - name: revenue_per_lead_usd
    formula: won_amount_usd / leads_created_count
    numerator: amount won from the opportunities the cohort's leads converted into
    denominator: count of leads created in the month
    grain: lead month x channel (first touch)
    owner: team:marketing
  - name: revenue_per_mql_usd
    formula: won_amount_usd / mql_count (null when the cohort has no MQLs)
    numerator: amount won from the opportunities the cohort's leads converted into (MQLs or not)
    denominator: count of the cohort's MQLs
    grain: lead month x channel (first touch)
    owner: team:marketing*/
with

lifecycle as (select * from intermediate.int_leads_lifecycle),

opportunities as (select * from intermediate.int_opportunities_classified),

thresholds as (select * from definitions.thresholds),

reporting as (select * from definitions.reporting),

as_of as (
    select max(lifecycle.created_at) as as_of_at
    from lifecycle
),

cohort_leads as (
    select
        lifecycle.lead_id,
        cast(date_trunc('month', cast(lifecycle.created_at as timestamptz) at time zone reporting.time_zone) as date)
            as lead_month,
        lifecycle.channel,
        lifecycle.created_at,
        lifecycle.mql_at,
        lifecycle.sales_qualified_at,
        lifecycle.mql_at + to_days(cast(thresholds.funnel__conversion_window_days as integer)) as mql_window_ends_at,
        lifecycle.converted_opportunity_id
    from lifecycle
    cross join thresholds
    cross join reporting
    where lifecycle.created_at is not null
),

-- an opportunity converted from several leads counts once, for the earliest-created of them
opportunity_leads as (
    select
        cohort_leads.converted_opportunity_id as opportunity_id,
        cohort_leads.lead_id
    from cohort_leads
    where cohort_leads.converted_opportunity_id is not null
    qualify row_number() over (
        partition by cohort_leads.converted_opportunity_id
        order by cohort_leads.created_at, cohort_leads.lead_id
    ) = 1
),

lead_outcomes as (
    select
        cohort_leads.lead_month,
        cohort_leads.channel,
        cohort_leads.mql_at is not null as is_mql,
        cohort_leads.sales_qualified_at is not null as is_sales_qualified,
        cohort_leads.mql_at is not null
        and not coalesce(cohort_leads.sales_qualified_at <= cohort_leads.mql_window_ends_at, false) as is_wasted_mql,
        cohort_leads.mql_window_ends_at,
        opportunities.opportunity_id is not null as has_opportunity,
        coalesce(opportunities.is_won, false) as is_won,
        opportunities.amount_usd
    from cohort_leads
    left join opportunity_leads on cohort_leads.lead_id = opportunity_leads.lead_id
    left join opportunities on opportunity_leads.opportunity_id = opportunities.opportunity_id
),

cohorts as (
    select
        lead_outcomes.lead_month,
        lead_outcomes.channel,
        count(*) as leads_created_count,
        count(*) filter (where lead_outcomes.is_mql) as mql_count,
        count(*) filter (where lead_outcomes.is_sales_qualified) as sales_qualified_count,
        count(*) filter (where lead_outcomes.is_wasted_mql) as wasted_mql_count,
        count(*) filter (
            where lead_outcomes.is_wasted_mql and lead_outcomes.mql_window_ends_at > as_of.as_of_at
        ) as open_window_mql_count,
        max(lead_outcomes.mql_window_ends_at) as last_mql_window_ends_at,
        count(*) filter (where lead_outcomes.has_opportunity) as pipeline_opportunity_count,
        coalesce(sum(lead_outcomes.amount_usd) filter (where lead_outcomes.has_opportunity), 0) as pipeline_amount_usd,
        count(*) filter (where lead_outcomes.is_won) as won_opportunity_count,
        coalesce(sum(lead_outcomes.amount_usd) filter (where lead_outcomes.is_won), 0) as won_amount_usd,
        as_of.as_of_at
    from lead_outcomes
    cross join as_of
    group by lead_outcomes.lead_month, lead_outcomes.channel, as_of.as_of_at
),

final as (
    select
        cohorts.lead_month,                                                  -- first day of the month the leads were created (the cohort)
        cohorts.channel,                                                     -- first-touch channel: the lead source through the shared mapping
        cohorts.leads_created_count,                                         -- leads created in the month
        cohorts.mql_count,                                                   -- of them, MQLs under the shared definition (at any time)
        cohorts.sales_qualified_count,                                       -- of them, sales-qualified (at any time; sales-sourced leads too)
        cohorts.wasted_mql_count,                                            -- MQLs not sales-qualified within the conversion window of their MQL (open windows count, provisionally)
        case
            when cohorts.mql_count >= greatest(thresholds.minimum_bases__leads, 1)
                then cohorts.wasted_mql_count / cohorts.mql_count
        end as wasted_mql_share,                                             -- wasted MQLs / MQLs, 0-1; null when the cohort has no MQLs or fewer than minimum_bases__leads
        case
            when cohorts.mql_count = 0 then 'no MQLs in the cohort'
            when cohorts.mql_count < thresholds.minimum_bases__leads then 'base below minimum'
        end as wasted_mql_share_null_reason,                                 -- why wasted_mql_share is null: no MQLs, or fewer than minimum_bases__leads ('base below minimum'); null when it is not
        cohorts.open_window_mql_count,                                       -- wasted MQLs whose window is still open at as_of_at: they may still qualify
        cohorts.as_of_at,                                                    -- the as-of moment: the latest lead created_at in the data (UTC)
        cast(cohorts.lead_month + interval '1' month as timestamp)
        + to_days(cast(thresholds.funnel__conversion_window_days as integer))
        > cast(cohorts.as_of_at as timestamptz) at time zone reporting.time_zone
        or coalesce(cohorts.last_mql_window_ends_at > cohorts.as_of_at, false)
        as is_conversion_window_open,                                        -- the month's end or one of its MQLs is less than the conversion window before as_of_at: the wasted counts are provisional
        cohorts.pipeline_opportunity_count,                                  -- opportunities the leads converted into (each once)
        cohorts.pipeline_amount_usd,                                         -- amount of those opportunities in USD (0 when none)
        cohorts.won_opportunity_count,                                       -- of them, won
        cohorts.won_amount_usd,                                              -- amount of the won ones in USD: revenue won (0 when none)
        cohorts.won_amount_usd / nullif(cohorts.leads_created_count, 0) as revenue_per_lead_usd, -- revenue won per lead created in USD; null when no leads
        cohorts.won_amount_usd / nullif(cohorts.mql_count, 0) as revenue_per_mql_usd -- revenue won (from all the cohort's leads) per MQL in USD; null when no MQLs
    from cohorts
    cross join thresholds
    cross join reporting
)

select * from final
