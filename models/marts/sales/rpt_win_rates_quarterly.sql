/*
name: rpt_win_rates_quarterly
description: >-
  Win rates per quarter of close, segment, channel and opportunity type: deals won and lost, the win rate by count
  and by amount, and the median and average sales cycle of the won deals (calendar days from creation to close).
  Every opportunity type has its own rows (definitions.opportunity_types: New Business, Expansion, Renewal, Other),
  so an expansion or renewal never lifts the new-business win rate: the win rate and sales cycle of the revenue
  team are the rows of the new_business_type (the scorecard's win rate uses the same rows). A deal counts by its current outcome in the quarter of its last close (a deal lost, reopened and then
  won is one won deal). Only closed deals make rows: a segment and channel with only open deals in a quarter has no
  row (not a row with a null rate); rates are null only when their denominator is 0.
grain: [close_quarter, segment, channel, opportunity_type]
owner: team:sales
kpis:
  - name: won_deals_count
    formula: count of opportunities won in the quarter
    grain: quarter of close x segment (of the buying account) x channel x opportunity type
    filters: current stage is the shared won stage; close time known
    owner: team:sales
  - name: lost_deals_count
    formula: count of opportunities lost in the quarter
    grain: quarter of close x segment (of the buying account) x channel x opportunity type
    filters: current stage is the shared lost stage; close time known
    owner: team:sales
  - name: win_rate
    formula: won deals / (won deals + lost deals) (null when none closed)
    numerator: count of opportunities won in the quarter
    denominator: count of opportunities won or lost in the quarter
    grain: quarter of close x segment (of the buying account) x channel x opportunity type
    filters: close time known
    owner: team:sales
  - name: amount_win_rate
    formula: won amount / (won amount + lost amount) (null when that sum is 0)
    numerator: sum of amount_usd of opportunities won in the quarter
    denominator: sum of amount_usd of opportunities won or lost in the quarter (missing amounts count 0)
    grain: quarter of close x segment (of the buying account) x channel x opportunity type
    filters: close time known
    owner: team:sales
  - name: median_won_sales_cycle_days
    formula: median of sales_cycle_days of the opportunities won in the quarter (null when none has one)
    grain: quarter of close x segment (of the buying account) x channel x opportunity type
    filters: current stage is the shared won stage; close time known
    owner: team:sales
  - name: average_won_sales_cycle_days
    formula: average of sales_cycle_days of the opportunities won in the quarter (null when none has one)
    numerator: sum of sales_cycle_days of the won opportunities
    denominator: count of won opportunities with a sales cycle
    grain: quarter of close x segment (of the buying account) x channel x opportunity type
    filters: current stage is the shared won stage; close time known
    owner: team:sales*/
with

outcomes as (select * from marts.fct_opportunity_outcomes),

closed as (
    select
        outcomes.close_quarter,
        outcomes.segment,
        outcomes.channel,
        outcomes.opportunity_type,
        outcomes.is_won,
        outcomes.is_lost,
        coalesce(outcomes.amount_usd, 0) as amount_usd,
        outcomes.sales_cycle_days
    from outcomes
    where outcomes.close_quarter is not null
),

totals as (
    select
        closed.close_quarter,
        closed.segment,
        closed.channel,
        closed.opportunity_type,
        count(*) filter (where closed.is_won) as won_deals_count,
        count(*) filter (where closed.is_lost) as lost_deals_count,
        coalesce(sum(closed.amount_usd) filter (where closed.is_won), 0) as won_amount_usd,
        coalesce(sum(closed.amount_usd) filter (where closed.is_lost), 0) as lost_amount_usd,
        median(closed.sales_cycle_days) filter (where closed.is_won) as median_won_sales_cycle_days,
        avg(closed.sales_cycle_days) filter (where closed.is_won) as average_won_sales_cycle_days
    from closed
    group by closed.close_quarter, closed.segment, closed.channel, closed.opportunity_type
),

final as (
    select
        totals.close_quarter,                                                    -- first day of the quarter the deals closed in
        totals.segment,                                                          -- size segment of the buying account
        totals.channel,                                                          -- channel from the shared mapping
        totals.opportunity_type,                                                 -- deal type from the shared opportunity types (the new_business_type rows are the revenue team's win rate)
        totals.won_deals_count,                                                  -- opportunities won in the quarter
        totals.lost_deals_count,                                                 -- opportunities lost in the quarter
        totals.won_amount_usd,                                                   -- amount won in USD (missing amounts count 0)
        totals.lost_amount_usd,                                                  -- amount lost in USD (missing amounts count 0)
        totals.won_deals_count
        / nullif(totals.won_deals_count + totals.lost_deals_count, 0) as win_rate, -- won / (won + lost) deals, 0-1; null when none closed
        totals.won_amount_usd
        / nullif(totals.won_amount_usd + totals.lost_amount_usd, 0) as amount_win_rate, -- won / (won + lost) amount, 0-1; null when that amount is 0
        totals.median_won_sales_cycle_days,                                      -- median calendar days from creation to close of won deals; null when none won
        totals.average_won_sales_cycle_days                                      -- average calendar days from creation to close of won deals; null when none won
    from totals
)

select * from final
