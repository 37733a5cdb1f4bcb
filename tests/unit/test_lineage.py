"""Column lineage through CTEs, joins, stars and aggregates, and how each upstream column feeds an output column."""

from __future__ import annotations

from pipelines.spec.lineage import classified_lineage, column_lineage

SCHEMA = {
    "staging": {
        "stg_leads": {"lead_id": "varchar", "account_id": "varchar", "amount": "double", "created_at": "timestamp"},
        "stg_accounts": {"account_id": "varchar", "segment": "varchar"},
    }
}

SQL = """
with

leads as (select * from staging.stg_leads),

accounts as (select * from staging.stg_accounts),

joined as (
    select leads.lead_id, leads.created_at, accounts.segment, leads.amount * 2 as doubled_amount
    from leads
    left join accounts on leads.account_id = accounts.account_id
),

final as (
    select
        date_trunc('month', joined.created_at) as lead_month,
        joined.segment,
        count(*) as lead_count,
        count(*) filter (where joined.doubled_amount > 0) as paying_lead_count,
        sum(joined.doubled_amount) as total_amount
    from joined
    group by 1, 2
)

select * from final
"""


def test_columns_trace_through_ctes_and_joins_to_upstream_columns() -> None:
    lineage = column_lineage(SQL, ["lead_month", "segment", "lead_count", "paying_lead_count", "total_amount"], SCHEMA)
    assert lineage == {
        "lead_month": [("staging", "stg_leads", "created_at")],
        "segment": [("staging", "stg_accounts", "segment")],
        "lead_count": [],
        "paying_lead_count": [("staging", "stg_leads", "amount")],
        "total_amount": [("staging", "stg_leads", "amount")],
    }


def test_expression_over_two_tables_lists_both() -> None:
    sql = """
    select coalesce(stg_accounts.segment, stg_leads.lead_id) as label
    from staging.stg_leads left join staging.stg_accounts on stg_leads.account_id = stg_accounts.account_id
    """
    assert column_lineage(sql, ["label"], SCHEMA) == {
        "label": [("staging", "stg_accounts", "segment"), ("staging", "stg_leads", "lead_id")]
    }


def _kinds(sql: str, columns: list[str]) -> dict[str, dict[str, str]]:
    """The classified lineage with upstream columns written `table.column`, for short assertions."""
    lineage = classified_lineage(sql, columns, SCHEMA)
    return {
        column: {f"{table}.{name}": how for (_, table, name), how in deps.items()} for column, deps in lineage.items()
    }


def test_a_column_selected_renamed_or_cast_through_a_cte_chain_is_direct() -> None:
    sql = """
    with
    leads as (select * from staging.stg_leads),
    renamed as (select lead_id as lead_key, cast(amount as decimal(18, 2)) as amount_usd, (created_at) from leads),
    final as (select renamed.lead_key, renamed.amount_usd::double as amount_usd, renamed.created_at from renamed)
    select * from final
    """
    assert _kinds(sql, ["lead_key", "amount_usd", "created_at"]) == {
        "lead_key": {"stg_leads.lead_id": "direct"},
        "amount_usd": {"stg_leads.amount": "direct"},
        "created_at": {"stg_leads.created_at": "direct"},
    }


def test_arithmetic_case_and_functions_are_derived() -> None:
    sql = """
    select
        amount * 2 as doubled_amount,
        case when amount > 0 then lead_id end as paying_lead_id,
        upper(cast(lead_id as varchar)) as lead_code,
        date_trunc('month', created_at) as lead_month
    from staging.stg_leads
    """
    assert _kinds(sql, ["doubled_amount", "paying_lead_id", "lead_code", "lead_month"]) == {
        "doubled_amount": {"stg_leads.amount": "derived"},
        "paying_lead_id": {"stg_leads.amount": "derived", "stg_leads.lead_id": "derived"},
        "lead_code": {"stg_leads.lead_id": "derived"},
        "lead_month": {"stg_leads.created_at": "derived"},
    }


def test_aggregates_filters_and_windows_are_aggregated_and_literals_have_no_upstream() -> None:
    sql = """
    with
    ranked as (
        select lead_id, row_number() over (partition by account_id order by created_at) as lead_rank
        from staging.stg_leads
    ),
    totals as (
        select account_id, sum(amount) as total_amount, count(*) filter (where amount > 0) as paying_count
        from staging.stg_leads
        group by account_id
    )
    select
        ranked.lead_id,
        ranked.lead_rank,
        totals.total_amount as account_total_amount,
        totals.paying_count,
        count(*) over () as lead_count,
        'lead' as record_type
    from ranked
    join staging.stg_leads as leads on ranked.lead_id = leads.lead_id
    join totals on leads.account_id = totals.account_id
    """
    assert _kinds(
        sql, ["lead_id", "lead_rank", "account_total_amount", "paying_count", "lead_count", "record_type"]
    ) == {
        "lead_id": {"stg_leads.lead_id": "direct"},
        "lead_rank": {"stg_leads.account_id": "aggregated", "stg_leads.created_at": "aggregated"},
        "account_total_amount": {"stg_leads.amount": "aggregated"},
        "paying_count": {"stg_leads.amount": "aggregated"},
        "lead_count": {},
        "record_type": {},
    }


def test_a_join_keeps_each_side_and_the_strongest_step_wins() -> None:
    sql = """
    with
    joined as (
        select leads.lead_id, accounts.segment, leads.amount * 2 as doubled_amount
        from staging.stg_leads as leads
        left join staging.stg_accounts as accounts on leads.account_id = accounts.account_id
    )
    select
        joined.segment,
        sum(joined.doubled_amount) as total_amount,
        coalesce(joined.segment, max(joined.lead_id)) as label
    from joined
    group by joined.segment
    """
    assert _kinds(sql, ["segment", "total_amount", "label"]) == {
        "segment": {"stg_accounts.segment": "direct"},
        "total_amount": {"stg_leads.amount": "aggregated"},
        "label": {"stg_accounts.segment": "derived", "stg_leads.lead_id": "aggregated"},
    }


def test_the_branches_of_a_union_each_feed_the_column() -> None:
    sql = """
    with ids as (select lead_id as id from staging.stg_leads union all select account_id from staging.stg_accounts)
    select ids.id from ids
    """
    assert _kinds(sql, ["id"]) == {"id": {"stg_leads.lead_id": "direct", "stg_accounts.account_id": "direct"}}


def test_a_union_read_from_a_cte_is_judged_branch_by_branch_and_column_by_column() -> None:
    sql = """
    with amounts as (
        select lead_id as id, amount from staging.stg_leads
        union all
        select account_id, length(segment) from staging.stg_accounts
    )
    select amounts.id, amounts.id || cast(sum(amounts.amount) over () as varchar) as label from amounts
    """
    assert _kinds(sql, ["id", "label"]) == {
        "id": {"stg_leads.lead_id": "direct", "stg_accounts.account_id": "direct"},
        "label": {
            "stg_leads.lead_id": "derived",
            "stg_accounts.account_id": "derived",
            "stg_leads.amount": "aggregated",
            "stg_accounts.segment": "aggregated",
        },
    }


def test_a_union_at_the_top_passes_each_branch_through() -> None:
    sql = """
    select upper(lead_id) as id from staging.stg_leads
    union all
    select cast(segment as varchar) from staging.stg_accounts
    """
    assert _kinds(sql, ["id"]) == {"id": {"stg_leads.lead_id": "derived", "stg_accounts.segment": "direct"}}
