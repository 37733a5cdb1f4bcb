"""The column lineage a model's materialization carries as a Markdown table, which the open-source Dagster UI shows."""

from __future__ import annotations

import pytest

from pipelines.orchestration import model_steps
from pipelines.orchestration.model_steps import LINEAGE_TABLE_KEY, lineage_metadata, lineage_table
from pipelines.spec.lineage import ClassifiedLineage, Schema
from pipelines.spec.models import Model, load_models
from pipelines.spec.settings import Settings
from pipelines.spec.sources import load_sources

HEADER = ["| column | upstream (asset.column) | how |", "|---|---|---|"]


def _rows(markdown: str) -> list[str]:
    """The table's rows after its header, and any line after the table."""
    lines = markdown.splitlines()
    return lines[lines.index(HEADER[0]) + 2 :]


def test_one_row_per_upstream_column_and_a_row_for_a_column_without_any() -> None:
    lineage: ClassifiedLineage = {
        "lead_month": {("staging", "stg_leads", "created_at"): "derived"},
        "lead_count": {},
        "label": {("staging", "stg_leads", "lead_id"): "aggregated", ("staging", "stg_accounts", "segment"): "direct"},
    }
    assert _rows(lineage_table(lineage)) == [
        "| lead_month | staging.stg_leads.created_at | derived |",
        "| lead_count | none | no upstream column (a literal, `count(*)`) |",
        "| label | staging.stg_accounts.segment | direct |",
        "| label | staging.stg_leads.lead_id | aggregated |",
    ]


def test_a_wide_model_is_cut_and_says_how_many_rows_are_left_out() -> None:
    lineage: ClassifiedLineage = {
        f"column_{index}": {("raw", "wide", f"column_{index}"): "direct"} for index in range(7)
    }
    rows = _rows(lineage_table(lineage, max_rows=5))
    assert rows[:5] == [f"| column_{index} | raw.wide.column_{index} | direct |" for index in range(5)]
    assert rows[5:] == ["", "... 2 more rows"]


def _ad_spend_days() -> tuple[Model, Schema]:
    """stg_marketing__ad_spend_days and the schema of the raw table it reads, with the columns of its contract."""
    settings = Settings.from_env()
    model = next(model for model in load_models(settings.models_dir) if model.name == "stg_marketing__ad_spend_days")
    raw = next(table for table in load_sources(settings.sources_file) if table.key == ("marketing", "ad_spend"))
    return model, {"marketing": {"ad_spend": {column.name: column.type for column in raw.columns}}}


def test_a_project_model_carries_its_lineage_table_as_markdown() -> None:
    """stg_marketing__ad_spend_days, read by hand: it casts and renames each raw column, upper-cases the currency
    and turns missing counts into 0; the raw table has the columns of its contract."""
    model, upstream = _ad_spend_days()
    metadata = lineage_metadata(model, [column.name for column in model.columns], upstream)
    assert _rows(metadata[LINEAGE_TABLE_KEY].value) == [
        "| spend_date | marketing.ad_spend.date | direct |",
        "| platform | marketing.ad_spend.platform | direct |",
        "| campaign_id | marketing.ad_spend.campaign_id | direct |",
        "| campaign_name | marketing.ad_spend.campaign_name | direct |",
        "| utm_source | marketing.ad_spend.utm_source | direct |",
        "| utm_medium | marketing.ad_spend.utm_medium | direct |",
        "| utm_campaign | marketing.ad_spend.utm_campaign | direct |",
        "| spend_amount | marketing.ad_spend.spend | direct |",
        "| currency | marketing.ad_spend.currency | derived |",
        "| impressions_count | marketing.ad_spend.impressions | derived |",
        "| clicks_count | marketing.ad_spend.clicks | derived |",
    ]
    assert "dagster/column_lineage" in metadata


def test_the_lineage_of_the_same_sql_over_the_same_upstream_columns_is_worked_out_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    model, upstream = _ad_spend_days()
    passes: list[str] = []

    def counted(sql: str, columns: list[str], schema: Schema) -> ClassifiedLineage:
        passes.append(sql)
        return {column: {} for column in columns}

    monkeypatch.setattr(model_steps, "classified_lineage", counted)
    model_steps.known_lineage.cache_clear()
    try:
        columns = [column.name for column in model.columns]
        first = lineage_metadata(model, columns, upstream)
        assert lineage_metadata(model, columns, upstream) == first
        assert len(passes) == 1
        # A changed upstream column (another type) or another set of output columns is worked out again.
        retyped: Schema = {"marketing": {"ad_spend": {**upstream["marketing"]["ad_spend"], "spend": "DOUBLE"}}}
        lineage_metadata(model, columns, retyped)
        lineage_metadata(model, columns[:3], upstream)
        assert len(passes) == 3
    finally:
        model_steps.known_lineage.cache_clear()  # the counted results must not reach a later build
