/*
name: rpt_funnel_monthly
description: >-
  The monthly funnel by channel and segment: leads created and converted, opportunities created and won, and the
  amount won. Each count sits in the month its event happened (not a cohort view), so months add up across the
  year and the table reconciles with the CRM's own reports.
grain: [funnel_month, channel, segment]
owner: team:revops
kpis:
  - name: leads_created_count
    formula: count of leads whose created_at falls in the month
    grain: month x channel x segment (of the lead)
    owner: team:marketing
  - name: leads_converted_count
    formula: count of converted leads whose converted_date falls in the month
    grain: month x channel x segment (of the lead)
    owner: team:sales
  - name: opportunities_created_count
    formula: count of opportunities whose created_at falls in the month
    grain: month x channel x segment (of the buying account)
    owner: team:sales
  - name: opportunities_won_count
    formula: count of won opportunities whose close_date falls in the month
    grain: month x channel x segment (of the buying account)
    owner: team:sales
  - name: won_amount_usd
    formula: sum of amount_usd of won opportunities whose close_date falls in the month (0 when none)
    grain: month x channel x segment (of the buying account)
    owner: team:sales*/
with

leads as (select * from intermediate.int_leads_classified),

opportunities as (select * from intermediate.int_opportunities_classified),

reporting as (select * from definitions.reporting),

funnel_events as (
    select
        cast(date_trunc('month', cast(leads.created_at as timestamptz) at time zone reporting.time_zone) as date)
            as funnel_month,
        leads.channel,
        leads.segment,
        'lead_created' as funnel_event,
        0 as amount_usd
    from leads
    cross join reporting

    union all

    select
        cast(date_trunc('month', leads.converted_date) as date) as funnel_month,
        leads.channel,
        leads.segment,
        'lead_converted' as funnel_event,
        0 as amount_usd
    from leads
    where leads.is_converted and leads.converted_date is not null

    union all

    select
        cast(
            date_trunc('month', cast(opportunities.created_at as timestamptz) at time zone reporting.time_zone)
            as date
        ) as funnel_month,
        opportunities.channel,
        opportunities.segment,
        'opportunity_created' as funnel_event,
        0 as amount_usd
    from opportunities
    cross join reporting

    union all

    select
        cast(date_trunc('month', opportunities.close_date) as date) as funnel_month,
        opportunities.channel,
        opportunities.segment,
        'opportunity_won' as funnel_event,
        opportunities.amount_usd
    from opportunities
    where opportunities.is_won and opportunities.close_date is not null
),

final as (
    select
        funnel_events.funnel_month,                                                          -- first day of the month
        funnel_events.channel,                                                               -- channel from the shared mapping
        funnel_events.segment,                                                               -- size segment
        count(*) filter (where funnel_events.funnel_event = 'lead_created') as leads_created_count,         -- leads created
        count(*) filter (where funnel_events.funnel_event = 'lead_converted') as leads_converted_count,     -- leads converted
        count(*) filter (where funnel_events.funnel_event = 'opportunity_created') as opportunities_created_count, -- opportunities created
        count(*) filter (where funnel_events.funnel_event = 'opportunity_won') as opportunities_won_count, -- opportunities won
        coalesce(
            sum(funnel_events.amount_usd) filter (where funnel_events.funnel_event = 'opportunity_won'), 0
        ) as won_amount_usd                                                                  -- amount won in USD
    from funnel_events
    where funnel_events.funnel_month is not null
    group by funnel_events.funnel_month, funnel_events.channel, funnel_events.segment
)

select * from final
