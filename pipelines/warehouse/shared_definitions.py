"""The shared definitions file: load it, validate it, and write it into the warehouse as small tables.

Which definition each table and column holds is declared in pipelines/spec/definitions_registry.py.
Models read the definitions as tables in the `definitions` schema (`definitions.thresholds`,
`definitions.channel_mapping`, ...), so their SQL stays plain, sqlglot sees the dependency, Dagster marks what a
change makes stale, and BI can read the definitions in force. Great Expectations suites read the same document.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from pipelines.spec.definitions_reader import DefinitionsError as DefinitionsError
from pipelines.spec.definitions_registry import TABLE_DOCS as TABLE_DOCS
from pipelines.spec.definitions_registry import definition, threshold_definitions, value_at
from pipelines.spec.project_files import DefinitionsDocument, read_definitions
from pipelines.warehouse.connection import qualified, quote

SCHEMA = "definitions"

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
        """The definitions as the warehouse tables models read (data_horizon, which depends on the run, aside)."""
        document = self.document
        return {
            "definitions_version": pd.DataFrame([{"version": self.version, "digest": self.digest}]),
            "thresholds": pd.DataFrame([self.thresholds]),
            "channel_mapping": _channel_mapping(self.channels, self.default_channel),
            "segments": _segments(self.segments, self.unknown_segment),
            "sales_sourced_channels": _single_column("channel", document["sales_sourced_channels"]),
            "product_sourced_channels": _single_column("channel", document["product_sourced_channels"]),
            "icp_industries": _single_column("industry", document["icp"]["industries"]),
            "icp_countries": _single_column("country", document["icp"]["countries"]),
            "engagement_points": _engagement_points(document["lead_scoring"]),
            "rejection_reasons": _rejection_reasons(document),
            "opportunity_stages": _opportunity_stages(document),
            "pql_trial_start_events": _single_column("event_name", document["pql"]["trial_start_events"]),
            "pql_activation_events": _single_column("event_name", document["pql"]["activation_events"]),
            "sales_touch_types": _single_column("task_type", document["speed_to_lead"]["touch_task_types"]),
            "churn_eligibility": _churn_eligibility(document["churn_eligibility"]),
            "reporting": pd.DataFrame([{column: document["reporting"][column] for column in REPORTING_COLUMNS}]),
            "fx_rate_rule": pd.DataFrame({"rate_rule": pd.Series([document["fx"]["rate_rule"]], dtype="string")}),
            "fx_budget_rates": _budget_rates(document["fx"]["budget_rates"]),
            "mrr_excluded_statuses": _single_column(
                "subscription_status", document["mrr"]["excluded_subscription_statuses"]
            ),
            "mrr_discounts": pd.DataFrame(
                {"discounts": pd.Series([document["mrr"].get("discounts", "net")], dtype="string")}
            ),
            "opportunity_types": _opportunity_types(document["opportunity_types"]),
            "closed_lost_reasons": _closed_lost_reasons(document),
        }


REPORTING_COLUMNS = ("currency", "unassigned_label", "time_zone")


def _single_column(name: str, values: list[str]) -> pd.DataFrame:
    """A list of names as a one-column table, typed as strings even when empty."""
    return pd.DataFrame({name: pd.Series(values, dtype="string")})


def _channel_mapping(channels: dict[str, str], default_channel: str) -> pd.DataFrame:
    """One row per normalized lead source, and a NULL key for the channel of every source not listed."""
    return pd.DataFrame(
        [{"lead_source_key": key, "channel": value} for key, value in sorted(channels.items())]
        + [{"lead_source_key": None, "channel": default_channel}],
        columns=["lead_source_key", "channel"],
    )


def _segments(bands: tuple[SegmentBand, ...], unknown_segment: str) -> pd.DataFrame:
    """The size bands, and the unknown segment with no bounds (nullable integers, so the bounds stay whole)."""
    return pd.DataFrame(
        [
            {"segment": band.name, "min_employees": band.min_employees, "max_employees": band.max_employees}
            for band in bands
        ]
        + [{"segment": unknown_segment, "min_employees": None, "max_employees": None}],
        columns=["segment", "min_employees", "max_employees"],
    ).astype({"min_employees": "Int64", "max_employees": "Int64"})


def _engagement_points(scoring: dict[str, Any]) -> pd.DataFrame:
    """Behaviour and intent points in one table, so the score is one join whatever the component."""
    return pd.DataFrame(
        [
            {"activity_type": activity, "score_component": component, "points": points}
            for component in ("behaviour", "intent")
            for activity, points in sorted(scoring[f"{component}_points"].items())
        ],
        columns=["activity_type", "score_component", "points"],
    )


def _rejection_reasons(document: dict[str, Any]) -> pd.DataFrame:
    """The taxonomy plus its catch-all, flagged, so a model can count rejections without a valid reason."""
    return pd.DataFrame(
        [{"rejection_reason": reason, "is_unspecified": False} for reason in document["rejection_reasons"]]
        + [{"rejection_reason": document["unspecified_rejection_reason"], "is_unspecified": True}]
    )


def _opportunity_stages(document: dict[str, Any]) -> pd.DataFrame:
    """The stages in order, each flagged sales-qualified (this stage or a later one, not lost), won or lost."""
    stages = document["opportunity_stages"]
    qualified_from = stages.index(document["sales_qualified_stage"])
    return pd.DataFrame(
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
    )


def _budget_rates(rates: dict[str, float]) -> pd.DataFrame:
    """The budget rate of each currency, typed even when none is listed (the rule may not be `budget`)."""
    return pd.DataFrame(
        {
            "currency": pd.Series(sorted(rates), dtype="string"),
            "rate_to_reporting": pd.Series([float(rates[code]) for code in sorted(rates)], dtype="float64"),
        }
    )


def _churn_eligibility(rules: dict[str, str]) -> pd.DataFrame:
    """Per billing interval, whether its contracts may end only in their term-end month."""
    return pd.DataFrame(
        [
            {"billing_interval": interval, "is_eligible_only_at_term_end": rule == "term_end_month"}
            for interval, rule in sorted(rules.items())
        ]
    )


def _opportunity_types(section: dict[str, Any]) -> pd.DataFrame:
    """One row per normalized CRM label (a type's own name is one of its labels), and a NULL key for the rest."""
    rows = [
        {
            "label_key": label,
            "opportunity_type": item["name"],
            "is_new_business": item["name"] == section["new_business_type"],
        }
        for item in section["types"]
        for label in dict.fromkeys(str(text).strip().lower() for text in [item["name"], *item["labels"]])
    ]
    rows.append({"label_key": None, "opportunity_type": section["other_type"], "is_new_business": False})
    return pd.DataFrame(rows, columns=["label_key", "opportunity_type", "is_new_business"])


def _closed_lost_reasons(document: dict[str, Any]) -> pd.DataFrame:
    """The reasons with their buckets, plus the catch-all reason (its own bucket), flagged."""
    unspecified = document["unspecified_closed_lost_reason"]
    return pd.DataFrame(
        [
            {"loss_reason": item["reason"], "loss_reason_bucket": item["bucket"], "is_unspecified": False}
            for item in document["closed_lost_reasons"]
        ]
        + [{"loss_reason": unspecified, "loss_reason_bucket": unspecified, "is_unspecified": True}]
    )


def _thresholds(document: dict[str, Any]) -> dict[str, float | int]:
    """Every numeric threshold under its definition name (the column models read), as written (an int stays an int)."""
    return {item.name: value_at(document, item.path) for item in threshold_definitions()}


def _segment_bands(document: dict[str, Any]) -> tuple[SegmentBand, ...]:
    return tuple(
        SegmentBand(name=band["name"], min_employees=band["min_employees"], max_employees=band.get("max_employees"))
        for band in document["segments"]["bands"]
    )


def late_arrival_days(path: Path) -> int:
    """The lookback, in days, of a partial rebuild of day-partitioned product events.

    See pipelines/spec/partitions.py.
    """
    return int(load_definitions(path).thresholds[definition("product_events.late_arrival_days").name])


def load_definitions(path: Path) -> SharedDefinitions:
    """Parse and validate the definitions file, failing with the file, line and key of every problem.

    Validation is strict (see pipelines/spec/definitions_schema.py): unknown or duplicate keys, NaN or infinite numbers,
    wrong types and out-of-range values are errors, and nothing is returned to be written while one remains. The file
    is parsed once per content (pipelines/spec/project_files.py), however many assets of a run read it.
    """
    return shared_definitions(read_definitions(path))


def shared_definitions(definitions: DefinitionsDocument) -> SharedDefinitions:
    """The validated definitions document as the values and tables the warehouse holds."""
    document = definitions.document
    return SharedDefinitions(
        version=document["version"],
        digest=definitions.digest,
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
