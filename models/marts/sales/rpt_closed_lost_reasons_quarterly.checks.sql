/*
name: assert_lost_deals_match_win_rates_and_outcomes
severity: error
description: >-
  Per quarter, the lost deals over all reasons equal the lost new-business deals in rpt_win_rates_quarterly and
  the lost new-business opportunities in fct_opportunity_outcomes.
*/
select
    coalesce(reasons.close_quarter, win_rates.close_quarter, outcomes.close_quarter) as close_quarter,
    reasons.lost_deals_count as reasons_lost_deals_count,
    win_rates.lost_deals_count as win_rates_lost_deals_count,
    outcomes.lost_deals_count as outcomes_lost_deals_count
from (
    select close_quarter, sum(lost_deals_count) as lost_deals_count
    from marts.rpt_closed_lost_reasons_quarterly
    group by close_quarter
) as reasons
full outer join (
    select close_quarter, sum(lost_deals_count) as lost_deals_count
    from marts.rpt_win_rates_quarterly
    where opportunity_type in (select opportunity_type from definitions.opportunity_types where is_new_business)
    group by close_quarter
) as win_rates on reasons.close_quarter = win_rates.close_quarter
full outer join (
    select close_quarter, count(*) as lost_deals_count
    from marts.fct_opportunity_outcomes
    where is_lost and is_new_business and close_quarter is not null
    group by close_quarter
) as outcomes on coalesce(reasons.close_quarter, win_rates.close_quarter) = outcomes.close_quarter
where
    coalesce(reasons.lost_deals_count, 0) <> coalesce(outcomes.lost_deals_count, 0)
    or coalesce(win_rates.lost_deals_count, 0) <> coalesce(outcomes.lost_deals_count, 0);

/*
name: assert_lost_amount_matches_outcomes
severity: error
description: Per quarter, the lost amount over all reasons equals the amount of the lost new-business opportunities.
*/
select reasons.close_quarter, reasons.lost_amount_usd, outcomes.lost_amount_usd as outcomes_lost_amount_usd
from (
    select close_quarter, sum(lost_amount_usd) as lost_amount_usd
    from marts.rpt_closed_lost_reasons_quarterly
    group by close_quarter
) as reasons
full outer join (
    select close_quarter, coalesce(sum(amount_usd), 0) as lost_amount_usd
    from marts.fct_opportunity_outcomes
    where is_lost and is_new_business and close_quarter is not null
    group by close_quarter
) as outcomes on reasons.close_quarter = outcomes.close_quarter
where
    reasons.close_quarter is null
    or outcomes.close_quarter is null
    or abs(reasons.lost_amount_usd - outcomes.lost_amount_usd) > 0.005;

/*
name: assert_at_most_three_top_reasons
severity: error
description: >-
  Per quarter, at most three reasons are in the top 3, they are ranks 1 to 3, and the shares add up to 1.
*/
select close_quarter, count(*) filter (where is_top_3) as top_reason_count, sum(lost_deals_share) as share_sum
from marts.rpt_closed_lost_reasons_quarterly
group by close_quarter
having
    count(*) filter (where is_top_3) > 3
    or count(*) filter (where is_top_3 and loss_reason_rank not between 1 and 3) > 0
    or abs(sum(lost_deals_share) - 1) > 0.000001;
