/*
name: rpt_definition_drift_monthly
description: >-
  Where the tools disagree with the shared definitions, per month and channel: leads the marketing tool flagged MQL
  that the shared definition does not count (and the reverse), and CRM stages recorded out of order (a rep accepting
  a lead before it was an MQL). The misalignment RevOps reviews; it should shrink as tools adopt the definitions.
  A lead counts in the month of its shared MQL, else of its marketing-tool MQL, else of its creation. The MQL
  agreement rate is null when no lead is an MQL to either, or when fewer leads are than the shared minimum base of
  leads (definitions.minimum_bases, reason "base below minimum"), with the reason in mql_agreement_null_reason.
grain: [drift_month, channel]
owner: team:revops
kpis:
  - name: crm_mql_count
    formula: count of leads the marketing tool flagged MQL
    grain: month x channel
    owner: team:marketing
  - name: definition_mql_count
    formula: count of leads that are MQLs under the shared definition
    grain: month x channel
    owner: team:revops
  - name: crm_only_mql_count
    formula: count of leads flagged MQL by the marketing tool but not MQL under the shared definition
    grain: month x channel
    owner: team:revops
  - name: definition_only_mql_count
    formula: count of leads that are MQL under the shared definition but not flagged by the marketing tool
    grain: month x channel
    owner: team:revops
  - name: mql_agreement_rate
    formula: leads both call MQL / leads either calls MQL (null when neither does, or fewer than minimum_bases__leads do)
    numerator: count of leads flagged MQL by both the marketing tool and the shared definition
    denominator: count of leads flagged MQL by either
    grain: month x channel
    owner: team:revops
  - name: stage_out_of_order_count
    formula: count of leads with a CRM stage recorded before the stage it must follow
    grain: month x channel
    owner: team:sales
*/
with

lifecycle as (select * from intermediate.int_leads_lifecycle),

reporting as (select * from definitions.reporting),

thresholds as (select * from definitions.thresholds),

flagged as (
    select
        cast(date_trunc(
            'month',
            cast(coalesce(lifecycle.mql_at, lifecycle.crm_mql_at, lifecycle.created_at) as timestamptz)
            at time zone reporting.time_zone
        ) as date) as drift_month,
        lifecycle.channel,
        lifecycle.crm_mql_at is not null as is_crm_mql,
        lifecycle.mql_at is not null as is_definition_mql,
        lifecycle.has_stage_out_of_order
    from lifecycle
    cross join reporting
),

final as (
    select
        flagged.drift_month,                                                              -- first day of the month
        flagged.channel,                                                                  -- channel from the shared mapping
        count(*) filter (where flagged.is_crm_mql) as crm_mql_count,                      -- MQL per the marketing tool
        count(*) filter (where flagged.is_definition_mql) as definition_mql_count,        -- MQL per the shared definition
        count(*) filter (where flagged.is_crm_mql and not flagged.is_definition_mql) as crm_only_mql_count, -- tool only
        count(*) filter (where flagged.is_definition_mql and not flagged.is_crm_mql) as definition_only_mql_count, -- definition only
        case
            when count(*) filter (where flagged.is_crm_mql or flagged.is_definition_mql)
                >= greatest(min(thresholds.minimum_bases__leads), 1)
                then count(*) filter (where flagged.is_crm_mql and flagged.is_definition_mql)
                / count(*) filter (where flagged.is_crm_mql or flagged.is_definition_mql)
        end as mql_agreement_rate,                                                        -- both / either; null when no lead is an MQL to either or fewer than minimum_bases__leads are
        case
            when count(*) filter (where flagged.is_crm_mql or flagged.is_definition_mql) = 0
                then 'no lead is an MQL to either'
            when count(*) filter (where flagged.is_crm_mql or flagged.is_definition_mql)
                < min(thresholds.minimum_bases__leads)
                then 'base below minimum'
        end as mql_agreement_null_reason,                                                 -- why mql_agreement_rate is null: no MQL to either, or fewer than minimum_bases__leads ('base below minimum'); null when it is not
        count(*) filter (where flagged.has_stage_out_of_order) as stage_out_of_order_count -- stages recorded out of order
    from flagged
    cross join thresholds
    group by flagged.drift_month, flagged.channel
)

select * from final
