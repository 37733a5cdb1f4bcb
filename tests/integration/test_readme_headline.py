"""The README's headline numbers are what a build of the demo seeds shows, for the KPI report's month."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from pipelines.cli import RunSummary
from pipelines.docs.headline import END, README_FILE, START, headline_block, render_readme
from pipelines.docs.report import latest_complete_month
from pipelines.spec.settings import Settings


@pytest.fixture(scope="module")
def demo_block(demo_build: tuple[Settings, RunSummary]) -> tuple[str, date]:
    settings, _ = demo_build
    with duckdb.connect(str(settings.warehouse), read_only=True) as connection:
        return headline_block(connection), latest_complete_month(connection)


def test_readme_headline_numbers_match_the_demo_build(demo_block: tuple[str, date]) -> None:
    readme = README_FILE.read_text()
    block, _ = demo_block
    assert render_readme(readme, block) == readme, "run `make run` then `make markdown-docs` to regenerate them"


def test_headline_month_is_the_kpi_reports_month(demo_block: tuple[str, date]) -> None:
    block, month = demo_block
    assert f"in {month:%B %Y}" in block
    assert START in README_FILE.read_text() and END in README_FILE.read_text()
