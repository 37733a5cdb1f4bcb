"""The layers of `pipelines/` import only the layers below them (the README's "Layout" section).

spec (pure readers) < warehouse (DuckDB work) < docs (catalogs, report) < orchestration (Dagster wiring) < the
command line. A module that imports a layer above its own, or a library its layer must not know (Dagster below the
orchestration layer, DuckDB in the spec layer), fails here with the module and the import named.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from pipelines.spec.settings import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "pipelines"
LAYERS = ("spec", "warehouse", "docs", "orchestration")
TOP = len(LAYERS)  # modules directly in pipelines/ (the command line and its commands) sit above every layer
FORBIDDEN_LIBRARIES = {
    "spec": {"dagster", "dagster_duckdb", "duckdb", "great_expectations"},
    "warehouse": {"dagster", "dagster_duckdb"},
    "docs": {"dagster", "dagster_duckdb"},
}


def layer_of(module: str) -> int:
    """The rank of a `pipelines.<layer>.<module>` name; anything else in `pipelines` is the top."""
    parts = module.split(".")
    if len(parts) > 2 and parts[1] in LAYERS:
        return LAYERS.index(parts[1])
    return TOP


def imported_modules(path: Path) -> list[str]:
    """Every module a file imports (absolute names), including imports inside functions."""
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module in {f"pipelines.{layer}" for layer in LAYERS}:  # from pipelines.spec import sources
                names.extend(f"{node.module}.{alias.name}" for alias in node.names)
            else:
                names.append(node.module)
    return names


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(PROJECT_ROOT).with_suffix("").parts)


MODULES = sorted(path for path in PACKAGE.rglob("*.py") if path.name != "__init__.py")


def layer_violations(path: Path) -> list[str]:
    own = module_name(path)
    rank = layer_of(own)
    layer = LAYERS[rank] if rank < TOP else "top"
    problems = []
    for name in imported_modules(path):
        if name.startswith("pipelines.") and layer_of(name) > rank:
            problems.append(f"{own} ({layer} layer) imports {name}, a layer above it")
        if name.split(".")[0] in FORBIDDEN_LIBRARIES.get(layer, set()):
            problems.append(f"{own} ({layer} layer) imports {name}, which its layer must not use")
    return problems


@pytest.mark.parametrize("path", MODULES, ids=lambda path: module_name(path))
def test_module_imports_only_layers_below(path: Path) -> None:
    assert layer_violations(path) == []


def test_every_module_lives_in_a_layer_or_is_the_command_line() -> None:
    loose = sorted(module_name(path) for path in PACKAGE.glob("*.py") if path.name != "__init__.py")
    top_level = {
        "pipelines.cli",
        "pipelines.command_settings",
        "pipelines.definition_preview",
        "pipelines.progress",
        "pipelines.project_commands",
    }
    assert set(loose) <= top_level, loose


DEMO_MODULES = sorted((PROJECT_ROOT / "flywheel_demo").rglob("*.py"))


@pytest.mark.parametrize("path", DEMO_MODULES, ids=lambda path: module_name(path))
def test_the_demo_generator_reads_only_the_spec_layer(path: Path) -> None:
    """The generator writes connector-shaped files from the contract; it knows no warehouse, docs or Dagster."""
    upward = [name for name in imported_modules(path) if name.startswith("pipelines.") and layer_of(name) > 0]
    assert upward == [], f"{module_name(path)} imports {upward}"
    assert not [name for name in imported_modules(path) if name.split(".")[0] in FORBIDDEN_LIBRARIES["spec"]]


def test_an_upward_import_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check itself can fail: a spec module importing the warehouse layer and DuckDB is named."""
    fake_root = tmp_path
    module = fake_root / "pipelines" / "spec" / "bad.py"
    module.parent.mkdir(parents=True)
    module.write_text("import duckdb\nfrom pipelines.warehouse.connection import quote\n")
    monkeypatch.setitem(globals(), "PROJECT_ROOT", fake_root)
    assert layer_violations(module) == [
        "pipelines.spec.bad (spec layer) imports duckdb, which its layer must not use",
        "pipelines.spec.bad (spec layer) imports pipelines.warehouse.connection, a layer above it",
    ]
