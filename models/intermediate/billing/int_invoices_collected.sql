/*
name: int_invoices_collected
description: >-
  One row per live-mode Stripe invoice with what it billed, what its charges collected and what was refunded of
  them, for the marts that compare billing with MRR or the CRM. An invoice is billed when it was finalized and not
  voided (status open, paid or uncollectible); drafts and void invoices are kept with is_billed false. It is
  invoiced at its finalization (status_transitions_finalized_at), or at its creation when the connector does not
  sync the finalization time (Stripe finalizes a subscription's invoice about an hour after creating it). Collected:
  the invoice's succeeded charges; failed: its failed charges (a retry that succeeds later is collected then);
  refunded: the succeeded refunds of its charges (refund rows of test-mode charges find no live charge and are
  left out). Past due: still open after a failed payment attempt, or after its due date passed by the run's as-of
  time (definitions.data_horizon). The customer's first invoice is its earliest billed invoice with a total above zero (ties broken by
  invoice id). The CRM account is metadata.salesforce_account_id of the Stripe customer. Amounts are in the
  invoice's currency, and in the reporting currency (the `_usd` columns) at the rate of the invoice's month
  (intermediate.int_exchange_rates_monthly, chosen by definitions.fx.rate_rule); an invoice whose currency has no
  rate in its month has null `_usd` amounts and says why in fx_null_reason. Months are months of the reporting time
  zone (definitions.reporting).
grain: [invoice_id]
owner: team:success
*/
with

invoices as (select * from staging.stg_stripe__invoices),

charges as (select * from staging.stg_stripe__charges),

refunds as (select * from staging.stg_stripe__refunds),

customers as (select * from staging.stg_stripe__customers),

exchange_rates as (select * from intermediate.int_exchange_rates_monthly),

reporting as (select * from definitions.reporting),

horizon as (select * from definitions.data_horizon),

invoice_charges as (
    select
        charges.invoice_id,
        coalesce(sum(charges.amount) filter (where charges.charge_status = 'succeeded'), 0) as amount_collected,
        count(*) filter (where charges.charge_status = 'failed') as failed_charge_count,
        coalesce(sum(charges.amount) filter (where charges.charge_status = 'failed'), 0) as amount_failed,
        min(charges.created_at) filter (where charges.charge_status = 'succeeded') as collected_at
    from charges
    where charges.invoice_id is not null
    group by charges.invoice_id
),

invoice_refunds as (
    select
        charges.invoice_id,
        sum(refunds.amount) as amount_refunded
    from refunds
    inner join charges on refunds.charge_id = charges.charge_id
    where refunds.refund_status = 'succeeded' and charges.invoice_id is not null
    group by charges.invoice_id
),

billed as (
    select
        invoices.*,
        invoices.invoice_status in ('open', 'paid', 'uncollectible') as is_billed,
        coalesce(invoices.finalized_at, invoices.created_at) as invoiced_at,
        cast(
            date_trunc(
                'month',
                cast(coalesce(invoices.finalized_at, invoices.created_at) as timestamptz) at time zone reporting.time_zone
            ) as date
        ) as invoice_month
    from invoices
    cross join reporting
),

converted as (
    select
        billed.*,
        exchange_rates.rate_to_reporting
    from billed
    left join exchange_rates
        on billed.currency = exchange_rates.currency and billed.invoice_month = exchange_rates.rate_month
),

first_invoices as (
    select billed.invoice_id
    from billed
    where billed.is_billed and billed.total > 0
    qualify row_number() over (
        partition by billed.customer_id
        order by billed.invoiced_at nulls last, billed.invoice_id
    ) = 1
),

final as (
    select
        converted.invoice_id,                                                     -- billing invoice id
        converted.customer_id,                                                    -- billing customer
        customers.crm_account_id as account_id,                                   -- CRM account (Stripe metadata.salesforce_account_id); null for self-serve customers
        converted.subscription_id,                                                -- subscription billed; null for a one-off invoice
        converted.invoice_status,                                                 -- draft, open, paid, uncollectible or void
        converted.billing_reason,                                                 -- why it was created: subscription_cycle, subscription_create, manual, ...
        converted.is_billed,                                                      -- finalized and not voided (open, paid or uncollectible): counts as billed
        first_invoices.invoice_id is not null as is_first_invoice,                -- the customer's first billed invoice with a total above zero
        converted.currency,                                                       -- ISO currency code of the invoice
        converted.invoiced_at,                                                    -- when it was finalized (its creation when the finalization time is not synced; UTC)
        converted.invoice_month,                                                  -- month it was invoiced in (reporting time zone)
        converted.due_at,                                                         -- when payment is due (UTC)
        converted.marked_uncollectible_at,                                        -- when it was written off as uncollectible (UTC)
        converted.period_started_at,                                              -- start of the invoice's period (UTC)
        converted.period_ended_at,                                                -- end of the invoice's period (UTC)
        converted.total,                                                          -- amount billed, in the invoice's currency
        converted.amount_paid,                                                    -- amount Stripe records as paid, in the invoice's currency
        coalesce(converted.amount_remaining, converted.total - converted.amount_paid) as amount_remaining, -- amount still due (what a write-off loses), in the invoice's currency; total - amount_paid when not synced
        coalesce(invoice_charges.amount_collected, 0) as amount_collected,        -- sum of its succeeded charges, in the invoice's currency
        coalesce(invoice_charges.failed_charge_count, 0) as failed_charge_count,  -- its failed payment attempts
        converted.invoice_status = 'open'
        and (
            coalesce(invoice_charges.failed_charge_count, 0) > 0 or converted.due_at < horizon.as_of_at
        ) as is_past_due,                                                         -- still open after a failed attempt or past its due date (as of the run)
        coalesce(invoice_charges.amount_failed, 0) as amount_failed,              -- sum of its failed payment attempts, in the invoice's currency
        coalesce(invoice_refunds.amount_refunded, 0) as amount_refunded,          -- sum of the succeeded refunds of its charges, in the invoice's currency
        coalesce(invoice_charges.amount_collected, 0)
        - coalesce(invoice_refunds.amount_refunded, 0) as amount_net_collected,   -- collected minus refunded, in the invoice's currency
        invoice_charges.collected_at,                                             -- its first succeeded charge (UTC); null while unpaid
        converted.rate_to_reporting,                                              -- units of the reporting currency per unit of the invoice's currency in its month; null: no rate
        cast(converted.total * converted.rate_to_reporting as decimal(18, 4)) as total_usd, -- amount billed in the reporting currency (null without a rate)
        cast(
            coalesce(invoice_charges.amount_collected, 0) * converted.rate_to_reporting as decimal(18, 4)
        ) as amount_collected_usd,                                                -- collected, in the reporting currency at the invoice month's rate
        cast(
            coalesce(invoice_refunds.amount_refunded, 0) * converted.rate_to_reporting as decimal(18, 4)
        ) as amount_refunded_usd,                                                 -- refunded, in the reporting currency at the invoice month's rate
        cast(
            (coalesce(invoice_charges.amount_collected, 0) - coalesce(invoice_refunds.amount_refunded, 0))
            * converted.rate_to_reporting as decimal(18, 4)
        ) as amount_net_collected_usd,                                            -- collected minus refunded, in the reporting currency at the invoice month's rate
        case
            when converted.rate_to_reporting is null then 'no exchange rate for ' || converted.currency || ' in its month'
        end as fx_null_reason                                                     -- why the _usd amounts are null; null when converted
    from converted
    cross join horizon
    left join customers on converted.customer_id = customers.customer_id
    left join first_invoices on converted.invoice_id = first_invoices.invoice_id
    left join invoice_charges on converted.invoice_id = invoice_charges.invoice_id
    left join invoice_refunds on converted.invoice_id = invoice_refunds.invoice_id
)

select * from final
