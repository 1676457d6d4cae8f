"""A few columns of a table's committed files, filtered file by file with Arrow: the look-ups an ingest makes.

Why not DuckDB: a node ingest asks a handful of small questions per commit (which heights are in the lake,
which outputs its inputs spend) over a few files each. A DuckDB query costs 2 to 4 ms to bind and plan, more
than reading those columns, and a command that asks no other query never imports DuckDB.
Files are read one at a time and filtered before the next, so memory stays that of one file's columns
however large the table grows; a column a file lacks (added to the schema after it was written) reads as null.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pyarrow as pa
import pyarrow.parquet as pq

#: rows of one file's columns → the mask of those to keep
RowFilter = Callable[[pa.Table], pa.Array]


def read_columns(files: Sequence[str], schema: pa.Schema, keep: RowFilter) -> pa.Table:
    """The rows of ``files`` that ``keep`` accepts, with exactly the columns of ``schema`` (cast to it)."""
    parts = [_read_one(path, schema, keep) for path in files]
    return pa.concat_tables(parts) if parts else schema.empty_table()


def _read_one(path: str, schema: pa.Schema, keep: RowFilter) -> pa.Table:
    """One file's ``schema`` columns, missing ones as nulls, filtered by ``keep``."""
    with pq.ParquetFile(path) as handle:
        present = set(handle.schema_arrow.names)
        rows = handle.read(columns=[n for n in schema.names if n in present], use_threads=False)
    for f in schema:
        if f.name not in present:
            rows = rows.append_column(f.name, pa.nulls(rows.num_rows, f.type))
    rows = rows.select(schema.names).cast(schema)
    return rows.filter(keep(rows))
