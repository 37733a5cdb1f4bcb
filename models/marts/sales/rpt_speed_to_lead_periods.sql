/*
name: rpt_speed_to_lead_periods
description: >-
  Speed-to-lead per week and per month of the MQL, by lead owner, owner team and segment: MQLs, how many were
  touched, met the SLA, breached it or were never touched, the SLA adherence rate, and the median and 90th
  percentile minutes to the first touch. Each period type (week, month) covers every MQL once, so both add up to
  the fact table. A lead without an owner (or whose owner is not a CRM user) counts under the definitions' unassigned label (reporting.unassigned_label).
  The SLA adherence rate of a row with fewer MQLs than the shared minimum base of leads (definitions.minimum_bases)
  is null, with the reason "base below minimum" in sla_adherence_null_reason; the counts are always there.
grain: [period_type, period_start, owner_user_id, owner_team, segment]
owner: team:sales
kpis:
  - name: mql_count
    formula: count of leads whose MQL falls in the period
    grain: period (week or month of the MQL) x lead owner x owner team x segment
    owner: team:marketing
  - name: touched_count
    formula: count of those MQLs with a sales touch at or after the MQL
    grain: period (week or month of the MQL) x lead owner x owner team x segment
    owner: team:sales
  - name: within_sla_count
    formula: count of those MQLs first touched within the speed-to-lead SLA minutes of the MQL
    grain: period (week or month of the MQL) x lead owner x owner team x segment
    owner: team:sales
  - name: sla_breached_count
    formula: >-
      count of those MQLs first touched after the SLA, or never touched with the SLA run out by the data's latest
      timestamp
    grain: period (week or month of the MQL) x lead owner x owner team x segment
    owner: team:sales
  - name: never_touched_count
    formula: count of those MQLs with no sales touch at or after the MQL
    grain: period (week or month of the MQL) x lead owner x owner team x segment
    owner: team:sales
  - name: sla_adherence_rate
    formula: MQLs first touched within the SLA / MQLs (null when there are fewer MQLs than minimum_bases__leads)
    numerator: count of MQLs first touched within the speed-to-lead SLA minutes
    denominator: count of MQLs
    grain: period (week or month of the MQL) x lead owner x owner team x segment
    owner: team:sales
  - name: median_minutes_to_first_touch
    formula: median of minutes from MQL to first touch over the touched MQLs (null when none was touched)
    grain: period (week or month of the MQL) x lead owner x owner team x segment
    filters: touched MQLs only
    owner: team:sales
  - name: p90_minutes_to_first_touch
    formula: >-
      90th percentile (continuous, interpolated) of minutes from MQL to first touch over the touched MQLs (null
      when none was touched)
    grain: period (week or month of the MQL) x lead owner x owner team x segment
    filters: touched MQLs only
    owner: team:sales*/
with

facts as (select * from marts.fct_speed_to_lead),

reporting as (select * from definitions.reporting),

thresholds as (select * from definitions.thresholds),

periods as (
    select
        'week' as period_type,
        facts.mql_week as period_start,
        facts.owner_user_id,
        facts.owner_team,
        facts.segment,
        facts.is_touched,
        facts.is_within_sla,
        facts.is_sla_breached,
        facts.is_never_touched,
        facts.minutes_to_first_touch
    from facts

    union all

    select
        'month' as period_type,
        facts.mql_month as period_start,
        facts.owner_user_id,
        facts.owner_team,
        facts.segment,
        facts.is_touched,
        facts.is_within_sla,
        facts.is_sla_breached,
        facts.is_never_touched,
        facts.minutes_to_first_touch
    from facts
),

assigned as (
    select
        periods.period_type,
        periods.period_start,
        coalesce(periods.owner_user_id, reporting.unassigned_label) as owner_user_id,
        coalesce(periods.owner_team, reporting.unassigned_label) as owner_team,
        periods.segment,
        periods.is_touched,
        periods.is_within_sla,
        periods.is_sla_breached,
        periods.is_never_touched,
        periods.minutes_to_first_touch
    from periods
    cross join reporting
),

final as (
    select
        assigned.period_type,                                                -- week or month
        assigned.period_start,                                               -- Monday of the week, or first day of the month, of the MQL
        assigned.owner_user_id,                                              -- lead owner (CRM user id); the unassigned label when the lead has none
        assigned.owner_team,                                                 -- team of the lead owner; the unassigned label when unknown
        assigned.segment,                                                    -- size segment from the shared bands
        count(*) as mql_count,                                               -- MQLs in the period
        count(*) filter (where assigned.is_touched) as touched_count,        -- MQLs touched at or after the MQL
        count(*) filter (where assigned.is_within_sla) as within_sla_count,  -- MQLs first touched within the SLA
        count(*) filter (where assigned.is_sla_breached) as sla_breached_count, -- MQLs touched late, or untouched past the SLA
        count(*) filter (where assigned.is_never_touched) as never_touched_count, -- MQLs with no touch at or after the MQL yet
        case
            when count(*) >= min(thresholds.minimum_bases__leads)
                then count(*) filter (where assigned.is_within_sla) / count(*)
        end as sla_adherence_rate,                                           -- within SLA / MQLs, 0..1; null when fewer MQLs than minimum_bases__leads
        case
            when count(*) < min(thresholds.minimum_bases__leads) then 'base below minimum'
        end as sla_adherence_null_reason,                                    -- why sla_adherence_rate is null: fewer MQLs than minimum_bases__leads ('base below minimum'); null when it is not
        median(assigned.minutes_to_first_touch) as median_minutes_to_first_touch, -- median minutes MQL to first touch, touched MQLs (null when none)
        quantile_cont(assigned.minutes_to_first_touch, 0.9) as p90_minutes_to_first_touch -- 90th percentile of the same (null when none touched)
    from assigned
    cross join thresholds
    group by
        assigned.period_type,
        assigned.period_start,
        assigned.owner_user_id,
        assigned.owner_team,
        assigned.segment
)

select * from final
