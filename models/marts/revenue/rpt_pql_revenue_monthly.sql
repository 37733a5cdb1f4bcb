/*
name: rpt_pql_revenue_monthly
description: >-
  Product-qualified leads (PQLs) next to marketing-qualified leads (MQLs), per month and source: how many qualified,
  how many went on to be sales-qualified and won (cohorts by the month of the qualification), and the new MRR and
  12-month net revenue retention of the customers each source brought in (cohorts by the customer's first paying
  month). Source pql: PQLs are product workspaces (intermediate.int_workspaces_product_qualified, the shared PQL
  rule) in the month of their pql_at; a PQL is sales-qualified when an opportunity converted from a lead of the
  workspace (lead.product_workspace_id) reached the shared sales-qualified stage at or after the PQL, and won when
  such an opportunity was then won (the opportunity's own stage history is used because the lead lifecycle only
  accepts a lead after an MQL, so a PQL that never scored as an MQL could never qualify there). Source mql: MQLs are
  leads in the month of their shared-definition mql_at, sales-qualified and won as int_leads_lifecycle says. Both
  count a stage only when reached within the shared funnel__conversion_window_days (definitions.thresholds) of the
  qualification, so young and old cohorts compare fairly; a cohort is mature once the window has elapsed for its
  last possible member, against the latest lead creation or trial start in the data (not the clock). Source other:
  customers neither PQL- nor MQL-sourced (no qualification columns). Revenue columns come from
  marts.fct_customer_acquisitions (see its description for how a customer's source is decided: PQL at or before the
  account was first sales-qualified wins, then MQL, else other): new MRR is the MRR of the customer's first paying
  month; 12-month NRR is the cohort's MRR 12 months after its first paying month over its new MRR, only once that
  month is in the billing data (null with a reason otherwise). Every month from the first to the last event has a
  row for every source. Ratios are null when their denominator is 0, or below the shared minimum base of its
  family (definitions.minimum_bases; reason "base below minimum"): the funnel rates need minimum_bases__leads
  qualified (or sales-qualified) PQLs or MQLs, 12-month NRR needs minimum_bases__customers customers and
  minimum_bases__mrr_usd of new MRR; the reasons are in the *_null_reason columns.
grain: [report_month, source]
owner: team:product
kpis:
  - name: qualified_count
    formula: count of PQL workspaces (source pql) or MQL leads (source mql) whose qualification falls in the month
    grain: month x source (pql, mql)
    owner: team:product
  - name: qualified_to_sales_qualified_rate
    formula: sales_qualified_count / qualified_count (null when qualified_count is 0 or below minimum_bases__leads)
    numerator: qualified PQLs / MQLs of the cohort that became sales-qualified within funnel__conversion_window_days
    denominator: qualified_count
    grain: qualification month x source
    filters: sales-qualified at or after the qualification, within funnel__conversion_window_days
    owner: team:sales
  - name: sales_qualified_to_won_rate
    formula: won_count / sales_qualified_count (null when sales_qualified_count is 0 or below minimum_bases__leads)
    numerator: sales-qualified PQLs / MQLs of the cohort won within funnel__conversion_window_days of the qualification
    denominator: sales_qualified_count
    grain: qualification month x source
    filters: won after being sales-qualified, within funnel__conversion_window_days of the qualification
    owner: team:sales
  - name: qualified_to_won_rate
    formula: won_count / qualified_count (null when qualified_count is 0 or below minimum_bases__leads)
    numerator: won_count
    denominator: qualified_count
    grain: qualification month x source
    filters: stages reached within funnel__conversion_window_days of the qualification
    owner: team:revops
  - name: new_customer_count
    formula: count of customers of the source whose first paying month is the month
    grain: first paying month x source (pql, mql, other)
    owner: team:revops
  - name: new_mrr_usd
    formula: sum of the first-month MRR of the customers of the source whose first paying month is the month
    grain: first paying month x source (pql, mql, other)
    owner: team:revops
  - name: nrr_12_month
    formula: sum of MRR 12 months after the first paying month / sum of new MRR, over the cohort's customers (null when the cohort is younger than 12 months, has no new MRR, or its customers or new MRR are below definitions.minimum_bases)
    numerator: retained_12_month_mrr_usd (MRR at first paying month + 12, 0 for customers not paying then)
    denominator: new_mrr_usd
    grain: first paying month x source (pql, mql, other)
    filters: cohorts whose first paying month + 12 months is within the billing data
    owner: team:success*/
with

workspaces as (select * from intermediate.int_workspaces_product_qualified),

lead_lifecycle as (select * from intermediate.int_leads_lifecycle),

opportunity_stages as (select * from intermediate.int_opportunities_qualified),

acquisitions as (select * from marts.fct_customer_acquisitions),

thresholds as (select * from definitions.thresholds),

horizon as (select * from definitions.data_horizon),

reporting as (select * from definitions.reporting),

sources as (
    select unnest(['pql', 'mql', 'other']) as source
),

-- the as-of moment for cohort maturity: the latest lead creation or trial start in the data, never after the run's
-- as-of time
data_as_of as (
    select
        least(
            greatest(
                coalesce((select max(lead_lifecycle.created_at) from lead_lifecycle), timestamp '0001-01-01'),
                coalesce((select max(workspaces.trial_started_at) from workspaces), timestamp '0001-01-01')
            ),
            (select min(horizon.as_of_at) from horizon)
        ) as as_of_at
),

pql_workspaces as (
    select
        workspaces.workspace_id,
        workspaces.pql_at,
        workspaces.pql_at + to_days(cast(thresholds.funnel__conversion_window_days as integer)) as window_ends_at
    from workspaces
    cross join thresholds
    where workspaces.pql_at is not null
),

-- opportunities converted from the leads of each PQL workspace, qualified at or after the PQL within the window
pql_opportunities as (
    select
        pql_workspaces.workspace_id,
        opportunity_stages.sales_qualified_at,
        case
            when
                opportunity_stages.is_won
                and opportunity_stages.closed_at >= opportunity_stages.sales_qualified_at
                and opportunity_stages.closed_at <= pql_workspaces.window_ends_at
                then opportunity_stages.closed_at
        end as won_at
    from pql_workspaces
    inner join lead_lifecycle on pql_workspaces.workspace_id = lead_lifecycle.product_workspace_id
    inner join opportunity_stages on lead_lifecycle.converted_opportunity_id = opportunity_stages.opportunity_id
    where
        opportunity_stages.sales_qualified_at >= pql_workspaces.pql_at
        and opportunity_stages.sales_qualified_at <= pql_workspaces.window_ends_at
),

pql_paths as (
    select
        pql_workspaces.workspace_id,
        cast(date_trunc('month', cast(pql_workspaces.pql_at as timestamptz) at time zone reporting.time_zone) as date)
            as cohort_month,
        count(pql_opportunities.sales_qualified_at) > 0 as is_sales_qualified,
        count(pql_opportunities.won_at) > 0 as is_won
    from pql_workspaces
    left join pql_opportunities on pql_workspaces.workspace_id = pql_opportunities.workspace_id
    cross join reporting
    group by pql_workspaces.workspace_id, pql_workspaces.pql_at, reporting.time_zone
),

mql_paths as (
    select
        lead_lifecycle.lead_id,
        cast(date_trunc('month', cast(lead_lifecycle.mql_at as timestamptz) at time zone reporting.time_zone) as date)
            as cohort_month,
        coalesce(
            lead_lifecycle.sales_qualified_at
            <= lead_lifecycle.mql_at + to_days(cast(thresholds.funnel__conversion_window_days as integer)),
            false
        ) as is_sales_qualified,
        coalesce(
            lead_lifecycle.sales_qualified_at
            <= lead_lifecycle.mql_at + to_days(cast(thresholds.funnel__conversion_window_days as integer))
            and lead_lifecycle.won_at
            <= lead_lifecycle.mql_at + to_days(cast(thresholds.funnel__conversion_window_days as integer)),
            false
        ) as is_won
    from lead_lifecycle
    cross join thresholds
    cross join reporting
    where lead_lifecycle.mql_at is not null
),

qualification_paths as (
    select 'pql' as source, pql_paths.cohort_month, pql_paths.is_sales_qualified, pql_paths.is_won
    from pql_paths

    union all

    select 'mql' as source, mql_paths.cohort_month, mql_paths.is_sales_qualified, mql_paths.is_won
    from mql_paths
),

qualification_cohorts as (
    select
        qualification_paths.cohort_month,
        qualification_paths.source,
        count(*) as qualified_count,
        count(*) filter (where qualification_paths.is_sales_qualified) as sales_qualified_count,
        count(*) filter (where qualification_paths.is_won) as won_count
    from qualification_paths
    group by qualification_paths.cohort_month, qualification_paths.source
),

revenue_cohorts as (
    select
        acquisitions.first_paid_month as cohort_month,
        acquisitions.acquisition_source as source,
        count(*) as new_customer_count,
        sum(acquisitions.new_mrr_usd) as new_mrr_usd,
        count(*) filter (where acquisitions.is_12_month_window_complete) as nrr_cohort_customer_count,
        sum(acquisitions.mrr_12_month_usd) as retained_12_month_mrr_usd,
        bool_and(acquisitions.is_12_month_window_complete) as is_12_month_window_complete
    from acquisitions
    group by acquisitions.first_paid_month, acquisitions.acquisition_source
),

-- the month of the run's as-of time in the reporting time zone
horizon_month as (
    select
        cast(date_trunc('month', cast(horizon.as_of_at as timestamptz) at time zone reporting.time_zone) as date)
            as as_of_month
    from horizon
    cross join reporting
),

month_bounds as (
    select
        min(event_months.cohort_month) as first_month,
        least(max(event_months.cohort_month), min(horizon_month.as_of_month)) as last_month
    from (
        select qualification_cohorts.cohort_month from qualification_cohorts
        union all
        select revenue_cohorts.cohort_month from revenue_cohorts
    ) as event_months
    cross join horizon_month
),

months as (
    select cast(unnest(generate_series(month_bounds.first_month, month_bounds.last_month, interval 1 month)) as date)
        as report_month
    from month_bounds
    where month_bounds.first_month is not null
),

joined as (
    select
        months.report_month,
        sources.source,
        case when sources.source <> 'other' then coalesce(qualification_cohorts.qualified_count, 0) end
        as qualified_count,
        case when sources.source <> 'other' then coalesce(qualification_cohorts.sales_qualified_count, 0) end
        as sales_qualified_count,
        case when sources.source <> 'other' then coalesce(qualification_cohorts.won_count, 0) end as won_count,
        case
            when sources.source <> 'other'
                then
                    months.report_month + interval 1 month
                    + to_days(cast(thresholds.funnel__conversion_window_days as integer))
                    <= cast(data_as_of.as_of_at as timestamptz) at time zone reporting.time_zone
        end as is_conversion_mature,
        coalesce(revenue_cohorts.new_customer_count, 0) as new_customer_count,
        coalesce(revenue_cohorts.new_mrr_usd, 0) as new_mrr_usd,
        coalesce(revenue_cohorts.nrr_cohort_customer_count, 0) as nrr_cohort_customer_count,
        revenue_cohorts.retained_12_month_mrr_usd,
        revenue_cohorts.is_12_month_window_complete,
        thresholds.minimum_bases__customers,
        thresholds.minimum_bases__mrr_usd,
        thresholds.minimum_bases__leads
    from months
    cross join sources
    cross join thresholds
    cross join data_as_of
    cross join reporting
    left join qualification_cohorts
        on months.report_month = qualification_cohorts.cohort_month and sources.source = qualification_cohorts.source
    left join revenue_cohorts
        on months.report_month = revenue_cohorts.cohort_month and sources.source = revenue_cohorts.source
),

final as (
    select
        joined.report_month,                                                          -- first day of the month (qualification month for the funnel columns, first paying month for the revenue columns)
        joined.source,                                                                -- pql, mql or other (other: customers neither PQL- nor MQL-sourced; no funnel columns)
        joined.qualified_count,                                                       -- PQL workspaces (pql) or MQL leads (mql) qualified in the month; null for other
        joined.sales_qualified_count,                                                 -- of them, sales-qualified within the conversion window; null for other
        joined.won_count,                                                             -- of them, sales-qualified and won within the conversion window; null for other
        case
            when joined.qualified_count > 0 and joined.qualified_count >= joined.minimum_bases__leads
                then joined.sales_qualified_count / joined.qualified_count
        end as qualified_to_sales_qualified_rate,                                     -- sales_qualified_count / qualified_count (null: see qualified_rates_null_reason)
        case
            when joined.sales_qualified_count > 0 and joined.sales_qualified_count >= joined.minimum_bases__leads
                then joined.won_count / joined.sales_qualified_count
        end as sales_qualified_to_won_rate,                                           -- won_count / sales_qualified_count (null: see sales_qualified_to_won_null_reason)
        case
            when joined.qualified_count > 0 and joined.qualified_count >= joined.minimum_bases__leads
                then joined.won_count / joined.qualified_count
        end as qualified_to_won_rate,                                                 -- won_count / qualified_count (null: see qualified_rates_null_reason)
        case
            when joined.qualified_count = 0 then 'none qualified'
            when joined.qualified_count < joined.minimum_bases__leads then 'base below minimum'
        end as qualified_rates_null_reason,                                           -- why the rates over qualified_count are null: none qualified, or fewer than minimum_bases__leads ('base below minimum'); null when they are not, and for other (no funnel)
        case
            when joined.sales_qualified_count = 0 then 'none sales-qualified'
            when joined.sales_qualified_count < joined.minimum_bases__leads then 'base below minimum'
        end as sales_qualified_to_won_null_reason,                                    -- why sales_qualified_to_won_rate is null: none sales-qualified, or fewer than minimum_bases__leads ('base below minimum'); null when it is not, and for other
        joined.is_conversion_mature,                                                  -- the conversion window has elapsed for the whole cohort (its rates can no longer rise); null for other
        joined.new_customer_count,                                                    -- customers of the source whose first paying month is the month
        joined.new_mrr_usd,                                                           -- their MRR in USD in that first month (0 when none)
        joined.nrr_cohort_customer_count,                                             -- of them, customers whose first paying month + 12 months is in the billing data
        joined.retained_12_month_mrr_usd,                                             -- their MRR 12 months after the first paying month (null when the cohort is empty or younger than 12 months)
        case
            when
                joined.new_customer_count > 0 and joined.is_12_month_window_complete and joined.new_mrr_usd > 0
                and joined.nrr_cohort_customer_count >= joined.minimum_bases__customers
                and joined.new_mrr_usd >= joined.minimum_bases__mrr_usd
                then joined.retained_12_month_mrr_usd / joined.new_mrr_usd
        end as nrr_12_month,                                                          -- retained_12_month_mrr_usd / new_mrr_usd (null: see nrr_12_month_null_reason)
        case
            when joined.new_customer_count = 0 then 'no new customers'
            when not joined.is_12_month_window_complete then 'cohort younger than 12 months'
            when joined.new_mrr_usd <= 0 then 'no new MRR'
            when
                joined.nrr_cohort_customer_count < joined.minimum_bases__customers
                or joined.new_mrr_usd < joined.minimum_bases__mrr_usd
                then 'base below minimum'
        end as nrr_12_month_null_reason                                               -- why nrr_12_month is null: no customer, a young cohort, no new MRR, or fewer customers or less new MRR than definitions.minimum_bases ('base below minimum'); null when it is not
    from joined
)

select * from final
