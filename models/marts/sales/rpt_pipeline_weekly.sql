/*
name: rpt_pipeline_weekly
description: >-
  Weekly pipeline health by segment, stage, pipeline source and opportunity type: the deals open at the end of each week (Monday to
  Sunday) and their amount, the pipeline created in the week, the deals aging in their stage, and the deals whose
  close date was pushed later during the week. Each deal counts under the stage in force at the end of the week,
  replayed from the stage-change history (int_opportunity_weeks_snapshotted), so past weeks show the pipeline as it
  stood then; the latest week is the one holding the latest change in the data and shows the CRM as it is now. The
  pipeline source is who sourced the deal by its channel: sales for the shared sales-sourced channels, product for
  the product-sourced ones, marketing for every other channel. Open means a stage that is neither the shared won
  nor lost stage. Pipeline created is valued at the deal's current amount, so it reconciles with the CRM's own
  opportunity report; open and slipped pipeline use the amount in force at the end of the week. Weeks run from Monday
  00:00 in the reporting time zone (definitions.reporting). Every deal type is counted, each in its own rows
  (opportunity_type from definitions.opportunity_types), so new-business pipeline is read apart from expansion and
  renewal pipeline.
grain: [week_start, segment, stage_name, pipeline_source, opportunity_type]
owner: team:revops
kpis:
  - name: open_deals_count
    formula: count of opportunities open at the end of the week
    grain: week x segment x stage at week end x pipeline source x opportunity type
    filters: stage in force at week end is neither the shared won nor lost stage
    owner: team:sales
  - name: open_pipeline_usd
    formula: sum of the amount in force at week end of the opportunities open at the end of the week (0 when none)
    grain: week x segment x stage at week end x pipeline source x opportunity type
    filters: stage in force at week end is neither the shared won nor lost stage
    owner: team:sales
  - name: created_deals_count
    formula: count of opportunities whose created_at falls in the week
    grain: week x segment x stage at the end of the creation week x pipeline source x opportunity type
    owner: team:revops
  - name: created_pipeline_usd
    formula: sum of the current amount_usd of opportunities whose created_at falls in the week (0 when none)
    grain: week x segment x stage at the end of the creation week x pipeline source x opportunity type
    owner: team:revops
  - name: aging_deals_count
    formula: count of opportunities open at week end that had sat in their stage longer than pipeline__stage_aging_days
    grain: week x segment x stage at week end x pipeline source x opportunity type
    filters: open at week end; days in stage known
    owner: team:sales
  - name: slipped_deals_count
    formula: count of opportunities open at week end whose close date was pushed later during the week
    grain: week x segment x stage at week end x pipeline source x opportunity type
    filters: open at week end
    owner: team:sales
  - name: slipped_pipeline_usd
    formula: sum of the amount in force at week end of the slipped deals (0 when none)
    grain: week x segment x stage at week end x pipeline source x opportunity type
    filters: open at week end
    owner: team:sales*/
with

opportunity_weeks as (select * from intermediate.int_opportunity_weeks_snapshotted),

classified as (select * from intermediate.int_opportunities_classified),

-- who sourced each deal, by its channel
sourced_opportunities as (
    select
        classified.opportunity_id,
        classified.segment,
        classified.opportunity_type,
        classified.amount_usd as current_amount_usd,
        classified.pipeline_source
    from classified
),

deal_weeks as (
    select
        opportunity_weeks.week_start,
        sourced_opportunities.segment,
        opportunity_weeks.stage_name,
        sourced_opportunities.pipeline_source,
        sourced_opportunities.opportunity_type,
        opportunity_weeks.is_open,
        opportunity_weeks.is_created_week,
        opportunity_weeks.is_open and opportunity_weeks.is_slipped as is_slipped_open,
        opportunity_weeks.is_aging,
        coalesce(opportunity_weeks.amount_usd, 0) as amount_usd,
        coalesce(sourced_opportunities.current_amount_usd, 0) as current_amount_usd
    from opportunity_weeks
    inner join sourced_opportunities on opportunity_weeks.opportunity_id = sourced_opportunities.opportunity_id
),

final as (
    select
        deal_weeks.week_start,                                                            -- Monday the week starts on
        deal_weeks.segment,                                                               -- size segment of the buying account
        deal_weeks.stage_name,                                                            -- stage in force at the end of the week
        deal_weeks.pipeline_source,                                                       -- who sourced the deal: sales, product or marketing
        deal_weeks.opportunity_type,                                                      -- deal type from the shared opportunity types (New Business, Expansion, Renewal, Other)
        count(*) filter (where deal_weeks.is_open) as open_deals_count,                   -- deals open at week end
        coalesce(
            sum(deal_weeks.amount_usd) filter (where deal_weeks.is_open), 0
        ) as open_pipeline_usd,                                                           -- amount of the open deals at week end, in USD (0 when none)
        count(*) filter (where deal_weeks.is_created_week) as created_deals_count,        -- deals created this week
        coalesce(
            sum(deal_weeks.current_amount_usd) filter (where deal_weeks.is_created_week), 0
        ) as created_pipeline_usd,                                                        -- current amount of the deals created this week, in USD (0 when none)
        count(*) filter (where deal_weeks.is_aging) as aging_deals_count,                 -- open deals in their stage longer than the aging threshold
        count(*) filter (where deal_weeks.is_slipped_open) as slipped_deals_count,        -- open deals whose close date was pushed later this week
        coalesce(
            sum(deal_weeks.amount_usd) filter (where deal_weeks.is_slipped_open), 0
        ) as slipped_pipeline_usd                                                         -- amount of the slipped deals at week end, in USD (0 when none)
    from deal_weeks
    group by
        deal_weeks.week_start,
        deal_weeks.segment,
        deal_weeks.stage_name,
        deal_weeks.pipeline_source,
        deal_weeks.opportunity_type
)

select * from final
