/*
name: rpt_unit_economics_monthly
description: >-
  Unit economics per month, channel and segment: ad spend, new customers, MQLs and sales-qualified leads, and what
  they cost (CAC, cost per MQL, cost per sales-qualified lead), what a new customer pays (ARPA), how long its margin
  takes to pay the CAC back, its lifetime value (LTV) and LTV:CAC. Every count sits in the month its event happened
  (not a cohort view). Spend: the staged ad spend in the reporting currency (definitions.reporting; a row in another
  currency is not converted, it fails the blocking assertion below), paid media only (no salaries or tools), in the
  channel the shared channel mapping gives the campaign's UTM source and medium joined by one space (lowercased and
  trimmed, e.g. 'google cpc'), else its UTM source alone (e.g. 'linkedin', 'facebook'), else the default channel.
  Spend has no segment: a channel's spend in a month is spread over segments by the segment mix of the channel's
  MQLs in that month (the leads the spend bought; new customers are too few a month to split by, and splitting by
  them would give every segment the channel's CAC); when the channel had spend but no MQL that month, all of it sits
  in the unknown segment (is_spend_unallocated). So a segment's CAC is the cost of the MQLs it drew over the customers
  it won. New customers: customers whose first paying month (movement 'new' in marts.fct_mrr_customer_months) falls
  in the month, in the segment of the fact; their channel is the channel of the CRM account's first won
  new-business opportunity (earliest close date; of the shared new_business_type, so an expansion or renewal won
  earlier does not count), else, when that opportunity has no lead
  source, or the account has none, of the account's earliest converted lead, else the default channel (self-serve
  customers without a CRM account). MQLs and sales-qualified leads: leads of int_leads_lifecycle whose mql_at /
  sales_qualified_at falls in the month, by the lead's channel and segment. LTV = ARPA x unit_economics__gross_margin x expected
  lifetime, the lifetime being 1 / the segment's monthly revenue churn rate (pooled over the 12 months ending with
  the month from marts.rpt_retention_monthly: (churned + contraction MRR) / starting MRR), capped at
  unit_economics__max_lifetime_months (definitions.thresholds), so a churn-free year gives the cap, not an infinite LTV.
  MRR billed in another currency is in USD at its month's rate (marts.fct_mrr_customer_months): ARPA is new MRR at
  the first paying month's rate, and the churn rate leaves the exchange-rate effect out (constant currency, as in
  marts.rpt_retention_monthly).
  Channels without ad spend show spend and CAC 0 (their new customers cost no paid media); a paid channel
  (is_paid_channel) is one some ad spend in the data maps to. Every ratio is null when
  its denominator is 0, with the reason in a *_null_reason column. Rows: every month from the first to the last
  month with spend, a new customer, an MQL or a sales-qualified lead, x every channel of the mapping x every segment.
grain: [month, channel, segment]
owner: team:marketing
kpis:
  - name: spend_usd
    formula: sum of ad spend in the reporting currency of the channel's campaigns in the month x the segment's share of the channel's MQLs that month (all of it in the unknown segment when the channel had no MQL)
    grain: month x channel (of the campaign's UTM source and medium) x segment (allocated by MQL mix)
    owner: team:marketing
  - name: new_customer_count
    formula: count of customers whose first paying month (movement new in fct_mrr_customer_months) is the month
    grain: month x channel (of the account's first won opportunity) x segment (of the account)
    owner: team:sales
  - name: mql_count
    formula: count of leads whose mql_at (shared definition) falls in the month
    grain: month x channel x segment (of the lead)
    owner: team:marketing
  - name: sales_qualified_count
    formula: count of leads whose sales_qualified_at (shared definition) falls in the month
    grain: month x channel x segment (of the lead)
    owner: team:sales
  - name: cac_usd
    formula: spend_usd / new_customer_count (null when there is no new customer)
    numerator: spend_usd
    denominator: new_customer_count
    grain: month x channel x segment
    owner: team:marketing
  - name: cost_per_mql_usd
    formula: spend_usd / mql_count (null when there is no MQL)
    numerator: spend_usd
    denominator: mql_count
    grain: month x channel x segment
    owner: team:marketing
  - name: cost_per_sales_qualified_lead_usd
    formula: spend_usd / sales_qualified_count (null when there is no sales-qualified lead)
    numerator: spend_usd
    denominator: sales_qualified_count
    grain: month x channel x segment
    owner: team:marketing
  - name: arpa_usd
    formula: new MRR / new customers (null when there is no new customer)
    numerator: new_mrr_usd (MRR of the month's new customers at the close of their first paying month)
    denominator: new_customer_count
    grain: month x channel x segment
    owner: team:revops
  - name: cac_payback_months
    formula: cac_usd / (arpa_usd x unit_economics__gross_margin) (null when cac_usd is null or arpa_usd x unit_economics__gross_margin is 0)
    numerator: cac_usd
    denominator: arpa_usd x definitions.thresholds.unit_economics__gross_margin
    grain: month x channel x segment
    owner: team:revops
  - name: revenue_churn_rate
    formula: sum of (churned + contraction MRR) / sum of starting MRR of the segment over the 12 months ending with the month (null when no MRR at any start)
    numerator: churned_mrr_usd + contraction_mrr_usd of marts.rpt_retention_monthly, summed over the 12 months
    denominator: starting_mrr_usd of marts.rpt_retention_monthly, summed over the 12 months
    grain: month x segment (the same for every channel)
    filters: customers paying at the start of each month
    owner: team:success
  - name: ltv_usd
    formula: arpa_usd x unit_economics__gross_margin x least(1 / revenue_churn_rate, unit_economics__max_lifetime_months) (the cap when churn is 0; null when arpa_usd or revenue_churn_rate is null)
    numerator: arpa_usd x definitions.thresholds.unit_economics__gross_margin
    denominator: revenue_churn_rate (lifetime capped at definitions.thresholds.unit_economics__max_lifetime_months)
    grain: month x channel x segment
    owner: team:revops
  - name: ltv_to_cac_ratio
    formula: ltv_usd / cac_usd (null when either is null or cac_usd is 0)
    numerator: ltv_usd
    denominator: cac_usd
    grain: month x channel x segment
    owner: team:revops*/
with

ad_spend as (select * from staging.stg_marketing__ad_spend_days),

customer_months as (select * from marts.fct_mrr_customer_months),

retention as (select * from marts.rpt_retention_monthly),

lifecycle as (select * from intermediate.int_leads_lifecycle),

leads as (select * from intermediate.int_leads_classified),

opportunities as (select * from intermediate.int_opportunities_classified),

channel_mapping as (select * from definitions.channel_mapping),

segments as (select * from definitions.segments),

thresholds as (select * from definitions.thresholds),

reporting as (select * from definitions.reporting),

default_channel as (
    select channel_mapping.channel
    from channel_mapping
    where channel_mapping.lead_source_key is null
),

unknown_segment as (
    select segments.segment
    from segments
    where segments.min_employees is null
),

-- spend in the reporting currency, in the channel of the campaign's UTM source + medium, else of its UTM source
spend_channeled as (
    select
        cast(date_trunc('month', ad_spend.spend_date) as date) as month,
        coalesce(source_medium_mapping.channel, source_mapping.channel, default_channel.channel) as channel,
        cast(ad_spend.spend_amount as double) as spend_usd
    from ad_spend
    inner join reporting on ad_spend.currency = reporting.currency
    left join channel_mapping as source_medium_mapping
        on lower(trim(ad_spend.utm_source)) || ' ' || lower(trim(ad_spend.utm_medium)) = source_medium_mapping.lead_source_key
    left join channel_mapping as source_mapping
        on lower(trim(ad_spend.utm_source)) = source_mapping.lead_source_key
    cross join default_channel
),

spend_monthly as (
    select
        spend_channeled.month,
        spend_channeled.channel,
        sum(spend_channeled.spend_usd) as spend_usd
    from spend_channeled
    group by spend_channeled.month, spend_channeled.channel
),

mql_monthly as (
    select
        cast(
            date_trunc('month', cast(lifecycle.mql_at as timestamptz) at time zone reporting.time_zone)
            as date
        ) as month,
        lifecycle.channel,
        lifecycle.segment,
        count(*) as mql_count
    from lifecycle
    cross join reporting
    where lifecycle.mql_at is not null
    group by
        cast(date_trunc('month', cast(lifecycle.mql_at as timestamptz) at time zone reporting.time_zone) as date),
        lifecycle.channel,
        lifecycle.segment
),

sales_qualified_monthly as (
    select
        cast(
            date_trunc('month', cast(lifecycle.sales_qualified_at as timestamptz) at time zone reporting.time_zone)
            as date
        ) as month,
        lifecycle.channel,
        lifecycle.segment,
        count(*) as sales_qualified_count
    from lifecycle
    cross join reporting
    where lifecycle.sales_qualified_at is not null
    group by
        cast(
            date_trunc('month', cast(lifecycle.sales_qualified_at as timestamptz) at time zone reporting.time_zone)
            as date
        ),
        lifecycle.channel,
        lifecycle.segment
),

-- each segment's share of the channel's MQLs in the month: the key spend is spread by
mql_shares as (
    select
        mql_monthly.month,
        mql_monthly.channel,
        mql_monthly.segment,
        cast(mql_monthly.mql_count as double)
        / sum(mql_monthly.mql_count) over (partition by mql_monthly.month, mql_monthly.channel) as mql_share
    from mql_monthly
),

spend_allocated as (
    select
        spend_monthly.month,
        spend_monthly.channel,
        coalesce(mql_shares.segment, unknown_segment.segment) as segment,
        spend_monthly.spend_usd * coalesce(mql_shares.mql_share, 1) as spend_usd,
        mql_shares.segment is null as is_spend_unallocated
    from spend_monthly
    left join mql_shares on spend_monthly.month = mql_shares.month and spend_monthly.channel = mql_shares.channel
    cross join unknown_segment
),

-- an account's first won new-business opportunity (an earlier expansion or renewal did not acquire it)
first_won_opportunities as (
    select
        opportunities.account_id,
        opportunities.lead_source,
        opportunities.channel
    from opportunities
    where opportunities.is_won and opportunities.is_new_business and opportunities.account_id is not null
    qualify row_number() over (
        partition by opportunities.account_id
        order by opportunities.close_date nulls last, opportunities.created_at nulls last, opportunities.opportunity_id
    ) = 1
),

first_converted_leads as (
    select
        leads.converted_account_id as account_id,
        leads.channel
    from leads
    where leads.is_converted and leads.converted_account_id is not null
    qualify row_number() over (
        partition by leads.converted_account_id
        order by leads.converted_date nulls last, leads.created_at nulls last, leads.lead_id
    ) = 1
),

new_customers as (
    select
        customer_months.mrr_month as month,
        coalesce(
            case when first_won_opportunities.lead_source is not null then first_won_opportunities.channel end,
            first_converted_leads.channel,
            first_won_opportunities.channel,
            default_channel.channel
        ) as channel,
        customer_months.segment,
        customer_months.new_mrr_usd
    from customer_months
    left join first_won_opportunities on customer_months.account_id = first_won_opportunities.account_id
    left join first_converted_leads on customer_months.account_id = first_converted_leads.account_id
    cross join default_channel
    where customer_months.movement = 'new'
),

new_customers_monthly as (
    select
        new_customers.month,
        new_customers.channel,
        new_customers.segment,
        count(*) as new_customer_count,
        sum(new_customers.new_mrr_usd) as new_mrr_usd
    from new_customers
    group by new_customers.month, new_customers.channel, new_customers.segment
),

event_months as (
    select spend_monthly.month from spend_monthly
    union all
    select new_customers_monthly.month from new_customers_monthly
    union all
    select mql_monthly.month from mql_monthly
    union all
    select sales_qualified_monthly.month from sales_qualified_monthly
),

months as (
    select cast(unnest(generate_series(min(event_months.month), max(event_months.month), interval 1 month)) as date)
        as month
    from event_months
),

-- a paid channel: one that any ad spend in the data maps to
channels as (
    select distinct
        channel_mapping.channel,
        channel_mapping.channel in (select spend_channeled.channel from spend_channeled) as is_paid_channel
    from channel_mapping
),

-- the segment's monthly revenue churn rate, pooled over the 12 months ending with the month
segment_churn as (
    select
        months.month,
        segments.segment,
        coalesce(sum(retention.starting_mrr_usd), 0) as trailing_starting_mrr_usd,
        coalesce(sum(retention.churned_mrr_usd + retention.contraction_mrr_usd), 0) as trailing_lost_mrr_usd
    from months
    cross join segments
    left join retention
        on
            segments.segment = retention.segment
            and retention.mrr_month > months.month - interval 12 month
            and retention.mrr_month <= months.month
    group by months.month, segments.segment
),

joined as (
    select
        months.month,
        channels.channel,
        segments.segment,
        channels.is_paid_channel,
        coalesce(spend.spend_usd, 0) as spend_usd,
        coalesce(spend.is_spend_unallocated, false) as is_spend_unallocated,
        coalesce(new_customers_monthly.new_customer_count, 0) as new_customer_count,
        coalesce(new_customers_monthly.new_mrr_usd, 0) as new_mrr_usd,
        coalesce(mql_monthly.mql_count, 0) as mql_count,
        coalesce(sales_qualified_monthly.sales_qualified_count, 0) as sales_qualified_count,
        segment_churn.trailing_starting_mrr_usd,
        segment_churn.trailing_lost_mrr_usd,
        thresholds.unit_economics__gross_margin,
        thresholds.unit_economics__max_lifetime_months
    from months
    cross join channels
    cross join segments
    cross join thresholds
    left join spend_allocated as spend
        on months.month = spend.month and channels.channel = spend.channel and segments.segment = spend.segment
    left join new_customers_monthly
        on
            months.month = new_customers_monthly.month
            and channels.channel = new_customers_monthly.channel
            and segments.segment = new_customers_monthly.segment
    left join mql_monthly
        on
            months.month = mql_monthly.month
            and channels.channel = mql_monthly.channel
            and segments.segment = mql_monthly.segment
    left join sales_qualified_monthly
        on
            months.month = sales_qualified_monthly.month
            and channels.channel = sales_qualified_monthly.channel
            and segments.segment = sales_qualified_monthly.segment
    left join segment_churn on months.month = segment_churn.month and segments.segment = segment_churn.segment
),

ratios as (
    select
        joined.*,
        case when joined.new_customer_count > 0 then joined.spend_usd / joined.new_customer_count end as cac_usd,
        case when joined.mql_count > 0 then joined.spend_usd / joined.mql_count end as cost_per_mql_usd,
        case
            when joined.sales_qualified_count > 0 then joined.spend_usd / joined.sales_qualified_count
        end as cost_per_sales_qualified_lead_usd,
        case
            when joined.new_customer_count > 0 then cast(joined.new_mrr_usd as double) / joined.new_customer_count
        end as arpa_usd,
        case
            when joined.trailing_starting_mrr_usd > 0
                then cast(joined.trailing_lost_mrr_usd as double) / cast(joined.trailing_starting_mrr_usd as double)
        end as revenue_churn_rate
    from joined
),

lifetimes as (
    select
        ratios.*,
        case
            when ratios.revenue_churn_rate is null then null
            when ratios.revenue_churn_rate * ratios.unit_economics__max_lifetime_months <= 1 then cast(ratios.unit_economics__max_lifetime_months as double)
            else 1.0 / ratios.revenue_churn_rate
        end as expected_lifetime_months
    from ratios
),

economics as (
    select
        lifetimes.*,
        case
            when lifetimes.arpa_usd * lifetimes.unit_economics__gross_margin > 0
                then lifetimes.cac_usd / (lifetimes.arpa_usd * lifetimes.unit_economics__gross_margin)
        end as cac_payback_months,
        lifetimes.arpa_usd * lifetimes.unit_economics__gross_margin * lifetimes.expected_lifetime_months as ltv_usd
    from lifetimes
),

final as (
    select
        economics.month,                                                              -- first day of the month
        economics.channel,                                                            -- channel from the shared mapping (of the campaign, the account's first won opportunity or the lead)
        economics.segment,                                                            -- size segment from the shared bands (spend allocated by the channel's MQL mix)
        economics.is_paid_channel,                                                    -- the channel carries ad spend (some campaign's spend in the data maps to it)
        economics.spend_usd,                                                          -- ad spend in USD allocated to the segment by its share of the channel's MQLs in the month (0 when none)
        economics.is_spend_unallocated,                                               -- the channel had spend but no MQL in the month: all of it sits in this (unknown) segment
        economics.new_customer_count,                                                 -- customers whose first paying month is this month
        economics.new_mrr_usd,                                                        -- MRR of those new customers at the close of their first paying month
        economics.mql_count,                                                          -- leads that became MQLs (shared definition) in the month
        economics.sales_qualified_count,                                              -- leads that became sales-qualified (shared definition) in the month
        economics.cac_usd,                                                            -- spend_usd / new_customer_count; null when there is no new customer
        economics.cost_per_mql_usd,                                                   -- spend_usd / mql_count; null when there is no MQL
        economics.cost_per_sales_qualified_lead_usd,                                  -- spend_usd / sales_qualified_count; null when there is no sales-qualified lead
        economics.arpa_usd,                                                           -- new_mrr_usd / new_customer_count (average new MRR per new customer); null when there is no new customer
        economics.cac_payback_months,                                                 -- cac_usd / (arpa_usd x unit_economics__gross_margin); null when there is no new customer or the gross margin is 0
        economics.revenue_churn_rate,                                                 -- the segment's monthly revenue churn rate over the 12 months ending with the month: (churned + contraction MRR) / starting MRR; null when no MRR at any start
        economics.expected_lifetime_months,                                           -- 1 / revenue_churn_rate capped at unit_economics__max_lifetime_months (the cap when churn is 0); null when the churn rate is null
        economics.ltv_usd,                                                            -- arpa_usd x unit_economics__gross_margin x expected_lifetime_months; null when there is no new customer or no churn rate
        economics.ltv_usd / nullif(economics.cac_usd, 0) as ltv_to_cac_ratio,        -- ltv_usd / cac_usd; null when either is null or cac_usd is 0 (no spend)
        case
            when economics.new_customer_count = 0 then 'no new customer in the month'
        end as cac_null_reason,                                                       -- why cac_usd and arpa_usd are null (null when they are not)
        case when economics.mql_count = 0 then 'no MQL in the month' end as cost_per_mql_null_reason, -- why cost_per_mql_usd is null (null when it is not)
        case
            when economics.sales_qualified_count = 0 then 'no sales-qualified lead in the month'
        end as cost_per_sales_qualified_lead_null_reason,                             -- why cost_per_sales_qualified_lead_usd is null (null when it is not)
        case
            when economics.new_customer_count = 0 then 'no new customer in the month'
            when not economics.unit_economics__gross_margin > 0 then 'gross margin is 0'
        end as cac_payback_null_reason,                                               -- why cac_payback_months is null (null when it is not)
        case
            when economics.new_customer_count = 0 then 'no new customer in the month'
            when economics.revenue_churn_rate is null then 'no MRR at the start of any month of the trailing 12 months'
        end as ltv_null_reason,                                                       -- why ltv_usd is null (null when it is not)
        case
            when economics.new_customer_count = 0 then 'no new customer in the month'
            when economics.revenue_churn_rate is null then 'no MRR at the start of any month of the trailing 12 months'
            when economics.spend_usd = 0 then 'no spend: CAC is 0'
        end as ltv_to_cac_ratio_null_reason                                           -- why ltv_to_cac_ratio is null (null when it is not)
    from economics
)

select * from final
