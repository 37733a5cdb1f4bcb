"""Real connector fixtures (Fivetran's public Salesforce and Stripe test seeds) load through raw and staging.

They carry hundreds of custom `*_c` columns, obfuscated values and only some of the optional columns: the raw layer
must keep what it does not use, add what is missing, and staging must still build.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines.spec.sources import SourceContractError, load_sources
from pipelines.warehouse.erasure import ErasureList
from pipelines.warehouse.raw_load import load_raw_table
from tests.conftest import materialize, settings_for

SALESFORCE_FIXTURES = {
    "user": "sf_user_data.csv",
    "account": "sf_account_data.csv",
    "lead": "sf_lead_data.csv",
    "contact": "sf_contact_data.csv",
    "opportunity": "sf_opportunity_data.csv",
    "task": "sf_task_data.csv",
    "event": "sf_event_data.csv",
}
STRIPE_FIXTURES = {
    "customer": "customer_data.csv",
    "price": "price_data.csv",
    "subscription": "subscription_data.csv",
    "subscription_item": "subscription_item_data.csv",
    "invoice": "invoice_data.csv",
    "invoice_line_item": "invoice_line_item_data.csv",
    "charge": "charge_data.csv",
    "refund": "refund_data.csv",
    "coupon": "coupon_data.csv",
    "discount": "discount_data.csv",
}


def test_vendored_reference_files_are_the_published_bytes(reference_dir: Path) -> None:
    """Every vendored file is listed in the README with its sha256, and is byte-for-byte that file, nothing else."""
    listed = dict(
        (path, digest)
        for digest, path in re.findall(r"^([0-9a-f]{64})  (\S+)$", (reference_dir / "README.md").read_text(), re.M)
    )
    present = {path.relative_to(reference_dir).as_posix(): path for path in reference_dir.rglob("*.csv")}
    assert sorted(listed) == sorted(present), "tests/reference/README.md must list every vendored file's sha256"
    for name, path in present.items():
        assert hashlib.sha256(path.read_bytes()).hexdigest() == listed[name], f"{name} differs from its source"


def _copy_fixtures(reference_dir: Path, raw_dir: Path) -> None:
    for source, folder, fixtures in (
        ("salesforce", "salesforce", SALESFORCE_FIXTURES),
        ("stripe", "stripe", STRIPE_FIXTURES),
    ):
        (raw_dir / source).mkdir(parents=True)
        for table, file_name in fixtures.items():
            shutil.copy(reference_dir / "fivetran" / folder / file_name, raw_dir / source / f"{table}.csv")


def test_fivetran_fixtures_build_through_staging(reference_dir: Path, tmp_path: Path) -> None:
    raw_dir = tmp_path / "raw"
    _copy_fixtures(reference_dir, raw_dir)
    settings = settings_for(tmp_path, raw_dir)
    tables = [f"salesforce/{table}" for table in SALESFORCE_FIXTURES] + [f"stripe/{table}" for table in STRIPE_FIXTURES]
    staging = [
        "stg_salesforce__users",
        "stg_salesforce__accounts",
        "stg_salesforce__leads",
        "stg_salesforce__contacts",
        "stg_salesforce__opportunities",
        "stg_salesforce__tasks",
        "stg_salesforce__events",
        "stg_stripe__customers",
        "stg_stripe__prices",
        "stg_stripe__subscriptions",
        "stg_stripe__subscription_items",
        "stg_stripe__invoices",
        "stg_stripe__invoice_line_items",
        "stg_stripe__charges",
        "stg_stripe__refunds",
        "stg_stripe__coupons",
        "stg_stripe__discounts",
    ]
    selection = " or ".join([f'key:"{key}"' for key in tables] + [f'key:"staging/{name}"' for name in staging])

    result = materialize(settings, selection)

    assert result.success
    with duckdb.connect(str(settings.warehouse), read_only=True) as connection:
        lead_columns = connection.execute(
            "select count(*) from information_schema.columns where table_schema = 'salesforce' and table_name = 'lead'"
        ).fetchone()
        # The fixture's 382 columns are all kept, plus the optional contract columns it lacks.
        assert lead_columns is not None and lead_columns[0] >= 382
        # One account fixture row is soft-deleted; one opportunity fixture row too.
        raw_accounts, staged_accounts = connection.execute(
            "select (select count(*) from salesforce.account), (select count(*) from staging.stg_salesforce__accounts)"
        ).fetchone() or (0, 0)
        assert 0 < staged_accounts <= raw_accounts
        deleted = connection.execute(
            "select count(*) from salesforce.opportunity where cast(is_deleted as boolean)"
        ).fetchone()
        staged = connection.execute("select count(*) from staging.stg_salesforce__opportunities").fetchone()
        raw = connection.execute("select count(distinct id) from salesforce.opportunity").fetchone()
        assert deleted and staged and raw and staged[0] <= raw[0] - deleted[0]
        # Legacy `plan_id` subscription items resolve to a price id.
        missing_price = connection.execute(
            "select count(*) from staging.stg_stripe__subscription_items where price_id is null"
        ).fetchone()
        assert missing_price == (0,)
        # Amounts in minor units: the 2999-cent fixture price is 29.99.
        price = connection.execute("select unit_amount from staging.stg_stripe__prices where price_id = 'price_2'")
        assert float(price.fetchone()[0]) == pytest.approx(29.99)
        # The test-mode invoice fixture row (livemode FALSE) is quarantined; the live one is 1000 cents, 10.00.
        invoices = connection.execute("select invoice_id, total from staging.stg_stripe__invoices").fetchall()
        assert [(invoice_id, float(total)) for invoice_id, total in invoices] == [("ab1111", 10.0)]
        staged_billing = connection.execute(
            "select (select count(*) from staging.stg_stripe__invoice_line_items),"
            " (select count(*) from staging.stg_stripe__charges), (select count(*) from staging.stg_stripe__refunds)"
        ).fetchone()
        assert staged_billing == (3, 16, 4)
        # Coupons: test-mode ones quarantined, amounts off in major units, percent-off ones without an amount.
        coupons = dict(connection.execute("select coupon_id, amount_off from staging.stg_stripe__coupons").fetchall())
        assert "coupon_3" not in coupons and float(coupons["coupon_1"]) == pytest.approx(10.0)
        assert coupons["coupon_2"] is None
        # Discounts (the connector's one `discount` table): 8 of a subscription, 2 of a customer only.
        discounts = connection.execute(
            "select count(subscription_id), count(*) filter (where subscription_id is null and customer_id is not null)"
            " from staging.stg_stripe__discounts"
        ).fetchone()
        assert discounts == (8, 2)


def test_history_mode_opportunity_fixture_is_rejected_by_name(reference_dir: Path, tmp_path: Path) -> None:
    """Fivetran's history-mode Opportunity table is not Salesforce's OpportunityHistory object: a clear error."""
    contract = {table.key: table for table in load_sources(Path("models/sources.yml"))}
    path = reference_dir / "fivetran" / "salesforce" / "sf_opportunity_history_data.csv"
    with duckdb.connect() as connection, pytest.raises(SourceContractError, match="opportunity_id") as error:
        load_raw_table(
            connection, contract[("salesforce", "opportunity_history")], path, ErasureList(tmp_path / "erasures.csv")
        )
    assert str(path) in str(error.value)
    with duckdb.connect() as connection:
        tables = connection.execute("select count(*) from information_schema.tables").fetchone()
    assert tables == (0,)
