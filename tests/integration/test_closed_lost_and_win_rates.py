"""Nineteen opportunities worked through by hand: outcomes, closed-lost reasons and win rates per quarter.

Definitions in force are the project's (`definitions.yml`): stages Prospecting .. Negotiation are open, `Closed Won`
is won and `Closed Lost` lost; segments SMB 1-99, Mid-Market 100-999, Enterprise 1000+ employees, Unknown when the
size is missing; lead sources map to channels (Paid Search, Organic Search -> Organic, Referral; none ->
Unattributed); closed-lost reasons Price (Pricing), Missing Feature and Competitor (Product), No Decision, Timing and
Champion Left (Sales Process), Poor Fit (Targeting), and Unspecified for an empty or unknown reason.

Accounts: A1 50 employees (SMB), A2 500 (Mid-Market), A3 5000 (Enterprise), A4 size unknown (Unknown).

Q1 2026 (quarter 2026-01-01):
  O01 A1 Paid Search  won   10,000  created Jan 5,  won Feb 4           cycle 30 days
  O02 A1 Paid Search  lost   5,000  "Price"         created Jan 10, lost Mar 1    cycle 50
  O03 A1 Paid Search  lost   3,000  no reason       created Feb 1,  lost Mar 15   cycle 42  -> Unspecified
  O04 A2 Organic      lost   8,000  "Budget freeze" created Jan 20, lost Feb 20   cycle 31  -> Unspecified (unknown)
  O05 A4 (none)       lost   no amount  "Timing"    created Mar 1,  lost Mar 31 23:00         cycle 30
Q2 2026 (quarter 2026-04-01):
  O06 A2 Organic      won   20,000  created Feb 1, lost Mar 10, reopened Mar 20, won Apr 15: won in Q2, cycle 73
                                    (Feb 1 -> Mar 1 28, -> Apr 1 31, -> Apr 15 14); its stale "Competitor" is ignored
  O07 A2 Organic      won   10,000  created Apr 1, no stage history: closes on its close date May 11   cycle 40
  O08 A2 Organic      won   30,000  created Mar 1, won Jun 30 (31 + 30 + 31 + 29)                       cycle 121
  O09 A1 Paid Search  won   24,000  created Apr 10, won Jun 9 (30 + 30)                                 cycle 60
  O10 A1 Paid Search  lost   6,000  "Price"
  O11 A1 Paid Search  lost   2,000  " price " (matched ignoring case and spaces -> Price)
  O12 A2 Paid Search  lost   8,000  "Poor Fit"
  O13 A1 Referral     lost   4,000  "Missing Feature"
  O14 A2 Referral     lost   4,000  "Competitor"
  O15 A1 Referral     lost  50,000  no reason -> Unspecified
  O18 A1 Paid Search  won    5,000  an Expansion: created Apr 2, won May 20 (29 + 19)                  cycle 48
  O19 A1 Paid Search  lost   9,000  a Renewal, "Price": created Apr 3, lost May 25 (27 + 25)          cycle 52
  Opportunity types (definitions.opportunity_types): every deal is New Business but O18 (Expansion) and O19
  (Renewal). Win rates are per type, so the new-business win rate of SMB Paid Search in Q2 stays O09 won against
  O10 and O11 lost = 1/3 (counting every type, it would be 2 / 5); the expansion row is 1 / 1 and the renewal row
  0 / 1. Closed-lost reasons count new business only: O19's "Price" is not among Q2's reasons.
Open (no row anywhere): O16 A3 Paid Search in Negotiation; O17 A3 Outbound lost on Mar 5 and reopened on Mar 10,
  still in Discovery. Enterprise has only open deals, so it has no win-rate row at all (not a row with a null rate).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime

import pandas as pd
import pytest

from pipelines.spec.settings import Settings
from tests.conftest import materialize, settings_for
from tests.fixtures import query, write_raw

Q1, Q2 = date(2026, 1, 1), date(2026, 4, 1)


def opportunity(
    opportunity_id: str,
    account_id: str,
    source: str | None,
    stage: str,
    amount: float | None,
    created: str,
    close_date: str,
    reason: str | None = None,
    kind: str = "New Business",
) -> dict:
    return {
        "id": opportunity_id,
        "account_id": account_id,
        "type": kind,
        "stage_name": stage,
        "amount": amount,
        "created_date": created,
        "close_date": close_date,
        "is_closed": str(stage.startswith("Closed")).lower(),
        "is_won": str(stage == "Closed Won").lower(),
        "lead_source": source,
        "loss_reason_c": reason,
    }


def history(opportunity_id: str, *changes: tuple[str, str]) -> list[dict]:
    return [
        {"id": f"H{opportunity_id}-{index}", "opportunity_id": opportunity_id, "stage_name": stage, "created_date": at}
        for index, (stage, at) in enumerate(changes, start=1)
    ]


WON, LOST = "Closed Won", "Closed Lost"

TABLES: dict[str, list[dict]] = {
    "salesforce.account": [
        {"id": "A1", "number_of_employees": 50},
        {"id": "A2", "number_of_employees": 500},
        {"id": "A3", "number_of_employees": 5000},
        {"id": "A4"},
    ],
    "salesforce.opportunity": [
        opportunity("O01", "A1", "Paid Search", WON, 10000, "2026-01-05 10:00:00", "2026-02-04"),
        opportunity("O02", "A1", "Paid Search", LOST, 5000, "2026-01-10 09:00:00", "2026-03-01", "Price"),
        opportunity("O03", "A1", "Paid Search", LOST, 3000, "2026-02-01 09:00:00", "2026-03-15", ""),
        opportunity("O04", "A2", "Organic Search", LOST, 8000, "2026-01-20 09:00:00", "2026-02-20", "Budget freeze"),
        opportunity("O05", "A4", None, LOST, None, "2026-03-01 08:00:00", "2026-03-31", "Timing"),
        opportunity("O06", "A2", "Organic Search", WON, 20000, "2026-02-01 09:00:00", "2026-04-15", "Competitor"),
        opportunity("O07", "A2", "Organic Search", WON, 10000, "2026-04-01 09:00:00", "2026-05-11"),
        opportunity("O08", "A2", "Organic Search", WON, 30000, "2026-03-01 09:00:00", "2026-06-30"),
        opportunity("O09", "A1", "Paid Search", WON, 24000, "2026-04-10 09:00:00", "2026-06-09"),
        opportunity("O10", "A1", "Paid Search", LOST, 6000, "2026-04-01 09:00:00", "2026-05-01", "Price"),
        opportunity("O11", "A1", "Paid Search", LOST, 2000, "2026-04-05 09:00:00", "2026-05-05", " price "),
        opportunity("O12", "A2", "Paid Search", LOST, 8000, "2026-04-01 09:00:00", "2026-06-01", "Poor Fit"),
        opportunity("O13", "A1", "Referral", LOST, 4000, "2026-04-01 09:00:00", "2026-04-20", "Missing Feature"),
        opportunity("O14", "A2", "Referral", LOST, 4000, "2026-04-02 09:00:00", "2026-05-02", "Competitor"),
        opportunity("O15", "A1", "Referral", LOST, 50000, "2026-04-03 09:00:00", "2026-06-15"),
        opportunity("O16", "A3", "Paid Search", "Negotiation", 90000, "2026-02-01 09:00:00", "2026-09-30"),
        opportunity("O17", "A3", "Outbound", "Discovery", 70000, "2026-03-01 09:00:00", "2026-09-30"),
        opportunity("O18", "A1", "Paid Search", WON, 5000, "2026-04-02 09:00:00", "2026-05-20", kind="Expansion"),
        opportunity("O19", "A1", "Paid Search", LOST, 9000, "2026-04-03 09:00:00", "2026-05-25", "Price",
                    kind="Renewal"),
    ],
    "salesforce.opportunity_history": [
        *history("O01", ("Prospecting", "2026-01-05 10:00:00"), ("Discovery", "2026-01-12 10:00:00"),
                 (WON, "2026-02-04 15:00:00")),
        *history("O02", ("Prospecting", "2026-01-10 09:00:00"), (LOST, "2026-03-01 12:00:00")),
        *history("O03", ("Prospecting", "2026-02-01 09:00:00"), (LOST, "2026-03-15 12:00:00")),
        *history("O04", ("Prospecting", "2026-01-20 09:00:00"), (LOST, "2026-02-20 12:00:00")),
        *history("O05", ("Prospecting", "2026-03-01 08:00:00"), (LOST, "2026-03-31 23:00:00")),
        *history("O06", ("Prospecting", "2026-02-01 09:00:00"), ("Discovery", "2026-02-10 09:00:00"),
                 (LOST, "2026-03-10 09:00:00"), ("Discovery", "2026-03-20 09:00:00"), (WON, "2026-04-15 12:00:00")),
        # O07: no history at all
        *history("O08", ("Prospecting", "2026-03-01 09:00:00"), (WON, "2026-06-30 16:00:00")),
        *history("O09", ("Prospecting", "2026-04-10 09:00:00"), (WON, "2026-06-09 16:00:00")),
        *history("O10", ("Prospecting", "2026-04-01 09:00:00"), (LOST, "2026-05-01 10:00:00")),
        *history("O11", ("Prospecting", "2026-04-05 09:00:00"), (LOST, "2026-05-05 10:00:00")),
        *history("O12", ("Prospecting", "2026-04-01 09:00:00"), (LOST, "2026-06-01 10:00:00")),
        *history("O13", ("Prospecting", "2026-04-01 09:00:00"), (LOST, "2026-04-20 10:00:00")),
        *history("O14", ("Prospecting", "2026-04-02 09:00:00"), (LOST, "2026-05-02 10:00:00")),
        *history("O15", ("Prospecting", "2026-04-03 09:00:00"), (LOST, "2026-06-15 10:00:00")),
        *history("O16", ("Prospecting", "2026-02-01 09:00:00"), ("Negotiation", "2026-03-01 09:00:00")),
        *history("O17", ("Prospecting", "2026-03-01 09:00:00"), (LOST, "2026-03-05 09:00:00"),
                 ("Discovery", "2026-03-10 09:00:00")),
        *history("O18", ("Prospecting", "2026-04-02 09:00:00"), (WON, "2026-05-20 10:00:00")),
        *history("O19", ("Prospecting", "2026-04-03 09:00:00"), (LOST, "2026-05-25 10:00:00")),
    ],
}  # fmt: skip

MARTS = ["fct_opportunity_outcomes", "rpt_closed_lost_reasons_quarterly", "rpt_win_rates_quarterly"]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    tmp_path = tmp_path_factory.mktemp("closed_lost_and_win_rates")
    settings = settings_for(tmp_path, write_raw(tmp_path / "raw", TABLES))
    # The three marts and everything upstream; the definitions tables are one asset that is built whole.
    result = materialize(settings, " or ".join([f'+key:"marts/{name}"' for name in MARTS] + ["group:definitions"]))
    assert result.success
    failed = [
        (check.asset_key.to_user_string(), check.check_name)
        for check in result.get_asset_check_evaluations()
        if not check.passed
    ]
    assert not failed
    yield settings


def value(cell: object) -> object:
    """None for SQL nulls, else the plain value."""
    return None if pd.isna(cell) else cell


def test_outcomes_fact(built: Settings) -> None:
    fact = query(built, "select * from marts.fct_opportunity_outcomes order by opportunity_id").set_index(
        "opportunity_id"
    )
    # O16 and O17 are open (O17 was lost once, then reopened and is still open): not in the fact.
    assert list(fact.index) == [f"O{number:02d}" for number in [*range(1, 16), 18, 19]]
    rows = {
        opportunity_id: (
            row.close_quarter.date(),
            "won" if row.is_won else "lost" if row.is_lost else "?",
            row.segment,
            row.channel,
            value(row.loss_reason),
            value(row.loss_reason_bucket),
            bool(row.is_loss_reason_missing),
            int(row.sales_cycle_days),
            bool(row.was_reopened),
        )
        for opportunity_id, row in fact.iterrows()
    }
    assert rows == {
        "O01": (Q1, "won", "SMB", "Paid Search", None, None, False, 30, False),
        "O02": (Q1, "lost", "SMB", "Paid Search", "Price", "Pricing", False, 50, False),
        "O03": (Q1, "lost", "SMB", "Paid Search", "Unspecified", "Unspecified", True, 42, False),
        "O04": (Q1, "lost", "Mid-Market", "Organic", "Unspecified", "Unspecified", True, 31, False),
        "O05": (Q1, "lost", "Unknown", "Unattributed", "Timing", "Sales Process", False, 30, False),
        "O06": (Q2, "won", "Mid-Market", "Organic", None, None, False, 73, True),
        "O07": (Q2, "won", "Mid-Market", "Organic", None, None, False, 40, False),
        "O08": (Q2, "won", "Mid-Market", "Organic", None, None, False, 121, False),
        "O09": (Q2, "won", "SMB", "Paid Search", None, None, False, 60, False),
        "O10": (Q2, "lost", "SMB", "Paid Search", "Price", "Pricing", False, 30, False),
        "O11": (Q2, "lost", "SMB", "Paid Search", "Price", "Pricing", False, 30, False),
        "O12": (Q2, "lost", "Mid-Market", "Paid Search", "Poor Fit", "Targeting", False, 61, False),
        "O13": (Q2, "lost", "SMB", "Referral", "Missing Feature", "Product", False, 19, False),
        "O14": (Q2, "lost", "Mid-Market", "Referral", "Competitor", "Product", False, 30, False),
        "O15": (Q2, "lost", "SMB", "Referral", "Unspecified", "Unspecified", True, 73, False),
        "O18": (Q2, "won", "SMB", "Paid Search", None, None, False, 48, False),
        "O19": (Q2, "lost", "SMB", "Paid Search", "Price", "Pricing", False, 52, False),
    }
    assert fact.loc["O18", "opportunity_type"] == "Expansion" and fact.loc["O19", "opportunity_type"] == "Renewal"
    assert list(fact.loc[["O01", "O18", "O19"], "is_new_business"]) == [True, False, False]
    # The reopened deal closed at its last close (the win), not at its earlier loss; O07 has no history: its close date.
    assert fact.loc["O06", "closed_at"] == datetime(2026, 4, 15, 12, 0)
    assert fact.loc["O07", "closed_at"] == datetime(2026, 5, 11)
    # O05 lost at 23:00 UTC on Mar 31: still Q1; its missing amount stays missing in the fact.
    assert fact.loc["O05", "closed_at"] == datetime(2026, 3, 31, 23, 0) and pd.isna(fact.loc["O05", "amount_usd"])


def test_closed_lost_reasons(built: Settings) -> None:
    reasons = query(built, "select * from marts.rpt_closed_lost_reasons_quarterly order by all")
    rows = {
        (row.close_quarter.date(), row.loss_reason): (
            row.loss_reason_bucket,
            int(row.lost_deals_count),
            float(row.lost_amount_usd),
            int(row.quarter_lost_deals_count),
            row.lost_deals_share,
            value(row.loss_reason_rank),
            bool(row.is_top_3),
        )
        for row in reasons.itertuples()
    }
    assert rows == {
        # Q1: 4 deals lost. Price 5,000 ranks 1; Timing (no amount: 0) ranks 2; only two reasons to rank, so the top 3
        # has two. Unspecified (O03 3,000 + O04 8,000) is half the lost deals but never ranked.
        (Q1, "Price"): ("Pricing", 1, 5000.0, 4, pytest.approx(1 / 4), 1, True),
        (Q1, "Timing"): ("Sales Process", 1, 0.0, 4, pytest.approx(1 / 4), 2, True),
        (Q1, "Unspecified"): ("Unspecified", 2, 11000.0, 4, pytest.approx(2 / 4), None, False),
        # Q2: 6 deals lost. Price (O10 6,000 + O11 2,000) and Poor Fit (8,000) tie on amount: Price has more deals.
        # Competitor and Missing Feature tie on amount (4,000) and deals (1): by name, Competitor is third.
        # Unspecified (O15 50,000) lost the most but is not ranked.
        (Q2, "Competitor"): ("Product", 1, 4000.0, 6, pytest.approx(1 / 6), 3, True),
        (Q2, "Missing Feature"): ("Product", 1, 4000.0, 6, pytest.approx(1 / 6), 4, False),
        (Q2, "Poor Fit"): ("Targeting", 1, 8000.0, 6, pytest.approx(1 / 6), 2, True),
        (Q2, "Price"): ("Pricing", 2, 8000.0, 6, pytest.approx(2 / 6), 1, True),
        (Q2, "Unspecified"): ("Unspecified", 1, 50000.0, 6, pytest.approx(1 / 6), None, False),
    }


def test_win_rates(built: Settings) -> None:
    win_rates = query(built, "select * from marts.rpt_win_rates_quarterly order by all")
    rows = {
        (row.close_quarter.date(), row.segment, row.channel, row.opportunity_type): (
            int(row.won_deals_count),
            int(row.lost_deals_count),
            float(row.won_amount_usd),
            float(row.lost_amount_usd),
            value(row.win_rate),
            value(row.amount_win_rate),
            value(row.median_won_sales_cycle_days),
            value(row.average_won_sales_cycle_days),
        )
        for row in win_rates.itertuples()
    }
    third = pytest.approx(1 / 3)
    new = {
        (quarter, segment, channel): values
        for (quarter, segment, channel, kind), values in rows.items()
        if kind == "New Business"
    }
    # Other types have their own rows: O18's expansion won (1 / 1, 48 days), O19's renewal lost (0 / 1).
    assert {key: values for key, values in rows.items() if key[3] != "New Business"} == {
        (Q2, "SMB", "Paid Search", "Expansion"): (1, 0, 5000.0, 0.0, 1.0, 1.0, 48.0, 48.0),
        (Q2, "SMB", "Paid Search", "Renewal"): (0, 1, 0.0, 9000.0, 0.0, 0.0, None, None),
    }
    assert new == {
        # O01 won 10,000 in 30 days; O02 and O03 lost 8,000: 1/3 by count, 10,000 / 18,000 by amount.
        (Q1, "SMB", "Paid Search"): (1, 2, 10000.0, 8000.0, third, pytest.approx(5 / 9), 30.0, 30.0),
        # O04 lost; O06's loss on Mar 10 does not count: it was reopened and won in Q2.
        (Q1, "Mid-Market", "Organic"): (0, 1, 0.0, 8000.0, 0.0, 0.0, None, None),
        # O05 lost with no amount: the amount win rate has a zero denominator, so it is null (not 0).
        (Q1, "Unknown", "Unattributed"): (0, 1, 0.0, 0.0, 0.0, None, None, None),
        # O06 (73 days), O07 (40), O08 (121) won: median 73, average 234 / 3 = 78.
        (Q2, "Mid-Market", "Organic"): (3, 0, 60000.0, 0.0, 1.0, 1.0, 73.0, 78.0),
        (Q2, "Mid-Market", "Paid Search"): (0, 1, 0.0, 8000.0, 0.0, 0.0, None, None),
        (Q2, "Mid-Market", "Referral"): (0, 1, 0.0, 4000.0, 0.0, 0.0, None, None),
        # O09 won 24,000 in 60 days; O10 and O11 lost 8,000: 24,000 / 32,000 = 0.75 by amount.
        (Q2, "SMB", "Paid Search"): (1, 2, 24000.0, 8000.0, third, 0.75, 60.0, 60.0),
        (Q2, "SMB", "Referral"): (0, 2, 0.0, 54000.0, 0.0, 0.0, None, None),
    }
    # Enterprise has only open deals (O16, O17): no row in any quarter.
    assert not any(segment == "Enterprise" for _, segment, _, _ in rows)


def test_lost_deals_agree_across_the_marts(built: Settings) -> None:
    # Q1: O02, O03, O04, O05; Q2: O10 .. O15.
    expected = {Q1: 4, Q2: 6}
    # Closed-lost reasons count new business only (not O19's lost renewal): so do the win rates' new-business rows.
    for table, where in (
        ("rpt_closed_lost_reasons_quarterly", "true"),
        ("rpt_win_rates_quarterly", "opportunity_type = 'New Business'"),
    ):
        totals = query(
            built, f"select close_quarter, sum(lost_deals_count) as lost from marts.{table} where {where} group by all"
        )
        assert {row.close_quarter.date(): int(row.lost) for row in totals.itertuples()} == expected
