"""Every shared definition is enforced by a check, and a test shows that check failing on a broken variant.

COVERAGE maps each top-level key of `definitions.yml` (and each leaf of the sections in LEAF_SECTIONS) to the suites
or checks that enforce it and to the tests (pytest node ids) that break a model or the data on purpose and show those
checks failing. A definition no check states yet is listed with the reason instead (`gap`), so what is not enforced
is written down rather than silently missing. Adding a key to `definitions.yml` without an entry here fails.

A check is a suite (`expectations/<name>.json`) or a named check or rule of the pipeline (a quarantine rule, a
guard, an assertion file) whose name occurs in `pipelines/` or `models/`.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from pipelines.spec.settings import PROJECT_ROOT
from pipelines.warehouse.suites import load_suites

LEAF_SECTIONS = (
    "mql",
    "pql",
    "speed_to_lead",
    "lead_scoring",
    "churn_eligibility",
    "minimum_bases",
    "funnel",
    "pipeline",
    "opportunity_types",
)
BROKEN_MODELS = "tests/integration/test_suites_catch_broken_models.py"
BROKEN_MODELS_TEST = "test_each_definition_suite_fails_on_broken_variants_of_its_model"


def broken(suite: str) -> str:
    """The node id of the case that breaks the model of `suite` and shows the suite failing and blocking."""
    return f"{BROKEN_MODELS}::{BROKEN_MODELS_TEST}[{suite}]"


@dataclass(frozen=True)
class Coverage:
    """What enforces a definition (`checks`) and which tests show it failing (`failing`), or why nothing does."""

    checks: tuple[str, ...] = ()
    failing: tuple[str, ...] = ()
    gap: str | None = None


MQL = Coverage(("mql_definitions", "lead_lifecycle_definitions"), (broken("mql_definitions"),))
LIFECYCLE = Coverage(("lead_lifecycle_definitions",), (broken("lead_lifecycle_definitions"),))
PQL = Coverage(("product_qualified_definitions",), (broken("product_qualified_definitions"),))
PQL_WINDOW = Coverage(
    ("product_qualified_definitions",),
    ("tests/integration/test_definitions.py::test_product_and_opportunity_suites_catch_broken_definitions",),
)
RETENTION = Coverage(("retention_definitions",), (broken("retention_definitions"),))
OPPORTUNITY_TYPES = Coverage(("opportunity_type_definitions",), (broken("opportunity_type_definitions"),))
CLOSED_LOST = Coverage(("closed_lost_reasons_definitions",), (broken("closed_lost_reasons_definitions"),))
SCORING = Coverage(
    ("lead_scoring_definitions", "engagement_points_definitions"),
    (broken("lead_scoring_definitions"), broken("engagement_points_definitions")),
)
FIT_POINTS = Coverage(("lead_scoring_definitions",), (broken("lead_scoring_definitions"),))
ENGAGEMENT_POINTS = Coverage(("engagement_points_definitions",), (broken("engagement_points_definitions"),))
# The check file of int_leads_scored recomputes the decayed score at every moment from the staged engagements.
DECAY = Coverage(
    ("assert_mql_follows_the_decayed_lead_score",),
    (
        broken("assert_mql_follows_the_decayed_lead_score"),
        "tests/unit/test_lead_score_window.py::"
        "test_the_check_refuses_a_score_that_drops_the_engagement_exactly_window_days_old",
    ),
)
PIPELINE_AGING = Coverage(("pipeline_aging_definitions",), (broken("pipeline_aging_definitions"),))
FUNNEL_COHORTS = Coverage(("funnel_cohorts_definitions",), (broken("funnel_cohorts_definitions"),))
RETENTION_MINIMUM_BASES = Coverage(
    ("retention_minimum_bases_definitions",), (broken("retention_minimum_bases_definitions"),)
)
UNIT_ECONOMICS = Coverage(("unit_economics_definitions",), (broken("unit_economics_definitions"),))

COVERAGE: dict[str, Coverage] = {
    "version": Coverage(
        ("definitions_schema",),
        ("tests/unit/test_shared_definitions.py::test_invalid_definitions_fail_naming_the_key",),
    ),
    "channels": Coverage(("channel_definitions",), (broken("channel_definitions"),)),
    "segments": Coverage(("segment_definitions",), (broken("segment_definitions"),)),
    "sales_sourced_channels": Coverage(
        ("lead_lifecycle_definitions", "pipeline_source_definitions"),
        (broken("lead_lifecycle_definitions"), broken("pipeline_source_definitions")),
    ),
    "product_sourced_channels": Coverage(("pipeline_source_definitions",), (broken("pipeline_source_definitions"),)),
    "icp": Coverage(("icp_definitions",), (broken("icp_definitions"),)),
    "lead_scoring": SCORING,
    "lead_scoring.fit_points": FIT_POINTS,
    "lead_scoring.behaviour_points": ENGAGEMENT_POINTS,
    "lead_scoring.intent_points": ENGAGEMENT_POINTS,
    "lead_scoring.half_life_days": DECAY,
    "lead_scoring.window_days": DECAY,
    "mql": MQL,
    "mql.score_threshold": MQL,
    "mql.min_fit_score": MQL,
    "rejection_reasons": LIFECYCLE,
    "unspecified_rejection_reason": LIFECYCLE,
    "opportunity_stages": Coverage(
        ("won_opportunity_definitions", "opportunity_stage_enum"), (broken("won_opportunity_definitions"),)
    ),
    "sales_qualified_stage": LIFECYCLE,
    "won_stage": Coverage(
        ("won_opportunity_definitions", "lead_lifecycle_definitions"),
        (broken("won_opportunity_definitions"), broken("lead_lifecycle_definitions")),
    ),
    "lost_stage": Coverage(("lost_opportunity_definitions",), (broken("lost_opportunity_definitions"),)),
    "pql": PQL,
    "pql.trial_start_events": PQL,
    "pql.trial_window_days": PQL_WINDOW,
    "pql.min_active_users": PQL,
    "pql.min_activation_events": PQL,
    "pql.activation_events": PQL,
    "product_events": Coverage(
        ("grain_is_unique",),
        (
            "tests/integration/test_partitions.py::"
            "test_a_copy_later_than_the_rebuilt_days_fails_loudly_until_its_days_are_rebuilt",
        ),
    ),
    "speed_to_lead": Coverage(("speed_to_lead_definitions",), (broken("speed_to_lead_definitions"),)),
    "speed_to_lead.sla_minutes": Coverage(("speed_to_lead_definitions",), (broken("speed_to_lead_definitions"),)),
    "speed_to_lead.touch_task_types": Coverage(("speed_to_lead_definitions",), (broken("speed_to_lead_definitions"),)),
    "funnel": FUNNEL_COHORTS,
    "funnel.conversion_window_days": FUNNEL_COHORTS,
    "pipeline": PIPELINE_AGING,
    "pipeline.stage_aging_days": PIPELINE_AGING,
    "reporting": Coverage(
        ("assert_every_amount_has_an_exchange_rate", "reporting.time_zone"),
        (
            "tests/integration/test_mrr_fx_and_discounts.py::test_a_month_without_a_rate_is_left_out_and_listed",
            "tests/contract/test_reporting_time_zone.py::test_the_guards_see_a_utc_bucket_and_a_literal_zone",
        ),
    ),
    "fx": Coverage(
        (
            "assert_monthly_rates_follow_the_rate_rule",
            "assert_fx_is_the_rate_change_on_previous_mrr",
            "assert_every_deal_amount_has_an_exchange_rate",
        ),
        (
            broken("assert_monthly_rates_follow_the_rate_rule"),
            broken("assert_fx_is_the_rate_change_on_previous_mrr"),
            "tests/integration/test_exchange_rates.py::test_month_start_takes_the_first_days_rate_else_the_last_of_the_month_before",
            "tests/integration/test_crm_billing_reconciliation.py::"
            "test_deal_amounts_convert_at_the_close_month_rate_or_are_listed",
        ),
    ),
    "mrr": Coverage(
        ("mrr_excluded_statuses_definitions", "assert_discounts_follow_the_coupons"),
        (
            broken("mrr_excluded_statuses_definitions"),
            broken("assert_discounts_follow_the_coupons"),
            "tests/integration/test_mrr_fx_and_discounts.py::test_gross_mrr_leaves_the_discounts_beside_it",
            "tests/integration/test_mrr_fx_and_discounts.py::test_forever_only_mrr_takes_off_forever_coupons_only",
        ),
    ),
    "unit_economics": UNIT_ECONOMICS,
    "churn_eligibility": RETENTION,
    "churn_eligibility.month": RETENTION,
    "churn_eligibility.year": RETENTION,
    "minimum_bases": Coverage(
        ("funnel_cohorts_definitions", "retention_minimum_bases_definitions"),
        (broken("funnel_cohorts_definitions"), broken("retention_minimum_bases_definitions")),
    ),
    "minimum_bases.customers": RETENTION_MINIMUM_BASES,
    "minimum_bases.mrr_usd": RETENTION_MINIMUM_BASES,
    "minimum_bases.leads": FUNNEL_COHORTS,
    "closed_lost_reasons": CLOSED_LOST,
    "unspecified_closed_lost_reason": CLOSED_LOST,
    "data_horizon": Coverage(
        ("_is_outside_horizon", "mrr_movements_mart"),
        (
            "tests/integration/test_horizon.py::test_dates_outside_the_horizon_are_quarantined_with_rule_and_key",
            broken("mrr_movements_mart"),
        ),
    ),
    "volume_guard": Coverage(
        ("row_count_did_not_collapse",),
        (
            "tests/integration/test_guards.py::"
            "test_a_mart_that_collapses_keeps_the_last_good_table_and_snapshot_until_accepted",
        ),
    ),
    "opportunity_types": OPPORTUNITY_TYPES,
    "opportunity_types.other_type": OPPORTUNITY_TYPES,
    "opportunity_types.new_business_type": OPPORTUNITY_TYPES,
    "opportunity_types.types": OPPORTUNITY_TYPES,
    # The findings suite states each key one way (every finding meets its rule: outside the window, at or above the
    # self-serve MRR, beyond the tolerance, in another ARR band's segment); the hand-worked company shows the
    # warning listing findings at and beyond each edge, and none at the edges that do not count.
    "reconciliation": Coverage(
        ("crm_billing_findings_mart", "assert_crm_and_billing_agree"),
        (
            "tests/integration/test_mart_suites_catch_broken_models.py::"
            "test_each_mart_suite_fails_on_broken_variants_of_its_mart[crm_billing_findings_mart]",
            "tests/integration/test_crm_billing_reconciliation.py::"
            "test_the_warning_counts_findings_per_type_without_blocking",
        ),
    ),
    "personal_data": Coverage(
        ("no_personal_data",),
        (
            "tests/integration/test_guards.py::test_a_mart_that_leaks_an_email_fails_no_personal_data_and_is_not_published",
        ),
    ),
    "contracts": Coverage(
        (
            "lead_contract",
            "opportunity_contract",
            "subscription_contract",
            "price_contract",
            "invoice_contract",
            "charge_contract",
            "refund_contract",
        ),
        (
            "tests/integration/test_build.py::test_a_failed_blocking_check_keeps_the_last_good_table_and_stops_downstream",
            "tests/integration/test_fail_fast.py::test_a_failed_blocking_check_is_a_failed_step_and_keeps_the_last_good_table",
        ),
    ),
}

SUITES = {suite.name for suite in load_suites(PROJECT_ROOT / "expectations")}
SOURCES = "\n".join(
    path.read_text() for folder in ("pipelines", "models") for path in sorted((PROJECT_ROOT / folder).rglob("*.*"))
    if path.suffix in (".py", ".sql")
)  # fmt: skip


def definition_keys() -> set[str]:
    """The top-level keys of definitions.yml and the leaves of LEAF_SECTIONS, as dotted paths."""
    document = yaml.safe_load((PROJECT_ROOT / "definitions.yml").read_text())
    keys = set(document)
    for section in LEAF_SECTIONS:
        keys.update(f"{section}.{leaf}" for leaf in document[section])
    return keys


def test_every_definition_has_an_entry_and_every_entry_a_definition() -> None:
    keys = definition_keys()
    assert sorted(keys - set(COVERAGE)) == [], "add these definitions to COVERAGE: what enforces them, or the gap"
    assert sorted(set(COVERAGE) - keys) == [], "these COVERAGE entries name no definition"


@pytest.mark.parametrize("key", sorted(COVERAGE))
def test_each_entry_names_its_checks_and_a_failing_test_or_its_gap(key: str) -> None:
    coverage = COVERAGE[key]
    if coverage.gap is not None:
        assert not coverage.checks and not coverage.failing and coverage.gap.strip()
        return
    assert coverage.checks and coverage.failing
    for check in coverage.checks:
        assert check in SUITES or check in SOURCES, f"{key}: no suite or pipeline check named {check}"
    for node in coverage.failing:
        assert node_exists(node), f"{key}: no test {node}"
    broken_checks = [check for check in coverage.checks if broken(check) in coverage.failing]
    assert all(broken_case_exists(check) for check in broken_checks), f"{key}: {broken_checks}"


def node_exists(node: str) -> bool:
    """Whether `path::function` (a parameter in brackets is checked by broken_case_exists) is a test function."""
    path, _, name = node.partition("::")
    function = re.sub(r"\[.*\]$", "", name)
    file = PROJECT_ROOT / path
    if not file.is_file():
        return False
    tree = ast.parse(file.read_text())
    return any(isinstance(item, ast.FunctionDef) and item.name == function for item in tree.body)


def broken_case_exists(check: str) -> bool:
    """Whether the broken-models test has a case for `check`, a suite or a check of a check file (its parameter id is
    the check's name), read from the file's text so this contract test does not import Dagster."""
    return f'suite="{check}"' in (PROJECT_ROOT / BROKEN_MODELS).read_text()


def test_a_new_definition_without_an_entry_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    document = yaml.safe_load((PROJECT_ROOT / "definitions.yml").read_text())
    document["quota"] = {"attainment_target": 0.9}
    (tmp_path / "definitions.yml").write_text(yaml.safe_dump(document))
    monkeypatch.setattr(f"{__name__}.PROJECT_ROOT", tmp_path)
    assert "quota" in definition_keys() - set(COVERAGE)
