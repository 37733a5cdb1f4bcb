"""The code location loads the way `dagster dev` and `dagster definitions validate` load it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

from pipelines.spec.settings import PROJECT_ROOT


def test_dagster_definitions_validate_passes(tmp_path: Path) -> None:
    dagster = Path(sys.executable).parent / "dagster"
    environment = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    completed = subprocess.run(
        [str(dagster), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "All code locations passed validation" in completed.stdout + completed.stderr


def test_every_asset_has_description_owner_group_and_kinds() -> None:
    from pipelines.orchestration.definitions import defs

    definitions = defs()
    graph = definitions.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.description, f"{key.to_user_string()} has no description"
        assert node.owners, f"{key.to_user_string()} has no owner"
        assert node.group_name in {"raw", "definitions", "staging", "intermediate", "marts", "publish", "reports"}, key
        assert "duckdb" in node.kinds, key
    assert isinstance(definitions.resolve_job_def("build_everything"), dg.JobDefinition)
