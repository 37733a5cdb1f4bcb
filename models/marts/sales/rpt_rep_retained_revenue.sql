/*
name: rpt_rep_retained_revenue
description: >-
  Per closing rep and the month the deal was won: the new MRR the rep closed and what the customers the rep closed
  did in their first 12 months (churned, contraction, expansion and reactivation MRR, MRR 12 months on, NRR). These
  are the inputs a commission plan that splits pay between new and retained revenue needs (for example a share of
  new_mrr_closed_usd at signing and a share of retained_12_month_mrr_usd a year later). Rows come from
  marts.fct_customer_acquisitions (see its description): the closing deal is the account's first won new-business
  opportunity;
  the closing rep is the CRM user who recorded its move into the shared won stage (the owner at win), or the
  current owner when the history holds none (deals_credited_to_current_owner_count counts those); a customer is
  credited to the rep who closed its CRM account's first deal, so every billing customer of that account counts for
  that rep. Customers without a closing deal (self-serve, no CRM account, no won opportunity) are in no row, and so
  are won deals whose account has no billing customer yet. The close month is the month of the win (when the deal
  is commissioned), not the customer's first paying month. The 12-month window of a customer is the 12 months after
  its first paying month; only customers whose window is complete (first paying month + 12 within the billing data)
  count in the 12-month columns, against their own new MRR (mature_new_mrr_usd), so a row's NRR never mixes young
  and old customers. The team is the rep's current team. Ids only, no names. The NRR of a row whose mature
  customers or their new MRR are below the shared minimum bases (definitions.minimum_bases) is null, with the
  reason "base below minimum".
grain: [closing_rep_user_id, close_month]
owner: team:sales
kpis:
  - name: new_mrr_closed_usd
    formula: sum of the first-month MRR of the billing customers whose account's first won deal the rep closed in the month
    grain: closing rep x close month
    owner: team:sales
  - name: churned_12_month_mrr_usd
    formula: sum of churned MRR in the 12 months after the first paying month, of the rep's customers with a complete window
    grain: closing rep x close month
    filters: customers whose first paying month + 12 months is within the billing data
    owner: team:sales
  - name: contraction_12_month_mrr_usd
    formula: sum of contraction MRR in the 12 months after the first paying month, of the rep's customers with a complete window
    grain: closing rep x close month
    filters: customers whose first paying month + 12 months is within the billing data
    owner: team:sales
  - name: expansion_12_month_mrr_usd
    formula: sum of expansion MRR in the 12 months after the first paying month, of the rep's customers with a complete window
    grain: closing rep x close month
    filters: customers whose first paying month + 12 months is within the billing data
    owner: team:success
  - name: nrr_12_month
    formula: retained_12_month_mrr_usd / mature_new_mrr_usd (null when no customer of the row has a complete window, their new MRR is 0, or either is below definitions.minimum_bases)
    numerator: MRR 12 months after the first paying month of the rep's customers with a complete window (0 for a customer not paying then)
    denominator: first-month MRR of the same customers (mature_new_mrr_usd)
    grain: closing rep x close month
    filters: customers whose first paying month + 12 months is within the billing data
    owner: team:sales
  - name: churned_customer_12_month_count
    formula: count of the rep's customers with a complete window that churned at least once in it
    grain: closing rep x close month
    filters: customers whose first paying month + 12 months is within the billing data
    owner: team:success*/
with

acquisitions as (select * from marts.fct_customer_acquisitions),

reporting as (select * from definitions.reporting),

thresholds as (select * from definitions.thresholds),

rep_months as (
    select
        acquisitions.closing_rep_user_id,
        cast(date_trunc('month', cast(acquisitions.won_at as timestamptz) at time zone reporting.time_zone) as date)
            as close_month,
        max(acquisitions.closing_rep_team) as closing_rep_team,
        count(distinct acquisitions.closing_opportunity_id) as deals_won_count,
        count(distinct acquisitions.closing_opportunity_id) filter (
            where acquisitions.closing_rep_source = 'current_owner'
        ) as deals_credited_to_current_owner_count,
        count(*) as customers_closed_count,
        sum(acquisitions.new_mrr_usd) as new_mrr_closed_usd,
        count(*) filter (where acquisitions.is_12_month_window_complete) as mature_customer_count,
        coalesce(sum(acquisitions.new_mrr_usd) filter (where acquisitions.is_12_month_window_complete), 0)
            as mature_new_mrr_usd,
        coalesce(sum(acquisitions.expansion_12_month_mrr_usd), 0) as expansion_12_month_mrr_usd,
        coalesce(sum(acquisitions.contraction_12_month_mrr_usd), 0) as contraction_12_month_mrr_usd,
        coalesce(sum(acquisitions.churned_12_month_mrr_usd), 0) as churned_12_month_mrr_usd,
        coalesce(sum(acquisitions.reactivation_12_month_mrr_usd), 0) as reactivation_12_month_mrr_usd,
        coalesce(sum(acquisitions.fx_12_month_mrr_usd), 0) as fx_12_month_mrr_usd,
        coalesce(sum(acquisitions.mrr_12_month_usd), 0) as retained_12_month_mrr_usd,
        count(*) filter (where acquisitions.has_churned_12_month) as churned_customer_12_month_count
    from acquisitions
    cross join reporting
    where acquisitions.closing_rep_user_id is not null
    group by
        acquisitions.closing_rep_user_id,
        cast(date_trunc('month', cast(acquisitions.won_at as timestamptz) at time zone reporting.time_zone) as date)
),

final as (
    select
        rep_months.closing_rep_user_id,                                               -- CRM user who closed the deals (owner at win)
        rep_months.close_month,                                                       -- first day of the month the deals were won
        rep_months.closing_rep_team,                                                  -- the rep's current team (stg_salesforce__users.team)
        rep_months.deals_won_count,                                                   -- first won deals of accounts that became billing customers
        rep_months.deals_credited_to_current_owner_count,                             -- of them, deals with no recorded win in the stage history: credited to the current owner
        rep_months.customers_closed_count,                                            -- billing customers of those accounts
        rep_months.new_mrr_closed_usd,                                                -- their MRR in USD in their first paying month
        rep_months.mature_customer_count,                                             -- of them, customers whose 12-month window is complete
        rep_months.mature_new_mrr_usd,                                                -- first-month MRR of the customers with a complete window (NRR denominator)
        rep_months.expansion_12_month_mrr_usd,                                        -- expansion MRR in their 12-month windows (0 when none)
        rep_months.contraction_12_month_mrr_usd,                                      -- contraction MRR in their 12-month windows (positive; 0 when none)
        rep_months.churned_12_month_mrr_usd,                                          -- churned MRR in their 12-month windows (positive; 0 when none)
        rep_months.reactivation_12_month_mrr_usd,                                     -- reactivation MRR in their 12-month windows (0 when none)
        rep_months.fx_12_month_mrr_usd,                                               -- MRR change caused by exchange rates in their 12-month windows (signed; 0 when none)
        rep_months.retained_12_month_mrr_usd,                                         -- their MRR 12 months after the first paying month (0 when none is mature)
        rep_months.churned_customer_12_month_count,                                   -- customers with a complete window that churned at least once in it
        case
            when
                rep_months.mature_new_mrr_usd > 0
                and rep_months.mature_customer_count >= thresholds.minimum_bases__customers
                and rep_months.mature_new_mrr_usd >= thresholds.minimum_bases__mrr_usd
                then rep_months.retained_12_month_mrr_usd / rep_months.mature_new_mrr_usd
        end as nrr_12_month,                                                          -- retained_12_month_mrr_usd / mature_new_mrr_usd (null: see nrr_12_month_null_reason)
        case
            when rep_months.mature_customer_count = 0 then 'no customer with a complete 12-month window'
            when rep_months.mature_new_mrr_usd <= 0 then 'no new MRR'
            when
                rep_months.mature_customer_count < thresholds.minimum_bases__customers
                or rep_months.mature_new_mrr_usd < thresholds.minimum_bases__mrr_usd
                then 'base below minimum'
        end as nrr_12_month_null_reason                                               -- why nrr_12_month is null: no mature customer, no new MRR, or fewer customers or less new MRR than definitions.minimum_bases ('base below minimum'); null when it is not
    from rep_months
    cross join thresholds
)

select * from final
