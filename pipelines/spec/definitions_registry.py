"""The registry of shared definitions: every key of definitions.yml declared once, with one name used everywhere.

Each definition has a path in `definitions.yml`, the warehouse table (and columns) models read it from, a one-sentence
meaning, and the pydantic field of `definitions_schema.py` that validates it. The `definitions.thresholds` table, the
descriptions of the definitions tables, `docs/definitions.md` and the docs catalog's definitions page are generated
from this registry, and a contract test keeps it and the file key for key.

The name rule: a definition's name is its path with `.` written `__` (`mql.score_threshold` is
`mql__score_threshold`). It is the column of `definitions.thresholds` (SQL reads `thresholds.mql__score_threshold`),
the reference a Great Expectations suite writes (`{"$definition": "mql__score_threshold"}`) and the name the docs
show, and it reads back to the path without a lookup, because no key of the file contains `__`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from pipelines.spec.definitions_schema import DefinitionsFile

NAME_SEPARATOR = "__"
THRESHOLDS = "thresholds"


def name_of(path: str) -> str:
    """The name of the definition at a dotted path of the file: `mql.score_threshold` -> `mql__score_threshold`."""
    return path.replace(".", NAME_SEPARATOR)


def path_of(name: str) -> str:
    """The dotted path of the file a definition name stands for: `mql__score_threshold` -> `mql.score_threshold`."""
    return name.replace(NAME_SEPARATOR, ".")


@dataclass(frozen=True)
class Definition:
    """One definition: where it is written, where models read it, what it means."""

    path: str  # dotted path in definitions.yml
    table: str | None  # the table of the `definitions` schema it is loaded into; None when no model reads it
    columns: tuple[str, ...]  # the columns of that table it fills
    meaning: str

    @property
    def name(self) -> str:
        return name_of(self.path)


def _threshold(path: str, meaning: str) -> Definition:
    """A number models compare with: one column of the one-row `definitions.thresholds`, named after the definition."""
    return Definition(path, THRESHOLDS, (name_of(path),), meaning)


def _in(table: str | None, *columns: str) -> tuple[str | None, tuple[str, ...]]:
    return table, columns


def _listed(path: str, where: tuple[str | None, tuple[str, ...]], meaning: str) -> Definition:
    table, columns = where
    return Definition(path, table, columns, meaning)


# Why each definitions table exists: the description of its Dagster asset and of its section in the docs.
TABLE_DOCS: dict[str, str] = {
    "definitions_version": "The version and digest of the definitions file in force.",
    THRESHOLDS: "Every numeric threshold of the shared definitions, one column each, in a single row.",
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
    "fx_rate_rule": "Which rate converts a month's amounts in another currency (month_start, month_average or budget).",
    "fx_budget_rates": "The fixed budget rate of each currency into the reporting currency (rule `budget`).",
    "mrr_discounts": (
        "Which discounts MRR is net of: every one (net), forever coupons only (forever_only) or none (gross), in a "
        "single row."
    ),
    "mrr_excluded_statuses": "Billing subscription statuses that never earned money and carry no MRR.",
    "data_horizon": (
        "The data horizon of the run: the earliest and latest dates a raw row may carry, and the as-of time "
        "(FLYWHEEL_AS_OF, else the latest connector sync) the marts' month spines end at."
    ),
    "reconciliation_segment_arr_bands": (
        "The ARR band of each segment as billing implies it: from min_arr_usd (inclusive) to max_arr_usd (exclusive; "
        "NULL = no upper bound)."
    ),
    "opportunity_types": (
        "Which deal type each CRM opportunity type label counts as (lowercased, trimmed), and whether it is new "
        "business; NULL = the type of a label not listed."
    ),
}

# In the order of definitions.yml. A definition no model reads has no table: a Python step or a suite reads it.
DEFINITIONS: tuple[Definition, ...] = (
    _listed("version", _in("definitions_version", "version"), "The version of the definitions file, for BI to show."),
    _listed(
        "channels.default",
        _in("channel_mapping", "channel"),
        "The channel of a lead whose source is missing or not listed.",
    ),
    _listed(
        "channels.lead_sources",
        _in("channel_mapping", "lead_source_key", "channel"),
        "Which marketing channel each raw CRM lead source counts as, matched ignoring case and surrounding spaces.",
    ),
    _listed(
        "segments.unknown_segment",
        _in("segments", "segment"),
        "The segment of an account or lead whose company size is unknown.",
    ),
    _listed(
        "segments.bands",
        _in("segments", "segment", "min_employees", "max_employees"),
        "Company-size segments by number of employees, with inclusive bounds that do not overlap.",
    ),
    _listed(
        "sales_sourced_channels",
        _in("sales_sourced_channels", "channel"),
        "Channels whose leads sales finds itself: they skip the MQL gate and are never counted as MQLs.",
    ),
    _listed(
        "product_sourced_channels",
        _in("product_sourced_channels", "channel"),
        "Channels whose leads come from a product sign-up: their pipeline is credited to product, not marketing.",
    ),
    _listed("icp.industries", _in("icp_industries", "industry"), "The industries of the ideal customer profile."),
    _threshold("icp.min_employees", "The fewest employees (inclusive) a company of the ideal customer profile has."),
    _threshold("icp.max_employees", "The most employees (inclusive) a company of the ideal customer profile has."),
    _listed("icp.countries", _in("icp_countries", "country"), "The countries of the ideal customer profile."),
    _threshold("lead_scoring.fit_points.industry", "Fit points for a lead whose industry is an ICP industry."),
    _threshold(
        "lead_scoring.fit_points.company_size",
        "Fit points for a lead whose company size is within the ICP's employee range.",
    ),
    _threshold("lead_scoring.fit_points.country", "Fit points for a lead whose country is an ICP country."),
    _listed(
        "lead_scoring.behaviour_points",
        _in("engagement_points", "activity_type", "score_component", "points"),
        "Behaviour points per marketing engagement type (e-mail click, web visit, form fill, webinar).",
    ),
    _listed(
        "lead_scoring.intent_points",
        _in("engagement_points", "activity_type", "score_component", "points"),
        "Intent points per marketing engagement type (pricing-page visit, demo request).",
    ),
    _threshold(
        "lead_scoring.half_life_days",
        "Engagement points halve every this many days of the engagement's age (fractions of a day count).",
    ),
    _threshold(
        "lead_scoring.window_days",
        "An engagement counts while it is at most this many days old (exactly this old still counts), then zero.",
    ),
    _threshold(
        "mql.score_threshold",
        "A lead is an MQL from the first moment its fit plus decayed engagement points reach this score.",
    ),
    _threshold("mql.min_fit_score", "A lead becomes an MQL only while its fit score is at least this."),
    _listed(
        "rejection_reasons",
        _in("rejection_reasons", "rejection_reason"),
        "The reasons a rep may give for rejecting a lead.",
    ),
    _listed(
        "unspecified_rejection_reason",
        _in("rejection_reasons", "rejection_reason", "is_unspecified"),
        "The reason a rejection with no reason, or one not in the taxonomy, is counted under.",
    ),
    _listed(
        "opportunity_stages",
        _in("opportunity_stages", "stage_name", "stage_order"),
        "The opportunity stages, in order.",
    ),
    _listed(
        "sales_qualified_stage",
        _in("opportunity_stages", "is_sales_qualified"),
        "A lead is sales-qualified when its opportunity first reaches this stage or a later open or won one.",
    ),
    _listed("won_stage", _in("opportunity_stages", "is_won"), "The stage of a won opportunity."),
    _listed("lost_stage", _in("opportunity_stages", "is_lost"), "The stage of a lost opportunity."),
    _listed(
        "pql.trial_start_events",
        _in("pql_trial_start_events", "event_name"),
        "The product events whose first occurrence starts a workspace's trial.",
    ),
    _threshold("pql.trial_window_days", "A workspace must qualify within this many days of its trial start."),
    _threshold("pql.min_active_users", "A PQL has at least this many distinct active users in its trial window."),
    _threshold("pql.min_activation_events", "A PQL has at least this many activation events in its trial window."),
    _listed(
        "pql.activation_events",
        _in("pql_activation_events", "event_name"),
        "The product events that count as activation for the PQL rule.",
    ),
    _threshold(
        "product_events.late_arrival_days",
        "A rebuild of some days of product events also reads this many later days, so late copies are counted once.",
    ),
    _threshold("speed_to_lead.sla_minutes", "The first sales touch is due within this many minutes of the MQL."),
    _listed(
        "speed_to_lead.touch_task_types",
        _in("sales_touch_types", "task_type"),
        "The CRM task types that count as a sales touch.",
    ),
    _threshold(
        "funnel.conversion_window_days",
        "A funnel cohort counts a later stage only when it is reached within this many days of its starting event.",
    ),
    _threshold("pipeline.stage_aging_days", "An open deal that has sat in its stage longer than this is aging."),
    _listed("reporting.currency", _in("reporting", "currency"), "The currency every amount is reported in."),
    _listed(
        "reporting.unassigned_label",
        _in("reporting", "unassigned_label"),
        "The owner or team label of a record without one.",
    ),
    _listed(
        "reporting.time_zone",
        _in("reporting", "time_zone"),
        "The company's time zone (an IANA name): months, weeks and quarters start at midnight there.",
    ),
    _listed(
        "fx.rate_rule",
        _in("fx_rate_rule", "rate_rule"),
        "Which daily rate (or budget rate) converts a month's amounts: month_start, month_average or budget.",
    ),
    _listed(
        "fx.budget_rates",
        _in("fx_budget_rates", "currency", "rate_to_reporting"),
        "Units of the reporting currency per unit of each currency under the budget rule, the same every month.",
    ),
    _listed(
        "mrr.excluded_subscription_statuses",
        _in("mrr_excluded_statuses", "subscription_status"),
        "Subscription statuses that never earned money and carry no MRR.",
    ),
    _listed(
        "mrr.discounts",
        _in("mrr_discounts", "discounts"),
        (
            "Which discounts in force at each month's close MRR is net of: all (net, as invoice-based SaaS-metrics "
            "tools count), forever coupons only (forever_only, Stripe Billing's default) or none (gross)."
        ),
    ),
    _threshold("unit_economics.gross_margin", "The share of revenue left after the cost of serving it, used in LTV."),
    _threshold(
        "unit_economics.max_lifetime_months",
        "The customer lifetime LTV uses when monthly revenue churn is (near) zero.",
    ),
    _listed(
        "churn_eligibility",
        _in("churn_eligibility", "billing_interval", "is_eligible_only_at_term_end"),
        "Per billing interval, whether a contract may end every month or only in its term-end month.",
    ),
    _threshold("minimum_bases.customers", "A customer or revenue ratio is published only on this many customers."),
    _threshold("minimum_bases.mrr_usd", "A revenue ratio is published only on this much starting MRR in USD."),
    _threshold("minimum_bases.leads", "A lead ratio is published only on this many leads."),
    _listed(
        "closed_lost_reasons",
        _in("closed_lost_reasons", "loss_reason", "loss_reason_bucket"),
        "The closed-lost reasons, each in the bucket of the team that can fix it.",
    ),
    _listed(
        "unspecified_closed_lost_reason",
        _in("closed_lost_reasons", "loss_reason", "is_unspecified"),
        "The reason a lost deal with no listed reason is counted under.",
    ),
    _listed(
        "data_horizon.earliest",
        _in("data_horizon", "earliest_at"),
        "A raw row dated before this is quarantined as a typing or clock error.",
    ),
    _listed(
        "data_horizon.clock_skew_hours",
        _in("data_horizon", "latest_at"),
        "A raw row dated more than this many hours after the run's as-of time is quarantined.",
    ),
    _listed(
        "data_horizon.max_future_days",
        _in("data_horizon", "latest_scheduled_at"),
        "A scheduled date (a period end, an expected close date) may lie this many days after the as-of time.",
    ),
    _listed(
        "volume_guard.max_row_drop_share",
        _in(None),
        "A table that lost more than this share of its rows since the last publish blocks the publish.",
    ),
    _listed(
        "opportunity_types.other_type",
        _in("opportunity_types", "opportunity_type"),
        "The deal type of a CRM opportunity type label that is not listed.",
    ),
    _listed(
        "opportunity_types.new_business_type",
        _in("opportunity_types", "is_new_business"),
        "The deal type that counts as new business.",
    ),
    _listed(
        "opportunity_types.types",
        _in("opportunity_types", "label_key", "opportunity_type"),
        "The deal types, each with the CRM labels that count as it, matched ignoring case and surrounding spaces.",
    ),
    _threshold(
        "reconciliation.billing_window_days",
        "A won new-business deal matches billing that began paying at most this many days before or after its close.",
    ),
    _threshold(
        "reconciliation.min_mrr_usd_for_crm",
        "A billing customer without a CRM account is a finding once its MRR reached this (below: self-serve).",
    ),
    _threshold(
        "reconciliation.amount_tolerance_share",
        "A won deal's amount may differ from 12 x its customer's first MRR by this share of the amount.",
    ),
    _listed(
        "reconciliation.segment_min_arr_usd",
        _in("reconciliation_segment_arr_bands", "segment", "min_arr_usd", "max_arr_usd"),
        "The lowest ARR (inclusive) of each segment as billing implies it; a band runs to the next segment's minimum.",
    ),
    _listed(
        "personal_data.redacted_label",
        _in(None),
        "The text that replaces an e-mail address or phone number found in a free-text column at the raw load.",
    ),
    _listed(
        "contracts.earliest_timestamp",
        _in(None),
        "Source-contract suites fail on a timestamp before this.",
    ),
    _listed("contracts.latest_timestamp", _in(None), "Source-contract suites fail on a timestamp after this."),
    _listed(
        "contracts.stripe_subscription_statuses",
        _in(None),
        "The subscription statuses Stripe may send; the contract suites fail on any other.",
    ),
    _listed(
        "contracts.stripe_billing_intervals",
        _in(None),
        "The billing intervals Stripe may send; the contract suites fail on any other.",
    ),
    _listed(
        "contracts.stripe_invoice_statuses",
        _in(None),
        "The invoice statuses Stripe may send; the contract suites fail on any other.",
    ),
    _listed(
        "contracts.stripe_charge_statuses",
        _in(None),
        "The charge statuses Stripe may send; the contract suites fail on any other.",
    ),
    _listed(
        "contracts.stripe_refund_statuses",
        _in(None),
        "The refund statuses Stripe may send; the contract suites fail on any other.",
    ),
)

_BY_NAME = {definition.name: definition for definition in DEFINITIONS}


def definition(name: str) -> Definition:
    """The definition of a name (or a dotted path); a KeyError names the definitions that exist."""
    found = _BY_NAME.get(name_of(name))
    if found is None:
        raise KeyError(f"no definition {name!r}; the definitions are: {', '.join(_BY_NAME)}")
    return found


def threshold_definitions() -> tuple[Definition, ...]:
    """The definitions `definitions.thresholds` holds, in column order."""
    return tuple(item for item in DEFINITIONS if item.table == THRESHOLDS)


def definitions_in(table: str | None) -> tuple[Definition, ...]:
    """The definitions a table of the `definitions` schema is loaded from (None: the ones no model reads)."""
    return tuple(item for item in DEFINITIONS if item.table == table)


def value_at(document: dict[str, Any], path: str) -> Any:
    """The value at a dotted path of the definitions document."""
    value: Any = document
    for part in path.split("."):
        value = value[part]
    return value


# --- Keeping the registry and the file key for key --------------------------------------------------------------------


def undeclared_keys(document: dict[str, Any]) -> list[str]:
    """Keys of the document that no definition declares (nor a definition above them, such as a mapping of sources)."""
    declared = {item.path for item in DEFINITIONS}
    found: list[str] = []

    def walk(mapping: dict[str, Any], prefix: str) -> None:
        for key, value in mapping.items():
            path = f"{prefix}{key}"
            if path in declared:
                continue
            if isinstance(value, dict):
                walk(value, f"{path}.")
            else:
                found.append(path)

    walk(document, "")
    return found


def missing_paths(document: dict[str, Any]) -> list[str]:
    """Paths of the registry the document does not have."""
    missing = []
    for item in DEFINITIONS:
        try:
            value_at(document, item.path)
        except (KeyError, TypeError):
            missing.append(item.path)
    return missing


# --- How each definition is validated ---------------------------------------------------------------------------------


def schema_field(path: str) -> tuple[type[BaseModel], str, FieldInfo]:
    """The section model of `definitions_schema.py` and its field that validate the value at a path."""
    model: type[BaseModel] = DefinitionsFile
    parts = path.split(".")
    for depth, part in enumerate(parts):
        if part not in model.model_fields:
            raise KeyError(f"{path}: {model.__name__} has no field {part!r}")
        info = model.model_fields[part]
        if depth == len(parts) - 1:
            return model, part, info
        if not (isinstance(info.annotation, type) and issubclass(info.annotation, BaseModel)):
            raise KeyError(f"{path}: {model.__name__}.{part} is not a section")
        model = info.annotation
    raise KeyError(path)


_BOUNDS = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}


def validation(path: str) -> str:
    """The schema field that validates a definition, and its bounds: `Mql.score_threshold (> 0)`."""
    model, field, info = schema_field(path)
    bounds = [
        f"{symbol} {getattr(constraint, attribute):g}"
        for constraint in info.metadata
        for attribute, symbol in _BOUNDS.items()
        if getattr(constraint, attribute, None) is not None
    ]
    kind = "whole number" if info.annotation is int else "number" if info.annotation is float else None
    detail = ", ".join(([kind] if kind else []) + bounds)
    return f"{model.__name__}.{field}" + (f" ({detail})" if detail else "")
