"""The table of shared definitions in docs/definitions.md, generated from the registry so it cannot drift.

`python -m pipelines.docs.definitions_doc` (run by `make markdown-docs`) rewrites the block between the markers; a
contract test fails when the file is out of date. Each row is one definition of
pipelines/spec/definitions_registry.py: the name SQL, suites and docs use, its key in definitions.yml, where models
read it, how it is validated, what it means.
"""

from __future__ import annotations

import sys

from pipelines.docs.templating import replace_generated_block
from pipelines.spec.definitions_registry import DEFINITIONS, Definition, validation
from pipelines.spec.settings import PROJECT_ROOT

DOC_FILE = PROJECT_ROOT / "docs" / "definitions.md"
START = (
    "<!-- definitions:start (generated from pipelines/spec/definitions_registry.py by `make markdown-docs`;"
    " do not edit) -->"
)
END = "<!-- definitions:end -->"


def _where(item: Definition) -> str:
    if item.table is None:
        return "(no table: not read by models)"
    return ", ".join(f"`definitions.{item.table}.{column}`" for column in item.columns)


def definitions_table() -> str:
    """One Markdown row per definition, in the order of definitions.yml."""
    rows = [
        "| definition | definitions.yml | read from | validated by | what it means |",
        "|---|---|---|---|---|",
    ]
    for item in DEFINITIONS:
        cells = [f"`{item.name}`", f"`{item.path}`", _where(item), f"`{validation(item.path)}`", item.meaning]
        rows.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(rows)


def render_doc(text: str, table: str) -> str:
    """The document with its generated block replaced."""
    return replace_generated_block(text, table, START, END, DOC_FILE.name)


def main() -> int:
    DOC_FILE.write_text(render_doc(DOC_FILE.read_text(), definitions_table()))
    print(f"definitions table written to {DOC_FILE.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
