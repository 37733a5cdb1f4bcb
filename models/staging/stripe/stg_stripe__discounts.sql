/*
name: stg_stripe__discounts
description: >-
  One row per discount (a coupon applied to a subscription, a customer, an invoice, ...), latest connector version of
  its id: the connector also syncs a subscription's discount as a customer discount under the same id, so each id
  counts once (the subscription's row preferred when both versions were synced together). Stripe sets the end for a
  repeating coupon only; a discount the connector marks deleted (removed in Stripe) is kept, ending at its last sync,
  so the months it was in force keep it.
grain: [discount_id]
owner: team:success
*/
with

source as (select * from stripe.discount),

latest as (
    select *
    from source
    qualify row_number() over (
        partition by id
        order by
            cast(_fivetran_synced as timestamp) desc nulls last,
            case lower(cast(type as varchar)) when 'subscription' then 0 else 1 end
    ) = 1
),

final as (
    select
        cast(id as varchar) as discount_id,                               -- billing discount id
        lower(cast(type as varchar)) as discount_type,                    -- the object it belongs to: subscription, customer, invoice, ... (null when the connector does not say)
        coalesce(
            cast(subscription_id as varchar),
            case when lower(cast(type as varchar)) = 'subscription' then cast(type_id as varchar) end
        ) as subscription_id,                                             -- billing subscription discounted; null for a customer-level discount
        coalesce(
            cast(customer_id as varchar),
            case when lower(cast(type as varchar)) = 'customer' then cast(type_id as varchar) end
        ) as customer_id,                                                 -- billing customer
        cast(invoice_id as varchar) as invoice_id,                        -- the invoice of an invoice-level discount
        cast(coupon_id as varchar) as coupon_id,                          -- the coupon applied
        cast("start" as timestamp) as started_at,                         -- when the discount started (UTC)
        case
            when
                coalesce(cast(_fivetran_deleted as boolean), false)
                and ("end" is null or cast("end" as timestamp) > cast(_fivetran_synced as timestamp))
                then cast(_fivetran_synced as timestamp)
            else cast("end" as timestamp)
        end as ends_at,                                                   -- when it ends (UTC): a repeating coupon's end, a removed discount's last sync; null for once and forever
        coalesce(cast(_fivetran_deleted as boolean), false) as is_removed -- deleted by the connector (removed in Stripe): ends_at is its last sync
    from latest
)

select * from final
