"""The shared definitions file: load it, validate it, and write it into the warehouse as small tables.

Models read the definitions as tables in the `definitions` schema (`definitions.thresholds`,
`definitions.channel_mapping`, ...), so their SQL stays plain, sqlglot sees the dependency, Dagster marks what a
change makes stale, and BI can read the definitions in force. Great Expectations suites read the same document.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from pipelines.spec.definitions_reader import DefinitionsError as DefinitionsError
from pipelines.spec.definitions_reader import read_document
from pipelines.spec.definitions_schema import validate_document
from pipelines.warehouse.build import qualified, quote

SCHEMA = "definitions"

TABLE_DOCS: dict[str, str] = {
    "definitions_version": "The version and digest of the definitions file in force.",
    "thresholds": "Every numeric threshold of the shared definitions, one column each, in a single row.",
    "channel_mapping": "Which channel each raw CRM lead source counts as (lowercased, trimmed); NULL = the default.",
    "segments": "Company-size bands by number of employees, and the segment for an unknown size.",
    "sales_sourced_channels": "Channels whose leads sales sources itself: they skip the MQL gate.",
    "product_sourced_channels": "Channels whose leads come from a product sign-up: their pipeline counts as product's.",
    "icp_industries": "Industries of the ideal customer profile.",
    "icp_countries": "Countries of the ideal customer profile.",
    "engagement_points": "Lead-score points per engagement type, and whether they count as behaviour or intent.",
    "rejection_reasons": "The lead rejection-reason taxonomy, with the reason used when a rejection carries none.",
    "opportunity_stages": "Opportunity stages in order, with the ones that make a lead sales-qualified, won or lost.",
    "pql_trial_start_events": "Product events that start a workspace's trial.",
    "pql_activation_events": "Product events that count as activation for the PQL rule.",
    "sales_touch_types": "CRM task types that count as a sales touch for speed-to-lead.",
    "churn_eligibility": "When a contract of each billing interval may churn: every month, or its term-end month only.",
    "closed_lost_reasons": "The closed-lost reason taxonomy, each reason in the bucket of the team that owns it.",
    "reporting": (
        "The reporting currency, the label of a record without an owner or team, and the time zone every month, week "
        "and quarter is counted in, in a single row."
    ),
    "mrr_excluded_statuses": "Billing subscription statuses that never earned money and carry no MRR.",
    "data_horizon": (
        "The data horizon of the run: the earliest and latest dates a raw row may carry, and the as-of time "
        "(FLYWHEEL_AS_OF, else the latest connector sync) the marts' month spines end at."
    ),
    "opportunity_types": (
        "Which deal type each CRM opportunity type label counts as (lowercased, trimmed), and whether it is new "
        "business; NULL = the type of a label not listed."
    ),
}

CHURN_ELIGIBILITY_VALUES = ("every_month", "term_end_month")


@dataclass(frozen=True)
class SegmentBand:
    name: str
    min_employees: int
    max_employees: int | None


@dataclass(frozen=True)
class SharedDefinitions:
    """The parsed definitions file: the validated values, and the raw document the suites resolve against."""

    version: int
    digest: str
    document: dict[str, Any] = field(repr=False)
    default_channel: str
    channels: dict[str, str]
    unknown_segment: str
    segments: tuple[SegmentBand, ...]
    thresholds: dict[str, float | int]

    def tables(self) -> dict[str, pd.DataFrame]:
        """The definitions as the warehouse tables models read."""
        document = self.document

        def single_column(name: str, values: list[str]) -> pd.DataFrame:
            return pd.DataFrame({name: pd.Series(values, dtype="string")})

        scoring = document["lead_scoring"]
        stages = document["opportunity_stages"]
        qualified_from = stages.index(document["sales_qualified_stage"])
        return {
            "definitions_version": pd.DataFrame([{"version": self.version, "digest": self.digest}]),
            "thresholds": pd.DataFrame([self.thresholds]),
            "channel_mapping": pd.DataFrame(
                [{"lead_source_key": key, "channel": value} for key, value in sorted(self.channels.items())]
                + [{"lead_source_key": None, "channel": self.default_channel}],
                columns=["lead_source_key", "channel"],
            ),
            "segments": pd.DataFrame(
                [
                    {"segment": band.name, "min_employees": band.min_employees, "max_employees": band.max_employees}
                    for band in self.segments
                ]
                + [{"segment": self.unknown_segment, "min_employees": None, "max_employees": None}],
                columns=["segment", "min_employees", "max_employees"],
            ).astype({"min_employees": "Int64", "max_employees": "Int64"}),
            "sales_sourced_channels": single_column("channel", document["sales_sourced_channels"]),
            "product_sourced_channels": single_column("channel", document["product_sourced_channels"]),
            "icp_industries": single_column("industry", document["icp"]["industries"]),
            "icp_countries": single_column("country", document["icp"]["countries"]),
            "engagement_points": pd.DataFrame(
                [
                    {"activity_type": activity, "score_component": component, "points": points}
                    for component in ("behaviour", "intent")
                    for activity, points in sorted(scoring[f"{component}_points"].items())
                ],
                columns=["activity_type", "score_component", "points"],
            ),
            "rejection_reasons": pd.DataFrame(
                [{"rejection_reason": reason, "is_unspecified": False} for reason in document["rejection_reasons"]]
                + [{"rejection_reason": document["unspecified_rejection_reason"], "is_unspecified": True}]
            ),
            "opportunity_stages": pd.DataFrame(
                [
                    {
                        "stage_name": stage,
                        "stage_order": order,
                        "is_sales_qualified": order >= qualified_from and stage != document["lost_stage"],
                        "is_won": stage == document["won_stage"],
                        "is_lost": stage == document["lost_stage"],
                    }
                    for order, stage in enumerate(stages)
                ]
            ),
            "pql_trial_start_events": single_column("event_name", document["pql"]["trial_start_events"]),
            "pql_activation_events": single_column("event_name", document["pql"]["activation_events"]),
            "sales_touch_types": single_column("task_type", document["speed_to_lead"]["touch_task_types"]),
            "churn_eligibility": pd.DataFrame(
                [
                    {"billing_interval": interval, "is_eligible_only_at_term_end": rule == "term_end_month"}
                    for interval, rule in sorted(document["churn_eligibility"].items())
                ]
            ),
            "reporting": pd.DataFrame(
                [{"currency": document["reporting"]["currency"],
                  "unassigned_label": document["reporting"]["unassigned_label"],
                  "time_zone": document["reporting"]["time_zone"]}]
            ),
            "mrr_excluded_statuses": single_column(
                "subscription_status", document["mrr"]["excluded_subscription_statuses"]
            ),
            "opportunity_types": pd.DataFrame(
                [
                    {"label_key": label, "opportunity_type": item["name"],
                     "is_new_business": item["name"] == document["opportunity_types"]["new_business_type"]}
                    for item in document["opportunity_types"]["types"]
                    for label in dict.fromkeys(str(text).strip().lower() for text in [item["name"], *item["labels"]])
                ]
                + [{"label_key": None, "opportunity_type": document["opportunity_types"]["other_type"],
                    "is_new_business": False}],
                columns=["label_key", "opportunity_type", "is_new_business"],
            ),
            "closed_lost_reasons": pd.DataFrame(
                [{"loss_reason": item["reason"], "loss_reason_bucket": item["bucket"], "is_unspecified": False}
                 for item in document["closed_lost_reasons"]]
                + [
                    {
                        "loss_reason": document["unspecified_closed_lost_reason"],
                        "loss_reason_bucket": document["unspecified_closed_lost_reason"],
                        "is_unspecified": True,
                    }
                ]
            ),
        }  # fmt: skip


# The column of definitions.thresholds each numeric definition is read by, and its dotted key in the file.
THRESHOLD_KEYS: dict[str, str] = {
    "mql_score_threshold": "mql.score_threshold",
    "mql_min_fit_score": "mql.min_fit_score",
    "fit_points_industry": "lead_scoring.fit_points.industry",
    "fit_points_company_size": "lead_scoring.fit_points.company_size",
    "fit_points_country": "lead_scoring.fit_points.country",
    "score_half_life_days": "lead_scoring.half_life_days",
    "score_window_days": "lead_scoring.window_days",
    "icp_min_employees": "icp.min_employees",
    "icp_max_employees": "icp.max_employees",
    "pql_trial_window_days": "pql.trial_window_days",
    "pql_min_active_users": "pql.min_active_users",
    "pql_min_activation_events": "pql.min_activation_events",
    "speed_to_lead_sla_minutes": "speed_to_lead.sla_minutes",
    "funnel_conversion_window_days": "funnel.conversion_window_days",
    "pipeline_stage_aging_days": "pipeline.stage_aging_days",
    "gross_margin": "unit_economics.gross_margin",
    "ltv_max_lifetime_months": "unit_economics.max_lifetime_months",
    "product_events_late_arrival_days": "product_events.late_arrival_days",
    "minimum_base_customers": "minimum_bases.customers",
    "minimum_base_mrr_usd": "minimum_bases.mrr_usd",
    "minimum_base_leads": "minimum_bases.leads",
}


def _get(document: dict[str, Any], key: str) -> Any:
    value: Any = document
    for part in key.split("."):
        value = value[part]
    return value


def _thresholds(document: dict[str, Any]) -> dict[str, float | int]:
    """Every numeric threshold under the column name models read it by, as written (an int stays an int)."""
    return {column: _get(document, key) for column, key in THRESHOLD_KEYS.items()}


def _segment_bands(document: dict[str, Any]) -> tuple[SegmentBand, ...]:
    return tuple(
        SegmentBand(name=band["name"], min_employees=band["min_employees"], max_employees=band.get("max_employees"))
        for band in document["segments"]["bands"]
    )


def late_arrival_days(path: Path) -> int:
    """The lookback, in days, of a partial rebuild of day-partitioned product events.

    See pipelines/spec/partitions.py.
    """
    return int(load_definitions(path).thresholds["product_events_late_arrival_days"])


def load_definitions(path: Path) -> SharedDefinitions:
    """Parse and validate the definitions file, failing with the file, line and key of every problem.

    Validation is strict (see pipelines/spec/definitions_schema.py): unknown or duplicate keys, NaN or infinite numbers,
    wrong types and out-of-range values are errors, and nothing is returned to be written while one remains.
    """
    text = path.read_text()
    document, lines = read_document(path, text)
    validate_document(path, document, lines)
    return SharedDefinitions(
        version=document["version"],
        digest=hashlib.sha256(text.encode()).hexdigest()[:16],
        document=document,
        default_channel=document["channels"]["default"],
        channels={
            str(raw_source).strip().lower(): channel
            for raw_source, channel in document["channels"]["lead_sources"].items()
        },
        unknown_segment=document["segments"]["unknown_segment"],
        segments=_segment_bands(document),
        thresholds=_thresholds(document),
    )


def write_definitions(connection: duckdb.DuckDBPyConnection, definitions: SharedDefinitions) -> dict[str, int]:
    """Replace the definitions tables in one transaction; returns rows written per table."""
    written = {}
    connection.execute(f"create schema if not exists {quote(SCHEMA)}")
    connection.execute("begin transaction")
    try:
        for table, frame in definitions.tables().items():
            connection.register("definitions_frame", frame)
            connection.execute(f"create or replace table {qualified(SCHEMA, table)} as select * from definitions_frame")
            connection.unregister("definitions_frame")
            written[table] = len(frame)
        connection.execute("commit")
    except Exception:
        connection.execute("rollback")
        raise
    return written
