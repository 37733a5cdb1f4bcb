/*
name: assert_one_row_per_mql
severity: error
description: Every lead with an MQL under the shared definition has exactly one row, and no other lead has one.
*/
select facts.lead_count, lifecycle.lead_count as lifecycle_lead_count
from (select count(*) as lead_count from marts.fct_speed_to_lead) as facts
cross join (
    select count(*) as lead_count from intermediate.int_leads_lifecycle where mql_at is not null
) as lifecycle
where facts.lead_count <> lifecycle.lead_count;
