"""The CRM-billing reconciliation worked through by hand on one small company: a case for each finding type, each
edge, and clean deals and customers that yield nothing.

Definitions in force (`definitions.yml`, reconciliation): billing_window_days 30, min_mrr_usd_for_crm 1000,
amount_tolerance_share 0.05; employee segments SMB 1-99, Mid-Market 100-999, Enterprise 1000+. The ARR bands are set
here to SMB from 0, Mid-Market from 24,000, Enterprise from 120,000 (round numbers the seat price reaches exactly).
One price: $10 per seat per month, so a customer's MRR is 10 x seats and its ARR 120 x seats. Every deal is New
Business unless said otherwise, without stage history (closed on its close date). The data's as-of time is
2026-03-31 12:00 (UTC is the reporting time zone): a deal is due once its close date + 30 days <= 2026-03-31.

Deals (account: employees):
- O1 (A1: 50, SMB): won 2026-01-10, $12,000; C1 starts 2026-01-10 with 100 seats: ARR 12,000. Clean.
- O2 (A2: 50): won 2026-01-05, $12,000; C2 starts 2026-02-04, exactly 30 days later: matched; 105 seats, ARR 12,600,
  600 = exactly 0.05 x 12,000 apart: no finding.
- O3 (A3: 50): won 2026-01-05; C3 starts 2026-02-05, 31 days later: won_without_billing (January), naming C3.
- O4 (A4: 50): won 2026-02-01, $12,000; C4 starts 2026-01-25, 7 days BEFORE the close (counts as billing): matched;
  106 seats, ARR 12,720, 720 > 600 apart: amount_mismatch (February).
- O5 (A5: 50): won 2026-03-01, no billing customer; 2026-03-01 + 30 = 2026-03-31, exactly due: won_without_billing
  (March), no customer.
- O6 (A6: 50): won 2026-03-02, no billing; due 2026-04-01, after the as-of date: not a finding yet.
- O7 (A1): an Expansion won 2026-03-01 without new billing: not new business, no finding.

Deals against the first invoice (customers from the close date with 100 seats, MRR 1,000, ARR 12,000, as the deal):
- O14 (A14): won 2026-01-12, $12,000; C14's first invoice in_C14 is $700 (a $300 one-off credit on its first
  month): annualised 700 x 12 / 1 = 8,400, 3,600 apart: amount_mismatch (January) on the invoice side alone, naming
  in_C14. A first invoice is taken as billed: a credit or a proration that far off the deal is a finding.
- O15 (A15): won 2026-01-12, $12,000; first invoice $950: annualised 11,400, exactly 600 apart: no finding.
- O18 (A18): won 2026-02-15, $10,000; C18 pays 100 seats x $100 a year (MRR 833.33, ARR 10,000); its first invoice,
  annual, is $10,000: 10,000 x 12 / 12 = 10,000 (an annual invoice counts once): no finding.
- O19 (A19): won 2026-01-12, $12,000; C19's first invoice is GBP 700, and GBP has no rate: not compared, and MRR
  agrees: no finding.

Deals in euros (currency_iso_code EUR; the others have none: the reporting currency). The rate feed has one EUR rate,
1.20 dated 2026-01-01 (rule month_start: January's rate, and February's from the month before; March has none):
- O16 (A16): won 2026-01-15, EUR 10,000 at 1.20 = $12,000; C16 (in USD) 100 seats from 2026-01-15: no finding.
- O17 (A17): won 2026-03-05, EUR 10,000: no March rate, so no amount_usd; listed in
  int_opportunities_unconverted ("no EUR exchange rate for 2026-03"); not due yet (no billing): no finding.

Customers without a known CRM account (all 2026-02-10 on):
- C8: no account id, 100 seats: MRR 1,000, exactly min_mrr_usd_for_crm: billing_without_crm (February).
- C9: no account id, 99 seats, MRR 990: self-serve, no finding.
- C10: names account A99, which the CRM does not have; 1 seat ($10): billing_without_crm (February) whatever its MRR.

Segments (customers from 2026-02-10; their latest paying month is March):
- C11 (A11: 500, Mid-Market): 199 seats, ARR 23,880 < 24,000: billing implies SMB: segment_mismatch (March).
- C12 (A12: 500, Mid-Market): 200 seats, ARR 24,000, exactly the Mid-Market minimum: no finding.
- C13 (A13: employees unknown): 2,000 seats, ARR 240,000 (Enterprise by billing): an unknown CRM segment is not
  compared, no finding.
C1-C4 are SMB accounts paying less than $24,000 a year: SMB both ways.

Findings: won_without_billing 2 (O3 in January, O5 in March), amount_mismatch 2 (O14, January; O4, February),
billing_without_crm 2 (C8, C10, February), segment_mismatch 1 (C11, March): 7.
"""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg
import pytest

from pipelines.spec.settings import Settings
from tests.conftest import materialize, settings_for
from tests.fixtures import definitions_with, query, write_raw

SELECTION = (
    '+key:"marts/rpt_crm_billing_reconciliation_monthly" or key:"intermediate/int_opportunities_unconverted"'
    " or group:definitions"
)
ARR_BANDS = {"segment_min_arr_usd": {"SMB": 0, "Mid-Market": 24000, "Enterprise": 120000}}


def won(
    opportunity_id: str, account: str, closed: str, amount: int = 12000, kind: str = "New Business", **extra: str
) -> dict:
    return {"id": opportunity_id, "account_id": account, "stage_name": "Closed Won", "type": kind, "amount": amount,
            "created_date": "2025-12-01 09:00:00", "close_date": closed, "is_closed": "true", "is_won": "true",
            "lead_source": "Outbound", **extra}  # fmt: skip


def customer(customer_id: str, account: str | None) -> dict:
    metadata = f'{{"salesforce_account_id": "{account}"}}' if account else "{}"
    return {"id": customer_id, "metadata": metadata, "created": "2025-12-01 09:00:00", "currency": "usd",
            "livemode": "true"}  # fmt: skip


def first_invoice(customer_id: str, created: str, cents: int, currency: str = "usd") -> dict:
    """The customer's first (paid) invoice, of its subscription."""
    return {"id": customer_id.replace("cus_", "in_"), "customer_id": customer_id, "currency": currency,
            "subscription_id": customer_id.replace("cus_", "sub_"), "status": "paid", "total": cents,
            "amount_paid": cents, "created": created, "livemode": "true", "is_deleted": "false"}  # fmt: skip


def billing(
    customer_id: str, account: str | None, start: str, seats: int, price: str = "price_S"
) -> dict[str, list[dict]]:
    """A customer paying `seats` x $10 a month (or `price`) from `start` on, with one subscription of one item."""
    subscription_id = customer_id.replace("cus_", "sub_")
    return {
        "stripe.customer": [customer(customer_id, account)],
        "stripe.subscription": [
            {"id": subscription_id, "customer_id": customer_id, "status": "active", "created": start,
             "start_date": start, "current_period_start": "2026-03-10 09:00:00", "livemode": "true"}
        ],
        "stripe.subscription_item": [
            {"id": customer_id.replace("cus_", "si_"), "subscription_id": subscription_id, "price_id": price,
             "quantity": seats, "created": start}
        ],
    }  # fmt: skip


CUSTOMERS = [
    billing("cus_C1", "001A1", "2026-01-10 09:00:00", 100),
    billing("cus_C2", "001A2", "2026-02-04 09:00:00", 105),
    billing("cus_C3", "001A3", "2026-02-05 09:00:00", 100),
    billing("cus_C4", "001A4", "2026-01-25 09:00:00", 106),
    billing("cus_C8", None, "2026-02-10 09:00:00", 100),
    billing("cus_C9", None, "2026-02-10 09:00:00", 99),
    billing("cus_C10", "001A99", "2026-02-10 09:00:00", 1),
    billing("cus_C11", "001A11", "2026-02-10 09:00:00", 199),
    billing("cus_C12", "001A12", "2026-02-10 09:00:00", 200),
    billing("cus_C13", "001A13", "2026-02-10 09:00:00", 2000),
    billing("cus_C14", "001A14", "2026-01-12 09:00:00", 100),
    billing("cus_C15", "001A15", "2026-01-12 09:00:00", 100),
    billing("cus_C16", "001A16", "2026-01-15 09:00:00", 100),
    billing("cus_C18", "001A18", "2026-02-15 09:00:00", 100, price="price_Y"),
    billing("cus_C19", "001A19", "2026-01-12 09:00:00", 100),
]

TABLES: dict[str, list[dict]] = {
    "salesforce.account": [
        *({"id": f"001A{number}", "number_of_employees": 50} for number in range(1, 7)),
        {"id": "001A11", "number_of_employees": 500},
        {"id": "001A12", "number_of_employees": 500},
        {"id": "001A13"},
        *({"id": f"001A{number}", "number_of_employees": 50} for number in range(14, 20)),
    ],
    "salesforce.opportunity": [
        won("006O1", "001A1", "2026-01-10"),
        won("006O2", "001A2", "2026-01-05"),
        won("006O3", "001A3", "2026-01-05"),
        won("006O4", "001A4", "2026-02-01"),
        won("006O5", "001A5", "2026-03-01"),
        won("006O6", "001A6", "2026-03-02"),
        won("006O7", "001A1", "2026-03-01", kind="Expansion"),
        won("006O14", "001A14", "2026-01-12"),
        won("006O15", "001A15", "2026-01-12"),
        won("006O16", "001A16", "2026-01-15", amount=10000, currency_iso_code="EUR"),
        won("006O17", "001A17", "2026-03-05", amount=10000, currency_iso_code="EUR"),
        won("006O18", "001A18", "2026-02-15", amount=10000),
        won("006O19", "001A19", "2026-01-12"),
    ],
    "stripe.invoice": [
        first_invoice("cus_C14", "2026-01-12 09:00:00", 70000),
        first_invoice("cus_C15", "2026-01-12 09:00:00", 95000),
        first_invoice("cus_C18", "2026-02-15 09:00:00", 1000000),
        first_invoice("cus_C19", "2026-01-12 09:00:00", 70000, currency="gbp"),
    ],
    "finance.exchange_rate": [{"date": "2026-01-01", "currency": "EUR", "rate": 1.20}],
    "stripe.price": [
        {"id": "price_S", "currency": "usd", "unit_amount": 1000, "type": "recurring", "recurring_interval": "month",
         "recurring_interval_count": 1, "livemode": "true"},
        {"id": "price_Y", "currency": "usd", "unit_amount": 10000, "type": "recurring", "recurring_interval": "year",
         "recurring_interval_count": 1, "livemode": "true"},
    ],
    **{table: [row for rows in CUSTOMERS for row in rows[table]] for table in CUSTOMERS[0]},
}  # fmt: skip

EXPECTED = {
    # finding_id: (finding_month, opportunity_id, account_id, customer_id, subscription_id, closed_date,
    #              billing_started_date, crm_amount_usd, billing_arr_usd, crm_segment, billing_segment)
    "won_without_billing:006O3": ("2026-01", "006O3", "001A3", "cus_C3", "sub_C3", "2026-01-05", "2026-02-05",
                                  12000.0, None, None, None),
    "won_without_billing:006O5": ("2026-03", "006O5", "001A5", None, None, "2026-03-01", None, 12000.0, None, None,
                                  None),
    "amount_mismatch:006O14": ("2026-01", "006O14", "001A14", "cus_C14", "sub_C14", "2026-01-12", "2026-01-12",
                               12000.0, 12000.0, None, None),
    "amount_mismatch:006O4": ("2026-02", "006O4", "001A4", "cus_C4", "sub_C4", "2026-02-01", "2026-01-25", 12000.0,
                              12720.0, None, None),
    # billing_without_crm: ARR at the highest MRR (12 x $1,000; 12 x $10)
    "billing_without_crm:cus_C8": ("2026-02", None, None, "cus_C8", "sub_C8", None, "2026-02-10", None, 12000.0, None,
                                   None),
    "billing_without_crm:cus_C10": ("2026-02", None, "001A99", "cus_C10", "sub_C10", None, "2026-02-10", None, 120.0,
                                    None, None),
    "segment_mismatch:cus_C11": ("2026-03", None, "001A11", "cus_C11", "sub_C11", None, "2026-02-10", None, 23880.0,
                                 "Mid-Market", "SMB"),
}  # fmt: skip


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, dg.ExecuteInProcessResult]]:
    tmp_path = tmp_path_factory.mktemp("crm_billing_reconciliation")
    definitions_file = definitions_with(tmp_path, reconciliation=ARR_BANDS)
    settings = settings_for(
        tmp_path, write_raw(tmp_path / "raw", TABLES), as_of="2026-03-31 12:00:00", definitions_file=definitions_file
    )
    result = materialize(settings, SELECTION)
    assert result.success
    yield settings, result


def plain(value: object) -> object:
    """None for SQL nulls, float for numbers, so rows compare with hand-written tuples."""
    if value is None or value != value:  # NaN and NaT are not equal to themselves
        return None
    if isinstance(value, str):
        return value
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d")
    return float(value)  # type: ignore[arg-type]


def test_each_finding_names_its_ids_and_values(built: tuple[Settings, dg.ExecuteInProcessResult]) -> None:
    findings = query(built[0], "select * from marts.fct_crm_billing_findings")
    columns = ["opportunity_id", "account_id", "customer_id", "subscription_id", "closed_date", "billing_started_date",
               "crm_amount_usd", "billing_arr_usd", "crm_segment", "billing_segment"]  # fmt: skip
    rows = {
        row["finding_id"]: (row["finding_month"].strftime("%Y-%m"), *(plain(row[column]) for column in columns))
        for _, row in findings.iterrows()
    }
    assert rows == EXPECTED
    assert (findings["finding_id"].str.split(":").str[0] == findings["finding_type"]).all()


def test_the_detail_says_what_disagrees(built: tuple[Settings, dg.ExecuteInProcessResult]) -> None:
    details = dict(query(built[0], "select finding_id, finding_detail from marts.fct_crm_billing_findings").values)
    assert details["won_without_billing:006O3"] == (
        "won on 2026-01-05; the account's nearest billing start is 2026-02-05 (customer cus_C3), more than 30 days away"
    )
    assert details["won_without_billing:006O5"] == "won on 2026-03-01; no billing customer names account 001A5"
    assert details["amount_mismatch:006O4"] == (
        "CRM amount 12000.00 against billing ARR 12720.00 (12 x first MRR 1060.00) and no first invoice: billing ARR is"
        " more than 0.05 of the amount apart"
    )
    assert details["amount_mismatch:006O14"] == (
        "CRM amount 12000.00 against billing ARR 12000.00 (12 x first MRR 1000.00) and first invoice in_C14 annualised"
        " 8400.00 (700.00 x 12 / 1 months): the first invoice is more than 0.05 of the amount apart"
    )
    assert details["billing_without_crm:cus_C10"] == "billing names CRM account 001A99, which the CRM does not have"
    assert details["billing_without_crm:cus_C8"].startswith("no CRM account, with MRR up to 1000")
    assert details["segment_mismatch:cus_C11"].startswith("CRM segment Mid-Market (employees) against SMB")


def test_monthly_counts_per_finding_type(built: tuple[Settings, dg.ExecuteInProcessResult]) -> None:
    report = query(built[0], "select * from marts.rpt_crm_billing_reconciliation_monthly")
    counts = {
        (row["finding_month"].strftime("%Y-%m"), row["finding_type"]): int(row["finding_count"])
        for _, row in report.iterrows()
    }
    # Every month from the first billing month (January 2026) to the as-of month, with all four types.
    assert sorted({month for month, _ in counts}) == ["2026-01", "2026-02", "2026-03"]
    assert {key: count for key, count in counts.items() if count} == {
        ("2026-01", "won_without_billing"): 1,
        ("2026-01", "amount_mismatch"): 1,
        ("2026-02", "amount_mismatch"): 1,
        ("2026-02", "billing_without_crm"): 2,
        ("2026-03", "won_without_billing"): 1,
        ("2026-03", "segment_mismatch"): 1,
    }
    assert len(counts) == 3 * 4


def test_the_warning_counts_findings_per_type_without_blocking(
    built: tuple[Settings, dg.ExecuteInProcessResult],
) -> None:
    checks = {check.check_name: check for check in built[1].get_asset_check_evaluations()}
    warning = checks["assert_crm_and_billing_agree"]
    assert (warning.passed, warning.severity) == (False, dg.AssetCheckSeverity.WARN)
    assert warning.metadata["violating_rows"].value == 7
    assert warning.metadata["violating_rows_by_finding_type"].value == {
        "amount_mismatch": 2,
        "billing_without_crm": 2,
        "segment_mismatch": 1,
        "won_without_billing": 2,
    }
    # Not blocking: the rollup downstream was built, and every other check passed.
    assert checks["assert_finding_counts_match_findings"].passed
    assert sorted(name for name, check in checks.items() if not check.passed) == [
        "assert_crm_and_billing_agree",
        "assert_every_deal_amount_has_an_exchange_rate",  # O17's euros in March (a warning too)
    ]


def test_the_first_invoice_is_compared_annualised(built: tuple[Settings, dg.ExecuteInProcessResult]) -> None:
    findings = query(
        built[0],
        "select finding_id, invoice_id, invoice_arr_usd from marts.fct_crm_billing_findings"
        " where finding_type = 'amount_mismatch' order by finding_id",
    )
    assert [tuple(plain(value) for value in row) for row in findings.values] == [
        ("amount_mismatch:006O14", "in_C14", 8400.0),
        ("amount_mismatch:006O4", None, None),  # C4 has no invoice: compared with MRR only
    ]


def test_deal_amounts_convert_at_the_close_month_rate_or_are_listed(
    built: tuple[Settings, dg.ExecuteInProcessResult],
) -> None:
    converted = query(
        built[0],
        "select opportunity_id, amount_currency, amount_usd from intermediate.int_opportunities_classified"
        " where opportunity_id in ('006O1', '006O16', '006O17') order by opportunity_id",
    )
    assert [tuple(plain(value) for value in row) for row in converted.values] == [
        ("006O1", "USD", 12000.0),  # no currency_iso_code: the reporting currency
        ("006O16", "EUR", 12000.0),  # EUR 10,000 at January's 1.20
        ("006O17", "EUR", None),  # no EUR rate for March
    ]
    unconverted = query(built[0], "select * from intermediate.int_opportunities_unconverted")
    assert unconverted[["opportunity_id", "currency", "amount", "reason"]].values.tolist() == [
        ["006O17", "EUR", 10000.0, "no EUR exchange rate for 2026-03 (fx.rate_rule month_start)"]
    ]
