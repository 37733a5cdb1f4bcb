/*
name: assert_invoiced_matches_invoices
severity: error
description: Invoices and the amount invoiced over every month equal the billed invoices of intermediate.int_invoices_collected that have an exchange rate, in the reporting currency.
*/
select report.invoiced_count, facts.invoiced_count as facts_invoiced_count,
    report.invoiced_usd, facts.invoiced_usd as facts_invoiced_usd
from (
    select coalesce(sum(invoiced_count), 0) as invoiced_count, coalesce(sum(invoiced_usd), 0) as invoiced_usd
    from marts.rpt_billing_monthly
) as report
cross join (
    select count(*) as invoiced_count, coalesce(sum(total_usd), 0) as invoiced_usd
    from intermediate.int_invoices_collected
    where is_billed and total_usd is not null
) as facts
where report.invoiced_count <> facts.invoiced_count or abs(report.invoiced_usd - facts.invoiced_usd) > 0.005;

/*
name: assert_every_billing_event_is_counted
severity: error
description: Every billed invoice, write-off, succeeded or failed live charge and succeeded refund of a live charge is counted once over the months, in its measure or among the events without an exchange rate.
*/
select report.event_count, facts.event_count as facts_event_count
from (
    select
        coalesce(sum(
            invoiced_count + uncollectible_invoice_count + collected_charge_count + failed_charge_count + refund_count
            + no_rate_event_count
        ), 0) as event_count
    from marts.rpt_billing_monthly
) as report
cross join (
    select
        (select count(*) from intermediate.int_invoices_collected where is_billed)
        + (select count(*) from intermediate.int_invoices_collected where invoice_status = 'uncollectible')
        + (select count(*) from staging.stg_stripe__charges where charge_status in ('succeeded', 'failed'))
        + (
            select count(*)
            from staging.stg_stripe__refunds
            inner join staging.stg_stripe__charges on stg_stripe__refunds.charge_id = stg_stripe__charges.charge_id
            where stg_stripe__refunds.refund_status = 'succeeded'
        ) as event_count
) as facts
where report.event_count <> facts.event_count;

/*
name: assert_every_billing_event_has_an_exchange_rate
severity: warn
description: >-
  Every billing event converts into the reporting currency: none is left out of a month's totals for want of an
  exchange rate. A warning, not a stop: the mart is built without those events, and the failing rows give, per
  month, how many were left out and their currencies (intermediate.int_invoices_collected gives each invoice's
  fx_null_reason).
*/
select billing_month, no_rate_event_count, no_rate_currencies
from marts.rpt_billing_monthly
where no_rate_event_count > 0;
