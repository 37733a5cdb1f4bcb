"""Size as a symptom: no module over 500 lines and no function over 80, unless its docstring says why.

A module or function that must be longer says so in its docstring with a line starting `Size:` (what keeps it whole),
so the reason is read where the code is.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from pipelines.spec.settings import PROJECT_ROOT

PACKAGES = ("pipelines", "flywheel_demo", "benchmarks")
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80
FILES = sorted(path for package in PACKAGES for path in (PROJECT_ROOT / package).rglob("*.py"))


def explains_its_size(node: ast.AST) -> bool:
    docstring = (
        ast.get_docstring(node) if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef)) else None
    )
    return any(line.strip().startswith("Size:") for line in (docstring or "").splitlines())


def oversized(source: str, name: str) -> list[str]:
    """What is too long in one module's source, with the reason it is reported."""
    tree = ast.parse(source)
    found = []
    lines = len(source.splitlines())
    if lines > MAX_MODULE_LINES and not explains_its_size(tree):
        found.append(f"{name}: {lines} lines (> {MAX_MODULE_LINES}) and no `Size:` line in its docstring")
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno is not None:
            length = node.end_lineno - node.lineno + 1
            if length > MAX_FUNCTION_LINES and not explains_its_size(node):
                found.append(f"{name}:{node.lineno}: {node.name} is {length} lines (> {MAX_FUNCTION_LINES})")
    return found


@pytest.mark.parametrize("path", FILES, ids=lambda path: str(path.relative_to(PROJECT_ROOT)))
def test_modules_and_functions_stay_small(path: Path) -> None:
    assert oversized(path.read_text(), str(path.relative_to(PROJECT_ROOT))) == []


def test_a_long_function_is_reported_unless_its_docstring_says_why() -> None:
    body = "".join(f"    x{index} = {index}\n" for index in range(MAX_FUNCTION_LINES))
    assert oversized(f"def long():\n{body}", "m.py") == [f"m.py:1: long is {MAX_FUNCTION_LINES + 1} lines (> 80)"]
    explained = f'def long():\n    """A table of steps.\n\n    Size: one step per line.\n    """\n{body}'
    assert oversized(explained, "m.py") == []
    assert oversized("x = 1\n" * (MAX_MODULE_LINES + 1), "m.py") == [
        f"m.py: {MAX_MODULE_LINES + 1} lines (> {MAX_MODULE_LINES}) and no `Size:` line in its docstring"
    ]
