"""Column lineage through CTEs, joins, stars and aggregates."""

from __future__ import annotations

from pipelines.spec.lineage import column_lineage

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
