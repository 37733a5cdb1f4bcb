/*
name: rpt_lead_disposition_monthly
description: >-
  What sales decides about the leads it is handed, per month, channel and campaign: leads accepted and rejected,
  the acceptance rate, rejections recorded without a valid reason (the disposition discipline gap), and leads
  recycled (rejected, then accepted later). Each decision counts in the month it was made, so a lead with both an
  acceptance and a rejection counts once in each, each in its own month (accepted on Jan 8 and rejected on Feb 10:
  one acceptance in January, one rejection in February). Acceptance is the shared definition's
  (`int_leads_lifecycle.accepted_at`: at or after the MQL or the PQL, or any time for a sales-sourced lead), so a
  CRM acceptance recorded before the lead was an MQL or a PQL is not counted here (the drift mart shows it). A recycled lead is
  a rejected lead whose acceptance came strictly after its rejection (accepted_at > rejected_at); it counts in the
  month of that acceptance, and is also one of that month's acceptances. The campaign is the lead's UTM campaign
  as recorded (trimmed); a lead without one is under the placeholder '(none)'. A month, channel and campaign with
  no decision has no row (read it as zero). A rate whose base (decisions, or rejections) is below the shared
  minimum base of leads (definitions.thresholds.minimum_bases__leads) is null, with the reason "base below minimum" in its
  *_null_reason column.
grain: [disposition_month, channel, campaign]
owner: team:sales
kpis:
  - name: leads_accepted_count
    formula: count of leads whose accepted_at (shared definition, at or after the MQL or PQL) falls in the month
    grain: month x channel x campaign (of the lead)
    owner: team:sales
  - name: leads_rejected_count
    formula: count of leads whose rejected_at falls in the month
    grain: month x channel x campaign (of the lead)
    owner: team:sales
  - name: acceptance_rate
    formula: accepted / (accepted + rejected) in the month (null when there is no decision, or fewer decisions than minimum_bases__leads)
    numerator: leads_accepted_count
    denominator: leads_accepted_count + leads_rejected_count
    grain: month x channel x campaign (of the lead)
    owner: team:sales
  - name: rejections_without_reason_count
    formula: count of rejections in the month with no reason, or a reason not in the shared taxonomy
    grain: month x channel x campaign (of the lead)
    filters: rejected leads with is_rejection_reason_missing
    owner: team:sales
  - name: rejection_without_reason_rate
    formula: rejections without a valid reason / rejections in the month (null when there is no rejection, or fewer rejections than minimum_bases__leads)
    numerator: rejections_without_reason_count
    denominator: leads_rejected_count
    grain: month x channel x campaign (of the lead)
    owner: team:revops
  - name: leads_recycled_count
    formula: count of rejected leads accepted strictly after their rejection, in the month of the acceptance
    grain: month x channel x campaign (of the lead)
    filters: rejected_at is not null and accepted_at > rejected_at
    owner: team:sales*/
with

lifecycle as (select * from intermediate.int_leads_lifecycle),

leads as (select * from staging.stg_salesforce__leads),

reporting as (select * from definitions.reporting),

thresholds as (select * from definitions.thresholds),

dispositioned as (
    select
        lifecycle.lead_id,
        lifecycle.channel,
        coalesce(nullif(trim(leads.utm_campaign), ''), '(none)') as campaign,
        lifecycle.accepted_at,
        lifecycle.rejected_at,
        lifecycle.is_rejection_reason_missing,
        coalesce(lifecycle.accepted_at > lifecycle.rejected_at, false) as is_recycled
    from lifecycle
    left join leads on lifecycle.lead_id = leads.lead_id
    where lifecycle.accepted_at is not null or lifecycle.rejected_at is not null
),

decisions as (
    select
        cast(
            date_trunc('month', cast(dispositioned.accepted_at as timestamptz) at time zone reporting.time_zone)
            as date
        ) as disposition_month,
        dispositioned.channel,
        dispositioned.campaign,
        'accepted' as decision,
        false as is_rejection_reason_missing,
        dispositioned.is_recycled
    from dispositioned
    cross join reporting
    where dispositioned.accepted_at is not null

    union all

    select
        cast(
            date_trunc('month', cast(dispositioned.rejected_at as timestamptz) at time zone reporting.time_zone)
            as date
        ) as disposition_month,
        dispositioned.channel,
        dispositioned.campaign,
        'rejected' as decision,
        dispositioned.is_rejection_reason_missing,
        false as is_recycled
    from dispositioned
    cross join reporting
    where dispositioned.rejected_at is not null
),

counted as (
    select
        decisions.disposition_month,
        decisions.channel,
        decisions.campaign,
        count(*) filter (where decisions.decision = 'accepted') as leads_accepted_count,
        count(*) filter (where decisions.decision = 'rejected') as leads_rejected_count,
        count(*) filter (
            where decisions.decision = 'rejected' and decisions.is_rejection_reason_missing
        ) as rejections_without_reason_count,
        count(*) filter (where decisions.decision = 'accepted' and decisions.is_recycled) as leads_recycled_count
    from decisions
    group by decisions.disposition_month, decisions.channel, decisions.campaign
),

final as (
    select
        counted.disposition_month,                                           -- first day of the month the decision was made
        counted.channel,                                                     -- channel of the lead from the shared mapping
        counted.campaign,                                                    -- UTM campaign of the lead's first touch; '(none)' when it has none
        counted.leads_accepted_count,                                        -- leads sales accepted in the month (shared definition: at or after the MQL)
        counted.leads_rejected_count,                                        -- leads sales rejected in the month
        case
            when counted.leads_accepted_count + counted.leads_rejected_count
                >= greatest(thresholds.minimum_bases__leads, 1)
                then counted.leads_accepted_count / (counted.leads_accepted_count + counted.leads_rejected_count)
        end as acceptance_rate,                                              -- accepted / (accepted + rejected); null: see acceptance_rate_null_reason
        case
            when counted.leads_accepted_count + counted.leads_rejected_count = 0 then 'no decision'
            when counted.leads_accepted_count + counted.leads_rejected_count < thresholds.minimum_bases__leads
                then 'base below minimum'
        end as acceptance_rate_null_reason,                                  -- why acceptance_rate is null: no decision, or fewer than minimum_bases__leads ('base below minimum'); null when it is not
        counted.rejections_without_reason_count,                             -- rejections with no reason or one outside the taxonomy
        case
            when counted.leads_rejected_count >= greatest(thresholds.minimum_bases__leads, 1)
                then counted.rejections_without_reason_count / counted.leads_rejected_count
        end as rejection_without_reason_rate,                                -- rejections without a valid reason / rejections; null: see rejection_without_reason_null_reason
        case
            when counted.leads_rejected_count = 0 then 'no rejection in the month'
            when counted.leads_rejected_count < thresholds.minimum_bases__leads then 'base below minimum'
        end as rejection_without_reason_null_reason,                         -- why rejection_without_reason_rate is null: no rejection, or fewer than minimum_bases__leads ('base below minimum'); null when it is not
        counted.leads_recycled_count                                         -- rejected leads accepted later, counted in the month of the acceptance
    from counted
    cross join thresholds
)

select * from final
