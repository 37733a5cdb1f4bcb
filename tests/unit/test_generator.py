"""Unit tests of the demo-data generator: determinism, the column contract and the funnel dynamics."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import yaml

from flywheel_demo import crm_links, simulation
from flywheel_demo.calendar import FAR_FUTURE, MONTH_STARTS, SCALES
from flywheel_demo.cli import main
from flywheel_demo.contract import DATE, DECIMAL, INT, TS, kind_of, output_tables
from flywheel_demo.edge_cases import ICP_EMPLOYEES, ICP_INDUSTRIES, PRE_LAUNCH_DAYS
from flywheel_demo.formatting import arrow_blocks, to_arrow
from flywheel_demo.simulation import generate, generate_tables
from flywheel_demo.text import bytes_text, calendar_text
from flywheel_demo.writing import generate_and_write, write_tables

REPO = Path(__file__).resolve().parents[2]
SOURCES = yaml.safe_load((REPO / "models" / "sources.yml").read_text())
CONTRACT = {
    (source, table): list(spec["columns"]) for source, body in SOURCES.items() for table, spec in body["tables"].items()
}
# A little bigger than `tiny` so that rates (churn, rejections without a reason) are not down to one or two rows.
DYNAMICS_SCALE = dataclasses.replace(SCALES["tiny"], name="test", n_accounts=700, n_leads=1_500)


def _read(root: Path, source: str, table: str) -> pd.DataFrame:
    return pd.read_csv(root / source / f"{table}.csv", dtype=str, keep_default_na=False)


def _latest(frame: pd.DataFrame) -> pd.DataFrame:
    """Deduplicate connector re-syncs: the row with the latest `_fivetran_synced` wins."""
    return frame.sort_values("_fivetran_synced").drop_duplicates("id", keep="last")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("tiny")
    assert main(["--scale", "tiny", "--out", str(out), "--seed", "42"]) == 0
    return out


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dynamics")
    write_tables(generate_tables(DYNAMICS_SCALE, 42), out)
    return out


def test_same_seed_gives_byte_identical_files(tiny: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    assert main(["--scale", "tiny", "--out", str(again), "--seed", "42"]) == 0
    files = sorted(p.relative_to(tiny) for p in tiny.rglob("*.csv"))
    assert files == sorted(p.relative_to(again) for p in again.rglob("*.csv"))
    for name in files:
        assert (tiny / name).read_bytes() == (again / name).read_bytes(), name


def test_small_scale_writes_the_committed_seeds_byte_for_byte(tmp_path: Path) -> None:
    """The committed seeds are what `flywheel generate --scale small --out seeds` writes: a change to the generator
    that changes them must regenerate them in the same commit (`make seeds`)."""
    assert main(["--scale", "small", "--out", str(tmp_path), "--no-progress"]) == 0
    seeds = REPO / "seeds"
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert written == sorted(p.relative_to(seeds) for p in seeds.rglob("*") if p.is_file())
    changed = [str(name) for name in written if (tmp_path / name).read_bytes() != (seeds / name).read_bytes()]
    assert not changed, f"the generator no longer writes the committed seeds: {changed}"


def test_help_says_what_the_command_writes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    assert "every raw table of models/sources.yml" in capsys.readouterr().out


def test_another_seed_gives_other_data(tiny: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    assert main(["--scale", "tiny", "--out", str(other), "--seed", "43"]) == 0
    assert (tiny / "salesforce" / "lead.csv").read_bytes() != (other / "salesforce" / "lead.csv").read_bytes()


def test_every_table_has_exactly_the_contract_columns(tiny: Path) -> None:
    written = {(p.parent.name, p.stem) for p in tiny.rglob("*.csv")}
    assert written == set(CONTRACT)
    for (source, table), columns in CONTRACT.items():
        header = (tiny / source / f"{table}.csv").read_text().split("\n", 1)[0]
        assert header.split(",") == columns, f"{source}.{table}"
        assert output_tables()[(source, table)].names == columns


def test_column_kinds_follow_the_contract_types(tiny: Path) -> None:
    assert kind_of("decimal(18,2)") == DECIMAL and kind_of("bigint") == INT
    with pytest.raises(ValueError, match="cannot write contract type"):
        kind_of("interval")
    # Both are decimal(18,2): Stripe's minor units are written as the whole numbers they are, dollars with cents.
    prices = _read(tiny, "stripe", "price")["unit_amount"]
    spend = _read(tiny, "marketing", "ad_spend")["spend"]
    assert prices.str.fullmatch(r"\d+").all() and spend.str.fullmatch(r"\d+\.\d\d").all()


def test_dataframes_and_parquet_carry_the_same_columns(tmp_path: Path) -> None:
    frames = generate(SCALES["tiny"], 1)
    assert {key: list(frame.columns) for key, frame in frames.items()} == CONTRACT
    write_tables(frames, tmp_path, "parquet")
    lead = pd.read_parquet(tmp_path / "salesforce" / "lead.parquet")
    assert list(lead.columns) == CONTRACT[("salesforce", "lead")]
    assert len(lead) == len(frames[("salesforce", "lead")])


def test_formats(tiny: Path) -> None:
    lead = _read(tiny, "salesforce", "lead")
    assert lead["created_date"].str.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d").all()
    converted = lead.loc[lead["converted_date"] != "", "converted_date"]
    assert converted.str.fullmatch(r"\d{4}-\d\d-\d\d").all()
    assert set(lead["is_converted"]) <= {"true", "false"}
    assert lead["id"].str.fullmatch(r"00Q\d{12}").all()
    assert lead["email"].str.endswith(".example.com").all()
    assert lead.loc[lead["phone"] != "", "phone"].str.contains("-555-01").all()
    assert (lead["created_date"] >= "2024-11-01").all() and (lead["created_date"] < "2026-11-01").all()
    customer = _read(tiny, "stripe", "customer")
    assert customer["id"].str.startswith("cus_").all()


def test_won_and_lost_opportunities(data: Path) -> None:
    opp = _latest(_read(data, "salesforce", "opportunity"))
    won = opp[opp["stage_name"] == "Closed Won"]
    lost = opp[opp["stage_name"] == "Closed Lost"]
    assert len(won) > 0 and len(lost) > 0
    assert (won["is_closed"] == "true").all() and (won["is_won"] == "true").all()
    assert (lost["is_won"] == "false").all() and (lost["loss_reason_c"] != "").all()
    assert set(lost["loss_reason_c"]) <= {
        "Price", "Missing Feature", "Competitor", "No Decision", "Timing", "Champion Left", "Poor Fit",
    }  # fmt: skip
    assert (opp.loc[opp["is_closed"] == "false", "loss_reason_c"] == "").all()
    assert (opp["close_date"] >= opp["created_date"].str[:10]).all()
    new_business = opp[(opp["type"] == "New Business") & (opp["is_closed"] == "true")]
    assert 0.15 <= (new_business["is_won"] == "true").mean() <= 0.40


def test_opportunity_history_ends_in_the_current_stage(data: Path) -> None:
    opp = _latest(_read(data, "salesforce", "opportunity")).set_index("id")
    history = _read(data, "salesforce", "opportunity_history")
    last = history.sort_values(["opportunity_id", "created_date", "id"]).groupby("opportunity_id").tail(1)
    assert set(last["opportunity_id"]) == set(opp.index)
    assert (last.set_index("opportunity_id")["stage_name"] == opp.loc[last["opportunity_id"], "stage_name"]).all()


def test_rejected_leads_carry_a_reason_except_a_small_share(data: Path) -> None:
    lead = _latest(_read(data, "salesforce", "lead"))
    rejected = lead[lead["rejected_date_c"] != ""]
    assert len(rejected) > 0
    missing = (rejected["rejection_reason_c"] == "").mean()
    assert 0 < missing < 0.15
    assert set(rejected["rejection_reason_c"]) - {""} <= {
        "No Budget", "Not ICP", "No Authority", "Competitor", "Student or Job Seeker", "Duplicate",
        "Bad Contact Data", "Timing",
    }  # fmt: skip


def test_lead_lifecycle_is_ordered_and_conversions_point_at_real_rows(data: Path) -> None:
    lead = _latest(_read(data, "salesforce", "lead"))
    for earlier, later in [("created_date", "mql_date_c"), ("mql_date_c", "accepted_date_c")]:
        both = lead[(lead[earlier] != "") & (lead[later] != "")]
        assert (both[earlier] <= both[later]).all(), (earlier, later)
    converted = lead[lead["is_converted"] == "true"]
    assert len(converted) > 0
    assert (converted["accepted_date_c"].str[:10] <= converted["converted_date"]).all()
    accounts = set(_read(data, "salesforce", "account")["id"])
    contacts = set(_read(data, "salesforce", "contact")["id"])
    opportunities = set(_read(data, "salesforce", "opportunity")["id"])
    assert converted["converted_account_id"].isin(accounts).all()
    assert converted["converted_contact_id"].isin(contacts).all()
    assert converted["converted_opportunity_id"].isin(opportunities).all()
    plg = lead[lead["lead_source"] == "Product Sign-up"]
    assert (plg["product_workspace_id_c"].str.startswith("ws_")).all()


def test_annual_and_monthly_prices_exist(data: Path) -> None:
    price = _read(data, "stripe", "price")
    live = price[(price["livemode"] == "true") & (price["active"] == "true")]
    assert {"month", "year"} <= set(live["recurring_interval"])
    monthly = live[live["recurring_interval"] == "month"].set_index(["product_id", "currency"])["unit_amount"]
    annual = live[live["recurring_interval"] == "year"].set_index(["product_id", "currency"])["unit_amount"]
    monthly, annual = monthly.astype(int), annual.astype(int)
    assert np.allclose(annual / monthly.loc[annual.index], 10)


def test_some_subscriptions_churn_and_customers_link_to_won_accounts(data: Path) -> None:
    subscription = _latest(_read(data, "stripe", "subscription"))
    canceled = subscription[subscription["status"] == "canceled"]
    assert len(canceled) > 0 and (canceled["ended_at"] != "").all()
    assert (subscription["status"] == "active").sum() > len(canceled)
    customer = _latest(_read(data, "stripe", "customer"))
    linked = customer["metadata"].map(lambda m: json.loads(m).get("salesforce_account_id", ""))
    opp = _latest(_read(data, "salesforce", "opportunity"))
    won_accounts = set(opp.loc[(opp["type"] == "New Business") & (opp["is_won"] == "true"), "account_id"])
    accounts = set(_read(data, "salesforce", "account")["id"])
    known = set(linked[linked.isin(accounts)])
    # Every link names a won account, bar the few broken on purpose (flywheel_demo/crm_links.py): cleared or mistyped.
    assert known <= won_accounts and 0 < len(won_accounts - known) <= max(3, 0.05 * len(won_accounts))
    assert (linked == "").any()  # a few self-serve customers have no CRM link


def test_a_few_billing_customers_lost_their_crm_link_and_nothing_else_changed(
    data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    customer = _latest(_read(data, "stripe", "customer"))
    customer = customer[customer["livemode"] == "true"]
    linked = customer["metadata"].map(lambda m: json.loads(m).get("salesforce_account_id", ""))
    accounts = set(_read(data, "salesforce", "account")["id"])
    mistyped = linked[(linked != "") & ~linked.isin(accounts)]
    crm_linked = (linked != "").sum()
    assert 1 <= len(mistyped) <= max(1, round(crm_links.MISTYPED_SHARE * crm_linked))
    # Without the broken links, the stripe customers differ (their metadata only) and no other table does.
    scale = SCALES["tiny"]
    broken = generate_tables(scale, 7)
    monkeypatch.setattr(simulation, "break_crm_links", lambda seed, customers: customers)
    intact = generate_tables(scale, 7)
    assert {key for key in broken if not broken[key].equals(intact[key])} == {("stripe", "customer")}
    before, after = intact[("stripe", "customer")].to_pandas(), broken[("stripe", "customer")].to_pandas()
    differs = (before != after) & ~(before.isna() & after.isna())
    assert set(differs.columns[differs.any()]) == {"metadata"}
    assert 2 <= differs.any(axis=1).sum() <= max(3, 0.05 * len(before))


def test_subscription_items_are_in_history_mode(data: Path) -> None:
    item = _read(data, "stripe", "subscription_item")
    assert (item.groupby("id")["_fivetran_active"].apply(lambda s: (s == "true").sum()) == 1).all()
    current = item[item["_fivetran_active"] == "true"]
    assert (current["_fivetran_end"] == "9999-12-31 23:59:59").all()
    assert (item["price_id"] != "").all() and (item["plan_id"] == "").all()
    assert item["id"].duplicated().any()  # seat changes created new versions


def test_connector_mess_is_present_but_small(data: Path) -> None:
    lead = _read(data, "salesforce", "lead")
    duplicates = lead["id"].duplicated().mean()
    assert 0 < duplicates < 0.02
    assert 0 < (lead["is_deleted"] == "true").mean() < 0.02


def test_columns_that_do_not_match_the_contract_are_refused() -> None:
    with pytest.raises(ValueError, match="do not match the contract"):
        to_arrow(("stripe", "price"), {"id": np.array(["price_1"], dtype=object)})


def test_a_table_is_formatted_in_blocks_that_make_the_whole_table_and_is_emptied() -> None:
    """A writer formats a big table a block of rows at a time, so it never holds the whole table as Arrow."""
    tables, _ = simulation.simulate(SCALES["tiny"], 5)
    key = ("salesforce", "lead")
    copy = {name: values.copy() for name, values in tables[key].items()}
    blocks = list(arrow_blocks(key, tables[key], block_rows=64))
    assert len(blocks) > 2 and all(block.num_rows == 64 for block in blocks[:-1])
    assert pa.concat_tables(blocks).equals(to_arrow(key, copy))
    assert tables[key] == {} and copy == {}


class _Recorder:
    """A sink that keeps what the simulation hands on, in order, and when it waits for the writers."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def put(self, key: tuple[str, str], table: dict[str, np.ndarray]) -> None:
        self.calls.append(f"{key[0]}.{key[1]}")

    def drain(self) -> None:
        self.calls.append("drain")


def test_the_simulation_hands_every_table_on_as_soon_as_it_is_final_and_keeps_none() -> None:
    sink = _Recorder()
    tables, plan = simulation.simulate(SCALES["tiny"], 42, sink=sink)
    assert tables == {} and plan is not None  # tiny draws its product events month by month
    put = [call for call in sink.calls if call != "drain"]
    assert sorted(put) == sorted(f"{s}.{t}" for s, t in output_tables() if (s, t) != ("product", "events"))
    # The lead table, the biggest, is written alone: nothing else is being written while it is.
    lead = sink.calls.index("salesforce.lead")
    assert sink.calls[lead - 1] == "drain" and sink.calls[lead + 1] == "drain"


def test_writing_each_table_as_it_is_made_writes_the_files_of_the_whole_tables(tmp_path: Path) -> None:
    streamed, whole = tmp_path / "streamed", tmp_path / "whole"
    generate_and_write(DYNAMICS_SCALE, 11, streamed, "csv", progress=False, workers=2)
    write_tables(generate_tables(DYNAMICS_SCALE, 11), whole, "csv")
    assert _files(streamed) == _files(whole)


@pytest.fixture(scope="module")
def tiny_parquet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("tiny_parquet")
    assert main(["--scale", "tiny", "--out", str(out), "--format", "parquet", "--no-progress"]) == 0
    return out


def _files(root: Path) -> dict[Path, bytes]:
    return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_parquet_output_is_byte_identical_and_matches_the_in_memory_tables(tiny_parquet: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    assert main(["--scale", "tiny", "--out", str(again), "--format", "parquet", "--no-progress"]) == 0
    assert _files(tiny_parquet) == _files(again)
    # The month-by-month writer writes what writing the whole table at once would.
    whole = tmp_path / "whole"
    write_tables(generate_tables(SCALES["tiny"], 42), whole, "parquet")
    assert _files(tiny_parquet) == _files(whole)


def test_product_events_land_as_one_parquet_file_per_receipt_day(tiny_parquet: Path) -> None:
    folder = tiny_parquet / "product" / "events"
    files = sorted(folder.glob("*.parquet"))
    assert len(files) > 10 and not (tiny_parquet / "product" / "events.parquet").exists()
    total = 0
    for path in files:
        frame = pd.read_parquet(path)
        assert list(frame.columns) == CONTRACT[("product", "events")]
        day = frame["received_at"].where(frame["received_at"].notna(), frame["timestamp"]).str[:10]
        assert (day == path.stem).all(), path.name
        assert frame[["id", "received_at"]].equals(frame.sort_values(["id", "received_at"])[["id", "received_at"]])
        total += len(frame)
    csv = generate_tables(SCALES["tiny"], 42)[("product", "events")]
    assert total == csv.num_rows


def test_switching_format_removes_the_other_form_of_a_table(tmp_path: Path) -> None:
    tables = generate_tables(SCALES["tiny"], 3)
    write_tables(tables, tmp_path, "parquet")
    assert (tmp_path / "product" / "events").is_dir() and (tmp_path / "salesforce" / "lead.parquet").exists()
    write_tables(tables, tmp_path, "csv")
    assert not (tmp_path / "product" / "events").exists() and (tmp_path / "product" / "events.csv").exists()
    assert not (tmp_path / "salesforce" / "lead.parquet").exists()
    write_tables(tables, tmp_path, "parquet")
    assert not (tmp_path / "product" / "events.csv").exists()


def test_big_scales_draw_events_by_month_and_small_keeps_the_seeds_draw() -> None:
    assert not SCALES["small"].monthly_events
    assert all(SCALES[name].monthly_events for name in ("tiny", "medium", "large"))
    # Every calendar month of the history is one chunk, and the chunks' boundaries are the month starts.
    assert len(MONTH_STARTS) == 25


def test_times_and_bytes_become_the_same_text_as_arrow_casts_would_write() -> None:
    import pyarrow as pa
    import pyarrow.compute as pc

    rng = np.random.default_rng(0)
    seconds = np.concatenate([rng.uniform(1.6e9, 1.8e9, 1_000), [np.nan, FAR_FUTURE, 0.0]])
    whole = np.where(np.isnan(seconds), 0, np.floor(seconds)).astype(np.int64)
    null = np.isnan(seconds)
    timestamps = pc.cast(pa.array(whole.astype("datetime64[s]"), mask=null), pa.string())
    dates = pc.cast(pa.array((whole // 86_400).astype("datetime64[D]"), mask=null), pa.string())
    assert calendar_text(seconds, TS).equals(timestamps)
    assert calendar_text(seconds, DATE).equals(dates)
    names = np.array([b"Ada", b"", b"Zimmer Co"], dtype=bytes)
    assert bytes_text(names).to_pylist() == ["Ada", "", "Zimmer Co"]


# The edge cases: each shared definition meets its edge somewhere in the data, at a small rate.
ICP = {"industries": set(ICP_INDUSTRIES), "min_employees": 50, "max_employees": 5_000}


def test_the_icp_of_the_edge_cases_is_the_shared_definitions_icp() -> None:
    icp = yaml.safe_load((REPO / "definitions.yml").read_text())["icp"]
    assert set(icp["industries"]) == ICP["industries"]
    assert (icp["min_employees"], icp["max_employees"]) == ICP_EMPLOYEES


def _fit_only(lead: pd.DataFrame) -> pd.Series:
    employees = pd.to_numeric(lead["number_of_employees"], errors="coerce")
    return lead["industry"].isin(ICP["industries"]) & employees.between(ICP["min_employees"], ICP["max_employees"])


def test_several_leads_convert_into_one_opportunity_on_the_day_they_are_created(data: Path) -> None:
    lead = _latest(_read(data, "salesforce", "lead"))
    converted = lead[lead["is_converted"] == "true"]
    shared = converted[converted["converted_opportunity_id"].duplicated(keep=False)]
    assert 0 < shared["converted_opportunity_id"].nunique() <= 0.05 * len(converted)
    # The colleague converted on its creation day records no acceptance; its fit alone makes it an MQL.
    colleagues = shared[shared["accepted_date_c"] == ""]
    assert len(colleagues) == shared["converted_opportunity_id"].nunique()
    assert (colleagues["converted_date"] == colleagues["created_date"].str[:10]).all()
    assert _fit_only(colleagues).all()
    engaged = set(_read(data, "marketing", "engagements")["lead_id"])
    assert not colleagues["id"].isin(engaged).any()


def test_icp_leads_arrive_half_an_hour_either_side_of_every_month_end(data: Path) -> None:
    lead = _latest(_read(data, "salesforce", "lead"))
    created = pd.to_datetime(lead["created_date"])
    before = lead[(created + pd.Timedelta(minutes=40)).dt.is_month_start & (created.dt.hour == 23)]
    after = lead[created.dt.is_month_start & (created.dt.hour == 0) & (created.dt.minute.between(25, 35))]
    months = pd.period_range("2024-12", "2026-11", freq="M")
    month_of = lambda frame: set(  # noqa: E731
        (pd.to_datetime(frame["created_date"]) + pd.Timedelta(hours=1)).dt.to_period("M")
    )
    assert month_of(before[_fit_only(before)]) == set(months)
    assert month_of(after[_fit_only(after)]) == set(months[:-1])  # 00:30 on 2026-11-01 is after the history


def test_a_few_rejected_leads_are_accepted_again_later(data: Path) -> None:
    lead = _latest(_read(data, "salesforce", "lead"))
    lead = lead[lead["is_deleted"] != "true"]
    rejected = lead[lead["rejected_date_c"] != ""]
    recycled = rejected[rejected["accepted_date_c"] > rejected["rejected_date_c"]]
    assert 0 < len(recycled) <= 0.05 * len(rejected)
    assert (recycled["mql_date_c"] != "").all()


def test_a_few_won_deals_changed_owner_and_a_few_wins_name_no_user(data: Path) -> None:
    opp = _latest(_read(data, "salesforce", "opportunity")).set_index("id")
    history = _read(data, "salesforce", "opportunity_history")
    wins = history[history["stage_name"] == "Closed Won"].set_index("opportunity_id")
    won_new_business = opp[(opp["is_won"] == "true") & (opp["type"] == "New Business")]
    by = wins["created_by_id"].reindex(won_new_business.index)
    reassigned = (by != "") & (by != won_new_business["owner_id"])
    without_user = by == ""
    assert 0 < reassigned.sum() <= 0.05 * len(won_new_business)
    assert 0 < without_user.sum() <= 0.05 * len(won_new_business)


def test_a_few_annual_plans_are_cancelled_mid_term(data: Path) -> None:
    subscription = _latest(_read(data, "stripe", "subscription"))
    annual = subscription[
        pd.to_datetime(subscription["current_period_end"]) - pd.to_datetime(subscription["current_period_start"])
        > pd.Timedelta(days=300)
    ]
    ended = pd.to_datetime(annual["ended_at"])
    mid_term = annual[ended < pd.to_datetime(annual["current_period_end"]) - pd.Timedelta(days=30)]
    assert 0 < len(mid_term) <= max(2, 0.05 * len(annual))  # at least two, so churn shows them at any scale
    assert (mid_term["status"] == "canceled").all() and (mid_term["cancel_at_period_end"] == "false").all()
    assert (mid_term["canceled_at"] == mid_term["ended_at"]).all()
    # The seat history stops at the cancellation: no version of the item starts after it.
    item = _read(data, "stripe", "subscription_item")
    item = item[item["subscription_id"].isin(mid_term["id"])]
    assert (item["_fivetran_start"] <= item["subscription_id"].map(mid_term.set_index("id")["ended_at"])).all()


def test_brand_search_spent_before_the_first_lead(data: Path) -> None:
    spend = _read(data, "marketing", "ad_spend")
    early = spend[spend["date"] < "2024-11-01"]
    assert set(early["campaign_name"]) == {"Brand Search"} and len(early) == PRE_LAUNCH_DAYS
    assert (_read(data, "salesforce", "lead")["created_date"] >= "2024-11-01").all()


def test_the_edge_cases_leave_every_other_record_as_it_was(monkeypatch: pytest.MonkeyPatch) -> None:
    scale = SCALES["tiny"]
    with_edges = generate_tables(scale, 7)
    monkeypatch.setattr(simulation, "add_edge_cases", lambda *args: None)
    monkeypatch.setattr(simulation, "lead_edge_cases", lambda rng, table, n_leads: table)
    without = generate_tables(scale, 7)
    changed = {key for key in with_edges if not with_edges[key].equals(without[key])}
    edged = {("salesforce", t) for t in ("lead", "opportunity", "opportunity_history")}
    edged |= {("stripe", "subscription"), ("stripe", "subscription_item"), ("marketing", "ad_spend")}
    assert ("salesforce", "lead") in changed and changed <= edged
    # Every lead of the simulation keeps its row, apart from the few recycled ones.
    lead, before = with_edges[("salesforce", "lead")].to_pandas(), without[("salesforce", "lead")].to_pandas()
    kept = lead[lead["id"].isin(before["id"])].reset_index(drop=True)
    differs = (kept != before.reset_index(drop=True)) & ~(kept.isna() & before.reset_index(drop=True).isna())
    assert differs.any(axis=1).sum() <= max(2, 0.05 * len(before))


def test_the_first_invoice_of_a_subscription_with_a_once_percent_coupon_is_discounted(data: Path) -> None:
    """A once coupon given when a subscription starts takes its percent off the first invoice, the one issued when
    the paid life begins (the cycle's start and the discount's start are the same instant)."""
    coupons = _read(data, "stripe", "coupon")
    once = set(coupons.id[(coupons.duration == "once") & (coupons.percent_off != "")])
    discounts = _read(data, "stripe", "discount")
    assert set(discounts.type) == {"subscription"} and (discounts.type_id == discounts.subscription_id).all()
    subscriptions = set(discounts.subscription_id[discounts.coupon_id.isin(once)])
    invoices = _read(data, "stripe", "invoice")
    invoices = invoices[invoices.subscription_id.isin(subscriptions)]
    first = invoices.sort_values("period_start").drop_duplicates("subscription_id")
    assert len(first) >= 1
    assert (first.total.astype(float) < first.subtotal.astype(float)).all()
