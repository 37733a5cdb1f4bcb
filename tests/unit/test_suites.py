"""Great Expectations suites: loading, definition references, and what a run reports for good, bad and broken cases.

Every failing-data test breaks a known set of leads in a small frame and checks the exact count and sample keys,
worked out by hand from the rows below.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from pipelines.spec.suite_references import resolve_condition
from pipelines.warehouse import suite_run, suites
from pipelines.warehouse.suites import (
    ExpectationOutcome,
    Suite,
    SuiteError,
    SuiteResult,
    load_suites,
    resolve_kwargs,
    run_suite,
)

DEFINITIONS: dict[str, Any] = {
    "version": 1,
    "mql": {"score_threshold": 40, "min_fit_score": 20},
    "rejection_reasons": ["No Budget", "Not ICP", "Timing"],
    "unspecified_rejection_reason": "Unspecified",
    "closed_lost_reasons": [
        {"reason": "Price", "bucket": "Pricing"},
        {"reason": "Timing", "bucket": "Sales Process"},
    ],
}

BETWEEN = "expect_column_values_to_be_between(score_at_mql)"
IN_SET = "expect_column_values_to_be_in_set(rejection_reason)"
PAIR = "expect_column_pair_values_a_to_be_greater_than_b(mql_at, created_at)"
REASON_NOT_NULL = "expect_column_values_to_not_be_null(rejection_reason)"
WON_WERE_MQL = "expect_column_values_to_not_be_null(mql_at)"
CREATED_NOT_NULL = "expect_column_values_to_not_be_null(created_at)"

LIFECYCLE_EXPECTATIONS: list[dict[str, Any]] = [
    {
        "type": "expect_column_values_to_be_between",
        "description": "every MQL meets the score threshold in force",
        "kwargs": {
            "column": "score_at_mql",
            "min_value": {"$definition": "mql__score_threshold"},
            "row_condition": "mql_at.notnull()",
            "condition_parser": "pandas",
        },
    },
    {
        "type": "expect_column_values_to_be_in_set",
        "description": "every rejected lead carries a reason from the taxonomy",
        "kwargs": {
            "column": "rejection_reason",
            "value_set": {"$definition": "rejection_reasons"},
            "row_condition": "rejected_at.notnull()",
            "condition_parser": "pandas",
        },
    },
    {
        "type": "expect_column_pair_values_a_to_be_greater_than_b",
        "description": "MQL never precedes creation",
        "kwargs": {
            "column_A": "mql_at",
            "column_B": "created_at",
            "or_equal": True,
            "ignore_row_if": "either_value_is_missing",
        },
    },
    {
        "type": "expect_column_values_to_not_be_null",
        "description": "every rejected lead has a reason at all",
        "kwargs": {
            "column": "rejection_reason",
            "row_condition": "rejected_at.notnull()",
            "condition_parser": "pandas",
        },
    },
    {
        "type": "expect_column_values_to_not_be_null",
        "description": "every won lead was an MQL",
        "kwargs": {"column": "mql_at", "row_condition": "is_won == True", "condition_parser": "pandas"},
    },
    {
        "type": "expect_column_values_to_not_be_null",
        "description": "every lead has a creation time",
        "kwargs": {"column": "created_at"},
    },
]

# Six leads that meet every rule above, deliberately out of key order (DuckDB returns rows in no set order).
# MQLs: L01, L03, L05.  Rejected: L02, L05.  Won: L01, L03 (L05 and L06 unknown).
LEAD_COLUMNS = ("lead_id", "created_at", "mql_at", "score_at_mql", "rejected_at", "rejection_reason", "is_won")
LEAD_ROWS: list[tuple[Any, ...]] = [
    ("L05", "2024-01-06", "2024-01-08", 70, "2024-01-09", "Timing", None),
    ("L02", "2024-01-03", None, None, "2024-01-05", "Not ICP", False),
    ("L06", "2024-01-07", None, None, None, None, None),
    ("L01", "2024-01-01", "2024-01-02", 45, None, None, True),
    ("L04", "2024-01-05", None, None, None, None, False),
    ("L03", "2024-01-04", "2024-01-04", 40, None, None, True),
]

DOTTED = ".".join(["mql", "score_threshold"])


def leads(changes: dict[str, dict[str, Any]] | None = None) -> pd.DataFrame:
    """The lead rows with some values changed (`{lead_id: {column: value}}`), in the dtypes DuckDB hands pandas 3."""
    rows = [dict(zip(LEAD_COLUMNS, row, strict=True)) for row in LEAD_ROWS]
    for row in rows:
        row.update((changes or {}).get(row["lead_id"], {}))
    frame = pd.DataFrame(rows, columns=list(LEAD_COLUMNS))
    return frame.astype(
        {
            "lead_id": "str",
            "created_at": "datetime64[us]",
            "mql_at": "datetime64[us]",
            "score_at_mql": "Int64",
            "rejected_at": "datetime64[us]",
            "rejection_reason": "str",
            "is_won": "boolean",
        }
    )


def write_suite(directory: Path, file_name: str = "suite.json", **fields: Any) -> Path:
    """A suite file with sensible defaults; `fields` replace top-level keys, a value of None removes the key."""
    document: dict[str, Any] = {
        "name": "lead_lifecycle_definitions",
        "model": "intermediate.int_leads_lifecycle",
        "severity": "error",
        "description": "The lead lifecycle follows the shared definitions.",
        "expectations": LIFECYCLE_EXPECTATIONS,
    }
    document.update(fields)
    document = {key: value for key, value in document.items() if value is not None}
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / file_name
    path.write_text(json.dumps(document, indent=2))
    return path


def make_suite(tmp_path: Path, expectations: list[dict[str, Any]] | None = None, **fields: Any) -> Suite:
    """One suite, written to a file and loaded the way the project loads them."""
    write_suite(tmp_path / "expectations", expectations=expectations or LIFECYCLE_EXPECTATIONS, **fields)
    (suite,) = load_suites(tmp_path / "expectations")
    return suite


def outcome(result: SuiteResult, expectation: str) -> ExpectationOutcome:
    """The one outcome of the named expectation."""
    (found,) = [item for item in result.outcomes if item.expectation == expectation]
    return found


def failing(result: SuiteResult) -> list[str]:
    return [item.expectation for item in result.outcomes if not item.success]


@pytest.fixture(scope="module")
def gx_context() -> Iterator[None]:
    """Import Great Expectations once for the module (its import alone takes seconds)."""
    import great_expectations  # noqa: F401

    yield


# --- Loading ---------------------------------------------------------------------------------------------------------


def test_load_suites_reads_the_format_and_sorts_by_name(tmp_path: Path) -> None:
    directory = tmp_path / "expectations"
    write_suite(directory, "a.json", name="zebra_contract", severity="warn")
    write_suite(directory, "b.json", name="alpha_definitions")
    loaded = load_suites(directory)
    assert [suite.name for suite in loaded] == ["alpha_definitions", "zebra_contract"]
    alpha, zebra = loaded
    assert (alpha.schema, alpha.table, alpha.path.name) == ("intermediate", "int_leads_lifecycle", "b.json")
    assert len(alpha.expectations) == len(LIFECYCLE_EXPECTATIONS)
    assert alpha.expectations[0]["kwargs"]["min_value"] == {"$definition": "mql__score_threshold"}
    assert (alpha.severity, alpha.blocking) == ("error", True)
    assert (zebra.severity, zebra.blocking) == ("warn", False)


def test_load_suites_without_a_directory_finds_none(tmp_path: Path) -> None:
    assert load_suites(tmp_path / "missing") == []


def test_duplicate_suite_names_fail(tmp_path: Path) -> None:
    directory = tmp_path / "expectations"
    write_suite(directory, "one.json")
    write_suite(directory, "two.json")
    with pytest.raises(SuiteError, match=r"two\.json: suite name `lead_lifecycle_definitions` is already used by"):
        load_suites(directory)


def with_expectation(**changes: Any) -> list[dict[str, Any]]:
    """The lifecycle expectations with the first one changed (a value of None removes its key)."""
    expectations = copy.deepcopy(LIFECYCLE_EXPECTATIONS)
    expectations[0].update(changes)
    expectations[0] = {key: value for key, value in expectations[0].items() if value is not None}
    return expectations


SUITE = "suite lead_lifecycle_definitions"
FIRST = "expectations[0]"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"severity": "fatal"}, f"{SUITE}: severity: must be one of 'error' or 'warn', not the text 'fatal'"),
        ({"severity": None}, f"{SUITE}: severity: missing"),
        ({"severty": "warn"}, f"{SUITE}: severty: unknown key (did you mean severity?)"),
        ({"severity": 1}, f"{SUITE}: severity: must be one of 'error' or 'warn', not 1"),
        ({"model": "int_leads_lifecycle"}, f"{SUITE}: model: must be `schema.table` in lower snake_case"),
        ({"name": "Lead Lifecycle"}, "name: must be lower snake_case (it becomes a Dagster check name)"),
        ({"name": None}, "broken.json: name: missing"),
        ({"description": " "}, f"{SUITE}: description: must say in words what is checked"),
        ({"expectations": []}, f"{SUITE}: expectations: must not be empty"),
        ({"expectations": {"type": "expect_column_to_exist"}}, f"{SUITE}: expectations: must be a list, not a mapping"),
        (
            {"expectations": with_expectation(type="column_values_between")},
            f"{SUITE}: {FIRST}.type: must be a Great Expectations type such as expect_",
        ),
        ({"expectations": with_expectation(description=None)}, f"{SUITE}: {FIRST}.description: missing"),
        ({"expectations": with_expectation(kwarg={})}, f"{SUITE}: {FIRST}.kwarg: unknown key (did you mean kwargs?)"),
        (
            {"expectations": with_expectation(kwargs=["score_at_mql"])},
            f"{SUITE}: {FIRST}.kwargs: must be a mapping of keys to values, not a list",
        ),
        (
            {"expectations": with_expectation(kwargs={"column": "x", "row_condition": "x > 1"})},
            f'{SUITE}: {FIRST}.kwargs.condition_parser: must be "pandas" beside a row_condition',
        ),
        (
            {"expectations": with_expectation(kwargs={"column": "x", "min_value": {"$definition": ["mql"]}})},
            f'{SUITE}: {FIRST}.kwargs.min_value: a reference is {{"$definition": "definition_name"}}',
        ),
        (
            {"expectations": with_expectation(kwargs={"column": "x", "value_set": [{"$definition": "a", "$add": 1}]})},
            f"{SUITE}: {FIRST}.kwargs.value_set[0]: a reference is",
        ),
        (
            {"expectations": with_expectation(kwargs={"column": "x", "value_set": {"$definition": "a", "$field": 1}})},
            f"{SUITE}: {FIRST}.kwargs.value_set.$field: must be the name of a field, not 1",
        ),
        (  # the dotted key of definitions.yml is not the definition's name (built here so no respelling rewrites it)
            {"expectations": with_expectation(kwargs={"column": "x", "min_value": {"$definition": DOTTED}})},
            "`mql.score_threshold`: a definition is named as in SQL and the docs, its path with `.` written `__`: "
            "`mql__score_threshold`",
        ),
        (
            {"expectations": with_expectation(kwargs={"value_set": {"$definition": "a", "$append": DOTTED}})},
            "`mql.score_threshold`: a definition is named as in SQL and the docs",
        ),
        (
            {"expectations": with_expectation(kwargs={"value_pairs_set": {"$definition": "a", "$pairs": "yes"}})},
            f'{SUITE}: {FIRST}.kwargs.value_pairs_set.$pairs: must be true, not "yes"',
        ),
        (
            {"expectations": with_expectation(kwargs={"min_value": {"$definition": "a", "$where": "SMB"}})},
            f'{SUITE}: {FIRST}.kwargs.min_value.$where: must map field names to the values to find, not "SMB"',
        ),
    ],
)
def test_invalid_suite_files_name_the_file_the_suite_and_the_key(
    tmp_path: Path, fields: dict[str, Any], message: str
) -> None:
    path = write_suite(tmp_path, "broken.json", **fields)
    with pytest.raises(SuiteError) as raised:
        load_suites(tmp_path)
    assert str(raised.value).startswith(f"{path}: ")
    assert message in str(raised.value)


def test_every_problem_of_a_suite_file_is_reported_one_per_line(tmp_path: Path) -> None:
    path = write_suite(
        tmp_path, "broken.json", severty="warn", model=3, expectations=with_expectation(description=None)
    )
    with pytest.raises(SuiteError) as raised:
        load_suites(tmp_path)
    assert str(raised.value).splitlines() == [
        f"{path}: {SUITE}: {FIRST}.description: missing",
        f"{path}: {SUITE}: model: must be text, not 3",
        f"{path}: {SUITE}: severty: unknown key (did you mean severity?)",
    ]


def test_a_key_written_twice_names_it(tmp_path: Path) -> None:
    path = write_suite(tmp_path, "broken.json")
    path.write_text(path.read_text().replace('"severity": "error"', '"severity": "error", "severity": "warn"'))
    with pytest.raises(SuiteError, match=r"broken\.json: the key 'severity' is written twice"):
        load_suites(tmp_path)


def test_invalid_json_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text('{"name": ')
    with pytest.raises(SuiteError, match=r"bad\.json: not valid JSON"):
        load_suites(tmp_path)


# --- Definition references -------------------------------------------------------------------------------------------


def reference_suite(tmp_path: Path, kwargs: dict[str, Any]) -> Suite:
    return make_suite(tmp_path, [{"type": "expect_column_values_to_be_in_set", "description": "d", "kwargs": kwargs}])


def test_definitions_resolve_scalars_lists_and_fields(tmp_path: Path) -> None:
    suite = reference_suite(
        tmp_path,
        {
            "column": "reason",
            "value_set": {"$definition": "rejection_reasons"},
            "scalar": {"$definition": "mql__score_threshold"},
            "in_a_list": [{"$definition": "unspecified_rejection_reason"}, "literal", {"$definition": "version"}],
            "nested": {"deeper": {"$definition": "mql"}},
            "fields": {"$definition": "closed_lost_reasons", "$field": "reason"},
        },
    )
    definitions = copy.deepcopy(DEFINITIONS)
    (resolved,) = resolve_kwargs(suite, definitions)
    assert resolved["type"] == "expect_column_values_to_be_in_set"
    assert resolved["description"] == "d"
    assert resolved["kwargs"] == {
        "column": "reason",
        "value_set": ["No Budget", "Not ICP", "Timing"],
        "scalar": 40,
        "in_a_list": ["Unspecified", "literal", 1],
        "nested": {"deeper": {"score_threshold": 40, "min_fit_score": 20}},
        "fields": ["Price", "Timing"],
    }
    # The suite keeps its references and the definitions are copied, not shared, so GE cannot alter either.
    assert suite.expectations[0]["kwargs"]["scalar"] == {"$definition": "mql__score_threshold"}
    resolved["kwargs"]["value_set"].append("Changed")
    assert definitions == DEFINITIONS


BANDS_AND_CHANNELS: dict[str, Any] = {
    "segments": {
        "unknown_segment": "Unknown",
        "bands": [
            {"name": "SMB", "min_employees": 1, "max_employees": 99},
            {"name": "Enterprise", "min_employees": 100, "max_employees": None},
        ],
    },
    "channels": {"default": "Unattributed", "lead_sources": {"seo": "Organic", "cold call": "Outbound"}},
}


def test_where_picks_one_item_and_pairs_read_a_mapping(tmp_path: Path) -> None:
    suite = reference_suite(
        tmp_path,
        {
            "column": "employee_count",
            "min_value": {"$definition": "segments__bands", "$where": {"name": "SMB"}, "$field": "min_employees"},
            "max_value": {
                "$definition": "segments__bands",
                "$where": {"name": "Enterprise"},
                "$field": "max_employees",
            },
            "band": {"$definition": "segments__bands", "$where": {"name": "SMB", "min_employees": 1}},
            "value_pairs_set": {"$definition": "channels__lead_sources", "$pairs": True},
        },
    )
    (resolved,) = resolve_kwargs(suite, BANDS_AND_CHANNELS)
    assert resolved["kwargs"] == {
        "column": "employee_count",
        "min_value": 1,
        "max_value": None,
        "band": {"name": "SMB", "min_employees": 1, "max_employees": 99},
        "value_pairs_set": [["seo", "Organic"], ["cold call", "Outbound"]],
    }
    # Each band's bound is its own GE suite parameter, so two bands in one suite never share a value.
    prepared = suite_run._prepare(suite, 0, suite.expectations[0], BANDS_AND_CHANNELS)
    assert prepared.parameters["segments__bands__min_employees__where__name_SMB"] == 1
    assert prepared.parameters["channels__lead_sources__pairs"] == [["seo", "Organic"], ["cold call", "Outbound"]]


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ({"$definition": "segments__bands", "$where": {"name": "Mid"}}, r"0 items of definition `segments__bands`"),
        ({"$definition": "segments__unknown_segment", "$where": {"name": "SMB"}}, r"`\$where` needs a list of"),
        ({"$definition": "segments__bands", "$where": {"name": "SMB"}, "$field": "size"}, r"has no field `size`"),
        ({"$definition": "segments__bands", "$pairs": True}, r"`\$pairs` needs a mapping"),
    ],
)
def test_bad_where_and_pairs_references_say_why(tmp_path: Path, reference: dict[str, Any], message: str) -> None:
    suite = reference_suite(tmp_path, {"column": "x", "value_set": reference})
    with pytest.raises(SuiteError, match=message):
        resolve_kwargs(suite, BANDS_AND_CHANNELS)


def test_a_row_condition_reads_definitions_written_with_an_at_sign() -> None:
    where = "suite.json: suite s: expectation 1"
    condition = "source.isnull() | (source not in @channels__lead_sources) | (c == @channels__default)"
    assert resolve_condition(condition, BANDS_AND_CHANNELS, where) == (
        "source.isnull() | (source not in ['seo', 'cold call']) | (c == 'Unattributed')"
    )
    assert resolve_condition("email == 'a@b.com'", BANDS_AND_CHANNELS, where) == "email == 'a@b.com'"
    with pytest.raises(SuiteError, match=r"unknown definition `channels__defaults`"):
        resolve_condition("c == @channels__defaults", BANDS_AND_CHANNELS, where)


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        (
            {"$definition": "mql__score_treshold"},
            r"unknown definition `mql__score_treshold`: mql has no `score_treshold`",
        ),
        (
            {"$definition": "sql__threshold"},
            r"unknown definition `sql__threshold`: the definitions document has no `sql`",
        ),
        ({"$definition": "mql__score_threshold__value"}, r"mql__score_threshold has no `value`"),
        ({"$definition": "mql__score_threshold", "$field": "reason"}, r"`\$field` needs a list of mappings"),
        ({"$definition": "mql", "$field": "reason"}, r"definition `mql` has no `reason` \(it has: min_fit_score"),
        ({"$definition": "closed_lost_reasons", "$field": "owner"}, r"item\(s\) \[0, 1\] .* have no field `owner`"),
    ],
)
def test_bad_references_name_the_suite_file_and_the_path(
    tmp_path: Path, reference: dict[str, str], message: str
) -> None:
    suite = reference_suite(tmp_path, {"column": "reason", "value_set": [reference]})
    with pytest.raises(SuiteError, match=message) as raised:
        resolve_kwargs(suite, DEFINITIONS)
    assert str(suite.path) in str(raised.value)
    assert "expect_column_values_to_be_in_set(reason)" in str(raised.value)


# --- Running: passing and failing data -------------------------------------------------------------------------------


def test_a_suite_passes_on_data_that_meets_the_definitions(tmp_path: Path, gx_context: None) -> None:
    frame = leads()
    result = run_suite(make_suite(tmp_path), frame, DEFINITIONS, ["lead_id"])
    assert (result.success, result.broken, failing(result)) == (True, False, [])
    assert [item.expectation for item in result.outcomes] == [
        BETWEEN,
        IN_SET,
        PAIR,
        REASON_NOT_NULL,
        WON_WERE_MQL,
        CREATED_NOT_NULL,
    ]
    # Under a row condition GE counts only the rows that meet it: 3 MQLs, 2 rejected, 2 known to be won.
    assert [item.element_count for item in result.outcomes] == [3, 2, 6, 2, 2, 6]
    assert all(item.unexpected_count == 0 and item.sample_keys == [] and item.error is None for item in result.outcomes)
    assert (
        result.summary() == "lead_lifecycle_definitions: all 6 expectations passed on intermediate.int_leads_lifecycle"
    )
    assert result.seconds > 0
    pd.testing.assert_frame_equal(frame, leads())  # the caller's frame is left as it was


def test_score_below_the_threshold_in_force(tmp_path: Path, gx_context: None) -> None:
    # L03 and L05 are MQLs below 40; L04 is not an MQL, so its low score is not checked.
    frame = leads({"L03": {"score_at_mql": 39}, "L05": {"score_at_mql": 12}, "L04": {"score_at_mql": 5}})
    result = run_suite(make_suite(tmp_path), frame, DEFINITIONS, ["lead_id"])
    assert (result.success, result.broken, failing(result)) == (False, False, [BETWEEN])
    below = outcome(result, BETWEEN)
    assert (below.unexpected_count, below.element_count, below.sample_keys, below.error) == (2, 3, ["L03", "L05"], None)
    assert result.summary() == (
        f"every MQL meets the score threshold in force [{BETWEEN}]: 2 of 3 rows unexpected; sample keys: L03, L05"
    )


def test_failing_rows_are_looked_up_only_for_the_expectations_that_failed(
    tmp_path: Path, gx_context: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Looking up the keys of failing rows is a third of GE's work: a first pass counts every expectation's rows, and
    # only the failing ones are validated again with sample keys. A suite that passes is validated once.
    from pipelines.warehouse import ge_duckdb

    calls: list[tuple[str, list[int], list[str]]] = []
    validate_query = ge_duckdb.validate_query

    def recording(connection: Any, query: str, name: str, expectations: Any, parameters: Any, result_format: Any):
        positions = [expectation.meta[suite_run._POSITION] for expectation in expectations]
        calls.append((result_format["result_format"], positions, result_format.get("unexpected_index_column_names")))
        return validate_query(connection, query, name, expectations, parameters, result_format)

    monkeypatch.setattr(ge_duckdb, "validate_query", recording)
    assert run_suite(make_suite(tmp_path), leads(), DEFINITIONS, ["lead_id"]).success
    assert calls == [("BASIC", [0, 1, 2, 3, 4, 5], None)]

    calls.clear()
    frame = leads({"L03": {"score_at_mql": 39}, "L05": {"score_at_mql": 12}})
    result = run_suite(make_suite(tmp_path), frame, DEFINITIONS, ["lead_id"])
    assert calls == [("BASIC", [0, 1, 2, 3, 4, 5], None), ("SUMMARY", [0], ["lead_id"])]
    below = outcome(result, BETWEEN)
    assert (below.unexpected_count, below.element_count, below.sample_keys) == (2, 3, ["L03", "L05"])
    assert [item.element_count for item in result.outcomes] == [3, 2, 6, 2, 2, 6]


def test_the_threshold_comes_from_the_definitions(tmp_path: Path, gx_context: None) -> None:
    # Raise the threshold to 46: L01 (45) and L03 (40) now fall short, L05 (70) still meets it.
    definitions = {**DEFINITIONS, "mql": {"score_threshold": 46}}
    result = run_suite(make_suite(tmp_path), leads(), definitions, ["lead_id"])
    below = outcome(result, BETWEEN)
    assert (below.unexpected_count, below.sample_keys) == (2, ["L01", "L03"])


def test_pair_ordering_violated_on_timestamps_with_nat(tmp_path: Path, gx_context: None) -> None:
    # L05 becomes an MQL a day before it was created, L01 a day before too; leads without an MQL (NaT) are skipped.
    frame = leads({"L05": {"mql_at": "2024-01-05"}, "L01": {"mql_at": "2023-12-31"}})
    result = run_suite(make_suite(tmp_path), frame, DEFINITIONS, ["lead_id"])
    assert (result.success, result.broken, failing(result)) == (False, False, [PAIR])
    pair = outcome(result, PAIR)
    assert (pair.unexpected_count, pair.element_count, pair.sample_keys) == (2, 6, ["L01", "L05"])


def test_value_not_in_the_taxonomy_under_a_row_condition(tmp_path: Path, gx_context: None) -> None:
    # L02 (rejected) has a reason outside the taxonomy; L06 has one too but is not rejected, so it is not checked.
    # L05 (rejected) has no reason: a set check skips nulls, so only the not-null check catches it.
    frame = leads(
        {"L02": {"rejection_reason": "Bogus"}, "L06": {"rejection_reason": "Bogus"}, "L05": {"rejection_reason": None}}
    )
    result = run_suite(make_suite(tmp_path), frame, DEFINITIONS, ["lead_id"])
    assert (result.success, result.broken, failing(result)) == (False, False, [IN_SET, REASON_NOT_NULL])
    not_in_set = outcome(result, IN_SET)
    assert (not_in_set.unexpected_count, not_in_set.element_count, not_in_set.sample_keys) == (1, 2, ["L02"])
    no_reason = outcome(result, REASON_NOT_NULL)
    assert (no_reason.unexpected_count, no_reason.element_count, no_reason.sample_keys) == (1, 2, ["L05"])


def test_null_where_not_allowed(tmp_path: Path, gx_context: None) -> None:
    frame = leads({"L04": {"created_at": None}, "L02": {"created_at": None}})
    result = run_suite(make_suite(tmp_path), frame, DEFINITIONS, ["lead_id"])
    assert failing(result) == [CREATED_NOT_NULL]
    missing = outcome(result, CREATED_NOT_NULL)
    assert (missing.unexpected_count, missing.element_count, missing.sample_keys) == (2, 6, ["L02", "L04"])


def test_nullable_boolean_row_condition(tmp_path: Path, gx_context: None) -> None:
    # `is_won == True` on a nullable boolean: L04 becomes won without being an MQL; NA (L05, L06) is not won.
    result = run_suite(make_suite(tmp_path), leads({"L04": {"is_won": True}}), DEFINITIONS, ["lead_id"])
    assert failing(result) == [WON_WERE_MQL]
    won = outcome(result, WON_WERE_MQL)
    assert (won.unexpected_count, won.element_count, won.sample_keys) == (1, 3, ["L04"])


def test_negated_boolean_and_combined_row_condition(tmp_path: Path, gx_context: None) -> None:
    # Rejected leads that are not won: L02 (won False) and L05 (won NA, so `~is_won` is NA and the row is left out).
    suite = make_suite(
        tmp_path,
        [
            {
                "type": "expect_column_values_to_be_in_set",
                "description": "rejected leads that were not won were rejected for timing",
                "kwargs": {
                    "column": "rejection_reason",
                    "value_set": ["Timing"],
                    "row_condition": "rejected_at.notnull() & ~is_won",
                    "condition_parser": "pandas",
                },
            }
        ],
    )
    (only,) = run_suite(suite, leads(), DEFINITIONS, ["lead_id"]).outcomes
    assert (only.unexpected_count, only.element_count, only.sample_keys) == (1, 1, ["L02"])


def test_sample_keys_are_five_sorted_failing_keys_whatever_the_row_order(tmp_path: Path, gx_context: None) -> None:
    scores = {"K01": 50, "K02": 41, "K03": 1, "K04": 2, "K05": 60, "K06": 3, "K07": 4, "K08": 90, "K09": 5, "K10": 6}
    suite = make_suite(
        tmp_path,
        [
            {
                "type": "expect_column_values_to_be_between",
                "description": "every MQL meets the score threshold in force",
                "kwargs": {"column": "score_at_mql", "min_value": {"$definition": "mql__score_threshold"}},
            }
        ],
    )
    failing_keys = {"K03", "K04", "K06", "K07", "K09", "K10"}
    samples = set()
    for order in (list(scores), list(reversed(scores)), ["K09", "K01", "K06", "K10", "K03", "K08", "K04", "K07"]):
        ordered = pd.DataFrame({"lead_id": order, "score_at_mql": [scores[key] for key in order]})
        (below,) = run_suite(suite, ordered, DEFINITIONS, ["lead_id"]).outcomes
        assert below.unexpected_count == 6
        assert len(below.sample_keys) == 5 and below.sample_keys == sorted(below.sample_keys)
        assert set(below.sample_keys) <= failing_keys
        samples.add(tuple(below.sample_keys))
    # GE's SQL engine samples failing rows in scan order: which five depends on how the rows were stored.
    assert len(samples) > 1


def test_composite_keys_are_joined(tmp_path: Path, gx_context: None) -> None:
    frame = pd.DataFrame(
        {
            "account_id": ["A2", "A1", "A1", "A2"],
            "month": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-01-01", "2024-02-01"]).astype("datetime64[us]"),
            "mrr_usd": [-1.0, 5.0, -2.0, float("nan")],
        }
    )
    suite = make_suite(
        tmp_path,
        [
            {
                "type": "expect_column_values_to_not_be_null",
                "description": "MRR is known",
                "kwargs": {"column": "mrr_usd"},
            }
        ],
    )
    (missing,) = run_suite(suite, frame, DEFINITIONS, ["account_id", "month"]).outcomes
    assert (missing.unexpected_count, missing.sample_keys) == (1, ["A2 | 2024-02-01 00:00:00"])


@pytest.mark.parametrize(
    ("ignore_row_if", "unexpected", "keys"),
    [("either_value_is_missing", 1, ["k2"]), ("both_values_are_missing", 1, ["k2"])],
)
def test_pair_with_a_missing_value_is_not_judged(
    tmp_path: Path, gx_context: None, ignore_row_if: str, unexpected: int, keys: list[str]
) -> None:
    # k3 and k4 have one side missing, k2 is plainly out of order. In SQL a comparison with a null is unknown, so
    # GE counts k3 and k4 neither way, whatever `ignore_row_if` says; a not-null expectation catches missing values.
    frame = pd.DataFrame(
        {
            "key": ["k1", "k2", "k3", "k4"],
            "closed_amount": pd.array([2, 1, None, 5], dtype="Int64"),
            "opened_amount": pd.array([1, 2, 1, None], dtype="Int64"),
        }
    )
    suite = make_suite(
        tmp_path,
        [
            {
                "type": "expect_column_pair_values_a_to_be_greater_than_b",
                "description": "amounts never shrink",
                "kwargs": {"column_A": "closed_amount", "column_B": "opened_amount", "ignore_row_if": ignore_row_if},
            }
        ],
    )
    result = run_suite(suite, frame, DEFINITIONS, ["key"])
    (pair,) = result.outcomes
    assert (result.broken, pair.unexpected_count, pair.sample_keys) == (False, unexpected, keys)
    assert str(frame["closed_amount"].dtype) == "Int64"


# --- Broken suites ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"column": "score_at_sql"}, 'The column "score_at_sql" in BatchData does not exist'),
        ({"column": "mql_at", "row_condition": "is_won ==", "condition_parser": "pandas"}, "invalid syntax"),
    ],
)
def test_an_expectation_that_raises_makes_the_suite_broken(
    tmp_path: Path, gx_context: None, kwargs: dict[str, Any], error: str
) -> None:
    expectations = [
        *LIFECYCLE_EXPECTATIONS[:2],
        {"type": "expect_column_values_to_not_be_null", "description": "a misspelt check", "kwargs": kwargs},
    ]
    result = run_suite(make_suite(tmp_path, expectations), leads(), DEFINITIONS, ["lead_id"])
    assert (result.success, result.broken) == (False, True)
    first, second, broken = result.outcomes
    assert first.success and second.success and first.error is None  # the rest of the suite still ran
    assert broken.success is False
    assert broken.error is not None and error in broken.error
    assert (broken.unexpected_count, broken.sample_keys) == (0, [])
    assert result.summary().startswith("BROKEN SUITE: a misspelt check [expect_column_values_to_not_be_null(")
    assert len(result.summary().splitlines()) == 1


def test_failing_data_is_not_a_broken_suite(tmp_path: Path, gx_context: None) -> None:
    result = run_suite(make_suite(tmp_path), leads({"L03": {"score_at_mql": 1}}), DEFINITIONS, ["lead_id"])
    assert (result.success, result.broken) == (False, False)
    assert "BROKEN SUITE" not in result.summary()


def test_unknown_expectation_type_names_it(tmp_path: Path, gx_context: None) -> None:
    suite = make_suite(
        tmp_path, [{"type": "expect_column_values_to_be_sane", "description": "d", "kwargs": {"column": "lead_id"}}]
    )
    with pytest.raises(SuiteError, match=r"Great Expectations has no expectation `expect_column_values_to_be_sane`"):
        run_suite(suite, leads(), DEFINITIONS, ["lead_id"])


def test_kwargs_great_expectations_rejects_name_the_expectation(tmp_path: Path, gx_context: None) -> None:
    suite = make_suite(
        tmp_path,
        [{"type": "expect_column_values_to_be_between", "description": "d", "kwargs": {"column": "x", "minimum": 1}}],
    )
    with pytest.raises(SuiteError, match=r"expectation 1 expect_column_values_to_be_between\(x\): invalid kwargs"):
        run_suite(suite, leads(), DEFINITIONS, ["lead_id"])


def test_missing_key_columns_fail_clearly(tmp_path: Path) -> None:
    with pytest.raises(SuiteError, match=r"has no key column\(s\) \['opportunity_id'\]"):
        run_suite(make_suite(tmp_path), leads(), DEFINITIONS, ["opportunity_id"])


# --- Severity --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("severity", "blocking"), [("error", True), ("warn", False)])
def test_severity_says_whether_a_failure_blocks(
    tmp_path: Path, gx_context: None, severity: str, blocking: bool
) -> None:
    suite = make_suite(tmp_path, severity=severity)
    result = run_suite(suite, leads({"L03": {"score_at_mql": 39}}), DEFINITIONS, ["lead_id"])
    # The verdict is the same either way; severity only tells the caller whether to hold back downstream assets.
    assert (result.success, result.suite.severity, result.suite.blocking) == (False, severity, blocking)
    assert outcome(result, BETWEEN).sample_keys == ["L03"]


def test_append_joins_a_catch_all_value_onto_a_taxonomy(tmp_path: Path) -> None:
    definitions = {"reasons": ["Price", "Timing"], "unspecified": "Unspecified"}
    suite = Suite(
        name="appended",
        model="intermediate.example",
        severity="error",
        description="",
        expectations=(
            {
                "type": "expect_column_values_to_be_in_set",
                "description": "reasons are known",
                "kwargs": {"column": "reason", "value_set": {"$definition": "reasons", "$append": "unspecified"}},
            },
        ),
        path=tmp_path / "appended.json",
    )
    assert resolve_kwargs(suite, definitions)[0]["kwargs"]["value_set"] == ["Price", "Timing", "Unspecified"]


def test_only_the_columns_a_suite_reads_are_fetched(tmp_path: Path, gx_context: None) -> None:
    suite = make_suite(tmp_path)
    available = [*LEAD_COLUMNS, "email", "company_name"]
    read = suites.suite_columns(suite, available)
    assert read == ["created_at", "mql_at", "score_at_mql", "rejected_at", "rejection_reason", "is_won"]
    # The projected frame (plus the key) gives the same verdicts as the whole table.
    frame = leads({"L03": {"score_at_mql": 1}})
    projected = run_suite(suite, frame[["lead_id", *read]], DEFINITIONS, ["lead_id"])
    whole = run_suite(suite, frame, DEFINITIONS, ["lead_id"])
    assert projected.outcomes == whole.outcomes
    assert failing(projected) == ["expect_column_values_to_be_between(score_at_mql)"]


def test_references_reach_great_expectations_as_suite_parameters(tmp_path: Path, gx_context: None) -> None:
    # GE's own spelling is read like `$definition`; a whole-kwarg reference becomes GE's `$PARAMETER`.
    suite = make_suite(
        tmp_path,
        [
            {
                "type": "expect_column_values_to_be_between",
                "description": "every MQL meets the score threshold in force",
                "kwargs": {"column": "score_at_mql", "min_value": {"$PARAMETER": "mql__score_threshold"}},
            }
        ],
    )
    assert suite.expectations[0]["kwargs"]["min_value"] == {"$definition": "mql__score_threshold"}
    prepared = suite_run._prepare(suite, 0, suite.expectations[0], DEFINITIONS)
    assert prepared.kwargs["min_value"] == {"$PARAMETER": "mql__score_threshold"}
    assert prepared.parameters == {"mql__score_threshold": 40}
    (below,) = run_suite(suite, leads({"L01": {"score_at_mql": 39}}), DEFINITIONS, ["lead_id"]).outcomes
    assert (below.unexpected_count, below.sample_keys) == (1, ["L01"])


def test_a_row_condition_without_sql_breaks_only_its_expectation(tmp_path: Path, gx_context: None) -> None:
    expectations = [
        LIFECYCLE_EXPECTATIONS[0],
        {
            "type": "expect_column_values_to_not_be_null",
            "description": "a condition SQL cannot state",
            "kwargs": {"column": "mql_at", "row_condition": "created_at.dt.year == 2024", "condition_parser": "pandas"},
        },
    ]
    result = run_suite(make_suite(tmp_path, expectations), leads(), DEFINITIONS, ["lead_id"])
    first, broken = result.outcomes
    assert (result.broken, first.success, broken.success) == (True, True, False)
    assert broken.error is not None and "has no SQL equivalent" in broken.error


def test_regex_expectations_run_in_sql(tmp_path: Path, gx_context: None) -> None:
    # GE has no regex for DuckDB; the match is computed in SQL. L02 and L05 break `^L0[1346]$`; L06's reason is null
    # (skipped, as GE skips nulls); only L05's reason `Timing` contains "im".
    suite = make_suite(
        tmp_path,
        [
            {
                "type": "expect_column_values_to_match_regex",
                "description": "lead ids follow the pattern",
                "kwargs": {"column": "lead_id", "regex": {"$definition": "lead_id_pattern"}},
            },
            {
                "type": "expect_column_values_to_not_match_regex",
                "description": "no reason mentions im",
                "kwargs": {
                    "column": "rejection_reason",
                    "regex": "im",
                    "row_condition": "rejected_at.notnull()",
                    "condition_parser": "pandas",
                },
            },
        ],
    )
    definitions = {**DEFINITIONS, "lead_id_pattern": "^L0[1346]$"}
    result = run_suite(suite, leads(), definitions, ["lead_id"])
    assert not result.broken, result.summary()
    match, no_match = result.outcomes
    assert (match.expectation, match.unexpected_count, match.element_count, match.sample_keys) == (
        "expect_column_values_to_match_regex(lead_id)",
        2,
        6,
        ["L02", "L05"],
    )
    assert (no_match.unexpected_count, no_match.element_count, no_match.sample_keys) == (1, 2, ["L05"])


def test_a_mapping_stated_both_ways_with_pairs_and_a_referenced_condition(tmp_path: Path, gx_context: None) -> None:
    # C2's listed source is in the wrong channel, C4's unlisted source in a listed channel; C3 (no source) and C5
    # (an unlisted source) are in the default channel, C1 in the channel its source maps to.
    frame = pd.DataFrame(
        {
            "lead_id": ["C1", "C2", "C3", "C4", "C5"],
            "lead_source_key": ["seo", "cold call", None, "tv", "radio"],
            "channel": ["Organic", "Organic", "Unattributed", "Outbound", "Unattributed"],
        }
    )
    listed = "lead_source_key in @channels__lead_sources"
    suite = make_suite(
        tmp_path,
        [
            {
                "type": "expect_column_pair_values_to_be_in_set",
                "description": "a listed source is in the channel the mapping gives it",
                "kwargs": {
                    "column_A": "lead_source_key",
                    "column_B": "channel",
                    "value_pairs_set": {"$definition": "channels__lead_sources", "$pairs": True},
                    "row_condition": listed,
                    "condition_parser": "pandas",
                },
            },
            {
                "type": "expect_column_values_to_be_in_set",
                "description": "a missing or unlisted source is in the default channel",
                "kwargs": {
                    "column": "channel",
                    "value_set": [{"$definition": "channels__default"}],
                    "row_condition": f"lead_source_key.isnull() | ~({listed})",
                    "condition_parser": "pandas",
                },
            },
        ],
    )
    pairs, default = run_suite(suite, frame, BANDS_AND_CHANNELS, ["lead_id"]).outcomes
    assert (pairs.unexpected_count, pairs.element_count, pairs.sample_keys) == (1, 2, ["C2"])
    assert (default.unexpected_count, default.element_count, default.sample_keys) == (1, 3, ["C4"])


@pytest.mark.parametrize(
    ("ignore_row_if", "unexpected"),
    [("both_values_are_missing", ["P2", "P4"]), ("either_value_is_missing", ["P4"]), ("neither", ["P2", "P3", "P4"])],
)
def test_a_pair_set_check_leaves_out_the_rows_ignore_row_if_names(
    tmp_path: Path, gx_context: None, ignore_row_if: str, unexpected: list[str]
) -> None:
    # P1 is a listed pair; P2 misses its source, P3 both values; P4 pairs a listed source with another channel.
    frame = pd.DataFrame(
        {
            "lead_id": ["P1", "P2", "P3", "P4"],
            "lead_source_key": ["seo", None, None, "seo"],
            "channel": ["Organic", "Organic", None, "Outbound"],
        }
    )
    kwargs = {"column_A": "lead_source_key", "column_B": "channel", "ignore_row_if": ignore_row_if}
    suite = make_suite(
        tmp_path,
        [
            {
                "type": "expect_column_pair_values_to_be_in_set",
                "description": "a pair from the mapping",
                "kwargs": {**kwargs, "value_pairs_set": {"$definition": "channels__lead_sources", "$pairs": True}},
            }
        ],
    )
    (only,) = run_suite(suite, frame, BANDS_AND_CHANNELS, ["lead_id"]).outcomes
    assert (only.error, only.sample_keys) == (None, unexpected)


def test_a_row_condition_compares_with_a_definition_written_at_name(tmp_path: Path, gx_context: None) -> None:
    # Leads scoring below the MQL threshold in force (40) carry no MQL: L03 (exactly 40) is not among them, L01 (45)
    # is only once the threshold is 50.
    expectations = [
        {
            "type": "expect_column_values_to_be_null",
            "description": "a lead scoring below the threshold is no MQL",
            "kwargs": {
                "column": "mql_at",
                "row_condition": "score_at_mql < @mql__score_threshold",
                "condition_parser": "pandas",
            },
        }
    ]
    suite = make_suite(tmp_path, expectations)
    (passing,) = run_suite(suite, leads(), DEFINITIONS, ["lead_id"]).outcomes
    assert (passing.success, passing.element_count) == (True, 0)
    raised = {**DEFINITIONS, "mql": {**DEFINITIONS["mql"], "score_threshold": 50}}
    (failing_one,) = run_suite(suite, leads(), raised, ["lead_id"]).outcomes
    assert (failing_one.unexpected_count, failing_one.element_count, failing_one.sample_keys) == (2, 2, ["L01", "L03"])


def test_a_row_condition_naming_an_unknown_definition_breaks_its_expectation(tmp_path: Path, gx_context: None) -> None:
    expectations = [
        {
            "type": "expect_column_values_to_be_null",
            "description": "a condition on a definition that does not exist",
            "kwargs": {
                "column": "mql_at",
                "row_condition": "score_at_mql < @mql__nothing",
                "condition_parser": "pandas",
            },
        }
    ]
    result = run_suite(make_suite(tmp_path, expectations), leads(), DEFINITIONS, ["lead_id"])
    assert result.broken and "unknown definition `mql__nothing`" in str(result.outcomes[0].error)


def test_resolve_condition_inlines_definitions_as_literals_and_keeps_quoted_text() -> None:
    from pipelines.spec.suite_references import resolve_condition

    definitions = {**DEFINITIONS, "minimum_bases": {"leads": 10}}
    assert resolve_condition("n < @minimum_bases__leads", definitions, "here") == "n < 10"
    reasons = "r in ['No Budget', 'Not ICP', 'Timing']"
    assert resolve_condition("r in @rejection_reasons", definitions, "here") == reasons
    assert resolve_condition("e == 'a@mql__min_fit_score'", definitions, "here") == "e == 'a@mql__min_fit_score'"
    assert resolve_condition("m in @mql", definitions, "here") == "m in ['score_threshold', 'min_fit_score']"
    with pytest.raises(SuiteError, match="`closed_lost_reasons` is not a literal"):
        resolve_condition("r in @closed_lost_reasons", definitions, "here")


def test_a_field_of_a_mapping_definition_is_the_value_of_that_key() -> None:
    from pipelines.spec.suite_references import resolve_value

    definitions = {**DEFINITIONS, "lead_scoring": {"intent_points": {"demo_request": 40}}}
    reference = {"$definition": "lead_scoring__intent_points", "$field": "demo_request"}
    assert resolve_value([reference], definitions, "here") == [40]
    with pytest.raises(SuiteError, match="`lead_scoring__intent_points` has no `webinar` \\(it has: demo_request\\)"):
        resolve_value({**reference, "$field": "webinar"}, definitions, "here")
