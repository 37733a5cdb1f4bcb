/*
name: rpt_billing_monthly
description: >-
  Billed and collected revenue per month and invoice currency, beside MRR, so finance can compare what was
  invoiced and what came in with the recurring revenue the subscriptions earn. Month only (no segment): invoices,
  charges and refunds are cash events of the billing system, and a customer's segment is a CRM attribute that the
  MRR bridge already cuts by. Invoiced: billed invoices (finalized and not voided: open, paid or uncollectible)
  by the month they were finalized (intermediate.int_invoices_collected: their creation when the finalization time
  is not synced), so an annual invoice counts once, in its month, while its MRR counts every month. Collected:
  succeeded live charges by the month of the charge (the payment); failed: failed live charges by the month of
  the attempt, so an invoice paid after a failed attempt shows the failure in the month it failed and the amount
  collected in the month it was paid. Uncollectible: invoices written off by the month they were marked
  uncollectible (their invoiced month when the connector does not sync that time). Refunded: succeeded refunds of
  live charges by the month of the refund; net collected = collected - refunded. Open: invoices of the month still
  open (unpaid) at the data's latest state. MRR: the month's MRR from marts.fct_mrr_customer_months, on the row of
  the reporting currency (definitions.reporting; MRR is in USD), null on other currencies' rows. Collection rate:
  of the amount invoiced in the month, the share its invoices have collected so far (collected on those invoices /
  invoiced), null with a reason when nothing was invoiced. Every month from the first to the last billing event has
  a row for every currency seen (with zeros). Months are months of the reporting time zone.
grain: [billing_month, currency]
owner: team:revops
kpis:
  - name: invoiced_amount
    formula: sum of the totals of billed invoices (open, paid or uncollectible) finalized in the month
    grain: month x invoice currency
    filters: drafts and void invoices left out; live mode only
    owner: team:revops
  - name: collected_amount
    formula: sum of the amounts of succeeded charges made in the month
    grain: month x charge currency
    filters: live mode only
    owner: team:revops
  - name: failed_charge_amount
    formula: sum of the amounts of failed charges attempted in the month (failed_charge_count counts them)
    grain: month x charge currency
    filters: live mode only; a failed attempt retried later is still a failure in its month
    owner: team:success
  - name: uncollectible_amount
    formula: sum of the totals of invoices marked uncollectible in the month
    grain: month x invoice currency
    owner: team:success
  - name: refunded_amount
    formula: sum of the succeeded refunds made in the month
    grain: month x refund currency
    filters: refunds of live charges only
    owner: team:revops
  - name: net_collected_amount
    formula: collected_amount - refunded_amount
    grain: month x currency
    owner: team:revops
  - name: collection_rate
    formula: invoiced_collected_amount / invoiced_amount (null when invoiced_amount is 0, reason "nothing invoiced")
    numerator: sum of the succeeded charges, so far, of the invoices billed in the month
    denominator: invoiced_amount
    grain: month x invoice currency
    filters: billed invoices only
    owner: team:revops
*/
with

invoices as (select * from intermediate.int_invoices_collected),

charges as (select * from staging.stg_stripe__charges),

refunds as (select * from staging.stg_stripe__refunds),

mrr_months as (select * from marts.fct_mrr_customer_months),

reporting as (select * from definitions.reporting),

horizon as (select * from definitions.data_horizon),

-- every billing event in its month of the reporting time zone (local = cast(utc as timestamptz) at time zone tz)
invoice_events as (
    select
        invoices.invoice_month as billing_month,
        invoices.currency,
        1 as invoiced_count,
        invoices.total as invoiced_amount,
        invoices.amount_collected as invoiced_collected_amount,
        case when invoices.invoice_status = 'open' then 1 else 0 end as open_invoice_count,
        case when invoices.invoice_status = 'open' then invoices.total - invoices.amount_paid else 0 end as open_amount,
        0 as uncollectible_invoice_count,
        0 as uncollectible_amount
    from invoices
    where invoices.is_billed
    union all
    select
        cast(
            date_trunc(
                'month',
                cast(coalesce(invoices.marked_uncollectible_at, invoices.invoiced_at) as timestamptz)
                at time zone reporting.time_zone
            ) as date
        ),
        invoices.currency,
        0, 0, 0, 0, 0,
        1,
        invoices.total
    from invoices
    cross join reporting
    where invoices.invoice_status = 'uncollectible'
),

charge_events as (
    select
        cast(date_trunc('month', cast(charges.created_at as timestamptz) at time zone reporting.time_zone) as date)
            as billing_month,
        charges.currency,
        case when charges.charge_status = 'succeeded' then 1 else 0 end as collected_charge_count,
        case when charges.charge_status = 'succeeded' then charges.amount else 0 end as collected_amount,
        case when charges.charge_status = 'failed' then 1 else 0 end as failed_charge_count,
        case when charges.charge_status = 'failed' then charges.amount else 0 end as failed_charge_amount
    from charges
    cross join reporting
),

refund_events as (
    select
        cast(date_trunc('month', cast(refunds.created_at as timestamptz) at time zone reporting.time_zone) as date)
            as billing_month,
        refunds.currency,
        refunds.amount as refunded_amount
    from refunds
    inner join charges on refunds.charge_id = charges.charge_id
    cross join reporting
    where refunds.refund_status = 'succeeded'
),

invoice_months as (
    select
        invoice_events.billing_month,
        invoice_events.currency,
        sum(invoice_events.invoiced_count) as invoiced_count,
        sum(invoice_events.invoiced_amount) as invoiced_amount,
        sum(invoice_events.invoiced_collected_amount) as invoiced_collected_amount,
        sum(invoice_events.open_invoice_count) as open_invoice_count,
        sum(invoice_events.open_amount) as open_amount,
        sum(invoice_events.uncollectible_invoice_count) as uncollectible_invoice_count,
        sum(invoice_events.uncollectible_amount) as uncollectible_amount
    from invoice_events
    group by invoice_events.billing_month, invoice_events.currency
),

charge_months as (
    select
        charge_events.billing_month,
        charge_events.currency,
        sum(charge_events.collected_charge_count) as collected_charge_count,
        sum(charge_events.collected_amount) as collected_amount,
        sum(charge_events.failed_charge_count) as failed_charge_count,
        sum(charge_events.failed_charge_amount) as failed_charge_amount
    from charge_events
    group by charge_events.billing_month, charge_events.currency
),

refund_months as (
    select
        refund_events.billing_month,
        refund_events.currency,
        count(*) as refund_count,
        sum(refund_events.refunded_amount) as refunded_amount
    from refund_events
    group by refund_events.billing_month, refund_events.currency
),

mrr_totals as (
    select
        mrr_months.mrr_month as billing_month,
        sum(mrr_months.mrr_usd) as mrr_usd
    from mrr_months
    group by mrr_months.mrr_month
),

event_keys as (
    select invoice_months.billing_month, invoice_months.currency from invoice_months
    union all
    select charge_months.billing_month, charge_months.currency from charge_months
    union all
    select refund_months.billing_month, refund_months.currency from refund_months
),

as_of as (
    select
        cast(date_trunc('month', cast(horizon.as_of_at as timestamptz) at time zone reporting.time_zone) as date)
            as as_of_month
    from horizon
    cross join reporting
),

-- the calendar: every month from the first to the last billing event, never after the as-of month
month_bounds as (
    select
        min(event_keys.billing_month) as first_month,
        least(max(event_keys.billing_month), min(as_of.as_of_month)) as last_month
    from event_keys
    cross join as_of
),

months as (
    select cast(unnest(generate_series(month_bounds.first_month, month_bounds.last_month, interval 1 month)) as date)
        as billing_month
    from month_bounds
    where month_bounds.first_month is not null
),

currencies as (
    select distinct event_keys.currency from event_keys
),

final as (
    select
        months.billing_month,                                                     -- first day of the month (reporting time zone)
        currencies.currency,                                                      -- ISO currency code of the amounts on the row
        coalesce(invoice_months.invoiced_count, 0) as invoiced_count,             -- billed invoices finalized in the month
        coalesce(invoice_months.invoiced_amount, 0) as invoiced_amount,           -- sum of their totals, in the currency
        coalesce(charge_months.collected_charge_count, 0) as collected_charge_count, -- succeeded charges made in the month
        coalesce(charge_months.collected_amount, 0) as collected_amount,          -- sum of the succeeded charges of the month, in the currency
        coalesce(charge_months.failed_charge_count, 0) as failed_charge_count,    -- failed payment attempts of the month
        coalesce(charge_months.failed_charge_amount, 0) as failed_charge_amount,  -- sum of the failed attempts of the month, in the currency
        coalesce(invoice_months.uncollectible_invoice_count, 0) as uncollectible_invoice_count, -- invoices marked uncollectible in the month
        coalesce(invoice_months.uncollectible_amount, 0) as uncollectible_amount, -- sum of their totals, in the currency
        coalesce(invoice_months.open_invoice_count, 0) as open_invoice_count,     -- invoices of the month still open (unpaid) now
        coalesce(invoice_months.open_amount, 0) as open_amount,                   -- what is still due on them, in the currency
        coalesce(refund_months.refund_count, 0) as refund_count,                  -- succeeded refunds made in the month
        coalesce(refund_months.refunded_amount, 0) as refunded_amount,            -- sum of the refunds of the month, in the currency
        coalesce(charge_months.collected_amount, 0)
        - coalesce(refund_months.refunded_amount, 0) as net_collected_amount,     -- collected_amount - refunded_amount, in the currency
        coalesce(invoice_months.invoiced_collected_amount, 0) as invoiced_collected_amount, -- collected so far on the invoices of the month, in the currency
        case
            when coalesce(invoice_months.invoiced_amount, 0) > 0
                then invoice_months.invoiced_collected_amount / invoice_months.invoiced_amount
        end as collection_rate,                                                   -- invoiced_collected_amount / invoiced_amount; null with a reason
        case
            when coalesce(invoice_months.invoiced_amount, 0) = 0 then 'nothing invoiced'
        end as collection_rate_null_reason,                                       -- why collection_rate is null (nothing invoiced); null when it is published
        case
            when currencies.currency = upper(reporting.currency) then coalesce(mrr_totals.mrr_usd, 0)
        end as mrr_usd                                                            -- MRR at the close of the month (marts.fct_mrr_customer_months), on the reporting currency's row; null on other currencies' rows
    from months
    cross join currencies
    cross join reporting
    left join invoice_months
        on months.billing_month = invoice_months.billing_month and currencies.currency = invoice_months.currency
    left join charge_months
        on months.billing_month = charge_months.billing_month and currencies.currency = charge_months.currency
    left join refund_months
        on months.billing_month = refund_months.billing_month and currencies.currency = refund_months.currency
    left join mrr_totals on months.billing_month = mrr_totals.billing_month
)

select * from final
