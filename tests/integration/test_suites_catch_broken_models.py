"""Every definition suite (or check of a model's check file) fails on a model that deviates from its definition, and
the failure blocks the step.

Each tiny hand-made input is built once with the project's models (one good build for every case that shares it),
then each case builds its model again with a broken variant (a comparison flipped, a condition dropped, a rank off by
one). The variants live here, not in `models/`: the model file is copied to a temporary models directory and one
exact piece of its SQL is replaced. The broken build must fail the suite that states the definition, fail the
model's step, skip what is downstream, and keep the last good table in place (so the next case of the same input
starts from the good build again).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest

from pipelines.spec.settings import PROJECT_ROOT, Settings
from tests.conftest import materialize, settings_for
from tests.fixtures import NO_MINIMUM_BASES, definitions_with, query, write_raw
from tests.integration import (
    test_billing_monthly,
    test_closed_lost_and_win_rates,
    test_exchange_rates,
    test_hand_worked_leads,
    test_mrr_and_retention,
    test_speed_to_lead,
    test_unit_economics,
)
from tests.integration.test_hand_worked_leads import engagement, lead
from tests.integration.test_pql_and_rep_revenue import event

MODELS_DIR = PROJECT_ROOT / "models"


@dataclass(frozen=True)
class Mutation:
    """A broken variant of one model: `original` (which must occur exactly once) replaced by `broken`; `catches`, when
    given, is (part of) the description of the expectation that must be among the failing ones.

    `also` breaks the model elsewhere in the same rebuild, on other rows and other expectations (each with its own
    `catches`), so independent variants of one model cost one rebuild.
    """

    name: str
    original: str
    broken: str
    catches: str = ""
    also: tuple[Mutation, ...] = ()

    @property
    def each(self) -> tuple[Mutation, ...]:
        """This variant and those applied with it."""
        return (self, *self.also)


@dataclass(frozen=True)
class Case:
    """One definition suite (or check of a model's check file), the model it validates, the input it is built on, and
    the variants it must catch."""

    suite: str
    model: str  # schema/table, as the asset key
    downstream: str | None  # an asset that reads the model (skipped when the model is blocked), if a cheap one does
    raw: str  # the name of its input in INPUTS: cases of one input share one good build
    mutations: tuple[Mutation, ...]

    @property
    def model_file(self) -> Path:
        schema, table = self.model.split("/")
        [path] = (MODELS_DIR / schema).rglob(f"{table}.sql")
        return path

    @property
    def selection(self) -> str:
        return f'+key:"{self.downstream or self.model}"'

    @property
    def rebuild_selection(self) -> str:
        """The model and its downstream asset only: their upstream tables are already built by the good build."""
        return f'key:"{self.model}"' + (f' or key:"{self.downstream}"' if self.downstream else "")

    @property
    def step(self) -> str:
        return self.model.replace("/", "__")


WORKSPACES = {
    "product.events": [
        # W1: two active users, two activation events: a PQL when the second activation comes.
        event("e1", "trial_started", "U1", "W1", "2026-01-02 09:00:00"),
        event("e2", "project_created", "U1", "W1", "2026-01-03 10:00:00"),
        event("e3", "report_shared", "U2", "W1", "2026-01-04 10:00:00"),
        # W2: one active user with three activation events: not a PQL.
        event("e4", "trial_started", "U3", "W2", "2026-01-05 09:00:00"),
        event("e5", "project_created", "U3", "W2", "2026-01-06 09:00:00"),
        event("e6", "integration_connected", "U3", "W2", "2026-01-07 09:00:00"),
        event("e7", "report_shared", "U3", "W2", "2026-01-08 09:00:00"),
        # W3: two active users, one activation event: not a PQL.
        event("e8", "signed_up", "U4", "W3", "2026-01-09 09:00:00"),
        event("e9", "trial_started", "U5", "W3", "2026-01-10 09:00:00"),
        event("e10", "project_created", "U4", "W3", "2026-01-11 09:00:00"),
        # W2's project, created the day before its trial started: no trial-start event, so outside its trial.
        event("e0", "project_created", "U3", "W2", "2026-01-04 09:00:00"),
    ]
}

MQL = Case(
    suite="mql_definitions",
    model="intermediate/int_leads_scored",
    downstream="intermediate/int_leads_lifecycle",
    raw="leads",
    mutations=(
        # L2 (fit 0, a demo request makes 40) becomes an MQL: an MQL below the minimum fit.
        Mutation(
            "fit minimum dropped",
            "fit.fit_score >= thresholds.mql__min_fit_score\n        and fit.fit_score + moment_scores",
            "fit.fit_score + moment_scores",
        ),
        # L4 (fit exactly 20, score 78 after its demo request) is left without an MQL.
        Mutation(
            "fit minimum compared strictly",
            "fit.fit_score >= thresholds.mql__min_fit_score\n        and fit.fit_score + moment_scores",
            "fit.fit_score > thresholds.mql__min_fit_score\n        and fit.fit_score + moment_scores",
        ),
        # L4 reaches the threshold only through engagements: left without an MQL.
        Mutation(
            "engagement points ignored",
            "and fit.fit_score + moment_scores.engagement_score >= thresholds.mql__score_threshold as is_qualifying",
            "and fit.fit_score >= thresholds.mql__score_threshold as is_qualifying",
        ),
    ),
)

PQL = Case(
    suite="product_qualified_definitions",
    model="intermediate/int_workspaces_product_qualified",
    downstream="intermediate/int_leads_lifecycle",
    raw="leads",
    mutations=(
        # W3 becomes a PQL with one activation event.
        Mutation(
            "activation minimum dropped",
            "is not null and threshold_reached.activations_reached_at is not null\n                then greatest(",
            "is not null\n                then greatest(",
            # and W2's trial starts with the project it created before its trial.
            also=(
                Mutation(
                    "trial started by any event",
                    "    inner join trial_start_events on events.event_name = trial_start_events.event_name\n",
                    "",
                    catches="a workspace's trial started with one of the shared trial-start events",
                ),
            ),
        ),
        # W2 becomes a PQL with one active user.
        Mutation(
            "active users off by one",
            "where users_ranked.user_rank = thresholds.pql__min_active_users",
            "where users_ranked.user_rank = thresholds.pql__min_active_users - 1",
            # and W1's first counted activation is its trial start.
            also=(
                Mutation(
                    "every event in the trial counted as activation",
                    "    inner join activation_events on events_in_trial.event_name = activation_events.event_name\n",
                    "",
                    catches="the first event counted as activation is one of the shared activation events",
                ),
            ),
        ),
        # W1 (exactly the minimum of both) is left without a PQL.
        Mutation(
            "activation events off by one",
            "where activations_ranked.activation_rank = thresholds.pql__min_activation_events",
            "where activations_ranked.activation_rank = thresholds.pql__min_activation_events + 1",
        ),
    ),
)

SPEED_TO_LEAD = Case(
    suite="speed_to_lead_definitions",
    model="marts/fct_speed_to_lead",
    downstream="marts/rpt_speed_to_lead_periods",
    raw="leads",
    mutations=(
        # 00QA (touched after 30 minutes) is outside the SLA, 00QB (180 minutes) inside it.
        Mutation(
            "SLA comparison flipped",
            "measured.minutes_to_first_touch <= measured.speed_to_lead__sla_minutes, false",
            "measured.minutes_to_first_touch >= measured.speed_to_lead__sla_minutes, false",
            # and 00QA's first touch is a task of a type that is no sales touch (T2, "Other").
            also=(
                Mutation(
                    "every task type a touch",
                    "    inner join sales_touch_types on tasks.task_type = sales_touch_types.task_type\n",
                    "",
                    catches="a first touch that is a task is of a shared sales touch type",
                ),
            ),
        ),
        # 00QB, first touched after 180 minutes, is not counted as a breach.
        Mutation(
            "breach measured against four times the SLA",
            "measured.minutes_to_first_touch > measured.speed_to_lead__sla_minutes,",
            "measured.minutes_to_first_touch > 4 * measured.speed_to_lead__sla_minutes,",
        ),
    ),
)

RETENTION = Case(
    suite="retention_definitions",
    model="marts/rpt_retention_monthly",
    downstream=None,
    raw="billing",
    mutations=(
        # The naive logo churn rate counts the starting cohort in its numerator too: above 1.
        Mutation(
            "naive churn numerator not a subset of its denominator",
            "then cast(bases.churned_customer_count as double) / bases.starting_customer_count",
            "then cast(bases.churned_customer_count + bases.starting_customer_count as double)"
            " / bases.starting_customer_count",
        ),
        # Eligibility flipped: a monthly customer who churns is no longer among the customers eligible to churn.
        Mutation(
            "churn eligibility flipped",
            "count(*) filter (where customer_months.is_churn_eligible) as eligible_customer_count",
            "count(*) filter (where not customer_months.is_churn_eligible) as eligible_customer_count",
        ),
        # Gross retention adds lost MRR back instead of taking it off: above 1 in a month with churn or contraction.
        Mutation(
            "gross retention adds lost MRR",
            "then cast(bases.starting_mrr_usd - bases.contraction_mrr_usd - bases.churned_mrr_usd as double)",
            "then cast(bases.starting_mrr_usd + bases.contraction_mrr_usd + bases.churned_mrr_usd as double)",
        ),
    ),
)

MRR_FACTS = Case(
    suite="mrr_customer_months_mart",
    model="marts/fct_mrr_customer_months",
    downstream="marts/rpt_mrr_movements_monthly",
    raw="billing",
    mutations=(
        # A seat reduction shows as a negative contraction.
        Mutation(
            "contraction sign flipped",
            "when classified.movement = 'contraction' then -classified.constant_currency_change_usd else 0",
            "when classified.movement = 'contraction' then classified.constant_currency_change_usd else 0",
        ),
        # A churning customer loses more MRR than it paid.
        Mutation(
            "churned MRR counted twice",
            "when classified.movement = 'churn' then classified.previous_mrr_usd else 0",
            "when classified.movement = 'churn' then 2 * classified.previous_mrr_usd else 0",
        ),
    ),
)

MRR_MOVEMENTS = Case(
    suite="mrr_movements_mart",
    model="marts/rpt_mrr_movements_monthly",
    downstream=None,
    raw="billing",
    mutations=(
        # Every customer of the month counts as churned, new ones too: more than were paying at the start.
        Mutation(
            "churned customers not limited to churn movements",
            "count(*) filter (where customer_months.movement = 'churn') as churned_customer_count",
            "count(*) as churned_customer_count",
        ),
        # The month spine runs a month past the last month of the customer months, the as-of month.
        Mutation(
            "month spine past the horizon",
            "max(customer_months.mrr_month), interval",
            "max(customer_months.mrr_month) + interval 1 month, interval",
            catches="no month starts after the as-of month",
        ),
    ),
)

WIN_RATES = Case(
    suite="win_rates_mart",
    model="marts/rpt_win_rates_quarterly",
    downstream=None,
    raw="opportunities",
    mutations=(
        # Won minus lost over closed deals: below 0 where more deals were lost than won.
        Mutation(
            "lost deals taken off the won deals",
            "totals.won_deals_count\n        / nullif(totals.won_deals_count + totals.lost_deals_count, 0) as win_rate",
            "(totals.won_deals_count - totals.lost_deals_count)\n"
            "        / nullif(totals.won_deals_count + totals.lost_deals_count, 0) as win_rate",
        ),
    ),
)

FUNNEL = Case(
    suite="funnel_monthly_mart",
    model="marts/rpt_funnel_monthly",
    downstream=None,
    raw="leads",
    mutations=(
        Mutation(
            "lead count negated",
            "count(*) filter (where funnel_events.funnel_event = 'lead_created') as leads_created_count",
            "-count(*) filter (where funnel_events.funnel_event = 'lead_created') as leads_created_count",
        ),
    ),
)


def engagements_at(lead_id: str, at: str, *activities: str) -> list[dict]:
    """Engagements of one lead at one moment, one per activity, with ids made of the lead, the day and the order."""
    return [
        engagement(f"E{lead_id}{at[:10]}_{order}", lead_id, activity, at) for order, activity in enumerate(activities)
    ]


# The hand-worked leads, and four more for the lifecycle (see test_hand_worked_leads for L1-L6):
LEADS = {
    **test_hand_worked_leads.TABLES,
    "salesforce.lead": [
        *test_hand_worked_leads.TABLES["salesforce.lead"],
        # L7: fit 50, an MQL at its creation, accepted by the rep at that very moment.
        lead("00QL7", "Referral", "Software", 100, "United States", "2026-02-02 08:00:00",
             accepted_date_c="2026-02-02 08:00:00"),
        # L8: an MQL at its creation at 15:00, converted the same day (a date only): accepted at 15:00.
        lead("00QL8", "Referral", "Software", 100, "United States", "2026-02-03 15:00:00", is_converted="true",
             converted_date="2026-02-03"),
        # L9: fit 20, an MQL at its demo request on Feb 5; converted on Feb 4, the day before: not accepted.
        lead("00QL9", "Organic Search", "Software", 10, "Germany", "2026-02-01 00:00:00", is_converted="true",
             converted_date="2026-02-04"),
        # LA: an MQL at its creation, accepted Jan 30 09:00, when its opportunity O2 reached Discovery: qualified then.
        lead("00QLA", "Referral", "Software", 100, "United States", "2026-01-20 08:00:00",
             accepted_date_c="2026-01-30 09:00:00", is_converted="true", converted_date="2026-01-30",
             converted_opportunity_id="006O2", converted_account_id="001A1"),
        # LB: a source the channel mapping does not list, and no known size: the default channel, the unknown segment.
        {**lead("00QLB", "Billboard", "Retail", 0, "Germany", "2026-02-04 08:00:00"), "number_of_employees": None},
        # LC, LD, LE: fit 20 (industry only), and 35 at their creation (a form fill, an e-mail click and a web visit
        # then: 15 points), in months no other lead is created or qualified in.
        # LC: 91 days later a pricing visit and two web visits (19) make 39: the first three, past the 90-day window,
        # count zero. Never an MQL (40.83 if they counted).
        lead("00QLC", "Organic Search", "Software", 10, "Germany", "2025-06-02 00:00:00"),
        # LD: 45 days later two web visits and an e-mail click (7) make 32.3, the first three halved one and a half
        # times (5.3). Never an MQL, though 42 without decay.
        lead("00QLD", "Organic Search", "Software", 10, "Germany", "2025-05-01 00:00:00"),
        # LE: exactly 90 days later a pricing visit and two web visits make 39 + the first three, at exactly the
        # window's edge, halved three times (1.875): an MQL then, with 40.875.
        lead("00QLE", "Organic Search", "Software", 10, "Germany", "2025-07-01 00:00:00"),
    ],
    "marketing.engagements": [
        *test_hand_worked_leads.TABLES["marketing.engagements"],
        engagement("E10", "00QL9", "demo_request", "2026-02-05 10:00:00"),
        *engagements_at("00QLC", "2025-06-02 00:00:00", "form_fill", "email_click", "web_visit"),
        *engagements_at("00QLC", "2025-09-01 00:00:00", "pricing_page_visit", "web_visit", "web_visit"),
        *engagements_at("00QLD", "2025-05-01 00:00:00", "form_fill", "email_click", "web_visit"),
        *engagements_at("00QLD", "2025-06-15 00:00:00", "web_visit", "web_visit", "email_click"),
        *engagements_at("00QLE", "2025-07-01 00:00:00", "form_fill", "email_click", "web_visit"),
        *engagements_at("00QLE", "2025-09-29 00:00:00", "pricing_page_visit", "web_visit", "web_visit"),
    ],
    "salesforce.opportunity": [
        *test_hand_worked_leads.TABLES["salesforce.opportunity"],
        {"id": "006O2", "account_id": "001A1", "stage_name": "Demo", "amount": 5000, "is_closed": "false",
         "created_date": "2026-01-26 09:00:00", "close_date": "2026-04-30", "is_won": "false",
         "lead_source": "Referral"},
    ],
    "salesforce.opportunity_history": [
        *test_hand_worked_leads.TABLES["salesforce.opportunity_history"],
        {"id": "H4", "opportunity_id": "006O2", "stage_name": "Prospecting", "created_date": "2026-01-26 09:00:00"},
        {"id": "H5", "opportunity_id": "006O2", "stage_name": "Discovery", "created_date": "2026-01-30 09:00:00"},
        {"id": "H6", "opportunity_id": "006O2", "stage_name": "Demo", "created_date": "2026-02-06 09:00:00"},
    ],
}  # fmt: skip

LIFECYCLE = Case(
    suite="lead_lifecycle_definitions",
    model="intermediate/int_leads_lifecycle",
    downstream=None,
    raw="leads",
    mutations=(
        # L7, accepted at the moment of its MQL, is left unaccepted; and L1's won deal leaves it without a won time.
        Mutation(
            "acceptance at the MQL refused",
            "recorded_accepted_at >= conversion_date_starts.acceptable_at",
            "recorded_accepted_at > conversion_date_starts.acceptable_at",
            catches="a recorded acceptance at or after the lead's MQL or PQL",
            also=(
                Mutation(
                    "won read from the lost flag",
                    "qualified.is_won then",
                    "qualified.is_lost then",
                    catches="whose opportunity moved into the won stage after it qualified is won",
                ),
            ),
        ),
        # L9, converted the day before its MQL, is accepted (at its MQL): a conversion date before the MQL's date;
        # and L1 is sales-qualified when accepted, not when its opportunity reached Discovery.
        Mutation(
            "conversion date not compared",
            "converted_date >= conversion_date_starts.acceptable_date",
            "converted_date is not null",
            catches="a conversion date (no recorded acceptance) before the date of the lead's MQL",
            also=(
                Mutation(
                    "qualified at acceptance",
                    "then accepted.recorded_sales_qualified_at",
                    "then accepted.accepted_at",
                    catches="qualified when its opportunity first reached a sales-qualified stage",
                ),
            ),
        ),
        # L6, outbound, goes through the MQL gate, every other lead skips it; and L2, rejected without a reason,
        # carries no reason instead of the unspecified one.
        Mutation(
            "sales-sourced flag flipped",
            "channel is not null as is_sales_sourced",
            "channel is null as is_sales_sourced",
            catches="a lead flagged sales-sourced came from a sales-sourced channel",
            also=(
                Mutation(
                    "rejection without a reason left empty",
                    "else unspecified_rejection_reason.rejection_reason",
                    "else qualified.recorded_rejection_reason",
                    catches="every rejected lead carries a reason",
                ),
            ),
        ),
    ),
)

# The decayed score at each moment, recomputed from the staged engagements (int_leads_scored.checks.sql).
DECAY = Case(
    suite="assert_mql_follows_the_decayed_lead_score",
    model="intermediate/int_leads_scored",
    downstream="intermediate/int_leads_lifecycle",
    raw="leads",
    mutations=(
        # LD (32.3 with decay, 42 without) becomes an MQL; and LE, which reaches the threshold only with engagements
        # exactly 90 days old, is left without one.
        Mutation(
            "decay dropped",
            "power(\n                    0.5,",
            "power(\n                    1.0,",
            catches="00QLD | an MQL whose recomputed score never reached the threshold",
            also=(
                Mutation(
                    "window compared strictly",
                    "<= thresholds.lead_scoring__window_days * 86400",
                    "< thresholds.lead_scoring__window_days * 86400",
                    catches="00QLE | no MQL though its recomputed score reached the threshold",
                ),
            ),
        ),
        # L4's pricing visit makes 41 with points halving every 60 days: an MQL an hour early; and LC counts its
        # engagements 91 days old (40.83).
        Mutation(
            "half-life doubled",
            "/ (thresholds.lead_scoring__half_life_days * 86400)",
            "/ (2 * thresholds.lead_scoring__half_life_days * 86400)",
            catches="00QL4 | an MQL before its recomputed score reached the threshold",
            also=(
                Mutation(
                    "window doubled",
                    "<= thresholds.lead_scoring__window_days * 86400",
                    "<= 2 * thresholds.lead_scoring__window_days * 86400",
                    catches="00QLC | an MQL whose recomputed score never reached the threshold",
                ),
            ),
        ),
        # LC counts its engagements 91 days old.
        Mutation(
            "window ignored",
            "\n            and epoch(moments.evaluated_at) - epoch(engagements.occurred_at)"
            " <= thresholds.lead_scoring__window_days * 86400",
            "",
            catches="00QLC | an MQL whose recomputed score never reached the threshold",
        ),
    ),
)

ICP = Case(
    suite="icp_definitions",
    model="intermediate/int_leads_scored",
    downstream="intermediate/int_leads_lifecycle",
    raw="leads",
    mutations=(
        # Every lead in an ICP industry is flagged as outside it, and every other lead as inside; and a lead is ICP on
        # its industry flag alone.
        Mutation(
            "industry flag flipped",
            "icp_industries.industry is not null as",
            "icp_industries.industry is null as",
            catches="a lead flagged as in an ICP industry is in one",
            also=(
                Mutation(
                    "ICP on industry alone",
                    "fit.is_icp_industry and fit.is_icp_company_size and fit.is_icp_country as is_icp",
                    "fit.is_icp_industry as is_icp",
                    catches="a lead that misses an ICP criterion is not ICP",
                ),
            ),
        ),
    ),
)

LEAD_SCORING = Case(
    suite="lead_scoring_definitions",
    model="intermediate/int_leads_scored",
    downstream="intermediate/int_leads_lifecycle",
    raw="leads",
    mutations=(
        # A lead in an ICP country gets the industry's 20 points for it; and the fit score leaves the country out.
        Mutation(
            "country points read from the industry points",
            "then thresholds.lead_scoring__fit_points__country else 0",
            "then thresholds.lead_scoring__fit_points__industry else 0",
            catches="a lead in an ICP country has the country fit points",
            also=(
                Mutation(
                    "fit score without the country",
                    "criteria.industry_fit_points + criteria.company_size_fit_points + criteria.country_fit_points",
                    "criteria.industry_fit_points + criteria.company_size_fit_points",
                    catches="no lead's fit score differs from the sum of the fit points of its criteria",
                ),
            ),
        ),
    ),
)

ENGAGEMENT_POINTS = Case(
    suite="engagement_points_definitions",
    model="intermediate/int_engagements_scored",
    downstream="intermediate/int_leads_scored",
    raw="leads",
    mutations=(
        # Every engagement scores twice its points; and behaviour and intent trade places.
        Mutation(
            "points doubled",
            "coalesce(engagement_points.points, 0) as points",
            "2 * coalesce(engagement_points.points, 0) as points",
            catches="a demo request scores the intent points of its type",
            also=(
                Mutation(
                    "components swapped",
                    "coalesce(engagement_points.score_component, 'unscored')",
                    "coalesce(case engagement_points.score_component when 'intent' then 'behaviour' else 'intent' end,"
                    " 'unscored')",
                    catches="a behaviour engagement counts as behaviour",
                ),
            ),
        ),
    ),
)

PIPELINE_AGING = Case(
    suite="pipeline_aging_definitions",
    model="intermediate/int_opportunity_weeks_snapshotted",
    downstream=None,
    raw="opportunities",
    mutations=(
        # O02, open 36 days in Prospecting, is not aging.
        Mutation(
            "aging after twice the aging days",
            ") > thresholds.pipeline__stage_aging_days,",
            ") > 2 * thresholds.pipeline__stage_aging_days,",
            catches="an open deal in its stage longer than the aging days is aging",
        ),
        # O09 ages on its 30th day in Prospecting; and O07, won, ages in its won weeks.
        Mutation(
            "aging from the aging day itself",
            ") > thresholds.pipeline__stage_aging_days,",
            ") >= thresholds.pipeline__stage_aging_days,",
            catches="a deal in its stage no longer than the aging days is not aging",
            also=(
                Mutation(
                    "closed deals aging",
                    "not coalesce(in_force_stage.is_won or in_force_stage.is_lost, false)\n            and date_diff(",
                    "date_diff(",
                    catches="a deal closed at week end is not aging",
                ),
            ),
        ),
    ),
)

# In the leads build (LEAD_DEFINITIONS) the window is 30 days and the minimum base 2 leads.
FUNNEL_COHORTS = Case(
    suite="funnel_cohorts_definitions",
    model="marts/rpt_funnel_cohorts_monthly",
    downstream=None,
    raw="leads",
    mutations=(
        # L1's win, 36 days after its creation and its MQL, is counted; the cohorts of 2 entered leads publish no
        # acceptance rate; those of 2 accepted leads say their base is below the minimum; those of 1 sales-qualified
        # lead publish a win rate; those of 1 opportunity give no reason for their missing rate.
        Mutation(
            "window doubled",
            "+ thresholds.funnel__conversion_window_days * interval 1 day as window_ends_at",
            "+ 2 * thresholds.funnel__conversion_window_days * interval 1 day as window_ends_at",
            catches="no stage a cohort counts lies past the conversion window",
            also=(
                Mutation(
                    "base at the minimum withheld",
                    "when cohorts.funnel_entered_count >= greatest(thresholds.minimum_bases__leads, 1)",
                    "when cohorts.funnel_entered_count > greatest(thresholds.minimum_bases__leads, 1)",
                    catches="funnel_entered_to_accepted_rate is published on a base at or above the minimum",
                ),
                Mutation(
                    "base at the minimum called below it",
                    "when cohorts.accepted_count < thresholds.minimum_bases__leads then",
                    "when cohorts.accepted_count <= thresholds.minimum_bases__leads then",
                    catches="accepted_to_opportunity_null_reason is empty when accepted_count is at or above",
                ),
                Mutation(
                    "rate published below the minimum",
                    "when cohorts.sales_qualified_count >= greatest(thresholds.minimum_bases__leads, 1)",
                    "when cohorts.sales_qualified_count >= 1",
                    catches="sales_qualified_to_won_rate is not published on a base below the minimum",
                ),
                Mutation(
                    "no reason below the minimum",
                    "when cohorts.opportunity_count < thresholds.minimum_bases__leads then",
                    "when cohorts.opportunity_count < 0 then",
                    catches="opportunity_to_sales_qualified_null_reason gives a reason when opportunity_count",
                ),
            ),
        ),
    ),
)

# In the unit-economics build (UNIT_ECONOMICS_DEFINITIONS) a customer or revenue ratio needs 2 customers and $500 of
# starting MRR: SMB starts February with exactly that.
RETENTION_MINIMUM_BASES = Case(
    suite="retention_minimum_bases_definitions",
    model="marts/rpt_retention_monthly",
    downstream=None,
    raw="unit_economics",
    mutations=(
        # SMB in February (2 customers, $500) publishes no rate; and a single eligible customer gets an honest rate.
        Mutation(
            "customer minimum compared strictly",
            "joined.starting_customer_count >= thresholds.minimum_bases__customers\n",
            "joined.starting_customer_count > thresholds.minimum_bases__customers\n",
            catches="nrr is published when the month's starting customers and MRR are at or above both minimums",
            also=(
                Mutation(
                    "eligible minimum ignored",
                    "joined.eligible_customer_count >= thresholds.minimum_bases__customers as is_eligible_base_enough",
                    "true as is_eligible_base_enough",
                    catches="honest_logo_churn_rate is not published when the customers eligible to churn are below",
                ),
            ),
        ),
        # SMB in March (2 customers, $300) publishes its rates; and the months of one customer give no reason.
        Mutation(
            "MRR minimum ignored",
            "and joined.starting_mrr_usd >= thresholds.minimum_bases__mrr_usd as is_monthly_base_enough",
            "as is_monthly_base_enough",
            catches="nrr is not published when the month's starting customers and MRR are below both minimums",
            also=(
                Mutation(
                    "no reason below the minimum",
                    "when not rates.is_monthly_base_enough then 'base below minimum'",
                    "when false then 'base below minimum'",
                    catches="monthly_rates_null_reason gives a reason when the month's starting customers and MRR",
                ),
            ),
        ),
    ),
)

UNIT_ECONOMICS = Case(
    suite="unit_economics_definitions",
    model="marts/rpt_unit_economics_monthly",
    downstream=None,
    raw="unit_economics",
    mutations=(
        # The churn-free month lives 120 months; LTV and CAC payback leave the gross margin out.
        Mutation(
            "lifetime cap doubled",
            "then cast(ratios.unit_economics__max_lifetime_months as double)",
            "then cast(2 * ratios.unit_economics__max_lifetime_months as double)",
            catches="no expected lifetime is longer than the lifetime cap",
            also=(
                Mutation(
                    "LTV without the gross margin",
                    "lifetimes.arpa_usd * lifetimes.unit_economics__gross_margin * lifetimes.expected_lifetime_months",
                    "lifetimes.arpa_usd * lifetimes.expected_lifetime_months",
                    catches="no LTV differs from ARPA x the gross margin x the expected lifetime",
                ),
                Mutation(
                    "payback without the gross margin",
                    "then lifetimes.cac_usd / (lifetimes.arpa_usd * lifetimes.unit_economics__gross_margin)",
                    "then lifetimes.cac_usd / lifetimes.arpa_usd",
                    catches="no CAC payback differs from CAC / (ARPA x the gross margin)",
                ),
            ),
        ),
        # A churn rate of 0.31 gives a lifetime of 6.5 months, not 3.25.
        Mutation(
            "lifetime doubled below the cap",
            "else 1.0 / ratios.revenue_churn_rate",
            "else 2.0 / ratios.revenue_churn_rate",
            catches="no lifetime differs from 1 / the churn rate where that is within the cap",
        ),
    ),
)

WON = Case(
    suite="won_opportunity_definitions",
    model="intermediate/int_opportunities_classified",
    downstream="marts/fct_opportunity_outcomes",
    raw="opportunities",
    mutations=(
        # Every closed deal counts as won, the lost ones too.
        Mutation(
            "won read from the closed flag",
            "opportunities.is_won,",
            "opportunities.is_closed as is_won,",
            catches="every opportunity flagged won is in the won stage",
        ),
    ),
)

OPPORTUNITY_TYPES = Case(
    suite="opportunity_type_definitions",
    model="intermediate/int_opportunities_classified",
    downstream="marts/fct_opportunity_outcomes",
    raw="opportunities",
    mutations=(
        # Expansions and renewals count as new business, new business does not.
        Mutation(
            "new business flag flipped",
            "coalesce(opportunity_types.is_new_business, false)",
            "not coalesce(opportunity_types.is_new_business, false)",
            catches="an opportunity flagged new business is of the new-business type",
        ),
    ),
)

CLOSED_LOST_REASONS = Case(
    suite="closed_lost_reasons_definitions",
    model="marts/fct_opportunity_outcomes",
    downstream="marts/rpt_closed_lost_reasons_quarterly",
    raw="opportunities",
    mutations=(
        # O04's "Budget freeze" reaches the mart as typed instead of as the unspecified reason.
        Mutation(
            "unknown reason kept as typed",
            "else unspecified_loss_reason.loss_reason\n",
            "else closed.recorded_loss_reason\n",
            catches="every lost deal's reason is in the taxonomy",
        ),
    ),
)

MRR_EXCLUDED_STATUSES = Case(
    suite="mrr_excluded_statuses_definitions",
    model="intermediate/int_subscription_items_priced",
    downstream="marts/fct_mrr_customer_months",
    raw="billing",
    mutations=(
        # sub_C5, whose first payment never went through, earns MRR.
        Mutation(
            "excluded statuses priced",
            "where subscriptions.subscription_status not in",
            "where true or subscriptions.subscription_status not in",
            catches="no priced item belongs to a subscription in an excluded status",
        ),
    ),
)

CHANNELS = Case(
    suite="channel_definitions",
    model="intermediate/int_leads_classified",
    downstream="intermediate/int_leads_lifecycle",
    raw="leads",
    mutations=(
        # Sources matched as typed: "Paid Search" (listed as "paid search") falls in the default channel; and LB's
        # unlisted source gets a listed channel.
        Mutation(
            "source matched as typed",
            "on lower(trim(leads.lead_source)) = channel_mapping.lead_source_key",
            "on leads.lead_source = channel_mapping.lead_source_key",
            catches="a lead whose source is listed is in the channel the mapping gives that source",
            also=(
                Mutation(
                    "unlisted sources in a listed channel",
                    "coalesce(channel_mapping.channel, default_channel.channel) as channel",
                    "coalesce(channel_mapping.channel, 'Referral') as channel",
                    catches="a lead whose source is missing or not listed is in the default channel",
                ),
            ),
        ),
        # The source the mapping matches keeps its capitals ("Paid Search").
        Mutation(
            "source not lowercased",
            "lower(trim(leads.lead_source)) as lead_source_key",
            "trim(leads.lead_source) as lead_source_key",
            catches="the source the mapping matches is lowercased and trimmed",
        ),
    ),
)

SEGMENTS = Case(
    suite="segment_definitions",
    model="intermediate/int_leads_classified",
    downstream="intermediate/int_leads_lifecycle",
    raw="leads",
    mutations=(
        # Every size read 100 lower: L1's 150 employees land in SMB, L3's 100 in no band (the unknown segment).
        Mutation(
            "sizes read 100 lower against the lower bound",
            "leads.employee_count >= segments.min_employees",
            "leads.employee_count - 100 >= segments.min_employees",
            catches="a lead in the SMB band has a size within its bounds",
            also=(
                Mutation(
                    "sizes read 100 lower against the upper bound",
                    "leads.employee_count <= segments.max_employees",
                    "leads.employee_count - 100 <= segments.max_employees",
                    catches="a lead in the unknown segment has no known size",
                ),
            ),
        ),
        # LB, of unknown size, lands in the first band.
        Mutation(
            "unknown size in the first band",
            "coalesce(segments.segment, unknown_segment.segment) as segment",
            "coalesce(segments.segment, 'SMB') as segment",
            catches="a lead of unknown size is in the unknown segment",
        ),
    ),
)

PIPELINE_SOURCE = Case(
    suite="pipeline_source_definitions",
    model="intermediate/int_opportunities_classified",
    downstream="marts/fct_opportunity_outcomes",
    raw="opportunities",
    mutations=(
        # O21, from a free trial, is not credited to product; and every deal not from a sales-sourced channel is
        # credited to sales.
        Mutation(
            "product-sourced channels ignored",
            "            when product_sourced_channels.channel is not null then 'product'\n",
            "",
            catches="a deal from a product-sourced channel is credited to product",
            also=(
                Mutation(
                    "sales-sourced test negated",
                    "when sales_sourced_channels.channel is not null then 'sales'",
                    "when sales_sourced_channels.channel is null then 'sales'",
                    catches="a deal credited to sales came from a sales-sourced channel",
                ),
            ),
        ),
    ),
)

LOST = Case(
    suite="lost_opportunity_definitions",
    model="intermediate/int_opportunities_qualified",
    downstream="marts/fct_opportunity_outcomes",
    raw="opportunities",
    mutations=(
        # Lost deals are not flagged lost, open and won ones are; and lost deals are flagged won too.
        Mutation(
            "lost flag flipped",
            "coalesce(current_stage.is_lost, false) as is_lost",
            "coalesce(not current_stage.is_lost, false) as is_lost",
            catches="an opportunity in the lost stage is flagged lost",
            also=(
                Mutation(
                    "won read from the closed stages",
                    "coalesce(current_stage.is_won, false) as is_won",
                    "coalesce(current_stage.is_won or current_stage.is_lost, false) as is_won",
                    catches="an opportunity flagged won is in the won stage",
                ),
            ),
        ),
    ),
)

# The hand-worked MRR company, with one subscription whose first payment never went through (no MRR), and the
# invoices, charges and refunds of the hand-worked billing months (the same customer ids).
BILLING = {
    **test_mrr_and_retention.TABLES,
    **{table: test_billing_monthly.TABLES[table] for table in ("stripe.invoice", "stripe.charge", "stripe.refund")},
    "stripe.subscription": [
        *test_mrr_and_retention.TABLES["stripe.subscription"],
        test_mrr_and_retention.subscription(
            "sub_C5", "cus_C1", "incomplete", "2026-01-12 10:00:00", "2026-01-12 10:00:00"
        ),
    ],
    "stripe.subscription_item": [
        *test_mrr_and_retention.TABLES["stripe.subscription_item"],
        test_mrr_and_retention.item("si_C5", "sub_C5", "price_M", 4, "2026-01-12 10:00:00"),
    ],
    # the hand-worked rate feed, without its sync times (the billing data's own as-of time stands)
    "finance.exchange_rate": [
        {key: value for key, value in row.items() if key != "_fivetran_synced"} for row in test_exchange_rates.RATES
    ],
}  # fmt: skip
# E1 pays in EUR (month_start rates Jan 1.10, Feb 1.14, Mar 1.20): 2 seats at EUR 100 from 2026-01-10, 3 from
# 2026-03-15, with 50% off from 2026-02-15 on. February: fx 200 x 0.04 = 8 (and a contraction: the discount).
BILLING["stripe.coupon"] = [{"id": "co_half", "duration": "forever", "percent_off": 50, "livemode": "true"}]
BILLING["stripe.discount"] = [
    {"id": "di_E1", "coupon_id": "co_half", "subscription_id": "sub_E1", "start": "2026-02-15 10:00:00"}
]
BILLING["stripe.price"] = [*BILLING["stripe.price"], test_mrr_and_retention.price("price_E", 10000, "month", "eur")]
BILLING["stripe.customer"] = [
    *BILLING["stripe.customer"],
    test_mrr_and_retention.customer("cus_E1", None, "2026-01-10 09:00:00"),
]
BILLING["stripe.subscription"] = [
    *BILLING["stripe.subscription"],
    test_mrr_and_retention.subscription("sub_E1", "cus_E1", "active", "2026-01-10 10:00:00", "2026-03-01 10:00:00"),
]
BILLING["stripe.subscription_item"] = [
    *BILLING["stripe.subscription_item"],
    test_mrr_and_retention.item("si_E1", "sub_E1", "price_E", 2, "2026-01-10 10:00:00",
                                _fivetran_start="2026-01-10 10:00:00", _fivetran_end="2026-03-15 12:00:00",
                                _fivetran_active="false"),
    test_mrr_and_retention.item("si_E1", "sub_E1", "price_E", 3, "2026-01-10 10:00:00",
                                _fivetran_start="2026-03-15 12:00:00", _fivetran_end=test_mrr_and_retention.FOREVER,
                                _fivetran_active="true"),
]  # fmt: skip

MRR_FX = Case(
    suite="assert_fx_is_the_rate_change_on_previous_mrr",
    model="marts/fct_mrr_customer_months",
    downstream="marts/rpt_mrr_movements_monthly",
    raw="billing",
    mutations=(
        # E1's expansion at February's rate: March's fx becomes 300 x 0.06 = 18 instead of 200 x 0.06 = 12.
        Mutation(
            "expansion at the previous month's rate",
            "* coalesce(this_month.rate_to_reporting, next_rates.rate_to_reporting, previous_month.rate_to_reporting)",
            "* coalesce(previous_month.rate_to_reporting, this_month.rate_to_reporting)",
            catches="cus_E1",
        ),
    ),
)

MRR_FX_IDENTITY = Case(
    suite="assert_mrr_change_is_its_movement_plus_fx",
    model="marts/fct_mrr_customer_months",
    downstream="marts/rpt_mrr_movements_monthly",
    raw="billing",
    mutations=(
        # E1's rate change is left out of its movements: February's 8 goes missing from the bridge.
        Mutation(
            "fx dropped",
            "then classified.mrr_change_usd - classified.constant_currency_change_usd",
            "then 0",
            catches="cus_E1",
        ),
    ),
)

MRR_DISCOUNTS = Case(
    suite="assert_discounts_follow_the_coupons",
    model="marts/fct_mrr_customer_months",
    downstream="marts/rpt_mrr_movements_monthly",
    raw="billing",
    mutations=(
        # E1's discount taken off from its first month, before the coupon was applied (January).
        Mutation(
            "discount before its start",
            "and local_discounts.applies_from_local <= subscription_months.closes_local\n",
            "",
            catches="cus_E1",
        ),
    ),
)

MRR_BRIDGE_FX = Case(
    suite="assert_mrr_movements_add_up",
    model="marts/rpt_mrr_movements_monthly",
    downstream=None,
    raw="billing",
    mutations=(
        # the bridge leaves fx out: starting + movements no longer reach ending in E1's months
        Mutation("fx left out of the bridge", "sum(customer_months.fx_mrr_usd) as fx_mrr_usd", "0 as fx_mrr_usd"),
    ),
)

EXCHANGE_RATES = Case(
    suite="assert_monthly_rates_follow_the_rate_rule",
    model="intermediate/int_exchange_rates_monthly",
    downstream=None,
    raw="billing",
    mutations=(
        # month_start takes the earliest candidate: EUR February at 01-01's 1.10 instead of 01-30's 1.14.
        Mutation(
            "earliest candidate rate",
            "order by month_start_candidates.rate_date desc",
            "order by month_start_candidates.rate_date asc",
            catches="EUR",
        ),
        # a daily rate stands for the month two after its own: EUR February has none, EUR May gets 03-31's.
        Mutation(
            "stale rates carried on",
            "cast(date_trunc('month', foreign_rates.rate_date) + interval 1 month as date) as rate_month,",
            "cast(date_trunc('month', foreign_rates.rate_date) + interval 2 month as date) as rate_month,",
        ),
    ),
)

# The hand-worked opportunities, with one more whose CRM type label ("Upsell") is not a shared type's name, and one
# from a product-sourced channel.
OPPORTUNITIES = {
    **test_closed_lost_and_win_rates.TABLES,
    "salesforce.opportunity": [
        *test_closed_lost_and_win_rates.TABLES["salesforce.opportunity"],
        {**test_closed_lost_and_win_rates.TABLES["salesforce.opportunity"][0], "id": "006O20", "type": "Upsell"},
        # O21: an open deal from a free trial (typed with a leading space), a product-sourced channel.
        {
            **test_closed_lost_and_win_rates.TABLES["salesforce.opportunity"][15],
            "id": "006O21",
            "lead_source": " Free Trial",
        },
    ],
}

# The hand-worked unit economics, each deal owned by a rep (as a CRM deal always is): every customer won by sales has
# a closing rep.
UNIT_ECONOMICS_COMPANY = {
    **test_unit_economics.TABLES,
    "salesforce.opportunity": [
        {**deal, "owner_id": "005R1"} for deal in test_unit_economics.TABLES["salesforce.opportunity"]
    ],
    "salesforce.user": [{"id": "005R1", "department": "Account Executives"}],
}


def merged(*inputs: Mapping[str, list[dict]]) -> dict[str, list[dict]]:
    """Hand-worked inputs of different records (no id in common) as one input: the rows of each table, in turn."""
    tables: dict[str, list[dict]] = {}
    for tables_of_input in inputs:
        for table, rows in tables_of_input.items():
            tables[table] = [*tables.get(table, []), *rows]
    return tables


INPUTS: dict[str, Mapping[str, list[dict]]] = {
    # The workspaces and the speed-to-lead leads share no record with the hand-worked leads: one good build (of the
    # lead models every one of them needs) serves their cases too.
    "leads": merged(LEADS, WORKSPACES, test_speed_to_lead.TABLES),
    "billing": BILLING,
    "opportunities": OPPORTUNITIES,
    "unit_economics": UNIT_ECONOMICS_COMPANY,
}

CASES = (
    MQL,
    DECAY,
    FUNNEL,
    LIFECYCLE,
    ICP,
    PQL,
    SPEED_TO_LEAD,
    RETENTION,
    MRR_FACTS,
    MRR_MOVEMENTS,
    MRR_EXCLUDED_STATUSES,
    EXCHANGE_RATES,
    MRR_FX,
    MRR_FX_IDENTITY,
    MRR_DISCOUNTS,
    MRR_BRIDGE_FX,
    WIN_RATES,
    WON,
    OPPORTUNITY_TYPES,
    CLOSED_LOST_REASONS,
    CHANNELS,
    SEGMENTS,
    PIPELINE_SOURCE,
    LOST,
    LEAD_SCORING,
    ENGAGEMENT_POINTS,
    PIPELINE_AGING,
    FUNNEL_COHORTS,
    RETENTION_MINIMUM_BASES,
    UNIT_ECONOMICS,
)

# The definitions of an input's build where they differ from the project's (minimum bases off by default): the
# leads build has a short conversion window and a minimum of 2 leads, so its cohorts have stages past the window and
# bases below, at and above the minimum.
LEAD_DEFINITIONS: Mapping[str, Mapping[str, object]] = {
    "minimum_bases": {**NO_MINIMUM_BASES, "leads": 2},
    "funnel": {"conversion_window_days": 30},
}
# The unit-economics build has minimums its retention months fall below, meet exactly and exceed.
UNIT_ECONOMICS_DEFINITIONS: Mapping[str, Mapping[str, object]] = {
    "minimum_bases": {**NO_MINIMUM_BASES, "customers": 2, "mrr_usd": 500},
}
DEFINITIONS_OF: dict[str, Mapping[str, Mapping[str, object]]] = {
    "leads": LEAD_DEFINITIONS,
    "unit_economics": UNIT_ECONOMICS_DEFINITIONS,
}


def broken_models(directory: Path, case: Case, mutation: Mutation) -> Path:
    """A copy of the project's models with the case's model replaced by its broken variant."""
    models = directory / "models"
    shutil.copytree(MODELS_DIR, models)
    target = models / case.model_file.relative_to(MODELS_DIR)
    sql = target.read_text()
    for each in mutation.each:
        assert sql.count(each.original) == 1, f"{target.name}: the variant {each.name!r} no longer applies"
        sql = sql.replace(each.original, each.broken)
    target.write_text(sql)
    return models


def table_of(settings: Settings, case: Case) -> list[tuple]:
    schema, table = case.model.split("/")
    frame = query(settings, f"select * from {schema}.{table} order by all")
    return [tuple(map(str, row)) for row in frame.itertuples(index=False)]


@dataclass(frozen=True)
class GoodBuild:
    """One input built once with the project's models, up to every model its cases break."""

    tmp_path: Path
    raw_dir: Path
    definitions_file: Path
    settings: Settings


def case_params(cases: Sequence[Case]) -> list[object]:
    """Each case as a test parameter in the pytest-xdist group of its input (`make test` runs two workers): the cases
    of one input, in both modules, run on one worker, so the input's good build is made once."""
    return [
        pytest.param(case, id=case.suite, marks=pytest.mark.xdist_group(f"good_build_{case.raw}")) for case in cases
    ]


# The good build of each input, made once per session for every case the session runs, the cases of
# test_mart_suites_catch_broken_models.py too: each input is built once.
GOOD_BUILDS: dict[str, GoodBuild] = {}


def cases_to_run(session: pytest.Session) -> list[Case]:
    """The cases this session runs, in every module that breaks models: the good build of an input serves them all."""
    calls = [getattr(item, "callspec", None) for item in session.items]
    return [call.params["case"] for call in calls if call is not None and isinstance(call.params.get("case"), Case)]


@pytest.fixture(scope="module")
def good_build(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[str], GoodBuild]]:
    """The good build of an input, made the first time a case of that input asks for it."""
    session_cases = cases_to_run(request.session)

    def build(raw: str) -> GoodBuild:
        if raw not in GOOD_BUILDS:
            cases = [case for case in session_cases if case.raw == raw]
            tmp_path = tmp_path_factory.mktemp(raw)
            definitions_file = definitions_with(
                tmp_path, **DEFINITIONS_OF.get(raw, {"minimum_bases": NO_MINIMUM_BASES})
            )
            raw_dir = write_raw(tmp_path / "raw", INPUTS[raw])
            settings = settings_for(tmp_path, raw_dir, definitions_file=definitions_file)
            good = materialize(settings, " or ".join(dict.fromkeys(case.selection for case in cases)))
            assert good.success
            evaluations = good.get_asset_check_evaluations()
            # Warnings are findings in the data, not failures (the CRM-billing reconciliation warns on these inputs).
            failed = [check for check in evaluations if not check.passed]
            assert [check.check_name for check in failed if check.severity == dg.AssetCheckSeverity.ERROR] == []
            assert {case.suite for case in cases} <= {check.check_name for check in evaluations}
            GOOD_BUILDS[raw] = GoodBuild(tmp_path, raw_dir, definitions_file, settings)
        return GOOD_BUILDS[raw]

    yield build


@pytest.mark.parametrize("case", case_params(CASES))
def test_each_definition_suite_fails_on_broken_variants_of_its_model(
    good_build: Callable[[str], GoodBuild], case: Case
) -> None:
    assert_each_variant_fails_its_suite(good_build(case.raw), case)


def assert_each_variant_fails_its_suite(good: GoodBuild, case: Case) -> None:
    """Each broken variant of the case's model fails its suite (with the expectations it names), fails the model's
    step, skips what is downstream and keeps the last good table."""
    settings, tmp_path = good.settings, good.tmp_path
    last_good = table_of(settings, case)

    for position, mutation in enumerate(case.mutations):
        models_dir = broken_models(tmp_path / f"{case.suite}_variant_{position}", case, mutation)
        result = materialize(settings_for(tmp_path, good.raw_dir, definitions_file=good.definitions_file,
                                          models_dir=models_dir), case.rebuild_selection)  # fmt: skip

        assert not result.success, mutation.name
        evaluations = {
            check.check_name: check
            for check in result.get_asset_check_evaluations()
            if check.asset_key.to_user_string() == case.model
        }
        assert evaluations[case.suite].passed is False, mutation.name
        metadata = evaluations[case.suite].metadata
        # a suite lists the expectations that failed; a check of a check file, some of the rows that break it
        failures = str(metadata["failures" if "failures" in metadata else "samples"].value)
        assert all(each.catches in failures for each in mutation.each), mutation.name
        [failure] = [event for event in result.get_step_failure_events() if event.step_key == case.step]
        assert failure.step_failure_data is not None and failure.step_failure_data.user_failure_data is not None
        description = failure.step_failure_data.user_failure_data.description or ""
        assert case.suite in description and "the last good table" in description, mutation.name
        built = {event.asset_key.to_user_string() for event in result.get_asset_materialization_events()}
        assert case.model not in built and case.downstream not in built, mutation.name
        assert table_of(settings, case) == last_good, mutation.name
