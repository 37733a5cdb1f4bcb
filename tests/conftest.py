"""Shared fixtures: settings that point a build at a temporary warehouse and raw directory."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import dagster as dg
import pytest
from _pytest.nodeid import NodeId

from pipelines.cli import RunSummary, run_pipeline
from pipelines.orchestration.project import build_definitions, daily_partitions, partition_range_tags
from pipelines.spec.partitions import DayRange
from pipelines.spec.settings import PROJECT_ROOT, Settings
from tests.spark_fixtures import spark_session as spark_session  # the shared local Spark session

Fixture = TypeVar("Fixture", bound=Callable[..., object])

# Public reference files (connector fixtures, the MRR playbook input), vendored unmodified: see its README.md.
REFERENCE_DIR = PROJECT_ROOT / "tests" / "reference"


# Dagster records every day of a partition range it materializes (about 7 ms a day on an ephemeral instance, for
# each of the two partitioned assets), so tests that are not about partitions start the daily partitions late: the
# events of earlier days are filed under the first day, and every model sees the same rows.
TEST_FIRST_PARTITION_DAY = "2026-10-01"


def settings_for(tmp_path: Path, raw_dir: Path, **overrides: object) -> Settings:
    """Project settings with the warehouse in `tmp_path` and raw files from `raw_dir`."""
    base = Settings.from_env()
    fields: dict[str, object] = {
        "warehouse": tmp_path / "warehouse" / "flywheel.duckdb",
        "raw_dir": raw_dir,
        "erasure_list": tmp_path / "erasures.csv",
        "threads": 2,
        "first_partition_day": TEST_FIRST_PARTITION_DAY,
        **overrides,
    }
    return dataclasses.replace(base, **fields)  # type: ignore[arg-type]


def copy_of_build(built: Settings, tmp_path: Path) -> Settings:
    """Settings for a copy of a finished build in `tmp_path`, its raw files and warehouse file (not its published
    snapshot): a test that changes the input and rebuilds starts from the session's build without a build of its own,
    and without changing the build other tests read."""
    raw_dir = tmp_path / "raw"
    shutil.copytree(built.raw_dir, raw_dir)
    settings = settings_for(tmp_path, raw_dir)
    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(built.warehouse, settings.warehouse)
    return settings


def materialize(
    settings: Settings, selection: str | None = None, days: DayRange | None = None
) -> dg.ExecuteInProcessResult:
    """Materialize the project's assets (all, or a selection string) in process on an ephemeral instance.

    Day-partitioned assets are built for `days`, by default every day there is.
    """
    definitions = build_definitions(settings)
    job = definitions.resolve_job_def("build_everything")
    if days is None:
        keys = daily_partitions(settings).get_partition_keys()
        days = DayRange.parse(keys[0], keys[-1])
    return job.execute_in_process(
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
        tags=partition_range_tags(days),
        asset_selection=sorted(dg.AssetSelection.from_string(selection).resolve(definitions.resolve_asset_graph()))
        if selection
        else None,
    )


# The session fixtures that several test modules read (made with `shared_build`), by name. The local Spark session
# (tests/spark_fixtures.py) is one too: a JVM per worker would cost its start-up twice.
SHARED_BUILDS: set[str] = {"spark_session"}


def shared_build(function: Fixture) -> Fixture:
    """A session fixture that several test modules read. Each pytest-xdist worker (`make test` runs two) builds its own
    session fixtures, so the modules that read this one run on one worker: see `pytest_collection_modifyitems`."""
    SHARED_BUILDS.add(function.__name__)
    return pytest.fixture(scope="session")(function)


@shared_build
def demo_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, RunSummary]:
    """One full build of the demo seeds through `flywheel run`'s code path, shared by every test that reads it."""
    settings = settings_for(tmp_path_factory.mktemp("demo_build"), PROJECT_ROOT / "seeds")
    return settings, run_pipeline(settings, instance=dg.DagsterInstance.ephemeral())


@pytest.fixture
def reference_dir() -> Path:
    """The vendored reference files: part of the repository, so the reference tests run from any clone."""
    return REFERENCE_DIR


def work_groups(items: list[pytest.Item]) -> dict[pytest.Item, str]:
    """A pytest-xdist group for each test: its module's, so its module fixtures are built once, and one group for all
    the modules that read the same shared build (named after the build), so it is built once too."""
    parent: dict[str, str] = {}

    def root(key: str) -> str:
        while parent.setdefault(key, key) != key:
            key = parent[key]
        return key

    def module_of(item: pytest.Item) -> str:
        return item.nodeid.split("::")[0]

    for item in items:
        for build in sorted(SHARED_BUILDS & set(getattr(item, "fixturenames", ()))):
            parent[root(module_of(item))] = root(build)
    return {item: root(module_of(item)) for item in items}


def heaviest_first(items: list[pytest.Item], groups: dict[pytest.Item, str]) -> list[pytest.Item]:
    """The tests of the groups that read a shared build first, then the integration tests (each module a build or
    more), then the rest; in the order they were collected otherwise."""

    def rank(item: pytest.Item) -> int:
        return 0 if groups.get(item) in SHARED_BUILDS else 1 if item.nodeid.startswith("tests/integration/") else 2

    return sorted(items, key=rank)


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> Iterator[None]:
    """Under `--dist loadgroup` (`make test`), group the tests (`work_groups`; a test that names its own
    `xdist_group` keeps it) and send the heaviest groups first (`heaviest_first`, with `--no-loadscope-reorder`), so
    the two workers end close together instead of one finishing a long build alone. Without xdist nothing changes.

    A wrapper, so the groups are marked before pytest-xdist's own hook reads the marks."""
    if getattr(config.option, "loadgroup", False):  # set in the workers, which collect (their `dist` is "no")
        groups = work_groups([item for item in items if item.get_closest_marker("xdist_group") is None])
        for item, group in groups.items():
            item.add_marker(pytest.mark.xdist_group(group))
        for item in items:
            name_group(item)
        items[:] = heaviest_first(items, groups)
    yield


def name_group(item: pytest.Item) -> None:
    """End the test's node id with `@<its xdist_group>`, the scope pytest-xdist's loadgroup scheduler reads. xdist 3.8
    does this itself by setting `item._nodeid`, which pytest 9.2 no longer reads (a node id is `item._id` now)."""
    marks = sorted(str(mark.args[0]) for mark in item.iter_markers("xdist_group"))
    if marks and "@" not in item.nodeid.rsplit("]", 1)[-1]:
        item._id = NodeId.parse(f"{item.nodeid}@{'_'.join(marks)}")
