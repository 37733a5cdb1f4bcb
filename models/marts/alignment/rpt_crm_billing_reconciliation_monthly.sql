/*
name: rpt_crm_billing_reconciliation_monthly
description: >-
  How many CRM-billing findings (marts.fct_crm_billing_findings) date from each month, per finding type: the
  misalignment RevOps works down before trusting a scorecard, and a trend that should shrink. Every month from the
  first month of billing data (or the first finding, when earlier) to the month of the data's as-of time
  (definitions.data_horizon, reporting time zone) has a row for each of the four finding types, zero when nothing
  was found; a deal closed within reconciliation__billing_window_days of the as-of date is not a won_without_billing
  finding yet, so the latest month's count of that type can still grow.
grain: [finding_month, finding_type]
owner: team:revops
kpis:
  - name: finding_count
    formula: count of rows of marts.fct_crm_billing_findings of the finding type whose finding_month is the month
    grain: month x finding_type (won_without_billing, billing_without_crm, amount_mismatch, segment_mismatch)
    filters: >-
      won_without_billing only once reconciliation__billing_window_days passed since the close; billing_without_crm
      for customers without a CRM account only at MRR >= reconciliation__min_mrr_usd_for_crm; amount_mismatch beyond
      reconciliation__amount_tolerance_share of the amount from billing ARR or the annualised first invoice
    owner: team:revops
*/
with

findings as (select * from marts.fct_crm_billing_findings),

customer_months as (select * from marts.fct_mrr_customer_months),

horizon as (select * from definitions.data_horizon),

reporting as (select * from definitions.reporting),

finding_types as (
    select finding_type
    from (
        values ('won_without_billing'), ('billing_without_crm'), ('amount_mismatch'), ('segment_mismatch')
    ) as finding_types (finding_type)
),

months_seen as (
    select customer_months.mrr_month as month_start from customer_months
    union all
    select findings.finding_month from findings
),

as_of as (
    select cast(date_trunc('month', cast(horizon.as_of_at as timestamptz) at time zone reporting.time_zone) as date)
        as as_of_month
    from horizon
    cross join reporting
),

calendar_bounds as (
    select
        min(months_seen.month_start) as first_month,
        min(as_of.as_of_month) as last_month
    from months_seen
    cross join as_of
),

calendar as (
    select cast(unnest(generate_series(calendar_bounds.first_month, calendar_bounds.last_month, interval 1 month)) as date)
        as finding_month
    from calendar_bounds
    where calendar_bounds.first_month is not null
),

counted as (
    select
        findings.finding_month,
        findings.finding_type,
        count(*) as finding_count
    from findings
    group by findings.finding_month, findings.finding_type
),

final as (
    select
        calendar.finding_month,                                  -- first day of the month (reporting time zone)
        finding_types.finding_type,                              -- won_without_billing, billing_without_crm, amount_mismatch or segment_mismatch
        coalesce(counted.finding_count, 0) as finding_count     -- findings of the type dating from the month (see marts.fct_crm_billing_findings)
    from calendar
    cross join finding_types
    left join counted
        on
            calendar.finding_month = counted.finding_month
            and finding_types.finding_type = counted.finding_type
)

select * from final
