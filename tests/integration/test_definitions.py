"""The shared definitions drive the lifecycle, the suites enforce them, and a broken definition blocks the marts."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest
import yaml

from pipelines.cli import RunSummary
from pipelines.spec.settings import PROJECT_ROOT, Settings
from pipelines.warehouse.shared_definitions import load_definitions
from pipelines.warehouse.suites import Suite, load_suites, run_suite
from tests.conftest import copy_of_build, materialize, settings_for
from tests.fixtures import query

SEEDS = PROJECT_ROOT / "seeds"
SUITES = {suite.name: suite for suite in load_suites(PROJECT_ROOT / "expectations")}
DOCUMENT = load_definitions(PROJECT_ROOT / "definitions.yml").document


@pytest.fixture(scope="module")
def built(demo_build: tuple[Settings, RunSummary]) -> Settings:
    settings, summary = demo_build
    assert summary.succeeded
    assert summary.result is not None
    # every blocking check passes; warnings (the CRM-billing findings the demo holds on purpose) do not block
    evaluations = summary.result.get_asset_check_evaluations()
    assert all(check.passed or check.severity == dg.AssetCheckSeverity.WARN for check in evaluations)
    return settings


def _failures(suite: Suite, frame: pd.DataFrame, key: str) -> dict[str, tuple[int, list[str]]]:
    result = run_suite(suite, frame, DOCUMENT, [key])
    assert not result.broken, result.summary()
    return {
        outcome.description: (outcome.unexpected_count, outcome.sample_keys)
        for outcome in result.outcomes
        if not outcome.success
    }


def test_every_suite_passes_on_the_demo_data(built: Settings) -> None:
    with duckdb.connect(str(built.warehouse), read_only=True) as connection:  # Python dates, as a build reads them
        cursor = connection.execute("select * from definitions.data_horizon")
        horizon = dict(zip([column[0] for column in cursor.description or []], cursor.fetchone() or (), strict=True))
    for suite in SUITES.values():
        frame = query(built, f"select * from {suite.model}")
        described = query(built, f"describe {suite.model}")
        for column in described.loc[described["column_type"].eq("DATE"), "column_name"]:
            frame[column] = frame[column].dt.date  # dates stay dates, as in a build (a date minus a date is days)
        grain = {"int_leads_lifecycle": "lead_id", "int_workspaces_product_qualified": "workspace_id"}
        result = run_suite(suite, frame, {**DOCUMENT, "$horizon": horizon}, [grain.get(suite.table, frame.columns[0])])
        assert result.success, result.summary()


def test_lifecycle_suite_catches_each_broken_definition(built: Settings) -> None:
    lifecycle = query(built, "select * from intermediate.int_leads_lifecycle order by lead_id")
    suite = SUITES["lead_lifecycle_definitions"]
    threshold = DOCUMENT["mql"]["score_threshold"]

    below = lifecycle.copy()
    mql_row = below.index[below["mql_at"].notna()][0]
    below.loc[mql_row, "score_at_mql"] = threshold - 1
    assert _failures(suite, below, "lead_id") == {
        "every MQL reached the MQL score threshold in force": (1, [below.loc[mql_row, "lead_id"]])
    }

    backwards = lifecycle.copy()
    accepted_row = backwards.index[
        backwards["accepted_at"].notna() & backwards["mql_at"].notna() & backwards["pql_at"].isna()
    ][0]
    backwards.loc[accepted_row, "accepted_at"] = backwards.loc[accepted_row, "mql_at"] - pd.Timedelta(hours=1)
    failures = _failures(suite, backwards, "lead_id")
    assert failures[
        "sales accepts a lead no earlier than it became an MQL (unless its workspace was a PQL by then)"
    ] == (
        1,
        [backwards.loc[accepted_row, "lead_id"]],
    )

    no_reason = lifecycle.copy()
    rejected_row = no_reason.index[no_reason["rejected_at"].notna()][0]
    no_reason.loc[rejected_row, "rejection_reason"] = None
    assert _failures(suite, no_reason, "lead_id") == {
        "every rejected lead carries a reason": (1, [no_reason.loc[rejected_row, "lead_id"]])
    }

    unknown_reason = lifecycle.copy()
    unknown_reason.loc[rejected_row, "rejection_reason"] = "Did not like the logo"
    assert _failures(suite, unknown_reason, "lead_id") == {
        "every rejected lead carries a reason from the taxonomy (or the unspecified reason)": (
            1,
            [unknown_reason.loc[rejected_row, "lead_id"]],
        )
    }

    skipped = lifecycle.copy()
    qualified_row = skipped.index[skipped["sales_qualified_at"].notna()][0]
    skipped.loc[qualified_row, "accepted_at"] = pd.NaT
    assert "every sales-qualified lead was accepted first" in _failures(suite, skipped, "lead_id")


def test_product_and_opportunity_suites_catch_broken_definitions(built: Settings) -> None:
    workspaces = query(built, "select * from intermediate.int_workspaces_product_qualified order by workspace_id")
    pql_row = workspaces.index[workspaces["pql_at"].notna()][0]
    lonely = workspaces.copy()
    lonely.loc[pql_row, "active_users_in_trial_count"] = DOCUMENT["pql"]["min_active_users"] - 1
    lonely.loc[pql_row, "has_min_active_users"] = False  # the flag agrees with the count: only the PQL is wrong
    assert _failures(SUITES["product_qualified_definitions"], lonely, "workspace_id") == {
        "every PQL had the minimum number of active users in its trial window": (
            1,
            [lonely.loc[pql_row, "workspace_id"]],
        )
    }
    late = workspaces.copy()
    late.loc[pql_row, "pql_at"] = late.loc[pql_row, "trial_ends_at"] + pd.Timedelta(days=1)
    assert _failures(SUITES["product_qualified_definitions"], late, "workspace_id") == {
        "a workspace becomes a PQL before its trial window ends": (1, [late.loc[pql_row, "workspace_id"]])
    }

    opportunities = query(built, "select * from intermediate.int_opportunities_classified order by opportunity_id")
    won_row = opportunities.index[opportunities["is_won"]][0]
    free = opportunities.copy()
    free.loc[won_row, "amount"] = 0.0
    assert _failures(SUITES["won_opportunity_definitions"], free, "opportunity_id") == {
        "every won opportunity has a positive amount": (1, [free.loc[won_row, "opportunity_id"]])
    }


def test_changing_a_threshold_moves_the_lifecycle_and_the_marts(built: Settings, tmp_path: Path) -> None:
    """Raise the MQL threshold in a copy of the definitions file: fewer MQLs everywhere, no other edit."""
    document = yaml.safe_load((PROJECT_ROOT / "definitions.yml").read_text())
    raised = document["mql"]["score_threshold"] + 30
    document["mql"]["score_threshold"] = raised
    definitions_file = tmp_path / "definitions.yml"
    definitions_file.write_text(yaml.safe_dump(document))
    changed = dataclasses.replace(settings_for(tmp_path, SEEDS), definitions_file=definitions_file)

    result = materialize(changed, '+key:"marts/rpt_definition_drift_monthly"')

    assert result.success
    before = query(built, "select count(mql_at) as mqls from intermediate.int_leads_lifecycle")["mqls"][0]
    after = query(changed, "select count(mql_at) as mqls from intermediate.int_leads_lifecycle")["mqls"][0]
    assert 0 < after < before
    assert (
        query(changed, "select min(score_at_mql) as lowest from intermediate.int_leads_lifecycle")["lowest"][0]
        >= raised
    )
    drift = query(changed, "select sum(definition_mql_count) as mqls from marts.rpt_definition_drift_monthly")
    assert drift["mqls"][0] == after
    in_force = query(changed, "select mql__score_threshold from definitions.thresholds")
    assert in_force["mql__score_threshold"].tolist() == [raised]


def test_a_failing_error_suite_keeps_the_marts_as_they_were(built: Settings, tmp_path: Path) -> None:
    settings = copy_of_build(built, tmp_path)  # the seeds as built, the funnel and everything upstream included
    raw_dir = settings.raw_dir
    funnel_before = query(settings, "select * from marts.rpt_funnel_monthly order by all")

    # A won deal whose amount the CRM lost: the won-opportunity definition no longer holds.
    opportunities = pd.read_csv(raw_dir / "salesforce" / "opportunity.csv", dtype=str, keep_default_na=False)
    won = opportunities.index[opportunities["is_won"].eq("true") & opportunities["is_deleted"].ne("true")][0]
    opportunity_id = opportunities.loc[won, "id"]
    opportunities.loc[opportunities["id"] == opportunity_id, "amount"] = "0"
    opportunities.to_csv(raw_dir / "salesforce" / "opportunity.csv", index=False)

    result = materialize(settings, '+key:"marts/rpt_funnel_monthly"')

    failed = [check for check in result.get_asset_check_evaluations() if not check.passed]
    assert [(check.asset_key.to_user_string(), check.check_name) for check in failed] == [
        ("intermediate/int_opportunities_classified", "won_opportunity_definitions")
    ]
    assert opportunity_id in str(failed[0].metadata["failures"].value)
    built_keys = {event.asset_key.to_user_string() for event in result.get_asset_materialization_events()}
    assert "marts/rpt_funnel_monthly" not in built_keys
    pd.testing.assert_frame_equal(query(settings, "select * from marts.rpt_funnel_monthly order by all"), funnel_before)
