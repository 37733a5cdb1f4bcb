/*
name: rpt_unit_economics_segments_monthly
description: >-
  Paid-acquisition unit economics per month and segment over every channel: ad spend, new customers, MQLs and
  sales-qualified leads, CAC, cost per MQL and per sales-qualified lead, ARPA, CAC payback months, LTV and LTV:CAC.
  The sums of marts.rpt_unit_economics_monthly over its channels, with the ratios recomputed from those sums (never
  averaged), so the definitions are that mart's: spend is paid media in the reporting currency, spread over
  segments by the segment mix of each channel's MQLs in the month (a channel's spend in a month without MQLs sits
  in the unknown segment, counted in unallocated_spend_usd); new customers are the customers whose first paying
  month is the month, in the segment of their CRM account. The spend is paid media only, so CAC divides it by the
  new customers it could have bought: those of the paid channels (channels some ad spend maps to); ARPA, CAC
  payback, LTV and LTV:CAC are those of the same paid-channel new customers, so the ratios compare like with like.
  blended_cac_usd divides the same spend by every new customer (organic, referral, outbound... included) for
  reference; it understates the cost of a paid customer. LTV = ARPA x unit_economics__gross_margin x least(1 / the segment's
  monthly revenue churn rate pooled over the 12 months ending with the month, unit_economics__max_lifetime_months). Every
  ratio is null when its denominator is 0, with the reason in a *_null_reason column.
grain: [month, segment]
owner: team:revops
kpis:
  - name: spend_usd
    formula: sum over channels of the ad spend allocated to the segment in the month (by each channel's MQL mix)
    grain: month x segment
    owner: team:marketing
  - name: new_customer_count
    formula: count of customers whose first paying month is the month
    grain: month x segment (of the customer's CRM account)
    owner: team:sales
  - name: paid_new_customer_count
    formula: count of customers whose first paying month is the month, acquired through a paid channel
    grain: month x segment
    filters: channel of the customer is a paid channel (some ad spend maps to it)
    owner: team:marketing
  - name: cac_usd
    formula: spend_usd / paid_new_customer_count (null when no paid-channel new customer)
    numerator: spend_usd
    denominator: paid_new_customer_count
    grain: month x segment
    owner: team:marketing
  - name: blended_cac_usd
    formula: spend_usd / new_customer_count, every channel's new customers (null when there is no new customer)
    numerator: spend_usd
    denominator: new_customer_count
    grain: month x segment
    owner: team:marketing
  - name: cost_per_mql_usd
    formula: spend_usd / mql_count (null when there is no MQL)
    numerator: spend_usd
    denominator: mql_count (leads whose shared-definition MQL falls in the month)
    grain: month x segment
    owner: team:marketing
  - name: cost_per_sales_qualified_lead_usd
    formula: spend_usd / sales_qualified_count (null when there is no sales-qualified lead)
    numerator: spend_usd
    denominator: sales_qualified_count (leads that became sales-qualified in the month)
    grain: month x segment
    owner: team:marketing
  - name: arpa_usd
    formula: new MRR / new customers, of the paid-channel new customers (null when there is none)
    numerator: paid_new_mrr_usd
    denominator: paid_new_customer_count
    grain: month x segment
    owner: team:revops
  - name: cac_payback_months
    formula: cac_usd / (arpa_usd x unit_economics__gross_margin) (null when no paid-channel new customer or the gross margin is 0)
    numerator: cac_usd
    denominator: arpa_usd x definitions.thresholds.unit_economics__gross_margin
    grain: month x segment
    owner: team:revops
  - name: ltv_usd
    formula: arpa_usd x unit_economics__gross_margin x least(1 / revenue_churn_rate, unit_economics__max_lifetime_months) (null when arpa_usd or revenue_churn_rate is null)
    numerator: arpa_usd x definitions.thresholds.unit_economics__gross_margin
    denominator: revenue_churn_rate (monthly, pooled over the trailing 12 months; lifetime capped at unit_economics__max_lifetime_months)
    grain: month x segment
    owner: team:revops
  - name: ltv_to_cac_ratio
    formula: ltv_usd / cac_usd (null when either is null or cac_usd is 0)
    numerator: ltv_usd
    denominator: cac_usd
    grain: month x segment
    owner: team:revops*/
with

channel_economics as (select * from marts.rpt_unit_economics_monthly),

thresholds as (select * from definitions.thresholds),

summed as (
    select
        channel_economics.month,
        channel_economics.segment,
        sum(channel_economics.spend_usd) as spend_usd,
        coalesce(sum(channel_economics.spend_usd) filter (where channel_economics.is_spend_unallocated), 0)
            as unallocated_spend_usd,
        sum(channel_economics.new_customer_count) as new_customer_count,
        sum(channel_economics.new_mrr_usd) as new_mrr_usd,
        coalesce(sum(channel_economics.new_customer_count) filter (where channel_economics.is_paid_channel), 0)
            as paid_new_customer_count,
        coalesce(sum(channel_economics.new_mrr_usd) filter (where channel_economics.is_paid_channel), 0)
            as paid_new_mrr_usd,
        sum(channel_economics.mql_count) as mql_count,
        sum(channel_economics.sales_qualified_count) as sales_qualified_count,
        -- the segment's churn rate and lifetime are the same on every channel's row
        max(channel_economics.revenue_churn_rate) as revenue_churn_rate,
        max(channel_economics.expected_lifetime_months) as expected_lifetime_months
    from channel_economics
    group by channel_economics.month, channel_economics.segment
),

ratios as (
    select
        summed.*,
        thresholds.unit_economics__gross_margin,
        case
            when summed.paid_new_customer_count > 0 then summed.spend_usd / summed.paid_new_customer_count
        end as cac_usd,
        case when summed.new_customer_count > 0 then summed.spend_usd / summed.new_customer_count end as blended_cac_usd,
        case when summed.mql_count > 0 then summed.spend_usd / summed.mql_count end as cost_per_mql_usd,
        case
            when summed.sales_qualified_count > 0 then summed.spend_usd / summed.sales_qualified_count
        end as cost_per_sales_qualified_lead_usd,
        case
            when summed.paid_new_customer_count > 0
                then cast(summed.paid_new_mrr_usd as double) / summed.paid_new_customer_count
        end as arpa_usd
    from summed
    cross join thresholds
),

economics as (
    select
        ratios.*,
        case
            when ratios.arpa_usd * ratios.unit_economics__gross_margin > 0
                then ratios.cac_usd / (ratios.arpa_usd * ratios.unit_economics__gross_margin)
        end as cac_payback_months,
        ratios.arpa_usd * ratios.unit_economics__gross_margin * ratios.expected_lifetime_months as ltv_usd
    from ratios
),

final as (
    select
        economics.month,                                                              -- first day of the month
        economics.segment,                                                            -- size segment from the shared bands
        economics.spend_usd,                                                          -- ad spend in USD allocated to the segment over every channel (0 when none)
        economics.unallocated_spend_usd,                                              -- part of spend_usd from channels without an MQL in the month (only in the unknown segment)
        economics.new_customer_count,                                                 -- customers whose first paying month is this month, every channel
        economics.new_mrr_usd,                                                        -- MRR of those new customers at the close of their first paying month
        economics.paid_new_customer_count,                                            -- the new customers acquired through a paid channel (one some ad spend maps to)
        economics.paid_new_mrr_usd,                                                   -- MRR of the paid-channel new customers at the close of their first paying month
        economics.mql_count,                                                          -- leads that became MQLs (shared definition) in the month
        economics.sales_qualified_count,                                              -- leads that became sales-qualified (shared definition) in the month
        economics.cac_usd,                                                            -- spend_usd / paid_new_customer_count (paid CAC); null when no paid-channel new customer
        economics.blended_cac_usd,                                                    -- spend_usd / new_customer_count (every channel, for reference); null when there is no new customer
        economics.cost_per_mql_usd,                                                   -- spend_usd / mql_count; null when there is no MQL
        economics.cost_per_sales_qualified_lead_usd,                                  -- spend_usd / sales_qualified_count; null when there is no sales-qualified lead
        economics.arpa_usd,                                                           -- paid_new_mrr_usd / paid_new_customer_count; null when no paid-channel new customer
        economics.cac_payback_months,                                                 -- cac_usd / (arpa_usd x unit_economics__gross_margin); null when no paid-channel new customer or the gross margin is 0
        economics.revenue_churn_rate,                                                 -- the segment's monthly revenue churn rate pooled over the 12 months ending with the month; null when no MRR at any start
        economics.expected_lifetime_months,                                           -- 1 / revenue_churn_rate capped at unit_economics__max_lifetime_months; null when the churn rate is null
        economics.ltv_usd,                                                            -- arpa_usd x unit_economics__gross_margin x expected_lifetime_months (of a paid-channel new customer); null when arpa_usd or the churn rate is null
        economics.ltv_usd / nullif(economics.cac_usd, 0) as ltv_to_cac_ratio,        -- ltv_usd / cac_usd; null when either is null or cac_usd is 0 (no spend)
        case
            when economics.paid_new_customer_count = 0 then 'no new customer from a paid channel in the month'
        end as cac_null_reason,                                                       -- why cac_usd and arpa_usd are null (null when they are not)
        case
            when economics.new_customer_count = 0 then 'no new customer in the month'
        end as blended_cac_null_reason,                                               -- why blended_cac_usd is null (null when it is not)
        case when economics.mql_count = 0 then 'no MQL in the month' end as cost_per_mql_null_reason, -- why cost_per_mql_usd is null (null when it is not)
        case
            when economics.sales_qualified_count = 0 then 'no sales-qualified lead in the month'
        end as cost_per_sales_qualified_lead_null_reason,                             -- why cost_per_sales_qualified_lead_usd is null (null when it is not)
        case
            when economics.paid_new_customer_count = 0 then 'no new customer from a paid channel in the month'
            when not economics.unit_economics__gross_margin > 0 then 'gross margin is 0'
        end as cac_payback_null_reason,                                               -- why cac_payback_months is null (null when it is not)
        case
            when economics.paid_new_customer_count = 0 then 'no new customer from a paid channel in the month'
            when economics.revenue_churn_rate is null then 'no MRR at the start of any month of the trailing 12 months'
        end as ltv_null_reason,                                                       -- why ltv_usd is null (null when it is not)
        case
            when economics.paid_new_customer_count = 0 then 'no new customer from a paid channel in the month'
            when economics.revenue_churn_rate is null then 'no MRR at the start of any month of the trailing 12 months'
            when economics.spend_usd = 0 then 'no spend: CAC is 0'
        end as ltv_to_cac_ratio_null_reason                                           -- why ltv_to_cac_ratio is null (null when it is not)
    from economics
)

select * from final
