"""The shared definitions file: validation that names the key, and the tables models read."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pipelines.settings import PROJECT_ROOT
from pipelines.shared_definitions import TABLE_DOCS, DefinitionsError, load_definitions

PROJECT_DEFINITIONS = PROJECT_ROOT / "definitions.yml"


def write_variant(tmp_path: Path, change: dict[str, object]) -> Path:
    """The project's definitions file with some keys replaced (dotted paths); None removes a key."""
    document = yaml.safe_load(PROJECT_DEFINITIONS.read_text())
    for dotted, value in change.items():
        *parents, last = dotted.split(".")
        target = document
        for part in parents:
            target = target[part]
        if value is None:
            del target[last]
        else:
            target[last] = value
    path = tmp_path / "definitions.yml"
    path.write_text(yaml.safe_dump(document))
    return path


def test_project_definitions_load() -> None:
    definitions = load_definitions(PROJECT_DEFINITIONS)
    assert definitions.channels["google cpc"] == "Paid Search"
    assert [band.name for band in definitions.segments] == ["SMB", "Mid-Market", "Enterprise"]
    tables = definitions.tables()
    # data_horizon is written from the run's as-of time (pipelines/horizon.py), not from the file alone.
    assert set(tables) == set(TABLE_DOCS) - {"data_horizon"}
    assert tables["thresholds"]["mql_score_threshold"].tolist() == [40]
    # The default channel is the row with no lead source; the unknown segment the row with no bounds.
    mapping = tables["channel_mapping"]
    assert mapping[mapping["lead_source_key"].isna()]["channel"].tolist() == ["Unattributed"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"channels.default": None}, "`channels.default` is missing"),
        ({"version": "one"}, "`version` must be a int"),
        ({"channels.lead_sources": {"seo": ""}}, "`channels.lead_sources.seo` must name a channel"),
        (
            {
                "segments.bands": [
                    {"name": "SMB", "min_employees": 1, "max_employees": 200},
                    {"name": "MM", "min_employees": 100},
                ]
            },
            "SMB and MM overlap",
        ),
        ({"segments.bands": [{"name": "SMB", "min_employees": -1}]}, r"`segments.bands\[0\].min_employees`"),
        ({"mql.score_threshold": -5}, "`mql.score_threshold` must be a number >= 0"),
        ({"mql.min_fit_score": "high"}, "`mql.min_fit_score` must be a number"),
        ({"sales_qualified_stage": "Handshake"}, "`sales_qualified_stage` must be one of `opportunity_stages`"),
        ({"rejection_reasons": ["Price", "Price"]}, "`rejection_reasons` lists a name twice"),
        ({"pql.min_active_users": 1.5}, "`pql.min_active_users` must be a whole number"),
        ({"churn_eligibility": {"month": "whenever"}}, "`churn_eligibility.month` must be one of"),
        ({"icp.max_employees": 10}, "`icp.max_employees` must be >= `icp.min_employees`"),
        ({"contracts.earliest_timestamp": "last tuesday"}, "`contracts.earliest_timestamp` must be a timestamp"),
        ({"closed_lost_reasons": [{"reason": "Price"}]}, r"`closed_lost_reasons\[0\]` needs a reason and a bucket"),
        ({"lead_scoring.intent_points": {"demo_request": "lots"}}, "`lead_scoring.intent_points.demo_request`"),
    ],
)
def test_invalid_definitions_fail_naming_the_key(tmp_path: Path, change: dict[str, object], message: str) -> None:
    with pytest.raises(DefinitionsError, match=message):
        load_definitions(write_variant(tmp_path, change))


def test_digest_follows_the_file(tmp_path: Path) -> None:
    changed = write_variant(tmp_path, {"channels.lead_sources": {"seo": "Organic", "trade fair": "Events"}})
    assert load_definitions(changed).digest != load_definitions(PROJECT_DEFINITIONS).digest


def test_hostile_definition_values_are_stored_as_data_never_run_as_sql(tmp_path: Path) -> None:
    import duckdb

    from pipelines.shared_definitions import write_definitions

    hostile = "x'); drop table definitions.segments; --"
    path = write_variant(tmp_path, {"channels.default": hostile, "rejection_reasons": [hostile, "Price"]})
    with duckdb.connect() as connection:
        write_definitions(connection, load_definitions(path))
        default = connection.execute(
            "select channel from definitions.channel_mapping where lead_source_key is null"
        ).fetchone()
        segments = connection.execute("select count(*) from definitions.segments").fetchone()
        reasons = connection.execute("select rejection_reason from definitions.rejection_reasons").fetchall()
    assert default == (hostile,)
    assert segments is not None and segments[0] > 0
    assert (hostile,) in reasons
