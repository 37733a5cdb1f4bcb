"""The Spark engine: the same model files run on Apache Spark, locally or on a cluster through Spark Connect.

Nothing here is imported when the models run on DuckDB, and pyspark is imported only when a session opens, so DuckDB
needs nothing of Spark. The session: `session.py`.
"""
