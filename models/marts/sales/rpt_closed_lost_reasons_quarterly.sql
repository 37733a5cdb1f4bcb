/*
name: rpt_closed_lost_reasons_quarterly
description: >-
  Why new business is lost, per quarter of close and closed-lost reason from the shared taxonomy: lost deals, lost amount,
  the reason's share of the quarter's lost deals, its bucket (the team that owns it), and its rank. Reasons are
  ranked within the quarter by lost amount, then by lost deals, then by name (so ties rank deterministically); the
  three best-ranked are the list product commits to address next quarter (is_top_3). The unspecified reason (no
  reason or an unknown one) is counted and shared but never ranked: nobody can address "no reason recorded". A
  reason appears in a quarter only when at least one deal was lost for it; lost deals with no close time are in no
  quarter. Only new-business deals count (the shared new_business_type, definitions.opportunity_types): a lost
  renewal is churn, reported with retention, and a lost expansion is not a lost customer.
grain: [close_quarter, loss_reason]
owner: team:product
kpis:
  - name: lost_deals_count
    formula: count of opportunities lost in the quarter for the reason
    grain: quarter of close x closed-lost reason
    filters: new business only (definitions.opportunity_types); current stage is the shared lost stage; close time known
    owner: team:sales
  - name: lost_amount_usd
    formula: sum of amount_usd of opportunities lost in the quarter for the reason (missing amounts count 0)
    grain: quarter of close x closed-lost reason
    filters: new business only (definitions.opportunity_types); current stage is the shared lost stage; close time known
    owner: team:sales
  - name: lost_deals_share
    formula: deals lost for the reason / deals lost in the quarter (null when none were lost)
    numerator: count of opportunities lost in the quarter for the reason
    denominator: count of new-business opportunities lost in the quarter, every reason including the unspecified one
    grain: quarter of close x closed-lost reason
    filters: new business only (definitions.opportunity_types); current stage is the shared lost stage; close time known
    owner: team:product*/
with

outcomes as (select * from marts.fct_opportunity_outcomes),

closed_lost_reasons as (select * from definitions.closed_lost_reasons),

lost as (
    select
        outcomes.close_quarter,
        outcomes.loss_reason,
        outcomes.loss_reason_bucket,
        coalesce(outcomes.amount_usd, 0) as amount_usd
    from outcomes
    where outcomes.is_lost and outcomes.is_new_business and outcomes.close_quarter is not null
),

by_reason as (
    select
        lost.close_quarter,
        lost.loss_reason,
        lost.loss_reason_bucket,
        closed_lost_reasons.is_unspecified,
        count(*) as lost_deals_count,
        sum(lost.amount_usd) as lost_amount_usd
    from lost
    inner join closed_lost_reasons on lost.loss_reason = closed_lost_reasons.loss_reason
    group by lost.close_quarter, lost.loss_reason, lost.loss_reason_bucket, closed_lost_reasons.is_unspecified
),

ranked as (
    select
        by_reason.*,
        sum(by_reason.lost_deals_count) over (partition by by_reason.close_quarter) as quarter_lost_deals_count,
        case
            when not by_reason.is_unspecified
                then row_number() over (
                    partition by by_reason.close_quarter, by_reason.is_unspecified
                    order by by_reason.lost_amount_usd desc, by_reason.lost_deals_count desc, by_reason.loss_reason
                )
        end as loss_reason_rank
    from by_reason
),

final as (
    select
        ranked.close_quarter,                                                    -- first day of the quarter the deals closed in
        ranked.loss_reason,                                                      -- closed-lost reason from the shared taxonomy
        ranked.loss_reason_bucket,                                               -- bucket of the team that owns the reason
        ranked.is_unspecified as is_unspecified_reason,                          -- the unspecified reason: lost with no or an unknown reason
        ranked.lost_deals_count,                                                 -- opportunities lost in the quarter for the reason
        ranked.lost_amount_usd,                                                  -- their amount in USD (missing amounts count 0)
        cast(ranked.quarter_lost_deals_count as bigint) as quarter_lost_deals_count, -- opportunities lost in the quarter, every reason
        ranked.lost_deals_count / nullif(ranked.quarter_lost_deals_count, 0) as lost_deals_share, -- share of the quarter's lost deals, 0-1 (null when none were lost; never, as a row needs one)
        ranked.loss_reason_rank,                                                 -- 1 = most lost amount, then most deals, then name; null for the unspecified reason
        coalesce(ranked.loss_reason_rank <= 3, false) as is_top_3                -- one of the three reasons product commits to address next quarter
    from ranked
)

select * from final
