/*
name: rpt_billing_monthly
description: >-
  Billed and collected revenue per month in the reporting currency, beside MRR, so finance can compare what was
  invoiced and what came in with the recurring revenue the subscriptions earn. Month only (no segment): invoices,
  charges and refunds are cash events of the billing system, and a customer's segment is a CRM attribute that the
  MRR bridge already cuts by. Invoiced: billed invoices (finalized and not voided: open, paid or uncollectible)
  by the month they were finalized (intermediate.int_invoices_collected: their creation when the finalization time
  is not synced), so an annual invoice counts once, in its month, while its MRR counts every month. Collected:
  succeeded live charges by the month of the charge (the payment); failed: failed live charges by the month of
  the attempt, so an invoice paid after a failed attempt shows the failure in the month it failed and the amount
  collected in the month it was paid. Uncollectible: invoices written off (what remained unpaid on them) by the
  month they were marked uncollectible (their invoiced month when the connector does not sync that time). Refunded: succeeded refunds of
  live charges by the month of the refund; net collected = collected - refunded. Open: invoices of the month still
  open (unpaid) at the data's latest state; past due: those of them whose payment failed or whose due date passed. Currency: every amount is converted at the rate of its event's month
  (intermediate.int_exchange_rates_monthly, chosen by definitions.fx.rate_rule; amount x rate_to_reporting, as
  decimal(18, 4) like the MRR models); an
  event whose currency has no rate in its month is left out of every count and amount of the row and counted in
  no_rate_event_count, its currency named in no_rate_currencies. MRR: the month's MRR from
  marts.fct_mrr_customer_months. Collection rate: of the amount invoiced in the month, the share its invoices
  have collected so far (collected on those invoices / invoiced, both at the invoice month's rate), null with a
  reason when nothing was invoiced. Every month from the first to the last billing event has a row (with zeros),
  never after the as-of month. Months are months of the reporting time zone.
grain: [billing_month]
owner: team:revops
kpis:
  - name: invoiced_usd
    formula: sum of the totals of billed invoices (open, paid or uncollectible) finalized in the month, converted
    grain: month
    filters: drafts and void invoices left out; live mode only; amounts with no exchange rate left out
    owner: team:revops
  - name: collected_usd
    formula: sum of the amounts of succeeded charges made in the month, converted
    grain: month
    filters: live mode only; amounts with no exchange rate left out
    owner: team:revops
  - name: failed_charge_usd
    formula: sum of the amounts of failed charges attempted in the month, converted (failed_charge_count counts them)
    grain: month
    filters: live mode only; a failed attempt retried later is still a failure in its month
    owner: team:success
  - name: uncollectible_usd
    formula: sum of what remained unpaid (amount_remaining) on invoices marked uncollectible in the month, converted
    grain: month
    owner: team:success
  - name: past_due_usd
    formula: sum of what is still due on invoices of the month still open after a failed payment or past their due date
    grain: month (the invoice's month)
    filters: the state at the run's as-of time
    owner: team:success
  - name: refunded_usd
    formula: sum of the succeeded refunds made in the month, converted
    grain: month
    filters: refunds of live charges only
    owner: team:revops
  - name: net_collected_usd
    formula: collected_usd - refunded_usd
    grain: month
    owner: team:revops
  - name: collection_rate
    formula: invoiced_collected_usd / invoiced_usd (null when invoiced_usd is 0, reason "nothing invoiced")
    numerator: sum of the succeeded charges, so far, of the invoices billed in the month
    denominator: invoiced_usd
    grain: month
    filters: billed invoices only
    owner: team:revops
*/
with

invoices as (select * from intermediate.int_invoices_collected),

charges as (select * from staging.stg_stripe__charges),

refunds as (select * from staging.stg_stripe__refunds),

exchange_rates as (select * from intermediate.int_exchange_rates_monthly),

mrr_months as (select * from marts.fct_mrr_customer_months),

reporting as (select * from definitions.reporting),

horizon as (select * from definitions.data_horizon),

-- every billing event in its month of the reporting time zone (local = cast(utc as timestamptz) at time zone tz),
-- with the measures it adds to (one column per measure, 0 where it adds nothing)
invoice_events as (
    select
        invoices.invoice_month as billing_month,
        invoices.currency,
        1 as invoiced_count,
        invoices.total as invoiced_amount,
        invoices.amount_collected as invoiced_collected_amount,
        case when invoices.invoice_status = 'open' then 1 else 0 end as open_invoice_count,
        case when invoices.invoice_status = 'open' then invoices.total - invoices.amount_paid else 0 end as open_amount,
        case when invoices.is_past_due then 1 else 0 end as past_due_invoice_count,
        case when invoices.is_past_due then invoices.total - invoices.amount_paid else 0 end as past_due_amount,
        0 as uncollectible_invoice_count,
        0 as uncollectible_amount,
        0 as collected_charge_count,
        0 as collected_amount,
        0 as failed_charge_count,
        0 as failed_charge_amount,
        0 as refund_count,
        0 as refunded_amount
    from invoices
    where invoices.is_billed
),

uncollectible_events as (
    select
        cast(
            date_trunc(
                'month',
                cast(coalesce(invoices.marked_uncollectible_at, invoices.invoiced_at) as timestamptz)
                at time zone reporting.time_zone
            ) as date
        ) as billing_month,
        invoices.currency,
        0 as invoiced_count,
        0 as invoiced_amount,
        0 as invoiced_collected_amount,
        0 as open_invoice_count,
        0 as open_amount,
        0 as past_due_invoice_count,
        0 as past_due_amount,
        1 as uncollectible_invoice_count,
        invoices.amount_remaining as uncollectible_amount,
        0 as collected_charge_count,
        0 as collected_amount,
        0 as failed_charge_count,
        0 as failed_charge_amount,
        0 as refund_count,
        0 as refunded_amount
    from invoices
    cross join reporting
    where invoices.invoice_status = 'uncollectible'
),

charge_events as (
    select
        cast(date_trunc('month', cast(charges.created_at as timestamptz) at time zone reporting.time_zone) as date)
            as billing_month,
        charges.currency,
        0 as invoiced_count,
        0 as invoiced_amount,
        0 as invoiced_collected_amount,
        0 as open_invoice_count,
        0 as open_amount,
        0 as past_due_invoice_count,
        0 as past_due_amount,
        0 as uncollectible_invoice_count,
        0 as uncollectible_amount,
        case when charges.charge_status = 'succeeded' then 1 else 0 end as collected_charge_count,
        case when charges.charge_status = 'succeeded' then charges.amount else 0 end as collected_amount,
        case when charges.charge_status = 'failed' then 1 else 0 end as failed_charge_count,
        case when charges.charge_status = 'failed' then charges.amount else 0 end as failed_charge_amount,
        0 as refund_count,
        0 as refunded_amount
    from charges
    cross join reporting
    where charges.charge_status in ('succeeded', 'failed')
),

-- refunds of live charges only: the refund table has no livemode, its test-mode rows find no live charge
refund_events as (
    select
        cast(date_trunc('month', cast(refunds.created_at as timestamptz) at time zone reporting.time_zone) as date)
            as billing_month,
        refunds.currency,
        0 as invoiced_count,
        0 as invoiced_amount,
        0 as invoiced_collected_amount,
        0 as open_invoice_count,
        0 as open_amount,
        0 as past_due_invoice_count,
        0 as past_due_amount,
        0 as uncollectible_invoice_count,
        0 as uncollectible_amount,
        0 as collected_charge_count,
        0 as collected_amount,
        0 as failed_charge_count,
        0 as failed_charge_amount,
        1 as refund_count,
        refunds.amount as refunded_amount
    from refunds
    inner join charges on refunds.charge_id = charges.charge_id
    cross join reporting
    where refunds.refund_status = 'succeeded'
),

events as (
    select * from invoice_events
    union all
    select * from uncollectible_events
    union all
    select * from charge_events
    union all
    select * from refund_events
),

-- each event at the rate of its currency in its month; null: no rate (kept out of the totals, counted apart)
converted as (
    select
        events.*,
        exchange_rates.rate_to_reporting
    from events
    left join exchange_rates
        on events.currency = exchange_rates.currency and events.billing_month = exchange_rates.rate_month
),

month_totals as (
    select
        converted.billing_month,
        sum(converted.invoiced_count) filter (where converted.rate_to_reporting is not null) as invoiced_count,
        sum(cast(converted.invoiced_amount * converted.rate_to_reporting as decimal(18, 4))) as invoiced_usd,
        sum(cast(converted.invoiced_collected_amount * converted.rate_to_reporting as decimal(18, 4))) as invoiced_collected_usd,
        sum(converted.open_invoice_count) filter (where converted.rate_to_reporting is not null) as open_invoice_count,
        sum(cast(converted.open_amount * converted.rate_to_reporting as decimal(18, 4))) as open_usd,
        sum(converted.past_due_invoice_count) filter (
            where converted.rate_to_reporting is not null
        ) as past_due_invoice_count,
        sum(cast(converted.past_due_amount * converted.rate_to_reporting as decimal(18, 4))) as past_due_usd,
        sum(converted.uncollectible_invoice_count) filter (
            where converted.rate_to_reporting is not null
        ) as uncollectible_invoice_count,
        sum(cast(converted.uncollectible_amount * converted.rate_to_reporting as decimal(18, 4))) as uncollectible_usd,
        sum(converted.collected_charge_count) filter (
            where converted.rate_to_reporting is not null
        ) as collected_charge_count,
        sum(cast(converted.collected_amount * converted.rate_to_reporting as decimal(18, 4))) as collected_usd,
        sum(converted.failed_charge_count) filter (where converted.rate_to_reporting is not null) as failed_charge_count,
        sum(cast(converted.failed_charge_amount * converted.rate_to_reporting as decimal(18, 4))) as failed_charge_usd,
        sum(converted.refund_count) filter (where converted.rate_to_reporting is not null) as refund_count,
        sum(cast(converted.refunded_amount * converted.rate_to_reporting as decimal(18, 4))) as refunded_usd,
        count(*) filter (where converted.rate_to_reporting is null) as no_rate_event_count,
        string_agg(distinct converted.currency, ', ' order by converted.currency) filter (
            where converted.rate_to_reporting is null
        ) as no_rate_currencies
    from converted
    group by converted.billing_month
),

mrr_totals as (
    select
        mrr_months.mrr_month as billing_month,
        sum(mrr_months.mrr_usd) as mrr_usd
    from mrr_months
    group by mrr_months.mrr_month
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
        min(month_totals.billing_month) as first_month,
        least(max(month_totals.billing_month), min(as_of.as_of_month)) as last_month
    from month_totals
    cross join as_of
),

months as (
    select cast(unnest(generate_series(month_bounds.first_month, month_bounds.last_month, interval 1 month)) as date)
        as billing_month
    from month_bounds
    where month_bounds.first_month is not null
),

final as (
    select
        months.billing_month,                                                     -- first day of the month (reporting time zone)
        cast(coalesce(month_totals.invoiced_count, 0) as bigint) as invoiced_count, -- billed invoices finalized in the month
        coalesce(month_totals.invoiced_usd, 0) as invoiced_usd,                   -- sum of their totals, in the reporting currency
        cast(coalesce(month_totals.collected_charge_count, 0) as bigint) as collected_charge_count, -- succeeded charges made in the month
        coalesce(month_totals.collected_usd, 0) as collected_usd,                 -- sum of the succeeded charges of the month, in the reporting currency
        cast(coalesce(month_totals.failed_charge_count, 0) as bigint) as failed_charge_count, -- failed payment attempts of the month
        coalesce(month_totals.failed_charge_usd, 0) as failed_charge_usd,         -- sum of the failed attempts of the month, in the reporting currency
        cast(coalesce(month_totals.uncollectible_invoice_count, 0) as bigint) as uncollectible_invoice_count, -- invoices marked uncollectible in the month
        coalesce(month_totals.uncollectible_usd, 0) as uncollectible_usd,         -- what remained unpaid on them (written off), in the reporting currency
        cast(coalesce(month_totals.open_invoice_count, 0) as bigint) as open_invoice_count, -- invoices of the month still open (unpaid) now
        coalesce(month_totals.open_usd, 0) as open_usd,                           -- what is still due on them, in the reporting currency
        cast(coalesce(month_totals.past_due_invoice_count, 0) as bigint) as past_due_invoice_count, -- of those, the ones past due: a payment failed or the due date passed
        coalesce(month_totals.past_due_usd, 0) as past_due_usd,                   -- what is still due on them, in the reporting currency
        cast(coalesce(month_totals.refund_count, 0) as bigint) as refund_count,  -- succeeded refunds made in the month
        coalesce(month_totals.refunded_usd, 0) as refunded_usd,                   -- sum of the refunds of the month, in the reporting currency
        coalesce(month_totals.collected_usd, 0)
        - coalesce(month_totals.refunded_usd, 0) as net_collected_usd,            -- collected_usd - refunded_usd
        coalesce(month_totals.invoiced_collected_usd, 0) as invoiced_collected_usd, -- collected so far on the invoices of the month, at the invoice month's rate
        case
            when coalesce(month_totals.invoiced_usd, 0) > 0
                then month_totals.invoiced_collected_usd / month_totals.invoiced_usd
        end as collection_rate,                                                   -- invoiced_collected_usd / invoiced_usd; null with a reason
        case
            when coalesce(month_totals.invoiced_usd, 0) = 0 then 'nothing invoiced'
        end as collection_rate_null_reason,                                       -- why collection_rate is null (nothing invoiced); null when it is published
        coalesce(mrr_totals.mrr_usd, 0) as mrr_usd,                               -- MRR at the close of the month (marts.fct_mrr_customer_months)
        cast(coalesce(month_totals.no_rate_event_count, 0) as bigint) as no_rate_event_count, -- billing events of the month left out of every count and amount: their currency has no exchange rate that month
        month_totals.no_rate_currencies                                           -- the currencies without a rate that month, comma-separated; null when every event converted
    from months
    left join month_totals on months.billing_month = month_totals.billing_month
    left join mrr_totals on months.billing_month = mrr_totals.billing_month
)

select * from final
