"""The lead score's window at exactly its edge, worked by hand on two leads in an in-memory warehouse.

`definitions.yml` says an engagement counts while its age is at most `window_days` (90): one exactly 90 days old
still counts, one a second older counts zero. Both leads have a fit of 20 (an ICP industry only) and, at their
creation, a form fill, an e-mail click and a web visit (15 points: a score of 35). Later, a pricing-page visit and two
web visits (19 points, undecayed) make 39, short of the MQL threshold of 40 unless the first three still count: after
90 days they have halved three times (half-life 30 days), 15 / 8 = 1.875, which makes 40.875.
- EDGE: the later engagements come exactly 90 days after the first: an MQL then, with 40.875.
- PAST: they come 90 days and one second after: the first three count zero, 39, no MQL.
The model and the check that recomputes the score from the staged engagements (int_leads_scored.checks.sql) agree.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import duckdb
import pytest

from pipelines.spec.models import Model, load_models
from pipelines.spec.settings import PROJECT_ROOT
from pipelines.warehouse.audit import AssertionResult
from pipelines.warehouse.build import build_pending, publish_pending
from pipelines.warehouse.shared_definitions import load_definitions, write_definitions

CHECK = "assert_mql_follows_the_decayed_lead_score"
WINDOW_COMPARISON = "<= thresholds.lead_scoring__window_days * 86400"

LEADS = [("EDGE", "2026-01-01 00:00:00"), ("PAST", "2026-01-01 00:00:00")]
LATER = {"EDGE": "2026-04-01 00:00:00", "PAST": "2026-04-01 00:00:01"}  # 90 days after January 1 (+ 1 s)


def engagements() -> list[tuple[str, str, str, str]]:
    """Three engagements at each lead's creation, three more at its LATER moment."""
    rows = []
    for lead_id, created in LEADS:
        for number, activity in enumerate(("form_fill", "email_click", "web_visit")):
            rows.append((f"{lead_id}{number}", lead_id, activity, created))
        for number, activity in enumerate(("pricing_page_visit", "web_visit", "web_visit"), start=3):
            rows.append((f"{lead_id}{number}", lead_id, activity, LATER[lead_id]))
    return rows


def models() -> dict[str, Model]:
    return {model.name: model for model in load_models(PROJECT_ROOT / "models")}


@pytest.fixture
def connection() -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory warehouse with the project's definitions, the two leads and their engagements staged, and
    int_engagements_scored built."""
    with duckdb.connect() as connection:
        write_definitions(connection, load_definitions(PROJECT_ROOT / "definitions.yml"))
        connection.execute("create schema staging")
        connection.execute("create schema intermediate")
        connection.execute(
            "create table staging.stg_salesforce__leads "
            "(lead_id varchar, created_at timestamp, industry varchar, employee_count integer, country varchar)"
        )
        connection.executemany(
            "insert into staging.stg_salesforce__leads values (?, ?, 'Software', 10, 'Germany')", LEADS
        )
        connection.execute(
            "create table staging.stg_marketing__engagements "
            "(engagement_id varchar, lead_id varchar, activity_type varchar, occurred_at timestamp)"
        )
        connection.executemany("insert into staging.stg_marketing__engagements values (?, ?, ?, ?)", engagements())
        scored_engagements = models()["int_engagements_scored"]
        publish_pending(connection, scored_engagements, build_pending(connection, scored_engagements))
        yield connection


def build_leads_scored(connection: duckdb.DuckDBPyConnection, body: str | None = None) -> list[AssertionResult]:
    """Build int_leads_scored (or `body`, a variant of its SQL) write-audit-publish; its check results."""
    model = models()["int_leads_scored"]
    _, results = publish_pending(connection, model, build_pending(connection, model, body))
    return results


def test_an_engagement_exactly_window_days_old_counts_and_one_a_second_older_does_not(
    connection: duckdb.DuckDBPyConnection,
) -> None:
    results = build_leads_scored(connection)

    scored = connection.execute(
        "select lead_id, fit_score, mql_at, score_at_mql, peak_score from intermediate.int_leads_scored order by 1"
    ).fetchall()
    edge, past = scored
    assert edge[:3] == ("EDGE", 20, datetime(2026, 4, 1))
    assert edge[3] == pytest.approx(20 + 19 + 15 / 8)
    assert past[:4] == ("PAST", 20, None, None)
    assert past[4] == pytest.approx(39)
    assert {result.name: result.violation_count for result in results} == {CHECK: 0}


def test_the_check_refuses_a_score_that_drops_the_engagement_exactly_window_days_old(
    connection: duckdb.DuckDBPyConnection,
) -> None:
    build_leads_scored(connection)
    body = models()["int_leads_scored"].body
    assert body.count(WINDOW_COMPARISON) == 1
    [result] = build_leads_scored(connection, body.replace(WINDOW_COMPARISON, WINDOW_COMPARISON.replace("<=", "<")))

    assert result.name == CHECK and result.violation_count == 1
    assert result.samples[0].startswith("EDGE | no MQL though its recomputed score reached the threshold")
    last_good = "select mql_at from intermediate.int_leads_scored where lead_id = 'EDGE'"
    assert connection.execute(last_good).fetchone() == (datetime(2026, 4, 1),)
