/*
name: rpt_funnel_cohorts_monthly
description: >-
  The funnel as monthly cohorts, by channel, segment and owner team, in two cohort types: `mql_month` (leads by the
  month of their MQL) and `created_month` (leads by the month they were created). Stages in order: entered the
  funnel -> sales-accepted -> opportunity created -> sales-qualified -> won. Under the shared definitions a lead is
  sales-qualified when its opportunity reaches the sales-qualified stage, so the opportunity exists before the lead
  is sales-qualified. A cohort counts a stage only when the lead reached it within the shared
  funnel__conversion_window_days (definitions.thresholds) of the cohort's starting event (the MQL for `mql_month`,
  the creation for `created_month`) and reached every earlier stage too, so counts never grow from one stage to the
  next and young and old cohorts compare fairly. Entering the funnel is the MQL, except for sales-sourced leads,
  which skip the MQL gate and enter when sales accepts them (their entry and acceptance are one event): they are
  never in `mql_month` cohorts, and in `created_month` cohorts they count as entered and accepted when accepted
  within the window; mql_count shows how many of the entered leads came in through an MQL. In `mql_month` cohorts
  every lead entered at the start, so cohort_lead_count = funnel_entered_count = mql_count. Stage times and the
  owner team come from marts.fct_lead_funnel (leads without a creation time are in no `created_month` cohort).
  A cohort is mature once the window has fully elapsed for its last possible member, measured against the latest
  lead creation in the data (not the clock, so a rebuild gives the same table); the rates of an immature cohort
  can still rise. Ratios are null when their denominator is 0, or below the shared minimum base of leads
  (definitions.thresholds.minimum_bases__leads: a conversion rate on fewer leads than that is not published), with the reason in
  a *_null_reason column ("base below minimum"); medians and p90s are null when no lead in the row made that
  step. For counts of each event in the month it happened (same-period, not cohort), see
  marts.rpt_funnel_monthly.
grain: [cohort_type, cohort_month, channel, segment, owner_team]
owner: team:revops
kpis:
  - name: cohort_lead_count
    formula: count of leads whose starting event (MQL for mql_month, creation for created_month) falls in the month
    grain: cohort type x cohort month x channel x segment x owner team
    owner: team:marketing
  - name: funnel_entered_count
    formula: count of cohort leads that entered the funnel (MQL, or sales acceptance of a sales-sourced lead) within the window
    grain: cohort type x cohort month x channel x segment x owner team
    filters: reached within funnel__conversion_window_days of the cohort's starting event
    owner: team:marketing
  - name: accepted_count
    formula: count of cohort leads that entered the funnel and were sales-accepted within the window
    grain: cohort type x cohort month x channel x segment x owner team
    filters: this and every earlier stage reached within funnel__conversion_window_days of the cohort's starting event
    owner: team:sales
  - name: opportunity_count
    formula: count of accepted cohort leads whose converted opportunity was created within the window
    grain: cohort type x cohort month x channel x segment x owner team
    filters: this and every earlier stage reached within funnel__conversion_window_days of the cohort's starting event
    owner: team:sales
  - name: sales_qualified_count
    formula: count of cohort leads with an opportunity that became sales-qualified within the window
    grain: cohort type x cohort month x channel x segment x owner team
    filters: this and every earlier stage reached within funnel__conversion_window_days of the cohort's starting event
    owner: team:sales
  - name: won_count
    formula: count of sales-qualified cohort leads whose opportunity was won within the window
    grain: cohort type x cohort month x channel x segment x owner team
    filters: this and every earlier stage reached within funnel__conversion_window_days of the cohort's starting event
    owner: team:sales
  - name: funnel_entered_to_accepted_rate
    formula: accepted_count / funnel_entered_count (null when funnel_entered_count is 0 or below minimum_bases__leads)
    numerator: accepted_count
    denominator: funnel_entered_count
    grain: cohort type x cohort month x channel x segment x owner team
    filters: stages reached within funnel__conversion_window_days of the cohort's starting event
    owner: team:sales
  - name: accepted_to_opportunity_rate
    formula: opportunity_count / accepted_count (null when accepted_count is 0 or below minimum_bases__leads)
    numerator: opportunity_count
    denominator: accepted_count
    grain: cohort type x cohort month x channel x segment x owner team
    filters: stages reached within funnel__conversion_window_days of the cohort's starting event
    owner: team:sales
  - name: opportunity_to_sales_qualified_rate
    formula: sales_qualified_count / opportunity_count (null when opportunity_count is 0 or below minimum_bases__leads)
    numerator: sales_qualified_count
    denominator: opportunity_count
    grain: cohort type x cohort month x channel x segment x owner team
    filters: stages reached within funnel__conversion_window_days of the cohort's starting event
    owner: team:sales
  - name: sales_qualified_to_won_rate
    formula: won_count / sales_qualified_count (null when sales_qualified_count is 0 or below minimum_bases__leads)
    numerator: won_count
    denominator: sales_qualified_count
    grain: cohort type x cohort month x channel x segment x owner team
    filters: stages reached within funnel__conversion_window_days of the cohort's starting event
    owner: team:sales
  - name: cohort_to_won_rate
    formula: won_count / cohort_lead_count (null when cohort_lead_count is 0 or below minimum_bases__leads)
    numerator: won_count
    denominator: cohort_lead_count
    grain: cohort type x cohort month x channel x segment x owner team
    filters: stages reached within funnel__conversion_window_days of the cohort's starting event
    owner: team:revops
  - name: median_days_to_won
    formula: quantile_cont(0.5) of fractional days from the cohort's starting event to won, over the cohort's won leads
    grain: cohort type x cohort month x channel x segment x owner team
    filters: won leads counted in won_count
    owner: team:revops*/
with

funnel as (select * from marts.fct_lead_funnel),

thresholds as (select * from definitions.thresholds),

horizon as (select * from definitions.data_horizon),

reporting as (select * from definitions.reporting),

data_as_of as (
    -- the reference point for maturity: the latest lead creation in the data (never the clock), and never after the
    -- run's as-of time
    select least(max(funnel.created_at), min(horizon.as_of_at)) as latest_created_at
    from funnel
    cross join horizon
),

cohort_members as (
    select
        'mql_month' as cohort_type,
        cast(date_trunc('month', cast(funnel.mql_at as timestamptz) at time zone reporting.time_zone) as date)
            as cohort_month,
        funnel.mql_at as cohort_started_at,
        funnel.lead_id,
        funnel.channel,
        funnel.segment,
        funnel.owner_team,
        funnel.mql_at,
        funnel.funnel_entered_at,
        funnel.accepted_at,
        funnel.opportunity_created_at,
        funnel.sales_qualified_at,
        funnel.won_at
    from funnel
    cross join reporting
    where funnel.mql_at is not null

    union all

    select
        'created_month' as cohort_type,
        cast(date_trunc('month', cast(funnel.created_at as timestamptz) at time zone reporting.time_zone) as date)
            as cohort_month,
        funnel.created_at as cohort_started_at,
        funnel.lead_id,
        funnel.channel,
        funnel.segment,
        funnel.owner_team,
        funnel.mql_at,
        funnel.funnel_entered_at,
        funnel.accepted_at,
        funnel.opportunity_created_at,
        funnel.sales_qualified_at,
        funnel.won_at
    from funnel
    cross join reporting
    where funnel.created_at is not null
),

windowed as (
    select
        cohort_members.*,
        cohort_members.cohort_started_at
        + thresholds.funnel__conversion_window_days * interval 1 day as window_ends_at
    from cohort_members
    cross join thresholds
),

entered as (
    -- each stage counts only when reached within the window and after every earlier stage was counted
    select
        windowed.*,
        coalesce(windowed.funnel_entered_at <= windowed.window_ends_at, false) as is_funnel_entered,
        coalesce(windowed.mql_at <= windowed.window_ends_at, false) as is_mql
    from windowed
),

accepted as (
    select
        entered.*,
        entered.is_funnel_entered and coalesce(entered.accepted_at <= entered.window_ends_at, false) as is_accepted
    from entered
),

opportunity as (
    select
        accepted.*,
        accepted.is_accepted
        and coalesce(accepted.opportunity_created_at <= accepted.window_ends_at, false) as is_opportunity
    from accepted
),

sales_qualified as (
    select
        opportunity.*,
        opportunity.is_opportunity
        and coalesce(opportunity.sales_qualified_at <= opportunity.window_ends_at, false) as is_sales_qualified
    from opportunity
),

won as (
    select
        sales_qualified.*,
        sales_qualified.is_sales_qualified
        and coalesce(sales_qualified.won_at <= sales_qualified.window_ends_at, false) as is_won
    from sales_qualified
),

stage_days as (
    -- fractional days of each step, for the leads counted at the step's later stage
    select
        won.*,
        case
            when won.is_funnel_entered
                then (epoch(won.funnel_entered_at) - epoch(won.cohort_started_at)) / 86400.0
        end as days_to_funnel_entered,
        case
            when won.is_accepted then (epoch(won.accepted_at) - epoch(won.funnel_entered_at)) / 86400.0
        end as days_funnel_entered_to_accepted,
        case
            when won.is_opportunity then (epoch(won.opportunity_created_at) - epoch(won.accepted_at)) / 86400.0
        end as days_accepted_to_opportunity,
        case
            when won.is_sales_qualified
                then (epoch(won.sales_qualified_at) - epoch(won.opportunity_created_at)) / 86400.0
        end as days_opportunity_to_sales_qualified,
        case
            when won.is_won then (epoch(won.won_at) - epoch(won.sales_qualified_at)) / 86400.0
        end as days_sales_qualified_to_won,
        case
            when won.is_won then (epoch(won.won_at) - epoch(won.cohort_started_at)) / 86400.0
        end as days_to_won,
        (
            epoch(greatest(
                case when won.is_funnel_entered then won.funnel_entered_at end,
                case when won.is_mql then won.mql_at end,
                case when won.is_accepted then won.accepted_at end,
                case when won.is_opportunity then won.opportunity_created_at end,
                case when won.is_sales_qualified then won.sales_qualified_at end,
                case when won.is_won then won.won_at end
            ))
            - epoch(won.cohort_started_at)
        ) / 86400.0 as days_to_last_counted_stage
    from won
),

cohorts as (
    select
        stage_days.cohort_type,
        stage_days.cohort_month,
        stage_days.channel,
        stage_days.segment,
        stage_days.owner_team,
        count(*) as cohort_lead_count,
        count(*) filter (where stage_days.is_funnel_entered) as funnel_entered_count,
        count(*) filter (where stage_days.is_mql) as mql_count,
        count(*) filter (where stage_days.is_accepted) as accepted_count,
        count(*) filter (where stage_days.is_opportunity) as opportunity_count,
        count(*) filter (where stage_days.is_sales_qualified) as sales_qualified_count,
        count(*) filter (where stage_days.is_won) as won_count,
        quantile_cont(stage_days.days_to_funnel_entered, 0.5) as median_days_to_funnel_entered,
        quantile_cont(stage_days.days_to_funnel_entered, 0.9) as p90_days_to_funnel_entered,
        quantile_cont(stage_days.days_funnel_entered_to_accepted, 0.5) as median_days_funnel_entered_to_accepted,
        quantile_cont(stage_days.days_funnel_entered_to_accepted, 0.9) as p90_days_funnel_entered_to_accepted,
        quantile_cont(stage_days.days_accepted_to_opportunity, 0.5) as median_days_accepted_to_opportunity,
        quantile_cont(stage_days.days_accepted_to_opportunity, 0.9) as p90_days_accepted_to_opportunity,
        quantile_cont(stage_days.days_opportunity_to_sales_qualified, 0.5)
        as median_days_opportunity_to_sales_qualified,
        quantile_cont(stage_days.days_opportunity_to_sales_qualified, 0.9) as p90_days_opportunity_to_sales_qualified,
        quantile_cont(stage_days.days_sales_qualified_to_won, 0.5) as median_days_sales_qualified_to_won,
        quantile_cont(stage_days.days_sales_qualified_to_won, 0.9) as p90_days_sales_qualified_to_won,
        quantile_cont(stage_days.days_to_won, 0.5) as median_days_to_won,
        quantile_cont(stage_days.days_to_won, 0.9) as p90_days_to_won,
        max(stage_days.days_to_last_counted_stage) as max_days_to_counted_stage
    from stage_days
    group by
        stage_days.cohort_type,
        stage_days.cohort_month,
        stage_days.channel,
        stage_days.segment,
        stage_days.owner_team
),

-- when the window of a month's last possible member closes: the month's end in the reporting time zone plus the
-- window, as a UTC time (the local time minus the zone's offset, read at a first guess and then at the instant it
-- gives; the inverse of local = cast(utc as timestamptz) at time zone reporting.time_zone)
cohort_window_local_ends as (
    select distinct
        cohorts.cohort_month,
        cast(cohorts.cohort_month as timestamp) + interval 1 month
        + thresholds.funnel__conversion_window_days * interval 1 day as window_ends_local
    from cohorts
    cross join thresholds
),

cohort_window_guesses as (
    select
        cohort_window_local_ends.cohort_month,
        cohort_window_local_ends.window_ends_local,
        cohort_window_local_ends.window_ends_local - (
            (cast(cohort_window_local_ends.window_ends_local as timestamptz) at time zone reporting.time_zone)
            - cohort_window_local_ends.window_ends_local
        ) as window_ends_guess_at
    from cohort_window_local_ends
    cross join reporting
),

cohort_windows as (
    select
        cohort_window_guesses.cohort_month,
        cohort_window_guesses.window_ends_local - (
            (cast(cohort_window_guesses.window_ends_guess_at as timestamptz) at time zone reporting.time_zone)
            - cohort_window_guesses.window_ends_guess_at
        ) as window_ends_at
    from cohort_window_guesses
    cross join reporting
),

final as (
    select
        cohorts.cohort_type,                                                 -- mql_month (leads by MQL month) or created_month (leads by creation month)
        cohorts.cohort_month,                                                -- first day of the month of the cohort's starting event
        cohorts.channel,                                                     -- channel from the shared mapping
        cohorts.segment,                                                     -- size segment of the lead
        cohorts.owner_team,                                                  -- sales team of the lead's owner (the unassigned label when none)
        cohorts.cohort_lead_count,                                           -- leads whose starting event falls in the month
        cohorts.funnel_entered_count,                                        -- entered the funnel in the window: MQL, or accepted if sales-sourced
        cohorts.mql_count,                                                   -- of the entered leads, those that entered through an MQL in the window
        cohorts.accepted_count,                                              -- entered, then sales-accepted in the window
        cohorts.opportunity_count,                                           -- accepted, then their opportunity created in the window
        cohorts.sales_qualified_count,                                       -- opportunity, then sales-qualified in the window
        cohorts.won_count,                                                   -- sales-qualified, then won in the window
        case
            when cohorts.cohort_lead_count >= greatest(thresholds.minimum_bases__leads, 1)
                then cast(cohorts.funnel_entered_count as double) / cohorts.cohort_lead_count
        end as cohort_to_funnel_entered_rate,                         -- funnel_entered_count / cohort_lead_count; 1 for mql_month cohorts; null: see cohort_rates_null_reason
        case
            when cohorts.funnel_entered_count >= greatest(thresholds.minimum_bases__leads, 1)
                then cast(cohorts.accepted_count as double) / cohorts.funnel_entered_count
        end as funnel_entered_to_accepted_rate,                       -- accepted_count / funnel_entered_count; null: see funnel_entered_to_accepted_null_reason
        case
            when cohorts.accepted_count >= greatest(thresholds.minimum_bases__leads, 1)
                then cast(cohorts.opportunity_count as double) / cohorts.accepted_count
        end as accepted_to_opportunity_rate,                          -- opportunity_count / accepted_count; null: see accepted_to_opportunity_null_reason
        case
            when cohorts.opportunity_count >= greatest(thresholds.minimum_bases__leads, 1)
                then cast(cohorts.sales_qualified_count as double) / cohorts.opportunity_count
        end as opportunity_to_sales_qualified_rate,                   -- sales_qualified_count / opportunity_count; null: see opportunity_to_sales_qualified_null_reason
        case
            when cohorts.sales_qualified_count >= greatest(thresholds.minimum_bases__leads, 1)
                then cast(cohorts.won_count as double) / cohorts.sales_qualified_count
        end as sales_qualified_to_won_rate,                           -- won_count / sales_qualified_count; null: see sales_qualified_to_won_null_reason
        case
            when cohorts.cohort_lead_count >= greatest(thresholds.minimum_bases__leads, 1)
                then cast(cohorts.won_count as double) / cohorts.cohort_lead_count
        end as cohort_to_won_rate,                                    -- won_count / cohort_lead_count; null: see cohort_rates_null_reason
        case
            when cohorts.cohort_lead_count = 0 then 'no lead in the cohort'
            when cohorts.cohort_lead_count < thresholds.minimum_bases__leads then 'base below minimum'
        end as cohort_rates_null_reason,                              -- why the two rates over cohort_lead_count are null: no lead in the cohort, or fewer than minimum_bases__leads ('base below minimum'); null when not
        case
            when cohorts.funnel_entered_count = 0 then 'no lead entered the funnel'
            when cohorts.funnel_entered_count < thresholds.minimum_bases__leads then 'base below minimum'
        end as funnel_entered_to_accepted_null_reason,                -- why funnel_entered_to_accepted_rate is null: no lead entered the funnel, or fewer than minimum_bases__leads ('base below minimum'); null when not
        case
            when cohorts.accepted_count = 0 then 'no lead accepted'
            when cohorts.accepted_count < thresholds.minimum_bases__leads then 'base below minimum'
        end as accepted_to_opportunity_null_reason,                   -- why accepted_to_opportunity_rate is null: no lead accepted, or fewer than minimum_bases__leads ('base below minimum'); null when not
        case
            when cohorts.opportunity_count = 0 then 'no opportunity'
            when cohorts.opportunity_count < thresholds.minimum_bases__leads then 'base below minimum'
        end as opportunity_to_sales_qualified_null_reason,            -- why opportunity_to_sales_qualified_rate is null: no opportunity, or fewer than minimum_bases__leads ('base below minimum'); null when not
        case
            when cohorts.sales_qualified_count = 0 then 'no lead sales-qualified'
            when cohorts.sales_qualified_count < thresholds.minimum_bases__leads then 'base below minimum'
        end as sales_qualified_to_won_null_reason,                    -- why sales_qualified_to_won_rate is null: no lead sales-qualified, or fewer than minimum_bases__leads ('base below minimum'); null when not
        cohorts.median_days_to_funnel_entered,                               -- median days from the starting event to entering (0 in mql_month cohorts); null when none entered
        cohorts.p90_days_to_funnel_entered,                                  -- 90th percentile of the same days
        cohorts.median_days_funnel_entered_to_accepted,                      -- median days from entering to acceptance (0 for sales-sourced leads); null when none accepted
        cohorts.p90_days_funnel_entered_to_accepted,                         -- 90th percentile of the same days
        cohorts.median_days_accepted_to_opportunity,                         -- median days from acceptance to the opportunity's creation; null when no opportunity
        cohorts.p90_days_accepted_to_opportunity,                            -- 90th percentile of the same days
        cohorts.median_days_opportunity_to_sales_qualified,                  -- median days from the opportunity's creation to sales-qualified; null when none qualified
        cohorts.p90_days_opportunity_to_sales_qualified,                     -- 90th percentile of the same days
        cohorts.median_days_sales_qualified_to_won,                          -- median days from sales-qualified to won; null when none won
        cohorts.p90_days_sales_qualified_to_won,                             -- 90th percentile of the same days
        cohorts.median_days_to_won,                                          -- median days from the starting event to won; null when none won
        cohorts.p90_days_to_won,                                             -- 90th percentile of the same days
        cohorts.max_days_to_counted_stage,                                   -- the most fractional days from a lead's starting event to a stage the cohort counts for it (never past the window); null when none counted
        cohort_windows.window_ends_at as cohort_window_ends_at,              -- when the window of the month's last possible member closes (UTC; the month ends at midnight in the reporting time zone)
        data_as_of.latest_created_at as data_as_of_at,                       -- the latest lead creation in the data: the reference for maturity
        coalesce(
            cohort_windows.window_ends_at <= data_as_of.latest_created_at, false
        ) as is_cohort_mature                                                -- the window has fully elapsed for every lead of the cohort: its counts are final
    from cohorts
    inner join cohort_windows on cohorts.cohort_month = cohort_windows.cohort_month
    cross join thresholds
    cross join data_as_of
)

select * from final
