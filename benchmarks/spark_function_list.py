"""Write pipelines/spec/spark_functions.txt: the names of the functions the installed Spark has.

The Spark transpile lint (tests/contract/test_spark_transpile.py) checks every function a transpiled model calls
against this list, without starting Spark. Run once per Spark upgrade:

    python -m benchmarks.spark_function_list
"""

from __future__ import annotations

import re
from pathlib import Path

from pipelines.spec.spark_sql import SPARK_FUNCTIONS_FILE


def write_function_list(path: Path = SPARK_FUNCTIONS_FILE) -> int:
    """Write the names of Spark's functions (`show functions` on a local session) to `path`; the number written."""
    from pyspark.sql import SparkSession

    session = SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false").getOrCreate()
    try:
        names = {str(row[0]).split(".")[-1].lower() for row in session.sql("show functions").collect()}
    finally:
        session.stop()
    kept = sorted(name for name in names if re.fullmatch(r"[a-z_][a-z0-9_]*", name))
    path.write_text("".join(f"{name}\n" for name in kept))
    return len(kept)


if __name__ == "__main__":
    print(f"{write_function_list()} function names written to {SPARK_FUNCTIONS_FILE}")
