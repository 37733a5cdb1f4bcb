"""Flywheel uses the libraries it builds on through their public names only.

A private module (`dagster._core...`) or a Great Expectations module outside its public namespaces can change or vanish
in any minor release, and an upgrade would then break the build without a word in the release notes. Where a library
exports no public name for something Flywheel needs, the import lives in one place, listed below with the reason.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.spec.settings import PROJECT_ROOT
from tests.contract.test_layers import imported_modules, module_name

# The Great Expectations modules that export its public API (`import great_expectations as gx`: `gx.core`,
# `gx.expectations`, `gx.exceptions`, and the fluent datasources a context's `data_sources` returns).
PUBLIC_GREAT_EXPECTATIONS = frozenset(
    {
        "great_expectations",
        "great_expectations.core",
        "great_expectations.datasource.fluent",
        "great_expectations.exceptions",
        "great_expectations.expectations",
    }
)
# (module, import) -> why no public name will do. Each is the only import of that name in the project.
NON_PUBLIC_ALLOWED: dict[tuple[str, str], str] = {
    ("pipelines.warehouse.ge_duckdb", "great_expectations.data_context.types.base"): (
        "ProgressBarsConfig, the type of context.variables.progress_bars, has no public name"
    ),
    ("pipelines.warehouse.ge_duckdb", "great_expectations.expectations.row_conditions"): (
        "Column, which builds a row condition (a string condition is deprecated), has no public name"
    ),
}
FIRST_PARTY = ("pipelines", "benchmarks", "tests", "__future__")
SOURCES = sorted(path for folder in ("pipelines", "benchmarks") for path in (PROJECT_ROOT / folder).rglob("*.py"))


def non_public_imports(path: Path) -> list[str]:
    """Imports of a private module of any library (a part starting with `_`, such as `dagster._core`) or of a Great
    Expectations module outside its public namespaces, unless listed in NON_PUBLIC_ALLOWED."""
    own = module_name(path)
    problems = []
    for name in imported_modules(path):
        if name.split(".")[0] in FIRST_PARTY or (own, name) in NON_PUBLIC_ALLOWED:
            continue
        if any(part.startswith("_") for part in name.split(".")):
            problems.append(f"{own} imports {name}, a private module: use the library's public names")
        elif name.split(".")[0] == "great_expectations" and name not in PUBLIC_GREAT_EXPECTATIONS:
            problems.append(
                f"{own} imports {name}, not a public Great Expectations module "
                f"({', '.join(sorted(PUBLIC_GREAT_EXPECTATIONS))})"
            )
    return problems


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: module_name(path))
def test_libraries_are_used_through_their_public_names(path: Path) -> None:
    assert non_public_imports(path) == []


def test_each_allowed_non_public_import_is_still_needed() -> None:
    """An allowance whose import is gone would let the next private import of that module through unnoticed."""
    used = {(module_name(path), name) for path in SOURCES for name in imported_modules(path)}
    assert set(NON_PUBLIC_ALLOWED) <= used


def test_a_private_import_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check itself can fail: Dagster's private tags module and a Great Expectations internal are named."""
    module = tmp_path / "pipelines" / "orchestration" / "bad.py"
    module.parent.mkdir(parents=True)
    module.write_text(
        "from dagster._core.storage.tags import ASSET_PARTITION_RANGE_START_TAG\n"
        "def build():\n"
        "    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration\n"
        "    import great_expectations as gx\n"
    )
    monkeypatch.setattr("tests.contract.test_layers.PROJECT_ROOT", tmp_path)
    assert non_public_imports(module) == [
        "pipelines.orchestration.bad imports dagster._core.storage.tags, a private module: use the library's public "
        "names",
        "pipelines.orchestration.bad imports great_expectations.expectations.expectation_configuration, not a public "
        "Great Expectations module (great_expectations, great_expectations.core, great_expectations.datasource.fluent, "
        "great_expectations.exceptions, great_expectations.expectations)",
    ]
