"""DuckDB SQL -> Spark SQL (pipelines/spec/spark_sql.py): each rewrite rule on a small statement, and the errors that
name what has no Spark form. Pure: no Spark needed (tests/integration/test_spark_rules.py runs the rules on Spark)."""

from __future__ import annotations

import pytest

from pipelines.spec.spark_sql import (
    SPARK_TYPE_OF_DUCKDB,
    SparkTranspileError,
    called_functions,
    comparable_type,
    spark_functions,
    to_spark,
)


def test_to_days_becomes_make_dt_interval() -> None:
    assert to_spark("select created_at + to_days(3) from t") == "SELECT created_at + MAKE_DT_INTERVAL(3) FROM t"


def test_to_months_becomes_make_ym_interval() -> None:
    assert to_spark("select started_at + to_months(n) from t") == "SELECT started_at + MAKE_YM_INTERVAL(0, n) FROM t"


def test_a_cast_generator_explodes_a_transformed_sequence() -> None:
    spark = to_spark("select cast(unnest(generate_series(a, b, interval 1 month)) as date) as month from t")
    assert spark == (
        "SELECT EXPLODE(TRANSFORM(SEQUENCE(a, b, INTERVAL '1' MONTH), generated_value -> "
        "CAST(generated_value AS DATE))) AS month FROM t"
    )


def test_quantile_cont_becomes_percentile_and_keeps_its_filter() -> None:
    spark = to_spark("select quantile_cont(days, 0.9) filter (where is_won) from t")
    assert spark == "SELECT PERCENTILE(days, 0.9) FILTER(WHERE is_won) FROM t"


def test_epoch_keeps_the_fraction_of_a_second_as_a_double() -> None:
    spark = to_spark("select epoch(occurred_at) from t")
    assert spark == "SELECT CAST(UNIX_MICROS(CAST(occurred_at AS TIMESTAMP)) AS DOUBLE) / 1000000 FROM t"
    assert "UNIX_TIMESTAMP" not in spark


def test_qualify_over_select_star_is_kept_so_no_helper_column_leaks() -> None:
    spark = to_spark("select * from t qualify row_number() over (partition by id order by synced_at desc) = 1")
    assert spark == "SELECT * FROM t QUALIFY ROW_NUMBER() OVER (PARTITION BY id ORDER BY synced_at DESC) = 1"


def test_date_diff_counts_boundaries_by_truncating_both_ends() -> None:
    spark = to_spark("select date_diff('month', started_at, ended_at) from t")
    assert spark == (
        "SELECT TIMESTAMPDIFF(MONTH, DATE_TRUNC('MONTH', started_at), DATE_TRUNC('MONTH', ended_at)) FROM t"
    )


def test_date_diff_in_weeks_has_no_rewrite() -> None:
    with pytest.raises(SparkTranspileError, match=r"date_diff\('week'"):
        to_spark("select date_diff('week', a, b) from t")


def test_utc_to_reporting_time_becomes_from_utc_timestamp() -> None:
    spark = to_spark("select cast(created_at as timestamptz) at time zone reporting.time_zone from t")
    assert spark == "SELECT FROM_UTC_TIMESTAMP(created_at, reporting.time_zone) FROM t"


def test_format_fields_become_printf_fields_over_doubles() -> None:
    spark = to_spark("select format('{:.2f} x {} (100%)', amount, name) from t")
    assert spark == "SELECT FORMAT_STRING('%.2f x %s (100%%)', CAST(amount AS DOUBLE), name) FROM t"


def test_a_format_field_spark_cannot_write_raises() -> None:
    with pytest.raises(SparkTranspileError, match="format"):
        to_spark("select format('{:>10}', name) from t")


def test_isfinite_becomes_not_nan_and_not_infinite() -> None:
    spark = to_spark("select not isfinite(try_cast(x as double)) from t")
    assert "ISFINITE" not in spark
    assert "ISNAN(" in spark and "'Infinity'" in spark


def test_getvariable_reads_a_spark_session_variable() -> None:
    assert to_spark("select getvariable('horizon_earliest')") == "SELECT system.session.horizon_earliest"


def test_a_json_cast_is_text_in_spark() -> None:
    spark = to_spark("select json_extract_string(cast(metadata as json), '$.account_id') from t")
    assert spark == "SELECT GET_JSON_OBJECT(metadata, '$.account_id') FROM t"


def test_distinct_string_agg_collects_a_sorted_set_and_keeps_its_filter() -> None:
    spark = to_spark("select string_agg(distinct currency, ', ' order by currency) filter (where is_open) from t")
    values = "ARRAY_SORT(COLLECT_SET(currency) FILTER(WHERE is_open))"
    assert spark == f"SELECT IF(SIZE({values}) = 0, NULL, ARRAY_JOIN({values}, ', ')) FROM t"


def test_division_divides_doubles_as_duckdb_does() -> None:
    assert to_spark("select retained / new from t") == "SELECT CAST(retained AS DOUBLE) / new FROM t"


@pytest.mark.parametrize(
    ("sql", "construct"),
    [
        ("select * replace (lower(email) as email) from t", r"\* REPLACE"),
        ("select a from t union by name select a from u", "UNION BY NAME"),
        ("select a from t asof join u on t.a >= u.a", "ASOF JOIN"),
    ],
)
def test_duckdb_only_syntax_raises_naming_it(sql: str, construct: str) -> None:
    with pytest.raises(SparkTranspileError, match=construct):
        to_spark(sql)


def test_regexp_replace_all_drops_the_g_option() -> None:
    assert (
        to_spark("select regexp_replace(a, '[0-9]', '', 'g') from t") == "SELECT REGEXP_REPLACE(a, '[0-9]', '') FROM t"
    )


def test_regexp_replace_of_the_first_match_only_raises() -> None:
    with pytest.raises(SparkTranspileError, match="first match"):
        to_spark("select regexp_replace(a, '[0-9]', '') from t")


def test_regexp_full_match_anchors_the_pattern() -> None:
    spark = to_spark("select regexp_full_match(id, '[0-9]{3}') from t")
    assert spark == "SELECT id RLIKE CONCAT('^(?:', '[0-9]{3}', ')$') FROM t"


def test_a_construct_sqlglot_cannot_write_for_spark_raises_naming_it() -> None:
    with pytest.raises(SparkTranspileError, match="ArgMax"):
        to_spark("select arg_max(name, amount, 3) from t")


def test_star_exclude_becomes_star_except() -> None:
    assert to_spark("select * exclude (email) from t") == "SELECT * EXCEPT (email) FROM t"


def test_sql_that_does_not_parse_raises_a_transpile_error() -> None:
    with pytest.raises(SparkTranspileError, match="does not parse"):
        to_spark("select (( from t")


def test_transpiling_is_cached_by_text() -> None:
    sql = "select to_days(1) as cached_once"
    to_spark.cache_clear()
    to_spark(sql)
    to_spark(sql)
    assert to_spark.cache_info().hits == 1


def test_called_functions_reads_the_names_a_statement_calls() -> None:
    names = called_functions(to_spark("select to_days(1), json_extract_string(m, '$.a'), duckdb_only_fn(x) from t"))
    assert names == {"make_dt_interval", "get_json_object", "duckdb_only_fn"}
    assert not {"make_dt_interval", "get_json_object"} - spark_functions()
    assert "duckdb_only_fn" not in spark_functions()


def test_types_compare_by_family_across_engines() -> None:
    assert comparable_type("HUGEINT") == comparable_type(SPARK_TYPE_OF_DUCKDB["BIGINT"]) == "integer"
    assert comparable_type("DECIMAL(38,4)") == comparable_type("decimal(28,4)") == "decimal"
    assert comparable_type("TIMESTAMP") == comparable_type(SPARK_TYPE_OF_DUCKDB["TIMESTAMP"]) == "timestamp"
    assert comparable_type("VARCHAR") == comparable_type("string") == "text"
