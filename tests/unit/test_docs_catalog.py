"""The docs catalog: generated from the project files, complete, deterministic and escaped."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from markupsafe import escape

from pipelines.docs.catalog_search import KINDS
from pipelines.docs.html_catalog import generate
from pipelines.spec.models import load_models
from pipelines.spec.settings import PROJECT_ROOT
from pipelines.warehouse.suites import load_suites

MODELS_DIR = PROJECT_ROOT / "models"
SOURCES_FILE = MODELS_DIR / "sources.yml"
DEFINITIONS_FILE = PROJECT_ROOT / "definitions.yml"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"
SCRIPTS = ("search-index.js", "catalog.js", "lineage-data.js")  # what the catalog's pages load, all written beside them


def _generate(out: Path, models_dir: Path = MODELS_DIR, expectations_dir: Path = EXPECTATIONS_DIR) -> list[Path]:
    return generate(out, models_dir, SOURCES_FILE, DEFINITIONS_FILE, expectations_dir)


@pytest.fixture(scope="module")
def catalog_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("catalog")
    _generate(out)
    return out


def _row(page: str, anchor_id: str) -> str:
    """The table row holding the element with `id="<anchor_id>"`."""
    match = re.search(rf'<tr><td><code id="{re.escape(anchor_id)}">.*?</tr>', page, re.DOTALL)
    assert match is not None, f"no row {anchor_id}"
    return match.group(0)


def test_index_lists_every_model_with_a_page(catalog_dir: Path) -> None:
    index = (catalog_dir / "index.html").read_text()
    models = load_models(MODELS_DIR)
    assert len(models) > 40
    for model in models:
        page = f"models/{model.schema}.{model.name}.html"
        assert f'href="{page}"' in index
        assert (catalog_dir / page).is_file()
    assert 'href="sources.html"' in index
    assert 'href="definitions.html"' in index


def test_mart_page_shows_header_columns_dependencies_checks_and_lineage(catalog_dir: Path) -> None:
    page = (catalog_dir / "models" / "marts.rpt_funnel_monthly.html").read_text()
    # Grain and owner from the header.
    assert "one row per <code>funnel_month</code>, <code>channel</code>, <code>segment</code>" in page
    assert "<th>Owner</th><td>team:revops</td>" in page
    # A KPI with its formula, and a column with its comment.
    kpi = _row(page, "kpi-leads_converted_count")
    assert "count of converted leads whose converted_date falls in the month" in kpi
    assert "team:sales" in kpi
    assert "channel from the shared mapping" in _row(page, "column-channel")
    # Upstream models link to their pages.
    assert 'href="../models/intermediate.int_leads_classified.html"' in page
    # Checks: the grain checks and the checks of the check file.
    for check in ("grain_is_unique", "grain_is_not_null", "assert_won_amount_matches_won_opportunities"):
        assert f'id="check-{check}"' in page
    assert "check file (rpt_funnel_monthly.checks.sql)" in page
    # Column lineage: directly from the intermediate model, and back to the definitions table it originates in.
    channel = _row(page, "column-channel")
    assert "<code>intermediate.int_leads_classified.channel</code>" in channel
    assert "<code>definitions.channel_mapping.channel</code>" in channel
    # Definitions applied upstream are listed.
    assert 'href="../definitions.html#definitions.channel_mapping"' in page


def test_downstream_models_suites_and_row_accounting_are_shown(catalog_dir: Path) -> None:
    fact = (catalog_dir / "models" / "marts.fct_lead_funnel.html").read_text()
    downstream = fact.split("Read by (downstream)", 1)[1].split('<h2 id="checks">', 1)[0]
    assert 'href="../models/marts.rpt_funnel_cohorts_monthly.html"' in downstream
    lifecycle = (catalog_dir / "models" / "intermediate.int_leads_lifecycle.html").read_text()
    assert 'id="check-lead_lifecycle_definitions"' in lifecycle  # a Great Expectations suite naming the model
    staging = (catalog_dir / "models" / "staging.stg_salesforce__leads.html").read_text()
    assert 'id="check-assert_every_raw_row_is_accounted_for"' in staging
    assert "<code>salesforce.lead.id</code>" in _row(staging, "column-lead_id")


def test_model_page_lists_its_suites_with_each_expectation_and_its_meaning(catalog_dir: Path) -> None:
    suites = [suite for suite in load_suites(EXPECTATIONS_DIR) if suite.model == "intermediate.int_leads_lifecycle"]
    assert suites
    page = (catalog_dir / "models" / "intermediate.int_leads_lifecycle.html").read_text()
    for suite in suites:
        check = page.split(f'<code id="check-{suite.name}">', 1)[1].split("</details>", 1)[0]
        assert f"<code>expectations/{suite.path.name}</code>" in check  # the suite's file
        assert f"{len(suite.expectations)} expectations" in check
        for expectation in suite.expectations:
            # each expectation: its type and the plain-language sentence saying what it checks
            assert f"<tr><td><code>{expectation['type']}</code></td><td>{escape(expectation['description'])}</td>" in (
                check
            )


def test_sources_and_definitions_pages(catalog_dir: Path) -> None:
    sources = (catalog_dir / "sources.html").read_text()
    assert 'id="salesforce.lead"' in sources
    assert "<code>primary_key_is_null</code>" in sources
    assert "<code>spend_is_negative</code>" in sources  # a table's own quarantine rule from the contract
    definitions = (catalog_dir / "definitions.html").read_text()
    assert 'id="definitions.thresholds"' in definitions
    assert "<code>mql__score_threshold</code>" in definitions
    assert "<code>channels.lead_sources</code>" in definitions  # the key of definitions.yml, from the registry


def test_generating_twice_gives_identical_bytes(catalog_dir: Path, tmp_path: Path) -> None:
    again = _generate(tmp_path / "again")
    first = sorted(path.relative_to(catalog_dir).as_posix() for path in catalog_dir.rglob("*") if path.is_file())
    assert {"lineage.html", "lineage-data.js", "search-index.js", "catalog.js"} <= set(first)
    second = sorted(path.relative_to(tmp_path / "again").as_posix() for path in again)
    assert first == second
    for relative in first:
        assert (catalog_dir / relative).read_bytes() == (tmp_path / "again" / relative).read_bytes(), relative


def test_header_text_is_escaped(tmp_path: Path) -> None:
    models_dir = tmp_path / "models"
    (models_dir / "intermediate" / "crm").mkdir(parents=True)
    shutil.copy(SOURCES_FILE, models_dir / "sources.yml")
    (models_dir / "intermediate" / "crm" / "int_channels_listed.sql").write_text(
        """/*
name: int_channels_listed
description: "Channels <script>alert('x')</script> & more"
grain: [channel]
owner: team:revops
*/
with

mapping as (select * from definitions.channel_mapping),

final as (
    select distinct
        mapping.channel  -- the channel <b>bold</b>
    from mapping
)

select * from final
"""
    )
    _generate(tmp_path / "out", models_dir=models_dir, expectations_dir=tmp_path / "no_expectations")
    pages = [path.read_text() for path in sorted((tmp_path / "out").rglob("*.html"))]
    assert pages
    assert not any("<script>alert" in page for page in pages)
    # the only scripts are the catalog's own files, loaded by name
    tags = {tag for page in pages for tag in re.findall(r"<script[^>]*>", page)}
    assert {re.sub(r'src="(\.\./)*', 'src="', tag) for tag in tags} == {f'<script src="{name}">' for name in SCRIPTS}
    assert not any("<b>bold</b>" in page for page in pages)
    page = (tmp_path / "out" / "models" / "intermediate.int_channels_listed.html").read_text()
    assert "Channels &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; more" in page
    assert "the channel &lt;b&gt;bold&lt;/b&gt;" in page
    assert "<code>definitions.channel_mapping.channel</code>" in _row(page, "column-channel")


# --- The lineage graph and the search ---------------------------------------------------------------------------------


def _script_data(path: Path, variable: str) -> Any:
    """The data a catalog script sets as `window.<variable>`."""
    prefix = f"window.{variable} = "
    text = path.read_text()
    assert text.startswith(prefix) and text.endswith(";\n")
    return json.loads(text[len(prefix) : -2])


def _upstream(edges: list[list[str]], column: str) -> dict[str, str]:
    """Every column `column` is computed from, through any number of models, with how its last step derives it."""
    found: dict[str, str] = {}
    stack = [column]
    while stack:
        target = stack.pop()
        for source, to, how in edges:
            if to == target and source not in found:
                found[source] = how
                stack.append(source)
    return found


def test_graph_data_traces_a_mart_column_to_its_raw_column_with_how_each_step_derives_it(catalog_dir: Path) -> None:
    graph = _script_data(catalog_dir / "lineage-data.js", "FLYWHEEL_LINEAGE")
    edges = graph["edges"]
    # Each step of marts.fct_lead_funnel.lead_id back to the CRM's lead id, and how it is derived.
    assert ["salesforce.lead.id", "staging.stg_salesforce__leads.lead_id", "direct"] in edges
    assert ["intermediate.int_leads_lifecycle.lead_id", "marts.fct_lead_funnel.lead_id", "direct"] in edges
    assert "salesforce.lead.id" in _upstream(edges, "marts.fct_lead_funnel.lead_id")
    # A mart's amount is aggregated from an intermediate column; a channel is derived from the shared mapping.
    assert [
        "intermediate.int_opportunities_classified.amount_usd",
        "marts.rpt_funnel_monthly.won_amount_usd",
        "aggregated",
    ] in edges
    assert ["definitions.channel_mapping.channel", "intermediate.int_leads_classified.channel", "derived"] in edges
    assert "definitions.channel_mapping.channel" in _upstream(edges, "marts.rpt_funnel_monthly.channel")
    # Every end of an edge is a column of a table the graph knows, with its layer and page.
    tables = graph["tables"]
    for edge in edges:
        for end in edge[:2]:
            schema, table, column = end.split(".", 2)
            assert column in tables[f"{schema}.{table}"]["columns"], end
    assert tables["marts.rpt_funnel_monthly"]["layer"] == "marts"
    assert tables["marts.rpt_funnel_monthly"]["href"] == "models/marts.rpt_funnel_monthly.html"
    assert tables["salesforce.lead"]["layer"] == "raw"
    assert {edge[2] for edge in edges} == {"direct", "derived", "aggregated"}


def _anchors(catalog_dir: Path, page: str, cache: dict[str, set[str]]) -> set[str]:
    if page not in cache:
        cache[page] = set(re.findall(r'id="([^"]+)"', (catalog_dir / page).read_text()))
    return cache[page]


def test_search_index_finds_models_columns_kpis_and_definitions_on_their_pages(catalog_dir: Path) -> None:
    entries = _script_data(catalog_dir / "search-index.js", "FLYWHEEL_SEARCH")
    by_kind: dict[str, set[str]] = {}
    for entry in entries:
        by_kind.setdefault(entry["kind"], set()).add(entry["name"])
    assert "marts.rpt_funnel_monthly" in by_kind["model"]
    assert "marts.rpt_funnel_monthly.channel" in by_kind["column"]
    assert "salesforce.lead.id" in by_kind["column"]  # raw columns too
    assert "leads_converted_count" in by_kind["kpi"]
    assert "mql__score_threshold" in by_kind["definition"]
    assert {"salesforce.lead", "definitions.thresholds"} <= by_kind["table"]
    # Every entry links to a page of the catalog, at an anchor the page has; columns and tables open the graph.
    anchors: dict[str, set[str]] = {}
    for entry in entries:
        page, _, anchor = entry["href"].partition("#")
        assert not anchor or anchor in _anchors(catalog_dir, page, anchors), entry["href"]
        if entry["kind"] in ("column", "table"):
            assert entry["graph"].startswith("lineage.html#"), entry
    channel = next(entry for entry in entries if entry["name"] == "marts.rpt_funnel_monthly.channel")
    assert channel["href"] == "models/marts.rpt_funnel_monthly.html#column-channel"
    assert channel["graph"] == "lineage.html#column=marts.rpt_funnel_monthly.channel"
    assert entries == sorted(entries, key=lambda entry: (KINDS.index(entry["kind"]), entry["name"], entry["href"]))


def test_every_page_has_the_search_box_and_model_pages_open_the_graph_on_their_columns(catalog_dir: Path) -> None:
    for page in sorted(catalog_dir.rglob("*.html")):
        text = page.read_text()
        up = "../" * (len(page.relative_to(catalog_dir).parts) - 1)
        assert '<input type="search" id="search" name="q"' in text, page
        assert f'<script src="{up}search-index.js"></script>' in text, page
        assert f'<script src="{up}catalog.js"></script>' in text, page
        assert f'<body data-root="{up}">' in text, page
    model = (catalog_dir / "models" / "marts.rpt_funnel_monthly.html").read_text()
    assert 'href="../lineage.html#column=marts.rpt_funnel_monthly.channel">graph</a>' in _row(model, "column-channel")
    assert 'href="../lineage.html#table=marts.rpt_funnel_monthly"' in model
    assert 'href="lineage.html#table=salesforce.lead"' in (catalog_dir / "sources.html").read_text()
    graph_page = (catalog_dir / "lineage.html").read_text()
    assert '<script src="lineage-data.js"></script>' in graph_page
    assert 'id="lineage-graph"' in graph_page


def test_the_script_reads_the_view_from_the_url_and_writes_data_only_as_text(catalog_dir: Path) -> None:
    script = (catalog_dir / "catalog.js").read_text()
    for parameter in ("q", "column", "table", "depth", "direction"):
        assert f'"{parameter}"' in script
    assert "window.location.search" in script and "window.location.hash" in script
    assert "innerHTML" not in script and "insertAdjacentHTML" not in script and "eval(" not in script
    assert "http" not in script.replace("http://www.w3.org/2000/svg", "")  # nothing fetched
