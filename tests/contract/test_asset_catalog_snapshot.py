"""A snapshot of the asset catalog (keys, deps, groups, owners, kinds, columns, checks) catches accidental changes.

After an intended change, refresh it with `make snapshot` and review the diff like code.
"""

from __future__ import annotations

import json
import os
from typing import Any

from pipelines.orchestration.project import build_definitions
from pipelines.spec.settings import PROJECT_ROOT, Settings

SNAPSHOT = PROJECT_ROOT / "tests" / "snapshots" / "asset_catalog.json"


def asset_catalog() -> dict[str, Any]:
    """The catalog as Dagster sees it, in a stable, reviewable shape."""
    graph = build_definitions(Settings.from_env()).resolve_asset_graph()
    catalog: dict[str, Any] = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda asset_key: asset_key.to_user_string()):
        node = graph.get(key)
        schema = node.metadata.get("dagster/column_schema")
        catalog[key.to_user_string()] = {
            "group": node.group_name,
            "owners": list(node.owners),
            "kinds": sorted(node.kinds),
            "deps": sorted(parent.to_user_string() for parent in node.parent_keys),
            "columns": [column.name for column in schema.columns] if schema is not None else [],
            "checks": sorted(check.name for check in node.check_keys),
        }
    return catalog


def test_asset_catalog_matches_the_snapshot() -> None:
    current = asset_catalog()
    if os.environ.get("FLYWHEEL_UPDATE_SNAPSHOT") == "1":
        SNAPSHOT.write_text(json.dumps(current, indent=1, sort_keys=True) + "\n")
    assert SNAPSHOT.exists(), "no asset catalog snapshot yet: run `make snapshot`"
    assert json.loads(SNAPSHOT.read_text()) == current, "the asset catalog changed: run `make snapshot` if intended"
