"""Build the whole warehouse from the demo seeds, then check it against numbers computed independently."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest
import yaml

from pipelines.cli import RunSummary
from pipelines.orchestration.model_steps import LINEAGE_TABLE_KEY
from pipelines.spec.personal_data import email_like_sql, phone_like_sql
from pipelines.spec.settings import PROJECT_ROOT, Settings
from pipelines.warehouse.guards import scan_personal_data
from tests.conftest import copy_of_build, materialize
from tests.fixtures import query

SEEDS = PROJECT_ROOT / "seeds"
FUNNEL_AND_UPSTREAM = '+key:"marts/rpt_funnel_monthly"'


@pytest.fixture(scope="module")
def built(demo_build: tuple[Settings, RunSummary]) -> tuple[Settings, RunSummary]:
    """The full build of the seeds, shared by the test session."""
    return demo_build


def test_every_asset_builds_and_every_check_passes(built: tuple[Settings, RunSummary]) -> None:
    settings, summary = built
    assert summary.succeeded, summary.render()
    assert not summary.checks_failed
    schemas = set(query(settings, "select distinct table_schema from information_schema.tables")["table_schema"])
    assert {
        "salesforce",
        "stripe",
        "product",
        "marketing",
        "definitions",
        "staging",
        "intermediate",
        "marts",
    } <= schemas
    assert summary.mart_rows["marts.rpt_funnel_monthly"] > 0
    pending = query(
        settings, "select table_name from information_schema.tables where table_name like '\\_pending%' escape '\\'"
    )
    assert pending.empty


def _latest_live(frame: pd.DataFrame, key: str = "id") -> pd.DataFrame:
    """Latest version per key by _fivetran_synced, soft-deleted rows removed: the connector semantics, in pandas."""
    frame = frame.assign(_synced=pd.to_datetime(frame["_fivetran_synced"]))
    frame = frame.sort_values("_synced", ascending=False, kind="stable").drop_duplicates(key)
    deleted = pd.Series(False, index=frame.index)
    for flag in ("is_deleted", "_fivetran_deleted"):
        if flag in frame:
            deleted |= frame[flag].astype(str).str.lower().eq("true")
    return frame[~deleted]


def _channel(lead_source: pd.Series, definitions: dict) -> pd.Series:
    mapping = {str(key).strip().lower(): value for key, value in definitions["channels"]["lead_sources"].items()}
    return lead_source.fillna("").str.strip().str.lower().map(mapping).fillna(definitions["channels"]["default"])


def _segment(employees: pd.Series, definitions: dict) -> pd.Series:
    segment = pd.Series(definitions["segments"]["unknown_segment"], index=employees.index, dtype=object)
    for band in definitions["segments"]["bands"]:
        upper = band["max_employees"] if band["max_employees"] is not None else float("inf")
        segment[(employees >= band["min_employees"]) & (employees <= upper)] = band["name"]
    return segment


def _amount_usd(deals: pd.DataFrame) -> pd.Series:
    """Each deal's amount in USD: a deal in another currency (currency_iso_code) at the month_start rate of its
    close month (the rate dated on the month's first day, else the latest one dated in the month before)."""
    rates = pd.read_csv(SEEDS / "finance" / "exchange_rate.csv", dtype={"rate": float})
    rates["date"] = pd.to_datetime(rates["date"])
    rates["currency"] = rates["currency"].str.upper()

    def rate(currency: str, close_date: str) -> float:
        if currency == "USD":
            return 1.0
        month = pd.Timestamp(close_date).to_period("M").to_timestamp()
        candidates = rates[
            rates["currency"].eq(currency)
            & (rates["date"].eq(month) | ((rates["date"] < month) & (rates["date"] >= month - pd.DateOffset(months=1))))
        ]
        return float(candidates.sort_values("date")["rate"].iloc[-1])

    currencies = deals["currency_iso_code"].fillna("USD").str.upper()
    factors = [rate(currency, close) for currency, close in zip(currencies, deals["close_date"], strict=True)]
    return deals["amount"].astype(float) * pd.Series(factors, index=deals.index)


def expected_funnel() -> pd.DataFrame:
    """The monthly funnel computed from the seed CSVs with pandas, independently of the SQL models."""
    definitions = yaml.safe_load((PROJECT_ROOT / "definitions.yml").read_text())
    read = lambda table: pd.read_csv(SEEDS / "salesforce" / f"{table}.csv", dtype=str)  # noqa: E731
    leads = _latest_live(read("lead"))
    accounts = _latest_live(read("account"))
    opportunities = _latest_live(read("opportunity"))

    leads["channel"] = _channel(leads["lead_source"], definitions)
    leads["segment"] = _segment(pd.to_numeric(leads["number_of_employees"]), definitions)
    account_size = pd.to_numeric(accounts.set_index("id")["number_of_employees"])
    opportunities["channel"] = _channel(opportunities["lead_source"], definitions)
    opportunities["segment"] = _segment(opportunities["account_id"].map(account_size), definitions)

    month = lambda values: pd.to_datetime(values).dt.to_period("M").dt.to_timestamp()  # noqa: E731
    converted = leads[leads["is_converted"].str.lower().eq("true") & leads["converted_date"].notna()]
    won = opportunities[opportunities["is_won"].str.lower().eq("true") & opportunities["close_date"].notna()]
    parts = [
        leads.assign(funnel_month=month(leads["created_date"]), leads_created_count=1),
        converted.assign(funnel_month=month(converted["converted_date"]), leads_converted_count=1),
        opportunities.assign(funnel_month=month(opportunities["created_date"]), opportunities_created_count=1),
        won.assign(funnel_month=month(won["close_date"]), opportunities_won_count=1, won_amount_usd=_amount_usd(won)),
    ]
    measures = [
        "leads_created_count",
        "leads_converted_count",
        "opportunities_created_count",
        "opportunities_won_count",
        "won_amount_usd",
    ]
    stacked = pd.concat(
        [part[["funnel_month", "channel", "segment", *[m for m in measures if m in part]]] for part in parts]
    )
    return stacked.fillna(0).groupby(["funnel_month", "channel", "segment"], as_index=False)[measures].sum()


def test_funnel_mart_matches_an_independent_computation_from_the_csvs(built: tuple[Settings, RunSummary]) -> None:
    settings, _ = built
    actual = query(settings, "select * from marts.rpt_funnel_monthly")
    expected = expected_funnel()
    keys = ["funnel_month", "channel", "segment"]
    actual["funnel_month"] = pd.to_datetime(actual["funnel_month"])
    merged = expected.merge(actual, on=keys, how="outer", suffixes=("_expected", "_actual"), indicator=True)
    assert merged["_merge"].eq("both").all(), merged[merged["_merge"] != "both"][[*keys, "_merge"]].head()
    for measure in [
        "leads_created_count",
        "leads_converted_count",
        "opportunities_created_count",
        "opportunities_won_count",
    ]:
        assert (merged[f"{measure}_expected"] == merged[f"{measure}_actual"]).all(), measure
    assert (
        merged["won_amount_usd_actual"].astype(float).round(2).tolist()
        == merged["won_amount_usd_expected"].round(2).tolist()
    )
    # The demo company is not empty in any dimension that matters.
    assert expected["leads_created_count"].sum() > 1000
    assert expected["opportunities_won_count"].sum() > 50
    assert set(actual["segment"]) >= {"SMB", "Mid-Market", "Enterprise"}


def test_column_lineage_reaches_raw_connector_columns(built: tuple[Settings, RunSummary]) -> None:
    """The lineage Dagster shows for a mart column, followed upstream, ends at raw connector columns."""
    _, summary = built
    assert summary.result is not None
    lineage: dict[tuple[str, ...], dict[str, list[tuple[tuple[str, ...], str]]]] = {}
    for event in summary.result.get_asset_materialization_events():
        metadata = event.materialization.metadata
        if "dagster/column_lineage" in metadata:
            value = metadata["dagster/column_lineage"].value
            lineage[tuple(event.asset_key.path)] = {
                column: [(tuple(dep.asset_key.path), dep.column_name) for dep in deps]
                for column, deps in value.deps_by_column.items()
            }

    def roots(asset: tuple[str, ...], column: str) -> set[tuple[str, ...]]:
        if asset not in lineage:
            return {(*asset, column)}
        found: set[tuple[str, ...]] = set()
        for upstream, upstream_column in lineage[asset].get(column, []):
            found |= roots(upstream, upstream_column)
        return found

    funnel = ("marts", "rpt_funnel_monthly")
    assert roots(funnel, "won_amount_usd") == {
        ("salesforce", "opportunity", "amount"),
        ("finance", "exchange_rate", "rate"),  # a deal in another currency converts at its close month's rate
        ("definitions", "fx_budget_rates", "rate_to_reporting"),  # (the budget rule's rates)
    }
    assert roots(funnel, "funnel_month") == {
        ("definitions", "reporting", "time_zone"),  # months are months of the reporting time zone
        ("salesforce", "lead", "created_date"),
        ("salesforce", "lead", "converted_date"),
        ("salesforce", "opportunity", "created_date"),
        ("salesforce", "opportunity", "close_date"),
    }
    assert roots(funnel, "channel") == {("definitions", "channel_mapping", "channel")}
    assert roots(("staging", "stg_salesforce__leads"), "lead_id") == {("salesforce", "lead", "id")}


def test_every_model_materialization_carries_its_lineage_table(built: tuple[Settings, RunSummary]) -> None:
    """Beside `dagster/column_lineage` (drawn by Dagster+ only), the Markdown table the open-source UI shows."""
    _, summary = built
    assert summary.result is not None
    tables = {
        tuple(event.asset_key.path): event.materialization.metadata.get(LINEAGE_TABLE_KEY)
        for event in summary.result.get_asset_materialization_events()
        if "dagster/column_lineage" in event.materialization.metadata
    }
    assert tables and all(table is not None for table in tables.values())
    leads = tables[("staging", "stg_salesforce__leads")]
    assert leads is not None and "| lead_id | salesforce.lead.id | direct |" in leads.value.splitlines()


def test_a_failed_blocking_check_keeps_the_last_good_table_and_stops_downstream(
    built: tuple[Settings, RunSummary], tmp_path: Path
) -> None:
    settings = copy_of_build(built[0], tmp_path)  # the seeds as built, the funnel and everything upstream included
    raw_dir = settings.raw_dir
    before = query(settings, "select count(*) as leads from staging.stg_salesforce__leads")["leads"][0]
    funnel_before = query(settings, "select sum(leads_created_count) as leads from marts.rpt_funnel_monthly")["leads"][
        0
    ]

    # A lead with a negative employee count (it parses, so the raw load keeps it; the contract suite refuses it), and
    # one more ordinary row: staging must not publish either (a row that does not parse at all, or whose date lies
    # outside the data horizon, would be quarantined instead, see test_bad_input.py and test_horizon.py).
    leads = pd.read_csv(raw_dir / "salesforce" / "lead.csv", dtype=str)
    broken = leads.head(2).copy()
    broken["id"] = ["00Qextra000000000", "00Qextra000000001"]
    broken["number_of_employees"] = ["-5", broken["number_of_employees"].iloc[1]]
    pd.concat([leads, broken]).to_csv(raw_dir / "salesforce" / "lead.csv", index=False)

    result = materialize(settings, FUNNEL_AND_UPSTREAM)

    assert not result.success or any(not check.passed for check in result.get_asset_check_evaluations())
    failed = {
        (check.asset_key.to_user_string(), check.check_name)
        for check in result.get_asset_check_evaluations()
        if not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    }
    assert failed == {("staging/stg_salesforce__leads", "lead_contract")}
    # Where users look: the check's metadata says how many rows failed, which keys, and what the rule means.
    (contract,) = [check for check in result.get_asset_check_evaluations() if check.check_name == "lead_contract"]
    assert contract.metadata["failing_rows"].value == 1
    assert contract.metadata["sample_failing_keys"].value == ["00Qextra000000000"]
    assert "| employee counts are not negative | 1 of " in str(contract.metadata["failures"].value)
    built_keys = {event.asset_key.to_user_string() for event in result.get_asset_materialization_events()}
    assert "intermediate/int_leads_classified" not in built_keys
    assert "marts/rpt_funnel_monthly" not in built_keys
    assert query(settings, "select count(*) as leads from staging.stg_salesforce__leads")["leads"][0] == before
    assert (
        query(settings, "select sum(leads_created_count) as leads from marts.rpt_funnel_monthly")["leads"][0]
        == funnel_before
    )


def test_no_mart_value_looks_like_an_email_or_a_phone_number(built: tuple[Settings, RunSummary]) -> None:
    """Personal data stops at staging: scan every text column of every mart for e-mail- or phone-like values."""
    settings, _ = built
    tables = query(settings, "select table_name from information_schema.tables where table_schema = 'marts'")
    assert not tables.empty
    with duckdb.connect(str(settings.warehouse), read_only=True) as connection:
        scans = [scan_personal_data(connection, "marts", table) for table in tables["table_name"]]
    assert sum(scan.scanned_columns for scan in scans) > 50
    leaks = [scan.summary() for scan in scans if not scan.passed]
    assert not leaks, leaks


def test_the_personal_data_scan_would_catch_a_leak(built: tuple[Settings, RunSummary]) -> None:
    """The scan's patterns match what staging holds: e-mails and phone numbers of leads."""
    settings, _ = built
    hits = query(
        settings,
        f"select count(*) filter (where {email_like_sql('email')}) as emails, "
        f"count(*) filter (where {phone_like_sql('phone')}) as phones, count(*) as leads "
        "from staging.stg_salesforce__leads",
    )
    assert hits["emails"][0] > 0.9 * hits["leads"][0]
    assert hits["phones"][0] > 0.5 * hits["leads"][0]
