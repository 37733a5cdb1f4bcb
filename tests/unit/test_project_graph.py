"""The asset graph refuses models that read what they may not, before anything runs."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import dagster as dg
import pytest

from pipelines.orchestration.project import partition_range_tags, validate_graph
from pipelines.spec.models import ModelError, TableRef, load_models
from pipelines.spec.partitions import DayRange
from pipelines.spec.settings import Settings
from pipelines.spec.sources import load_sources
from pipelines.warehouse.shared_definitions import TABLE_DOCS

SETTINGS = Settings.from_env()


def _with_upstream(name: str, upstream: TableRef) -> tuple[list, list]:
    models = load_models(SETTINGS.models_dir)
    changed = [
        dataclasses.replace(model, upstream=(*model.upstream, upstream)) if model.name == name else model
        for model in models
    ]
    return changed, load_sources(SETTINGS.sources_file)


def test_project_graph_is_valid() -> None:
    validate_graph(load_models(SETTINGS.models_dir), load_sources(SETTINGS.sources_file), set(TABLE_DOCS))


@pytest.mark.parametrize(
    ("model_name", "upstream", "message"),
    [
        (
            "stg_salesforce__leads",
            TableRef("staging", "stg_salesforce__accounts"),
            "staging model may not read staging",
        ),
        ("rpt_funnel_monthly", TableRef("salesforce", "lead"), "marts model may not read raw"),
        ("int_leads_classified", TableRef("marts", "rpt_funnel_monthly"), "intermediate model may not read marts"),
        ("rpt_funnel_monthly", TableRef("staging", "stg_nothing"), "which no source contract, definition or model"),
    ],
)
def test_forbidden_reads_are_named(model_name: str, upstream: TableRef, message: str) -> None:
    models, sources = _with_upstream(model_name, upstream)
    with pytest.raises(ModelError, match=message) as error:
        validate_graph(models, sources, set(TABLE_DOCS))
    assert Path(str(error.value).split(":")[0]).name == f"{model_name}.sql"


def test_a_refresh_rebuilds_the_events_and_what_reads_the_data_horizon() -> None:
    """New days move the as-of time, so a refresh also rewrites the data horizon and rebuilds the marts reading it."""
    import dagster as dg

    from pipelines.cli import refresh_selection
    from pipelines.orchestration.project import build_definitions

    settings = Settings.from_env()
    graph = build_definitions(settings).resolve_asset_graph()
    selected = dg.AssetSelection.from_coercible(refresh_selection(settings)).downstream().resolve(graph)
    names = {key.to_user_string() for key in selected}
    assert {"product/events", "definitions/data_horizon", "marts/fct_mrr_customer_months"} <= names
    assert "salesforce/lead" not in names and "definitions/thresholds" not in names


def test_partition_range_tags_give_dagster_the_range_of_days() -> None:
    # The tag names are written out (Dagster exports no public name for them): Dagster must read them back as a range.
    days = DayRange.parse("2026-01-02", "2026-01-05")
    request = dg.RunRequest(tags=partition_range_tags(days))
    assert request.partition_key_range == dg.PartitionKeyRange("2026-01-02", "2026-01-05")
