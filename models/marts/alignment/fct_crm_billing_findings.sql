/*
name: fct_crm_billing_findings
description: >-
  One row per place where the CRM and billing disagree, for RevOps to fix at the source before trusting a scorecard;
  each finding names the CRM opportunity and account, the billing customer and subscription it is about, its type
  and a readable detail. The rules are the shared definitions.reconciliation keys. won_without_billing: a won
  new-business deal (marts.fct_opportunity_outcomes) none of whose account's billing customers (Stripe
  metadata.salesforce_account_id) began paying within reconciliation__billing_window_days of the close date, before
  or after it (exactly that many days apart still matches; days of the reporting time zone); a deal is only due once
  that many days have passed since its close date at the data's as-of time (definitions.data_horizon), so younger
  deals are not findings yet; a deal without an account is a finding too. billing_without_crm: a customer that ever
  paid whose CRM account id names no CRM account, or that has no CRM account id and whose MRR reached
  reconciliation__min_mrr_usd_for_crm in some month (at it counts; below it the customer is self-serve). amount_mismatch:
  a won new-business deal matched to a customer (the one whose first paying start is nearest its close date) whose
  amount, an annual contract value in the reporting currency (converted at its close month's rate: see
  int_opportunities_classified), differs by more than reconciliation__amount_tolerance_share of the amount from
  either 12 x the customer's MRR in its first paying month or the customer's first invoice annualised
  (intermediate.int_invoices_collected.is_first_invoice: its total in the reporting currency x 12 / the months of
  its subscription's billing cycle, so an annual invoice counts once, as the year it pays for, and a monthly one 12
  times); exactly that share is no finding. The first invoice is taken as billed: a prorated first invoice, or one
  with a one-off credit (a first-invoice coupon), that is that far off the deal is a finding, since the customer
  was billed something else than what was sold. A deal without an amount (or whose amount has no exchange rate) is
  not compared; a first invoice without an exchange rate, or without a subscription, is not compared, and the deal
  is compared with MRR only. segment_mismatch: a customer
  of a known CRM account whose CRM segment (the account's employees in the shared segment bands) is not the segment
  billing implies, the one whose ARR band (reconciliation__segment_min_arr_usd) holds 12 x its MRR in its latest
  paying month; ARR is what the customer pays for, so it tells a company's buying size where the employee count in
  the CRM may be stale; a customer whose CRM segment is unknown is not compared. The month of a finding: the close
  month of the deal (deal findings), the first paying month of the customer (billing_without_crm), its latest paying
  month (segment_mismatch), in the reporting time zone.
grain: [finding_id]
owner: team:revops
*/
with

outcomes as (select * from marts.fct_opportunity_outcomes),

customer_months as (select * from marts.fct_mrr_customer_months),

item_periods as (select * from intermediate.int_subscription_items_priced),

invoices as (select * from intermediate.int_invoices_collected),

customers as (select * from staging.stg_stripe__customers),

accounts as (select * from staging.stg_salesforce__accounts),

arr_bands as (select * from definitions.reconciliation_segment_arr_bands),

thresholds as (select * from definitions.thresholds),

horizon as (select * from definitions.data_horizon),

reporting as (select * from definitions.reporting),

-- each paying customer's first paying start (a date of the reporting time zone) and the subscription it began with
billing_starts as (
    select
        item_periods.customer_id,
        item_periods.subscription_id,
        cast(cast(item_periods.period_started_at as timestamptz) at time zone reporting.time_zone as date)
        as billing_started_date
    from item_periods
    cross join reporting
    where item_periods.mrr_amount > 0
    qualify row_number() over (
        partition by item_periods.customer_id
        order by item_periods.period_started_at, item_periods.subscription_id
    ) = 1
),

customer_revenue as (
    select
        customer_months.customer_id,
        min(customer_months.first_paid_month) as first_paid_month,
        max(customer_months.mrr_usd) as peak_mrr_usd,
        max(customer_months.new_mrr_usd) filter (where customer_months.movement = 'new') as first_mrr_usd,
        max(customer_months.mrr_month) filter (where customer_months.mrr_usd > 0) as latest_paid_month
    from customer_months
    group by customer_months.customer_id
),

billed_customers as (
    select
        customer_revenue.*,
        customers.crm_account_id,
        billing_starts.subscription_id,
        billing_starts.billing_started_date,
        accounts.account_id is not null as has_crm_account
    from customer_revenue
    inner join customers on customer_revenue.customer_id = customers.customer_id
    left join billing_starts on customer_revenue.customer_id = billing_starts.customer_id
    left join accounts on customers.crm_account_id = accounts.account_id
),

as_of as (
    select cast(cast(horizon.as_of_at as timestamptz) at time zone reporting.time_zone as date) as as_of_date
    from horizon
    cross join reporting
),

won_deals as (
    select
        outcomes.opportunity_id,
        outcomes.account_id,
        outcomes.amount_usd,
        cast(cast(outcomes.closed_at as timestamptz) at time zone reporting.time_zone as date) as closed_date
    from outcomes
    cross join reporting
    where outcomes.is_won and outcomes.is_new_business and outcomes.closed_at is not null
),

-- each customer's first invoice, annualised: its total in the reporting currency x 12 / its billing cycle's months
first_invoices as (
    select
        invoices.customer_id,
        invoices.invoice_id,
        invoices.total_usd,
        cycles.cycle_months,
        invoices.total_usd * 12 / cycles.cycle_months as invoice_arr_usd
    from invoices
    left join (
        select
            item_periods.subscription_id,
            arg_min(item_periods.cycle_months, item_periods.period_started_at) as cycle_months
        from item_periods
        group by item_periods.subscription_id
    ) as cycles on invoices.subscription_id = cycles.subscription_id
    where invoices.is_first_invoice
),

-- each won deal with the account's customer whose first paying start is nearest the close date (if any)
deal_customers as (
    select
        won_deals.*,
        billed_customers.customer_id,
        billed_customers.subscription_id,
        billed_customers.billing_started_date,
        billed_customers.first_mrr_usd,
        first_invoices.invoice_id,
        first_invoices.total_usd as invoice_total_usd,
        first_invoices.cycle_months as invoice_cycle_months,
        first_invoices.invoice_arr_usd,
        abs(date_diff('day', won_deals.closed_date, billed_customers.billing_started_date))
        <= thresholds.reconciliation__billing_window_days as is_within_window,
        won_deals.closed_date + cast(thresholds.reconciliation__billing_window_days as integer) <= as_of.as_of_date
        as is_due
    from won_deals
    cross join thresholds
    cross join as_of
    left join billed_customers on won_deals.account_id = billed_customers.crm_account_id
    left join first_invoices on billed_customers.customer_id = first_invoices.customer_id
    qualify row_number() over (
        partition by won_deals.opportunity_id
        order by
            abs(date_diff('day', won_deals.closed_date, billed_customers.billing_started_date)) nulls last,
            billed_customers.customer_id
    ) = 1
),

won_without_billing as (
    select
        'won_without_billing' as finding_type,
        cast(date_trunc('month', deal_customers.closed_date) as date) as finding_month,
        deal_customers.opportunity_id,
        deal_customers.account_id,
        deal_customers.customer_id,
        deal_customers.subscription_id,
        cast(null as varchar) as invoice_id,
        deal_customers.closed_date,
        deal_customers.billing_started_date,
        deal_customers.amount_usd as crm_amount_usd,
        cast(null as decimal(18, 4)) as billing_arr_usd,
        cast(null as decimal(18, 4)) as invoice_arr_usd,
        cast(null as varchar) as crm_segment,
        cast(null as varchar) as billing_segment,
        case
            when deal_customers.account_id is null
                then 'won on ' || deal_customers.closed_date || ' without a CRM account: no billing customer can match it'
            when deal_customers.customer_id is null
                then 'won on ' || deal_customers.closed_date || '; no billing customer names account '
                || deal_customers.account_id
            else 'won on ' || deal_customers.closed_date || '; the account''s nearest billing start is '
                || deal_customers.billing_started_date || ' (customer ' || deal_customers.customer_id || '), more than '
                || thresholds.reconciliation__billing_window_days || ' days away'
        end as finding_detail
    from deal_customers
    cross join thresholds
    where deal_customers.is_due and not coalesce(deal_customers.is_within_window, false)
),

-- the won deals with a customer in the window and an amount, with which side of billing is off the amount
compared_deals as (
    select
        deal_customers.*,
        coalesce(
            abs(12 * deal_customers.first_mrr_usd - cast(deal_customers.amount_usd as decimal(18, 4)))
            > cast(thresholds.reconciliation__amount_tolerance_share as decimal(18, 6))
            * cast(deal_customers.amount_usd as decimal(18, 4)),
            false
        ) as is_mrr_off,
        coalesce(
            abs(
                cast(deal_customers.invoice_arr_usd as decimal(18, 4))
                - cast(deal_customers.amount_usd as decimal(18, 4))
            )
            > cast(thresholds.reconciliation__amount_tolerance_share as decimal(18, 6))
            * cast(deal_customers.amount_usd as decimal(18, 4)),
            false
        ) as is_invoice_off
    from deal_customers
    cross join thresholds
    where deal_customers.is_within_window and deal_customers.amount_usd is not null
),

amount_mismatch as (
    select
        'amount_mismatch' as finding_type,
        cast(date_trunc('month', compared_deals.closed_date) as date) as finding_month,
        compared_deals.opportunity_id,
        compared_deals.account_id,
        compared_deals.customer_id,
        compared_deals.subscription_id,
        compared_deals.invoice_id,
        compared_deals.closed_date,
        compared_deals.billing_started_date,
        compared_deals.amount_usd as crm_amount_usd,
        cast(12 * compared_deals.first_mrr_usd as decimal(18, 4)) as billing_arr_usd,
        cast(compared_deals.invoice_arr_usd as decimal(18, 4)) as invoice_arr_usd,
        cast(null as varchar) as crm_segment,
        cast(null as varchar) as billing_segment,
        'CRM amount ' || format('{:.2f}', compared_deals.amount_usd) || ' against billing ARR '
        || format('{:.2f}', 12 * compared_deals.first_mrr_usd) || ' (12 x first MRR ' || format('{:.2f}', compared_deals.first_mrr_usd)
        || ') and ' || coalesce(
            'first invoice ' || compared_deals.invoice_id || ' annualised ' || format('{:.2f}', compared_deals.invoice_arr_usd)
            || ' (' || format('{:.2f}', compared_deals.invoice_total_usd) || ' x 12 / '
            || cast(compared_deals.invoice_cycle_months as integer) || ' months)',
            'first invoice ' || compared_deals.invoice_id || ' not compared (no exchange rate or no subscription)',
            'no first invoice'
        ) || ': ' || case
            when compared_deals.is_mrr_off and compared_deals.is_invoice_off then 'both are'
            when compared_deals.is_mrr_off then 'billing ARR is'
            else 'the first invoice is'
        end || ' more than ' || thresholds.reconciliation__amount_tolerance_share || ' of the amount apart'
        as finding_detail
    from compared_deals
    cross join thresholds
    where compared_deals.is_mrr_off or compared_deals.is_invoice_off
),

billing_without_crm as (
    select
        'billing_without_crm' as finding_type,
        billed_customers.first_paid_month as finding_month,
        cast(null as varchar) as opportunity_id,
        billed_customers.crm_account_id as account_id,
        billed_customers.customer_id,
        billed_customers.subscription_id,
        cast(null as varchar) as invoice_id,
        cast(null as date) as closed_date,
        billed_customers.billing_started_date,
        cast(null as double) as crm_amount_usd,
        cast(12 * billed_customers.peak_mrr_usd as decimal(18, 4)) as billing_arr_usd,
        cast(null as decimal(18, 4)) as invoice_arr_usd,
        cast(null as varchar) as crm_segment,
        cast(null as varchar) as billing_segment,
        case
            when billed_customers.crm_account_id is not null
                then 'billing names CRM account ' || billed_customers.crm_account_id || ', which the CRM does not have'
            else 'no CRM account, with MRR up to ' || format('{:.2f}', billed_customers.peak_mrr_usd) || ' (at least '
                || thresholds.reconciliation__min_mrr_usd_for_crm || ')'
        end as finding_detail
    from billed_customers
    cross join thresholds
    where
        not billed_customers.has_crm_account
        and (
            billed_customers.crm_account_id is not null
            or billed_customers.peak_mrr_usd >= thresholds.reconciliation__min_mrr_usd_for_crm
        )
),

latest_segments as (
    select
        customer_months.customer_id,
        customer_months.mrr_month,
        customer_months.account_id,
        customer_months.segment as crm_segment,
        cast(12 * customer_months.mrr_usd as decimal(18, 4)) as billing_arr_usd
    from customer_months
    inner join billed_customers
        on
            customer_months.customer_id = billed_customers.customer_id
            and customer_months.mrr_month = billed_customers.latest_paid_month
    where billed_customers.has_crm_account
),

segment_mismatch as (
    select
        'segment_mismatch' as finding_type,
        latest_segments.mrr_month as finding_month,
        cast(null as varchar) as opportunity_id,
        latest_segments.account_id,
        latest_segments.customer_id,
        billed_customers.subscription_id,
        cast(null as varchar) as invoice_id,
        cast(null as date) as closed_date,
        billed_customers.billing_started_date,
        cast(null as double) as crm_amount_usd,
        latest_segments.billing_arr_usd,
        cast(null as decimal(18, 4)) as invoice_arr_usd,
        latest_segments.crm_segment,
        arr_bands.segment as billing_segment,
        'CRM segment ' || latest_segments.crm_segment || ' (employees) against ' || arr_bands.segment
        || ' by billing ARR ' || format('{:.2f}', latest_segments.billing_arr_usd) || ' in ' || strftime(latest_segments.mrr_month, '%Y-%m')
        as finding_detail
    from latest_segments
    inner join billed_customers on latest_segments.customer_id = billed_customers.customer_id
    inner join arr_bands
        on
            latest_segments.billing_arr_usd >= arr_bands.min_arr_usd
            and (arr_bands.max_arr_usd is null or latest_segments.billing_arr_usd < arr_bands.max_arr_usd)
    where
        latest_segments.crm_segment in (select arr_bands.segment from arr_bands)
        and latest_segments.crm_segment <> arr_bands.segment
),

findings as (
    select * from won_without_billing
    union all
    select * from amount_mismatch
    union all
    select * from billing_without_crm
    union all
    select * from segment_mismatch
),

final as (
    select
        findings.finding_type || ':' || coalesce(findings.opportunity_id, findings.customer_id) as finding_id, -- the finding type and the opportunity (deal findings) or customer (customer findings) it is about
        findings.finding_type,                          -- won_without_billing, billing_without_crm, amount_mismatch or segment_mismatch (see the description)
        findings.finding_month,                         -- first day of the month the finding dates from: the deal's close, or the customer's first (billing_without_crm) or latest (segment_mismatch) paying month
        findings.opportunity_id,                        -- CRM opportunity (deal findings; null otherwise)
        findings.account_id,                            -- CRM account of the deal, or the one the billing customer names (null when none)
        findings.customer_id,                           -- billing customer (for won_without_billing: the account's customer that began paying nearest the close, outside the window; null when none)
        findings.subscription_id,                       -- the customer's subscription it began paying with
        findings.invoice_id,                            -- the customer's first invoice, compared with the deal (amount_mismatch; null otherwise, and when the customer has none)
        findings.closed_date,                           -- the deal's close date (deal findings; reporting time zone)
        findings.billing_started_date,                  -- the customer's first paying start (reporting time zone; null without a customer)
        findings.crm_amount_usd,                        -- amount of the deal in the CRM, an annual contract value (deal findings)
        findings.billing_arr_usd,                       -- ARR billing shows: 12 x first MRR (amount_mismatch), 12 x highest MRR (billing_without_crm), 12 x latest MRR (segment_mismatch); null for won_without_billing
        findings.invoice_arr_usd,                       -- the first invoice annualised: its total in the reporting currency x 12 / its billing cycle's months (amount_mismatch; null when not compared)
        findings.crm_segment,                           -- segment of the CRM account by employees (segment_mismatch)
        findings.billing_segment,                       -- segment whose ARR band holds billing_arr_usd (segment_mismatch)
        findings.finding_detail                         -- what disagrees, in words, with the values compared
    from findings
)

select * from final
