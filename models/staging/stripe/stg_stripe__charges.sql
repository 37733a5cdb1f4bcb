/*
name: stg_stripe__charges
description: >-
  One row per live-mode charge (a payment attempt; test-mode rows are quarantined), latest connector version.
  Status succeeded, failed or pending. Amounts are converted from minor units (cents) to the currency's major unit;
  Stripe's zero-decimal currencies are already in major units.
grain: [charge_id]
owner: team:success
*/
with

source as (select * from stripe.charge),

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
        cast(id as varchar) as charge_id,                                         -- billing charge id
        cast(customer_id as varchar) as customer_id,                              -- billing customer
        cast(invoice_id as varchar) as invoice_id,                                -- invoice the charge pays; null for a one-off payment
        cast(payment_intent_id as varchar) as payment_intent_id,                  -- payment intent the attempt belongs to
        upper(cast(currency as varchar)) as currency,                             -- ISO currency code
        cast(amount as decimal(18, 2)) / minor_units_per_unit as amount,          -- amount attempted, in the currency
        coalesce(cast(amount_refunded as decimal(18, 2)), 0) / minor_units_per_unit as amount_refunded, -- part refunded so far, in the currency (the refunds table has each refund)
        lower(cast(status as varchar)) as charge_status,                          -- succeeded, failed or pending
        coalesce(cast(paid as boolean), false) as is_paid,                        -- the payment went through
        coalesce(cast(captured as boolean), false) as is_captured,                -- the authorised amount was captured
        cast(failure_code as varchar) as failure_code,                            -- why a failed attempt failed (card_declined, ...)
        cast(failure_message as varchar) as failure_message,                      -- the processor's message for a failure
        cast(created as timestamp) as created_at                                  -- when the attempt was made (UTC)
    from latest
)

select * from final
