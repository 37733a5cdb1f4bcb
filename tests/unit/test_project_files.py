"""The project's files are parsed once per content: one run reads each once, and an edited file is read again."""

from __future__ import annotations

import os
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import pipelines.spec.project_files as project_files
import pipelines.spec.suite_schema as suite_schema
from pipelines.spec.models import checks_path, load_models
from pipelines.spec.project_files import load_project_files, read_definitions, read_model, read_sources, read_suites
from pipelines.spec.settings import PROJECT_ROOT, Settings
from pipelines.warehouse.guards import max_row_drop_share, redacted_label
from pipelines.warehouse.shared_definitions import DefinitionsError, late_arrival_days, load_definitions

PROJECT_DEFINITIONS = PROJECT_ROOT / "definitions.yml"
PROJECT_SOURCES = PROJECT_ROOT / "models" / "sources.yml"
THRESHOLD = "  score_threshold: 40"


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How often each YAML file (by name) and each suite file is parsed while the test runs."""
    counts: Counter[str] = Counter()
    read_document, load_suite = project_files.read_document, suite_schema._load_suite

    def counted_read_document(path: Path, text: str) -> Any:
        counts[path.name] += 1
        return read_document(path, text)

    def counted_load_suite(path: Path) -> Any:
        counts["suite files"] += 1
        return load_suite(path)

    monkeypatch.setattr(project_files, "read_document", counted_read_document)
    monkeypatch.setattr(suite_schema, "_load_suite", counted_load_suite)
    monkeypatch.setattr("pipelines.spec.sources_schema.read_document", counted_read_document)
    return counts


def copied_definitions(tmp_path: Path) -> Path:
    path = tmp_path / "definitions.yml"
    path.write_text(PROJECT_DEFINITIONS.read_text())
    return path


def edit_keeping_size_and_time(path: Path, old: str, new: str) -> None:
    """Rewrite the file with the same size and modification time, as a quick save within one clock tick may."""
    assert len(old) == len(new)
    stat = path.stat()
    path.write_text(path.read_text().replace(old, new))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def test_every_reader_of_a_run_shares_one_parse_and_an_edit_is_read_again(tmp_path: Path, parses: Counter[str]) -> None:
    path = copied_definitions(tmp_path)
    # What the assets of one run read: the suites' document, the lookback, the guards, the warehouse tables.
    assert read_definitions(path).document["mql"]["score_threshold"] == 40
    assert late_arrival_days(path) == 3
    assert 0 <= max_row_drop_share(path) <= 1
    assert redacted_label(path)
    assert load_definitions(path).thresholds["mql__score_threshold"] == 40
    assert parses["definitions.yml"] == 1

    edit_keeping_size_and_time(path, THRESHOLD, "  score_threshold: 41")

    assert load_definitions(path).thresholds["mql__score_threshold"] == 41
    assert read_definitions(path).document["mql"]["score_threshold"] == 41
    assert parses["definitions.yml"] == 2


def test_the_digest_is_the_one_bi_sees(tmp_path: Path) -> None:
    """The version stamp written to `definitions.definitions_version` changes with the text, whatever the cache."""
    path = copied_definitions(tmp_path)
    before = read_definitions(path).digest
    edit_keeping_size_and_time(path, THRESHOLD, "  score_threshold: 41")
    assert read_definitions(path).digest != before
    assert read_definitions(PROJECT_DEFINITIONS).digest == load_definitions(PROJECT_DEFINITIONS).digest


def test_a_reader_that_edits_its_document_does_not_change_the_next_read(tmp_path: Path) -> None:
    path = copied_definitions(tmp_path)
    read_definitions(path).document["mql"]["score_threshold"] = 99
    assert read_definitions(path).document["mql"]["score_threshold"] == 40


def test_an_invalid_file_is_reported_on_every_read(tmp_path: Path, parses: Counter[str]) -> None:
    path = copied_definitions(tmp_path)
    path.write_text(path.read_text().replace(THRESHOLD, "  score_threshold: .nan"))
    messages = []
    for _ in range(2):
        with pytest.raises(DefinitionsError) as raised:
            read_definitions(path)
        messages.append(str(raised.value))
    assert messages[0] == messages[1] and "mql.score_threshold: must be a finite number" in messages[0]
    assert parses["definitions.yml"] == 2


def test_the_contract_and_the_suites_are_read_once_per_content(tmp_path: Path, parses: Counter[str]) -> None:
    sources = tmp_path / "sources.yml"
    sources.write_text(PROJECT_SOURCES.read_text())
    suites = tmp_path / "expectations"
    shutil.copytree(PROJECT_ROOT / "expectations", suites)
    suite_files = len(list(suites.glob("*.json")))

    assert read_sources(sources) == read_sources(sources)
    assert read_suites(suites) == read_suites(suites)
    assert (parses["sources.yml"], parses["suite files"]) == (1, suite_files)

    sources.write_text(sources.read_text() + "\n")
    some_suite = sorted(suites.glob("*.json"))[0]
    some_suite.write_text(some_suite.read_text() + "\n")
    read_sources(sources)
    read_suites(suites)
    assert (parses["sources.yml"], parses["suite files"]) == (2, 2 * suite_files)


def test_the_project_files_are_read_once_for_the_code_location_and_its_preflight(
    tmp_path: Path, parses: Counter[str]
) -> None:
    """The command line runs the preflight, then loads the project: each file is parsed once between them."""
    from pipelines.warehouse.preflight import project_file_problems

    definitions, sources = copied_definitions(tmp_path), tmp_path / "sources.yml"
    sources.write_text(PROJECT_SOURCES.read_text())
    settings = Settings(
        warehouse=tmp_path / "flywheel.duckdb",
        raw_dir=tmp_path / "raw",
        models_dir=PROJECT_ROOT / "models",
        sources_file=sources,
        definitions_file=definitions,
        expectations_dir=tmp_path / "no suites",
        memory_limit="1GB",
        threads=1,
    )
    problems, _ = project_file_problems(settings)
    files = load_project_files(settings)

    assert problems == []
    assert (parses["definitions.yml"], parses["sources.yml"]) == (1, 1)
    assert files.definitions.document["mql"]["score_threshold"] == 40
    assert {table.key for table in files.sources} >= {("salesforce", "lead")}
    assert "fct_lead_funnel" in {model.name for model in files.models}
    assert files.suites == []


def test_a_run_parses_the_definitions_once_and_the_next_run_sees_an_edit(tmp_path: Path, parses: Counter[str]) -> None:
    """The definitions asset and the data-horizon resource of a run share one parse; a long-lived process (`dagster
    dev`) writes the edited threshold on the next run."""
    import dagster as dg
    import duckdb

    from pipelines.orchestration.assets import definitions_assets
    from pipelines.orchestration.resources import DefinitionsFile, Horizon, Warehouse

    path = copied_definitions(tmp_path)
    warehouse = tmp_path / "flywheel.duckdb"
    asset = definitions_assets(path)
    resources = {
        "warehouse": Warehouse(database=str(warehouse)),
        "definitions_file": DefinitionsFile(path=str(path)),
        "horizon": Horizon(
            raw_dir=str(tmp_path / "raw"), sources_file=str(PROJECT_SOURCES), definitions_file=str(path)
        ),
    }
    assert dg.materialize([asset], resources=resources).success
    assert parses["definitions.yml"] == 1

    edit_keeping_size_and_time(path, THRESHOLD, "  score_threshold: 41")
    assert dg.materialize([asset], resources=resources).success

    assert parses["definitions.yml"] == 2
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        assert connection.execute("select mql__score_threshold from definitions.thresholds").fetchall() == [(41,)]


def test_a_model_is_parsed_again_only_when_its_file_or_its_check_file_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed: list[str] = []
    load_model = project_files.load_model

    def counted_load_model(path: Path, models_dir: Path) -> Any:
        parsed.append(path.name)
        return load_model(path, models_dir)

    monkeypatch.setattr(project_files, "load_model", counted_load_model)
    monkeypatch.setattr(project_files, "_MODELS", {})
    models = tmp_path / "models"
    shutil.copytree(PROJECT_ROOT / "models", models)
    first = load_models(models, read_model)
    assert first == load_models(models) and len(parsed) == len(first)
    assert load_models(models, read_model) == first and len(parsed) == len(first)

    # A copy of the folder with one model edited and another's check file edited: only those two are parsed.
    variant = tmp_path / "variant"
    shutil.copytree(models, variant)
    funnel = variant / "marts" / "funnel" / "rpt_funnel_monthly.sql"
    funnel.write_text(funnel.read_text() + "\n-- edited\n")
    checked = next(model for model in first if model.assertions and model.name != "rpt_funnel_monthly")
    check_file = checks_path(variant / checked.path.relative_to(models))
    check_file.write_text(check_file.read_text() + "\n")
    parsed.clear()
    read = load_models(variant, read_model)
    assert sorted(parsed) == sorted(["rpt_funnel_monthly.sql", checked.path.name])
    # What the cache gives is what parsing the copy gives: the models of the copy, at their paths in it.
    assert read == load_models(variant)
    assert all(model.path.is_relative_to(variant) for model in read)
