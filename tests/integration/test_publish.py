"""Publishing for BI: readers are never blocked by a refresh and never see a half-updated set of marts.

The concurrency test builds the warehouse from the seeds, starts a reader process that queries the published marts
in a loop (tests/integration/publish_reader.py, which imports nothing from Flywheel), rebuilds marts and publishes
every mart again in this process meanwhile, and checks the reader's report: no error, every read saw one publish id
across all marts, and reads went on during the refresh. (Readers only see what is published, and a publish writes a
new snapshot of every mart whichever were rebuilt: the refresh rebuilds the mart dashboards query and the marts it
reads, not the other marts nor the models upstream, which add time and nothing a reader sees.)
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.cli import RunSummary
from pipelines.orchestration.assets import model_asset
from pipelines.orchestration.guard_checks import VolumeGuard
from pipelines.orchestration.project import PUBLISH_KEY, PublishTarget, publish_asset
from pipelines.orchestration.resources import DefinitionsFile, Warehouse
from pipelines.spec.models import load_models
from pipelines.spec.settings import PROJECT_ROOT, Settings
from pipelines.warehouse.publish import METADATA_TABLE, SNAPSHOT_FILE, current_manifest
from tests.conftest import materialize

SEEDS = PROJECT_ROOT / "seeds"
READER = Path(__file__).with_name("publish_reader.py")

# The query a leadership dashboard runs in the SQLAlchemy test: the monthly alignment scorecard.
# What the concurrency test refreshes: that mart and the marts it reads, then the publish of every mart.
REFRESH = f'(+key:"marts/rpt_alignment_scorecard_monthly" and group:marts) or key:"{"/".join(PUBLISH_KEY)}"'

BI_QUERY = """
select month, sum(new_mrr_usd) as new_mrr_usd, sum(mql_count) as mql_count, publish_id
from marts.rpt_alignment_scorecard_monthly
group by month, publish_id
order by month
"""


def mart_names(settings: Settings) -> list[str]:
    return sorted(
        f"{model.schema}.{model.name}" for model in load_models(settings.models_dir) if model.layer == "marts"
    )


@pytest.fixture(scope="module")
def published(demo_build: tuple[Settings, RunSummary]) -> Settings:
    """The session's full build of the seeds, which ends by publishing; the refresh test rebuilds its marts in place."""
    settings, summary = demo_build
    assert summary.succeeded
    return settings


def snapshot_publish_id(settings: Settings) -> str:
    with duckdb.connect(str(settings.published_dir / SNAPSHOT_FILE), read_only=True) as connection:
        row = connection.execute(f"select publish_id from {METADATA_TABLE}").fetchone()
    assert row is not None
    return str(row[0])


def test_snapshot_holds_every_mart_and_the_definitions_under_one_publish_id(published: Settings) -> None:
    snapshot = published.published_dir / SNAPSHOT_FILE
    with duckdb.connect(str(snapshot), read_only=True) as connection:
        (publish_id, definitions_version, mart_count) = connection.execute(
            f"select publish_id, definitions_version, mart_count from {METADATA_TABLE}"
        ).fetchone() or (None, None, None)
        tables = dict(
            connection.execute(
                "select table_schema || '.' || table_name, row_count from _flywheel_published_tables"
            ).fetchall()
        )
        marts = mart_names(published)
        assert mart_count == len(marts)
        assert set(marts) <= set(tables)
        for mart in marts:
            ids, rows = connection.execute(f"select list(distinct publish_id), count(*) from {mart}").fetchone() or (
                None,
                None,
            )
            assert rows == tables[mart]
            assert rows == 0 or ids == [publish_id], mart
        # The definitions in force travel with the marts, so BI can show them.
        version = connection.execute("select version from definitions.definitions_version").fetchone()
        assert version is not None and version[0] == definitions_version
        assert connection.execute("select count(*) from definitions.thresholds").fetchone() == (1,)
    manifest = current_manifest(published.published_dir)
    assert manifest is not None and manifest["publish_id"] == publish_id
    assert (published.published_dir / "parquet" / "current").resolve().name == publish_id


def test_readers_never_fail_nor_see_a_mixed_set_while_the_marts_are_refreshed(
    published: Settings, tmp_path: Path
) -> None:
    first_id = snapshot_publish_id(published)
    stop, report_file = tmp_path / "stop", tmp_path / "report.json"
    reader = subprocess.Popen(
        [
            sys.executable,
            str(READER),
            str(published.published_dir),
            str(stop),
            str(report_file),
        ]
    )
    try:
        time.sleep(2)  # let the reader get going on the first publish
        assert reader.poll() is None, "the reader died before the refresh"
        refresh_started = time.time()
        result = materialize(published, REFRESH)
        refresh_ended = time.time()
        assert result.success
        time.sleep(1)  # and read the new publish for a while
    finally:
        stop.touch()
        reader.wait(timeout=60)
    report = json.loads(report_file.read_text())
    assert report["error_count"] == 0, "\n".join(report["errors"])
    reads = report["reads"]
    second_id = snapshot_publish_id(published)
    assert second_id != first_id
    for read in reads:
        # Each route read one consistent publish (asserted inside the reader), and the routes agree on what exists.
        assert read["snapshot"] in {first_id, second_id}
        assert read["parquet_manifest"] in {first_id, second_id}
        assert read["parquet_symlink"] in {first_id, second_id}
    seen = [read["snapshot"] for read in reads]
    assert seen[0] == first_id and seen[-1] == second_id
    # The publish id only moves forward: no read saw the old set after one saw the new.
    assert seen == sorted(seen)
    during = [read for read in reads if refresh_started <= read["at"] <= refresh_ended]
    slowest = max(read["seconds"] for read in reads)
    refresh_seconds = refresh_ended - refresh_started
    print(f"{len(reads)} reads, {len(during)} during the {refresh_seconds:.1f} s refresh, slowest {slowest:.3f} s")
    assert len(during) >= 20, f"only {len(during)} reads during a {refresh_ended - refresh_started:.0f} s refresh"


def test_bi_tools_connect_through_sqlalchemy_read_only(published: Settings) -> None:
    """The way Superset, a notebook's pandas.read_sql or any SQLAlchemy tool connects (docs/bi.md)."""
    sqlalchemy = pytest.importorskip("sqlalchemy")
    pytest.importorskip("duckdb_engine")
    from sqlalchemy.pool import NullPool

    # Read before the engine opens the file: one process may not hold one DuckDB file under two configurations.
    expected_id = snapshot_publish_id(published)
    snapshot = (published.published_dir / SNAPSHOT_FILE).resolve()
    engine = sqlalchemy.create_engine(f"duckdb:///{snapshot}?access_mode=read_only", poolclass=NullPool)
    with engine.connect() as connection:
        rows = connection.execute(sqlalchemy.text(BI_QUERY)).fetchall()
        assert rows, "the BI query returned nothing"
        assert {row.publish_id for row in rows} == {expected_id}
        assert sum(row.new_mrr_usd for row in rows) > 0 and sum(row.mql_count for row in rows) > 0
        # Reflection, which BI tools use to list tables and columns, works on the snapshot.
        inspector = sqlalchemy.inspect(connection)
        assert "rpt_alignment_scorecard_monthly" in inspector.get_table_names(schema="marts")
        with pytest.raises(sqlalchemy.exc.DBAPIError, match="read-only"):
            connection.execute(sqlalchemy.text("create table marts.scratch as select 1 as x"))


def _write_mart(models_dir: Path, sql_body: str) -> None:
    path = models_dir / "marts" / "demo" / "rpt_demo.sql"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        textwrap.dedent(
            """\
            /*
            name: rpt_demo
            description: A demo mart.
            grain: [demo_id]
            owner: team:revops
            */
            with

            final as (
                select
                    demo_id  -- the demo key
                from (%s) as rows
            )

            select * from final
            """
        )
        % sql_body
    )


@pytest.mark.parametrize(
    ("rows_sql", "publishes"),
    [("select 1 as demo_id union all select 2", True), ("select 1 as demo_id union all select 1", False)],
    ids=["checks-pass", "grain-check-fails"],
)
def test_publish_runs_only_when_the_marts_pass_their_blocking_checks(
    tmp_path: Path, rows_sql: str, publishes: bool
) -> None:
    _write_mart(tmp_path / "models", rows_sql)
    models = load_models(tmp_path / "models")
    definitions = dg.Definitions(
        assets=[model_asset(model) for model in models] + [publish_asset(models, [])],
        resources={
            "warehouse": Warehouse(database=str(tmp_path / "warehouse.duckdb")),
            "definitions_file": DefinitionsFile(path=str(PROJECT_ROOT / "definitions.yml")),
            "publish_target": PublishTarget(path=str(tmp_path / "published")),
            "volume_guard": VolumeGuard(published_dir=str(tmp_path / "published")),
        },
        executor=dg.in_process_executor,
    )
    result = dg.materialize(
        list(definitions.assets or []),
        resources=definitions.resources,
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    built = {event.asset_key for event in result.get_asset_materialization_events()}
    assert (dg.AssetKey(list(PUBLISH_KEY)) in built) is publishes
    assert (tmp_path / "published" / SNAPSHOT_FILE).exists() is publishes
