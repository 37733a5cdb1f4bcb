"""`flywheel ls`, `show`, `compile` and the selections of `--select`, on the project's asset graph (nothing is built).

The Definitions are built once for the module; `show` reads a tiny warehouse made with DuckDB in tmp_path.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines import cli
from pipelines.orchestration.project import build_definitions
from pipelines.orchestration.selection import SelectionError, asset_lines, resolve_selection
from pipelines.project_commands import compiled_files
from pipelines.spec.models import load_models
from pipelines.spec.settings import Settings
from pipelines.spec.sources import load_sources
from pipelines.warehouse.accounting import ACCOUNTING_CHECK
from pipelines.warehouse.preview import preview_rows

SETTINGS = Settings.from_env()


@pytest.fixture(scope="module")
def definitions() -> dg.Definitions:
    return build_definitions(SETTINGS)


def names(keys: list[dg.AssetKey]) -> list[str]:
    return [key.to_user_string() for key in keys]


def test_a_bare_model_name_selects_its_key(definitions: dg.Definitions) -> None:
    assert names(resolve_selection(definitions, "rpt_funnel_monthly")) == ["marts/rpt_funnel_monthly"]
    assert resolve_selection(definitions, "rpt_funnel_monthly") == resolve_selection(
        definitions, 'key:"marts/rpt_funnel_monthly"'
    )


def test_plus_selects_upstream_or_downstream(definitions: dg.Definitions) -> None:
    upstream = names(resolve_selection(definitions, "+stg_salesforce__leads"))
    assert upstream == ["salesforce/lead", "staging/stg_salesforce__leads"]
    downstream = set(names(resolve_selection(definitions, "rpt_funnel_monthly+")))
    assert downstream == {"marts/rpt_funnel_monthly", "published/bi_snapshot"}
    both = set(names(resolve_selection(definitions, "+rpt_funnel_monthly+")))
    assert {"salesforce/lead", "marts/rpt_funnel_monthly", "published/bi_snapshot"} <= both


def test_dagster_attribute_selections(definitions: dg.Definitions) -> None:
    graph = definitions.resolve_asset_graph()
    marts = names(resolve_selection(definitions, "group:marts"))
    assert marts and all(name.startswith("marts/") for name in marts)
    assert names(resolve_selection(definitions, "tag:layer=marts")) == marts
    sql = resolve_selection(definitions, "kind:sql")
    assert {key.path[0] for key in sql} == {"staging", "intermediate", "marts"}
    sales = resolve_selection(definitions, "owner:team:sales and group:marts")
    assert sales == resolve_selection(definitions, 'owner:"team:sales" and group:marts')
    assert sales and all(graph.get(key).owners == ["team:sales"] for key in sales)


@pytest.mark.parametrize(
    ("selection", "message"),
    [
        ("rpt_nope", "no model or table is named rpt_nope"),
        ('key:"marts/rpt_nope"', "matches no asset"),
        ("group:nope", "matches no asset"),
        ("key:(", "is not valid"),
        ("  ", "matches nothing"),
    ],
)
def test_a_wrong_selection_is_one_line_naming_it(definitions: dg.Definitions, selection: str, message: str) -> None:
    with pytest.raises(SelectionError, match=message) as error:
        resolve_selection(definitions, selection)
    assert "\n" not in str(error.value) and repr(selection) in str(error.value)


def test_ls_lists_the_selection_sorted_with_group_kinds_and_owner(definitions: dg.Definitions) -> None:
    lines = asset_lines(definitions, resolve_selection(definitions, "+stg_salesforce__leads"))
    assert [line.split() for line in lines] == [
        ["salesforce/lead", "raw", "duckdb,file", "team:revops"],
        ["staging/stg_salesforce__leads", "staging", "duckdb,sql", "team:marketing"],
    ]


def test_flywheel_ls_prints_every_asset_once(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["ls"]) == 0
    keys = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert keys == sorted(keys) and len(keys) == len(set(keys))
    assert {"salesforce/lead", "marts/rpt_funnel_monthly", "published/bi_snapshot"} <= set(keys)


def test_a_selection_that_matches_nothing_exits_2_before_any_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`flywheel run --select` resolves the selection before the run: one line, exit code 2, no warehouse written."""
    monkeypatch.setenv("FLYWHEEL_WAREHOUSE", str(tmp_path / "warehouse" / "flywheel.duckdb"))
    started = time.perf_counter()
    assert cli.main(["run", "--select", "rpt_nope"]) == 2
    assert time.perf_counter() - started < 15
    error = capsys.readouterr().err.strip()
    assert error == "flywheel run: selection 'rpt_nope': no model or table is named rpt_nope; nothing was built"
    assert not (tmp_path / "warehouse" / "flywheel.duckdb").exists()


def test_run_passes_select_and_fail_fast_to_the_build(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without them `flywheel run` builds everything and carries on past a failed step, as before."""
    calls: list[dict[str, object]] = []

    def fake_run(settings: Settings, **options: object) -> cli.RunSummary:
        calls.append(options)
        return cli.RunSummary(succeeded=False, seconds=0.0, failed_steps=["salesforce__lead"])

    monkeypatch.setattr(cli, "run_pipeline", fake_run)
    assert cli.main(["run", "--select", "+rpt_funnel_monthly", "--fail-fast"]) == 1
    assert cli.main(["run"]) == 1
    assert [(call["select"], call["fail_fast"]) for call in calls] == [("+rpt_funnel_monthly", True), (None, False)]
    assert "failed steps:  1" in capsys.readouterr().out


@pytest.mark.parametrize("command", ["run", "ls", "show", "compile", "refresh", "backfill", "forget"])
def test_every_command_and_option_has_a_description(command: str) -> None:
    commands = next(action for action in cli._parser()._actions if isinstance(action, argparse._SubParsersAction))
    parser = commands.choices[command]
    assert parser.description and len(parser.description) > 40
    options = [action for action in parser._actions if not isinstance(action, argparse._HelpAction)]
    assert all(action.help for action in options), [action.dest for action in options if not action.help]


def test_compile_writes_every_model_and_check_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "compiled"
    assert cli.main(["compile", "--out", str(out)]) == 0
    models = load_models(SETTINGS.models_dir)
    assert capsys.readouterr().out.startswith(f"compiled {len(models)} models and ")
    written = {path.relative_to(out) for path in out.rglob("*.sql")}
    for model in models:
        relative = model.path.relative_to(SETTINGS.models_dir)
        assert relative in written
        assert (out / relative).read_text().strip() == model.body
    funnel = next(model for model in models if model.name == "rpt_funnel_monthly")
    assert funnel.path.relative_to(SETTINGS.models_dir) == Path("marts/funnel/rpt_funnel_monthly.sql")
    assert "/*" not in (out / "marts/funnel/rpt_funnel_monthly.sql").read_text().split("\n", 1)[0]


def test_compiled_checks_hold_the_checks_as_they_run() -> None:
    """A model's own checks, and the row accounting generated for a staging model, each after a comment naming it."""
    models = load_models(SETTINGS.models_dir)
    files = compiled_files(models, load_sources(SETTINGS.sources_file), SETTINGS.models_dir)
    checked = next(model for model in models if model.assertions)
    text = files[checked.path.relative_to(SETTINGS.models_dir).with_name(checked.name + ".checks.sql")]
    for assertion in checked.assertions:
        assert f"-- {assertion.name} ({assertion.severity}): " in text and assertion.sql in text
    leads = Path("staging/salesforce/stg_salesforce__leads.checks.sql")
    assert files[leads].startswith(f"-- {ACCOUNTING_CHECK} (error): Every row of the salesforce.lead file")


@pytest.fixture
def tiny_warehouse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A warehouse holding one small marts table, standing for a build."""
    path = tmp_path / "flywheel.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.execute(
            "create schema marts; create table marts.rpt_funnel_monthly as "
            "select range as leads_created_count, 'Paid Search' as channel from range(30)"
        )
    monkeypatch.setenv("FLYWHEEL_WAREHOUSE", str(path))
    return path


def test_show_prints_the_sql_then_the_first_rows(tiny_warehouse: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["show", "rpt_funnel_monthly", "--limit", "3"]) == 0
    out = capsys.readouterr().out
    model = next(model for model in load_models(SETTINGS.models_dir) if model.name == "rpt_funnel_monthly")
    sql, rows = out.split("\n-- first 3 row(s) of marts.rpt_funnel_monthly")
    assert model.body in sql and "owner:" not in sql
    assert [line.split()[0] for line in rows.strip().splitlines()[2:]] == ["0", "1", "2"]


def test_show_names_the_command_to_run_when_nothing_is_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FLYWHEEL_WAREHOUSE", str(tmp_path / "none.duckdb"))
    assert cli.main(["show", "marts.rpt_funnel_monthly"]) == 1
    error = capsys.readouterr().err.strip()
    assert error.startswith(f"flywheel show: no warehouse at {tmp_path / 'none.duckdb'} yet")
    assert "`flywheel run --select +rpt_funnel_monthly`" in error and "\n" not in error
    assert not (tmp_path / "none.duckdb").exists()


def test_show_a_table_not_built_yet_or_an_unknown_model(
    tiny_warehouse: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["show", "fct_opportunity_outcomes"]) == 1
    error = capsys.readouterr().err.strip()
    assert error == (
        "flywheel show: marts.fct_opportunity_outcomes is not in "
        f"{tiny_warehouse} yet: run `flywheel run --select +fct_opportunity_outcomes` to build it"
    )
    assert cli.main(["show", "rpt_funnel_montly"]) == 2
    assert capsys.readouterr().err.startswith(
        "flywheel show: no model is named rpt_funnel_montly (did you mean rpt_funnel_monthly, "
    )


def test_show_reads_the_warehouse_read_only(tiny_warehouse: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The preview takes no write lock: it works while another process only reads, and writes nothing."""
    before = tiny_warehouse.stat().st_mtime_ns
    with duckdb.connect(str(tiny_warehouse), read_only=True):
        assert cli.main(["show", "rpt_funnel_monthly", "--limit", "1"]) == 0
    assert tiny_warehouse.stat().st_mtime_ns == before


def test_keys_and_names_combine_with_dagster_operators(definitions: dg.Definitions) -> None:
    selected = resolve_selection(definitions, "salesforce/lead or account or (kind:sql and stg_salesforce__leads)")
    assert names(selected) == ["salesforce/account", "salesforce/lead", "staging/stg_salesforce__leads"]


def test_a_preview_shows_the_rows_in_grain_order(tmp_path: Path) -> None:
    """The same table previews the same rows: rows stored out of order come back by the grain."""
    path = tmp_path / "flywheel.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.execute(
            "create schema marts; create table marts.t as "
            "select * from (values ('2026-03-01', 'b', 3), ('2026-01-01', 'z', 1), ('2026-01-01', 'a', 2)) "
            "as rows(month, channel, leads)"
        )
    rows = preview_rows(path, "marts", "t", 2, "flywheel run", order_by=("month", "channel", "segment"))
    assert rows.values.tolist() == [["2026-01-01", "a", 2], ["2026-01-01", "z", 1]]
