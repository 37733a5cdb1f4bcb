"""`flywheel preview` without a build: which definitions a candidate changes, what reads them, what is selected,
and the candidates that stop before anything is built (unchanged, invalid)."""

from __future__ import annotations

import copy
import dataclasses
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipelines import cli
from pipelines.cli import RunSummary
from pipelines.definition_preview import _fill_report, preview, selection_for
from pipelines.docs.definition_preview_page import PreviewReport, render_html, render_text
from pipelines.orchestration.project import build_definitions
from pipelines.orchestration.selection import resolve_selection
from pipelines.spec import definition_readers
from pipelines.spec.definition_readers import changed_definitions, readers_of
from pipelines.spec.project_files import load_project_files
from pipelines.spec.settings import Settings
from pipelines.spec.suite_references import referenced_definitions

SETTINGS = Settings.from_env()
FILES = load_project_files(SETTINGS)


def _candidate(path: str, value: Any) -> dict[str, Any]:
    document = copy.deepcopy(FILES.definitions.document)
    parent = document
    *sections, key = path.split(".")
    for section in sections:
        parent = parent[section]
    parent[key] = value
    return document


def _readers(path: str, value: Any) -> tuple[list[str], Any]:
    changes = changed_definitions(FILES.definitions.document, _candidate(path, value))
    return [change.name for change in changes], readers_of(changes, FILES.models, FILES.suites)


def test_a_changed_threshold_is_named_once_and_read_by_the_models_naming_its_column() -> None:
    names, readers = _readers("mql.score_threshold", 55)
    assert names == ["mql__score_threshold"]
    # int_leads_scored compares with the threshold in SQL; the MQL suite on int_leads_lifecycle references it
    assert readers.models == {"intermediate.int_leads_scored", "intermediate.int_leads_lifecycle"}
    assert readers.definition_tables == {"thresholds"} and not readers.python_selections


def test_definitions_read_only_by_suites_or_python_steps_select_those() -> None:
    _, contracts = _readers("contracts.earliest_timestamp", "2001-01-01T00:00:00Z")
    assert contracts.models == {"staging.stg_salesforce__leads", "staging.stg_salesforce__opportunities"}
    assert not contracts.definition_tables
    _, redaction = _readers("personal_data.redacted_label", "[removed]")
    assert redaction.python_selections == {"group:raw"} and not redaction.models


def test_an_unchanged_document_changes_nothing() -> None:
    assert changed_definitions(FILES.definitions.document, copy.deepcopy(FILES.definitions.document)) == []


def test_suites_reference_definitions_in_kwargs_and_row_conditions() -> None:
    suites = {suite.name: suite for suite in FILES.suites}
    assert "mql__score_threshold" in referenced_definitions(suites["mql_definitions"])
    assert "minimum_bases__leads" in referenced_definitions(suites["funnel_cohorts_definitions"])
    assert not any(name.startswith("$") for suite in FILES.suites for name in referenced_definitions(suite))


def test_the_selection_rebuilds_the_readers_and_downstream_but_never_publishes() -> None:
    _, readers = _readers("mql.score_threshold", 55)
    keys = {key.to_user_string() for key in resolve_selection(build_definitions(SETTINGS), selection_for(readers))}
    assert {"definitions/thresholds", "intermediate/int_leads_scored", "marts/rpt_alignment_scorecard_monthly"} <= keys
    assert not keys & {"published/bi_snapshot", "reports/kpi_report"}
    assert not keys & {"marts/rpt_mrr_movements_monthly", "marts/rpt_retention_monthly", "raw/salesforce/lead"}
    assert not any(key.startswith(("staging/", "salesforce/", "stripe/")) for key in keys)


def test_failed_checks_and_marts_kept_are_reported(tmp_path: Path) -> None:
    changes = changed_definitions(FILES.definitions.document, _candidate("mql.score_threshold", 55))
    report = PreviewReport(candidate=tmp_path / "candidate.yml", current=SETTINGS.definitions_file, changes=changes)
    report.selection = 'key:"marts/fct_speed_to_lead"'
    summary = RunSummary(
        succeeded=False,
        seconds=1.0,
        assets_built=["definitions/thresholds"],
        checks_failed=["marts/fct_speed_to_lead:row_count_did_not_collapse"],
        step_errors={"marts__fct_speed_to_lead": "failed blocking check(s) row_count_did_not_collapse"},
    )
    _fill_report(report, summary, FILES.models, [("marts", "fct_speed_to_lead")], tmp_path, tmp_path)
    assert report.marts_kept == ["marts.fct_speed_to_lead"] and not report.marts
    assert "marts.rpt_mrr_movements_monthly" in report.marts_not_rebuilt
    text = render_text(report)
    assert "checks that would fail: 1" in text and "row_count_did_not_collapse" in text
    page = render_html(report)
    assert "mql__score_threshold" in page and "row_count_did_not_collapse" in page


def _write(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def test_an_unchanged_candidate_reports_no_change_and_builds_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLYWHEEL_WAREHOUSE", str(tmp_path / "no_warehouse" / "flywheel.duckdb"))
    candidate = _write(tmp_path / "candidate.yml", FILES.definitions.document)
    assert cli.main(["preview", "--definitions", str(candidate), "--out", str(tmp_path / "out")]) == 0
    assert "no definition changes" in capsys.readouterr().out
    assert (tmp_path / "out" / "definition_preview.html").exists()
    assert not (tmp_path / "no_warehouse").exists()  # no fresh build for nothing to compare


def test_an_invalid_candidate_fails_fast_naming_the_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    candidate = _write(tmp_path / "candidate.yml", _candidate("mql.score_threshold", -3))
    started = time.perf_counter()
    assert cli.main(["preview", "--definitions", str(candidate), "--out", str(tmp_path / "out")]) == 2
    assert time.perf_counter() - started < 10
    errors = capsys.readouterr().err
    assert "mql.score_threshold" in errors and "nothing was built" in errors
    assert not (tmp_path / "out").exists()


def test_a_change_nothing_reads_rebuilds_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(definition_readers, "PYTHON_READERS", {})  # as if no raw load read the redaction label
    candidate = _write(tmp_path / "candidate.yml", _candidate("personal_data.redacted_label", "[removed]"))
    missing = dataclasses.replace(SETTINGS, warehouse=tmp_path / "no_warehouse" / "flywheel.duckdb")
    report, summary = preview(missing, candidate)
    assert summary is None and report.selection is None
    assert [change.name for change in report.changes] == ["personal_data__redacted_label"]
    assert "no asset reads them" in render_text(report) and "No asset reads them" in render_html(report)
    assert not (tmp_path / "no_warehouse").exists()
