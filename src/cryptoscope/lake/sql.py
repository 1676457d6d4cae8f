"""Safe SQL text for lake files: paths become quoted literals, never code."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb


def quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def parquet_source(paths: Sequence[str]) -> str:
    """``read_parquet([...])`` over exactly these files; no hive columns, columns matched by name."""
    files = ", ".join(quote(p) for p in paths)
    return f"read_parquet([{files}], union_by_name = true, hive_partitioning = false)"


_shared: duckdb.DuckDBPyConnection | None = None
_lock = threading.Lock()


@contextmanager
def local_duckdb() -> Iterator[duckdb.DuckDBPyConnection]:
    """A cursor on one in-memory DuckDB kept for the whole process, closed (with what it registered) after use.

    Why: opening a DuckDB costs tens of milliseconds, more than a small query over a few lake files takes; an
    ingest that commits often (a node follower, small chunks) asks several such queries per commit. A cursor is
    a connection of its own to the shared database, so threads may each hold one.
    """
    global _shared
    import duckdb  # here, not at the top: commands that never query (a node ingest) start without it

    with _lock:
        if _shared is None:
            _shared = duckdb.connect()
        cursor = _shared.cursor()
    try:
        yield cursor
    finally:
        cursor.close()
