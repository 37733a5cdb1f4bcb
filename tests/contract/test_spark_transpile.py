"""Every model, cross-model check and quarantine rule transpiles to Spark SQL (pipelines/spec/spark_sql.py) and calls
only functions Spark has (the vendored `spark_functions.txt`), so `flywheel run --engine spark` can run every file.

No Spark needed: a model that uses a DuckDB-only function fails here, naming the file and the function, before
anyone runs it on Spark.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipelines.spec.models import Model, load_model
from pipelines.spec.project_files import load_project_files
from pipelines.spec.settings import Settings
from pipelines.spec.spark_sql import spark_problems

SETTINGS = Settings.from_env()


def model_problems(models: list[Model]) -> list[str]:
    """Each model body or check that would not run on Spark, named by its file (and check)."""
    problems = []
    for model in models:
        problems += [f"{model.path}: {problem}" for problem in spark_problems(model.body)]
        for check in model.assertions:
            problems += [f"{model.path} ({check.name}): {problem}" for problem in spark_problems(check.sql)]
    return problems


def test_every_model_and_check_runs_on_spark() -> None:
    models = load_project_files(SETTINGS).models
    assert models
    assert model_problems(models) == []


def test_every_quarantine_rule_runs_on_spark() -> None:
    problems = [
        f"{SETTINGS.sources_file} {table.source}.{table.name} ({rule.name}): {problem}"
        for table in load_project_files(SETTINGS).sources
        for rule in table.quarantine_rules
        for problem in spark_problems(rule.when)
    ]
    assert problems == []


def made_up_model(tmp_path: Path, final_cte: str) -> tuple[Path, Any]:
    """A mart file reading the staged leads, ending with `final_cte`, loaded as the project loads models."""
    models_dir = tmp_path / "models"
    path = models_dir / "marts" / "funnel" / "rpt_made_up.sql"
    path.parent.mkdir(parents=True)
    path.write_text(
        "/*\nname: rpt_made_up\ndescription: Made up.\ngrain: [lead_id]\nowner: team:marketing\n*/\n"
        "with\n\nleads as (select * from staging.stg_salesforce__leads),\n\n" + final_cte
    )
    return path, load_model(path, models_dir)


def test_a_model_with_a_duckdb_only_function_fails_naming_file_and_function(tmp_path: Path) -> None:
    path, model = made_up_model(
        tmp_path,
        "final as (\n    select\n        leads.lead_id, -- the lead\n"
        "        list_reduce([1, 2], (a, b) -> a + b) as total -- a DuckDB-only function\n"
        "    from leads\n)\n\nselect * from final\n",
    )
    problems = model_problems([model])
    assert problems == [f"{path}: calls list_reduce(), which Spark does not have"]


def test_a_model_with_duckdb_only_syntax_fails_naming_the_construct(tmp_path: Path) -> None:
    path, model = made_up_model(
        tmp_path,
        "final as (\n    select * replace (lower(leads.email) as email) from leads\n)\n\nselect * from final\n",
    )
    (problem,) = model_problems([model])
    assert problem.startswith(f"{path}: '* REPLACE (...)' is DuckDB-only")
