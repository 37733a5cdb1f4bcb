"""Seven deals worked through by hand, week by week: the weekly opportunity snapshot and the weekly pipeline mart.

Definitions in force are the project's (`definitions.yml`): stages Prospecting .. Negotiation are open, Closed Won
and Closed Lost are not; a deal is aging after more than 30 days in its stage; Outbound is sales-sourced, Product
Sign-up product-sourced, every other channel marketing. Segments: account A1 has 150 employees (Mid-Market), A2 has
20 (SMB).

Weeks start on Monday: W1 = 2026-01-05, W2 = 01-12, W3 = 01-19, W4 = 01-26, W5 = 02-02, W6 = 02-09. The latest
moment in the data is O5's change on Wed 2026-02-11 15:00, so W6 is the latest week and its days in stage are
counted to Feb 11 (not to Sunday Feb 15). Days in stage elsewhere are counted to the week's Sunday (Jan 11, 18, 25,
Feb 1, 8).

- O1 (Paid Search -> marketing, Mid-Market): created Fri Jan 9 in Prospecting, 10,000, never moves. Days in stage
  2, 9, 16, 23, 30 (exactly 30: not aging), 33 (aging in W6).
- O2 (Outbound -> sales, SMB): created Mon Jan 12 in Prospecting, 20,000, close Feb 27. Jan 21: Discovery at
  25,000 with close pushed to Mar 6; Jan 23: close back to Feb 27 (W3 ends where it began: not slipped). Jan 28:
  close pulled in to Feb 20 (not slipped). Feb 4: close pushed to Mar 31 (slipped in W5). Amount changes never
  restart the stage clock: Discovery since Jan 21.
- O3 (Product Sign-up -> product, Mid-Market): created Tue Jan 6 in Prospecting, 8,000; Demo Jan 14; Closed Lost
  Thu Jan 22 (W3); reopened Tue Jan 27 (W4) in Proposal at 9,000, open ever since.
- O4 (Paid Search -> marketing, SMB): created Wed Jan 21 in Demo at 5,000, close Feb 6; won Feb 4 at 6,000 with
  close Feb 4 (pulled in: not slipped). Rows W3 to W5, its close week.
- O5 ("free trial" -> Product Sign-up -> product, SMB): created Mon Feb 9 in Prospecting, 12,000; Discovery Wed
  Feb 11 15:00. One row, W6.
- O6 ("cold call" -> Outbound -> sales, Mid-Market): created Tue Jan 13, lost Thu Jan 15 at 3,000. One row, W2.
- O7 (Paid Search -> marketing, Mid-Market): created Wed Jan 28 in Negotiation at 4,000, no history at all: the
  current values stand in every week, in the stage since creation.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import dagster as dg
import pytest

from pipelines.spec.settings import Settings
from tests.conftest import materialize, settings_for
from tests.fixtures import query, write_raw

W1, W2, W3, W4, W5, W6 = (
    date(2026, 1, 5), date(2026, 1, 12), date(2026, 1, 19), date(2026, 1, 26), date(2026, 2, 2), date(2026, 2, 9)
)  # fmt: skip


def opportunity(
    opportunity_id: str, account: str, source: str, stage: str, amount: int, close: str, created: str
) -> dict:
    closed = stage in ("Closed Won", "Closed Lost")
    return {
        "id": opportunity_id,
        "account_id": account,
        "lead_source": source,
        "stage_name": stage,
        "amount": amount,
        "close_date": close,
        "created_date": created,
        "is_closed": str(closed).lower(),
        "is_won": str(stage == "Closed Won").lower(),
    }


def change(history_id: str, opportunity_id: str, stage: str, amount: int, close: str, at: str) -> dict:
    return {
        "id": history_id,
        "opportunity_id": opportunity_id,
        "stage_name": stage,
        "amount": amount,
        "close_date": close,
        "created_date": at,
    }


TABLES = {
    "salesforce.account": [
        {"id": "001A1", "number_of_employees": 150},
        {"id": "001A2", "number_of_employees": 20},
    ],
    "salesforce.opportunity": [
        opportunity("006O1", "001A1", "Paid Search", "Prospecting", 10000, "2026-03-31", "2026-01-09 10:00:00"),
        opportunity("006O2", "001A2", "Outbound", "Discovery", 25000, "2026-03-31", "2026-01-12 09:00:00"),
        opportunity("006O3", "001A1", "Product Sign-up", "Proposal", 9000, "2026-02-15", "2026-01-06 09:00:00"),
        opportunity("006O4", "001A2", "Paid Search", "Closed Won", 6000, "2026-02-04", "2026-01-21 09:00:00"),
        opportunity("006O5", "001A2", "Free Trial", "Discovery", 12000, "2026-04-30", "2026-02-09 09:00:00"),
        opportunity("006O6", "001A1", "Cold Call", "Closed Lost", 3000, "2026-01-15", "2026-01-13 09:00:00"),
        opportunity("006O7", "001A1", "Paid Search", "Negotiation", 4000, "2026-03-15", "2026-01-28 10:00:00"),
    ],
    "salesforce.opportunity_history": [
        change("H11", "006O1", "Prospecting", 10000, "2026-03-31", "2026-01-09 10:00:00"),
        change("H21", "006O2", "Prospecting", 20000, "2026-02-27", "2026-01-12 09:00:00"),
        change("H22", "006O2", "Discovery", 25000, "2026-03-06", "2026-01-21 11:00:00"),
        change("H23", "006O2", "Discovery", 25000, "2026-02-27", "2026-01-23 11:00:00"),
        change("H24", "006O2", "Discovery", 25000, "2026-02-20", "2026-01-28 11:00:00"),
        change("H25", "006O2", "Discovery", 25000, "2026-03-31", "2026-02-04 11:00:00"),
        change("H31", "006O3", "Prospecting", 8000, "2026-02-15", "2026-01-06 09:00:00"),
        change("H32", "006O3", "Demo", 8000, "2026-02-15", "2026-01-14 09:00:00"),
        change("H33", "006O3", "Closed Lost", 8000, "2026-02-15", "2026-01-22 09:00:00"),
        change("H34", "006O3", "Proposal", 9000, "2026-02-15", "2026-01-27 09:00:00"),
        change("H41", "006O4", "Demo", 5000, "2026-02-06", "2026-01-21 09:00:00"),
        change("H42", "006O4", "Closed Won", 6000, "2026-02-04", "2026-02-04 16:00:00"),
        change("H51", "006O5", "Prospecting", 12000, "2026-04-30", "2026-02-09 09:00:00"),
        change("H52", "006O5", "Discovery", 12000, "2026-04-30", "2026-02-11 15:00:00"),
        change("H61", "006O6", "Prospecting", 3000, "2026-03-01", "2026-01-13 09:00:00"),
        change("H62", "006O6", "Closed Lost", 3000, "2026-01-15", "2026-01-15 09:00:00"),
    ],
}  # fmt: skip


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, dg.ExecuteInProcessResult]]:
    tmp_path = tmp_path_factory.mktemp("pipeline_weekly")
    settings = settings_for(tmp_path, write_raw(tmp_path / "raw", TABLES))
    result = materialize(settings, '+key:"marts/rpt_pipeline_weekly"')
    assert result.success
    yield settings, result


def test_weeks_are_mondays() -> None:
    assert [week.isoweekday() for week in (W1, W2, W3, W4, W5, W6)] == [1] * 6


def test_snapshot_rows_week_by_week(built: tuple[Settings, dg.ExecuteInProcessResult]) -> None:
    settings, _ = built
    snapshot = query(settings, "select * from intermediate.int_opportunity_weeks_snapshotted order by all")
    rows = {
        (row.opportunity_id, row.week_start.date()): (
            row.stage_name,
            bool(row.is_open),
            float(row.amount_usd),
            row.close_date.date(),
            bool(row.is_slipped),
            int(row.days_in_stage),
            row.state_source,
        )
        for row in snapshot.itertuples()
    }
    m31, f27, f20, f15, f04 = (
        date(2026, 3, 31),
        date(2026, 2, 27),
        date(2026, 2, 20),
        date(2026, 2, 15),
        date(2026, 2, 4),
    )
    assert rows == {
        # O1: never moves; to Sunday: Jan 11 - Jan 9 = 2, ... Feb 8 - Jan 9 = 30; W6 to Feb 11: 33
        ("006O1", W1): ("Prospecting", True, 10000.0, m31, False, 2, "history"),
        ("006O1", W2): ("Prospecting", True, 10000.0, m31, False, 9, "history"),
        ("006O1", W3): ("Prospecting", True, 10000.0, m31, False, 16, "history"),
        ("006O1", W4): ("Prospecting", True, 10000.0, m31, False, 23, "history"),
        ("006O1", W5): ("Prospecting", True, 10000.0, m31, False, 30, "history"),
        ("006O1", W6): ("Prospecting", True, 10000.0, m31, False, 33, "current"),
        # O2: Prospecting since Jan 12 (Jan 18: 6); Discovery since Jan 21 (Jan 25: 4, Feb 1: 11, Feb 8: 18,
        # Feb 11: 21); W3 pushed to Mar 6 then back to Feb 27: not slipped; W4 pulled in; W5 pushed to Mar 31
        ("006O2", W2): ("Prospecting", True, 20000.0, f27, False, 6, "history"),
        ("006O2", W3): ("Discovery", True, 25000.0, f27, False, 4, "history"),
        ("006O2", W4): ("Discovery", True, 25000.0, f20, False, 11, "history"),
        ("006O2", W5): ("Discovery", True, 25000.0, m31, True, 18, "history"),
        ("006O2", W6): ("Discovery", True, 25000.0, m31, False, 21, "current"),
        # O3: Prospecting Jan 6 (Jan 11: 5), Demo Jan 14 (Jan 18: 4), lost Jan 22 (Jan 25: 3), Proposal Jan 27
        # (Feb 1: 5, Feb 8: 12, Feb 11: 15)
        ("006O3", W1): ("Prospecting", True, 8000.0, f15, False, 5, "history"),
        ("006O3", W2): ("Demo", True, 8000.0, f15, False, 4, "history"),
        ("006O3", W3): ("Closed Lost", False, 8000.0, f15, False, 3, "history"),
        ("006O3", W4): ("Proposal", True, 9000.0, f15, False, 5, "history"),
        ("006O3", W5): ("Proposal", True, 9000.0, f15, False, 12, "history"),
        ("006O3", W6): ("Proposal", True, 9000.0, f15, False, 15, "current"),
        # O4: Demo since Jan 21 (Jan 25: 4, Feb 1: 11); won Feb 4 (Feb 8: 4), close pulled in from Feb 6
        ("006O4", W3): ("Demo", True, 5000.0, date(2026, 2, 6), False, 4, "history"),
        ("006O4", W4): ("Demo", True, 5000.0, date(2026, 2, 6), False, 11, "history"),
        ("006O4", W5): ("Closed Won", False, 6000.0, f04, False, 4, "current"),
        # O5: Discovery since Feb 11 15:00, counted to Feb 11: 0
        ("006O5", W6): ("Discovery", True, 12000.0, date(2026, 4, 30), False, 0, "current"),
        # O6: lost Jan 15 (Jan 18: 3); its close date moved earlier, not later
        ("006O6", W2): ("Closed Lost", False, 3000.0, date(2026, 1, 15), False, 3, "current"),
        # O7: no history, in Negotiation since its creation Jan 28 (Feb 1: 4, Feb 8: 11, Feb 11: 14)
        ("006O7", W4): ("Negotiation", True, 4000.0, date(2026, 3, 15), False, 4, "current"),
        ("006O7", W5): ("Negotiation", True, 4000.0, date(2026, 3, 15), False, 11, "current"),
        ("006O7", W6): ("Negotiation", True, 4000.0, date(2026, 3, 15), False, 14, "current"),
    }
    o2 = snapshot[snapshot.opportunity_id == "006O2"].sort_values("week_start")
    # the close date each O2 week began with: as created (Feb 27), then the previous week's end
    assert [value.date() for value in o2["close_date_at_week_start"]] == [f27, f27, f27, f20, m31]
    created_weeks = snapshot[snapshot.is_created_week]
    created_weeks_by_deal = zip(created_weeks.opportunity_id, created_weeks.week_start.dt.date, strict=True)
    assert sorted(created_weeks_by_deal) == [
        ("006O1", W1), ("006O2", W2), ("006O3", W1), ("006O4", W3), ("006O5", W6), ("006O6", W2), ("006O7", W4)
    ]  # fmt: skip


def test_pipeline_mart_week_by_week(built: tuple[Settings, dg.ExecuteInProcessResult]) -> None:
    settings, _ = built
    mart = query(settings, "select * from marts.rpt_pipeline_weekly order by all")
    measures = [
        "open_deals_count",
        "open_pipeline_usd",
        "created_deals_count",
        "created_pipeline_usd",
        "aging_deals_count",
        "slipped_deals_count",
        "slipped_pipeline_usd",
    ]
    rows = {
        (row["week_start"].date(), row["segment"], row["stage_name"], row["pipeline_source"]): tuple(
            float(row[measure]) if measure.endswith("_usd") else int(row[measure]) for measure in measures
        )
        for _, row in mart.iterrows()
    }
    # The deals carry no CRM type label: all are the other type, one row per week, segment, stage and source.
    assert set(mart["opportunity_type"]) == {"Other"} and len(rows) == len(mart)
    mid, smb = "Mid-Market", "SMB"
    # (open deals, open USD, created deals, created USD at the current amount, aging, slipped, slipped USD)
    assert rows == {
        # W1: O1 and O3 created; O3 is valued at its current 9,000 in pipeline created, 8,000 open at W1's end
        (W1, mid, "Prospecting", "marketing"): (1, 10000.0, 1, 10000.0, 0, 0, 0.0),
        (W1, mid, "Prospecting", "product"): (1, 8000.0, 1, 9000.0, 0, 0, 0.0),
        # W2: O2 created (current 25,000); O6 created and lost the same week: created, never open
        (W2, mid, "Prospecting", "marketing"): (1, 10000.0, 0, 0.0, 0, 0, 0.0),
        (W2, smb, "Prospecting", "sales"): (1, 20000.0, 1, 25000.0, 0, 0, 0.0),
        (W2, mid, "Demo", "product"): (1, 8000.0, 0, 0.0, 0, 0, 0.0),
        (W2, mid, "Closed Lost", "sales"): (0, 0.0, 1, 3000.0, 0, 0, 0.0),
        # W3: O3 lost (not open); O4 created at 5,000 (current 6,000)
        (W3, mid, "Prospecting", "marketing"): (1, 10000.0, 0, 0.0, 0, 0, 0.0),
        (W3, smb, "Discovery", "sales"): (1, 25000.0, 0, 0.0, 0, 0, 0.0),
        (W3, mid, "Closed Lost", "product"): (0, 0.0, 0, 0.0, 0, 0, 0.0),
        (W3, smb, "Demo", "marketing"): (1, 5000.0, 1, 6000.0, 0, 0, 0.0),
        # W4: O3 open again the week after it was lost; O7 created
        (W4, mid, "Prospecting", "marketing"): (1, 10000.0, 0, 0.0, 0, 0, 0.0),
        (W4, smb, "Discovery", "sales"): (1, 25000.0, 0, 0.0, 0, 0, 0.0),
        (W4, mid, "Proposal", "product"): (1, 9000.0, 0, 0.0, 0, 0, 0.0),
        (W4, smb, "Demo", "marketing"): (1, 5000.0, 0, 0.0, 0, 0, 0.0),
        (W4, mid, "Negotiation", "marketing"): (1, 4000.0, 1, 4000.0, 0, 0, 0.0),
        # W5: O2 slipped (25,000); O1 at exactly 30 days is not aging; O4 won
        (W5, mid, "Prospecting", "marketing"): (1, 10000.0, 0, 0.0, 0, 0, 0.0),
        (W5, smb, "Discovery", "sales"): (1, 25000.0, 0, 0.0, 0, 1, 25000.0),
        (W5, mid, "Proposal", "product"): (1, 9000.0, 0, 0.0, 0, 0, 0.0),
        (W5, smb, "Closed Won", "marketing"): (0, 0.0, 0, 0.0, 0, 0, 0.0),
        (W5, mid, "Negotiation", "marketing"): (1, 4000.0, 0, 0.0, 0, 0, 0.0),
        # W6 (latest): O1 aging at 33 days; O5 created; open = 10,000 + 25,000 + 9,000 + 12,000 + 4,000 = 60,000
        (W6, mid, "Prospecting", "marketing"): (1, 10000.0, 0, 0.0, 1, 0, 0.0),
        (W6, smb, "Discovery", "sales"): (1, 25000.0, 0, 0.0, 0, 0, 0.0),
        (W6, mid, "Proposal", "product"): (1, 9000.0, 0, 0.0, 0, 0, 0.0),
        (W6, smb, "Discovery", "product"): (1, 12000.0, 1, 12000.0, 0, 0, 0.0),
        (W6, mid, "Negotiation", "marketing"): (1, 4000.0, 0, 0.0, 0, 0, 0.0),
    }
    # the reconciliations the assertions check, by hand: 7 deals created for 10,000 + 25,000 + 9,000 + 6,000 +
    # 12,000 + 3,000 + 4,000 = 69,000; 5 deals open now for 60,000
    assert (int(mart["created_deals_count"].sum()), float(mart["created_pipeline_usd"].sum())) == (7, 69000.0)
    latest = mart[mart["week_start"].dt.date == W6]
    assert (int(latest["open_deals_count"].sum()), float(latest["open_pipeline_usd"].sum())) == (5, 60000.0)


def test_mart_assertions_ran_and_passed(built: tuple[Settings, dg.ExecuteInProcessResult]) -> None:
    _, result = built
    checks = {
        check.check_name: check.passed
        for check in result.get_asset_check_evaluations()
        if check.asset_key.to_user_string() == "marts/rpt_pipeline_weekly"
    }
    assert checks["assert_created_pipeline_matches_opportunities"]
    assert checks["assert_latest_open_pipeline_matches_open_opportunities"]
