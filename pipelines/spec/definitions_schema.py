"""The schema of the shared definitions file: one strict pydantic model per section, and the rules across keys.

Strict means: no unknown keys (a misspelled optional key would otherwise vanish), no type coercion (`"40"` is not a
number, `true` is not 1), no NaN or infinity, and ranges that make sense (no negative SLA, a share within 0..1, whole
numbers where counts are meant). The rules across keys catch definitions that are each valid but cannot work
together: a minimum fit score no lead can reach, overlapping segment bands, a stage that is not a stage.

The value types every section uses (names, shares, whole numbers, dates, currencies, time zones) and the strict
`Section` base are in schema_types.py, shared with the source contract's and the suites' schemas.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError

from pipelines.spec.definitions_reader import DefinitionsError, KeyPath, Problem, report, schema_problems
from pipelines.spec.schema_types import (
    AtLeastOne,
    CurrencyCode,
    DateText,
    Name,
    Names,
    NonNegative,
    Positive,
    Section,
    Share,
    TimestampText,
    TimeZoneName,
    WholeAtLeastOne,
    WholeNonNegative,
)

# --- One model per section ---------------------------------------------------------------------------------------


class Channels(Section):
    default: Name
    lead_sources: dict[Name, Name]

    def problems(self) -> Iterator[Problem]:
        # Matching ignores case and surrounding spaces, so two spellings of one source would fight over it.
        seen: dict[str, str] = {}
        for source in self.lead_sources:
            normalized = source.strip().lower()
            if normalized in seen:
                yield Problem(
                    ("lead_sources", source),
                    f"is the lead source {seen[normalized]!r} again (matching ignores case and spaces)",
                )
            seen.setdefault(normalized, source)


class Band(Section):
    name: Name
    min_employees: WholeNonNegative
    max_employees: WholeNonNegative | None = None


class Segments(Section):
    unknown_segment: Name
    bands: Annotated[list[Band], Field(min_length=1)]

    def problems(self) -> Iterator[Problem]:
        names: dict[str, int] = {}
        inverted = False
        for index, band in enumerate(self.bands):
            if band.name in names:
                yield Problem(
                    ("bands", index, "name"), f"{band.name!r} names two bands (first bands[{names[band.name]}])"
                )
            names.setdefault(band.name, index)
            if band.max_employees is not None and band.max_employees < band.min_employees:
                yield Problem(
                    ("bands", index, "max_employees"),
                    f"must be empty (no upper bound) or >= min_employees ({band.min_employees}), "
                    f"not {band.max_employees}",
                )
                inverted = True
        if self.unknown_segment in names:
            yield Problem(("unknown_segment",), f"{self.unknown_segment!r} is also the name of a band")
        if inverted:  # the overlap of a band that ends before it starts would only repeat the problem
            return
        ordered = sorted(enumerate(self.bands), key=lambda item: item[1].min_employees)
        for (_, lower), (index, upper) in itertools.pairwise(ordered):
            if lower.max_employees is None or lower.max_employees >= upper.min_employees:
                end = "has no upper bound" if lower.max_employees is None else f"runs to {lower.max_employees}"
                yield Problem(
                    ("bands", index, "min_employees"),
                    f"{lower.name} and {upper.name} overlap: {lower.name} {end}, {upper.name} starts at "
                    f"{upper.min_employees} employees",
                )


class Icp(Section):
    industries: Names
    min_employees: WholeNonNegative
    max_employees: WholeNonNegative
    countries: Names

    def problems(self) -> Iterator[Problem]:
        if self.max_employees < self.min_employees:
            yield Problem(
                ("max_employees",),
                f"must be >= icp.min_employees ({self.min_employees}), not {self.max_employees}",
            )


class FitPoints(Section):
    industry: NonNegative
    company_size: NonNegative
    country: NonNegative

    def total(self) -> float:
        """The most fit points a lead can get: it meets every ICP criterion."""
        return self.industry + self.company_size + self.country


class LeadScoring(Section):
    fit_points: FitPoints
    behaviour_points: dict[Name, NonNegative]
    intent_points: dict[Name, NonNegative]
    half_life_days: Positive
    window_days: Positive

    def problems(self) -> Iterator[Problem]:
        # One engagement type in both components would give it two rows in definitions.engagement_points.
        for activity in self.intent_points:
            if activity in self.behaviour_points:
                yield Problem(
                    ("intent_points", activity),
                    "is also in behaviour_points: an engagement type scores in one component only",
                )

    def engagement_scores_points(self) -> bool:
        return any(points > 0 for points in [*self.behaviour_points.values(), *self.intent_points.values()])


class Mql(Section):
    score_threshold: Positive
    min_fit_score: NonNegative


class Pql(Section):
    trial_start_events: Names
    trial_window_days: WholeAtLeastOne  # the models add it to a timestamp as whole days
    min_active_users: WholeAtLeastOne
    min_activation_events: WholeAtLeastOne
    activation_events: Names


class ProductEvents(Section):
    late_arrival_days: WholeNonNegative


class SpeedToLead(Section):
    sla_minutes: AtLeastOne
    touch_task_types: Names


class Funnel(Section):
    conversion_window_days: WholeAtLeastOne  # the models add it to a timestamp as whole days


class Pipeline(Section):
    stage_aging_days: AtLeastOne


class Reporting(Section):
    currency: CurrencyCode
    unassigned_label: Name
    time_zone: TimeZoneName


class Fx(Section):
    rate_rule: Literal["month_start", "month_average", "budget"]
    budget_rates: dict[Name, Positive]

    def problems(self) -> Iterator[Problem]:
        # Checked here rather than as a typed key, so the message names the code instead of the key's type.
        for code in self.budget_rates:
            if not re.fullmatch(r"[A-Z]{3}", code):
                yield Problem(("budget_rates", code), "must be a three-letter ISO currency code in capitals, like EUR")


class Mrr(Section):
    excluded_subscription_statuses: Names
    discounts: Literal["net", "forever_only", "gross"] = "net"


class UnitEconomics(Section):
    gross_margin: Share
    max_lifetime_months: AtLeastOne


class MinimumBases(Section):
    """The smallest base a ratio of each family is published on; below it the ratio is null ("base below minimum")."""

    customers: WholeNonNegative
    mrr_usd: NonNegative
    leads: WholeNonNegative


class ClosedLostReason(Section):
    reason: Name
    bucket: Name


class DataHorizon(Section):
    earliest: DateText
    clock_skew_hours: NonNegative
    max_future_days: WholeNonNegative


class VolumeGuard(Section):
    max_row_drop_share: Annotated[float, Field(gt=0, le=1)]


class OpportunityType(Section):
    name: Name
    labels: Names


class OpportunityTypes(Section):
    other_type: Name
    new_business_type: Name
    types: Annotated[list[OpportunityType], Field(min_length=1)]

    def problems(self) -> Iterator[Problem]:
        names = [kind.name for kind in self.types]
        if self.new_business_type not in names:
            yield Problem(
                ("new_business_type",),
                f"must be the name of one of opportunity_types.types ({', '.join(names)}), "
                f"not {self.new_business_type!r}",
            )
        first_type: dict[str, int] = {}
        owner: dict[str, tuple[int, int]] = {}
        for type_index, kind in enumerate(self.types):
            if kind.name in first_type:
                yield Problem(
                    ("types", type_index, "name"),
                    f"{kind.name!r} names two types (first types[{first_type[kind.name]}])",
                )
            first_type.setdefault(kind.name, type_index)
            for label_index, label in enumerate(kind.labels):
                # CRM labels match ignoring case and surrounding spaces, so a label must lead to one type only.
                normalized = label.strip().casefold()
                if normalized in owner:
                    first, first_label = owner[normalized]
                    yield Problem(
                        ("types", type_index, "labels", label_index),
                        f"the label {label!r} is already a label of {self.types[first].name} "
                        f"(types[{first}].labels[{first_label}]; matching ignores case and spaces)",
                    )
                owner.setdefault(normalized, (type_index, label_index))


class Reconciliation(Section):
    billing_window_days: WholeNonNegative  # the models add it to a date as whole days
    min_mrr_usd_for_crm: NonNegative
    amount_tolerance_share: Share
    segment_min_arr_usd: Annotated[dict[Name, NonNegative], Field(min_length=1)]

    def problems(self) -> Iterator[Problem]:
        if 0 not in self.segment_min_arr_usd.values():
            yield Problem(
                ("segment_min_arr_usd",),
                "one segment must start at 0, or a customer paying less than every minimum implies no segment",
            )
        minimums: dict[float, str] = {}
        for segment, minimum in self.segment_min_arr_usd.items():
            if minimum in minimums:
                yield Problem(
                    ("segment_min_arr_usd", segment),
                    f"starts at {minimum:g} like {minimums[minimum]}: one of their bands would be empty",
                )
            minimums.setdefault(minimum, segment)


class PersonalData(Section):
    redacted_label: Name


class Contracts(Section):
    earliest_timestamp: TimestampText
    latest_timestamp: TimestampText
    stripe_subscription_statuses: Names
    stripe_billing_intervals: Names
    stripe_invoice_statuses: Names
    stripe_charge_statuses: Names
    stripe_refund_statuses: Names

    def problems(self) -> Iterator[Problem]:
        if datetime.fromisoformat(self.latest_timestamp) <= datetime.fromisoformat(self.earliest_timestamp):
            yield Problem(("latest_timestamp",), f"must be after earliest_timestamp ({self.earliest_timestamp})")


class DefinitionsFile(Section):
    """The whole file: every section, and the rules that tie one section to another."""

    version: WholeAtLeastOne
    channels: Channels
    segments: Segments
    sales_sourced_channels: Names
    product_sourced_channels: Names
    icp: Icp
    lead_scoring: LeadScoring
    mql: Mql
    rejection_reasons: Names
    unspecified_rejection_reason: Name
    opportunity_stages: Names
    sales_qualified_stage: Name
    won_stage: Name
    lost_stage: Name
    pql: Pql
    product_events: ProductEvents
    speed_to_lead: SpeedToLead
    funnel: Funnel
    pipeline: Pipeline
    reporting: Reporting
    fx: Fx
    mrr: Mrr
    unit_economics: UnitEconomics
    churn_eligibility: dict[Name, Literal["every_month", "term_end_month"]]
    minimum_bases: MinimumBases
    closed_lost_reasons: Annotated[list[ClosedLostReason], Field(min_length=1)]
    unspecified_closed_lost_reason: Name
    data_horizon: DataHorizon
    volume_guard: VolumeGuard
    opportunity_types: OpportunityTypes
    reconciliation: Reconciliation
    personal_data: PersonalData
    contracts: Contracts

    def problems(self) -> Iterator[Problem]:
        for name in type(self).model_fields:
            section = getattr(self, name)
            if isinstance(section, Section):
                for problem in section.problems():
                    yield Problem((name, *problem.path), problem.message, problem.line)
        yield from self._scoring_problems()
        yield from self._channel_problems()
        yield from self._stage_problems()
        yield from self._taxonomy_problems()

    def _scoring_problems(self) -> Iterator[Problem]:
        most_fit = self.lead_scoring.fit_points.total()
        if self.mql.min_fit_score > most_fit:
            yield Problem(
                ("mql", "min_fit_score"),
                f"must be <= {most_fit:g}, the most fit points a lead can get (sum of lead_scoring.fit_points), "
                "or no lead can become an MQL",
            )
        # A lead's score is its fit plus the decayed behaviour and intent points of every engagement in the window,
        # summed without a cap (models/intermediate/marketing/int_leads_scored.sql): it has no maximum as soon as one
        # engagement type scores points, and the threshold only needs to be > 0. With no engagement points the
        # score is the fit score alone, so a threshold above the most fit points would make MQLs impossible.
        if not self.lead_scoring.engagement_scores_points() and self.mql.score_threshold > most_fit:
            yield Problem(
                ("mql", "score_threshold"),
                f"must be <= {most_fit:g}: no engagement type scores points, so a lead's score is its fit score, "
                "and no lead could become an MQL",
            )

    def _channel_problems(self) -> Iterator[Problem]:
        for index, channel in enumerate(self.product_sourced_channels):
            if channel in self.sales_sourced_channels:
                yield Problem(
                    ("product_sourced_channels", index),
                    f"{channel!r} is also a sales-sourced channel: its pipeline would be credited to two teams",
                )

    def _stage_problems(self) -> Iterator[Problem]:
        stages = self.opportunity_stages
        for key in ("sales_qualified_stage", "won_stage", "lost_stage"):
            stage = getattr(self, key)
            if stage not in stages:
                yield Problem((key,), f"must be one of opportunity_stages ({', '.join(stages)}), not {stage!r}")
        if self.won_stage == self.lost_stage:
            yield Problem(("lost_stage",), f"must differ from won_stage ({self.won_stage!r})")
        elif self.sales_qualified_stage == self.lost_stage:
            yield Problem(("sales_qualified_stage",), f"must not be the lost stage ({self.lost_stage!r})")

    def _taxonomy_problems(self) -> Iterator[Problem]:
        if self.unspecified_rejection_reason in self.rejection_reasons:
            yield Problem(
                ("unspecified_rejection_reason",),
                "must not be one of rejection_reasons: it counts the rejections without a listed reason",
            )
        reasons: dict[str, int] = {}
        for index, item in enumerate(self.closed_lost_reasons):
            if item.reason in reasons:
                yield Problem(
                    ("closed_lost_reasons", index, "reason"),
                    f"lists {item.reason!r} twice (first closed_lost_reasons[{reasons[item.reason]}])",
                )
            reasons.setdefault(item.reason, index)
        if self.unspecified_closed_lost_reason in reasons:
            yield Problem(
                ("unspecified_closed_lost_reason",),
                "must not be one of closed_lost_reasons: it counts the losses without a listed reason",
            )
        if self.reporting.currency in self.fx.budget_rates:
            yield Problem(
                ("fx", "budget_rates", self.reporting.currency),
                "is the reporting currency (reporting.currency), which always converts at 1",
            )
        statuses = self.contracts.stripe_subscription_statuses
        for index, status in enumerate(self.mrr.excluded_subscription_statuses):
            if status not in statuses:
                yield Problem(
                    ("mrr", "excluded_subscription_statuses", index),
                    f"{status!r} is not a Stripe subscription status (contracts.stripe_subscription_statuses)",
                )
        bands = [band.name for band in self.segments.bands]
        broken_bands = any(True for _ in self.segments.problems())  # reported there; a renamed band is not two faults
        for segment in self.reconciliation.segment_min_arr_usd:
            if segment not in bands and not broken_bands:
                yield Problem(
                    ("reconciliation", "segment_min_arr_usd", segment),
                    f"is not a segment of segments.bands ({', '.join(bands)})",
                )
        for interval in self.churn_eligibility:
            if interval not in self.contracts.stripe_billing_intervals:
                yield Problem(
                    ("churn_eligibility", interval),
                    "is not a billing interval of contracts.stripe_billing_intervals",
                )


def validate_document(path: Path, document: Any, lines: dict[KeyPath, int]) -> None:
    """Check the document against the schema, then the rules across keys; raise every problem found, by line."""
    if not isinstance(document, dict):
        raise DefinitionsError(f"{path}: the definitions file must be a YAML mapping")
    try:
        definitions = DefinitionsFile.model_validate(document)
    except ValidationError as error:
        raise DefinitionsError(report(path, schema_problems(error.errors(), DefinitionsFile), lines)) from None
    problems = list(definitions.problems())
    if problems:
        raise DefinitionsError(report(path, problems, lines))
