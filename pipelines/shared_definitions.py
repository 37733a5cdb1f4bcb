"""The shared definitions file: load it, validate it, and write it into the warehouse as small tables.

Models read the definitions as tables in the `definitions` schema (`definitions.thresholds`,
`definitions.channel_mapping`, ...), so their SQL stays plain, sqlglot sees the dependency, Dagster marks what a
change makes stale, and BI can read the definitions in force. Great Expectations suites read the same document.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import yaml

from pipelines.warehouse import qualified, quote

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
    "reporting": "The reporting currency and the label of a record without an owner or team, in a single row.",
    "mrr_excluded_statuses": "Billing subscription statuses that never earned money and carry no MRR.",
    "opportunity_types": (
        "Which deal type each CRM opportunity type label counts as (lowercased, trimmed), and whether it is new "
        "business; NULL = the type of a label not listed."
    ),
}

CHURN_ELIGIBILITY_VALUES = ("every_month", "term_end_month")


class DefinitionsError(ValueError):
    """An invalid definitions file; the message names the key that is wrong."""


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
                  "unassigned_label": document["reporting"]["unassigned_label"]}]
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


def _get(document: dict[str, Any], key: str) -> Any:
    value: Any = document
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            raise DefinitionsError(f"definitions: `{key}` is missing")
        value = value[part]
    return value


def _require(document: dict[str, Any], key: str, kind: type) -> Any:
    """Read a key of the expected type, or fail naming the key."""
    value = _get(document, key)
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise DefinitionsError(f"definitions: `{key}` must be a {kind.__name__}, not {value!r}")
    return value


def _number(document: dict[str, Any], key: str, minimum: float = 0) -> int | float:
    value = _get(document, key)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
        raise DefinitionsError(f"definitions: `{key}` must be a number >= {minimum}, not {value!r}")
    return value


def _names(document: dict[str, Any], key: str) -> list[str]:
    """A non-empty list of distinct, non-empty strings."""
    values = _require(document, key, list)
    if not values or not all(isinstance(value, str) and value.strip() for value in values):
        raise DefinitionsError(f"definitions: `{key}` must be a non-empty list of names")
    if len(set(values)) != len(values):
        raise DefinitionsError(f"definitions: `{key}` lists a name twice")
    return values


def _segment_bands(document: dict[str, Any]) -> tuple[SegmentBand, ...]:
    bands = []
    for index, band in enumerate(_require(document, "segments.bands", list)):
        key = f"segments.bands[{index}]"
        if not isinstance(band, dict):
            raise DefinitionsError(f"definitions: `{key}` must be a mapping")
        name, low, high = band.get("name"), band.get("min_employees"), band.get("max_employees")
        if not isinstance(name, str) or not name:
            raise DefinitionsError(f"definitions: `{key}.name` must be a non-empty string")
        if not isinstance(low, int) or low < 0:
            raise DefinitionsError(f"definitions: `{key}.min_employees` must be a whole number >= 0")
        if high is not None and (not isinstance(high, int) or high < low):
            raise DefinitionsError(f"definitions: `{key}.max_employees` must be empty or >= min_employees")
        bands.append(SegmentBand(name=name, min_employees=low, max_employees=high))
    ordered = sorted(bands, key=lambda band: band.min_employees)
    for lower, upper in itertools.pairwise(ordered):
        if lower.max_employees is None or lower.max_employees >= upper.min_employees:
            raise DefinitionsError(f"definitions: `segments.bands` {lower.name} and {upper.name} overlap")
    return tuple(bands)


def _thresholds(document: dict[str, Any]) -> dict[str, float | int]:
    """Every numeric threshold, validated, under the column name models read it by."""
    thresholds = {
        "mql_score_threshold": _number(document, "mql.score_threshold"),
        "mql_min_fit_score": _number(document, "mql.min_fit_score"),
        "fit_points_industry": _number(document, "lead_scoring.fit_points.industry"),
        "fit_points_company_size": _number(document, "lead_scoring.fit_points.company_size"),
        "fit_points_country": _number(document, "lead_scoring.fit_points.country"),
        "score_half_life_days": _number(document, "lead_scoring.half_life_days", minimum=0.001),
        "score_window_days": _number(document, "lead_scoring.window_days", minimum=0.001),
        "icp_min_employees": _number(document, "icp.min_employees"),
        "icp_max_employees": _number(document, "icp.max_employees"),
        "pql_trial_window_days": _number(document, "pql.trial_window_days", minimum=1),
        "pql_min_active_users": _number(document, "pql.min_active_users", minimum=1),
        "pql_min_activation_events": _number(document, "pql.min_activation_events", minimum=1),
        "speed_to_lead_sla_minutes": _number(document, "speed_to_lead.sla_minutes", minimum=1),
        "funnel_conversion_window_days": _number(document, "funnel.conversion_window_days", minimum=1),
        "pipeline_stage_aging_days": _number(document, "pipeline.stage_aging_days", minimum=1),
        "gross_margin": _number(document, "unit_economics.gross_margin", minimum=0),
        "ltv_max_lifetime_months": _number(document, "unit_economics.max_lifetime_months", minimum=1),
        "product_events_late_arrival_days": _number(document, "product_events.late_arrival_days"),
    }
    if thresholds["gross_margin"] > 1:
        raise DefinitionsError("definitions: `unit_economics.gross_margin` must be a share between 0 and 1")
    if thresholds["icp_max_employees"] < thresholds["icp_min_employees"]:
        raise DefinitionsError("definitions: `icp.max_employees` must be >= `icp.min_employees`")
    for key in ("pql_min_active_users", "pql_min_activation_events"):
        if not isinstance(thresholds[key], int):
            raise DefinitionsError(f"definitions: `pql.{key.removeprefix('pql_')}` must be a whole number")
    if not isinstance(thresholds["product_events_late_arrival_days"], int):
        raise DefinitionsError("definitions: `product_events.late_arrival_days` must be a whole number of days")
    return thresholds


def _validate_taxonomies(document: dict[str, Any]) -> None:
    """Stages, reasons and rules that the tables are built from: fail naming the key."""
    stages = _names(document, "opportunity_stages")
    for key in ("sales_qualified_stage", "won_stage", "lost_stage"):
        if _require(document, key, str) not in stages:
            raise DefinitionsError(f"definitions: `{key}` must be one of `opportunity_stages`")
    _names(document, "rejection_reasons")
    _require(document, "unspecified_rejection_reason", str)
    _require(document, "unspecified_closed_lost_reason", str)
    _require(document, "reporting.currency", str)
    _require(document, "reporting.unassigned_label", str)
    statuses = set(_names(document, "contracts.stripe_subscription_statuses"))
    for status in _names(document, "mrr.excluded_subscription_statuses"):
        if status not in statuses:
            raise DefinitionsError(
                f"definitions: `mrr.excluded_subscription_statuses` holds {status!r}, not a Stripe subscription status"
            )
    for index, item in enumerate(_require(document, "closed_lost_reasons", list)):
        if not isinstance(item, dict) or not item.get("reason") or not item.get("bucket"):
            raise DefinitionsError(f"definitions: `closed_lost_reasons[{index}]` needs a reason and a bucket")
    for key in (
        "sales_sourced_channels",
        "product_sourced_channels",
        "icp.industries",
        "icp.countries",
        "pql.trial_start_events",
        "pql.activation_events",
        "speed_to_lead.touch_task_types",
        "contracts.stripe_subscription_statuses",
        "contracts.stripe_billing_intervals",
    ):
        _names(document, key)
    for component in ("behaviour", "intent"):
        for activity in _require(document, f"lead_scoring.{component}_points", dict):
            _number(document, f"lead_scoring.{component}_points.{activity}")
    for interval, rule in _require(document, "churn_eligibility", dict).items():
        if rule not in CHURN_ELIGIBILITY_VALUES:
            raise DefinitionsError(
                f"definitions: `churn_eligibility.{interval}` must be one of {CHURN_ELIGIBILITY_VALUES}"
            )
    for key in ("contracts.earliest_timestamp", "contracts.latest_timestamp"):
        try:
            datetime.fromisoformat(_require(document, key, str))
        except ValueError as error:
            raise DefinitionsError(f"definitions: `{key}` must be a timestamp such as 2000-01-01 00:00:00") from error


def late_arrival_days(path: Path) -> int:
    """The lookback, in days, of a partial rebuild of day-partitioned product events (see pipelines/partitions.py)."""
    return int(load_definitions(path).thresholds["product_events_late_arrival_days"])


def load_definitions(path: Path) -> SharedDefinitions:
    """Parse and validate the definitions file, failing fast with the name of the offending key."""
    text = path.read_text()
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise DefinitionsError(f"{path}: not valid YAML: {error}") from error
    if not isinstance(document, dict):
        raise DefinitionsError(f"{path}: the definitions file must be a YAML mapping")
    lead_sources = _require(document, "channels.lead_sources", dict)
    channels = {}
    for raw_source, channel in lead_sources.items():
        if not isinstance(channel, str) or not channel:
            raise DefinitionsError(f"definitions: `channels.lead_sources.{raw_source}` must name a channel")
        channels[str(raw_source).strip().lower()] = channel
    _validate_taxonomies(document)
    return SharedDefinitions(
        version=_require(document, "version", int),
        digest=hashlib.sha256(text.encode()).hexdigest()[:16],
        document=document,
        default_channel=_require(document, "channels.default", str),
        channels=channels,
        unknown_segment=_require(document, "segments.unknown_segment", str),
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
