/*
name: stg_stripe__invoices
description: >-
  One row per live-mode invoice, latest connector version, deleted invoices removed (test-mode rows are
  quarantined). Amounts are converted from minor units (cents) to the currency's major unit; Stripe's zero-decimal
  currencies are already in major units (the same list as stg_stripe__prices). Status draft, open, paid,
  uncollectible or void.
grain: [invoice_id]
owner: team:success
*/
with

source as (select * from stripe.invoice),

latest as (
    select
        *,
        case
            when lower(cast(currency as varchar)) in (
                'bif', 'clp', 'djf', 'gnf', 'jpy', 'kmf', 'krw', 'mga', 'pyg', 'rwf', 'ugx', 'vnd', 'vuv', 'xaf',
                'xof', 'xpf'
            ) then 1
            else 100
        end as minor_units_per_unit
    from source
    qualify row_number() over (
        partition by id
        order by cast(_fivetran_synced as timestamp) desc nulls last
    ) = 1
),

final as (
    select
        cast(id as varchar) as invoice_id,                                        -- billing invoice id
        cast(customer_id as varchar) as customer_id,                              -- billing customer
        cast(subscription_id as varchar) as subscription_id,                      -- subscription billed; null for a one-off invoice
        cast(number as varchar) as invoice_number,                                -- number printed on the invoice
        upper(cast(currency as varchar)) as currency,                             -- ISO currency code of the invoice
        lower(cast(status as varchar)) as invoice_status,                         -- draft, open, paid, uncollectible or void
        cast(billing_reason as varchar) as billing_reason,                        -- why it was created: subscription_cycle, subscription_create, manual, ...
        cast(subtotal as decimal(18, 2)) / minor_units_per_unit as subtotal,      -- total before tax and invoice discounts, in the currency
        coalesce(cast(tax as decimal(18, 2)), 0) / minor_units_per_unit as tax,   -- tax, in the currency (0 when absent)
        cast(total as decimal(18, 2)) / minor_units_per_unit as total,            -- amount billed, in the currency
        cast(amount_due as decimal(18, 2)) / minor_units_per_unit as amount_due,  -- amount due after credits, in the currency
        coalesce(cast(amount_paid as decimal(18, 2)), 0) / minor_units_per_unit as amount_paid, -- amount paid so far, in the currency
        cast(amount_remaining as decimal(18, 2)) / minor_units_per_unit as amount_remaining, -- amount still due, in the currency
        coalesce(cast(attempt_count as integer), 0) as attempt_count,             -- payment attempts so far
        coalesce(cast(paid as boolean), false) as is_paid,                        -- paid in full (or nothing was due)
        cast(created as timestamp) as created_at,                                 -- when the draft was created (UTC)
        cast(status_transitions_finalized_at as timestamp) as finalized_at,       -- when it was finalized (UTC); null while a draft or when the connector does not sync it
        cast(status_transitions_paid_at as timestamp) as paid_at,                 -- when it was paid (UTC)
        cast(status_transitions_marked_uncollectible_at as timestamp) as marked_uncollectible_at, -- when it was written off as uncollectible (UTC)
        cast(status_transitions_voided_at as timestamp) as voided_at,             -- when it was voided (UTC)
        cast(due_date as timestamp) as due_at,                                    -- when payment is due (UTC); null for automatic collection
        cast(period_start as timestamp) as period_started_at,                     -- start of the invoice's period (UTC)
        cast(period_end as timestamp) as period_ended_at                          -- end of the invoice's period (UTC)
    from latest
    where
        not coalesce(cast(is_deleted as boolean), false)
        and not coalesce(cast(_fivetran_deleted as boolean), false)
)

select * from final
