/*
name: assert_crm_and_billing_agree
severity: warn
count_by: finding_type
description: >-
  The CRM and billing agree: no won deal without billing, no paying customer above the self-serve line without a CRM
  account, no deal amount off its billed ARR or its annualised first invoice, no customer whose CRM segment is not the one its ARR implies. A warning,
  never blocking: every finding is one row here, and the check's metadata counts them per finding type, for RevOps
  to fix at the source.
*/
select
    fct_crm_billing_findings.finding_id,
    fct_crm_billing_findings.finding_type,
    fct_crm_billing_findings.finding_detail
from marts.fct_crm_billing_findings;
