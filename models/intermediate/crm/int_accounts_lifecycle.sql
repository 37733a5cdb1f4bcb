/*
name: int_accounts_lifecycle
description: >-
  One row per CRM account with its lifecycle under the shared definitions: whether it is an ICP account, when its
  first lead was created and became an MQL, when its first opportunity became sales-qualified and its first deal
  was won, and when its product workspace became product-qualified.
grain: [account_id]
owner: team:revops
*/
with

accounts as (select * from staging.stg_salesforce__accounts),

leads as (select * from staging.stg_salesforce__leads),

lead_lifecycle as (select * from intermediate.int_leads_lifecycle),

opportunities as (select * from intermediate.int_opportunities_classified),

opportunity_stages as (select * from intermediate.int_opportunities_qualified),

workspaces as (select * from intermediate.int_workspaces_product_qualified),

segments as (select * from definitions.segments),

thresholds as (select * from definitions.thresholds),

icp_industries as (select * from definitions.icp_industries),

icp_countries as (select * from definitions.icp_countries),

account_leads as (
    select
        leads.converted_account_id as account_id,
        min(lead_lifecycle.created_at) as first_lead_created_at,
        min(lead_lifecycle.mql_at) as first_mql_at
    from leads
    inner join lead_lifecycle on leads.lead_id = lead_lifecycle.lead_id
    where leads.converted_account_id is not null
    group by leads.converted_account_id
),

account_opportunities as (
    select
        opportunities.account_id,
        min(opportunities.created_at) as first_opportunity_created_at,
        min(opportunity_stages.sales_qualified_at) as first_sales_qualified_at,
        min(opportunity_stages.closed_at) filter (where opportunity_stages.is_won) as first_won_at
    from opportunities
    inner join opportunity_stages on opportunities.opportunity_id = opportunity_stages.opportunity_id
    where opportunities.account_id is not null
    group by opportunities.account_id
),

final as (
    select
        accounts.account_id,                                                         -- CRM account id
        coalesce(segments.segment, unknown_segment.segment) as segment,              -- size segment from the shared bands
        icp_industries.industry is not null
        and coalesce(accounts.employee_count between thresholds.icp__min_employees and thresholds.icp__max_employees, false)
        and icp_countries.country is not null as is_icp,                             -- meets every ICP criterion
        account_leads.first_lead_created_at,                                         -- first converted lead created (UTC)
        account_leads.first_mql_at,                                                  -- first lead became an MQL (UTC)
        account_opportunities.first_opportunity_created_at,                          -- first opportunity created (UTC)
        account_opportunities.first_sales_qualified_at,                              -- first opportunity sales-qualified (UTC)
        account_opportunities.first_won_at,                                          -- first deal won (UTC)
        account_opportunities.first_won_at is not null as has_won_deal,              -- has won a deal
        accounts.product_workspace_id,                                               -- product workspace of the account
        workspaces.pql_at                                                            -- workspace became product-qualified (UTC)
    from accounts
    cross join thresholds
    left join segments
        on
            accounts.employee_count >= segments.min_employees
            and (segments.max_employees is null or accounts.employee_count <= segments.max_employees)
    cross join (select segments.segment from segments where segments.min_employees is null) as unknown_segment
    left join icp_industries on accounts.industry = icp_industries.industry
    left join icp_countries on accounts.billing_country = icp_countries.country
    left join account_leads on accounts.account_id = account_leads.account_id
    left join account_opportunities on accounts.account_id = account_opportunities.account_id
    left join workspaces on accounts.product_workspace_id = workspaces.workspace_id
)

select * from final
