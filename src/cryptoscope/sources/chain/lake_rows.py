"""The lake's rows of one chain whose key is in a given list: what a re-organisation removes (Bitcoin and Ethereum)."""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

from cryptoscope.lake import Lake
from cryptoscope.lake.sql import local_duckdb, parquet_source


def keyed_rows(lake: Lake, table: str, sql: str, chain: str, wanted: Sequence[str]) -> pa.Table:
    """``sql`` over ``table``'s files, written ``FROM t``, with ``?`` bound to ``chain`` and the keys in a table
    ``wanted(key)`` (an empty table with a ``chain`` column when ``table`` has no file yet)."""
    files = lake.file_paths(table)
    if not files:
        return pa.table({"chain": pa.array([], pa.string())})
    with local_duckdb() as con:
        con.register("wanted", pa.table({"key": pa.array(list(wanted), pa.string())}))
        return con.sql(sql.replace("FROM t ", f"FROM {parquet_source(files)} "), params=[chain]).to_arrow_table()
