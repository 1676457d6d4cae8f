"""An Ibis connection over the lake: DuckDB, in process, reading only committed files."""

from __future__ import annotations

import contextlib
import os
from typing import Any

import duckdb
from ibis.backends.duckdb import Backend as DuckDBBackend

from cryptoscope.lake.driver import note
from cryptoscope.lake.sql import parquet_source
from cryptoscope.lake.store import Lake
from cryptoscope.schema import TABLES


class Backend(DuckDBBackend):
    """Ibis' DuckDB backend, counting the rows each result brings to Python (`cryptoscope.lake.driver`)."""

    def execute(self, expr: Any, /, **kwargs: Any) -> Any:
        return note(super().execute(expr, **kwargs))

    def to_pyarrow(self, expr: Any, /, **kwargs: Any) -> Any:
        return note(super().to_pyarrow(expr, **kwargs))


def connect(lake: Lake | str | os.PathLike[str], *, threads: int | None = None) -> Backend:
    """Every canonical table as a view with exactly the canonical columns, times in UTC.

    Views are built from the catalog's file list, so a reader never sees a half-written commit;
    files written before a nullable column was added read as null there (as on Spark).
    """
    lake = lake if isinstance(lake, Lake) else Lake(lake)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    # commands show their own progress; DuckDB's garbles logs (in a Jupyter kernel without ipywidgets DuckDB
    # refuses to touch the setting, and shows no bar there anyway)
    with contextlib.suppress(duckdb.InvalidInputException):
        con.execute("SET enable_progress_bar = false")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    catalog = lake.catalog()
    for name, table in TABLES.items():
        files = [str(lake.root / f.path) for f in catalog.files(name)]
        con.register(f"_empty_{name}", table.empty())
        body = f'SELECT * FROM "_empty_{name}"'
        if files:
            columns = ", ".join(f'"{c}"' for c in table.column_names)
            body += f" UNION ALL BY NAME SELECT * FROM {parquet_source(files)}"
            body = f"SELECT {columns} FROM ({body})"
        con.execute(f'CREATE VIEW "{name}" AS {body}')
    return Backend.from_connection(con)
