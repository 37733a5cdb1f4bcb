"""PQL revenue and rep retained revenue worked through by hand on four billing customers and three workspaces.

Shared definitions in force (`definitions.yml`): a workspace is a PQL when, within 14 days of its first trial_started
or signed_up event, it has >= 2 distinct active users and >= 2 activation events (project_created, invited_teammate,
integration_connected, report_shared); pql_at is when the later of the two minimums is reached. MQL: fit (20 industry
Software + 20 for 50-5000 employees + 10 United States = 50) >= 40 on its own: an MQL when the lead is created.
Conversion window 180 days. Price: $100 per seat per month (10000 cents).

Product (workspaces W1..W3):
- W1: trial U1 Jan 2 09:00; project_created (U1) Jan 3; invited_teammate (U1) Jan 4 10:00 (2nd activation); U2's
  report_shared Jan 5 12:00 (2nd user): PQL at 2025-01-05 12:00.
- W2: trial Jan 10, three activations, but only U3: never a PQL.
- W3: signed_up U4 Feb 3 09:00; project_created (U4) Feb 4; integration_connected (U5) Feb 6 09:00: PQL Feb 6 09:00.

CRM (reps R1, R2: Account Executives; R3: Customer Success):
- L1 (Product Sign-up, workspace W1, fit 50): MQL at its creation Jan 2 10:00 (before its PQL on Jan 5);
  accepted Jan 8; converted to account A1 (workspace W1) and opportunity O1: Discovery (sales-qualified) Jan 15,
  Closed Won Feb 10 15:00 recorded by R1. O1 was handed to R3 (Customer Success) after the win: owner today R3.
- L2 (Paid Search, fit 50): MQL at its creation Jan 20 09:00; accepted Jan 21; A2 / O2: Discovery Jan 25, Closed
  Won Feb 20 15:00 recorded by R2 (the owner).
- L3 (Paid Search, fit 50): MQL Jan 25 09:00 (its creation), never converted.
- L5 (Product Sign-up, workspace W3): converted to O5 (account A5), in Discovery since Feb 1 10:00 (before W3's PQL on
  Feb 6: that sales-qualification does not count for the PQL), still open.
- O3 (account A3, Outbound, owner R1): Closed Won, close date Feb 25, no stage history at all: closing rep = the
  current owner R1; no lead.
- O4 (account A2, owner R1): an Expansion (definitions.opportunity_types), won Jan 30 15:00 by R1, before A2's
  new-business deal O2. The first won deal counts new business only: A2's closing deal stays O2 (R2); counting
  every type, O4 would make C2 R1's customer.

Billing (MRR at each month's close; the data ends at C1's period start 2026-03-10, so the last month is 2026-03):
- C1 (A1): 2 seats from 2025-02-10 ($200), 5 seats from 2025-06-15 ($500): new $200 in Feb 2025, +$300 expansion
  in June 2025; MRR in Feb 2026 (first month + 12) = $500.
- C2 (A2): 3 seats from 2025-02-20 ($300), cancelled 2025-08-20: churn of $300 in Aug 2025; Feb 2026 MRR = 0.
- C3 (A3): 2 seats from 2025-02-26 ($200), down to 1 seat on 2025-10-15: contraction $100 in Oct; Feb 2026 = $100.
- C4 (no CRM account, self-serve): 1 seat from 2025-06-05 ($100): its 12-month window ends 2026-06, after the data.

Sources: C1: PQL Jan 5 12:00 <= first sales-qualified Jan 15 -> pql (its MQL Jan 2 came first too; PQL wins).
C2: no PQL; MQL Jan 20 <= sales-qualified Jan 25 -> mql. C3: no lead, no workspace -> other. C4: no account -> other.

Minimum bases (definitions.minimum_bases) for this company: 1 customer, $300 of MRR, 2 leads. A ratio on a smaller
base is null, "base below minimum"; exactly at the minimum it is published: C2's $300 (mql, February) and R2's $300
have their NRR; C1's and C3's $200 cohorts (pql, other) do not; January's 2 sales-qualified MQLs have their
sales-qualified-to-won rate, a cohort of 1 PQL has no rate.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pandas as pd
import pytest

from pipelines.spec.settings import Settings
from tests.conftest import materialize, settings_for
from tests.fixtures import definitions_with, query, write_raw

SELECTION = '+key:"marts/rpt_pql_revenue_monthly" or +key:"marts/rpt_rep_retained_revenue" or group:definitions'
FOREVER = "9999-12-31 23:59:59"
MINIMUM_BASES = {"customers": 1, "mrr_usd": 300, "leads": 2}
BELOW = "base below minimum"


def event(event_id: str, name: str, user: str, workspace: str, at: str) -> dict:
    return {"id": event_id, "event": name, "user_id": user, "account_id": workspace, "timestamp": at, "received_at": at}


def lead(lead_id: str, source: str, created: str, **extra: object) -> dict:
    return {"id": lead_id, "lead_source": source, "created_date": created, **extra}


ICP_FIT = {"industry": "Software", "number_of_employees": 150, "country": "United States"}  # fit 50


def opportunity(opportunity_id: str, account: str, stage: str, created: str, owner: str, **extra: object) -> dict:
    return {
        "id": opportunity_id,
        "account_id": account,
        "stage_name": stage,
        "created_date": created,
        "owner_id": owner,
        "type": "New Business",
        **extra,
    }


def history(history_id: str, opportunity_id: str, stage: str, at: str, by: str) -> dict:
    return {"id": history_id, "opportunity_id": opportunity_id, "stage_name": stage, "created_date": at,
            "created_by_id": by}  # fmt: skip


def customer(customer_id: str, account_id: str | None, created: str) -> dict:
    metadata = f'{{"salesforce_account_id": "{account_id}"}}' if account_id else "{}"
    return {"id": customer_id, "metadata": metadata, "created": created, "currency": "usd", "livemode": "true"}


def subscription(
    subscription_id: str, customer_id: str, status: str, start: str, period_start: str, ended: str | None = None
) -> dict:
    return {
        "id": subscription_id,
        "customer_id": customer_id,
        "status": status,
        "created": start,
        "start_date": start,
        "current_period_start": period_start,
        "canceled_at": ended,
        "ended_at": ended,
        "livemode": "true",
    }


def item(item_id: str, subscription_id: str, quantity: int, created: str, **history_mode: object) -> dict:
    return {"id": item_id, "subscription_id": subscription_id, "price_id": "price_M", "quantity": quantity,
            "created": created, **history_mode}  # fmt: skip


TABLES = {
    "product.events": [
        event("e1", "trial_started", "U1", "W1", "2025-01-02 09:00:00"),
        event("e2", "project_created", "U1", "W1", "2025-01-03 10:00:00"),
        event("e3", "invited_teammate", "U1", "W1", "2025-01-04 10:00:00"),
        event("e4", "report_shared", "U2", "W1", "2025-01-05 12:00:00"),
        event("e5", "trial_started", "U3", "W2", "2025-01-10 09:00:00"),
        event("e6", "project_created", "U3", "W2", "2025-01-11 09:00:00"),
        event("e7", "integration_connected", "U3", "W2", "2025-01-12 09:00:00"),
        event("e8", "report_shared", "U3", "W2", "2025-01-13 09:00:00"),
        event("e9", "signed_up", "U4", "W3", "2025-02-03 09:00:00"),
        event("e10", "project_created", "U4", "W3", "2025-02-04 09:00:00"),
        event("e11", "integration_connected", "U5", "W3", "2025-02-06 09:00:00"),
    ],
    "salesforce.user": [
        {"id": "005R1", "department": "Account Executives"},
        {"id": "005R2", "department": "Account Executives"},
        {"id": "005R3", "department": "Customer Success"},
    ],
    "salesforce.lead": [
        lead("00QL1", "Product Sign-up", "2025-01-02 10:00:00", **ICP_FIT, product_workspace_id_c="W1",
             accepted_date_c="2025-01-08 09:00:00", is_converted="true", converted_date="2025-01-10",
             converted_account_id="001A1", converted_opportunity_id="006O1"),
        lead("00QL2", "Paid Search", "2025-01-20 09:00:00", **ICP_FIT, accepted_date_c="2025-01-21 09:00:00",
             is_converted="true", converted_date="2025-01-22", converted_account_id="001A2",
             converted_opportunity_id="006O2"),
        lead("00QL3", "Paid Search", "2025-01-25 09:00:00", **ICP_FIT),
        lead("00QL5", "Product Sign-up", "2025-02-01 09:00:00", product_workspace_id_c="W3", is_converted="true",
             converted_date="2025-02-01", converted_account_id="001A5", converted_opportunity_id="006O5"),
    ],
    "marketing.engagements": [
        {"id": "M1", "lead_id": "00QL1", "activity_type": "demo_request", "occurred_at": "2025-01-03 10:00:00"},
        {"id": "M2", "lead_id": "00QL2", "activity_type": "demo_request", "occurred_at": "2025-01-20 10:00:00"},
        {"id": "M3", "lead_id": "00QL3", "activity_type": "demo_request", "occurred_at": "2025-01-25 10:00:00"},
    ],
    "salesforce.account": [
        {"id": "001A1", "number_of_employees": 150, "product_workspace_id_c": "W1"},
        {"id": "001A2", "number_of_employees": 150},
        {"id": "001A3", "number_of_employees": 30},
        {"id": "001A5", "number_of_employees": 10},
    ],
    "salesforce.opportunity": [
        opportunity("006O1", "001A1", "Closed Won", "2025-01-10 12:00:00", "005R3", close_date="2025-02-10",
                    is_closed="true", is_won="true", amount=2400, lead_source="Product Sign-up"),
        opportunity("006O2", "001A2", "Closed Won", "2025-01-22 12:00:00", "005R2", close_date="2025-02-20",
                    is_closed="true", is_won="true", amount=3600, lead_source="Paid Search"),
        opportunity("006O3", "001A3", "Closed Won", "2025-02-01 12:00:00", "005R1", close_date="2025-02-25",
                    is_closed="true", is_won="true", amount=2400, lead_source="Outbound"),
        opportunity("006O5", "001A5", "Discovery", "2025-02-01 10:00:00", "005R2", close_date="2025-04-30",
                    lead_source="Product Sign-up"),
        opportunity("006O4", "001A2", "Closed Won", "2025-01-12 12:00:00", "005R1", close_date="2025-01-30",
                    is_closed="true", is_won="true", amount=1200, lead_source="Paid Search", type="Expansion"),
    ],
    "salesforce.opportunity_history": [
        history("H1", "006O1", "Prospecting", "2025-01-10 12:00:00", "005R1"),
        history("H2", "006O1", "Discovery", "2025-01-15 12:00:00", "005R1"),
        history("H3", "006O1", "Closed Won", "2025-02-10 15:00:00", "005R1"),
        history("H4", "006O2", "Prospecting", "2025-01-22 12:00:00", "005R2"),
        history("H5", "006O2", "Discovery", "2025-01-25 12:00:00", "005R2"),
        history("H6", "006O2", "Closed Won", "2025-02-20 15:00:00", "005R2"),
        history("H7", "006O5", "Discovery", "2025-02-01 10:00:00", "005R2"),
        history("H8", "006O4", "Prospecting", "2025-01-12 12:00:00", "005R1"),
        history("H9", "006O4", "Closed Won", "2025-01-30 15:00:00", "005R1"),
    ],
    "stripe.price": [
        {"id": "price_M", "currency": "usd", "unit_amount": 10000, "type": "recurring", "recurring_interval": "month",
         "recurring_interval_count": 1, "livemode": "true"},
    ],
    "stripe.customer": [
        customer("cus_C1", "001A1", "2025-02-10 10:00:00"),
        customer("cus_C2", "001A2", "2025-02-20 10:00:00"),
        customer("cus_C3", "001A3", "2025-02-26 09:00:00"),
        customer("cus_C4", None, "2025-06-05 09:00:00"),
    ],
    "stripe.subscription": [
        subscription("sub_C1", "cus_C1", "active", "2025-02-10 11:00:00", "2026-03-10 11:00:00"),
        subscription("sub_C2", "cus_C2", "canceled", "2025-02-20 16:00:00", "2025-07-20 16:00:00",
                     ended="2025-08-20 16:00:00"),
        subscription("sub_C3", "cus_C3", "active", "2025-02-26 10:00:00", "2026-02-26 10:00:00"),
        subscription("sub_C4", "cus_C4", "active", "2025-06-05 10:00:00", "2026-03-05 10:00:00"),
    ],
    "stripe.subscription_item": [
        item("si_C1", "sub_C1", 2, "2025-02-10 11:00:00", _fivetran_start="2025-02-10 11:00:00",
             _fivetran_end="2025-06-15 12:00:00", _fivetran_active="false"),
        item("si_C1", "sub_C1", 5, "2025-02-10 11:00:00", _fivetran_start="2025-06-15 12:00:00",
             _fivetran_end=FOREVER, _fivetran_active="true"),
        item("si_C2", "sub_C2", 3, "2025-02-20 16:00:00"),
        item("si_C3", "sub_C3", 2, "2025-02-26 10:00:00", _fivetran_start="2025-02-26 10:00:00",
             _fivetran_end="2025-10-15 12:00:00", _fivetran_active="false"),
        item("si_C3", "sub_C3", 1, "2025-02-26 10:00:00", _fivetran_start="2025-10-15 12:00:00",
             _fivetran_end=FOREVER, _fivetran_active="true"),
        item("si_C4", "sub_C4", 1, "2025-06-05 10:00:00"),
    ],
}  # fmt: skip


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    tmp_path = tmp_path_factory.mktemp("pql_and_rep_revenue")
    # The data ends at C1's period start (2026-03-10); the latest connector sync column in these files (a product
    # event's received_at, 2025-02-06) would end it eleven months early.
    definitions_file = definitions_with(tmp_path, minimum_bases=MINIMUM_BASES)
    settings = settings_for(
        tmp_path, write_raw(tmp_path / "raw", TABLES), as_of="2026-03-10 11:00:00", definitions_file=definitions_file
    )
    result = materialize(settings, SELECTION)
    assert result.success
    checks = result.get_asset_check_evaluations()
    assert [check.check_name for check in checks if not check.passed] == []
    assertions = {
        "assert_new_mrr_matches_mrr_facts",
        "assert_12_month_bridge_adds_up",
        "assert_pql_count_matches_workspaces",
        "assert_new_mrr_closed_matches_customers_with_a_closing_rep",
        "assert_counts_are_consistent",
    }
    assert assertions <= {check.check_name for check in checks}
    yield settings


def plain(value: object) -> object:
    """None for SQL nulls, float for numbers, so rows compare with hand-written tuples."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, bool | str):
        return value
    return float(value)  # type: ignore[arg-type]


def test_pql_moments(built: Settings) -> None:
    workspaces = query(built, "select workspace_id, pql_at from intermediate.int_workspaces_product_qualified")
    pql_at = {row.workspace_id: None if pd.isna(row.pql_at) else str(row.pql_at) for row in workspaces.itertuples()}
    assert pql_at == {"W1": "2025-01-05 12:00:00", "W2": None, "W3": "2025-02-06 09:00:00"}


def test_customer_acquisitions(built: Settings) -> None:
    facts = query(built, "select * from marts.fct_customer_acquisitions").set_index("customer_id")
    columns = ["acquisition_source", "new_mrr_usd", "closing_opportunity_id", "closing_rep_user_id",
               "closing_rep_source", "closing_rep_team", "current_owner_user_id", "is_12_month_window_complete",
               "mrr_12_month_usd", "expansion_12_month_mrr_usd", "contraction_12_month_mrr_usd",
               "churned_12_month_mrr_usd", "reactivation_12_month_mrr_usd", "has_churned_12_month"]  # fmt: skip
    rows = {customer_id: tuple(plain(row[column]) for column in columns) for customer_id, row in facts.iterrows()}
    assert rows == {
        # C1: won by R1 (recorded the win), owned by R3 today; $200 -> $500 in Feb 2026: +$300 expansion.
        "cus_C1": ("pql", 200.0, "006O1", "005R1", "stage_history", "Account Executives", "005R3", True,
                   500.0, 300.0, 0.0, 0.0, 0.0, False),
        # C2: won by R2 with O2 (O4, an earlier expansion won by R1, is not new business); $300 churned in August
        # 2025, nothing in Feb 2026.
        "cus_C2": ("mql", 300.0, "006O2", "005R2", "stage_history", "Account Executives", "005R2", True,
                   0.0, 0.0, 0.0, 300.0, 0.0, True),
        # C3: no history: the current owner R1; $200 -> $100 in Oct 2025.
        "cus_C3": ("other", 200.0, "006O3", "005R1", "current_owner", "Account Executives", "005R1", True,
                   100.0, 0.0, 100.0, 0.0, 0.0, False),
        # C4: self-serve, no deal; window (to 2026-06) not complete: 12-month columns null.
        "cus_C4": ("other", 100.0, None, None, None, None, None, False, None, None, None, None, None, None),
    }  # fmt: skip
    assert str(facts.loc["cus_C1", "pql_at"]) == "2025-01-05 12:00:00"
    assert str(facts.loc["cus_C1", "mql_at"]) == "2025-01-02 10:00:00"  # L1: fit 50, an MQL at its creation
    assert str(facts.loc["cus_C1", "sales_qualified_at"]) == "2025-01-15 12:00:00"
    assert facts["first_paid_month"].dt.strftime("%Y-%m").to_dict() == {
        "cus_C1": "2025-02", "cus_C2": "2025-02", "cus_C3": "2025-02", "cus_C4": "2025-06"
    }  # fmt: skip


PQL_COLUMNS = ["qualified_count", "sales_qualified_count", "won_count", "qualified_to_sales_qualified_rate",
               "sales_qualified_to_won_rate", "qualified_to_won_rate", "new_customer_count", "new_mrr_usd",
               "nrr_cohort_customer_count", "retained_12_month_mrr_usd", "nrr_12_month",
               "nrr_12_month_null_reason"]  # fmt: skip
NO_CUSTOMERS = (0.0, 0.0, 0.0, None, None, "no new customers")
NOTHING_QUALIFIED = (0.0, 0.0, 0.0, None, None, None)
OTHER_FUNNEL = (None, None, None, None, None, None)


def test_pql_revenue_mart(built: Settings) -> None:
    report = query(built, "select * from marts.rpt_pql_revenue_monthly")
    rows = {
        (row["report_month"].strftime("%Y-%m"), row["source"]): tuple(plain(row[column]) for column in PQL_COLUMNS)
        for _, row in report.iterrows()
    }
    expected = {
        # January: PQL W1 -> O1 sales-qualified Jan 15 (after the PQL) -> won Feb 10: 1 / 1 / 1, a base of 1 < 2.
        ("2025-01", "pql"): (1.0, 1.0, 1.0, None, None, None, *NO_CUSTOMERS),
        # January MQLs L1, L2, L3; L1 and L2 sales-qualified and won: 2/3, 2/2, 2/3.
        ("2025-01", "mql"): (3.0, 2.0, 2.0, 2 / 3, 1.0, 2 / 3, *NO_CUSTOMERS),
        ("2025-01", "other"): (*OTHER_FUNNEL, *NO_CUSTOMERS),
        # February: PQL W3, whose only opportunity qualified before the PQL: 1 / 0 / 0, a base of 1 < 2. New
        # customer C1 ($200 < $300), $500 in Feb 2026: NRR 500 / 200 = 2.5 without a minimum, null with it.
        ("2025-02", "pql"): (1.0, 0.0, 0.0, None, None, None, 1.0, 200.0, 1.0, 500.0, None, BELOW),
        # C2 ($300, exactly the minimum), churned: NRR 0 / 300 = 0.
        ("2025-02", "mql"): (*NOTHING_QUALIFIED, 1.0, 300.0, 1.0, 0.0, 0.0, None),
        # C3 ($200 -> $100): NRR 100 / 200 = 0.5 without a minimum; $200 < $300: null.
        ("2025-02", "other"): (*OTHER_FUNNEL, 1.0, 200.0, 1.0, 100.0, None, BELOW),
        # June: C4 ($100) is new, but June 2026 is after the data (2026-03): no NRR yet.
        ("2025-06", "other"): (*OTHER_FUNNEL, 1.0, 100.0, 0.0, None, None, "cohort younger than 12 months"),
    }
    for month in ("2025-03", "2025-04", "2025-05", "2025-06"):
        for source in ("pql", "mql"):
            expected[(month, source)] = (*NOTHING_QUALIFIED, *NO_CUSTOMERS)
    for month in ("2025-03", "2025-04", "2025-05"):
        expected[(month, "other")] = (*OTHER_FUNNEL, *NO_CUSTOMERS)
    assert rows.keys() == expected.keys()  # January .. June 2025 x 3 sources = 18 rows
    for key, values in expected.items():
        assert rows[key] == pytest.approx(values), key
    # The reasons of the funnel rates: a base of one PQL is below the minimum of 2; nobody qualified in March.
    reasons = report.set_index(["source", report["report_month"].dt.strftime("%Y-%m")])
    reason_columns = ["qualified_rates_null_reason", "sales_qualified_to_won_null_reason"]
    assert tuple(reasons.loc[("pql", "2025-01"), reason_columns]) == (BELOW, BELOW)
    assert tuple(reasons.loc[("pql", "2025-02"), reason_columns]) == (BELOW, "none sales-qualified")
    assert reasons.loc[("mql", "2025-01"), reason_columns].isna().all()  # 3 MQLs, 2 sales-qualified: published
    assert tuple(reasons.loc[("mql", "2025-03"), reason_columns]) == ("none qualified", "none sales-qualified")
    # The latest lead creation or trial start is 2025-02-03: no cohort has had its 180 days yet.
    assert set(report.loc[report["source"] != "other", "is_conversion_mature"]) == {False}
    # New MRR over every source = the MRR facts' new MRR: 200 + 300 + 200 + 100.
    assert float(report["new_mrr_usd"].sum()) == 800


REP_COLUMNS = ["closing_rep_team", "deals_won_count", "deals_credited_to_current_owner_count",
               "customers_closed_count", "new_mrr_closed_usd", "mature_customer_count", "mature_new_mrr_usd",
               "expansion_12_month_mrr_usd", "contraction_12_month_mrr_usd", "churned_12_month_mrr_usd",
               "reactivation_12_month_mrr_usd", "retained_12_month_mrr_usd", "churned_customer_12_month_count",
               "nrr_12_month", "nrr_12_month_null_reason"]  # fmt: skip


def test_rep_retained_revenue_mart(built: Settings) -> None:
    report = query(built, "select * from marts.rpt_rep_retained_revenue")
    rows = {
        (row["closing_rep_user_id"], row["close_month"].strftime("%Y-%m")): tuple(
            plain(row[column]) for column in REP_COLUMNS
        )
        for _, row in report.iterrows()
    }
    assert rows == {
        # R1 closed O1 (C1, $200) and O3 (C3, $200; credited to the current owner) in February 2025: new $400;
        # 12 months: +$300 (C1), -$100 (C3); retained $500 + $100 = $600; NRR 600 / 400 = 1.5.
        ("005R1", "2025-02"): ("Account Executives", 2.0, 1.0, 2.0, 400.0, 2.0, 400.0, 300.0, 100.0, 0.0, 0.0,
                               600.0, 0.0, 1.5, None),
        # R2 closed O2 (C2, $300: exactly the minimum), which churned in August 2025: retained 0, NRR 0.
        ("005R2", "2025-02"): ("Account Executives", 1.0, 0.0, 1.0, 300.0, 1.0, 300.0, 0.0, 0.0, 300.0, 0.0,
                               0.0, 1.0, 0.0, None),
    }  # fmt: skip
    # R3 owns O1 today but did not close it: no row. C4 (self-serve, $100) has no rep: $700 of the $800 new MRR.
    assert float(report["new_mrr_closed_usd"].sum()) == 700
    assert not report["nrr_12_month"].isna().any()
    assert date(2025, 2, 1) in set(report["close_month"].dt.date)
