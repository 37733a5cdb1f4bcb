"""The output contract: the columns of models/sources.yml, in order, with the kind used to format them."""

from __future__ import annotations

import numpy as np

Table = dict[str, np.ndarray]
TableKey = tuple[str, str]

STR, TS, DATE, BOOL, INT, FLOAT = "str", "ts", "date", "bool", "int", "float"


def _cols(spec: str) -> list[tuple[str, str]]:
    """Parse 'name:kind name:kind ...' (kind defaults to str)."""
    out = []
    for item in spec.split():
        name, _, kind = item.partition(":")
        out.append((name, kind or STR))
    return out


COLUMNS: dict[TableKey, list[tuple[str, str]]] = {
    ("salesforce", "user"): _cols(
        "id name first_name last_name email title department division manager_id is_active:bool created_date:ts "
        "_fivetran_synced:ts _fivetran_deleted:bool"
    ),
    ("salesforce", "account"): _cols(
        "id name type industry number_of_employees:int annual_revenue:float billing_country account_source owner_id "
        "product_workspace_id_c created_date:ts is_deleted:bool _fivetran_synced:ts _fivetran_deleted:bool"
    ),
    ("salesforce", "lead"): _cols(
        "id first_name last_name name email phone title company industry number_of_employees:int "
        "annual_revenue:float country lead_source status owner_id created_date:ts is_converted:bool "
        "converted_date:date converted_account_id converted_contact_id converted_opportunity_id utm_source_c "
        "utm_medium_c utm_campaign_c mql_date_c:ts accepted_date_c:ts rejected_date_c:ts rejection_reason_c "
        "product_workspace_id_c is_deleted:bool system_modstamp:ts _fivetran_synced:ts _fivetran_deleted:bool"
    ),
    ("salesforce", "contact"): _cols(
        "id account_id first_name last_name name email phone title lead_source owner_id created_date:ts "
        "is_deleted:bool _fivetran_synced:ts _fivetran_deleted:bool"
    ),
    ("salesforce", "opportunity"): _cols(
        "id account_id name type stage_name amount:float probability:float forecast_category close_date:date "
        "created_date:ts is_closed:bool is_won:bool lead_source owner_id campaign_id loss_reason_c is_deleted:bool "
        "system_modstamp:ts _fivetran_synced:ts _fivetran_deleted:bool"
    ),
    ("salesforce", "opportunity_history"): _cols(
        "id opportunity_id stage_name amount:float probability:float forecast_category close_date:date "
        "created_date:ts created_by_id is_deleted:bool system_modstamp:ts _fivetran_synced:ts _fivetran_deleted:bool"
    ),
    ("salesforce", "task"): _cols(
        "id who_id what_id account_id owner_id subject description type task_subtype status activity_date:date "
        "created_date:ts completed_date_time:ts is_closed:bool is_deleted:bool _fivetran_synced:ts "
        "_fivetran_deleted:bool"
    ),
    ("salesforce", "event"): _cols(
        "id who_id what_id account_id owner_id subject description type start_date_time:ts end_date_time:ts "
        "duration_in_minutes:int created_date:ts is_deleted:bool _fivetran_synced:ts _fivetran_deleted:bool"
    ),
    ("stripe", "customer"): _cols(
        "id name email description currency delinquent:bool metadata created:ts livemode:bool is_deleted:bool "
        "_fivetran_synced:ts _fivetran_deleted:bool"
    ),
    ("stripe", "price"): _cols(
        "id product_id nickname currency unit_amount:int type recurring_interval recurring_interval_count:int "
        "active:bool created:ts livemode:bool is_deleted:bool _fivetran_synced:ts _fivetran_deleted:bool"
    ),
    ("stripe", "subscription"): _cols(
        "id customer_id status created:ts start_date:ts current_period_start:ts current_period_end:ts "
        "cancel_at_period_end:bool canceled_at:ts ended_at:ts trial_start:ts trial_end:ts metadata livemode:bool "
        "is_deleted:bool _fivetran_synced:ts _fivetran_deleted:bool"
    ),
    ("stripe", "subscription_item"): _cols(
        "id subscription_id price_id plan_id quantity:int created:ts metadata _fivetran_start:ts _fivetran_end:ts "
        "_fivetran_active:bool _fivetran_synced:ts _fivetran_deleted:bool"
    ),
    ("product", "events"): _cols("id event user_id account_id timestamp:ts received_at:ts"),
    ("marketing", "engagements"): _cols(
        "id activity_type occurred_at:ts email lead_id campaign_id utm_source utm_medium utm_campaign page_url "
        "_fivetran_synced:ts"
    ),
    ("marketing", "ad_spend"): _cols(
        "date:date platform campaign_id campaign_name utm_source utm_medium utm_campaign spend:float currency "
        "impressions:int clicks:int _fivetran_synced:ts"
    ),
}
EVENTS: TableKey = ("product", "events")  # written as one Parquet file per receipt day (see write_event_days)
SORT_KEY = "_key"  # optional hidden column: a number whose order is the primary-key order of the table
PRIMARY_KEYS: dict[TableKey, list[str]] = {
    ("stripe", "subscription_item"): ["id", "_fivetran_start"],
    ("marketing", "ad_spend"): ["date", "platform", "campaign_id"],
    ("product", "events"): ["id", "received_at"],
}
