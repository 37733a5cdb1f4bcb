/*
name: stg_stripe__refunds
description: >-
  One row per refund, latest connector version. The connector's refund table has no livemode column: test-mode
  refunds are left out downstream, where a refund is kept only when its charge is live. Amounts are converted from
  minor units (cents) to the currency's major unit; Stripe's zero-decimal currencies are already in major units.
grain: [refund_id]
owner: team:success
*/
with

source as (select * from stripe.refund),

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
        cast(id as varchar) as refund_id,                                     -- billing refund id
        cast(charge_id as varchar) as charge_id,                              -- charge refunded
        cast(payment_intent_id as varchar) as payment_intent_id,              -- payment intent of the charge
        upper(cast(currency as varchar)) as currency,                         -- ISO currency code
        cast(amount as decimal(18, 2)) / minor_units_per_unit as amount,      -- amount refunded, in the currency
        lower(cast(status as varchar)) as refund_status,                      -- succeeded, pending, failed or canceled
        cast(reason as varchar) as refund_reason,                             -- duplicate, fraudulent or requested_by_customer
        cast(created as timestamp) as created_at                              -- when the refund was made (UTC)
    from latest
)

select * from final
