/*
name: assert_rejections_match_disposition_mart
severity: error
description: Each month's rejections over every reason equal the month's rejections in the disposition mart.
*/
select
    coalesce(reasons.rejection_month, disposition.disposition_month) as month,
    reasons.rejections_count,
    disposition.leads_rejected_count
from (
    select rejection_month, sum(rejections_count) as rejections_count
    from marts.rpt_lead_rejection_reasons_monthly
    group by rejection_month
) as reasons
full outer join (
    select disposition_month, sum(leads_rejected_count) as leads_rejected_count
    from marts.rpt_lead_disposition_monthly
    group by disposition_month
    having sum(leads_rejected_count) > 0
) as disposition
    on reasons.rejection_month = disposition.disposition_month
where coalesce(reasons.rejections_count, 0) <> coalesce(disposition.leads_rejected_count, 0);

/*
name: assert_rejections_match_lifecycle
severity: error
description: Rejections over all months and reasons equal the rejected leads in the lead lifecycle.
*/
select reasons.rejections_count, facts.rejections_count as facts_rejections_count
from (
    select coalesce(sum(rejections_count), 0) as rejections_count from marts.rpt_lead_rejection_reasons_monthly
) as reasons
cross join (
    select count(*) as rejections_count from intermediate.int_leads_lifecycle where rejected_at is not null
) as facts
where reasons.rejections_count <> facts.rejections_count;

/*
name: assert_unspecified_rejections_match_rejections_without_reason
severity: error
description: >-
  Each month and channel's rejections under the unspecified reason equal its rejections without a valid reason
  in the disposition mart.
*/
select
    coalesce(reasons.rejection_month, disposition.disposition_month) as month,
    coalesce(reasons.channel, disposition.channel) as channel,
    reasons.rejections_count,
    disposition.rejections_without_reason_count
from (
    select rejection_month, channel, sum(rejections_count) as rejections_count
    from marts.rpt_lead_rejection_reasons_monthly
    where is_unspecified_reason
    group by rejection_month, channel
) as reasons
full outer join (
    select disposition_month, channel, sum(rejections_without_reason_count) as rejections_without_reason_count
    from marts.rpt_lead_disposition_monthly
    group by disposition_month, channel
    having sum(rejections_without_reason_count) > 0
) as disposition
    on reasons.rejection_month = disposition.disposition_month and reasons.channel = disposition.channel
where coalesce(reasons.rejections_count, 0) <> coalesce(disposition.rejections_without_reason_count, 0);

/*
name: assert_shares_add_up_and_ranks_are_consecutive
severity: error
description: >-
  In each month and channel the shares add up to 1, and the ranks run 1, 2, ... up to the number of reasons.
*/
select rejection_month, channel, sum(rejection_share_rate) as share_total, max(rejection_reason_rank) as top_rank
from marts.rpt_lead_rejection_reasons_monthly
group by rejection_month, channel
having
    abs(sum(rejection_share_rate) - 1) > 0.000001
    or max(rejection_reason_rank) <> count(*)
    or count(distinct rejection_reason_rank) <> count(*);
