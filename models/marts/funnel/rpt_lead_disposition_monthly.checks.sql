/*
name: assert_rejections_match_lifecycle
severity: error
description: Rejections over all months equal the rejected leads in the lead lifecycle.
*/
select disposition.rejected_count, facts.rejected_count as facts_rejected_count
from (
    select coalesce(sum(leads_rejected_count), 0) as rejected_count from marts.rpt_lead_disposition_monthly
) as disposition
cross join (
    select count(*) as rejected_count from intermediate.int_leads_lifecycle where rejected_at is not null
) as facts
where disposition.rejected_count <> facts.rejected_count;

/*
name: assert_acceptances_match_lifecycle
severity: error
description: Acceptances over all months equal the accepted leads in the lead lifecycle.
*/
select disposition.accepted_count, facts.accepted_count as facts_accepted_count
from (
    select coalesce(sum(leads_accepted_count), 0) as accepted_count from marts.rpt_lead_disposition_monthly
) as disposition
cross join (
    select count(*) as accepted_count from intermediate.int_leads_lifecycle where accepted_at is not null
) as facts
where disposition.accepted_count <> facts.accepted_count;

/*
name: assert_subsets_never_exceed_their_totals
severity: error
description: >-
  Recycled leads are among the month's acceptances, rejections without a reason among its rejections, and
  every row holds at least one decision.
*/
select disposition_month, channel, campaign
from marts.rpt_lead_disposition_monthly
where
    leads_recycled_count > leads_accepted_count
    or rejections_without_reason_count > leads_rejected_count
    or leads_accepted_count + leads_rejected_count = 0;
