/*
name: assert_period_totals_match_facts
severity: error
description: >-
  For each period type (week, month), MQLs, MQLs within the SLA and MQLs never touched summed over all rows
  equal the counts in fct_speed_to_lead.
*/
select period_types.period_type, rolled_up.mql_count, rolled_up.within_sla_count, rolled_up.never_touched_count,
    facts.mql_count as facts_mql_count, facts.within_sla_count as facts_within_sla_count,
    facts.never_touched_count as facts_never_touched_count
from (select 'week' as period_type union all select 'month' as period_type) as period_types
left join (
    select
        period_type,
        sum(mql_count) as mql_count,
        sum(within_sla_count) as within_sla_count,
        sum(never_touched_count) as never_touched_count
    from marts.rpt_speed_to_lead_periods
    group by period_type
) as rolled_up on period_types.period_type = rolled_up.period_type
cross join (
    select
        count(*) as mql_count,
        count(*) filter (where is_within_sla) as within_sla_count,
        count(*) filter (where is_never_touched) as never_touched_count
    from marts.fct_speed_to_lead
) as facts
where
    coalesce(rolled_up.mql_count, 0) <> facts.mql_count
    or coalesce(rolled_up.within_sla_count, 0) <> facts.within_sla_count
    or coalesce(rolled_up.never_touched_count, 0) <> facts.never_touched_count;
