"""An Ibis connection over the lake on Spark: the same expressions as DuckDB, at cluster scale.

Spark sees exactly what `cryptoscope.lake.engine.connect` sees: one temporary view per canonical
table, read from the catalog's committed file list (never a folder listing, so a half-written
commit stays invisible), with the canonical schema imposed rather than inferred.

A plain ``pip install pyspark`` is enough: nothing here needs extra jars. A cluster is reached by
configuration only (``master`` or ``CRYPTOSCOPE_SPARK_MASTER``); the lake's files must then be
readable at the same paths from every executor (a shared file system).
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.schema as sch
from ibis.backends.pyspark import Backend as PySparkBackend
from pyspark.sql.types import StructType, TimestampType

from cryptoscope.lake.driver import note
from cryptoscope.lake.store import Lake
from cryptoscope.schema import TABLES

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

#: Environment variable naming the Spark master, e.g. ``spark://host:7077`` or ``local[8]``.
MASTER_ENV = "CRYPTOSCOPE_SPARK_MASTER"
DEFAULT_MASTER = "local[2]"

# Settings for a laptop or CI box: UTC so timestamps are the same instants DuckDB shows; few
# shuffle partitions because feature queries are small and 200 empty tasks cost more than they do;
# no UI (a port and a thread nobody looks at); modest driver memory. The catalog names files one by
# one (a table partitioned by day has hundreds) and Spark would start a distributed job just to
# stat more than 32 of them: listing them on the driver takes milliseconds instead of seconds.
_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.shuffle.partitions": "4",
    "spark.default.parallelism": "4",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.memory": "1g",
    "spark.sql.adaptive.enabled": "true",
    "spark.sql.sources.parallelPartitionDiscovery.threshold": "10000",
    "spark.sql.execution.arrow.pyspark.enabled": "true",  # results come back as Arrow, not pickled rows
}


class Backend(PySparkBackend):
    """Ibis' PySpark backend, with Spark's TIMESTAMP read as ``timestamp('UTC', 6)``.

    A Spark TIMESTAMP is an instant (what DuckDB calls TIMESTAMPTZ), shown in the session time zone,
    which this module pins to UTC, with microsecond precision. Ibis 12 maps it to a naive timestamp,
    so the same expression would give tz-aware times on DuckDB and naive ones on Spark; here both
    have the same type. TIMESTAMP_NTZ stays naive.
    """

    def get_schema(self, table_name: str, *, catalog: str | None = None, database: str | None = None) -> sch.Schema:
        schema = super().get_schema(table_name, catalog=catalog, database=database)
        catalog, db = self._to_catalog_db_tuple(self._to_sqlglot_table((catalog, database)))
        with self._active_catalog_database(catalog, db):
            return _instants(schema, self._session.table(table_name).schema)

    def execute(self, expr: Any, /, **kwargs: Any) -> Any:
        return note(super().execute(expr, **kwargs))

    def _get_schema_using_query(self, query: str) -> sch.Schema:
        return _instants(super()._get_schema_using_query(query), self.raw_sql(query).schema)


def _instants(schema: sch.Schema, struct: StructType) -> sch.Schema:
    utc = {f.name for f in struct.fields if isinstance(f.dataType, TimestampType)}
    return sch.Schema({name: dt.Timestamp(timezone="UTC", scale=6, nullable=typ.nullable) if name in utc else typ
                       for name, typ in schema.items()})


def resolve_master(master: str | None = None) -> str:
    """``master`` if given, else ``$CRYPTOSCOPE_SPARK_MASTER``, else local[2]: a cluster is configuration, not code."""
    return master or os.environ.get(MASTER_ENV) or DEFAULT_MASTER


def spark_session(master: str | None = None, *, app_name: str = "cryptoscope") -> SparkSession:
    """The active SparkSession, or a new one on `resolve_master` (master).

    ``getOrCreate`` reuses a running session, so callers can build one themselves with other settings.
    """
    from pyspark.sql import SparkSession

    # Executors run Python for the functions shipped to them (mapInPandas): this interpreter, whose packages
    # match the driver's, unless the deployment names another (the same venv path on every node of a cluster).
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.master(resolve_master(master)).appName(app_name)
    for key, value in _CONF.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def connect_spark(lake: Lake | str | os.PathLike[str], *, session: SparkSession | None = None,
                  master: str | None = None) -> Backend:
    """Every canonical table as a temporary view of ``session`` (empty tables included), times in UTC.

    ``master`` applies only when no session is running or given; it defaults to
    ``$CRYPTOSCOPE_SPARK_MASTER`` and then ``local[2]``. Views are temporary, so they belong to
    ``session`` and replace any earlier views of the same names there.
    """
    from pyspark.sql.pandas.types import from_arrow_schema

    lake = lake if isinstance(lake, Lake) else Lake(lake)
    spark = session if session is not None else spark_session(master)
    # Timestamps are stored as UTC instants (Parquet isAdjustedToUTC); the session zone only decides how
    # Spark renders and truncates them, so pin it to UTC as DuckDB's connection does.
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    catalog = lake.catalog()
    for name, table in TABLES.items():
        schema = from_arrow_schema(table.arrow_schema)
        files = [str(lake.root / f.path) for f in catalog.files(name)]
        # An explicit schema: no inference pass over the files, and the same column types whatever they hold.
        df = spark.read.schema(schema).parquet(*files) if files else spark.createDataFrame([], schema)
        df.createOrReplaceTempView(name)
    if ibis.options.pyspark is None:  # ibis registers these when it loads the backend by name; the compiler reads them
        Backend.register_options()
    backend: Backend = Backend().connect(spark)
    return backend


__all__ = ["DEFAULT_MASTER", "MASTER_ENV", "Backend", "connect_spark", "resolve_master", "spark_session"]
