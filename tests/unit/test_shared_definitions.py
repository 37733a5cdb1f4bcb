"""The shared definitions file: validation that names the key, and the tables models read."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pipelines.spec.settings import PROJECT_ROOT
from pipelines.warehouse.shared_definitions import TABLE_DOCS, DefinitionsError, load_definitions

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
    # data_horizon is written from the run's as-of time (pipelines/warehouse/horizon.py), not from the file alone.
    assert set(tables) == set(TABLE_DOCS) - {"data_horizon"}
    assert tables["thresholds"]["mql__score_threshold"].tolist() == [40]
    # The minimum base of each ratio family, as models read it.
    minimums = tables["thresholds"][["minimum_bases__customers", "minimum_bases__mrr_usd", "minimum_bases__leads"]]
    assert minimums.iloc[0].tolist() == [5, 1000, 10]
    # The default channel is the row with no lead source; the unknown segment the row with no bounds.
    mapping = tables["channel_mapping"]
    assert mapping[mapping["lead_source_key"].isna()]["channel"].tolist() == ["Unattributed"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"channels.default": None}, "channels.default: missing"),
        ({"version": "one"}, "version: must be a whole number, not the text 'one'"),
        ({"channels.lead_sources": {"seo": ""}}, "channels.lead_sources.seo: must not be empty"),
        (
            {
                "segments.bands": [
                    {"name": "SMB", "min_employees": 1, "max_employees": 200},
                    {"name": "MM", "min_employees": 100},
                ]
            },
            "SMB and MM overlap",
        ),
        (
            {"segments.bands": [{"name": "SMB", "min_employees": -1}]},
            r"segments.bands\[0\].min_employees: must be >= 0, not -1",
        ),
        ({"mql.score_threshold": -5}, "mql.score_threshold: must be > 0, not -5"),
        ({"mql.min_fit_score": "high"}, "mql.min_fit_score: must be a number, not the text 'high'"),
        ({"sales_qualified_stage": "Handshake"}, "sales_qualified_stage: must be one of opportunity_stages"),
        ({"rejection_reasons": ["Price", "Price"]}, r"rejection_reasons\[1\]: lists 'Price' twice"),
        ({"pql.min_active_users": 1.5}, "pql.min_active_users: must be a whole number, not 1.5"),
        ({"churn_eligibility": {"month": "whenever"}}, "churn_eligibility.month: must be one of"),
        ({"minimum_bases.customers": -1}, "minimum_bases.customers: must be >= 0, not -1"),
        ({"minimum_bases.leads": 2.5}, "minimum_bases.leads: must be a whole number, not 2.5"),
        ({"minimum_bases.mrr_usd": None}, "minimum_bases.mrr_usd: missing"),
        ({"minimum_bases.deals": 5}, "minimum_bases.deals"),
        ({"icp.max_employees": 10}, "icp.max_employees: must be >= icp.min_employees"),
        ({"contracts.earliest_timestamp": "last tuesday"}, "contracts.earliest_timestamp: must be a timestamp"),
        ({"closed_lost_reasons": [{"reason": "Price"}]}, r"closed_lost_reasons\[0\].bucket: missing"),
        ({"fx.rate_rule": "month_end"}, "fx.rate_rule: must be one of"),
        ({"fx.budget_rates": {"EUR": 0}}, "fx.budget_rates.EUR: must be > 0"),
        ({"fx.budget_rates": {"USD": 1.0}}, "fx.budget_rates.USD: is the reporting currency"),
        ({"fx.budget_rates": {"eur": 1.1}}, "must be a three-letter ISO currency code"),
        (
            {"lead_scoring.intent_points": {"demo_request": "lots"}},
            "lead_scoring.intent_points.demo_request: must be a number",
        ),
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

    from pipelines.warehouse.shared_definitions import write_definitions

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


def write_edited(tmp_path: Path, old: str, new: str) -> tuple[Path, str]:
    """The project's definitions file with one piece of its text replaced, so every line number is a real one."""
    text = PROJECT_DEFINITIONS.read_text()
    assert text.count(old) == 1, f"{old!r} is not once in definitions.yml"
    edited = text.replace(old, new)
    path = tmp_path / "definitions.yml"
    path.write_text(edited)
    return path, edited


def line_of(text: str, fragment: str, occurrence: int = 1) -> int:
    """The 1-based line where the n-th occurrence of `fragment` starts."""
    position = -1
    for _ in range(occurrence):
        position = text.index(fragment, position + 1)
    return text.count("\n", 0, position) + 1


MQL_BLOCK = "mql:\n  score_threshold: 40\n  min_fit_score: 20\n"


@pytest.mark.parametrize(
    ("old", "new", "key", "message"),
    [
        (
            "  score_threshold: 40",
            "  score_treshold: 40",
            "mql.score_treshold",
            "unknown key (did you mean score_threshold?)",
        ),
        (
            "  score_threshold: 40",
            "  score_threshold: .nan",
            "mql.score_threshold",
            "must be a finite number, not .nan",
        ),
        (
            "  gross_margin: 0.8",
            "  gross_margin: .inf",
            "unit_economics.gross_margin",
            "must be a finite number, not .inf",
        ),
        (
            "  half_life_days: 30",
            "  half_life_days: -.inf",
            "lead_scoring.half_life_days",
            "must be a finite number, not -.inf",
        ),
        (
            "  score_threshold: 40",
            '  score_threshold: "40"',
            "mql.score_threshold",
            "must be a number, not the text '40' (remove the quotes)",
        ),
        ("  min_fit_score: 20", "  min_fit_score: true", "mql.min_fit_score", "must be a number, not true"),
        ("  min_active_users: 2", "  min_active_users: 2.0", "pql.min_active_users", "must be a whole number, not 2"),
        ("  sla_minutes: 60", "  sla_minutes: -60", "speed_to_lead.sla_minutes", "must be >= 1, not -60"),
        (
            "  min_fit_score: 20",
            "  min_fit_score: 51",
            "mql.min_fit_score",
            "must be <= 50, the most fit points a lead can get",
        ),
        (
            "{name: Mid-Market, min_employees: 100,",
            "{name: Mid-Market, min_employees: 90,",
            "segments.bands[1].min_employees",
            "SMB and Mid-Market overlap: SMB runs to 99, Mid-Market starts at 90 employees",
        ),
        (
            "  max_row_drop_share: 0.5",
            "  max_row_drop_share: 1.5",
            "volume_guard.max_row_drop_share",
            "must be <= 1, not 1.5",
        ),
        (
            "Upsell, Upgrade",
            "Upsell, new LOGO , Upgrade",
            "opportunity_types.types[1].labels[2]",
            "the label 'new LOGO' is already a label of New Business (types[0].labels[3]",
        ),
        (
            "  new_business_type: New Business",
            "  new_business_type: New Logo",
            "opportunity_types.new_business_type",
            "must be the name of one of opportunity_types.types (New Business, Expansion, Renewal), not 'New Logo'",
        ),
        (
            '  earliest: "2000-01-01"',
            '  earliest: "2000-13-01"',
            "data_horizon.earliest",
            "must be a date written YYYY-MM-DD",
        ),
        ('  earliest: "2000-01-01"', "  earliest: 2000-01-01", "data_horizon.earliest", "put it in quotes"),
        ("  redacted_label: (redacted)", '  redacted_label: " "', "personal_data.redacted_label", "must not be empty"),
        ("  currency: USD", "  currency: usd", "reporting.currency", "three-letter ISO currency code in capitals"),
        ("  time_zone: UTC", "  time_zone: America/Gotham", "reporting.time_zone", "IANA time zone name"),
        ("won_stage: Closed Won", "won_stage: Won", "won_stage", "must be one of opportunity_stages"),
        # Rules across keys: definitions that are each valid but cannot work together.
        ("lost_stage: Closed Lost", "lost_stage: Closed Won", "lost_stage", "must differ from won_stage"),
        ("sales_qualified_stage: Discovery", "sales_qualified_stage: Closed Lost", "sales_qualified_stage", "lost"),
        ("volume_guard:", "volume_gaurd:", "volume_gaurd", "unknown key (did you mean volume_guard?)"),
        ("version: 1", "version: 0", "version", "must be >= 1, not 0"),
        ("  late_arrival_days: 3", "  late_arrival_days: 1.5", "product_events.late_arrival_days", "whole number"),
        ("  trial_window_days: 14", "  trial_window_days: 14.5", "pql.trial_window_days", "whole number, not 14.5"),
        ("  gross_margin: 0.8", "  gross_margin: 1.2", "unit_economics.gross_margin", "must be <= 1, not 1.2"),
        ("    adwords: Paid Search", "    Google CPC: Paid Search", "channels.lead_sources.Google CPC", "google cpc"),
        ("    demo_request: 40", "    email_click: 40", "lead_scoring.intent_points.email_click", "behaviour_points"),
        ("  unknown_segment: Unknown", "  unknown_segment: SMB", "segments.unknown_segment", "name of a band"),
        (
            "{name: Enterprise, min_employees: 1000",
            "{name: SMB, min_employees: 1000",
            "segments.bands[2].name",
            "'SMB' names two bands",
        ),
        ("max_employees: 999}", "max_employees: 50}", "segments.bands[1].max_employees", ">= min_employees (100)"),
        (
            "product_sourced_channels: [Product Sign-up]",
            "product_sourced_channels: [Product Sign-up, Outbound]",
            "product_sourced_channels[1]",
            "'Outbound' is also a sales-sourced channel",
        ),
        (
            "unspecified_rejection_reason: Unspecified",
            "unspecified_rejection_reason: Timing",
            "unspecified_rejection_reason",
            "must not be one of rejection_reasons",
        ),
        (
            "  - {reason: Poor Fit, bucket: Targeting}",
            "  - {reason: Price, bucket: Targeting}",
            "closed_lost_reasons[6].reason",
            "lists 'Price' twice",
        ),
        (
            "unspecified_closed_lost_reason: Unspecified",
            "unspecified_closed_lost_reason: Price",
            "unspecified_closed_lost_reason",
            "must not be one of closed_lost_reasons",
        ),
        (
            "excluded_subscription_statuses: [incomplete, incomplete_expired]",
            "excluded_subscription_statuses: [incomplete, expired]",
            "mrr.excluded_subscription_statuses[1]",
            "'expired' is not a Stripe subscription status",
        ),
        ("  year: term_end_month", "  yearly: term_end_month", "churn_eligibility.yearly", "not a billing interval"),
        (
            'latest_timestamp: "2100-01-01 00:00:00"',
            'latest_timestamp: "1999-01-01 00:00:00"',
            "contracts.latest_timestamp",
            "must be after earliest_timestamp",
        ),
        (
            "{name: Renewal, labels: [Renewal",
            "{name: Expansion, labels: [Renewal",
            "opportunity_types.types[2].name",
            "'Expansion' names two types",
        ),
        (
            "segment_min_arr_usd: {SMB: 0,",
            "segment_min_arr_usd: {Small: 0,",
            "reconciliation.segment_min_arr_usd.Small",
            "is not a segment of segments.bands",
        ),
        (
            "segment_min_arr_usd: {SMB: 0,",
            "segment_min_arr_usd: {SMB: 100,",
            "reconciliation.segment_min_arr_usd",
            "one segment must start at 0",
        ),
        (
            "Mid-Market: 20000, Enterprise: 100000}",
            "Mid-Market: 100000, Enterprise: 100000}",
            "reconciliation.segment_min_arr_usd.Enterprise",
            "starts at 100000 like Mid-Market",
        ),
    ],
)
def test_each_fault_names_the_key_and_its_line(tmp_path: Path, old: str, new: str, key: str, message: str) -> None:
    path, edited = write_edited(tmp_path, old, new)
    with pytest.raises(DefinitionsError) as raised:
        load_definitions(path)
    [reported] = str(raised.value).splitlines()
    assert reported.startswith(f"{path}:{line_of(edited, new)}: {key}: ")
    assert message in reported


def test_a_duplicated_block_names_both_lines(tmp_path: Path) -> None:
    path, edited = write_edited(tmp_path, MQL_BLOCK, f"{MQL_BLOCK}\n{MQL_BLOCK}")
    with pytest.raises(DefinitionsError) as raised:
        load_definitions(path)
    first, second = line_of(edited, MQL_BLOCK), line_of(edited, MQL_BLOCK, occurrence=2)
    assert str(raised.value) == (
        f"{path}:{second}: mql: duplicate key (first at line {first}); YAML would silently keep only the last one: "
        "merge the two into one"
    )


def test_a_duplicated_nested_key_is_caught_too(tmp_path: Path) -> None:
    path, edited = write_edited(tmp_path, "    seo: Organic\n", "    seo: Organic\n    seo: Paid Search\n")
    with pytest.raises(DefinitionsError, match=rf":{line_of(edited, '    seo: Paid')}: channels.lead_sources.seo: dup"):
        load_definitions(path)


def test_several_faults_are_reported_together_in_file_order(tmp_path: Path) -> None:
    text = PROJECT_DEFINITIONS.read_text()
    edited = text.replace("  sla_minutes: 60", "  sla_minutes: 0").replace(
        "  score_threshold: 40", "  score_threshold: x"
    )
    path = tmp_path / "definitions.yml"
    path.write_text(edited)
    with pytest.raises(DefinitionsError) as raised:
        load_definitions(path)
    assert str(raised.value).splitlines() == [
        f"{path}:{line_of(edited, '  score_threshold: x')}: mql.score_threshold: must be a number, not the text 'x'",
        f"{path}:{line_of(edited, '  sla_minutes: 0')}: speed_to_lead.sla_minutes: must be >= 1, not 0",
    ]


def test_a_threshold_no_lead_can_reach_is_refused_when_engagements_score_nothing(tmp_path: Path) -> None:
    """The score is uncapped while an engagement type scores points; without any, it is the fit score alone."""
    reachable = write_variant(tmp_path, {"mql.score_threshold": 500})
    assert load_definitions(reachable).thresholds["mql__score_threshold"] == 500
    unreachable = write_variant(
        tmp_path,
        {"mql.score_threshold": 51, "lead_scoring.behaviour_points": {}, "lead_scoring.intent_points": {"demo": 0}},
    )
    with pytest.raises(DefinitionsError, match=r"mql\.score_threshold: must be <= 50: no engagement type scores"):
        load_definitions(unreachable)


def test_a_bad_file_writes_nothing(tmp_path: Path) -> None:
    """The definitions asset fails before it writes: the tables in force stay those of the last good file."""
    import dagster as dg
    import duckdb

    from pipelines.orchestration.assets import definitions_assets
    from pipelines.orchestration.resources import DefinitionsFile, Horizon, Warehouse

    definitions_file = tmp_path / "definitions.yml"
    definitions_file.write_text(PROJECT_DEFINITIONS.read_text())
    warehouse = tmp_path / "flywheel.duckdb"
    asset = definitions_assets(definitions_file)
    resources = {
        "warehouse": Warehouse(database=str(warehouse)),
        "definitions_file": DefinitionsFile(path=str(definitions_file)),
        "horizon": Horizon(
            raw_dir=str(tmp_path / "raw"),
            sources_file=str(PROJECT_ROOT / "models" / "sources.yml"),
            definitions_file=str(definitions_file),
        ),
    }
    assert dg.materialize([asset], resources=resources).success

    definitions_file.write_text(
        definitions_file.read_text().replace("  score_threshold: 40", "  score_threshold: .nan")
    )
    failed = dg.materialize([asset], resources=resources, raise_on_error=False)

    assert not failed.success
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        assert connection.execute("select mql__score_threshold from definitions.thresholds").fetchall() == [(40,)]
