/*
name: assert_invoiced_matches_invoices
severity: error
description: Invoices and the amount invoiced over every month and currency equal the billed invoices of intermediate.int_invoices_collected.
*/
select report.invoiced_count, facts.invoiced_count as facts_invoiced_count,
    report.invoiced_amount, facts.invoiced_amount as facts_invoiced_amount
from (
    select coalesce(sum(invoiced_count), 0) as invoiced_count, coalesce(sum(invoiced_amount), 0) as invoiced_amount
    from marts.rpt_billing_monthly
) as report
cross join (
    select count(*) as invoiced_count, coalesce(sum(total), 0) as invoiced_amount
    from intermediate.int_invoices_collected
    where is_billed
) as facts
where report.invoiced_count <> facts.invoiced_count or abs(report.invoiced_amount - facts.invoiced_amount) > 0.005;

/*
name: assert_collected_and_refunded_match_payments
severity: error
description: The amounts collected, failed and refunded over every month equal the succeeded and failed live charges and the succeeded refunds of live charges in staging.
*/
select report.collected_amount, facts.collected_amount as facts_collected_amount,
    report.failed_charge_amount, facts.failed_charge_amount as facts_failed_charge_amount,
    report.refunded_amount, refunds.refunded_amount as facts_refunded_amount
from (
    select
        coalesce(sum(collected_amount), 0) as collected_amount,
        coalesce(sum(failed_charge_amount), 0) as failed_charge_amount,
        coalesce(sum(refunded_amount), 0) as refunded_amount
    from marts.rpt_billing_monthly
) as report
cross join (
    select
        coalesce(sum(amount) filter (where charge_status = 'succeeded'), 0) as collected_amount,
        coalesce(sum(amount) filter (where charge_status = 'failed'), 0) as failed_charge_amount
    from staging.stg_stripe__charges
) as facts
cross join (
    select coalesce(sum(refunds.amount), 0) as refunded_amount
    from staging.stg_stripe__refunds as refunds
    inner join staging.stg_stripe__charges as charges on refunds.charge_id = charges.charge_id
    where refunds.refund_status = 'succeeded'
) as refunds
where abs(report.collected_amount - facts.collected_amount) > 0.005
    or abs(report.failed_charge_amount - facts.failed_charge_amount) > 0.005
    or abs(report.refunded_amount - refunds.refunded_amount) > 0.005;
