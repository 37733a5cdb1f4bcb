/*
name: rpt_lead_rejection_reasons_monthly
description: >-
  Why sales rejects leads, per month and channel: rejections per reason of the shared taxonomy (a rejection with
  no reason, or one outside the taxonomy, counts under the unspecified reason), each reason's share of the month
  and channel's rejections, and its rank. A rejection counts in the month of its rejected_at. Rank 1 is the most
  frequent reason; reasons with the same count are ranked by reason name (A before Z), so ranks are unique and
  consecutive (1, 2, 3, ...) in each month and channel and exactly one reason is the top one. A reason with no
  rejection in a month and channel has no row (read it as zero).
grain: [rejection_month, channel, rejection_reason]
owner: team:sales
kpis:
  - name: rejections_count
    formula: count of leads whose rejected_at falls in the month, by rejection reason of the shared taxonomy
    grain: month x channel (of the lead) x rejection reason
    owner: team:sales
  - name: rejection_share_rate
    formula: rejections with the reason / all rejections of the month and channel
    numerator: rejections_count of the reason
    denominator: rejections_count summed over every reason of the month and channel
    grain: month x channel (of the lead) x rejection reason
    owner: team:sales
  - name: rejection_reason_rank
    formula: dense_rank() over the month and channel, by rejections_count descending, then reason name ascending
    grain: month x channel (of the lead) x rejection reason
    owner: team:sales*/
with

lifecycle as (select * from intermediate.int_leads_lifecycle),

rejection_reasons as (select * from definitions.rejection_reasons),

reporting as (select * from definitions.reporting),

rejections as (
    select
        cast(date_trunc('month', cast(lifecycle.rejected_at as timestamptz) at time zone reporting.time_zone) as date)
            as rejection_month,
        lifecycle.channel,
        lifecycle.rejection_reason
    from lifecycle
    cross join reporting
    where lifecycle.rejected_at is not null
),

counted as (
    select
        rejections.rejection_month,
        rejections.channel,
        rejections.rejection_reason,
        count(*) as rejections_count
    from rejections
    group by rejections.rejection_month, rejections.channel, rejections.rejection_reason
),

ranked as (
    select
        counted.*,
        counted.rejections_count / nullif(
            sum(counted.rejections_count) over (partition by counted.rejection_month, counted.channel), 0
        ) as rejection_share_rate,
        dense_rank() over (
            partition by counted.rejection_month, counted.channel
            order by counted.rejections_count desc, counted.rejection_reason asc
        ) as rejection_reason_rank
    from counted
),

final as (
    select
        ranked.rejection_month,                                              -- first day of the month of the rejection
        ranked.channel,                                                      -- channel of the lead from the shared mapping
        ranked.rejection_reason,                                             -- reason from the shared taxonomy (the unspecified one when missing or unknown)
        coalesce(rejection_reasons.is_unspecified, false) as is_unspecified_reason, -- the reason is the taxonomy's unspecified one
        ranked.rejections_count,                                             -- leads rejected in the month for this reason
        ranked.rejection_share_rate,                                         -- share of the month and channel's rejections (0-1); null only if none, which no row has
        ranked.rejection_reason_rank                                         -- 1 = most rejections in the month and channel; equal counts ranked by reason name
    from ranked
    left join rejection_reasons on ranked.rejection_reason = rejection_reasons.rejection_reason
)

select * from final
