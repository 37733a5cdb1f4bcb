/*
name: assert_created_pipeline_matches_opportunities
severity: error
description: >-
  Pipeline created over all weeks equals the number and the amount of the opportunities in
  int_opportunities_classified created in a week the report covers.
*/
select
    report.created_deals_count,
    facts.created_deals_count as facts_created_deals_count,
    report.created_pipeline_usd,
    facts.created_pipeline_usd as facts_created_pipeline_usd
from (
    select
        coalesce(sum(created_deals_count), 0) as created_deals_count,
        coalesce(sum(created_pipeline_usd), 0) as created_pipeline_usd,
        min(week_start) as first_week_start,
        max(week_start) as latest_week_start
    from marts.rpt_pipeline_weekly
) as report
cross join (
    select
        count(*) as created_deals_count,
        coalesce(sum(classified.amount_usd), 0) as created_pipeline_usd
    from intermediate.int_opportunities_classified as classified
    cross join (
        select min(week_start) as first_week_start, max(week_start) as latest_week_start
        from marts.rpt_pipeline_weekly
    ) as weeks
    cross join definitions.reporting as reporting
    where
        cast(
            date_trunc('week', cast(classified.created_at as timestamptz) at time zone reporting.time_zone)
            as date
        ) between weeks.first_week_start and weeks.latest_week_start
) as facts
where
    report.created_deals_count <> facts.created_deals_count
    or abs(report.created_pipeline_usd - facts.created_pipeline_usd) > 0.005;

/*
name: assert_latest_open_pipeline_matches_open_opportunities
severity: error
description: >-
  In the latest week, the open deals and open pipeline equal the opportunities whose current stage is neither
  the shared won nor lost stage, and their current amounts.
*/
select
    report.open_deals_count,
    facts.open_deals_count as facts_open_deals_count,
    report.open_pipeline_usd,
    facts.open_pipeline_usd as facts_open_pipeline_usd
from (
    select
        coalesce(sum(open_deals_count), 0) as open_deals_count,
        coalesce(sum(open_pipeline_usd), 0) as open_pipeline_usd
    from marts.rpt_pipeline_weekly
    where week_start = (select max(week_start) from marts.rpt_pipeline_weekly)
) as report
cross join (
    select
        count(*) as open_deals_count,
        coalesce(sum(classified.amount_usd), 0) as open_pipeline_usd
    from intermediate.int_opportunities_classified as classified
    left join definitions.opportunity_stages as stages on classified.stage_name = stages.stage_name
    where classified.created_at is not null and not coalesce(stages.is_won or stages.is_lost, false)
) as facts
where
    report.open_deals_count <> facts.open_deals_count
    or abs(report.open_pipeline_usd - facts.open_pipeline_usd) > 0.005;
