"""Great Expectations suites: load them from JSON, resolve them against the shared definitions, run them in DuckDB.

A suite is one JSON file in `expectations/`, one per definition or contract. It names the model it validates
(`schema.table`), its severity (`error` blocks downstream assets, `warn` only reports) and its expectations, each a
Great Expectations type in snake_case with its kwargs and a sentence saying what it checks. No threshold is typed
into a suite: `{"$definition": "mql__score_threshold"}` (or GE's own spelling, `{"$PARAMETER":
"mql__score_threshold"}`) anywhere in the kwargs (also inside lists) stands for the value of that definition, named as
SQL and the docs name it: its path in the shared-definitions document with `.` written `__` (see
pipelines/spec/definitions_registry.py). `{"$definition": "closed_lost_reasons", "$field": "reason"}` picks one field
from each item of a list of mappings, and from a mapping the value of that key
(`{"$definition": "lead_scoring__intent_points", "$field": "demo_request"}`); `"$where": {"name": "SMB"}` picks the
one item whose fields have these values (with `$field`, that item's field: `{"$definition": "segments__bands",
"$where": {"name": "SMB"}, "$field": "min_employees"}`); `"$pairs": true` gives a mapping as [key, value] pairs, the
`value_pairs_set` of `expect_column_pair_values_to_be_in_set` (`{"$definition": "channels__lead_sources", "$pairs":
true}`); `"$append": "other_name"` adds the value (or list) of another definition, as in a taxonomy plus its
catch-all value. `{"$horizon": "as_of_month"}` stands for a column of this run's data horizon, the one-row warehouse
table `definitions.data_horizon` (horizon.py), read when the suite runs: the as-of time is not in the definitions
file. A reference that is a whole kwarg value reaches GE as one of its suite parameters (`{"$PARAMETER":
"mql__score_threshold"}`, the value given at validation); one nested deeper is resolved in place.

Suites run on DuckDB's SQL engine through Great Expectations' SQL datasource, on the build's own connection (see
ge_duckdb.py): the model's rows never leave DuckDB, only counts and a few failing keys do. Nothing here imports
Dagster, and Great Expectations is imported only inside the functions that validate: its import costs seconds, which
would otherwise be paid by every process that only loads the Dagster definitions.

On Spark, `run_suite_on_spark` (pipelines/warehouse/spark/suites.py) validates the same query, transpiled to Spark
SQL, with Great Expectations' Spark datasource, in the same two passes (`suite_run.validate_suite`): the SuiteResult
is the one DuckDB gives on the same rows, except that GE looks up failing keys for
`expect_compound_columns_to_be_unique` on Spark only (its SQL engine gives counts without keys).

Row conditions are written in pandas' query syntax, with `"condition_parser": "pandas"` beside them, and run as SQL
(row_conditions.py says what translates)::

    "row_condition": "mql_at.notnull()"                      # the lead became an MQL
    "row_condition": "is_won == True"                        # a boolean; null counts as not true
    "row_condition": "rejected_at.notnull() and score > 10"  # `and`/`or`/`not`, or `&`/`|` with parentheses
    "row_condition": "accepted_at.notnull() & ~is_won"       # `~` negates a boolean column (null stays excluded)
    "row_condition": "channel == 'Outbound'"                 # string literals in single or double quotes
    "row_condition": "stage in ['Demo', 'Proposal']"
    "row_condition": "leads_count < @minimum_bases__leads"  # `@name`: the value of that definition

A row condition compares with a definition as pandas' query compares with a variable: `@` before the definition's
name (`minimum_bases__leads`) stands for its value, written into the condition as a literal (a number, a string, a
boolean or a list of them; a mapping stands for the list of its keys: `lead_source_key in @channels__lead_sources`)
when the suite runs; an `@` inside a quoted string is text.

Under a row condition, `element_count` counts the rows that meet the condition, not the whole table. On SQL a pair
expectation (`column_A` > `column_B`) cannot judge a row where either value is null: such a row is neither expected
nor unexpected, so say `"ignore_row_if": "either_value_is_missing"` and check the nulls with a not-null expectation.
GE does not implement regex expectations for DuckDB: `expect_column_values_to_match_regex` and
`expect_column_values_to_not_match_regex` are computed with DuckDB's `regexp_matches` in the validated query and
checked by GE as a true/false column (same counts, same sample keys); other regex expectations (`..._regex_list`)
report as broken.

Broken suites versus bad data. Great Expectations reports an exception raised inside an expectation (a column that
does not exist, a row condition that does not translate, a comparison between incompatible types) as an ordinary
failure. `run_suite` tells them apart: such an expectation gets an `error`, and the result is `broken`, so the fix is
sought in the suite, not in the data.
"""

from pipelines.spec.suite_references import resolve_kwargs
from pipelines.spec.suite_schema import (
    APPEND_KEY,
    BLOCKING_SEVERITY,
    DEFINITION_KEY,
    FIELD_KEY,
    PAIRS_KEY,
    PARAMETER_KEY,
    SEVERITIES,
    WHERE_KEY,
    Suite,
    SuiteError,
    expectation_label,
    load_suites,
    suite_columns,
)
from pipelines.warehouse.suite_results import KEY_SEPARATOR, SAMPLE_SIZE, ExpectationOutcome, SuiteResult
from pipelines.warehouse.suite_run import build_expectations, run_suite, run_suite_on_table

__all__ = [
    "APPEND_KEY",
    "BLOCKING_SEVERITY",
    "DEFINITION_KEY",
    "FIELD_KEY",
    "KEY_SEPARATOR",
    "PAIRS_KEY",
    "PARAMETER_KEY",
    "SAMPLE_SIZE",
    "SEVERITIES",
    "WHERE_KEY",
    "ExpectationOutcome",
    "Suite",
    "SuiteError",
    "SuiteResult",
    "build_expectations",
    "expectation_label",
    "load_suites",
    "resolve_kwargs",
    "run_suite",
    "run_suite_on_table",
    "suite_columns",
]
