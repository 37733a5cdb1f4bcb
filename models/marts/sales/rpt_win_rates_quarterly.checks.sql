/*
name: assert_won_and_lost_deals_match_outcomes
severity: error
description: Per quarter, won and lost deals and their amounts equal those of fct_opportunity_outcomes.
*/
select
    coalesce(win_rates.close_quarter, outcomes.close_quarter) as close_quarter,
    win_rates.won_deals_count,
    outcomes.won_deals_count as outcomes_won_deals_count,
    win_rates.lost_deals_count,
    outcomes.lost_deals_count as outcomes_lost_deals_count,
    win_rates.won_amount_usd,
    outcomes.won_amount_usd as outcomes_won_amount_usd
from (
    select
        close_quarter,
        sum(won_deals_count) as won_deals_count,
        sum(lost_deals_count) as lost_deals_count,
        sum(won_amount_usd) as won_amount_usd,
        sum(lost_amount_usd) as lost_amount_usd
    from marts.rpt_win_rates_quarterly
    group by close_quarter
) as win_rates
full outer join (
    select
        close_quarter,
        count(*) filter (where is_won) as won_deals_count,
        count(*) filter (where is_lost) as lost_deals_count,
        coalesce(sum(amount_usd) filter (where is_won), 0) as won_amount_usd,
        coalesce(sum(amount_usd) filter (where is_lost), 0) as lost_amount_usd
    from marts.fct_opportunity_outcomes
    where close_quarter is not null
    group by close_quarter
) as outcomes on win_rates.close_quarter = outcomes.close_quarter
where
    win_rates.close_quarter is null
    or outcomes.close_quarter is null
    or win_rates.won_deals_count <> outcomes.won_deals_count
    or win_rates.lost_deals_count <> outcomes.lost_deals_count
    or abs(win_rates.won_amount_usd - outcomes.won_amount_usd) > 0.005
    or abs(win_rates.lost_amount_usd - outcomes.lost_amount_usd) > 0.005;

/*
name: assert_win_rates_between_zero_and_one
severity: error
description: Both win rates lie between 0 and 1 whenever they are defined.
*/
select close_quarter, segment, channel, opportunity_type, win_rate, amount_win_rate
from marts.rpt_win_rates_quarterly
where win_rate not between 0 and 1 or amount_win_rate not between 0 and 1;
