/*
name: rpt_alignment_scorecard_monthly
description: >-
  The monthly alignment scorecard, one row per month and segment: the table the leadership dashboard reads, with
  every team's headline number side by side so that each is judged on revenue that stays. A KPI that a mart
  already defines is read from it, never recomputed: the MRR bridge (starting, new, net new and ending MRR) from
  marts.rpt_mrr_movements_monthly; NRR and GRR from marts.rpt_retention_monthly; MQLs and speed-to-lead SLA
  adherence from marts.rpt_speed_to_lead_periods (monthly periods, summed over owners); CAC payback months and
  LTV:CAC from marts.rpt_unit_economics_segments_monthly. Counted here from facts: sales-qualified leads from
  marts.fct_lead_funnel, and the win rate from marts.fct_opportunity_outcomes (the formula of the quarterly
  marts.rpt_win_rates_quarterly on its new-business rows, by month of the last close: new business only, so
  expansions and renewals never lift it). Two KPIs are defined by marts without a segment,
  so they are counted here per segment with that mart's exact rule, and an assertion checks that the segments
  add up to that mart's month: PQL conversion (marts.rpt_pql_revenue_monthly, source pql; a PQL workspace is in
  the segment of its earliest-created CRM lead, else the unknown segment) and the definition drift count
  (marts.rpt_definition_drift_monthly, per channel there). Months are those of the MRR bridge (its month spine,
  from the first paying month to the latest month of the billing data); segments are those of
  definitions.segments; every month-segment pair has a row. Counts are 0, and ratios null with the reason in a
  *_null_reason column, when nothing happened, or when a ratio's base is below the shared minimum of its family
  (definitions.minimum_bases, reason "base below minimum"): net revenue growth needs minimum_bases__mrr_usd of
  starting MRR and minimum_bases__customers customers paying at the start; NRR and GRR follow
  marts.rpt_retention_monthly (the same two minimums); SLA adherence needs minimum_bases__leads MQLs and PQL
  conversion minimum_bases__leads PQLs. The win rate has no minimum. Every count sits in the month its event happened (same-period,
  not cohort), except PQL conversion, which follows the PQLs of the month for the shared
  funnel__conversion_window_days and can still rise until is_pql_conversion_mature. Segments are the shared size
  bands: of the customer's CRM account for MRR, of the lead for MQLs, sales-qualified leads, speed-to-lead and
  drift, of the PQL workspace's earliest lead for PQLs, of the buying account for the win rate.
grain: [month, segment]
owner: team:revops
kpis:
  - name: net_revenue_growth_rate
    formula: net new MRR / starting MRR = (ending MRR - starting MRR) / starting MRR (null when starting MRR is 0, or below minimum_bases__mrr_usd, or fewer customers paid at the start than minimum_bases__customers)
    numerator: net_new_mrr_usd of marts.rpt_mrr_movements_monthly (new + expansion - contraction - churned + reactivation)
    denominator: starting_mrr_usd of marts.rpt_mrr_movements_monthly (MRR at the close of the previous month)
    grain: month x segment (of the customer's CRM account)
    owner: team:revops
  - name: new_mrr_usd
    formula: new_mrr_usd of marts.rpt_mrr_movements_monthly (MRR of customers in their first paying month)
    grain: month x segment (of the customer's CRM account)
    owner: team:sales
  - name: nrr
    formula: nrr of marts.rpt_retention_monthly, (starting MRR + expansion - contraction - churned) / starting MRR (null when starting MRR is 0 or the base is below definitions.minimum_bases)
    numerator: MRR at the close of the month of the customers paying at the start of the month
    denominator: MRR at the close of the previous month of those customers
    grain: month x segment (of the customer's CRM account)
    filters: customers with MRR > 0 at the close of the previous month
    owner: team:success
  - name: grr
    formula: grr of marts.rpt_retention_monthly, (starting MRR - contraction - churned) / starting MRR (null when starting MRR is 0 or the base is below definitions.minimum_bases)
    numerator: starting MRR minus contraction and churned MRR of the customers paying at the start of the month
    denominator: MRR at the close of the previous month of those customers
    grain: month x segment (of the customer's CRM account)
    filters: customers with MRR > 0 at the close of the previous month
    owner: team:success
  - name: mql_count
    formula: sum of mql_count of marts.rpt_speed_to_lead_periods (period_type month) over owners = leads whose shared-definition MQL falls in the month
    grain: month of the MQL x segment (of the lead)
    owner: team:marketing
  - name: sales_qualified_count
    formula: count of leads of marts.fct_lead_funnel whose sales_qualified_at falls in the month
    grain: month of sales qualification x segment (of the lead)
    filters: sales-qualified under the shared definition (after acceptance); sales-sourced leads included
    owner: team:sales
  - name: win_rate
    formula: won deals / (won + lost deals) closed in the month (null when none closed)
    numerator: count of new-business opportunities of marts.fct_opportunity_outcomes with is_won whose closed_at falls in the month
    denominator: count of those new-business opportunities with is_won or is_lost whose closed_at falls in the month
    grain: month of close x segment (of the buying account)
    filters: new business only (the shared new_business_type of definitions.opportunity_types); close time known
    owner: team:sales
  - name: sla_adherence_rate
    formula: MQLs first touched within the speed-to-lead SLA / MQLs of the month (null when there are no MQLs, or fewer than minimum_bases__leads)
    numerator: sum of within_sla_count of marts.rpt_speed_to_lead_periods (period_type month) over owners
    denominator: sum of mql_count of the same rows (mql_count)
    grain: month of the MQL x segment (of the lead)
    owner: team:sales
  - name: cac_payback_months
    formula: cac_payback_months of marts.rpt_unit_economics_segments_monthly, cac_usd / (arpa_usd x unit_economics__gross_margin) of the paid-channel new customers (null when there is none)
    numerator: cac_usd (paid media spend / new customers acquired through a paid channel)
    denominator: arpa_usd x definitions.thresholds.unit_economics__gross_margin
    grain: month x segment
    owner: team:revops
  - name: ltv_to_cac_ratio
    formula: ltv_to_cac_ratio of marts.rpt_unit_economics_segments_monthly, ltv_usd / cac_usd (null when either is null or CAC is 0)
    numerator: ltv_usd (ARPA x gross margin x capped expected lifetime)
    denominator: cac_usd
    grain: month x segment
    owner: team:revops
  - name: pql_conversion_rate
    formula: PQLs of the month sales-qualified within the funnel window / PQLs of the month, the rule of marts.rpt_pql_revenue_monthly (null when there is no PQL, or fewer than minimum_bases__leads)
    numerator: PQL workspaces (pql_at in the month) with an opportunity converted from one of their leads that reached the shared sales-qualified stage at or after pql_at and within funnel__conversion_window_days of it (pql_sales_qualified_count)
    denominator: workspaces of intermediate.int_workspaces_product_qualified whose pql_at falls in the month (pql_count)
    grain: month of the PQL x segment (of the workspace's earliest lead; the unknown segment when it has none)
    filters: funnel__conversion_window_days from definitions.thresholds; provisional until is_pql_conversion_mature
    owner: team:product
  - name: definition_drift_count
    formula: leads flagged MQL by the marketing tool but not by the shared definition, plus the reverse (crm_only_mql_count + definition_only_mql_count of marts.rpt_definition_drift_monthly)
    grain: month (of the shared MQL, else the tool's MQL, else the creation) x segment (of the lead)
    owner: team:revops*/
with

mrr_movements as (select * from marts.rpt_mrr_movements_monthly),

retention as (select * from marts.rpt_retention_monthly),

speed_to_lead_periods as (select * from marts.rpt_speed_to_lead_periods),

lead_funnel as (select * from marts.fct_lead_funnel),

opportunity_outcomes as (select * from marts.fct_opportunity_outcomes),

unit_economics as (select * from marts.rpt_unit_economics_segments_monthly),

pql_revenue as (select * from marts.rpt_pql_revenue_monthly),

lifecycle as (select * from intermediate.int_leads_lifecycle),

workspaces as (select * from intermediate.int_workspaces_product_qualified),

opportunities_qualified as (select * from intermediate.int_opportunities_qualified),

segments as (select * from definitions.segments),

thresholds as (select * from definitions.thresholds),

reporting as (select * from definitions.reporting),

unknown_segment as (
    select segments.segment
    from segments
    where segments.min_employees is null
),

-- the month spine: every month of the MRR bridge, crossed with every segment of the shared definitions
months as (
    select distinct mrr_movements.mrr_month as month
    from mrr_movements
),

month_segments as (
    select
        months.month,
        segments.segment
    from months
    cross join segments
),

speed_to_lead as (
    select
        speed_to_lead_periods.period_start as month,
        speed_to_lead_periods.segment,
        cast(sum(speed_to_lead_periods.mql_count) as bigint) as mql_count,
        cast(sum(speed_to_lead_periods.within_sla_count) as bigint) as within_sla_count
    from speed_to_lead_periods
    where speed_to_lead_periods.period_type = 'month'
    group by speed_to_lead_periods.period_start, speed_to_lead_periods.segment
),

sales_qualified as (
    select
        cast(
            date_trunc('month', cast(lead_funnel.sales_qualified_at as timestamptz) at time zone reporting.time_zone)
            as date
        ) as month,
        lead_funnel.segment,
        count(*) as sales_qualified_count
    from lead_funnel
    cross join reporting
    where lead_funnel.sales_qualified_at is not null
    group by
        cast(
            date_trunc('month', cast(lead_funnel.sales_qualified_at as timestamptz) at time zone reporting.time_zone)
            as date
        ),
        lead_funnel.segment
),

-- the formula of marts.rpt_win_rates_quarterly on its new-business rows, by month of the last close
closed_deals as (
    select
        cast(
            date_trunc('month', cast(opportunity_outcomes.closed_at as timestamptz) at time zone reporting.time_zone)
            as date
        ) as month,
        opportunity_outcomes.segment,
        count(*) filter (where opportunity_outcomes.is_won) as won_deals_count,
        count(*) filter (where opportunity_outcomes.is_lost) as lost_deals_count
    from opportunity_outcomes
    cross join reporting
    where opportunity_outcomes.closed_at is not null and opportunity_outcomes.is_new_business
    group by
        cast(
            date_trunc('month', cast(opportunity_outcomes.closed_at as timestamptz) at time zone reporting.time_zone)
            as date
        ),
        opportunity_outcomes.segment
),

-- the rule of marts.rpt_pql_revenue_monthly (source pql), kept per segment, which that mart does not carry: a PQL
-- workspace is sales-qualified when an opportunity converted from one of its leads reached the sales-qualified
-- stage at or after the PQL, within the shared funnel window
workspace_segments as (
    select
        lifecycle.product_workspace_id as workspace_id,
        lifecycle.segment
    from lifecycle
    where lifecycle.product_workspace_id is not null
    qualify row_number() over (
        partition by lifecycle.product_workspace_id
        order by lifecycle.created_at nulls last, lifecycle.lead_id
    ) = 1
),

pql_workspaces as (
    select
        workspaces.workspace_id,
        workspaces.pql_at,
        workspaces.pql_at + to_days(cast(thresholds.funnel__conversion_window_days as integer)) as window_ends_at,
        coalesce(workspace_segments.segment, unknown_segment.segment) as segment
    from workspaces
    left join workspace_segments on workspaces.workspace_id = workspace_segments.workspace_id
    cross join unknown_segment
    cross join thresholds
    where workspaces.pql_at is not null
),

pql_workspaces_sales_qualified as (
    select distinct pql_workspaces.workspace_id
    from pql_workspaces
    inner join lifecycle on pql_workspaces.workspace_id = lifecycle.product_workspace_id
    inner join opportunities_qualified on lifecycle.converted_opportunity_id = opportunities_qualified.opportunity_id
    where
        opportunities_qualified.sales_qualified_at >= pql_workspaces.pql_at
        and opportunities_qualified.sales_qualified_at <= pql_workspaces.window_ends_at
),

pqls as (
    select
        cast(date_trunc('month', cast(pql_workspaces.pql_at as timestamptz) at time zone reporting.time_zone) as date)
            as month,
        pql_workspaces.segment,
        count(*) as pql_count,
        count(pql_workspaces_sales_qualified.workspace_id) as pql_sales_qualified_count
    from pql_workspaces
    left join pql_workspaces_sales_qualified
        on pql_workspaces.workspace_id = pql_workspaces_sales_qualified.workspace_id
    cross join reporting
    group by
        cast(date_trunc('month', cast(pql_workspaces.pql_at as timestamptz) at time zone reporting.time_zone) as date),
        pql_workspaces.segment
),

pql_maturity as (
    select
        pql_revenue.report_month as month,
        pql_revenue.is_conversion_mature
    from pql_revenue
    where pql_revenue.source = 'pql'
),

-- the rule of marts.rpt_definition_drift_monthly (a lead counts in the month of its shared MQL, else of its
-- marketing-tool MQL, else of its creation), kept per segment, which that mart (per channel) does not carry
drift as (
    select
        cast(date_trunc(
            'month',
            cast(coalesce(lifecycle.mql_at, lifecycle.crm_mql_at, lifecycle.created_at) as timestamptz)
            at time zone reporting.time_zone
        ) as date) as month,
        lifecycle.segment,
        count(*) filter (
            where (lifecycle.crm_mql_at is not null) <> (lifecycle.mql_at is not null)
        ) as definition_drift_count
    from lifecycle
    cross join reporting
    group by
        cast(date_trunc(
            'month',
            cast(coalesce(lifecycle.mql_at, lifecycle.crm_mql_at, lifecycle.created_at) as timestamptz)
            at time zone reporting.time_zone
        ) as date),
        lifecycle.segment
),

joined as (
    select
        month_segments.month,
        month_segments.segment,
        mrr_movements.starting_mrr_usd,
        mrr_movements.starting_customer_count,
        mrr_movements.new_mrr_usd,
        mrr_movements.net_new_mrr_usd,
        mrr_movements.ending_mrr_usd,
        retention.nrr,
        retention.grr,
        retention.monthly_rates_null_reason,
        coalesce(speed_to_lead.mql_count, 0) as mql_count,
        coalesce(speed_to_lead.within_sla_count, 0) as within_sla_count,
        coalesce(sales_qualified.sales_qualified_count, 0) as sales_qualified_count,
        coalesce(closed_deals.won_deals_count, 0) as won_deals_count,
        coalesce(closed_deals.lost_deals_count, 0) as lost_deals_count,
        coalesce(pqls.pql_count, 0) as pql_count,
        coalesce(pqls.pql_sales_qualified_count, 0) as pql_sales_qualified_count,
        pql_maturity.is_conversion_mature as is_pql_conversion_mature,
        coalesce(drift.definition_drift_count, 0) as definition_drift_count,
        unit_economics.cac_payback_months,
        unit_economics.ltv_to_cac_ratio,
        case
            when unit_economics.month is null then 'no unit economics for the month and segment'
            else unit_economics.cac_payback_null_reason
        end as cac_payback_null_reason,
        case
            when unit_economics.month is null then 'no unit economics for the month and segment'
            else unit_economics.ltv_to_cac_ratio_null_reason
        end as ltv_to_cac_ratio_null_reason,
        coalesce(
            mrr_movements.starting_mrr_usd >= thresholds.minimum_bases__mrr_usd
            and mrr_movements.starting_customer_count >= thresholds.minimum_bases__customers,
            false
        ) as is_growth_base_enough,
        coalesce(speed_to_lead.mql_count, 0) >= thresholds.minimum_bases__leads as is_sla_base_enough,
        coalesce(pqls.pql_count, 0) >= thresholds.minimum_bases__leads as is_pql_base_enough
    from month_segments
    left join mrr_movements
        on month_segments.month = mrr_movements.mrr_month and month_segments.segment = mrr_movements.segment
    left join retention
        on month_segments.month = retention.mrr_month and month_segments.segment = retention.segment
    left join speed_to_lead
        on month_segments.month = speed_to_lead.month and month_segments.segment = speed_to_lead.segment
    left join sales_qualified
        on month_segments.month = sales_qualified.month and month_segments.segment = sales_qualified.segment
    left join closed_deals
        on month_segments.month = closed_deals.month and month_segments.segment = closed_deals.segment
    left join pqls
        on month_segments.month = pqls.month and month_segments.segment = pqls.segment
    left join pql_maturity on month_segments.month = pql_maturity.month
    left join drift
        on month_segments.month = drift.month and month_segments.segment = drift.segment
    left join unit_economics
        on month_segments.month = unit_economics.month and month_segments.segment = unit_economics.segment
    cross join thresholds
),

final as (
    select
        joined.month,                                                                 -- first day of the month (a month of the MRR bridge)
        joined.segment,                                                               -- size segment of the shared bands (see the description for whose segment each KPI uses)
        joined.starting_mrr_usd,                                                      -- MRR in USD at the close of the previous month (rpt_mrr_movements_monthly)
        joined.new_mrr_usd,                                                           -- MRR of customers in their first paying month (rpt_mrr_movements_monthly)
        joined.net_new_mrr_usd,                                                       -- ending - starting MRR = new + expansion - contraction - churned + reactivation (rpt_mrr_movements_monthly)
        joined.ending_mrr_usd,                                                        -- MRR in USD at the close of the month (rpt_mrr_movements_monthly)
        case
            when joined.starting_mrr_usd > 0 and joined.is_growth_base_enough
                then cast(joined.net_new_mrr_usd as double) / cast(joined.starting_mrr_usd as double)
        end as net_revenue_growth_rate,                                               -- net new MRR / starting MRR; null when starting MRR is 0 or its base is below definitions.minimum_bases
        case
            when not coalesce(joined.starting_mrr_usd > 0, false) then 'no MRR at the start of the month'
            when not joined.is_growth_base_enough then 'base below minimum'
        end as net_revenue_growth_null_reason,                                        -- why net_revenue_growth_rate is null: no MRR, or less starting MRR or fewer customers than definitions.minimum_bases ('base below minimum'); null when it is not
        joined.nrr,                                                                   -- net revenue retention of the month (rpt_retention_monthly); null when starting MRR is 0
        joined.grr,                                                                   -- gross revenue retention of the month (rpt_retention_monthly); null when starting MRR is 0
        joined.monthly_rates_null_reason as retention_null_reason,                    -- why nrr and grr are null, from rpt_retention_monthly (null when they are not)
        joined.mql_count,                                                             -- leads whose shared-definition MQL falls in the month
        joined.sales_qualified_count,                                                 -- leads sales-qualified (shared definition) in the month
        joined.won_deals_count,                                                       -- new-business opportunities won, by month of their last close
        joined.lost_deals_count,                                                      -- new-business opportunities lost, by month of their last close
        case
            when joined.won_deals_count + joined.lost_deals_count > 0
                then cast(joined.won_deals_count as double) / (joined.won_deals_count + joined.lost_deals_count)
        end as win_rate,                                                              -- won / (won + lost) new-business deals closed in the month; null when none closed
        case
            when joined.won_deals_count + joined.lost_deals_count = 0 then 'no deal closed in the month'
        end as win_rate_null_reason,                                                  -- why win_rate is null (null when it is not)
        joined.within_sla_count,                                                      -- MQLs of the month first touched within the speed-to-lead SLA
        case
            when joined.mql_count > 0 and joined.is_sla_base_enough
                then cast(joined.within_sla_count as double) / joined.mql_count
        end as sla_adherence_rate,                                                    -- within_sla_count / mql_count, 0..1; null when there is no MQL or fewer than minimum_bases__leads
        case
            when joined.mql_count = 0 then 'no MQL in the month'
            when not joined.is_sla_base_enough then 'base below minimum'
        end as sla_adherence_null_reason,                                             -- why sla_adherence_rate is null: no MQL, or fewer than minimum_bases__leads ('base below minimum'); null when it is not
        joined.cac_payback_months,                                                    -- months of gross-margin ARPA to earn back the CAC (rpt_unit_economics_segments_monthly); null per cac_payback_null_reason
        joined.cac_payback_null_reason,                                               -- why cac_payback_months is null, from rpt_unit_economics_segments_monthly (null when it is not)
        joined.ltv_to_cac_ratio,                                                      -- LTV / CAC (rpt_unit_economics_segments_monthly); null per ltv_to_cac_ratio_null_reason
        joined.ltv_to_cac_ratio_null_reason,                                          -- why ltv_to_cac_ratio is null, from rpt_unit_economics_segments_monthly (null when it is not)
        joined.pql_count,                                                             -- product workspaces that became PQLs in the month (rpt_pql_revenue_monthly's rule)
        joined.pql_sales_qualified_count,                                             -- of those, with an opportunity sales-qualified at or after the PQL within funnel__conversion_window_days
        case
            when joined.pql_count > 0 and joined.is_pql_base_enough
                then cast(joined.pql_sales_qualified_count as double) / joined.pql_count
        end as pql_conversion_rate,                                                   -- pql_sales_qualified_count / pql_count; provisional while the window is open; null when there is no PQL or fewer than minimum_bases__leads
        case
            when joined.pql_count = 0 then 'no PQL in the month'
            when not joined.is_pql_base_enough then 'base below minimum'
        end as pql_conversion_null_reason,                                            -- why pql_conversion_rate is null: no PQL, or fewer than minimum_bases__leads ('base below minimum'); null when it is not
        joined.is_pql_conversion_mature,                                              -- the funnel window has elapsed for every PQL of the month (rpt_pql_revenue_monthly); false: the rate can still rise; null when that mart has no such month
        joined.definition_drift_count                                                 -- leads the marketing tool and the shared definition disagree on (MQL for one, not the other)
    from joined
)

select * from final
