"""The guards on hand-made faults, built through the real assets.

Personal data typed into free text (read from a copy of the volume guards' first build):

    salesforce.lead          P1 campaign "jane.doe@example.com", rejected with the reason "call +1 555 010 1234"
                             P2 campaign "+1-971-555-0152", accepted;  P3 campaign "spring_promo", accepted
    salesforce.opportunity   O1 type "555-010-1234", lost with the reason "ask jane.doe@example.com"
                             O2 type " new logo ", won
    -> the two campaigns are redacted at the raw load (2 values counted in audit.raw_loads and the asset's metadata)
       and the marts show "(redacted)"; O1's type is Other and its loss reason Unspecified; O2 is New Business; P1's
       rejection reason is Unspecified. Every mart passes `no_personal_data`.

A table that collapses since the last published build (one good build, then the same raw files with the
opportunities cut to a header line, without and with `--accept-shrink`); and a mart that leaks an e-mail or
collapses, on a one-mart project (model_asset and publish_asset only).
"""

from __future__ import annotations

import dataclasses
import hashlib
import textwrap
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.cli import RunSummary, run_pipeline
from pipelines.orchestration.assets import model_asset
from pipelines.orchestration.guard_checks import VolumeGuard
from pipelines.orchestration.project import PUBLISH_KEY, PublishTarget, publish_asset
from pipelines.orchestration.resources import DefinitionsFile, Warehouse
from pipelines.spec.models import load_models
from pipelines.spec.settings import PROJECT_ROOT, Settings
from pipelines.warehouse.guards import PERSONAL_DATA_CHECK, VOLUME_CHECK
from pipelines.warehouse.publish import SNAPSHOT_FILE, current_manifest
from tests.fixtures import query, write_raw
from tests.integration.conftest import FullBuild

EMAIL, PHONE = "jane.doe@example.com", "+1-971-555-0152"


def lead(lead_id: str, campaign: str, **extra: object) -> dict:
    """An ICP-fit lead (fit 50) created on Jan 2; its pricing visit on Jan 3 makes it an MQL."""
    return {
        "id": lead_id,
        "lead_source": "Paid Search",
        "utm_campaign_c": campaign,
        "industry": "Software",
        "number_of_employees": 150,
        "country": "United States",
        "created_date": "2026-01-02 08:00:00",
        **extra,
    }


def opportunity(opportunity_id: str, kind: str, stage: str, reason: str | None = None) -> dict:
    return {
        "id": opportunity_id,
        "account_id": "A1",
        "type": kind,
        "stage_name": stage,
        "amount": 10000,
        "created_date": "2026-01-05 10:00:00",
        "close_date": "2026-01-09",
        "is_closed": "true",
        "is_won": str(stage == "Closed Won").lower(),
        "lead_source": "Paid Search",
        "loss_reason_c": reason,
    }


TABLES: dict[str, list[dict]] = {
    "salesforce.lead": [
        lead("P1", EMAIL, rejected_date_c="2026-01-10 09:00:00", rejection_reason_c="call +1 555 010 1234"),
        lead("P2", PHONE, accepted_date_c="2026-01-11 09:00:00"),
        lead("P3", "spring_promo", accepted_date_c="2026-01-12 09:00:00"),
    ],
    "marketing.engagements": [
        {"id": f"E{name}", "lead_id": name, "activity_type": "pricing_page_visit", "occurred_at": "2026-01-03 09:00:00"}
        for name in ("P1", "P2", "P3")
    ],
    "salesforce.account": [{"id": "A1", "number_of_employees": 150}],
    "salesforce.opportunity": [
        opportunity("O1", "555-010-1234", "Closed Lost", f"ask {EMAIL}"),
        opportunity("O2", " new logo ", "Closed Won"),
    ],
}
MARTS = ["rpt_lead_disposition_monthly", "rpt_lead_rejection_reasons_monthly", "fct_opportunity_outcomes"]


@pytest.fixture(scope="module")
def good_build(guards_build: FullBuild) -> tuple[Settings, RunSummary, Settings]:
    """One full build of TABLES through `flywheel run`'s code path, which publishes (the session's, see
    tests/integration/conftest.py): the first of the volume-guard runs, which then change its raw files and rebuild
    it; the personal-data tests read a copy of its warehouse, taken before that."""
    settings = guards_build.settings
    return settings, guards_build.summary, dataclasses.replace(settings, warehouse=guards_build.as_built)


@pytest.fixture(scope="module")
def personal_build(
    good_build: tuple[Settings, RunSummary, Settings],
) -> tuple[Settings, dg.ExecuteInProcessResult]:
    _, good, as_built = good_build
    assert good.succeeded and good.result is not None, good.render()
    return as_built, good.result


def test_personal_data_in_free_text_is_redacted_at_the_raw_load_and_counted(
    personal_build: tuple[Settings, dg.ExecuteInProcessResult],
) -> None:
    settings, result = personal_build
    campaigns = query(settings, "select id, utm_campaign_c from salesforce.lead order by id")
    assert campaigns["utm_campaign_c"].tolist() == ["(redacted)", "(redacted)", "spring_promo"]
    audit = query(settings, "select pii_redacted_values from audit.raw_loads where source_table = 'salesforce.lead'")
    assert audit["pii_redacted_values"].tolist() == [2]
    loaded = next(
        event.materialization.metadata
        for event in result.get_asset_materialization_events()
        if event.asset_key == dg.AssetKey(["salesforce", "lead"])
    )
    assert loaded["pii_redacted_values"].value == 2


def test_no_personal_value_reaches_a_mart(personal_build: tuple[Settings, dg.ExecuteInProcessResult]) -> None:
    settings, result = personal_build
    disposition = query(settings, "select campaign from marts.rpt_lead_disposition_monthly")
    assert set(disposition["campaign"]) == {"(redacted)", "spring_promo"}
    outcomes = query(
        settings, "select opportunity_id, opportunity_type, loss_reason from marts.fct_opportunity_outcomes"
    ).set_index("opportunity_id")
    assert outcomes.loc["O1", "opportunity_type"] == "Other" and outcomes.loc["O1", "loss_reason"] == "Unspecified"
    assert outcomes.loc["O2", "opportunity_type"] == "New Business"
    reasons = query(settings, "select distinct rejection_reason from marts.rpt_lead_rejection_reasons_monthly")
    assert reasons["rejection_reason"].tolist() == ["Unspecified"]
    scans = {
        evaluation.asset_key.path[-1]: evaluation.passed
        for evaluation in result.get_asset_check_evaluations()
        if evaluation.check_name == PERSONAL_DATA_CHECK
    }
    assert {mart: scans.get(mart) for mart in MARTS} == dict.fromkeys(MARTS, True)
    assert all(scans.values()), scans


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclasses.dataclass(frozen=True)
class ShrinkRuns:
    settings: Settings
    good: RunSummary
    good_snapshot: str
    good_raw_rows: dict[str, int]
    blocked: RunSummary
    blocked_snapshot: str
    blocked_outcomes: int
    accepted: RunSummary
    accepted_snapshot: str


@pytest.fixture(scope="module")
def shrink_runs(good_build: tuple[Settings, RunSummary, Settings]) -> ShrinkRuns:
    """A good build that publishes, then the opportunities cut to a header line: refused, then accepted."""
    settings, good, _ = good_build
    snapshot = settings.published_dir / SNAPSHOT_FILE
    good_snapshot = _sha256(snapshot)
    manifest = current_manifest(settings.published_dir) or {}
    write_raw(settings.raw_dir, {**TABLES, "salesforce.opportunity": []})
    selection = ["salesforce/opportunity"]
    blocked = run_pipeline(settings, instance=dg.DagsterInstance.ephemeral(), selection=selection)
    blocked_snapshot = _sha256(snapshot)
    blocked_outcomes = len(query(settings, "select * from marts.fct_opportunity_outcomes"))
    accepting = dataclasses.replace(settings, accept_shrink=("salesforce.opportunity",))
    accepted = run_pipeline(accepting, instance=dg.DagsterInstance.ephemeral(), selection=selection)
    return ShrinkRuns(
        settings,
        good,
        good_snapshot,
        manifest.get("raw_tables", {}),
        blocked,
        blocked_snapshot,
        blocked_outcomes,
        accepted,
        _sha256(snapshot),
    )


def _evaluation(summary: RunSummary, asset: str, check: str) -> dg.AssetCheckEvaluation:
    assert summary.result is not None
    return next(
        evaluation
        for evaluation in summary.result.get_asset_check_evaluations()
        if evaluation.asset_key.to_user_string() == asset and evaluation.check_name == check
    )


def test_the_first_build_has_no_baseline_and_publishes(shrink_runs: ShrinkRuns) -> None:
    assert shrink_runs.good.succeeded, shrink_runs.good.render()
    first = _evaluation(shrink_runs.good, "salesforce/opportunity", VOLUME_CHECK)
    assert first.passed and first.metadata["previous_rows"].value == "no published build"
    assert shrink_runs.good_raw_rows["salesforce.opportunity"] == 2
    assert shrink_runs.good_raw_rows["salesforce.lead"] == 3


def test_a_header_only_table_blocks_the_publish_and_says_how_to_accept_it(shrink_runs: ShrinkRuns) -> None:
    blocked = shrink_runs.blocked
    assert not blocked.succeeded
    assert "salesforce/opportunity:row_count_did_not_collapse" in blocked.checks_failed
    assert blocked.publish_id is None
    assert shrink_runs.blocked_snapshot == shrink_runs.good_snapshot
    evaluation = _evaluation(blocked, "salesforce/opportunity", VOLUME_CHECK)
    assert evaluation.description is not None
    assert "salesforce.opportunity shrank from 2 to 0 rows" in evaluation.description
    assert "flywheel run --accept-shrink salesforce.opportunity" in evaluation.description
    metadata = {key: value.value for key, value in evaluation.metadata.items()}
    assert metadata["previous_rows"] == 2 and metadata["current_rows"] == 0
    assert metadata["drop_share"] == 1.0 and metadata["max_row_drop_share"] == 0.5 and metadata["accepted"] is False
    # The marts were not rebuilt: the live table still holds the good build's opportunities.
    assert shrink_runs.blocked_outcomes == 2


def test_an_accepted_shrink_passes_and_publishes(shrink_runs: ShrinkRuns) -> None:
    accepted = shrink_runs.accepted
    assert accepted.succeeded, accepted.render()
    assert accepted.publish_id is not None and shrink_runs.accepted_snapshot != shrink_runs.good_snapshot
    raw = _evaluation(accepted, "salesforce/opportunity", VOLUME_CHECK)
    mart = _evaluation(accepted, "marts/fct_opportunity_outcomes", VOLUME_CHECK)
    assert raw.passed and raw.metadata["accepted"].value is True
    assert mart.passed and mart.metadata["accepted"].value is True and mart.metadata["current_rows"].value == 0
    manifest = current_manifest(shrink_runs.settings.published_dir)
    assert manifest is not None and manifest["raw_tables"]["salesforce.opportunity"] == 0
    assert manifest["tables"]["marts.fct_opportunity_outcomes"]["rows"] == 0


def _write_mart(models_dir: Path, rows_sql: str) -> None:
    """A one-mart project: `rpt_demo`, one row per demo_id with a text column `campaign`."""
    path = models_dir / "marts" / "demo" / "rpt_demo.sql"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        textwrap.dedent(
            """\
            /*
            name: rpt_demo
            description: A demo mart with a campaign.
            grain: [demo_id]
            owner: team:revops
            */
            with

            final as (
                select
                    demo_id,  -- the demo key
                    campaign  -- a campaign name
                from (%s) as rows
            )

            select * from final
            """
        )
        % rows_sql
    )


def _build_mart(tmp_path: Path, rows_sql: str, accept_shrink: tuple[str, ...] = ()) -> dg.ExecuteInProcessResult:
    _write_mart(tmp_path / "models", rows_sql)
    models = load_models(tmp_path / "models")
    published = str(tmp_path / "published")
    definitions = dg.Definitions(
        assets=[model_asset(model) for model in models] + [publish_asset(models, [])],
        resources={
            "warehouse": Warehouse(database=str(tmp_path / "warehouse.duckdb")),
            "definitions_file": DefinitionsFile(path=str(PROJECT_ROOT / "definitions.yml")),
            "publish_target": PublishTarget(path=published),
            "volume_guard": VolumeGuard(published_dir=published, accept_shrink=list(accept_shrink)),
        },
    )
    return dg.materialize(
        list(definitions.assets or []),
        resources=definitions.resources,
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


def _check(result: dg.ExecuteInProcessResult, name: str) -> dg.AssetCheckEvaluation:
    return next(evaluation for evaluation in result.get_asset_check_evaluations() if evaluation.check_name == name)


def _published(result: dg.ExecuteInProcessResult) -> bool:
    return dg.AssetKey(list(PUBLISH_KEY)) in {event.asset_key for event in result.get_asset_materialization_events()}


TWO_ROWS = "select 1 as demo_id, 'spring_promo' as campaign union all select 2, 'brand_search'"


def test_a_mart_that_leaks_an_email_fails_no_personal_data_and_is_not_published(tmp_path: Path) -> None:
    result = _build_mart(
        tmp_path, f"select 1 as demo_id, 'ask {EMAIL}' as campaign union all select 2, '0065e00000AbCdE'"
    )
    scan = _check(result, PERSONAL_DATA_CHECK)
    assert not scan.passed and scan.metadata["personal_values"].value == 1
    assert EMAIL not in str(scan.metadata["values_by_column"].value)
    assert "a** ****.***@*******.*om" in str(scan.metadata["values_by_column"].value)
    assert not _published(result) and not (tmp_path / "published" / SNAPSHOT_FILE).exists()
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as connection:
        tables = connection.execute("select table_name from information_schema.tables").fetchall()
    assert ("rpt_demo",) not in tables


def test_a_mart_that_collapses_keeps_the_last_good_table_and_snapshot_until_accepted(tmp_path: Path) -> None:
    assert _published(_build_mart(tmp_path, TWO_ROWS))
    snapshot = tmp_path / "published" / SNAPSHOT_FILE
    good = _sha256(snapshot)
    collapsed = _build_mart(tmp_path, "select 1 as demo_id, 'x' as campaign where false")
    volume = _check(collapsed, VOLUME_CHECK)
    assert not volume.passed and "marts.rpt_demo shrank from 2 to 0 rows" in (volume.description or "")
    assert not _published(collapsed) and _sha256(snapshot) == good
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as connection:
        assert connection.execute("select count(*) from marts.rpt_demo").fetchone() == (2,)
    accepted = _build_mart(tmp_path, "select 1 as demo_id, 'x' as campaign where false", ("marts.rpt_demo",))
    assert _check(accepted, VOLUME_CHECK).passed and _published(accepted) and _sha256(snapshot) != good
