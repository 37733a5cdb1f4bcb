/*
name: assert_finding_counts_match_findings
severity: error
description: >-
  The monthly counts add up to the findings: per finding type, the sum of finding_count equals the rows of
  marts.fct_crm_billing_findings (a finding dated outside the month spine, or a type not in the report, would
  otherwise vanish from the KPI).
*/
with

findings as (
    select
        fct_crm_billing_findings.finding_type,
        count(*) as finding_count
    from marts.fct_crm_billing_findings
    group by fct_crm_billing_findings.finding_type
),

reported as (
    select
        rpt_crm_billing_reconciliation_monthly.finding_type,
        sum(rpt_crm_billing_reconciliation_monthly.finding_count) as finding_count
    from marts.rpt_crm_billing_reconciliation_monthly
    group by rpt_crm_billing_reconciliation_monthly.finding_type
)

select
    coalesce(findings.finding_type, reported.finding_type) as finding_type,
    findings.finding_count as found_count,
    reported.finding_count as reported_count
from findings
full outer join reported on findings.finding_type = reported.finding_type
where coalesce(findings.finding_count, 0) <> coalesce(reported.finding_count, 0);
