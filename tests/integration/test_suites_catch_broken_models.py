"""Every definition suite fails on a model that deviates from its definition, and the failure blocks the step.

Each test builds a tiny hand-made input once with the project's models, then builds it again with one model
replaced by a broken variant (a comparison flipped, a condition dropped, a rank off by one). The variants live here,
not in `models/`: the model file is copied to a temporary models directory and one exact piece of its SQL is
replaced. The broken build must fail the suite that states the definition, fail the model's step, skip what is
downstream, and keep the last good table in place.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipelines.spec.settings import PROJECT_ROOT, Settings
from tests.conftest import materialize, settings_for
from tests.fixtures import NO_MINIMUM_BASES, definitions_with, query, write_raw
from tests.integration import (
    test_closed_lost_and_win_rates,
    test_hand_worked_leads,
    test_mrr_and_retention,
    test_speed_to_lead,
)
from tests.integration.test_pql_and_rep_revenue import event

MODELS_DIR = PROJECT_ROOT / "models"


@dataclass(frozen=True)
class Mutation:
    """A broken variant of one model: `original` (which must occur exactly once) replaced by `broken`."""

    name: str
    original: str
    broken: str


@dataclass(frozen=True)
class Case:
    """One definition suite, the model it validates, the input it is built on, and the variants it must catch."""

    suite: str
    model: str  # schema/table, as the asset key
    downstream: str | None  # an asset that reads the model (skipped when the model is blocked), if a cheap one does
    raw: Mapping[str, list[dict]]
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


MQL = Case(
    suite="mql_definitions",
    model="intermediate/int_leads_scored",
    downstream="intermediate/int_leads_lifecycle",
    raw=test_hand_worked_leads.TABLES,
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
    raw={
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
        ]
    },
    mutations=(
        # W3 becomes a PQL with one activation event.
        Mutation(
            "activation minimum dropped",
            "is not null and threshold_reached.activations_reached_at is not null\n                then greatest(",
            "is not null\n                then greatest(",
        ),
        # W2 becomes a PQL with one active user.
        Mutation(
            "active users off by one",
            "where users_ranked.user_rank = thresholds.pql__min_active_users",
            "where users_ranked.user_rank = thresholds.pql__min_active_users - 1",
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
    raw=test_speed_to_lead.TABLES,
    mutations=(
        # 00QA (touched after 30 minutes) is outside the SLA, 00QB (180 minutes) inside it.
        Mutation(
            "SLA comparison flipped",
            "measured.minutes_to_first_touch <= measured.speed_to_lead__sla_minutes, false",
            "measured.minutes_to_first_touch >= measured.speed_to_lead__sla_minutes, false",
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
    raw=test_mrr_and_retention.TABLES,
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
    raw=test_mrr_and_retention.TABLES,
    mutations=(
        # A seat reduction shows as a negative contraction.
        Mutation(
            "contraction sign flipped",
            "when classified.movement = 'contraction' then -classified.mrr_change_usd else 0",
            "when classified.movement = 'contraction' then classified.mrr_change_usd else 0",
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
    raw=test_mrr_and_retention.TABLES,
    mutations=(
        # Every customer of the month counts as churned, new ones too: more than were paying at the start.
        Mutation(
            "churned customers not limited to churn movements",
            "count(*) filter (where customer_months.movement = 'churn') as churned_customer_count",
            "count(*) as churned_customer_count",
        ),
    ),
)

WIN_RATES = Case(
    suite="win_rates_mart",
    model="marts/rpt_win_rates_quarterly",
    downstream=None,
    raw=test_closed_lost_and_win_rates.TABLES,
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
    raw=test_hand_worked_leads.TABLES,
    mutations=(
        Mutation(
            "lead count negated",
            "count(*) filter (where funnel_events.funnel_event = 'lead_created') as leads_created_count",
            "-count(*) filter (where funnel_events.funnel_event = 'lead_created') as leads_created_count",
        ),
    ),
)

CASES = (MQL, PQL, SPEED_TO_LEAD, RETENTION, MRR_FACTS, MRR_MOVEMENTS, WIN_RATES, FUNNEL)


def broken_models(directory: Path, case: Case, mutation: Mutation) -> Path:
    """A copy of the project's models with the case's model replaced by its broken variant."""
    models = directory / "models"
    shutil.copytree(MODELS_DIR, models)
    target = models / case.model_file.relative_to(MODELS_DIR)
    sql = target.read_text()
    assert sql.count(mutation.original) == 1, f"{target.name}: the variant {mutation.name!r} no longer applies"
    target.write_text(sql.replace(mutation.original, mutation.broken))
    return models


def table_of(settings: Settings, case: Case) -> list[tuple]:
    schema, table = case.model.split("/")
    frame = query(settings, f"select * from {schema}.{table} order by all")
    return [tuple(map(str, row)) for row in frame.itertuples(index=False)]


@pytest.mark.parametrize("case", CASES, ids=[case.suite for case in CASES])
def test_each_definition_suite_fails_on_broken_variants_of_its_model(tmp_path: Path, case: Case) -> None:
    definitions_file = definitions_with(tmp_path, minimum_bases=NO_MINIMUM_BASES)
    raw_dir = write_raw(tmp_path / "raw", case.raw)
    settings = settings_for(tmp_path, raw_dir, definitions_file=definitions_file)
    good = materialize(settings, case.selection)
    assert good.success
    assert [check.check_name for check in good.get_asset_check_evaluations() if not check.passed] == []
    assert case.suite in {check.check_name for check in good.get_asset_check_evaluations()}
    last_good = table_of(settings, case)

    for position, mutation in enumerate(case.mutations):
        models_dir = broken_models(tmp_path / f"variant_{position}", case, mutation)
        result = materialize(settings_for(tmp_path, raw_dir, definitions_file=definitions_file, models_dir=models_dir),
                             case.rebuild_selection)  # fmt: skip

        assert not result.success, mutation.name
        evaluations = {
            check.check_name: check
            for check in result.get_asset_check_evaluations()
            if check.asset_key.to_user_string() == case.model
        }
        assert evaluations[case.suite].passed is False, mutation.name
        [failure] = [event for event in result.get_step_failure_events() if event.step_key == case.step]
        assert failure.step_failure_data is not None and failure.step_failure_data.user_failure_data is not None
        description = failure.step_failure_data.user_failure_data.description or ""
        assert case.suite in description and "the last good table" in description, mutation.name
        built = {event.asset_key.to_user_string() for event in result.get_asset_materialization_events()}
        assert case.model not in built and case.downstream not in built, mutation.name
        assert table_of(settings, case) == last_good, mutation.name
