"""The embedded lake: Parquet tables under one folder, committed atomically through a catalog.

>>> from cryptoscope.lake import Lake
>>> lake = Lake("./demo-lake")            # doctest: +SKIP
>>> with lake.transaction() as tx:        # doctest: +SKIP
...     tx.append("payments", arrow_table)
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from cryptoscope.lake.catalog import Catalog, FileEntry
from cryptoscope.lake.store import Lake, TableStatus, Transaction

if TYPE_CHECKING:
    from ibis.backends.duckdb import Backend


def connect(lake: Lake | str | os.PathLike[str], *, threads: int | None = None) -> Backend:
    """An Ibis DuckDB connection over the lake (see `cryptoscope.lake.engine`).

    Imported lazily: Ibis takes half a second to load and most commands never query.
    """
    from cryptoscope.lake.engine import connect as _connect

    return _connect(lake, threads=threads)

__all__ = ["Catalog", "FileEntry", "Lake", "TableStatus", "Transaction", "connect"]
