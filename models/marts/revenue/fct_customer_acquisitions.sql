/*
name: fct_customer_acquisitions
description: >-
  One row per billing customer that ever paid (from marts.fct_mrr_customer_months): how it was acquired and what its
  revenue did in its first 12 months. Source: a customer is PQL-sourced when its CRM account's product workspace
  became product-qualified (the account's own workspace, or the workspace of any lead converted to the account,
  int_leads_lifecycle.pql_at) at or before the account was first sales-qualified (the first opportunity of the
  account reaching the shared sales-qualified stage; for an account never sales-qualified, before the end of the
  customer's first paying month); else MQL-sourced when a lead converted to the account became an MQL (shared
  definition) by that same moment; else other (sales-sourced, unattributed, or a self-serve customer without a CRM
  account). A customer that was both a PQL and an MQL before it qualified counts as PQL-sourced. Closing deal: the
  account's first won new-business opportunity (of the shared new_business_type, definitions.opportunity_types;
  an expansion or renewal won earlier is not the deal that made the account a customer). Closing rep: the CRM user who
  recorded the deal's move into the shared won stage (the latest such stage change with a user on it),
  which is the owner at win and survives a later hand-over of the opportunity to an account manager; the current
  owner when no such change (or no user on it) was recorded (closing_rep_source says which). The 12-month window
  is the 12 months after the first paying month (first_paid_month + 1 .. first_paid_month + 12); it is complete
  when first_paid_month + 12 months is at or before the latest month of the billing data, and the 12-month columns
  are null until then. In a complete window MRR 12 months on = new + expansion + reactivation - contraction -
  churned + fx MRR of the window (fx: the change exchange rates made to the MRR of a customer billed in another
  currency, see marts.fct_mrr_customer_months).
grain: [customer_id]
owner: team:revops*/
with

customer_months as (select * from marts.fct_mrr_customer_months),

accounts as (select * from intermediate.int_accounts_lifecycle),

leads as (select * from staging.stg_salesforce__leads),

lead_lifecycle as (select * from intermediate.int_leads_lifecycle),

opportunities as (select * from intermediate.int_opportunities_classified),

opportunity_closes as (select * from intermediate.int_opportunities_qualified),

stage_changes as (select * from staging.stg_salesforce__opportunity_stage_changes),

users as (select * from staging.stg_salesforce__users),

opportunity_stages as (select * from definitions.opportunity_stages),

reporting as (select * from definitions.reporting),

data_bounds as (
    select max(customer_months.mrr_month) as last_mrr_month
    from customer_months
),

new_customers as (
    select
        customer_months.customer_id,
        customer_months.account_id,
        customer_months.segment,
        customer_months.first_paid_month,
        customer_months.new_mrr_usd
    from customer_months
    where customer_months.movement = 'new'
),

-- PQL and MQL moments of the leads converted to each account
account_leads as (
    select
        leads.converted_account_id as account_id,
        min(lead_lifecycle.pql_at) as lead_pql_at,
        min(lead_lifecycle.mql_at) as lead_mql_at
    from leads
    inner join lead_lifecycle on leads.lead_id = lead_lifecycle.lead_id
    where leads.converted_account_id is not null
    group by leads.converted_account_id
),

account_qualification as (
    select
        accounts.account_id,
        case
            when accounts.pql_at is null then account_leads.lead_pql_at
            when account_leads.lead_pql_at is null then accounts.pql_at
            else least(accounts.pql_at, account_leads.lead_pql_at)
        end as pql_at,
        account_leads.lead_mql_at as mql_at,
        accounts.first_sales_qualified_at as sales_qualified_at
    from accounts
    left join account_leads on accounts.account_id = account_leads.account_id
),

won_opportunities as (
    select
        opportunities.opportunity_id,
        opportunities.account_id,
        opportunities.opportunity_type,
        opportunities.owner_user_id,
        opportunity_closes.closed_at
    from opportunities
    inner join opportunity_closes on opportunities.opportunity_id = opportunity_closes.opportunity_id
    where
        opportunity_closes.is_won
        and opportunities.is_new_business
        and opportunities.account_id is not null
        and opportunity_closes.closed_at is not null
),

-- the deal that made the account a customer: its first won new-business opportunity
closing_deals as (
    select won_opportunities.*
    from won_opportunities
    qualify row_number() over (
        partition by won_opportunities.account_id
        order by won_opportunities.closed_at, won_opportunities.opportunity_id
    ) = 1
),

-- who recorded the move into the won stage (the latest such change dates the win)
win_changes as (
    select
        stage_changes.opportunity_id,
        stage_changes.changed_by_user_id
    from stage_changes
    inner join opportunity_stages on stage_changes.stage_name = opportunity_stages.stage_name
    inner join closing_deals on stage_changes.opportunity_id = closing_deals.opportunity_id
    where opportunity_stages.is_won and stage_changes.changed_by_user_id is not null
    qualify row_number() over (
        partition by stage_changes.opportunity_id
        order by stage_changes.changed_at desc, stage_changes.opportunity_history_id desc
    ) = 1
),

closing_reps as (
    select
        closing_deals.account_id,
        closing_deals.opportunity_id,
        closing_deals.opportunity_type,
        closing_deals.closed_at,
        closing_deals.owner_user_id,
        coalesce(win_changes.changed_by_user_id, closing_deals.owner_user_id) as closing_rep_user_id,
        case
            when win_changes.changed_by_user_id is not null then 'stage_history'
            when closing_deals.owner_user_id is not null then 'current_owner'
        end as closing_rep_source
    from closing_deals
    left join win_changes on closing_deals.opportunity_id = win_changes.opportunity_id
),

-- the customer's movements in the 12 months after its first paying month
window_movements as (
    select
        new_customers.customer_id,
        coalesce(sum(customer_months.expansion_mrr_usd), 0) as expansion_mrr_usd,
        coalesce(sum(customer_months.contraction_mrr_usd), 0) as contraction_mrr_usd,
        coalesce(sum(customer_months.churned_mrr_usd), 0) as churned_mrr_usd,
        coalesce(sum(customer_months.reactivation_mrr_usd), 0) as reactivation_mrr_usd,
        coalesce(sum(customer_months.fx_mrr_usd), 0) as fx_mrr_usd,
        count(customer_months.mrr_month) filter (where customer_months.movement = 'churn') as churn_count,
        coalesce(
            max(customer_months.mrr_usd) filter (
                where customer_months.mrr_month = cast(new_customers.first_paid_month + interval 12 month as date)
            ),
            0
        ) as mrr_12_month_usd
    from new_customers
    left join customer_months
        on
            new_customers.customer_id = customer_months.customer_id
            and customer_months.mrr_month > new_customers.first_paid_month
            and customer_months.mrr_month <= cast(new_customers.first_paid_month + interval 12 month as date)
    group by new_customers.customer_id
),

sourced as (
    select
        new_customers.*,
        account_qualification.pql_at,
        account_qualification.mql_at,
        account_qualification.sales_qualified_at,
        -- a qualification sources the customer when it came at or before the account's sales qualification, or
        -- without one, before the end of the first paying month (a month of the reporting time zone)
        coalesce(
            account_qualification.pql_at <= account_qualification.sales_qualified_at
            or account_qualification.sales_qualified_at is null
            and cast(account_qualification.pql_at as timestamptz) at time zone reporting.time_zone
            <= cast(new_customers.first_paid_month + interval 1 month as timestamp),
            false
        ) as is_pql_before_cutoff,
        coalesce(
            account_qualification.mql_at <= account_qualification.sales_qualified_at
            or account_qualification.sales_qualified_at is null
            and cast(account_qualification.mql_at as timestamptz) at time zone reporting.time_zone
            <= cast(new_customers.first_paid_month + interval 1 month as timestamp),
            false
        ) as is_mql_before_cutoff
    from new_customers
    left join account_qualification on new_customers.account_id = account_qualification.account_id
    cross join reporting
),

final as (
    select
        sourced.customer_id,                                                          -- billing customer id
        sourced.account_id,                                                           -- CRM account (null for a self-serve customer without one)
        sourced.segment,                                                              -- size segment of the CRM account (shared bands; unknown without an account)
        sourced.first_paid_month,                                                     -- first month with MRR > 0 (its new month)
        sourced.new_mrr_usd,                                                          -- MRR in USD at the close of the first paying month
        sourced.pql_at,                                                               -- earliest PQL of the account's workspace or of a lead converted to it (UTC)
        sourced.mql_at,                                                               -- earliest MQL of a lead converted to the account (UTC)
        sourced.sales_qualified_at,                                                   -- first opportunity of the account sales-qualified (UTC)
        case
            when sourced.is_pql_before_cutoff then 'pql'
            when sourced.is_mql_before_cutoff then 'mql'
            else 'other'
        end as acquisition_source,                                                    -- pql, mql or other: the qualification at or before the account was sales-qualified (see the description)
        closing_reps.opportunity_id as closing_opportunity_id,                        -- the account's first won new-business opportunity (null when none)
        closing_reps.opportunity_type as closing_opportunity_type,                    -- its type from the shared opportunity types (the new_business_type)
        closing_reps.closed_at as won_at,                                             -- when the closing deal was won (UTC)
        closing_reps.closing_rep_user_id,                                             -- CRM user who closed the deal (owner at win; see closing_rep_source)
        closing_reps.closing_rep_source,                                              -- stage_history (user who recorded the win) or current_owner (fallback)
        users.team as closing_rep_team,                                               -- the closing rep's current team
        closing_reps.owner_user_id as current_owner_user_id,                          -- the closing deal's owner today (differs when reassigned after the win)
        cast(sourced.first_paid_month + interval 12 month as date) <= data_bounds.last_mrr_month
        as is_12_month_window_complete,                                               -- first_paid_month + 12 months is within the billing data
        case
            when cast(sourced.first_paid_month + interval 12 month as date) <= data_bounds.last_mrr_month
                then window_movements.mrr_12_month_usd
        end as mrr_12_month_usd,                                                      -- MRR 12 months after the first paying month (0 if not paying then; null until the window is complete)
        case
            when cast(sourced.first_paid_month + interval 12 month as date) <= data_bounds.last_mrr_month
                then window_movements.expansion_mrr_usd
        end as expansion_12_month_mrr_usd,                                            -- expansion MRR in the 12-month window (null until complete)
        case
            when cast(sourced.first_paid_month + interval 12 month as date) <= data_bounds.last_mrr_month
                then window_movements.contraction_mrr_usd
        end as contraction_12_month_mrr_usd,                                          -- contraction MRR in the 12-month window (positive; null until complete)
        case
            when cast(sourced.first_paid_month + interval 12 month as date) <= data_bounds.last_mrr_month
                then window_movements.churned_mrr_usd
        end as churned_12_month_mrr_usd,                                              -- churned MRR in the 12-month window (positive; null until complete)
        case
            when cast(sourced.first_paid_month + interval 12 month as date) <= data_bounds.last_mrr_month
                then window_movements.reactivation_mrr_usd
        end as reactivation_12_month_mrr_usd,                                         -- reactivation MRR in the 12-month window (null until complete)
        case
            when cast(sourced.first_paid_month + interval 12 month as date) <= data_bounds.last_mrr_month
                then window_movements.fx_mrr_usd
        end as fx_12_month_mrr_usd,                                                   -- MRR change caused by exchange rates in the 12-month window (signed; null until complete)
        case
            when cast(sourced.first_paid_month + interval 12 month as date) <= data_bounds.last_mrr_month
                then window_movements.churn_count > 0
        end as has_churned_12_month                                                   -- churned at least once in the 12-month window (null until complete)
    from sourced
    cross join data_bounds
    inner join window_movements on sourced.customer_id = window_movements.customer_id
    left join closing_reps on sourced.account_id = closing_reps.account_id
    left join users on closing_reps.closing_rep_user_id = users.user_id
)

select * from final
